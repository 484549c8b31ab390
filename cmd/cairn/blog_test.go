package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// awsDynamoDB runs `aws dynamodb ARGS` against dynalite and requires it to
// succeed.
func awsDynamoDB(t *testing.T, endpoint string, args ...string) {
	t.Helper()
	full := append([]string{"dynamodb"}, args...)
	full = append(full, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")
	cmd := exec.Command(testbed.AWSCLI(t), full...)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v: %s", strings.Join(full, " "), err, errb.String())
	}
}

// scheduledJobs lists, with the AWS CLI, the backup jobs of a resource.
func scheduledJobs(t *testing.T, a *awsCLI, resourceARN string) []map[string]any {
	t.Helper()
	return jsonList(t, a.ok("list-backup-jobs", "--by-resource-arn", resourceARN), "BackupJobs")
}

// waitScheduledJob polls list-backup-jobs until the resource has a job in
// a final state and returns it.
func waitScheduledJob(t *testing.T, a *awsCLI, resourceARN string) map[string]any {
	t.Helper()
	return waitJobs(t, a, resourceARN, 1)[0]
}

// waitJobs polls list-backup-jobs until the resource has n jobs, all in a
// final state, and returns them.
func waitJobs(t *testing.T, a *awsCLI, resourceARN string, n int) []map[string]any {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		jobs := scheduledJobs(t, a, resourceARN)
		if len(jobs) > n {
			t.Fatalf("%s has %d jobs, want %d: %v", resourceARN, len(jobs), n, jobs)
		}
		final := 0
		for _, j := range jobs {
			switch jsonStr(j, "State") {
			case "COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL":
				final++
			}
		}
		if final == n {
			return jobs
		}
	}
	t.Fatalf("%s never had %d finished jobs", resourceARN, n)
	return nil
}

