package runner

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/schedule"
	"github.com/google/uuid"
)

// MaxScheduledRunsPreview is the most upcoming runs GetBackupPlan previews.
const MaxScheduledRunsPreview = 10

// newPlanID returns an id for a plan, a rule or a selection: a lower-case
// UUID, as AWS Backup's are.
func newPlanID() string { return uuid.NewString() }

// newVersionID returns a plan version id. AWS Backup's are the base64 of a
// UUID's text (48 characters of [A-Za-z0-9]).
func newVersionID() string {
	return base64.StdEncoding.EncodeToString([]byte(uuid.NewString()))
}

// CreateBackupPlan validates a plan as AWS does, checks that every vault it
// names exists, and stores its first version. A CreatorRequestID that
// created a plan before returns that plan.
func (s *Service) CreateBackupPlan(ctx context.Context, in backup.CreateBackupPlanInput) (*backup.BackupPlan, error) {
	doc := clonePlanDocument(in.Plan)
	if err := backup.ValidatePlanDocument(&doc); err != nil {
		return nil, err
	}
	if err := backup.ValidatePlanRunsAfter(&doc, s.now()); err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("BackupPlanTags", in.Tags); err != nil {
		return nil, err
	}
	if in.CreatorRequestID != "" {
		p, err := s.planByCreatorRequest(ctx, in.CreatorRequestID)
		if err != nil || p != nil {
			return p, err
		}
	}
	if err := s.checkPlanVaults(ctx, &doc); err != nil {
		return nil, err
	}
	for i := range doc.Rules {
		doc.Rules[i].RuleID = newPlanID()
	}
	id := newPlanID()
	p := &backup.BackupPlan{
		PlanDocument: doc, ID: id, ARN: backup.PlanARN(s.cfg.Region, s.cfg.AccountID, id),
		VersionID: newVersionID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		CreatorRequestID: in.CreatorRequestID, CreationDate: s.now(), Tags: maps.Clone(in.Tags),
	}
	if err := s.cfg.Catalog.CreateBackupPlan(ctx, p); err != nil {
		if backup.ErrorCode(err) == backup.ErrAlreadyExists {
			return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "BackupPlan", Context: doc.BackupPlanName, Err: err,
				Message: fmt.Sprintf("a backup plan named %s already exists; choose another name or update that plan", doc.BackupPlanName)}
		}
		return nil, err
	}
	s.log.Info("backup plan created", "plan", p.ID, "name", p.BackupPlanName, "rules", len(p.Rules))
	return p, nil
}

// planByCreatorRequest returns the live plan created with the request id,
// or nil.
func (s *Service) planByCreatorRequest(ctx context.Context, reqID string) (*backup.BackupPlan, error) {
	plans, err := s.allPlans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.CreatorRequestID == reqID {
			// The first version is the one the request created.
			return s.firstVersion(ctx, p)
		}
	}
	return nil, nil
}

func (s *Service) firstVersion(ctx context.Context, p *backup.BackupPlan) (*backup.BackupPlan, error) {
	var first *backup.BackupPlan
	pg := backup.Page{MaxResults: 1000}
	for {
		vs, next, err := s.cfg.Catalog.ListBackupPlanVersions(ctx, p.ID, pg)
		if err != nil {
			return nil, err
		}
		if len(vs) > 0 {
			first = vs[len(vs)-1]
		}
		if next == "" {
			break
		}
		pg.NextToken = next
	}
	if first == nil {
		return p, nil
	}
	return first, nil
}

