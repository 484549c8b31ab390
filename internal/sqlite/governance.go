package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// AddTagAttempt records one attempt of the governance worker and sets its ID.
func (c *Catalog) AddTagAttempt(ctx context.Context, a *backup.TagAttempt) error {
	at, err := requiredNanos(a.Time, "Time")
	if err != nil {
		return err
	}
	res, err := c.write.ExecContext(ctx, `INSERT INTO tag_attempts
		(source, resource_arn, resource_name, rule, tag_key, tag_value, reason, attempt, time_ns, outcome, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Source, a.ResourceARN, a.ResourceName, a.Rule, a.Key, a.Value, a.Reason, a.Attempt, at, a.Outcome, a.Error)
	if err != nil {
		return fmt.Errorf("sqlite: add tag attempt on %s: %w", a.ResourceARN, err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: add tag attempt on %s: %w", a.ResourceARN, err)
	}
	return nil
}

// ListTagAttempts returns attempts on resourceARN (all when empty), newest
// first, at most limit (all when 0).
func (c *Catalog) ListTagAttempts(ctx context.Context, resourceARN string, limit int) ([]*backup.TagAttempt, error) {
	q := `SELECT id, source, resource_arn, resource_name, rule, tag_key, tag_value, reason, attempt, time_ns, outcome, error
		FROM tag_attempts WHERE (? = '' OR resource_arn = ?) ORDER BY id DESC`
	args := []any{resourceARN, resourceARN}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := c.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tag attempts: %w", err)
	}
	defer rows.Close()
	var out []*backup.TagAttempt
	for rows.Next() {
		a := &backup.TagAttempt{}
		var at sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Source, &a.ResourceARN, &a.ResourceName, &a.Rule, &a.Key, &a.Value,
			&a.Reason, &a.Attempt, &at, &a.Outcome, &a.Error); err != nil {
			return nil, fmt.Errorf("sqlite: list tag attempts: %w", err)
		}
		a.Time = timeOf(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tag attempts: %w", err)
	}
	return out, nil
}

const violationColumns = `id, source, resource_arn, resource_name, rule, tag_key, tag_value, mode, seen_ns, resolved_ns, resolution`

func scanViolation(s interface{ Scan(...any) error }) (*backup.TagViolation, error) {
	v := &backup.TagViolation{}
	var seen, resolved sql.NullInt64
	if err := s.Scan(&v.ID, &v.Source, &v.ResourceARN, &v.ResourceName, &v.Rule, &v.Key, &v.Value, &v.Mode,
		&seen, &resolved, &v.Resolution); err != nil {
		return nil, err
	}
	v.SeenAt, v.ResolvedAt = timeOf(seen), timeOf(resolved)
	return v, nil
}

// OpenTagViolation records v unless a violation of the same resource, key
// and value is open; it returns the open one and whether it is new. The
// partial unique index makes the check and the insert one step.
func (c *Catalog) OpenTagViolation(ctx context.Context, v *backup.TagViolation) (*backup.TagViolation, bool, error) {
	seen, err := requiredNanos(v.SeenAt, "SeenAt")
	if err != nil {
		return nil, false, err
	}
	res, err := c.write.ExecContext(ctx, `INSERT INTO tag_violations
		(source, resource_arn, resource_name, rule, tag_key, tag_value, mode, seen_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		v.Source, v.ResourceARN, v.ResourceName, v.Rule, v.Key, v.Value, v.Mode, seen)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: open tag violation on %s: %w", v.ResourceARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: open tag violation on %s: %w", v.ResourceARN, err)
	}
	row := c.write.QueryRowContext(ctx, `SELECT `+violationColumns+` FROM tag_violations
		WHERE resource_arn = ? AND tag_key = ? AND tag_value = ? AND resolved_ns IS NULL`, v.ResourceARN, v.Key, v.Value)
	open, err := scanViolation(row)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: open tag violation on %s: %w", v.ResourceARN, err)
	}
	return open, n == 1, nil
}

// ResolveTagViolation closes the open violation id.
func (c *Catalog) ResolveTagViolation(ctx context.Context, id int64, at time.Time, resolution string) error {
	ns, err := requiredNanos(at, "ResolvedAt")
	if err != nil {
		return err
	}
	res, err := c.write.ExecContext(ctx, `UPDATE tag_violations SET resolved_ns = ?, resolution = ?
		WHERE id = ? AND resolved_ns IS NULL`, ns, resolution, id)
	if err != nil {
		return fmt.Errorf("sqlite: resolve tag violation %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: resolve tag violation %d: %w", id, err)
	} else if n == 0 {
		return backup.Errorf(backup.ErrNotFound, "no open tag violation %d", id)
	}
	return nil
}

// ListTagViolations returns violations, newest first.
func (c *Catalog) ListTagViolations(ctx context.Context, f backup.TagViolationFilter) ([]*backup.TagViolation, error) {
	rows, err := c.read.QueryContext(ctx, `SELECT `+violationColumns+` FROM tag_violations
		WHERE (? = '' OR resource_arn = ?) AND (? = 0 OR resolved_ns IS NULL) ORDER BY id DESC`,
		f.ResourceARN, f.ResourceARN, boolInt(f.OpenOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tag violations: %w", err)
	}
	defer rows.Close()
	var out []*backup.TagViolation
	for rows.Next() {
		v, err := scanViolation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list tag violations: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tag violations: %w", err)
	}
	return out, nil
}
