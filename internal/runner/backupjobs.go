package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Defaults of AWS Backup's job windows.
const (
	DefaultStartWindow      = 8 * time.Hour
	DefaultCompletionWindow = 7 * 24 * time.Hour
)

// pointMetadata is cairn's metadata stored with every recovery point
// (cairn-metadata.json): enough to restore without the catalog.
type pointMetadata struct {
	Table           *dynamodb.TableSpec `json:"table"`
	ResourceARN     string              `json:"resourceArn"`
	BackupJobID     string              `json:"backupJobId"`
	RecoveryPointID string              `json:"recoveryPointId"`
	ItemCount       int64               `json:"itemCount"`
	ContentChecksum string              `json:"contentChecksum"`
	Segments        int                 `json:"segments"`
	// OutOfSpecItems counts the items kept that DynamoDB's rules refuse;
	// OutOfSpec names the first engine.MaxNamedItems of them.
	OutOfSpecItems int64              `json:"outOfSpecItems,omitempty"`
	OutOfSpec      []engine.ItemIssue `json:"outOfSpec,omitempty"`
}

// StartBackupJob validates the request, records a CREATED job and starts it
// in the background. It answers at once: everything that asks the source
// (DescribeTable and the rest) is the job's work, so a slow or busy source
// delays the job, not the answer, and a table that does not exist ends the
// job FAILED saying so. A resource with an active backup job (waiting or
// running) gets no second on-demand one: that is ErrConflict. A request
// with the IdempotencyToken of an earlier one gets that request's job.
func (s *Service) StartBackupJob(ctx context.Context, in backup.StartBackupJobInput) (*backup.BackupJob, error) {
	if err := backup.ValidateStartBackupJob(&in); err != nil {
		return nil, err
	}
	if err := s.accepting(); err != nil {
		return nil, err
	}
	v, err := s.GetVault(ctx, in.VaultName)
	if err != nil {
		return nil, err
	}
	src, a, table, err := s.source(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if in.Options.Segments < 0 || in.Options.Segments > 1000000 {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "segments must be between 0 (automatic) and 1000000, not %d", in.Options.Segments)
	}
	if in.Options.ReadRate < 0 {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "read rate must not be negative")
	}
	startWindow, completeWindow := DefaultStartWindow, DefaultCompletionWindow
	if in.StartWindowMins > 0 {
		startWindow = time.Duration(in.StartWindowMins) * time.Minute
	}
	if in.CompleteWindowMin > 0 {
		completeWindow = time.Duration(in.CompleteWindowMin) * time.Minute
	}
	token := in.IdempotencyToken
	in.IdempotencyToken = ""
	hash := requestHash("StartBackupJob", in)
	// The lookups by token, the check for an active job and the insert are
	// one step for this process; the catalog keeps a second holder of the
	// token and a second RUNNING job out in any case.
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if token != "" {
		if j, err := s.backupJobByToken(ctx, token, hash); j != nil || err != nil {
			return j, err
		}
	}
	busy, _, err := s.cfg.Catalog.ListBackupJobs(ctx, backup.BackupJobFilter{ResourceARN: a.String(),
		States: activeJobStates, Page: backup.Page{MaxResults: 1}})
	if err != nil {
		return nil, err
	}
	if len(busy) > 0 {
		if token != "" { // another process may have created the token's job meanwhile
			if j, err := s.backupJobByToken(ctx, token, hash); j != nil || err != nil {
				return j, err
			}
		}
		return nil, &backup.Error{Code: backup.ErrConflict, Type: "BackupJob", Context: a.String(),
			Message: fmt.Sprintf("a backup job for %s is already in progress (%s, %s); wait for it or stop it with StopBackupJob",
				a.String(), busy[0].ID, busy[0].State)}
	}
	now := s.now()
	job := &backup.BackupJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		VaultName: v.Name, VaultARN: v.ARN,
		RecoveryPointARN: backup.RecoveryPointARN(s.cfg.Region, s.cfg.AccountID, newID()),
		ResourceARN:      a.String(), ResourceType: backup.ResourceTypeDynamoDB, ResourceName: table,
		IAMRoleARN: in.IAMRoleARN, IdempotencyToken: token, RequestHash: hash,
		State: backup.JobCreated, CreationDate: now, StartBy: now.Add(startWindow),
		ExpectedCompletionDate: now.Add(completeWindow), CompleteBy: now.Add(completeWindow),
		Lifecycle: in.Lifecycle, RecoveryPointTags: in.RecoveryPointTags, Options: in.Options,
	}
	if err := s.cfg.Catalog.CreateBackupJob(ctx, job); err != nil {
		if holder, ok := tokenHolder(err); ok {
			j, err := s.cfg.Catalog.GetBackupJob(ctx, holder)
			if err != nil {
				return nil, err
			}
			if err := sameRequest("StartBackupJob", token, "backup job", j.ID, j.RequestHash, hash); err != nil {
				return nil, err
			}
			return j, nil
		}
		if backup.ErrorCode(err) == backup.ErrConflict {
			return nil, &backup.Error{Code: backup.ErrConflict, Type: "BackupJob", Context: a.String(),
				Message: fmt.Sprintf("a backup job for %s is already in progress; wait for it or stop it with StopBackupJob", a.String())}
		}
		return nil, err
	}
	out := *job
	if err := s.launchBackup(job, v, src, table); err != nil {
		job.State, job.StatusMessage, job.CompletionDate = backup.JobFailed, "cairn server is shutting down", s.now()
		_ = s.cfg.Catalog.UpdateBackupJob(context.WithoutCancel(ctx), job)
		return nil, err
	}
	s.log.Info("backup job created", "job", job.ID, "resource", job.ResourceARN, "vault", v.Name)
	return &out, nil
}

