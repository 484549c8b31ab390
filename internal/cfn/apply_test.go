package cfn

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

func blogTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../cmd/cairn/testdata/blog-dynamodb-backup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyBlogTemplate(t *testing.T) {
	h := newHarness(t)
	res := h.applyOK("blog", blogTemplate(t), map[string]string{"TagValue": "hourly"})

	want := map[string]string{"BackupVault": ActionCreate, "BackupPlan": ActionCreate, "BackupRole": ActionSkip, "TagBasedBackupSelection": ActionCreate}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	var order []string
	for _, c := range res.Changes {
		order = append(order, c.LogicalID)
	}
	if want := []string{"BackupVault", "BackupPlan", "BackupRole", "TagBasedBackupSelection"}; !reflect.DeepEqual(order, want) {
		t.Errorf("applied in order %v, want %v", order, want)
	}

	v, ok := h.backend.vaults["BackupVault_blog"]
	if !ok {
		t.Fatalf("no vault BackupVault_blog; vaults %v", h.backend.vaults)
	}
	if v.CreatorRequestID == "" {
		t.Error("vault created without a CreatorRequestId")
	}
	p := h.backend.livePlans()["BackupPlan_blog"]
	if p == nil {
		t.Fatalf("no plan BackupPlan_blog")
	}
	wantRule := backup.BackupRule{RuleName: "RuleForDailyBackups", TargetBackupVaultName: "BackupVault_blog",
		ScheduleExpression: "cron(0 5 ? * * *)", StartWindowMinutes: 60, CompletionWindowMinutes: 120,
		Lifecycle: backup.Lifecycle{DeleteAfterDays: 120, MoveToColdStorageAfterDays: 30}}
	if len(p.Rules) != 1 || !reflect.DeepEqual(p.Rules[0], wantRule) {
		t.Errorf("plan rules = %+v, want [%+v]", p.Rules, wantRule)
	}
	if len(h.backend.sels) != 1 {
		t.Fatalf("selections: %v", h.backend.sels)
	}
	for _, s := range h.backend.sels {
		if s.BackupPlanID != p.ID || s.SelectionName != "TagBasedBackupSelection" {
			t.Errorf("selection %+v", s)
		}
		if want := []backup.TagCondition{{ConditionType: "STRINGEQUALS", ConditionKey: "backup", ConditionValue: "hourly"}}; !reflect.DeepEqual(s.ListOfTags, want) {
			t.Errorf("ListOfTags = %+v, want %+v", s.ListOfTags, want)
		}
		if !strings.HasPrefix(s.IAMRoleARN, "arn:aws:iam::111122223333:role/blog-BackupRole-") {
			t.Errorf("IamRoleArn = %q, want the placeholder role ARN", s.IAMRoleARN)
		}
	}

	st, err := h.store.GetStack(context.Background(), "blog")
	if err != nil {
		t.Fatal(err)
	}
	if st.Parameters["TagValue"] != "hourly" || st.Parameters["TagKey"] != "backup" || st.Parameters["LifecycleDeleteAfterDays"] != "120" {
		t.Errorf("recorded parameters %v", st.Parameters)
	}
	byID := map[string]backup.StackResource{}
	for _, r := range st.Resources {
		byID[r.LogicalID] = r
	}
	if r := byID["BackupVault"]; r.PhysicalID != "BackupVault_blog" || r.Status != backup.StackResourceApplied ||
		r.Attributes["BackupVaultArn"] != v.ARN {
		t.Errorf("vault record %+v", r)
	}
	if r := byID["BackupPlan"]; r.PhysicalID != p.ID || r.Attributes["VersionId"] != p.VersionID || r.Attributes["BackupPlanArn"] != p.ARN {
		t.Errorf("plan record %+v", r)
	}
	if r := byID["BackupRole"]; r.Status != backup.StackResourceNotApplicable || !strings.HasPrefix(r.PhysicalID, "blog-BackupRole-") {
		t.Errorf("role record %+v", r)
	}
	if r := byID["TagBasedBackupSelection"]; !strings.HasPrefix(r.PhysicalID, p.ID+"/sel-") {
		t.Errorf("selection record %+v", r)
	}
	if st.CreationDate.IsZero() || !st.UpdateDate.After(st.CreationDate) {
		t.Errorf("dates: created %v updated %v", st.CreationDate, st.UpdateDate)
	}
}

