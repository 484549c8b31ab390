package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindBackupJob = "BackupJob"

const jobCols = `id, account_id, region, vault_name, vault_arn, recovery_point_arn,
	resource_arn, resource_type, resource_name, iam_role_arn, idempotency_token,
	state, status_message, percent_done, bytes_transferred, backup_size_bytes, item_count,
	creation_ns, start_by_ns, completion_ns, expected_completion_ns,
	lifecycle, recovery_point_tags, options, created_by,
	scheduled_ns, complete_by_ns, rule_id, request_hash, owner, attempt`

// insertJob inserts the values of jobArgs.
const insertJob = "INSERT INTO backup_jobs (" + jobCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// jobArgs returns the values of jobCols for j.
func jobArgs(j *backup.BackupJob) ([]any, error) {
	if j.ID == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "BackupJobId is required")
	}
	created, err := requiredNanos(j.CreationDate, "CreationDate")
	if err != nil {
		return nil, err
	}
	startBy, err := nanos(j.StartBy, "StartBy")
	if err != nil {
		return nil, err
	}
	completed, err := nanos(j.CompletionDate, "CompletionDate")
	if err != nil {
		return nil, err
	}
	expected, err := nanos(j.ExpectedCompletionDate, "ExpectedCompletionDate")
	if err != nil {
		return nil, err
	}
	lifecycle, err := jsonText(j.Lifecycle, j.Lifecycle.IsZero())
	if err != nil {
		return nil, err
	}
	tags, err := jsonText(j.RecoveryPointTags, j.RecoveryPointTags == nil)
	if err != nil {
		return nil, err
	}
	options, err := jsonText(j.Options, j.Options == backup.BackupOptions{})
	if err != nil {
		return nil, err
	}
	createdBy, err := jsonText(j.CreatedBy, j.CreatedBy == nil)
	if err != nil {
		return nil, err
	}
	scheduled, err := nanos(j.ScheduledTime, "ScheduledTime")
	if err != nil {
		return nil, err
	}
	completeBy, err := nanos(j.CompleteBy, "CompleteBy")
	if err != nil {
		return nil, err
	}
	ruleID := ""
	if j.CreatedBy != nil {
		ruleID = j.CreatedBy.BackupRuleID
	}
	return []any{j.ID, j.AccountID, j.Region, j.VaultName, j.VaultARN, j.RecoveryPointARN,
		j.ResourceARN, j.ResourceType, j.ResourceName, j.IAMRoleARN, j.IdempotencyToken,
		string(j.State), j.StatusMessage, j.PercentDone, j.BytesTransferred, j.BackupSizeInBytes, j.ItemCount,
		created, startBy, completed, expected,
		lifecycle, tags, options, createdBy,
		scheduled, completeBy, ruleID, j.RequestHash, j.Owner, j.Attempt}, nil
}

func scanJob(s scanner) (*backup.BackupJob, error) {
	var (
		j                                       backup.BackupJob
		state                                   string
		created                                 int64
		startBy, completed, expected            sql.NullInt64
		scheduled, completeBy                   sql.NullInt64
		lifecycle, tags, options, createdByJSON sql.NullString
		ruleID                                  string
	)
	err := s.Scan(&j.ID, &j.AccountID, &j.Region, &j.VaultName, &j.VaultARN, &j.RecoveryPointARN,
		&j.ResourceARN, &j.ResourceType, &j.ResourceName, &j.IAMRoleARN, &j.IdempotencyToken,
		&state, &j.StatusMessage, &j.PercentDone, &j.BytesTransferred, &j.BackupSizeInBytes, &j.ItemCount,
		&created, &startBy, &completed, &expected,
		&lifecycle, &tags, &options, &createdByJSON,
		&scheduled, &completeBy, &ruleID, &j.RequestHash, &j.Owner, &j.Attempt)
	if err != nil {
		return nil, err
	}
	j.State = backup.JobState(state)
	j.CreationDate = time.Unix(0, created).UTC()
	j.StartBy = timeOf(startBy)
	j.CompletionDate = timeOf(completed)
	j.ExpectedCompletionDate = timeOf(expected)
	j.ScheduledTime = timeOf(scheduled)
	j.CompleteBy = timeOf(completeBy)
	if err := fromJSON(lifecycle, &j.Lifecycle); err != nil {
		return nil, fmt.Errorf("backup job %s: lifecycle: %w", j.ID, err)
	}
	if err := fromJSON(tags, &j.RecoveryPointTags); err != nil {
		return nil, fmt.Errorf("backup job %s: recovery point tags: %w", j.ID, err)
	}
	if err := fromJSON(options, &j.Options); err != nil {
		return nil, fmt.Errorf("backup job %s: options: %w", j.ID, err)
	}
	if createdByJSON.Valid {
		j.CreatedBy = new(backup.CreatedBy)
		if err := fromJSON(createdByJSON, j.CreatedBy); err != nil {
			return nil, fmt.Errorf("backup job %s: created by: %w", j.ID, err)
		}
	}
	return &j, nil
}

