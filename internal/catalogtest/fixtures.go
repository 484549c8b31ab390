package catalogtest

import (
	"math"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// newVault returns a vault with every field set.
func newVault(name string) *backup.Vault {
	return &backup.Vault{
		Name:             name,
		ARN:              vaultARN(name),
		AccountID:        account,
		Region:           region,
		CreationDate:     at(-time.Hour),
		CreatorRequestID: "req-" + name,
		EncryptionKeyARN: "arn:aws:kms:eu-west-1:123456789012:key/" + name,
		Tags:             map[string]string{"team": "storage", "name": name},
		Storage: backup.VaultStorage{
			Kind: backup.StorageS3, Bucket: "bucket", Prefix: "vaults/" + name,
			Endpoint: "http://127.0.0.1:7070", Region: region, PathStyle: true,
		},
	}
}

// newJob returns a COMPLETED backup job of table with every field set.
func newJob(id, table string, created time.Time) *backup.BackupJob {
	return &backup.BackupJob{
		ID:                     id,
		AccountID:              account,
		Region:                 region,
		VaultName:              "vault-a",
		VaultARN:               vaultARN("vault-a"),
		RecoveryPointARN:       pointARN("rp-" + id),
		ResourceARN:            tableARN(table),
		ResourceType:           backup.ResourceTypeDynamoDB,
		ResourceName:           table,
		IAMRoleARN:             "arn:aws:iam::123456789012:role/backup",
		IdempotencyToken:       "",
		State:                  backup.JobCompleted,
		StatusMessage:          "done",
		PercentDone:            100.0 / 3.0,
		BytesTransferred:       1<<40 + 7,
		BackupSizeInBytes:      1<<33 + 3,
		ItemCount:              123456789,
		CreationDate:           created,
		StartBy:                created.Add(8 * time.Hour),
		CompletionDate:         created.Add(90*time.Second + 123456789),
		ExpectedCompletionDate: created.Add(time.Minute + 1),
		Lifecycle:              backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 120},
		RecoveryPointTags:      map[string]string{"env": "prod", "owner": "ops team"},
		Options:                backup.BackupOptions{Segments: 16, ReadRate: math.Pi},
		CreatedBy:              newCreatedBy(),
		Owner:                  "node-a",
		Attempt:                2,
	}
}

// newPoint returns a COMPLETED recovery point of table in vault with every
// field set.
func newPoint(id, vault, table string, created time.Time) *backup.RecoveryPoint {
	return &backup.RecoveryPoint{
		ID:                   id,
		ARN:                  pointARN(id),
		AccountID:            account,
		Region:               region,
		VaultName:            vault,
		VaultARN:             vaultARN(vault),
		ResourceARN:          tableARN(table),
		ResourceType:         backup.ResourceTypeDynamoDB,
		ResourceName:         table,
		IAMRoleARN:           "arn:aws:iam::123456789012:role/backup",
		BackupJobID:          "job-" + id,
		Status:               backup.RecoveryPointCompleted,
		StatusMessage:        "ok",
		StorageClass:         backup.StorageWarm,
		CreationDate:         created,
		CompletionDate:       created.Add(2*time.Minute + 987654321),
		BackupSizeInBytes:    1<<35 + 11,
		ItemCount:            42424242,
		ContentChecksum:      "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Lifecycle:            backup.Lifecycle{DeleteAfterDays: 35},
		Tags:                 map[string]string{"env": "prod"},
		CreatedBy:            newCreatedBy(),
		IsEncrypted:          true,
		SourceBackupVaultARN: vaultARN("source-" + vault),
		RestoreMetadata:      map[string]string{"originalTableName": table, "tableSchema": `{"KeySchema":[]}`},
	}
}

// newRestore returns a COMPLETED restore job with every field set.
func newRestore(id string, created time.Time) *backup.RestoreJob {
	return &backup.RestoreJob{
		ID:                      id,
		AccountID:               account,
		Region:                  region,
		RecoveryPointARN:        pointARN("rp-" + id),
		VaultARN:                vaultARN("vault-a"),
		ResourceType:            backup.ResourceTypeDynamoDB,
		IAMRoleARN:              "arn:aws:iam::123456789012:role/restore",
		Metadata:                map[string]string{"targetTableName": "restored-" + id},
		CopySourceTags:          true,
		IdempotencyToken:        "",
		Status:                  backup.RestoreCompleted,
		StatusMessage:           "restored",
		PercentDone:             2.0 / 3.0 * 100,
		BackupSizeInBytes:       1<<30 + 5,
		ItemsRestored:           987654,
		CreationDate:            created,
		CompletionDate:          created.Add(3*time.Minute + 1),
		ExpectedCompletionTime:  created.Add(4 * time.Minute),
		CreatedResourceARN:      tableARN("restored-" + id),
		ValidationStatus:        backup.ValidationSuccessful,
		ValidationStatusMessage: "item count and checksum match",
		Owner:                   "node-b",
		Attempt:                 1,
	}
}

// newCreatedBy returns a CreatedBy with every field set.
func newCreatedBy() *backup.CreatedBy {
	return &backup.CreatedBy{
		BackupPlanID:       "plan-1",
		BackupPlanARN:      "arn:aws:backup:eu-west-1:123456789012:backup-plan:plan-1",
		BackupPlanName:     "daily-plan",
		BackupPlanVersion:  "v1",
		BackupRuleID:       "rule-1",
		BackupRuleName:     "daily",
		BackupRuleCron:     "cron(0 5 ? * * *)",
		BackupRuleTimezone: "Europe/Paris",
	}
}

