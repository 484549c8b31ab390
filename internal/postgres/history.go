package postgres

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
// statement: the oldest ended jobs (by the creation index) and the tokens
// they hold are deleted together, from one snapshot.
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
		tag, err := c.pool.Exec(ctx, `WITH doomed AS (
				SELECT id FROM `+k.table+` WHERE creation_ns < $1 AND completion_ns < $1
				AND `+k.stateColumn+` IN (`+k.terminal+`)
				ORDER BY creation_ns, id LIMIT $2),
			tokens AS (DELETE FROM idempotency_tokens WHERE kind = $3 AND job_id IN (SELECT id FROM doomed))
			DELETE FROM `+k.table+` WHERE id IN (SELECT id FROM doomed)`, cutoff, limit, k.kind)
		if err != nil {
			return total, fmt.Errorf("postgres: prune %s: %w", k.table, err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
