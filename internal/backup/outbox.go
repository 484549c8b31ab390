package backup

import (
	"context"
	"slices"
	"strings"
	"time"
)

// The outbox: which events a state change causes. The catalog calls these
// functions inside the transaction that stores the change, with the stored
// value before it (nil when the change creates the object) and the value
// after it, and records what they return in the same transaction. So no
// writer can forget an event and no event outlives a rolled-back change.
// They are pure: the catalog gives each event its ID and, where the change
// carries no time of its own, the time of the write.

// Job types of job events (Event.JobType), as AWS Backup's notifications
// name them in their EventType attribute.
const (
	JobTypeBackup  = "BACKUP_JOB"
	JobTypeRestore = "RESTORE_JOB"
	JobTypeCopy    = "COPY_JOB"
)

// EventTest is the event `cairn notify test` sends to a vault's targets. It
// is cairn's own: AWS Backup has no test event, and a vault's
// BackupVaultEvents cannot name it.
const EventTest EventType = "CAIRN_NOTIFICATION_TEST"

// ValidEventType reports whether s is one of the BackupVaultEvents cairn
// records (EventTypes).
func ValidEventType(s string) bool { return slices.Contains(EventTypes, EventType(s)) }

// BackupJobEvents returns the events of a backup job's change from before
// (nil: the job is being created) to after, stamped at now unless the job
// says when (its CompletionDate when it ends). A job that starts running
// gives BACKUP_JOB_STARTED (again if it is queued back and started anew
// after a graceful stop); a job that ends gives BACKUP_JOB_COMPLETED with
// its final State and, by that state, BACKUP_JOB_SUCCESSFUL (COMPLETED),
// BACKUP_JOB_FAILED (FAILED, ABORTED) or BACKUP_JOB_EXPIRED (EXPIRED).
func BackupJobEvents(before, after *BackupJob, now time.Time) []Event {
	if after == nil {
		return nil
	}
	base := Event{
		Time: now, AccountID: after.AccountID, Region: after.Region,
		VaultName: after.VaultName, VaultARN: after.VaultARN,
		JobType: JobTypeBackup, JobID: after.ID, State: string(after.State), StatusMessage: after.StatusMessage,
		ResourceARN: after.ResourceARN, ResourceType: after.ResourceType, ResourceName: after.ResourceName,
		RecoveryPointARN:  after.RecoveryPointARN,
		BackupSizeInBytes: after.BackupSizeInBytes, BytesTransferred: after.BytesTransferred, ItemCount: after.ItemCount,
		CreationDate: after.CreationDate, CompletionDate: after.CompletionDate,
		CreatedBy: cloneCreatedBy(after.CreatedBy),
	}
	var was JobState
	if before != nil {
		was = before.State
	}
	if was == after.State {
		return nil
	}
	var out []Event
	if after.State == JobRunning && was != JobAborting {
		out = append(out, withType(base, EventBackupJobStarted))
	}
	if after.State.Terminal() && (before == nil || !was.Terminal()) {
		if !after.CompletionDate.IsZero() {
			base.Time = after.CompletionDate
		}
		out = append(out, withType(base, EventBackupJobCompleted))
		switch after.State {
		case JobCompleted:
			out = append(out, withType(base, EventBackupJobSuccessful))
		case JobFailed, JobAborted:
			out = append(out, withType(base, EventBackupJobFailed))
		case JobExpired:
			out = append(out, withType(base, EventBackupJobExpired))
		}
	}
	return out
}

