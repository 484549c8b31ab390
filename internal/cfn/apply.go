package cfn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Backend is what applying a template needs from cairn: vaults, plans and
// selections. *runner.Service implements it; every method validates its
// input as the AWS Backup API does.
type Backend interface {
	CreateVault(ctx context.Context, in backup.CreateVaultInput) (*backup.Vault, error)
	GetVault(ctx context.Context, name string) (*backup.Vault, error)
	// DeleteVault fails with ErrInvalidRequest while the vault holds
	// recovery points.
	DeleteVault(ctx context.Context, name string) error
	CreateBackupPlan(ctx context.Context, in backup.CreateBackupPlanInput) (*backup.BackupPlan, error)
	GetBackupPlan(ctx context.Context, id, versionID string, previewRuns int) (*backup.BackupPlan, []backup.ScheduledRun, error)
	UpdateBackupPlan(ctx context.Context, id string, doc backup.PlanDocument) (*backup.BackupPlan, error)
	// DeleteBackupPlan fails with ErrInvalidRequest while the plan has
	// selections.
	DeleteBackupPlan(ctx context.Context, id string) (*backup.BackupPlan, error)
	CreateBackupSelection(ctx context.Context, in backup.CreateBackupSelectionInput) (*backup.BackupSelection, error)
	GetBackupSelection(ctx context.Context, planID, selectionID string) (*backup.BackupSelection, error)
	ListBackupSelections(ctx context.Context, planID string, p backup.Page) ([]*backup.BackupSelection, string, error)
	DeleteBackupSelection(ctx context.Context, planID, selectionID string) error
}

// Env is where stacks live: the values of the pseudo parameters
// AWS::Region, AWS::AccountId and AWS::Partition.
type Env struct {
	Region    string
	AccountID string
	// Partition is "aws" if empty.
	Partition string
}

func (e Env) partition() string {
	if e.Partition == "" {
		return "aws"
	}
	return e.Partition
}

// Change actions of a backup.StackChange.
const (
	ActionCreate = "CREATE"
	ActionUpdate = "UPDATE"
	ActionDelete = "DELETE"
	ActionNone   = "NONE"
	ActionSkip   = "SKIP"
)

// replacedSuffix marks a stack record entry that a replacement left behind;
// logical IDs are alphanumeric, so it cannot clash with a template's.
const replacedSuffix = "/replaced"

// Stacks applies templates to a Backend and records each stack in Store.
// It is not safe to apply the same stack from two goroutines at once; the
// caller serialises stack operations.
type Stacks struct {
	Backend Backend
	Store   backup.StackStore
	Env     Env
	// Now is the clock for the stack's dates; time.Now if nil.
	Now func() time.Time
}

var stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// ValidateStackName checks a stack name as CloudFormation does: a letter,
// then letters, digits and hyphens, at most 128 characters.
func ValidateStackName(name string) error {
	if !stackNamePattern.MatchString(name) {
		return backup.Errorf(backup.ErrInvalidParameter,
			"stack name %q is not valid: it must start with a letter and contain only letters, digits and hyphens (at most 128 characters)", name)
	}
	return nil
}

func (s *Stacks) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// Apply creates or updates the stack in.StackName from in.Template. It
// first runs every step against a simulation of the backend, so a template,
// parameter or property error changes nothing; then it creates resources in
// dependency order, updates changed ones in place where AWS Backup allows
// it and replaces them where it does not, and deletes the resources the
// template no longer declares (selections, then plans, then vaults). The
// stack record is saved after every step, so after a failure midway a new
// Apply continues from what exists.
func (s *Stacks) Apply(ctx context.Context, in backup.ApplyStackInput) (*backup.StackResult, error) {
	if err := ValidateStackName(in.StackName); err != nil {
		return nil, err
	}
	t, err := Parse(in.Template)
	if err != nil {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "template: %v", err)
	}
	params, err := t.ResolveParameters(in.Parameters)
	if err != nil {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "%v", err)
	}
	order, err := t.Order()
	if err != nil {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "template: %v", err)
	}
	old, err := s.Store.GetStack(ctx, in.StackName)
	if backup.IsNotFound(err) {
		old = nil
	} else if err != nil {
		return nil, err
	}
	dry := s.applier(newDryBackend(s.Backend, s.Env), newMemStore(old), in.StackName, old)
	if _, err := dry.apply(ctx, t, params, order); err != nil {
		return nil, err
	}
	return s.applier(s.Backend, s.Store, in.StackName, old).apply(ctx, t, params, order)
}

