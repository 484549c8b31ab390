package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// How a process stops (docs/operations.md):
//
//   - Shutdown begins the graceful stop: from then on no job starts. The
//     scheduler and the lifecycle worker stop; jobs waiting for a slot, for
//     their resource or for a retry stay CREATED or PENDING in the catalog;
//     StartBackupJob, StartRestoreJob and StartCopyJob answer
//     ErrUnavailable. Reads go on.
//   - Running jobs may finish until Shutdown's context ends (the grace
//     period). Those still running then are stopped, and:
//   - a backup job goes back to PENDING with its partial recovery point
//     removed and a new recovery point ARN; Recover queues it again at the
//     next start if its start window is still open, else it ends EXPIRED,
//     as a job that could not start in its window does;
//   - a copy job goes back to CREATED with its partial copy removed; Recover
//     runs it again;
//   - a restore job ends FAILED, naming the table it created: cairn writes
//     only into a table it created itself in the same run, and after a
//     restart it cannot prove the table of that name is still the one it
//     created. A restore that had not started (PENDING) runs after the
//     restart.
//
// A process killed outright (SIGKILL, a crash) gets Recover's crash
// handling instead: what was running ends FAILED (see Recover).

// errShutdown is the cancel cause of the jobs still running when the grace
// period of Shutdown ends.
var errShutdown = errors.New("cairn server stopped before the job finished")

// errDraining is what acquire returns once Shutdown has begun: the job
// stays queued.
var errDraining = errors.New("cairn server is stopping; the job stays queued for the next start")

// Shutdown stops the service gracefully and returns once no job runs. It
// starts no new job, lets running jobs finish until ctx ends, then stops
// those left and queues them again (see above). It does not close the
// catalog. Calling it again, or Close, after it returned does nothing.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.closed
	s.closed = true
	s.mu.Unlock()
	s.stopDrain()
	s.kick()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	if first {
		if n := len(s.slots); n > 0 {
			msg := "stopping: waiting for running jobs to finish; no new job starts"
			if d, ok := ctx.Deadline(); ok {
				s.log.Info(msg, "jobs", n, "grace", time.Until(d).Round(time.Second))
			} else {
				s.log.Info(msg, "jobs", n)
			}
		}
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	if n := len(s.slots); n > 0 {
		s.log.Warn("stopping the jobs still running; backup and copy jobs run again after the next start", "jobs", n)
	}
	s.cancel(errShutdown)
	<-done
	return nil
}

// Close stops the service without a grace period: Shutdown with a context
// that has ended.
func (s *Service) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.Shutdown(ctx)
}

// accepting refuses a request that would start a job once Shutdown has
// begun.
func (s *Service) accepting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return backup.Errorf(backup.ErrUnavailable,
			"the cairn server is shutting down and starts no new jobs; try again once it has restarted")
	}
	return nil
}

// interrupted reports whether a job that ended with err was stopped by the
// end of Shutdown's grace period.
func (s *Service) interrupted(err error) bool {
	return err != nil && errors.Is(context.Cause(s.ctx), errShutdown)
}

// requeueBackup puts a backup job stopped by Shutdown back in the queue;
// its partial recovery point is already removed. The caller holds aj.mu.
func (s *Service) requeueBackup(aj *activeJob) {
	job := aj.backup
	job.State = backup.JobPending
	job.StatusMessage = fmt.Sprintf("cairn server stopped before the job finished; its partial recovery point was removed. "+
		"The job starts again after the server restarts if its start window is still open (until %s)", job.StartBy.Format(time.RFC3339))
	job.PercentDone, job.BytesTransferred, job.BackupSizeInBytes, job.ItemCount = 0, 0, 0, 0
	job.RecoveryPointARN = backup.RecoveryPointARN(job.Region, job.AccountID, newID())
	job.CompletionDate = time.Time{}
}

