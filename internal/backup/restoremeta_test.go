package backup

import (
	"strings"
	"testing"
)

func TestParseDynamoDBRestoreMetadata(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name string
		in   map[string]string
		want DynamoDBRestore
		code Code
		msg  string
	}{
		{"AWS spelling", map[string]string{"targetTableName": "tab1"}, DynamoDBRestore{TargetTableName: "tab1"}, "", ""},
		{"CLI spelling", map[string]string{"TargetTableName": "tab1"}, DynamoDBRestore{TargetTableName: "tab1"}, "", ""},
		{"both spellings agree", map[string]string{"TargetTableName": "tab1", "targetTableName": "tab1"}, DynamoDBRestore{TargetTableName: "tab1"}, "", ""},
		{"both spellings differ", map[string]string{"TargetTableName": "tab1", "targetTableName": "tab2"}, DynamoDBRestore{}, ErrInvalidParameter, "same key"},
		{"no table", map[string]string{"encryptionType": "Default"}, DynamoDBRestore{}, ErrMissingParameter, "targetTableName"},
		{"bad table", map[string]string{"targetTableName": "a b"}, DynamoDBRestore{}, ErrInvalidParameter, ""},
		{"all AWS keys", map[string]string{"targetTableName": "tab1", "encryptionType": "KMS", "kmsMasterKeyArn": key, "deletionProtection": "true"},
			DynamoDBRestore{TargetTableName: "tab1", EncryptionType: EncryptionKMS, KMSMasterKeyARN: key, DeletionProtection: new(true)}, "", ""},
		{"values not case sensitive", map[string]string{"targetTableName": "tab1", "ENCRYPTIONTYPE": "default", "DeletionProtection": "FALSE",
			"tableclass": "standard_infrequent_access", "billingMode": "pay_per_request"},
			DynamoDBRestore{TargetTableName: "tab1", EncryptionType: EncryptionDefault, DeletionProtection: new(false),
				TableClass: "STANDARD_INFREQUENT_ACCESS", BillingMode: "PAY_PER_REQUEST"}, "", ""},
		{"key implies KMS", map[string]string{"targetTableName": "tab1", "kmsMasterKeyArn": key},
			DynamoDBRestore{TargetTableName: "tab1", EncryptionType: EncryptionKMS, KMSMasterKeyARN: key}, "", ""},
		{"key with Default", map[string]string{"targetTableName": "tab1", "encryptionType": "Default", "kmsMasterKeyArn": key}, DynamoDBRestore{}, ErrInvalidParameter, "names a KMS key"},
		{"bad key", map[string]string{"targetTableName": "tab1", "kmsMasterKeyArn": "my-key"}, DynamoDBRestore{}, ErrInvalidParameter, "KMS key ARN"},
		{"bad encryption", map[string]string{"targetTableName": "tab1", "encryptionType": "AES"}, DynamoDBRestore{}, ErrInvalidParameter, "Default or KMS"},
		{"bad protection", map[string]string{"targetTableName": "tab1", "deletionProtection": "yes"}, DynamoDBRestore{}, ErrInvalidParameter, "true or false"},
		{"unknown key", map[string]string{"targetTableName": "tab1", "kmsKeyArn": key}, DynamoDBRestore{}, ErrInvalidParameter, `unknown restore metadata key "kmsKeyArn"`},
		{"unknown cairn key", map[string]string{"targetTableName": "tab1", "cairn:Validate": "true"}, DynamoDBRestore{}, ErrInvalidParameter, "unknown"},
		{"cairn keys", map[string]string{"targetTableName": "tab1", "cairn:TargetSource": "other", "cairn:skipvalidation": "true", "cairn:AllowRefusedItems": "true"},
			DynamoDBRestore{TargetTableName: "tab1", TargetSource: "other", SkipValidation: true, AllowRefusedItems: true}, "", ""},
		{"informative keys", map[string]string{"targetTableName": "tab1", "ItemCount": "3", "originalTableName": "orders"},
			DynamoDBRestore{TargetTableName: "tab1", Recorded: map[string]string{"ItemCount": "3", "originalTableName": "orders"}}, "", ""},
	} {
		got, err := ParseDynamoDBRestoreMetadata(tc.in)
		if tc.code != "" {
			if ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: err %v, want %s mentioning %q", tc.name, err, tc.code, tc.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.TargetTableName != tc.want.TargetTableName || got.EncryptionType != tc.want.EncryptionType ||
			got.KMSMasterKeyARN != tc.want.KMSMasterKeyARN || !sameBool(got.DeletionProtection, tc.want.DeletionProtection) ||
			got.BillingMode != tc.want.BillingMode || got.TableClass != tc.want.TableClass || got.TargetSource != tc.want.TargetSource ||
			got.SkipValidation != tc.want.SkipValidation || got.AllowRefusedItems != tc.want.AllowRefusedItems || len(got.Recorded) != len(tc.want.Recorded) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		for k, v := range tc.want.Recorded {
			if got.Recorded[k] != v {
				t.Errorf("%s: recorded %s = %q, want %q", tc.name, k, got.Recorded[k], v)
			}
		}
	}
}

func sameBool(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// The keys that describe a recovery point must come back as reported.
func TestCheckRecorded(t *testing.T) {
	reported := map[string]string{"ItemCount": "3", "originalTableName": "orders", "ContentChecksum": "xxh3-128:00"}
	r, err := ParseDynamoDBRestoreMetadata(map[string]string{"targetTableName": "tab1", "itemcount": "3", "OriginalTableName": "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckRecorded("rp", reported); err != nil {
		t.Fatal(err)
	}
	r, _ = ParseDynamoDBRestoreMetadata(map[string]string{"targetTableName": "tab1", "ItemCount": "4"})
	if err := r.CheckRecorded("rp", reported); ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), "cannot be changed") {
		t.Fatalf("changed ItemCount: %v", err)
	}
}

func TestMessageCategory(t *testing.T) {
	for _, tc := range []struct {
		state JobState
		msg   string
		want  string
	}{{JobCompleted, "", MessageSuccess}, {JobCompleted, "kept 2 items", MessageCompletedWithIssues}, {JobFailed, "x", ""}, {JobRunning, "", ""}} {
		j := &BackupJob{State: tc.state, StatusMessage: tc.msg}
		if got := j.MessageCategory(); got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.state, tc.msg, got, tc.want)
		}
	}
}