// RestoreJobEvents is BackupJobEvents for restore jobs: RESTORE_JOB_STARTED
// when it runs, RESTORE_JOB_COMPLETED when it ends and, by its status,
// RESTORE_JOB_SUCCESSFUL or RESTORE_JOB_FAILED (FAILED, ABORTED). The
// vault is the recovery point's.
func RestoreJobEvents(before, after *RestoreJob, now time.Time) []Event {
	if after == nil {
		return nil
	}
	var was RestoreJobStatus
	if before != nil {
		was = before.Status
	}
	if was == after.Status {
		return nil
	}
	base := Event{
		Time: now, AccountID: after.AccountID, Region: after.Region,
		VaultName: VaultNameFromARN(after.VaultARN), VaultARN: after.VaultARN,
		JobType: JobTypeRestore, JobID: after.ID, State: string(after.Status), StatusMessage: after.StatusMessage,
		ResourceARN: after.CreatedResourceARN, ResourceType: after.ResourceType,
		RecoveryPointARN: after.RecoveryPointARN, BackupSizeInBytes: after.BackupSizeInBytes,
		ItemCount: after.ItemsRestored, CreationDate: after.CreationDate, CompletionDate: after.CompletionDate,
	}
	if name := after.Metadata["TargetTableName"]; base.ResourceName == "" && name != "" {
		base.ResourceName = name
	}
	var out []Event
	if after.Status == RestoreRunning {
		out = append(out, withType(base, EventRestoreJobStarted))
	}
	if after.Status.Terminal() && (before == nil || !was.Terminal()) {
		if !after.CompletionDate.IsZero() {
			base.Time = after.CompletionDate
		}
		out = append(out, withType(base, EventRestoreJobCompleted))
		if after.Status == RestoreCompleted {
			out = append(out, withType(base, EventRestoreJobSuccessful))
		} else {
			out = append(out, withType(base, EventRestoreJobFailed))
		}
	}
	return out
}

// CopyJobEvents is BackupJobEvents for copy jobs: COPY_JOB_STARTED when it
// runs, COPY_JOB_SUCCESSFUL or COPY_JOB_FAILED when it ends (AWS Backup has
// no COPY_JOB_COMPLETED). The vault is the source vault, whose
// notifications AWS Backup sends copy events to; DestinationVaultARN says
// where the copy goes.
func CopyJobEvents(before, after *CopyJob, now time.Time) []Event {
	if after == nil {
		return nil
	}
	var was CopyJobState
	if before != nil {
		was = before.State
	}
	if was == after.State {
		return nil
	}
	base := Event{
		Time: now, AccountID: after.AccountID, Region: after.Region,
		VaultName: VaultNameFromARN(after.SourceBackupVaultARN), VaultARN: after.SourceBackupVaultARN,
		JobType: JobTypeCopy, JobID: after.ID, State: string(after.State), StatusMessage: after.StatusMessage,
		ResourceARN: after.ResourceARN, ResourceType: after.ResourceType, ResourceName: after.ResourceName,
		RecoveryPointARN: after.SourceRecoveryPointARN, DestinationVaultARN: after.DestinationBackupVaultARN,
		BackupSizeInBytes: after.BackupSizeInBytes, CreationDate: after.CreationDate, CompletionDate: after.CompletionDate,
		CreatedBy: cloneCreatedBy(after.CreatedBy),
	}
	var out []Event
	if after.State == CopyRunning {
		out = append(out, withType(base, EventCopyJobStarted))
	}
	if after.State.Terminal() && (before == nil || !was.Terminal()) {
		if !after.CompletionDate.IsZero() {
			base.Time = after.CompletionDate
		}
		if after.State == CopyCompleted {
			out = append(out, withType(base, EventCopyJobSuccessful))
		} else {
			out = append(out, withType(base, EventCopyJobFailed))
		}
	}
	return out
}

// RecoveryPointEvents returns RECOVERY_POINT_MODIFIED when a point that
// was complete changes what AWS Backup reports as a modification: its
// lifecycle, its storage class (a move to cold storage) or its status
// (EXPIRED, DELETING). A point becoming COMPLETED is its backup job's
// event, not this one; tags change through TagStore and give none.
func RecoveryPointEvents(before, after *RecoveryPoint, now time.Time) []Event {
	if before == nil || after == nil || before.Status == RecoveryPointCreating {
		return nil
	}
	if before.Lifecycle == after.Lifecycle && before.StorageClass == after.StorageClass && before.Status == after.Status {
		return nil
	}
	return []Event{{
		Type: EventRecoveryPointModified, Time: now, AccountID: after.AccountID, Region: after.Region,
		VaultName: after.VaultName, VaultARN: after.VaultARN, State: string(after.Status),
		StatusMessage: after.StatusMessage,
		ResourceARN:   after.ResourceARN, ResourceType: after.ResourceType, ResourceName: after.ResourceName,
		RecoveryPointARN: after.ARN, BackupSizeInBytes: after.BackupSizeInBytes, ItemCount: after.ItemCount,
		CreationDate: after.CreationDate, CompletionDate: after.CompletionDate,
		CreatedBy: cloneCreatedBy(after.CreatedBy),
	}}
}