// newPlan returns the first version of a plan with every field set.
func newPlan(id, name string, created time.Time) *backup.BackupPlan {
	return &backup.BackupPlan{
		PlanDocument: backup.PlanDocument{
			BackupPlanName: name,
			Rules: []backup.BackupRule{{
				RuleID:                     "rule-daily-" + id,
				RuleName:                   "daily",
				TargetBackupVaultName:      "vault-a",
				ScheduleExpression:         "cron(0 5 ? * * *)",
				ScheduleExpressionTimezone: "Europe/Paris",
				StartWindowMinutes:         60,
				CompletionWindowMinutes:    120,
				Lifecycle:                  backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 120},
				RecoveryPointTags:          map[string]string{"backup": "daily"},
				CopyActions: []backup.CopyAction{{
					DestinationBackupVaultARN: vaultARN("vault-b"),
					Lifecycle:                 backup.Lifecycle{DeleteAfterDays: 365},
				}},
				EnableContinuousBackup: true,
			}, {
				RuleID:                "rule-hourly-" + id,
				RuleName:              "hourly",
				TargetBackupVaultName: "vault-b",
				ScheduleExpression:    "cron(0 * ? * * *)",
			}},
			AdvancedBackupSettings: []backup.AdvancedBackupSetting{{
				ResourceType: "EC2", BackupOptions: map[string]string{"WindowsVSS": "enabled"},
			}},
		},
		ID:                id,
		ARN:               planARN(id),
		VersionID:         "v1-" + id,
		AccountID:         account,
		Region:            region,
		CreatorRequestID:  "req-" + id,
		CreationDate:      created,
		LastExecutionDate: created.Add(time.Hour + 1),
		Tags:              map[string]string{"team": "storage"},
	}
}

// newSelection returns a selection of plan with every field set.
func newSelection(plan, id, name string, created time.Time) *backup.BackupSelection {
	return &backup.BackupSelection{
		SelectionDocument: backup.SelectionDocument{
			SelectionName: name,
			IAMRoleARN:    "arn:aws:iam::123456789012:role/backup",
			Resources:     []string{tableARN("orders"), "arn:aws:dynamodb:*:*:table/prod-*"},
			NotResources:  []string{tableARN("prod-scratch")},
			ListOfTags: []backup.TagCondition{{
				ConditionType: backup.ConditionStringEquals, ConditionKey: "backup", ConditionValue: "daily",
			}},
			Conditions: backup.Conditions{
				StringEquals:    []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "prod"}},
				StringNotEquals: []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/tier", ConditionValue: "scratch"}},
				StringLike:      []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/team", ConditionValue: "data-*"}},
				StringNotLike:   []backup.ConditionParameter{{ConditionKey: "aws:ResourceTag/owner", ConditionValue: "*test*"}},
			},
		},
		SelectionID:      id,
		BackupPlanID:     plan,
		CreationDate:     created,
		CreatorRequestID: "req-" + id,
	}
}

// newCopy returns a COMPLETED copy job of table's point with every field
// set.
func newCopy(id, table string, created time.Time) *backup.CopyJob {
	return &backup.CopyJob{
		ID:                          id,
		AccountID:                   account,
		Region:                      region,
		SourceBackupVaultARN:        vaultARN("vault-a"),
		SourceRecoveryPointARN:      pointARN("rp-" + id),
		DestinationBackupVaultARN:   vaultARN("vault-b"),
		DestinationRecoveryPointARN: pointARN("rp-copy-" + id),
		ResourceARN:                 tableARN(table),
		ResourceType:                backup.ResourceTypeDynamoDB,
		ResourceName:                table,
		IAMRoleARN:                  "arn:aws:iam::123456789012:role/backup",
		IdempotencyToken:            "token-" + id,
		State:                       backup.CopyCompleted,
		StatusMessage:               "copied",
		BackupSizeInBytes:           1<<34 + 9,
		CreationDate:                created,
		CompletionDate:              created.Add(4*time.Minute + 3),
		Lifecycle:                   backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 365},
		CreatedBy:                   newCreatedBy(),
		Owner:                       "node-c",
		Attempt:                     3,
	}
}

// newStack returns a stack with every field set.
func newStack(name string) *backup.Stack {
	return &backup.Stack{
		Name:       name,
		Parameters: map[string]string{"TagKey": "backup", "TagValue": "daily", "DeleteAfterDays": "35"},
		Resources: []backup.StackResource{{
			LogicalID: "Vault", Type: "AWS::Backup::BackupVault", PhysicalID: name + "-vault",
			Status: backup.StackResourceApplied, Properties: `{"BackupVaultName":"` + name + `-vault"}`,
			Attributes: map[string]string{"Ref": name + "-vault", "BackupVaultArn": vaultARN(name + "-vault")},
		}, {
			LogicalID: "Role", Type: "AWS::IAM::Role", Status: backup.StackResourceNotApplicable,
			Message: "cairn does not manage IAM roles",
		}},
		CreationDate: at(-2 * time.Hour),
		UpdateDate:   at(-time.Hour + 1),
	}
}
