package runner

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// recorder is a JobObserver that keeps what it is told.
type recorder struct {
	mu             sync.Mutex
	started, ended []backup.JobRun
}

func (r *recorder) JobStarted(j backup.JobRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, j)
}

func (r *recorder) JobEnded(j backup.JobRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = append(r.ended, j)
}

func (r *recorder) runs() (started, ended []backup.JobRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.started), slices.Clone(r.ended)
}

// The observer hears of each job's start once and of its end once, with
// its kind, vault, state, times and what it moved, whichever path ends it:
// a completed and a failed backup, a backup stopped before it started, a
// restore and a copy.
func TestObserverSeesStartsAndEnds(t *testing.T) {
	rec := &recorder{}
	f := newFixtureWith(t, func(c *Config) { c.Observer = rec })
	ctx := context.Background()
	done, rp := f.completedBackup(t, "observed", 20)
	missing, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default",
		ResourceARN: backup.TableARN("us-east-1", "000000000000", "no-such-table")})
	if err != nil {
		t.Fatal(err)
	}
	if j := f.wait(t, missing.ID); j.State != backup.JobFailed {
		t.Fatalf("backup of a missing table: %s", j.State)
	}
	r, err := f.svc.StartRestoreJob(ctx, backup.StartRestoreJobInput{RecoveryPointARN: rp.ARN, IAMRoleARN: testRole,
		Metadata: map[string]string{"targetTableName": "observed-copy"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := f.waitRestore(t, r.ID); j.Status != backup.RestoreCompleted {
		t.Fatalf("restore: %s %q", j.Status, j.StatusMessage)
	}
	if _, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "second"}); err != nil {
		t.Fatal(err)
	}
	cp, err := f.svc.StartCopyJob(ctx, backup.StartCopyJobInput{RecoveryPointARN: rp.ARN, SourceBackupVaultName: "Default",
		DestinationBackupVaultARN: backup.VaultARN("us-east-1", "000000000000", "second"), IAMRoleARN: testRole})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Wait()
	if j, err := f.svc.GetCopyJob(ctx, cp.ID); err != nil || j.State != backup.CopyCompleted {
		t.Fatalf("copy: %+v %v", j, err)
	}

	started, ended := rec.runs()
	kinds := func(runs []backup.JobRun) (out []string) {
		for _, r := range runs {
			out = append(out, string(r.Kind)+" "+r.ID+" "+r.State)
		}
		return out
	}
	wantStarted := []string{"BACKUP " + done.ID + " RUNNING", "BACKUP " + missing.ID + " RUNNING",
		"RESTORE " + r.ID + " RUNNING", "COPY " + cp.ID + " RUNNING"}
	wantEnded := []string{"BACKUP " + done.ID + " COMPLETED", "BACKUP " + missing.ID + " FAILED",
		"RESTORE " + r.ID + " COMPLETED", "COPY " + cp.ID + " COMPLETED"}
	if !slices.Equal(kinds(started), wantStarted) || !slices.Equal(kinds(ended), wantEnded) {
		t.Fatalf("started %v\nended %v\nwant %v\nand %v", kinds(started), kinds(ended), wantStarted, wantEnded)
	}
	b := ended[0]
	if b.VaultName != "Default" || b.ResourceARN != done.ResourceARN || b.Items != 20 || b.Bytes != done.BytesTransferred ||
		!b.Ended.Equal(done.CompletionDate) || b.Started.IsZero() || b.Started.After(b.Ended) {
		t.Fatalf("completed backup observed as %+v; job %+v", b, done)
	}
	if ended[2].VaultName != "Default" || ended[2].Items != 20 || ended[2].Bytes != rp.BackupSizeInBytes {
		t.Fatalf("restore observed as %+v", ended[2])
	}
	if ended[3].VaultName != "second" || ended[3].Bytes == 0 {
		t.Fatalf("copy observed as %+v", ended[3])
	}
}

// A job that ends before it runs (its start window closed) is observed
// ending, EXPIRED, without a start; one the scheduler never ran starts
// nothing.
func TestObserverSeesJobsEndedBeforeTheyRan(t *testing.T) {
	rec := &recorder{}
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Observer = rec; c.Clock = clk; c.MaxJobs = 1 })
	ctx := context.Background()
	g := newGate("slow")
	f.svc.cfg.WrapScanner = g.wrap
	defer g.open()
	slow := f.table(t, "slow", 1)
	other := f.table(t, "other", 1)
	first, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: slow})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, first.ID, "running", isState(backup.JobRunning))
	second, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: other,
		StartWindowMins: 60})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // the second job's start window closes while it waits for the slot
	tick(t, f.svc)
	if j := waitJob(t, f.svc, second.ID, "expired", terminal); j.State != backup.JobExpired {
		t.Fatalf("second job %s", j.State)
	}
	g.open()
	f.wait(t, first.ID)
	f.svc.Wait()
	started, ended := rec.runs()
	if len(started) != 1 || started[0].ID != first.ID {
		t.Fatalf("started %+v, want the first job only", started)
	}
	if len(ended) != 2 {
		t.Fatalf("ended %+v", ended)
	}
	for _, e := range ended {
		if e.ID == second.ID && (e.State != "EXPIRED" || !e.Started.IsZero()) {
			t.Fatalf("expired job observed as %+v", e)
		}
	}
}
