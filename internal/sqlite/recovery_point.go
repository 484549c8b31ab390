package sqlite

import (
	"context"
	"database/sql"
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
		lifecycle, tags, createdBy, planID, boolInt(p.IsEncrypted), meta,
		p.SourceBackupVaultARN, cold, del}, nil
}

// lifecycleNanos returns a lifecycle date as nanoseconds, or nil (never)
// for no date or one after 2261.
func lifecycleNanos(t time.Time) any {
	if t.IsZero() || t.After(maxTime) {
		return nil
	}
	return t.UnixNano()
}

func scanPoint(s scanner) (*backup.RecoveryPoint, error) {
	var (
		p                                    backup.RecoveryPoint
		status, class, planID                string
		created                              int64
		completed                            sql.NullInt64
		lifecycle, tags, createdByJSON, meta sql.NullString
		cold, del                            sql.NullInt64
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
	if createdByJSON.Valid {
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
	_, err = c.write.ExecContext(ctx, "INSERT INTO recovery_points ("+pointCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	switch {
	case isPrimaryKeyViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindRecoveryPoint, p.ID, "recovery point %s already exists", p.ID)
	case isForeignKeyViolation(err):
		return wrapf(err, backup.ErrNotFound, kindVault, p.VaultName, "%s %s not found", kindVault, p.VaultName)
	case err != nil:
		return fmt.Errorf("sqlite: create recovery point %s: %w", p.ID, err)
	}
	return nil
}

// GetRecoveryPoint returns the point by ID or ErrNotFound.
func (c *Catalog) GetRecoveryPoint(ctx context.Context, id string) (*backup.RecoveryPoint, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+pointCols+" FROM recovery_points WHERE id = ?", id), scanPoint, kindRecoveryPoint, id)
}

// UpdateRecoveryPoint replaces the stored point with p, but for its tags,
// which only UpdateTags changes. It fails with ErrNotFound if there is no
// point p.ID or no vault p.VaultName.
func (c *Catalog) UpdateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	args, err := pointArgs(p)
	if err != nil {
		return err
	}
	res, err := updateWithEvents(ctx, c, kindRecoveryPoint, p.ID, "SELECT "+pointCols+" FROM recovery_points WHERE id = ?", scanPoint, `UPDATE recovery_points SET
		arn = ?2, account_id = ?3, region = ?4, vault_name = ?5, vault_arn = ?6,
		resource_arn = ?7, resource_type = ?8, resource_name = ?9, iam_role_arn = ?10, backup_job_id = ?11,
		status = ?12, status_message = ?13, storage_class = ?14, creation_ns = ?15, completion_ns = ?16,
		backup_size_bytes = ?17, item_count = ?18, content_checksum = ?19,
		lifecycle = ?20, created_by = ?22, backup_plan_id = ?23, is_encrypted = ?24, restore_metadata = ?25,
		source_vault_arn = ?26, cold_ns = ?27, delete_ns = ?28
		WHERE id = ?1`, args, func(before *backup.RecoveryPoint) []backup.Event {
		return backup.RecoveryPointEvents(before, p, c.clockNow())
	}) // ?21, the tags, is not used
	if backup.IsNotFound(err) {
		return err
	}
	if isForeignKeyViolation(err) {
		return wrapf(err, backup.ErrNotFound, kindVault, p.VaultName, "%s %s not found", kindVault, p.VaultName)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update recovery point %s: %w", p.ID, err)
	}
	return affectedOne(res, kindRecoveryPoint, p.ID)
}

// DeleteRecoveryPoint removes the point; ErrNotFound if absent.
func (c *Catalog) DeleteRecoveryPoint(ctx context.Context, id string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM recovery_points WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("sqlite: delete recovery point %s: %w", id, err)
	}
	return affectedOne(res, kindRecoveryPoint, id)
}

// ListRecoveryPoints returns the points that match f, newest first. A
// StorageClass other than WARM or COLD is refused with
// ErrInvalidParameter. With ColdDueBy or DeleteDueBy, a page costs a sort of
// all the points due (of the storage class if one is given): fast when few
// are, as when the lifecycle worker asks for the points due now and in
// StorageClass WARM.
func (c *Catalog) ListRecoveryPoints(ctx context.Context, f backup.RecoveryPointFilter) ([]*backup.RecoveryPoint, string, error) {
	q, err := pointQuery(f)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, c.read, q, f.Page, tokenPoints, scanPoint,
		func(p *backup.RecoveryPoint) (time.Time, string) { return p.CreationDate, p.ID })
}

