package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// Several nodes on one catalog (issue 12). With a Config.Queue, a backup,
// restore or copy job recorded by any node (an API call, the scheduler, a
// rule's copy, Recover) is not run where it was recorded: it is handed to
// the queue (place, dispatch), and the node whose queue worker fetches it
// runs it through RunJob. RunJob first claims the job in the catalog with
// one compare-and-set (backup.JobOwnerStore.ClaimJob: an unowned job in a
// queued state), so a queue entry that comes late or twice does nothing;
// then the job runs here exactly as without a queue, and RunJob returns
// once it has ended or was given back (the node stopping).
//
// The runner stays the one writer of job state. The leader's takeover
// pass (Takeover) hands the jobs of dead nodes back to the queue: a backup
// job goes back to PENDING and a copy job to CREATED, their partial points
// removed; a restore goes back to PENDING and writes again into the table
// it created. StopBackupJob through a node that does not run the job
// records ABORTING; the node that runs it sees that at its next progress
// save (or, while the job waits, at its next look) and stops it.
//
// Without a queue (SQLite) nothing of this applies: jobs run where they
// are recorded.

// Dispatcher hands a job to the queue (internal/queue). Dispatch must be
// idempotent for one (kind, id, attempt): a second call adds nothing.
type Dispatcher interface {
	Dispatch(ctx context.Context, kind backup.JobKind, id string, attempt int) error
}

// claim is a job RunJob claimed for this node: place runs it here instead
// of handing it to the queue, and closes done when it ends.
type claim struct {
	done     chan struct{}
	launched bool
}

// place runs a job: here without a queue, or when RunJob claimed it for
// this node; otherwise it hands the job to the queue.
func (s *Service) place(kind backup.JobKind, id string, attempt int, aj *activeJob, run func(ctx context.Context)) error {
	if s.cfg.Queue == nil {
		return s.launch(id, aj, run)
	}
	s.mu.Lock()
	c := s.claims[id]
	if c != nil {
		c.launched = true
	}
	s.mu.Unlock()
	if c == nil {
		return s.dispatch(kind, id, attempt)
	}
	if !s.start(id, aj, func(ctx context.Context) { defer close(c.done); run(ctx) }) {
		close(c.done)
	}
	return nil
}

// dispatch hands a job to the queue.
func (s *Service) dispatch(kind backup.JobKind, id string, attempt int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), time.Minute)
	defer cancel()
	if err := s.cfg.Queue.Dispatch(ctx, kind, id, attempt); err != nil {
		return fmt.Errorf("queue %s job %s: %w", kind, id, err)
	}
	s.log.Debug("job queued", "job", id, "kind", string(kind), "attempt", attempt)
	return nil
}

func (s *Service) launchRestore(job *backup.RestoreJob, rp *backup.RecoveryPoint, src *Source, meta *backup.DynamoDBRestore) error {
	aj := &activeJob{restore: job}
	return s.place(backup.JobKindRestore, job.ID, job.Attempt, aj, func(ctx context.Context) { s.runRestore(ctx, aj, rp, src, meta) })
}

func (s *Service) launchCopy(p *copyPlan) error {
	aj := &activeJob{}
	return s.place(backup.JobKindCopy, p.job.ID, p.job.Attempt, aj, func(ctx context.Context) { s.runCopy(ctx, aj, p) })
}

// queuedStates are the states from which a node may claim a job.
var queuedStates = map[backup.JobKind][]string{
	backup.JobKindBackup:  {string(backup.JobCreated), string(backup.JobPending)},
	backup.JobKindRestore: {string(backup.RestorePending)},
	backup.JobKindCopy:    {string(backup.CopyCreated)},
}