// activeJobStates are the states of a job that occupies its resource.
var activeJobStates = []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}

// enqueue runs a stored CREATED or PENDING job in the background. A job
// whose vault or source is gone ends FAILED at once, saying which.
func (s *Service) enqueue(ctx context.Context, job *backup.BackupJob) error {
	v, err := s.cfg.Catalog.GetVault(ctx, job.VaultName)
	if err != nil && !backup.IsNotFound(err) {
		return err
	}
	var src *Source
	var table string
	if err == nil {
		src, _, table, err = s.source(job.ResourceARN)
	} else {
		err = fmt.Errorf("backup vault %s does not exist; create it or change the rule's TargetBackupVaultName", job.VaultName)
	}
	if err != nil {
		job.State, job.CompletionDate = backup.JobFailed, s.now()
		job.StatusMessage = causeMessage(err)
		s.log.Error("backup job cannot run", "job", job.ID, "resource", job.ResourceARN, "err", err)
		return s.cfg.Catalog.UpdateBackupJob(ctx, job)
	}
	return s.launchBackup(job, v, src, table)
}

func (s *Service) launchBackup(job *backup.BackupJob, v *backup.Vault, src *Source, table string) error {
	// A job with checkpoints started before (on this node or another):
	// it resumes, whatever its start window says.
	aj := &activeJob{backup: job, resuming: s.hasCheckpoints(context.Background(), job.ID)}
	return s.place(backup.JobKindBackup, job.ID, job.Attempt, aj, func(ctx context.Context) { s.runBackup(ctx, aj, v, src, table) })
}

// save persists the active job's current state; the caller holds aj.mu.
func (s *Service) saveBackup(aj *activeJob) {
	if err := s.cfg.Catalog.UpdateBackupJob(context.Background(), aj.backup); err != nil {
		s.log.Error("save backup job", "job", aj.backup.ID, "err", err)
	}
}

