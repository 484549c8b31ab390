package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

const (
	acct   = "000000000000"
	region = "us-east-1"
)

func table(name string, tags map[string]string) backup.Resource {
	return backup.Resource{ARN: backup.TableARN(region, acct, name), Type: backup.ResourceTypeDynamoDB, Name: name, Tags: tags}
}

func point(id, tableName string, created time.Time, deleteAfter int64, status backup.RecoveryPointStatus) *backup.RecoveryPoint {
	return &backup.RecoveryPoint{ID: id, ARN: backup.RecoveryPointARN(region, acct, id), ResourceARN: backup.TableARN(region, acct, tableName),
		ResourceName: tableName, ResourceType: backup.ResourceTypeDynamoDB, Status: status, CreationDate: created,
		Lifecycle: backup.Lifecycle{DeleteAfterDays: deleteAfter}}
}

func plan(name string, rules ...backup.BackupRule) *backup.BackupPlan {
	return &backup.BackupPlan{ID: name + "-id", ARN: "arn:aws:backup:us-east-1:000000000000:backup-plan:" + name + "-id",
		PlanDocument: backup.PlanDocument{BackupPlanName: name, Rules: rules}}
}

func rule(name, cron string, deleteAfter int64) backup.BackupRule {
	return backup.BackupRule{RuleName: name, ScheduleExpression: cron, Lifecycle: backup.Lifecycle{DeleteAfterDays: deleteAfter}}
}

func tagSelection(name, key, value string) *backup.BackupSelection {
	return &backup.BackupSelection{SelectionDocument: backup.SelectionDocument{SelectionName: name, IAMRoleARN: "arn:aws:iam::000000000000:role/r",
		ListOfTags: []backup.TagCondition{{ConditionType: backup.ConditionStringEquals, ConditionKey: key, ConditionValue: value}}}}
}

func control(name string, params ...string) backup.FrameworkControl {
	c := backup.FrameworkControl{Name: name}
	for i := 0; i+1 < len(params); i += 2 {
		c.InputParameters = append(c.InputParameters, backup.ControlInputParameter{Name: params[i], Value: params[i+1]})
	}
	return c
}

// verdicts returns resource name -> compliance of an evaluation.
func verdicts(t *testing.T, ev backup.ControlEvaluation) map[string]backup.Compliance {
	t.Helper()
	m := map[string]backup.Compliance{}
	for _, r := range ev.Resources {
		if r.Reason == "" {
			t.Errorf("%s: %s has no reason", ev.ControlName, r.ResourceName)
		}
		m[r.ResourceName] = r.Compliance
	}
	return m
}

func expect(t *testing.T, ev backup.ControlEvaluation, want map[string]backup.Compliance) {
	t.Helper()
	got := verdicts(t, ev)
	if len(got) != len(want) {
		t.Fatalf("%s: verdicts %v, want %v (%+v)", ev.ControlName, got, want, ev.Resources)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s is %s, want %s (%+v)", ev.ControlName, k, got[k], v, ev.Resources)
		}
	}
	overall := backup.Compliant
	for _, v := range want {
		if v == backup.NonCompliant {
			overall = backup.NonCompliant
		}
	}
	if ev.Compliance != overall {
		t.Errorf("%s: overall %s, want %s", ev.ControlName, ev.Compliance, overall)
	}
}

func TestProtectedByBackupPlan(t *testing.T) {
	in := &Inputs{
		Now:    now,
		Tables: []backup.Resource{table("orders", map[string]string{"backup": "daily"}), table("scratch", nil)},
		Plans:  []backup.PlanSelections{{Plan: plan("daily", rule("r", "", 35)), Selections: []*backup.BackupSelection{tagSelection("tagged", "backup", "daily")}}},
	}
	ev := EvaluateControl(control(backup.ControlProtectedByBackupPlan), in)
	expect(t, ev, map[string]backup.Compliance{"orders": backup.Compliant, "scratch": backup.NonCompliant})

	// The rule broken: no plan at all.
	in.Plans = nil
	expect(t, EvaluateControl(control(backup.ControlProtectedByBackupPlan), in),
		map[string]backup.Compliance{"orders": backup.NonCompliant, "scratch": backup.NonCompliant})

	// A deleted plan protects nothing.
	p := plan("gone", rule("r", "", 35))
	p.DeletionDate = now
	in.Plans = []backup.PlanSelections{{Plan: p, Selections: []*backup.BackupSelection{tagSelection("tagged", "backup", "daily")}}}
	expect(t, EvaluateControl(control(backup.ControlProtectedByBackupPlan), in),
		map[string]backup.Compliance{"orders": backup.NonCompliant, "scratch": backup.NonCompliant})
}