// RunJob runs a job the queue handed to this node, in this process, and
// returns when it has ended or left this node. It does nothing when the job
// is claimed by another node, has ended, or is not queued (a stale queue
// entry). again is true when the job is queued again and unowned (this
// node stopped before it could run or finish it): the queue should hand it
// out again. An error means the catalog could not be read or written; the
// job is then left unowned.
func (s *Service) RunJob(ctx context.Context, kind backup.JobKind, id string) (again bool, err error) {
	from, ok := queuedStates[kind]
	if !ok {
		return false, fmt.Errorf("run job %s: unknown kind %q", id, kind)
	}
	if s.accepting() != nil {
		return true, nil // stopping: another node takes it
	}
	node := s.cfg.Cluster.NodeID()
	ok, err = s.cfg.Catalog.ClaimJob(ctx, kind, id, node, from)
	if err != nil {
		return true, err
	}
	if !ok {
		s.log.Info("queued job not run here: another node runs it, or it is no longer queued", "job", id, "kind", string(kind))
		return false, nil
	}
	c := &claim{done: make(chan struct{})}
	s.mu.Lock()
	s.claims[id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.claims, id)
		s.mu.Unlock()
	}()
	s.log.Info("job claimed from the queue", "job", id, "kind", string(kind), "node", node)
	switch kind {
	case backup.JobKindBackup:
		var j *backup.BackupJob
		if j, err = s.cfg.Catalog.GetBackupJob(ctx, id); err == nil {
			err = s.enqueue(ctx, j)
		}
	case backup.JobKindRestore:
		var j *backup.RestoreJob
		if j, err = s.cfg.Catalog.GetRestoreJob(ctx, id); err == nil {
			err = s.relaunchRestore(ctx, j)
		}
	case backup.JobKindCopy:
		var j *backup.CopyJob
		if j, err = s.cfg.Catalog.GetCopyJob(ctx, id); err == nil {
			err = s.relaunchCopy(ctx, j)
		}
	}
	if err == nil && c.launched {
		<-c.done
	}
	// The job ended, or stays queued (a stop before it could start or
	// finish): then it is no longer this node's.
	again, gerr := s.giveBack(context.WithoutCancel(ctx), kind, id, node)
	return again, errors.Join(err, gerr)
}

// giveBack clears this node's ownership of a job left queued and reports
// whether it did.
func (s *Service) giveBack(ctx context.Context, kind backup.JobKind, id, node string) (bool, error) {
	switch kind {
	case backup.JobKindBackup:
		j, err := s.cfg.Catalog.GetBackupJob(ctx, id)
		if err != nil || j.Owner != node || (j.State != backup.JobCreated && j.State != backup.JobPending) {
			return false, err
		}
		j.Owner = ""
		return true, s.cfg.Catalog.UpdateBackupJob(ctx, j)
	case backup.JobKindRestore:
		j, err := s.cfg.Catalog.GetRestoreJob(ctx, id)
		if err != nil || j.Owner != node || j.Status != backup.RestorePending {
			return false, err
		}
		j.Owner = ""
		return true, s.cfg.Catalog.UpdateRestoreJob(ctx, j)
	case backup.JobKindCopy:
		j, err := s.cfg.Catalog.GetCopyJob(ctx, id)
		if err != nil || j.Owner != node || j.State != backup.CopyCreated {
			return false, err
		}
		j.Owner = ""
		return true, s.cfg.Catalog.UpdateCopyJob(ctx, j)
	}
	return false, nil
}

// stoppedElsewhere, with a queue, reads the stored state of a backup job
// this node runs and takes over a stop another node recorded: ABORTING, or
// an end (a job stopped before it started). It reports whether the job is
// to stop. The caller holds aj.mu.
func (s *Service) stoppedElsewhere(aj *activeJob) bool {
	if s.cfg.Queue == nil || aj.backup.State.Terminal() || aj.backup.State == backup.JobAborting {
		return false
	}
	cur, err := s.cfg.Catalog.GetBackupJob(context.Background(), aj.backup.ID)
	if err != nil {
		s.log.Warn("cannot read the backup job's stored state", "job", aj.backup.ID, "err", err)
		return false
	}
	switch {
	case cur.State == backup.JobAborting:
		aj.backup.State = backup.JobAborting
	case cur.State.Terminal():
		aj.backup.State, aj.backup.StatusMessage, aj.backup.CompletionDate = cur.State, cur.StatusMessage, cur.CompletionDate
	default:
		return false
	}
	s.log.Info("backup job stopped through another node", "job", aj.backup.ID, "state", cur.State)
	return true
}

