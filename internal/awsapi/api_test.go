package awsapi

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
)

var (
	t0            = time.Date(2025, 3, 4, 5, 6, 7, 123_000_000, time.UTC)
	tableARN      = "arn:aws:dynamodb:eu-west-3:123456789012:table/orders.v2"
	roleARN       = "arn:aws:iam::123456789012:role/cairn-backup"
	vaultARN      = backup.VaultARN(testRegion, testAccount, "main-vault")
	pointARN      = backup.RecoveryPointARN(testRegion, testAccount, "rp-0001")
	testCreatedBy = &backup.CreatedBy{BackupPlanID: "plan-1", BackupPlanARN: "arn:aws:backup:eu-west-3:123456789012:backup-plan:plan-1",
		BackupPlanVersion: "v1", BackupRuleID: "rule-1"}
)

func testVault(name string) *backup.Vault {
	return &backup.Vault{
		Name: name, ARN: backup.VaultARN(testRegion, testAccount, name), AccountID: testAccount, Region: testRegion,
		CreationDate: t0, CreatorRequestID: "req-1", EncryptionKeyARN: "arn:aws:kms:eu-west-3:123456789012:key/k1",
		NumberOfRecoveryPoints: 7,
	}
}

func testJob(id string) *backup.BackupJob {
	return &backup.BackupJob{
		ID: id, AccountID: testAccount, Region: testRegion, VaultName: "main-vault", VaultARN: vaultARN,
		RecoveryPointARN: pointARN, ResourceARN: tableARN, ResourceType: backup.ResourceTypeDynamoDB,
		ResourceName: "orders.v2", IAMRoleARN: roleARN, State: backup.JobRunning, StatusMessage: "scanning",
		PercentDone: 42.5, BytesTransferred: 1 << 20, BackupSizeInBytes: 3 << 20, ItemCount: 99,
		CreationDate: t0, StartBy: t0.Add(time.Hour), CompletionDate: t0.Add(2 * time.Minute),
		ExpectedCompletionDate: t0.Add(5 * time.Minute),
		Lifecycle:              backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 100},
		Options:                backup.BackupOptions{Segments: 8, ReadRate: 250.5},
		CreatedBy:              testCreatedBy,
	}
}

func testPoint() *backup.RecoveryPoint {
	return &backup.RecoveryPoint{
		ID: "rp-0001", ARN: pointARN, AccountID: testAccount, Region: testRegion, VaultName: "main-vault",
		VaultARN: vaultARN, ResourceARN: tableARN, ResourceType: backup.ResourceTypeDynamoDB, ResourceName: "orders.v2",
		IAMRoleARN: roleARN, BackupJobID: "job-1", Status: backup.RecoveryPointCompleted, StatusMessage: "ok",
		StorageClass: backup.StorageWarm, CreationDate: t0, CompletionDate: t0.Add(time.Minute),
		BackupSizeInBytes: 4096, ItemCount: 12, Lifecycle: backup.Lifecycle{DeleteAfterDays: 35},
		CreatedBy: testCreatedBy, IsEncrypted: true,
		RestoreMetadata: map[string]string{"originalTableName": "orders.v2", "TargetTableName": "orders.v2"},
	}
}

func testRestore(id string) *backup.RestoreJob {
	return &backup.RestoreJob{
		ID: id, AccountID: testAccount, Region: testRegion, RecoveryPointARN: pointARN, VaultARN: vaultARN,
		ResourceType: backup.ResourceTypeDynamoDB, IAMRoleARN: roleARN, Status: backup.RestoreCompleted,
		StatusMessage: "restored 12 items", PercentDone: 100, BackupSizeInBytes: 4096, ItemsRestored: 12,
		CreationDate: t0, CompletionDate: t0.Add(3 * time.Minute), ExpectedCompletionTime: t0.Add(90 * time.Second),
		CreatedResourceARN: "arn:aws:dynamodb:eu-west-3:123456789012:table/orders-restored",
		ValidationStatus:   backup.ValidationSuccessful, ValidationStatusMessage: "12 items, checksum matches",
	}
}

// onlyCall checks that the fake received exactly one call, op with input in.
func onlyCall(t *testing.T, f *fakeService, op string, in any) {
	t.Helper()
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Op != op || !reflect.DeepEqual(calls[0].In, in) {
		t.Fatalf("calls = %+v\nwant one %s(%+v)", calls, op, in)
	}
}

