package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// govLab is superwerker's "Automated Backups" lab against an in-process
// cairn server on a fake clock and dynalite. The server's own loops
// (scheduler, lifecycle, governance) wait an hour of real time between
// rounds, so the test drives each round itself: a governance pass, a
// scheduler tick, a lifecycle tick, each at a time the fake clock says.
type govLab struct {
	t   *testing.T
	m   *Main
	clk *clock.Fake
	cfg Config
	ddb string // dynalite's endpoint
	aws *awsCLI
}

// labDay0 is the lab's first morning, an hour before superwerker's 05:00
// UTC backups.
var labDay0 = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)

// newGovLab starts a server whose config governance is (a preset name or
// "") on a clock at labDay0.
func newGovLab(t *testing.T, governance string) *govLab {
	t.Helper()
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	testbed.AWSCLI(t)
	clk := clock.NewFake(labDay0)
	cfg := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Governance: governance,
		SchedulerInterval: time.Hour, LifecycleInterval: time.Hour, Tagging: TaggingConfig{Interval: time.Hour},
		Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: dyn.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}}
	m, err := openMain(t, cfg, clk)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	cliEnv(t, m)
	return &govLab{t: t, m: m, clk: clk, cfg: cfg, ddb: dyn.Endpoint, aws: newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)}
}

func labARN(table string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table }

// pass runs one governance pass now and returns how many passes the
// server has made.
func (l *govLab) pass() int {
	l.t.Helper()
	if err := l.m.Governance.Pass(context.Background()); err != nil {
		l.t.Fatalf("governance pass: %v", err)
	}
	c, err := l.m.Governance.Compliance(context.Background(), "")
	if err != nil {
		l.t.Fatal(err)
	}
	return c.Passes
}

// at moves the clock to t and runs the scheduler there.
func (l *govLab) at(t time.Time) {
	l.t.Helper()
	l.clk.Set(t)
	if err := l.m.Service.Tick(context.Background()); err != nil {
		l.t.Fatalf("scheduler tick at %s: %v", t, err)
	}
}

// verdict is the table's row of `cairn compliance TABLE --output json`.
func (l *govLab) verdict(table string) awsapi.ResourceCompliance {
	l.t.Helper()
	out, _ := cairnOK(l.t, "compliance", table, "--output", "json")
	var c awsapi.ComplianceOutput
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		l.t.Fatalf("cairn compliance --output json: %v\n%s", err, out)
	}
	for _, r := range c.Resources {
		if r.ResourceName == table && r.Source == "local" {
			return r
		}
	}
	l.t.Fatalf("cairn compliance %s has no row for it:\n%s", table, out)
	return awsapi.ResourceCompliance{}
}

// tagValue is the table's superwerker:backup tag as the AWS CLI lists it,
// after checking that its other tags are intact.
func (l *govLab) tagValue(table string, others map[string]string) string {
	l.t.Helper()
	tags := cliTags(l.t, l.ddb, labARN(table))
	for k, v := range others {
		if tags[k] != v {
			l.t.Fatalf("%s's tag %s is %q, want %q (tags %v)", table, k, tags[k], v, tags)
		}
	}
	if len(tags) > len(others)+1 {
		l.t.Fatalf("%s has tags %v, want %v and superwerker:backup", table, tags, others)
	}
	return tags["superwerker:backup"]
}

// recoveryPoints lists the ARNs of the points in vault Default with the
// AWS CLI.
func (l *govLab) recoveryPoints() map[string]string {
	l.t.Helper()
	out := l.aws.ok("list-recovery-points-by-backup-vault", "--backup-vault-name", "Default")
	points := map[string]string{}
	for _, p := range jsonList(l.t, out, "RecoveryPoints") {
		points[jsonStr(p, "RecoveryPointArn")] = jsonStr(p, "Status")
	}
	return points
}

