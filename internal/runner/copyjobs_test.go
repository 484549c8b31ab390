package runner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/vault"
)

func (e *lcEnv) copyJob(svc *Service, in backup.StartCopyJobInput) *backup.CopyJob {
	e.t.Helper()
	j, err := svc.StartCopyJob(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	if j.State != backup.CopyCreated || j.DestinationRecoveryPointARN == "" {
		e.t.Fatalf("new copy job %+v", j)
	}
	svc.Wait()
	if j, err = svc.GetCopyJob(context.Background(), j.ID); err != nil {
		e.t.Fatal(err)
	}
	return j
}

const role = "arn:aws:iam::000000000000:role/copier"

// Copies between a vault on local disk and one on S3 (versitygw), both
// ways, are complete, checked, carry what AWS's copies carry, and restore.
func TestCopyJobsFileAndS3(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t).withDynamo()
	svc := e.newService()
	disk := e.fileVault(svc, "disk")
	s3v := e.s3Vault(svc, "offsite", nil)
	cb := &backup.CreatedBy{BackupPlanID: "plan-1", BackupRuleID: "rule-1"}
	src := e.backup(svc, disk, e.table("orders", 150), backup.Lifecycle{})
	src.CreatedBy, src.Tags = cb, map[string]string{"team": "data"}
	if err := e.cat.UpdateRecoveryPoint(ctx, src); err != nil {
		t.Fatal(err)
	}
	if err := svc.TagResource(ctx, src.ARN, src.Tags); err != nil {
		t.Fatal(err)
	}

	lc := backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 365}
	j := e.copyJob(svc, backup.StartCopyJobInput{RecoveryPointARN: src.ARN, SourceBackupVaultName: disk.Name,
		DestinationBackupVaultARN: s3v.ARN, IAMRoleARN: role, Lifecycle: lc})
	if j.State != backup.CopyCompleted || j.StatusMessage != "" || j.CompletionDate.IsZero() || j.BackupSizeInBytes != src.BackupSizeInBytes ||
		j.SourceBackupVaultARN != disk.ARN || j.DestinationBackupVaultARN != s3v.ARN || j.SourceRecoveryPointARN != src.ARN ||
		j.ResourceARN != src.ResourceARN || j.ResourceType != backup.ResourceTypeDynamoDB || j.ResourceName != "orders" || j.IAMRoleARN != role {
		t.Fatalf("copy job %+v", j)
	}
	cp, err := svc.GetRecoveryPoint(ctx, s3v.Name, j.DestinationRecoveryPointARN)
	if err != nil {
		t.Fatal(err)
	}
	if cp.ID == src.ID || cp.Status != backup.RecoveryPointCompleted || cp.StorageClass != backup.StorageWarm ||
		cp.SourceBackupVaultARN != disk.ARN || cp.Lifecycle != lc || cp.ItemCount != 150 || cp.ContentChecksum != src.ContentChecksum ||
		cp.RestoreMetadata["ItemCount"] != "150" || cp.CreatedBy == nil || *cp.CreatedBy != *cb || cp.Tags["team"] != "data" ||
		cp.ResourceARN != src.ResourceARN || cp.BackupSizeInBytes != src.BackupSizeInBytes || cp.CreationDate.IsZero() {
		t.Fatalf("copy %+v", cp)
	}
	e.checkStored(s3v.Storage, cp.ID)
	e.checkStored(disk.Storage, src.ID) // the source is untouched
	r, err := vault.New(e.store(s3v.Storage)).Open(ctx, cp.ID)
	if err != nil || !strings.Contains(string(r.Metadata()), `"recoveryPointId":"`+cp.ID+`"`) {
		t.Fatalf("copy metadata %s, %v", r.Metadata(), err)
	}
	e.restore(svc, cp, "orders-from-s3")

	// And back from S3 to another local directory.
	disk2 := e.fileVault(svc, "disk2")
	j2 := e.copyJob(svc, backup.StartCopyJobInput{RecoveryPointARN: cp.ARN, SourceBackupVaultName: s3v.Name,
		DestinationBackupVaultARN: disk2.ARN, IAMRoleARN: role})
	if j2.State != backup.CopyCompleted {
		t.Fatalf("copy back %+v", j2)
	}
	back, err := svc.GetRecoveryPoint(ctx, disk2.Name, j2.DestinationRecoveryPointARN)
	if err != nil || back.SourceBackupVaultARN != s3v.ARN || !back.Lifecycle.IsZero() || back.ContentChecksum != src.ContentChecksum {
		t.Fatalf("copy back %+v, %v", back, err)
	}
	e.restore(svc, back, "orders-from-disk2")

	jobs, _, err := svc.ListCopyJobs(ctx, backup.CopyJobFilter{DestinationBackupVaultARN: disk2.ARN})
	if err != nil || len(jobs) != 1 || jobs[0].ID != j2.ID {
		t.Fatalf("ListCopyJobs by destination: %v, %v", jobs, err)
	}
	jobs, _, err = svc.ListCopyJobs(ctx, backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCompleted}})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("ListCopyJobs COMPLETED: %d, %v", len(jobs), err)
	}
}

