package webhook

import (
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// SchemaVersion is the version of Payload's layout. Fields may be added
// within a version; none is renamed or removed.
const SchemaVersion = "1"

// Payload is the JSON body of the json format (docs/notifications.md).
// Field names follow AWS Backup's API; fields that do not apply to the
// event are left out. EventId is stable across retries: receivers
// deduplicate by it.
type Payload struct {
	SchemaVersion string `json:"SchemaVersion"`
	EventId       string `json:"EventId"`
	EventType     string `json:"EventType"`
	// EventTime is when the change happened, RFC 3339 in UTC.
	EventTime string `json:"EventTime"`

	AccountId       string `json:"AccountId,omitempty"`
	Region          string `json:"Region,omitempty"`
	BackupVaultName string `json:"BackupVaultName,omitempty"`
	BackupVaultArn  string `json:"BackupVaultArn,omitempty"`

	JobType       string `json:"JobType,omitempty"`
	JobId         string `json:"JobId,omitempty"`
	State         string `json:"State,omitempty"`
	StatusMessage string `json:"StatusMessage,omitempty"`

	ResourceArn               string `json:"ResourceArn,omitempty"`
	ResourceType              string `json:"ResourceType,omitempty"`
	ResourceName              string `json:"ResourceName,omitempty"`
	RecoveryPointArn          string `json:"RecoveryPointArn,omitempty"`
	DestinationBackupVaultArn string `json:"DestinationBackupVaultArn,omitempty"`

	BackupSizeInBytes int64  `json:"BackupSizeInBytes,omitempty"`
	BytesTransferred  int64  `json:"BytesTransferred,omitempty"`
	ItemCount         int64  `json:"ItemCount,omitempty"`
	CreationDate      string `json:"CreationDate,omitempty"`
	CompletionDate    string `json:"CompletionDate,omitempty"`

	CreatedBy *backup.CreatedBy `json:"CreatedBy,omitempty"`
}

// NewPayload returns ev as the json format's document.
func NewPayload(ev backup.Event) Payload {
	return Payload{
		SchemaVersion: SchemaVersion,
		EventId:       ev.ID, EventType: string(ev.Type), EventTime: stamp(ev.Time),
		AccountId: ev.AccountID, Region: ev.Region, BackupVaultName: ev.VaultName, BackupVaultArn: ev.VaultARN,
		JobType: ev.JobType, JobId: ev.JobID, State: ev.State, StatusMessage: ev.StatusMessage,
		ResourceArn: ev.ResourceARN, ResourceType: ev.ResourceType, ResourceName: ev.ResourceName,
		RecoveryPointArn: ev.RecoveryPointARN, DestinationBackupVaultArn: ev.DestinationVaultARN,
		BackupSizeInBytes: ev.BackupSizeInBytes, BytesTransferred: ev.BytesTransferred, ItemCount: ev.ItemCount,
		CreationDate: stamp(ev.CreationDate), CompletionDate: stamp(ev.CompletionDate),
		CreatedBy: ev.CreatedBy,
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