// requeueCopy puts a copy job stopped by Shutdown back to CREATED; its
// partial copy is already removed. The caller holds aj.mu.
func (s *Service) requeueCopy(job *backup.CopyJob) {
	job.State = backup.CopyCreated
	job.StatusMessage = "cairn server stopped before the copy finished; its partial copy was removed. The copy starts again after the server restarts"
	job.DestinationRecoveryPointARN = backup.RecoveryPointARN(job.Region, job.AccountID, newID())
	job.CompletionDate = time.Time{}
}

// interruptedRestoreMessage is the StatusMessage of a restore job stopped
// by Shutdown.
func interruptedRestoreMessage(job *backup.RestoreJob, target string) string {
	if job.CreatedResourceARN == "" {
		return fmt.Sprintf("cairn server stopped before the restore finished (its shutdown grace period ended), "+
			"before it wrote any item: start the restore again (if table %s exists, delete it first)", target)
	}
	table := target
	if job.CreatedResourceARN != "" {
		table = job.CreatedResourceARN
	}
	return fmt.Sprintf("cairn server stopped before the restore finished (its shutdown grace period ended); "+
		"table %s may hold part of the items: delete it, then start the restore again", table)
}

// restoreTarget is the table a restore job's metadata names.
func restoreTarget(meta map[string]string) string {
	m, err := backup.ParseDynamoDBRestoreMetadata(meta)
	if err != nil {
		return "(unknown)"
	}
	return m.TargetTableName
}

// relaunchCopy runs again a copy job a previous process left CREATED.
func (s *Service) relaunchCopy(ctx context.Context, j *backup.CopyJob) error {
	fail := func(msg string) error {
		j.State, j.StatusMessage, j.CompletionDate = backup.CopyFailed, msg, s.now()
		s.log.Warn("copy job cannot run again after the restart", "job", j.ID, "reason", msg)
		return s.cfg.Catalog.UpdateCopyJob(ctx, j)
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.SourceRecoveryPointARN))
	if backup.IsNotFound(err) {
		return fail(fmt.Sprintf("source recovery point %s no longer exists", j.SourceRecoveryPointARN))
	} else if err != nil {
		return err
	}
	src, err := s.cfg.Catalog.GetVault(ctx, rp.VaultName)
	if err != nil {
		return err
	}
	dst, err := s.vaultByARN(ctx, j.DestinationBackupVaultARN)
	if backup.IsNotFound(err) || backup.ErrorCode(err) == backup.ErrInvalidParameter {
		return fail(causeMessage(err))
	} else if err != nil {
		return err
	}
	plan := &copyPlan{job: j, src: src, dst: dst, rp: rp}
	s.log.Info("copy job queued again by recovery", "job", j.ID)
	return s.launchCopy(plan)
}

// relaunchRestore runs again a restore job a previous process left
// PENDING: it had not started, so no table was created.
func (s *Service) relaunchRestore(ctx context.Context, j *backup.RestoreJob) error {
	fail := func(msg string) error {
		j.Status, j.StatusMessage, j.CompletionDate = backup.RestoreFailed, msg, s.now()
		s.log.Warn("restore job cannot run again after the restart", "job", j.ID, "reason", msg)
		return s.cfg.Catalog.UpdateRestoreJob(ctx, j)
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN))
	if backup.IsNotFound(err) {
		return fail(fmt.Sprintf("recovery point %s no longer exists", j.RecoveryPointARN))
	} else if err != nil {
		return err
	}
	if rp.Status != backup.RecoveryPointCompleted {
		return fail(fmt.Sprintf("recovery point %s is %s; only a COMPLETED recovery point can be restored", rp.ARN, rp.Status))
	}
	meta, err := backup.ParseDynamoDBRestoreMetadata(j.Metadata)
	if err != nil {
		return fail(causeMessage(err))
	}
	var src *Source
	if meta.TargetSource != "" {
		src, err = s.sourceByName(meta.TargetSource)
	} else {
		src, _, _, err = s.source(rp.ResourceARN)
	}
	if err != nil {
		return fail(causeMessage(err))
	}
	s.log.Info("restore job queued again by recovery", "job", j.ID)
	return s.launchRestore(j, rp, src, meta)
}
