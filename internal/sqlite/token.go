package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// insertWithToken runs one job insert (query with args) in a transaction
// that first takes the job's idempotency token, if it has one, in
// idempotency_tokens. A token another job of kind holds fails the whole
// transaction with *backup.TokenInUseError; an error of the insert itself
// is returned as it is, for the caller to map.
//
// The events the new job causes (evs) are recorded in the same
// transaction.
func (c *Catalog) insertWithToken(ctx context.Context, kind, token, id, query string, args []any, evs []backup.Event) error {
	if token == "" && len(evs) == 0 {
		_, err := c.write.ExecContext(ctx, query, args...)
		return err
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create %s %s: %w", kind, id, err)
	}
	defer tx.Rollback()
	if token != "" {
		if err := takeToken(ctx, tx, kind, token, id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return err
	}
	if err := appendEvents(ctx, tx, evs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create %s %s: commit: %w", kind, id, err)
	}
	return nil
}

// takeToken records that job id of kind holds token, within tx.
func takeToken(ctx context.Context, tx *sql.Tx, kind, token, id string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO idempotency_tokens (kind, token, job_id) VALUES (?, ?, ?)", kind, token, id)
	if isPrimaryKeyViolation(err) {
		var holder string
		if err := tx.QueryRowContext(ctx, "SELECT job_id FROM idempotency_tokens WHERE kind = ? AND token = ?", kind, token).Scan(&holder); err != nil {
			return fmt.Errorf("sqlite: create %s %s: the holder of its idempotency token: %w", kind, id, err)
		}
		return &backup.TokenInUseError{Kind: kind, Token: token, JobID: holder}
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s %s: idempotency token: %w", kind, id, err)
	}
	return nil
}

// isTokenInUse reports whether err is a *backup.TokenInUseError.
func isTokenInUse(err error) bool {
	var e *backup.TokenInUseError
	return errors.As(err, &e)
}
