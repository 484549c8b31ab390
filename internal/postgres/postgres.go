// Package postgres keeps cairn's catalog (backup.Catalog) in a PostgreSQL
// database through github.com/jackc/pgx/v5 and its connection pool.
//
// It is the twin of internal/sqlite: the same tables, columns and indexes
// (migrations/ mirrors internal/sqlite/migrations one file for one, numbered
// the same), the same encodings (times as bigint nanoseconds since the
// epoch, NULL for the zero time; maps and small structs as JSON text) and
// the same listings (newest first, keyset pages). Names and IDs that
// listings order by are COLLATE "C", so pages come in byte order whatever
// the database's locale.
//
// # Schema
//
// Open applies, in one transaction, the migrations the database has not
// seen and records their count in the table cairn_schema. The transaction
// first takes a transaction-level advisory lock, so that several servers
// starting at once on one database migrate it once.
//
// # Concurrency
//
// Unlike SQLite's one writer, many transactions write at once here, from
// this process and from others. The guarantees of backup.Catalog hold
// through PostgreSQL's own means: unique indexes (one idempotency token per
// job, one running backup job per resource, one job per rule occurrence and
// resource, one open tag violation), single statements that only move a
// value forward (rule cursors, a plan's last execution), row locks (SELECT
// ... FOR UPDATE / FOR SHARE) where a check and a write must see the same
// row (tags, a plan and its selections, a vault and its points, a report
// plan and its jobs), and table locks where a limit counts rows that do not
// exist yet (frameworks, report plans, policies of one name). Transactions
// run at READ COMMITTED.
//
// # Durability
//
// Every write is committed before its method returns; how durable a commit
// is is the server's setting (synchronous_commit, fsync).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	neturl "net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cairn-backup/cairn/internal/backup"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Catalog is a backup.Catalog kept in a PostgreSQL database. It is safe for
// concurrent use, and several processes may use one database at once.
type Catalog struct {
	pool *pgxpool.Pool
	now  func() time.Time // stamps events (SetClock); nil: the system clock
}

var _ backup.Catalog = (*Catalog)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the URL with its password replaced by "xxxxx", for logs
// and messages.
func Redact(s string) string {
	u, err := neturl.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	u.User = neturl.UserPassword(u.User.Username(), "xxxxx")
	return u.String()
}

// Open connects to the database at url (postgres://USER:PASSWORD@HOST:PORT/DB?...,
// pgx's parameters such as pool_max_conns included) and brings its schema
// up to date.
func Open(ctx context.Context, url string) (*Catalog, error) {
	if !IsURL(url) {
		return nil, fmt.Errorf("postgres: catalog %q is not a postgres:// URL", Redact(url))
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: catalog URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, GOMAXPROCS), is too few for a server's
		// jobs, scheduler and API at once.
		cfg.MaxConns = max(cfg.MaxConns, 16)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(url), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(url), err)
	}
	return &Catalog{pool: pool}, nil
}

// Close closes the pool's connections. It waits for those in use to be
// given back.
func (c *Catalog) Close() error {
	c.pool.Close()
	return nil
}

// Pool returns the catalog's connection pool, for what is done with the
// database besides the catalog's methods (cairn catalog copy).
func (c *Catalog) Pool() *pgxpool.Pool { return c.pool }

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

// migrateLock is the key of the advisory lock migrations take ("cairn" in
// ASCII), so that servers starting together migrate one after the other.
const migrateLock = 0x636169726e

// migrate applies the migrations the database has not seen, all in one
// transaction, and records how many it has in cairn_schema.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS cairn_schema (version integer NOT NULL)"); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var have int
		err := tx.QueryRow(ctx, "SELECT version FROM cairn_schema").Scan(&have)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, "INSERT INTO cairn_schema (version) VALUES (0)"); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		case err != nil:
			return fmt.Errorf("migrate: read version: %w", err)
		}
		if have > len(ms) {
			return fmt.Errorf("migrate: database is at schema version %d, newer than this program's %d", have, len(ms))
		}
		for _, m := range ms[have:] {
			text, err := migrations.ReadFile(m.name)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			// Exec without arguments runs the file's statements as one
			// simple-protocol query.
			if _, err := tx.Exec(ctx, string(text)); err != nil {
				return fmt.Errorf("migrate: %s: %w", m.name, err)
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE cairn_schema SET version = $1", len(ms)); err != nil {
			return fmt.Errorf("migrate: set version: %w", err)
		}
		return nil
	})
}

// SchemaVersion returns the number of migrations the database has had.
func (c *Catalog) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := c.pool.QueryRow(ctx, "SELECT version FROM cairn_schema").Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// SQLSTATE codes of the violations the catalog maps to domain errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// violation returns the name of the constraint err violates if its
// SQLSTATE is code, else "" and false.
func violation(err error, code string) (string, bool) {
	var e *pgconn.PgError
	if errors.As(err, &e) && e.Code == code {
		return e.ConstraintName, true
	}
	return "", false
}

func isUniqueViolation(err error) bool {
	_, ok := violation(err, uniqueViolation)
	return ok
}

// isPrimaryKeyViolation reports whether err violates the primary key of
// table (PostgreSQL names it TABLE_pkey).
func isPrimaryKeyViolation(err error, table string) bool {
	name, ok := violation(err, uniqueViolation)
	return ok && name == table+"_pkey"
}

func isForeignKeyViolation(err error) bool {
	_, ok := violation(err, foreignKeyViolation)
	return ok
}

// wrapf returns a domain error of the code that keeps err as its cause.
func wrapf(err error, code backup.Code, typ, context, format string, args ...any) error {
	e := backup.Errorf(code, format, args...)
	e.Type, e.Context, e.Err = typ, context, err
	return e
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// getOne scans the one row of a lookup by id; no row is ErrNotFound naming
// kind and id.
func getOne[T any](row pgx.Row, scan func(scanner) (*T, error), kind, id string) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backup.NotFound(kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s %s: %w", kind, id, err)
	}
	return v, nil
}

// affectedOne returns a NotFound error of kind and id if tag says no row
// changed.
func affectedOne(tag pgconn.CommandTag, kind, id string) error {
	if tag.RowsAffected() == 0 {
		return backup.NotFound(kind, id)
	}
	return nil
}

// inTx runs fn in a transaction on c's pool, committed if fn returns nil
// and rolled back otherwise; what names the operation in errors of the
// transaction itself.
func (c *Catalog) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: %s: commit: %w", what, err)
	}
	return nil
}

// collectRows scans every row of rows with scan.
func collectRows[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