// checkPlanVaults makes sure every rule's target vault and every copy
// destination exists in this server.
func (s *Service) checkPlanVaults(ctx context.Context, doc *backup.PlanDocument) error {
	for _, r := range doc.Rules {
		if _, err := s.cfg.Catalog.GetVault(ctx, r.TargetBackupVaultName); err != nil {
			if backup.IsNotFound(err) {
				return &backup.Error{Code: backup.ErrNotFound, Type: "BackupVault", Context: r.TargetBackupVaultName,
					Message: fmt.Sprintf("rule %s: backup vault %s does not exist; create it first or set TargetBackupVaultName to an existing vault",
						r.RuleName, r.TargetBackupVaultName)}
			}
			return err
		}
		for _, c := range r.CopyActions {
			if err := s.checkCopyDestination(ctx, r.RuleName, c.DestinationBackupVaultARN); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) checkCopyDestination(ctx context.Context, rule, arn string) error {
	a, err := backup.ParseARN(arn)
	name, ok := "", false
	if err == nil && a.Service == "backup" {
		name, ok = strings.CutPrefix(a.Resource, "backup-vault:")
	}
	if !ok || name == "" {
		return &backup.Error{Code: backup.ErrInvalidParameter, Type: "BackupVault", Context: arn,
			Message: fmt.Sprintf("rule %s: DestinationBackupVaultArn %q is not a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)", rule, arn)}
	}
	v, err := s.cfg.Catalog.GetVault(ctx, name)
	if err != nil && !backup.IsNotFound(err) {
		return err
	}
	if err != nil || v.ARN != arn {
		return &backup.Error{Code: backup.ErrNotFound, Type: "BackupVault", Context: arn,
			Message: fmt.Sprintf("rule %s: copy destination vault %s does not exist in this server (its vaults are %s); create it first",
				rule, arn, backup.VaultARN(s.cfg.Region, s.cfg.AccountID, "NAME"))}
	}
	return nil
}

// GetBackupPlan returns a version of a plan (the latest if versionID is
// empty) and, for a live plan, its next previewRuns scheduled runs across
// all rules (at most MaxScheduledRunsPreview).
func (s *Service) GetBackupPlan(ctx context.Context, id, versionID string, previewRuns int) (*backup.BackupPlan, []backup.ScheduledRun, error) {
	if previewRuns < 0 || previewRuns > MaxScheduledRunsPreview {
		return nil, nil, backup.Errorf(backup.ErrInvalidParameter,
			"MaxScheduledRunsPreview must be between 0 and %d, not %d", MaxScheduledRunsPreview, previewRuns)
	}
	p, err := s.cfg.Catalog.GetBackupPlan(ctx, id, versionID)
	if err != nil {
		return nil, nil, err
	}
	if previewRuns == 0 || !p.DeletionDate.IsZero() {
		return p, nil, nil
	}
	return p, scheduledRuns(p, s.now(), previewRuns, s.log), nil
}

// logger is the part of *slog.Logger the pure helpers use.
type logger interface {
	Warn(msg string, args ...any)
}

// scheduledRuns returns the first n runs of p's rules strictly after now,
// in time order.
func scheduledRuns(p *backup.BackupPlan, now time.Time, n int, log logger) []backup.ScheduledRun {
	var runs []backup.ScheduledRun
	for _, r := range p.Rules {
		sch, err := schedule.Parse(ruleExpression(&r), r.ScheduleExpressionTimezone)
		if err != nil {
			log.Warn("cannot parse the schedule of a backup rule", "plan", p.ID, "rule", r.RuleID, "err", err)
			continue
		}
		t := now
		for range n {
			t = sch.Next(t)
			if t.IsZero() {
				break
			}
			runs = append(runs, backup.ScheduledRun{ExecutionTime: t, RuleID: r.RuleID, RecoveryPointType: "SNAPSHOT"})
		}
	}
	slices.SortStableFunc(runs, func(a, b backup.ScheduledRun) int { return a.ExecutionTime.Compare(b.ExecutionTime) })
	if len(runs) > n {
		runs = runs[:n]
	}
	return runs
}

func ruleExpression(r *backup.BackupRule) string {
	if r.ScheduleExpression == "" {
		return backup.DefaultScheduleExpression
	}
	return r.ScheduleExpression
}

// ListBackupPlans lists the latest version of each plan, newest first.
func (s *Service) ListBackupPlans(ctx context.Context, f backup.BackupPlanFilter) ([]*backup.BackupPlan, string, error) {
	return s.cfg.Catalog.ListBackupPlans(ctx, f)
}

// ListBackupPlanVersions lists every version of a plan, newest first.
func (s *Service) ListBackupPlanVersions(ctx context.Context, id string, p backup.Page) ([]*backup.BackupPlan, string, error) {
	return s.cfg.Catalog.ListBackupPlanVersions(ctx, id, p)
}

// UpdateBackupPlan stores doc as the plan's new version, with a new
// VersionID. A rule keeps its RuleID when the new document has a rule of
// the same RuleName; other rules get new ids.
func (s *Service) UpdateBackupPlan(ctx context.Context, id string, doc backup.PlanDocument) (*backup.BackupPlan, error) {
	doc = clonePlanDocument(doc)
	if err := backup.ValidatePlanDocument(&doc); err != nil {
		return nil, err
	}
	if err := backup.ValidatePlanRunsAfter(&doc, s.now()); err != nil {
		return nil, err
	}
	cur, err := s.cfg.Catalog.GetBackupPlan(ctx, id, "")
	if err != nil {
		return nil, err
	}
	if cur.ManagedBy != "" && cur.DeletionDate.IsZero() {
		return nil, refuseManaged(cur, "changed")
	}
	if !cur.DeletionDate.IsZero() {
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "BackupPlan", Context: id,
			Message: fmt.Sprintf("backup plan %s was deleted on %s and cannot be updated; create a new plan", id, cur.DeletionDate.Format(time.RFC3339))}
	}
	if err := s.checkPlanVaults(ctx, &doc); err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, r := range cur.Rules {
		ids[r.RuleName] = r.RuleID
	}
	for i := range doc.Rules {
		if rid, ok := ids[doc.Rules[i].RuleName]; ok {
			doc.Rules[i].RuleID = rid
		} else {
			doc.Rules[i].RuleID = newPlanID()
		}
	}
	p := *cur
	p.PlanDocument = doc
	p.VersionID = newVersionID()
	p.CreationDate = s.now()
	p.Tags = maps.Clone(cur.Tags)
	if err := s.cfg.Catalog.UpdateBackupPlan(ctx, &p); err != nil {
		if backup.ErrorCode(err) == backup.ErrAlreadyExists {
			return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "BackupPlan", Context: doc.BackupPlanName, Err: err,
				Message: fmt.Sprintf("another backup plan is named %s; choose another name", doc.BackupPlanName)}
		}
		return nil, err
	}
	s.log.Info("backup plan updated", "plan", p.ID, "version", p.VersionID, "rules", len(p.Rules))
	return &p, nil
}

