package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/testbed"
)

const (
	sourceKey = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	otherKey  = "arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000"
)

// settingsTable creates, on moto, a table with what moto keeps of
// DynamoDB's settings: warm throughput of the table and its GSI above the
// on-demand defaults, KMS encryption with a customer key, deletion
// protection, and a few items.
func settingsTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	s := aws.String
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: s(name),
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: s("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: s("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: s("g"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: s("by-g"),
			KeySchema:      []ddbtypes.KeySchemaElement{{AttributeName: s("g"), KeyType: ddbtypes.KeyTypeHash}},
			Projection:     &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
			WarmThroughput: &ddbtypes.WarmThroughput{ReadUnitsPerSecond: aws.Int64(13000), WriteUnitsPerSecond: aws.Int64(4500)}}},
		WarmThroughput:            &ddbtypes.WarmThroughput{ReadUnitsPerSecond: aws.Int64(15000), WriteUnitsPerSecond: aws.Int64(5000)},
		SSESpecification:          &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: s(sourceKey)},
		DeletionProtectionEnabled: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s(name), Item: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "k" + string(rune('a'+i))},
			"g":  &ddbtypes.AttributeValueMemberS{Value: "g"}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// restoredSettings describes what a restored table on moto shows of those
// settings.
func restoredSettings(t *testing.T, db *dynamodb.Client, name string) (warm, indexWarm [2]int64, kmsKey string, protected bool) {
	t.Helper()
	d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Table.WarmThroughput; w != nil {
		warm = [2]int64{aws.ToInt64(w.ReadUnitsPerSecond), aws.ToInt64(w.WriteUnitsPerSecond)}
	}
	if len(d.Table.GlobalSecondaryIndexes) == 1 && d.Table.GlobalSecondaryIndexes[0].WarmThroughput != nil {
		w := d.Table.GlobalSecondaryIndexes[0].WarmThroughput
		indexWarm = [2]int64{aws.ToInt64(w.ReadUnitsPerSecond), aws.ToInt64(w.WriteUnitsPerSecond)}
	}
	if e := d.Table.SSEDescription; e != nil && e.SSEType == ddbtypes.SSETypeKms {
		kmsKey = aws.ToString(e.KMSMasterKeyArn)
	}
	return warm, indexWarm, kmsKey, aws.ToBool(d.Table.DeletionProtectionEnabled)
}

