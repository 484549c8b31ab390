package postgres

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// SaveCheckpoint implements backup.CheckpointStore: one upsert, so a
// checkpoint replaces the part's previous one atomically, whichever node
// writes it.
func (c *Catalog) SaveCheckpoint(ctx context.Context, cp *backup.Checkpoint) error {
	if cp.JobID == "" {
		return backup.Errorf(backup.ErrMissingParameter, "JobID is required")
	}
	updated, err := requiredNanos(cp.UpdatedAt, "UpdatedAt")
	if err != nil {
		return err
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO job_checkpoints (job_id, part, target, done, state, updated_ns)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (job_id, part) DO UPDATE SET target = excluded.target, done = excluded.done,
			state = excluded.state, updated_ns = excluded.updated_ns`,
		cp.JobID, cp.Part, cp.Target, cp.Done, string(cp.State), updated)
	if err != nil {
		return fmt.Errorf("postgres: save checkpoint of job %s part %d: %w", cp.JobID, cp.Part, err)
	}
	return nil
}

// ListCheckpoints implements backup.CheckpointStore.
func (c *Catalog) ListCheckpoints(ctx context.Context, jobID string) ([]*backup.Checkpoint, error) {
	rows, err := c.pool.Query(ctx, `SELECT job_id, part, target, done, state, updated_ns
		FROM job_checkpoints WHERE job_id = $1 ORDER BY part`, jobID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list checkpoints of job %s: %w", jobID, err)
	}
	out, err := collectRows(rows, func(s scanner) (*backup.Checkpoint, error) {
		var (
			cp      backup.Checkpoint
			state   string
			updated *int64
		)
		if err := s.Scan(&cp.JobID, &cp.Part, &cp.Target, &cp.Done, &state, &updated); err != nil {
			return nil, err
		}
		cp.State, cp.UpdatedAt = []byte(state), timeOf(updated)
		return &cp, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list checkpoints of job %s: %w", jobID, err)
	}
	return out, nil
}

// DeleteCheckpoints implements backup.CheckpointStore.
func (c *Catalog) DeleteCheckpoints(ctx context.Context, jobID string) error {
	if _, err := c.pool.Exec(ctx, `DELETE FROM job_checkpoints WHERE job_id = $1`, jobID); err != nil {
		return fmt.Errorf("postgres: delete checkpoints of job %s: %w", jobID, err)
	}
	return nil
}