// TestBlogStory walks the AWS blog's story with the real AWS CLI against a
// real cairn server and dynalite. Protection is defined twice: once by
// applying the blog's CloudFormation template (daily at 05:00 UTC, tag
// backup=daily), once with `aws backup` (hourly, tag backup=hourly). Tables
// are tagged with `aws dynamodb tag-resource`; when the server's clock
// reaches 05:00 the scheduler creates one job per tagged table, which
// `aws backup list-backup-jobs` shows COMPLETED with size and resource
// type; an untagged table gets none; the daily backup restores into a new
// table with the same items.
func TestBlogStory(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	testbed.AWSCLI(t)
	// The server's clock stands a minute before the blog's 05:00 UTC.
	clk := clock.NewFake(time.Date(2026, 3, 2, 4, 59, 0, 0, time.UTC))
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), SchedulerInterval: time.Second,
			Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: dyn.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock:  clk,
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	cliEnv(t, m)
	awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	db := ddbClient(dyn.Endpoint)

	arn := func(table string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table }
	for _, table := range []string{"order_transaction-1", "events", "scratch"} {
		createTable(t, db, table, ddbjson.TypeS, false)
		seedRandom(t, db, table, 300)
	}
	wantN, wantSum := tableChecksum(t, db, "order_transaction-1")

	// 1. The blog's template, applied unchanged with its parameters.
	out, _ := cairnOK(t, "apply", "-f", blogTemplatePath, "--stack-name", "blog",
		"--parameter", "TagKey=backup", "--parameter", "TagValue=daily",
		"--parameter", "LifecycleMoveToColdStorageAfterDays=7", "--parameter", "LifecycleDeleteAfterDays=97")
	wantActions(t, "apply", out, map[string]string{"BackupVault": "CREATE", "BackupPlan": "CREATE",
		"BackupRole": "SKIP", "TagBasedBackupSelection": "CREATE"})
	var dailyPlanID string
	for _, p := range jsonList(t, awscli.ok("list-backup-plans"), "BackupPlansList") {
		if jsonStr(p, "BackupPlanName") == "BackupPlan_blog" {
			dailyPlanID = jsonStr(p, "BackupPlanId")
		}
	}
	if dailyPlanID == "" {
		t.Fatal("list-backup-plans does not show BackupPlan_blog")
	}
	// Debian's aws-cli 2.9.19 predates MaxScheduledRunsPreview: with it,
	// the preview is checked through the SDK instead.
	var plan map[string]any
	if _, errb, code := awscli.run("get-backup-plan", "--backup-plan-id", dailyPlanID, "--max-scheduled-runs-preview", "2"); code != 0 &&
		strings.Contains(errb, "Unknown options: --max-scheduled-runs-preview") {
		plan = awscli.ok("get-backup-plan", "--backup-plan-id", dailyPlanID)
		out, err := backupClient(m).GetBackupPlan(context.Background(), &bk.GetBackupPlanInput{BackupPlanId: &dailyPlanID, MaxScheduledRunsPreview: 2})
		if err != nil || len(out.ScheduledRunsPreview) != 2 {
			t.Fatalf("GetBackupPlan with a preview of 2 runs: %v, %v", out, err)
		}
	} else {
		plan = awscli.ok("get-backup-plan", "--backup-plan-id", dailyPlanID, "--max-scheduled-runs-preview", "2")
		if runs := jsonList(t, plan, "ScheduledRunsPreview"); len(runs) != 2 {
			t.Fatalf("ScheduledRunsPreview: %v", runs)
		}
	}
	rule := jsonList(t, plan["BackupPlan"].(map[string]any), "Rules")[0]
	if jsonStr(rule, "ScheduleExpression") != "cron(0 5 ? * * *)" || jsonNum(rule, "StartWindowMinutes") != 60 ||
		jsonNum(rule, "CompletionWindowMinutes") != 120 || jsonStr(rule, "TargetBackupVaultName") != "BackupVault_blog" {
		t.Fatalf("get-backup-plan rule: %v", rule)
	}

	// 2. The same kind of protection with `aws backup`: an hourly plan
	// into its own vault, selecting tables tagged backup=hourly.
	awscli.ok("create-backup-vault", "--backup-vault-name", "hourly")
	hourly := awscli.ok("create-backup-plan", "--backup-plan", `{"BackupPlanName":"hourly","Rules":[{"RuleName":"EveryHour",
		"TargetBackupVaultName":"hourly","ScheduleExpression":"cron(0 * ? * * *)","StartWindowMinutes":60,
		"Lifecycle":{"DeleteAfterDays":2}}]}`)
	hourlyPlanID := jsonStr(hourly, "BackupPlanId")
	awscli.ok("create-backup-selection", "--backup-plan-id", hourlyPlanID, "--backup-selection",
		`{"SelectionName":"hourly-tables","IamRoleArn":"arn:aws:iam::000000000000:role/backup","ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"backup","ConditionValue":"hourly"}]}`)
	awscli.fails("InvalidParameterValueException", "create-backup-plan", "--backup-plan",
		`{"BackupPlanName":"bad","Rules":[{"RuleName":"r","TargetBackupVaultName":"hourly","StartWindowMinutes":30}]}`)

	// 3. Tagging a table is all it takes.
	awsDynamoDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn("order_transaction-1"), "--tags", "Key=backup,Value=daily")
	awsDynamoDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn("events"), "--tags", "Key=backup,Value=hourly")
	awsDynamoDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn("scratch"), "--tags", "Key=team,Value=data")
	explain, _ := cairnOK(t, "explain", arn("order_transaction-1"))
	if !strings.Contains(explain, "BackupPlan_blog") || !strings.Contains(explain, "backup=daily") {
		t.Fatalf("cairn explain of the tagged table:\n%s", explain)
	}

	// Before 05:00 nothing runs.
	time.Sleep(1500 * time.Millisecond)
	for _, table := range []string{"order_transaction-1", "events", "scratch"} {
		if jobs := scheduledJobs(t, awscli, arn(table)); len(jobs) != 0 {
			t.Fatalf("%s has jobs before 05:00: %v", table, jobs)
		}
	}

	// 4. 05:00 UTC: both rules are due.
	clk.Set(time.Date(2026, 3, 2, 5, 0, 20, 0, time.UTC))
	daily := waitScheduledJob(t, awscli, arn("order_transaction-1"))
	if jsonStr(daily, "State") != "COMPLETED" || jsonStr(daily, "ResourceType") != "DynamoDB" ||
		jsonNum(daily, "BackupSizeInBytes") <= 0 || jsonStr(daily, "BackupVaultName") != "BackupVault_blog" {
		t.Fatalf("daily job: %v", daily)
	}
	createdBy, _ := daily["CreatedBy"].(map[string]any)
	if _, known := createdBy["BackupRuleName"]; !known && jsonStr(createdBy, "BackupRuleId") != "" {
		// Debian's aws-cli 2.9.19 predates BackupRuleName and
		// BackupRuleCron and drops them: read them through the SDK.
		j, err := backupClient(m).DescribeBackupJob(context.Background(), &bk.DescribeBackupJobInput{BackupJobId: aws.String(jsonStr(daily, "BackupJobId"))})
		if err != nil || j.CreatedBy == nil {
			t.Fatalf("DescribeBackupJob: %v %v", j, err)
		}
		createdBy["BackupRuleName"], createdBy["BackupRuleCron"] = aws.ToString(j.CreatedBy.BackupRuleName), aws.ToString(j.CreatedBy.BackupRuleCron)
	}
	if jsonStr(createdBy, "BackupPlanId") != dailyPlanID || jsonStr(createdBy, "BackupRuleName") != "RuleForDailyBackups" ||
		jsonStr(createdBy, "BackupRuleCron") != "cron(0 5 ? * * *)" {
		t.Fatalf("daily job CreatedBy: %v", createdBy)
	}
	ev := waitScheduledJob(t, awscli, arn("events"))
	if jsonStr(ev, "State") != "COMPLETED" || jsonStr(ev, "BackupVaultName") != "hourly" {
		t.Fatalf("hourly job: %v", ev)
	}
	if jobs := scheduledJobs(t, awscli, arn("scratch")); len(jobs) != 0 {
		t.Fatalf("the untagged table was backed up: %v", jobs)
	}

	// The recovery point carries the rule's lifecycle.
	rpARN := jsonStr(daily, "RecoveryPointArn")
	rp := awscli.ok("describe-recovery-point", "--backup-vault-name", "BackupVault_blog", "--recovery-point-arn", rpARN)
	lc, _ := rp["Lifecycle"].(map[string]any)
	if jsonStr(rp, "Status") != "COMPLETED" || jsonStr(rp, "StorageClass") != "WARM" ||
		jsonNum(lc, "MoveToColdStorageAfterDays") != 7 || jsonNum(lc, "DeleteAfterDays") != 97 || rp["CalculatedLifecycle"] == nil {
		t.Fatalf("describe-recovery-point: %v", rp)
	}

	// 5. Restore the daily backup into a new table.
	r := awscli.ok("start-restore-job", "--recovery-point-arn", rpARN, "--iam-role-arn", "arn:aws:iam::000000000000:role/backup",
		"--metadata", `{"TargetTableName":"order_transaction-restored"}`)
	rj := awscli.poll("Status", []string{"COMPLETED", "FAILED", "ABORTED"}, "describe-restore-job", "--restore-job-id", jsonStr(r, "RestoreJobId"))
	if jsonStr(rj, "Status") != "COMPLETED" {
		t.Fatalf("restore job: %v", rj)
	}
	if n, sum := tableChecksum(t, db, "order_transaction-restored"); n != wantN || sum != wantSum {
		t.Fatalf("restored table has %d items (checksum %s), want %d (%s)", n, sum, wantN, wantSum)
	}

	// The next hour runs the hourly rule again, the daily one not.
	clk.Set(time.Date(2026, 3, 2, 6, 0, 20, 0, time.UTC))
	deadline := time.Now().Add(2 * time.Minute)
	for len(scheduledJobs(t, awscli, arn("events"))) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the 06:00 hourly job never appeared")
		}
		time.Sleep(250 * time.Millisecond)
	}
	if jobs := scheduledJobs(t, awscli, arn("order_transaction-1")); len(jobs) != 1 {
		t.Fatalf("order_transaction-1 has %d jobs after 06:00, want 1", len(jobs))
	}
}
