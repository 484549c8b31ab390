package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindRestoreJob = "RestoreJob"

const restoreCols = `id, account_id, region, recovery_point_arn, vault_arn, resource_type,
	iam_role_arn, metadata, copy_source_tags, idempotency_token,
	status, status_message, percent_done, backup_size_bytes, items_restored,
	creation_ns, completion_ns, expected_completion_ns,
	created_resource_arn, validation_status, validation_status_message, request_hash, owner, attempt`

func restoreArgs(j *backup.RestoreJob) ([]any, error) {
	if j.ID == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "RestoreJobId is required")
	}
	created, err := requiredNanos(j.CreationDate, "CreationDate")
	if err != nil {
		return nil, err
	}
	completed, err := nanos(j.CompletionDate, "CompletionDate")
	if err != nil {
		return nil, err
	}
	expected, err := nanos(j.ExpectedCompletionTime, "ExpectedCompletionTime")
	if err != nil {
		return nil, err
	}
	meta, err := jsonText(j.Metadata, j.Metadata == nil)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.AccountID, j.Region, j.RecoveryPointARN, j.VaultARN, j.ResourceType,
		j.IAMRoleARN, meta, boolInt(j.CopySourceTags), j.IdempotencyToken,
		string(j.Status), j.StatusMessage, j.PercentDone, j.BackupSizeInBytes, j.ItemsRestored,
		created, completed, expected,
		j.CreatedResourceARN, j.ValidationStatus, j.ValidationStatusMessage, j.RequestHash, j.Owner, j.Attempt}, nil
}

func scanRestore(s scanner) (*backup.RestoreJob, error) {
	var (
		j                   backup.RestoreJob
		status              string
		meta                sql.NullString
		created             int64
		completed, expected sql.NullInt64
	)
	err := s.Scan(&j.ID, &j.AccountID, &j.Region, &j.RecoveryPointARN, &j.VaultARN, &j.ResourceType,
		&j.IAMRoleARN, &meta, &j.CopySourceTags, &j.IdempotencyToken,
		&status, &j.StatusMessage, &j.PercentDone, &j.BackupSizeInBytes, &j.ItemsRestored,
		&created, &completed, &expected,
		&j.CreatedResourceARN, &j.ValidationStatus, &j.ValidationStatusMessage, &j.RequestHash, &j.Owner, &j.Attempt)
	if err != nil {
		return nil, err
	}
	j.Status = backup.RestoreJobStatus(status)
	j.CreationDate = time.Unix(0, created).UTC()
	j.CompletionDate = timeOf(completed)
	j.ExpectedCompletionTime = timeOf(expected)
	if err := fromJSON(meta, &j.Metadata); err != nil {
		return nil, fmt.Errorf("restore job %s: metadata: %w", j.ID, err)
	}
	return &j, nil
}

// CreateRestoreJob stores j. It fails with *backup.TokenInUseError if
// another restore job holds j's IdempotencyToken, and with
// ErrAlreadyExists if j.ID is taken.
func (c *Catalog) CreateRestoreJob(ctx context.Context, j *backup.RestoreJob) error {
	args, err := restoreArgs(j)
	if err != nil {
		return err
	}
	err = c.insertWithToken(ctx, kindRestoreJob, j.IdempotencyToken, j.ID, "INSERT INTO restore_jobs ("+restoreCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args, backup.RestoreJobEvents(nil, j, c.clockNow()))
	if isTokenInUse(err) {
		return err
	}
	if isPrimaryKeyViolation(err) {
		return wrapf(err, backup.ErrAlreadyExists, kindRestoreJob, j.ID, "restore job %s already exists", j.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create restore job %s: %w", j.ID, err)
	}
	return nil
}

// GetRestoreJob returns the job or ErrNotFound.
func (c *Catalog) GetRestoreJob(ctx context.Context, id string) (*backup.RestoreJob, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+restoreCols+" FROM restore_jobs WHERE id = ?", id), scanRestore, kindRestoreJob, id)
}

// UpdateRestoreJob replaces the stored job with j, but for its
// IdempotencyToken and RequestHash; ErrNotFound if absent.
func (c *Catalog) UpdateRestoreJob(ctx context.Context, j *backup.RestoreJob) error {
	args, err := restoreArgs(j)
	if err != nil {
		return err
	}
	res, err := updateWithEvents(ctx, c, kindRestoreJob, j.ID, "SELECT "+restoreCols+" FROM restore_jobs WHERE id = ?", scanRestore, `UPDATE restore_jobs SET
		account_id = ?2, region = ?3, recovery_point_arn = ?4, vault_arn = ?5, resource_type = ?6,
		iam_role_arn = ?7, metadata = ?8, copy_source_tags = ?9,
		status = ?11, status_message = ?12, percent_done = ?13, backup_size_bytes = ?14, items_restored = ?15,
		creation_ns = ?16, completion_ns = ?17, expected_completion_ns = ?18,
		created_resource_arn = ?19, validation_status = ?20, validation_status_message = ?21, owner = ?23, attempt = ?24
		WHERE id = ?1`, args, func(before *backup.RestoreJob) []backup.Event {
		return backup.RestoreJobEvents(before, j, c.clockNow())
	})
	if backup.IsNotFound(err) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlite: update restore job %s: %w", j.ID, err)
	}
	return affectedOne(res, kindRestoreJob, j.ID)
}

// ListRestoreJobs returns the jobs that match f, newest first.
func (c *Catalog) ListRestoreJobs(ctx context.Context, f backup.RestoreJobFilter) ([]*backup.RestoreJob, string, error) {
	q := &listQuery{table: "restore_jobs", cols: restoreCols}
	if f.AccountID != "" {
		q.where("account_id = ?", f.AccountID)
	}
	if f.ResourceType != "" {
		q.where("resource_type = ?", f.ResourceType)
	}
	if f.IdempotencyToken != "" {
		q.where("idempotency_token = ? AND idempotency_token <> ''", f.IdempotencyToken)
	}
	q.timeRange("creation_ns", f.CreatedAfter, f.CreatedBefore)
	q.completeRange(f.CompleteAfter, f.CompleteBefore)
	if len(f.Statuses) > 0 {
		s := make([]string, len(f.Statuses))
		for i, v := range f.Statuses {
			s[i] = string(v)
		}
		q.anyOf("status", s)
	}
	return list(ctx, c.read, q, f.Page, tokenRestores, scanRestore,
		func(j *backup.RestoreJob) (time.Time, string) { return j.CreationDate, j.ID })
}