// runBackup takes a job from CREATED or PENDING to its end: it waits for
// its turn, backs the table up, and for a scheduled job retries transient
// failures while its start window is open.
func (s *Service) runBackup(ctx context.Context, aj *activeJob, v *backup.Vault, src *Source, table string) {
	job := aj.backup
	log := s.log.With("job", job.ID, "resource", job.ResourceARN, "vault", v.Name)
	defer s.kick() // the resource is free for the next job
	for attempt := 1; ; attempt++ {
		if !s.waitTurn(ctx, aj, log) {
			return
		}
		log.Info("backup job running", "attempt", attempt)
		w, rp, err := s.backupAttempt(ctx, aj, v, src, table, log)
		if err != nil && ctx.Err() == nil {
			retry, ferr := s.retryLater(aj, w, rp, err, attempt, log)
			if retry {
				s.release()
				continue
			}
			err = ferr
		}
		s.finishBackup(aj, w, rp, err, log)
		s.release()
		return
	}
}

// waitTurn waits until the job may run: its retry time has come, a worker
// slot is free and no other job of its resource is running. It returns true
// with the slot held and the job RUNNING, or false when the job ended
// meanwhile (stopped, expired) or the server is stopping; a job that had
// not started is then left CREATED or PENDING for Recover to queue again.
func (s *Service) waitTurn(ctx context.Context, aj *activeJob, log *slog.Logger) bool {
	job := aj.backup
	wait := func(wake <-chan struct{}) bool {
		select {
		case <-wake:
			return true
		case <-ctx.Done():
			s.stopWaiting(ctx, aj, log)
			return false
		case <-s.drain.Done(): // Shutdown: stay queued
			s.stopWaiting(ctx, aj, log)
			return false
		}
	}
	for {
		wake := s.wakeup()
		aj.mu.Lock()
		s.stoppedElsewhere(aj)
		if s.endBeforeStart(aj, log) {
			aj.mu.Unlock()
			return false
		}
		notBefore := aj.notBefore
		aj.mu.Unlock()
		if s.now().Before(notBefore) {
			if !wait(wake) {
				return false
			}
			continue
		}
		if err := s.acquire(ctx); err != nil {
			s.stopWaiting(ctx, aj, log)
			return false
		}
		aj.mu.Lock()
		if s.endBeforeStart(aj, log) {
			aj.mu.Unlock()
			s.release()
			return false
		}
		prevState, prevMsg := job.State, job.StatusMessage
		job.State, job.StatusMessage = backup.JobRunning, ""
		err := s.cfg.Catalog.UpdateBackupJob(context.Background(), job)
		if err == nil {
			aj.mu.Unlock()
			return true
		}
		job.State, job.StatusMessage = prevState, prevMsg
		if backup.ErrorCode(err) != backup.ErrConflict {
			aj.mu.Unlock()
			s.release()
			log.Error("cannot mark backup job running", "err", err)
			s.finishBackup(aj, nil, nil, fmt.Errorf("record the job as running: %w", err), log)
			return false
		}
		// Another job of the resource runs: wait for it, without a slot.
		job.State = backup.JobPending
		job.StatusMessage = s.waitingMessage(job)
		s.saveBackup(aj)
		aj.mu.Unlock()
		s.release()
		log.Info("backup job waits for another job of its resource", "message", job.StatusMessage)
		if !wait(wake) {
			return false
		}
	}
}

// endBeforeStart ends a job that has not started if it was stopped or its
// start window closed; it reports whether the job is over. The caller holds
// aj.mu.
func (s *Service) endBeforeStart(aj *activeJob, log *slog.Logger) bool {
	job := aj.backup
	switch {
	case job.State.Terminal():
		return true
	case job.State == backup.JobAborting:
		job.State, job.StatusMessage, job.CompletionDate = backup.JobAborted, "stopped by StopBackupJob before it started", s.now()
		s.saveBackup(aj)
		return true
	case startWindowClosed(job, s.now()) && !aj.resuming:
		expireUnstarted(job, s.now())
		s.saveBackup(aj)
		log.Warn("backup job expired: its start window closed", "start_by", job.StartBy)
		return true
	}
	return false
}

