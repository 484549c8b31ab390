package postgres

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// activeStates are the non-terminal states of each job kind, the
// complements of their Terminal methods, as in internal/sqlite.
var activeStates = []struct {
	kind  backup.JobKind
	query string
}{
	{backup.JobKindBackup, `SELECT state, COUNT(*) FROM backup_jobs
		WHERE state IN ('CREATED', 'PENDING', 'RUNNING', 'ABORTING') GROUP BY state ORDER BY state COLLATE "C"`},
	{backup.JobKindRestore, `SELECT status, COUNT(*) FROM restore_jobs
		WHERE status IN ('PENDING', 'RUNNING') GROUP BY status ORDER BY status COLLATE "C"`},
	{backup.JobKindCopy, `SELECT state, COUNT(*) FROM copy_jobs
		WHERE state IN ('CREATED', 'RUNNING') GROUP BY state ORDER BY state COLLATE "C"`},
}

// CountActiveJobs implements backup.MetricsStore: each kind's state index
// over its active states, so the job history does not count.
func (c *Catalog) CountActiveJobs(ctx context.Context) ([]backup.ActiveJobCount, error) {
	var out []backup.ActiveJobCount
	for _, q := range activeStates {
		rows, err := c.pool.Query(ctx, q.query)
		if err != nil {
			return nil, fmt.Errorf("postgres: count active %s jobs: %w", q.kind, err)
		}
		for rows.Next() {
			n := backup.ActiveJobCount{Kind: q.kind}
			if err := rows.Scan(&n.State, &n.Count); err != nil {
				rows.Close()
				return nil, fmt.Errorf("postgres: count active %s jobs: %w", q.kind, err)
			}
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgres: count active %s jobs: %w", q.kind, err)
		}
	}
	return out, nil
}

// LastBackups implements backup.MetricsStore: a loose index scan of
// backup_jobs_last_completed (a recursive query that seeks from one
// resource to the next), then the first entry of each resource, so each
// resource costs two seeks however many jobs it has.
func (c *Catalog) LastBackups(ctx context.Context) ([]backup.LastBackup, error) {
	rows, err := c.pool.Query(ctx, `
		WITH RECURSIVE r(arn) AS (
			SELECT (SELECT min(resource_arn) FROM backup_jobs WHERE state = 'COMPLETED')
			UNION ALL
			SELECT (SELECT min(resource_arn) FROM backup_jobs
				WHERE state = 'COMPLETED' AND resource_arn > r.arn)
			FROM r WHERE r.arn IS NOT NULL
		)
		SELECT r.arn, j.resource_type, j.completion_ns
		FROM r CROSS JOIN LATERAL (
			SELECT resource_type, completion_ns FROM backup_jobs
			WHERE state = 'COMPLETED' AND resource_arn = r.arn
			ORDER BY completion_ns DESC NULLS LAST LIMIT 1) j
		WHERE r.arn IS NOT NULL
		ORDER BY r.arn`)
	if err != nil {
		return nil, fmt.Errorf("postgres: last backups: %w", err)
	}
	defer rows.Close()
	var out []backup.LastBackup
	for rows.Next() {
		var (
			b  backup.LastBackup
			ns *int64
		)
		if err := rows.Scan(&b.ResourceARN, &b.ResourceType, &ns); err != nil {
			return nil, fmt.Errorf("postgres: last backups: %w", err)
		}
		b.Completed = timeOf(ns)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: last backups: %w", err)
	}
	return out, nil
}

// PointUsage implements backup.MetricsStore from recovery_points_usage
// (an index-only scan where the visibility map allows). SUM of bigint is
// numeric in PostgreSQL, so it is cast back.
func (c *Catalog) PointUsage(ctx context.Context) ([]backup.PointUsage, error) {
	rows, err := c.pool.Query(ctx, `SELECT vault_name, storage_class, status, COUNT(*), COALESCE(SUM(backup_size_bytes), 0)::bigint
		FROM recovery_points
		GROUP BY storage_class, vault_name, status
		ORDER BY vault_name, storage_class COLLATE "C", status COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: recovery point usage: %w", err)
	}
	defer rows.Close()
	var out []backup.PointUsage
	for rows.Next() {
		var u backup.PointUsage
		if err := rows.Scan(&u.VaultName, &u.StorageClass, &u.Status, &u.Points, &u.Bytes); err != nil {
			return nil, fmt.Errorf("postgres: recovery point usage: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: recovery point usage: %w", err)
	}
	return out, nil
}
