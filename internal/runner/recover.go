package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Recover repairs what a previous process left behind when it was stopped
// or killed, then queues again the work that may go on:
//
//   - a backup job still CREATED or PENDING (it had not started, or a
//     graceful stop put it back) is queued again while its start window is
//     open and ends EXPIRED once it has closed; a backup job still RUNNING
//     that has checkpoints (checkpoints.go) is queued again, its partial
//     point kept, and resumes from them while its completion window is
//     open; any other backup job still RUNNING or ABORTING (the process was
//     killed) ends FAILED (or ABORTED if it was being stopped) with a
//     reason;
//   - a restore job still PENDING runs again; one still RUNNING with
//     checkpoints runs again and skips the data files they record; any
//     other still RUNNING ends FAILED naming the table it may have written
//     to;
//   - a copy job still CREATED runs again; one still RUNNING ends FAILED, or
//     COMPLETED if its copy was recorded complete;
//   - partial recovery points (CREATING) of jobs that are not running are
//     removed from vault and catalog, recovery points left DELETING are
//     deleted, and lifecycle transitions cut short are finished (or logged,
//     for the lifecycle worker to retry).
//
// One unreachable vault does not keep the server from starting: Recover
// spends at most Config.StartupVaultTimeout on each vault, skips what it
// cannot do there in time (the vault's partial points stay CREATING and its
// DELETING points stay DELETING), logs it, and the background retry that
// Start runs finishes it once the vault can be reached. Recover returns an
// error only when the catalog fails.
//
// Call it once at start, before serving requests and before Start. Jobs
// this process runs are left alone.
//
// On a catalog shared by several nodes (Config.Cluster), only a node that
// leads and sees no other live node recovers: what the catalog lists as
// active may be a live node's (its running jobs, its partial points, its
// temporary files in a shared vault); the jobs of dead nodes are taken
// over by the leader, not failed at a start.
func (s *Service) Recover(ctx context.Context) error {
	if alone, others, err := s.alone(ctx); err != nil {
		return fmt.Errorf("recover: %w", err)
	} else if !alone {
		s.log.Info("recovery at start skipped: other nodes are alive on the catalog, or another leads; what they run is theirs",
			"node", s.cfg.Cluster.NodeID(), "live_nodes", others)
		return nil
	}
	rec := &recovery{timeout: s.cfg.StartupVaultTimeout, deadlines: map[string]time.Time{}, skip: map[string]error{},
		resumed: map[string]bool{}}
	setRecovering := func(r *recovery) {
		s.mu.Lock()
		s.recovering = r
		s.mu.Unlock()
	}
	setRecovering(rec)
	defer setRecovering(nil)
	// Jobs that may run again are launched at the end, once every partial
	// point is gone, so that no new write runs beside the clean-up.
	var relaunch []func() error
	f := backup.BackupJobFilter{States: activeJobStates, Page: backup.Page{MaxResults: 100}}
	for {
		jobs, next, err := s.cfg.Catalog.ListBackupJobs(ctx, f)
		if err != nil {
			return fmt.Errorf("recover: list backup jobs: %w", err)
		}
		for _, j := range jobs {
			if s.active(j.ID) != nil || s.leaveToQueue(ctx, backup.JobKindBackup, j.ID, j.Owner, j.Attempt,
				j.State == backup.JobCreated || j.State == backup.JobPending) {
				continue
			}
			again, err := s.recoverBackupJob(ctx, rec, j)
			if err != nil {
				return err
			}
			if again {
				relaunch = append(relaunch, func() error {
					if err := s.enqueue(ctx, j); err != nil {
						return fmt.Errorf("recover: queue backup job %s again: %w", j.ID, err)
					}
					return nil
				})
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
			if s.active(j.ID) != nil || s.leaveToQueue(ctx, backup.JobKindRestore, j.ID, j.Owner, j.Attempt, j.Status == backup.RestorePending) {
				continue
			}
			if j.Status == backup.RestorePending {
				relaunch = append(relaunch, func() error { return s.relaunchRestore(ctx, j) })
				continue
			}
			if again, err := s.resumeRestoreAfterCrash(ctx, j); err != nil {
				return err
			} else if again {
				relaunch = append(relaunch, func() error { return s.relaunchRestore(ctx, j) })
				continue
			}
			j.Status, j.CompletionDate = backup.RestoreFailed, s.now()
			if j.ValidationStatus == backup.ValidationValidating {
				j.ValidationStatus = ""
			}
			j.StatusMessage = "cairn server stopped while the job was RUNNING"
			if j.CreatedResourceARN != "" {
				j.StatusMessage += fmt.Sprintf("; table %s holds part of the items: delete it before restoring again", j.CreatedResourceARN)
			}
			if err := s.cfg.Catalog.UpdateRestoreJob(ctx, j); err != nil {
				return err
			}
			if err := s.dropCheckpoints(ctx, j.ID); err != nil {
				return err
			}
			s.log.Warn("restore job ended by recovery", "job", j.ID, "was", backup.RestoreRunning)
		}
		if next == "" {
			break
		}
		rf.NextToken = next
	}
	copies, err := s.recoverCopyJobs(ctx, rec)
	if err != nil {
		return err
	}
	for _, j := range copies {
		relaunch = append(relaunch, func() error { return s.relaunchCopy(ctx, j) })
	}
	for _, st := range []backup.RecoveryPointStatus{backup.RecoveryPointDeleting, backup.RecoveryPointCreating} {
		p := backup.Page{MaxResults: 100}
		for {
			pts, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{Statuses: []backup.RecoveryPointStatus{st}, Page: p})
			if err != nil {
				return fmt.Errorf("recover: list recovery points: %w", err)
			}
			for _, rp := range pts {
				if st == backup.RecoveryPointCreating && (s.active(rp.BackupJobID) != nil || rec.resumed[rp.ID] || s.cfg.Queue != nil) {
					// Being written by a job of this process, or to be
					// resumed; with a queue, maybe by another node (the
					// leader's takeover hands those of dead nodes back).
					continue
				}
				s.recoverPurge(ctx, rec, rp)
			}
			if next == "" {
				break
			}
			p.NextToken = next
		}
	}
	if err := s.sweepVaults(ctx, rec); err != nil {
		return err
	}
	// Like an unreachable vault in the sweep, lifecycle work that cannot be
	// finished now does not keep the server from starting: the lifecycle
	// worker takes it up again.
	if err := s.recoverLifecycle(ctx); err != nil {
		s.log.Error("recover: cannot finish lifecycle transitions a previous process left; the lifecycle worker will retry", "err", err)
	}
	for _, v := range rec.skippedVaults() {
		s.log.Warn("recover: a vault could not be reached at start; its clean-up is retried in the background",
			"vault", v.name, "err", v.err, "retry_every", s.cfg.LifecycleInterval)
	}
	// The jobs run without start-up's bounds: a vault skipped now may be
	// reachable by the time they need it.
	setRecovering(nil)
	for _, run := range relaunch {
		if err := run(); err != nil {
			return err
		}
	}
	return nil
}

