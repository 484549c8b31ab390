package runner

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Recover repairs what a previous process left behind when it was stopped
// or killed: a backup job still CREATED or PENDING is queued again while its
// start window is open (it had not started) and ends EXPIRED once it has
// closed; every backup job still RUNNING or ABORTING ends FAILED (or ABORTED
// if it was being stopped) with a reason, and its partial recovery point is
// removed from vault and catalog; every restore job still PENDING or
// RUNNING ends FAILED; recovery points left DELETING are deleted; lifecycle
// transitions cut short are finished (or logged, for the lifecycle worker
// to retry). Call it once at start, before
// serving requests and before Start. Jobs this process runs are left alone.
func (s *Service) Recover(ctx context.Context) error {
	f := backup.BackupJobFilter{States: activeJobStates, Page: backup.Page{MaxResults: 100}}
	for {
		jobs, next, err := s.cfg.Catalog.ListBackupJobs(ctx, f)
		if err != nil {
			return fmt.Errorf("recover: list backup jobs: %w", err)
		}
		for _, j := range jobs {
			if s.active(j.ID) != nil {
				continue
			}
			if err := s.recoverBackupJob(ctx, j); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		f.NextToken = next
	}
	rf := backup.RestoreJobFilter{Statuses: []backup.RestoreJobStatus{backup.RestorePending, backup.RestoreRunning}, Page: backup.Page{MaxResults: 100}}
	for {
		jobs, next, err := s.cfg.Catalog.ListRestoreJobs(ctx, rf)
		if err != nil {
			return fmt.Errorf("recover: list restore jobs: %w", err)
		}
		for _, j := range jobs {
			if s.active(j.ID) != nil {
				continue
			}
			prev := j.Status
			j.Status, j.CompletionDate = backup.RestoreFailed, s.now()
			if j.ValidationStatus == backup.ValidationValidating {
				j.ValidationStatus = ""
			}
			j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s", prev)
			if j.CreatedResourceARN != "" {
				j.StatusMessage += fmt.Sprintf("; table %s holds part of the items: delete it before restoring again", j.CreatedResourceARN)
			}
			if err := s.cfg.Catalog.UpdateRestoreJob(ctx, j); err != nil {
				return err
			}
			s.log.Warn("restore job ended by recovery", "job", j.ID, "was", prev)
		}
		if next == "" {
			break
		}
		rf.NextToken = next
	}
	for _, st := range []backup.RecoveryPointStatus{backup.RecoveryPointDeleting, backup.RecoveryPointCreating} {
		p := backup.Page{MaxResults: 100}
		for {
			pts, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{Statuses: []backup.RecoveryPointStatus{st}, Page: p})
			if err != nil {
				return err
			}
			for _, rp := range pts {
				if st == backup.RecoveryPointCreating && s.active(rp.BackupJobID) != nil {
					continue // being written by a job of this process
				}
				if err := s.purgePoint(ctx, rp); err != nil {
					return fmt.Errorf("recover: delete recovery point %s: %w", rp.ARN, err)
				}
			}
			if next == "" {
				break
			}
			p.NextToken = next
		}
	}
	if err := s.sweepVaults(ctx); err != nil {
		return err
	}
	// Like an unreachable vault in the sweep, lifecycle work that cannot be
	// finished now does not keep the server from starting: the lifecycle
	// worker takes it up again.
	if err := s.recoverLifecycle(ctx); err != nil {
		s.log.Error("recover: cannot finish lifecycle transitions a previous process left; the lifecycle worker will retry", "err", err)
	}
	return nil
}

