package awsapi

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
)

var (
	planARN      = backup.PlanARN(testRegion, testAccount, "plan-1")
	offsiteARN   = backup.VaultARN(testRegion, testAccount, "offsite")
	fullCreateBy = &backup.CreatedBy{BackupPlanID: "plan-1", BackupPlanARN: planARN, BackupPlanName: "blog-plan",
		BackupPlanVersion: "djE=", BackupRuleID: "rule-1", BackupRuleName: "daily", BackupRuleCron: "cron(0 5 ? * * *)",
		BackupRuleTimezone: "Europe/Paris"}
)

// testPlanDocument is a plan as a user writes it, every member set.
func testPlanDocument() backup.PlanDocument {
	return backup.PlanDocument{
		BackupPlanName: "blog-plan",
		Rules: []backup.BackupRule{{
			RuleName: "daily", TargetBackupVaultName: "main-vault", ScheduleExpression: "cron(0 5 ? * * *)",
			ScheduleExpressionTimezone: "Europe/Paris", StartWindowMinutes: 60, CompletionWindowMinutes: 120,
			Lifecycle:         backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 365},
			RecoveryPointTags: map[string]string{"source": "plan"},
			CopyActions: []backup.CopyAction{{DestinationBackupVaultARN: offsiteARN,
				Lifecycle: backup.Lifecycle{DeleteAfterDays: 90}}},
		}},
		AdvancedBackupSettings: []backup.AdvancedBackupSetting{{ResourceType: "EC2", BackupOptions: map[string]string{"WindowsVSS": "enabled"}}},
	}
}

func testPlan() *backup.BackupPlan {
	doc := testPlanDocument()
	doc.Rules[0].RuleID = "rule-1"
	return &backup.BackupPlan{
		PlanDocument: doc, ID: "plan-1", ARN: planARN, VersionID: "djE=", AccountID: testAccount, Region: testRegion,
		CreatorRequestID: "req-p", CreationDate: t0, DeletionDate: t0.Add(48 * time.Hour), LastExecutionDate: t0.Add(24 * time.Hour),
	}
}

// sdkPlanInput is testPlanDocument as the SDK sends it.
func sdkPlanInput() *types.BackupPlanInput {
	return &types.BackupPlanInput{
		BackupPlanName: aws.String("blog-plan"),
		Rules: []types.BackupRuleInput{{
			RuleName: aws.String("daily"), TargetBackupVaultName: aws.String("main-vault"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), ScheduleExpressionTimezone: aws.String("Europe/Paris"),
			StartWindowMinutes: aws.Int64(60), CompletionWindowMinutes: aws.Int64(120),
			Lifecycle:         &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(30), DeleteAfterDays: aws.Int64(365)},
			RecoveryPointTags: map[string]string{"source": "plan"},
			CopyActions: []types.CopyAction{{DestinationBackupVaultArn: aws.String(offsiteARN),
				Lifecycle: &types.Lifecycle{DeleteAfterDays: aws.Int64(90)}}},
		}},
		AdvancedBackupSettings: []types.AdvancedBackupSetting{{ResourceType: aws.String("EC2"),
			BackupOptions: map[string]string{"WindowsVSS": "enabled"}}},
	}
}

// checkRule compares an SDK rule with testPlan's.
func checkRule(t *testing.T, r types.BackupRule) {
	t.Helper()
	eq(t, "RuleName", r.RuleName, "daily")
	eq(t, "RuleId", r.RuleId, "rule-1")
	eq(t, "TargetBackupVaultName", r.TargetBackupVaultName, "main-vault")
	eq(t, "ScheduleExpression", r.ScheduleExpression, "cron(0 5 ? * * *)")
	eq(t, "ScheduleExpressionTimezone", r.ScheduleExpressionTimezone, "Europe/Paris")
	eq(t, "StartWindowMinutes", r.StartWindowMinutes, 60)
	eq(t, "CompletionWindowMinutes", r.CompletionWindowMinutes, 120)
	if l := r.Lifecycle; l == nil || aws.ToInt64(l.MoveToColdStorageAfterDays) != 30 || aws.ToInt64(l.DeleteAfterDays) != 365 {
		t.Errorf("Lifecycle = %+v", l)
	}
	if !reflect.DeepEqual(r.RecoveryPointTags, map[string]string{"source": "plan"}) {
		t.Errorf("RecoveryPointTags = %v", r.RecoveryPointTags)
	}
	if len(r.CopyActions) != 1 || aws.ToString(r.CopyActions[0].DestinationBackupVaultArn) != offsiteARN ||
		aws.ToInt64(r.CopyActions[0].Lifecycle.DeleteAfterDays) != 90 || r.CopyActions[0].Lifecycle.MoveToColdStorageAfterDays != nil {
		t.Errorf("CopyActions = %+v", r.CopyActions)
	}
}

