package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	kindPlan        = "BackupPlan"
	kindPlanVersion = "BackupPlanVersion"
	kindSelection   = "BackupSelection"
)

// planCols selects a version of a plan from backup_plans joined with
// backup_plan_versions.
const planCols = `id, arn, account_id, region, creator_request_id, deletion_ns, last_execution_ns, tags,
	version_id, version_ns, document, managed_by`

// planLatest joins each plan with its latest version.
const planLatest = "backup_plans JOIN backup_plan_versions ON plan_id = id AND version_id = latest_version"

func scanPlan(s scanner) (*backup.BackupPlan, error) {
	var (
		p                 backup.BackupPlan
		deleted, executed *int64
		tags              *string
		versionNs         int64
		document          *string
	)
	err := s.Scan(&p.ID, &p.ARN, &p.AccountID, &p.Region, &p.CreatorRequestID, &deleted, &executed, &tags,
		&p.VersionID, &versionNs, &document, &p.ManagedBy)
	if err != nil {
		return nil, err
	}
	p.DeletionDate = timeOf(deleted)
	p.LastExecutionDate = timeOf(executed)
	p.CreationDate = time.Unix(0, versionNs).UTC()
	if err := fromJSON(tags, &p.Tags); err != nil {
		return nil, fmt.Errorf("backup plan %s: tags: %w", p.ID, err)
	}
	if err := fromJSON(document, &p.PlanDocument); err != nil {
		return nil, fmt.Errorf("backup plan %s version %s: document: %w", p.ID, p.VersionID, err)
	}
	return &p, nil
}

// planVersionArgs checks what every stored version needs and returns its
// creation time and document.
func planVersionArgs(p *backup.BackupPlan) (int64, string, error) {
	switch {
	case p.ID == "":
		return 0, "", backup.Errorf(backup.ErrMissingParameter, "BackupPlanId is required")
	case p.VersionID == "":
		return 0, "", backup.Errorf(backup.ErrMissingParameter, "VersionId of backup plan %s is required", p.ID)
	case p.BackupPlanName == "":
		return 0, "", backup.Errorf(backup.ErrMissingParameter, "BackupPlanName of backup plan %s is required", p.ID)
	}
	created, err := requiredNanos(p.CreationDate, "CreationDate")
	if err != nil {
		return 0, "", err
	}
	doc, err := jsonText(p.PlanDocument, false)
	if err != nil {
		return 0, "", fmt.Errorf("postgres: backup plan %s: %w", p.ID, err)
	}
	return created, *doc, nil
}

// nameTaken is the error for a second live plan of one name.
func nameTaken(err error, name string) error {
	return wrapf(err, backup.ErrAlreadyExists, kindPlan, name,
		"a backup plan named %s already exists; choose another BackupPlanName or delete that plan", name)
}

// CreateBackupPlan stores p as a new plan with its first version. Its
// CreationDate is the plan's and the version's creation time, and its
// LastExecutionDate and DeletionDate are stored as given. It fails with
// ErrAlreadyExists if p.ID is taken or a live plan is named
// p.BackupPlanName.
func (c *Catalog) CreateBackupPlan(ctx context.Context, p *backup.BackupPlan) error {
	if _, _, err := planVersionArgs(p); err != nil {
		return err
	}
	return c.inTx(ctx, "create backup plan "+p.ID, func(tx pgx.Tx) error { return createPlanTx(ctx, tx, p) })
}

