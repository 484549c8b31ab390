package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

const (
	tablePrefix  = "arn:aws:dynamodb:us-east-1:000000000000:table/"
	defaultVault = "arn:aws:backup:us-east-1:000000000000:backup-vault:Default"
)

// auditEnv is a real server over dynalite with three tables: orders
// (tagged backup=daily, covered by plan "daily", backed up twice), users
// (backed up once, with a 7-day lifecycle, in no plan) and carts (never
// backed up, in no plan).
type auditEnv struct {
	m          *Main
	c          *bk.Client
	ordersRP   string // orders' latest recovery point
	ordersRP1  string
	usersRP    string
	ordersTime time.Time
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	for _, name := range []string{"orders", "users", "carts"} {
		createTable(t, db, name, ddbjson.TypeS, false)
		seedRandom(t, db, name, 5)
	}
	if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(tablePrefix + "orders"),
		Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String("daily")}}}); err != nil {
		t.Fatalf("tag orders: %v", err)
	}
	p, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{BackupPlanName: aws.String("daily"),
		Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("r"), TargetBackupVaultName: aws.String("Default"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(35)}}}}})
	if err != nil {
		t.Fatalf("CreateBackupPlan: %v", err)
	}
	if _, err := c.CreateBackupSelection(ctx, &bk.CreateBackupSelectionInput{BackupPlanId: p.BackupPlanId,
		BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String("tagged"), IamRoleArn: aws.String(role),
			ListOfTags: []bktypes.Condition{{ConditionType: bktypes.ConditionTypeStringequals, ConditionKey: aws.String("backup"),
				ConditionValue: aws.String("daily")}}}}); err != nil {
		t.Fatalf("CreateBackupSelection: %v", err)
	}
	e := &auditEnv{m: m, c: c}
	done := func(id string) *bk.DescribeBackupJobOutput {
		j := waitBackupJob(t, c, id)
		if j.State != bktypes.BackupJobStateCompleted {
			t.Fatalf("backup job %s: %s %s", id, j.State, aws.ToString(j.StatusMessage))
		}
		return j
	}
	e.ordersRP1 = aws.ToString(done(startBackup(t, c, "orders")).RecoveryPointArn)
	j, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"), IamRoleArn: aws.String(role),
		ResourceArn: aws.String(tablePrefix + "users"), Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(7)}})
	if err != nil {
		t.Fatalf("StartBackupJob users: %v", err)
	}
	e.usersRP = aws.ToString(done(aws.ToString(j.BackupJobId)).RecoveryPointArn)
	e.ordersRP = aws.ToString(done(startBackup(t, c, "orders")).RecoveryPointArn)
	rp, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"), RecoveryPointArn: aws.String(e.ordersRP)})
	if err != nil {
		t.Fatalf("DescribeRecoveryPoint: %v", err)
	}
	e.ordersTime = aws.ToTime(rp.CreationDate)
	return e
}