// recovery bounds the work Recover does on each vault.
type recovery struct {
	timeout   time.Duration
	mu        sync.Mutex
	deadlines map[string]time.Time // by vault, from the first work on it
	skip      map[string]error     // vaults given up on, with why
	order     []string
	// resumed holds the partial points of the backup jobs queued again to
	// resume from their checkpoints: they are kept.
	resumed map[string]bool
}

// bound returns ctx limited to what is left of vault's time budget.
func (r *recovery) bound(ctx context.Context, vault string) (context.Context, context.CancelFunc) {
	r.mu.Lock()
	d, ok := r.deadlines[vault]
	if !ok {
		d = time.Now().Add(r.timeout)
		r.deadlines[vault] = d
	}
	r.mu.Unlock()
	return context.WithDeadline(ctx, d)
}

// skipped returns why vault is skipped, or nil.
func (r *recovery) skipped(vault string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err, ok := r.skip[vault]; ok {
		return fmt.Errorf("vault %s could not be reached at start: %w", vault, err)
	}
	return nil
}

// giveUp marks vault as skipped for the rest of Recover.
func (r *recovery) giveUp(vault string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.skip[vault]; !ok {
		r.skip[vault] = err
		r.order = append(r.order, vault)
	}
}

type skippedVault struct {
	name string
	err  error
}

