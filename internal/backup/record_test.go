package backup

import (
	"reflect"
	"testing"
	"time"
)

func TestPointRecordRoundTrip(t *testing.T) {
	created := time.Date(2026, 2, 3, 4, 5, 6, 789012345, time.UTC)
	p := &RecoveryPoint{
		ID: "RP-1", ARN: RecoveryPointARN("eu-west-1", "123456789012", "RP-1"), AccountID: "123456789012", Region: "eu-west-1",
		VaultName: "v", VaultARN: VaultARN("eu-west-1", "123456789012", "v"), ResourceARN: TableARN("eu-west-1", "123456789012", "t"),
		ResourceType: ResourceTypeDynamoDB, ResourceName: "t", IAMRoleARN: "arn:aws:iam::123456789012:role/r", BackupJobID: "JOB",
		Status: RecoveryPointExpired, StatusMessage: "could not delete", StorageClass: StorageCold,
		CreationDate: created, CompletionDate: created.Add(time.Minute), BackupSizeInBytes: 1 << 40, ItemCount: 7,
		ContentChecksum: "v2:abc", Lifecycle: Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91},
		Tags: map[string]string{"k": "", "team": "a"}, CreatedBy: &CreatedBy{BackupPlanID: "p", BackupRuleID: "r", BackupRuleCron: "cron(0 5 ? * * *)"},
		IsEncrypted: true, SourceBackupVaultARN: VaultARN("eu-west-1", "123456789012", "src"),
		RestoreMetadata: map[string]string{"TableArn": "x"},
	}
	b, err := MarshalPointRecord(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalPointRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if _, err := UnmarshalPointRecord([]byte(`{"formatVersion":99}`)); err == nil {
		t.Fatal("a record of a newer format was read")
	}
}

func TestVaultRecordRoundTrip(t *testing.T) {
	v := &Vault{Name: "offsite", ARN: VaultARN("us-east-1", "000000000000", "offsite"), AccountID: "000000000000", Region: "us-east-1",
		CreationDate: time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC), CreatorRequestID: "req", EncryptionKeyARN: "arn:aws:kms:k",
		Tags: map[string]string{"a": "b"}, Storage: VaultStorage{Kind: StorageS3, Bucket: "b", Prefix: "p/", Endpoint: "http://x", PathStyle: true, ColdStorageClass: "GLACIER_IR"}}
	b, err := MarshalVaultRecord(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalVaultRecord(b)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, v)
	}
	// The first marker files had three keys.
	old, err := UnmarshalVaultRecord([]byte(`{"vault":"Default","account":"000000000000","region":"us-east-1"}`))
	if err != nil || old.Name != "Default" || old.AccountID != "000000000000" || old.Region != "us-east-1" {
		t.Fatalf("first format: %+v, %v", old, err)
	}
	if _, err := UnmarshalVaultRecord([]byte(`{"vault":"../x"}`)); err == nil {
		t.Fatal("a record with an invalid vault name was read")
	}
}

func FuzzUnmarshalPointRecord(f *testing.F) {
	f.Add([]byte(`{"formatVersion":1,"RecoveryPointId":"x","CreationDate":"2026-01-01T00:00:00Z","Tags":{"a":"b"}}`))
	f.Add([]byte(`{"formatVersion":1,"CreationDate":"not a time"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalPointRecord(b)
		if err != nil {
			return
		}
		again, err := MarshalPointRecord(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := UnmarshalPointRecord(again)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("a record read back differs: %+v, %v; want %+v", q, err, p)
		}
	})
}
