package runner

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
)

// getGate holds the reads of recovery points' data files (restores and
// copies read them) until it is opened or the caller's context ends.
type getGate struct {
	ch   chan struct{}
	once sync.Once
}

func newGetGate() *getGate { return &getGate{ch: make(chan struct{})} }

func (g *getGate) open() { g.once.Do(func() { close(g.ch) }) }

// wrap makes cfg's stores hold Gets of data files at the gate.
func (g *getGate) wrap(c *Config) {
	inner := c.OpenStore
	c.OpenStore = func(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
		s, err := inner(ctx, st)
		if err != nil {
			return nil, err
		}
		return &gatedStore{Store: s, g: g}, nil
	}
}

type gatedStore struct {
	blob.Store
	g *getGate
}

func (s *gatedStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.Contains(key, "/data/") {
		select {
		case <-s.g.ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	return s.Store.Get(ctx, key)
}

// waitDraining waits until svc has begun its Shutdown.
func waitDraining(t *testing.T, svc *Service) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if svc.accepting() != nil {
			return
		}
	}
	t.Fatal("Shutdown did not begin")
}

// A graceful stop starts nothing new and lets the running job finish: the
// job the grace period covers completes, the one waiting for a slot stays
// queued and runs after the restart, and requests to start work are
// refused with ErrUnavailable meanwhile.
func TestShutdownLetsRunningJobsFinish(t *testing.T) {
	g := newGate("slow-")
	adjust := func(c *Config) { c.MaxJobs = 1; c.WrapScanner = g.wrap }
	f := newFixtureWith(t, adjust)
	defer g.open()
	ctx := context.Background()
	_, done := f.completedBackup(t, "done", 10)
	slow, queued := f.table(t, "slow-running", 50), f.table(t, "queued", 20)
	running, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: slow})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, running.ID, "running", isState(backup.JobRunning))
	waiting, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: queued})
	if err != nil {
		t.Fatal(err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- f.svc.Shutdown(context.Background()) }() // no deadline: as long as it takes
	waitDraining(t, f.svc)
	_, err = f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: f.table(t, "late", 1)})
	if backup.ErrorCode(err) != backup.ErrUnavailable || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("StartBackupJob while stopping: %v, want ErrUnavailable", err)
	}
	_, err = f.svc.StartRestoreJob(ctx, backup.StartRestoreJobInput{RecoveryPointARN: done.ARN,
		Metadata: map[string]string{MetaTargetTableName: "late-restore"}})
	if backup.ErrorCode(err) != backup.ErrUnavailable {
		t.Fatalf("StartRestoreJob while stopping: %v, want ErrUnavailable", err)
	}
	if _, _, err := f.svc.ListBackupJobs(ctx, backup.BackupJobFilter{}); err != nil {
		t.Fatalf("reads while stopping: %v", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned while a job was running: %v", err)
	default:
	}
	g.open() // the running job may finish now
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if j, _ := f.cat.GetBackupJob(ctx, running.ID); j.State != backup.JobCompleted {
		t.Fatalf("running job after a graceful stop: %s %q", j.State, j.StatusMessage)
	}
	if j, _ := f.cat.GetBackupJob(ctx, waiting.ID); j.State != backup.JobCreated {
		t.Fatalf("queued job after a graceful stop: %s %q", j.State, j.StatusMessage)
	}

	svc := f.newService(t, f.cat, adjust)
	if j := waitJob(t, svc, waiting.ID, "ended", terminal); j.State != backup.JobCompleted || j.ItemCount != 20 {
		t.Fatalf("queued job after the restart: %s %q", j.State, j.StatusMessage)
	}
}

