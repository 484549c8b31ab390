package cfn

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fakeBackend keeps vaults, plans and selections in memory with the rules
// the runner enforces that apply depends on: unique vault and plan names,
// CreatorRequestId idempotency, no deleting a vault with recovery points
// or a plan with selections. fail, if set, is asked before every write and
// can fail it.
type fakeBackend struct {
	n      int
	vaults map[string]*backup.Vault
	plans  map[string]*backup.BackupPlan
	sels   map[string]*backup.BackupSelection // PLANID/SELID
	writes []string
	fail   func(op, name string) error
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{vaults: map[string]*backup.Vault{}, plans: map[string]*backup.BackupPlan{}, sels: map[string]*backup.BackupSelection{}}
}

func (f *fakeBackend) write(op, name string) error {
	if f.fail != nil {
		if err := f.fail(op, name); err != nil {
			return err
		}
	}
	f.writes = append(f.writes, op+" "+name)
	return nil
}

func (f *fakeBackend) id(kind string) string {
	f.n++
	return fmt.Sprintf("%s-%04d", kind, f.n)
}

func (f *fakeBackend) CreateVault(_ context.Context, in backup.CreateVaultInput) (*backup.Vault, error) {
	if err := backup.ValidateVaultName(in.Name); err != nil {
		return nil, err
	}
	if v, ok := f.vaults[in.Name]; ok {
		if in.CreatorRequestID != "" && v.CreatorRequestID == in.CreatorRequestID {
			return v, nil
		}
		return nil, backup.Errorf(backup.ErrAlreadyExists, "backup vault %s already exists", in.Name)
	}
	if err := f.write("CreateVault", in.Name); err != nil {
		return nil, err
	}
	v := &backup.Vault{Name: in.Name, ARN: backup.VaultARN("us-east-1", "111122223333", in.Name), CreatorRequestID: in.CreatorRequestID,
		EncryptionKeyARN: in.EncryptionKeyARN, Tags: maps.Clone(in.Tags)}
	f.vaults[in.Name] = v
	return v, nil
}

func (f *fakeBackend) GetVault(_ context.Context, name string) (*backup.Vault, error) {
	v, ok := f.vaults[name]
	if !ok {
		return nil, backup.NotFound("backup vault", name)
	}
	c := *v
	return &c, nil
}

func (f *fakeBackend) DeleteVault(_ context.Context, name string) error {
	v, ok := f.vaults[name]
	if !ok {
		return backup.NotFound("backup vault", name)
	}
	if v.NumberOfRecoveryPoints > 0 {
		return backup.Errorf(backup.ErrInvalidRequest, "backup vault %s holds %d recovery points", name, v.NumberOfRecoveryPoints)
	}
	if err := f.write("DeleteVault", name); err != nil {
		return err
	}
	delete(f.vaults, name)
	return nil
}

func (f *fakeBackend) checkTargets(doc backup.PlanDocument) error {
	for _, r := range doc.Rules {
		if _, ok := f.vaults[r.TargetBackupVaultName]; !ok {
			return backup.NotFound("backup vault", r.TargetBackupVaultName)
		}
	}
	return nil
}

func (f *fakeBackend) CreateBackupPlan(_ context.Context, in backup.CreateBackupPlanInput) (*backup.BackupPlan, error) {
	for _, p := range f.plans {
		if in.CreatorRequestID != "" && p.CreatorRequestID == in.CreatorRequestID {
			return p, nil
		}
	}
	for _, p := range f.plans {
		if p.BackupPlanName == in.Plan.BackupPlanName && p.DeletionDate.IsZero() {
			return nil, backup.Errorf(backup.ErrAlreadyExists, "backup plan %s already exists", in.Plan.BackupPlanName)
		}
	}
	if err := f.checkTargets(in.Plan); err != nil {
		return nil, err
	}
	if err := f.write("CreateBackupPlan", in.Plan.BackupPlanName); err != nil {
		return nil, err
	}
	id := f.id("plan")
	p := &backup.BackupPlan{PlanDocument: in.Plan, ID: id, ARN: backup.PlanARN("us-east-1", "111122223333", id), VersionID: f.id("v"),
		CreatorRequestID: in.CreatorRequestID, Tags: maps.Clone(in.Tags)}
	f.plans[id] = p
	return p, nil
}

func (f *fakeBackend) GetBackupPlan(_ context.Context, id, _ string, _ int) (*backup.BackupPlan, []backup.ScheduledRun, error) {
	p, ok := f.plans[id]
	if !ok {
		return nil, nil, backup.NotFound("backup plan", id)
	}
	return p, nil, nil
}

func (f *fakeBackend) UpdateBackupPlan(_ context.Context, id string, doc backup.PlanDocument) (*backup.BackupPlan, error) {
	p, ok := f.plans[id]
	if !ok || !p.DeletionDate.IsZero() {
		return nil, backup.NotFound("backup plan", id)
	}
	if err := f.checkTargets(doc); err != nil {
		return nil, err
	}
	if err := f.write("UpdateBackupPlan", id); err != nil {
		return nil, err
	}
	c := *p
	c.PlanDocument, c.VersionID = doc, f.id("v")
	f.plans[id] = &c
	return &c, nil
}