func TestCreateBackupPlan(t *testing.T) {
	e := newTestEnv(t, &fakeService{plan: testPlan()}, nil)
	out, err := e.client.CreateBackupPlan(context.Background(), &backupsdk.CreateBackupPlanInput{
		BackupPlan:       sdkPlanInput(),
		BackupPlanTags:   map[string]string{"team": "data"},
		CreatorRequestId: aws.String("req-p"),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "CreateBackupPlan", backup.CreateBackupPlanInput{
		Plan: testPlanDocument(), Tags: map[string]string{"team": "data"}, CreatorRequestID: "req-p"})
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eq(t, "BackupPlanArn", out.BackupPlanArn, planARN)
	eq(t, "VersionId", out.VersionId, "djE=")
	eqTime(t, "CreationDate", out.CreationDate, t0)
	if len(out.AdvancedBackupSettings) != 1 || aws.ToString(out.AdvancedBackupSettings[0].ResourceType) != "EC2" {
		t.Errorf("AdvancedBackupSettings = %+v", out.AdvancedBackupSettings)
	}
}

func TestCreateBackupPlanMinimal(t *testing.T) {
	e := newTestEnv(t, &fakeService{plan: testPlan()}, nil)
	_, err := e.client.CreateBackupPlan(context.Background(), &backupsdk.CreateBackupPlanInput{
		BackupPlan: &types.BackupPlanInput{BackupPlanName: aws.String("p"), Rules: []types.BackupRuleInput{
			{RuleName: aws.String("r"), TargetBackupVaultName: aws.String("main-vault")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := e.fake.Calls()[0].In.(backup.CreateBackupPlanInput)
	want := backup.PlanDocument{BackupPlanName: "p", Rules: []backup.BackupRule{{RuleName: "r", TargetBackupVaultName: "main-vault"}}}
	if !reflect.DeepEqual(in.Plan, want) {
		t.Errorf("plan %+v, want %+v (absent members stay zero: the service fills the defaults)", in.Plan, want)
	}
	if in.CreatorRequestID == "" {
		t.Error("the SDK's idempotency token did not arrive as CreatorRequestID")
	}
}

func TestGetBackupPlan(t *testing.T) {
	runs := []backup.ScheduledRun{
		{ExecutionTime: t0.Add(time.Hour), RuleID: "rule-1", RecoveryPointType: "SNAPSHOT"},
		{ExecutionTime: t0.Add(25 * time.Hour), RuleID: "rule-1"},
	}
	e := newTestEnv(t, &fakeService{plan: testPlan(), runs: runs}, nil)
	out, err := e.client.GetBackupPlan(context.Background(), &backupsdk.GetBackupPlanInput{
		BackupPlanId: aws.String("plan-1"), VersionId: aws.String("djE="), MaxScheduledRunsPreview: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetBackupPlan", getPlanCall{"plan-1", "djE=", 2})
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eq(t, "BackupPlanArn", out.BackupPlanArn, planARN)
	eq(t, "VersionId", out.VersionId, "djE=")
	eq(t, "CreatorRequestId", out.CreatorRequestId, "req-p")
	eqTime(t, "CreationDate", out.CreationDate, t0)
	eqTime(t, "DeletionDate", out.DeletionDate, t0.Add(48*time.Hour))
	eqTime(t, "LastExecutionDate", out.LastExecutionDate, t0.Add(24*time.Hour))
	if out.BackupPlan == nil || len(out.BackupPlan.Rules) != 1 {
		t.Fatalf("BackupPlan = %+v", out.BackupPlan)
	}
	eq(t, "BackupPlanName", out.BackupPlan.BackupPlanName, "blog-plan")
	checkRule(t, out.BackupPlan.Rules[0])
	if len(out.AdvancedBackupSettings) != 1 || out.AdvancedBackupSettings[0].BackupOptions["WindowsVSS"] != "enabled" {
		t.Errorf("AdvancedBackupSettings = %+v", out.AdvancedBackupSettings)
	}
	if len(out.ScheduledRunsPreview) != 2 {
		t.Fatalf("ScheduledRunsPreview = %+v", out.ScheduledRunsPreview)
	}
	for i, r := range out.ScheduledRunsPreview {
		eqTime(t, "ExecutionTime", r.ExecutionTime, runs[i].ExecutionTime)
		eq(t, "RuleId", r.RuleId, "rule-1")
		if r.RuleExecutionType != types.RuleExecutionTypeSnapshots {
			t.Errorf("RuleExecutionType = %q", r.RuleExecutionType)
		}
	}
}

func TestGetBackupPlanShowsDefaults(t *testing.T) {
	p := testPlan()
	p.Rules = []backup.BackupRule{{RuleID: "r0", RuleName: "bare", TargetBackupVaultName: "main-vault"}}
	e := newTestEnv(t, &fakeService{plan: p}, nil)
	out, err := e.client.GetBackupPlan(context.Background(), &backupsdk.GetBackupPlanInput{BackupPlanId: aws.String("plan-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetBackupPlan", getPlanCall{ID: "plan-1"})
	r := out.BackupPlan.Rules[0]
	eq(t, "ScheduleExpression", r.ScheduleExpression, backup.DefaultScheduleExpression)
	eq(t, "StartWindowMinutes", r.StartWindowMinutes, backup.DefaultStartWindowMinutes)
	eq(t, "CompletionWindowMinutes", r.CompletionWindowMinutes, backup.DefaultCompletionWindowMinutes)
	if r.Lifecycle != nil || r.CopyActions != nil || r.ScheduleExpressionTimezone != nil || out.ScheduledRunsPreview != nil {
		t.Errorf("rule %+v, preview %+v", r, out.ScheduledRunsPreview)
	}
}

func TestGetBackupPlanNotFound(t *testing.T) {
	e := newTestEnv(t, &fakeService{errs: map[string]error{"GetBackupPlan": backup.NotFound("BackupPlan", "nope")}}, nil)
	_, err := e.client.GetBackupPlan(context.Background(), &backupsdk.GetBackupPlanInput{BackupPlanId: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Type) != "BackupPlan" || aws.ToString(nf.Context) != "nope" {
		t.Errorf("err = %v", err)
	}
}

func TestListBackupPlansPaginates(t *testing.T) {
	fake := &fakeService{}
	for _, id := range []string{"p1", "p2", "p3"} {
		p := testPlan()
		p.ID, p.BackupPlanName = id, "plan-"+id
		fake.plans = append(fake.plans, p)
	}
	e := newTestEnv(t, fake, nil)
	var names []string
	pg := backupsdk.NewListBackupPlansPaginator(e.client, &backupsdk.ListBackupPlansInput{
		MaxResults: aws.Int32(2), IncludeDeleted: aws.Bool(true)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.BackupPlansList {
			names = append(names, aws.ToString(p.BackupPlanName))
			eq(t, "BackupPlanArn", p.BackupPlanArn, planARN)
			eq(t, "VersionId", p.VersionId, "djE=")
			eq(t, "CreatorRequestId", p.CreatorRequestId, "req-p")
			eqTime(t, "CreationDate", p.CreationDate, t0)
			eqTime(t, "DeletionDate", p.DeletionDate, t0.Add(48*time.Hour))
			eqTime(t, "LastExecutionDate", p.LastExecutionDate, t0.Add(24*time.Hour))
		}
	}
	if !reflect.DeepEqual(names, []string{"plan-p1", "plan-p2", "plan-p3"}) {
		t.Errorf("names = %v", names)
	}
	want := []call{
		{"ListBackupPlans", backup.BackupPlanFilter{Page: backup.Page{MaxResults: 2}, IncludeDeleted: true}},
		{"ListBackupPlans", backup.BackupPlanFilter{Page: backup.Page{MaxResults: 2, NextToken: "2"}, IncludeDeleted: true}},
	}
	if got := fake.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %+v, want %+v", got, want)
	}
}

func TestListBackupPlanVersions(t *testing.T) {
	v1, v2 := testPlan(), testPlan()
	v2.VersionID = "djI="
	e := newTestEnv(t, &fakeService{plans: []*backup.BackupPlan{v2, v1}}, nil)
	out, err := e.client.ListBackupPlanVersions(context.Background(), &backupsdk.ListBackupPlanVersionsInput{
		BackupPlanId: aws.String("plan-1"), MaxResults: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListBackupPlanVersions", idPageCall{"plan-1", backup.Page{MaxResults: 10}})
	if len(out.BackupPlanVersionsList) != 2 || aws.ToString(out.BackupPlanVersionsList[0].VersionId) != "djI=" ||
		aws.ToString(out.BackupPlanVersionsList[1].VersionId) != "djE=" || out.NextToken != nil {
		t.Errorf("out = %+v", out)
	}
}

func TestUpdateBackupPlan(t *testing.T) {
	p := testPlan()
	p.VersionID = "djI="
	e := newTestEnv(t, &fakeService{plan: p}, nil)
	out, err := e.client.UpdateBackupPlan(context.Background(), &backupsdk.UpdateBackupPlanInput{
		BackupPlanId: aws.String("plan-1"), BackupPlan: sdkPlanInput()})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "UpdateBackupPlan", updatePlanCall{"plan-1", testPlanDocument()})
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eq(t, "BackupPlanArn", out.BackupPlanArn, planARN)
	eq(t, "VersionId", out.VersionId, "djI=")
	eqTime(t, "CreationDate", out.CreationDate, t0)
}

func TestDeleteBackupPlan(t *testing.T) {
	e := newTestEnv(t, &fakeService{plan: testPlan()}, nil)
	out, err := e.client.DeleteBackupPlan(context.Background(), &backupsdk.DeleteBackupPlanInput{BackupPlanId: aws.String("plan-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "DeleteBackupPlan", "plan-1")
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eq(t, "BackupPlanArn", out.BackupPlanArn, planARN)
	eq(t, "VersionId", out.VersionId, "djE=")
	eqTime(t, "DeletionDate", out.DeletionDate, t0.Add(48*time.Hour))

	// A plan with selections is refused, as AWS does.
	e.fake.errs = map[string]error{"DeleteBackupPlan": backup.Errorf(backup.ErrInvalidRequest,
		"backup plan plan-1 has selections; delete them first")}
	_, err = e.client.DeleteBackupPlan(context.Background(), &backupsdk.DeleteBackupPlanInput{BackupPlanId: aws.String("plan-1")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) || !strings.Contains(aws.ToString(ir.Message), "delete them first") {
		t.Errorf("err = %v", err)
	}
}

const blogPlanJSON = `{
  "BackupPlan": {
    "BackupPlanName": "blog-plan",
    "Rules": [{
      "RuleName": "daily",
      "TargetBackupVaultName": "main-vault",
      "ScheduleExpression": "cron(0 5 ? * * *)",
      "ScheduleExpressionTimezone": "Europe/Paris",
      "StartWindowMinutes": 60,
      "CompletionWindowMinutes": 120,
      "Lifecycle": {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 365},
      "RecoveryPointTags": {"source": "plan"},
      "CopyActions": [{"DestinationBackupVaultArn": "` + "arn:aws:backup:eu-west-3:123456789012:backup-vault:offsite" + `",
                       "Lifecycle": {"DeleteAfterDays": 90}}]
    }],
    "AdvancedBackupSettings": [{"ResourceType": "EC2", "BackupOptions": {"WindowsVSS": "enabled"}}]
  }
}`

func TestGetBackupPlanFromJSON(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	for name, doc := range map[string]string{
		"wrapped": blogPlanJSON,
		"bare":    blogPlanJSON[strings.Index(blogPlanJSON, ":")+1 : strings.LastIndex(blogPlanJSON, "}")],
	} {
		out, err := e.client.GetBackupPlanFromJSON(context.Background(), &backupsdk.GetBackupPlanFromJSONInput{
			BackupPlanTemplateJson: aws.String(doc)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.BackupPlan == nil || aws.ToString(out.BackupPlan.BackupPlanName) != "blog-plan" || len(out.BackupPlan.Rules) != 1 {
			t.Fatalf("%s: BackupPlan = %+v", name, out.BackupPlan)
		}
		r := out.BackupPlan.Rules[0]
		r.RuleId = aws.String("rule-1") // a document's rules have no id yet
		checkRule(t, r)
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("GetBackupPlanFromJSON called the service: %+v", calls)
	}
}

func TestGetBackupPlanFromJSONSaysWhere(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	for doc, want := range map[string]string{
		"{\n  \"BackupPlanName\": \"p\",\n  \"Rules\": [\n    {\"RuleName\": \"r\",, }\n  ]\n}":                                 "line 4, column",
		`{"BackupPlanName": "p", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "v1", "StartWindowMinutes": "an hour"}]}`: "Rules.StartWindowMinutes",
		`{"BackupPlanName": "p", "Rulez": []}`:                  `"Rulez"`,
		`[1, 2]`:                                                "must be a JSON object",
		`{"BackupPlanName": "p"}`:                               "BackupPlanTemplateJson.Rules",
		`{"BackupPlan": {"Rules": []}}`:                         "BackupPlanTemplateJson.BackupPlan.BackupPlanName",
		`{"BackupPlanName": "p", "Rules": []} trailing`:         "not valid JSON",
		`{"BackupPlanName": "p", "Rules": [{"RuleName": "r"}]}`: "Rules[0].TargetBackupVaultName",
	} {
		_, err := e.client.GetBackupPlanFromJSON(context.Background(), &backupsdk.GetBackupPlanFromJSONInput{
			BackupPlanTemplateJson: aws.String(doc)})
		var ipv *types.InvalidParameterValueException
		var mpv *types.MissingParameterValueException
		if !errors.As(err, &ipv) && !errors.As(err, &mpv) {
			t.Errorf("%s: err = %v, want a parameter error", doc, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %q", doc, err, want)
		}
	}
}

func TestCreateBackupSelection(t *testing.T) {
	sel := &backup.BackupSelection{SelectionID: "sel-1", BackupPlanID: "plan-1", CreationDate: t0}
	e := newTestEnv(t, &fakeService{selection: sel}, nil)
	out, err := e.client.CreateBackupSelection(context.Background(), &backupsdk.CreateBackupSelectionInput{
		BackupPlanId: aws.String("plan-1"),
		BackupSelection: &types.BackupSelection{
			SelectionName: aws.String("tagged"), IamRoleArn: aws.String(roleARN),
			Resources:    []string{"arn:aws:dynamodb:*:*:table/*"},
			NotResources: []string{tableARN},
			ListOfTags: []types.Condition{{ConditionType: types.ConditionTypeStringequals,
				ConditionKey: aws.String("backup"), ConditionValue: aws.String("daily")}},
			Conditions: &types.Conditions{
				StringEquals:    []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/env"), ConditionValue: aws.String("prod")}},
				StringNotEquals: []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/tier"), ConditionValue: aws.String("scratch")}},
				StringLike:      []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/team"), ConditionValue: aws.String("data*")}},
				StringNotLike:   []types.ConditionParameter{{ConditionKey: aws.String("aws:ResourceTag/name"), ConditionValue: aws.String("tmp-*")}},
			},
		},
		CreatorRequestId: aws.String("req-s"),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "CreateBackupSelection", backup.CreateBackupSelectionInput{
		BackupPlanID: "plan-1", CreatorRequestID: "req-s", Selection: testSelectionDocument()})
	eq(t, "SelectionId", out.SelectionId, "sel-1")
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eqTime(t, "CreationDate", out.CreationDate, t0)
}

func testSelectionDocument() backup.SelectionDocument {
	return backup.SelectionDocument{
		SelectionName: "tagged", IAMRoleARN: roleARN,
		Resources:    []string{"arn:aws:dynamodb:*:*:table/*"},
		NotResources: []string{tableARN},
		ListOfTags:   []backup.TagCondition{{ConditionType: "STRINGEQUALS", ConditionKey: "backup", ConditionValue: "daily"}},
		Conditions: backup.Conditions{
			StringEquals:    []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "prod"}},
			StringNotEquals: []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/tier", ConditionValue: "scratch"}},
			StringLike:      []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/team", ConditionValue: "data*"}},
			StringNotLike:   []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/name", ConditionValue: "tmp-*"}},
		},
	}
}

func TestGetBackupSelection(t *testing.T) {
	sel := &backup.BackupSelection{SelectionDocument: testSelectionDocument(), SelectionID: "sel-1", BackupPlanID: "plan-1",
		CreationDate: t0, CreatorRequestID: "req-s"}
	e := newTestEnv(t, &fakeService{selection: sel}, nil)
	out, err := e.client.GetBackupSelection(context.Background(), &backupsdk.GetBackupSelectionInput{
		BackupPlanId: aws.String("plan-1"), SelectionId: aws.String("sel-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetBackupSelection", selectionCall{"plan-1", "sel-1"})
	eq(t, "SelectionId", out.SelectionId, "sel-1")
	eq(t, "BackupPlanId", out.BackupPlanId, "plan-1")
	eq(t, "CreatorRequestId", out.CreatorRequestId, "req-s")
	eqTime(t, "CreationDate", out.CreationDate, t0)
	s := out.BackupSelection
	eq(t, "SelectionName", s.SelectionName, "tagged")
	eq(t, "IamRoleArn", s.IamRoleArn, roleARN)
	if !reflect.DeepEqual(s.Resources, []string{"arn:aws:dynamodb:*:*:table/*"}) || !reflect.DeepEqual(s.NotResources, []string{tableARN}) {
		t.Errorf("Resources, NotResources = %v, %v", s.Resources, s.NotResources)
	}
	if len(s.ListOfTags) != 1 || s.ListOfTags[0].ConditionType != types.ConditionTypeStringequals ||
		aws.ToString(s.ListOfTags[0].ConditionKey) != "backup" || aws.ToString(s.ListOfTags[0].ConditionValue) != "daily" {
		t.Errorf("ListOfTags = %+v", s.ListOfTags)
	}
	c := s.Conditions
	if c == nil || len(c.StringEquals) != 1 || aws.ToString(c.StringEquals[0].ConditionValue) != "prod" ||
		aws.ToString(c.StringNotEquals[0].ConditionKey) != "aws:ResourceTag/tier" ||
		aws.ToString(c.StringLike[0].ConditionValue) != "data*" || aws.ToString(c.StringNotLike[0].ConditionValue) != "tmp-*" {
		t.Errorf("Conditions = %+v", c)
	}
}

func TestListBackupSelections(t *testing.T) {
	sels := []*backup.BackupSelection{
		{SelectionDocument: backup.SelectionDocument{SelectionName: "a", IAMRoleARN: roleARN}, SelectionID: "s1", BackupPlanID: "plan-1", CreationDate: t0, CreatorRequestID: "r1"},
		{SelectionDocument: backup.SelectionDocument{SelectionName: "b", IAMRoleARN: roleARN}, SelectionID: "s2", BackupPlanID: "plan-1", CreationDate: t0},
	}
	e := newTestEnv(t, &fakeService{selections: sels}, nil)
	out, err := e.client.ListBackupSelections(context.Background(), &backupsdk.ListBackupSelectionsInput{
		BackupPlanId: aws.String("plan-1"), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListBackupSelections", idPageCall{"plan-1", backup.Page{MaxResults: 1}})
	if len(out.BackupSelectionsList) != 1 || aws.ToString(out.NextToken) != "1" {
		t.Fatalf("out = %+v", out)
	}
	s := out.BackupSelectionsList[0]
	eq(t, "SelectionId", s.SelectionId, "s1")
	eq(t, "SelectionName", s.SelectionName, "a")
	eq(t, "BackupPlanId", s.BackupPlanId, "plan-1")
	eq(t, "IamRoleArn", s.IamRoleArn, roleARN)
	eq(t, "CreatorRequestId", s.CreatorRequestId, "r1")
	eqTime(t, "CreationDate", s.CreationDate, t0)
}

func TestDeleteBackupSelection(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	if _, err := e.client.DeleteBackupSelection(context.Background(), &backupsdk.DeleteBackupSelectionInput{
		BackupPlanId: aws.String("plan-1"), SelectionId: aws.String("sel-1")}); err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "DeleteBackupSelection", selectionCall{"plan-1", "sel-1"})
}

func testCopyJob(id string) *backup.CopyJob {
	return &backup.CopyJob{
		ID: id, AccountID: testAccount, Region: testRegion, SourceBackupVaultARN: vaultARN, SourceRecoveryPointARN: pointARN,
		DestinationBackupVaultARN: offsiteARN, DestinationRecoveryPointARN: backup.RecoveryPointARN(testRegion, testAccount, "rp-copy"),
		ResourceARN: tableARN, ResourceType: "DynamoDB", ResourceName: "orders.v2", IAMRoleARN: roleARN,
		State: backup.CopyCompleted, StatusMessage: "copied and verified", BackupSizeInBytes: 4096,
		CreationDate: t0, CompletionDate: t0.Add(time.Minute), Lifecycle: backup.Lifecycle{DeleteAfterDays: 90},
		CreatedBy: fullCreateBy,
	}
}

// checkCreatedBy compares an SDK RecoveryPointCreator with fullCreateBy.
func checkCreatedBy(t *testing.T, c *types.RecoveryPointCreator) {
	t.Helper()
	if c == nil {
		t.Fatal("CreatedBy is missing")
	}
	eq(t, "BackupPlanId", c.BackupPlanId, "plan-1")
	eq(t, "BackupPlanArn", c.BackupPlanArn, planARN)
	eq(t, "BackupPlanName", c.BackupPlanName, "blog-plan")
	eq(t, "BackupPlanVersion", c.BackupPlanVersion, "djE=")
	eq(t, "BackupRuleId", c.BackupRuleId, "rule-1")
	eq(t, "BackupRuleName", c.BackupRuleName, "daily")
	eq(t, "BackupRuleCron", c.BackupRuleCron, "cron(0 5 ? * * *)")
	eq(t, "BackupRuleTimezone", c.BackupRuleTimezone, "Europe/Paris")
}

func checkCopyJob(t *testing.T, j *types.CopyJob) {
	t.Helper()
	want := testCopyJob("copy-1")
	eq(t, "AccountId", j.AccountId, testAccount)
	eq(t, "CopyJobId", j.CopyJobId, "copy-1")
	eq(t, "SourceBackupVaultArn", j.SourceBackupVaultArn, vaultARN)
	eq(t, "SourceRecoveryPointArn", j.SourceRecoveryPointArn, pointARN)
	eq(t, "DestinationBackupVaultArn", j.DestinationBackupVaultArn, offsiteARN)
	eq(t, "DestinationRecoveryPointArn", j.DestinationRecoveryPointArn, want.DestinationRecoveryPointARN)
	eq(t, "DestinationVaultType", j.DestinationVaultType, "BACKUP_VAULT")
	eq(t, "ResourceArn", j.ResourceArn, tableARN)
	eq(t, "ResourceType", j.ResourceType, "DynamoDB")
	eq(t, "ResourceName", j.ResourceName, "orders.v2")
	eq(t, "IamRoleArn", j.IamRoleArn, roleARN)
	eq(t, "StatusMessage", j.StatusMessage, "copied and verified")
	eq(t, "BackupSizeInBytes", j.BackupSizeInBytes, 4096)
	eqTime(t, "CreationDate", j.CreationDate, t0)
	eqTime(t, "CompletionDate", j.CompletionDate, t0.Add(time.Minute))
	if j.State != types.CopyJobStateCompleted {
		t.Errorf("State = %q", j.State)
	}
	if l := j.DestinationRecoveryPointLifecycle; l == nil || aws.ToInt64(l.DeleteAfterDays) != 90 {
		t.Errorf("DestinationRecoveryPointLifecycle = %+v", l)
	}
	checkCreatedBy(t, j.CreatedBy)
}

func TestStartCopyJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{copyJob: testCopyJob("copy-1")}, nil)
	out, err := e.client.StartCopyJob(context.Background(), &backupsdk.StartCopyJobInput{
		RecoveryPointArn: aws.String(pointARN), SourceBackupVaultName: aws.String("main-vault"),
		DestinationBackupVaultArn: aws.String(offsiteARN), IamRoleArn: aws.String(roleARN),
		IdempotencyToken: aws.String("tok-c"),
		Lifecycle:        &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(10), DeleteAfterDays: aws.Int64(100)},
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "StartCopyJob", backup.StartCopyJobInput{
		RecoveryPointARN: pointARN, SourceBackupVaultName: "main-vault", DestinationBackupVaultARN: offsiteARN,
		IAMRoleARN: roleARN, IdempotencyToken: "tok-c", Lifecycle: backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 100},
	})
	eq(t, "CopyJobId", out.CopyJobId, "copy-1")
	eqTime(t, "CreationDate", out.CreationDate, t0)
	if out.IsParent {
		t.Error("IsParent = true")
	}
}

func TestDescribeCopyJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{copyJob: testCopyJob("copy-1")}, nil)
	out, err := e.client.DescribeCopyJob(context.Background(), &backupsdk.DescribeCopyJobInput{CopyJobId: aws.String("copy-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetCopyJob", "copy-1")
	checkCopyJob(t, out.CopyJob)
}

func TestListCopyJobsFilters(t *testing.T) {
	e := newTestEnv(t, &fakeService{copyJobs: []*backup.CopyJob{testCopyJob("copy-1"), testCopyJob("copy-2")}}, nil)
	after, before := t0.Add(-time.Hour), t0.Add(time.Hour)
	out, err := e.client.ListCopyJobs(context.Background(), &backupsdk.ListCopyJobsInput{
		ByAccountId:           aws.String(testAccount),
		ByCreatedAfter:        aws.Time(after),
		ByCreatedBefore:       aws.Time(before),
		ByCompleteAfter:       aws.Time(after.Add(time.Second)),
		ByCompleteBefore:      aws.Time(before.Add(time.Second)),
		ByDestinationVaultArn: aws.String(offsiteARN),
		ByResourceArn:         aws.String(tableARN),
		ByResourceType:        aws.String("DynamoDB"),
		ByState:               types.CopyJobStateCompleted,
		MaxResults:            aws.Int32(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListCopyJobs", backup.CopyJobFilter{
		Page: backup.Page{MaxResults: 1}, AccountID: testAccount, ResourceARN: tableARN, ResourceType: "DynamoDB",
		States: []backup.CopyJobState{backup.CopyCompleted}, DestinationBackupVaultARN: offsiteARN,
		CreatedAfter: after, CreatedBefore: before, CompleteAfter: after.Add(time.Second), CompleteBefore: before.Add(time.Second),
	})
	if len(out.CopyJobs) != 1 || aws.ToString(out.NextToken) != "1" {
		t.Fatalf("out = %+v", out)
	}
	checkCopyJob(t, &out.CopyJobs[0])
}

func TestListCopyJobsUnsupportedFilters(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	// cairn's copy jobs have no children: a parent filter lists nothing.
	out, err := e.client.ListCopyJobs(context.Background(), &backupsdk.ListCopyJobsInput{ByParentJobId: aws.String("p")})
	if err != nil || len(out.CopyJobs) != 0 {
		t.Fatalf("parent: %+v, %v", out, err)
	}
	for name, in := range map[string]*backupsdk.ListCopyJobsInput{
		"sourceRecoveryPointArn": {BySourceRecoveryPointArn: aws.String(pointARN)},
		"messageCategory":        {ByMessageCategory: aws.String("SUCCESS")},
	} {
		_, err := e.client.ListCopyJobs(context.Background(), in)
		var ipv *types.InvalidParameterValueException
		if !errors.As(err, &ipv) || !strings.Contains(aws.ToString(ipv.Message), name+" is not supported") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

func TestUpdateRecoveryPointLifecycle(t *testing.T) {
	p := testPoint()
	p.Lifecycle = backup.Lifecycle{MoveToColdStorageAfterDays: 7, DeleteAfterDays: 100}
	e := newTestEnv(t, &fakeService{point: p}, nil)
	out, err := e.client.UpdateRecoveryPointLifecycle(context.Background(), &backupsdk.UpdateRecoveryPointLifecycleInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN),
		Lifecycle: &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(7), DeleteAfterDays: aws.Int64(100)},
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "UpdateRecoveryPointLifecycle", lifecycleCall{"main-vault", pointARN,
		backup.Lifecycle{MoveToColdStorageAfterDays: 7, DeleteAfterDays: 100}})
	eq(t, "BackupVaultArn", out.BackupVaultArn, vaultARN)
	eq(t, "RecoveryPointArn", out.RecoveryPointArn, pointARN)
	if l := out.Lifecycle; l == nil || aws.ToInt64(l.MoveToColdStorageAfterDays) != 7 || aws.ToInt64(l.DeleteAfterDays) != 100 {
		t.Errorf("Lifecycle = %+v", l)
	}
	eqTime(t, "MoveToColdStorageAt", out.CalculatedLifecycle.MoveToColdStorageAt, t0.AddDate(0, 0, 7))
	eqTime(t, "DeleteAt", out.CalculatedLifecycle.DeleteAt, t0.AddDate(0, 0, 100))

	// A point in cold storage keeps its move date: the service says so.
	e.fake.errs = map[string]error{"UpdateRecoveryPointLifecycle": backup.Errorf(backup.ErrInvalidParameter,
		"the recovery point is in cold storage; MoveToColdStorageAfterDays cannot change")}
	_, err = e.client.UpdateRecoveryPointLifecycle(context.Background(), &backupsdk.UpdateRecoveryPointLifecycleInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN),
		Lifecycle: &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(1)}})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) || !strings.Contains(aws.ToString(ipv.Message), "cold storage") {
		t.Errorf("err = %v", err)
	}
}

func TestCreatedByAndCopiesEverywhere(t *testing.T) {
	j := testJob("job-1")
	j.CreatedBy = fullCreateBy
	p := testPoint()
	p.CreatedBy, p.SourceBackupVaultARN, p.StorageClass = fullCreateBy, offsiteARN, backup.StorageCold
	p.Lifecycle = backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91}
	e := newTestEnv(t, &fakeService{job: j, jobs: []*backup.BackupJob{j}, point: p, points: []*backup.RecoveryPoint{p}}, nil)
	ctx := context.Background()

	dj, err := e.client.DescribeBackupJob(ctx, &backupsdk.DescribeBackupJobInput{BackupJobId: aws.String("job-1")})
	if err != nil {
		t.Fatal(err)
	}
	checkCreatedBy(t, dj.CreatedBy)
	lj, err := e.client.ListBackupJobs(ctx, &backupsdk.ListBackupJobsInput{})
	if err != nil {
		t.Fatal(err)
	}
	checkCreatedBy(t, lj.BackupJobs[0].CreatedBy)

	dp, err := e.client.DescribeRecoveryPoint(ctx, &backupsdk.DescribeRecoveryPointInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN)})
	if err != nil {
		t.Fatal(err)
	}
	checkCreatedBy(t, dp.CreatedBy)
	eq(t, "SourceBackupVaultArn", dp.SourceBackupVaultArn, offsiteARN)
	if dp.StorageClass != types.StorageClassCold {
		t.Errorf("StorageClass = %q", dp.StorageClass)
	}
	eqTime(t, "MoveToColdStorageAt", dp.CalculatedLifecycle.MoveToColdStorageAt, t0.AddDate(0, 0, 1))
	eqTime(t, "DeleteAt", dp.CalculatedLifecycle.DeleteAt, t0.AddDate(0, 0, 91))

	lp, err := e.client.ListRecoveryPointsByBackupVault(ctx, &backupsdk.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String("main-vault")})
	if err != nil {
		t.Fatal(err)
	}
	checkCreatedBy(t, lp.RecoveryPoints[0].CreatedBy)
	eq(t, "SourceBackupVaultArn", lp.RecoveryPoints[0].SourceBackupVaultArn, offsiteARN)
	eqTime(t, "MoveToColdStorageAt", lp.RecoveryPoints[0].CalculatedLifecycle.MoveToColdStorageAt, t0.AddDate(0, 0, 1))
}
