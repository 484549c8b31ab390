package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

// TestBadRequestsNeverReachTheService sends malformed requests, signed,
// and checks the error each gets and that the service saw none of them.
func TestBadRequestsNeverReachTheService(t *testing.T) {
	rp := url.PathEscape(pointARN)
	validJob := `"BackupVaultName":"v1","ResourceArn":"` + tableARN + `","IamRoleArn":"` + roleARN + `"`
	tests := []struct {
		name, method, path, body string
		status                   int
		errType                  string
	}{
		{"unknown path", "GET", "/backup-plans/", "", 404, "UnknownOperationException"},
		{"unknown method", "PATCH", "/backup-vaults/v1", "", 404, "UnknownOperationException"},
		{"root", "GET", "/", "", 404, "UnknownOperationException"},

		{"vault name too short", "PUT", "/backup-vaults/v", "{}", 400, "InvalidParameterValueException"},
		{"vault name bad char", "GET", "/backup-vaults/v.1", "", 400, "InvalidParameterValueException"},
		{"vault name too long", "DELETE", "/backup-vaults/" + strings.Repeat("v", 51), "", 400, "InvalidParameterValueException"},
		{"create vault bad json", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":`, 400, "SerializationException"},
		{"create vault wrong type", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":["a"]}`, 400, "SerializationException"},
		{"create vault array body", "PUT", "/backup-vaults/v1", `[]`, 400, "SerializationException"},
		{"create vault bad key arn", "PUT", "/backup-vaults/v1", `{"EncryptionKeyArn":"key-1"}`, 400, "InvalidParameterValueException"},
		{"create vault empty tag key", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"":"x"}}`, 400, "InvalidParameterValueException"},
		{"describe vault bad account", "GET", "/backup-vaults/v1?backupVaultAccountId=12", "", 400, "InvalidParameterValueException"},
		{"put notifications no topic", "PUT", "/backup-vaults/v1/notification-configuration", `{"BackupVaultEvents":["BACKUP_JOB_FAILED"]}`, 400, "MissingParameterValueException"},
		{"put notifications no events", "PUT", "/backup-vaults/v1/notification-configuration", `{"SNSTopicArn":"arn:aws:sns:us-east-1:123456789012:t"}`, 400, "MissingParameterValueException"},
		{"put notifications empty events", "PUT", "/backup-vaults/v1/notification-configuration", `{"SNSTopicArn":"arn:aws:sns:us-east-1:123456789012:t","BackupVaultEvents":[]}`, 400, "InvalidParameterValueException"},
		{"put notifications unknown event", "PUT", "/backup-vaults/v1/notification-configuration", `{"SNSTopicArn":"arn:aws:sns:us-east-1:123456789012:t","BackupVaultEvents":["BACKUP_JOB_FAILED","JOB_EXPLODED"]}`, 400, "InvalidParameterValueException"},
		{"put notifications not an arn", "PUT", "/backup-vaults/v1/notification-configuration", `{"SNSTopicArn":"my-topic","BackupVaultEvents":["BACKUP_JOB_FAILED"]}`, 400, "InvalidParameterValueException"},
		{"put notifications sqs arn", "PUT", "/backup-vaults/v1/notification-configuration", `{"SNSTopicArn":"arn:aws:sqs:us-east-1:123456789012:q","BackupVaultEvents":["BACKUP_JOB_FAILED"]}`, 400, "InvalidParameterValueException"},
		{"put notifications bad vault", "PUT", "/backup-vaults/v.1/notification-configuration", `{"SNSTopicArn":"arn:aws:sns:us-east-1:123456789012:t","BackupVaultEvents":["BACKUP_JOB_FAILED"]}`, 400, "InvalidParameterValueException"},
		{"test notification no vault", "POST", "/cairn/notifications/test", "", 400, "MissingParameterValueException"},
		{"deliveries bad status", "GET", "/cairn/notifications/deliveries?status=LOST", "", 400, "InvalidParameterValueException"},
		{"list vaults bad type", "GET", "/backup-vaults/?vaultType=COLD", "", 400, "InvalidParameterValueException"},
		{"list vaults bad shared", "GET", "/backup-vaults/?shared=maybe", "", 400, "InvalidParameterValueException"},
		{"list vaults max 0", "GET", "/backup-vaults/?maxResults=0", "", 400, "InvalidParameterValueException"},
		{"list vaults max 1001", "GET", "/backup-vaults/?maxResults=1001", "", 400, "InvalidParameterValueException"},
		{"list vaults max abc", "GET", "/backup-vaults?maxResults=abc", "", 400, "InvalidParameterValueException"},

		{"start job empty body", "PUT", "/backup-jobs", "", 400, "MissingParameterValueException"},
		{"start job no role", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"` + tableARN + `"}`, 400, "MissingParameterValueException"},
		{"start job null vault", "PUT", "/backup-jobs", `{"BackupVaultName":null,"ResourceArn":"` + tableARN + `","IamRoleArn":"` + roleARN + `"}`, 400, "MissingParameterValueException"},
		{"start job bad json", "PUT", "/backup-jobs", `{` + validJob, 400, "SerializationException"},
		{"start job trailing data", "PUT", "/backup-jobs", `{` + validJob + `}{}`, 400, "SerializationException"},
		{"start job string window", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":"60"}`, 400, "SerializationException"},
		{"start job bad vault", "PUT", "/backup-jobs", `{"BackupVaultName":"v 1","ResourceArn":"` + tableARN + `","IamRoleArn":"` + roleARN + `"}`, 400, "InvalidParameterValueException"},
		{"start job not an arn", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"orders","IamRoleArn":"` + roleARN + `"}`, 400, "InvalidParameterValueException"},
		{"start job s3 arn", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"arn:aws:s3:::bucket","IamRoleArn":"` + roleARN + `"}`, 400, "InvalidParameterValueException"},
		{"start job bad role", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"` + tableARN + `","IamRoleArn":"role"}`, 400, "InvalidParameterValueException"},
		{"start job bad compression", "PUT", "/backup-jobs", `{` + validJob + `,"BackupOptions":{"Compression":"lz4"}}`, 400, "InvalidParameterValueException"},
		{"start job user not role", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"` + tableARN + `","IamRoleArn":"arn:aws:iam::123456789012:user/u"}`, 400, "InvalidParameterValueException"},
		{"start job negative window", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":-1}`, 400, "InvalidParameterValueException"},
		{"start job lifecycle too short", "PUT", "/backup-jobs", `{` + validJob + `,"Lifecycle":{"MoveToColdStorageAfterDays":10,"DeleteAfterDays":20}}`, 400, "InvalidParameterValueException"},
		{"start job negative lifecycle", "PUT", "/backup-jobs", `{` + validJob + `,"Lifecycle":{"DeleteAfterDays":-2}}`, 400, "InvalidParameterValueException"},
		{"start job unknown option", "PUT", "/backup-jobs", `{` + validJob + `,"BackupOptions":{"WindowsVSS":"enabled"}}`, 400, "InvalidParameterValueException"},
		{"start job bad segments", "PUT", "/backup-jobs", `{` + validJob + `,"BackupOptions":{"Segments":"0"}}`, 400, "InvalidParameterValueException"},
		// One set of rules with plan rules (issue 8.12) and AWS's limits (13.7).
		{"start job start window 0", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":0}`, 400, "InvalidParameterValueException"},
		{"start job start window 59", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":59}`, 400, "InvalidParameterValueException"},
		{"start job start window 10^15", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":1000000000000000,"CompleteWindowMinutes":1000000000000060}`, 400, "InvalidParameterValueException"},
		{"start job complete window 10^15", "PUT", "/backup-jobs", `{` + validJob + `,"CompleteWindowMinutes":1000000000000000}`, 400, "InvalidParameterValueException"},
		{"start job complete window 0", "PUT", "/backup-jobs", `{` + validJob + `,"CompleteWindowMinutes":0}`, 400, "InvalidParameterValueException"},
		{"start job complete before start", "PUT", "/backup-jobs", `{` + validJob + `,"StartWindowMinutes":120,"CompleteWindowMinutes":150}`, 400, "InvalidParameterValueException"},
		{"start job aws: tag", "PUT", "/backup-jobs", `{` + validJob + `,"RecoveryPointTags":{"aws:backup:source":"x"}}`, 400, "InvalidParameterValueException"},
		{"start job NUL tag key", "PUT", "/backup-jobs", `{` + validJob + `,"RecoveryPointTags":{"a\u0000b":"x"}}`, 400, "InvalidParameterValueException"},
		{"start job 51 tags", "PUT", "/backup-jobs", `{` + validJob + `,"RecoveryPointTags":` + manyTags(51) + `}`, 400, "InvalidParameterValueException"},
		{"start job account 0", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"arn:aws:dynamodb:eu-west-3:0:table/orders","IamRoleArn":"` + roleARN + `"}`, 400, "InvalidParameterValueException"},
		{"start job no region", "PUT", "/backup-jobs", `{"BackupVaultName":"v1","ResourceArn":"arn:aws:dynamodb::123456789012:table/orders","IamRoleArn":"` + roleARN + `"}`, 400, "InvalidParameterValueException"},
		{"create vault 51 tags", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":` + manyTags(51) + `}`, 400, "InvalidParameterValueException"},
		{"create vault NUL tag key", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"a\u0000":"x"}}`, 400, "InvalidParameterValueException"},
		{"create vault aws: tag", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"Aws:x":"x"}}`, 400, "InvalidParameterValueException"},
		{"create vault NUL tag value", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"k":"a\u0000"}}`, 400, "InvalidParameterValueException"},
		{"create vault NUL storage", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"cairn:storage":"/tmp/a\u0000"}}`, 400, "InvalidParameterValueException"},
		{"create vault misspelt reserved tag", "PUT", "/backup-vaults/v1", `{"BackupVaultTags":{"cairn:storge":"/tmp/x"}}`, 400, "InvalidParameterValueException"},
		{"create plan 51 tags", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1"}]},"BackupPlanTags":` + manyTags(51) + `}`, 400, "InvalidParameterValueException"},
		{"create plan never runs", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1","ScheduleExpression":"cron(0 5 31 2 ? *)"}]}}`, 400, "InvalidParameterValueException"},
		{"create plan start window 10^15", "PUT", "/backup/plans/", `{"BackupPlan":{"BackupPlanName":"p","Rules":[{"RuleName":"r","TargetBackupVaultName":"v1","StartWindowMinutes":1000000000000000}]}}`, 400, "InvalidParameterValueException"},

		// Tagging.
		{"tag no body", "POST", "/tags/" + url.PathEscape(vaultARN), "", 400, "MissingParameterValueException"},
		{"tag empty tags", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{}}`, 400, "MissingParameterValueException"},
		{"tag tags wrong type", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":[{"Key":"k","Value":"v"}]}`, 400, "SerializationException"},
		{"tag table arn", "POST", "/tags/" + url.PathEscape(tableARN), `{"Tags":{"k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag not an arn", "POST", "/tags/v1", `{"Tags":{"k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag account 0", "POST", "/tags/" + url.PathEscape("arn:aws:backup:eu-west-3:0:backup-vault:v1"), `{"Tags":{"k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag selection arn", "POST", "/tags/" + url.PathEscape("arn:aws:backup:eu-west-3:123456789012:backup-plan:p/selection/s"), `{"Tags":{"k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag bad vault name", "POST", "/tags/" + url.PathEscape("arn:aws:backup:eu-west-3:123456789012:backup-vault:a b"), `{"Tags":{"k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag framework", "POST", "/tags/" + url.PathEscape("arn:aws:backup:eu-west-3:123456789012:framework:f-1"), `{"Tags":{"k":"v"}}`, 400, "ResourceNotFoundException"},
		{"tag aws: key", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{"aws:k":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag NUL key", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{"\u0000":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag long key", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{"` + strings.Repeat("k", 129) + `":"v"}}`, 400, "InvalidParameterValueException"},
		{"tag long value", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{"k":"` + strings.Repeat("v", 257) + `"}}`, 400, "InvalidParameterValueException"},
		{"tag bad character", "POST", "/tags/" + url.PathEscape(vaultARN), `{"Tags":{"k":"a;b"}}`, 400, "InvalidParameterValueException"},
		{"untag no list", "POST", "/untag/" + url.PathEscape(vaultARN), `{}`, 400, "MissingParameterValueException"},
		{"untag empty list", "POST", "/untag/" + url.PathEscape(vaultARN), `{"TagKeyList":[]}`, 400, "MissingParameterValueException"},
		{"untag aws: key", "POST", "/untag/" + url.PathEscape(vaultARN), `{"TagKeyList":["aws:x"]}`, 400, "InvalidParameterValueException"},
		{"untag empty key", "POST", "/untag/" + url.PathEscape(vaultARN), `{"TagKeyList":[""]}`, 400, "InvalidParameterValueException"},
		{"untag dynamodb arn", "POST", "/untag/" + url.PathEscape(tableARN), `{"TagKeyList":["k"]}`, 400, "InvalidParameterValueException"},
		{"list tags max 0", "GET", "/tags/" + url.PathEscape(vaultARN) + "/?maxResults=0", "", 400, "InvalidParameterValueException"},
		{"list tags max 1001", "GET", "/tags/" + url.PathEscape(vaultARN) + "/?maxResults=1001", "", 400, "InvalidParameterValueException"},
		{"list tags bad arn", "GET", "/tags/" + url.PathEscape("arn:aws:backup:eu-west-3:123456789012:recovery-point:") + "/", "", 400, "InvalidParameterValueException"},
		{"start job air gapped", "PUT", "/backup-jobs", `{` + validJob + `,"LogicallyAirGappedBackupVaultArn":"arn:aws:backup:eu-west-3:123456789012:backup-vault:x"}`, 400, "InvalidParameterValueException"},

		{"list jobs bad state", "GET", "/backup-jobs/?state=DONE", "", 400, "InvalidParameterValueException"},
		{"list jobs bad created", "GET", "/backup-jobs/?createdAfter=yesterday", "", 400, "InvalidParameterValueException"},
		{"list jobs bad complete", "GET", "/backup-jobs/?completeBefore=2025-13-01", "", 400, "InvalidParameterValueException"},
		{"list jobs bad arn", "GET", "/backup-jobs/?resourceArn=table", "", 400, "InvalidParameterValueException"},
		{"list jobs bad vault", "GET", "/backup-jobs/?backupVaultName=a", "", 400, "InvalidParameterValueException"},
		{"list jobs bad account", "GET", "/backup-jobs/?accountId=abc", "", 400, "InvalidParameterValueException"},
		{"list jobs bad type", "GET", "/backup-jobs/?resourceType=Dynamo%20DB", "", 400, "InvalidParameterValueException"},
		{"list jobs message category", "GET", "/backup-jobs/?messageCategory=SUCCESS", "", 400, "InvalidParameterValueException"},
		{"list jobs max 2000", "GET", "/backup-jobs?maxResults=2000", "", 400, "InvalidParameterValueException"},

		{"list points bad vault", "GET", "/backup-vaults/x/recovery-points/", "", 400, "InvalidParameterValueException"},
		{"list points bad created", "GET", "/backup-vaults/v1/recovery-points/?createdBefore=soon", "", 400, "InvalidParameterValueException"},
		{"list points by resource bad arn", "GET", "/resources/orders/recovery-points/", "", 400, "InvalidParameterValueException"},
		{"list points by resource bad max", "GET", "/resources/" + url.PathEscape(tableARN) + "/recovery-points/?maxResults=-1", "", 400, "InvalidParameterValueException"},
		{"list points by resource bad bool", "GET", "/resources/" + url.PathEscape(tableARN) + "/recovery-points/?managedByAWSBackupOnly=2", "", 400, "InvalidParameterValueException"},
		{"describe point bad arn", "GET", "/backup-vaults/v1/recovery-points/" + url.PathEscape(tableARN), "", 400, "InvalidParameterValueException"},
		{"delete point bad arn", "DELETE", "/backup-vaults/v1/recovery-points/rp-1", "", 400, "InvalidParameterValueException"},
		{"restore metadata bad vault", "GET", "/backup-vaults/%20/recovery-points/" + rp + "/restore-metadata", "", 400, "InvalidParameterValueException"},
		{"protected resources bad max", "GET", "/resources/?maxResults=1e3", "", 400, "InvalidParameterValueException"},

		{"restore empty", "PUT", "/restore-jobs", `{}`, 400, "MissingParameterValueException"},
		{"restore no metadata", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + pointARN + `"}`, 400, "MissingParameterValueException"},
		{"restore no target", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + pointARN + `","Metadata":{}}`, 400, "MissingParameterValueException"},
		{"restore bad target", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + pointARN + `","Metadata":{"TargetTableName":"a/b"}}`, 400, "InvalidParameterValueException"},
		{"restore bad point", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + tableARN + `","Metadata":{"TargetTableName":"abc"}}`, 400, "InvalidParameterValueException"},
		{"restore bad role", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + pointARN + `","Metadata":{"TargetTableName":"abc"},"IamRoleArn":"x"}`, 400, "InvalidParameterValueException"},
		{"restore bad metadata type", "PUT", "/restore-jobs", `{"RecoveryPointArn":"` + pointARN + `","Metadata":{"TargetTableName":1}}`, 400, "SerializationException"},
		{"list restores bad status", "GET", "/restore-jobs/?status=DONE", "", 400, "InvalidParameterValueException"},
		{"list restores bad time", "GET", "/restore-jobs/?completeAfter=noon", "", 400, "InvalidParameterValueException"},
		{"list restores bad plan", "GET", "/restore-jobs/?restoreTestingPlanArn=plan", "", 400, "InvalidParameterValueException"},
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

// TestSDKGetsTypedValidationErrors checks validation errors through the
// SDK, which checks required members itself but not patterns.
func TestSDKGetsTypedValidationErrors(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	_, err := e.client.StartBackupJob(context.Background(), &backupsdk.StartBackupJobInput{
		BackupVaultName: aws.String("v1"), ResourceArn: aws.String("arn:aws:s3:::bucket"), IamRoleArn: aws.String(roleARN)})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Errorf("bad resource: err = %v", err)
	}
	_, err = e.client.StartRestoreJob(context.Background(), &backupsdk.StartRestoreJobInput{
		RecoveryPointArn: aws.String(pointARN), Metadata: map[string]string{"other": "x"}})
	var mpv *types.MissingParameterValueException
	if !errors.As(err, &mpv) {
		t.Errorf("no TargetTableName: err = %v", err)
	}
	_, err = e.client.ListBackupJobs(context.Background(), &backupsdk.ListBackupJobsInput{ByState: "SLEEPING"})
	if !errors.As(err, &ipv) {
		t.Errorf("bad state: err = %v", err)
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("the service was called: %+v", calls)
	}
}

// TestEmptyListsAreArrays checks that an empty list is [] on the wire, not
// null, so the CLI prints an empty list.
func TestEmptyListsAreArrays(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	for path, want := range map[string]string{
		"/backup-vaults/":                    `{"BackupVaultList":[]}`,
		"/backup-jobs/":                      `{"BackupJobs":[]}`,
		"/restore-jobs/":                     `{"RestoreJobs":[]}`,
		"/resources/":                        `{"Results":[]}`,
		"/backup-vaults/v1/recovery-points/": `{"RecoveryPoints":[]}`,
	} {
		status, _, body := e.do(t, "GET", path, nil, true)
		if status != 200 || string(body) != want {
			t.Errorf("GET %s = %d %s, want %s", path, status, body, want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	want := t0
	for _, s := range []string{
		"2025-03-04T05:06:07.123Z", "2025-03-04T07:06:07.123+02:00", "2025-03-04T05:06:07.123", "1741064767.123",
	} {
		got, err := parseTimestamp(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for s, w := range map[string]string{
		"2025-03-04":           "2025-03-04T00:00:00Z",
		"20250304T050607Z":     "2025-03-04T05:06:07Z",
		"1741064767":           "2025-03-04T05:06:07Z",
		"2025-03-04T05:06:07Z": "2025-03-04T05:06:07Z",
		"-1.5":                 "1969-12-31T23:59:58.5Z",
	} {
		got, err := parseTimestamp(s)
		if err != nil || got.Format("2006-01-02T15:04:05.999999999Z07:00") != w {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %s", s, got, err, w)
		}
	}
	for _, s := range []string{"", "now", "2025-02-30", "2025-03-04T25:00:00Z", "1e9", "0x10"} {
		if _, err := parseTimestamp(s); err == nil {
			t.Errorf("parseTimestamp(%q) succeeded", s)
		}
	}
}

// manyTags returns a JSON object of n distinct tags.
func manyTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%03d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