// A COLD point in a file vault is copied from its cold directory.
func TestCopyJobFromColdPoint(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	disk, other := e.fileVault(svc, "disk"), e.fileVault(svc, "other")
	src := e.point(disk, backup.Lifecycle{MoveToColdStorageAfterDays: 1})
	e.clock.Advance(day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if e.get(src.ID).StorageClass != backup.StorageCold {
		t.Fatal("not cold")
	}
	j := e.copyJob(svc, backup.StartCopyJobInput{RecoveryPointARN: src.ARN, SourceBackupVaultName: disk.Name,
		DestinationBackupVaultARN: other.ARN, IAMRoleARN: role})
	if j.State != backup.CopyCompleted {
		t.Fatalf("copy of a cold point: %+v", j)
	}
	e.checkStored(other.Storage, recoveryPointID(j.DestinationRecoveryPointARN))
}

func TestStartCopyJobValidation(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	disk, other := e.fileVault(svc, "disk"), e.fileVault(svc, "other")
	src := e.point(disk, backup.Lifecycle{})
	creating := e.point(disk, backup.Lifecycle{})
	creating.Status = backup.RecoveryPointCreating
	if err := e.cat.UpdateRecoveryPoint(ctx, creating); err != nil {
		t.Fatal(err)
	}
	good := backup.StartCopyJobInput{RecoveryPointARN: src.ARN, SourceBackupVaultName: disk.Name, DestinationBackupVaultARN: other.ARN, IAMRoleARN: role}
	for _, tt := range []struct {
		name string
		edit func(*backup.StartCopyJobInput)
		code backup.Code
		msg  string
	}{
		{"no point", func(in *backup.StartCopyJobInput) { in.RecoveryPointARN = "" }, backup.ErrMissingParameter, "RecoveryPointArn"},
		{"no source vault", func(in *backup.StartCopyJobInput) { in.SourceBackupVaultName = "" }, backup.ErrMissingParameter, "SourceBackupVaultName"},
		{"no destination", func(in *backup.StartCopyJobInput) { in.DestinationBackupVaultARN = "" }, backup.ErrMissingParameter, "DestinationBackupVaultArn"},
		{"no role", func(in *backup.StartCopyJobInput) { in.IAMRoleARN = "" }, backup.ErrMissingParameter, "IamRoleArn"},
		{"bad lifecycle", func(in *backup.StartCopyJobInput) {
			in.Lifecycle = backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 20}
		}, backup.ErrInvalidParameter, "MoveToColdStorageAfterDays"},
		{"unknown source vault", func(in *backup.StartCopyJobInput) { in.SourceBackupVaultName = "nope" }, backup.ErrNotFound, ""},
		{"point in another vault", func(in *backup.StartCopyJobInput) { in.SourceBackupVaultName = other.Name }, backup.ErrNotFound, ""},
		{"point not completed", func(in *backup.StartCopyJobInput) { in.RecoveryPointARN = creating.ARN }, backup.ErrInvalidRequest, "COMPLETED"},
		{"not an ARN", func(in *backup.StartCopyJobInput) { in.DestinationBackupVaultARN = "other" }, backup.ErrInvalidParameter, "not a backup vault ARN"},
		{"not a vault ARN", func(in *backup.StartCopyJobInput) { in.DestinationBackupVaultARN = src.ARN }, backup.ErrInvalidParameter, "backup-vault"},
		{"another region", func(in *backup.StartCopyJobInput) {
			in.DestinationBackupVaultARN = backup.VaultARN("eu-west-1", "000000000000", "other")
		}, backup.ErrInvalidParameter, "not in this cairn"},
		{"another account", func(in *backup.StartCopyJobInput) {
			in.DestinationBackupVaultARN = backup.VaultARN("us-east-1", "123456789012", "other")
		}, backup.ErrInvalidParameter, "not in this cairn"},
		{"unknown destination", func(in *backup.StartCopyJobInput) {
			in.DestinationBackupVaultARN = backup.VaultARN("us-east-1", "000000000000", "missing")
		}, backup.ErrNotFound, "create it first"},
	} {
		in := good
		tt.edit(&in)
		if _, err := svc.StartCopyJob(ctx, in); backup.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %s %q", tt.name, err, tt.code, tt.msg)
		}
	}
	if jobs, _, err := svc.ListCopyJobs(ctx, backup.CopyJobFilter{}); err != nil || len(jobs) != 0 {
		t.Fatalf("bad requests made %d copy jobs (%v)", len(jobs), err)
	}

	// The same idempotency token returns the same job.
	good.IdempotencyToken = "token-1"
	j1, err := svc.StartCopyJob(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	j2, err := svc.StartCopyJob(ctx, good)
	if err != nil || j2.ID != j1.ID {
		t.Fatalf("second StartCopyJob with the token: %+v, %v", j2, err)
	}
	if jobs, _, _ := svc.ListCopyJobs(ctx, backup.CopyJobFilter{}); len(jobs) != 1 {
		t.Fatalf("%d copy jobs", len(jobs))
	}
}

