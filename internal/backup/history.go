package backup

import (
	"context"
	"time"
)

// JobHistoryStore prunes the history of backup, restore and copy jobs.
// cairn keeps every job until the operator sets a retention (the server's
// job_history_days; AWS Backup keeps 30 days and offers no choice), so a
// year of history stays a query.
type JobHistoryStore interface {
	// PruneJobHistory deletes at most limit jobs of each kind (backup,
	// restore, copy) that are in a terminal state and were both created and
	// completed before `before`, oldest first, together with the
	// idempotency tokens they hold (a pruned job's token may be used
	// again). Jobs that have not ended are never deleted, however old. It
	// returns how many jobs it deleted in all; a caller prunes everything
	// due by calling again until it returns 0.
	PruneJobHistory(ctx context.Context, before time.Time, limit int) (int, error)
}