func (r *recovery) skippedVaults() []skippedVault {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]skippedVault, 0, len(r.order))
	for _, v := range r.order {
		out = append(out, skippedVault{v, r.skip[v]})
	}
	return out
}

// onVault runs fn, bounded by vault's time budget, unless the vault was
// given up on; an error gives the vault up.
func (r *recovery) onVault(ctx context.Context, vault string, fn func(context.Context) error) error {
	if err := r.skipped(vault); err != nil {
		return err
	}
	bctx, cancel := r.bound(ctx, vault)
	defer cancel()
	err := fn(bctx)
	if err != nil {
		if bctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w (start-up work on a vault is bounded by startup_vault_timeout, %v)", err, r.timeout)
		}
		r.giveUp(vault, err)
	}
	return err
}

// recoverPurge removes a partial or deleting point at start. If its vault
// cannot be reached the point is left for the background retry.
func (s *Service) recoverPurge(ctx context.Context, rec *recovery, rp *backup.RecoveryPoint) bool {
	err := rec.onVault(ctx, rp.VaultName, func(ctx context.Context) error { return s.purgePoint(ctx, rp) })
	if err == nil {
		return true
	}
	if rp.Status == backup.RecoveryPointCreating {
		s.mu.Lock()
		s.leftover[rp.ID] = true
		s.mu.Unlock()
	}
	s.log.Warn("recover: recovery point left for the background retry", "recovery_point", rp.ARN,
		"vault", rp.VaultName, "status", rp.Status, "err", err)
	return false
}

// recoverBackupJob ends, or readies to queue again, one job a previous
// process left active; again reports whether to queue it. Its partial
// recovery point is removed, or left for the background retry if its vault
// cannot be reached.
func (s *Service) recoverBackupJob(ctx context.Context, rec *recovery, j *backup.BackupJob) (again bool, err error) {
	if j.State != backup.JobAborting { // RUNNING, or queued again to resume and killed before it ran
		if again, err := s.resumeBackupAfterCrash(ctx, rec, j); err != nil || again {
			return again, err
		}
	}
	partialLeft := false
	if rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN)); err == nil && rp.Status != backup.RecoveryPointCompleted {
		partialLeft = !s.recoverPurge(ctx, rec, rp)
		// A job queued again writes a new point.
		j.RecoveryPointARN = backup.RecoveryPointARN(j.Region, j.AccountID, newID())
	} else if err != nil && !backup.IsNotFound(err) {
		return false, err
	}
	removed := "its partial recovery point was removed"
	if partialLeft {
		removed = "its partial recovery point is removed once its vault can be reached"
	}
	prev, now := j.State, s.now()
	switch {
	case prev == backup.JobCreated || prev == backup.JobPending:
		if startWindowClosed(j, now) {
			expireUnstarted(j, now)
			break
		}
		s.log.Info("backup job queued again by recovery", "job", j.ID, "state", prev, "start_by", j.StartBy)
		return true, nil
	case prev == backup.JobAborting:
		j.State, j.StatusMessage = backup.JobAborted, "stopped by StopBackupJob; "+removed
	default:
		j.State = backup.JobFailed
		j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s; %s. Start a new backup", prev, removed)
	}
	j.CompletionDate = now
	if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
		return false, err
	}
	if err := s.dropCheckpoints(ctx, j.ID); err != nil {
		return false, err
	}
	s.log.Warn("backup job ended by recovery", "job", j.ID, "was", prev, "now", j.State)
	return false, nil
}