// stopElsewhere, with a queue, prepares job (read from the catalog, not
// run by this process) for StopBackupJob when another node owns it: it
// goes ABORTING, which that node sees and acts on. It reports whether the
// caller is to store the job so.
func (s *Service) stopElsewhere(job *backup.BackupJob) bool {
	if s.cfg.Queue == nil || job.Owner == "" || job.Owner == s.cfg.Cluster.NodeID() {
		return false
	}
	job.State = backup.JobAborting
	s.log.Info("backup job stopped; the node that runs it stops it", "job", job.ID, "node", job.Owner)
	return true
}

// earlierAttemptTable returns the table an earlier attempt of a restore
// job created (a restore taken over from a dead node), for this attempt to
// write into again: writes are idempotent puts and the check after the
// restore proves the result. It returns nil when there is none to reuse.
// A table of that name that is not the one the job created is refused.
func (s *Service) earlierAttemptTable(ctx context.Context, src *Source, target string, job *backup.RestoreJob) (*dynamodb.CreateResult, error) {
	if job.CreatedResourceARN == "" {
		return nil, nil
	}
	spec, err := src.Client.DescribeTable(ctx, target)
	if errors.Is(err, dynamodb.ErrTableNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe table %s that an earlier attempt of the job created: %w", target, err)
	}
	if spec.TableArn != job.CreatedResourceARN {
		return nil, fmt.Errorf("table %s (%s) is not the table %s an earlier attempt of the job created; cairn never writes into a table it did not create: choose another TargetTableName or delete the table",
			target, spec.TableArn, job.CreatedResourceARN)
	}
	return &dynamodb.CreateResult{TableARN: spec.TableArn}, nil
}

// leaveToQueue tells Recover, with a queue, to leave a job to the queue:
// a job with an owner is a live node's, or, if its node is dead, taken
// over now; an unowned queued job is handed to the queue again (a queue
// entry that exists is not doubled). A job RUNNING without an owner is
// one a process from before the queue left: Recover ends it as ever.
func (s *Service) leaveToQueue(ctx context.Context, kind backup.JobKind, id, owner string, attempt int, queued bool) bool {
	if s.cfg.Queue == nil {
		return false
	}
	if owner != "" {
		if s.ownerDead(ctx, owner) {
			if err := s.takeOver(ctx, kind, id, owner); err != nil {
				s.log.Error("recover: cannot take over a job of a dead node; the leader's takeover pass tries again",
					"job", id, "node", owner, "err", err)
			}
		}
		return true
	}
	if !queued {
		return false
	}
	if err := s.dispatch(kind, id, attempt); err != nil && ctx.Err() == nil {
		s.log.Error("recover: cannot queue a job again; the next start tries again", "job", id, "err", err)
	}
	return true
}

// ownerDead reports whether the node owner is known to be gone. A
// server alone on its catalog (backup.SingleNode) is the only live node,
// so every other owner is a process that died.
func (s *Service) ownerDead(ctx context.Context, owner string) bool {
	if owner == s.cfg.Cluster.NodeID() {
		return false
	}
	if _, alone := s.cfg.Cluster.(backup.SingleNode); alone {
		return true
	}
	dead, err := s.cfg.Cluster.DeadNodes(ctx)
	if err != nil {
		s.log.Warn("recover: cannot tell which nodes are dead", "err", err)
		return false
	}
	return slices.Contains(dead, owner)
}

