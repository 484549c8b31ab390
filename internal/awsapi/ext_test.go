package awsapi

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func testStack() *backup.Stack {
	return &backup.Stack{
		Name:       "blog-stack",
		Parameters: map[string]string{"TagValue": "daily"},
		Resources: []backup.StackResource{
			{LogicalID: "Vault", Type: "AWS::Backup::BackupVault", PhysicalID: "main-vault", Status: backup.StackResourceApplied,
				Properties: `{"BackupVaultName":"main-vault"}`, Attributes: map[string]string{"Ref": "main-vault"}},
			{LogicalID: "Role", Type: "AWS::IAM::Role", Status: backup.StackResourceNotApplicable, Message: "not applicable"},
		},
		CreationDate: t0,
		UpdateDate:   t0.Add(time.Hour),
	}
}

func testStackResult() *backup.StackResult {
	return &backup.StackResult{Stack: testStack(), Changes: []backup.StackChange{
		{LogicalID: "Vault", Type: "AWS::Backup::BackupVault", PhysicalID: "main-vault", Action: "CREATE"},
		{LogicalID: "Role", Type: "AWS::IAM::Role", Action: "SKIP", Message: "not applicable"},
	}}
}

// testStackJSON is testStack on the wire, exactly.
const testStackJSON = `{"StackName":"blog-stack","Parameters":{"TagValue":"daily"},"Resources":[` +
	`{"LogicalId":"Vault","Type":"AWS::Backup::BackupVault","PhysicalId":"main-vault","Status":"APPLIED","Message":""},` +
	`{"LogicalId":"Role","Type":"AWS::IAM::Role","PhysicalId":"","Status":"NOT_APPLICABLE","Message":"not applicable"}],` +
	`"CreationDate":1741064767.123,"UpdateDate":1741068367.123}`

