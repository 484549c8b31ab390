package runner

import (
	"context"
	"fmt"
)

// pruneBatch is how many jobs of each kind one catalog transaction of
// PruneHistory deletes, so that pruning a long history never holds the
// catalog's one writer for long.
const pruneBatch = 500

// PruneHistory deletes the backup, restore and copy jobs that ended more
// than Config.JobHistory ago (with the idempotency tokens they held), in
// batches, until none is left; with no JobHistory it does nothing. Jobs
// that have not ended are kept whatever their age, and recovery points are
// not touched: their lifecycle decides when they go.
func (s *Service) PruneHistory(ctx context.Context) error {
	if s.cfg.JobHistory <= 0 {
		return nil
	}
	before := s.now().Add(-s.cfg.JobHistory)
	total := 0
	for {
		n, err := s.cfg.Catalog.PruneJobHistory(ctx, before, pruneBatch)
		total += n
		if err != nil {
			return fmt.Errorf("prune job history: %w", err)
		}
		if n == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if total > 0 {
		s.log.Info("pruned job history", "jobs", total, "ended_before", before)
	}
	return nil
}
