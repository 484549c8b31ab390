package postgres_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// A copy that fails part way (a value the target's column cannot hold)
// writes nothing; a target that holds data is refused unless replace; a
// replace leaves exactly the source's rows.
func TestCopyFromAllOrNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	src, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	created := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	if err := src.CreateVault(t.Context(), &backup.Vault{Name: "Default", CreationDate: created}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := src.CreateBackupJob(t.Context(), &backup.BackupJob{ID: id, ResourceARN: "arn:table/" + id,
			State: backup.JobCompleted, CreationDate: created, IdempotencyToken: "tok-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	dst, err := postgres.Open(t.Context(), testbed.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	count := func(table string) int64 {
		var n int64
		if err := dst.Pool().QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// SQLite keeps what a column is given; PostgreSQL's bigint refuses it.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("UPDATE backup_jobs SET item_count = 'lots' WHERE id = 'b'"); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.CopyFrom(t.Context(), src.ReadDB(), false); err == nil || !strings.Contains(err.Error(), "item_count") {
		t.Fatalf("copy of a value that does not fit: %v", err)
	}
	for _, table := range []string{"vaults", "backup_jobs", "idempotency_tokens"} {
		if n := count(table); n != 0 {
			t.Fatalf("a failed copy left %d rows in %s", n, table)
		}
	}
	if _, err := raw.Exec("UPDATE backup_jobs SET item_count = 7 WHERE id = 'b'"); err != nil {
		t.Fatal(err)
	}
	counts, err := dst.CopyFrom(t.Context(), src.ReadDB(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Source != c.Copied {
			t.Errorf("%s: %d in the source, %d copied", c.Table, c.Source, c.Copied)
		}
	}
	if count("backup_jobs") != 2 || count("idempotency_tokens") != 2 || count("vaults") != 1 {
		t.Fatalf("after the copy: %d jobs, %d tokens, %d vaults", count("backup_jobs"), count("idempotency_tokens"), count("vaults"))
	}
	if _, err := dst.CopyFrom(t.Context(), src.ReadDB(), false); !errors.Is(err, postgres.ErrNotEmpty) || !strings.Contains(err.Error(), "backup_jobs: 2") {
		t.Fatalf("a copy into a catalog that holds data: %v", err)
	}
	if _, err := dst.CopyFrom(t.Context(), src.ReadDB(), true); err != nil {
		t.Fatalf("a copy with replace: %v", err)
	}
	if count("backup_jobs") != 2 || count("idempotency_tokens") != 2 {
		t.Fatalf("after the replace: %d jobs, %d tokens", count("backup_jobs"), count("idempotency_tokens"))
	}
	// The copy's catalog works: the tokens it carried are taken.
	err = dst.CreateBackupJob(t.Context(), &backup.BackupJob{ID: "c", ResourceARN: "arn:table/c",
		State: backup.JobCreated, CreationDate: created, IdempotencyToken: "tok-a"})
	var inUse *backup.TokenInUseError
	if !errors.As(err, &inUse) || inUse.JobID != "a" {
		t.Fatalf("a job with a copied token: %v", err)
	}
}
