package runner

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

const testRole = "arn:aws:iam::000000000000:role/backup"

func dailyPlan(name string) backup.PlanDocument {
	return backup.PlanDocument{BackupPlanName: name, Rules: []backup.BackupRule{{
		RuleName: "daily", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 5 ? * * *)",
		StartWindowMinutes: 60, CompletionWindowMinutes: 120,
		Lifecycle:         backup.Lifecycle{DeleteAfterDays: 35},
		RecoveryPointTags: map[string]string{"made-by": "plan"},
	}}}
}

func tagSelection(name, key, value string) backup.SelectionDocument {
	return backup.SelectionDocument{SelectionName: name, IAMRoleARN: testRole,
		ListOfTags: []backup.TagCondition{{ConditionType: backup.ConditionStringEquals, ConditionKey: key, ConditionValue: value}}}
}

var (
	lowerUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	versionID = regexp.MustCompile(`^[A-Za-z0-9+/=]{32,}$`)
)

func TestPlanLifecycle(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T03:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
	ctx := context.Background()

	p, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: dailyPlan("orders"), CreatorRequestID: "req-1",
		Tags: map[string]string{"team": "storage"}})
	if err != nil {
		t.Fatal(err)
	}
	if !lowerUUID.MatchString(p.ID) || !versionID.MatchString(p.VersionID) || p.ARN != backup.PlanARN("us-east-1", "000000000000", p.ID) {
		t.Fatalf("plan id %q version %q arn %q", p.ID, p.VersionID, p.ARN)
	}
	if len(p.Rules) != 1 || !lowerUUID.MatchString(p.Rules[0].RuleID) || !p.CreationDate.Equal(clk.Now()) {
		t.Fatalf("rules %+v created %v", p.Rules, p.CreationDate)
	}
	// The same CreatorRequestId returns the same plan and creates nothing.
	again, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: dailyPlan("orders"), CreatorRequestID: "req-1"})
	if err != nil || again.ID != p.ID || again.VersionID != p.VersionID {
		t.Fatalf("idempotent create: %v %+v", err, again)
	}
	if _, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: dailyPlan("orders")}); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Fatalf("second plan of the same name: %v", err)
	}
	plans, _, err := f.svc.ListBackupPlans(ctx, backup.BackupPlanFilter{})
	if err != nil || len(plans) != 1 {
		t.Fatalf("ListBackupPlans: %d plans, %v", len(plans), err)
	}

	// The preview lists the next runs.
	got, runs, err := f.svc.GetBackupPlan(ctx, p.ID, "", 3)
	if err != nil || got.VersionID != p.VersionID || len(runs) != 3 {
		t.Fatalf("GetBackupPlan: %v %d runs", err, len(runs))
	}
	for i, r := range runs {
		want := at("2026-03-01T05:00:00Z").AddDate(0, 0, i)
		if !r.ExecutionTime.Equal(want) || r.RuleID != p.Rules[0].RuleID {
			t.Errorf("run %d: %+v, want %v", i, r, want)
		}
	}
	if _, _, err := f.svc.GetBackupPlan(ctx, p.ID, "", 11); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("11 preview runs: %v", err)
	}

	// An update makes a new version; the rule of the same name keeps its id.
	clk.Advance(60_000_000_000)
	doc := dailyPlan("orders")
	doc.Rules = append(doc.Rules, backup.BackupRule{RuleName: "weekly", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 6 ? * SUN *)"})
	up, err := f.svc.UpdateBackupPlan(ctx, p.ID, doc)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != p.ID || up.VersionID == p.VersionID || up.Rules[0].RuleID != p.Rules[0].RuleID ||
		up.Rules[1].RuleID == "" || up.Rules[1].RuleID == p.Rules[0].RuleID || up.Tags["team"] != "storage" {
		t.Fatalf("updated plan %+v", up)
	}
	versions, _, err := f.svc.ListBackupPlanVersions(ctx, p.ID, backup.Page{})
	if err != nil || len(versions) != 2 || versions[0].VersionID != up.VersionID || versions[1].VersionID != p.VersionID {
		t.Fatalf("versions: %v %+v", err, versions)
	}
	old, _, err := f.svc.GetBackupPlan(ctx, p.ID, p.VersionID, 0)
	if err != nil || len(old.Rules) != 1 {
		t.Fatalf("first version: %v %+v", err, old)
	}

	// Selections: idempotent by CreatorRequestId; the plan cannot be
	// deleted while it has one.
	sel, err := f.svc.CreateBackupSelection(ctx, backup.CreateBackupSelectionInput{BackupPlanID: p.ID,
		Selection: tagSelection("tagged", "backup", "daily"), CreatorRequestID: "sel-1"})
	if err != nil || !lowerUUID.MatchString(sel.SelectionID) || sel.BackupPlanID != p.ID {
		t.Fatalf("CreateBackupSelection: %v %+v", err, sel)
	}
	sel2, err := f.svc.CreateBackupSelection(ctx, backup.CreateBackupSelectionInput{BackupPlanID: p.ID,
		Selection: tagSelection("tagged", "backup", "daily"), CreatorRequestID: "sel-1"})
	if err != nil || sel2.SelectionID != sel.SelectionID {
		t.Fatalf("idempotent selection: %v %+v", err, sel2)
	}
	if _, err := f.svc.CreateBackupSelection(ctx, backup.CreateBackupSelectionInput{BackupPlanID: "no-such-plan",
		Selection: tagSelection("x", "backup", "daily")}); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("selection of a missing plan: %v", err)
	}
	_, err = f.svc.DeleteBackupPlan(ctx, p.ID)
	if backup.ErrorCode(err) != backup.ErrInvalidRequest || !strings.Contains(err.Error(), "selections must be deleted") {
		t.Fatalf("delete with a selection: %v", err)
	}
	if g, err := f.svc.GetBackupSelection(ctx, p.ID, sel.SelectionID); err != nil || g.SelectionName != "tagged" || g.IAMRoleARN != testRole {
		t.Fatalf("GetBackupSelection: %v %+v", err, g)
	}
	if err := f.svc.DeleteBackupSelection(ctx, p.ID, sel.SelectionID); err != nil {
		t.Fatal(err)
	}
	if sels, _, err := f.svc.ListBackupSelections(ctx, p.ID, backup.Page{}); err != nil || len(sels) != 0 {
		t.Fatalf("selections after delete: %v %d", err, len(sels))
	}
	del, err := f.svc.DeleteBackupPlan(ctx, p.ID)
	if err != nil || del.DeletionDate.IsZero() {
		t.Fatalf("delete: %v %+v", err, del)
	}
	if _, err := f.svc.UpdateBackupPlan(ctx, p.ID, dailyPlan("orders")); backup.ErrorCode(err) != backup.ErrNotFound {
		t.Fatalf("update of a deleted plan: %v", err)
	}
	if plans, _, _ := f.svc.ListBackupPlans(ctx, backup.BackupPlanFilter{}); len(plans) != 0 {
		t.Fatalf("%d live plans after delete", len(plans))
	}
}

