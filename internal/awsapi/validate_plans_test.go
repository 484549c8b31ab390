package awsapi

import (
	"net/url"
	"strings"
	"testing"
)

// TestBadPlanRequestsNeverReachTheService sends malformed plan, selection,
// copy job and lifecycle requests, signed, and checks the error each gets
// and that the service saw none of them.
func TestBadPlanRequestsNeverReachTheService(t *testing.T) {
	rp := url.PathEscape(pointARN)
	rule := `"RuleName":"daily","TargetBackupVaultName":"v1"`
	plan := func(rules string) string { return `{"BackupPlan":{"BackupPlanName":"p","Rules":[` + rules + `]}}` }
	ruleWith := func(extra string) string { return plan(`{` + rule + `,` + extra + `}`) }
	sel := `"SelectionName":"s1","IamRoleArn":"` + roleARN + `"`
	selWith := func(extra string) string { return `{"BackupSelection":{` + sel + `,` + extra + `}}` }
	cp := `"RecoveryPointArn":"` + pointARN + `","SourceBackupVaultName":"v1","DestinationBackupVaultArn":"` + offsiteARN + `","IamRoleArn":"` + roleARN + `"`
	tests := []struct {
		name, method, path, body string
		status                   int
		errType                  string
	}{
		{"create plan empty", "PUT", "/backup/plans/", `{}`, 400, "MissingParameterValueException"},
		{"create plan no name", "PUT", "/backup/plans/", `{"BackupPlan":{"Rules":[{` + rule + `}]}}`, 400, "MissingParameterValueException"},
		{"create plan no rules", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p"}}`, 400, "MissingParameterValueException"},
		{"create plan empty rules", "PUT", "/backup/plans/", plan(``), 400, "InvalidParameterValueException"},
		{"create plan rule no name", "PUT", "/backup/plans/", plan(`{"TargetBackupVaultName":"v1"}`), 400, "MissingParameterValueException"},
		{"create plan rule no vault", "PUT", "/backup/plans/", plan(`{"RuleName":"r"}`), 400, "MissingParameterValueException"},
		{"create plan rule bad name", "PUT", "/backup/plans/", plan(`{"RuleName":"daily rule","TargetBackupVaultName":"v1"}`), 400, "InvalidParameterValueException"},
		{"create plan rule bad vault", "PUT", "/backup/plans/", plan(`{"RuleName":"r","TargetBackupVaultName":"v"}`), 400, "InvalidParameterValueException"},
		{"create plan start window 59", "PUT", "/backup/plans/", ruleWith(`"StartWindowMinutes":59`), 400, "InvalidParameterValueException"},
		{"create plan completion window 0", "PUT", "/backup/plans/", ruleWith(`"CompletionWindowMinutes":0`), 400, "InvalidParameterValueException"},
		{"create plan window string", "PUT", "/backup/plans/", ruleWith(`"StartWindowMinutes":"60"`), 400, "SerializationException"},
		{"create plan lifecycle 90 days", "PUT", "/backup/plans/", ruleWith(`"Lifecycle":{"MoveToColdStorageAfterDays":30,"DeleteAfterDays":119}`), 400, "InvalidParameterValueException"},
		{"create plan lifecycle 100 years", "PUT", "/backup/plans/", ruleWith(`"Lifecycle":{"DeleteAfterDays":36501}`), 400, "InvalidParameterValueException"},
		{"create plan lifecycle after event", "PUT", "/backup/plans/", ruleWith(`"Lifecycle":{"DeleteAfterEvent":"DELETE_AFTER_COPY"}`), 400, "InvalidParameterValueException"},
		{"create plan copy no vault", "PUT", "/backup/plans/", ruleWith(`"CopyActions":[{}]`), 400, "MissingParameterValueException"},
		{"create plan copy not a vault arn", "PUT", "/backup/plans/", ruleWith(`"CopyActions":[{"DestinationBackupVaultArn":"` + tableARN + `"}]`), 400, "InvalidParameterValueException"},
		{"create plan copy bad vault name", "PUT", "/backup/plans/", ruleWith(`"CopyActions":[{"DestinationBackupVaultArn":"arn:aws:backup:eu-west-3:123456789012:backup-vault:x"}]`), 400, "InvalidParameterValueException"},
		{"create plan copy bad lifecycle", "PUT", "/backup/plans/", ruleWith(`"CopyActions":[{"DestinationBackupVaultArn":"` + offsiteARN + `","Lifecycle":{"DeleteAfterDays":-1}}]`), 400, "InvalidParameterValueException"},
		{"create plan air gapped", "PUT", "/backup/plans/", ruleWith(`"TargetLogicallyAirGappedBackupVaultArn":"` + offsiteARN + `"`), 400, "InvalidParameterValueException"},
		{"create plan index actions", "PUT", "/backup/plans/", ruleWith(`"IndexActions":[{"ResourceTypes":["EBS"]}]`), 400, "InvalidParameterValueException"},
		{"create plan scan actions", "PUT", "/backup/plans/", ruleWith(`"ScanActions":[{"MalwareScanner":"GUARDDUTY"}]`), 400, "InvalidParameterValueException"},
		{"create plan scan settings", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{` + rule + `}],"ScanSettings":[{}]}}`, 400, "InvalidParameterValueException"},
		{"create plan bad tags", "PUT", "/backup/plans/", ruleWith(`"RecoveryPointTags":{"":"x"}`), 400, "InvalidParameterValueException"},
		{"create plan bad plan tags", "PUT", "/backup/plans", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{` + rule + `}]},"BackupPlanTags":{"k":"` + strings.Repeat("v", 257) + `"}}`, 400, "InvalidParameterValueException"},
		{"create plan bad advanced type", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{` + rule + `}],"AdvancedBackupSettings":[{"ResourceType":"E C2"}]}}`, 400, "InvalidParameterValueException"},
		{"create plan bad json", "PUT", "/backup/plans/", `{"BackupPlan":`, 400, "SerializationException"},

		{"get plan bad id", "GET", "/backup/plans/plan%20one/", "", 400, "InvalidParameterValueException"},
		{"get plan bad version", "GET", "/backup/plans/plan-1/?versionId=v%201", "", 400, "InvalidParameterValueException"},
		{"get plan preview 11", "GET", "/backup/plans/plan-1/?MaxScheduledRunsPreview=11", "", 400, "InvalidParameterValueException"},
		{"get plan preview -1", "GET", "/backup/plans/plan-1?MaxScheduledRunsPreview=-1", "", 400, "InvalidParameterValueException"},
		{"list plans bad deleted", "GET", "/backup/plans/?includeDeleted=perhaps", "", 400, "InvalidParameterValueException"},
		{"list plans max 0", "GET", "/backup/plans/?maxResults=0", "", 400, "InvalidParameterValueException"},
		{"list versions max 1001", "GET", "/backup/plans/plan-1/versions/?maxResults=1001", "", 400, "InvalidParameterValueException"},
		{"update plan bad id", "POST", "/backup/plans/-x", plan(`{` + rule + `}`), 400, "InvalidParameterValueException"},
		{"update plan no plan", "POST", "/backup/plans/plan-1", `{}`, 400, "MissingParameterValueException"},
		{"update plan bad rule", "POST", "/backup/plans/plan-1", ruleWith(`"StartWindowMinutes":1`), 400, "InvalidParameterValueException"},
		{"delete plan bad id", "DELETE", "/backup/plans/" + strings.Repeat("p", 129), "", 400, "InvalidParameterValueException"},
		{"plan from json missing", "POST", "/backup/template/json/toPlan", `{}`, 400, "MissingParameterValueException"},
		{"plan from json not json", "POST", "/backup/template/json/toPlan", `{"BackupPlanTemplateJson":"{plan"}`, 400, "InvalidParameterValueException"},
		{"plan from json not a string", "POST", "/backup/template/json/toPlan", `{"BackupPlanTemplateJson":{}}`, 400, "SerializationException"},

		{"create selection no body", "PUT", "/backup/plans/plan-1/selections/", `{}`, 400, "MissingParameterValueException"},
		{"create selection bad plan", "PUT", "/backup/plans/plan%201/selections/", selWith(`"Resources":["*"]`), 400, "InvalidParameterValueException"},
		{"create selection no name", "PUT", "/backup/plans/plan-1/selections/", `{"BackupSelection":{"IamRoleArn":"` + roleARN + `"}}`, 400, "MissingParameterValueException"},
		{"create selection no role", "PUT", "/backup/plans/plan-1/selections/", `{"BackupSelection":{"SelectionName":"s1"}}`, 400, "MissingParameterValueException"},
		{"create selection bad name", "PUT", "/backup/plans/plan-1/selections/", `{"BackupSelection":{"SelectionName":"s/1","IamRoleArn":"` + roleARN + `"}}`, 400, "InvalidParameterValueException"},
		{"create selection bad role", "PUT", "/backup/plans/plan-1/selections/", `{"BackupSelection":{"SelectionName":"s1","IamRoleArn":"` + tableARN + `"}}`, 400, "InvalidParameterValueException"},
		{"create selection bad resource", "PUT", "/backup/plans/plan-1/selections/", selWith(`"Resources":["orders"]`), 400, "InvalidParameterValueException"},
		{"create selection bad not resource", "PUT", "/backup/plans/plan-1/selections/", selWith(`"NotResources":["table/*"]`), 400, "InvalidParameterValueException"},
		{"create selection tag no type", "PUT", "/backup/plans/plan-1/selections/", selWith(`"ListOfTags":[{"ConditionKey":"k","ConditionValue":"v"}]`), 400, "MissingParameterValueException"},
		{"create selection tag no value", "PUT", "/backup/plans/plan-1/selections/", selWith(`"ListOfTags":[{"ConditionType":"STRINGEQUALS","ConditionKey":"k"}]`), 400, "MissingParameterValueException"},
		{"create selection tag bad type", "PUT", "/backup/plans/plan-1/selections/", selWith(`"ListOfTags":[{"ConditionType":"STRINGLIKE","ConditionKey":"k","ConditionValue":"v"}]`), 400, "InvalidParameterValueException"},
		{"create selection condition no key", "PUT", "/backup/plans/plan-1/selections/", selWith(`"Conditions":{"StringLike":[{"ConditionValue":"v"}]}`), 400, "MissingParameterValueException"},
		{"create selection condition no value", "PUT", "/backup/plans/plan-1/selections/", selWith(`"Conditions":{"StringNotLike":[{"ConditionKey":"aws:ResourceTag/k"}]}`), 400, "MissingParameterValueException"},
		{"create selection resources not a list", "PUT", "/backup/plans/plan-1/selections/", selWith(`"Resources":"*"`), 400, "SerializationException"},
		{"get selection bad id", "GET", "/backup/plans/plan-1/selections/sel%201", "", 400, "InvalidParameterValueException"},
		{"delete selection bad plan", "DELETE", "/backup/plans/%2Dp/selections/sel-1", "", 400, "InvalidParameterValueException"},
		{"list selections bad max", "GET", "/backup/plans/plan-1/selections/?maxResults=x", "", 400, "InvalidParameterValueException"},

		{"start copy empty", "PUT", "/copy-jobs", `{}`, 400, "MissingParameterValueException"},
		{"start copy no role", "PUT", "/copy-jobs", `{"RecoveryPointArn":"` + pointARN + `","SourceBackupVaultName":"v1","DestinationBackupVaultArn":"` + offsiteARN + `"}`, 400, "MissingParameterValueException"},
		{"start copy bad point", "PUT", "/copy-jobs", strings.Replace(`{`+cp+`}`, pointARN, tableARN, 1), 400, "InvalidParameterValueException"},
		{"start copy bad source", "PUT", "/copy-jobs", strings.Replace(`{`+cp+`}`, `"v1"`, `"v 1"`, 1), 400, "InvalidParameterValueException"},
		{"start copy bad destination", "PUT", "/copy-jobs", strings.Replace(`{`+cp+`}`, offsiteARN, "offsite", 1), 400, "InvalidParameterValueException"},
		{"start copy bad role", "PUT", "/copy-jobs", strings.Replace(`{`+cp+`}`, roleARN, "arn:aws:iam::123456789012:user/u", 1), 400, "InvalidParameterValueException"},
		{"start copy bad lifecycle", "PUT", "/copy-jobs", `{` + cp + `,"Lifecycle":{"MoveToColdStorageAfterDays":5,"DeleteAfterDays":6}}`, 400, "InvalidParameterValueException"},
		{"describe copy bad id", "GET", "/copy-jobs/.x", "", 400, "InvalidParameterValueException"},
		{"list copies bad state", "GET", "/copy-jobs/?state=ABORTED", "", 400, "InvalidParameterValueException"},
		{"list copies bad destination", "GET", "/copy-jobs/?destinationVaultArn=offsite", "", 400, "InvalidParameterValueException"},
		{"list copies bad time", "GET", "/copy-jobs/?createdAfter=later", "", 400, "InvalidParameterValueException"},
		{"list copies bad account", "GET", "/copy-jobs/?accountId=1", "", 400, "InvalidParameterValueException"},
		{"list copies source point", "GET", "/copy-jobs/?sourceRecoveryPointArn=" + url.QueryEscape(pointARN), "", 400, "InvalidParameterValueException"},
		{"list copies message category", "GET", "/copy-jobs?messageCategory=SUCCESS", "", 400, "InvalidParameterValueException"},

		{"update lifecycle no lifecycle", "POST", "/backup-vaults/v1/recovery-points/" + rp, `{}`, 400, "MissingParameterValueException"},
		{"update lifecycle bad vault", "POST", "/backup-vaults/v/recovery-points/" + rp, `{"Lifecycle":{}}`, 400, "InvalidParameterValueException"},
		{"update lifecycle bad point", "POST", "/backup-vaults/v1/recovery-points/rp-1", `{"Lifecycle":{}}`, 400, "InvalidParameterValueException"},
		{"update lifecycle too short", "POST", "/backup-vaults/v1/recovery-points/" + rp, `{"Lifecycle":{"MoveToColdStorageAfterDays":1,"DeleteAfterDays":2}}`, 400, "InvalidParameterValueException"},
		{"update lifecycle not a number", "POST", "/backup-vaults/v1/recovery-points/" + rp, `{"Lifecycle":{"DeleteAfterDays":"7"}}`, 400, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, nil)
			status, errType, body := e.do(t, tt.method, tt.path, []byte(tt.body), true)
			if status != tt.status || errType != tt.errType {
				t.Fatalf("%s %s: %d %s %s, want %d %s", tt.method, tt.path, status, errType, body, tt.status, tt.errType)
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

// TestPlanErrorsNameTheMember checks that a bad member deep in a plan is
// named in the message, with what to change.
func TestPlanErrorsNameTheMember(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	body := `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"a","TargetBackupVaultName":"v1"},` +
		`{"RuleName":"b","TargetBackupVaultName":"v1","CopyActions":[{"DestinationBackupVaultArn":"` + offsiteARN + `",` +
		`"Lifecycle":{"MoveToColdStorageAfterDays":10,"DeleteAfterDays":20}}]}]}}`
	_, _, out := e.do(t, "PUT", "/backup/plans/", []byte(body), true)
	msg := errorOf(t, out).Message
	for _, want := range []string{"BackupPlan.Rules[1].CopyActions[0].Lifecycle.DeleteAfterDays", "raise it to 100"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}
