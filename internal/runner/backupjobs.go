package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
}

// StartBackupJob validates the request, records a CREATED job and starts it
// in the background.
func (s *Service) StartBackupJob(ctx context.Context, in backup.StartBackupJobInput) (*backup.BackupJob, error) {
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
	if in.IdempotencyToken != "" {
		jobs, _, err := s.cfg.Catalog.ListBackupJobs(ctx, backup.BackupJobFilter{IdempotencyToken: in.IdempotencyToken, Page: backup.Page{MaxResults: 1}})
		if err != nil {
			return nil, err
		}
		if len(jobs) > 0 {
			return jobs[0], nil
		}
	}
	if _, err := src.Client.DescribeTable(ctx, table); err != nil {
		if errors.Is(err, dynamodb.ErrTableNotFound) {
			return nil, &backup.Error{Code: backup.ErrNotFound, Message: fmt.Sprintf("table %s not found in source %s", table, src.Name),
				Type: "Resource", Context: in.ResourceARN}
		}
		return nil, backup.Errorf(backup.ErrInvalidRequest, "cannot describe table %s in source %s: %v", table, src.Name, err)
	}
	now := s.now()
	startWindow, completeWindow := DefaultStartWindow, DefaultCompletionWindow
	if in.StartWindowMins > 0 {
		startWindow = time.Duration(in.StartWindowMins) * time.Minute
	}
	if in.CompleteWindowMin > 0 {
		completeWindow = time.Duration(in.CompleteWindowMin) * time.Minute
	}
	rpID := newID()
	job := &backup.BackupJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		VaultName: v.Name, VaultARN: v.ARN,
		RecoveryPointARN: backup.RecoveryPointARN(s.cfg.Region, s.cfg.AccountID, rpID),
		ResourceARN:      a.String(), ResourceType: backup.ResourceTypeDynamoDB, ResourceName: table,
		IAMRoleARN: in.IAMRoleARN, IdempotencyToken: in.IdempotencyToken,
		State: backup.JobCreated, CreationDate: now, StartBy: now.Add(startWindow),
		ExpectedCompletionDate: now.Add(completeWindow),
		Lifecycle:              in.Lifecycle, RecoveryPointTags: in.RecoveryPointTags, Options: in.Options,
	}
	if err := s.cfg.Catalog.CreateBackupJob(ctx, job); err != nil {
		if backup.ErrorCode(err) == backup.ErrConflict {
			return nil, &backup.Error{Code: backup.ErrConflict, Type: "BackupJob", Context: a.String(),
				Message: fmt.Sprintf("a backup job for %s is already in progress; wait for it or stop it with StopBackupJob", a.String())}
		}
		return nil, err
	}
	out := *job
	aj := &activeJob{backup: job}
	if err := s.launch(job.ID, aj, func(ctx context.Context) { s.runBackup(ctx, aj, v, src, table, rpID) }); err != nil {
		job.State, job.StatusMessage, job.CompletionDate = backup.JobFailed, "cairn server is shutting down", s.now()
		_ = s.cfg.Catalog.UpdateBackupJob(context.WithoutCancel(ctx), job)
		return nil, err
	}
	s.log.Info("backup job created", "job", job.ID, "resource", job.ResourceARN, "vault", v.Name)
	return &out, nil
}

// save persists the active job's current state; the caller holds aj.mu.
func (s *Service) saveBackup(aj *activeJob) {
	if err := s.cfg.Catalog.UpdateBackupJob(context.Background(), aj.backup); err != nil {
		s.log.Error("save backup job", "job", aj.backup.ID, "err", err)
	}
}

