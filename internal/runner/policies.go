package runner

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/policy"
)

// policyMu serialises policy applies and deletes: each computes its
// changes from what the catalog holds, then writes them in one
// transaction.
var policyMu sync.Mutex

// ApplyPolicy validates a governance policy and stores it; a backup
// policy's plans for this server's region and their selections are
// created, updated or deleted to match it, in the same transaction.
func (s *Service) ApplyPolicy(ctx context.Context, in backup.ApplyPolicyInput) (*backup.PolicyResult, error) {
	if err := backup.ValidatePolicyName(in.Name); err != nil {
		return nil, err
	}
	if !in.Type.Valid() {
		return nil, &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "Type",
			Message: fmt.Sprintf("policy type must be %s or %s; got %q", backup.PolicyTypeTag, backup.PolicyTypeBackup, in.Type)}
	}
	doc := []byte(in.Document)
	var plans []policy.Plan
	switch in.Type {
	case backup.PolicyTypeTag:
		if _, err := policy.ParseTagPolicy(in.Name, doc, in.Options); err != nil {
			return nil, err
		}
	case backup.PolicyTypeBackup:
		var err error
		if plans, err = policy.ParseBackupPolicy(doc, s.policyEnv()); err != nil {
			return nil, err
		}
	}
	if err := policy.ValidateOptions(in.Type, doc, in.Options); err != nil {
		return nil, err
	}
	var changes []backup.PolicyChange
	var here []policy.Plan
	for _, p := range plans {
		if !p.InRegion(s.cfg.Region) {
			changes = append(changes, backup.PolicyChange{Kind: "BackupPlan", Name: p.Name, Action: backup.PolicyActionSkip,
				Message: fmt.Sprintf("its regions (%v) leave out this server's region %s", p.Regions, s.cfg.Region)})
			continue
		}
		if err := backup.ValidatePlanRunsAfter(&p.Document, s.now()); err != nil {
			return nil, inPlan(p.Name, err)
		}
		if err := s.checkPlanVaults(ctx, &p.Document); err != nil {
			return nil, inPlan(p.Name, err)
		}
		here = append(here, p)
	}

	policyMu.Lock()
	defer policyMu.Unlock()
	now := s.now()
	cur, err := s.cfg.Catalog.GetPolicy(ctx, in.Name)
	if err != nil && !backup.IsNotFound(err) {
		return nil, err
	}
	if cur != nil && cur.Type != in.Type {
		return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "Policy", Context: in.Name,
			Message: fmt.Sprintf("a %s named %s exists; delete it first (cairn policy delete %s) or choose another name", cur.Type, in.Name, in.Name)}
	}
	managed, err := s.managedPlans(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	ch, planChanges, err := s.policyDiff(ctx, in.Name, here, managed, now)
	if err != nil {
		return nil, err
	}
	changes = append(planChanges, changes...)
	pol := &backup.Policy{Name: in.Name, Type: in.Type, Document: in.Document, Options: in.Options, CreationDate: now, LastUpdateDate: now}
	action := backup.PolicyActionCreate
	if cur != nil {
		pol.CreationDate = cur.CreationDate
		action = backup.PolicyActionUpdate
		if cur.Document == in.Document && reflect.DeepEqual(normOptions(cur.Options), normOptions(in.Options)) {
			action = backup.PolicyActionNone
			pol.LastUpdateDate = cur.LastUpdateDate
		}
	}
	changes = append([]backup.PolicyChange{{Kind: "Policy", Name: in.Name, Action: action}}, changes...)
	if action != backup.PolicyActionNone || !ch.empty() {
		if err := s.cfg.Catalog.ApplyPolicy(ctx, pol, ch.PolicyChanges); err != nil {
			if backup.ErrorCode(err) == backup.ErrAlreadyExists {
				return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "Policy", Context: in.Name, Err: err,
					Message: fmt.Sprintf("policy %s: %s; a plan the policy would create has the name of a plan it does not manage: rename or delete that plan, or rename the policy's plan",
						in.Name, errorMessage(err))}
			}
			return nil, err
		}
		s.log.Info("policy applied", "policy", in.Name, "type", string(in.Type), "action", action, "changes", len(changes)-1)
	}
	res := &backup.PolicyResult{Policy: pol, Changes: changes}
	if res.Plans, err = s.managedSummary(ctx, in.Name); err != nil {
		return nil, err
	}
	return res, nil
}

