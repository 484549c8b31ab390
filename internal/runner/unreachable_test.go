package runner

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// unwritable makes the directory tree at dir refuse deletions until the
// returned function is called: with chmod for an ordinary user; as root
// (whom modes do not stop) with the immutable attribute (chattr +i); where
// neither works, with a fault injected into the vault's store. It says
// which it used.
func unwritable(t *testing.T, e *lcEnv, st backup.VaultStorage) (restore func(), how string) {
	t.Helper()
	var dirs []string
	filepath.WalkDir(st.Path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if os.Geteuid() != 0 {
		for _, d := range dirs {
			if err := os.Chmod(d, 0o500); err != nil {
				t.Fatal(err)
			}
		}
		restore = func() {
			for _, d := range dirs {
				os.Chmod(d, 0o700)
			}
		}
		t.Cleanup(restore)
		return restore, "chmod 0500"
	}
	if chattr, err := exec.LookPath("chattr"); err == nil {
		if out, err := exec.Command(chattr, append([]string{"+i"}, dirs...)...).CombinedOutput(); err == nil {
			restore = func() { exec.Command(chattr, append([]string{"-i"}, dirs...)...).Run() }
			t.Cleanup(restore)
			return restore, "chattr +i"
		} else {
			t.Logf("chattr +i: %v %s", err, out)
		}
	}
	store := e.store(st)
	store.Add(blobfault.Rule{Op: blobfault.OpDelete, Err: syscall.EROFS})
	return store.Reset, "an injected EROFS"
}

// newServiceWith is lcEnv.newService with the Config adjusted.
func (e *lcEnv) newServiceWith(adjust func(*Config)) *Service {
	e.t.Helper()
	cfg := Config{Catalog: e.cat, OpenStore: e.openStore, DataDir: e.dataDir, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ProgressInterval: 10 * time.Millisecond,
		Retry: dynamodb.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}
	adjust(&cfg)
	svc, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { svc.Close() })
	if err := svc.Recover(context.Background()); err != nil {
		e.t.Fatalf("Recover: %v", err)
	}
	return svc
}

// A vault whose directory refuses deletions does not keep the server from
// starting: DeleteRecoveryPoint answers as AWS does and leaves the point
// DELETING; at the next start Recover skips that vault's deleting point and
// the partial point of a killed backup, ends the job, and the rest of the
// server works; once the directory can be written again, the background
// retry finishes both deletions.
func TestRecoverSkipsReadOnlyVault(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	ro := e.fileVault(svc, "ro")
	fine := e.fileVault(svc, "fine")
	keep, del, partial := e.point(ro, backup.Lifecycle{}), e.point(ro, backup.Lifecycle{}), e.point(ro, backup.Lifecycle{})
	other := e.point(fine, backup.Lifecycle{})
	// What a backup killed while writing leaves: a RUNNING job and its
	// CREATING point with files.
	partial.Status = backup.RecoveryPointCreating
	if err := e.cat.UpdateRecoveryPoint(ctx, partial); err != nil {
		t.Fatal(err)
	}
	killed := &backup.BackupJob{ID: "KILLED", AccountID: "000000000000", Region: "us-east-1", VaultName: ro.Name, VaultARN: ro.ARN,
		RecoveryPointARN: partial.ARN, ResourceARN: partial.ResourceARN, State: backup.JobRunning,
		CreationDate: e.clock.Now(), StartBy: e.clock.Now().Add(time.Hour), CompleteBy: e.clock.Now().Add(24 * time.Hour)}
	if err := e.cat.CreateBackupJob(ctx, killed); err != nil {
		t.Fatal(err)
	}
	restore, how := unwritable(t, e, ro.Storage)
	t.Logf("vault directory made unwritable with %s", how)

	if err := svc.DeleteRecoveryPoint(ctx, ro.Name, del.ARN); err != nil {
		t.Fatalf("DeleteRecoveryPoint on an unwritable vault: %v, want it accepted", err)
	}
	if rp := e.get(del.ID); rp.Status != backup.RecoveryPointDeleting {
		t.Fatalf("point after a failed deletion: %s", rp.Status)
	}
	svc.Close()

	svc2 := e.newService() // fails the test if Recover fails
	if rp := e.get(del.ID); rp.Status != backup.RecoveryPointDeleting {
		t.Fatalf("deleting point after the restart: %s", rp.Status)
	}
	if rp := e.get(partial.ID); rp.Status != backup.RecoveryPointCreating {
		t.Fatalf("partial point after the restart: %s", rp.Status)
	}
	j, err := svc2.GetBackupJob(ctx, killed.ID)
	if err != nil || j.State != backup.JobFailed || !strings.Contains(j.StatusMessage, "once its vault can be reached") {
		t.Fatalf("killed job after the restart: %+v %v", j, err)
	}
	// The other vault works.
	if err := svc2.DeleteRecoveryPoint(ctx, fine.Name, other.ARN); err != nil {
		t.Fatal(err)
	}
	e.gone(other.ID)

	// Still unwritable: the retry leaves both points as they are.
	if err := svc2.RetryDeletes(ctx); err == nil {
		t.Fatal("RetryDeletes reported no error on an unwritable vault")
	}
	if rp := e.get(del.ID); rp.Status != backup.RecoveryPointDeleting {
		t.Fatalf("deleting point after a failed retry: %s", rp.Status)
	}
	restore()
	if err := svc2.RetryDeletes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{del.ID, partial.ID} {
		e.gone(id)
		if keys := e.keys(ro.Storage, id); len(keys) != 0 {
			t.Fatalf("files of %s left: %v", id, keys)
		}
	}
	e.checkStored(ro.Storage, keep.ID)
}

// An S3 vault whose endpoint is down does not keep the server from
// starting; start-up spends at most StartupVaultTimeout on it (whatever the
// SDK's retries would take), and once the endpoint is back the background
// retry finishes the deletion.
func TestRecoverSkipsS3VaultThatIsDown(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	s3v := e.s3Vault(svc, "offsite", nil)
	var pts []*backup.RecoveryPoint
	for range 3 {
		pts = append(pts, e.point(s3v, backup.Lifecycle{}))
	}
	e.versity.Stop() // the port is closed now
	if err := svc.DeleteRecoveryPoint(ctx, s3v.Name, pts[0].ARN); err != nil {
		t.Fatalf("DeleteRecoveryPoint with the endpoint down: %v", err)
	}
	for _, rp := range pts[1:] { // as if deleted the same way
		rp.Status = backup.RecoveryPointDeleting
		if err := e.cat.UpdateRecoveryPoint(ctx, rp); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()

	svc2 := e.newServiceWith(func(c *Config) { c.StartupVaultTimeout = time.Second })
	if _, _, err := svc2.ListVaults(ctx, backup.Page{}); err != nil {
		t.Fatal(err)
	}
	for _, rp := range pts {
		if got := e.get(rp.ID); got.Status != backup.RecoveryPointDeleting {
			t.Fatalf("point %s after the restart: %s", rp.ID, got.Status)
		}
	}
	e.versity.Restart(t)
	if err := svc2.RetryDeletes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, rp := range pts {
		e.gone(rp.ID)
	}
	if keys := e.allKeys(s3v.Storage); len(keys) != 0 {
		t.Fatalf("objects left: %v", keys)
	}
}