func eqTime(t *testing.T, name string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func eq[T comparable](t *testing.T, name string, got *T, want T) {
	t.Helper()
	if got == nil || *got != want {
		var g any = got
		if got != nil {
			g = *got
		}
		t.Errorf("%s = %v, want %v", name, g, want)
	}
}

func TestCreateBackupVault(t *testing.T) {
	e := newTestEnv(t, &fakeService{vault: testVault("main-vault")}, nil)
	out, err := e.client.CreateBackupVault(context.Background(), &backupsdk.CreateBackupVaultInput{
		BackupVaultName:  aws.String("main-vault"),
		BackupVaultTags:  map[string]string{"cairn:storage": "s3://bucket/prefix", "team": "data"},
		CreatorRequestId: aws.String("req-1"),
		EncryptionKeyArn: aws.String("arn:aws:kms:eu-west-3:123456789012:key/k1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "CreateVault", backup.CreateVaultInput{
		Name: "main-vault", CreatorRequestID: "req-1", EncryptionKeyARN: "arn:aws:kms:eu-west-3:123456789012:key/k1",
		Tags: map[string]string{"cairn:storage": "s3://bucket/prefix", "team": "data"},
	})
	eq(t, "BackupVaultName", out.BackupVaultName, "main-vault")
	eq(t, "BackupVaultArn", out.BackupVaultArn, vaultARN)
	eqTime(t, "CreationDate", out.CreationDate, t0)
}

func TestCreateBackupVaultGeneratesCreatorRequestID(t *testing.T) {
	e := newTestEnv(t, &fakeService{vault: testVault("main-vault")}, nil)
	if _, err := e.client.CreateBackupVault(context.Background(), &backupsdk.CreateBackupVaultInput{
		BackupVaultName: aws.String("main-vault"),
	}); err != nil {
		t.Fatal(err)
	}
	in := e.fake.Calls()[0].In.(backup.CreateVaultInput)
	if in.CreatorRequestID == "" {
		t.Error("the SDK's idempotency token did not arrive as CreatorRequestID")
	}
}

func TestDescribeBackupVault(t *testing.T) {
	e := newTestEnv(t, &fakeService{vault: testVault("main-vault")}, nil)
	out, err := e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{
		BackupVaultName:      aws.String("main-vault"),
		BackupVaultAccountId: aws.String(testAccount),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetVault", "main-vault")
	eq(t, "BackupVaultName", out.BackupVaultName, "main-vault")
	eq(t, "BackupVaultArn", out.BackupVaultArn, vaultARN)
	eqTime(t, "CreationDate", out.CreationDate, t0)
	eq(t, "CreatorRequestId", out.CreatorRequestId, "req-1")
	eq(t, "EncryptionKeyArn", out.EncryptionKeyArn, "arn:aws:kms:eu-west-3:123456789012:key/k1")
	eq(t, "NumberOfRecoveryPoints", &out.NumberOfRecoveryPoints, 7)
	if out.VaultType != types.VaultTypeBackupVault || out.VaultState != types.VaultStateAvailable {
		t.Errorf("VaultType, VaultState = %q, %q", out.VaultType, out.VaultState)
	}

	// Another account's vault is not here.
	_, err = e.client.DescribeBackupVault(context.Background(), &backupsdk.DescribeBackupVaultInput{
		BackupVaultName: aws.String("main-vault"), BackupVaultAccountId: aws.String("999999999999"),
	})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("other account: err = %v, want ResourceNotFoundException", err)
	}
}

func TestListBackupVaultsPaginates(t *testing.T) {
	fake := &fakeService{}
	for _, n := range []string{"v-a", "v-b", "v-c", "v-d", "v-e"} {
		fake.vaults = append(fake.vaults, testVault(n))
	}
	e := newTestEnv(t, fake, nil)
	var names []string
	p := backupsdk.NewListBackupVaultsPaginator(e.client, &backupsdk.ListBackupVaultsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.BackupVaultList {
			names = append(names, *v.BackupVaultName)
			if v.NumberOfRecoveryPoints != 7 || v.VaultType != types.VaultTypeBackupVault {
				t.Errorf("vault %+v", v)
			}
		}
	}
	if want := []string{"v-a", "v-b", "v-c", "v-d", "v-e"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	want := []call{
		{"ListVaults", backup.Page{MaxResults: 2}},
		{"ListVaults", backup.Page{MaxResults: 2, NextToken: "2"}},
		{"ListVaults", backup.Page{MaxResults: 2, NextToken: "4"}},
	}
	if got := fake.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %+v, want %+v", got, want)
	}

	// cairn has no shared or air-gapped vaults: those filters list nothing.
	out, err := e.client.ListBackupVaults(context.Background(), &backupsdk.ListBackupVaultsInput{
		ByVaultType: types.VaultTypeLogicallyAirGappedBackupVault})
	if err != nil || len(out.BackupVaultList) != 0 {
		t.Errorf("air-gapped: %v, %v", out, err)
	}
}

func TestDeleteBackupVault(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	if _, err := e.client.DeleteBackupVault(context.Background(), &backupsdk.DeleteBackupVaultInput{
		BackupVaultName: aws.String("old_vault-1"),
	}); err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "DeleteVault", "old_vault-1")
}

func TestStartBackupJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{job: testJob("job-1")}, nil)
	out, err := e.client.StartBackupJob(context.Background(), &backupsdk.StartBackupJobInput{
		BackupVaultName:       aws.String("main-vault"),
		ResourceArn:           aws.String(tableARN),
		IamRoleArn:            aws.String(roleARN),
		IdempotencyToken:      aws.String("tok-1"),
		StartWindowMinutes:    aws.Int64(60),
		CompleteWindowMinutes: aws.Int64(180),
		Lifecycle:             &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(10), DeleteAfterDays: aws.Int64(100)},
		RecoveryPointTags:     map[string]string{"env": "prod"},
		BackupOptions:         map[string]string{"Segments": "8", "ReadRate": "250.5", "Compression": "GZIP"},
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "StartBackupJob", backup.StartBackupJobInput{
		VaultName: "main-vault", ResourceARN: tableARN, IAMRoleARN: roleARN, IdempotencyToken: "tok-1",
		StartWindowMins: 60, CompleteWindowMin: 180,
		Lifecycle:         backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 100},
		RecoveryPointTags: map[string]string{"env": "prod"},
		Options:           backup.BackupOptions{Segments: 8, ReadRate: 250.5, Compression: "gzip"},
	})
	eq(t, "BackupJobId", out.BackupJobId, "job-1")
	eq(t, "RecoveryPointArn", out.RecoveryPointArn, pointARN)
	eqTime(t, "CreationDate", out.CreationDate, t0)
}