func TestScopes(t *testing.T) {
	in := &Inputs{
		Now: now,
		Tables: []backup.Resource{table("orders", map[string]string{"team": "a"}), table("sales", map[string]string{"team": "b"}),
			table("misc", nil)},
	}
	c := control(backup.ControlProtectedByBackupPlan)
	c.Scope.Tags = map[string]string{"team": "a"}
	expect(t, EvaluateControl(c, in), map[string]backup.Compliance{"orders": backup.NonCompliant})
	c.Scope.Tags = map[string]string{"team": ""} // the key, any value
	expect(t, EvaluateControl(c, in), map[string]backup.Compliance{"orders": backup.NonCompliant, "sales": backup.NonCompliant})
	c.Scope = backup.ControlScope{ComplianceResourceIDs: []string{"misc", backup.TableARN(region, acct, "sales")}}
	expect(t, EvaluateControl(c, in), map[string]backup.Compliance{"misc": backup.NonCompliant, "sales": backup.NonCompliant})
	c.Scope = backup.ControlScope{ComplianceResourceTypes: []string{"EBS"}}
	if ev := EvaluateControl(c, in); len(ev.Resources) != 0 || ev.Compliance != backup.Compliant {
		t.Errorf("a scope of EBS volumes: %+v, want no resources, COMPLIANT", ev)
	}
	c.Scope = backup.ControlScope{ComplianceResourceTypes: []string{"EBS", "DynamoDB"}}
	if ev := EvaluateControl(c, in); len(ev.Resources) != 3 {
		t.Errorf("a scope of DynamoDB: %d resources, want 3", len(ev.Resources))
	}
}

func TestLastRecoveryPointCreated(t *testing.T) {
	in := &Inputs{
		Now:    now,
		Tables: []backup.Resource{table("fresh", nil), table("stale", nil), table("never", nil), table("failed", nil)},
		Points: []*backup.RecoveryPoint{
			point("p1", "fresh", now.Add(-23*time.Hour), 0, backup.RecoveryPointCompleted),
			point("p0", "fresh", now.Add(-72*time.Hour), 0, backup.RecoveryPointCompleted),
			point("p2", "stale", now.Add(-25*time.Hour), 0, backup.RecoveryPointCompleted),
			point("p3", "failed", now.Add(-time.Hour), 0, backup.RecoveryPointPartial),
		},
	}
	expect(t, EvaluateControl(control(backup.ControlLastRecoveryPointCreated), in), map[string]backup.Compliance{
		"fresh": backup.Compliant, "stale": backup.NonCompliant, "never": backup.NonCompliant, "failed": backup.NonCompliant})
	// 2 days make the stale one compliant; 12 hours make the fresh one not.
	expect(t, EvaluateControl(control(backup.ControlLastRecoveryPointCreated, backup.ParamRecoveryPointAgeValue, "2"), in),
		map[string]backup.Compliance{"fresh": backup.Compliant, "stale": backup.Compliant, "never": backup.NonCompliant, "failed": backup.NonCompliant})
	expect(t, EvaluateControl(control(backup.ControlLastRecoveryPointCreated, backup.ParamRecoveryPointAgeUnit, "hours",
		backup.ParamRecoveryPointAgeValue, "12"), in),
		map[string]backup.Compliance{"fresh": backup.NonCompliant, "stale": backup.NonCompliant, "never": backup.NonCompliant, "failed": backup.NonCompliant})
}

func TestPlanMinFrequencyAndRetention(t *testing.T) {
	in := &Inputs{Now: now, Plans: []backup.PlanSelections{
		{Plan: plan("daily35", rule("d", "cron(0 5 ? * * *)", 35))},
		{Plan: plan("daily7", rule("d", "cron(0 5 ? * * *)", 7))},
		{Plan: plan("weekly", rule("w", "cron(0 5 ? * SUN *)", 90))},
		{Plan: plan("forever", rule("d", "", 0))}, // default schedule (daily), never expires
		{Plan: plan("mixed", rule("w", "cron(0 5 ? * SUN *)", 90), rule("h", "cron(0 * ? * * *)", 40))},
		{Plan: plan("empty")},
	}}
	expect(t, EvaluateControl(control(backup.ControlPlanMinFrequencyRetention), in), map[string]backup.Compliance{
		"daily35": backup.Compliant, "daily7": backup.NonCompliant, "weekly": backup.NonCompliant,
		"forever": backup.Compliant, "mixed": backup.Compliant, "empty": backup.NonCompliant})
	// Every 2 hours required: only the hourly rule passes.
	expect(t, EvaluateControl(control(backup.ControlPlanMinFrequencyRetention, backup.ParamRequiredFrequencyUnit, "hours",
		backup.ParamRequiredFrequencyValue, "2", backup.ParamRequiredRetentionDays, "7"), in), map[string]backup.Compliance{
		"daily35": backup.NonCompliant, "daily7": backup.NonCompliant, "weekly": backup.NonCompliant,
		"forever": backup.NonCompliant, "mixed": backup.Compliant, "empty": backup.NonCompliant})
	// Weekly required, 7 days kept: the weekly and daily plans pass.
	expect(t, EvaluateControl(control(backup.ControlPlanMinFrequencyRetention, backup.ParamRequiredFrequencyValue, "7",
		backup.ParamRequiredRetentionDays, "7"), in), map[string]backup.Compliance{
		"daily35": backup.Compliant, "daily7": backup.Compliant, "weekly": backup.Compliant,
		"forever": backup.Compliant, "mixed": backup.Compliant, "empty": backup.NonCompliant})
}

