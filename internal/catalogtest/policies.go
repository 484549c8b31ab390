package catalogtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const tagDoc = `{"tags":{"team":{"tag_value":{"@@assign":["a","b"]}}}}`

func newPolicy(name string, typ backup.PolicyType, created time.Time) *backup.Policy {
	return &backup.Policy{Name: name, Type: typ, Document: tagDoc,
		Options:      backup.PolicyOptions{DefaultValue: "a", OnViolation: backup.OnViolationRemediate, Exclude: []string{"tmp-*"}, DryRun: true},
		CreationDate: created, LastUpdateDate: created}
}

func getPolicy(t *testing.T, c backup.Catalog, name string) *backup.Policy {
	t.Helper()
	p, err := c.GetPolicy(ctx(t), name)
	must(t, err, "GetPolicy "+name)
	return p
}

func testPolicies(t *testing.T, c backup.Catalog) {
	if _, err := c.GetPolicy(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetPolicy of a missing policy: got %v, want NotFound", err)
	}
	wantCode(t, c.DeletePolicy(ctx(t), "missing", backup.PolicyChanges{}), backup.ErrNotFound, "DeletePolicy of a missing policy")
	wantCode(t, c.ApplyPolicy(ctx(t), &backup.Policy{Type: backup.PolicyTypeTag, CreationDate: at(0), LastUpdateDate: at(0)}, backup.PolicyChanges{}),
		backup.ErrMissingParameter, "ApplyPolicy without a name")

	p := newPolicy("tags", backup.PolicyTypeTag, at(0))
	want := *p
	want.Options.Exclude = []string{"tmp-*"}
	must(t, c.ApplyPolicy(ctx(t), p, backup.PolicyChanges{}), "ApplyPolicy")
	p.Options.Exclude[0] = "changed after apply"
	wantEqual(t, "GetPolicy", getPolicy(t, c, "tags"), &want)

	again := newPolicy("tags", backup.PolicyTypeTag, at(time.Hour))
	again.Document, again.Options = `{"tags":{}}`, backup.PolicyOptions{}
	must(t, c.ApplyPolicy(ctx(t), again, backup.PolicyChanges{}), "ApplyPolicy again")
	want2 := *again
	want2.CreationDate = at(0)
	wantEqual(t, "GetPolicy after a second apply", getPolicy(t, c, "tags"), &want2)

	other := newPolicy("tags", backup.PolicyTypeBackup, at(2*time.Hour))
	wantCode(t, c.ApplyPolicy(ctx(t), other, backup.PolicyChanges{}), backup.ErrAlreadyExists, "ApplyPolicy of another type under the name")
	wantEqual(t, "GetPolicy after a refused apply", getPolicy(t, c, "tags"), &want2)

	for i := range 5 {
		must(t, c.ApplyPolicy(ctx(t), newPolicy(fmt.Sprintf("p%d", 4-i), backup.PolicyTypeTag, at(time.Duration(i))), backup.PolicyChanges{}), "ApplyPolicy")
	}
	var names []string
	token := ""
	for {
		page, next, err := c.ListPolicies(ctx(t), backup.Page{MaxResults: 2, NextToken: token})
		must(t, err, "ListPolicies")
		for _, p := range page {
			names = append(names, p.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	if fmt.Sprint(names) != "[p0 p1 p2 p3 p4 tags]" {
		t.Fatalf("ListPolicies = %v, want by name", names)
	}
	must(t, c.DeletePolicy(ctx(t), "p2", backup.PolicyChanges{}), "DeletePolicy")
	if _, err := c.GetPolicy(ctx(t), "p2"); !backup.IsNotFound(err) {
		t.Fatalf("GetPolicy after DeletePolicy: %v", err)
	}
}

// managedPlan returns plan id managed by policy.
func managedPlan(id, name, policy string, created time.Time) *backup.BackupPlan {
	p := newPlan(id, name, created)
	p.ManagedBy = policy
	p.LastExecutionDate = time.Time{}
	return p
}

func managedSelection(plan, id, name, policy string, created time.Time) *backup.BackupSelection {
	s := newSelection(plan, id, name, created)
	s.ManagedBy = policy
	return s
}

func testPolicyManagedPlans(t *testing.T, c backup.Catalog) {
	pol := newPolicy("backups", backup.PolicyTypeBackup, at(0))
	pol.Options = backup.PolicyOptions{}
	plan := managedPlan("plan-m", "managed", "backups", at(0))
	sel := managedSelection("plan-m", "sel-m", "daily", "backups", at(0))
	must(t, c.ApplyPolicy(ctx(t), pol, backup.PolicyChanges{CreatePlans: []*backup.BackupPlan{plan}, CreateSelections: []*backup.BackupSelection{sel}}), "ApplyPolicy creating a plan")
	got := getPlan(t, c, "plan-m", "")
	if got.ManagedBy != "backups" {
		t.Fatalf("plan ManagedBy = %q", got.ManagedBy)
	}
	gs, err := c.GetBackupSelection(ctx(t), "plan-m", "sel-m")
	must(t, err, "GetBackupSelection")
	if gs.ManagedBy != "backups" {
		t.Fatalf("selection ManagedBy = %q", gs.ManagedBy)
	}

	// An update: a new version, one selection replaced.
	v2 := nextVersion(got, "v2", "managed", at(time.Hour))
	v2.ManagedBy = "backups"
	sel2 := managedSelection("plan-m", "sel-m2", "hourly", "backups", at(time.Hour))
	must(t, c.ApplyPolicy(ctx(t), pol, backup.PolicyChanges{UpdatePlans: []*backup.BackupPlan{v2},
		DeleteSelections: []*backup.BackupSelection{gs}, CreateSelections: []*backup.BackupSelection{sel2}}), "ApplyPolicy updating")
	if v := getPlan(t, c, "plan-m", ""); v.VersionID != "v2" || v.ManagedBy != "backups" {
		t.Fatalf("after update: version %s managed by %q", v.VersionID, v.ManagedBy)
	}
	sels, _, err := c.ListBackupSelections(ctx(t), "plan-m", backup.Page{})
	must(t, err, "ListBackupSelections")
	if len(sels) != 1 || sels[0].SelectionID != "sel-m2" {
		t.Fatalf("selections after update = %v", sels)
	}

	// A plan made through the API is not the policy's.
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-api", "api", at(0))), "CreateBackupPlan")
	if p := getPlan(t, c, "plan-api", ""); p.ManagedBy != "" {
		t.Fatalf("API plan ManagedBy = %q", p.ManagedBy)
	}
	apiV2 := nextVersion(getPlan(t, c, "plan-api", ""), "v2", "api", at(time.Hour))
	wantCode(t, c.ApplyPolicy(ctx(t), pol, backup.PolicyChanges{UpdatePlans: []*backup.BackupPlan{apiV2}}), backup.ErrInvalidRequest, "ApplyPolicy updating an API plan")
	wantCode(t, c.ApplyPolicy(ctx(t), pol, backup.PolicyChanges{DeletePlans: []string{"plan-api"}, DeletionDate: at(time.Hour)}), backup.ErrInvalidRequest, "ApplyPolicy deleting an API plan")
	wantCode(t, c.DeletePolicy(ctx(t), "backups", backup.PolicyChanges{DeletePlans: []string{"plan-api"}, DeletionDate: at(time.Hour)}), backup.ErrInvalidRequest, "DeletePolicy deleting an API plan")
	if _, err := c.GetPolicy(ctx(t), "backups"); err != nil {
		t.Fatalf("a refused DeletePolicy removed the policy: %v", err)
	}

	// Deleting the policy deletes its plan and selections.
	must(t, c.DeletePolicy(ctx(t), "backups", backup.PolicyChanges{DeletePlans: []string{"plan-m"}, DeletionDate: at(2 * time.Hour)}), "DeletePolicy")
	if p := getPlan(t, c, "plan-m", ""); !p.DeletionDate.Equal(at(2 * time.Hour)) {
		t.Fatalf("managed plan's DeletionDate = %v", p.DeletionDate)
	}
	if _, err := c.GetBackupSelection(ctx(t), "plan-m", "sel-m2"); !backup.IsNotFound(err) {
		t.Fatalf("managed selection after DeletePolicy: %v", err)
	}
	if p := getPlan(t, c, "plan-api", ""); !p.DeletionDate.IsZero() {
		t.Fatal("DeletePolicy deleted a plan it does not manage")
	}
}

// A failing part of an apply leaves everything as it was: the policy, its
// plans and their selections.
func testPolicyApplyAtomic(t *testing.T, c backup.Catalog) {
	pol := newPolicy("backups", backup.PolicyTypeBackup, at(0))
	pol.Options = backup.PolicyOptions{}
	must(t, c.ApplyPolicy(ctx(t), pol, backup.PolicyChanges{
		CreatePlans:      []*backup.BackupPlan{managedPlan("plan-a", "a", "backups", at(0))},
		CreateSelections: []*backup.BackupSelection{managedSelection("plan-a", "sel-a", "s", "backups", at(0))}}), "ApplyPolicy")
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-x", "taken", at(0))), "CreateBackupPlan")

	changed := *pol
	changed.Document = `{"changed":true}`
	changed.LastUpdateDate = at(time.Hour)
	v2 := nextVersion(getPlan(t, c, "plan-a", ""), "v2", "a", at(time.Hour))
	v2.ManagedBy = "backups"
	err := c.ApplyPolicy(ctx(t), &changed, backup.PolicyChanges{
		UpdatePlans:      []*backup.BackupPlan{v2},
		DeleteSelections: []*backup.BackupSelection{{BackupPlanID: "plan-a", SelectionID: "sel-a"}},
		CreatePlans:      []*backup.BackupPlan{managedPlan("plan-b", "taken", "backups", at(time.Hour))}, // name taken: fails
	})
	wantCode(t, err, backup.ErrAlreadyExists, "ApplyPolicy with a plan name taken")
	if p := getPolicy(t, c, "backups"); p.Document != pol.Document || !p.LastUpdateDate.Equal(at(0)) {
		t.Fatalf("a failed apply changed the policy: %+v", p)
	}
	if p := getPlan(t, c, "plan-a", ""); p.VersionID == "v2" {
		t.Fatal("a failed apply left a new plan version")
	}
	if _, err := c.GetBackupSelection(ctx(t), "plan-a", "sel-a"); err != nil {
		t.Fatalf("a failed apply removed a selection: %v", err)
	}
	if _, err := c.GetBackupPlan(ctx(t), "plan-b", ""); !backup.IsNotFound(err) {
		t.Fatalf("a failed apply left a plan: %v", err)
	}
}