// TestProtectedResources: DescribeProtectedResource,
// ListProtectedResources and ListProtectedResourcesByBackupVault answer as
// AWS does, with the AWS SDK for Go, the AWS CLI and boto3. On a server
// without DescribeProtectedResource and ListProtectedResourcesByBackupVault
// (before issue 9) the first call fails with UnknownOperationException.
func TestProtectedResources(t *testing.T) {
	e := newAuditEnv(t)
	ctx := context.Background()
	c := e.c

	got, err := c.DescribeProtectedResource(ctx, &bk.DescribeProtectedResourceInput{ResourceArn: aws.String(tablePrefix + "orders")})
	if err != nil {
		t.Fatalf("DescribeProtectedResource: %v", err)
	}
	if aws.ToString(got.ResourceArn) != tablePrefix+"orders" || aws.ToString(got.ResourceType) != "DynamoDB" ||
		aws.ToString(got.ResourceName) != "orders" || aws.ToString(got.LastBackupVaultArn) != defaultVault ||
		aws.ToString(got.LastRecoveryPointArn) != e.ordersRP || !aws.ToTime(got.LastBackupTime).Equal(e.ordersTime) {
		t.Errorf("DescribeProtectedResource orders = %+v; want its latest point %s of %s", got, e.ordersRP, e.ordersTime)
	}

	var listed []string
	for p := bk.NewListProtectedResourcesPaginator(c, &bk.ListProtectedResourcesInput{MaxResults: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListProtectedResources: %v", err)
		}
		for _, r := range page.Results {
			listed = append(listed, aws.ToString(r.ResourceArn))
			if aws.ToString(r.ResourceArn) == tablePrefix+"orders" && aws.ToString(r.LastRecoveryPointArn) != e.ordersRP {
				t.Errorf("ListProtectedResources: orders' last point %s, want %s", aws.ToString(r.LastRecoveryPointArn), e.ordersRP)
			}
		}
	}
	want := []string{tablePrefix + "orders", tablePrefix + "users"}
	if !slices.Equal(listed, want) {
		t.Errorf("ListProtectedResources = %v, want %v", listed, want)
	}
	listed = nil
	for p := bk.NewListProtectedResourcesByBackupVaultPaginator(c, &bk.ListProtectedResourcesByBackupVaultInput{
		BackupVaultName: aws.String("Default"), MaxResults: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListProtectedResourcesByBackupVault: %v", err)
		}
		for _, r := range page.Results {
			listed = append(listed, aws.ToString(r.ResourceArn))
		}
	}
	if !slices.Equal(listed, want) {
		t.Errorf("ListProtectedResourcesByBackupVault = %v, want %v", listed, want)
	}

	for _, r := range []struct {
		name string
		do   func() error
		code string
	}{
		{"a table never backed up", func() error {
			_, err := c.DescribeProtectedResource(ctx, &bk.DescribeProtectedResourceInput{ResourceArn: aws.String(tablePrefix + "carts")})
			return err
		}, "ResourceNotFoundException"},
		{"not an ARN", func() error {
			_, err := c.DescribeProtectedResource(ctx, &bk.DescribeProtectedResourceInput{ResourceArn: aws.String("orders")})
			return err
		}, "InvalidParameterValueException"},
		{"an unknown vault", func() error {
			_, err := c.ListProtectedResourcesByBackupVault(ctx, &bk.ListProtectedResourcesByBackupVaultInput{BackupVaultName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"a vault of another account", func() error {
			_, err := c.ListProtectedResourcesByBackupVault(ctx, &bk.ListProtectedResourcesByBackupVaultInput{BackupVaultName: aws.String("Default"),
				BackupVaultAccountId: aws.String("111122223333")})
			return err
		}, "ResourceNotFoundException"},
		{"maxResults 0", func() error {
			_, err := c.ListProtectedResourcesByBackupVault(ctx, &bk.ListProtectedResourcesByBackupVaultInput{BackupVaultName: aws.String("Default"),
				MaxResults: aws.Int32(1001)})
			return err
		}, "InvalidParameterValueException"},
	} {
		if got := apiCode(r.do()); got != r.code {
			t.Errorf("%s: %s, want %s", r.name, got, r.code)
		}
	}

	t.Run("aws cli", func(t *testing.T) {
		a := newAWSCLI(t, e.m, e.m.Keys.AccessKeyID, e.m.Keys.SecretAccessKey)
		d := a.ok("describe-protected-resource", "--resource-arn", tablePrefix+"orders")
		if jsonStr(d, "LastRecoveryPointArn") != e.ordersRP || jsonStr(d, "ResourceName") != "orders" ||
			jsonStr(d, "LastBackupVaultArn") != defaultVault || jsonStr(d, "ResourceType") != "DynamoDB" {
			t.Errorf("aws backup describe-protected-resource = %v", d)
		}
		if ts, ok := d["LastBackupTime"].(float64); !ok || int64(ts) != e.ordersTime.Unix() { // AWS CLI v1 prints epoch seconds
			t.Errorf("LastBackupTime %v, want %v", d["LastBackupTime"], e.ordersTime.Unix())
		}
		var arns []string
		for _, r := range jsonList(t, a.ok("list-protected-resources", "--page-size", "1"), "Results") {
			arns = append(arns, jsonStr(r, "ResourceArn"))
		}
		if !slices.Equal(arns, want) {
			t.Errorf("aws backup list-protected-resources = %v, want %v", arns, want)
		}
		arns = nil
		for _, r := range jsonList(t, a.ok("list-protected-resources-by-backup-vault", "--backup-vault-name", "Default"), "Results") {
			arns = append(arns, jsonStr(r, "ResourceArn"))
		}
		if !slices.Equal(arns, want) {
			t.Errorf("aws backup list-protected-resources-by-backup-vault = %v, want %v", arns, want)
		}
		a.fails("ResourceNotFoundException", "describe-protected-resource", "--resource-arn", tablePrefix+"carts")
		a.fails("ResourceNotFoundException", "list-protected-resources-by-backup-vault", "--backup-vault-name", "nope")
	})

	t.Run("boto3", func(t *testing.T) {
		got := runAuditBoto3(t, e.m)
		d, _ := got["describe"].(map[string]any)
		if d["LastRecoveryPointArn"] != e.ordersRP || d["ResourceName"] != "orders" || got["last_backup_time_type"] != "datetime" {
			t.Errorf("boto3 describe_protected_resource = %v (LastBackupTime a %v)", d, got["last_backup_time_type"])
		}
		for _, k := range []string{"listed", "by_vault"} {
			if l, _ := got[k].([]any); len(l) != 2 || l[0] != want[0] || l[1] != want[1] {
				t.Errorf("boto3 %s = %v, want %v", k, got[k], want)
			}
		}
		errs, _ := got["errors"].(map[string]any)
		for k, w := range map[string]string{"unprotected": "ResourceNotFoundException", "not_an_arn": "InvalidParameterValueException",
			"unknown_vault": "ResourceNotFoundException"} {
			if errs[k] != w {
				t.Errorf("boto3 %s: %v, want %s", k, errs[k], w)
			}
		}
	})
}

// runAuditBoto3 runs testdata/audit_boto3.py against m and decodes what it
// printed.
func runAuditBoto3(t *testing.T, m *Main) map[string]any {
	t.Helper()
	py := boto3(t)
	cmd := exec.Command(py, filepath.Join("testdata", "audit_boto3.py"), "http://"+m.Addr, tablePrefix+"orders", tablePrefix+"carts")
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+m.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+m.Keys.SecretAccessKey)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("audit_boto3.py: %v\n%s", err, errb.String())
	}
	got := map[string]any{}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("audit_boto3.py printed %q: %v", out.String(), err)
	}
	return got
}

