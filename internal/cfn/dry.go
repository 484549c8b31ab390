package cfn

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// dryBackend simulates a Backend: it reads through to the real one and
// keeps its own writes in memory, checking them as the real one would, so
// that Apply can find what would fail before it changes anything.
type dryBackend struct {
	real Backend
	env  Env
	n    int

	vaults        map[string]*backup.Vault
	deletedVaults map[string]bool
	plans         map[string]*backup.BackupPlan
	deletedPlans  map[string]bool
	sels          map[string]*backup.BackupSelection // by PLANID/SELECTIONID
	deletedSels   map[string]bool
}

func newDryBackend(real Backend, env Env) *dryBackend {
	return &dryBackend{real: real, env: env,
		vaults: map[string]*backup.Vault{}, deletedVaults: map[string]bool{},
		plans: map[string]*backup.BackupPlan{}, deletedPlans: map[string]bool{},
		sels: map[string]*backup.BackupSelection{}, deletedSels: map[string]bool{}}
}

var _ Backend = (*dryBackend)(nil)

func (d *dryBackend) id(kind string) string {
	d.n++
	return fmt.Sprintf("(new %s %d)", kind, d.n)
}

func (d *dryBackend) CreateVault(ctx context.Context, in backup.CreateVaultInput) (*backup.Vault, error) {
	if err := backup.ValidateVaultName(in.Name); err != nil {
		return nil, err
	}
	if _, _, err := backup.StorageFromTags(in.Tags); err != nil {
		return nil, err
	}
	existing, err := d.GetVault(ctx, in.Name)
	if err == nil {
		if in.CreatorRequestID != "" && existing.CreatorRequestID == in.CreatorRequestID {
			return existing, nil
		}
		return nil, &backup.Error{Code: backup.ErrAlreadyExists, Message: fmt.Sprintf("backup vault %s already exists", in.Name),
			Type: "BackupVault", Context: in.Name}
	}
	if !backup.IsNotFound(err) {
		return nil, err
	}
	v := &backup.Vault{Name: in.Name, ARN: backup.VaultARN(d.env.Region, d.env.AccountID, in.Name), AccountID: d.env.AccountID,
		Region: d.env.Region, CreatorRequestID: in.CreatorRequestID, EncryptionKeyARN: in.EncryptionKeyARN, Tags: maps.Clone(in.Tags)}
	d.vaults[in.Name] = v
	delete(d.deletedVaults, in.Name)
	return v, nil
}

func (d *dryBackend) GetVault(ctx context.Context, name string) (*backup.Vault, error) {
	if v, ok := d.vaults[name]; ok {
		return v, nil
	}
	if d.deletedVaults[name] {
		return nil, backup.NotFound("backup vault", name)
	}
	return d.real.GetVault(ctx, name)
}

func (d *dryBackend) DeleteVault(ctx context.Context, name string) error {
	v, err := d.GetVault(ctx, name)
	if err != nil {
		return err
	}
	if v.NumberOfRecoveryPoints > 0 {
		return backup.Errorf(backup.ErrInvalidRequest, "backup vault %s holds %d recovery points; delete them first", name, v.NumberOfRecoveryPoints)
	}
	delete(d.vaults, name)
	d.deletedVaults[name] = true
	return nil
}

