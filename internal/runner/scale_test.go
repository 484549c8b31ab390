package runner

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// An hourly rule over 500 tagged tables, five occurrences: every
// occurrence makes exactly one job per table at its due pass, each job
// completes inside its start window, and no job is created twice or late
// (issue 13: 2,500 of 2,500 scheduled jobs over 500 tables on time, a
// figure to keep).
func TestSchedulerManyTables(t *testing.T) {
	const tables, occurrences = 500, 5
	clk := clock.NewFake(at("2026-03-01T04:30:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })

	arns := make([]string, tables)
	for i := range tables {
		arns[i] = f.table(t, fmt.Sprintf("fleet-%03d", i), 1)
		f.tag(t, arns[i], "backup", "hourly")
	}
	plan := backup.PlanDocument{BackupPlanName: "fleet", Rules: []backup.BackupRule{{
		RuleName: "hourly", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 * ? * * *)",
		StartWindowMinutes: 60, CompletionWindowMinutes: 120, Lifecycle: backup.Lifecycle{DeleteAfterDays: 1},
	}}}
	newPlan(t, f.svc, plan, tagSelection("fleet", "backup", "hourly"))

	seen := map[string]bool{}
	for k := range occurrences {
		occ := at("2026-03-01T05:00:00Z").Add(time.Duration(k) * time.Hour)
		clk.Set(occ)
		tick(t, f.svc)
		tick(t, f.svc) // a second pass of the same occurrence adds nothing
		perTable := map[string]int{}
		for _, j := range settle(t, f.svc) {
			if seen[j.ID] {
				continue
			}
			seen[j.ID] = true
			perTable[j.ResourceARN]++
			if !j.ScheduledTime.Equal(occ) || !j.CreationDate.Equal(occ) || !j.StartBy.Equal(occ.Add(time.Hour)) {
				t.Errorf("occurrence %s: job %s of %s scheduled %s, created %s, start by %s",
					occ, j.ID, j.ResourceName, j.ScheduledTime, j.CreationDate, j.StartBy)
			}
			if j.State != backup.JobCompleted {
				t.Errorf("occurrence %s: job of %s %s %q", occ, j.ResourceName, j.State, j.StatusMessage)
			}
		}
		for _, arn := range arns {
			if perTable[arn] != 1 {
				t.Errorf("occurrence %s: %d jobs for %s, want 1", occ, perTable[arn], arn)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if len(seen) != tables*occurrences {
		t.Fatalf("%d jobs, want %d", len(seen), tables*occurrences)
	}
}
