package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

// takeToken takes token for the job id of kind within tx. A token another
// job holds (committed, or committed while this waited for it) is a
// *backup.TokenInUseError naming that job. ON CONFLICT DO NOTHING waits for
// a concurrent transaction that inserted the same token: if it commits,
// this one finds its row; if it rolls back, this one takes the token.
func takeToken(ctx context.Context, tx pgx.Tx, kind, token, id string) error {
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_tokens (kind, token, job_id) VALUES ($1, $2, $3)
		ON CONFLICT (kind, token) DO NOTHING`, kind, token, id)
	if err != nil {
		return fmt.Errorf("postgres: create %s %s: idempotency token: %w", kind, id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var holder string
	if err := tx.QueryRow(ctx, "SELECT job_id FROM idempotency_tokens WHERE kind = $1 AND token = $2", kind, token).Scan(&holder); err != nil {
		return fmt.Errorf("postgres: create %s %s: the holder of its idempotency token: %w", kind, id, err)
	}
	return &backup.TokenInUseError{Kind: kind, Token: token, JobID: holder}
}

// insertWithToken runs one job insert (query with args) in a transaction
// that first takes the job's idempotency token, if it has one, and records
// the events the new job causes (evs). A token another job of kind holds
// fails the whole transaction with *backup.TokenInUseError; an error of the
// insert itself is returned as it is, for the caller to map.
func (c *Catalog) insertWithToken(ctx context.Context, kind, token, id, query string, args []any, evs []backup.Event) error {
	if token == "" && len(evs) == 0 {
		_, err := c.pool.Exec(ctx, query, args...)
		return err
	}
	return c.inTx(ctx, "create "+kind+" "+id, func(tx pgx.Tx) error {
		if token != "" {
			if err := takeToken(ctx, tx, kind, token, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			return err
		}
		return appendEvents(ctx, tx, evs)
	})
}

// isTokenInUse reports whether err is a *backup.TokenInUseError.
func isTokenInUse(err error) bool {
	var e *backup.TokenInUseError
	return errors.As(err, &e)
}

// placeholders returns "$1, $2, ..., $n".
func placeholders(n int) string {
	s := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", i)
	}
	return s
}

// columns splits a column list such as jobCols into names.
func columns(list string) []string {
	var out []string
	for _, c := range strings.Split(list, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// insertQuery returns the INSERT of every column of cols into table.
func insertQuery(table, cols string) string {
	return "INSERT INTO " + table + " (" + cols + ") VALUES (" + placeholders(len(columns(cols))) + ")"
}

// updateQuery returns the UPDATE of table that sets every column of cols
// but the first (the key, matched in WHERE) and those of fixed, with args
// (the values of cols, in order) reduced to those it uses.
func updateQuery(table, cols string, args []any, fixed ...string) (string, []any) {
	names := columns(cols)
	var sets []string
	used := []any{args[0]}
	for i, name := range names[1:] {
		if slices.Contains(fixed, name) {
			continue
		}
		used = append(used, args[i+1])
		sets = append(sets, fmt.Sprintf("%s = $%d", name, len(used)))
	}
	return "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE " + names[0] + " = $1", used
}