// stopWaiting handles the end of a job's context while it waited to start:
// StopBackupJob and the scheduler end the job themselves; when the server
// stops, the job stays CREATED or PENDING and Recover queues it again.
func (s *Service) stopWaiting(ctx context.Context, aj *activeJob, log *slog.Logger) {
	aj.mu.Lock()
	defer aj.mu.Unlock()
	if aj.backup.State.Terminal() {
		return
	}
	if errors.Is(context.Cause(ctx), errStopped) || aj.backup.State == backup.JobAborting {
		aj.backup.State, aj.backup.StatusMessage, aj.backup.CompletionDate = backup.JobAborted, "stopped by StopBackupJob before it started", s.now()
		s.saveBackup(aj)
		return
	}
	log.Info("server stopping; the backup job will be queued again at the next start", "state", aj.backup.State)
}

// waitingMessage says which job a PENDING job waits for.
func (s *Service) waitingMessage(job *backup.BackupJob) string {
	running, _, err := s.cfg.Catalog.ListBackupJobs(context.Background(), backup.BackupJobFilter{ResourceARN: job.ResourceARN,
		States: []backup.JobState{backup.JobRunning, backup.JobAborting}, Page: backup.Page{MaxResults: 1}})
	if err == nil && len(running) > 0 {
		return fmt.Sprintf("waiting for backup job %s of the same resource to finish (one backup job runs per resource at a time)", running[0].ID)
	}
	return "waiting for another backup job of the same resource to finish (one backup job runs per resource at a time)"
}

// retryLater decides what follows a failed attempt. A scheduled job whose
// error is transient goes back to PENDING, its partial recovery point
// removed, and is tried again after a backoff if that is still inside its
// start window: retryLater returns true. Otherwise it returns false and the
// error to end the job with.
func (s *Service) retryLater(aj *activeJob, w *vault.Writer, rp *backup.RecoveryPoint, err error, attempt int, log *slog.Logger) (bool, error) {
	job := aj.backup
	if job.ScheduledTime.IsZero() || !dynamodb.IsRetryable(err) {
		return false, err
	}
	now := s.now()
	at := now.Add(retryDelay(attempt))
	if !at.Before(job.StartBy) {
		return false, fmt.Errorf("attempt %d failed: %w; the start window closes at %s, too soon for another attempt",
			attempt, err, job.StartBy.Format(time.RFC3339))
	}
	s.discardAttempt(w, rp, log)
	aj.mu.Lock()
	defer aj.mu.Unlock()
	if job.State != backup.JobRunning { // stopped meanwhile
		return false, err
	}
	job.State = backup.JobPending
	job.StatusMessage = fmt.Sprintf("attempt %d failed: %s; retrying at %s (the start window closes at %s)",
		attempt, causeMessage(err), at.Format(time.RFC3339), job.StartBy.Format(time.RFC3339))
	job.PercentDone, job.BytesTransferred, job.BackupSizeInBytes, job.ItemCount = 0, 0, 0, 0
	job.RecoveryPointARN = backup.RecoveryPointARN(job.Region, job.AccountID, newID())
	aj.notBefore = at
	s.saveBackup(aj)
	log.Warn("backup attempt failed; retrying inside the start window", "attempt", attempt, "retry_at", at, "err", err)
	return true, nil
}

// discardAttempt removes what a failed attempt wrote.
func (s *Service) discardAttempt(w *vault.Writer, rp *backup.RecoveryPoint, log *slog.Logger) {
	ctx := context.Background()
	if w != nil {
		if err := w.Abort(ctx); err != nil {
			log.Error("abort recovery point", "err", err)
		}
	}
	if rp != nil && rp.Status != backup.RecoveryPointCompleted {
		err := s.untilRecorded("delete partial recovery point", log, func(ctx context.Context) error {
			return s.cfg.Catalog.DeleteRecoveryPoint(ctx, rp.ID)
		})
		if err != nil && !backup.IsNotFound(err) {
			log.Error("delete partial recovery point", "err", err)
		}
	}
	if rp != nil {
		if err := s.dropCheckpoints(ctx, rp.BackupJobID); err != nil {
			log.Error("the partial recovery point is gone but its checkpoints stay; the next attempt drops them", "err", err)
		}
	}
}