// Delete removes every resource the stack created, in reverse dependency
// order (selections, then plans, then vaults), then the stack record. A
// resource that cannot be deleted, such as a vault that still holds
// recovery points, stays in the record with the reason as its Message, the
// others are deleted, and the error names it; the result is returned with
// the error.
func (s *Stacks) Delete(ctx context.Context, name string) (*backup.StackResult, error) {
	if err := ValidateStackName(name); err != nil {
		return nil, err
	}
	st, err := s.Store.GetStack(ctx, name)
	if err != nil {
		if backup.IsNotFound(err) {
			return nil, backup.NotFound("stack", name)
		}
		return nil, err
	}
	a := s.applier(s.Backend, s.Store, name, st)
	var failed []string
	var firstErr error
	for _, e := range a.deletionOrder(func(backup.StackResource) bool { return true }) {
		err := a.deleteResource(ctx, e)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s)", e.LogicalID, message(err)))
			if firstErr == nil {
				firstErr = err
			}
			if p := a.entry(e.LogicalID); p != nil {
				p.Message = "not deleted: " + message(err)
			}
			continue
		}
		a.remove(e.LogicalID)
		a.change(e, ActionDelete, deleteMessage(e))
		if err := a.save(ctx); err != nil {
			return nil, err
		}
	}
	result := &backup.StackResult{Stack: a.stack, Changes: a.changes}
	if len(failed) > 0 {
		if err := a.save(ctx); err != nil {
			return nil, err
		}
		code := backup.ErrorCode(firstErr)
		if code == backup.ErrNotFound {
			code = backup.ErrInvalidRequest
		}
		return result, &backup.Error{Code: code, Err: firstErr, Message: fmt.Sprintf(
			"stack %s: could not delete %s; these stay in the stack record: fix the cause and run the delete again",
			name, strings.Join(failed, ", "))}
	}
	if err := s.Store.DeleteStack(ctx, name); err != nil && !backup.IsNotFound(err) {
		return nil, err
	}
	return result, nil
}

// GetStack returns the record of a stack.
func (s *Stacks) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	if err := ValidateStackName(name); err != nil {
		return nil, err
	}
	st, err := s.Store.GetStack(ctx, name)
	if backup.IsNotFound(err) {
		return nil, backup.NotFound("stack", name)
	}
	return st, err
}

func (s *Stacks) applier(b Backend, store backup.StackStore, name string, old *backup.Stack) *applier {
	a := &applier{env: s.Env, now: s.now, backend: b, store: store, done: map[string]bool{},
		skipped: map[string]string{}, notes: map[string]string{}}
	if old != nil {
		a.stack = cloneStack(old)
	} else {
		now := s.now()
		a.stack = &backup.Stack{Name: name, CreationDate: now, UpdateDate: now}
	}
	return a
}

// applier carries out one apply or delete.
type applier struct {
	env     Env
	now     func() time.Time
	backend Backend
	store   backup.StackStore

	t       *Template
	ev      *evaluator
	stack   *backup.Stack
	changes []backup.StackChange
	done    map[string]bool   // resources handled in this apply
	skipped map[string]string // resources whose Condition is false, with it
	notes   map[string]string // why a resource will be recreated
	fresh   int
}