// superwerkerLab walks superwerker's lab on a server whose tag and backup
// policies are superwerker's (however they were applied; policyTags is the
// tag policy's name): a table made with `aws dynamodb create-table` carries
// superwerker:backup=daily after the next pass, its other tags intact; at
// 05:00 UTC its backup job COMPLETES; weekly is reported as a violation,
// then reset to daily once the tag policy says remediate; none makes it
// OPTED_OUT and it is not backed up the next day while a table still daily
// is; 30 days after the first backups their points have expired.
func superwerkerLab(t *testing.T, l *govLab) {
	ctx := context.Background()
	planID := ""
	for _, p := range jsonList(t, l.aws.ok("list-backup-plans"), "BackupPlansList") {
		if jsonStr(p, "BackupPlanName") == "superwerker-backup" {
			planID = jsonStr(p, "BackupPlanId")
		}
	}
	if planID == "" {
		t.Fatal("list-backup-plans does not show superwerker-backup")
	}

	// The lab's tables, made and filled with the AWS CLI: orders walks the
	// lab, customers stays daily throughout.
	others := map[string]string{"team": "shop", "env": "prod"}
	before := l.pass()
	for _, table := range []string{"orders", "customers"} {
		awsDDB(t, l.ddb, "create-table", "--table-name", table,
			"--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
			"--billing-mode", "PAY_PER_REQUEST")
		awsDDB(t, l.ddb, "tag-resource", "--resource-arn", labARN(table), "--tags", "Key=team,Value=shop", "Key=env,Value=prod")
		awsDDB(t, l.ddb, "put-item", "--table-name", table, "--item", `{"pk":{"S":"item-1"},"n":{"N":"1"}}`)
	}
	if v := l.tagValue("orders", others); v != "" {
		t.Fatalf("orders carries superwerker:backup=%s before any pass", v)
	}

	// Within two passes (counted, not timed), the default value.
	passes := before
	for l.tagValue("orders", others) != "daily" {
		if passes-before == 2 {
			t.Fatalf("orders is not tagged superwerker:backup=daily after 2 passes")
		}
		passes = l.pass()
	}
	t.Logf("orders carried superwerker:backup=daily %d pass(es) after its creation", passes-before)
	if v := l.tagValue("customers", others); v != "daily" {
		t.Fatalf("customers: superwerker:backup=%q, want daily", v)
	}
	r := l.verdict("orders")
	if r.ComplianceType != "COMPLIANT" || len(r.BackupPlans) != 1 || r.BackupPlans[0] != "superwerker-backup/backup-daily" ||
		!r.NextRunTime.Time().Equal(time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)) {
		t.Fatalf("orders before its first backup: %+v", r)
	}

	// 05:00 UTC: the rule runs, one job per daily table, COMPLETED.
	l.at(time.Date(2026, 3, 2, 5, 0, 30, 0, time.UTC))
	first := map[string]string{} // table -> its first recovery point
	for _, table := range []string{"orders", "customers"} {
		job := waitScheduledJob(t, l.aws, labARN(table))
		createdBy, _ := job["CreatedBy"].(map[string]any)
		if jsonStr(job, "State") != "COMPLETED" || jsonStr(job, "BackupVaultName") != "Default" ||
			jsonStr(createdBy, "BackupPlanId") != planID || jsonNum(job, "BackupSizeInBytes") <= 0 {
			t.Fatalf("%s's 05:00 job: %v", table, job)
		}
		first[table] = jsonStr(job, "RecoveryPointArn")
	}
	rp := l.aws.ok("describe-recovery-point", "--backup-vault-name", "Default", "--recovery-point-arn", first["orders"])
	if lc, _ := rp["Lifecycle"].(map[string]any); jsonStr(rp, "Status") != "COMPLETED" || jsonNum(lc, "DeleteAfterDays") != 30 {
		t.Fatalf("orders' first point: %v", rp)
	}
	pr := l.aws.ok("describe-protected-resource", "--resource-arn", labARN("orders"))
	if jsonStr(pr, "LastRecoveryPointArn") != first["orders"] || jsonStr(pr, "ResourceName") != "orders" ||
		jsonStr(pr, "ResourceType") != "DynamoDB" || jsonStr(pr, "LastBackupVaultArn") != "arn:aws:backup:us-east-1:000000000000:backup-vault:Default" {
		t.Fatalf("describe-protected-resource orders: %v", pr)
	}
	l.pass()
	if r := l.verdict("orders"); r.ComplianceType != "COMPLIANT" || r.LastRecoveryPointArn != first["orders"] ||
		!r.NextRunTime.Time().Equal(time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC)) {
		t.Fatalf("orders after its first backup: %+v", r)
	}

	// weekly is not allowed: reported, the value left as it is.
	awsDDB(t, l.ddb, "tag-resource", "--resource-arn", labARN("orders"), "--tags", "Key=superwerker:backup,Value=weekly")
	l.clk.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	l.pass()
	r = l.verdict("orders")
	if r.ComplianceType != "NON_COMPLIANT" || r.Violation == nil || r.Violation.Value != "weekly" || r.Violation.Mode != "report" ||
		!r.Violation.SeenAt.Time().Equal(l.clk.Now()) || !r.Violation.ResolvedAt.Time().IsZero() {
		t.Fatalf("orders tagged weekly: %+v (violation %+v)", r, r.Violation)
	}
	if v := l.tagValue("orders", others); v != "weekly" {
		t.Fatalf("report mode changed weekly to %q", v)
	}
	out, _ := cairnOK(t, "compliance", "--verdict", "NON_COMPLIANT")
	if rows := tableRows(t, out, "TABLE SOURCE TAG VERDICT"); !strings.Contains(out, "\n1 tables: 1 NON_COMPLIANT") || rows[0][0] != "orders" || rows[0][2] != "weekly" || rows[0][3] != "NON_COMPLIANT" {
		t.Fatalf("cairn compliance --verdict NON_COMPLIANT:\n%s", out)
	}
	// /metrics counts the same verdicts.
	rep, err := l.m.Governance.Compliance(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	compliant := 0
	for _, r := range rep.Resources {
		if r.Verdict == "COMPLIANT" {
			compliant++
		}
	}
	e, _ := scrapeURL(t, "http://"+l.m.Addr+"/metrics")
	e.want(t, 1, "cairn_compliance_resources", "verdict", "NON_COMPLIANT")
	e.want(t, float64(compliant), "cairn_compliance_resources", "verdict", "COMPLIANT")

	// The tag policy says remediate: the next pass resets it to daily.
	cairnOK(t, "policy", "apply", "-f", superwerkerTags, "--type", "TAG_POLICY", "--name", "superwerker-backup-tags",
		"--default-value", "daily", "--on-violation", "remediate")
	l.clk.Set(time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC))
	l.pass()
	if v := l.tagValue("orders", others); v != "daily" {
		t.Fatalf("remediate mode left superwerker:backup=%q, want daily", v)
	}
	r = l.verdict("orders")
	if r.ComplianceType != "COMPLIANT" {
		t.Fatalf("orders after the reset: %+v (violation %+v)", r, r.Violation)
	}
	if v := r.Violation; v == nil || v.Value != "weekly" || !v.ResolvedAt.Time().Equal(l.clk.Now()) || v.Resolution != "reset to daily" {
		t.Fatalf("orders' violation after the reset: %+v, want weekly resolved now by the reset", v)
	}

	// none opts out: OPTED_OUT, and the next day's run leaves it alone.
	awsDDB(t, l.ddb, "tag-resource", "--resource-arn", labARN("orders"), "--tags", "Key=superwerker:backup,Value=none")
	l.clk.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	l.pass()
	if r := l.verdict("orders"); r.ComplianceType != "OPTED_OUT" {
		t.Fatalf("orders tagged none: %+v", r)
	}
	if v := l.tagValue("orders", others); v != "none" {
		t.Fatalf("remediate mode changed none to %q", v)
	}
	l.at(time.Date(2026, 3, 3, 5, 0, 30, 0, time.UTC))
	jobs := waitJobs(t, l.aws, labARN("customers"), 2)
	var second string
	for _, j := range jobs {
		if rp := jsonStr(j, "RecoveryPointArn"); rp != first["customers"] {
			second = rp
		}
		if jsonStr(j, "State") != "COMPLETED" {
			t.Fatalf("customers' job: %v", j)
		}
	}
	if jobs := scheduledJobs(t, l.aws, labARN("orders")); len(jobs) != 1 {
		t.Fatalf("orders (opted out) has %d jobs after the second day's run, want 1: %v", len(jobs), jobs)
	}
	l.pass()
	if r := l.verdict("customers"); r.ComplianceType != "COMPLIANT" || r.LastRecoveryPointArn != second {
		t.Fatalf("customers after its second backup (%s): %+v", second, r)
	}
	if r := l.verdict("orders"); r.ComplianceType != "OPTED_OUT" || len(r.BackupPlans) != 0 {
		t.Fatalf("orders the day after it opted out: %+v", r)
	}

	// 30 days later the first points have expired; the second day's stays.
	l.clk.Set(time.Date(2026, 3, 31, 6, 0, 0, 0, time.UTC))
	if err := l.m.Service.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if points := l.recoveryPoints(); points[first["orders"]] != "COMPLETED" {
		t.Fatalf("after 29 days: %v, want orders' first point %s still there", points, first["orders"])
	}
	l.clk.Set(time.Date(2026, 4, 1, 6, 0, 0, 0, time.UTC))
	if err := l.m.Service.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	points := l.recoveryPoints()
	if _, ok := points[first["orders"]]; ok {
		t.Fatalf("after 30 days: %v still has orders' first point %s", points, first["orders"])
	}
	if _, ok := points[first["customers"]]; ok {
		t.Fatalf("after 30 days: %v still has customers' first point %s", points, first["customers"])
	}
	if len(points) != 1 || points[second] != "COMPLETED" {
		t.Fatalf("after 30 days: %v, want the second day's point of customers (%s) only", points, second)
	}
	// Nothing ran since: customers' last backup is too old now.
	l.pass()
	if r := l.verdict("customers"); r.ComplianceType != "NON_COMPLIANT" || !strings.Contains(r.Reason, "last COMPLETED recovery point is 29d00h old") {
		t.Fatalf("customers without a backup for 29 days: %+v", r)
	}
}

