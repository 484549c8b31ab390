package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
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
	c, err := loadConfig(write("scheduler_interval: 30s\nlifecycle_interval: 5m\njob_history_days: 365\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil || c.SchedulerInterval != 30*time.Second || c.LifecycleInterval != 5*time.Minute ||
		c.JobHistoryDays != 365 {
		t.Fatalf("config %+v, %v", c, err)
	}
	for key, body := range map[string]string{
		"scheduler_interval": "scheduler_interval: 500ms\n",
		"lifecycle_interval": "lifecycle_interval: 1ns\n",
		"job_history_days":   "job_history_days: -1\n",
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

// The storage section: parsed, validated with the field at fault named,
// and turned into the policy the runner enforces; the credentials of an
// endpoint go to that endpoint only.
func TestConfigStorage(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "cairn.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadConfig(write(`data_dir: /var/lib/cairn
s3:
  access_key_id: default-key
  secret_access_key: default-secret
storage:
  allowed_paths: [/srv/backups/, /mnt/cold]
  s3_endpoints:
    - name: minio
      url: http://minio.internal:9000/
      region: eu-west-1
      access_key_id: minio-key
      secret_access_key: minio-secret
      buckets: [backups]
    - name: aws
      region: us-west-2
`))
	if err != nil {
		t.Fatal(err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Storage.policy()
	if strings.Join(p.AllowedPaths, ",") != "/srv/backups,/mnt/cold" || len(p.Endpoints) != 2 ||
		p.Endpoints[0].URL != "http://minio.internal:9000" || !p.Endpoints[0].PathStyle || p.Endpoints[1].PathStyle || p.Endpoints[1].URL != "" {
		t.Fatalf("policy %+v", p)
	}
	m := &Main{Config: c}
	for _, tt := range []struct {
		st                          backup.VaultStorage
		endpoint, key, region, fail string
	}{
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "backups", EndpointName: "minio", Endpoint: "http://minio.internal:9000"},
			"http://minio.internal:9000/", "minio-key", "eu-west-1", ""},
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "b", EndpointName: "aws", Region: "us-west-2"}, "", "default-key", "us-west-2", ""},
		// A vault from before endpoint names, on a URL that is configured.
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "backups", Endpoint: "HTTP://minio.internal:9000"}, "http://minio.internal:9000/", "minio-key", "eu-west-1", ""},
		// One on AWS S3 itself.
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "b", Region: "eu-central-1"}, "", "default-key", "eu-central-1", ""},
		// One on a URL a client chose, which nobody configured: never opened.
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "b", Endpoint: "http://attacker.example"}, "", "", "", "storage.s3_endpoints"},
		{backup.VaultStorage{Kind: backup.StorageS3, Bucket: "b", EndpointName: "gone"}, "", "", "", "storage.s3_endpoints"},
	} {
		got, err := m.s3Config(tt.st)
		if tt.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tt.fail) {
				t.Errorf("s3Config(%+v) = %+v, %v; want an error saying %q", tt.st, got, err, tt.fail)
			}
			continue
		}
		if err != nil || got.Endpoint != tt.endpoint || got.AccessKey != tt.key || got.Region != tt.region {
			t.Errorf("s3Config(%+v) = %+v, %v", tt.st, got, err)
		}
	}

	for field, body := range map[string]string{
		"storage.allowed_paths[0]":       "storage:\n  allowed_paths: [relative/dir]\n",
		"storage.allowed_paths[1]":       "data_dir: /var/lib/cairn\nstorage:\n  allowed_paths: [/srv, /var/lib/cairn/extra]\n",
		"storage.s3_endpoints[0].name":   "storage:\n  s3_endpoints: [{url: 'http://x'}]\n",
		"storage.s3_endpoints[1].name":   "storage:\n  s3_endpoints: [{name: a}, {name: a}]\n",
		"storage.s3_endpoints[0].url":    "storage:\n  s3_endpoints: [{name: a, url: 'ftp://x'}]\n",
		"storage.s3_endpoints[0]: set":   "storage:\n  s3_endpoints: [{name: a, access_key_id: k}]\n",
		"storage.s3_endpoints[0].bucket": "storage:\n  s3_endpoints: [{name: a, buckets: [Not_A_Bucket]}]\n",
	} {
		c, err := loadConfig(write(body))
		if err != nil {
			t.Fatal(err)
		}
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming %s", strings.TrimSpace(body), err, field)
		}
	}
	if _, err := loadConfig(write("storage:\n  allowed: [/srv]\n")); err == nil {
		t.Error("an unknown storage key was accepted")
	}
}

// The keys of the "Running the server" block: defaults, and bad values
// refused with the key's name.
func TestConfigOperations(t *testing.T) {
	var c Config
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ShutdownGrace != DefaultShutdownGrace || c.ReadHeaderTimeout != DefaultReadHeaderTimeout || c.ReadTimeout != DefaultReadTimeout ||
		c.IdleTimeout != DefaultIdleTimeout || c.MaxHeaderBytes != DefaultMaxHeaderBytes || c.MaxUnverifiedBodies != DefaultMaxUnverifiedBodies ||
		c.StartupVaultTimeout != DefaultStartupVaultTimeout || c.LogFormat != "text" {
		t.Fatalf("defaults: %+v", c)
	}
	for key, adjust := range map[string]func(*Config){
		"shutdown_grace":        func(c *Config) { c.ShutdownGrace = -time.Second },
		"startup_vault_timeout": func(c *Config) { c.StartupVaultTimeout = -time.Second },
		"read_header_timeout":   func(c *Config) { c.ReadHeaderTimeout = -time.Second },
		"idle_timeout":          func(c *Config) { c.IdleTimeout = -time.Second },
		"max_header_bytes":      func(c *Config) { c.MaxHeaderBytes = -1 },
		"log_format":            func(c *Config) { c.LogFormat = "xml" },
		"tls_key":               func(c *Config) { c.TLSCert = "cert.pem" },
		"listen":                func(c *Config) { c.Listen = "127.0.0.1" },
	} {
		c := Config{}
		adjust(&c)
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
	for _, ok := range []string{":7171", "0.0.0.0:7171", "[::1]:7171", "localhost:0"} {
		if err := validateListen(ok); err != nil {
			t.Errorf("listen %q: %v", ok, err)
		}
	}
}
