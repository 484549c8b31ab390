package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// A copy job copies one COMPLETED recovery point into another vault of this
// cairn, where it becomes a new recovery point with its own ID and
// lifecycle: CREATED when accepted, RUNNING once a job slot is free,
// COMPLETED once the copy's bytes have been read back and checked (every
// data file's size and MD5 against the manifest, the manifests' checksums,
// the content checksum), FAILED otherwise, with its partial point removed.

// StartCopyJob validates the request, records a CREATED copy job and runs
// it in the background. The same IdempotencyToken returns the job it
// started before, even to concurrent requests; with other parameters it is
// an error (see idempotency.go).
func (s *Service) StartCopyJob(ctx context.Context, in backup.StartCopyJobInput) (*backup.CopyJob, error) {
	if err := s.accepting(); err != nil {
		return nil, err
	}
	return s.startCopy(ctx, in, nil)
}

// copyPlan is what startCopy validated: the job to run and its vaults.
type copyPlan struct {
	job      *backup.CopyJob
	src, dst *backup.Vault
	rp       *backup.RecoveryPoint
}

func (s *Service) startCopy(ctx context.Context, in backup.StartCopyJobInput, createdBy *backup.CreatedBy) (*backup.CopyJob, error) {
	plan, existing, err := s.planCopy(ctx, in, createdBy)
	if err != nil || existing != nil {
		return existing, err
	}
	job := plan.job
	if err := s.cfg.Catalog.CreateCopyJob(ctx, job); err != nil {
		if holder, ok := tokenHolder(err); ok {
			j, err := s.cfg.Catalog.GetCopyJob(ctx, holder)
			if err != nil {
				return nil, err
			}
			if err := sameRequest("StartCopyJob", job.IdempotencyToken, "copy job", j.ID, j.RequestHash, job.RequestHash); err != nil {
				return nil, err
			}
			return j, nil
		}
		return nil, err
	}
	out := *job
	if err := s.launchCopy(plan); err != nil {
		job.State, job.StatusMessage, job.CompletionDate = backup.CopyFailed, "cairn server is shutting down", s.now()
		_ = s.cfg.Catalog.UpdateCopyJob(context.WithoutCancel(ctx), job)
		return nil, err
	}
	s.log.Info("copy job created", "job", job.ID, "recovery_point", job.SourceRecoveryPointARN, "vault", plan.dst.Name)
	return &out, nil
}

// planCopy validates a copy request. It returns the job a previous request
// with the same IdempotencyToken started, if any.
func (s *Service) planCopy(ctx context.Context, in backup.StartCopyJobInput, createdBy *backup.CreatedBy) (*copyPlan, *backup.CopyJob, error) {
	for _, p := range []struct{ name, v string }{
		{"RecoveryPointArn", in.RecoveryPointARN}, {"SourceBackupVaultName", in.SourceBackupVaultName},
		{"DestinationBackupVaultArn", in.DestinationBackupVaultARN}, {"IamRoleArn", in.IAMRoleARN},
	} {
		if p.v == "" {
			return nil, nil, &backup.Error{Code: backup.ErrMissingParameter, Message: "StartCopyJob needs " + p.name, Context: p.name}
		}
	}
	if err := backup.ValidateLifecycle(in.Lifecycle); err != nil {
		return nil, nil, err
	}
	rp, err := s.GetRecoveryPoint(ctx, in.SourceBackupVaultName, in.RecoveryPointARN)
	if err != nil {
		return nil, nil, err
	}
	token := in.IdempotencyToken
	in.IdempotencyToken = ""
	hash := requestHash("StartCopyJob", in)
	if token != "" {
		if j, err := s.copyJobByToken(ctx, token, hash); err != nil || j != nil {
			return nil, j, err
		}
	}
	if rp.Status != backup.RecoveryPointCompleted {
		return nil, nil, backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is %s; only a COMPLETED recovery point can be copied", rp.ARN, rp.Status)
	}
	src, err := s.cfg.Catalog.GetVault(ctx, rp.VaultName)
	if err != nil {
		return nil, nil, err
	}
	dst, err := s.vaultByARN(ctx, in.DestinationBackupVaultARN)
	if err != nil {
		return nil, nil, err
	}
	id := newID()
	job := &backup.CopyJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		SourceBackupVaultARN: src.ARN, SourceRecoveryPointARN: rp.ARN,
		DestinationBackupVaultARN:   dst.ARN,
		DestinationRecoveryPointARN: backup.RecoveryPointARN(s.cfg.Region, s.cfg.AccountID, id),
		ResourceARN:                 rp.ResourceARN, ResourceType: rp.ResourceType, ResourceName: rp.ResourceName,
		IAMRoleARN: in.IAMRoleARN, IdempotencyToken: token, RequestHash: hash,
		State: backup.CopyCreated, BackupSizeInBytes: rp.BackupSizeInBytes, CreationDate: s.now(),
		Lifecycle: in.Lifecycle, CreatedBy: createdBy,
	}
	return &copyPlan{job: job, src: src, dst: dst, rp: rp}, nil, nil
}

