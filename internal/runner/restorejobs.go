package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
)

// Restore metadata keys. TargetTableName is AWS's; the cairn: keys are
// cairn's own.
const (
	MetaTargetTableName = "TargetTableName"
	// MetaTargetSource names the configured source to restore into; default
	// the source the table was backed up from.
	MetaTargetSource = "cairn:TargetSource"
	// MetaSkipValidation set to "true" skips the post-restore check of item
	// count and content checksum.
	MetaSkipValidation = "cairn:SkipValidation"
)

// StartRestoreJob validates the request, records a PENDING restore job and
// runs it in the background; it answers without asking the target source
// anything. The target table must not exist: the job fails rather than
// write into an existing table. A request with the IdempotencyToken of an
// earlier one gets that request's job (see idempotency.go).
func (s *Service) StartRestoreJob(ctx context.Context, in backup.StartRestoreJobInput) (*backup.RestoreJob, error) {
	id, err := backup.ParseRecoveryPointARN(in.RecoveryPointARN)
	if err != nil {
		return nil, err
	}
	if in.ResourceType != "" && in.ResourceType != backup.ResourceTypeDynamoDB {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "resource type %q cannot be restored by cairn; only %s", in.ResourceType, backup.ResourceTypeDynamoDB)
	}
	target := in.Metadata[MetaTargetTableName]
	if target == "" {
		target = in.Metadata["targetTableName"]
	}
	if target == "" {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "restore metadata must name the new table: --metadata TargetTableName=NAME")
	}
	if err := backup.ValidateTableName(target); err != nil {
		return nil, err
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if rp.Status != backup.RecoveryPointCompleted {
		return nil, backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is %s; only a COMPLETED recovery point can be restored", rp.ARN, rp.Status)
	}
	src, _, _, err := s.source(rp.ResourceARN)
	if name := in.Metadata[MetaTargetSource]; name != "" {
		src, err = s.sourceByName(name)
	}
	if err != nil {
		return nil, err
	}
	for k := range in.Metadata {
		if strings.HasPrefix(k, "cairn:") && k != MetaTargetSource && k != MetaSkipValidation {
			return nil, backup.Errorf(backup.ErrInvalidParameter, "unknown restore metadata key %q (cairn knows %s and %s)", k, MetaTargetSource, MetaSkipValidation)
		}
	}
	token := in.IdempotencyToken
	in.IdempotencyToken = ""
	hash := requestHash("StartRestoreJob", in)
	if token != "" {
		if j, err := s.restoreJobByToken(ctx, token, hash); j != nil || err != nil {
			return j, err
		}
	}
	job := &backup.RestoreJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		RecoveryPointARN: rp.ARN, VaultARN: rp.VaultARN, ResourceType: backup.ResourceTypeDynamoDB,
		IAMRoleARN: in.IAMRoleARN, Metadata: in.Metadata, CopySourceTags: in.CopySourceTags,
		IdempotencyToken: token, RequestHash: hash, Status: backup.RestorePending,
		BackupSizeInBytes: rp.BackupSizeInBytes, CreationDate: s.now(),
	}
	if err := s.cfg.Catalog.CreateRestoreJob(ctx, job); err != nil {
		if holder, ok := tokenHolder(err); ok {
			j, err := s.cfg.Catalog.GetRestoreJob(ctx, holder)
			if err != nil {
				return nil, err
			}
			if err := sameRequest("StartRestoreJob", token, "restore job", j.ID, j.RequestHash, hash); err != nil {
				return nil, err
			}
			return j, nil
		}
		return nil, err
	}
	out := *job
	aj := &activeJob{restore: job}
	if err := s.launch(job.ID, aj, func(ctx context.Context) { s.runRestore(ctx, aj, rp, src, target) }); err != nil {
		job.Status, job.StatusMessage, job.CompletionDate = backup.RestoreFailed, "cairn server is shutting down", s.now()
		_ = s.cfg.Catalog.UpdateRestoreJob(context.WithoutCancel(ctx), job)
		return nil, err
	}
	s.log.Info("restore job created", "job", job.ID, "recovery_point", rp.ARN, "table", target)
	return &out, nil
}

func (s *Service) saveRestore(aj *activeJob) {
	if err := s.cfg.Catalog.UpdateRestoreJob(context.Background(), aj.restore); err != nil {
		s.log.Error("save restore job", "job", aj.restore.ID, "err", err)
	}
}