// backupAttempt streams the table into a new recovery point. On error it
// returns what is left to clean up: the vault writer (nil once committed)
// and the catalog's recovery point.
func (s *Service) backupAttempt(ctx context.Context, aj *activeJob, v *backup.Vault, src *Source, table string, log *slog.Logger) (*vault.Writer, *backup.RecoveryPoint, error) {
	aj.mu.Lock()
	job := aj.backup
	rpID := recoveryPointID(job.RecoveryPointARN)
	aj.mu.Unlock()
	var w *vault.Writer
	var rp *backup.RecoveryPoint
	var notes []string
	err := func() error {
		spec, err := src.Client.DescribeTable(ctx, table)
		if errors.Is(err, dynamodb.ErrTableNotFound) {
			return fmt.Errorf("table %s was not found in DynamoDB source %s (%s): check the table name, or the source that serves its region and account", table, src.Name, job.ResourceARN)
		}
		if err != nil {
			return fmt.Errorf("describe table %s in DynamoDB source %s: %w", table, src.Name, err)
		}
		store, err := s.store(ctx, v)
		if err != nil {
			return err
		}
		started := s.now()
		rp = &backup.RecoveryPoint{
			ID: rpID, ARN: job.RecoveryPointARN, AccountID: job.AccountID, Region: job.Region,
			VaultName: v.Name, VaultARN: v.ARN, ResourceARN: job.ResourceARN, ResourceType: job.ResourceType,
			ResourceName: table, IAMRoleARN: job.IAMRoleARN, BackupJobID: job.ID,
			Status: backup.RecoveryPointCreating, StorageClass: backup.StorageWarm, CreationDate: started,
			Lifecycle: job.Lifecycle, Tags: job.RecoveryPointTags, CreatedBy: job.CreatedBy,
		}
		opts := vault.WriterOptions{Compression: s.compression(v, job), Started: startedFor(v, rpID)}
		resume, recorded, err := s.resumePoint(ctx, job.ID, rp, store, opts, log)
		if err != nil {
			return err
		}
		if resume != nil {
			w = resume.w
			started = rp.CreationDate
			notes = append(notes, resume.message())
			log.Info("backup job resumes from checkpoints", "segments_done", resume.done, "items_kept", resume.items,
				"files_kept", len(resume.files), "message", resume.message())
			aj.mu.Lock()
			job.StatusMessage = resume.message()
			s.saveBackup(aj)
			aj.mu.Unlock()
		} else {
			if !recorded {
				if err := s.cfg.Catalog.CreateRecoveryPoint(ctx, rp); err != nil {
					return fmt.Errorf("record recovery point: %w", err)
				}
			}
			w, err = vault.New(store).Create(ctx, rpID, opts)
			if err != nil {
				return fmt.Errorf("create recovery point in vault: %w", err)
			}
		}
		var scanner dynamodb.Scanner = src.Client
		if s.cfg.WrapScanner != nil {
			scanner = s.cfg.WrapScanner(scanner)
		}
		scanner = dynamodb.NewRetryScanner(scanner, s.retryPolicy(log))
		if job.Options.ReadRate > 0 {
			scanner = dynamodb.NewRateLimitedScanner(scanner, job.Options.ReadRate)
		}
		if segs, why := engine.EffectiveSegments(job.Options.Segments, spec.TableSizeBytes, spec.ItemCount); why != "" && resume == nil {
			notes = append(notes, fmt.Sprintf("scanned with %d parallel scan segments, not the %d asked: %s", segs, job.Options.Segments, why))
			log.Info("backup job scans fewer segments than asked", "asked", job.Options.Segments, "segments", segs)
			aj.mu.Lock()
			job.StatusMessage = notes[0]
			s.saveBackup(aj)
			aj.mu.Unlock()
		}
		scanStart := s.now()
		var states []engine.SegmentState
		if resume != nil {
			scanStart, states = started, resume.states
		}
		res, err := engine.Backup(ctx, engine.BackupInput{
			Table: table, Scanner: scanner, Segments: job.Options.Segments,
			TableSizeBytes: spec.TableSizeBytes, TableItemCount: spec.ItemCount, KeyAttributes: keyNames(spec.KeySchema),
			NewSink:    func() engine.ItemSink { return checkpointSink{w.NewFile()} },
			Checkpoint: s.saveSegment(ctx, job.ID, rpID), CheckpointItems: s.cfg.CheckpointItems,
			CheckpointInterval: s.cfg.CheckpointInterval, Resume: states,
			ProgressInterval: s.cfg.ProgressInterval,
			Progress: func(p engine.Progress) {
				aj.mu.Lock()
				defer aj.mu.Unlock()
				if job.State != backup.JobRunning {
					return
				}
				if s.stoppedElsewhere(aj) { // StopBackupJob through another node
					aj.cancel(errStopped)
					return
				}
				job.BytesTransferred, job.ItemCount = p.Bytes, p.Items
				job.BackupSizeInBytes = w.BytesStored()
				job.PercentDone = percent(p, spec.ItemCount)
				s.saveBackup(aj)
			},
		})
		if err != nil {
			return err
		}
		var outOfSpec string
		if res.OutOfSpec > 0 {
			outOfSpec = fmt.Sprintf("kept %d items that DynamoDB's rules refuse, byte for byte as the source holds them (%s): %s",
				res.OutOfSpec, outOfSpecSummary, itemsText(res.OutOfSpec, res.OutOfSpecItems))
			notes = append(notes, outOfSpec)
			log.Warn("backup kept items out of DynamoDB's rules", "items", res.OutOfSpec)
		}
		scanEnd := s.now()
		meta, err := json.Marshal(pointMetadata{Table: spec, ResourceARN: job.ResourceARN, BackupJobID: job.ID,
			RecoveryPointID: rpID, ItemCount: res.Items, ContentChecksum: res.Checksum, Segments: res.Segments,
			OutOfSpecItems: res.OutOfSpec, OutOfSpec: res.OutOfSpecItems})
		if err != nil {
			return err
		}
		end := s.now()
		// The point's record goes in before the summary, so a complete
		// point always has one (see records.go); its size is the summary's.
		done := *rp
		done.Status, done.CompletionDate = backup.RecoveryPointCompleted, end
		done.ItemCount, done.ContentChecksum = res.Items, res.Checksum
		done.RestoreMetadata = restoreMetadata(spec, res)
		done.StatusMessage = outOfSpec
		if err := putPointRecord(ctx, vault.New(store), &done); err != nil {
			return err
		}
		m, err := w.Commit(ctx, vault.CommitInfo{TableARN: spec.TableArn, TableID: spec.TableId, StartTime: started,
			EndTime: end, ScanStartTime: scanStart, ScanEndTime: scanEnd, ExpectedItemCount: &res.Items, Metadata: meta,
			ContentChecksum: res.Checksum})
		if err != nil {
			return fmt.Errorf("commit recovery point: %w", err)
		}
		w = nil // committed: nothing to abort
		done.BackupSizeInBytes = m.Summary.Cairn.StoredBytes
		*rp = done
		// The point's data is committed: it is recorded COMPLETED once the
		// catalog answers (it may be restarting), and not before.
		if err := s.untilRecorded("record the completed recovery point", log, func(ctx context.Context) error {
			return s.cfg.Catalog.UpdateRecoveryPoint(ctx, rp)
		}); err != nil {
			return fmt.Errorf("record completed recovery point: %w", err)
		}
		if err := putPointRecord(context.WithoutCancel(ctx), vault.New(store), rp); err != nil {
			log.Warn("the recovery point's record lacks its size; a catalog rebuild takes it from the summary", "err", err)
		}
		if err := s.dropCheckpoints(ctx, job.ID); err != nil {
			log.Warn("the job's checkpoints stay in the catalog; they are dropped when it is pruned", "err", err)
		}
		aj.mu.Lock()
		job.BytesTransferred, job.ItemCount, job.BackupSizeInBytes = res.Bytes, res.Items, m.Summary.Cairn.StoredBytes
		job.StatusMessage = strings.Join(notes, ". ")
		aj.mu.Unlock()
		return nil
	}()
	return w, rp, err
}

