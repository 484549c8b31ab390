package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

const blogTemplatePath = "testdata/blog-dynamodb-backup.yaml"

// changeActions parses the change table of cairn apply into RESOURCE ->
// ACTION.
func changeActions(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, row := range tableRows(t, out, "RESOURCE TYPE ACTION PHYSICAL ID MESSAGE") {
		if len(row) >= 3 && row[0] != "applied" && row[0] != "deleted" {
			got[row[0]] = row[2]
		}
	}
	return got
}

func wantActions(t *testing.T, what, out string, want map[string]string) {
	t.Helper()
	got := changeActions(t, out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s is %q, want %q\n%s", what, k, got[k], v, out)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: changes %v, want %v", what, got, want)
	}
}

// planByName returns the live plan of that name, or nil.
func planByName(t *testing.T, c *bk.Client, name string) *bktypes.BackupPlansListMember {
	t.Helper()
	out, err := c.ListBackupPlans(context.Background(), &bk.ListBackupPlansInput{})
	if err != nil {
		t.Fatalf("list backup plans: %v", err)
	}
	for i, p := range out.BackupPlansList {
		if aws.ToString(p.BackupPlanName) == name {
			return &out.BackupPlansList[i]
		}
	}
	return nil
}

// TestApplyBlogTemplate walks the AWS blog's CloudFormation story with
// cairn's CLI against a real server: apply the template with parameters,
// see the vault, plan and selection through the SDK, re-apply (nothing
// changes), change a parameter (a new plan version), explain a tagged
// table, refuse a delete while the vault holds a recovery point, then
// delete everything.
func TestApplyBlogTemplate(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	c := backupClient(m)
	ctx := context.Background()

	out, _ := cairnOK(t, "apply", "-f", blogTemplatePath, "--stack-name", "blog",
		"--parameter", "TagValue=daily", "--parameter", "LifecycleDeleteAfterDays=365")
	wantActions(t, "first apply", out, map[string]string{"BackupVault": "CREATE", "BackupPlan": "CREATE",
		"BackupRole": "SKIP", "TagBasedBackupSelection": "CREATE"})
	if !strings.Contains(out, "applied stack blog: 3 created, 1 not applicable") {
		t.Errorf("apply summary:\n%s", out)
	}

	// What the template made, seen through the AWS SDK.
	v, err := c.DescribeBackupVault(ctx, &bk.DescribeBackupVaultInput{BackupVaultName: aws.String("BackupVault_blog")})
	if err != nil {
		t.Fatalf("describe vault: %v", err)
	}
	if aws.ToString(v.BackupVaultArn) != "arn:aws:backup:us-east-1:000000000000:backup-vault:BackupVault_blog" {
		t.Errorf("vault ARN %s", aws.ToString(v.BackupVaultArn))
	}
	listed := planByName(t, c, "BackupPlan_blog")
	if listed == nil {
		t.Fatal("no plan BackupPlan_blog")
	}
	planID := aws.ToString(listed.BackupPlanId)
	plan, err := c.GetBackupPlan(ctx, &bk.GetBackupPlanInput{BackupPlanId: aws.String(planID)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.BackupPlan.Rules); n != 1 {
		t.Fatalf("plan has %d rules", n)
	}
	r := plan.BackupPlan.Rules[0]
	got := fmt.Sprintf("%s %s %s %d %d %d %d", aws.ToString(r.RuleName), aws.ToString(r.TargetBackupVaultName), aws.ToString(r.ScheduleExpression),
		aws.ToInt64(r.StartWindowMinutes), aws.ToInt64(r.CompletionWindowMinutes),
		aws.ToInt64(r.Lifecycle.MoveToColdStorageAfterDays), aws.ToInt64(r.Lifecycle.DeleteAfterDays))
	if want := "RuleForDailyBackups BackupVault_blog cron(0 5 ? * * *) 60 120 30 365"; got != want {
		t.Errorf("rule = %s, want %s", got, want)
	}
	sels, err := c.ListBackupSelections(ctx, &bk.ListBackupSelectionsInput{BackupPlanId: aws.String(planID)})
	if err != nil || len(sels.BackupSelectionsList) != 1 {
		t.Fatalf("selections %+v, %v", sels, err)
	}
	sel, err := c.GetBackupSelection(ctx, &bk.GetBackupSelectionInput{BackupPlanId: aws.String(planID),
		SelectionId: sels.BackupSelectionsList[0].SelectionId})
	if err != nil {
		t.Fatal(err)
	}
	bs := sel.BackupSelection
	if aws.ToString(bs.SelectionName) != "TagBasedBackupSelection" || len(bs.ListOfTags) != 1 ||
		bs.ListOfTags[0].ConditionType != bktypes.ConditionTypeStringequals ||
		aws.ToString(bs.ListOfTags[0].ConditionKey) != "backup" || aws.ToString(bs.ListOfTags[0].ConditionValue) != "daily" {
		t.Errorf("selection %+v", bs)
	}
	if !strings.HasPrefix(aws.ToString(bs.IamRoleArn), "arn:aws:iam::000000000000:role/blog-BackupRole-") {
		t.Errorf("IamRoleArn %s", aws.ToString(bs.IamRoleArn))
	}

	// Re-applying the same template and parameters changes nothing.
	out, _ = cairnOK(t, "apply", "-f", blogTemplatePath, "--stack-name", "blog",
		"--parameter", "TagValue=daily", "--parameter", "LifecycleDeleteAfterDays=365")
	wantActions(t, "re-apply", out, map[string]string{"BackupVault": "NONE", "BackupPlan": "NONE",
		"BackupRole": "SKIP", "TagBasedBackupSelection": "NONE"})
	if again := planByName(t, c, "BackupPlan_blog"); aws.ToString(again.VersionId) != aws.ToString(plan.VersionId) {
		t.Errorf("re-apply made plan version %s (was %s)", aws.ToString(again.VersionId), aws.ToString(plan.VersionId))
	}

	// A changed parameter updates the plan in place: same id, new version.
	out, _ = cairnOK(t, "apply", "-f", blogTemplatePath, "--stack-name", "blog",
		"--parameter", "TagValue=daily", "--parameter", "LifecycleDeleteAfterDays=400")
	wantActions(t, "parameter change", out, map[string]string{"BackupVault": "NONE", "BackupPlan": "UPDATE",
		"BackupRole": "SKIP", "TagBasedBackupSelection": "NONE"})
	plan2, err := c.GetBackupPlan(ctx, &bk.GetBackupPlanInput{BackupPlanId: aws.String(planID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(plan2.VersionId) == aws.ToString(plan.VersionId) {
		t.Errorf("updated plan kept version %s", aws.ToString(plan.VersionId))
	}
	if d := aws.ToInt64(plan2.BackupPlan.Rules[0].Lifecycle.DeleteAfterDays); d != 400 {
		t.Errorf("DeleteAfterDays %d after update", d)
	}

	out, _ = cairnOK(t, "apply", "--show", "--stack-name", "blog")
	if kvValue(t, out, "Stack") != "blog" || !strings.Contains(out, "LifecycleDeleteAfterDays=400") ||
		!strings.Contains(out, "NOT_APPLICABLE") || strings.Count(out, "APPLIED") != 3 {
		t.Errorf("apply --show:\n%s", out)
	}

	// The plan commands.
	out, _ = cairnOK(t, "plan", "list")
	if rows := tableRows(t, out, "NAME PLAN ID CREATED LAST RUN"); len(rows) != 1 || rows[0][0] != "BackupPlan_blog" || rows[0][1] != planID {
		t.Errorf("plan list:\n%s", out)
	}
	out, _ = cairnOK(t, "plan", "show", planID, "--runs", "3")
	if kvValue(t, out, "Plan") != "BackupPlan_blog" || kvValue(t, out, "Version") != aws.ToString(plan2.VersionId) ||
		!strings.Contains(out, "cron(0 5 ? * * *)") || !strings.Contains(out, "TagBasedBackupSelection") {
		t.Errorf("plan show:\n%s", out)
	}
	if next := out[strings.Index(out, "Next runs:"):]; strings.Count(next, "RuleForDailyBackups") != 3 {
		t.Errorf("plan show --runs 3 does not list 3 runs:\n%s", out)
	}

	// explain: a table tagged backup=daily is covered by the selection.
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	putItems(t, db, "orders", []map[string]ddbtypes.AttributeValue{{ddbjson.CorpusKey: &ddbtypes.AttributeValueMemberS{Value: "a"}}})
	tableARN := "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
	out, _ = cairnOK(t, "explain", "orders")
	if v := kvValue(t, out, "Backed up"); !strings.HasPrefix(v, "no") {
		t.Errorf("explain of an untagged table: %s\n%s", v, out)
	}
	if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(tableARN),
		Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String("daily")}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = cairnOK(t, "explain", tableARN)
	if v := kvValue(t, out, "Backed up"); v != "yes, by 1 of 1 selections" || !strings.Contains(out, "RuleForDailyBackups") ||
		!strings.Contains(out, "backup=daily") {
		t.Errorf("explain of a tagged table:\n%s", out)
	}

	// A vault holding a recovery point is not deleted: it stays in the
	// stack, the rest goes.
	job, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("BackupVault_blog"),
		ResourceArn: aws.String(tableARN), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	done := waitBackupJob(t, c, aws.ToString(job.BackupJobId))
	if done.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup job %s: %s", done.State, aws.ToString(done.StatusMessage))
	}
	cairnFails(t, 1, []string{"could not delete BackupVault", "BackupVault_blog", "cairn apply --show --stack-name blog"},
		"apply", "--delete", "--stack-name", "blog")
	if planByName(t, c, "BackupPlan_blog") != nil {
		t.Error("the plan survived the delete")
	}
	out, _ = cairnOK(t, "apply", "--show", "--stack-name", "blog")
	if rows := tableRows(t, out[strings.Index(out, "RESOURCE"):], "RESOURCE TYPE STATUS"); len(rows) != 1 || rows[0][0] != "BackupVault" {
		t.Errorf("stack after a refused delete:\n%s", out)
	}
	if _, err := c.DeleteRecoveryPoint(ctx, &bk.DeleteRecoveryPointInput{BackupVaultName: aws.String("BackupVault_blog"),
		RecoveryPointArn: done.RecoveryPointArn}); err != nil {
		t.Fatal(err)
	}

	out, _ = cairnOK(t, "apply", "--delete", "--stack-name", "blog")
	if !strings.Contains(out, "deleted stack blog") {
		t.Errorf("delete:\n%s", out)
	}
	if _, err := c.DescribeBackupVault(ctx, &bk.DescribeBackupVaultInput{BackupVaultName: aws.String("BackupVault_blog")}); err == nil {
		t.Error("the vault survived the delete")
	}
	cairnFails(t, 1, []string{"ResourceNotFoundException", "blog"}, "apply", "--show", "--stack-name", "blog")
	out, _ = cairnOK(t, "plan", "list")
	if strings.TrimSpace(out) != "(none)" {
		t.Errorf("plans after delete:\n%s", out)
	}
}

// TestApplyErrors: usage errors exit 2 before reaching the server; bad
// templates and parameters are refused by the server with a message naming
// what to change, and create nothing.
func TestApplyErrors(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)

	cairnFails(t, 2, []string{"plan show needs a plan id"}, "plan", "show", "")
	cairnFails(t, 2, []string{"--stack-name NAME is required"}, "apply", "-f", blogTemplatePath)
	cairnFails(t, 2, []string{"exactly one of -f TEMPLATE, --delete or --show"}, "apply", "--stack-name", "s")
	cairnFails(t, 2, []string{"exactly one of"}, "apply", "-f", blogTemplatePath, "--delete", "--stack-name", "s")
	cairnFails(t, 2, []string{`"TagKey" is not KEY=VALUE`}, "apply", "-f", blogTemplatePath, "--stack-name", "s", "--parameter", "TagKey")
	cairnFails(t, 2, []string{"parameter TagKey is given twice"}, "apply", "-f", blogTemplatePath, "--stack-name", "s",
		"--parameter", "TagKey=a", "--parameter", "TagKey=b")
	cairnFails(t, 2, []string{"--parameter goes with -f"}, "apply", "--delete", "--stack-name", "s", "--parameter", "a=b")
	cairnFails(t, 2, []string{"usage: cairn apply"}, "apply", "extra", "--stack-name", "s", "--show")
	cairnFails(t, 2, []string{"needs a subcommand"}, "plan")
	cairnFails(t, 2, []string{"cairn plan frobnicate"}, "plan", "frobnicate")
	cairnFails(t, 2, []string{"usage: cairn plan show"}, "plan", "show")
	cairnFails(t, 2, []string{"--runs must be between 0 and 10"}, "plan", "show", "x", "--runs", "11")
	cairnFails(t, 2, []string{"usage: cairn explain"}, "explain")
	cairnFails(t, 1, []string{"read template", "nope.yaml"}, "apply", "-f", "nope.yaml", "--stack-name", "s")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	blog, err := os.ReadFile(blogTemplatePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(string(blog), "StartWindowMinutes: 60", "StartWindowMinutes: soon", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cairnFails(t, 1, []string{"InvalidParameterValueException", "resource BackupPlan", "StartWindowMinutes", `"soon" is not a number`},
		"apply", "-f", bad, "--stack-name", "s")
	cairnFails(t, 1, []string{"InvalidParameterValueException", "parameter TagKy", "no such parameter"},
		"apply", "-f", blogTemplatePath, "--stack-name", "s", "--parameter", "TagKy=x")
	cairnFails(t, 1, []string{"InvalidParameterValueException", "StackName", "bad_name"}, "apply", "-f", blogTemplatePath, "--stack-name", "bad_name")
	cairnFails(t, 1, []string{"ResourceNotFoundException"}, "apply", "--delete", "--stack-name", "never")
	cairnFails(t, 1, []string{"ResourceNotFoundException"}, "plan", "show", "nosuchplan")

	// Nothing above created a vault beyond Default, or a plan.
	out, _ := cairnOK(t, "vault", "list")
	if rows := tableRows(t, out, "NAME RECOVERY POINTS CREATED"); len(rows) != 1 || rows[0][0] != "Default" {
		t.Errorf("vaults after failed applies:\n%s", out)
	}
	if out, _ := cairnOK(t, "plan", "list"); strings.TrimSpace(out) != "(none)" {
		t.Errorf("plans after failed applies:\n%s", out)
	}

	t.Run("server down", func(t *testing.T) {
		t.Setenv("CAIRN_ENDPOINT", fmt.Sprintf("http://127.0.0.1:%d", testbed.FreePort(t)))
		cairnFails(t, 1, []string{"cannot reach the cairn server", "CAIRN_ENDPOINT"}, "apply", "--show", "--stack-name", "s")
		cairnFails(t, 1, []string{"cannot reach the cairn server"}, "explain", "orders")
	})
	t.Run("wrong credentials", func(t *testing.T) {
		t.Setenv("CAIRN_ACCESS_KEY_ID", m.Keys.AccessKeyID)
		t.Setenv("CAIRN_SECRET_ACCESS_KEY", "wrong")
		cairnFails(t, 1, []string{"InvalidSignatureException", "check CAIRN_ACCESS_KEY_ID"}, "apply", "--show", "--stack-name", "s")
	})
}
