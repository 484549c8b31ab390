package backup

import "context"

// CreateVaultInput asks for a new vault. Storage zero means a directory
// under the server's data dir.
type CreateVaultInput struct {
	Name             string
	CreatorRequestID string
	EncryptionKeyARN string
	Tags             map[string]string
	Storage          VaultStorage
}

// StartBackupJobInput asks for a backup of one resource.
type StartBackupJobInput struct {
	VaultName         string
	ResourceARN       string
	IAMRoleARN        string
	IdempotencyToken  string
	StartWindowMins   int64
	CompleteWindowMin int64
	Lifecycle         Lifecycle
	RecoveryPointTags map[string]string
	Options           BackupOptions
}

// StartRestoreJobInput asks for a restore of a recovery point into a new
// table. Metadata carries AWS's DynamoDB restore keys (TargetTableName is
// required) and cairn's own (see the runner for the list).
type StartRestoreJobInput struct {
	RecoveryPointARN string
	Metadata         map[string]string
	IAMRoleARN       string
	IdempotencyToken string
	ResourceType     string
	CopySourceTags   bool
}

// VaultService manages vaults.
type VaultService interface {
	CreateVault(ctx context.Context, in CreateVaultInput) (*Vault, error)
	GetVault(ctx context.Context, name string) (*Vault, error)
	ListVaults(ctx context.Context, p Page) ([]*Vault, string, error)
	// DeleteVault removes an empty vault; ErrInvalidRequest if it holds points.
	DeleteVault(ctx context.Context, name string) error
}

// BackupJobService starts, watches and stops backup jobs.
type BackupJobService interface {
	// StartBackupJob creates a job and returns at once; the job runs in the
	// background. The same IdempotencyToken returns the same job.
	StartBackupJob(ctx context.Context, in StartBackupJobInput) (*BackupJob, error)
	GetBackupJob(ctx context.Context, id string) (*BackupJob, error)
	ListBackupJobs(ctx context.Context, f BackupJobFilter) ([]*BackupJob, string, error)
	// StopBackupJob cancels an active job: it goes ABORTING, then ABORTED
	// once its partial data is removed. ErrInvalidRequest if already terminal.
	StopBackupJob(ctx context.Context, id string) error
}

// RecoveryPointService reads and deletes recovery points.
type RecoveryPointService interface {
	// GetRecoveryPoint returns the point with arn in vault; ErrNotFound if it
	// is not there.
	GetRecoveryPoint(ctx context.Context, vault, arn string) (*RecoveryPoint, error)
	ListRecoveryPoints(ctx context.Context, f RecoveryPointFilter) ([]*RecoveryPoint, string, error)
	// DeleteRecoveryPoint removes a point's data and catalog entry.
	DeleteRecoveryPoint(ctx context.Context, vault, arn string) error
	ListProtectedResources(ctx context.Context, p Page) ([]*ProtectedResource, string, error)
}

// RestoreJobService starts and watches restore jobs.
type RestoreJobService interface {
	StartRestoreJob(ctx context.Context, in StartRestoreJobInput) (*RestoreJob, error)
	GetRestoreJob(ctx context.Context, id string) (*RestoreJob, error)
	ListRestoreJobs(ctx context.Context, f RestoreJobFilter) ([]*RestoreJob, string, error)
}

// Service is everything the API offers.
type Service interface {
	VaultService
	BackupJobService
	RecoveryPointService
	RestoreJobService
}