// recoverBackupJob queues again or ends one job a previous process left
// active.
func (s *Service) recoverBackupJob(ctx context.Context, j *backup.BackupJob) error {
	if rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN)); err == nil && rp.Status != backup.RecoveryPointCompleted {
		if err := s.purgePoint(ctx, rp); err != nil {
			return fmt.Errorf("recover: remove partial recovery point of job %s: %w", j.ID, err)
		}
		// A job queued again writes a new point.
		j.RecoveryPointARN = backup.RecoveryPointARN(j.Region, j.AccountID, newID())
	} else if err != nil && !backup.IsNotFound(err) {
		return err
	}
	prev, now := j.State, s.now()
	switch {
	case prev == backup.JobCreated || prev == backup.JobPending:
		if startWindowClosed(j, now) {
			expireUnstarted(j, now)
			break
		}
		if err := s.enqueue(ctx, j); err != nil {
			return fmt.Errorf("recover: queue backup job %s again: %w", j.ID, err)
		}
		s.log.Info("backup job queued again by recovery", "job", j.ID, "state", prev, "start_by", j.StartBy)
		return nil
	case prev == backup.JobAborting:
		j.State, j.StatusMessage = backup.JobAborted, "stopped by StopBackupJob; the partial recovery point was removed"
	default:
		j.State = backup.JobFailed
		j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s; its partial recovery point was removed. Start a new backup", prev)
	}
	j.CompletionDate = now
	if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
		return err
	}
	s.log.Warn("backup job ended by recovery", "job", j.ID, "was", prev, "now", j.State)
	return nil
}

// sweepVaults cleans what cut-short writes left in the vaults. Temporary
// files in local vaults are removed now, before any new write can start
// one. Incomplete recovery points the catalog does not know (an upload an
// object store finished after its backup was aborted) are removed in the
// background: finding them lists every object of a vault, which must not
// delay start-up, and it is safe beside new jobs because a point's catalog
// entry is always written before its data. A vault that cannot be reached
// is logged and skipped.
func (s *Service) sweepVaults(ctx context.Context) error {
	vaults, err := s.allVaults(ctx)
	if err != nil {
		return err
	}
	for _, v := range vaults {
		if v.Storage.Kind != backup.StorageFile {
			continue
		}
		if err := s.removeTemp(ctx, v); err != nil {
			s.log.Warn("cannot clean temporary files of vault", "vault", v.Name, "err", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, v := range vaults {
			if err := s.sweepOrphans(s.ctx, v); err != nil && s.ctx.Err() == nil {
				s.log.Warn("cannot sweep incomplete recovery points of vault", "vault", v.Name, "err", err)
			}
			if err := s.backfillRecords(s.ctx, v); err != nil && s.ctx.Err() == nil {
				s.log.Warn("cannot write the records a catalog rebuild needs into vault", "vault", v.Name, "err", err)
			}
		}
	}()
	return nil
}

func (s *Service) removeTemp(ctx context.Context, v *backup.Vault) error {
	store, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	if rt, ok := store.(interface{ RemoveTemp(context.Context) error }); ok {
		return rt.RemoveTemp(ctx)
	}
	return nil
}

func (s *Service) sweepOrphans(ctx context.Context, v *backup.Vault) error {
	store, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	vt := vault.New(store)
	_, incomplete, err := vt.ListPoints(ctx)
	if err != nil {
		return err
	}
	for _, id := range incomplete {
		if _, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id); !backup.IsNotFound(err) {
			continue // known to the catalog (or the catalog failed): leave it
		}
		if err := vt.Delete(ctx, id); err != nil {
			return err
		}
		s.log.Warn("removed an incomplete recovery point the catalog does not know", "vault", v.Name, "recovery_point", id)
	}
	return nil
}

func recoveryPointID(arn string) string {
	id, err := backup.ParseRecoveryPointARN(arn)
	if err != nil {
		return ""
	}
	return id
}

// allVaults returns every vault of the catalog.
func (s *Service) allVaults(ctx context.Context) ([]*backup.Vault, error) {
	var vaults []*backup.Vault
	p := backup.Page{MaxResults: 1000}
	for {
		page, next, err := s.cfg.Catalog.ListVaults(ctx, p)
		if err != nil {
			return nil, err
		}
		vaults = append(vaults, page...)
		if next == "" {
			return vaults, nil
		}
		p.NextToken = next
	}
}
