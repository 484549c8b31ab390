package backup

import "time"

// EventType names a domain event. The values are AWS Backup's
// BackupVaultEvents (the ones that can occur in cairn), so that a vault's
// notification configuration, an SNS filter policy or a webhook's event
// filter written for AWS Backup reads the same names.
type EventType string

// The events cairn records. AWS Backup's meaning: *_STARTED when a job
// starts running; *_COMPLETED when a job ends in any terminal state (the
// event's State says which); *_SUCCESSFUL when it ends COMPLETED; *_FAILED
// when it ends FAILED (or ABORTED); BACKUP_JOB_EXPIRED when a backup job's
// start or completion window passes.
const (
	EventBackupJobStarted      EventType = "BACKUP_JOB_STARTED"
	EventBackupJobCompleted    EventType = "BACKUP_JOB_COMPLETED"
	EventBackupJobSuccessful   EventType = "BACKUP_JOB_SUCCESSFUL"
	EventBackupJobFailed       EventType = "BACKUP_JOB_FAILED"
	EventBackupJobExpired      EventType = "BACKUP_JOB_EXPIRED"
	EventRestoreJobStarted     EventType = "RESTORE_JOB_STARTED"
	EventRestoreJobCompleted   EventType = "RESTORE_JOB_COMPLETED"
	EventRestoreJobSuccessful  EventType = "RESTORE_JOB_SUCCESSFUL"
	EventRestoreJobFailed      EventType = "RESTORE_JOB_FAILED"
	EventCopyJobStarted        EventType = "COPY_JOB_STARTED"
	EventCopyJobSuccessful     EventType = "COPY_JOB_SUCCESSFUL"
	EventCopyJobFailed         EventType = "COPY_JOB_FAILED"
	EventRecoveryPointModified EventType = "RECOVERY_POINT_MODIFIED"
	EventBackupPlanCreated     EventType = "BACKUP_PLAN_CREATED"
	EventBackupPlanModified    EventType = "BACKUP_PLAN_MODIFIED"
)

// EventTypes lists every EventType cairn records, in AWS's order.
var EventTypes = []EventType{
	EventBackupJobStarted, EventBackupJobCompleted, EventBackupJobSuccessful,
	EventBackupJobFailed, EventBackupJobExpired,
	EventRestoreJobStarted, EventRestoreJobCompleted, EventRestoreJobSuccessful,
	EventRestoreJobFailed,
	EventCopyJobStarted, EventCopyJobSuccessful, EventCopyJobFailed,
	EventRecoveryPointModified, EventBackupPlanCreated, EventBackupPlanModified,
}

// Event is one domain event: something that happened to a job, a recovery
// point or a plan. It is recorded in the catalog's outbox in the same
// transaction as the change that caused it, and delivered from there (at
// least once) to the vault's and the operator's notification targets.
// Fields that do not apply to the event's kind are empty.
type Event struct {
	// ID is unique and stable across redeliveries: receivers deduplicate
	// by it.
	ID   string
	Type EventType
	// Time is when the change happened (the catalog's clock).
	Time time.Time

	AccountID string
	Region    string
	VaultName string
	VaultARN  string

	// JobType is "BACKUP", "RESTORE" or "COPY" for job events.
	JobType string
	JobID   string
	// State is the job's state (or restore status) after the change, as
	// the API spells it: CREATED, RUNNING, COMPLETED, FAILED, ABORTED,
	// EXPIRED, ...
	State         string
	StatusMessage string

	ResourceARN      string
	ResourceType     string
	ResourceName     string
	RecoveryPointARN string
	// For copy jobs, where the copy goes.
	DestinationVaultARN string

	BackupSizeInBytes int64
	BytesTransferred  int64
	ItemCount         int64
	CreationDate      time.Time
	CompletionDate    time.Time

	// CreatedBy is the plan and rule that made a scheduled job; for plan
	// events, the plan (BackupPlanID, BackupPlanARN, BackupPlanName,
	// BackupPlanVersion).
	CreatedBy *CreatedBy
}
