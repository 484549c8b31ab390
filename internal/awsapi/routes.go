package awsapi

// routes lists the operations served, as the botocore model places them
// (http.method and http.requestUri). A trailing slash in the model's URI is
// matched exactly with {$}. To serve another operation, add its handler and
// a line here.
var routes = []route{
	{"PUT /backup-vaults/{backupVaultName}", "CreateBackupVault", (*Server).createBackupVault},
	{"GET /backup-vaults/{backupVaultName}", "DescribeBackupVault", (*Server).describeBackupVault},
	{"GET /backup-vaults/{$}", "ListBackupVaults", (*Server).listBackupVaults},
	{"DELETE /backup-vaults/{backupVaultName}", "DeleteBackupVault", (*Server).deleteBackupVault},

	{"PUT /backup-jobs", "StartBackupJob", (*Server).startBackupJob},
	{"GET /backup-jobs/{backupJobId}", "DescribeBackupJob", (*Server).describeBackupJob},
	{"GET /backup-jobs/{$}", "ListBackupJobs", (*Server).listBackupJobs},
	{"POST /backup-jobs/{backupJobId}", "StopBackupJob", (*Server).stopBackupJob},

	{"GET /backup-vaults/{backupVaultName}/recovery-points/{$}", "ListRecoveryPointsByBackupVault", (*Server).listRecoveryPointsByBackupVault},
	{"GET /resources/{resourceArn}/recovery-points/{$}", "ListRecoveryPointsByResource", (*Server).listRecoveryPointsByResource},
	{"GET /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "DescribeRecoveryPoint", (*Server).describeRecoveryPoint},
	{"DELETE /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}", "DeleteRecoveryPoint", (*Server).deleteRecoveryPoint},
	{"GET /backup-vaults/{backupVaultName}/recovery-points/{recoveryPointArn}/restore-metadata", "GetRecoveryPointRestoreMetadata", (*Server).getRecoveryPointRestoreMetadata},
	{"GET /resources/{$}", "ListProtectedResources", (*Server).listProtectedResources},

	{"PUT /restore-jobs", "StartRestoreJob", (*Server).startRestoreJob},
	{"GET /restore-jobs/{restoreJobId}", "DescribeRestoreJob", (*Server).describeRestoreJob},
	{"GET /restore-jobs/{$}", "ListRestoreJobs", (*Server).listRestoreJobs},

	// cairn's own operations (ext.go), outside AWS's URI space.
	{"PUT /cairn/stacks/{stackName}", "ApplyStack", (*Server).applyStack},
	{"DELETE /cairn/stacks/{stackName}", "DeleteStack", (*Server).deleteStack},
	{"GET /cairn/stacks/{stackName}", "GetStack", (*Server).getStack},
	{"GET /cairn/explain", "ExplainResource", (*Server).explainResource},
}