func (s *Service) runRestore(ctx context.Context, aj *activeJob, rp *backup.RecoveryPoint, src *Source, target string) {
	job := aj.restore
	log := s.log.With("job", job.ID, "recovery_point", rp.ARN, "table", target)
	if err := s.acquire(ctx); err != nil {
		s.finishRestore(aj, nil, err, log)
		return
	}
	defer s.release()
	aj.mu.Lock()
	job.Status = backup.RestoreRunning
	s.saveRestore(aj)
	aj.mu.Unlock()

	var notApplied []string
	err := func() error {
		// Pin the point so no cold move removes its files while they are
		// read, then read it where it is now (warm or cold).
		release, err := inUse.read(ctx, rp.ID)
		if err != nil {
			return err
		}
		defer release()
		cur, err := s.cfg.Catalog.GetRecoveryPoint(ctx, rp.ID)
		if err != nil {
			return fmt.Errorf("recovery point %s: %w", rp.ARN, err)
		}
		if cur.Status != backup.RecoveryPointCompleted {
			return fmt.Errorf("recovery point %s is %s now; only a COMPLETED recovery point can be restored", rp.ARN, cur.Status)
		}
		pv, err := s.pointVault(ctx, cur)
		if err != nil {
			return err
		}
		r, err := pv.Open(ctx, rp.ID)
		if err != nil {
			return fmt.Errorf("open recovery point: %w", err)
		}
		var meta pointMetadata
		if err := json.Unmarshal(r.Metadata(), &meta); err != nil || meta.Table == nil {
			return fmt.Errorf("recovery point metadata is unreadable: %v", err)
		}
		created, err := src.Client.CreateTable(ctx, meta.Table, target, dynamodb.CreateOptions{CopyTags: job.CopySourceTags})
		if err != nil {
			if errors.Is(err, dynamodb.ErrTableExists) {
				return fmt.Errorf("table %s already exists in source %s; cairn never writes into an existing table: choose another TargetTableName or delete the table", target, src.Name)
			}
			return fmt.Errorf("create table %s: %w", target, err)
		}
		notApplied = created.NotApplied
		aj.mu.Lock()
		job.CreatedResourceARN = created.TableARN
		s.saveRestore(aj)
		aj.mu.Unlock()

		files := r.Files()
		opens := make([]func(context.Context) (engine.ItemIterator, error), len(files))
		for i, f := range files {
			opens[i] = func(ctx context.Context) (engine.ItemIterator, error) { return r.OpenFile(ctx, f) }
		}
		res, err := engine.Restore(ctx, engine.RestoreInput{
			Table: target, Writer: dynamodb.NewRetryWriter(src.Client, s.retryPolicy(log)), Files: opens,
			Writers: s.cfg.RestoreWriters, ProgressInterval: s.cfg.ProgressInterval,
			Progress: func(p engine.Progress) {
				aj.mu.Lock()
				defer aj.mu.Unlock()
				job.ItemsRestored = p.Items
				if rp.ItemCount > 0 {
					job.PercentDone = min(99, 100*float64(p.Items)/float64(rp.ItemCount))
				}
				s.saveRestore(aj)
			},
		})
		if err != nil {
			return fmt.Errorf("%w (table %s holds part of the items; delete it before restoring again)", err, target)
		}
		aj.mu.Lock()
		job.ItemsRestored = res.Items
		skip := job.Metadata[MetaSkipValidation] == "true"
		if !skip {
			// Clients can tell the check from the writing (cairn restore
			// shows "validating").
			job.ValidationStatus = backup.ValidationValidating
			s.saveRestore(aj)
		}
		aj.mu.Unlock()
		if skip {
			return nil
		}
		alg, err := ddbjson.ChecksumAlgorithmOf(rp.ContentChecksum)
		if err != nil {
			return fmt.Errorf("validate restored table: the recovery point's content checksum: %w", err)
		}
		check, err := engine.Backup(ctx, engine.BackupInput{Table: target, ChecksumAlgorithm: alg,
			Scanner: dynamodb.NewRetryScanner(src.Client, s.retryPolicy(log)), TableSizeBytes: rp.BackupSizeInBytes})
		if err != nil {
			return fmt.Errorf("validate restored table: %w", err)
		}
		aj.mu.Lock()
		defer aj.mu.Unlock()
		if check.Items != rp.ItemCount || check.Checksum != rp.ContentChecksum {
			job.ValidationStatus = backup.ValidationFailed
			job.ValidationStatusMessage = fmt.Sprintf("restored table has %d items with checksum %s; the recovery point has %d items with checksum %s",
				check.Items, check.Checksum, rp.ItemCount, rp.ContentChecksum)
			return errors.New("validation failed: " + job.ValidationStatusMessage)
		}
		job.ValidationStatus = backup.ValidationSuccessful
		job.ValidationStatusMessage = fmt.Sprintf("%d items, content checksum %s match the recovery point", check.Items, check.Checksum)
		return nil
	}()
	if errors.Is(err, blob.ErrArchived) {
		err = fmt.Errorf("the recovery point's data files are in an archive storage class of S3 cold storage: "+
			"restore them with S3 RestoreObject first (or give the vault tag %s=GLACIER_IR for cold points that restore at once): %w",
			backup.TagColdStorageClass, err)
	}
	s.finishRestore(aj, notApplied, err, log)
}

func (s *Service) finishRestore(aj *activeJob, notApplied []string, err error, log *slog.Logger) {
	aj.mu.Lock()
	defer aj.mu.Unlock()
	job := aj.restore
	job.CompletionDate = s.now()
	var msgs []string
	switch {
	case err == nil:
		job.Status, job.PercentDone = backup.RestoreCompleted, 100
		log.Info("restore job completed", "items", job.ItemsRestored)
	default:
		if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
			err = errors.New("cairn server stopped while the job was running")
		}
		job.Status = backup.RestoreFailed
		if job.ValidationStatus == backup.ValidationValidating {
			// The check did not end: no verdict.
			job.ValidationStatus = ""
		}
		msgs = append(msgs, causeMessage(err))
		log.Error("restore job failed", "err", err)
	}
	if len(notApplied) > 0 {
		msgs = append(msgs, "not applied: "+strings.Join(notApplied, "; "))
	}
	job.StatusMessage = strings.Join(msgs, ". ")
	s.saveRestore(aj)
}

// GetRestoreJob returns a restore job.
func (s *Service) GetRestoreJob(ctx context.Context, id string) (*backup.RestoreJob, error) {
	return s.cfg.Catalog.GetRestoreJob(ctx, id)
}

// ListRestoreJobs lists restore jobs.
func (s *Service) ListRestoreJobs(ctx context.Context, f backup.RestoreJobFilter) ([]*backup.RestoreJob, string, error) {
	return s.cfg.Catalog.ListRestoreJobs(ctx, f)
}