// takeoverLoop runs Takeover every TakeoverInterval, and wakes jobs that
// wait here so that they see what other nodes changed (a resource freed,
// a stop).
func (s *Service) takeoverLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TakeoverInterval)
	defer t.Stop()
	for {
		if err := s.Takeover(s.drain); err != nil && s.drain.Err() == nil {
			s.log.Error("takeover pass failed; trying again at the next one", "err", err)
		}
		s.kick()
		select {
		case <-s.drain.Done():
			return
		case <-t.C:
		}
	}
}

// Takeover is one pass of the leader over the jobs of dead nodes: each is
// given back to the queue (or ended, when its work was done or it was
// being stopped), and another node runs it. It does nothing without a
// queue or on a node that is not the leader. A pass may be repeated, or
// run twice at once: a job is handed out again only while its dead owner
// still holds it, and a queue entry too many does nothing (RunJob's
// claim).
func (s *Service) Takeover(ctx context.Context) error {
	if s.cfg.Queue == nil || !s.cfg.Cluster.IsLeader() {
		return nil
	}
	dead, err := s.cfg.Cluster.DeadNodes(ctx)
	if err != nil || len(dead) == 0 {
		return err
	}
	jobs, err := s.cfg.Catalog.OwnedJobs(ctx, dead)
	if err != nil {
		return err
	}
	var errs []error
	for _, j := range jobs {
		errs = append(errs, s.takeOver(ctx, j.Kind, j.ID, j.Owner))
	}
	return errors.Join(errs...)
}

// takeOver hands one job of the dead node back to the queue.
func (s *Service) takeOver(ctx context.Context, kind backup.JobKind, id, dead string) error {
	var err error
	switch kind {
	case backup.JobKindBackup:
		err = s.takeOverBackup(ctx, id, dead)
	case backup.JobKindRestore:
		err = s.takeOverRestore(ctx, id, dead)
	case backup.JobKindCopy:
		err = s.takeOverCopy(ctx, id, dead)
	}
	if err != nil {
		return fmt.Errorf("take over %s job %s of node %s: %w", kind, id, dead, err)
	}
	return nil
}

func takenOverMessage(node string) string {
	return fmt.Sprintf("node %s that ran the job died; the job was given back to the queue and another node runs it", node)
}

// takeOverBackup gives a dead node's backup job back to the queue: with
// checkpoints it goes PENDING keeping its partial point and resumes from
// them; without, its partial point is removed and it goes PENDING with a
// new one.
// A job whose point was complete ends COMPLETED; one being stopped ends
// ABORTED.
func (s *Service) takeOverBackup(ctx context.Context, id, dead string) error {
	j, err := s.cfg.Catalog.GetBackupJob(ctx, id)
	if err != nil || j.Owner != dead || j.State.Terminal() {
		return err
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.RecoveryPointARN))
	switch {
	case err == nil && rp.Status == backup.RecoveryPointCompleted:
		j.State, j.PercentDone, j.CompletionDate = backup.JobCompleted, 100, s.now()
		j.ItemCount, j.BackupSizeInBytes = rp.ItemCount, rp.BackupSizeInBytes
		if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
			return err
		}
		s.log.Warn("backup job of a dead node completed: its recovery point was complete", "job", id, "node", dead)
		s.afterBackup(s.ctx, j, rp)
		return nil
	case err == nil:
		if j.State != backup.JobAborting {
			// A point with checkpoints is kept: the next attempt resumes
			// from them instead of scanning the table again.
			next := *j
			next.Owner, next.Attempt = "", j.Attempt+1
			resumed, err := s.resumeBackupAfterCrash(ctx, nil, &next)
			if err != nil {
				return err
			}
			if resumed {
				s.log.Warn("backup job of a dead node given back to the queue to resume from its checkpoints", "job", id, "node", dead, "attempt", next.Attempt)
				return s.dispatch(backup.JobKindBackup, id, next.Attempt)
			}
		}
		if err := s.purgePoint(ctx, rp); err != nil {
			return fmt.Errorf("remove its partial recovery point: %w", err)
		}
	case !backup.IsNotFound(err):
		return err
	}
	if j.State == backup.JobAborting {
		j.State, j.CompletionDate = backup.JobAborted, s.now()
		j.StatusMessage = fmt.Sprintf("stopped by StopBackupJob; node %s that ran the job died; its partial recovery point was removed", dead)
		return s.cfg.Catalog.UpdateBackupJob(ctx, j)
	}
	j.State, j.StatusMessage = backup.JobPending, takenOverMessage(dead)
	j.PercentDone, j.BytesTransferred, j.BackupSizeInBytes, j.ItemCount = 0, 0, 0, 0
	j.RecoveryPointARN = backup.RecoveryPointARN(j.Region, j.AccountID, newID())
	j.CompletionDate = time.Time{}
	j.Owner, j.Attempt = "", j.Attempt+1
	if err := s.cfg.Catalog.UpdateBackupJob(ctx, j); err != nil {
		return err
	}
	s.log.Warn("backup job of a dead node given back to the queue", "job", id, "node", dead, "attempt", j.Attempt)
	return s.dispatch(backup.JobKindBackup, id, j.Attempt)
}

