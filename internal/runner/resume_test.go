package runner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// stallingScanner reads small pages and, once it has served after of them,
// hangs every call until its context ends: the job stays RUNNING with the
// checkpoints of what it wrote, as in a process that died.
type stallingScanner struct {
	dynamodb.Scanner
	mu      sync.Mutex
	served  int
	after   int
	items   int
	stalled chan struct{}
}

func (s *stallingScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	in.Limit = 10
	s.mu.Lock()
	stall := s.after > 0 && s.served >= s.after
	if stall && s.stalled != nil {
		close(s.stalled)
		s.stalled = nil
	}
	s.mu.Unlock()
	if stall {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p, err := s.Scanner.ScanPage(ctx, in)
	if err == nil {
		s.mu.Lock()
		s.served++
		s.items += len(p.Items)
		s.mu.Unlock()
	}
	return p, err
}

func (s *stallingScanner) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items
}

// A backup job whose process died mid-scan with checkpoints is resumed by
// the next process's Recover, even once its start window has closed (it
// had started): it completes into the same recovery point, scanning only
// what the checkpoints lack, and the point's content checksum is a clean
// backup's.
func TestRecoverResumesBackupFromCheckpoints(t *testing.T) {
	const n = 300
	first := &stallingScanner{after: 12, stalled: make(chan struct{})}
	stalled := first.stalled
	f := newFixtureWith(t, func(c *Config) {
		c.CheckpointItems = 10
		// A dead process saves no progress: no save of this one's may
		// land on the job once the next one runs it.
		c.ProgressInterval = time.Hour
		c.WrapScanner = func(s dynamodb.Scanner) dynamodb.Scanner { first.Scanner = s; return first }
	})
	arn := f.table(t, "resumed", n)
	ctx := context.Background()
	job, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn,
		Options: backup.BackupOptions{Segments: 4}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled:
	case <-time.After(2 * time.Minute):
		t.Fatal("the backup never reached the stall")
	}
	var cps []*backup.Checkpoint
	for deadline := time.Now().Add(time.Minute); len(cps) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was saved")
		}
		time.Sleep(5 * time.Millisecond)
		if cps, err = f.cat.ListCheckpoints(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the stalled segments save what they wrote; not needed for correctness

	// The next process: another Service on the same catalog, vaults and
	// dynalite, nine hours later (the start window of 8 hours is over).
	cat2, err := sqlite.Open(ctx, f.catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat2.Close() })
	second := &stallingScanner{}
	svc2 := f.newService(t, cat2, func(c *Config) {
		c.Clock = clock.NewFake(time.Now().Add(9 * time.Hour))
		c.WrapScanner = func(s dynamodb.Scanner) dynamodb.Scanner { second.Scanner = s; return second }
	})
	var j *backup.BackupJob
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if j, err = svc2.GetBackupJob(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		if j.State.Terminal() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resumed job did not end: %s %q", j.State, j.StatusMessage)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if j.State != backup.JobCompleted || !strings.Contains(j.StatusMessage, "resumed from checkpoints") {
		t.Fatalf("the job after the restart: %s %q", j.State, j.StatusMessage)
	}
	if j.RecoveryPointARN != job.RecoveryPointARN {
		t.Fatalf("the resumed job wrote point %s, not its own %s", j.RecoveryPointARN, job.RecoveryPointARN)
	}
	if got := second.count(); got == 0 || got >= n {
		t.Fatalf("the resumed run scanned %d items of %d: it should scan only what the checkpoints lack", got, n)
	}
	rp, err := cat2.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN))
	if err != nil {
		t.Fatal(err)
	}
	if rp.Status != backup.RecoveryPointCompleted || rp.ItemCount != n {
		t.Fatalf("the point: %s, %d items", rp.Status, rp.ItemCount)
	}
	left, err := cat2.ListCheckpoints(ctx, job.ID)
	if err != nil || len(left) != 0 {
		t.Fatalf("checkpoints left after the job completed: %d, %v", len(left), err)
	}
	// A clean backup of the table has the same checksum.
	clean, err := svc2.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); !clean.State.Terminal(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the clean backup did not end")
		}
		if clean, err = svc2.GetBackupJob(ctx, clean.ID); err != nil {
			t.Fatal(err)
		}
	}
	crp, err := cat2.GetRecoveryPoint(ctx, recoveryPointID(clean.RecoveryPointARN))
	if err != nil {
		t.Fatal(err)
	}
	if crp.ContentChecksum != rp.ContentChecksum || crp.ItemCount != rp.ItemCount {
		t.Fatalf("resumed point %d items %s; clean backup %d items %s", rp.ItemCount, rp.ContentChecksum, crp.ItemCount, crp.ContentChecksum)
	}
}