// resumeBackupAfterCrash readies to queue again a backup job whose process
// died (Recover, or a takeover from a dead node) if it has checkpoints of
// its partial point and its completion window is open: the job goes back
// to PENDING, keeps its point, and resumes from the checkpoints when it
// runs (enqueue). It reports whether it did; if not, the caller ends or
// restarts the job as before. rec, if not nil, keeps the point from
// Recover's removal of partial points.
func (s *Service) resumeBackupAfterCrash(ctx context.Context, rec *recovery, j *backup.BackupJob) (bool, error) {
	rpID := recoveryPointID(j.RecoveryPointARN)
	cps, err := s.cfg.Catalog.ListCheckpoints(ctx, j.ID)
	if err != nil {
		return false, fmt.Errorf("recover: checkpoints of backup job %s: %w", j.ID, err)
	}
	if len(cps) == 0 || cps[0].Target != rpID || (!j.CompleteBy.IsZero() && !s.now().Before(j.CompleteBy)) {
		return false, nil
	}
	if rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, rpID); err != nil || rp.Status != backup.RecoveryPointCreating {
		return false, nil
	}
	r, err := parseBackupCheckpoints(cps)
	if err != nil {
		s.log.Warn("recover: the backup job's checkpoints are unreadable; it is not resumed", "job", j.ID, "err", err)
		return false, nil
	}
	j.State = backup.JobPending
	j.StatusMessage = "cairn server stopped while the job was RUNNING; it is queued again and resumes from its checkpoints: " + r.detail()
	if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
		return false, err
	}
	if rec != nil {
		rec.resumed[rpID] = true
	}
	s.log.Info("backup job queued again by recovery to resume from its checkpoints", "job", j.ID,
		"segments_done", r.done, "items_kept", r.items, "complete_by", j.CompleteBy)
	return true, nil
}

// resumeRestoreAfterCrash queues again a restore job a killed process left
// RUNNING if it has checkpoints of the table it made: it goes back to
// PENDING and, when it runs, writes only the data files they do not
// record. It reports whether it did.
func (s *Service) resumeRestoreAfterCrash(ctx context.Context, j *backup.RestoreJob) (bool, error) {
	if j.CreatedResourceARN == "" {
		return false, nil
	}
	cps, err := s.cfg.Catalog.ListCheckpoints(ctx, j.ID)
	if err != nil {
		return false, fmt.Errorf("recover: checkpoints of restore job %s: %w", j.ID, err)
	}
	if len(cps) == 0 || cps[0].Target != j.CreatedResourceARN {
		return false, nil
	}
	j.Status = backup.RestorePending
	if j.ValidationStatus == backup.ValidationValidating {
		j.ValidationStatus = ""
	}
	j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was RUNNING; it is queued again and resumes: %d data files written into %s are not written again",
		len(cps), j.CreatedResourceARN)
	if err := s.cfg.Catalog.UpdateRestoreJob(ctx, j); err != nil {
		return false, err
	}
	s.log.Info("restore job queued again by recovery to resume from its checkpoints", "job", j.ID, "files_done", len(cps))
	return true, nil
}

// recoverCopyJobs ends the copy jobs a killed process left RUNNING: FAILED,
// with their partial destination point removed (or left for the background
// retry); or COMPLETED if the process died just after the copy was
// recorded complete. It returns the jobs left CREATED, to run again.
func (s *Service) recoverCopyJobs(ctx context.Context, rec *recovery) ([]*backup.CopyJob, error) {
	f := backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCreated, backup.CopyRunning}, Page: backup.Page{MaxResults: 100}}
	var left, again []*backup.CopyJob
	for {
		jobs, next, err := s.cfg.Catalog.ListCopyJobs(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("recover: list copy jobs: %w", err)
		}
		left = append(left, jobs...)
		if next == "" {
			break
		}
		f.NextToken = next
	}
	for _, j := range left {
		if s.active(j.ID) != nil || s.leaveToQueue(ctx, backup.JobKindCopy, j.ID, j.Owner, j.Attempt, j.State == backup.CopyCreated) {
			continue // a job of this process, or of the queue
		}
		prev := j.State
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.DestinationRecoveryPointARN))
		if err != nil && !backup.IsNotFound(err) {
			return nil, err
		}
		if err == nil && rp.Status == backup.RecoveryPointCompleted {
			j.State, j.StatusMessage, j.CompletionDate = backup.CopyCompleted, "", s.now()
		} else {
			removed := "its partial copy was removed"
			if err == nil && !s.recoverPurge(ctx, rec, rp) {
				removed = "its partial copy is removed once its vault can be reached"
			}
			if prev == backup.CopyCreated {
				if err == nil {
					j.DestinationRecoveryPointARN = backup.RecoveryPointARN(j.Region, j.AccountID, newID())
				}
				again = append(again, j)
				continue
			}
			j.State, j.CompletionDate = backup.CopyFailed, s.now()
			j.StatusMessage = fmt.Sprintf("cairn server stopped while the job was %s; %s. Start the copy again", prev, removed)
		}
		if err := s.cfg.Catalog.UpdateCopyJob(ctx, j); err != nil {
			return nil, err
		}
		s.log.Warn("copy job ended by recovery", "job", j.ID, "was", prev, "now", j.State)
	}
	return again, nil
}