// createPlanTx is CreateBackupPlan within tx.
func createPlanTx(ctx context.Context, tx pgx.Tx, p *backup.BackupPlan) error {
	created, doc, err := planVersionArgs(p)
	if err != nil {
		return err
	}
	deleted, err := nanos(p.DeletionDate, "DeletionDate")
	if err != nil {
		return err
	}
	executed, err := nanos(p.LastExecutionDate, "LastExecutionDate")
	if err != nil {
		return err
	}
	tags, err := jsonText(p.Tags, p.Tags == nil)
	if err != nil {
		return fmt.Errorf("postgres: create backup plan %s: %w", p.ID, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO backup_plans (id, arn, account_id, region, name,
		creator_request_id, creation_ns, deletion_ns, last_execution_ns, latest_version, tags, managed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		p.ID, p.ARN, p.AccountID, p.Region, p.BackupPlanName,
		p.CreatorRequestID, created, deleted, executed, p.VersionID, tags, p.ManagedBy)
	switch {
	case isPrimaryKeyViolation(err, "backup_plans"):
		return wrapf(err, backup.ErrAlreadyExists, kindPlan, p.ID, "backup plan %s already exists", p.ID)
	case isUniqueViolation(err):
		return nameTaken(err, p.BackupPlanName)
	case err != nil:
		return fmt.Errorf("postgres: create backup plan %s: %w", p.ID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO backup_plan_versions (plan_id, version_id, version_ns, document)
		VALUES ($1, $2, $3, $4)`, p.ID, p.VersionID, created, doc); err != nil {
		return fmt.Errorf("postgres: create backup plan %s: %w", p.ID, err)
	}
	return appendEvents(ctx, tx, backup.PlanEvents(nil, p))
}

// GetBackupPlan returns version versionID of plan id, or its latest version
// if versionID is empty.
func (c *Catalog) GetBackupPlan(ctx context.Context, id, versionID string) (*backup.BackupPlan, error) {
	return getPlan(ctx, c.pool, id, versionID)
}

// getPlan is GetBackupPlan on db.
func getPlan(ctx context.Context, db querier, id, versionID string) (*backup.BackupPlan, error) {
	var row pgx.Row
	if versionID == "" {
		row = db.QueryRow(ctx, "SELECT "+planCols+" FROM "+planLatest+" WHERE id = $1", id)
	} else {
		row = db.QueryRow(ctx, "SELECT "+planCols+` FROM backup_plans JOIN backup_plan_versions ON plan_id = id
			WHERE id = $1 AND version_id = $2`, id, versionID)
	}
	p, err := scanPlan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		if versionID == "" {
			return nil, backup.NotFound(kindPlan, id)
		}
		if _, err := getPlan(ctx, db, id, ""); err != nil {
			return nil, err
		}
		return nil, backup.NotFound(kindPlanVersion, versionID)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get backup plan %s: %w", id, err)
	}
	return p, nil
}

// ListBackupPlans returns the latest version of each plan, newest plan
// first: plans are ordered by when they were created (their first
// version), so an update does not move a plan in the listing.
func (c *Catalog) ListBackupPlans(ctx context.Context, f backup.BackupPlanFilter) ([]*backup.BackupPlan, string, error) {
	q := &listQuery{table: planLatest, cols: planCols + ", creation_ns"}
	if !f.IncludeDeleted {
		q.where("deletion_ns IS NULL")
	}
	type listed struct {
		p  *backup.BackupPlan
		ns int64
	}
	rows, next, err := list(ctx, c.pool, q, f.Page, tokenPlans, func(s scanner) (listed, error) {
		var l listed
		p, err := scanPlan(rowWithExtra{s, &l.ns})
		l.p = p
		return l, err
	}, func(l listed) (time.Time, string) { return time.Unix(0, l.ns), l.p.ID })
	if err != nil {
		return nil, "", err
	}
	plans := make([]*backup.BackupPlan, len(rows))
	for i, l := range rows {
		plans[i] = l.p
	}
	return plans, next, nil
}

// rowWithExtra scans one more column after those its caller asks for.
type rowWithExtra struct {
	s     scanner
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.s.Scan(append(dest, r.extra)...) }

// ListBackupPlanVersions returns every version of plan id, newest first.
func (c *Catalog) ListBackupPlanVersions(ctx context.Context, id string, p backup.Page) ([]*backup.BackupPlan, string, error) {
	if err := c.planExists(ctx, id); err != nil {
		return nil, "", err
	}
	q := &listQuery{table: "backup_plan_versions JOIN backup_plans ON id = plan_id", cols: planCols,
		keyNs: "version_ns", keyID: "version_id"}
	q.where("plan_id = ?", id)
	return list(ctx, c.pool, q, p, tokenVersions, scanPlan,
		func(v *backup.BackupPlan) (time.Time, string) { return v.CreationDate, v.VersionID })
}

// planExists returns ErrNotFound if there is no plan id, deleted or not.
func (c *Catalog) planExists(ctx context.Context, id string) error {
	var one int
	err := c.pool.QueryRow(ctx, "SELECT 1 FROM backup_plans WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return backup.NotFound(kindPlan, id)
	}
	if err != nil {
		return fmt.Errorf("postgres: backup plan %s: %w", id, err)
	}
	return nil
}

// livePlan locks plan id's row within tx (FOR UPDATE, or FOR SHARE if
// share) and returns ErrNotFound unless the plan exists and is not
// deleted; else the name of the policy that manages it ("" for none). The
// lock orders a deletion of the plan with the creation of a selection of
// it: whichever comes second sees what the first did.
func livePlan(ctx context.Context, tx pgx.Tx, id string, share bool) (string, error) {
	lock := "FOR UPDATE"
	if share {
		lock = "FOR SHARE"
	}
	var (
		deleted   *int64
		managedBy string
	)
	err := tx.QueryRow(ctx, "SELECT deletion_ns, managed_by FROM backup_plans WHERE id = $1 "+lock, id).Scan(&deleted, &managedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", backup.NotFound(kindPlan, id)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: backup plan %s: %w", id, err)
	}
	if deleted != nil {
		e := backup.NotFound(kindPlan, id)
		e.Message = fmt.Sprintf("backup plan %s was deleted", id)
		return "", e
	}
	return managedBy, nil
}

// UpdateBackupPlan stores p as the new latest version of plan p.ID: its
// document, VersionID and CreationDate. What all versions share (ARN,
// account, region, tags, creator request ID, last execution) is left as
// it is. It fails with ErrNotFound if the plan is unknown or deleted, and
// with ErrAlreadyExists if another live plan is named p.BackupPlanName or
// the plan has a version p.VersionID.
func (c *Catalog) UpdateBackupPlan(ctx context.Context, p *backup.BackupPlan) error {
	if _, _, err := planVersionArgs(p); err != nil {
		return err
	}
	return c.inTx(ctx, "update backup plan "+p.ID, func(tx pgx.Tx) error { return updatePlanTx(ctx, tx, p) })
}

// updatePlanTx is UpdateBackupPlan within tx.
func updatePlanTx(ctx context.Context, tx pgx.Tx, p *backup.BackupPlan) error {
	created, doc, err := planVersionArgs(p)
	if err != nil {
		return err
	}
	if _, err := livePlan(ctx, tx, p.ID, false); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO backup_plan_versions (plan_id, version_id, version_ns, document)
		VALUES ($1, $2, $3, $4)`, p.ID, p.VersionID, created, doc)
	if isPrimaryKeyViolation(err, "backup_plan_versions") {
		return wrapf(err, backup.ErrAlreadyExists, kindPlanVersion, p.VersionID,
			"backup plan %s already has a version %s", p.ID, p.VersionID)
	}
	if err != nil {
		return fmt.Errorf("postgres: update backup plan %s: %w", p.ID, err)
	}
	_, err = tx.Exec(ctx, "UPDATE backup_plans SET name = $1, latest_version = $2 WHERE id = $3",
		p.BackupPlanName, p.VersionID, p.ID)
	if isUniqueViolation(err) {
		return nameTaken(err, p.BackupPlanName)
	}
	if err != nil {
		return fmt.Errorf("postgres: update backup plan %s: %w", p.ID, err)
	}
	return appendEvents(ctx, tx, backup.PlanEvents(&backup.BackupPlan{ID: p.ID}, p))
}

// SetPlanLastExecution records at as the plan's LastExecutionDate unless a
// later one is recorded: it only moves forward, in one statement. It
// applies to deleted plans too, and fails with ErrNotFound if there is no
// plan id.
func (c *Catalog) SetPlanLastExecution(ctx context.Context, id string, at time.Time) error {
	ns, err := requiredNanos(at, "LastExecutionDate")
	if err != nil {
		return err
	}
	tag, err := c.pool.Exec(ctx, `UPDATE backup_plans
		SET last_execution_ns = greatest(last_execution_ns, $1) WHERE id = $2`, ns, id)
	if err != nil {
		return fmt.Errorf("postgres: set last execution of backup plan %s: %w", id, err)
	}
	return affectedOne(tag, kindPlan, id)
}

// DeleteBackupPlan marks plan id deleted at the given time and returns its
// latest version, DeletionDate set. It fails with ErrNotFound if the plan
// is unknown or already deleted, and with ErrInvalidRequest while it has
// selections.
func (c *Catalog) DeleteBackupPlan(ctx context.Context, id string, at time.Time) (*backup.BackupPlan, error) {
	ns, err := requiredNanos(at, "DeletionDate")
	if err != nil {
		return nil, err
	}
	var p *backup.BackupPlan
	err = c.inTx(ctx, "delete backup plan "+id, func(tx pgx.Tx) error {
		p, err = deletePlanTx(ctx, tx, id, ns)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// deletePlanTx is DeleteBackupPlan within tx. The plan's row is locked
// before its selections are counted, so that a selection created
// concurrently (which locks it too) is counted or refused.
func deletePlanTx(ctx context.Context, tx pgx.Tx, id string, ns int64) (*backup.BackupPlan, error) {
	if _, err := livePlan(ctx, tx, id, false); err != nil {
		return nil, err
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM backup_selections WHERE plan_id = $1", id).Scan(&n); err != nil {
		return nil, fmt.Errorf("postgres: delete backup plan %s: %w", id, err)
	}
	if n > 0 {
		e := backup.Errorf(backup.ErrInvalidRequest,
			"backup plan %s has %d backup selections; delete them before deleting the plan", id, n)
		e.Type, e.Context = kindPlan, id
		return nil, e
	}
	if _, err := tx.Exec(ctx, "UPDATE backup_plans SET deletion_ns = $1 WHERE id = $2", ns, id); err != nil {
		return nil, fmt.Errorf("postgres: delete backup plan %s: %w", id, err)
	}
	return getPlan(ctx, tx, id, "")
}

const selectionCols = "id, plan_id, creator_request_id, creation_ns, document, managed_by"

func scanSelection(s scanner) (*backup.BackupSelection, error) {
	var (
		sel      backup.BackupSelection
		created  int64
		document *string
	)
	if err := s.Scan(&sel.SelectionID, &sel.BackupPlanID, &sel.CreatorRequestID, &created, &document, &sel.ManagedBy); err != nil {
		return nil, err
	}
	sel.CreationDate = time.Unix(0, created).UTC()
	if err := fromJSON(document, &sel.SelectionDocument); err != nil {
		return nil, fmt.Errorf("backup selection %s: document: %w", sel.SelectionID, err)
	}
	return &sel, nil
}

// CreateBackupSelection stores s. It fails with ErrNotFound if its plan is
// unknown or deleted, and with ErrAlreadyExists if s.SelectionID is taken
// or the plan has a selection named s.SelectionName.
func (c *Catalog) CreateBackupSelection(ctx context.Context, s *backup.BackupSelection) error {
	return c.inTx(ctx, "create backup selection "+s.SelectionID, func(tx pgx.Tx) error {
		return createSelection(ctx, tx, s)
	})
}

// createSelection is CreateBackupSelection within tx.
func createSelection(ctx context.Context, tx pgx.Tx, s *backup.BackupSelection) error {
	switch {
	case s.SelectionID == "":
		return backup.Errorf(backup.ErrMissingParameter, "SelectionId is required")
	case s.BackupPlanID == "":
		return backup.Errorf(backup.ErrMissingParameter, "BackupPlanId of selection %s is required", s.SelectionID)
	case s.SelectionName == "":
		return backup.Errorf(backup.ErrMissingParameter, "SelectionName of selection %s is required", s.SelectionID)
	}
	created, err := requiredNanos(s.CreationDate, "CreationDate")
	if err != nil {
		return err
	}
	doc, err := jsonText(s.SelectionDocument, false)
	if err != nil {
		return fmt.Errorf("postgres: create backup selection %s: %w", s.SelectionID, err)
	}
	// The plan's row stays locked (FOR SHARE) until the transaction ends:
	// it cannot be deleted between the check and the insert.
	if _, err := livePlan(ctx, tx, s.BackupPlanID, true); err != nil {
		var e *backup.Error
		if errors.As(err, &e) && e.Code == backup.ErrNotFound {
			e.Message = fmt.Sprintf("backup plan %s not found or deleted", s.BackupPlanID)
		}
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO backup_selections
		(id, plan_id, name, creator_request_id, creation_ns, document, managed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.SelectionID, s.BackupPlanID, s.SelectionName, s.CreatorRequestID, created, doc, s.ManagedBy)
	switch {
	case isPrimaryKeyViolation(err, "backup_selections"):
		return wrapf(err, backup.ErrAlreadyExists, kindSelection, s.SelectionID, "backup selection %s already exists", s.SelectionID)
	case isUniqueViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindSelection, s.SelectionName,
			"backup plan %s already has a selection named %s; choose another SelectionName", s.BackupPlanID, s.SelectionName)
	case err != nil:
		return fmt.Errorf("postgres: create backup selection %s: %w", s.SelectionID, err)
	}
	return nil
}

// GetBackupSelection returns selection selectionID of plan planID, or
// ErrNotFound.
func (c *Catalog) GetBackupSelection(ctx context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+selectionCols+
		" FROM backup_selections WHERE id = $1 AND plan_id = $2", selectionID, planID), scanSelection, kindSelection, selectionID)
}

// ListBackupSelections returns the selections of plan planID, newest first;
// ErrNotFound if there is no such plan (a deleted plan has none).
func (c *Catalog) ListBackupSelections(ctx context.Context, planID string, p backup.Page) ([]*backup.BackupSelection, string, error) {
	if err := c.planExists(ctx, planID); err != nil {
		return nil, "", err
	}
	q := &listQuery{table: "backup_selections", cols: selectionCols}
	q.where("plan_id = ?", planID)
	return list(ctx, c.pool, q, p, tokenSelection, scanSelection,
		func(s *backup.BackupSelection) (time.Time, string) { return s.CreationDate, s.SelectionID })
}

// DeleteBackupSelection removes selection selectionID of plan planID;
// ErrNotFound if absent.
func (c *Catalog) DeleteBackupSelection(ctx context.Context, planID, selectionID string) error {
	return deleteSelection(ctx, c.pool, planID, selectionID)
}

// deleteSelection is DeleteBackupSelection on db.
func deleteSelection(ctx context.Context, db querier, planID, selectionID string) error {
	tag, err := db.Exec(ctx, "DELETE FROM backup_selections WHERE id = $1 AND plan_id = $2", selectionID, planID)
	if err != nil {
		return fmt.Errorf("postgres: delete backup selection %s: %w", selectionID, err)
	}
	return affectedOne(tag, kindSelection, selectionID)
}

// RuleCursor returns the last occurrence of rule ruleID of plan planID the
// scheduler has handled, or the zero time.
func (c *Catalog) RuleCursor(ctx context.Context, planID, ruleID string) (time.Time, error) {
	var ns *int64
	err := c.pool.QueryRow(ctx, "SELECT at_ns FROM rule_cursors WHERE plan_id = $1 AND rule_id = $2", planID, ruleID).Scan(&ns)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("postgres: rule cursor %s/%s: %w", planID, ruleID, err)
	}
	return timeOf(ns), nil
}

// SetRuleCursor moves the cursor of rule ruleID of plan planID forward to
// at; a time at or before the stored one (the zero time included) changes
// nothing. The upsert is one statement: concurrent schedulers, on any
// node, leave the latest time.
func (c *Catalog) SetRuleCursor(ctx context.Context, planID, ruleID string, at time.Time) error {
	if planID == "" || ruleID == "" {
		return backup.Errorf(backup.ErrMissingParameter, "a rule cursor needs a BackupPlanId and a RuleId")
	}
	if at.IsZero() {
		return nil
	}
	ns, err := requiredNanos(at, "the rule cursor's time")
	if err != nil {
		return err
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO rule_cursors (plan_id, rule_id, at_ns) VALUES ($1, $2, $3)
		ON CONFLICT (plan_id, rule_id) DO UPDATE SET at_ns = excluded.at_ns WHERE excluded.at_ns > rule_cursors.at_ns`,
		planID, ruleID, ns)
	if err != nil {
		return fmt.Errorf("postgres: set rule cursor %s/%s: %w", planID, ruleID, err)
	}
	return nil
}