func (f *fakeBackend) DeleteBackupPlan(_ context.Context, id string) (*backup.BackupPlan, error) {
	p, ok := f.plans[id]
	if !ok || !p.DeletionDate.IsZero() {
		return nil, backup.NotFound("backup plan", id)
	}
	for _, s := range f.sels {
		if s.BackupPlanID == id {
			return nil, backup.Errorf(backup.ErrInvalidRequest, "backup plan %s has selections", id)
		}
	}
	if err := f.write("DeleteBackupPlan", id); err != nil {
		return nil, err
	}
	p.DeletionDate = time.Unix(1, 0)
	return p, nil
}

func (f *fakeBackend) CreateBackupSelection(_ context.Context, in backup.CreateBackupSelectionInput) (*backup.BackupSelection, error) {
	p, ok := f.plans[in.BackupPlanID]
	if !ok || !p.DeletionDate.IsZero() {
		return nil, backup.NotFound("backup plan", in.BackupPlanID)
	}
	for _, s := range f.sels {
		if s.BackupPlanID == in.BackupPlanID && s.SelectionName == in.Selection.SelectionName {
			return nil, backup.Errorf(backup.ErrAlreadyExists, "selection %s already exists", s.SelectionName)
		}
	}
	if err := f.write("CreateBackupSelection", in.Selection.SelectionName); err != nil {
		return nil, err
	}
	s := &backup.BackupSelection{SelectionDocument: in.Selection, SelectionID: f.id("sel"), BackupPlanID: in.BackupPlanID,
		CreatorRequestID: in.CreatorRequestID}
	f.sels[s.BackupPlanID+"/"+s.SelectionID] = s
	return s, nil
}

func (f *fakeBackend) GetBackupSelection(_ context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	s, ok := f.sels[planID+"/"+selectionID]
	if !ok {
		return nil, backup.NotFound("backup selection", selectionID)
	}
	return s, nil
}

func (f *fakeBackend) ListBackupSelections(_ context.Context, planID string, _ backup.Page) ([]*backup.BackupSelection, string, error) {
	var out []*backup.BackupSelection
	for _, k := range sortedKeys(f.sels) {
		if f.sels[k].BackupPlanID == planID {
			out = append(out, f.sels[k])
		}
	}
	return out, "", nil
}

func (f *fakeBackend) DeleteBackupSelection(_ context.Context, planID, selectionID string) error {
	if _, ok := f.sels[planID+"/"+selectionID]; !ok {
		return backup.NotFound("backup selection", selectionID)
	}
	if err := f.write("DeleteBackupSelection", selectionID); err != nil {
		return err
	}
	delete(f.sels, planID+"/"+selectionID)
	return nil
}

// livePlans returns the plans that are not deleted, by name.
func (f *fakeBackend) livePlans() map[string]*backup.BackupPlan {
	out := map[string]*backup.BackupPlan{}
	for _, p := range f.plans {
		if p.DeletionDate.IsZero() {
			out[p.BackupPlanName] = p
		}
	}
	return out
}

// failingStore is a memStore whose PutStack can be made to fail.
type failingStore struct {
	*memStore
	fail func(s *backup.Stack) error
}

func (f *failingStore) PutStack(ctx context.Context, s *backup.Stack) error {
	if f.fail != nil {
		if err := f.fail(s); err != nil {
			return err
		}
	}
	return f.memStore.PutStack(ctx, s)
}

type harness struct {
	t       *testing.T
	backend *fakeBackend
	store   *failingStore
	stacks  *Stacks
	now     time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, backend: newFakeBackend(), store: &failingStore{memStore: newMemStore(nil)},
		now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	h.stacks = &Stacks{Backend: h.backend, Store: h.store, Env: Env{Region: "us-east-1", AccountID: "111122223333"},
		Now: func() time.Time { h.now = h.now.Add(time.Second); return h.now }}
	return h
}

func (h *harness) apply(stack, tmpl string, params map[string]string) (*backup.StackResult, error) {
	return h.stacks.Apply(context.Background(), backup.ApplyStackInput{StackName: stack, Template: []byte(tmpl), Parameters: params})
}

func (h *harness) applyOK(stack, tmpl string, params map[string]string) *backup.StackResult {
	h.t.Helper()
	res, err := h.apply(stack, tmpl, params)
	if err != nil {
		h.t.Fatalf("apply %s: %v", stack, err)
	}
	return res
}

// actions returns LOGICALID=ACTION for every change.
func actions(res *backup.StackResult) map[string]string {
	out := map[string]string{}
	for _, c := range res.Changes {
		out[c.LogicalID] = c.Action
	}
	return out
}