// compression chooses how a job's data files are compressed: the job's
// BackupOptions, else the vault's, else the server's.
func (s *Service) compression(v *backup.Vault, job *backup.BackupJob) vault.Compression {
	for _, c := range []string{job.Options.Compression, v.Storage.Compression} {
		if c != "" {
			return vault.Compression(c)
		}
	}
	return vault.Compression(s.cfg.Compression)
}

// finishBackup ends a job: COMPLETED if err is nil, else ABORTED (stopped),
// EXPIRED (its completion window ended) or FAILED, after removing the
// partial recovery point. A completed job's rule copies are started.
func (s *Service) finishBackup(aj *activeJob, w *vault.Writer, rp *backup.RecoveryPoint, err error, log *slog.Logger) {
	if err != nil {
		s.discardAttempt(w, rp, log)
	}
	aj.mu.Lock()
	job := aj.backup
	if job.State.Terminal() { // ended by StopBackupJob or the scheduler
		aj.mu.Unlock()
		return
	}
	job.CompletionDate = s.now()
	switch {
	case err == nil:
		// A completed job keeps the notes of its attempt (fewer segments
		// than asked, items out of DynamoDB's rules): AWS Backup's
		// "completed with issues" is a COMPLETED job with a status message.
		job.State, job.PercentDone = backup.JobCompleted, 100
		log.Info("backup job completed", "items", job.ItemCount, "bytes", job.BackupSizeInBytes, "message", job.StatusMessage)
	case job.State == backup.JobAborting || errors.Is(err, errStopped):
		job.State, job.StatusMessage = backup.JobAborted, "stopped by StopBackupJob; the partial recovery point was removed"
		log.Info("backup job aborted")
	case aj.completionExpired:
		job.State = backup.JobExpired
		job.StatusMessage = completionExpiredMessage(job)
		log.Warn("backup job expired: its completion window ended", "complete_by", job.CompleteBy)
	case s.interrupted(err):
		s.requeueBackup(aj)
		log.Warn("backup job stopped by the server's shutdown; it starts again after the restart", "start_by", job.StartBy)
	default:
		job.State = backup.JobFailed
		job.StatusMessage = causeMessage(err) + "; no recovery point was kept"
		log.Error("backup job failed", "err", err)
	}
	err = s.cfg.Catalog.UpdateBackupJob(context.Background(), job)
	done := *job
	aj.mu.Unlock()
	if err != nil {
		// The job's end is recorded however long the catalog takes to
		// answer again: never left RUNNING, never COMPLETED unrecorded.
		if err := s.untilRecorded("save the end of the backup job", log, func(ctx context.Context) error {
			return s.cfg.Catalog.UpdateBackupJob(ctx, &done)
		}); err != nil {
			log.Error("save backup job", "err", err)
			return
		}
	}
	if done.State == backup.JobCompleted && rp != nil {
		s.afterBackup(s.ctx, &done, rp)
	}
}