// inPlan prefixes a domain error's message with the plan's path in the
// document.
func inPlan(plan string, err error) error {
	e, ok := err.(*backup.Error)
	if !ok {
		return err
	}
	c := *e
	c.Message = "plans." + plan + ": " + e.Message
	return &c
}

func errorMessage(err error) string {
	if e, ok := err.(*backup.Error); ok {
		return e.Message
	}
	return err.Error()
}

func normOptions(o backup.PolicyOptions) backup.PolicyOptions {
	if len(o.Exclude) == 0 {
		o.Exclude = nil
	}
	if o.OnViolation == "" {
		o.OnViolation = backup.OnViolationReport
	}
	return o
}

// policyEnv is what backup policies are resolved against here.
func (s *Service) policyEnv() policy.Env {
	return policy.Env{AccountID: s.cfg.AccountID, Region: s.cfg.Region}
}

// managedPlan is a live plan a policy manages and its selections.
type managedPlan struct {
	plan       *backup.BackupPlan
	selections []*backup.BackupSelection
}

// managedPlans returns the live plans policy name manages, by name.
func (s *Service) managedPlans(ctx context.Context, name string) (map[string]*managedPlan, error) {
	all, err := s.allPlans(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*managedPlan{}
	for _, p := range all {
		if p.ManagedBy != name {
			continue
		}
		sels, err := s.allSelections(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		out[p.BackupPlanName] = &managedPlan{plan: p, selections: sels}
	}
	return out, nil
}

// managedSummary lists the plans policy name manages.
func (s *Service) managedSummary(ctx context.Context, name string) ([]backup.ManagedPlan, error) {
	m, err := s.managedPlans(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []backup.ManagedPlan
	for _, mp := range m {
		sum := backup.ManagedPlan{BackupPlanID: mp.plan.ID, BackupPlanName: mp.plan.BackupPlanName, VersionID: mp.plan.VersionID}
		for _, sel := range mp.selections {
			sum.Selections = append(sum.Selections, sel.SelectionName)
		}
		slices.Sort(sum.Selections)
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b backup.ManagedPlan) int { return cmpString(a.BackupPlanName, b.BackupPlanName) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type policyChanges struct{ backup.PolicyChanges }

func (c policyChanges) empty() bool {
	return len(c.CreatePlans)+len(c.UpdatePlans)+len(c.DeletePlans)+len(c.CreateSelections)+len(c.DeleteSelections) == 0
}

// policyDiff computes the catalog changes that make the plans policy name
// manages (managed) match the wanted ones.
func (s *Service) policyDiff(ctx context.Context, name string, want []policy.Plan, managed map[string]*managedPlan, now time.Time) (policyChanges, []backup.PolicyChange, error) {
	var ch policyChanges
	var out []backup.PolicyChange
	wanted := map[string]bool{}
	newSelection := func(planID string, d backup.SelectionDocument) *backup.BackupSelection {
		return &backup.BackupSelection{SelectionDocument: cloneSelectionDocument(d), SelectionID: newPlanID(),
			BackupPlanID: planID, CreationDate: now, ManagedBy: name}
	}
	for _, w := range want {
		wanted[w.Name] = true
		doc := clonePlanDocument(w.Document)
		mp := managed[w.Name]
		if mp == nil {
			for i := range doc.Rules {
				doc.Rules[i].RuleID = newPlanID()
			}
			id := newPlanID()
			p := &backup.BackupPlan{PlanDocument: doc, ID: id, ARN: backup.PlanARN(s.cfg.Region, s.cfg.AccountID, id),
				VersionID: newVersionID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region, CreationDate: now,
				Tags: w.Tags, ManagedBy: name}
			ch.CreatePlans = append(ch.CreatePlans, p)
			out = append(out, backup.PolicyChange{Kind: "BackupPlan", Name: w.Name, ID: id, Action: backup.PolicyActionCreate, VersionID: p.VersionID})
			for _, sd := range w.Selections {
				sel := newSelection(id, sd)
				ch.CreateSelections = append(ch.CreateSelections, sel)
				out = append(out, backup.PolicyChange{Kind: "BackupSelection", Name: sd.SelectionName, ID: sel.SelectionID, Action: backup.PolicyActionCreate})
			}
			continue
		}
		// Rules keep their IDs across versions, by name.
		for i := range doc.Rules {
			if r := ruleNamed(mp.plan, doc.Rules[i].RuleName); r != nil {
				doc.Rules[i].RuleID = r.RuleID
			} else {
				doc.Rules[i].RuleID = newPlanID()
			}
		}
		if reflect.DeepEqual(normPlan(doc), normPlan(mp.plan.PlanDocument)) {
			out = append(out, backup.PolicyChange{Kind: "BackupPlan", Name: w.Name, ID: mp.plan.ID, Action: backup.PolicyActionNone, VersionID: mp.plan.VersionID})
		} else {
			v := *mp.plan
			v.PlanDocument, v.VersionID, v.CreationDate = doc, newVersionID(), now
			ch.UpdatePlans = append(ch.UpdatePlans, &v)
			out = append(out, backup.PolicyChange{Kind: "BackupPlan", Name: w.Name, ID: v.ID, Action: backup.PolicyActionUpdate, VersionID: v.VersionID})
		}
		have := map[string]*backup.BackupSelection{}
		for _, sel := range mp.selections {
			have[sel.SelectionName] = sel
		}
		seen := map[string]bool{}
		for _, sd := range w.Selections {
			seen[sd.SelectionName] = true
			old := have[sd.SelectionName]
			if old != nil && reflect.DeepEqual(normSelection(old.SelectionDocument), normSelection(sd)) {
				out = append(out, backup.PolicyChange{Kind: "BackupSelection", Name: sd.SelectionName, ID: old.SelectionID, Action: backup.PolicyActionNone})
				continue
			}
			// Selections cannot be changed, only replaced (a new ID), as in AWS.
			action := backup.PolicyActionCreate
			if old != nil {
				ch.DeleteSelections = append(ch.DeleteSelections, old)
				action = backup.PolicyActionUpdate
			}
			sel := newSelection(mp.plan.ID, sd)
			ch.CreateSelections = append(ch.CreateSelections, sel)
			out = append(out, backup.PolicyChange{Kind: "BackupSelection", Name: sd.SelectionName, ID: sel.SelectionID, Action: action})
		}
		for _, sel := range mp.selections {
			if !seen[sel.SelectionName] {
				ch.DeleteSelections = append(ch.DeleteSelections, sel)
				out = append(out, backup.PolicyChange{Kind: "BackupSelection", Name: sel.SelectionName, ID: sel.SelectionID, Action: backup.PolicyActionDelete})
			}
		}
	}
	for _, n := range sortedKeys(managed) {
		if wanted[n] {
			continue
		}
		mp := managed[n]
		ch.DeletePlans = append(ch.DeletePlans, mp.plan.ID)
		ch.DeletionDate = now
		out = append(out, backup.PolicyChange{Kind: "BackupPlan", Name: n, ID: mp.plan.ID, Action: backup.PolicyActionDelete,
			Message: "no longer in the policy (or not for this region); its recovery points stay under their lifecycle"})
	}
	return ch, out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func ruleNamed(p *backup.BackupPlan, name string) *backup.BackupRule {
	for i := range p.Rules {
		if p.Rules[i].RuleName == name {
			return &p.Rules[i]
		}
	}
	return nil
}

// normPlan makes two equal documents compare equal (nil and empty are
// the same).
func normPlan(d backup.PlanDocument) backup.PlanDocument {
	d = clonePlanDocument(d)
	for i := range d.Rules {
		if len(d.Rules[i].RecoveryPointTags) == 0 {
			d.Rules[i].RecoveryPointTags = nil
		}
		if len(d.Rules[i].CopyActions) == 0 {
			d.Rules[i].CopyActions = nil
		}
	}
	if len(d.AdvancedBackupSettings) == 0 {
		d.AdvancedBackupSettings = nil
	}
	return d
}

func normSelection(d backup.SelectionDocument) backup.SelectionDocument {
	d = cloneSelectionDocument(d)
	if len(d.Resources) == 0 {
		d.Resources = nil
	}
	if len(d.NotResources) == 0 {
		d.NotResources = nil
	}
	if len(d.ListOfTags) == 0 {
		d.ListOfTags = nil
	}
	c := &d.Conditions
	for _, l := range []*[]backup.ConditionParameter{&c.StringEquals, &c.StringNotEquals, &c.StringLike, &c.StringNotLike} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return d
}

// GetPolicy returns a policy and the plans it manages.
func (s *Service) GetPolicy(ctx context.Context, name string) (*backup.PolicyResult, error) {
	p, err := s.cfg.Catalog.GetPolicy(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &backup.PolicyResult{Policy: p}
	if res.Plans, err = s.managedSummary(ctx, name); err != nil {
		return nil, err
	}
	return res, nil
}

// ListPolicies returns policies by name.
func (s *Service) ListPolicies(ctx context.Context, p backup.Page) ([]*backup.Policy, string, error) {
	return s.cfg.Catalog.ListPolicies(ctx, p)
}

// DeletePolicy removes a policy with the plans and selections it manages.
func (s *Service) DeletePolicy(ctx context.Context, name string) (*backup.PolicyResult, error) {
	policyMu.Lock()
	defer policyMu.Unlock()
	p, err := s.cfg.Catalog.GetPolicy(ctx, name)
	if err != nil {
		return nil, err
	}
	managed, err := s.managedPlans(ctx, name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ch := backup.PolicyChanges{DeletionDate: now}
	changes := []backup.PolicyChange{{Kind: "Policy", Name: name, Action: backup.PolicyActionDelete}}
	for _, n := range sortedKeys(managed) {
		mp := managed[n]
		ch.DeletePlans = append(ch.DeletePlans, mp.plan.ID)
		for _, sel := range mp.selections {
			changes = append(changes, backup.PolicyChange{Kind: "BackupSelection", Name: sel.SelectionName, ID: sel.SelectionID, Action: backup.PolicyActionDelete})
		}
		changes = append(changes, backup.PolicyChange{Kind: "BackupPlan", Name: n, ID: mp.plan.ID, Action: backup.PolicyActionDelete,
			Message: "its recovery points stay under their lifecycle"})
	}
	if err := s.cfg.Catalog.DeletePolicy(ctx, name, ch); err != nil {
		return nil, err
	}
	s.log.Info("policy deleted", "policy", name, "plans", len(ch.DeletePlans))
	return &backup.PolicyResult{Policy: p, Changes: changes}, nil
}

// refuseManaged is the error for a change through the API to a plan a
// policy manages.
func refuseManaged(p *backup.BackupPlan, what string) error {
	return &backup.Error{Code: backup.ErrInvalidRequest, Type: "BackupPlan", Context: p.ID,
		Message: fmt.Sprintf("backup plan %s (%s) is managed by policy %s and cannot be %s through the API; change the policy (cairn policy apply) or delete it (cairn policy delete %s)",
			p.BackupPlanName, p.ID, p.ManagedBy, what, p.ManagedBy)}
}
