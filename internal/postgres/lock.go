package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// serverLock is the key of the session-level advisory lock that keeps
// `cairn catalog copy` and the servers apart ("cairnsrv" in ASCII): the
// copy takes it exclusively (LockServer), every server node holds it
// shared (ServerLockKey, internal/cluster). Advisory locks are per
// database.
const serverLock = 0x636169726e737276

// ServerLockKey is the key a server node holds in shared mode for its
// life, so that LockServer (cairn catalog copy) refuses while any runs.
const ServerLockKey int64 = serverLock

// ErrCatalogInUse is the error LockServer returns while a server (or
// another copy) holds the catalog.
var ErrCatalogInUse = errors.New("the catalog is in use by another cairn server")

// ServerLock is a server's hold on a catalog: one connection of the pool,
// kept for the server's lifetime, holds a session-level advisory lock.
// PostgreSQL releases it when that session ends, also when the process is
// killed: a new server never waits for a stale lock.
type ServerLock struct {
	conn *pgxpool.Conn
}

// LockServer takes the catalog for one server; Release the lock before
// the catalog is closed (Close waits for the lock's connection). holder describes the
// server ("cairn server pid 1234 on host a", at most 63 bytes are kept:
// PostgreSQL's limit on application_name); a second server is refused
// with ErrCatalogInUse and that description, read from pg_stat_activity
// (the lock's session carries it as its application_name).
//
// The servers themselves share the catalog (internal/cluster): each holds
// this lock's key in shared mode, so the exclusive hold is for work that
// must have the catalog to itself (cairn catalog copy).
func (c *Catalog) LockServer(ctx context.Context, holder string) (*ServerLock, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock the catalog: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", holder); err != nil {
		conn.Release()
		return nil, fmt.Errorf("postgres: lock the catalog: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(serverLock)).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("postgres: lock the catalog: %w", err)
	}
	if ok {
		return &ServerLock{conn: conn}, nil
	}
	conn.Release()
	var (
		name  *string
		since *time.Time
	)
	err = c.pool.QueryRow(ctx, `SELECT a.application_name, a.backend_start FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND (l.classid::bigint << 32 | l.objid::bigint) = $1`, int64(serverLock)).Scan(&name, &since)
	if err != nil || name == nil || *name == "" {
		return nil, fmt.Errorf("%w", ErrCatalogInUse)
	}
	return nil, fmt.Errorf("%w (%s, connected since %s)", ErrCatalogInUse, *name, since.UTC().Format(time.RFC3339))
}

// Release gives the catalog up.
func (l *ServerLock) Release(ctx context.Context) error {
	if l == nil || l.conn == nil {
		return nil
	}
	_, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(serverLock))
	if err != nil {
		// The session ends with the connection, and the lock with it.
		l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
	l.conn = nil
	if err != nil {
		return fmt.Errorf("postgres: unlock the catalog: %w", err)
	}
	return nil
}