func percent(p engine.Progress, estimate int64) float64 {
	if estimate > 0 {
		return min(99, 100*float64(p.Items)/float64(estimate))
	}
	if p.PartsTotal > 0 {
		return min(99, 100*float64(p.PartsDone)/float64(p.PartsTotal))
	}
	return 0
}

// restoreMetadata is what GetRecoveryPointRestoreMetadata reports for a
// point: AWS's DynamoDB keys (encryptionType, kmsMasterKeyArn,
// deletionProtection) with the values a restore uses unless told
// otherwise, and cairn's keys describing the table and the point (see
// backup.ParseDynamoDBRestoreMetadata). Sent back unchanged with a table
// name added, it restores the point as it is.
func restoreMetadata(spec *dynamodb.TableSpec, res *engine.BackupResult) map[string]string {
	m := map[string]string{
		backup.MetaOriginalTableName:  spec.TableName,
		backup.MetaTableARN:           spec.TableArn,
		backup.MetaItemCount:          strconv.FormatInt(res.Items, 10),
		backup.MetaContentChecksum:    res.Checksum,
		backup.MetaEncryptionType:     backup.EncryptionDefault,
		backup.MetaDeletionProtection: strconv.FormatBool(spec.DeletionProtectionEnabled),
	}
	if spec.BillingMode != "" {
		m[backup.MetaBillingMode] = spec.BillingMode
	}
	if e := spec.SSEDescription; e != nil && e.SSEType == "KMS" && (e.Status == "ENABLED" || e.Status == "ENABLING" || e.Status == "UPDATING") {
		m[backup.MetaEncryptionType] = backup.EncryptionKMS
		if e.KMSMasterKeyArn != "" {
			m[backup.MetaKMSMasterKeyARN] = e.KMSMasterKeyArn
		}
	}
	if spec.TableClass != "" {
		m[backup.MetaTableClass] = spec.TableClass
	}
	type rates struct {
		ReadUnitsPerSecond  int64
		WriteUnitsPerSecond int64
	}
	if w := spec.WarmThroughput; w != nil {
		b, _ := json.Marshal(rates{w.ReadUnitsPerSecond, w.WriteUnitsPerSecond})
		m[backup.MetaWarmThroughput] = string(b)
	}
	idx := map[string]rates{}
	for _, g := range spec.GlobalSecondaryIndexes {
		if w := g.WarmThroughput; w != nil {
			idx[g.IndexName] = rates{w.ReadUnitsPerSecond, w.WriteUnitsPerSecond}
		}
	}
	if len(idx) > 0 {
		b, _ := json.Marshal(idx)
		m[backup.MetaIndexWarmThroughput] = string(b)
	}
	if res.OutOfSpec > 0 {
		m[backup.MetaOutOfSpecItems] = strconv.FormatInt(res.OutOfSpec, 10)
	}
	return m
}

