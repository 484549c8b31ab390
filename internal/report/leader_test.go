package report_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/report"
)

// On a catalog shared by several nodes only the leader's daily loop makes
// report jobs: a node that does not lead makes none however often its loop
// turns, and the daily job is made once its node leads.
func TestDailyReportsOnTheLeaderOnly(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(day.Add(-12 * time.Hour))
	f.plan(t, backup.ReportCopyJobs, "JSON")
	f.clock.Set(day.Add(2 * time.Hour))
	var leader atomic.Bool
	var asked atomic.Int32
	svc, err := report.New(report.Config{Catalog: f.cat, DataDir: f.dir, Clock: f.clock, Interval: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Leader: func() bool { asked.Add(1); return leader.Load() },
		OpenStore: func(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
			return fileblob.New(st.Path)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	svc.Start()
	count := func() int {
		jobs, _, err := f.cat.ListReportJobs(t.Context(), backup.ReportJobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	for deadline := time.Now().Add(time.Minute); asked.Load() < 5; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the loop never asked whether its node leads") // a hang guard only
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("a node that does not lead made %d report jobs", n)
	}
	leader.Store(true)
	for deadline := time.Now().Add(time.Minute); count() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leader never made the daily report job") // a hang guard only
		}
	}
}