// evaluation asks the server to evaluate a framework now.
func evaluation(t *testing.T, m *Main, name string) awsapi.FrameworkEvaluation {
	t.Helper()
	ext := &extClient{endpoint: "http://" + m.Addr, region: "us-east-1", http: http.DefaultClient,
		creds: aws.Credentials{AccessKeyID: m.Keys.AccessKeyID, SecretAccessKey: m.Keys.SecretAccessKey}}
	var ev awsapi.FrameworkEvaluation
	if err := ext.do(context.Background(), http.MethodGet, "/cairn/frameworks/"+name+"/evaluation", nil, nil, &ev); err != nil {
		t.Fatalf("evaluate framework %s: %v", name, err)
	}
	return ev
}

func param(name, value string) bktypes.ControlInputParameter {
	return bktypes.ControlInputParameter{ParameterName: aws.String(name), ParameterValue: aws.String(value)}
}

// TestAuditFrameworks: CreateFramework, DescribeFramework, ListFrameworks,
// UpdateFramework and DeleteFramework with the five controls cairn
// evaluates, through the AWS SDK for Go, the AWS CLI and boto3; and the
// framework's evaluation over the real server's plans, points and tables.
func TestAuditFrameworks(t *testing.T) {
	e := newAuditEnv(t)
	ctx := context.Background()
	c := e.c

	controls := []bktypes.FrameworkControl{
		{ControlName: aws.String("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
			ControlScope: &bktypes.ControlScope{ComplianceResourceTypes: []string{"DynamoDB"}}},
		{ControlName: aws.String("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"), ControlInputParameters: []bktypes.ControlInputParameter{
			param("requiredFrequencyUnit", "hours"), param("requiredFrequencyValue", "24"), param("requiredRetentionDays", "35")}},
		{ControlName: aws.String("BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"), ControlInputParameters: []bktypes.ControlInputParameter{
			param("requiredRetentionDays", "30")}},
		{ControlName: aws.String("BACKUP_LAST_RECOVERY_POINT_CREATED"), ControlInputParameters: []bktypes.ControlInputParameter{
			param("recoveryPointAgeUnit", "days"), param("recoveryPointAgeValue", "1")}},
		{ControlName: aws.String("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")},
	}
	created, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String("daily_audit"),
		FrameworkDescription: aws.String("every table backed up daily"), FrameworkControls: controls,
		IdempotencyToken: aws.String("tok-1"), FrameworkTags: map[string]string{"team": "platform"}})
	if err != nil {
		t.Fatalf("CreateFramework: %v", err)
	}
	arn := aws.ToString(created.FrameworkArn)
	if !strings.HasPrefix(arn, "arn:aws:backup:us-east-1:000000000000:framework:daily_audit-") || aws.ToString(created.FrameworkName) != "daily_audit" {
		t.Errorf("CreateFramework = %s %s", aws.ToString(created.FrameworkName), arn)
	}
	// A retry with the same token is the same framework.
	again, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String("daily_audit"),
		FrameworkDescription: aws.String("every table backed up daily"), FrameworkControls: controls,
		IdempotencyToken: aws.String("tok-1"), FrameworkTags: map[string]string{"team": "platform"}})
	if err != nil || aws.ToString(again.FrameworkArn) != arn {
		t.Errorf("CreateFramework retried with its token: %v, %v; want %s", again, err, arn)
	}

	d, err := c.DescribeFramework(ctx, &bk.DescribeFrameworkInput{FrameworkName: aws.String("daily_audit")})
	if err != nil {
		t.Fatalf("DescribeFramework: %v", err)
	}
	if aws.ToString(d.FrameworkArn) != arn || aws.ToString(d.DeploymentStatus) != "COMPLETED" || aws.ToString(d.FrameworkStatus) != "ACTIVE" ||
		aws.ToString(d.IdempotencyToken) != "tok-1" || aws.ToString(d.FrameworkDescription) != "every table backed up daily" ||
		aws.ToTime(d.CreationTime).IsZero() || len(d.FrameworkControls) != 5 {
		t.Errorf("DescribeFramework = %+v", d)
	}
	for i, ctl := range d.FrameworkControls {
		if aws.ToString(ctl.ControlName) != aws.ToString(controls[i].ControlName) || len(ctl.ControlInputParameters) != len(controls[i].ControlInputParameters) {
			t.Errorf("control %d = %+v, want %+v", i, ctl, controls[i])
		}
	}
	if s := d.FrameworkControls[0].ControlScope; s == nil || !slices.Equal(s.ComplianceResourceTypes, []string{"DynamoDB"}) {
		t.Errorf("control 0's scope = %+v", s)
	}

	// FrameworkTags are the framework's tags, as ListTags and TagResource
	// see them.
	if _, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod"}}); err != nil {
		t.Errorf("TagResource of the framework: %v", err)
	}
	if got := listAllTags(t, c, arn, 1); !maps.Equal(got, map[string]string{"team": "platform", "env": "prod"}) {
		t.Errorf("ListTags of the framework = %v", got)
	}
	if _, err := c.ListTags(ctx, &bk.ListTagsInput{ResourceArn: aws.String(arn + "0")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("ListTags of an unknown framework: %v, want ResourceNotFoundException", err)
	}

	// The evaluation: orders is in a plan and backed up; users is backed
	// up (7 days kept) but in no plan; carts is neither.
	ev := evaluation(t, e.m, "daily_audit")
	verdicts := map[string]map[string]string{}
	for _, ctl := range ev.Controls {
		verdicts[ctl.ControlName] = map[string]string{"": ctl.Compliance}
		for _, r := range ctl.Resources {
			if r.Reason == "" {
				t.Errorf("%s: %s has no reason", ctl.ControlName, r.ResourceArn)
			}
			key := r.ResourceName
			if r.ResourceArn == e.usersRP || r.ResourceArn == e.ordersRP || r.ResourceArn == e.ordersRP1 {
				key = r.ResourceArn
			}
			verdicts[ctl.ControlName][key] = r.Compliance
		}
	}
	wantVerdicts := map[string]map[string]string{
		"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN":         {"": "NON_COMPLIANT", "orders": "COMPLIANT", "users": "NON_COMPLIANT", "carts": "NON_COMPLIANT"},
		"BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": {"": "COMPLIANT", "daily": "COMPLIANT"},
		"BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": {"": "NON_COMPLIANT", e.ordersRP: "COMPLIANT", e.ordersRP1: "COMPLIANT",
			e.usersRP: "NON_COMPLIANT"},
		"BACKUP_LAST_RECOVERY_POINT_CREATED":             {"": "NON_COMPLIANT", "orders": "COMPLIANT", "users": "COMPLIANT", "carts": "NON_COMPLIANT"},
		"BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": {"": "NON_COMPLIANT", "Default": "NON_COMPLIANT"},
	}
	if !reflect.DeepEqual(verdicts, wantVerdicts) {
		t.Errorf("evaluation:\n got %v\nwant %v", verdicts, wantVerdicts)
	}

	// Update: fewer controls, a new description; ARN and creation stay.
	up, err := c.UpdateFramework(ctx, &bk.UpdateFrameworkInput{FrameworkName: aws.String("daily_audit"),
		FrameworkControls: controls[:2], FrameworkDescription: aws.String("two controls"), IdempotencyToken: aws.String("tok-2")})
	if err != nil || aws.ToString(up.FrameworkArn) != arn || !aws.ToTime(up.CreationTime).Equal(aws.ToTime(d.CreationTime)) {
		t.Fatalf("UpdateFramework: %+v, %v", up, err)
	}
	lst, err := c.ListFrameworks(ctx, &bk.ListFrameworksInput{})
	if err != nil || len(lst.Frameworks) != 1 || aws.ToInt32(&lst.Frameworks[0].NumberOfControls) != 2 ||
		aws.ToString(lst.Frameworks[0].FrameworkDescription) != "two controls" || aws.ToString(lst.Frameworks[0].DeploymentStatus) != "COMPLETED" {
		t.Errorf("ListFrameworks after the update: %+v, %v", lst, err)
	}

	// Refusals change nothing.
	bad := func(name string, cs ...bktypes.FrameworkControl) error {
		_, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String(name), FrameworkControls: cs})
		return err
	}
	for _, r := range []struct {
		name string
		err  error
		code string
	}{
		{"a taken name", bad("daily_audit", controls[0]), "AlreadyExistsException"},
		{"the same token with other parameters", func() error {
			_, err := c.CreateFramework(ctx, &bk.CreateFrameworkInput{FrameworkName: aws.String("daily_audit"), FrameworkControls: controls[:1],
				IdempotencyToken: aws.String("tok-2")})
			return err
		}(), "AlreadyExistsException"},
		{"an unknown control", bad("x", bktypes.FrameworkControl{ControlName: aws.String("BACKUP_RECOVERY_POINT_ENCRYPTED_X")}), "InvalidParameterValueException"},
		{"an unknown parameter", bad("x", bktypes.FrameworkControl{ControlName: aws.String("BACKUP_LAST_RECOVERY_POINT_CREATED"),
			ControlInputParameters: []bktypes.ControlInputParameter{param("requiredRetentionDays", "3")}}), "InvalidParameterValueException"},
		{"too many hours", bad("x", bktypes.FrameworkControl{ControlName: aws.String("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"),
			ControlInputParameters: []bktypes.ControlInputParameter{param("requiredFrequencyUnit", "hours"), param("requiredFrequencyValue", "25")}}),
			"InvalidParameterValueException"},
		{"a control twice", bad("x", controls[0], controls[0]), "InvalidParameterValueException"},
		{"two scope tags", bad("x", bktypes.FrameworkControl{ControlName: aws.String("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
			ControlScope: &bktypes.ControlScope{Tags: map[string]string{"a": "1", "b": "2"}}}), "InvalidParameterValueException"},
		{"an unknown resource type", bad("x", bktypes.FrameworkControl{ControlName: aws.String("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
			ControlScope: &bktypes.ControlScope{ComplianceResourceTypes: []string{"Floppy"}}}), "InvalidParameterValueException"},
		{"a bad name", bad("9lives", controls[0]), "InvalidParameterValueException"},
		{"describe an unknown framework", func() error {
			_, err := c.DescribeFramework(ctx, &bk.DescribeFrameworkInput{FrameworkName: aws.String("nope")})
			return err
		}(), "ResourceNotFoundException"},
		{"update an unknown framework", func() error {
			_, err := c.UpdateFramework(ctx, &bk.UpdateFrameworkInput{FrameworkName: aws.String("nope"), FrameworkControls: controls[:1]})
			return err
		}(), "ResourceNotFoundException"},
		{"update with the last token and other controls", func() error {
			_, err := c.UpdateFramework(ctx, &bk.UpdateFrameworkInput{FrameworkName: aws.String("daily_audit"), FrameworkControls: controls[:1],
				IdempotencyToken: aws.String("tok-2")})
			return err
		}(), "ConflictException"},
	} {
		if got := apiCode(r.err); got != r.code {
			t.Errorf("%s: %s, want %s", r.name, got, r.code)
		}
	}
	if lst, err := c.ListFrameworks(ctx, &bk.ListFrameworksInput{}); err != nil || len(lst.Frameworks) != 1 || lst.Frameworks[0].NumberOfControls != 2 {
		t.Errorf("frameworks after the refusals: %+v, %v", lst, err)
	}

	t.Run("aws cli", func(t *testing.T) {
		a := newAWSCLI(t, e.m, e.m.Keys.AccessKeyID, e.m.Keys.SecretAccessKey)
		out := a.ok("create-framework", "--framework-name", "cli_fw", "--framework-controls",
			`[{"ControlName":"BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK","ControlInputParameters":[`+
				`{"ParameterName":"requiredRetentionDays","ParameterValue":"30"},{"ParameterName":"requiredFrequencyUnit","ParameterValue":"hours"},`+
				`{"ParameterName":"requiredFrequencyValue","ParameterValue":"12"}]},`+
				`{"ControlName":"BACKUP_LAST_RECOVERY_POINT_CREATED","ControlScope":{"Tags":{"backup":"daily"}}}]`)
		if !strings.Contains(jsonStr(out, "FrameworkArn"), ":framework:cli_fw-") {
			t.Errorf("aws backup create-framework = %v", out)
		}
		d := a.ok("describe-framework", "--framework-name", "cli_fw")
		cs := jsonList(t, d, "FrameworkControls")
		if len(cs) != 2 || jsonStr(cs[0], "ControlName") != "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" ||
			len(jsonList(t, cs[0], "ControlInputParameters")) != 3 || jsonStr(d, "DeploymentStatus") != "COMPLETED" {
			t.Errorf("aws backup describe-framework = %v", d)
		}
		// The plan runs daily, not every 12 hours: NON_COMPLIANT; orders is
		// the one table tagged backup=daily, and it is backed up.
		ev := evaluation(t, e.m, "cli_fw")
		if ev.Controls[0].Compliance != "NON_COMPLIANT" || ev.Controls[1].Compliance != "COMPLIANT" || len(ev.Controls[1].Resources) != 1 ||
			ev.Controls[1].Resources[0].ResourceName != "orders" {
			t.Errorf("evaluation of cli_fw = %+v", ev.Controls)
		}
		var names []string
		for _, f := range jsonList(t, a.ok("list-frameworks"), "Frameworks") {
			names = append(names, jsonStr(f, "FrameworkName"))
		}
		if !slices.Equal(names, []string{"cli_fw", "daily_audit"}) {
			t.Errorf("aws backup list-frameworks = %v", names)
		}
		a.ok("update-framework", "--framework-name", "cli_fw", "--framework-description", "from the CLI")
		if d := a.ok("describe-framework", "--framework-name", "cli_fw"); jsonStr(d, "FrameworkDescription") != "from the CLI" ||
			len(jsonList(t, d, "FrameworkControls")) != 2 {
			t.Errorf("after update-framework: %v", d)
		}
		a.fails("InvalidParameterValueException", "create-framework", "--framework-name", "cli_bad", "--framework-controls",
			`[{"ControlName":"BACKUP_LAST_RECOVERY_POINT_CREATED","ControlInputParameters":[{"ParameterName":"recoveryPointAgeValue","ParameterValue":"0"}]}]`)
		a.ok("delete-framework", "--framework-name", "cli_fw")
		a.fails("ResourceNotFoundException", "describe-framework", "--framework-name", "cli_fw")
	})

	t.Run("boto3", func(t *testing.T) {
		got := runAuditBoto3(t, e.m)
		if got["retry_same_arn"] != true || got["update_arn_same"] != true || got["creation_time_type"] != "datetime" {
			t.Errorf("boto3: %v", got)
		}
		d, _ := got["describe_framework"].(map[string]any)
		if d["DeploymentStatus"] != "COMPLETED" || d["FrameworkStatus"] != "ACTIVE" || d["IdempotencyToken"] != "boto-token-1" {
			t.Errorf("boto3 describe_framework = %v", d)
		}
		if l, _ := got["listed_frameworks"].([]any); len(l) != 2 {
			t.Errorf("boto3 list_frameworks = %v, want boto_fw and daily_audit", got["listed_frameworks"])
		}
		errs, _ := got["errors"].(map[string]any)
		for k, w := range map[string]string{"taken_name": "AlreadyExistsException", "unknown_control": "InvalidParameterValueException",
			"bad_value": "InvalidParameterValueException", "no_controls": "InvalidParameterValueException",
			"bad_name": "InvalidParameterValueException", "unknown_framework": "ResourceNotFoundException",
			"deleted": "ResourceNotFoundException", "delete_twice": "ResourceNotFoundException"} {
			if errs[k] != w {
				t.Errorf("boto3 %s: %v, want %s", k, errs[k], w)
			}
		}
	})
}
