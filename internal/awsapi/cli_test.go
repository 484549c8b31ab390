package awsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// awsCLI runs the real AWS CLI against endpoint and returns its stdout,
// stderr and exit code.
func awsCLI(t *testing.T, endpoint string, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	bin := testbed.AWSCLI(t)
	args = append([]string{"backup"}, args...)
	args = append(args, "--endpoint-url", endpoint, "--output", "json")
	cmd := exec.Command(bin, args...)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return out.Bytes(), errb.Bytes(), code
}

// cliJSON runs the CLI, requires success and decodes its output.
func cliJSON(t *testing.T, endpoint string, args ...string) map[string]any {
	t.Helper()
	out, errb, code := awsCLI(t, endpoint, args...)
	if code != 0 {
		t.Fatalf("aws backup %s: exit %d: %s", args[0], code, errb)
	}
	m := map[string]any{}
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws backup %s: output %q: %v", args[0], out, err)
		}
	}
	return m
}

// lastCall returns the fake's latest call.
func lastCall(t *testing.T, f *fakeService) call {
	t.Helper()
	calls := f.Calls()
	if len(calls) == 0 {
		t.Fatal("the service was not called")
	}
	return calls[len(calls)-1]
}

// TestAWSCLI drives the server with the unmodified AWS CLI (botocore's
// signer, serializers and parsers).
func TestAWSCLI(t *testing.T) {
	testbed.AWSCLI(t)
	// Each command gets its own server so that they run in parallel.
	cliEnv := func(t *testing.T) (*fakeService, string) {
		t.Parallel()
		fake := &fakeService{
			vault: testVault("cli-vault"), job: testJob("job-1"), jobs: []*backup.BackupJob{testJob("job-1")},
			point: testPoint(), points: []*backup.RecoveryPoint{testPoint()}, restore: testRestore("restore-1"),
			plan: testPlan(), runs: []backup.ScheduledRun{{ExecutionTime: t0.Add(time.Hour), RuleID: "rule-1"}},
			selection: &backup.BackupSelection{SelectionID: "sel-1", BackupPlanID: "plan-1", CreationDate: t0},
			copyJobs:  []*backup.CopyJob{testCopyJob("copy-1")},
		}
		return fake, newTestEnv(t, fake, nil).srv.URL
	}

	t.Run("create-backup-vault", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "create-backup-vault", "--backup-vault-name", "cli-vault",
			"--backup-vault-tags", "team=data,cairn:storage=file", "--creator-request-id", "cli-req")
		in := lastCall(t, fake).In.(backup.CreateVaultInput)
		want := backup.CreateVaultInput{Name: "cli-vault", CreatorRequestID: "cli-req",
			Tags: map[string]string{"team": "data", "cairn:storage": "file"}}
		if !reflect.DeepEqual(in, want) {
			t.Errorf("service got %+v, want %+v", in, want)
		}
		if out["BackupVaultArn"] != testVault("cli-vault").ARN || out["CreationDate"] == nil {
			t.Errorf("output %v", out)
		}
	})

	t.Run("describe-backup-vault", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "describe-backup-vault", "--backup-vault-name", "cli-vault")
		if got := lastCall(t, fake); got.Op != "GetVault" || got.In != "cli-vault" {
			t.Errorf("service got %+v", got)
		}
		if out["BackupVaultName"] != "cli-vault" || out["NumberOfRecoveryPoints"] != 7.0 || out["VaultState"] != "AVAILABLE" {
			t.Errorf("output %v", out)
		}
		// awscli 1 prints timestamps as the service sent them: epoch seconds.
		if out["CreationDate"] != 1741064767.123 {
			t.Errorf("CreationDate %v, want %v", out["CreationDate"], 1741064767.123)
		}
	})

	t.Run("list-backup-jobs", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "list-backup-jobs", "--by-state", "COMPLETED",
			"--by-created-after", "2025-01-02T03:04:05Z", "--by-complete-before", "1741064767",
			"--by-resource-arn", tableARN)
		f := lastCall(t, fake).In.(backup.BackupJobFilter)
		want := backup.BackupJobFilter{
			ResourceARN: tableARN, States: []backup.JobState{backup.JobCompleted},
			CreatedAfter:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			CompleteBefore: time.Unix(1741064767, 0).UTC(),
		}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("filter %+v, want %+v", f, want)
		}
		jobs, _ := out["BackupJobs"].([]any)
		if len(jobs) != 1 || jobs[0].(map[string]any)["BackupJobId"] != "job-1" {
			t.Errorf("output %v", out)
		}
	})

	t.Run("describe-backup-job", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "describe-backup-job", "--backup-job-id", "job-1")
		if got := lastCall(t, fake); got.Op != "GetBackupJob" || got.In != "job-1" {
			t.Errorf("service got %+v", got)
		}
		if out["State"] != "RUNNING" || out["PercentDone"] != "42.5" || out["BytesTransferred"] != float64(1<<20) ||
			out["ResourceArn"] != tableARN || out["ResourceName"] != "orders.v2" {
			t.Errorf("output %v", out)
		}
		if lc, _ := out["RecoveryPointLifecycle"].(map[string]any); lc["DeleteAfterDays"] != 100.0 {
			t.Errorf("RecoveryPointLifecycle %v", out["RecoveryPointLifecycle"])
		}
	})

	t.Run("list-recovery-points-by-resource", func(t *testing.T) {
		fake, ep := cliEnv(t)
		// The ARN travels in the path: this checks botocore's path encoding
		// and its signature over it.
		out := cliJSON(t, ep, "list-recovery-points-by-resource", "--resource-arn", tableARN)
		if f := lastCall(t, fake).In.(backup.RecoveryPointFilter); f.ResourceARN != tableARN {
			t.Errorf("filter %+v", f)
		}
		if pts, _ := out["RecoveryPoints"].([]any); len(pts) != 1 {
			t.Errorf("output %v", out)
		}
	})

	t.Run("describe-recovery-point", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "describe-recovery-point", "--backup-vault-name", "main-vault", "--recovery-point-arn", pointARN)
		if got := lastCall(t, fake); got.In != (pointCall{"main-vault", pointARN}) {
			t.Errorf("service got %+v", got)
		}
		if out["StorageClass"] != "WARM" || out["Status"] != "COMPLETED" {
			t.Errorf("output %v", out)
		}
	})

	t.Run("start-restore-job", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "start-restore-job", "--recovery-point-arn", pointARN,
			"--metadata", "TargetTableName=orders-restored,cairn:validate=true", "--iam-role-arn", roleARN)
		in := lastCall(t, fake).In.(backup.StartRestoreJobInput)
		if in.RecoveryPointARN != pointARN || in.IAMRoleARN != roleARN || in.IdempotencyToken == "" ||
			!reflect.DeepEqual(in.Metadata, map[string]string{"TargetTableName": "orders-restored", "cairn:validate": "true"}) {
			t.Errorf("service got %+v", in)
		}
		if out["RestoreJobId"] != "restore-1" {
			t.Errorf("output %v", out)
		}
	})

	t.Run("create-backup-plan", func(t *testing.T) {
		fake, ep := cliEnv(t)
		plan := blogPlanJSON[strings.Index(blogPlanJSON, ":")+1 : strings.LastIndex(blogPlanJSON, "}")]
		out := cliJSON(t, ep, "create-backup-plan", "--backup-plan", plan,
			"--backup-plan-tags", "team=data", "--creator-request-id", "req-p")
		want := backup.CreateBackupPlanInput{Plan: testPlanDocument(), Tags: map[string]string{"team": "data"}, CreatorRequestID: "req-p"}
		if in := lastCall(t, fake).In; !reflect.DeepEqual(in, want) {
			t.Errorf("service got %+v, want %+v", in, want)
		}
		if out["BackupPlanId"] != "plan-1" || out["BackupPlanArn"] != planARN || out["VersionId"] != "djE=" ||
			out["CreationDate"] != 1741064767.123 {
			t.Errorf("output %v", out)
		}
	})

	t.Run("get-backup-plan", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "get-backup-plan", "--backup-plan-id", "plan-1", "--version-id", "djE=",
			"--max-scheduled-runs-preview", "1")
		if got := lastCall(t, fake); got.In != (getPlanCall{"plan-1", "djE=", 1}) {
			t.Errorf("service got %+v", got)
		}
		plan, _ := out["BackupPlan"].(map[string]any)
		rules, _ := plan["Rules"].([]any)
		if len(rules) != 1 {
			t.Fatalf("output %v", out)
		}
		r := rules[0].(map[string]any)
		if r["RuleId"] != "rule-1" || r["ScheduleExpressionTimezone"] != "Europe/Paris" || r["StartWindowMinutes"] != 60.0 ||
			r["Lifecycle"].(map[string]any)["DeleteAfterDays"] != 365.0 {
			t.Errorf("rule %v", r)
		}
		runs, _ := out["ScheduledRunsPreview"].([]any)
		if len(runs) != 1 || runs[0].(map[string]any)["RuleExecutionType"] != "SNAPSHOTS" || out["DeletionDate"] == nil {
			t.Errorf("output %v", out)
		}
	})

	t.Run("get-backup-plan-from-json", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "get-backup-plan-from-json", "--backup-plan-template-json", blogPlanJSON)
		if calls := fake.Calls(); len(calls) != 0 {
			t.Errorf("the service was called: %+v", calls)
		}
		plan, _ := out["BackupPlan"].(map[string]any)
		if plan["BackupPlanName"] != "blog-plan" || len(plan["Rules"].([]any)) != 1 {
			t.Errorf("output %v", out)
		}
		_, errb, code := awsCLI(t, ep, "get-backup-plan-from-json", "--backup-plan-template-json", "{\"BackupPlanName\": }")
		if code == 0 || !strings.Contains(string(errb), "InvalidParameterValueException") || !strings.Contains(string(errb), "line 1, column") {
			t.Errorf("malformed: exit %d, stderr %s", code, errb)
		}
	})

	t.Run("create-backup-selection", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "create-backup-selection", "--backup-plan-id", "plan-1", "--creator-request-id", "req-s",
			"--backup-selection", `{"SelectionName":"tagged","IamRoleArn":"`+roleARN+`",`+
				`"Resources":["arn:aws:dynamodb:*:*:table/*"],"NotResources":["`+tableARN+`"],`+
				`"ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"backup","ConditionValue":"daily"}],`+
				`"Conditions":{"StringEquals":[{"ConditionKey":"aws:ResourceTag/env","ConditionValue":"prod"}],`+
				`"StringNotEquals":[{"ConditionKey":"aws:ResourceTag/tier","ConditionValue":"scratch"}],`+
				`"StringLike":[{"ConditionKey":"aws:ResourceTag/team","ConditionValue":"data*"}],`+
				`"StringNotLike":[{"ConditionKey":"aws:ResourceTag/name","ConditionValue":"tmp-*"}]}}`)
		want := backup.CreateBackupSelectionInput{BackupPlanID: "plan-1", CreatorRequestID: "req-s", Selection: testSelectionDocument()}
		if in := lastCall(t, fake).In; !reflect.DeepEqual(in, want) {
			t.Errorf("service got %+v, want %+v", in, want)
		}
		if out["SelectionId"] != "sel-1" || out["BackupPlanId"] != "plan-1" || out["CreationDate"] == nil {
			t.Errorf("output %v", out)
		}
	})

	t.Run("list-copy-jobs", func(t *testing.T) {
		fake, ep := cliEnv(t)
		out := cliJSON(t, ep, "list-copy-jobs", "--by-state", "COMPLETED", "--by-destination-vault-arn", offsiteARN,
			"--by-created-after", "2025-01-02T03:04:05Z", "--by-resource-type", "DynamoDB")
		f := lastCall(t, fake).In.(backup.CopyJobFilter)
		want := backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCompleted}, DestinationBackupVaultARN: offsiteARN,
			CreatedAfter: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), ResourceType: "DynamoDB"}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("filter %+v, want %+v", f, want)
		}
		jobs, _ := out["CopyJobs"].([]any)
		if len(jobs) != 1 {
			t.Fatalf("output %v", out)
		}
		j := jobs[0].(map[string]any)
		cb, _ := j["CreatedBy"].(map[string]any)
		if j["CopyJobId"] != "copy-1" || j["State"] != "COMPLETED" || j["SourceRecoveryPointArn"] != pointARN ||
			cb["BackupRuleName"] != "daily" || cb["BackupRuleTimezone"] != "Europe/Paris" {
			t.Errorf("copy job %v", j)
		}
	})

	t.Run("not found", func(t *testing.T) {
		fake, ep := cliEnv(t)
		fake.errs = map[string]error{"GetVault": backup.NotFound("BackupVault", "missing")}
		_, errb, code := awsCLI(t, ep, "describe-backup-vault", "--backup-vault-name", "missing")
		if code == 0 || !strings.Contains(string(errb), "ResourceNotFoundException") ||
			!strings.Contains(string(errb), "BackupVault missing not found") {
			t.Errorf("exit %d, stderr %s", code, errb)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		fake, ep := cliEnv(t)
		before := len(fake.Calls())
		cmd := exec.Command(testbed.AWSCLI(t), "backup", "list-backup-vaults", "--endpoint-url", ep, "--output", "json")
		cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY=nope")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "InvalidSignatureException") {
			t.Errorf("err %v, output %s", err, out)
		}
		if len(fake.Calls()) != before {
			t.Error("the service was called")
		}
	})
}