// takeOverRestore gives a dead node's restore job back to the queue; the
// next attempt writes into the table the dead node created.
func (s *Service) takeOverRestore(ctx context.Context, id, dead string) error {
	j, err := s.cfg.Catalog.GetRestoreJob(ctx, id)
	if err != nil || j.Owner != dead || (j.Status != backup.RestorePending && j.Status != backup.RestoreRunning) {
		return err
	}
	j.Status, j.StatusMessage = backup.RestorePending, takenOverMessage(dead)
	j.PercentDone, j.ItemsRestored = 0, 0
	j.ValidationStatus, j.ValidationStatusMessage = "", ""
	j.Owner, j.Attempt = "", j.Attempt+1
	if err := s.cfg.Catalog.UpdateRestoreJob(ctx, j); err != nil {
		return err
	}
	s.log.Warn("restore job of a dead node given back to the queue", "job", id, "node", dead, "attempt", j.Attempt)
	return s.dispatch(backup.JobKindRestore, id, j.Attempt)
}

// takeOverCopy gives a dead node's copy job back to the queue, its partial
// copy removed; a copy recorded complete ends COMPLETED.
func (s *Service) takeOverCopy(ctx context.Context, id, dead string) error {
	j, err := s.cfg.Catalog.GetCopyJob(ctx, id)
	if err != nil || j.Owner != dead || (j.State != backup.CopyCreated && j.State != backup.CopyRunning) {
		return err
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, recoveryPointID(j.DestinationRecoveryPointARN))
	switch {
	case err == nil && rp.Status == backup.RecoveryPointCompleted:
		j.State, j.StatusMessage, j.CompletionDate = backup.CopyCompleted, "", s.now()
		return s.cfg.Catalog.UpdateCopyJob(ctx, j)
	case err == nil:
		if err := s.purgePoint(ctx, rp); err != nil {
			return fmt.Errorf("remove its partial copy: %w", err)
		}
	case !backup.IsNotFound(err):
		return err
	}
	j.State, j.StatusMessage = backup.CopyCreated, takenOverMessage(dead)
	j.DestinationRecoveryPointARN = backup.RecoveryPointARN(j.Region, j.AccountID, newID())
	j.CompletionDate = time.Time{}
	j.Owner, j.Attempt = "", j.Attempt+1
	if err := s.cfg.Catalog.UpdateCopyJob(ctx, j); err != nil {
		return err
	}
	s.log.Warn("copy job of a dead node given back to the queue", "job", id, "node", dead, "attempt", j.Attempt)
	return s.dispatch(backup.JobKindCopy, id, j.Attempt)
}