// The preset applies exactly superwerker's policies at every start: the
// remediate option the lab set is report again after a restart.
func TestSuperwerkerLabPreset(t *testing.T) {
	l := newGovLab(t, "superwerker")
	superwerkerLab(t, l)
	closeMain(t, l.m)
	m, err := openMain(t, l.cfg, l.clk)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	cliEnv(t, m)
	if out, _ := cairnOK(t, "policy", "list"); !strings.Contains(out, "default=daily report") {
		t.Fatalf("after a restart with the preset:\n%s", out)
	}
}

// superwerker's lab with its two policy documents applied through `cairn
// policy apply` on a server without the preset.
func TestSuperwerkerLabPolicies(t *testing.T) {
	l := newGovLab(t, "")
	cairnOK(t, "policy", "apply", "-f", superwerkerTags, "--type", "TAG_POLICY", "--name", "superwerker-backup-tags",
		"--default-value", "daily")
	cairnOK(t, "policy", "apply", "-f", superwerkerBackups, "--type", "BACKUP_POLICY", "--name", "superwerker-backup")
	superwerkerLab(t, l)
}

// The blog's motivating example on cairn: inventory tables backed up
// daily and sales tables hourly, each chosen by tag, with the real AWS CLI
// against a server on a fake clock. Two Audit Manager frameworks say what
// each group needs (protected by a plan, a recovery point no older than a
// day or an hour, a plan that runs that often and keeps points 35 days);
// a CONTROL_COMPLIANCE_REPORT of both, read with Python's csv and json,
// shows every control COMPLIANT after the 05:00 runs. At 07:30, with the
// 06:00 and 07:00 hourly runs missed, the sales framework's recovery point
// control is NON_COMPLIANT and the inventory one still COMPLIANT.
func TestBlogComplianceReport(t *testing.T) {
	l := newGovLab(t, "")
	l.clk.Set(time.Date(2026, 3, 2, 4, 59, 0, 0, time.UTC))
	cairnOK(t, "apply", "-f", blogTemplatePath, "--stack-name", "inventory", "--parameter", "TagKey=backup",
		"--parameter", "TagValue=daily", "--parameter", "LifecycleMoveToColdStorageAfterDays=30", "--parameter", "LifecycleDeleteAfterDays=120")
	hourly := jsonStr(l.aws.ok("create-backup-plan", "--backup-plan", `{"BackupPlanName":"sales-hourly","Rules":[{"RuleName":"EveryHour",
		"TargetBackupVaultName":"Default","ScheduleExpression":"cron(0 * ? * * *)","StartWindowMinutes":60,"Lifecycle":{"DeleteAfterDays":35}}]}`), "BackupPlanId")
	l.aws.ok("create-backup-selection", "--backup-plan-id", hourly, "--backup-selection", `{"SelectionName":"hourly-tables",
		"IamRoleArn":"arn:aws:iam::000000000000:role/backup","ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"backup","ConditionValue":"hourly"}]}`)
	daily := ""
	for _, p := range jsonList(t, l.aws.ok("list-backup-plans"), "BackupPlansList") {
		if jsonStr(p, "BackupPlanName") == "BackupPlan_inventory" {
			daily = jsonStr(p, "BackupPlanId")
		}
	}
	tables := map[string]string{"inventory-eu": "daily", "inventory-us": "daily", "sales-eu": "hourly", "sales-us": "hourly"}
	for table, value := range tables {
		category, _, _ := strings.Cut(table, "-")
		awsDDB(t, l.ddb, "create-table", "--table-name", table,
			"--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
			"--billing-mode", "PAY_PER_REQUEST")
		awsDDB(t, l.ddb, "put-item", "--table-name", table, "--item", `{"pk":{"S":"item-1"}}`)
		awsDDB(t, l.ddb, "tag-resource", "--resource-arn", labARN(table), "--tags", "Key=backup,Value="+value, "Key=category,Value="+category)
	}
	// An untagged table nobody asked to protect is out of both scopes.
	awsDDB(t, l.ddb, "create-table", "--table-name", "scratch",
		"--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
		"--billing-mode", "PAY_PER_REQUEST")

	// 05:00: both rules run; one job per tagged table.
	l.at(time.Date(2026, 3, 2, 5, 0, 30, 0, time.UTC))
	for table := range tables {
		if j := waitScheduledJob(t, l.aws, labARN(table)); jsonStr(j, "State") != "COMPLETED" {
			t.Fatalf("%s's 05:00 job: %v", table, j)
		}
	}
	if jobs := scheduledJobs(t, l.aws, labARN("scratch")); len(jobs) != 0 {
		t.Fatalf("the untagged table was backed up: %v", jobs)
	}

	framework := func(name, unit, planID, category string) string {
		scope := fmt.Sprintf(`{"Tags":{"category":%q}}`, category)
		controls := fmt.Sprintf(`[
		  {"ControlName":"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN","ControlScope":%s},
		  {"ControlName":"BACKUP_LAST_RECOVERY_POINT_CREATED","ControlScope":%s,"ControlInputParameters":[
		    {"ParameterName":"recoveryPointAgeUnit","ParameterValue":%q},{"ParameterName":"recoveryPointAgeValue","ParameterValue":"1"}]},
		  {"ControlName":"BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK","ControlScope":{"ComplianceResourceIds":[%q]},
		   "ControlInputParameters":[{"ParameterName":"requiredFrequencyUnit","ParameterValue":%q},
		    {"ParameterName":"requiredFrequencyValue","ParameterValue":"1"},{"ParameterName":"requiredRetentionDays","ParameterValue":"35"}]}]`,
			scope, scope, unit, planID, unit)
		return jsonStr(l.aws.ok("create-framework", "--framework-name", name, "--framework-controls", controls), "FrameworkArn")
	}
	inventory := framework("inventory_daily", "days", daily, "inventory")
	sales := framework("sales_hourly", "hours", hourly, "sales")
	l.aws.ok("create-report-plan", "--report-plan-name", "blog_compliance",
		"--report-delivery-channel", `{"S3BucketName":"audit","S3KeyPrefix":"blog","Formats":["CSV","JSON"]}`,
		"--report-setting", fmt.Sprintf(`{"ReportTemplate":"CONTROL_COMPLIANCE_REPORT","FrameworkArns":[%q,%q]}`, inventory, sales))

	// report makes a report of both frameworks now and checks, with
	// Python's csv and json, that both files hold the rows whose column
	// idColumn has each of ids, each such row with the values of want. It
	// returns the number of rows.
	report := func(idColumn string, ids []string, want map[string]string) string {
		t.Helper()
		id := jsonStr(l.aws.ok("start-report-job", "--report-plan-name", "blog_compliance"), "ReportJobId")
		var job map[string]any
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			job, _ = l.aws.ok("describe-report-job", "--report-job-id", id)["ReportJob"].(map[string]any)
			if s := jsonStr(job, "Status"); s == "COMPLETED" || s == "FAILED" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("report job %s did not end: %v", id, job)
			}
		}
		dest, _ := job["ReportDestination"].(map[string]any)
		keys, _ := dest["S3Keys"].([]any)
		if jsonStr(job, "Status") != "COMPLETED" || len(keys) != 2 {
			t.Fatalf("report job: %v", job)
		}
		var files []string
		for _, k := range keys {
			files = append(files, filepath.Join(l.m.Config.DataDir, "reports", "audit", filepath.FromSlash(k.(string))))
		}
		return readReports(t, "CONTROL_COMPLIANCE_REPORT", files, idColumn, ids, want)
	}
	l.clk.Set(time.Date(2026, 3, 2, 5, 30, 0, 0, time.UTC))
	if n := report("frameworkName", []string{"inventory_daily", "sales_hourly"},
		map[string]string{"controlComplianceStatus": "COMPLIANT", "numResourcesNonCompliant": "0"}); n != "6" {
		t.Fatalf("the report has %s rows, want 6 (3 controls of 2 frameworks)", n)
	}

	// 07:30, the 06:00 and 07:00 runs missed: sales' points are 2.5 hours
	// old, the one control that asks for an hour fails, nothing else.
	l.clk.Set(time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC))
	report("controlComplianceStatus", []string{"NON_COMPLIANT"}, map[string]string{"frameworkName": "sales_hourly",
		"controlName": "BACKUP_LAST_RECOVERY_POINT_CREATED", "numResourcesNonCompliant": "2", "numResourcesCompliant": "0"})
}
