package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The scheduler and lifecycle intervals are durations in the config file;
// too short a value is refused with the key's name.
func TestConfigIntervals(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "cairn.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadConfig(write("scheduler_interval: 30s\nlifecycle_interval: 5m\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil || c.SchedulerInterval != 30*time.Second || c.LifecycleInterval != 5*time.Minute {
		t.Fatalf("config %+v, %v", c, err)
	}
	for key, body := range map[string]string{
		"scheduler_interval": "scheduler_interval: 500ms\n",
		"lifecycle_interval": "lifecycle_interval: 1ns\n",
	} {
		c, err := loadConfig(write(body))
		if err != nil {
			t.Fatal(err)
		}
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", strings.TrimSpace(body), err)
		}
	}
	if _, err := loadConfig(write("scheduler_interval: often\n")); err == nil {
		t.Error("a scheduler_interval that is no duration was accepted")
	}
}