// PlanEvents returns BACKUP_PLAN_CREATED (before nil) or
// BACKUP_PLAN_MODIFIED for a plan's new version: one event per vault its
// rules back up into (a plan belongs to no vault; these are the vaults
// whose notifications it concerns), at the version's CreationDate.
func PlanEvents(before, after *BackupPlan) []Event {
	if after == nil {
		return nil
	}
	typ := EventBackupPlanCreated
	if before != nil {
		typ = EventBackupPlanModified
	}
	var vaults []string
	for _, r := range after.Rules {
		if r.TargetBackupVaultName != "" && !slices.Contains(vaults, r.TargetBackupVaultName) {
			vaults = append(vaults, r.TargetBackupVaultName)
		}
	}
	out := make([]Event, 0, len(vaults))
	for _, v := range vaults {
		out = append(out, Event{
			Type: typ, Time: after.CreationDate, AccountID: after.AccountID, Region: after.Region,
			VaultName: v, VaultARN: VaultARN(after.Region, after.AccountID, v),
			CreationDate: after.CreationDate,
			CreatedBy: &CreatedBy{BackupPlanID: after.ID, BackupPlanARN: after.ARN,
				BackupPlanName: after.BackupPlanName, BackupPlanVersion: after.VersionID},
		})
	}
	return out
}

// VaultNameFromARN returns the vault name of a backup vault ARN
// (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME), or "".
func VaultNameFromARN(arn string) string {
	a, err := ParseARN(arn)
	if err != nil {
		return ""
	}
	name, ok := strings.CutPrefix(a.Resource, "backup-vault:")
	if !ok {
		return ""
	}
	return name
}

func withType(e Event, t EventType) Event {
	e.Type = t
	e.CreatedBy = cloneCreatedBy(e.CreatedBy)
	return e
}

func cloneCreatedBy(c *CreatedBy) *CreatedBy {
	if c == nil {
		return nil
	}
	d := *c
	return &d
}

// VaultNotifications is a vault's AWS Backup notification configuration:
// the SNS topic its events go to and which events.
type VaultNotifications struct {
	VaultName   string
	VaultARN    string
	SNSTopicARN string
	Events      []EventType
}

// Wants reports whether the configuration asks for events of type t.
func (n *VaultNotifications) Wants(t EventType) bool { return slices.Contains(n.Events, t) }

// ValidateVaultNotifications checks a PutBackupVaultNotifications request
// as AWS does: an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:NAME)
// and at least one event, each one of EventTypes. Errors name the member
// at fault.
func ValidateVaultNotifications(topicARN string, events []string) error {
	a, err := ParseARN(topicARN)
	if err != nil || a.Service != "sns" || a.Region == "" || a.AccountID == "" || strings.ContainsAny(a.Resource, ":/") {
		return Errorf(ErrInvalidParameter, "SNSTopicArn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)", topicARN)
	}
	if len(events) == 0 {
		return Errorf(ErrInvalidParameter, "BackupVaultEvents must name at least one event")
	}
	for _, e := range events {
		if !ValidEventType(e) && !slices.Contains(awsOnlyEvents, e) {
			return Errorf(ErrInvalidParameter, "BackupVaultEvents: %q is not a BackupVaultEvents value; use one of %s", e, eventNames())
		}
	}
	return nil
}

// awsOnlyEvents are BackupVaultEvents values of AWS Backup that cannot
// occur in cairn (S3, EKS, continuous backups, indexes): a configuration
// may name them, as it may on AWS, and cairn never sends them.
var awsOnlyEvents = []string{"S3_BACKUP_OBJECT_FAILED", "S3_RESTORE_OBJECT_FAILED", "CONTINUOUS_BACKUP_INTERRUPTED",
	"RECOVERY_POINT_INDEX_COMPLETED", "RECOVERY_POINT_INDEX_DELETED", "RECOVERY_POINT_INDEXING_FAILED",
	"EKS_RESTORE_OBJECT_FAILED", "EKS_RESTORE_OBJECT_SKIPPED", "EKS_BACKUP_OBJECT_FAILED"}