// pointQuery returns the listing query of f.
func pointQuery(f backup.RecoveryPointFilter) (*listQuery, error) {
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
		// The literal lets SQLite use the partial index.
		q.where("backup_plan_id = ? AND backup_plan_id <> ''", f.BackupPlanID)
	}
	switch f.StorageClass {
	case "", backup.StorageWarm, backup.StorageCold:
	default:
		return nil, backup.Errorf(backup.ErrInvalidParameter, "StorageClass %q must be %s or %s",
			f.StorageClass, backup.StorageWarm, backup.StorageCold)
	}
	q.timeRange("creation_ns", f.CreatedAfter, f.CreatedBefore)
	q.atOrBefore("cold_ns", f.ColdDueBy)
	q.atOrBefore("delete_ns", f.DeleteDueBy)
	// The points due are read from the index of due dates, then sorted into
	// page order. SQLite cannot know that few points are due at the time the
	// lifecycle worker asks about (now), and left to itself it would walk
	// the points newest first, past every point not yet due.
	due := true
	switch {
	case !f.ColdDueBy.IsZero():
		q.table = "recovery_points INDEXED BY recovery_points_cold_due"
		if f.StorageClass == "" {
			// One range of the index per class.
			q.anyOf("storage_class", []string{string(backup.StorageWarm), string(backup.StorageCold)})
		}
	case !f.DeleteDueBy.IsZero():
		q.table = "recovery_points INDEXED BY recovery_points_delete_due"
	default:
		due = false
	}
	if f.StorageClass != "" {
		q.where("storage_class = ?", string(f.StorageClass))
	}
	if len(f.Statuses) > 0 {
		s := make([]string, len(f.Statuses))
		for i, v := range f.Statuses {
			s[i] = string(v)
		}
		if due {
			// The points due are sorted anyway: one sort, not one per status.
			q.in("status", s)
		} else {
			q.anyOf("status", s)
		}
	}
	return q, nil
}

// ListProtectedResources returns each resource with at least one COMPLETED
// recovery point, with its latest COMPLETED point (by CreationDate), ordered
// by resource ARN.
func (c *Catalog) ListProtectedResources(ctx context.Context, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if p.NextToken != "" {
		parts, err := decodeToken(tokenProtected, p.NextToken, 1)
		if err != nil {
			return nil, "", err
		}
		after = parts[0]
	}
	// A loose index scan of recovery_points_protected: each step of r seeks
	// the next resource, so a page costs limit seeks however many points
	// each resource has. The latest point of a resource is its last entry.
	// INDEXED BY keeps SQLite from preferring recovery_points_by_status,
	// which would read every COMPLETED point.
	rows, err := c.read.QueryContext(ctx, `
		WITH RECURSIVE r(arn, n) AS (
			SELECT (SELECT min(resource_arn) FROM recovery_points INDEXED BY recovery_points_protected
				WHERE status = 'COMPLETED' AND resource_arn > ?1), 1
			UNION ALL
			SELECT (SELECT min(resource_arn) FROM recovery_points INDEXED BY recovery_points_protected
				WHERE status = 'COMPLETED' AND resource_arn > r.arn), n + 1
			FROM r WHERE r.arn IS NOT NULL AND n < ?2
		)
		SELECT r.arn, p.resource_type, p.resource_name, p.creation_ns, p.vault_arn, p.arn
		FROM r JOIN recovery_points p ON p.id = (
			SELECT id FROM recovery_points INDEXED BY recovery_points_protected
			WHERE status = 'COMPLETED' AND resource_arn = r.arn
			ORDER BY creation_ns DESC, id DESC LIMIT 1)
		WHERE r.arn IS NOT NULL
		ORDER BY r.arn`, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list protected resources: %w", err)
	}
	defer rows.Close()
	res := []*backup.ProtectedResource{}
	for rows.Next() {
		var (
			r  backup.ProtectedResource
			ns int64
		)
		if err := rows.Scan(&r.ResourceARN, &r.ResourceType, &r.ResourceName, &ns, &r.LastBackupVaultARN, &r.LastRecoveryPointARN); err != nil {
			return nil, "", fmt.Errorf("sqlite: list protected resources: %w", err)
		}
		r.LastBackupTime = time.Unix(0, ns).UTC()
		res = append(res, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list protected resources: %w", err)
	}
	next := ""
	if len(res) > limit {
		res = res[:limit]
		next = encodeToken(tokenProtected, res[limit-1].ResourceARN)
	}
	return res, next, nil
}
