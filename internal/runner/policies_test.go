package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/policy"
)

func superwerker(t *testing.T) (tags, plans backup.ApplyPolicyInput) {
	t.Helper()
	ps, err := policy.Preset(policy.PresetSuperwerker, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return ps[0], ps[1]
}

func actions(res *backup.PolicyResult) string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, c.Kind+":"+c.Name+":"+c.Action)
	}
	return strings.Join(out, " ")
}

func TestApplyBackupPolicy(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T03:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
	ctx := context.Background()
	tagsIn, plansIn := superwerker(t)

	res, err := f.svc.ApplyPolicy(ctx, plansIn)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "Policy:superwerker-backup:CREATE BackupPlan:superwerker-backup:CREATE BackupSelection:backup-daily:CREATE" {
		t.Fatalf("first apply: %s", got)
	}
	if len(res.Plans) != 1 || res.Plans[0].BackupPlanName != "superwerker-backup" || len(res.Plans[0].Selections) != 1 {
		t.Fatalf("managed plans = %+v", res.Plans)
	}
	planID, version := res.Plans[0].BackupPlanID, res.Plans[0].VersionID
	p, _, err := f.svc.GetBackupPlan(ctx, planID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[0]
	if p.ManagedBy != "superwerker-backup" || r.RuleName != "backup-daily" || r.ScheduleExpression != "cron(0 5 ? * * *)" ||
		r.Lifecycle.DeleteAfterDays != 30 || r.TargetBackupVaultName != "Default" {
		t.Fatalf("plan = %+v", p)
	}
	sels, _, err := f.svc.ListBackupSelections(ctx, planID, backup.Page{})
	if err != nil || len(sels) != 1 || sels[0].IAMRoleARN != "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole" ||
		sels[0].ListOfTags[0] != (backup.TagCondition{ConditionType: "STRINGEQUALS", ConditionKey: "superwerker:backup", ConditionValue: "daily"}) {
		t.Fatalf("selections = %+v, %v", sels, err)
	}

	// The same document again changes nothing, not even the dates.
	clk.Advance(time.Hour)
	res, err = f.svc.ApplyPolicy(ctx, plansIn)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "Policy:superwerker-backup:NONE BackupPlan:superwerker-backup:NONE BackupSelection:backup-daily:NONE" {
		t.Fatalf("second apply: %s", got)
	}
	if res.Plans[0].VersionID != version || !res.Policy.LastUpdateDate.Equal(at("2026-03-01T03:00:00Z")) {
		t.Fatalf("second apply changed the plan or the policy: %+v", res)
	}

	// The plain API refuses to change what the policy manages, naming it.
	refused := func(what string, err error) {
		t.Helper()
		if backup.ErrorCode(err) != backup.ErrInvalidRequest || !strings.Contains(errorMessage(err), "policy superwerker-backup") {
			t.Fatalf("%s: %v, want InvalidRequest naming the policy", what, err)
		}
	}
	_, err = f.svc.UpdateBackupPlan(ctx, planID, dailyPlan("superwerker-backup"))
	refused("UpdateBackupPlan", err)
	_, err = f.svc.DeleteBackupPlan(ctx, planID)
	refused("DeleteBackupPlan", err)
	_, err = f.svc.CreateBackupSelection(ctx, backup.CreateBackupSelectionInput{BackupPlanID: planID, Selection: tagSelection("more", "a", "b")})
	refused("CreateBackupSelection", err)
	refused("DeleteBackupSelection", f.svc.DeleteBackupSelection(ctx, planID, sels[0].SelectionID))

	// A changed document updates the plan: a new version, the rule's ID kept.
	changed := plansIn
	changed.Document = strings.Replace(plansIn.Document, `"30"`, `"35"`, 1)
	res, err = f.svc.ApplyPolicy(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "Policy:superwerker-backup:UPDATE BackupPlan:superwerker-backup:UPDATE BackupSelection:backup-daily:NONE" {
		t.Fatalf("changed apply: %s", got)
	}
	p2, _, _ := f.svc.GetBackupPlan(ctx, planID, "", 0)
	if p2.VersionID == version || p2.Rules[0].Lifecycle.DeleteAfterDays != 35 || p2.Rules[0].RuleID != r.RuleID {
		t.Fatalf("updated plan = %+v", p2)
	}

	// An invalid document names its path and changes nothing.
	bad := plansIn
	bad.Document = strings.Replace(plansIn.Document, `"30"`, `"0"`, 1)
	_, err = f.svc.ApplyPolicy(ctx, bad)
	if err == nil || !strings.Contains(errorMessage(err), "plans.superwerker-backup.rules.backup-daily.lifecycle.delete_after_days") {
		t.Fatalf("invalid document: %v", err)
	}
	if p3, _, _ := f.svc.GetBackupPlan(ctx, planID, "", 0); p3.VersionID != p2.VersionID {
		t.Fatal("an invalid document changed the plan")
	}

	// A tag policy stores no plan.
	if res, err = f.svc.ApplyPolicy(ctx, tagsIn); err != nil || len(res.Plans) != 0 {
		t.Fatalf("tag policy: %+v %v", res, err)
	}
	list, _, err := f.svc.ListPolicies(ctx, backup.Page{})
	if err != nil || len(list) != 2 || list[0].Name != "superwerker-backup" || list[1].Options.DefaultValue != "daily" {
		t.Fatalf("ListPolicies = %+v %v", list, err)
	}
	// The same name with another type is refused.
	other := tagsIn
	other.Name = "superwerker-backup"
	if _, err := f.svc.ApplyPolicy(ctx, other); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Fatalf("another type under a name: %v", err)
	}

	// Deleting the policy removes its plan and selection.
	res, err = f.svc.DeletePolicy(ctx, "superwerker-backup")
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "Policy:superwerker-backup:DELETE BackupSelection:backup-daily:DELETE BackupPlan:superwerker-backup:DELETE" {
		t.Fatalf("delete: %s", got)
	}
	if p4, _, _ := f.svc.GetBackupPlan(ctx, planID, "", 0); p4.DeletionDate.IsZero() {
		t.Fatal("the managed plan is not deleted")
	}
	if _, err := f.svc.GetPolicy(ctx, "superwerker-backup"); !backup.IsNotFound(err) {
		t.Fatalf("GetPolicy after delete: %v", err)
	}
}

func TestApplyBackupPolicyRegionsAndClashes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, plansIn := superwerker(t)
	if _, err := f.svc.ApplyPolicy(ctx, plansIn); err != nil {
		t.Fatal(err)
	}
	// The plan leaves the server's region: it is deleted.
	away := plansIn
	away.Document = strings.Replace(plansIn.Document, `"us-east-1"`, `"eu-west-1"`, 1)
	res, err := f.svc.ApplyPolicy(ctx, away)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "Policy:superwerker-backup:UPDATE BackupPlan:superwerker-backup:DELETE BackupPlan:superwerker-backup:SKIP" {
		t.Fatalf("away: %s", got)
	}
	// A plan of the API with the policy's plan name: refused, nothing stored.
	if _, err := f.svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: dailyPlan("superwerker-backup")}); err != nil {
		t.Fatal(err)
	}
	other := plansIn
	other.Name = "another"
	if _, err := f.svc.ApplyPolicy(ctx, other); backup.ErrorCode(err) != backup.ErrAlreadyExists || !strings.Contains(errorMessage(err), "does not manage") {
		t.Fatalf("clash: %v", err)
	}
	if _, err := f.svc.GetPolicy(ctx, "another"); !backup.IsNotFound(err) {
		t.Fatalf("a refused apply stored the policy: %v", err)
	}
	// A vault that does not exist is named.
	novault := plansIn
	novault.Name = "novault"
	novault.Document = strings.Replace(strings.Replace(plansIn.Document, `"Default"`, `"Missing"`, 1), `"superwerker-backup"`, `"other-plan"`, 1)
	if _, err := f.svc.ApplyPolicy(ctx, novault); backup.ErrorCode(err) != backup.ErrNotFound || !strings.Contains(errorMessage(err), "plans.other-plan") {
		t.Fatalf("missing vault: %v", err)
	}
	// Options a backup policy does not take, and bad names and types.
	for _, in := range []backup.ApplyPolicyInput{
		{Name: "x", Type: backup.PolicyTypeBackup, Document: plansIn.Document, Options: backup.PolicyOptions{DryRun: true}},
		{Name: "bad name", Type: backup.PolicyTypeBackup, Document: plansIn.Document},
		{Name: "x", Type: "SERVICE_CONTROL_POLICY", Document: plansIn.Document},
	} {
		if _, err := f.svc.ApplyPolicy(ctx, in); backup.ErrorCode(err) != backup.ErrInvalidParameter {
			t.Fatalf("%+v: %v", in, err)
		}
	}
}
