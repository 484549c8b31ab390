package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// filledCatalog returns the path of a closed catalog holding what
// writeSome writes: a vault, n backup jobs and a recovery point.
func filledCatalog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	writeSome(t, c, n)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInspect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	got, err := sqlite.Inspect(ctx, filepath.Join(dir, "missing.db"), true)
	if err != nil || got.Exists || !got.Empty() {
		t.Fatalf("a missing file: %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Inspect created the missing file")
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := sqlite.Inspect(ctx, empty, true); err != nil || !got.Exists || got.Schema != 0 || !got.Empty() {
		t.Fatalf("an empty file: %+v, %v", got, err)
	}
	path := filledCatalog(t, 300)
	if got, err := sqlite.Inspect(ctx, path, true); err != nil || got.Vaults != 1 || got.BackupJobs != 300 || got.Empty() {
		t.Fatalf("a catalog: %+v, %v", got, err)
	}
}

// A half-truncated catalog and one with bytes flipped inside are found
// damaged by the integrity check.
func TestInspectDamaged(t *testing.T) {
	ctx := context.Background()
	for _, damage := range []struct {
		name string
		do   func(b []byte) []byte
	}{
		{"half-truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"bytes flipped", func(b []byte) []byte {
			for i := len(b) / 2; i < len(b)/2+4096 && i < len(b); i += 7 {
				b[i] ^= 0xA5
			}
			return b
		}},
		{"header flipped", func(b []byte) []byte { b[3] ^= 0xFF; return b }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			path := filledCatalog(t, 2000)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damage.do(b), 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := sqlite.Inspect(ctx, path, true); !errors.Is(err, sqlite.ErrCorrupt) {
				t.Fatalf("Inspect of a %s catalog: %+v, %v; want ErrCorrupt", damage.name, got, err)
			}
		})
	}
}

// Snapshot copies the catalog while a writer keeps writing to it: the copy
// opens, passes the integrity check and holds a consistent state.
func TestSnapshotWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filledCatalog(t, 100)
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.CreateBackupJob(ctx, testJob(fmt.Sprintf("live-%06d", i), 100000+i)); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	got, err := sqlite.Snapshot(ctx, path, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got.BackupJobs < 150 || got.Vaults != 1 {
		t.Fatalf("the copy holds %+v; want the 100 jobs, the vault and the ones written before it", got)
	}
	again, err := sqlite.Inspect(ctx, dst, true)
	if err != nil || *again != *got {
		t.Fatalf("the copy inspected again: %+v, %v; Snapshot said %+v", again, err, got)
	}
	copyCat, err := sqlite.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	jobs, _, err := copyCat.ListBackupJobs(ctx, backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}})
	copyCat.Close()
	if err != nil || int64(len(jobs)) != got.BackupJobs {
		t.Fatalf("jobs listed in the copy: %d, %v; want %d", len(jobs), err, got.BackupJobs)
	}
	if _, err := sqlite.Snapshot(ctx, path, dst); err == nil {
		t.Fatal("Snapshot replaced an existing file")
	}
	if matches, _ := filepath.Glob(dst + ".tmp-*"); len(matches) > 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

func TestMoveAside(t *testing.T) {
	path := filledCatalog(t, 10)
	for _, s := range []string{"-wal", "-shm"} {
		if err := os.WriteFile(path+s, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	aside, err := sqlite.MoveAside(path, now)
	if err != nil || aside != path+".damaged-20260506T070809Z" {
		t.Fatalf("MoveAside = %q, %v", aside, err)
	}
	for _, s := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + s); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there", path+s)
		}
		if _, err := os.Stat(aside + s); err != nil {
			t.Errorf("%s: %v", aside+s, err)
		}
	}
	if got, err := sqlite.MoveAside(path, now); err != nil || got != "" {
		t.Fatalf("MoveAside with nothing to move = %q, %v", got, err)
	}
	// A second damaged catalog in the same second goes beside the first.
	if err := os.WriteFile(path, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := sqlite.MoveAside(path, now); err != nil || got != aside+"-2" {
		t.Fatalf("MoveAside of a second catalog = %q, %v; want %s-2", got, err, aside)
	}
	if b, err := os.ReadFile(aside + "-wal"); err != nil || string(b) != "x" {
		t.Fatalf("the first catalog's WAL was touched: %q, %v", b, err)
	}
}