// vaultByARN returns the vault of this cairn that arn names.
func (s *Service) vaultByARN(ctx context.Context, arn string) (*backup.Vault, error) {
	a, name, err := backup.ParseVaultARN(arn)
	if err != nil {
		return nil, err
	}
	if a.Region != s.cfg.Region || a.AccountID != s.cfg.AccountID {
		return nil, backup.Errorf(backup.ErrInvalidParameter,
			"destination vault %s is not in this cairn (region %s, account %s); copy to one of its vaults: arn:aws:backup:%s:%s:backup-vault:NAME",
			arn, s.cfg.Region, s.cfg.AccountID, s.cfg.Region, s.cfg.AccountID)
	}
	v, err := s.cfg.Catalog.GetVault(ctx, name)
	if backup.IsNotFound(err) {
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "BackupVault", Context: name,
			Message: fmt.Sprintf("destination backup vault %s does not exist; create it first", name)}
	}
	return v, err
}

func (s *Service) saveCopy(job *backup.CopyJob) {
	if err := s.cfg.Catalog.UpdateCopyJob(context.Background(), job); err != nil {
		s.log.Error("save copy job", "job", job.ID, "err", err)
	}
}

func (s *Service) runCopy(ctx context.Context, aj *activeJob, p *copyPlan) {
	job := p.job
	log := s.log.With("job", job.ID, "recovery_point", job.SourceRecoveryPointARN, "vault", p.dst.Name)
	if err := s.acquire(ctx); err != nil {
		if errors.Is(err, errDraining) {
			log.Info("server stopping: the copy job stays CREATED and runs after the next start")
			return
		}
		s.finishCopy(aj, job, nil, err, log)
		return
	}
	defer s.release()
	aj.mu.Lock()
	job.State = backup.CopyRunning
	s.saveCopy(job)
	aj.mu.Unlock()
	log.Info("copy job running")

	var dest *backup.RecoveryPoint
	err := func() error {
		release, err := inUse.read(ctx, p.rp.ID)
		if err != nil {
			return err
		}
		defer release()
		// Re-read the source: it may have gone cold, or away, meanwhile.
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, p.rp.ID)
		if err != nil {
			return fmt.Errorf("source recovery point: %w", err)
		}
		if rp.Status != backup.RecoveryPointCompleted {
			return fmt.Errorf("source recovery point %s is %s now", rp.ARN, rp.Status)
		}
		src, err := s.pointVault(ctx, rp)
		if err != nil {
			return err
		}
		dstStore, err := s.store(ctx, p.dst)
		if err != nil {
			return err
		}
		createdBy := job.CreatedBy
		if createdBy == nil {
			createdBy = rp.CreatedBy
		}
		id := recoveryPointID(job.DestinationRecoveryPointARN)
		dest = &backup.RecoveryPoint{
			ID: id, ARN: job.DestinationRecoveryPointARN, AccountID: job.AccountID, Region: job.Region,
			VaultName: p.dst.Name, VaultARN: p.dst.ARN,
			ResourceARN: rp.ResourceARN, ResourceType: rp.ResourceType, ResourceName: rp.ResourceName,
			IAMRoleARN: job.IAMRoleARN, Status: backup.RecoveryPointCreating, StorageClass: backup.StorageWarm,
			CreationDate: s.now(), Lifecycle: job.Lifecycle, Tags: rp.Tags, CreatedBy: createdBy,
			IsEncrypted: rp.IsEncrypted, SourceBackupVaultARN: job.SourceBackupVaultARN,
		}
		if err := s.cfg.Catalog.CreateRecoveryPoint(ctx, dest); err != nil {
			return fmt.Errorf("record the copy: %w", err)
		}
		// The copy's record goes in before its summary (see records.go).
		done := *dest
		done.Status, done.ItemCount, done.ContentChecksum = backup.RecoveryPointCompleted, rp.ItemCount, rp.ContentChecksum
		done.RestoreMetadata = rp.RestoreMetadata
		if err := putPointRecord(ctx, vault.New(dstStore), &done); err != nil {
			return err
		}
		m, err := vault.Copy(ctx, src, rp.ID, vault.New(dstStore), id, vault.CopyOptions{
			Metadata: func(old json.RawMessage) (json.RawMessage, error) { return renameMetadata(old, id) },
			Started:  startedFor(p.dst, id),
		})
		if err != nil {
			return err
		}
		done.CompletionDate, done.BackupSizeInBytes = s.now(), m.Summary.Cairn.StoredBytes
		*dest = done
		if err := s.cfg.Catalog.UpdateRecoveryPoint(context.WithoutCancel(ctx), dest); err != nil {
			return fmt.Errorf("record the completed copy: %w", err)
		}
		if err := putPointRecord(context.WithoutCancel(ctx), vault.New(dstStore), dest); err != nil {
			log.Warn("the copy's record lacks its completion date and size; a catalog rebuild takes them from the summary", "err", err)
		}
		aj.mu.Lock()
		job.BackupSizeInBytes = m.Summary.Cairn.StoredBytes
		aj.mu.Unlock()
		return nil
	}()
	s.finishCopy(aj, job, dest, err, log)
}