func TestPlanFrequencyAcrossDaylightSaving(t *testing.T) {
	// 05:00 in Berlin is 25 hours after the previous run when clocks go
	// back: still a daily schedule.
	r := rule("d", "cron(0 5 ? * * *)", 35)
	r.ScheduleExpressionTimezone = "Europe/Berlin"
	in := &Inputs{Now: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), Plans: []backup.PlanSelections{{Plan: plan("berlin", r)}}}
	expect(t, EvaluateControl(control(backup.ControlPlanMinFrequencyRetention), in), map[string]backup.Compliance{"berlin": backup.Compliant})
}

func TestRecoveryPointMinimumRetention(t *testing.T) {
	in := &Inputs{Now: now, Points: []*backup.RecoveryPoint{
		point("long", "orders", now, 35, backup.RecoveryPointCompleted),
		point("short", "orders", now, 34, backup.RecoveryPointCompleted),
		point("forever", "orders", now, 0, backup.RecoveryPointCompleted),
		point("partial", "orders", now, 1, backup.RecoveryPointPartial),
	}}
	ev := EvaluateControl(control(backup.ControlRecoveryPointMinRetention), in)
	got := map[string]backup.Compliance{}
	for _, r := range ev.Resources {
		got[r.ResourceARN[strings.LastIndex(r.ResourceARN, ":")+1:]] = r.Compliance
	}
	want := map[string]backup.Compliance{"long": backup.Compliant, "short": backup.NonCompliant, "forever": backup.Compliant}
	if len(got) != len(want) || got["long"] != want["long"] || got["short"] != want["short"] || got["forever"] != want["forever"] {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if ev.Compliance != backup.NonCompliant {
		t.Errorf("overall %s, want NON_COMPLIANT", ev.Compliance)
	}
	ev = EvaluateControl(control(backup.ControlRecoveryPointMinRetention, backup.ParamRequiredRetentionDays, "30"), in)
	if ev.Compliance != backup.Compliant {
		t.Errorf("30 days required: %s, want COMPLIANT (%+v)", ev.Compliance, ev.Resources)
	}
}

func TestManualDeletionDisabled(t *testing.T) {
	in := &Inputs{Now: now, Vaults: []*backup.Vault{{Name: "Default", ARN: backup.VaultARN(region, acct, "Default")}}}
	ev := EvaluateControl(control(backup.ControlRecoveryPointManualDeletion), in)
	expect(t, ev, map[string]backup.Compliance{"Default": backup.NonCompliant})
	if !strings.Contains(ev.Resources[0].Reason, "no access policy") {
		t.Errorf("reason %q does not say why", ev.Resources[0].Reason)
	}
}

func TestEvaluateFramework(t *testing.T) {
	f := &backup.Framework{Name: "fw", ARN: "arn:aws:backup:us-east-1:000000000000:framework:fw-1", Controls: []backup.FrameworkControl{
		control(backup.ControlProtectedByBackupPlan), control(backup.ControlLastRecoveryPointCreated)}}
	in := &Inputs{Now: now, Tables: []backup.Resource{table("orders", nil)}, FailedSources: []string{"west"}}
	ev := Evaluate(f, in)
	if ev.FrameworkName != "fw" || len(ev.Controls) != 2 || !ev.EvaluatedAt.Equal(now) {
		t.Fatalf("evaluation %+v", ev)
	}
	if !strings.Contains(ev.Controls[0].Note, "west") {
		t.Errorf("note %q does not name the source that failed", ev.Controls[0].Note)
	}
	if ev.Controls[1].Parameters[backup.ParamRecoveryPointAgeValue] != "1" || ev.Controls[1].Parameters[backup.ParamRecoveryPointAgeUnit] != "days" {
		t.Errorf("defaults not filled in: %v", ev.Controls[1].Parameters)
	}
}
