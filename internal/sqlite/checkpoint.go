package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// SaveCheckpoint implements backup.CheckpointStore: one upsert, so a
// checkpoint replaces the part's previous one in one commit.
func (c *Catalog) SaveCheckpoint(ctx context.Context, cp *backup.Checkpoint) error {
	if cp.JobID == "" {
		return backup.Errorf(backup.ErrMissingParameter, "JobID is required")
	}
	updated, err := requiredNanos(cp.UpdatedAt, "UpdatedAt")
	if err != nil {
		return err
	}
	_, err = c.write.ExecContext(ctx, `INSERT INTO job_checkpoints (job_id, part, target, done, state, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (job_id, part) DO UPDATE SET target = excluded.target, done = excluded.done,
			state = excluded.state, updated_ns = excluded.updated_ns`,
		cp.JobID, cp.Part, cp.Target, cp.Done, string(cp.State), updated)
	if err != nil {
		return fmt.Errorf("sqlite: save checkpoint of job %s part %d: %w", cp.JobID, cp.Part, err)
	}
	return nil
}

// ListCheckpoints implements backup.CheckpointStore.
func (c *Catalog) ListCheckpoints(ctx context.Context, jobID string) ([]*backup.Checkpoint, error) {
	rows, err := c.read.QueryContext(ctx, `SELECT job_id, part, target, done, state, updated_ns
		FROM job_checkpoints WHERE job_id = ? ORDER BY part`, jobID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list checkpoints of job %s: %w", jobID, err)
	}
	defer rows.Close()
	var out []*backup.Checkpoint
	for rows.Next() {
		var (
			cp      backup.Checkpoint
			state   string
			updated sql.NullInt64
		)
		if err := rows.Scan(&cp.JobID, &cp.Part, &cp.Target, &cp.Done, &state, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: list checkpoints of job %s: %w", jobID, err)
		}
		cp.State, cp.UpdatedAt = []byte(state), timeOf(updated)
		out = append(out, &cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list checkpoints of job %s: %w", jobID, err)
	}
	return out, nil
}

// DeleteCheckpoints implements backup.CheckpointStore.
func (c *Catalog) DeleteCheckpoints(ctx context.Context, jobID string) error {
	if _, err := c.write.ExecContext(ctx, `DELETE FROM job_checkpoints WHERE job_id = ?`, jobID); err != nil {
		return fmt.Errorf("sqlite: delete checkpoints of job %s: %w", jobID, err)
	}
	return nil
}
