package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// activeStates are the non-terminal states of each job kind, the
// complements of their Terminal methods.
var activeStates = []struct {
	kind  backup.JobKind
	query string
}{
	{backup.JobKindBackup, `SELECT state, COUNT(*) FROM backup_jobs INDEXED BY backup_jobs_by_state
		WHERE state IN ('CREATED', 'PENDING', 'RUNNING', 'ABORTING') GROUP BY state ORDER BY state`},
	{backup.JobKindRestore, `SELECT status, COUNT(*) FROM restore_jobs INDEXED BY restore_jobs_by_status
		WHERE status IN ('PENDING', 'RUNNING') GROUP BY status ORDER BY status`},
	{backup.JobKindCopy, `SELECT state, COUNT(*) FROM copy_jobs INDEXED BY copy_jobs_by_state
		WHERE state IN ('CREATED', 'RUNNING') GROUP BY state ORDER BY state`},
}

// CountActiveJobs counts the jobs of each kind in each non-terminal state:
// a range scan of each kind's state index over its active states, so the
// job history does not count.
func (c *Catalog) CountActiveJobs(ctx context.Context) ([]backup.ActiveJobCount, error) {
	var out []backup.ActiveJobCount
	for _, q := range activeStates {
		rows, err := c.read.QueryContext(ctx, q.query)
		if err != nil {
			return nil, fmt.Errorf("sqlite: count active %s jobs: %w", q.kind, err)
		}
		for rows.Next() {
			n := backup.ActiveJobCount{Kind: q.kind}
			if err := rows.Scan(&n.State, &n.Count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: count active %s jobs: %w", q.kind, err)
			}
			out = append(out, n)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlite: count active %s jobs: %w", q.kind, err)
		}
	}
	return out, nil
}

// LastBackups returns each resource's latest completion of a COMPLETED
// backup job. A loose index scan of backup_jobs_last_completed: one seek
// per resource, however many jobs each has.
func (c *Catalog) LastBackups(ctx context.Context) ([]backup.LastBackup, error) {
	rows, err := c.read.QueryContext(ctx, `
		WITH RECURSIVE r(arn) AS (
			SELECT (SELECT min(resource_arn) FROM backup_jobs INDEXED BY backup_jobs_last_completed
				WHERE state = 'COMPLETED')
			UNION ALL
			SELECT (SELECT min(resource_arn) FROM backup_jobs INDEXED BY backup_jobs_last_completed
				WHERE state = 'COMPLETED' AND resource_arn > r.arn)
			FROM r WHERE r.arn IS NOT NULL
		)
		SELECT r.arn, j.resource_type, j.completion_ns
		FROM r JOIN backup_jobs j ON j.rowid = (
			SELECT rowid FROM backup_jobs INDEXED BY backup_jobs_last_completed
			WHERE state = 'COMPLETED' AND resource_arn = r.arn
			ORDER BY completion_ns DESC LIMIT 1)
		WHERE r.arn IS NOT NULL
		ORDER BY r.arn`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: last backups: %w", err)
	}
	defer rows.Close()
	var out []backup.LastBackup
	for rows.Next() {
		var (
			b  backup.LastBackup
			ns *int64
		)
		if err := rows.Scan(&b.ResourceARN, &b.ResourceType, &ns); err != nil {
			return nil, fmt.Errorf("sqlite: last backups: %w", err)
		}
		if ns != nil {
			b.Completed = time.Unix(0, *ns).UTC()
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: last backups: %w", err)
	}
	return out, nil
}

// PointUsage counts the recovery points and sums their sizes by vault,
// storage class and status, from recovery_points_usage alone (the table's
// rows are not read).
func (c *Catalog) PointUsage(ctx context.Context) ([]backup.PointUsage, error) {
	rows, err := c.read.QueryContext(ctx, `SELECT vault_name, storage_class, status, COUNT(*), COALESCE(SUM(backup_size_bytes), 0)
		FROM recovery_points INDEXED BY recovery_points_usage
		GROUP BY storage_class, vault_name, status ORDER BY vault_name, storage_class, status`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recovery point usage: %w", err)
	}
	defer rows.Close()
	var out []backup.PointUsage
	for rows.Next() {
		var u backup.PointUsage
		if err := rows.Scan(&u.VaultName, &u.StorageClass, &u.Status, &u.Points, &u.Bytes); err != nil {
			return nil, fmt.Errorf("sqlite: recovery point usage: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: recovery point usage: %w", err)
	}
	return out, nil
}