// A copy that fails leaves no destination point, in catalog or storage.
func TestCopyJobFailureLeavesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		rule func(e *lcEnv, src, dst *backup.Vault, id string) (*blobfault.Store, blobfault.Rule)
		msg  string
	}{
		{"destination full", func(e *lcEnv, src, dst *backup.Vault, id string) (*blobfault.Store, blobfault.Rule) {
			return e.store(dst.Storage), blobfault.Rule{Op: blobfault.OpPut, Prefix: "AWSDynamoDB/", AfterBytes: 1000}
		}, "injected"},
		{"source unreadable", func(e *lcEnv, src, dst *backup.Vault, id string) (*blobfault.Store, blobfault.Rule) {
			return e.store(src.Storage), blobfault.Rule{Op: blobfault.OpGet, Prefix: vault.DataPrefix(id), AfterBytes: 100}
		}, "injected"},
		{"copy reads back wrong", func(e *lcEnv, src, dst *backup.Vault, id string) (*blobfault.Store, blobfault.Rule) {
			return e.store(dst.Storage), blobfault.Rule{Op: blobfault.OpGet, Prefix: vault.RootPrefix, AfterBytes: 100, Err: errors.New("bit rot")}
		}, "bit rot"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLCEnv(t)
			svc := e.newService()
			disk, other := e.fileVault(svc, "disk"), e.fileVault(svc, "other")
			src := e.point(disk, backup.Lifecycle{})
			store, rule := tt.rule(e, disk, other, src.ID)
			store.Add(rule)
			j := e.copyJob(svc, backup.StartCopyJobInput{RecoveryPointARN: src.ARN, SourceBackupVaultName: disk.Name,
				DestinationBackupVaultARN: other.ARN, IAMRoleARN: role})
			if j.State != backup.CopyFailed || !strings.Contains(j.StatusMessage, tt.msg) || !strings.Contains(j.StatusMessage, "no copy was kept") {
				t.Fatalf("copy job %s %q", j.State, j.StatusMessage)
			}
			store.Reset()
			e.gone(recoveryPointID(j.DestinationRecoveryPointARN))
			if keys := e.allKeys(other.Storage); len(keys) != 0 {
				t.Fatalf("partial copy left: %v", keys)
			}
			e.checkStored(disk.Storage, src.ID)
		})
	}
}

