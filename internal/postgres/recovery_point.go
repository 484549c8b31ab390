package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindRecoveryPoint = "RecoveryPoint"

const pointCols = `id, arn, account_id, region, vault_name, vault_arn,
	resource_arn, resource_type, resource_name, iam_role_arn, backup_job_id,
	status, status_message, storage_class, creation_ns, completion_ns,
	backup_size_bytes, item_count, content_checksum,
	lifecycle, tags, created_by, backup_plan_id, is_encrypted, restore_metadata,
	source_vault_arn, cold_ns, delete_ns`

func pointArgs(p *backup.RecoveryPoint) ([]any, error) {
	if p.ID == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "recovery point ID is required")
	}
	created, err := requiredNanos(p.CreationDate, "CreationDate")
	if err != nil {
		return nil, err
	}
	completed, err := nanos(p.CompletionDate, "CompletionDate")
	if err != nil {
		return nil, err
	}
	lifecycle, err := jsonText(p.Lifecycle, p.Lifecycle.IsZero())
	if err != nil {
		return nil, err
	}
	tags, err := jsonText(p.Tags, p.Tags == nil)
	if err != nil {
		return nil, err
	}
	createdBy, err := jsonText(p.CreatedBy, p.CreatedBy == nil)
	if err != nil {
		return nil, err
	}
	planID := ""
	if p.CreatedBy != nil {
		planID = p.CreatedBy.BackupPlanID
	}
	meta, err := jsonText(p.RestoreMetadata, p.RestoreMetadata == nil)
	if err != nil {
		return nil, err
	}
	// In UTC, as the point is read back, so that the stored dates are
	// those CalculatedLifecycle of a listed point returns.
	coldAt, deleteAt := p.Lifecycle.Calculate(p.CreationDate.UTC())
	cold, del := lifecycleNanos(coldAt), lifecycleNanos(deleteAt)
	return []any{p.ID, p.ARN, p.AccountID, p.Region, p.VaultName, p.VaultARN,
		p.ResourceARN, p.ResourceType, p.ResourceName, p.IAMRoleARN, p.BackupJobID,
		string(p.Status), p.StatusMessage, string(p.StorageClass), created, completed,
		p.BackupSizeInBytes, p.ItemCount, p.ContentChecksum,
		lifecycle, tags, createdBy, planID, p.IsEncrypted, meta,
		p.SourceBackupVaultARN, cold, del}, nil
}

// lifecycleNanos returns a lifecycle date as nanoseconds, or nil (never)
// for no date or one after 2261.
func lifecycleNanos(t time.Time) *int64 {
	if t.IsZero() || t.After(maxTime) {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func scanPoint(s scanner) (*backup.RecoveryPoint, error) {
	var (
		p                                    backup.RecoveryPoint
		status, class, planID                string
		created                              int64
		completed                            *int64
		lifecycle, tags, createdByJSON, meta *string
		cold, del                            *int64
	)
	err := s.Scan(&p.ID, &p.ARN, &p.AccountID, &p.Region, &p.VaultName, &p.VaultARN,
		&p.ResourceARN, &p.ResourceType, &p.ResourceName, &p.IAMRoleARN, &p.BackupJobID,
		&status, &p.StatusMessage, &class, &created, &completed,
		&p.BackupSizeInBytes, &p.ItemCount, &p.ContentChecksum,
		&lifecycle, &tags, &createdByJSON, &planID, &p.IsEncrypted, &meta,
		&p.SourceBackupVaultARN, &cold, &del)
	if err != nil {
		return nil, err
	}
	p.Status = backup.RecoveryPointStatus(status)
	p.StorageClass = backup.StorageClass(class)
	p.CreationDate = time.Unix(0, created).UTC()
	p.CompletionDate = timeOf(completed)
	if err := fromJSON(lifecycle, &p.Lifecycle); err != nil {
		return nil, fmt.Errorf("recovery point %s: lifecycle: %w", p.ID, err)
	}
	if err := fromJSON(tags, &p.Tags); err != nil {
		return nil, fmt.Errorf("recovery point %s: tags: %w", p.ID, err)
	}
	if createdByJSON != nil {
		p.CreatedBy = new(backup.CreatedBy)
		if err := fromJSON(createdByJSON, p.CreatedBy); err != nil {
			return nil, fmt.Errorf("recovery point %s: created by: %w", p.ID, err)
		}
	}
	if err := fromJSON(meta, &p.RestoreMetadata); err != nil {
		return nil, fmt.Errorf("recovery point %s: restore metadata: %w", p.ID, err)
	}
	return &p, nil
}

// CreateRecoveryPoint stores p. It fails with ErrAlreadyExists if p.ID is
// taken and with ErrNotFound if there is no vault p.VaultName.
func (c *Catalog) CreateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	args, err := pointArgs(p)
	if err != nil {
		return err
	}
	_, err = c.pool.Exec(ctx, insertQuery("recovery_points", pointCols), args...)
	switch {
	case isPrimaryKeyViolation(err, "recovery_points"):
		return wrapf(err, backup.ErrAlreadyExists, kindRecoveryPoint, p.ID, "recovery point %s already exists", p.ID)
	case isForeignKeyViolation(err):
		return wrapf(err, backup.ErrNotFound, kindVault, p.VaultName, "%s %s not found", kindVault, p.VaultName)
	case err != nil:
		return fmt.Errorf("postgres: create recovery point %s: %w", p.ID, err)
	}
	return nil
}

// GetRecoveryPoint returns the point by ID or ErrNotFound.
func (c *Catalog) GetRecoveryPoint(ctx context.Context, id string) (*backup.RecoveryPoint, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+pointCols+" FROM recovery_points WHERE id = $1", id), scanPoint, kindRecoveryPoint, id)
}

