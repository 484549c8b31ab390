package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindCopyJob = "CopyJob"

const copyCols = `id, account_id, region, source_vault_arn, source_recovery_point_arn,
	destination_vault_arn, destination_recovery_point_arn,
	resource_arn, resource_type, resource_name, iam_role_arn, idempotency_token,
	state, status_message, backup_size_bytes, creation_ns, completion_ns,
	lifecycle, created_by, request_hash, owner, attempt`

// copyArgs returns the values of copyCols for j.
func copyArgs(j *backup.CopyJob) ([]any, error) {
	if j.ID == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "CopyJobId is required")
	}
	created, err := requiredNanos(j.CreationDate, "CreationDate")
	if err != nil {
		return nil, err
	}
	completed, err := nanos(j.CompletionDate, "CompletionDate")
	if err != nil {
		return nil, err
	}
	lifecycle, err := jsonText(j.Lifecycle, j.Lifecycle.IsZero())
	if err != nil {
		return nil, err
	}
	createdBy, err := jsonText(j.CreatedBy, j.CreatedBy == nil)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.AccountID, j.Region, j.SourceBackupVaultARN, j.SourceRecoveryPointARN,
		j.DestinationBackupVaultARN, j.DestinationRecoveryPointARN,
		j.ResourceARN, j.ResourceType, j.ResourceName, j.IAMRoleARN, j.IdempotencyToken,
		string(j.State), j.StatusMessage, j.BackupSizeInBytes, created, completed,
		lifecycle, createdBy, j.RequestHash, j.Owner, j.Attempt}, nil
}

func scanCopy(s scanner) (*backup.CopyJob, error) {
	var (
		j                    backup.CopyJob
		state                string
		created              int64
		completed            sql.NullInt64
		lifecycle, createdBy sql.NullString
	)
	err := s.Scan(&j.ID, &j.AccountID, &j.Region, &j.SourceBackupVaultARN, &j.SourceRecoveryPointARN,
		&j.DestinationBackupVaultARN, &j.DestinationRecoveryPointARN,
		&j.ResourceARN, &j.ResourceType, &j.ResourceName, &j.IAMRoleARN, &j.IdempotencyToken,
		&state, &j.StatusMessage, &j.BackupSizeInBytes, &created, &completed,
		&lifecycle, &createdBy, &j.RequestHash, &j.Owner, &j.Attempt)
	if err != nil {
		return nil, err
	}
	j.State = backup.CopyJobState(state)
	j.CreationDate = time.Unix(0, created).UTC()
	j.CompletionDate = timeOf(completed)
	if err := fromJSON(lifecycle, &j.Lifecycle); err != nil {
		return nil, fmt.Errorf("copy job %s: lifecycle: %w", j.ID, err)
	}
	if createdBy.Valid {
		j.CreatedBy = new(backup.CreatedBy)
		if err := fromJSON(createdBy, j.CreatedBy); err != nil {
			return nil, fmt.Errorf("copy job %s: created by: %w", j.ID, err)
		}
	}
	return &j, nil
}

// CreateCopyJob stores j. It fails with *backup.TokenInUseError if
// another copy job holds j's IdempotencyToken, and with ErrAlreadyExists
// if j.ID is taken.
func (c *Catalog) CreateCopyJob(ctx context.Context, j *backup.CopyJob) error {
	args, err := copyArgs(j)
	if err != nil {
		return err
	}
	err = c.insertWithToken(ctx, kindCopyJob, j.IdempotencyToken, j.ID, "INSERT INTO copy_jobs ("+copyCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args, backup.CopyJobEvents(nil, j, c.clockNow()))
	if isTokenInUse(err) {
		return err
	}
	if isPrimaryKeyViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindCopyJob, j.ID, "copy job %s already exists", j.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create copy job %s: %w", j.ID, err)
	}
	return nil
}

// GetCopyJob returns the job or ErrNotFound.
func (c *Catalog) GetCopyJob(ctx context.Context, id string) (*backup.CopyJob, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+copyCols+" FROM copy_jobs WHERE id = ?", id), scanCopy, kindCopyJob, id)
}

// UpdateCopyJob replaces the stored job with j, but for its
// IdempotencyToken and RequestHash; ErrNotFound if there is no job j.ID.
func (c *Catalog) UpdateCopyJob(ctx context.Context, j *backup.CopyJob) error {
	args, err := copyArgs(j)
	if err != nil {
		return err
	}
	res, err := updateWithEvents(ctx, c, kindCopyJob, j.ID, "SELECT "+copyCols+" FROM copy_jobs WHERE id = ?", scanCopy, `UPDATE copy_jobs SET
		account_id = ?2, region = ?3, source_vault_arn = ?4, source_recovery_point_arn = ?5,
		destination_vault_arn = ?6, destination_recovery_point_arn = ?7,
		resource_arn = ?8, resource_type = ?9, resource_name = ?10, iam_role_arn = ?11,
		state = ?13, status_message = ?14, backup_size_bytes = ?15, creation_ns = ?16, completion_ns = ?17,
		lifecycle = ?18, created_by = ?19, owner = ?21, attempt = ?22
		WHERE id = ?1`, args, func(before *backup.CopyJob) []backup.Event {
		return backup.CopyJobEvents(before, j, c.clockNow())
	})
	if backup.IsNotFound(err) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlite: update copy job %s: %w", j.ID, err)
	}
	return affectedOne(res, kindCopyJob, j.ID)
}

// ListCopyJobs returns the jobs that match f, newest first.
func (c *Catalog) ListCopyJobs(ctx context.Context, f backup.CopyJobFilter) ([]*backup.CopyJob, string, error) {
	return list(ctx, c.read, copyQuery(f), f.Page, tokenCopies, scanCopy,
		func(j *backup.CopyJob) (time.Time, string) { return j.CreationDate, j.ID })
}

// copyQuery returns the listing query of f.
func copyQuery(f backup.CopyJobFilter) *listQuery {
	q := &listQuery{table: "copy_jobs", cols: copyCols}
	if f.ResourceARN != "" {
		q.where("resource_arn = ?", f.ResourceARN)
	}
	if f.ResourceType != "" {
		q.where("resource_type = ?", f.ResourceType)
	}
	if f.DestinationBackupVaultARN != "" {
		q.where("destination_vault_arn = ?", f.DestinationBackupVaultARN)
	}
	if f.AccountID != "" {
		q.where("account_id = ?", f.AccountID)
	}
	if f.IdempotencyToken != "" {
		q.where("idempotency_token = ? AND idempotency_token <> ''", f.IdempotencyToken)
	}
	q.timeRange("creation_ns", f.CreatedAfter, f.CreatedBefore)
	q.completeRange(f.CompleteAfter, f.CompleteBefore)
	if len(f.States) > 0 {
		s := make([]string, len(f.States))
		for i, v := range f.States {
			s[i] = string(v)
		}
		q.anyOf("state", s)
	}
	return q
}
