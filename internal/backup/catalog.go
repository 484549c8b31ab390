package backup

import (
	"context"
	"time"
)

// Page asks for one page of a listing. MaxResults 0 means the store's default
// (100); NextToken is the opaque token a previous page returned.
type Page struct {
	MaxResults int
	NextToken  string
}

// BackupJobFilter selects backup jobs; zero fields do not filter. Jobs are
// returned newest first (CreationDate descending, then ID).
type BackupJobFilter struct {
	Page
	ResourceARN      string
	ResourceType     string
	States           []JobState
	VaultName        string
	AccountID        string
	IdempotencyToken string
	CreatedAfter     time.Time
	CreatedBefore    time.Time
	CompleteAfter    time.Time
	CompleteBefore   time.Time
}

// RestoreJobFilter selects restore jobs; zero fields do not filter. Jobs are
// returned newest first.
type RestoreJobFilter struct {
	Page
	AccountID        string
	ResourceType     string
	Statuses         []RestoreJobStatus
	IdempotencyToken string
	CreatedAfter     time.Time
	CreatedBefore    time.Time
	CompleteAfter    time.Time
	CompleteBefore   time.Time
}

// RecoveryPointFilter selects recovery points; zero fields do not filter.
// Points are returned newest first.
type RecoveryPointFilter struct {
	Page
	VaultName     string
	ResourceARN   string
	ResourceType  string
	Statuses      []RecoveryPointStatus
	BackupPlanID  string
	CreatedAfter  time.Time
	CreatedBefore time.Time
}

// VaultStore keeps vaults.
type VaultStore interface {
	// CreateVault stores v. It fails with ErrAlreadyExists if a vault of that
	// name exists.
	CreateVault(ctx context.Context, v *Vault) error
	// GetVault returns the vault with its NumberOfRecoveryPoints, or ErrNotFound.
	GetVault(ctx context.Context, name string) (*Vault, error)
	// ListVaults returns vaults by name.
	ListVaults(ctx context.Context, p Page) (vaults []*Vault, next string, err error)
	// DeleteVault removes an empty vault. It fails with ErrNotFound, or with
	// ErrInvalidRequest while the vault holds recovery points.
	DeleteVault(ctx context.Context, name string) error
}

// BackupJobStore keeps backup jobs.
type BackupJobStore interface {
	// CreateBackupJob stores j. It fails with ErrConflict if another job for
	// the same ResourceARN is active (not terminal): one backup job per
	// resource at a time.
	CreateBackupJob(ctx context.Context, j *BackupJob) error
	// GetBackupJob returns the job or ErrNotFound.
	GetBackupJob(ctx context.Context, id string) (*BackupJob, error)
	// UpdateBackupJob replaces the stored job with j (matched by ID).
	UpdateBackupJob(ctx context.Context, j *BackupJob) error
	// ListBackupJobs returns the jobs that match f.
	ListBackupJobs(ctx context.Context, f BackupJobFilter) (jobs []*BackupJob, next string, err error)
}

// RecoveryPointStore keeps recovery points.
type RecoveryPointStore interface {
	// CreateRecoveryPoint stores p (normally in status CREATING).
	CreateRecoveryPoint(ctx context.Context, p *RecoveryPoint) error
	// GetRecoveryPoint returns the point by ID (the last part of its ARN) or ErrNotFound.
	GetRecoveryPoint(ctx context.Context, id string) (*RecoveryPoint, error)
	// UpdateRecoveryPoint replaces the stored point with p (matched by ID).
	UpdateRecoveryPoint(ctx context.Context, p *RecoveryPoint) error
	// DeleteRecoveryPoint removes the point from the catalog; ErrNotFound if absent.
	DeleteRecoveryPoint(ctx context.Context, id string) error
	// ListRecoveryPoints returns the points that match f.
	ListRecoveryPoints(ctx context.Context, f RecoveryPointFilter) (points []*RecoveryPoint, next string, err error)
	// ListProtectedResources returns each resource with at least one
	// COMPLETED recovery point, with its latest one.
	ListProtectedResources(ctx context.Context, p Page) (res []*ProtectedResource, next string, err error)
}

// RestoreJobStore keeps restore jobs.
type RestoreJobStore interface {
	CreateRestoreJob(ctx context.Context, j *RestoreJob) error
	// GetRestoreJob returns the job or ErrNotFound.
	GetRestoreJob(ctx context.Context, id string) (*RestoreJob, error)
	UpdateRestoreJob(ctx context.Context, j *RestoreJob) error
	ListRestoreJobs(ctx context.Context, f RestoreJobFilter) (jobs []*RestoreJob, next string, err error)
}

// Catalog is everything cairn remembers besides the backed-up bytes. It must
// be safe for concurrent use; every write is durable when the call returns.
type Catalog interface {
	VaultStore
	BackupJobStore
	RecoveryPointStore
	RestoreJobStore
	Close() error
}
