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

// Restore metadata keys (see backup.ParseDynamoDBRestoreMetadata, which
// matches keys without regard to case).
const (
	MetaTargetTableName = "TargetTableName"
	// MetaTargetSource names the configured source to restore into; default
	// the source the table was backed up from.
	MetaTargetSource = backup.MetaTargetSource
	// MetaSkipValidation set to "true" skips the post-restore check of item
	// count and content checksum.
	MetaSkipValidation = backup.MetaSkipValidation
	// MetaAllowRefusedItems set to "true" ends a restore whose target
	// refused items COMPLETED instead of FAILED.
	MetaAllowRefusedItems = backup.MetaAllowRefusedItems
)

// StartRestoreJob validates the request, records a PENDING restore job and
// runs it in the background; it answers without asking the target source
// anything. The target table must not exist: the job fails rather than
// write into an existing table. A request with the IdempotencyToken of an
// earlier one gets that request's job (see idempotency.go).
func (s *Service) StartRestoreJob(ctx context.Context, in backup.StartRestoreJobInput) (*backup.RestoreJob, error) {
	if err := s.accepting(); err != nil {
		return nil, err
	}
	id, err := backup.ParseRecoveryPointARN(in.RecoveryPointARN)
	if err != nil {
		return nil, err
	}
	if in.ResourceType != "" && in.ResourceType != backup.ResourceTypeDynamoDB {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "resource type %q cannot be restored by cairn; only %s", in.ResourceType, backup.ResourceTypeDynamoDB)
	}
	meta, err := backup.ParseDynamoDBRestoreMetadata(in.Metadata)
	if err != nil {
		return nil, err
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if rp.Status != backup.RecoveryPointCompleted {
		return nil, backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is %s; only a COMPLETED recovery point can be restored", rp.ARN, rp.Status)
	}
	if err := meta.CheckRecorded(rp.ARN, rp.RestoreMetadata); err != nil {
		return nil, err
	}
	src, _, _, err := s.source(rp.ResourceARN)
	if meta.TargetSource != "" {
		src, err = s.sourceByName(meta.TargetSource)
	}
	if err != nil {
		return nil, err
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
	if err := s.launchRestore(job, rp, src, meta); err != nil {
		job.Status, job.StatusMessage, job.CompletionDate = backup.RestoreFailed, "cairn server is shutting down", s.now()
		_ = s.cfg.Catalog.UpdateRestoreJob(context.WithoutCancel(ctx), job)
		return nil, err
	}
	s.log.Info("restore job created", "job", job.ID, "recovery_point", rp.ARN, "table", meta.TargetTableName)
	return &out, nil
}

func (s *Service) saveRestore(aj *activeJob) {
	if err := s.cfg.Catalog.UpdateRestoreJob(context.Background(), aj.restore); err != nil {
		s.log.Error("save restore job", "job", aj.restore.ID, "err", err)
	}
}

// restoreRetryPolicy is the retry policy of a restore's writes and check:
// right after CreateTable, DynamoDB may answer ResourceNotFoundException
// for the new table for a while, even once it said ACTIVE.
func (s *Service) restoreRetryPolicy(log *slog.Logger) dynamodb.RetryPolicy {
	p := s.retryPolicy(log)
	p.RetryNotFound = true
	return p
}

func (s *Service) runRestore(ctx context.Context, aj *activeJob, rp *backup.RecoveryPoint, src *Source, opts *backup.DynamoDBRestore) {
	job := aj.restore
	target := opts.TargetTableName
	log := s.log.With("job", job.ID, "recovery_point", rp.ARN, "table", target)
	if err := s.acquire(ctx); err != nil {
		if errors.Is(err, errDraining) {
			log.Info("server stopping: the restore job stays PENDING and runs after the next start")
			return
		}
		s.finishRestore(aj, nil, err, log)
		return
	}
	defer s.release()
	aj.mu.Lock()
	job.Status = backup.RestoreRunning
	s.saveRestore(aj)
	aj.mu.Unlock()

	var notes []string
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
			return fmt.Errorf("open recovery point: %w; nothing was restored", err)
		}
		// Every data file is checked before the table is made, so a
		// damaged point is refused instead of half restored.
		if err := r.CheckFiles(ctx); err != nil {
			return fmt.Errorf("check recovery point: %w; nothing was restored", err)
		}
		var meta pointMetadata
		if err := json.Unmarshal(r.Metadata(), &meta); err != nil || meta.Table == nil {
			return fmt.Errorf("recovery point metadata is unreadable: %v", err)
		}
		alg, algErr := ddbjson.ChecksumAlgorithmOf(rp.ContentChecksum)
		files := r.Files()
		// A job that made its table and wrote files into it before its
		// process died resumes: the table is its own, and the files its
		// checkpoints record are not written again.
		done, err := s.restoreCheckpoints(ctx, job, src, target, log)
		if err != nil {
			return err
		}
		if done != nil {
			msg := fmt.Sprintf("resumed after a restart: %d of the %d data files were written into %s before and are not written again",
				len(done), len(files), job.CreatedResourceARN)
			notes = append(notes, msg)
			log.Info("restore job resumes from checkpoints", "files_done", len(done), "files", len(files), "message", msg)
		} else {
			// A restore taken over from a dead node before its first
			// checkpoint writes again into the table its earlier attempt
			// created (dispatch.go).
			created, err := s.earlierAttemptTable(ctx, src, target, job)
			if created == nil && err == nil {
				created, err = src.Client.CreateTable(ctx, meta.Table, target, dynamodb.CreateOptions{CopyTags: job.CopySourceTags,
					EncryptionType: opts.EncryptionType, KMSMasterKeyArn: opts.KMSMasterKeyARN, DeletionProtection: opts.DeletionProtection,
					BillingMode: opts.BillingMode, TableClass: opts.TableClass})
			}
			if created != nil && len(created.NotApplied) > 0 {
				notes = append(notes, "not applied: "+strings.Join(created.NotApplied, "; "))
			}
			if err != nil {
				if errors.Is(err, dynamodb.ErrTableExists) {
					return fmt.Errorf("table %s already exists in source %s; cairn never writes into an existing table: choose another TargetTableName or delete the table", target, src.Name)
				}
				return fmt.Errorf("create table %s: %w", target, err)
			}
			aj.mu.Lock()
			job.CreatedResourceARN = created.TableARN
			s.saveRestore(aj)
			aj.mu.Unlock()
		}

		opens := make([]func(context.Context) (engine.ItemIterator, error), len(files))
		for i, f := range files {
			opens[i] = func(ctx context.Context) (engine.ItemIterator, error) { return r.OpenFile(ctx, f) }
		}
		var writer dynamodb.Writer = src.Client
		if s.cfg.WrapWriter != nil {
			writer = s.cfg.WrapWriter(writer)
		}
		res, err := engine.Restore(ctx, engine.RestoreInput{
			Table: target, Writer: dynamodb.NewRetryWriter(writer, s.restoreRetryPolicy(log)), Files: opens,
			Writers: s.cfg.RestoreWriters, ProgressInterval: s.cfg.ProgressInterval,
			KeyAttributes: keyNames(meta.Table.KeySchema), ChecksumAlgorithm: alg,
			FileDone: s.saveFile(ctx, job.ID, job.CreatedResourceARN), Done: done,
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
		if !opts.SkipValidation {
			// Clients can tell the check from the writing (cairn restore
			// shows "validating").
			job.ValidationStatus = backup.ValidationValidating
			s.saveRestore(aj)
		}
		aj.mu.Unlock()
		// Items the target refused are named, and the job fails unless
		// told to accept that (the table holds every other item).
		var refused error
		if res.Refused > 0 {
			text := fmt.Sprintf("the target refused %d of the recovery point's %d items as invalid, as DynamoDB refuses items that break its rules "+
				"(the recovery point holds them as the source did); table %s holds the other %d: %s",
				res.Refused, rp.ItemCount, target, res.Items, itemsText(res.Refused, res.RefusedItems))
			log.Warn("restore target refused items", "items", res.Refused)
			if opts.AllowRefusedItems {
				notes = append([]string{text}, notes...)
			} else {
				refused = &refusedError{text: fmt.Sprintf("%s. To accept a table without them, restore with %s=true", text, MetaAllowRefusedItems)}
			}
		}
		if opts.SkipValidation {
			return refused
		}
		if algErr != nil {
			return fmt.Errorf("validate restored table: the recovery point's content checksum: %w", algErr)
		}
		check, err := engine.Backup(ctx, engine.BackupInput{Table: target, ChecksumAlgorithm: alg, KeyAttributes: keyNames(meta.Table.KeySchema),
			Scanner: dynamodb.NewRetryScanner(src.Client, s.restoreRetryPolicy(log)), TableSizeBytes: rp.BackupSizeInBytes})
		if err != nil {
			return fmt.Errorf("validate restored table: %w", err)
		}
		// The table plus the refused items must be the point.
		all := check.Sum
		all.Merge(&res.RefusedSum)
		aj.mu.Lock()
		defer aj.mu.Unlock()
		if all.Count() != rp.ItemCount || all.Sum() != rp.ContentChecksum {
			job.ValidationStatus = backup.ValidationFailed
			job.ValidationStatusMessage = fmt.Sprintf("restored table has %d items with checksum %s; the recovery point has %d items with checksum %s",
				check.Items, check.Checksum, rp.ItemCount, rp.ContentChecksum)
			if res.Refused > 0 {
				job.ValidationStatusMessage += fmt.Sprintf(" (%d items the target refused counted with the table)", res.Refused)
			}
			return errors.New("validation failed: " + job.ValidationStatusMessage)
		}
		job.ValidationStatus = backup.ValidationSuccessful
		job.ValidationStatusMessage = fmt.Sprintf("%d items, content checksum %s match the recovery point", check.Items, check.Checksum)
		if res.Refused > 0 {
			job.ValidationStatusMessage = fmt.Sprintf("%d items with content checksum %s, and the %d items the target refused, "+
				"match the recovery point's %d items and checksum %s", check.Items, check.Checksum, res.Refused, rp.ItemCount, rp.ContentChecksum)
		}
		return refused
	}()
	if errors.Is(err, blob.ErrArchived) {
		err = fmt.Errorf("the recovery point's data files are in an archive storage class of S3 cold storage: "+
			"restore them with S3 RestoreObject first (or give the vault tag %s=GLACIER_IR for cold points that restore at once): %w",
			backup.TagColdStorageClass, err)
	}
	s.finishRestore(aj, notes, err, log)
}

// finishRestore ends a restore job: COMPLETED if err is nil, else FAILED
// with err as its message; notes (settings not applied, items refused and
// accepted) follow in the StatusMessage.
func (s *Service) finishRestore(aj *activeJob, notes []string, err error, log *slog.Logger) {
	if derr := s.dropCheckpoints(context.Background(), aj.restore.ID); derr != nil {
		log.Warn("the restore job's checkpoints stay in the catalog", "err", derr)
	}
	aj.mu.Lock()
	defer aj.mu.Unlock()
	job := aj.restore
	job.CompletionDate = s.now()
	var msgs []string
	switch {
	case err == nil:
		job.Status, job.PercentDone = backup.RestoreCompleted, 100
		log.Info("restore job completed", "items", job.ItemsRestored)
	case s.interrupted(err):
		job.Status = backup.RestoreFailed
		if job.ValidationStatus == backup.ValidationValidating {
			job.ValidationStatus = ""
		}
		msgs = append(msgs, interruptedRestoreMessage(job, restoreTarget(job.Metadata)))
		log.Warn("restore job stopped by the server's shutdown", "err", err)
	default:
		job.Status = backup.RestoreFailed
		if job.ValidationStatus == backup.ValidationValidating {
			// The check did not end: no verdict.
			job.ValidationStatus = ""
		}
		var re *refusedError
		if errors.As(err, &re) {
			msgs = append(msgs, re.text)
		} else {
			msgs = append(msgs, causeMessage(err))
		}
		log.Error("restore job failed", "err", err)
	}
	msgs = append(msgs, notes...)
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
