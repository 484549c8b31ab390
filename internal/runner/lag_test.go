package runner

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/clock"
)

// SchedulerLag is zero until an occurrence is due, grows until a pass
// handles it, and after downtime measures from the first occurrence
// missed; a deleted plan does not count.
func TestSchedulerLag(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
	ctx := context.Background()
	lag := func(want time.Duration, what string) {
		t.Helper()
		got, err := f.svc.SchedulerLag(ctx)
		if err != nil || got != want {
			t.Fatalf("%s: lag %v, %v; want %v", what, got, err, want)
		}
	}
	lag(0, "no plan")
	p := newPlan(t, f.svc, dailyPlan("lagging"))
	lag(0, "before 05:00")
	clk.Set(at("2026-03-01T05:00:30Z"))
	lag(30*time.Second, "05:00 due, no pass yet")
	tick(t, f.svc)
	lag(0, "after the pass")
	// Two days of downtime: the oldest occurrence missed is 05:00 the
	// next day.
	clk.Set(at("2026-03-03T05:10:00Z"))
	lag(24*time.Hour+10*time.Minute, "after downtime")
	tick(t, f.svc)
	lag(0, "after catching up")
	clk.Set(at("2026-03-04T06:00:00Z"))
	lag(time.Hour, "a day later")
	if _, err := f.svc.DeleteBackupPlan(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	lag(0, "plan deleted")
}
