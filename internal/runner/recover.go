package runner

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Recover repairs what a previous process left behind when it was killed:
// every backup job still CREATED, RUNNING or ABORTING ends FAILED (or
// ABORTED if it was being stopped) with a reason, and its partial recovery
// point is removed from vault and catalog; every restore job still PENDING or
// RUNNING ends FAILED; recovery points left DELETING are deleted. Call it
// once at start, before serving requests.
func (s *Service) Recover(ctx context.Context) error {
	active := []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}
	for {
		jobs, _, err := s.cfg.Catalog.ListBackupJobs(ctx, backup.BackupJobFilter{States: active, Page: backup.Page{MaxResults: 100}})
		if err != nil {
			return fmt.Errorf("recover: list backup jobs: %w", err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN)); err == nil && rp.Status != backup.RecoveryPointCompleted {
				if err := s.purgePoint(ctx, rp); err != nil {
					return fmt.Errorf("recover: remove partial recovery point of job %s: %w", j.ID, err)
				}
			} else if err != nil && !backup.IsNotFound(err) {
				return err
			}
			prev := j.State
			if prev == backup.JobAborting {
				j.State, j.StatusMessage = backup.JobAborted, "stopped by StopBackupJob; the partial recovery point was removed"
			} else {
				j.State = backup.JobFailed
				j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s; its partial recovery point was removed. Start a new backup", prev)
			}
			j.CompletionDate = s.now()
			if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
				return err
			}
			s.log.Warn("backup job ended by recovery", "job", j.ID, "was", prev, "now", j.State)
		}
	}
	for {
		jobs, _, err := s.cfg.Catalog.ListRestoreJobs(ctx, backup.RestoreJobFilter{Statuses: []backup.RestoreJobStatus{backup.RestorePending, backup.RestoreRunning}, Page: backup.Page{MaxResults: 100}})
		if err != nil {
			return fmt.Errorf("recover: list restore jobs: %w", err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			prev := j.Status
			j.Status, j.CompletionDate = backup.RestoreFailed, s.now()
			j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s", prev)
			if j.CreatedResourceARN != "" {
				j.StatusMessage += fmt.Sprintf("; table %s holds part of the items: delete it before restoring again", j.CreatedResourceARN)
			}
			if err := s.cfg.Catalog.UpdateRestoreJob(ctx, j); err != nil {
				return err
			}
			s.log.Warn("restore job ended by recovery", "job", j.ID, "was", prev)
		}
	}
	for _, st := range []backup.RecoveryPointStatus{backup.RecoveryPointDeleting, backup.RecoveryPointCreating} {
		for {
			pts, _, err := s.cfg.Catalog.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{Statuses: []backup.RecoveryPointStatus{st}, Page: backup.Page{MaxResults: 100}})
			if err != nil {
				return err
			}
			if len(pts) == 0 {
				break
			}
			for _, rp := range pts {
				if err := s.purgePoint(ctx, rp); err != nil {
					return fmt.Errorf("recover: delete recovery point %s: %w", rp.ARN, err)
				}
			}
		}
	}
	return s.sweepVaults(ctx)
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
	var vaults []*backup.Vault
	p := backup.Page{MaxResults: 1000}
	for {
		page, next, err := s.cfg.Catalog.ListVaults(ctx, p)
		if err != nil {
			return err
		}
		vaults = append(vaults, page...)
		if next == "" {
			break
		}
		p.NextToken = next
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