// checkJob compares an SDK BackupJob-like view with testJob.
func checkJob(t *testing.T, j types.BackupJob) {
	t.Helper()
	want := testJob("job-1")
	eq(t, "AccountId", j.AccountId, testAccount)
	eq(t, "BackupJobId", j.BackupJobId, "job-1")
	eq(t, "BackupVaultName", j.BackupVaultName, "main-vault")
	eq(t, "BackupVaultArn", j.BackupVaultArn, vaultARN)
	eq(t, "RecoveryPointArn", j.RecoveryPointArn, pointARN)
	eq(t, "ResourceArn", j.ResourceArn, tableARN)
	eq(t, "ResourceType", j.ResourceType, "DynamoDB")
	eq(t, "ResourceName", j.ResourceName, "orders.v2")
	eq(t, "IamRoleArn", j.IamRoleArn, roleARN)
	if j.State != types.BackupJobStateRunning {
		t.Errorf("State = %q", j.State)
	}
	eq(t, "StatusMessage", j.StatusMessage, "scanning")
	eq(t, "PercentDone", j.PercentDone, "42.5")
	eq(t, "BytesTransferred", j.BytesTransferred, 1<<20)
	eq(t, "BackupSizeInBytes", j.BackupSizeInBytes, 3<<20)
	eqTime(t, "CreationDate", j.CreationDate, want.CreationDate)
	eqTime(t, "CompletionDate", j.CompletionDate, want.CompletionDate)
	eqTime(t, "StartBy", j.StartBy, want.StartBy)
	eqTime(t, "ExpectedCompletionDate", j.ExpectedCompletionDate, want.ExpectedCompletionDate)
	if l := j.RecoveryPointLifecycle; l == nil || *l.MoveToColdStorageAfterDays != 10 || *l.DeleteAfterDays != 100 {
		t.Errorf("RecoveryPointLifecycle = %+v", l)
	}
	if c := j.CreatedBy; c == nil || *c.BackupPlanId != "plan-1" || *c.BackupPlanArn != testCreatedBy.BackupPlanARN ||
		*c.BackupPlanVersion != "v1" || *c.BackupRuleId != "rule-1" {
		t.Errorf("CreatedBy = %+v", c)
	}
	if !reflect.DeepEqual(j.BackupOptions, map[string]string{"Segments": "8", "ReadRate": "250.5"}) {
		t.Errorf("BackupOptions = %v", j.BackupOptions)
	}
}

func TestDescribeBackupJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{job: testJob("job-1")}, nil)
	out, err := e.client.DescribeBackupJob(context.Background(), &backupsdk.DescribeBackupJobInput{BackupJobId: aws.String("job-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetBackupJob", "job-1")
	checkJob(t, types.BackupJob{
		AccountId: out.AccountId, BackupJobId: out.BackupJobId, BackupVaultName: out.BackupVaultName,
		BackupVaultArn: out.BackupVaultArn, RecoveryPointArn: out.RecoveryPointArn, ResourceArn: out.ResourceArn,
		ResourceType: out.ResourceType, ResourceName: out.ResourceName, IamRoleArn: out.IamRoleArn, State: out.State,
		StatusMessage: out.StatusMessage, PercentDone: out.PercentDone, BytesTransferred: out.BytesTransferred,
		BackupSizeInBytes: out.BackupSizeInBytes, CreationDate: out.CreationDate, CompletionDate: out.CompletionDate,
		StartBy: out.StartBy, ExpectedCompletionDate: out.ExpectedCompletionDate,
		RecoveryPointLifecycle: out.RecoveryPointLifecycle, CreatedBy: out.CreatedBy, BackupOptions: out.BackupOptions,
	})
}

func TestListBackupJobsFilters(t *testing.T) {
	e := newTestEnv(t, &fakeService{jobs: []*backup.BackupJob{testJob("job-1")}}, nil)
	after, before := t0.Add(-time.Hour), t0.Add(time.Hour)
	out, err := e.client.ListBackupJobs(context.Background(), &backupsdk.ListBackupJobsInput{
		ByAccountId:       aws.String(testAccount),
		ByBackupVaultName: aws.String("main-vault"),
		ByCreatedAfter:    aws.Time(after),
		ByCreatedBefore:   aws.Time(before),
		ByCompleteAfter:   aws.Time(after.Add(time.Second)),
		ByCompleteBefore:  aws.Time(before.Add(time.Second)),
		ByResourceArn:     aws.String(tableARN),
		ByResourceType:    aws.String("DynamoDB"),
		ByState:           types.BackupJobStateCompleted,
		MaxResults:        aws.Int32(50),
		NextToken:         aws.String("0"),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListBackupJobs", backup.BackupJobFilter{
		Page:        backup.Page{MaxResults: 50, NextToken: "0"},
		ResourceARN: tableARN, ResourceType: "DynamoDB", States: []backup.JobState{backup.JobCompleted},
		VaultName: "main-vault", AccountID: testAccount,
		CreatedAfter: after, CreatedBefore: before,
		CompleteAfter: after.Add(time.Second), CompleteBefore: before.Add(time.Second),
	})
	if len(out.BackupJobs) != 1 || out.NextToken != nil {
		t.Fatalf("out = %+v", out)
	}
	checkJob(t, out.BackupJobs[0])
}

func TestListBackupJobsPaginates(t *testing.T) {
	fake := &fakeService{}
	for _, id := range []string{"j1", "j2", "j3"} {
		fake.jobs = append(fake.jobs, testJob(id))
	}
	e := newTestEnv(t, fake, nil)
	var ids []string
	p := backupsdk.NewListBackupJobsPaginator(e.client, &backupsdk.ListBackupJobsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.BackupJobs {
			ids = append(ids, *j.BackupJobId)
		}
	}
	if !reflect.DeepEqual(ids, []string{"j1", "j2", "j3"}) {
		t.Errorf("ids = %v", ids)
	}
	if calls := fake.Calls(); len(calls) != 2 || calls[1].In.(backup.BackupJobFilter).NextToken != "2" {
		t.Errorf("calls = %+v", calls)
	}
}

func TestListBackupJobsParentJobListsNothing(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	out, err := e.client.ListBackupJobs(context.Background(), &backupsdk.ListBackupJobsInput{ByParentJobId: aws.String("p")})
	if err != nil || len(out.BackupJobs) != 0 {
		t.Fatalf("out, err = %+v, %v", out, err)
	}
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestStopBackupJob(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	if _, err := e.client.StopBackupJob(context.Background(), &backupsdk.StopBackupJobInput{BackupJobId: aws.String("job-9")}); err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "StopBackupJob", "job-9")
}

func TestListRecoveryPointsByBackupVault(t *testing.T) {
	e := newTestEnv(t, &fakeService{points: []*backup.RecoveryPoint{testPoint()}}, nil)
	out, err := e.client.ListRecoveryPointsByBackupVault(context.Background(), &backupsdk.ListRecoveryPointsByBackupVaultInput{
		BackupVaultName: aws.String("main-vault"),
		ByResourceArn:   aws.String(tableARN),
		ByResourceType:  aws.String("DynamoDB"),
		ByBackupPlanId:  aws.String("plan-1"),
		ByCreatedAfter:  aws.Time(t0.Add(-time.Hour)),
		ByCreatedBefore: aws.Time(t0.Add(time.Hour)),
		MaxResults:      aws.Int32(1000),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListRecoveryPoints", backup.RecoveryPointFilter{
		Page: backup.Page{MaxResults: 1000}, VaultName: "main-vault", ResourceARN: tableARN, ResourceType: "DynamoDB",
		BackupPlanID: "plan-1", CreatedAfter: t0.Add(-time.Hour), CreatedBefore: t0.Add(time.Hour),
	})
	if len(out.RecoveryPoints) != 1 {
		t.Fatalf("out = %+v", out)
	}
	p := out.RecoveryPoints[0]
	eq(t, "RecoveryPointArn", p.RecoveryPointArn, pointARN)
	eq(t, "BackupVaultName", p.BackupVaultName, "main-vault")
	eq(t, "BackupVaultArn", p.BackupVaultArn, vaultARN)
	eq(t, "ResourceArn", p.ResourceArn, tableARN)
	eq(t, "ResourceName", p.ResourceName, "orders.v2")
	eq(t, "BackupSizeInBytes", p.BackupSizeInBytes, 4096)
	eq(t, "IsEncrypted", &p.IsEncrypted, true)
	if p.Status != types.RecoveryPointStatusCompleted {
		t.Errorf("Status = %q", p.Status)
	}
	eqTime(t, "CreationDate", p.CreationDate, t0)
	eqTime(t, "CompletionDate", p.CompletionDate, t0.Add(time.Minute))
	if p.CalculatedLifecycle == nil || p.CalculatedLifecycle.MoveToColdStorageAt != nil {
		t.Fatalf("CalculatedLifecycle = %+v", p.CalculatedLifecycle)
	}
	eqTime(t, "DeleteAt", p.CalculatedLifecycle.DeleteAt, t0.AddDate(0, 0, 35))
}

func TestListRecoveryPointsByResource(t *testing.T) {
	e := newTestEnv(t, &fakeService{points: []*backup.RecoveryPoint{testPoint()}}, nil)
	out, err := e.client.ListRecoveryPointsByResource(context.Background(), &backupsdk.ListRecoveryPointsByResourceInput{
		ResourceArn:            aws.String(tableARN),
		ManagedByAWSBackupOnly: true,
		MaxResults:             aws.Int32(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListRecoveryPoints", backup.RecoveryPointFilter{Page: backup.Page{MaxResults: 3}, ResourceARN: tableARN})
	if len(out.RecoveryPoints) != 1 {
		t.Fatalf("out = %+v", out)
	}
	p := out.RecoveryPoints[0]
	eq(t, "RecoveryPointArn", p.RecoveryPointArn, pointARN)
	eq(t, "BackupSizeBytes", p.BackupSizeBytes, 4096)
	eq(t, "BackupVaultName", p.BackupVaultName, "main-vault")
	eq(t, "ResourceName", p.ResourceName, "orders.v2")
	eqTime(t, "CreationDate", p.CreationDate, t0)
}

func TestDescribeRecoveryPoint(t *testing.T) {
	e := newTestEnv(t, &fakeService{point: testPoint()}, nil)
	out, err := e.client.DescribeRecoveryPoint(context.Background(), &backupsdk.DescribeRecoveryPointInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetRecoveryPoint", pointCall{"main-vault", pointARN})
	eq(t, "RecoveryPointArn", out.RecoveryPointArn, pointARN)
	eq(t, "ResourceType", out.ResourceType, "DynamoDB")
	eq(t, "IamRoleArn", out.IamRoleArn, roleARN)
	eq(t, "StatusMessage", out.StatusMessage, "ok")
	if out.StorageClass != types.StorageClassWarm || out.Status != types.RecoveryPointStatusCompleted {
		t.Errorf("StorageClass, Status = %q, %q", out.StorageClass, out.Status)
	}
	if out.Lifecycle == nil || *out.Lifecycle.DeleteAfterDays != 35 || out.Lifecycle.MoveToColdStorageAfterDays != nil {
		t.Errorf("Lifecycle = %+v", out.Lifecycle)
	}
	eqTime(t, "DeleteAt", out.CalculatedLifecycle.DeleteAt, t0.AddDate(0, 0, 35))
	eq(t, "CreatedBy.BackupPlanId", out.CreatedBy.BackupPlanId, "plan-1")
}

func TestDeleteRecoveryPoint(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	if _, err := e.client.DeleteRecoveryPoint(context.Background(), &backupsdk.DeleteRecoveryPointInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN),
	}); err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "DeleteRecoveryPoint", pointCall{"main-vault", pointARN})
}

func TestGetRecoveryPointRestoreMetadata(t *testing.T) {
	e := newTestEnv(t, &fakeService{point: testPoint()}, nil)
	out, err := e.client.GetRecoveryPointRestoreMetadata(context.Background(), &backupsdk.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String("main-vault"), RecoveryPointArn: aws.String(pointARN),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetRecoveryPoint", pointCall{"main-vault", pointARN})
	eq(t, "BackupVaultArn", out.BackupVaultArn, vaultARN)
	eq(t, "RecoveryPointArn", out.RecoveryPointArn, pointARN)
	eq(t, "ResourceType", out.ResourceType, "DynamoDB")
	if !reflect.DeepEqual(out.RestoreMetadata, testPoint().RestoreMetadata) {
		t.Errorf("RestoreMetadata = %v", out.RestoreMetadata)
	}
}

func TestListProtectedResources(t *testing.T) {
	fake := &fakeService{resources: []*backup.ProtectedResource{{
		ResourceARN: tableARN, ResourceType: "DynamoDB", ResourceName: "orders.v2", LastBackupTime: t0,
		LastBackupVaultARN: vaultARN, LastRecoveryPointARN: pointARN,
	}, {ResourceARN: backup.TableARN(testRegion, testAccount, "other"), ResourceType: "DynamoDB"}}}
	e := newTestEnv(t, fake, nil)
	out, err := e.client.ListProtectedResources(context.Background(), &backupsdk.ListProtectedResourcesInput{MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, fake, "ListProtectedResources", backup.Page{MaxResults: 1})
	if len(out.Results) != 1 {
		t.Fatalf("out = %+v", out)
	}
	eq(t, "NextToken", out.NextToken, "1")
	r := out.Results[0]
	eq(t, "ResourceArn", r.ResourceArn, tableARN)
	eq(t, "ResourceType", r.ResourceType, "DynamoDB")
	eq(t, "ResourceName", r.ResourceName, "orders.v2")
	eq(t, "LastBackupVaultArn", r.LastBackupVaultArn, vaultARN)
	eq(t, "LastRecoveryPointArn", r.LastRecoveryPointArn, pointARN)
	eqTime(t, "LastBackupTime", r.LastBackupTime, t0)
}

func TestStartRestoreJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{restore: testRestore("restore-1")}, nil)
	md := map[string]string{"TargetTableName": "orders-restored", "cairn:validate": "true"}
	out, err := e.client.StartRestoreJob(context.Background(), &backupsdk.StartRestoreJobInput{
		RecoveryPointArn:                 aws.String(pointARN),
		Metadata:                         md,
		IamRoleArn:                       aws.String(roleARN),
		IdempotencyToken:                 aws.String("tok-r"),
		ResourceType:                     aws.String("DynamoDB"),
		CopySourceTagsToRestoredResource: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "StartRestoreJob", backup.StartRestoreJobInput{
		RecoveryPointARN: pointARN, Metadata: md, IAMRoleARN: roleARN, IdempotencyToken: "tok-r",
		ResourceType: "DynamoDB", CopySourceTags: true,
	})
	eq(t, "RestoreJobId", out.RestoreJobId, "restore-1")
}

func TestDescribeRestoreJob(t *testing.T) {
	e := newTestEnv(t, &fakeService{restore: testRestore("restore-1")}, nil)
	out, err := e.client.DescribeRestoreJob(context.Background(), &backupsdk.DescribeRestoreJobInput{RestoreJobId: aws.String("restore-1")})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "GetRestoreJob", "restore-1")
	eq(t, "AccountId", out.AccountId, testAccount)
	eq(t, "RestoreJobId", out.RestoreJobId, "restore-1")
	eq(t, "RecoveryPointArn", out.RecoveryPointArn, pointARN)
	eq(t, "BackupVaultArn", out.BackupVaultArn, vaultARN)
	eq(t, "PercentDone", out.PercentDone, "100.0")
	eq(t, "BackupSizeInBytes", out.BackupSizeInBytes, 4096)
	eq(t, "IamRoleArn", out.IamRoleArn, roleARN)
	eq(t, "ExpectedCompletionTimeMinutes", out.ExpectedCompletionTimeMinutes, 2)
	eq(t, "CreatedResourceArn", out.CreatedResourceArn, testRestore("").CreatedResourceARN)
	eq(t, "ResourceType", out.ResourceType, "DynamoDB")
	eq(t, "StatusMessage", out.StatusMessage, "restored 12 items")
	eq(t, "ValidationStatusMessage", out.ValidationStatusMessage, "12 items, checksum matches")
	if out.Status != types.RestoreJobStatusCompleted || out.ValidationStatus != types.RestoreValidationStatusSuccessful {
		t.Errorf("Status, ValidationStatus = %q, %q", out.Status, out.ValidationStatus)
	}
	eqTime(t, "CreationDate", out.CreationDate, t0)
	eqTime(t, "CompletionDate", out.CompletionDate, t0.Add(3*time.Minute))
}

func TestListRestoreJobs(t *testing.T) {
	e := newTestEnv(t, &fakeService{restores: []*backup.RestoreJob{testRestore("r1"), testRestore("r2")}}, nil)
	out, err := e.client.ListRestoreJobs(context.Background(), &backupsdk.ListRestoreJobsInput{
		ByAccountId:      aws.String(testAccount),
		ByResourceType:   aws.String("DynamoDB"),
		ByStatus:         types.RestoreJobStatusCompleted,
		ByCreatedAfter:   aws.Time(t0.Add(-time.Minute)),
		ByCreatedBefore:  aws.Time(t0.Add(time.Minute)),
		ByCompleteAfter:  aws.Time(t0.Add(-2 * time.Minute)),
		ByCompleteBefore: aws.Time(t0.Add(2 * time.Minute)),
		MaxResults:       aws.Int32(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	onlyCall(t, e.fake, "ListRestoreJobs", backup.RestoreJobFilter{
		Page: backup.Page{MaxResults: 1}, AccountID: testAccount, ResourceType: "DynamoDB",
		Statuses:     []backup.RestoreJobStatus{backup.RestoreCompleted},
		CreatedAfter: t0.Add(-time.Minute), CreatedBefore: t0.Add(time.Minute),
		CompleteAfter: t0.Add(-2 * time.Minute), CompleteBefore: t0.Add(2 * time.Minute),
	})
	if len(out.RestoreJobs) != 1 || *out.RestoreJobs[0].RestoreJobId != "r1" || *out.NextToken != "1" {
		t.Fatalf("out = %+v", out)
	}
	eq(t, "CreatedResourceArn", out.RestoreJobs[0].CreatedResourceArn, testRestore("").CreatedResourceARN)
	if out.RestoreJobs[0].ValidationStatus != types.RestoreValidationStatusSuccessful {
		t.Errorf("ValidationStatus = %q", out.RestoreJobs[0].ValidationStatus)
	}
}