func TestApplyStack(t *testing.T) {
	e := newTestEnv(t, &fakeService{stackResult: testStackResult()}, nil)
	body, _ := json.Marshal(ApplyStackInput{TemplateBody: "Resources: {}\n", Parameters: map[string]string{"TagValue": "daily"}})
	status, _, out := e.do(t, "PUT", "/cairn/stacks/blog-stack", body, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, e.fake, "ApplyStack", backup.ApplyStackInput{
		StackName: "blog-stack", Template: []byte("Resources: {}\n"), Parameters: map[string]string{"TagValue": "daily"}})
	want := `{"Stack":` + testStackJSON + `,"Changes":[` +
		`{"LogicalId":"Vault","Type":"AWS::Backup::BackupVault","PhysicalId":"main-vault","Action":"CREATE","Message":""},` +
		`{"LogicalId":"Role","Type":"AWS::IAM::Role","PhysicalId":"","Action":"SKIP","Message":"not applicable"}]}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
	var dec StackChangesOutput
	if err := json.Unmarshal(out, &dec); err != nil {
		t.Fatal(err)
	}
	if !dec.Stack.UpdateDate.Time().Equal(t0.Add(time.Hour)) || len(dec.Changes) != 2 || dec.Changes[0].Action != "CREATE" {
		t.Errorf("decoded %+v", dec)
	}
}

func TestApplyStackTemplateOfOneMiB(t *testing.T) {
	e := newTestEnv(t, &fakeService{stackResult: &backup.StackResult{}}, nil)
	tmpl := "# " + strings.Repeat("\"x\"", (MaxTemplateBytes-3)/3) + "\n"
	body, _ := json.Marshal(ApplyStackInput{TemplateBody: tmpl})
	if len(body) <= maxBodyBytes {
		t.Fatalf("test body of %d bytes does not exceed the AWS routes' limit", len(body))
	}
	status, _, out := e.do(t, "PUT", "/cairn/stacks/big", body, true)
	if status != 200 || string(out) != `{"Stack":null,"Changes":[]}` {
		t.Fatalf("%d %s", status, out)
	}
	if in := lastCall(t, e.fake).In.(backup.ApplyStackInput); string(in.Template) != tmpl {
		t.Errorf("template of %d bytes arrived as %d bytes", len(tmpl), len(in.Template))
	}
}

func TestDeleteStack(t *testing.T) {
	e := newTestEnv(t, &fakeService{stackResult: testStackResult()}, nil)
	status, _, out := e.do(t, "DELETE", "/cairn/stacks/blog-stack", nil, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, e.fake, "DeleteStack", "blog-stack")
	var dec StackChangesOutput
	if err := json.Unmarshal(out, &dec); err != nil {
		t.Fatal(err)
	}
	if dec.Stack == nil || dec.Stack.StackName != "blog-stack" || len(dec.Changes) != 2 || dec.Changes[1].Message != "not applicable" {
		t.Errorf("decoded %+v", dec)
	}
}

func TestGetStack(t *testing.T) {
	e := newTestEnv(t, &fakeService{stack: testStack()}, nil)
	status, _, out := e.do(t, "GET", "/cairn/stacks/blog-stack", nil, true)
	if status != 200 || string(out) != `{"Stack":`+testStackJSON+`}` {
		t.Fatalf("%d %s\nwant {\"Stack\":%s}", status, out, testStackJSON)
	}
	onlyCall(t, e.fake, "GetStack", "blog-stack")

	e.fake.errs = map[string]error{"GetStack": backup.NotFound("Stack", "gone")}
	status, errType, out := e.do(t, "GET", "/cairn/stacks/gone", nil, true)
	if status != 400 || errType != "ResourceNotFoundException" || errorOf(t, out).Message != "Stack gone not found" {
		t.Errorf("not found: %d %s %s", status, errType, out)
	}
}

func TestExplainResource(t *testing.T) {
	rule := backup.BackupRule{RuleID: "rule-1", RuleName: "daily", TargetBackupVaultName: "main-vault",
		ScheduleExpression: "cron(0 5 ? * * *)", ScheduleExpressionTimezone: "Europe/Paris",
		StartWindowMinutes: 60, CompletionWindowMinutes: 120}
	fake := &fakeService{explanation: &backup.Explanation{
		Resource: backup.Resource{ARN: tableARN, Type: "DynamoDB", Name: "orders.v2", Tags: map[string]string{"backup": "daily"}},
		Verdicts: []backup.SelectionVerdict{
			{BackupPlanID: "plan-1", BackupPlanName: "blog", BackupPlanARN: "arn:aws:backup:eu-west-3:123456789012:backup-plan:plan-1",
				VersionID: "v1", SelectionID: "sel-1", SelectionName: "tagged", Covered: true,
				Reason: "tag backup=daily matches ListOfTags", Rules: []backup.BackupRule{rule}},
			{BackupPlanID: "plan-2", BackupPlanName: "other", SelectionID: "sel-2", SelectionName: "by-name",
				Reason: "not in Resources"},
		},
	}}
	e := newTestEnv(t, fake, nil)
	status, _, out := e.do(t, "GET", "/cairn/explain?resourceArn="+url.QueryEscape(tableARN), nil, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	onlyCall(t, fake, "ExplainResource", tableARN)
	want := `{"ResourceArn":"` + tableARN + `","ResourceType":"DynamoDB","ResourceName":"orders.v2","Tags":{"backup":"daily"},` +
		`"Covered":true,"Verdicts":[{"BackupPlanId":"plan-1","BackupPlanName":"blog",` +
		`"BackupPlanArn":"arn:aws:backup:eu-west-3:123456789012:backup-plan:plan-1","VersionId":"v1","SelectionId":"sel-1",` +
		`"SelectionName":"tagged","Covered":true,"Reason":"tag backup=daily matches ListOfTags","Rules":[{"RuleId":"rule-1",` +
		`"RuleName":"daily","ScheduleExpression":"cron(0 5 ? * * *)","ScheduleExpressionTimezone":"Europe/Paris",` +
		`"TargetBackupVaultName":"main-vault","StartWindowMinutes":60,"CompletionWindowMinutes":120}]},` +
		`{"BackupPlanId":"plan-2","BackupPlanName":"other","BackupPlanArn":"","VersionId":"","SelectionId":"sel-2",` +
		`"SelectionName":"by-name","Covered":false,"Reason":"not in Resources","Rules":[]}]}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
}

func TestExplainUncoveredResource(t *testing.T) {
	fake := &fakeService{explanation: &backup.Explanation{Resource: backup.Resource{ARN: tableARN, Type: "DynamoDB", Name: "orders.v2"}}}
	e := newTestEnv(t, fake, nil)
	status, _, out := e.do(t, "GET", "/cairn/explain?resourceArn="+url.QueryEscape(tableARN), nil, true)
	var dec Explanation
	if err := json.Unmarshal(out, &dec); status != 200 || err != nil {
		t.Fatalf("%d %s %v", status, out, err)
	}
	want := Explanation{ResourceArn: tableARN, ResourceType: "DynamoDB", ResourceName: "orders.v2",
		Tags: map[string]string{}, Verdicts: []Verdict{}}
	if !reflect.DeepEqual(dec, want) {
		t.Errorf("decoded %+v, want %+v", dec, want)
	}
}