func (s *Service) runBackup(ctx context.Context, aj *activeJob, v *backup.Vault, src *Source, table, rpID string) {
	job := aj.backup
	log := s.log.With("job", job.ID, "resource", job.ResourceARN, "vault", v.Name)
	if err := s.acquire(ctx); err != nil {
		s.finishBackup(aj, nil, nil, err, log)
		return
	}
	defer s.release()
	if s.now().After(job.StartBy) {
		aj.mu.Lock()
		job.State, job.StatusMessage, job.CompletionDate = backup.JobExpired, "the job did not start within its start window", s.now()
		s.saveBackup(aj)
		aj.mu.Unlock()
		return
	}
	aj.mu.Lock()
	if job.State != backup.JobCreated { // stopped while waiting
		aj.mu.Unlock()
		s.finishBackup(aj, nil, nil, errStopped, log)
		return
	}
	job.State = backup.JobRunning
	s.saveBackup(aj)
	aj.mu.Unlock()
	log.Info("backup job running")

	var w *vault.Writer
	var rp *backup.RecoveryPoint
	err := func() error {
		spec, err := src.Client.DescribeTable(ctx, table)
		if err != nil {
			return fmt.Errorf("describe table %s: %w", table, err)
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
		if err := s.cfg.Catalog.CreateRecoveryPoint(ctx, rp); err != nil {
			return fmt.Errorf("record recovery point: %w", err)
		}
		w, err = vault.New(store).Create(ctx, rpID, vault.WriterOptions{Compression: vault.Compression(s.cfg.Compression)})
		if err != nil {
			return fmt.Errorf("create recovery point in vault: %w", err)
		}
		var scanner dynamodb.Scanner = dynamodb.NewRetryScanner(src.Client, s.retryPolicy(log))
		if job.Options.ReadRate > 0 {
			scanner = dynamodb.NewRateLimitedScanner(scanner, job.Options.ReadRate)
		}
		res, err := engine.Backup(ctx, engine.BackupInput{
			Table: table, Scanner: scanner, Segments: job.Options.Segments, TableSizeBytes: spec.TableSizeBytes,
			NewSink:          func() engine.ItemSink { return w.NewFile() },
			ProgressInterval: s.cfg.ProgressInterval,
			Progress: func(p engine.Progress) {
				aj.mu.Lock()
				defer aj.mu.Unlock()
				if job.State != backup.JobRunning {
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
		meta, err := json.Marshal(pointMetadata{Table: spec, ResourceARN: job.ResourceARN, BackupJobID: job.ID,
			RecoveryPointID: rpID, ItemCount: res.Items, ContentChecksum: res.Checksum, Segments: res.Segments})
		if err != nil {
			return err
		}
		end := s.now()
		m, err := w.Commit(ctx, vault.CommitInfo{TableARN: spec.TableArn, TableID: spec.TableId, StartTime: started,
			EndTime: end, ExportTime: started, ExpectedItemCount: &res.Items, Metadata: meta, ContentChecksum: res.Checksum})
		if err != nil {
			return fmt.Errorf("commit recovery point: %w", err)
		}
		w = nil // committed: nothing to abort
		rp.Status, rp.CompletionDate = backup.RecoveryPointCompleted, end
		rp.BackupSizeInBytes, rp.ItemCount, rp.ContentChecksum = m.Summary.Cairn.StoredBytes, res.Items, res.Checksum
		rp.RestoreMetadata = restoreMetadata(spec, res)
		if err := s.cfg.Catalog.UpdateRecoveryPoint(context.WithoutCancel(ctx), rp); err != nil {
			return fmt.Errorf("record completed recovery point: %w", err)
		}
		aj.mu.Lock()
		job.BytesTransferred, job.ItemCount, job.BackupSizeInBytes = res.Bytes, res.Items, m.Summary.Cairn.StoredBytes
		aj.mu.Unlock()
		return nil
	}()
	s.finishBackup(aj, w, rp, err, log)
}

// finishBackup ends a job: COMPLETED if err is nil, else ABORTED (stopped)
// or FAILED, after removing the partial recovery point.
func (s *Service) finishBackup(aj *activeJob, w *vault.Writer, rp *backup.RecoveryPoint, err error, log *slog.Logger) {
	ctx := context.Background()
	if err != nil {
		if w != nil {
			if aerr := w.Abort(ctx); aerr != nil {
				log.Error("abort recovery point", "err", aerr)
			}
		}
		if rp != nil && rp.Status != backup.RecoveryPointCompleted {
			if derr := s.cfg.Catalog.DeleteRecoveryPoint(ctx, rp.ID); derr != nil && !backup.IsNotFound(derr) {
				log.Error("delete partial recovery point", "err", derr)
			}
		}
	}
	aj.mu.Lock()
	defer aj.mu.Unlock()
	job := aj.backup
	job.CompletionDate = s.now()
	switch {
	case err == nil:
		job.State, job.PercentDone, job.StatusMessage = backup.JobCompleted, 100, ""
		log.Info("backup job completed", "items", job.ItemCount, "bytes", job.BackupSizeInBytes)
	case job.State == backup.JobAborting || errors.Is(err, errStopped):
		job.State, job.StatusMessage = backup.JobAborted, "stopped by StopBackupJob; the partial recovery point was removed"
		log.Info("backup job aborted")
	default:
		if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
			err = errors.New("cairn server stopped while the job was running")
		}
		job.State = backup.JobFailed
		job.StatusMessage = causeMessage(err) + "; no recovery point was kept"
		log.Error("backup job failed", "err", err)
	}
	s.saveBackup(aj)
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

func restoreMetadata(spec *dynamodb.TableSpec, res *engine.BackupResult) map[string]string {
	m := map[string]string{
		"originalTableName": spec.TableName,
		"TableArn":          spec.TableArn,
		"ItemCount":         strconv.FormatInt(res.Items, 10),
		"ContentChecksum":   res.Checksum,
	}
	if spec.BillingMode != "" {
		m["BillingMode"] = spec.BillingMode
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

// StopBackupJob stops an active job: ABORTING now, ABORTED once its partial
// data is removed.
func (s *Service) StopBackupJob(ctx context.Context, id string) error {
	job, err := s.cfg.Catalog.GetBackupJob(ctx, id)
	if err != nil {
		return err
	}
	if job.State.Terminal() {
		return backup.Errorf(backup.ErrInvalidRequest, "backup job %s is already %s and cannot be stopped", id, job.State)
	}
	aj := s.active(id)
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
	aj.backup.State = backup.JobAborting
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