// A copy job a killed process left RUNNING ends FAILED at the next start,
// with its partial copy removed; one left CREATED (it had not started, or a
// graceful stop put it back) runs then.
func TestRecoverCopyJobs(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	disk, other := e.fileVault(svc, "disk"), e.fileVault(svc, "other")
	src := e.point(disk, backup.Lifecycle{})

	// What a process killed in the middle of a copy leaves: a RUNNING job,
	// a CREATING point, part of its files.
	running := &backup.CopyJob{ID: "JOB-RUNNING", AccountID: "000000000000", Region: "us-east-1",
		SourceBackupVaultARN: disk.ARN, SourceRecoveryPointARN: src.ARN, DestinationBackupVaultARN: other.ARN,
		DestinationRecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", "PARTIAL-COPY"),
		ResourceARN:                 src.ResourceARN, State: backup.CopyRunning, CreationDate: e.clock.Now()}
	created := *running
	created.ID, created.State = "JOB-CREATED", backup.CopyCreated
	created.DestinationRecoveryPointARN = backup.RecoveryPointARN("us-east-1", "000000000000", "NEVER-STARTED")
	for _, j := range []*backup.CopyJob{running, &created} {
		if err := e.cat.CreateCopyJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	partial := &backup.RecoveryPoint{ID: "PARTIAL-COPY", ARN: running.DestinationRecoveryPointARN, VaultName: other.Name, VaultARN: other.ARN,
		ResourceARN: src.ResourceARN, Status: backup.RecoveryPointCreating, StorageClass: backup.StorageWarm, CreationDate: e.clock.Now()}
	if err := e.cat.CreateRecoveryPoint(ctx, partial); err != nil {
		t.Fatal(err)
	}
	e.store(other.Storage).Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.MetadataKey("PARTIAL-COPY")})
	if _, err := vault.Copy(ctx, vault.New(e.store(disk.Storage)), src.ID, vault.New(e.store(other.Storage)), "PARTIAL-COPY", vault.CopyOptions{}); err == nil {
		t.Fatal("the partial copy completed")
	}
	e.store(other.Storage).Reset()
	if len(e.keys(other.Storage, "PARTIAL-COPY")) == 0 {
		t.Fatal("no partial copy to recover from")
	}
	svc.Close()

	svc2 := e.newService() // waits for the copy run again
	j, err := svc2.GetCopyJob(ctx, running.ID)
	if err != nil || j.State != backup.CopyFailed || !strings.Contains(j.StatusMessage, "cairn server stopped") || j.CompletionDate.IsZero() {
		t.Fatalf("recovered running job %+v, %v", j, err)
	}
	j, err = svc2.GetCopyJob(ctx, created.ID)
	if err != nil || j.State != backup.CopyCompleted {
		t.Fatalf("recovered created job %+v, %v", j, err)
	}
	e.checkStored(other.Storage, recoveryPointID(j.DestinationRecoveryPointARN))
	e.gone("PARTIAL-COPY")
	if keys := e.keys(other.Storage, "PARTIAL-COPY"); len(keys) != 0 {
		t.Fatalf("partial copy left: %v", keys)
	}
	e.checkStored(disk.Storage, src.ID)
}

