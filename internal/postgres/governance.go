package postgres

import (
	"context"
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
	err = c.pool.QueryRow(ctx, `INSERT INTO tag_attempts
		(source, resource_arn, resource_name, rule, tag_key, tag_value, reason, attempt, time_ns, outcome, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		a.Source, a.ResourceARN, a.ResourceName, a.Rule, a.Key, a.Value, a.Reason, a.Attempt, at, a.Outcome, a.Error).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("postgres: add tag attempt on %s: %w", a.ResourceARN, err)
	}
	return nil
}

// ListTagAttempts returns attempts on resourceARN (all when empty), newest
// first, at most limit (all when 0).
func (c *Catalog) ListTagAttempts(ctx context.Context, resourceARN string, limit int) ([]*backup.TagAttempt, error) {
	q := `SELECT id, source, resource_arn, resource_name, rule, tag_key, tag_value, reason, attempt, time_ns, outcome, error
		FROM tag_attempts WHERE ($1 = '' OR resource_arn = $1) ORDER BY id DESC`
	args := []any{resourceARN}
	if limit > 0 {
		q += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tag attempts: %w", err)
	}
	out, err := collectRows(rows, func(s scanner) (*backup.TagAttempt, error) {
		a := &backup.TagAttempt{}
		var at *int64
		if err := s.Scan(&a.ID, &a.Source, &a.ResourceARN, &a.ResourceName, &a.Rule, &a.Key, &a.Value,
			&a.Reason, &a.Attempt, &at, &a.Outcome, &a.Error); err != nil {
			return nil, err
		}
		a.Time = timeOf(at)
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list tag attempts: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

const violationColumns = `id, source, resource_arn, resource_name, rule, tag_key, tag_value, mode, seen_ns, resolved_ns, resolution`

func scanViolation(s scanner) (*backup.TagViolation, error) {
	v := &backup.TagViolation{}
	var seen, resolved *int64
	if err := s.Scan(&v.ID, &v.Source, &v.ResourceARN, &v.ResourceName, &v.Rule, &v.Key, &v.Value, &v.Mode,
		&seen, &resolved, &v.Resolution); err != nil {
		return nil, err
	}
	v.SeenAt, v.ResolvedAt = timeOf(seen), timeOf(resolved)
	return v, nil
}

// OpenTagViolation records v unless a violation of the same resource, key
// and value is open; it returns the open one and whether it is new. The
// partial unique index makes the check and the insert one step: ON
// CONFLICT DO NOTHING waits for a concurrent insert of the same violation
// and then finds its row.
func (c *Catalog) OpenTagViolation(ctx context.Context, v *backup.TagViolation) (*backup.TagViolation, bool, error) {
	seen, err := requiredNanos(v.SeenAt, "SeenAt")
	if err != nil {
		return nil, false, err
	}
	tag, err := c.pool.Exec(ctx, `INSERT INTO tag_violations
		(source, resource_arn, resource_name, rule, tag_key, tag_value, mode, seen_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (resource_arn, tag_key, tag_value) WHERE resolved_ns IS NULL DO NOTHING`,
		v.Source, v.ResourceARN, v.ResourceName, v.Rule, v.Key, v.Value, v.Mode, seen)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: open tag violation on %s: %w", v.ResourceARN, err)
	}
	row := c.pool.QueryRow(ctx, `SELECT `+violationColumns+` FROM tag_violations
		WHERE resource_arn = $1 AND tag_key = $2 AND tag_value = $3 AND resolved_ns IS NULL`, v.ResourceARN, v.Key, v.Value)
	open, err := scanViolation(row)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: open tag violation on %s: %w", v.ResourceARN, err)
	}
	return open, tag.RowsAffected() == 1, nil
}

// ResolveTagViolation closes the open violation id.
func (c *Catalog) ResolveTagViolation(ctx context.Context, id int64, at time.Time, resolution string) error {
	ns, err := requiredNanos(at, "ResolvedAt")
	if err != nil {
		return err
	}
	tag, err := c.pool.Exec(ctx, `UPDATE tag_violations SET resolved_ns = $1, resolution = $2
		WHERE id = $3 AND resolved_ns IS NULL`, ns, resolution, id)
	if err != nil {
		return fmt.Errorf("postgres: resolve tag violation %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return backup.Errorf(backup.ErrNotFound, "no open tag violation %d", id)
	}
	return nil
}

// ListTagViolations returns violations, newest first.
func (c *Catalog) ListTagViolations(ctx context.Context, f backup.TagViolationFilter) ([]*backup.TagViolation, error) {
	rows, err := c.pool.Query(ctx, `SELECT `+violationColumns+` FROM tag_violations
		WHERE ($1 = '' OR resource_arn = $1) AND (NOT $2 OR resolved_ns IS NULL) ORDER BY id DESC`,
		f.ResourceARN, f.OpenOnly)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tag violations: %w", err)
	}
	out, err := collectRows(rows, scanViolation)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tag violations: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
