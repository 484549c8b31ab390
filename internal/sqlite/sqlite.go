// Package sqlite keeps cairn's catalog (backup.Catalog) in an embedded SQLite
// database through modernc.org/sqlite, a pure-Go build of SQLite.
//
// # Schema
//
// The schema lives in migrations/ as numbered .sql files embedded in the
// binary; Open applies the ones the database has not seen in one transaction
// and records the count in PRAGMA user_version. Every column a listing
// filters or sorts on is a real column with an index ending in
// (creation_ns, id); maps and small structs are JSON text. Times are stored as
// integer nanoseconds since the Unix epoch, so they round-trip exactly, and
// are returned in UTC; the zero time is NULL. Times before 1678 or after 2261
// do not fit and are refused with backup.ErrInvalidParameter.
//
// # Concurrency
//
// The database runs in WAL mode. All writes go through one connection, so
// writers in this process queue in Go instead of meeting SQLITE_BUSY; reads
// use a pool of read-only connections and never wait for the writer. A
// busy_timeout of 5 s covers other processes opening the same file.
//
// # Durability
//
// Every write is committed before its method returns. With WAL and
// synchronous=NORMAL a commit is in the WAL file, in the operating system's
// hands, when it returns: it survives the process being killed (SIGKILL, a
// panic, os.Exit) at any point. A power loss or kernel crash can roll back the
// last commits before a checkpoint, but never corrupts the database.
//
// # Listings
//
// Listings are newest first, ordered by (CreationDate DESC, ID DESC), and
// paginated by keyset: NextToken encodes the last row's creation time and ID,
// so a page costs one index range scan whatever its depth, and rows inserted
// while a caller pages through are neither skipped nor repeated. A filter on
// several states or statuses is run as one index scan per value, merged.
// The recovery points due for cold storage or deletion (ColdDueBy,
// DeleteDueBy) are the exception: they are read from an index of due dates
// and sorted, which is cheap while few are due.
// MaxResults 0 means 100, values above 1000 are treated as 1000, and negative
// values are refused.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Catalog is a backup.Catalog kept in a SQLite database. It is safe for
// concurrent use.
type Catalog struct {
	write *sql.DB          // exactly one connection: writes are serialised here
	read  *sql.DB          // read-only connections; the same as write in memory
	now   func() time.Time // stamps events (SetClock); nil: the system clock
}

var _ backup.Catalog = (*Catalog)(nil)

// Open opens the catalog in the SQLite database file at path, creating it if
// needed, and brings its schema up to date.
func Open(ctx context.Context, path string) (*Catalog, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: invalid catalog path %q", path)
	}
	const common = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	write, err := sql.Open("sqlite", path+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	c := &Catalog{write: write}
	if err := c.setUp(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", path+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	c.read = read
	return c, nil
}

// OpenMemory opens an empty catalog held in memory, for tests. It lives on
// one connection that serves reads and writes alike, and is gone after Close.
func OpenMemory(ctx context.Context) (*Catalog, error) {
	db, err := sql.Open("sqlite", ":memory:?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open memory: %w", err)
	}
	// The database is the connection: never let the pool drop it.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c := &Catalog{write: db, read: db}
	if err := c.setUp(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open memory: %w", err)
	}
	return c, nil
}

// Close runs SQLite's statistics maintenance and closes the database. It
// does not wait for calls in flight.
func (c *Catalog) Close() error {
	_, optErr := c.write.Exec("PRAGMA optimize")
	var readErr error
	if c.read != c.write {
		readErr = c.read.Close()
	}
	if err := errors.Join(c.write.Close(), readErr); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	if optErr != nil {
		return fmt.Errorf("sqlite: close: optimize: %w", optErr)
	}
	return nil
}

func (c *Catalog) setUp(ctx context.Context) error {
	if err := migrate(ctx, c.write); err != nil {
		return err
	}
	// Gather the planner's statistics where they are missing or stale, so
	// that a listing with several filters picks the most selective index.
	if _, err := c.write.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
}

// loadMigrations returns the embedded migrations in order of number.
// Numbers are unique; a gap is allowed (the numbers of work done on
// several branches at once are fixed in advance, and one may land before
// a lower one). The schema version counts the migrations applied, in
// order of number, so a database never sees one number after a higher one
// once released.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		ms = append(ms, migration{version: v, name: name})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migration %s: number %d is taken by %s", ms[i].name, ms[i].version, ms[i-1].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations db has not seen, all in one transaction, and
// records how many it has in PRAGMA user_version.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var have int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("migrate: database is at schema version %d, newer than this program's %d", have, len(ms))
	}
	if have == len(ms) {
		return nil
	}
	for _, m := range ms[have:] {
		text, err := migrations.ReadFile(m.name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(text)); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	// PRAGMA takes no parameters; the value is an int we made.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(ms))); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of migrations the database has had.
func (c *Catalog) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := c.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// sqliteCode returns the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isPrimaryKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isUniqueViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

func isForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// wrapf returns a domain error of the code that keeps err as its cause.
func wrapf(err error, code backup.Code, typ, context, format string, args ...any) error {
	e := backup.Errorf(code, format, args...)
	e.Type, e.Context, e.Err = typ, context, err
	return e
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// getOne scans the one row of a lookup by id; no row is ErrNotFound naming
// kind and id.
func getOne[T any](row *sql.Row, scan func(scanner) (*T, error), kind, id string) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, backup.NotFound(kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s %s: %w", kind, id, err)
	}
	return v, nil
}

// affectedOne returns a NotFound error of kind and id if res changed no row.
func affectedOne(res sql.Result, kind, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", kind, id, err)
	}
	if n == 0 {
		return backup.NotFound(kind, id)
	}
	return nil
}