func eventNames() string {
	s := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Delivery states.
const (
	DeliveryPending       = "PENDING"
	DeliveryDelivered     = "DELIVERED"
	DeliveryUndeliverable = "UNDELIVERABLE"
)

// Delivery is the record of one event's delivery to one target.
type Delivery struct {
	EventID    string
	TargetKind string
	TargetName string
	// Status is DeliveryPending (waiting for its next attempt),
	// DeliveryDelivered or DeliveryUndeliverable (given up: LastError says
	// why).
	Status    string
	Attempts  int
	LastError string
	// CreatedAt is when the delivery was planned; LastAttemptAt when it was
	// last tried; NextAttemptAt when a pending one is due.
	CreatedAt     time.Time
	LastAttemptAt time.Time
	NextAttemptAt time.Time
	DeliveredAt   time.Time
	// Event is the delivered event; set by DueDeliveries and ListDeliveries.
	Event Event
}

// DeliveryTarget names a target a delivery goes to.
type DeliveryTarget struct {
	Kind string
	Name string
}

// DeliveryPlan is the targets one event goes to.
type DeliveryPlan struct {
	EventID string
	Targets []DeliveryTarget
}

// DeliveryFilter selects deliveries; zero fields do not filter. They are
// returned newest first.
type DeliveryFilter struct {
	Page
	VaultName string
	EventID   string
	Status    string
}

// OutboxStore is the catalog's outbox of events and the record of their
// deliveries. The catalog writes events itself, in the transaction of the
// change that causes them (the *Events functions above); these methods
// are for the sender and for events no state change causes (tests).
type OutboxStore interface {
	// AppendEvent records ev, giving it an ID if it has none; ErrAlreadyExists
	// if the ID is taken.
	AppendEvent(ctx context.Context, ev *Event) error
	// UnplannedEvents returns up to limit events, oldest first, whose
	// deliveries are not planned yet.
	UnplannedEvents(ctx context.Context, limit int) ([]Event, error)
	// PlanDeliveries records, for each plan, one pending delivery per
	// target, due at now, and marks its event planned, all in one
	// transaction. Planning an event twice keeps the first plan.
	// ErrNotFound if an event does not exist, and then nothing is stored.
	PlanDeliveries(ctx context.Context, plans []DeliveryPlan, now time.Time) error
	// DueDeliveries returns up to limit pending deliveries due at or
	// before now, the earliest due first, with their events.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	// UpdateDeliveries stores each delivery's status, attempts, error and
	// times (matched by event and target), in one transaction; if one is
	// absent (ErrNotFound) or invalid, none is stored.
	UpdateDeliveries(ctx context.Context, ds []*Delivery) error
	// ListDeliveries returns the deliveries that match f, newest first
	// (CreatedAt, then event and target), with their events.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// DeliveryCounts returns how many deliveries are in each status.
	DeliveryCounts(ctx context.Context) (map[string]int64, error)
	// PruneEvents deletes at most limit events recorded before `before`
	// (their Time) whose deliveries are planned and none PENDING, oldest
	// first, with their delivery records, and returns how many it deleted.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// PutVaultNotifications replaces the vault's notification
	// configuration; ErrNotFound if there is no such vault.
	PutVaultNotifications(ctx context.Context, n *VaultNotifications) error
	// GetVaultNotifications returns it; ErrNotFound if the vault has none
	// (or does not exist). Deleting a vault deletes its configuration.
	GetVaultNotifications(ctx context.Context, vault string) (*VaultNotifications, error)
	// DeleteVaultNotifications removes it; ErrNotFound if there is none.
	DeleteVaultNotifications(ctx context.Context, vault string) error
}

// NotificationService is the API of vault notifications and of cairn's
// delivery records.
type NotificationService interface {
	// PutBackupVaultNotifications validates and stores a vault's
	// configuration (ValidateVaultNotifications), replacing the one it
	// had; nothing changes on error. ErrNotFound if there is no such vault.
	PutBackupVaultNotifications(ctx context.Context, vault, topicARN string, events []string) error
	// GetBackupVaultNotifications returns it; ErrNotFound if the vault
	// does not exist or has none.
	GetBackupVaultNotifications(ctx context.Context, vault string) (*VaultNotifications, error)
	// DeleteBackupVaultNotifications removes it; a vault without one is
	// left as it is. ErrNotFound if there is no such vault.
	DeleteBackupVaultNotifications(ctx context.Context, vault string) error
	// TestNotification sends an EventTest event to every target of the
	// vault now and returns its deliveries as they stand after one attempt
	// (failed ones are retried like any other).
	TestNotification(ctx context.Context, vault string) ([]*Delivery, error)
	// ListDeliveries returns delivery records.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
}
