package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// RetryDeletes finishes deletions that could not be done when they were
// asked for: recovery points left DELETING (a DeleteRecoveryPoint, a
// lifecycle expiry or a start-up clean-up whose vault could not be
// reached) and the partial points Recover had to leave. Start runs it every
// Config.LifecycleInterval. A point a restore, copy or cold move is using is
// left for the next pass. It returns the errors of the points it could not
// remove; they stay as they are and are tried again at the next pass.
func (s *Service) RetryDeletes(ctx context.Context) error {
	var errs []error
	p := backup.Page{MaxResults: 100}
	var deleting []*backup.RecoveryPoint
	for {
		pts, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{
			Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointDeleting}, Page: p})
		if err != nil {
			return fmt.Errorf("list recovery points to delete: %w", err)
		}
		deleting = append(deleting, pts...)
		if next == "" {
			break
		}
		p.NextToken = next
	}
	s.mu.Lock()
	leftover := make([]string, 0, len(s.leftover))
	for id := range s.leftover {
		leftover = append(leftover, id)
	}
	s.mu.Unlock()
	for _, id := range leftover {
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
		if backup.IsNotFound(err) || (err == nil && rp.Status != backup.RecoveryPointCreating) {
			s.forgetLeftover(id)
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		deleting = append(deleting, rp)
	}
	for _, rp := range deleting {
		if err := s.retryDelete(ctx, rp); err != nil {
			errs = append(errs, fmt.Errorf("recovery point %s in vault %s: %w", rp.ARN, rp.VaultName, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) retryDelete(ctx context.Context, rp *backup.RecoveryPoint) error {
	done, ok := inUse.change(rp.ID)
	if !ok {
		return nil // in use: next pass
	}
	defer done()
	if err := s.purgePoint(ctx, rp); err != nil {
		return err
	}
	s.forgetLeftover(rp.ID)
	s.log.Info("finished deleting a recovery point that could not be deleted before", "recovery_point", rp.ARN, "vault", rp.VaultName)
	return nil
}

func (s *Service) forgetLeftover(id string) {
	s.mu.Lock()
	delete(s.leftover, id)
	s.mu.Unlock()
}