// Jobs still running when the grace period ends are not failed: a backup
// goes back to PENDING and a copy to CREATED, their partial points removed,
// and both run again after the restart; a running restore ends FAILED
// naming its table, one still PENDING runs after the restart.
func TestShutdownRequeuesJobsAfterGrace(t *testing.T) {
	scans, reads := newGate("slow-"), newGetGate()
	adjust := func(c *Config) { c.MaxJobs = 3; c.WrapScanner = scans.wrap; reads.wrap(c) }
	f := newFixtureWith(t, adjust)
	defer scans.open()
	defer reads.open()
	ctx := context.Background()
	_, src := f.completedBackup(t, "src", 30)
	other, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	slow := f.table(t, "slow-backup", 40)

	b, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: slow})
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.StartRestoreJob(ctx, backup.StartRestoreJobInput{RecoveryPointARN: src.ARN,
		Metadata: map[string]string{MetaTargetTableName: "restored-running"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.StartCopyJob(ctx, backup.StartCopyJobInput{RecoveryPointARN: src.ARN, SourceBackupVaultName: "Default",
		DestinationBackupVaultARN: other.ARN, IAMRoleARN: role})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, b.ID, "running", func(j *backup.BackupJob) bool { return j.State == backup.JobRunning })
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		rj, _ := f.svc.GetRestoreJob(ctx, r.ID)
		cj, _ := f.svc.GetCopyJob(ctx, c.ID)
		// The restore is held at the gate while it checks the point's data
		// files, before it creates its table.
		if rj.Status == backup.RestoreRunning && cj.State == backup.CopyRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not start: restore %s, copy %s", rj.Status, cj.State)
		}
	}
	// All three slots are taken: this restore waits PENDING.
	pending, err := f.svc.StartRestoreJob(ctx, backup.StartRestoreJobInput{RecoveryPointARN: src.ARN,
		Metadata: map[string]string{MetaTargetTableName: "restored-later"}})
	if err != nil {
		t.Fatal(err)
	}
	oldPoint := recoveryPointID(b.RecoveryPointARN)
	cj, _ := f.svc.GetCopyJob(ctx, c.ID)
	oldCopy := recoveryPointID(cj.DestinationRecoveryPointARN)

	grace, endGrace := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- f.svc.Shutdown(grace) }()
	waitDraining(t, f.svc)
	endGrace() // the grace period is over
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}

	bj, _ := f.cat.GetBackupJob(ctx, b.ID)
	if bj.State != backup.JobPending || !strings.Contains(bj.StatusMessage, "starts again after the server restarts") ||
		bj.RecoveryPointARN == b.RecoveryPointARN {
		t.Fatalf("backup job after the grace period: %s %q %s", bj.State, bj.StatusMessage, bj.RecoveryPointARN)
	}
	cj, _ = f.cat.GetCopyJob(ctx, c.ID)
	if cj.State != backup.CopyCreated || !strings.Contains(cj.StatusMessage, "starts again") {
		t.Fatalf("copy job after the grace period: %s %q", cj.State, cj.StatusMessage)
	}
	rj, _ := f.cat.GetRestoreJob(ctx, r.ID)
	if rj.Status != backup.RestoreFailed || !strings.Contains(rj.StatusMessage, "restored-running") ||
		!strings.Contains(rj.StatusMessage, "grace period") || !strings.Contains(rj.StatusMessage, "before it wrote any item") {
		t.Fatalf("running restore after the grace period: %s %q", rj.Status, rj.StatusMessage)
	}
	if pj, _ := f.cat.GetRestoreJob(ctx, pending.ID); pj.Status != backup.RestorePending {
		t.Fatalf("pending restore after the grace period: %s %q", pj.Status, pj.StatusMessage)
	}
	for _, id := range []string{oldPoint, oldCopy} {
		if _, err := f.cat.GetRecoveryPoint(ctx, id); !backup.IsNotFound(err) {
			t.Fatalf("partial point %s still in the catalog: %v", id, err)
		}
	}
	for _, k := range f.objects(t) {
		if strings.Contains(k, oldPoint) || strings.Contains(k, oldCopy) {
			t.Fatalf("partial data left: %s", k)
		}
	}

	scans.open()
	reads.open()
	svc := f.newService(t, f.cat, adjust)
	if j := waitJob(t, svc, b.ID, "ended", terminal); j.State != backup.JobCompleted || j.ItemCount != 40 {
		t.Fatalf("backup job after the restart: %s %q", j.State, j.StatusMessage)
	}
	svc.Wait()
	if cj, _ := svc.GetCopyJob(ctx, c.ID); cj.State != backup.CopyCompleted {
		t.Fatalf("copy job after the restart: %s %q", cj.State, cj.StatusMessage)
	}
	if pj, _ := svc.GetRestoreJob(ctx, pending.ID); pj.Status != backup.RestoreCompleted || pj.ItemsRestored != 30 {
		t.Fatalf("pending restore after the restart: %s %q", pj.Status, pj.StatusMessage)
	}
}
