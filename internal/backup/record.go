package backup

import (
	"encoding/json"
	"fmt"
	"time"
)

// Records kept beside the data. The catalog is not the only copy of what
// cairn knows about a vault and its recovery points: each vault's storage
// holds a vault record (the marker file written when the vault is created)
// and each recovery point a point record, rewritten whenever the point
// changes (lifecycle, storage class, tags). From them and the points'
// manifests `cairn catalog rebuild` makes a catalog again; only job history
// lives in the catalog alone. These functions are the records' one JSON
// encoding; where the records are stored is the vault layout's business.

// RecordFormatVersion is the version of the record encodings written now.
// Readers accept every version up to it.
const RecordFormatVersion = 1

// vaultRecord is the JSON of a vault record. vault, account and region are
// the keys of the first marker files, which had nothing else.
type vaultRecord struct {
	Vault            string            `json:"vault"`
	Account          string            `json:"account"`
	Region           string            `json:"region"`
	FormatVersion    int               `json:"formatVersion,omitempty"`
	ARN              string            `json:"arn,omitempty"`
	CreationDate     string            `json:"creationDate,omitempty"`
	CreatorRequestID string            `json:"creatorRequestId,omitempty"`
	EncryptionKeyARN string            `json:"encryptionKeyArn,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	Storage          *VaultStorage     `json:"storage,omitempty"`
}

// MarshalVaultRecord encodes what a vault's storage records about it:
// everything but NumberOfRecoveryPoints.
func MarshalVaultRecord(v *Vault) ([]byte, error) {
	st := v.Storage
	return json.MarshalIndent(vaultRecord{
		Vault: v.Name, Account: v.AccountID, Region: v.Region, FormatVersion: RecordFormatVersion,
		ARN: v.ARN, CreationDate: formatTime(v.CreationDate), CreatorRequestID: v.CreatorRequestID,
		EncryptionKeyARN: v.EncryptionKeyARN, Tags: v.Tags, Storage: &st,
	}, "", "  ")
}

// UnmarshalVaultRecord decodes a vault record. A record of the first
// format gives only Name, AccountID and Region; the caller fills in the
// rest (the ARN from them, the storage from where the record was found).
func UnmarshalVaultRecord(b []byte) (*Vault, error) {
	var r vaultRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("vault record: %w", err)
	}
	if r.FormatVersion > RecordFormatVersion {
		return nil, fmt.Errorf("vault record: format version %d is newer than this cairn reads (%d); use a newer cairn", r.FormatVersion, RecordFormatVersion)
	}
	if err := ValidateVaultName(r.Vault); err != nil {
		return nil, fmt.Errorf("vault record: %w", err)
	}
	created, err := parseTime(r.CreationDate, "creationDate")
	if err != nil {
		return nil, fmt.Errorf("vault record: %w", err)
	}
	v := &Vault{Name: r.Vault, AccountID: r.Account, Region: r.Region, ARN: r.ARN, CreationDate: created,
		CreatorRequestID: r.CreatorRequestID, EncryptionKeyARN: r.EncryptionKeyARN, Tags: nilIfEmpty(r.Tags)}
	if r.Storage != nil {
		v.Storage = *r.Storage
	}
	return v, nil
}

// pointRecord is the JSON of a recovery point record, with AWS's member
// names where AWS has them.
type pointRecord struct {
	FormatVersion        int               `json:"formatVersion"`
	RecoveryPointARN     string            `json:"RecoveryPointArn"`
	RecoveryPointID      string            `json:"RecoveryPointId"`
	AccountID            string            `json:"AccountId"`
	Region               string            `json:"Region"`
	BackupVaultName      string            `json:"BackupVaultName"`
	BackupVaultARN       string            `json:"BackupVaultArn"`
	SourceBackupVaultARN string            `json:"SourceBackupVaultArn,omitempty"`
	ResourceARN          string            `json:"ResourceArn"`
	ResourceType         string            `json:"ResourceType"`
	ResourceName         string            `json:"ResourceName,omitempty"`
	IAMRoleARN           string            `json:"IamRoleArn,omitempty"`
	BackupJobID          string            `json:"BackupJobId,omitempty"`
	Status               string            `json:"Status"`
	StatusMessage        string            `json:"StatusMessage,omitempty"`
	StorageClass         string            `json:"StorageClass"`
	CreationDate         string            `json:"CreationDate"`
	CompletionDate       string            `json:"CompletionDate,omitempty"`
	BackupSizeInBytes    int64             `json:"BackupSizeInBytes"`
	ItemCount            int64             `json:"ItemCount"`
	ContentChecksum      string            `json:"ContentChecksum,omitempty"`
	Lifecycle            *Lifecycle        `json:"Lifecycle,omitempty"`
	Tags                 map[string]string `json:"Tags,omitempty"`
	CreatedBy            *CreatedBy        `json:"CreatedBy,omitempty"`
	IsEncrypted          bool              `json:"IsEncrypted,omitempty"`
	RestoreMetadata      map[string]string `json:"RestoreMetadata,omitempty"`
}

// MarshalPointRecord encodes everything the catalog knows about a
// recovery point.
func MarshalPointRecord(p *RecoveryPoint) ([]byte, error) {
	r := pointRecord{
		FormatVersion: RecordFormatVersion, RecoveryPointARN: p.ARN, RecoveryPointID: p.ID,
		AccountID: p.AccountID, Region: p.Region, BackupVaultName: p.VaultName, BackupVaultARN: p.VaultARN,
		SourceBackupVaultARN: p.SourceBackupVaultARN, ResourceARN: p.ResourceARN, ResourceType: p.ResourceType,
		ResourceName: p.ResourceName, IAMRoleARN: p.IAMRoleARN, BackupJobID: p.BackupJobID,
		Status: string(p.Status), StatusMessage: p.StatusMessage, StorageClass: string(p.StorageClass),
		CreationDate: formatTime(p.CreationDate), CompletionDate: formatTime(p.CompletionDate),
		BackupSizeInBytes: p.BackupSizeInBytes, ItemCount: p.ItemCount, ContentChecksum: p.ContentChecksum,
		Tags: p.Tags, CreatedBy: p.CreatedBy, IsEncrypted: p.IsEncrypted, RestoreMetadata: p.RestoreMetadata,
	}
	if !p.Lifecycle.IsZero() {
		l := p.Lifecycle
		r.Lifecycle = &l
	}
	return json.MarshalIndent(r, "", "  ")
}

// UnmarshalPointRecord decodes a recovery point record.
func UnmarshalPointRecord(b []byte) (*RecoveryPoint, error) {
	var r pointRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("recovery point record: %w", err)
	}
	if r.FormatVersion < 1 || r.FormatVersion > RecordFormatVersion {
		return nil, fmt.Errorf("recovery point record: format version %d is not one this cairn reads (1 to %d)", r.FormatVersion, RecordFormatVersion)
	}
	created, err := parseTime(r.CreationDate, "CreationDate")
	if err != nil {
		return nil, fmt.Errorf("recovery point record: %w", err)
	}
	completed, err := parseTime(r.CompletionDate, "CompletionDate")
	if err != nil {
		return nil, fmt.Errorf("recovery point record: %w", err)
	}
	p := &RecoveryPoint{
		ID: r.RecoveryPointID, ARN: r.RecoveryPointARN, AccountID: r.AccountID, Region: r.Region,
		VaultName: r.BackupVaultName, VaultARN: r.BackupVaultARN, SourceBackupVaultARN: r.SourceBackupVaultARN,
		ResourceARN: r.ResourceARN, ResourceType: r.ResourceType, ResourceName: r.ResourceName,
		IAMRoleARN: r.IAMRoleARN, BackupJobID: r.BackupJobID,
		Status: RecoveryPointStatus(r.Status), StatusMessage: r.StatusMessage, StorageClass: StorageClass(r.StorageClass),
		CreationDate: created, CompletionDate: completed,
		BackupSizeInBytes: r.BackupSizeInBytes, ItemCount: r.ItemCount, ContentChecksum: r.ContentChecksum,
		Tags: r.Tags, CreatedBy: r.CreatedBy, IsEncrypted: r.IsEncrypted, RestoreMetadata: r.RestoreMetadata,
	}
	if r.Lifecycle != nil {
		p.Lifecycle = *r.Lifecycle
	}
	p.Tags, p.RestoreMetadata = nilIfEmpty(p.Tags), nilIfEmpty(p.RestoreMetadata)
	return p, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t.UTC(), nil
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
