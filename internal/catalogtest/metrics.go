package catalogtest

import (
	"sort"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// testMetricsAggregates: CountActiveJobs counts each kind's jobs in each
// non-terminal state only; LastBackups gives each resource the latest
// completion of its COMPLETED backup jobs (not of the latest created one),
// following updates; PointUsage counts and sums points by vault, storage
// class and status, following updates and deletes. An empty catalog has
// none of them.
func testMetricsAggregates(t *testing.T, c backup.Catalog) {
	active, err := c.CountActiveJobs(ctx(t))
	must(t, err, "CountActiveJobs (empty)")
	last, err := c.LastBackups(ctx(t))
	must(t, err, "LastBackups (empty)")
	usage, err := c.PointUsage(ctx(t))
	must(t, err, "PointUsage (empty)")
	if len(active)+len(last)+len(usage) != 0 {
		t.Fatalf("empty catalog: active %v, last backups %v, usage %v; want none", active, last, usage)
	}

	job := func(id, table string, created time.Time, st backup.JobState, completed time.Time) *backup.BackupJob {
		j := newJob(id, table, created)
		j.State, j.CompletionDate = st, completed
		must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob "+id)
		return j
	}
	zero := time.Time{}
	job("b-created", "t-active1", at(0), backup.JobCreated, zero)
	job("b-pending", "t-active2", at(0), backup.JobPending, zero)
	running := job("b-running", "t-active3", at(0), backup.JobRunning, zero)
	job("b-aborting", "t-active4", at(0), backup.JobAborting, zero)
	// t1: the job created last completed first; the latest completion wins.
	job("b1-early", "t1", at(-5*time.Hour), backup.JobCompleted, at(3*time.Hour))
	job("b1-late", "t1", at(-time.Hour), backup.JobCompleted, at(time.Hour))
	job("b1-failed", "t1", at(0), backup.JobFailed, at(4*time.Hour))
	job("b2-failed", "t2", at(0), backup.JobFailed, at(time.Hour)) // never completed: absent
	job("b3", "t3", at(0), backup.JobCompleted, at(2*time.Hour))
	job("b3-expired", "t3", at(time.Hour), backup.JobExpired, at(5*time.Hour))

	restore := func(id string, st backup.RestoreJobStatus) {
		r := newRestore(id, at(0))
		r.Status = st
		must(t, c.CreateRestoreJob(ctx(t), r), "CreateRestoreJob "+id)
	}
	restore("r-pending", backup.RestorePending)
	restore("r-running", backup.RestoreRunning)
	restore("r-running2", backup.RestoreRunning)
	restore("r-done", backup.RestoreCompleted)
	restore("r-failed", backup.RestoreFailed)
	cp := func(id string, st backup.CopyJobState) {
		j := newCopy(id, "t-"+id, at(0))
		j.State = st
		must(t, c.CreateCopyJob(ctx(t), j), "CreateCopyJob "+id)
	}
	cp("c-created", backup.CopyCreated)
	cp("c-running", backup.CopyRunning)
	cp("c-done", backup.CopyCompleted)
	cp("c-failed", backup.CopyFailed)

	wantActive := func(what string, want []backup.ActiveJobCount) {
		t.Helper()
		got, err := c.CountActiveJobs(ctx(t))
		must(t, err, "CountActiveJobs")
		sort.Slice(got, func(i, j int) bool {
			if got[i].Kind != got[j].Kind {
				return got[i].Kind < got[j].Kind
			}
			return got[i].State < got[j].State
		})
		wantEqual(t, what, got, want)
	}
	wantActive("active jobs", []backup.ActiveJobCount{
		{Kind: backup.JobKindBackup, State: "ABORTING", Count: 1},
		{Kind: backup.JobKindBackup, State: "CREATED", Count: 1},
		{Kind: backup.JobKindBackup, State: "PENDING", Count: 1},
		{Kind: backup.JobKindBackup, State: "RUNNING", Count: 1},
		{Kind: backup.JobKindCopy, State: "CREATED", Count: 1},
		{Kind: backup.JobKindCopy, State: "RUNNING", Count: 1},
		{Kind: backup.JobKindRestore, State: "PENDING", Count: 1},
		{Kind: backup.JobKindRestore, State: "RUNNING", Count: 2},
	})

	wantLast := func(what string, want []backup.LastBackup) {
		t.Helper()
		got, err := c.LastBackups(ctx(t))
		must(t, err, "LastBackups")
		wantEqual(t, what, got, want)
	}
	lb := func(table string, completed time.Time) backup.LastBackup {
		return backup.LastBackup{ResourceARN: tableARN(table), ResourceType: backup.ResourceTypeDynamoDB, Completed: completed}
	}
	wantLast("last backups", []backup.LastBackup{lb("t1", at(3*time.Hour)), lb("t3", at(2*time.Hour))})

	// The running job completes: its resource appears, and the active
	// counts drop it.
	running.State, running.CompletionDate = backup.JobCompleted, at(6*time.Hour)
	must(t, c.UpdateBackupJob(ctx(t), running), "UpdateBackupJob")
	wantLast("last backups after a job completed",
		[]backup.LastBackup{lb("t-active3", at(6*time.Hour)), lb("t1", at(3*time.Hour)), lb("t3", at(2*time.Hour))})
	wantActive("active jobs after a job completed", []backup.ActiveJobCount{
		{Kind: backup.JobKindBackup, State: "ABORTING", Count: 1},
		{Kind: backup.JobKindBackup, State: "CREATED", Count: 1},
		{Kind: backup.JobKindBackup, State: "PENDING", Count: 1},
		{Kind: backup.JobKindCopy, State: "CREATED", Count: 1},
		{Kind: backup.JobKindCopy, State: "RUNNING", Count: 1},
		{Kind: backup.JobKindRestore, State: "PENDING", Count: 1},
		{Kind: backup.JobKindRestore, State: "RUNNING", Count: 2},
	})

	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	point := func(id, vault string, class backup.StorageClass, st backup.RecoveryPointStatus, size int64) *backup.RecoveryPoint {
		p := newPoint(id, vault, "t-"+id, at(0))
		p.StorageClass, p.Status, p.BackupSizeInBytes = class, st, size
		must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint "+id)
		return p
	}
	point("a1", "vault-a", backup.StorageWarm, backup.RecoveryPointCompleted, 10)
	a2 := point("a2", "vault-a", backup.StorageWarm, backup.RecoveryPointCompleted, 20)
	point("a3", "vault-a", backup.StorageCold, backup.RecoveryPointCompleted, 5)
	point("a4", "vault-a", backup.StorageWarm, backup.RecoveryPointDeleting, 7)
	point("b1", "vault-b", backup.StorageWarm, backup.RecoveryPointCompleted, 1<<40)
	pu := func(vault string, class backup.StorageClass, st backup.RecoveryPointStatus, n, bytes int64) backup.PointUsage {
		return backup.PointUsage{VaultName: vault, StorageClass: class, Status: st, Points: n, Bytes: bytes}
	}
	wantUsage := func(what string, want []backup.PointUsage) {
		t.Helper()
		got, err := c.PointUsage(ctx(t))
		must(t, err, "PointUsage")
		wantEqual(t, what, got, want)
	}
	wantUsage("point usage", []backup.PointUsage{
		pu("vault-a", backup.StorageCold, backup.RecoveryPointCompleted, 1, 5),
		pu("vault-a", backup.StorageWarm, backup.RecoveryPointCompleted, 2, 30),
		pu("vault-a", backup.StorageWarm, backup.RecoveryPointDeleting, 1, 7),
		pu("vault-b", backup.StorageWarm, backup.RecoveryPointCompleted, 1, 1<<40),
	})
	a2.StorageClass = backup.StorageCold
	must(t, c.UpdateRecoveryPoint(ctx(t), a2), "UpdateRecoveryPoint")
	must(t, c.DeleteRecoveryPoint(ctx(t), "a4"), "DeleteRecoveryPoint")
	wantUsage("point usage after a cold move and a delete", []backup.PointUsage{
		pu("vault-a", backup.StorageCold, backup.RecoveryPointCompleted, 2, 25),
		pu("vault-a", backup.StorageWarm, backup.RecoveryPointCompleted, 1, 10),
		pu("vault-b", backup.StorageWarm, backup.RecoveryPointCompleted, 1, 1<<40),
	})
}