// DeleteBackupPlan deletes a plan that has no selections and returns it
// with its DeletionDate.
func (s *Service) DeleteBackupPlan(ctx context.Context, id string) (*backup.BackupPlan, error) {
	// A plan is managed by a policy from its creation on, so this check
	// cannot race with the delete.
	if cur, err := s.cfg.Catalog.GetBackupPlan(ctx, id, ""); err == nil && cur.ManagedBy != "" && cur.DeletionDate.IsZero() {
		return nil, refuseManaged(cur, "deleted")
	}
	p, err := s.cfg.Catalog.DeleteBackupPlan(ctx, id, s.now())
	if err != nil {
		if backup.ErrorCode(err) == backup.ErrInvalidRequest {
			return nil, &backup.Error{Code: backup.ErrInvalidRequest, Type: "BackupPlan", Context: id, Err: err,
				Message: fmt.Sprintf("related backup plan selections must be deleted prior to backup plan deletion: delete the selections of plan %s (ListBackupSelections, DeleteBackupSelection), then delete the plan", id)}
		}
		return nil, err
	}
	s.log.Info("backup plan deleted", "plan", p.ID)
	return p, nil
}

// CreateBackupSelection validates a selection as AWS does and assigns it to
// a live plan. A CreatorRequestID that created a selection of the plan
// before returns that selection.
func (s *Service) CreateBackupSelection(ctx context.Context, in backup.CreateBackupSelectionInput) (*backup.BackupSelection, error) {
	doc := cloneSelectionDocument(in.Selection)
	if err := backup.ValidateSelectionDocument(&doc); err != nil {
		return nil, err
	}
	p, err := s.cfg.Catalog.GetBackupPlan(ctx, in.BackupPlanID, "")
	if err != nil {
		return nil, err
	}
	if !p.DeletionDate.IsZero() {
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "BackupPlan", Context: in.BackupPlanID,
			Message: fmt.Sprintf("backup plan %s was deleted; assign resources to a plan that exists", in.BackupPlanID)}
	}
	if p.ManagedBy != "" {
		return nil, refuseManaged(p, "given selections")
	}
	if in.CreatorRequestID != "" {
		sels, err := s.allSelections(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, sel := range sels {
			if sel.CreatorRequestID == in.CreatorRequestID {
				return sel, nil
			}
		}
	}
	sel := &backup.BackupSelection{SelectionDocument: doc, SelectionID: newPlanID(), BackupPlanID: p.ID,
		CreationDate: s.now(), CreatorRequestID: in.CreatorRequestID}
	if err := s.cfg.Catalog.CreateBackupSelection(ctx, sel); err != nil {
		if backup.ErrorCode(err) == backup.ErrAlreadyExists {
			return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "BackupSelection", Context: doc.SelectionName, Err: err,
				Message: fmt.Sprintf("backup plan %s already has a selection named %s; choose another name", p.ID, doc.SelectionName)}
		}
		return nil, err
	}
	s.log.Info("backup selection created", "plan", p.ID, "selection", sel.SelectionID, "name", sel.SelectionName)
	return sel, nil
}