// UpdateRecoveryPoint replaces the stored point with p, but for its tags,
// which only UpdateTags changes. It fails with ErrNotFound if there is no
// point p.ID or no vault p.VaultName.
func (c *Catalog) UpdateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	args, err := pointArgs(p)
	if err != nil {
		return err
	}
	query, args := updateQuery("recovery_points", pointCols, args, "tags")
	tag, err := updateWithEvents(ctx, c, kindRecoveryPoint, p.ID, "SELECT "+pointCols+" FROM recovery_points WHERE id = $1", scanPoint,
		query, args, func(before *backup.RecoveryPoint) []backup.Event {
			return backup.RecoveryPointEvents(before, p, c.clockNow())
		})
	if backup.IsNotFound(err) {
		return err
	}
	if isForeignKeyViolation(err) {
		return wrapf(err, backup.ErrNotFound, kindVault, p.VaultName, "%s %s not found", kindVault, p.VaultName)
	}
	if err != nil {
		return fmt.Errorf("postgres: update recovery point %s: %w", p.ID, err)
	}
	return affectedOne(tag, kindRecoveryPoint, p.ID)
}

// DeleteRecoveryPoint removes the point; ErrNotFound if absent.
func (c *Catalog) DeleteRecoveryPoint(ctx context.Context, id string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM recovery_points WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("postgres: delete recovery point %s: %w", id, err)
	}
	return affectedOne(tag, kindRecoveryPoint, id)
}

// ListRecoveryPoints returns the points that match f, newest first. A
// StorageClass other than WARM or COLD is refused with
// ErrInvalidParameter. With ColdDueBy or DeleteDueBy the points due are
// read from the partial indexes of due dates and sorted: fast when few
// are, as when the lifecycle worker asks for the points due now.
func (c *Catalog) ListRecoveryPoints(ctx context.Context, f backup.RecoveryPointFilter) ([]*backup.RecoveryPoint, string, error) {
	switch f.StorageClass {
	case "", backup.StorageWarm, backup.StorageCold:
	default:
		return nil, "", backup.Errorf(backup.ErrInvalidParameter, "StorageClass %q must be %s or %s",
			f.StorageClass, backup.StorageWarm, backup.StorageCold)
	}
	q := &listQuery{table: "recovery_points", cols: pointCols}
	if f.VaultName != "" {
		q.where("vault_name = ?", f.VaultName)
	}
	if f.ResourceARN != "" {
		q.where("resource_arn = ?", f.ResourceARN)
	}
	if f.ResourceType != "" {
		q.where("resource_type = ?", f.ResourceType)
	}
	if f.BackupPlanID != "" {
		// The literal lets the planner use the partial index.
		q.where("backup_plan_id = ? AND backup_plan_id <> ''", f.BackupPlanID)
	}
	if f.StorageClass != "" {
		q.where("storage_class = ?", string(f.StorageClass))
	}
	q.timeRange("creation_ns", f.CreatedAfter, f.CreatedBefore)
	q.atOrBefore("cold_ns", f.ColdDueBy)
	q.atOrBefore("delete_ns", f.DeleteDueBy)
	if len(f.Statuses) > 0 {
		if f.ColdDueBy.IsZero() && f.DeleteDueBy.IsZero() {
			q.anyOf("status", strs(f.Statuses))
		} else {
			// The points due are sorted anyway: one sort, not one per status.
			q.where("status = ANY(?)", strs(f.Statuses))
		}
	}
	return list(ctx, c.pool, q, f.Page, tokenPoints, scanPoint,
		func(p *backup.RecoveryPoint) (time.Time, string) { return p.CreationDate, p.ID })
}
