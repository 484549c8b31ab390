package backup

import "time"

// CopyJobState is the state of a copy job, as AWS Backup names it.
type CopyJobState string

const (
	CopyCreated   CopyJobState = "CREATED"
	CopyRunning   CopyJobState = "RUNNING"
	CopyCompleted CopyJobState = "COMPLETED"
	CopyFailed    CopyJobState = "FAILED"
	CopyPartial   CopyJobState = "PARTIAL"
)

// Terminal reports whether a copy job in state s will not change again.
func (s CopyJobState) Terminal() bool {
	return s == CopyCompleted || s == CopyFailed || s == CopyPartial
}

// ValidCopyJobState reports whether s is one of AWS Backup's copy job states.
func ValidCopyJobState(s string) bool {
	switch CopyJobState(s) {
	case CopyCreated, CopyRunning, CopyCompleted, CopyFailed, CopyPartial:
		return true
	}
	return false
}

// CopyJob copies one recovery point into another vault, where it becomes a
// new recovery point with its own lifecycle.
type CopyJob struct {
	ID                          string
	AccountID                   string
	Region                      string
	SourceBackupVaultARN        string
	SourceRecoveryPointARN      string
	DestinationBackupVaultARN   string
	DestinationRecoveryPointARN string
	ResourceARN                 string
	ResourceType                string
	ResourceName                string
	IAMRoleARN                  string
	IdempotencyToken            string
	// RequestHash is as BackupJob's.
	RequestHash string

	State             CopyJobState
	StatusMessage     string
	BackupSizeInBytes int64

	CreationDate   time.Time
	CompletionDate time.Time

	// Lifecycle of the destination recovery point.
	Lifecycle Lifecycle
	// CreatedBy is set for copies a plan rule's CopyActions made.
	CreatedBy *CreatedBy
	// Owner and Attempt are as BackupJob's.
	Owner   string
	Attempt int
}

// CopyJobFilter selects copy jobs; zero fields do not filter. Jobs are
// returned newest first.
type CopyJobFilter struct {
	Page
	AccountID                 string
	ResourceARN               string
	ResourceType              string
	States                    []CopyJobState
	DestinationBackupVaultARN string
	IdempotencyToken          string
	CreatedAfter              time.Time
	CreatedBefore             time.Time
	CompleteAfter             time.Time
	CompleteBefore            time.Time
}

// StartCopyJobInput asks for a copy of a recovery point into another vault.
type StartCopyJobInput struct {
	RecoveryPointARN          string
	SourceBackupVaultName     string
	DestinationBackupVaultARN string
	IAMRoleARN                string
	IdempotencyToken          string
	Lifecycle                 Lifecycle
}