// renameMetadata sets the recovery point ID in cairn's point metadata.
func renameMetadata(old json.RawMessage, id string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(old, &m); err != nil || m == nil {
		return old, nil // not cairn's metadata: keep it as it is
	}
	b, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	m["recoveryPointId"] = b
	return json.Marshal(m)
}

// finishCopy ends a copy job: COMPLETED if err is nil, else FAILED after
// removing its partial destination point.
func (s *Service) finishCopy(aj *activeJob, job *backup.CopyJob, dest *backup.RecoveryPoint, err error, log *slog.Logger) {
	ctx := context.Background()
	if err != nil && dest != nil && dest.Status != backup.RecoveryPointCompleted {
		if perr := s.purgePoint(ctx, dest); perr != nil {
			log.Error("remove the partial copy", "err", perr)
		}
	}
	aj.mu.Lock()
	defer aj.mu.Unlock()
	job.CompletionDate = s.now()
	if err == nil {
		job.State, job.StatusMessage = backup.CopyCompleted, ""
		log.Info("copy job completed", "bytes", job.BackupSizeInBytes, "copy", job.DestinationRecoveryPointARN)
	} else if s.interrupted(err) {
		s.requeueCopy(job)
		log.Warn("copy job stopped by the server's shutdown; it starts again after the restart")
	} else {
		job.State = backup.CopyFailed
		job.StatusMessage = causeMessage(err) + "; no copy was kept"
		log.Error("copy job failed", "err", err)
	}
	s.saveCopy(job)
}

// GetCopyJob returns a copy job.
func (s *Service) GetCopyJob(ctx context.Context, id string) (*backup.CopyJob, error) {
	return s.cfg.Catalog.GetCopyJob(ctx, id)
}

// ListCopyJobs lists copy jobs.
func (s *Service) ListCopyJobs(ctx context.Context, f backup.CopyJobFilter) ([]*backup.CopyJob, string, error) {
	return s.cfg.Catalog.ListCopyJobs(ctx, f)
}

// afterBackup runs when a backup job has completed its recovery point. For
// a job a plan created, it starts one copy job per CopyAction of the job's
// rule (in the plan version that created the job), each with the action's
// lifecycle. A copy that cannot start is recorded as a FAILED copy job, so
// it shows in ListCopyJobs.
func (s *Service) afterBackup(ctx context.Context, job *backup.BackupJob, rp *backup.RecoveryPoint) {
	cb := job.CreatedBy
	if cb == nil || cb.BackupPlanID == "" {
		return
	}
	log := s.log.With("job", job.ID, "recovery_point", rp.ARN)
	plan, err := s.cfg.Catalog.GetBackupPlan(ctx, cb.BackupPlanID, cb.BackupPlanVersion)
	if err != nil {
		log.Error("cannot read the plan of a backup job; its copies are not made", "plan", cb.BackupPlanID, "err", err)
		return
	}
	rule := plan.Rule(cb.BackupRuleID)
	if rule == nil {
		log.Error("the rule of a backup job is not in its plan; its copies are not made", "plan", cb.BackupPlanID, "rule", cb.BackupRuleID)
		return
	}
	for _, ca := range rule.CopyActions {
		in := backup.StartCopyJobInput{RecoveryPointARN: rp.ARN, SourceBackupVaultName: rp.VaultName,
			DestinationBackupVaultARN: ca.DestinationBackupVaultARN, IAMRoleARN: job.IAMRoleARN, Lifecycle: ca.Lifecycle}
		if in.IAMRoleARN == "" {
			in.IAMRoleARN = rp.IAMRoleARN
		}
		if _, err := s.startCopy(ctx, in, cb); err != nil {
			log.Error("cannot start the copy a plan rule asks for", "destination", ca.DestinationBackupVaultARN, "err", err)
			s.recordFailedCopy(ctx, in, rp, cb, err)
		}
	}
}

// recordFailedCopy records a copy job that could not start, so users see
// why a rule's copy is missing.
func (s *Service) recordFailedCopy(ctx context.Context, in backup.StartCopyJobInput, rp *backup.RecoveryPoint, cb *backup.CreatedBy, cause error) {
	now := s.now()
	msg := cause.Error()
	var de *backup.Error
	if errors.As(cause, &de) {
		msg = de.Message
	}
	job := &backup.CopyJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		SourceBackupVaultARN: rp.VaultARN, SourceRecoveryPointARN: rp.ARN, DestinationBackupVaultARN: in.DestinationBackupVaultARN,
		ResourceARN: rp.ResourceARN, ResourceType: rp.ResourceType, ResourceName: rp.ResourceName, IAMRoleARN: in.IAMRoleARN,
		State: backup.CopyFailed, StatusMessage: "the copy could not start: " + msg, BackupSizeInBytes: rp.BackupSizeInBytes,
		CreationDate: now, CompletionDate: now, Lifecycle: in.Lifecycle, CreatedBy: cb,
	}
	if err := s.cfg.Catalog.CreateCopyJob(context.WithoutCancel(ctx), job); err != nil {
		s.log.Error("record failed copy job", "err", err)
	}
}
