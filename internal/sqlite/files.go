package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// The catalog as a file: what `cairn catalog` and the server's start-up
// check do with it besides Open. None of these take the catalog's write
// lock: they read through a read-only connection, which in WAL mode sees
// one consistent state of the database beside a running server.

// ErrCorrupt is wrapped by the errors of Inspect and Snapshot when the file
// is damaged: SQLite finds it malformed, not a database, or fails its
// integrity check.
var ErrCorrupt = errors.New("the catalog file is damaged")

// Contents is what Inspect finds in a catalog file.
type Contents struct {
	// Exists is false if there is no file at the path; the rest is zero.
	Exists bool
	// Schema is the number of migrations the file has had; 0 for an empty
	// file, which Open would make a new catalog of.
	Schema         int
	Vaults         int64
	RecoveryPoints int64
	BackupJobs     int64
	RestoreJobs    int64
	CopyJobs       int64
	BackupPlans    int64
}

// Empty reports whether the catalog holds no vault and no recovery point
// (or does not exist).
func (c *Contents) Empty() bool { return c.Vaults == 0 && c.RecoveryPoints == 0 }

// Inspect reads the catalog file at path without changing it (a read-only
// connection; a missing file is not created) and counts what it holds.
// With check, it also runs SQLite's integrity check, which reads every
// page. A damaged file is an error wrapping ErrCorrupt.
func Inspect(ctx context.Context, path string, check bool) (*Contents, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return &Contents{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: inspect %s: %w", path, err)
	}
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	c, err := inspect(ctx, db, check)
	if err != nil {
		return nil, fmt.Errorf("sqlite: inspect %s: %w", path, err)
	}
	return c, nil
}

func openReadOnly(path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#%") {
		return nil, fmt.Errorf("sqlite: invalid catalog path %q", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s read-only: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func inspect(ctx context.Context, db *sql.DB, check bool) (*Contents, error) {
	c := &Contents{Exists: true}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&c.Schema); err != nil {
		return nil, corrupt(err)
	}
	if check {
		if err := integrityCheck(ctx, db); err != nil {
			return nil, err
		}
	}
	if c.Schema == 0 {
		var tables int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return nil, corrupt(err)
		}
		if tables > 0 {
			return nil, fmt.Errorf("%w: it has tables but no schema version: not a cairn catalog", ErrCorrupt)
		}
		return c, nil
	}
	return c, c.count(ctx, db)
}

// querier is what *sql.DB and *sql.Conn have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// count fills in the counts of c.
func (c *Contents) count(ctx context.Context, q querier) error {
	for _, t := range []struct {
		table string
		n     *int64
	}{{"vaults", &c.Vaults}, {"recovery_points", &c.RecoveryPoints}, {"backup_jobs", &c.BackupJobs},
		{"restore_jobs", &c.RestoreJobs}, {"copy_jobs", &c.CopyJobs}, {"backup_plans", &c.BackupPlans}} {
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+t.table).Scan(t.n); err != nil {
			return corrupt(fmt.Errorf("count %s: %w", t.table, err))
		}
	}
	return nil
}

// integrityCheck runs PRAGMA integrity_check and turns any finding into
// an error wrapping ErrCorrupt.
func integrityCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(20)")
	if err != nil {
		return corrupt(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return corrupt(err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return corrupt(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: integrity check: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// corrupt wraps err with ErrCorrupt if SQLite says the file is damaged.
func corrupt(err error) error {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// Snapshot writes a consistent copy of the catalog at path into the new
// file dst, while a server may be using the catalog: SQLite's VACUUM INTO
// on a read-only connection copies one state of the database (a read
// transaction) without taking any lock a writer waits for. The copy is
// written beside dst first, checked (it opens, passes the integrity check,
// has the catalog's schema version) and synced, then renamed to dst. dst
// must not exist. It returns what the copy holds.
func Snapshot(ctx context.Context, path, dst string) (*Contents, error) {
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("sqlite: snapshot: %s exists; name a new file", dst)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	if strings.ContainsAny(tmp, "?#%") {
		return nil, fmt.Errorf("sqlite: snapshot: invalid file name %q", dst)
	}
	os.Remove(tmp) // a leftover of an earlier attempt of this process id
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	schema, err := copyInto(ctx, db, tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("sqlite: snapshot of %s: %w", path, err)
	}
	got, err := checkCopy(ctx, tmp)
	if err == nil && got.Schema != schema {
		err = fmt.Errorf("the copy has schema version %d, the catalog %d", got.Schema, schema)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("sqlite: snapshot of %s: the copy does not check out: %w", path, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	return got, syncDir(dst)
}

// copyInto copies the database into tmp with VACUUM INTO, which reads it
// in one transaction of its own, and returns its schema version.
func copyInto(ctx context.Context, db *sql.DB, tmp string) (int, error) {
	var schema int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&schema); err != nil {
		return 0, corrupt(err)
	}
	if schema == 0 {
		return 0, errors.New("it is empty: there is nothing to back up")
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return 0, corrupt(fmt.Errorf("vacuum into %s: %w", tmp, err))
	}
	return schema, nil
}

// checkCopy opens the copy, checks its integrity, counts what it holds and
// syncs it to disk.
func checkCopy(ctx context.Context, tmp string) (*Contents, error) {
	db, err := openReadOnly(tmp)
	if err != nil {
		return nil, err
	}
	c, err := inspect(ctx, db, true)
	db.Close()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c, f.Sync()
}

// syncDir syncs the directory of path, so a rename into it is durable.
func syncDir(path string) error {
	d, err := os.Open(dirOf(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	} else if i == 0 {
		return "/"
	}
	return "."
}

// MoveAside renames the catalog file at path and its -wal and -shm files,
// where they exist, to path.damaged-TIME (and -wal, -shm after it; -TIME-2
// and so on if that is taken), so a new catalog can be made at path while
// the old one is kept. It returns the new name of the main file, or "" if
// there was nothing to move.
func MoveAside(path string, now time.Time) (string, error) {
	base := path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	aside := base
	for n := 2; taken(aside); n++ { // never over an earlier one
		aside = fmt.Sprintf("%s-%d", base, n)
	}
	moved := false
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Lstat(path + suffix); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.Rename(path+suffix, aside+suffix); err != nil {
			return "", fmt.Errorf("sqlite: move %s aside: %w", path+suffix, err)
		}
		moved = true
	}
	if !moved {
		return "", nil
	}
	return aside, syncDir(path)
}

// taken reports whether name or its -wal or -shm file exists.
func taken(name string) bool {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Lstat(name + suffix); err == nil {
			return true
		}
	}
	return false
}