func (a *applier) apply(ctx context.Context, t *Template, params map[string]string, order []string) (*backup.StackResult, error) {
	a.t = t
	a.stack.Parameters = maps.Clone(params)
	for _, id := range order {
		r := t.Resources[id]
		if e := a.entry(id); e != nil && e.Type != r.Type {
			return nil, backup.Errorf(backup.ErrInvalidParameter,
				"resource %s: its Type changed from %s to %s, which CloudFormation does not allow either; give the new resource another logical ID", id, e.Type, r.Type)
		}
	}
	stackID := fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", a.env.partition(), a.env.Region, a.env.AccountID,
		a.stack.Name, hex.EncodeToString(sum(a.stack.Name, a.stack.CreationDate.Format(time.RFC3339Nano)))[:32])
	pseudo := map[string]any{
		"AWS::AccountId": a.env.AccountID, "AWS::Region": a.env.Region, "AWS::Partition": a.env.partition(),
		"AWS::StackName": a.stack.Name, "AWS::StackId": stackID, "AWS::URLSuffix": "amazonaws.com",
		"AWS::NotificationARNs": []any{},
	}
	a.ev = newEvaluator(t, params, pseudo, a.attr)
	for _, id := range order {
		r := t.Resources[id]
		if r.Condition == "" {
			continue
		}
		ok, err := a.ev.condition(r.Condition)
		if err != nil {
			return nil, backup.Errorf(backup.ErrInvalidParameter, "resource %s: %v", id, err)
		}
		if !ok {
			a.skipped[id] = r.Condition
		}
	}
	if err := a.save(ctx); err != nil {
		return nil, err
	}
	for _, id := range order {
		if _, skip := a.skipped[id]; skip {
			continue
		}
		if err := a.applyResource(ctx, t.Resources[id]); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(t.Outputs) {
		o := t.Outputs[name]
		if o.Condition != "" {
			if ok, err := a.ev.condition(o.Condition); err != nil {
				return nil, backup.Errorf(backup.ErrInvalidParameter, "output %s: %v", name, err)
			} else if !ok {
				continue
			}
		}
		if _, err := a.ev.eval(o.Value, "Outputs."+name+".Value"); err != nil {
			return nil, backup.Errorf(backup.ErrInvalidParameter, "output %s: %v", name, err)
		}
	}
	keep := func(e backup.StackResource) bool {
		_, inTemplate := t.Resources[e.LogicalID]
		_, skipped := a.skipped[e.LogicalID]
		return !inTemplate || skipped
	}
	for _, e := range a.deletionOrder(keep) {
		if err := a.deleteResource(ctx, e); err != nil {
			what := "it is no longer in the template"
			if strings.Contains(e.LogicalID, replacedSuffix) {
				what = "it was replaced"
			}
			return nil, &backup.Error{Code: backup.ErrorCode(err), Err: err, Message: fmt.Sprintf(
				"resource %s (%s): cannot delete %s, which %s: %s", baseID(e.LogicalID), e.Type, e.PhysicalID, what, message(err))}
		}
		a.remove(e.LogicalID)
		a.change(e, ActionDelete, deleteMessage(e))
		if err := a.save(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.save(ctx); err != nil {
		return nil, err
	}
	return &backup.StackResult{Stack: a.stack, Changes: a.changes}, nil
}

// attr answers Ref and Fn::GetAtt for a resource of the template.
func (a *applier) attr(id, attr string) (string, error) {
	if cond, ok := a.skipped[id]; ok {
		return "", fmt.Errorf("resource %s is not created because its Condition %s is false", id, cond)
	}
	e := a.entry(id)
	if !a.done[id] || e == nil {
		return "", fmt.Errorf("resource %s is not created yet (add it to DependsOn)", id)
	}
	if e.Status == backup.StackResourceNotApplicable {
		return placeholderAttr(a.env, e.Type, e.PhysicalID, attr), nil
	}
	if e.Type == TypeBackupVault && attr == "Arn" {
		attr = "BackupVaultArn"
	}
	v, ok := e.Attributes[attr]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s (it has %s)", e.Type, attr, strings.Join(attributeNames[e.Type], ", "))
	}
	return v, nil
}

func managed(typ string) bool {
	return typ == TypeBackupVault || typ == TypeBackupPlan || typ == TypeBackupSelection
}

func (a *applier) applyResource(ctx context.Context, r *Resource) error {
	old := a.entry(r.LogicalID)
	if old != nil {
		c := *old
		old = &c
	}
	if !managed(r.Type) {
		name := ""
		if np := nameProperties[r.Type]; np != "" {
			if v, err := a.ev.eval(r.Properties[np], "Properties."+np); err == nil {
				name, _ = v.(string)
			}
		}
		e := backup.StackResource{LogicalID: r.LogicalID, Type: r.Type, PhysicalID: placeholder(a.stack.Name, r.LogicalID, r.Type, name),
			Status: backup.StackResourceNotApplicable, Message: "not applicable: cairn creates only AWS::Backup vaults, plans and selections"}
		a.put(e)
		a.done[r.LogicalID] = true
		a.change(e, ActionSkip, e.Message)
		if old == nil || old.PhysicalID != e.PhysicalID || old.Status != e.Status {
			return a.save(ctx)
		}
		return nil
	}
	resolved, err := a.ev.eval(r.Properties, "Properties")
	if err != nil {
		return invalid(r, err)
	}
	p, _ := resolved.(map[string]any)
	switch r.Type {
	case TypeBackupVault:
		spec, ignored, err := decodeVault(p)
		if err != nil {
			return invalid(r, err)
		}
		return a.applyVault(ctx, r, old, spec, ignored)
	case TypeBackupPlan:
		spec, err := decodePlan(p)
		if err != nil {
			return invalid(r, err)
		}
		return a.applyPlan(ctx, r, old, spec)
	default:
		spec, err := decodeSelection(p)
		if err != nil {
			return invalid(r, err)
		}
		return a.applySelection(ctx, r, old, spec)
	}
}

func (a *applier) applyVault(ctx context.Context, r *Resource, old *backup.StackResource, spec vaultSpec, ignored []string) error {
	props := mustJSON(spec)
	msg := ""
	if len(ignored) > 0 {
		msg = "ignored by cairn: " + strings.Join(ignored, ", ")
	}
	create := func(token string) error {
		v, err := a.backend.CreateVault(ctx, backup.CreateVaultInput{Name: spec.Name, CreatorRequestID: token,
			EncryptionKeyARN: spec.EncryptionKeyARN, Tags: maps.Clone(spec.Tags)})
		if err != nil {
			return resourceErr(r, "create vault "+spec.Name, err)
		}
		a.put(backup.StackResource{LogicalID: r.LogicalID, Type: r.Type, PhysicalID: v.Name, Status: backup.StackResourceApplied,
			Properties: props, Message: msg,
			Attributes: map[string]string{"Ref": v.Name, "BackupVaultName": v.Name, "BackupVaultArn": v.ARN}})
		a.done[r.LogicalID] = true
		return a.save(ctx)
	}
	switch {
	case old == nil:
		if err := create(a.token(r.LogicalID, props)); err != nil {
			return err
		}
		a.changed(r, ActionCreate, msg)
	case old.Properties == props:
		_, err := a.backend.GetVault(ctx, old.PhysicalID)
		if backup.IsNotFound(err) {
			if err := create(a.freshToken()); err != nil {
				return err
			}
			a.changed(r, ActionCreate, "recreated: the vault had been deleted outside the stack")
			return nil
		} else if err != nil {
			return resourceErr(r, "read vault "+old.PhysicalID, err)
		}
		a.done[r.LogicalID] = true
		a.changed(r, ActionNone, msg)
	default:
		var prev vaultSpec
		_ = json.Unmarshal([]byte(old.Properties), &prev)
		diff := diffNames(prev.Name != spec.Name, "BackupVaultName", prev.EncryptionKeyARN != spec.EncryptionKeyARN, "EncryptionKeyArn",
			!maps.Equal(prev.Tags, spec.Tags), "BackupVaultTags")
		if diff == "" && old.PhysicalID == spec.Name { // the same vault, recorded differently
			e := *old
			e.Properties, e.Message = props, msg
			a.put(e)
			a.done[r.LogicalID] = true
			a.changed(r, ActionNone, msg)
			return a.save(ctx)
		}
		if old.PhysicalID != spec.Name {
			// A new name: create the new vault, delete the old one once the
			// resources that use it have moved.
			a.retire(r.LogicalID)
			if err := create(a.token(r.LogicalID, props)); err != nil {
				return err
			}
			a.changed(r, ActionUpdate, fmt.Sprintf("replaced (%s changed): new vault %s; vault %s is deleted at the end", diff, spec.Name, old.PhysicalID))
			return nil
		}
		// Same name: cairn cannot change a vault's tags or key in place, so
		// an empty vault is deleted and created again.
		if err := a.backend.DeleteVault(ctx, old.PhysicalID); err != nil && !backup.IsNotFound(err) {
			if backup.ErrorCode(err) == backup.ErrInvalidRequest {
				return &backup.Error{Code: backup.ErrInvalidRequest, Err: err, Message: fmt.Sprintf(
					"resource %s (%s): %s changed, which cairn can only apply by recreating vault %s, but it cannot be deleted: %s; restore the previous %s or give the vault a new BackupVaultName",
					r.LogicalID, r.Type, diff, old.PhysicalID, message(err), diff)}
			}
			return resourceErr(r, "delete vault "+old.PhysicalID+" to recreate it", err)
		}
		a.remove(r.LogicalID)
		if err := a.save(ctx); err != nil {
			return err
		}
		if err := create(a.token(r.LogicalID, props)); err != nil {
			return err
		}
		a.changed(r, ActionUpdate, fmt.Sprintf("%s changed: the empty vault was recreated with them", diff))
	}
	return nil
}

func (a *applier) applyPlan(ctx context.Context, r *Resource, old *backup.StackResource, spec planSpec) error {
	props := mustJSON(spec)
	record := func(p *backup.BackupPlan) error {
		a.put(backup.StackResource{LogicalID: r.LogicalID, Type: r.Type, PhysicalID: p.ID, Status: backup.StackResourceApplied,
			Properties: props, Attributes: map[string]string{"Ref": p.ID, "BackupPlanId": p.ID, "BackupPlanArn": p.ARN, "VersionId": p.VersionID}})
		a.done[r.LogicalID] = true
		return a.save(ctx)
	}
	create := func(token string) (*backup.BackupPlan, error) {
		in := backup.CreateBackupPlanInput{Plan: clonePlan(spec.Plan), Tags: maps.Clone(spec.Tags), CreatorRequestID: token}
		p, err := a.backend.CreateBackupPlan(ctx, in)
		if err == nil && !p.DeletionDate.IsZero() {
			// The token named a plan deleted since; make a new one.
			in.CreatorRequestID = a.freshToken()
			p, err = a.backend.CreateBackupPlan(ctx, in)
		}
		if err != nil {
			return nil, resourceErr(r, "create backup plan "+spec.Plan.BackupPlanName, err)
		}
		return p, record(p)
	}
	switch {
	case old == nil:
		p, err := create(a.token(r.LogicalID, props))
		if err != nil {
			return err
		}
		a.changed(r, ActionCreate, "version "+p.VersionID)
	case old.Properties == props:
		p, _, err := a.backend.GetBackupPlan(ctx, old.PhysicalID, "", 0)
		if backup.IsNotFound(err) || err == nil && !p.DeletionDate.IsZero() {
			if _, err := create(a.freshToken()); err != nil {
				return err
			}
			a.changed(r, ActionCreate, "recreated: the plan had been deleted outside the stack")
			return nil
		} else if err != nil {
			return resourceErr(r, "read backup plan "+old.PhysicalID, err)
		}
		a.done[r.LogicalID] = true
		if old.Attributes["VersionId"] != p.VersionID { // updated outside the stack
			if err := record(p); err != nil {
				return err
			}
		}
		a.changed(r, ActionNone, "")
	default:
		var prev planSpec
		_ = json.Unmarshal([]byte(old.Properties), &prev)
		if maps.Equal(prev.Tags, spec.Tags) {
			p, err := a.backend.UpdateBackupPlan(ctx, old.PhysicalID, clonePlan(spec.Plan))
			if backup.IsNotFound(err) {
				if _, err := create(a.freshToken()); err != nil {
					return err
				}
				a.changed(r, ActionCreate, "recreated: the plan had been deleted outside the stack")
				return nil
			}
			if err != nil {
				return resourceErr(r, "update backup plan "+old.PhysicalID, err)
			}
			if err := record(p); err != nil {
				return err
			}
			a.changed(r, ActionUpdate, "new version "+p.VersionID)
			return nil
		}
		// BackupPlanTags changed: cairn cannot retag a plan, so it is
		// replaced, and with it the stack's selections of the plan.
		if prev.Plan.BackupPlanName != spec.Plan.BackupPlanName {
			a.retire(r.LogicalID)
			p, err := create(a.token(r.LogicalID, props))
			if err != nil {
				return err
			}
			a.changed(r, ActionUpdate, fmt.Sprintf("replaced (BackupPlanTags changed): new plan %s; plan %s is deleted at the end", p.ID, old.PhysicalID))
			return nil
		}
		for _, e := range slices.Clone(a.stack.Resources) {
			planID, selID, ok := strings.Cut(e.PhysicalID, "/")
			if e.Type != TypeBackupSelection || !ok || planID != old.PhysicalID {
				continue
			}
			if err := a.backend.DeleteBackupSelection(ctx, planID, selID); err != nil && !backup.IsNotFound(err) {
				return resourceErr(r, "delete selection "+selID+" to replace plan "+planID, err)
			}
			a.remove(e.LogicalID)
			if err := a.save(ctx); err != nil {
				return err
			}
			if _, inTemplate := a.t.Resources[e.LogicalID]; inTemplate && a.skipped[e.LogicalID] == "" {
				a.notes[e.LogicalID] = fmt.Sprintf("recreated on the new plan that replaced %s", planID)
			} else {
				a.change(e, ActionDelete, "deleted with the plan it belonged to")
			}
		}
		if _, err := a.backend.DeleteBackupPlan(ctx, old.PhysicalID); err != nil && !backup.IsNotFound(err) {
			return &backup.Error{Code: backup.ErrorCode(err), Err: err, Message: fmt.Sprintf(
				"resource %s (%s): BackupPlanTags changed, which cairn can only apply by recreating plan %s, but it cannot be deleted: %s; restore the previous BackupPlanTags or also change BackupPlanName",
				r.LogicalID, r.Type, old.PhysicalID, message(err))}
		}
		a.remove(r.LogicalID)
		if err := a.save(ctx); err != nil {
			return err
		}
		p, err := create(a.token(r.LogicalID, props))
		if err != nil {
			return err
		}
		a.changed(r, ActionUpdate, fmt.Sprintf("BackupPlanTags changed: plan %s was recreated as %s", old.PhysicalID, p.ID))
	}
	return nil
}

func (a *applier) applySelection(ctx context.Context, r *Resource, old *backup.StackResource, spec selectionSpec) error {
	props := mustJSON(spec)
	create := func(token string) (*backup.BackupSelection, error) {
		in := backup.CreateBackupSelectionInput{BackupPlanID: spec.PlanID, Selection: cloneSelection(spec.Selection), CreatorRequestID: token}
		s, err := a.backend.CreateBackupSelection(ctx, in)
		if err == nil {
			// The token may name a selection deleted since; then make a new one.
			if _, gerr := a.backend.GetBackupSelection(ctx, s.BackupPlanID, s.SelectionID); backup.IsNotFound(gerr) {
				in.CreatorRequestID = a.freshToken()
				s, err = a.backend.CreateBackupSelection(ctx, in)
			}
		}
		if err != nil {
			return nil, resourceErr(r, fmt.Sprintf("create selection %s of plan %s", spec.Selection.SelectionName, spec.PlanID), err)
		}
		a.put(backup.StackResource{LogicalID: r.LogicalID, Type: r.Type, PhysicalID: s.BackupPlanID + "/" + s.SelectionID,
			Status: backup.StackResourceApplied, Properties: props,
			Attributes: map[string]string{"Ref": s.SelectionID, "SelectionId": s.SelectionID, "Id": s.SelectionID, "BackupPlanId": s.BackupPlanID}})
		a.done[r.LogicalID] = true
		return s, a.save(ctx)
	}
	switch {
	case old == nil:
		s, err := create(a.token(r.LogicalID, props))
		if err != nil {
			return err
		}
		msg := a.notes[r.LogicalID]
		if msg == "" {
			msg = "selection " + s.SelectionID
		}
		a.changed(r, ActionCreate, msg)
	case old.Properties == props:
		planID, selID, _ := strings.Cut(old.PhysicalID, "/")
		_, err := a.backend.GetBackupSelection(ctx, planID, selID)
		if backup.IsNotFound(err) {
			if _, err := create(a.freshToken()); err != nil {
				return err
			}
			a.changed(r, ActionCreate, "recreated: the selection had been deleted outside the stack")
			return nil
		} else if err != nil {
			return resourceErr(r, "read selection "+old.PhysicalID, err)
		}
		a.done[r.LogicalID] = true
		a.changed(r, ActionNone, "")
	default:
		// Selections cannot be changed: a new one replaces the old.
		var prev selectionSpec
		_ = json.Unmarshal([]byte(old.Properties), &prev)
		planID, selID, _ := strings.Cut(old.PhysicalID, "/")
		if planID == spec.PlanID && prev.Selection.SelectionName == spec.Selection.SelectionName {
			// The name is taken until the old one is gone.
			if err := a.backend.DeleteBackupSelection(ctx, planID, selID); err != nil && !backup.IsNotFound(err) {
				return resourceErr(r, "delete selection "+selID+" to replace it", err)
			}
			a.remove(r.LogicalID)
			if err := a.save(ctx); err != nil {
				return err
			}
		} else {
			a.retire(r.LogicalID)
		}
		s, err := create(a.token(r.LogicalID, props))
		if err != nil {
			return err
		}
		a.changed(r, ActionUpdate, fmt.Sprintf("replaced (a selection cannot be changed): new selection %s", s.SelectionID))
	}
	return nil
}

// deleteResource deletes what a stack record entry names; a resource that
// is already gone counts as deleted.
func (a *applier) deleteResource(ctx context.Context, e backup.StackResource) error {
	var err error
	switch e.Type {
	case TypeBackupSelection:
		planID, selID, _ := strings.Cut(e.PhysicalID, "/")
		err = a.backend.DeleteBackupSelection(ctx, planID, selID)
	case TypeBackupPlan:
		_, err = a.backend.DeleteBackupPlan(ctx, e.PhysicalID)
	case TypeBackupVault:
		err = a.backend.DeleteVault(ctx, e.PhysicalID)
	}
	if backup.IsNotFound(err) {
		return nil
	}
	return err
}

// deletionOrder returns the record entries that match, in the order to
// delete them: selections, then plans, then vaults, then the rest; within
// a type, the latest created first.
func (a *applier) deletionOrder(match func(backup.StackResource) bool) []backup.StackResource {
	rank := map[string]int{TypeBackupSelection: 0, TypeBackupPlan: 1, TypeBackupVault: 2}
	var out []backup.StackResource
	index := map[string]int{}
	for i, e := range a.stack.Resources {
		if match(e) {
			out = append(out, e)
			index[e.LogicalID] = i
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, ok := rank[out[i].Type]
		if !ok {
			ri = 3
		}
		rj, ok := rank[out[j].Type]
		if !ok {
			rj = 3
		}
		if ri != rj {
			return ri < rj
		}
		return index[out[i].LogicalID] > index[out[j].LogicalID]
	})
	return out
}

func deleteMessage(e backup.StackResource) string {
	switch {
	case e.Status == backup.StackResourceNotApplicable:
		return "removed from the stack record (cairn created nothing for it)"
	case strings.Contains(e.LogicalID, replacedSuffix):
		return "deleted " + e.PhysicalID + ", which was replaced"
	}
	return "deleted " + e.PhysicalID
}

// retire renames the record entry of id so that the end of the apply
// deletes what it names, once its replacement exists.
func (a *applier) retire(id string) {
	e := a.entry(id)
	if e == nil {
		return
	}
	name := id + replacedSuffix
	for n := 2; a.entry(name) != nil; n++ {
		name = fmt.Sprintf("%s%s%d", id, replacedSuffix, n)
	}
	e.LogicalID = name
}

func baseID(id string) string {
	base, _, _ := strings.Cut(id, replacedSuffix)
	return base
}

func (a *applier) entry(id string) *backup.StackResource {
	for i := range a.stack.Resources {
		if a.stack.Resources[i].LogicalID == id {
			return &a.stack.Resources[i]
		}
	}
	return nil
}

func (a *applier) put(e backup.StackResource) {
	if p := a.entry(e.LogicalID); p != nil {
		*p = e
		return
	}
	a.stack.Resources = append(a.stack.Resources, e)
}

func (a *applier) remove(id string) {
	a.stack.Resources = slices.DeleteFunc(a.stack.Resources, func(e backup.StackResource) bool { return e.LogicalID == id })
}

func (a *applier) save(ctx context.Context) error {
	a.stack.UpdateDate = a.now()
	if err := a.store.PutStack(ctx, a.stack); err != nil {
		return fmt.Errorf("save the record of stack %s: %w", a.stack.Name, err)
	}
	return nil
}

// changed reports what happened to a template resource, with its
// current physical ID.
func (a *applier) changed(r *Resource, action, msg string) {
	phys := ""
	if e := a.entry(r.LogicalID); e != nil {
		phys = e.PhysicalID
	}
	a.changes = append(a.changes, backup.StackChange{LogicalID: r.LogicalID, Type: r.Type, PhysicalID: phys, Action: action, Message: msg})
}

func (a *applier) change(e backup.StackResource, action, msg string) {
	a.changes = append(a.changes, backup.StackChange{LogicalID: baseID(e.LogicalID), Type: e.Type, PhysicalID: e.PhysicalID, Action: action, Message: msg})
}

// token is the CreatorRequestId of a resource: the same for the same stack,
// resource and properties, so that creating it again after a failure that
// kept it out of the record returns what was created.
func (a *applier) token(id, props string) string {
	return "cfn-" + hex.EncodeToString(sum(a.stack.Name, a.stack.CreationDate.Format(time.RFC3339Nano), id, props))[:32]
}

// freshToken is a CreatorRequestId used once.
func (a *applier) freshToken() string {
	a.fresh++
	return "cfn-" + hex.EncodeToString(sum(a.stack.Name, a.now().Format(time.RFC3339Nano), fmt.Sprint(a.fresh)))[:32]
}

func sum(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

func invalid(r *Resource, err error) error {
	return backup.Errorf(backup.ErrInvalidParameter, "resource %s (%s): %v", r.LogicalID, r.Type, err)
}

// resourceErr names the resource and the step that failed, keeping the
// backend error's code.
func resourceErr(r *Resource, step string, err error) error {
	return &backup.Error{Code: backup.ErrorCode(err), Err: err,
		Message: fmt.Sprintf("resource %s (%s): %s: %s", r.LogicalID, r.Type, step, message(err))}
}

func diffNames(pairs ...any) string {
	var names []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i].(bool) {
			names = append(names, pairs[i+1].(string))
		}
	}
	return strings.Join(names, " and ")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings, numbers and maps
	}
	return string(b)
}

func cloneStack(s *backup.Stack) *backup.Stack {
	c := *s
	c.Parameters = maps.Clone(s.Parameters)
	c.Resources = make([]backup.StackResource, len(s.Resources))
	for i, r := range s.Resources {
		r.Attributes = maps.Clone(r.Attributes)
		c.Resources[i] = r
	}
	return &c
}

func clonePlan(d backup.PlanDocument) backup.PlanDocument {
	var c backup.PlanDocument
	_ = json.Unmarshal([]byte(mustJSON(d)), &c)
	return c
}

func cloneSelection(d backup.SelectionDocument) backup.SelectionDocument {
	var c backup.SelectionDocument
	_ = json.Unmarshal([]byte(mustJSON(d)), &c)
	return c
}
