package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

func testJob(id string, i int) *backup.BackupJob {
	return &backup.BackupJob{
		ID: id, ResourceARN: backup.TableARN("eu-west-1", "123456789012", id),
		State: backup.JobCompleted, CreationDate: t0.Add(time.Duration(i) * time.Millisecond),
		RecoveryPointTags: map[string]string{"i": fmt.Sprint(i)},
	}
}

// writeSome writes a vault, n jobs and a recovery point through c.
func writeSome(t *testing.T, c *sqlite.Catalog, n int) {
	t.Helper()
	v := &backup.Vault{Name: "vault-a", CreationDate: t0, Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: "/x"}}
	if err := c.CreateVault(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := c.CreateBackupJob(t.Context(), testJob(fmt.Sprintf("job-%04d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	p := &backup.RecoveryPoint{ID: "rp-1", VaultName: "vault-a", Status: backup.RecoveryPointCompleted, CreationDate: t0}
	if err := c.CreateRecoveryPoint(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	j := testJob("job-0000", 0)
	j.State, j.StatusMessage = backup.JobFailed, "updated"
	if err := c.UpdateBackupJob(t.Context(), j); err != nil {
		t.Fatal(err)
	}
}

// checkSome checks that everything writeSome wrote is in c.
func checkSome(t *testing.T, c *sqlite.Catalog, n int) {
	t.Helper()
	v, err := c.GetVault(t.Context(), "vault-a")
	if err != nil {
		t.Fatalf("GetVault: %v", err)
	}
	if v.NumberOfRecoveryPoints != 1 {
		t.Fatalf("NumberOfRecoveryPoints = %d, want 1", v.NumberOfRecoveryPoints)
	}
	jobs, _, err := c.ListBackupJobs(t.Context(), backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}})
	if err != nil {
		t.Fatalf("ListBackupJobs: %v", err)
	}
	if len(jobs) != n {
		t.Fatalf("%d jobs, want %d", len(jobs), n)
	}
	j, err := c.GetBackupJob(t.Context(), "job-0000")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != backup.JobFailed || j.StatusMessage != "updated" {
		t.Fatalf("the last update is lost: %+v", j)
	}
}

// TestAbandonedHandle opens a second handle on a file whose first handle was
// never closed, as after a crash, and finds every write there. It also
// writes through both at once: the busy timeout keeps SQLITE_BUSY from
// reaching callers when two handles (two processes) share the file.
func TestAbandonedHandle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	first, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	writeSome(t, first, 50)
	// first is abandoned, never closed; its connections stay open.
	second, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	checkSome(t, second, 50)

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for h, c := range []*sqlite.Catalog{first, second} {
		wg.Go(func() {
			for i := range 100 {
				if err := c.CreateBackupJob(t.Context(), testJob(fmt.Sprintf("h%d-%03d", h, i), 1000+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("write through two handles: %v", err)
	}
	jobs, _, err := second.ListBackupJobs(t.Context(), backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 250 {
		t.Fatalf("%d jobs, want 250", len(jobs))
	}
}

// TestKilled writes from a child process that then SIGKILLs itself, and
// reads every write back: a write is durable when its call returns.
func TestKilled(t *testing.T) {
	const n = 200
	if path := os.Getenv("CAIRN_SQLITE_KILL_CHILD"); path != "" {
		c, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		writeSome(t, c, n)
		fmt.Println("written")
		killSelf()
		t.Fatal("still alive after SIGKILL")
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CAIRN_SQLITE_KILL_CHILD="+path)
	out, err := cmd.Output()
	if !strings.Contains(string(out), "written") {
		t.Fatalf("child did not finish writing: %v\n%s", err, out)
	}
	if !killedBySignal(err) {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	// The writes are in the WAL, not yet checkpointed into the database.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL left by the killed child: %v", err)
	}
	c, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkSome(t, c, n)
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.SchemaVersion(t.Context())
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	writeSome(t, c, 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing and keeps the data.
	c, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.SchemaVersion(t.Context()); again != v {
		t.Fatalf("SchemaVersion after reopening = %d, want %d", again, v)
	}
	checkSome(t, c, 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A database from a newer cairn is refused, not changed.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if c, err := sqlite.Open(t.Context(), path); err == nil {
		c.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a database with a newer schema: %v", err)
	}
}

func TestOpenInvalidPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "a?b", "file:x.db"} {
		if c, err := sqlite.Open(t.Context(), p); err == nil {
			c.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestOutOfRangeTime(t *testing.T) {
	c, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	j := testJob("job-1", 0)
	j.StartBy = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.CreateBackupJob(t.Context(), j); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Fatalf("CreateBackupJob with StartBy in 3000: %v, want InvalidParameter", err)
	}
	j = testJob("job-1", 0)
	j.CreationDate = time.Time{}
	if err := c.CreateBackupJob(t.Context(), j); backup.ErrorCode(err) != backup.ErrMissingParameter {
		t.Fatalf("CreateBackupJob without CreationDate: %v, want MissingParameter", err)
	}
	// Bounds outside the stored range still filter.
	if err := c.CreateBackupJob(t.Context(), testJob("job-1", 0)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []backup.BackupJobFilter{
		{CreatedAfter: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)},
		{CreatedBefore: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		jobs, _, err := c.ListBackupJobs(t.Context(), f)
		if err != nil || len(jobs) != 1 {
			t.Errorf("ListBackupJobs(%+v) = %d jobs, %v; want 1", f, len(jobs), err)
		}
	}
	for _, f := range []backup.BackupJobFilter{
		{CreatedBefore: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)},
		{CreatedAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{CompleteBefore: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		jobs, _, err := c.ListBackupJobs(t.Context(), f)
		if err != nil || len(jobs) != 0 {
			t.Errorf("ListBackupJobs(%+v) = %d jobs, %v; want 0", f, len(jobs), err)
		}
	}
}