// sweepVaults cleans what cut-short writes left in the vaults, after
// logging every vault whose storage overlaps another's or the data dir
// (their data is left alone) or is no longer allowed by the operator's
// policy. Temporary files (and the directories they leave empty) in local
// vaults are removed now, before any new write can start one. Incomplete
// recovery points nobody writes any more are removed in the background
// (sweep): finding them lists every object of a vault, which must not
// delay start-up, and it is safe beside new jobs because a point's catalog
// entry is always written before its data. A vault that cannot be reached
// is logged and skipped.
func (s *Service) sweepVaults(ctx context.Context, rec *recovery) error {
	vaults, err := s.allVaults(ctx)
	if err != nil {
		return fmt.Errorf("recover: list vaults: %w", err)
	}
	conflicts := s.checkStoragePolicy(vaults)
	for _, v := range vaults {
		if v.Storage.Kind != backup.StorageFile {
			continue
		}
		if err := rec.onVault(ctx, v.Name, func(ctx context.Context) error { return s.removeTemp(ctx, v, conflicts) }); err != nil {
			s.log.Warn("cannot clean temporary files of vault", "vault", v.Name, "err", err)
		}
	}
	s.sweepMu.Lock()
	s.lastSweep = s.now()
	s.sweepMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.sweep(s.drain, vaults, conflicts); err != nil && s.drain.Err() == nil {
			s.log.Warn("sweep of incomplete recovery points", "err", err)
		}
		for _, v := range vaults {
			if why, bad := conflicts[v.Name]; bad {
				s.log.Warn("no records written into a vault whose storage overlaps another's", "vault", v.Name, "reason", why)
				continue
			}
			if err := s.backfillRecords(s.drain, v); err != nil && s.drain.Err() == nil {
				s.log.Warn("cannot write the records a catalog rebuild needs into vault", "vault", v.Name, "err", err)
			}
		}
	}()
	return nil
}