// A rule's CopyActions copy each point its backups make, with the action's
// lifecycle; a copy that cannot start is a FAILED copy job that says why.
func TestAfterBackupStartsRuleCopies(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	disk, far, near := e.fileVault(svc, "disk"), e.fileVault(svc, "far"), e.fileVault(svc, "near")
	plan := &backup.BackupPlan{ID: "PLAN-1", ARN: backup.PlanARN("us-east-1", "000000000000", "PLAN-1"), VersionID: "V1",
		AccountID: "000000000000", Region: "us-east-1", CreationDate: e.clock.Now(),
		PlanDocument: backup.PlanDocument{BackupPlanName: "daily", Rules: []backup.BackupRule{{
			RuleID: "RULE-1", RuleName: "daily", TargetBackupVaultName: disk.Name,
			CopyActions: []backup.CopyAction{
				{DestinationBackupVaultARN: far.ARN, Lifecycle: backup.Lifecycle{DeleteAfterDays: 365}},
				{DestinationBackupVaultARN: near.ARN},
				{DestinationBackupVaultARN: backup.VaultARN("us-east-1", "000000000000", "gone")},
			},
		}}},
	}
	if err := e.cat.CreateBackupPlan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	cb := &backup.CreatedBy{BackupPlanID: "PLAN-1", BackupPlanARN: plan.ARN, BackupPlanVersion: "V1", BackupRuleID: "RULE-1", BackupRuleName: "daily"}
	rp := e.point(disk, backup.Lifecycle{})
	rp.CreatedBy = cb
	job := &backup.BackupJob{ID: "BACKUP-1", IAMRoleARN: role, CreatedBy: cb, RecoveryPointARN: rp.ARN, State: backup.JobCompleted}

	svc.afterBackup(ctx, job, rp)
	svc.Wait()
	jobs, _, err := svc.ListCopyJobs(ctx, backup.CopyJobFilter{})
	if err != nil || len(jobs) != 3 {
		t.Fatalf("copy jobs: %d, %v", len(jobs), err)
	}
	byDest := map[string]*backup.CopyJob{}
	for _, j := range jobs {
		byDest[j.DestinationBackupVaultARN] = j
		if j.CreatedBy == nil || *j.CreatedBy != *cb || j.SourceRecoveryPointARN != rp.ARN {
			t.Errorf("copy job %+v", j)
		}
	}
	for _, v := range []*backup.Vault{far, near} {
		j := byDest[v.ARN]
		if j == nil || j.State != backup.CopyCompleted || j.IAMRoleARN != role {
			t.Fatalf("copy to %s: %+v", v.Name, j)
		}
		cp, err := svc.GetRecoveryPoint(ctx, v.Name, j.DestinationRecoveryPointARN)
		if err != nil || cp.CreatedBy == nil || cp.CreatedBy.BackupRuleID != "RULE-1" {
			t.Fatalf("copy in %s: %+v, %v", v.Name, cp, err)
		}
		if want := plan.Rules[0].CopyActions[map[string]int{far.Name: 0, near.Name: 1}[v.Name]].Lifecycle; cp.Lifecycle != want {
			t.Fatalf("copy in %s has lifecycle %+v, want %+v", v.Name, cp.Lifecycle, want)
		}
		e.checkStored(v.Storage, cp.ID)
	}
	failed := byDest[backup.VaultARN("us-east-1", "000000000000", "gone")]
	if failed == nil || failed.State != backup.CopyFailed || !strings.Contains(failed.StatusMessage, "gone does not exist") {
		t.Fatalf("copy to a missing vault: %+v", failed)
	}

	// On-demand jobs have no rule and no copies.
	svc.afterBackup(ctx, &backup.BackupJob{ID: "BACKUP-2"}, rp)
	svc.Wait()
	if jobs, _, _ := svc.ListCopyJobs(ctx, backup.CopyJobFilter{}); len(jobs) != 3 {
		t.Fatalf("an on-demand backup made copies: %d jobs", len(jobs))
	}
}