func TestReapplyIsIdempotent(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	h.applyOK("blog", tmpl, nil)
	before, _ := h.store.GetStack(context.Background(), "blog")
	writes := len(h.backend.writes)

	res := h.applyOK("blog", tmpl, nil)
	want := map[string]string{"BackupVault": ActionNone, "BackupPlan": ActionNone, "BackupRole": ActionSkip, "TagBasedBackupSelection": ActionNone}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("re-apply changes = %v, want %v", got, want)
	}
	if len(h.backend.writes) != writes {
		t.Errorf("re-apply wrote %v", h.backend.writes[writes:])
	}
	after, _ := h.store.GetStack(context.Background(), "blog")
	if !reflect.DeepEqual(before.Resources, after.Resources) {
		t.Errorf("re-apply changed the record:\n%+v\n%+v", before.Resources, after.Resources)
	}
}

func TestParameterChangeUpdatesPlan(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	h.applyOK("blog", tmpl, nil)
	p1 := *h.backend.livePlans()["BackupPlan_blog"]

	res := h.applyOK("blog", tmpl, map[string]string{"LifecycleDeleteAfterDays": "400"})
	want := map[string]string{"BackupVault": ActionNone, "BackupPlan": ActionUpdate, "BackupRole": ActionSkip, "TagBasedBackupSelection": ActionNone}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	p2 := h.backend.livePlans()["BackupPlan_blog"]
	if p2.ID != p1.ID || p2.VersionID == p1.VersionID {
		t.Errorf("plan %s version %s -> plan %s version %s: want the same plan with a new version", p1.ID, p1.VersionID, p2.ID, p2.VersionID)
	}
	if p2.Rules[0].Lifecycle.DeleteAfterDays != 400 {
		t.Errorf("DeleteAfterDays = %d", p2.Rules[0].Lifecycle.DeleteAfterDays)
	}
	st, _ := h.store.GetStack(context.Background(), "blog")
	for _, r := range st.Resources {
		if r.LogicalID == "BackupPlan" && r.Attributes["VersionId"] != p2.VersionID {
			t.Errorf("recorded VersionId %s, want %s", r.Attributes["VersionId"], p2.VersionID)
		}
	}
	// A tag parameter replaces the selection: selections cannot change.
	res = h.applyOK("blog", tmpl, map[string]string{"LifecycleDeleteAfterDays": "400", "TagValue": "weekly"})
	if got := actions(res)["TagBasedBackupSelection"]; got != ActionUpdate {
		t.Errorf("selection action %s, want UPDATE", got)
	}
	if len(h.backend.sels) != 1 {
		t.Fatalf("selections after replacement: %v", h.backend.sels)
	}
	for _, s := range h.backend.sels {
		if s.ListOfTags[0].ConditionValue != "weekly" {
			t.Errorf("selection tags %+v", s.ListOfTags)
		}
	}
}

const twoVaults = `
Parameters:
  Name: {Type: String, Default: main}
  Color: {Type: String, Default: blue}
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: !Ref Name
      BackupVaultTags: {color: !Ref Color}
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: !Ref Vault
`

