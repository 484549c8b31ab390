package catalogtest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// testJobHistoryPrune: PruneJobHistory deletes ended jobs created and
// completed before the cutoff, oldest first and at most limit per kind,
// frees their idempotency tokens, and never touches a job that has not
// ended or that ended after the cutoff.
func testJobHistoryPrune(t *testing.T, c backup.Catalog) {
	day := 24 * time.Hour
	cutoff := base
	backupJob := func(id string, created time.Time, st backup.JobState, completed time.Time) {
		j := newJob(id, "hist-"+id, created)
		j.State, j.CompletionDate = st, completed
		j.IdempotencyToken = "tok-" + id
		must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob "+id)
	}
	// Ended long before the cutoff: pruned, oldest first.
	backupJob("old1", at(-40*day), backup.JobCompleted, at(-40*day+time.Minute))
	backupJob("old2", at(-39*day), backup.JobFailed, at(-39*day+time.Minute))
	backupJob("old3", at(-38*day), backup.JobExpired, at(-38*day+time.Minute))
	// Created before the cutoff but completed after it: kept.
	backupJob("late", at(-time.Hour), backup.JobCompleted, at(time.Hour))
	// Old but still running: kept, however old.
	backupJob("running", at(-50*day), backup.JobRunning, time.Time{})
	backupJob("new", at(time.Hour), backup.JobCompleted, at(2*time.Hour))

	oldRestore := newRestore("r-old", at(-40*day))
	oldRestore.IdempotencyToken = "tok-r-old"
	must(t, c.CreateRestoreJob(ctx(t), oldRestore), "CreateRestoreJob r-old")
	runningRestore := newRestore("r-running", at(-40*day))
	runningRestore.Status, runningRestore.CompletionDate = backup.RestoreRunning, time.Time{}
	must(t, c.CreateRestoreJob(ctx(t), runningRestore), "CreateRestoreJob r-running")
	must(t, c.CreateCopyJob(ctx(t), newCopy("c-old", "hist-c", at(-40*day))), "CreateCopyJob c-old")
	must(t, c.CreateCopyJob(ctx(t), newCopy("c-new", "hist-c", at(time.Hour))), "CreateCopyJob c-new")

	_, err := c.PruneJobHistory(ctx(t), cutoff, 0)
	wantCode(t, err, backup.ErrInvalidParameter, "PruneJobHistory with limit 0")

	// limit 2: the two oldest backup jobs, and the one old restore and copy.
	n, err := c.PruneJobHistory(ctx(t), cutoff, 2)
	must(t, err, "PruneJobHistory")
	if n != 4 {
		t.Fatalf("first prune deleted %d jobs, want 4 (old1, old2, r-old, c-old)", n)
	}
	backups := func() []string {
		jobs, _, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{})
		must(t, err, "ListBackupJobs")
		got := ids(jobs, func(j *backup.BackupJob) string { return j.ID })
		slices.Sort(got)
		return got
	}
	wantEqual(t, "backup jobs after the first prune", backups(), []string{"late", "new", "old3", "running"})
	n, err = c.PruneJobHistory(ctx(t), cutoff, 2)
	must(t, err, "PruneJobHistory again")
	if n != 1 {
		t.Fatalf("second prune deleted %d jobs, want 1 (old3)", n)
	}
	wantEqual(t, "backup jobs after the second prune", backups(), []string{"late", "new", "running"})
	n, err = c.PruneJobHistory(ctx(t), cutoff, 2)
	must(t, err, "PruneJobHistory a third time")
	if n != 0 {
		t.Fatalf("third prune deleted %d jobs, want 0", n)
	}
	if _, err := c.GetRestoreJob(ctx(t), "r-old"); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("GetRestoreJob r-old after prune: %v, want ErrNotFound", err)
	}
	_, err = c.GetRestoreJob(ctx(t), "r-running")
	must(t, err, "GetRestoreJob r-running (still running, kept)")
	_, err = c.GetCopyJob(ctx(t), "c-new")
	must(t, err, "GetCopyJob c-new (kept)")
	if _, err := c.GetCopyJob(ctx(t), "c-old"); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("GetCopyJob c-old after prune: %v, want ErrNotFound", err)
	}

	// A pruned job's token is free again; a kept job's is not.
	again := newJob("old1-again", "hist-again", at(3*time.Hour))
	again.IdempotencyToken = "tok-old1"
	must(t, c.CreateBackupJob(ctx(t), again), "CreateBackupJob with a pruned job's token")
	taken := newJob("late-again", "hist-again2", at(3*time.Hour))
	taken.IdempotencyToken = "tok-late"
	var inUse *backup.TokenInUseError
	if err := c.CreateBackupJob(ctx(t), taken); !errors.As(err, &inUse) || inUse.JobID != "late" {
		t.Fatalf("CreateBackupJob with a kept job's token: %v, want TokenInUseError naming late", err)
	}
	copyAgain := newCopy("c-old-again", "hist-c", at(3*time.Hour))
	copyAgain.IdempotencyToken = "token-c-old"
	must(t, c.CreateCopyJob(ctx(t), copyAgain), "CreateCopyJob with a pruned copy job's token")
}