// GetBackupJob returns a job.
func (s *Service) GetBackupJob(ctx context.Context, id string) (*backup.BackupJob, error) {
	return s.cfg.Catalog.GetBackupJob(ctx, id)
}

// ListBackupJobs lists jobs.
func (s *Service) ListBackupJobs(ctx context.Context, f backup.BackupJobFilter) ([]*backup.BackupJob, string, error) {
	return s.cfg.Catalog.ListBackupJobs(ctx, f)
}

// StopBackupJob stops an active job. A running job goes ABORTING now and
// ABORTED once its partial data is removed; one that has not started yet
// goes ABORTED at once.
func (s *Service) StopBackupJob(ctx context.Context, id string) error {
	job, err := s.cfg.Catalog.GetBackupJob(ctx, id)
	if err != nil {
		return err
	}
	if job.State.Terminal() {
		return backup.Errorf(backup.ErrInvalidRequest, "backup job %s is already %s and cannot be stopped", id, job.State)
	}
	aj := s.active(id)
	if aj == nil && s.stopElsewhere(job) { // the node that runs it stops it
		return s.cfg.Catalog.UpdateBackupJob(ctx, job)
	}
	if aj == nil { // not run by this process: nothing to cancel
		job.State, job.StatusMessage, job.CompletionDate = backup.JobAborted, "stopped by StopBackupJob", s.now()
		return s.cfg.Catalog.UpdateBackupJob(ctx, job)
	}
	aj.mu.Lock()
	if aj.backup.State.Terminal() {
		st := aj.backup.State
		aj.mu.Unlock()
		return backup.Errorf(backup.ErrInvalidRequest, "backup job %s is already %s and cannot be stopped", id, st)
	}
	if aj.backup.State == backup.JobRunning {
		aj.backup.State = backup.JobAborting
	} else { // not started: nothing to remove
		aj.backup.State, aj.backup.StatusMessage, aj.backup.CompletionDate = backup.JobAborted, "stopped by StopBackupJob before it started", s.now()
	}
	s.saveBackup(aj)
	aj.mu.Unlock()
	aj.cancel(errStopped)
	return nil
}

func (s *Service) retryPolicy(log *slog.Logger) dynamodb.RetryPolicy {
	p := s.cfg.Retry
	if p.OnRetry == nil {
		p.OnRetry = func(attempt int, delay time.Duration, err error) {
			log.Warn("retrying DynamoDB call", "attempt", attempt, "delay", delay, "err", err)
		}
	}
	return p
}
