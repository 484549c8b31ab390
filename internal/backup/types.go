package backup

import "time"

// StorageKind says where a vault keeps its bytes.
type StorageKind string

const (
	// StorageFile keeps a vault in a directory on local disk.
	StorageFile StorageKind = "file"
	// StorageS3 keeps a vault in an S3-compatible bucket under a prefix.
	StorageS3 StorageKind = "s3"
)

// VaultStorage says where a vault's recovery points live. It is fixed when the
// vault is created.
type VaultStorage struct {
	Kind StorageKind `json:"kind"`
	// Path is the directory of a file vault.
	Path string `json:"path,omitempty"`
	// Bucket, Prefix, Endpoint and Region locate an S3 vault. Endpoint is
	// empty for AWS S3 itself; PathStyle is set for most S3-compatible servers.
	Bucket    string `json:"bucket,omitempty"`
	Prefix    string `json:"prefix,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
	Region    string `json:"region,omitempty"`
	PathStyle bool   `json:"pathStyle,omitempty"`
	// EndpointName is the name of the operator's configured S3 endpoint
	// (StoragePolicy) the vault uses; empty in vaults created before
	// endpoints had names, which are matched by Endpoint.
	EndpointName string `json:"endpointName,omitempty"`
	// OwnerID is a random ID chosen when the vault is created and written
	// into its storage marker and into every recovery point it starts: the
	// proof that data found there was written by this vault. Empty in
	// vaults created before it existed.
	OwnerID string `json:"ownerId,omitempty"`
	// ColdPath is the directory a file vault moves points to when they go
	// to cold storage; empty means PATH.cold next to the vault's directory.
	ColdPath string `json:"coldPath,omitempty"`
	// ColdStorageClass is the S3 storage class an S3 vault's cold points
	// are rewritten to; empty means GLACIER.
	ColdStorageClass string `json:"coldStorageClass,omitempty"`
	// Compression is how the vault's points' data files are compressed
	// (CompressionZstd, CompressionGzip, CompressionNone; TagCompression);
	// empty means the server's configured compression.
	Compression string `json:"compression,omitempty"`
}

// Vault is a backup vault: a named container of recovery points.
type Vault struct {
	Name             string
	ARN              string
	AccountID        string
	Region           string
	CreationDate     time.Time
	CreatorRequestID string
	EncryptionKeyARN string
	Tags             map[string]string
	Storage          VaultStorage
	// NumberOfRecoveryPoints is computed by the catalog when a vault is read.
	NumberOfRecoveryPoints int64
}

// JobState is the state of a backup job, as AWS Backup names it.
type JobState string

const (
	JobCreated   JobState = "CREATED"
	JobPending   JobState = "PENDING"
	JobRunning   JobState = "RUNNING"
	JobAborting  JobState = "ABORTING"
	JobAborted   JobState = "ABORTED"
	JobCompleted JobState = "COMPLETED"
	JobFailed    JobState = "FAILED"
	JobExpired   JobState = "EXPIRED"
	JobPartial   JobState = "PARTIAL"
)

// Terminal reports whether a job in state s will not change state again.
func (s JobState) Terminal() bool {
	switch s {
	case JobAborted, JobCompleted, JobFailed, JobExpired, JobPartial:
		return true
	}
	return false
}

// Active reports whether a job in state s occupies its resource.
func (s JobState) Active() bool { return !s.Terminal() }

// ValidJobState reports whether s is one of AWS Backup's backup job states.
func ValidJobState(s string) bool {
	switch JobState(s) {
	case JobCreated, JobPending, JobRunning, JobAborting, JobAborted, JobCompleted, JobFailed, JobExpired, JobPartial:
		return true
	}
	return false
}

// BackupJob is one backup of one resource into one vault.
type BackupJob struct {
	ID               string
	AccountID        string
	Region           string
	VaultName        string
	VaultARN         string
	RecoveryPointARN string
	ResourceARN      string
	ResourceType     string
	ResourceName     string
	IAMRoleARN       string
	IdempotencyToken string
	// RequestHash identifies the parameters of the request that created
	// the job (a hash of the normalised request), so that a request that
	// reuses IdempotencyToken with other parameters is told apart from a
	// retry. Empty for jobs recorded before cairn kept it.
	RequestHash string

	State         JobState
	StatusMessage string
	// PercentDone is an estimate in [0,100].
	PercentDone       float64
	BytesTransferred  int64
	BackupSizeInBytes int64
	ItemCount         int64

	CreationDate           time.Time
	StartBy                time.Time
	CompletionDate         time.Time // zero until terminal
	ExpectedCompletionDate time.Time

	// Lifecycle requested for the recovery point.
	Lifecycle Lifecycle
	// RecoveryPointTags are given to the recovery point.
	RecoveryPointTags map[string]string
	// Options tune the backup (segments, read rate); zero values mean defaults.
	Options BackupOptions
	// CreatedBy is set for jobs a backup plan created.
	CreatedBy *CreatedBy
	// ScheduledTime is the rule occurrence a plan's job was created for;
	// zero for on-demand jobs. A rule creates at most one job per resource
	// and ScheduledTime.
	ScheduledTime time.Time
	// CompleteBy is when a running job is stopped (EXPIRED) if it has not
	// finished: creation plus the completion window; zero means never.
	CompleteBy time.Time
	// Owner is the node (Cluster.NodeID) that claimed the job and runs
	// it, empty while the job waits in the queue; a job that ended keeps
	// the node that ran it last. Attempt counts how often the job was handed to the queue (a job
	// taken over from a dead node is handed again). Neither is on the
	// AWS wire.
	Owner   string
	Attempt int
}

// Message categories of finished backup jobs (AWS Backup's
// MessageCategory).
const (
	// MessageSuccess: COMPLETED with no status message.
	MessageSuccess = "SUCCESS"
	// MessageCompletedWithIssues: COMPLETED with a status message, what AWS
	// Backup's console shows as "Completed with issues" (items out of
	// DynamoDB's rules kept, fewer scan segments than asked).
	MessageCompletedWithIssues = "COMPLETED_WITH_ISSUES"
)

// MessageCategory returns the job's AWS Backup MessageCategory: SUCCESS
// for a job COMPLETED without a status message, COMPLETED_WITH_ISSUES for
// one COMPLETED with a message, "" for jobs in other states.
func (j *BackupJob) MessageCategory() string {
	if j.State != JobCompleted {
		return ""
	}
	if j.StatusMessage == "" {
		return MessageSuccess
	}
	return MessageCompletedWithIssues
}

// BackupOptions tune how a table is read.
type BackupOptions struct {
	// Segments is the parallel Scan's TotalSegments; 0 chooses automatically.
	Segments int `json:"segments,omitempty"`
	// ReadRate caps read capacity units consumed per second; 0 means unlimited.
	ReadRate float64 `json:"readRate,omitempty"`
	// Compression of the point's data files (CompressionZstd, ...); empty
	// means the vault's, else the server's.
	Compression string `json:"compression,omitempty"`
}

// CreatedBy names the backup plan and rule that created a job, a recovery
// point or a copy (AWS's RecoveryPointCreator).
type CreatedBy struct {
	BackupPlanID       string `json:"BackupPlanId,omitempty"`
	BackupPlanARN      string `json:"BackupPlanArn,omitempty"`
	BackupPlanName     string `json:"BackupPlanName,omitempty"`
	BackupPlanVersion  string `json:"BackupPlanVersion,omitempty"`
	BackupRuleID       string `json:"BackupRuleId,omitempty"`
	BackupRuleName     string `json:"BackupRuleName,omitempty"`
	BackupRuleCron     string `json:"BackupRuleCron,omitempty"`
	BackupRuleTimezone string `json:"BackupRuleTimezone,omitempty"`
}

// Lifecycle says when a recovery point moves to cold storage and when it is
// deleted, in days after creation; zero means never.
type Lifecycle struct {
	MoveToColdStorageAfterDays int64 `json:"MoveToColdStorageAfterDays,omitempty"`
	DeleteAfterDays            int64 `json:"DeleteAfterDays,omitempty"`
}

// IsZero reports whether no lifecycle is set.
func (l Lifecycle) IsZero() bool { return l.MoveToColdStorageAfterDays == 0 && l.DeleteAfterDays == 0 }

// Calculate returns the dates the lifecycle implies for a point created at t.
func (l Lifecycle) Calculate(t time.Time) (moveToCold, deleteAt time.Time) {
	if l.MoveToColdStorageAfterDays > 0 {
		moveToCold = t.AddDate(0, 0, int(l.MoveToColdStorageAfterDays))
	}
	if l.DeleteAfterDays > 0 {
		deleteAt = t.AddDate(0, 0, int(l.DeleteAfterDays))
	}
	return moveToCold, deleteAt
}

// RecoveryPointStatus is the status of a recovery point, as AWS Backup names it.
type RecoveryPointStatus string

const (
	RecoveryPointCreating  RecoveryPointStatus = "CREATING"
	RecoveryPointCompleted RecoveryPointStatus = "COMPLETED"
	RecoveryPointPartial   RecoveryPointStatus = "PARTIAL"
	RecoveryPointDeleting  RecoveryPointStatus = "DELETING"
	RecoveryPointExpired   RecoveryPointStatus = "EXPIRED"
)

// StorageClass is WARM or COLD.
type StorageClass string

const (
	StorageWarm StorageClass = "WARM"
	StorageCold StorageClass = "COLD"
)

// RecoveryPoint is the result of a backup job: a consistent copy of one table
// in one vault. Only a COMPLETED point can be restored.
type RecoveryPoint struct {
	ID           string // the last part of the ARN; also the vault key prefix
	ARN          string
	AccountID    string
	Region       string
	VaultName    string
	VaultARN     string
	ResourceARN  string
	ResourceType string
	ResourceName string
	IAMRoleARN   string
	BackupJobID  string

	Status        RecoveryPointStatus
	StatusMessage string
	StorageClass  StorageClass

	CreationDate   time.Time
	CompletionDate time.Time
	// BackupSizeInBytes is the size of the stored files.
	BackupSizeInBytes int64
	ItemCount         int64
	// ContentChecksum is the order-independent checksum of all items.
	ContentChecksum string

	Lifecycle   Lifecycle
	Tags        map[string]string
	CreatedBy   *CreatedBy
	IsEncrypted bool
	// SourceBackupVaultARN is the vault a copied point was copied from;
	// empty for points a backup job made.
	SourceBackupVaultARN string

	// RestoreMetadata is what GetRecoveryPointRestoreMetadata returns.
	RestoreMetadata map[string]string
}

// CalculatedLifecycle returns when the point moves to cold storage and when
// it is deleted (zero: never).
func (p *RecoveryPoint) CalculatedLifecycle() (moveToCold, deleteAt time.Time) {
	return p.Lifecycle.Calculate(p.CreationDate)
}

// RestoreJobStatus is the status of a restore job, as AWS Backup names it.
type RestoreJobStatus string

const (
	RestorePending   RestoreJobStatus = "PENDING"
	RestoreRunning   RestoreJobStatus = "RUNNING"
	RestoreCompleted RestoreJobStatus = "COMPLETED"
	RestoreAborted   RestoreJobStatus = "ABORTED"
	RestoreFailed    RestoreJobStatus = "FAILED"
)

// Terminal reports whether a restore job in status s will not change again.
func (s RestoreJobStatus) Terminal() bool {
	return s == RestoreCompleted || s == RestoreAborted || s == RestoreFailed
}

// ValidRestoreJobStatus reports whether s is one of AWS Backup's restore job statuses.
func ValidRestoreJobStatus(s string) bool {
	switch RestoreJobStatus(s) {
	case RestorePending, RestoreRunning, RestoreCompleted, RestoreAborted, RestoreFailed:
		return true
	}
	return false
}

// Validation status of a restore job, as AWS Backup names it for restore testing.
const (
	ValidationSuccessful = "SUCCESSFUL"
	ValidationFailed     = "FAILED"
	// ValidationValidating is set while the restored table is being checked.
	ValidationValidating = "VALIDATING"
)

// RestoreJob restores one recovery point into a new table.
type RestoreJob struct {
	ID               string
	AccountID        string
	Region           string
	RecoveryPointARN string
	VaultARN         string
	ResourceType     string
	IAMRoleARN       string
	// Metadata is the request's restore metadata (TargetTableName and so on).
	Metadata         map[string]string
	CopySourceTags   bool
	IdempotencyToken string
	// RequestHash is as BackupJob's.
	RequestHash string

	Status        RestoreJobStatus
	StatusMessage string
	PercentDone   float64
	// BackupSizeInBytes is the size of the recovery point being restored.
	BackupSizeInBytes int64
	ItemsRestored     int64

	CreationDate           time.Time
	CompletionDate         time.Time
	ExpectedCompletionTime time.Time

	// CreatedResourceARN is the ARN of the table the restore created.
	CreatedResourceARN string
	// ValidationStatus and ValidationStatusMessage record the post-restore
	// check of item count and content checksum.
	ValidationStatus        string
	ValidationStatusMessage string
	// Owner and Attempt are as BackupJob's.
	Owner   string
	Attempt int
}

// ProtectedResource is a resource that has at least one recovery point.
type ProtectedResource struct {
	ResourceARN          string
	ResourceType         string
	ResourceName         string
	LastBackupTime       time.Time
	LastBackupVaultARN   string
	LastRecoveryPointARN string
}