func TestVaultReplacement(t *testing.T) {
	h := newHarness(t)
	h.applyOK("s", twoVaults, nil)

	// A new name: the new vault is created, the plan moves, the old vault goes.
	res := h.applyOK("s", twoVaults, map[string]string{"Name": "other"})
	if got := actions(res); got["Vault"] != ActionDelete || got["Plan"] != ActionUpdate {
		t.Errorf("changes %v", res.Changes)
	}
	if _, ok := h.backend.vaults["main"]; ok {
		t.Error("old vault main still exists")
	}
	if _, ok := h.backend.vaults["other"]; !ok {
		t.Error("new vault other does not exist")
	}
	if got := h.backend.livePlans()["p"].Rules[0].TargetBackupVaultName; got != "other" {
		t.Errorf("plan targets %s", got)
	}
	idx := slices.IndexFunc(h.backend.writes, func(w string) bool { return w == "CreateVault other" })
	del := slices.IndexFunc(h.backend.writes, func(w string) bool { return w == "DeleteVault main" })
	upd := slices.IndexFunc(h.backend.writes, func(w string) bool { return strings.HasPrefix(w, "UpdateBackupPlan") })
	if !(idx < upd && upd < del) {
		t.Errorf("writes in order %v: want create vault, update plan, delete old vault", h.backend.writes)
	}
	st, _ := h.store.GetStack(context.Background(), "s")
	if len(st.Resources) != 2 {
		t.Errorf("record has %d resources: %+v", len(st.Resources), st.Resources)
	}

	// New tags on an empty vault: recreated with them.
	res = h.applyOK("s", twoVaults, map[string]string{"Name": "other", "Color": "red"})
	if got := actions(res)["Vault"]; got != ActionUpdate {
		t.Errorf("vault action %s", got)
	}
	if got := h.backend.vaults["other"].Tags["color"]; got != "red" {
		t.Errorf("vault tag color=%s", got)
	}

	// New tags on a vault with recovery points: refused, nothing changes.
	h.backend.vaults["other"].NumberOfRecoveryPoints = 3
	writes := len(h.backend.writes)
	_, err := h.apply("s", twoVaults, map[string]string{"Name": "other", "Color": "green"})
	if err == nil || !strings.Contains(err.Error(), "resource Vault (AWS::Backup::BackupVault): BackupVaultTags changed") ||
		!strings.Contains(err.Error(), "holds 3 recovery points") {
		t.Errorf("retag of a vault with points: %v", err)
	}
	if len(h.backend.writes) != writes {
		t.Errorf("a refused apply wrote %v", h.backend.writes[writes:])
	}
	// Renaming it is refused too: the old vault could not be deleted.
	_, err = h.apply("s", twoVaults, map[string]string{"Name": "third", "Color": "red"})
	if err == nil || !strings.Contains(err.Error(), "cannot delete other, which it was replaced") {
		t.Errorf("rename of a vault with points: %v", err)
	}
	if len(h.backend.writes) != writes {
		t.Errorf("a refused apply wrote %v", h.backend.writes[writes:])
	}
}

func TestRemovedResourcesAreDeleted(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	h.applyOK("blog", tmpl, nil)
	// Without the selection and the role.
	cut := tmpl[:strings.Index(tmpl, "  BackupRole:")] + tmpl[strings.Index(tmpl, "Outputs:"):]
	res := h.applyOK("blog", cut, nil)
	want := map[string]string{"BackupVault": ActionNone, "BackupPlan": ActionNone, "BackupRole": ActionDelete, "TagBasedBackupSelection": ActionDelete}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if len(h.backend.sels) != 0 {
		t.Errorf("selections left: %v", h.backend.sels)
	}
	st, _ := h.store.GetStack(context.Background(), "blog")
	if len(st.Resources) != 2 {
		t.Errorf("record: %+v", st.Resources)
	}
}

func TestPlanTagsReplacePlan(t *testing.T) {
	h := newHarness(t)
	tmpl := strings.Replace(blogTemplate(t), "      BackupPlan:\n        BackupPlanName", "      BackupPlanTags: {team: !Ref TagValue}\n      BackupPlan:\n        BackupPlanName", 1)
	h.applyOK("blog", tmpl, nil)
	old := h.backend.livePlans()["BackupPlan_blog"].ID
	res := h.applyOK("blog", tmpl, map[string]string{"TagValue": "other"})
	if got := actions(res); got["BackupPlan"] != ActionUpdate || got["TagBasedBackupSelection"] != ActionCreate {
		t.Errorf("changes %+v", res.Changes)
	}
	p := h.backend.livePlans()["BackupPlan_blog"]
	if p.ID == old || p.Tags["team"] != "other" {
		t.Errorf("plan %s tags %v; old plan %s", p.ID, p.Tags, old)
	}
	if len(h.backend.sels) != 1 {
		t.Fatalf("selections %v", h.backend.sels)
	}
	for _, s := range h.backend.sels {
		if s.BackupPlanID != p.ID {
			t.Errorf("selection on plan %s, want %s", s.BackupPlanID, p.ID)
		}
	}
}