// checkPlan validates a plan document and that its target vaults exist.
func (d *dryBackend) checkPlan(ctx context.Context, doc backup.PlanDocument) error {
	doc = clonePlan(doc)
	if err := backup.ValidatePlanDocument(&doc); err != nil {
		return err
	}
	for _, r := range doc.Rules {
		if _, err := d.GetVault(ctx, r.TargetBackupVaultName); backup.IsNotFound(err) {
			return &backup.Error{Code: backup.ErrInvalidParameter, Type: "BackupVault", Context: r.TargetBackupVaultName,
				Message: fmt.Sprintf("rule %s: TargetBackupVault %s does not exist; create it or name an existing vault", r.RuleName, r.TargetBackupVaultName)}
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (d *dryBackend) CreateBackupPlan(ctx context.Context, in backup.CreateBackupPlanInput) (*backup.BackupPlan, error) {
	if err := d.checkPlan(ctx, in.Plan); err != nil {
		return nil, err
	}
	id := d.id("plan")
	p := &backup.BackupPlan{PlanDocument: clonePlan(in.Plan), ID: id, ARN: backup.PlanARN(d.env.Region, d.env.AccountID, id),
		VersionID: d.id("version"), AccountID: d.env.AccountID, Region: d.env.Region, CreatorRequestID: in.CreatorRequestID,
		Tags: maps.Clone(in.Tags)}
	d.plans[id] = p
	return p, nil
}

func (d *dryBackend) GetBackupPlan(ctx context.Context, id, versionID string, previewRuns int) (*backup.BackupPlan, []backup.ScheduledRun, error) {
	if p, ok := d.plans[id]; ok {
		return p, nil, nil
	}
	if d.deletedPlans[id] {
		return nil, nil, backup.NotFound("backup plan", id)
	}
	return d.real.GetBackupPlan(ctx, id, versionID, previewRuns)
}

func (d *dryBackend) UpdateBackupPlan(ctx context.Context, id string, doc backup.PlanDocument) (*backup.BackupPlan, error) {
	p, _, err := d.GetBackupPlan(ctx, id, "", 0)
	if err != nil {
		return nil, err
	}
	if err := d.checkPlan(ctx, doc); err != nil {
		return nil, err
	}
	c := *p
	c.PlanDocument, c.VersionID = clonePlan(doc), d.id("version")
	d.plans[id] = &c
	return &c, nil
}

func (d *dryBackend) DeleteBackupPlan(ctx context.Context, id string) (*backup.BackupPlan, error) {
	p, _, err := d.GetBackupPlan(ctx, id, "", 0)
	if err != nil {
		return nil, err
	}
	sels, _, err := d.ListBackupSelections(ctx, id, backup.Page{})
	if err != nil {
		return nil, err
	}
	if len(sels) > 0 {
		names := make([]string, len(sels))
		for i, s := range sels {
			names[i] = s.SelectionName
		}
		return nil, backup.Errorf(backup.ErrInvalidRequest, "backup plan %s still has selections (%s); delete them first", id, strings.Join(names, ", "))
	}
	delete(d.plans, id)
	d.deletedPlans[id] = true
	return p, nil
}

func (d *dryBackend) CreateBackupSelection(ctx context.Context, in backup.CreateBackupSelectionInput) (*backup.BackupSelection, error) {
	if _, _, err := d.GetBackupPlan(ctx, in.BackupPlanID, "", 0); err != nil {
		return nil, err
	}
	doc := cloneSelection(in.Selection)
	if err := backup.ValidateSelectionDocument(&doc); err != nil {
		return nil, err
	}
	s := &backup.BackupSelection{SelectionDocument: doc, SelectionID: d.id("selection"), BackupPlanID: in.BackupPlanID,
		CreatorRequestID: in.CreatorRequestID}
	d.sels[s.BackupPlanID+"/"+s.SelectionID] = s
	return s, nil
}

func (d *dryBackend) GetBackupSelection(ctx context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	key := planID + "/" + selectionID
	if s, ok := d.sels[key]; ok {
		return s, nil
	}
	if d.deletedSels[key] || d.deletedPlans[planID] {
		return nil, backup.NotFound("backup selection", selectionID)
	}
	if _, dryPlan := d.plans[planID]; dryPlan {
		return nil, backup.NotFound("backup selection", selectionID)
	}
	return d.real.GetBackupSelection(ctx, planID, selectionID)
}

func (d *dryBackend) ListBackupSelections(ctx context.Context, planID string, _ backup.Page) ([]*backup.BackupSelection, string, error) {
	var out []*backup.BackupSelection
	if _, dryPlan := d.plans[planID]; !dryPlan && !d.deletedPlans[planID] {
		var p backup.Page
		for {
			page, next, err := d.real.ListBackupSelections(ctx, planID, p)
			if err != nil {
				return nil, "", err
			}
			for _, s := range page {
				if !d.deletedSels[planID+"/"+s.SelectionID] {
					out = append(out, s)
				}
			}
			if next == "" {
				break
			}
			p.NextToken = next
		}
	}
	keys := slices.Collect(maps.Keys(d.sels))
	sort.Strings(keys)
	for _, k := range keys {
		if s := d.sels[k]; s.BackupPlanID == planID {
			out = append(out, s)
		}
	}
	return out, "", nil
}

func (d *dryBackend) DeleteBackupSelection(ctx context.Context, planID, selectionID string) error {
	if _, err := d.GetBackupSelection(ctx, planID, selectionID); err != nil {
		return err
	}
	key := planID + "/" + selectionID
	delete(d.sels, key)
	d.deletedSels[key] = true
	return nil
}

// memStore is a StackStore in memory; the dry run records into one.
type memStore struct {
	stacks map[string]*backup.Stack
}

func newMemStore(initial *backup.Stack) *memStore {
	m := &memStore{stacks: map[string]*backup.Stack{}}
	if initial != nil {
		m.stacks[initial.Name] = cloneStack(initial)
	}
	return m
}

func (m *memStore) PutStack(_ context.Context, s *backup.Stack) error {
	m.stacks[s.Name] = cloneStack(s)
	return nil
}

func (m *memStore) GetStack(_ context.Context, name string) (*backup.Stack, error) {
	s, ok := m.stacks[name]
	if !ok {
		return nil, backup.NotFound("stack", name)
	}
	return cloneStack(s), nil
}

func (m *memStore) DeleteStack(_ context.Context, name string) error {
	if _, ok := m.stacks[name]; !ok {
		return backup.NotFound("stack", name)
	}
	delete(m.stacks, name)
	return nil
}

func (m *memStore) ListStacks(_ context.Context, _ backup.Page) ([]*backup.Stack, string, error) {
	var out []*backup.Stack
	for _, k := range sortedKeys(m.stacks) {
		out = append(out, cloneStack(m.stacks[k]))
	}
	return out, "", nil
}