// GetRecoveryPointRestoreMetadata reports the point's settings with AWS's
// DynamoDB keys; its answer, sent back with a table name added, restores
// the table as it was (SDK, AWS CLI and boto3), and AWS's keys change what
// they name. Table names may be given as targetTableName (AWS's spelling)
// or TargetTableName.
func TestRestoreMetadataRoundTrip(t *testing.T) {
	moto := testbed.Moto(t)
	m := testServer(t, t.TempDir(), moto.Endpoint)
	c, db := backupClient(m), ddbClient(moto.Endpoint)
	ctx := context.Background()
	settingsTable(t, db, "settings")
	j := waitBackupJob(t, c, startBackup(t, c, "settings"))
	if j.State != bktypes.BackupJobStateCompleted || aws.ToString(j.MessageCategory) != "SUCCESS" {
		t.Fatalf("backup %s %q, category %q", j.State, aws.ToString(j.StatusMessage), aws.ToString(j.MessageCategory))
	}
	point := aws.ToString(j.RecoveryPointArn)
	md, err := c.GetRecoveryPointRestoreMetadata(ctx, &bk.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String("Default"), RecoveryPointArn: aws.String(point)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restore metadata: %v", md.RestoreMetadata)
	for k, want := range map[string]string{"encryptionType": "KMS", "kmsMasterKeyArn": sourceKey, "deletionProtection": "true",
		"BillingMode": "PAY_PER_REQUEST", "originalTableName": "settings", "ItemCount": "20",
		"WarmThroughput":      `{"ReadUnitsPerSecond":15000,"WriteUnitsPerSecond":5000}`,
		"IndexWarmThroughput": `{"by-g":{"ReadUnitsPerSecond":13000,"WriteUnitsPerSecond":4500}}`} {
		if got := md.RestoreMetadata[k]; got != want {
			t.Errorf("restore metadata %s = %q, want %q", k, got, want)
		}
	}
	restore := func(meta map[string]string) *bk.DescribeRestoreJobOutput {
		t.Helper()
		out, err := c.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(point), Metadata: meta, IamRoleArn: aws.String(role)})
		if err != nil {
			t.Fatalf("start restore %v: %v", meta, err)
		}
		r := waitRestoreJob(t, c, aws.ToString(out.RestoreJobId))
		if r.Status != bktypes.RestoreJobStatusCompleted || r.ValidationStatus != bktypes.RestoreValidationStatusSuccessful {
			t.Fatalf("restore %v: %s %q, validation %s", meta, r.Status, aws.ToString(r.StatusMessage), r.ValidationStatus)
		}
		return r
	}
	asBefore := func(table string) {
		t.Helper()
		warm, indexWarm, key, protected := restoredSettings(t, db, table)
		if warm != [2]int64{15000, 5000} || indexWarm != [2]int64{13000, 4500} || key != sourceKey || !protected {
			t.Errorf("%s: warm %v, index warm %v, key %q, protected %v; want the source's", table, warm, indexWarm, key, protected)
		}
	}

	// SDK: the answer unchanged plus a name restores the table as it was.
	meta := maps.Clone(md.RestoreMetadata)
	meta["targetTableName"] = "sdk-copy"
	restore(meta)
	asBefore("sdk-copy")

	// An explicit choice overrides what the point recorded.
	meta = maps.Clone(md.RestoreMetadata)
	delete(meta, "kmsMasterKeyArn")
	meta["TargetTableName"], meta["encryptionType"], meta["deletionProtection"] = "sdk-default", "Default", "false"
	restore(meta)
	if _, _, key, protected := restoredSettings(t, db, "sdk-default"); key != "" || protected {
		t.Errorf("sdk-default: key %q, protected %v; want the default key, unprotected", key, protected)
	}
	restore(map[string]string{"targetTableName": "sdk-other-key", "kmsMasterKeyArn": otherKey})
	if _, _, key, protected := restoredSettings(t, db, "sdk-other-key"); key != otherKey || !protected {
		t.Errorf("sdk-other-key: key %q, protected %v; want %s, protected as recorded", key, protected, otherKey)
	}

	// What describes the point cannot be changed, unknown keys are named,
	// and nothing is created.
	for _, bad := range []map[string]string{
		{"targetTableName": "bad-1", "ItemCount": "21"},
		{"targetTableName": "bad-2", "kmsKeyArn": otherKey},
		{"targetTableName": "bad-3", "encryptionType": "AES256"},
		{"targetTableName": "bad-4", "TargetTableName": "bad-5"},
	} {
		_, err := c.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(point), Metadata: bad, IamRoleArn: aws.String(role)})
		var ipv *bktypes.InvalidParameterValueException
		if !errors.As(err, &ipv) {
			t.Errorf("metadata %v: err %v, want InvalidParameterValueException", bad, err)
		}
	}

	// The AWS CLI: get-recovery-point-restore-metadata, then
	// start-restore-job --metadata with its output and a name.
	testbed.AWSCLI(t)
	awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	got := awscli.ok("get-recovery-point-restore-metadata", "--backup-vault-name", "Default", "--recovery-point-arn", point)
	cliMeta, _ := got["RestoreMetadata"].(map[string]any)
	cliMeta["targetTableName"] = "cli-copy"
	file := filepath.Join(t.TempDir(), "metadata.json")
	b, _ := json.Marshal(cliMeta)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	v := awscli.ok("start-restore-job", "--recovery-point-arn", point, "--iam-role-arn", role, "--metadata", "file://"+file)
	v = awscli.poll("Status", []string{"COMPLETED", "FAILED", "ABORTED"}, "describe-restore-job", "--restore-job-id", jsonStr(v, "RestoreJobId"))
	if jsonStr(v, "Status") != "COMPLETED" {
		t.Fatalf("CLI restore: %v", v)
	}
	asBefore("cli-copy")
	// AWS's documented spelling in the CLI's shorthand.
	v = awscli.ok("start-restore-job", "--recovery-point-arn", point, "--iam-role-arn", role,
		"--metadata", "targetTableName=cli-lower,deletionProtection=false")
	v = awscli.poll("Status", []string{"COMPLETED", "FAILED", "ABORTED"}, "describe-restore-job", "--restore-job-id", jsonStr(v, "RestoreJobId"))
	if jsonStr(v, "Status") != "COMPLETED" {
		t.Fatalf("CLI restore with targetTableName: %v", v)
	}
	if _, _, _, protected := restoredSettings(t, db, "cli-lower"); protected {
		t.Error("cli-lower: deletionProtection=false was not honoured")
	}

	// boto3.
	python, err := exec.LookPath("python3")
	if err != nil {
		testbed.Missing(t, "python3 with boto3")
	}
	script := `
import boto3, json, sys, time
c = boto3.client("backup", endpoint_url=sys.argv[1])
md = c.get_recovery_point_restore_metadata(BackupVaultName="Default", RecoveryPointArn=sys.argv[2])["RestoreMetadata"]
md["targetTableName"] = "boto-copy"
job = c.start_restore_job(RecoveryPointArn=sys.argv[2], Metadata=md, IamRoleArn=sys.argv[3])["RestoreJobId"]
for _ in range(600):
    r = c.describe_restore_job(RestoreJobId=job)
    if r["Status"] in ("COMPLETED", "FAILED", "ABORTED"):
        break
    time.sleep(0.2)
print(json.dumps({"Status": r["Status"], "Message": r.get("StatusMessage", ""), "Validation": r.get("ValidationStatus", "")}))
`
	cmd := exec.Command(python, "-c", script, "http://"+m.Addr, point, role)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+m.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+m.Keys.SecretAccessKey)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"Status": "COMPLETED"`) || !strings.Contains(string(out), `"Validation": "SUCCESSFUL"`) {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	asBefore("boto-copy")
}