func TestFailureMidwayThenReapply(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	boom := backup.Errorf(backup.ErrInternal, "disk on fire")
	h.backend.fail = func(op, name string) error {
		if op == "CreateBackupSelection" {
			return boom
		}
		return nil
	}
	_, err := h.apply("blog", tmpl, nil)
	if err == nil || !strings.Contains(err.Error(), "resource TagBasedBackupSelection (AWS::Backup::BackupSelection): create selection TagBasedBackupSelection") {
		t.Fatalf("apply with a failing selection: %v", err)
	}
	if !errors.Is(err, boom) {
		t.Errorf("error does not wrap the backend's: %v", err)
	}
	st, err := h.store.GetStack(context.Background(), "blog")
	if err != nil {
		t.Fatalf("no record after a failure midway: %v", err)
	}
	var ids []string
	for _, r := range st.Resources {
		ids = append(ids, r.LogicalID)
	}
	if want := []string{"BackupVault", "BackupPlan", "BackupRole"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("record after failure has %v, want %v", ids, want)
	}

	h.backend.fail = nil
	res := h.applyOK("blog", tmpl, nil)
	want := map[string]string{"BackupVault": ActionNone, "BackupPlan": ActionNone, "BackupRole": ActionSkip, "TagBasedBackupSelection": ActionCreate}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Errorf("re-apply changes %v, want %v", got, want)
	}
	if len(h.backend.vaults) != 1 || len(h.backend.livePlans()) != 1 || len(h.backend.sels) != 1 {
		t.Errorf("after re-apply: vaults %d plans %d selections %d", len(h.backend.vaults), len(h.backend.livePlans()), len(h.backend.sels))
	}
}

// A crash after a resource was created but before the record was saved:
// the next apply finds it by its CreatorRequestId instead of failing on
// the name.
func TestLostRecordSaveThenReapply(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	h.store.fail = func(s *backup.Stack) error {
		for _, r := range s.Resources {
			if r.LogicalID == "BackupPlan" {
				return errors.New("catalog unavailable")
			}
		}
		return nil
	}
	if _, err := h.apply("blog", tmpl, nil); err == nil || !strings.Contains(err.Error(), "catalog unavailable") {
		t.Fatalf("apply with a failing record: %v", err)
	}
	if len(h.backend.livePlans()) != 1 {
		t.Fatalf("the plan was not created before the record failed")
	}
	h.store.fail = nil
	res := h.applyOK("blog", tmpl, nil)
	if got := actions(res)["BackupPlan"]; got != ActionCreate {
		t.Errorf("plan action %s", got)
	}
	if len(h.backend.livePlans()) != 1 || len(h.backend.vaults) != 1 {
		t.Errorf("plans %v vaults %v: want one of each", h.backend.livePlans(), h.backend.vaults)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	blog := blogTemplate(t)
	for _, tc := range []struct {
		name, tmpl string
		params     map[string]string
		want       string
	}{
		{"unknown parameter", blog, map[string]string{"TagKy": "x"}, "parameter TagKy: the template declares no such parameter"},
		{"bad number", blog, map[string]string{"LifecycleDeleteAfterDays": "many"}, `parameter LifecycleDeleteAfterDays: "many" is not a number`},
		{"bad condition type", strings.Replace(blog, `"STRINGEQUALS"`, `"STRINGLIKE"`, 1), nil,
			`resource TagBasedBackupSelection (AWS::Backup::BackupSelection): property BackupSelection.ListOfTags[0].ConditionType: "STRINGLIKE" is not a condition type`},
		{"unknown property", strings.Replace(blog, "StartWindowMinutes: 60", "StartWindow: 60", 1), nil,
			"resource BackupPlan (AWS::Backup::BackupPlan): property BackupPlan.BackupPlanRule[0].StartWindow: is not a property of BackupPlan.BackupPlanRule[0]"},
		{"not a number", strings.Replace(blog, "StartWindowMinutes: 60", "StartWindowMinutes: soon", 1), nil,
			`property BackupPlan.BackupPlanRule[0].StartWindowMinutes: "soon" is not a number`},
		{"missing required", strings.Replace(blog, `        SelectionName: "TagBasedBackupSelection"`+"\n", "", 1), nil,
			"property BackupSelection.SelectionName: is required"},
		{"bad vault name", strings.Replace(blog, "BackupVault_${AWS::StackName}", "Backup Vault", 1), nil,
			"resource BackupVault (AWS::Backup::BackupVault): property BackupVaultName:"},
		{"missing target vault", strings.Replace(blog, "TargetBackupVault: !Ref BackupVault", "TargetBackupVault: nowhere", 1), nil,
			"TargetBackupVault nowhere does not exist"},
		{"bad attribute", strings.Replace(blog, "!GetAtt BackupRole.Arn", "!GetAtt BackupPlan.Arn", 1), nil,
			"AWS::Backup::BackupPlan has no attribute Arn (it has BackupPlanArn, BackupPlanId, VersionId)"},
		{"bad output", blog + "  Bad:\n    Value: !Ref Nothing\n", nil, "output Bad:"},
		{"depends on itself", strings.Replace(blog, "DependsOn: BackupPlan", "DependsOn: TagBasedBackupSelection", 1), nil, "DependsOn names itself"},
		{"cycle", strings.Replace(blog, "BackupVaultName: !Sub 'BackupVault_${AWS::StackName}'", "BackupVaultName: !Sub '${TagBasedBackupSelection}'", 1), nil,
			"circular dependency between resources: BackupPlan -> BackupVault -> TagBasedBackupSelection -> BackupPlan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.apply("blog", tc.tmpl, tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("apply: error %v, want one containing %q", err, tc.want)
			}
			if c := backup.ErrorCode(err); c != backup.ErrInvalidParameter {
				t.Errorf("error code %s, want InvalidParameter", c)
			}
			if len(h.backend.writes) != 0 {
				t.Errorf("a refused apply wrote %v", h.backend.writes)
			}
			if _, err := h.store.GetStack(context.Background(), "blog"); !backup.IsNotFound(err) {
				t.Errorf("a refused apply recorded the stack (%v)", err)
			}
		})
	}
	h := newHarness(t)
	if _, err := h.apply("-bad", blog, nil); err == nil || !strings.Contains(err.Error(), `stack name "-bad" is not valid`) {
		t.Errorf("bad stack name: %v", err)
	}
}