func TestExtensionsNeedSignatures(t *testing.T) {
	e := newTestEnv(t, &fakeService{stack: testStack()}, nil)
	status, errType, _ := e.do(t, "GET", "/cairn/stacks/blog-stack", nil, false)
	if status != 403 || errType == "" {
		t.Errorf("unsigned: %d %s", status, errType)
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

func TestBadExtensionRequestsNeverReachTheService(t *testing.T) {
	tooBig, _ := json.Marshal(ApplyStackInput{TemplateBody: strings.Repeat("a", MaxTemplateBytes+1)})
	tests := []struct {
		name, method, path, body string
		status                   int
		errType                  string
	}{
		{"apply no body", "PUT", "/cairn/stacks/s1", "", 400, "MissingParameterValueException"},
		{"apply empty template", "PUT", "/cairn/stacks/s1", `{"TemplateBody":""}`, 400, "MissingParameterValueException"},
		{"apply bad json", "PUT", "/cairn/stacks/s1", `{"TemplateBody":`, 400, "SerializationException"},
		{"apply template not a string", "PUT", "/cairn/stacks/s1", `{"TemplateBody":{"Resources":{}}}`, 400, "SerializationException"},
		{"apply parameter not a string", "PUT", "/cairn/stacks/s1", `{"TemplateBody":"x","Parameters":{"A":1}}`, 400, "SerializationException"},
		{"apply empty parameter name", "PUT", "/cairn/stacks/s1", `{"TemplateBody":"x","Parameters":{"":"v"}}`, 400, "InvalidParameterValueException"},
		{"apply template too large", "PUT", "/cairn/stacks/s1", string(tooBig), 400, "InvalidParameterValueException"},
		{"apply body too large", "PUT", "/cairn/stacks/s1", strings.Repeat(" ", maxExtBodyBytes+1), 413, "RequestEntityTooLargeException"},
		{"apply bad name", "PUT", "/cairn/stacks/1stack", `{"TemplateBody":"x"}`, 400, "InvalidParameterValueException"},
		{"apply name underscore", "PUT", "/cairn/stacks/my_stack", `{"TemplateBody":"x"}`, 400, "InvalidParameterValueException"},
		{"apply name too long", "PUT", "/cairn/stacks/s" + strings.Repeat("a", 128), `{"TemplateBody":"x"}`, 400, "InvalidParameterValueException"},
		{"delete bad name", "DELETE", "/cairn/stacks/a.b", "", 400, "InvalidParameterValueException"},
		{"get bad name", "GET", "/cairn/stacks/%20", "", 400, "InvalidParameterValueException"},
		{"stacks without name", "GET", "/cairn/stacks/", "", 404, "UnknownOperationException"},
		{"stack bad method", "POST", "/cairn/stacks/s1", "", 404, "UnknownOperationException"},
		{"explain no arn", "GET", "/cairn/explain", "", 400, "MissingParameterValueException"},
		{"explain not an arn", "GET", "/cairn/explain?resourceArn=orders", "", 400, "InvalidParameterValueException"},
		{"explain not a table", "GET", "/cairn/explain?resourceArn=" + url.QueryEscape(pointARN), "", 400, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, nil)
			status, errType, body := e.do(t, tt.method, tt.path, []byte(tt.body), true)
			if status != tt.status || errType != tt.errType {
				t.Fatalf("%s %s: %d %s %.300s, want %d %s", tt.method, tt.path, status, errType, body, tt.status, tt.errType)
			}
			if eb := errorOf(t, body); eb.Code != tt.errType || eb.Message == "" {
				t.Errorf("body = %+v", eb)
			}
			if calls := e.fake.Calls(); len(calls) != 0 {
				t.Errorf("the service was called: %+v", calls)
			}
		})
	}
}

// GET /cairn/cluster: the nodes on the wire, exactly; the service's
// Unavailable (a node cut off from its catalog) is AWS's
// ServiceUnavailableException.
func TestGetCluster(t *testing.T) {
	e := newTestEnv(t, &fakeService{}, nil)
	status, _, out := e.do(t, "GET", "/cairn/cluster", nil, true)
	if status != 200 {
		t.Fatalf("status %d: %s", status, out)
	}
	want := `{"Catalog":"postgres","Self":"N1","Leader":"N2","Nodes":[` +
		`{"NodeId":"N1","Address":"10.0.0.1:7171","MaxJobs":4,"StartTime":1796328000,"LastHeartbeat":1796328060,"Leader":false,"Alive":true,"RunningJobs":["J1"]},` +
		`{"NodeId":"N2","Address":"10.0.0.2:7171","MaxJobs":8,"StartTime":1796328000,"LastHeartbeat":1796328060,"Leader":true,"Alive":true,"RunningJobs":[]}]}`
	if string(out) != want {
		t.Errorf("body\n%s\nwant\n%s", out, want)
	}
	e = newTestEnv(t, &fakeService{errs: map[string]error{"ClusterStatus": backup.Errorf(backup.ErrUnavailable, "cut off")}}, nil)
	if status, _, out := e.do(t, "GET", "/cairn/cluster", nil, true); status != 500 || !strings.Contains(string(out), "ServiceUnavailableException") {
		t.Errorf("unavailable: status %d: %s", status, out)
	}
}