// removeTemp removes the temporary files of a file vault's directories
// that are proven the vault's.
func (s *Service) removeTemp(ctx context.Context, v *backup.Vault, conflicts map[string]string) error {
	store, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	cold, err := s.coldStore(ctx, v, false)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		store blob.Store
		role  string
	}{{store, roleWarm}, {cold, roleCold}} {
		if x.store == nil {
			continue
		}
		if err := s.owns(ctx, v, x.store, x.role, conflicts); err != nil {
			return err
		}
		if rt, ok := x.store.(interface{ RemoveTemp(context.Context) error }); ok {
			if err := rt.RemoveTemp(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// sweepDue reports whether the periodic sweep is due, and if so starts
// its interval again.
func (s *Service) sweepDue() bool {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	now := s.now()
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < s.cfg.SweepInterval {
		return false
	}
	s.lastSweep = now
	return true
}

// sweep removes, from every vault, the incomplete recovery points nobody
// writes any more (sweepOrphans), and logs what it removed: one line per
// point and one summary line with the count.
func (s *Service) sweep(ctx context.Context, vaults []*backup.Vault, conflicts map[string]string) error {
	removed, skipped := 0, 0
	var errs []error
	for _, v := range vaults {
		n, err := s.sweepOrphans(ctx, v, conflicts)
		removed += n
		if err != nil {
			skipped++
			if errors.Is(err, errNotOwned) {
				s.log.Warn("sweep leaves a vault's storage alone", "vault", v.Name, "reason", err)
				continue
			}
			errs = append(errs, fmt.Errorf("vault %s: %w", v.Name, err))
		}
	}
	s.log.Info("sweep of incomplete recovery points done", "vaults", len(vaults), "removed", removed, "vaults_skipped", skipped)
	return errors.Join(errs...)
}

// sweepOrphans removes from vault v's storage (and cold directory) the
// incomplete recovery points the catalog does not know and that are proven
// v's and dead (mayRemoveOrphan). Points the catalog lists are left to
// recovery and their jobs; complete points the catalog does not list are
// kept and logged: they may be all that is left of a point whose catalog
// entry was lost. It returns how many points it removed.
func (s *Service) sweepOrphans(ctx context.Context, v *backup.Vault, conflicts map[string]string) (int, error) {
	store, err := s.store(ctx, v)
	if err != nil {
		return 0, err
	}
	cold, err := s.coldStore(ctx, v, false)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, x := range []struct {
		store blob.Store
		role  string
	}{{store, roleWarm}, {cold, roleCold}} {
		if x.store == nil {
			continue
		}
		if err := s.owns(ctx, v, x.store, x.role, conflicts); err != nil {
			return removed, err
		}
		points, err := listStored(ctx, x.store)
		if err != nil {
			return removed, err
		}
		for _, id := range slices.Sorted(maps.Keys(points)) {
			p := points[id]
			rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
			if err == nil {
				if rp.VaultName != v.Name {
					s.log.Warn("the storage of a vault holds a recovery point of another vault; it is left alone",
						"vault", v.Name, "role", x.role, "recovery_point", id, "point_vault", rp.VaultName)
				}
				continue
			}
			if !backup.IsNotFound(err) {
				return removed, err
			}
			if p.complete {
				s.log.Warn("a complete recovery point the catalog does not list is kept; `cairn catalog rebuild` can list it again",
					"vault", v.Name, "role", x.role, "recovery_point", id)
				continue
			}
			ok, why, err := s.mayRemoveOrphan(ctx, v, x.store, id, p)
			if err != nil {
				return removed, err
			}
			if !ok {
				s.log.Info("an incomplete recovery point the catalog does not know is kept", "vault", v.Name, "role", x.role,
					"recovery_point", id, "reason", why)
				continue
			}
			if err := vault.New(x.store).Delete(ctx, id); err != nil {
				return removed, err
			}
			removed++
			s.log.Warn("removed an incomplete recovery point the catalog does not know", "vault", v.Name, "role", x.role, "recovery_point", id)
		}
	}
	return removed, nil
}

// mayRemoveOrphan decides whether an incomplete point id the catalog does
// not know, in a store proven vault v's, may be removed: its _started
// must name v and the point, or be empty (a point from before _started
// named its writer, or one whose deletion was cut short). With the data
// dir locked, nobody else writes a local vault, so such a point is dead.
// An S3 bucket could be shared with another server, so there only a point
// whose _started carries v's owner ID is removed at once; others must have
// been untouched for OrphanMinAge.
func (s *Service) mayRemoveOrphan(ctx context.Context, v *backup.Vault, store blob.Store, id string, p *storedPoint) (bool, string, error) {
	ps, err := startedBy(ctx, store, id)
	if err != nil {
		return false, "", err
	}
	if ps != nil && !ps.byVault(v, id) {
		return false, fmt.Sprintf("its _started names vault %s (owner %q), point %s", ps.VaultARN, ps.VaultOwnerID, ps.RecoveryPointID), nil
	}
	if v.Storage.Kind == backup.StorageFile || ps != nil && v.Storage.OwnerID != "" {
		return true, "", nil
	}
	if age := s.now().Sub(time.Unix(0, p.newest)); age < s.cfg.OrphanMinAge {
		return false, fmt.Sprintf("nothing proves this vault started it and it changed %s ago (under %s)", age.Round(time.Second), s.cfg.OrphanMinAge), nil
	}
	return true, "", nil
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