// GetBackupSelection returns a selection of a plan.
func (s *Service) GetBackupSelection(ctx context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	return s.cfg.Catalog.GetBackupSelection(ctx, planID, selectionID)
}

// ListBackupSelections lists a plan's selections, newest first.
func (s *Service) ListBackupSelections(ctx context.Context, planID string, p backup.Page) ([]*backup.BackupSelection, string, error) {
	return s.cfg.Catalog.ListBackupSelections(ctx, planID, p)
}

// DeleteBackupSelection removes a selection from its plan.
func (s *Service) DeleteBackupSelection(ctx context.Context, planID, selectionID string) error {
	if sel, err := s.cfg.Catalog.GetBackupSelection(ctx, planID, selectionID); err == nil && sel.ManagedBy != "" {
		return &backup.Error{Code: backup.ErrInvalidRequest, Type: "BackupSelection", Context: selectionID,
			Message: fmt.Sprintf("backup selection %s (%s) is managed by policy %s and cannot be deleted through the API; change the policy (cairn policy apply) or delete it (cairn policy delete %s)",
				sel.SelectionName, selectionID, sel.ManagedBy, sel.ManagedBy)}
	}
	if err := s.cfg.Catalog.DeleteBackupSelection(ctx, planID, selectionID); err != nil {
		return err
	}
	s.log.Info("backup selection deleted", "plan", planID, "selection", selectionID)
	return nil
}

// allPlans returns the latest version of every live plan.
func (s *Service) allPlans(ctx context.Context) ([]*backup.BackupPlan, error) {
	var out []*backup.BackupPlan
	f := backup.BackupPlanFilter{Page: backup.Page{MaxResults: 1000}}
	for {
		page, next, err := s.cfg.Catalog.ListBackupPlans(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list backup plans: %w", err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		f.NextToken = next
	}
}

// allSelections returns every selection of a plan.
func (s *Service) allSelections(ctx context.Context, planID string) ([]*backup.BackupSelection, error) {
	var out []*backup.BackupSelection
	p := backup.Page{MaxResults: 1000}
	for {
		page, next, err := s.cfg.Catalog.ListBackupSelections(ctx, planID, p)
		if err != nil {
			return nil, fmt.Errorf("list selections of backup plan %s: %w", planID, err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		p.NextToken = next
	}
}

// livePlans returns every live plan's latest version with its selections.
func (s *Service) livePlans(ctx context.Context) ([]backup.PlanSelections, error) {
	plans, err := s.allPlans(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]backup.PlanSelections, 0, len(plans))
	for _, p := range plans {
		if !p.DeletionDate.IsZero() {
			continue
		}
		sels, err := s.allSelections(ctx, p.ID)
		if err != nil {
			if backup.IsNotFound(err) { // deleted meanwhile
				continue
			}
			return nil, err
		}
		out = append(out, backup.PlanSelections{Plan: p, Selections: sels})
	}
	return out, nil
}

// clonePlanDocument copies d deeply enough that filling in defaults does
// not change the caller's value.
func clonePlanDocument(d backup.PlanDocument) backup.PlanDocument {
	d.Rules = slices.Clone(d.Rules)
	for i := range d.Rules {
		r := &d.Rules[i]
		r.RecoveryPointTags = maps.Clone(r.RecoveryPointTags)
		r.CopyActions = slices.Clone(r.CopyActions)
	}
	d.AdvancedBackupSettings = slices.Clone(d.AdvancedBackupSettings)
	return d
}

func cloneSelectionDocument(d backup.SelectionDocument) backup.SelectionDocument {
	d.Resources = slices.Clone(d.Resources)
	d.NotResources = slices.Clone(d.NotResources)
	d.ListOfTags = slices.Clone(d.ListOfTags)
	d.Conditions.StringEquals = slices.Clone(d.Conditions.StringEquals)
	d.Conditions.StringNotEquals = slices.Clone(d.Conditions.StringNotEquals)
	d.Conditions.StringLike = slices.Clone(d.Conditions.StringLike)
	d.Conditions.StringNotLike = slices.Clone(d.Conditions.StringNotLike)
	return d
}