// uniqueJobError maps the violation of a unique index of backup_jobs: a
// second job of one rule occurrence and resource (ErrAlreadyExists), or a
// second running job of a resource (ErrConflict).
func uniqueJobError(err error, j *backup.BackupJob) error {
	// SQLite names the columns of the violated index in its message.
	if strings.Contains(err.Error(), "backup_jobs.scheduled_ns") {
		rule := ""
		if j.CreatedBy != nil {
			rule = j.CreatedBy.BackupRuleID
		}
		return wrapf(err, backup.ErrAlreadyExists, kindBackupJob, j.ResourceARN,
			"backup rule %s already has a job for %s scheduled at %s", rule, j.ResourceARN,
			j.ScheduledTime.UTC().Format(time.RFC3339Nano))
	}
	return wrapf(err, backup.ErrConflict, "Resource", j.ResourceARN,
		"a backup job for %s is already running", j.ResourceARN)
}

// CreateBackupJob stores j. It fails with *backup.TokenInUseError if
// another backup job holds j's IdempotencyToken, with ErrConflict if j is
// RUNNING or ABORTING while another job for j.ResourceARN is, and with
// ErrAlreadyExists if j.ID is taken or j's rule occurrence (rule,
// resource, ScheduledTime) already has a job.
func (c *Catalog) CreateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	args, err := jobArgs(j)
	if err != nil {
		return err
	}
	err = c.insertWithToken(ctx, kindBackupJob, j.IdempotencyToken, j.ID, insertJob, args, backup.BackupJobEvents(nil, j, c.clockNow()))
	switch {
	case isTokenInUse(err):
		return err
	case isPrimaryKeyViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindBackupJob, j.ID, "backup job %s already exists", j.ID)
	case isUniqueViolation(err):
		return uniqueJobError(err, j)
	case err != nil:
		return fmt.Errorf("sqlite: create backup job %s: %w", j.ID, err)
	}
	return nil
}

// GetBackupJob returns the job or ErrNotFound.
func (c *Catalog) GetBackupJob(ctx context.Context, id string) (*backup.BackupJob, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+jobCols+" FROM backup_jobs WHERE id = ?", id), scanJob, kindBackupJob, id)
}

// UpdateBackupJob replaces the stored job with j, but for its
// IdempotencyToken and RequestHash, which are fixed at creation. It fails
// with ErrNotFound if there is no job j.ID, with ErrConflict if j would
// become a second running job for its resource, and with ErrAlreadyExists
// if j would become a second job of a rule occurrence.
func (c *Catalog) UpdateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	args, err := jobArgs(j)
	if err != nil {
		return err
	}
	res, err := updateWithEvents(ctx, c, kindBackupJob, j.ID, "SELECT "+jobCols+" FROM backup_jobs WHERE id = ?", scanJob, `UPDATE backup_jobs SET
		account_id = ?2, region = ?3, vault_name = ?4, vault_arn = ?5, recovery_point_arn = ?6,
		resource_arn = ?7, resource_type = ?8, resource_name = ?9, iam_role_arn = ?10,
		state = CASE WHEN state = 'ABORTING' AND ?12 IN ('CREATED', 'PENDING', 'RUNNING') THEN 'ABORTING' ELSE ?12 END,
		status_message = ?13, percent_done = ?14, bytes_transferred = ?15, backup_size_bytes = ?16, item_count = ?17,
		creation_ns = ?18, start_by_ns = ?19, completion_ns = ?20, expected_completion_ns = ?21,
		lifecycle = ?22, recovery_point_tags = ?23, options = ?24, created_by = ?25,
		scheduled_ns = ?26, complete_by_ns = ?27, rule_id = ?28, owner = ?30, attempt = ?31
		WHERE id = ?1`, args, func(before *backup.BackupJob) []backup.Event {
		after := *j
		after.State = backup.StoredBackupState(before.State, j.State)
		return backup.BackupJobEvents(before, &after, c.clockNow())
	})
	if backup.IsNotFound(err) {
		return err
	}
	if isUniqueViolation(err) {
		return uniqueJobError(err, j)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update backup job %s: %w", j.ID, err)
	}
	return affectedOne(res, kindBackupJob, j.ID)
}

// ListBackupJobs returns the jobs that match f, newest first.
func (c *Catalog) ListBackupJobs(ctx context.Context, f backup.BackupJobFilter) ([]*backup.BackupJob, string, error) {
	return list(ctx, c.read, jobQuery(f), f.Page, tokenJobs, scanJob,
		func(j *backup.BackupJob) (time.Time, string) { return j.CreationDate, j.ID })
}

// jobQuery returns the listing query of f.
func jobQuery(f backup.BackupJobFilter) *listQuery {
	q := &listQuery{table: "backup_jobs", cols: jobCols}
	if f.ResourceARN != "" {
		q.where("resource_arn = ?", f.ResourceARN)
	}
	if f.ResourceType != "" {
		q.where("resource_type = ?", f.ResourceType)
	}
	if f.VaultName != "" {
		q.where("vault_name = ?", f.VaultName)
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
		q.anyOf("state", jobStates(f.States))
	}
	return q
}