func TestTypeChangeRefused(t *testing.T) {
	h := newHarness(t)
	h.applyOK("s", "Resources:\n  X: {Type: AWS::SNS::Topic}\n", nil)
	_, err := h.apply("s", twoVaults, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	_, err = h.apply("s", strings.Replace(twoVaults, "  Plan:\n    Type: AWS::Backup::BackupPlan", "  Plan:\n    Type: AWS::SNS::Topic", 1), nil)
	if err == nil || !strings.Contains(err.Error(), "resource Plan: its Type changed from AWS::Backup::BackupPlan to AWS::SNS::Topic") {
		t.Errorf("type change: %v", err)
	}
}

func TestConditions(t *testing.T) {
	src := `
Parameters:
  WithPlan: {Type: String, Default: "yes", AllowedValues: ["yes", "no"]}
  Key: {Type: String, Default: ""}
Conditions:
  MakePlan: !Equals [!Ref WithPlan, "yes"]
  HasKey: !Not [!Equals [!Ref Key, ""]]
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v1
      EncryptionKeyArn: !If [HasKey, !Ref Key, !Ref AWS::NoValue]
  Plan:
    Type: AWS::Backup::BackupPlan
    Condition: MakePlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule: [{RuleName: r, TargetBackupVault: !Ref Vault}]
Outputs:
  PlanId:
    Condition: MakePlan
    Value: !Ref Plan
`
	h := newHarness(t)
	h.applyOK("c", src, nil)
	if len(h.backend.livePlans()) != 1 || h.backend.vaults["v1"].EncryptionKeyARN != "" {
		t.Fatalf("plans %v vault %+v", h.backend.livePlans(), h.backend.vaults["v1"])
	}
	res := h.applyOK("c", src, map[string]string{"WithPlan": "no"})
	if got := actions(res)["Plan"]; got != ActionDelete {
		t.Errorf("plan action %s with its condition false", got)
	}
	if len(h.backend.livePlans()) != 0 {
		t.Errorf("plan left: %v", h.backend.livePlans())
	}
	// A reference to a resource whose condition is false is an error.
	bad := strings.Replace(src, "    Condition: MakePlan\n    Value", "    Value", 1)
	if _, err := h.apply("c", bad, map[string]string{"WithPlan": "no"}); err == nil || !strings.Contains(err.Error(), "Condition MakePlan is false") {
		t.Errorf("ref to a skipped resource: %v", err)
	}
}

func TestDeleteStack(t *testing.T) {
	h := newHarness(t)
	h.applyOK("blog", blogTemplate(t), nil)
	h.backend.writes = nil
	res, err := h.stacks.Delete(context.Background(), "blog")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DeleteBackupSelection", "DeleteBackupPlan", "DeleteVault"}; len(h.backend.writes) != 3 ||
		!strings.HasPrefix(h.backend.writes[0], want[0]) || !strings.HasPrefix(h.backend.writes[1], want[1]) || !strings.HasPrefix(h.backend.writes[2], want[2]) {
		t.Errorf("deletes in order %v, want %v", h.backend.writes, want)
	}
	if len(res.Changes) != 4 {
		t.Errorf("changes %+v", res.Changes)
	}
	if _, err := h.store.GetStack(context.Background(), "blog"); !backup.IsNotFound(err) {
		t.Errorf("stack record after delete: %v", err)
	}
	if _, err := h.stacks.Delete(context.Background(), "blog"); !backup.IsNotFound(err) || !strings.Contains(err.Error(), "stack blog not found") {
		t.Errorf("delete of a deleted stack: %v", err)
	}
}

func TestDeleteStackKeepsVaultWithPoints(t *testing.T) {
	h := newHarness(t)
	h.applyOK("blog", blogTemplate(t), nil)
	h.backend.vaults["BackupVault_blog"].NumberOfRecoveryPoints = 2
	res, err := h.stacks.Delete(context.Background(), "blog")
	if err == nil || !strings.Contains(err.Error(), "could not delete BackupVault (backup vault BackupVault_blog holds 2 recovery points)") {
		t.Fatalf("delete with a full vault: %v", err)
	}
	if res == nil || len(res.Stack.Resources) != 1 || res.Stack.Resources[0].LogicalID != "BackupVault" {
		t.Fatalf("result %+v", res)
	}
	if len(h.backend.livePlans()) != 0 || len(h.backend.sels) != 0 {
		t.Errorf("plans %v selections %v left", h.backend.livePlans(), h.backend.sels)
	}
	st, err := h.store.GetStack(context.Background(), "blog")
	if err != nil || len(st.Resources) != 1 || !strings.Contains(st.Resources[0].Message, "not deleted: backup vault BackupVault_blog holds 2 recovery points") {
		t.Fatalf("record %+v, %v", st, err)
	}
	h.backend.vaults["BackupVault_blog"].NumberOfRecoveryPoints = 0
	if _, err := h.stacks.Delete(context.Background(), "blog"); err != nil {
		t.Fatal(err)
	}
	if len(h.backend.vaults) != 0 {
		t.Errorf("vaults left %v", h.backend.vaults)
	}
}

func TestDriftIsRepaired(t *testing.T) {
	h := newHarness(t)
	tmpl := blogTemplate(t)
	h.applyOK("blog", tmpl, nil)
	for k, s := range h.backend.sels {
		_ = h.backend.DeleteBackupSelection(context.Background(), s.BackupPlanID, s.SelectionID)
		_ = k
	}
	res := h.applyOK("blog", tmpl, nil)
	if got := actions(res)["TagBasedBackupSelection"]; got != ActionCreate {
		t.Errorf("selection deleted outside the stack: action %s", got)
	}
	if len(h.backend.sels) != 1 {
		t.Errorf("selections %v", h.backend.sels)
	}
}

func TestOtherResourceTypes(t *testing.T) {
	src := `
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: my-role
  Topic:
    Type: AWS::SNS::Topic
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v1
      BackupVaultTags:
        role: !GetAtt Role.Arn
        topic: !Ref Topic
        topicArn: !GetAtt Topic.Arn
      Notifications: {BackupVaultEvents: [BACKUP_JOB_COMPLETED], SNSTopicArn: !Ref Topic}
`
	h := newHarness(t)
	res := h.applyOK("other", src, nil)
	tags := h.backend.vaults["v1"].Tags
	if tags["role"] != "arn:aws:iam::111122223333:role/my-role" {
		t.Errorf("role ARN %q", tags["role"])
	}
	if !strings.HasPrefix(tags["topic"], "other-Topic-") || tags["topicArn"] != "arn:aws:sns:us-east-1:111122223333:"+tags["topic"] {
		t.Errorf("topic %q arn %q", tags["topic"], tags["topicArn"])
	}
	for _, c := range res.Changes {
		if c.LogicalID == "Vault" && !strings.Contains(c.Message, "ignored by cairn: Notifications") {
			t.Errorf("vault message %q", c.Message)
		}
		if c.LogicalID == "Role" && (c.Action != ActionSkip || !strings.Contains(c.Message, "not applicable")) {
			t.Errorf("role change %+v", c)
		}
	}
	// Stable across applies: nothing changes.
	res = h.applyOK("other", src, nil)
	if got := actions(res)["Vault"]; got != ActionNone {
		t.Errorf("vault action on re-apply %s", got)
	}
}
