package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// historyKinds are the job tables PruneJobHistory prunes: the table, the
// kind its idempotency tokens are kept under, and its terminal states (the
// states backup.JobState, RestoreJobStatus and CopyJobState call Terminal).
var historyKinds = []struct {
	table, kind, stateColumn, terminal string
}{
	{"backup_jobs", "BackupJob", "state", "'ABORTED', 'COMPLETED', 'FAILED', 'EXPIRED', 'PARTIAL'"},
	{"restore_jobs", "RestoreJob", "status", "'ABORTED', 'COMPLETED', 'FAILED'"},
	{"copy_jobs", "CopyJob", "state", "'COMPLETED', 'FAILED', 'PARTIAL'"},
}

// PruneJobHistory implements backup.JobHistoryStore. Each kind is one
// transaction: the oldest ended jobs (by the creation index, so a pass that
// finds nothing to prune reads only the jobs created before the cutoff that
// are still running) and the tokens they hold go together.
func (c *Catalog) PruneJobHistory(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, backup.Errorf(backup.ErrInvalidParameter, "prune limit must be positive, not %d", limit)
	}
	cutoff, err := requiredNanos(before, "prune cutoff")
	if err != nil {
		return 0, err
	}
	total := 0
	for _, k := range historyKinds {
		n, err := c.pruneKind(ctx, k.table, k.kind, k.stateColumn, k.terminal, cutoff, limit)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune %s: %w", k.table, err)
		}
		total += n
	}
	return total, nil
}

func (c *Catalog) pruneKind(ctx context.Context, table, kind, stateColumn, terminal string, cutoff int64, limit int) (int, error) {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// The ids go into a temporary table so the token and job deletes see
	// the same set.
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS prune_ids (id TEXT PRIMARY KEY) WITHOUT ROWID"); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM temp.prune_ids"); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO temp.prune_ids (id)
		SELECT id FROM `+table+` WHERE creation_ns < ?1 AND completion_ns < ?1
		AND `+stateColumn+` IN (`+terminal+`)
		ORDER BY creation_ns, id LIMIT ?2`, cutoff, limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_tokens WHERE kind = ?
		AND job_id IN (SELECT id FROM temp.prune_ids)`, kind); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM temp.prune_ids)"); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM temp.prune_ids"); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return int(n), nil
}
