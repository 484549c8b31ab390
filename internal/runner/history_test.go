package runner

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// TestPruneHistory: with a JobHistory of 30 days, PruneHistory deletes the
// jobs that ended more than 30 days before the (fake) clock's now, however
// many there are (more than one batch), and keeps newer ones and jobs that
// have not ended; without a JobHistory it deletes nothing.
func TestPruneHistory(t *testing.T) {
	now := at("2026-06-01T12:00:00Z")
	clk := clock.NewFake(now)
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.JobHistory = 30 * 24 * time.Hour })
	ctx := context.Background()
	day := 24 * time.Hour
	mk := func(id string, created time.Time, st backup.JobState) {
		t.Helper()
		j := &backup.BackupJob{ID: id, AccountID: "000000000000", Region: "us-east-1", VaultName: "Default",
			ResourceARN: backup.TableARN("us-east-1", "000000000000", "t-"+id), ResourceType: backup.ResourceTypeDynamoDB,
			ResourceName: "t-" + id, State: st, CreationDate: created}
		if st.Terminal() {
			j.CompletionDate = created.Add(time.Minute)
		}
		if err := f.cat.CreateBackupJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	const old = 3*pruneBatch + 7 // more than one pass of the loop
	for i := range old {
		mk(fmt.Sprintf("old-%04d", i), now.Add(-40*day).Add(time.Duration(i)*time.Second), backup.JobCompleted)
	}
	mk("failed-31d", now.Add(-31*day), backup.JobFailed)
	mk("done-29d", now.Add(-29*day), backup.JobCompleted)
	mk("running-90d", now.Add(-90*day), backup.JobRunning)

	count := func() int {
		n := 0
		var p backup.BackupJobFilter
		p.MaxResults = 1000
		for {
			jobs, next, err := f.cat.ListBackupJobs(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			n += len(jobs)
			if next == "" {
				return n
			}
			p.NextToken = next
		}
	}
	keep := f.svc.cfg
	keep.JobHistory = 0
	if err := (&Service{cfg: keep, log: f.svc.log}).PruneHistory(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != old+3 {
		t.Fatalf("without job_history_days: %d jobs, want all %d kept", got, old+3)
	}
	if err := f.svc.PruneHistory(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Fatalf("after pruning: %d jobs, want 2 (done-29d, running-90d)", got)
	}
	for _, id := range []string{"done-29d", "running-90d"} {
		if _, err := f.cat.GetBackupJob(ctx, id); err != nil {
			t.Errorf("%s was pruned: %v", id, err)
		}
	}
	// A day later done-29d is 30 days old and goes at the next pass.
	clk.Advance(day + 2*time.Minute)
	if err := f.svc.PruneHistory(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.GetBackupJob(ctx, "done-29d"); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Errorf("done-29d a day later: %v, want pruned", err)
	}
}