// A plan naming a vault that does not exist is refused with an error that
// names the vault, and nothing is stored.
func TestPlanVaultsMustExist(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := dailyPlan("p")
	doc.Rules[0].TargetBackupVaultName = "nowhere"
	_, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: doc})
	if backup.ErrorCode(err) != backup.ErrNotFound || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("missing target vault: %v", err)
	}
	doc = dailyPlan("p")
	doc.Rules[0].CopyActions = []backup.CopyAction{{DestinationBackupVaultARN: backup.VaultARN("us-east-1", "000000000000", "offsite")}}
	_, err = f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: doc})
	if backup.ErrorCode(err) != backup.ErrNotFound || !strings.Contains(err.Error(), "offsite") {
		t.Fatalf("missing copy destination: %v", err)
	}
	doc.Rules[0].CopyActions[0].DestinationBackupVaultARN = "offsite"
	if _, err = f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: doc}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Fatalf("copy destination that is no ARN: %v", err)
	}
	if plans, _, err := f.svc.ListBackupPlans(ctx, backup.BackupPlanFilter{IncludeDeleted: true}); err != nil || len(plans) != 0 {
		t.Fatalf("refused plans were stored: %v %d", err, len(plans))
	}
	// With the vault there, the same plan is accepted.
	if _, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "offsite"}); err != nil {
		t.Fatal(err)
	}
	doc.Rules[0].CopyActions[0].DestinationBackupVaultARN = backup.VaultARN("us-east-1", "000000000000", "offsite")
	if _, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: doc}); err != nil {
		t.Fatal(err)
	}
}

// A plan whose schedule never runs again, or that carries tags AWS
// refuses, is refused by the service itself (cairn apply calls it
// directly), and nothing is stored.
func TestPlanSchedulesMustRun(t *testing.T) {
	clk := clock.NewFake(at("2031-03-01T03:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
	ctx := context.Background()
	for _, tt := range []struct {
		edit func(*backup.CreateBackupPlanInput)
		want string
	}{
		{func(in *backup.CreateBackupPlanInput) { in.Plan.Rules[0].ScheduleExpression = "cron(0 5 31 2 ? *)" }, "never runs"},
		{func(in *backup.CreateBackupPlanInput) {
			in.Plan.Rules[0].ScheduleExpression = "cron(0 5 ? * * 2020-2030)"
		}, "has no run after 2031-03-01T03:00:00Z"},
		{func(in *backup.CreateBackupPlanInput) { in.Tags = map[string]string{"aws:owner": "x"} }, "prefix aws: is reserved"},
	} {
		in := backup.CreateBackupPlanInput{Plan: dailyPlan("orders")}
		tt.edit(&in)
		if _, err := f.svc.CreateBackupPlan(ctx, in); backup.ErrorCode(err) != backup.ErrInvalidParameter || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CreateBackupPlan: %v, want InvalidParameter saying %q", err, tt.want)
		}
	}
	p, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: dailyPlan("orders")})
	if err != nil {
		t.Fatal(err)
	}
	doc := dailyPlan("orders")
	doc.Rules[0].ScheduleExpression = "cron(0 5 1 1 ? 2031)"
	if _, err := f.svc.UpdateBackupPlan(ctx, p.ID, doc); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("UpdateBackupPlan to a schedule whose last run has passed: %v", err)
	}
	plans, _, _ := f.svc.ListBackupPlans(ctx, backup.BackupPlanFilter{})
	if len(plans) != 1 || plans[0].VersionID != p.VersionID {
		t.Errorf("plans after refusals: %+v", plans)
	}
}
