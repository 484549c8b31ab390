package awsapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// This file holds the JSON shapes of AWS Backup's requests and responses,
// named and typed as the botocore model names them, and their mapping to and
// from the domain types.

// epoch is a timestamp in a JSON body: seconds since the Unix epoch as a
// number, with milliseconds as a fraction. Its zero value is left out of
// responses by the omitzero option.
type epoch time.Time

func (t epoch) IsZero() bool { return time.Time(t).IsZero() }

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	s := fmt.Sprintf("%s%d", sign, ms/1000)
	if frac := ms % 1000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return []byte(s), nil
}

func (t *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("timestamp %s is not a number of seconds", b)
	}
	sec, frac := math.Modf(f)
	*t = epoch(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC())
	return nil
}

// percent formats a job's progress as AWS does, e.g. "42.0".
func percent(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) }

const (
	vaultTypeBackup     = "BACKUP_VAULT"
	vaultStateAvailable = "AVAILABLE"
)

// lifecycle is the model's Lifecycle.
type lifecycle struct {
	MoveToColdStorageAfterDays          *int64 `json:",omitempty"`
	DeleteAfterDays                     *int64 `json:",omitempty"`
	OptInToArchiveForSupportedResources *bool  `json:",omitempty"`
	DeleteAfterEvent                    string `json:",omitempty"`
}

func toLifecycle(l backup.Lifecycle) *lifecycle {
	if l.IsZero() {
		return nil
	}
	var w lifecycle
	if l.MoveToColdStorageAfterDays > 0 {
		w.MoveToColdStorageAfterDays = &l.MoveToColdStorageAfterDays
	}
	if l.DeleteAfterDays > 0 {
		w.DeleteAfterDays = &l.DeleteAfterDays
	}
	return &w
}

// calculatedLifecycle is the model's CalculatedLifecycle.
type calculatedLifecycle struct {
	MoveToColdStorageAt epoch `json:",omitzero"`
	DeleteAt            epoch `json:",omitzero"`
}

func toCalculatedLifecycle(l backup.Lifecycle, created time.Time) *calculatedLifecycle {
	if l.IsZero() || created.IsZero() {
		return nil
	}
	cold, del := l.Calculate(created)
	return &calculatedLifecycle{MoveToColdStorageAt: epoch(cold), DeleteAt: epoch(del)}
}

// createdBy is the model's RecoveryPointCreator.
type createdBy struct {
	BackupPlanId      string `json:",omitempty"`
	BackupPlanArn     string `json:",omitempty"`
	BackupPlanVersion string `json:",omitempty"`
	BackupRuleId      string `json:",omitempty"`
}

func toCreatedBy(c *backup.CreatedBy) *createdBy {
	if c == nil {
		return nil
	}
	return &createdBy{BackupPlanId: c.BackupPlanID, BackupPlanArn: c.BackupPlanARN,
		BackupPlanVersion: c.BackupPlanVersion, BackupRuleId: c.BackupRuleID}
}

// Backup options cairn accepts in StartBackupJob's BackupOptions map.
const (
	// optionSegments is the parallel scan's number of segments.
	optionSegments = "Segments"
	// optionReadRate caps the read capacity units consumed per second.
	optionReadRate = "ReadRate"
)

func toBackupOptions(o backup.BackupOptions) map[string]string {
	m := map[string]string{}
	if o.Segments > 0 {
		m[optionSegments] = strconv.Itoa(o.Segments)
	}
	if o.ReadRate > 0 {
		m[optionReadRate] = strconv.FormatFloat(o.ReadRate, 'f', -1, 64)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func fromBackupOptions(m map[string]string) (backup.BackupOptions, error) {
	var o backup.BackupOptions
	for k, v := range m {
		switch k {
		case optionSegments:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000000 {
				return o, invalidParam("BackupOptions %s must be a whole number from 1 to 1000000, not %q", k, v)
			}
			o.Segments = n
		case optionReadRate:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || math.IsInf(f, 0) {
				return o, invalidParam("BackupOptions %s must be a positive number, not %q", k, v)
			}
			o.ReadRate = f
		default:
			return o, invalidParam("BackupOptions %q is not supported; cairn accepts %s and %s", k, optionSegments, optionReadRate)
		}
	}
	return o, nil
}

// Vaults.

type createBackupVaultInput struct {
	BackupVaultTags  map[string]string
	EncryptionKeyArn string
	CreatorRequestId string
}

type createBackupVaultOutput struct {
	BackupVaultName string
	BackupVaultArn  string
	CreationDate    epoch `json:",omitzero"`
}

// backupVault is both DescribeBackupVaultOutput and BackupVaultListMember.
type backupVault struct {
	BackupVaultName        string
	BackupVaultArn         string
	VaultType              string
	VaultState             string
	EncryptionKeyArn       string `json:",omitempty"`
	CreationDate           epoch  `json:",omitzero"`
	CreatorRequestId       string `json:",omitempty"`
	NumberOfRecoveryPoints int64
	Locked                 bool
}

func toBackupVault(v *backup.Vault) backupVault {
	return backupVault{
		BackupVaultName:        v.Name,
		BackupVaultArn:         v.ARN,
		VaultType:              vaultTypeBackup,
		VaultState:             vaultStateAvailable,
		EncryptionKeyArn:       v.EncryptionKeyARN,
		CreationDate:           epoch(v.CreationDate),
		CreatorRequestId:       v.CreatorRequestID,
		NumberOfRecoveryPoints: v.NumberOfRecoveryPoints,
	}
}

type listBackupVaultsOutput struct {
	BackupVaultList []backupVault
	NextToken       string `json:",omitempty"`
}

// Backup jobs.

type startBackupJobInput struct {
	BackupVaultName                  *string
	LogicallyAirGappedBackupVaultArn string
	ResourceArn                      *string
	IamRoleArn                       *string
	IdempotencyToken                 string
	StartWindowMinutes               *int64
	CompleteWindowMinutes            *int64
	Lifecycle                        *lifecycle
	RecoveryPointTags                map[string]string
	BackupOptions                    map[string]string
	Index                            string
}

type startBackupJobOutput struct {
	BackupJobId      string
	RecoveryPointArn string `json:",omitempty"`
	CreationDate     epoch  `json:",omitzero"`
}

// backupJob is both DescribeBackupJobOutput and the model's BackupJob.
type backupJob struct {
	AccountId              string `json:",omitempty"`
	BackupJobId            string
	BackupVaultName        string
	BackupVaultArn         string
	VaultType              string
	RecoveryPointArn       string     `json:",omitempty"`
	RecoveryPointLifecycle *lifecycle `json:",omitempty"`
	ResourceArn            string
	ResourceType           string
	ResourceName           string `json:",omitempty"`
	CreationDate           epoch  `json:",omitzero"`
	CompletionDate         epoch  `json:",omitzero"`
	State                  string
	StatusMessage          string `json:",omitempty"`
	PercentDone            string
	BackupSizeInBytes      int64
	BytesTransferred       int64
	IamRoleArn             string            `json:",omitempty"`
	CreatedBy              *createdBy        `json:",omitempty"`
	ExpectedCompletionDate epoch             `json:",omitzero"`
	StartBy                epoch             `json:",omitzero"`
	BackupOptions          map[string]string `json:",omitempty"`
	BackupType             string            `json:",omitempty"`
	IsParent               bool
	InitiationDate         epoch `json:",omitzero"`
}

func toBackupJob(j *backup.BackupJob) backupJob {
	return backupJob{
		AccountId:              j.AccountID,
		BackupJobId:            j.ID,
		BackupVaultName:        j.VaultName,
		BackupVaultArn:         j.VaultARN,
		VaultType:              vaultTypeBackup,
		RecoveryPointArn:       j.RecoveryPointARN,
		RecoveryPointLifecycle: toLifecycle(j.Lifecycle),
		ResourceArn:            j.ResourceARN,
		ResourceType:           j.ResourceType,
		ResourceName:           j.ResourceName,
		CreationDate:           epoch(j.CreationDate),
		CompletionDate:         epoch(j.CompletionDate),
		State:                  string(j.State),
		StatusMessage:          j.StatusMessage,
		PercentDone:            percent(j.PercentDone),
		BackupSizeInBytes:      j.BackupSizeInBytes,
		BytesTransferred:       j.BytesTransferred,
		IamRoleArn:             j.IAMRoleARN,
		CreatedBy:              toCreatedBy(j.CreatedBy),
		ExpectedCompletionDate: epoch(j.ExpectedCompletionDate),
		StartBy:                epoch(j.StartBy),
		BackupOptions:          toBackupOptions(j.Options),
		InitiationDate:         epoch(j.CreationDate),
	}
}

type listBackupJobsOutput struct {
	BackupJobs []backupJob
	NextToken  string `json:",omitempty"`
}

// Recovery points.

// recoveryPoint is both DescribeRecoveryPointOutput and the model's
// RecoveryPointByBackupVault.
type recoveryPoint struct {
	RecoveryPointArn    string
	BackupVaultName     string
	BackupVaultArn      string
	ResourceArn         string
	ResourceType        string
	ResourceName        string     `json:",omitempty"`
	CreatedBy           *createdBy `json:",omitempty"`
	IamRoleArn          string     `json:",omitempty"`
	Status              string
	StatusMessage       string `json:",omitempty"`
	CreationDate        epoch  `json:",omitzero"`
	InitiationDate      epoch  `json:",omitzero"`
	CompletionDate      epoch  `json:",omitzero"`
	BackupSizeInBytes   int64
	CalculatedLifecycle *calculatedLifecycle `json:",omitempty"`
	Lifecycle           *lifecycle           `json:",omitempty"`
	IsEncrypted         bool
	StorageClass        string `json:",omitempty"` // DescribeRecoveryPoint only
	IsParent            bool
	VaultType           string
}

func toRecoveryPoint(p *backup.RecoveryPoint, withStorageClass bool) recoveryPoint {
	w := recoveryPoint{
		RecoveryPointArn:    p.ARN,
		BackupVaultName:     p.VaultName,
		BackupVaultArn:      p.VaultARN,
		ResourceArn:         p.ResourceARN,
		ResourceType:        p.ResourceType,
		ResourceName:        p.ResourceName,
		CreatedBy:           toCreatedBy(p.CreatedBy),
		IamRoleArn:          p.IAMRoleARN,
		Status:              string(p.Status),
		StatusMessage:       p.StatusMessage,
		CreationDate:        epoch(p.CreationDate),
		InitiationDate:      epoch(p.CreationDate),
		CompletionDate:      epoch(p.CompletionDate),
		BackupSizeInBytes:   p.BackupSizeInBytes,
		CalculatedLifecycle: toCalculatedLifecycle(p.Lifecycle, p.CreationDate),
		Lifecycle:           toLifecycle(p.Lifecycle),
		IsEncrypted:         p.IsEncrypted,
		VaultType:           vaultTypeBackup,
	}
	if withStorageClass {
		w.StorageClass = string(p.StorageClass)
	}
	return w
}

type listRecoveryPointsByBackupVaultOutput struct {
	RecoveryPoints []recoveryPoint
	NextToken      string `json:",omitempty"`
}

// recoveryPointByResource is the model's RecoveryPointByResource.
type recoveryPointByResource struct {
	RecoveryPointArn string
	CreationDate     epoch `json:",omitzero"`
	Status           string
	StatusMessage    string `json:",omitempty"`
	BackupSizeBytes  int64
	BackupVaultName  string
	ResourceName     string `json:",omitempty"`
	IsParent         bool
	VaultType        string
}

func toRecoveryPointByResource(p *backup.RecoveryPoint) recoveryPointByResource {
	return recoveryPointByResource{
		RecoveryPointArn: p.ARN,
		CreationDate:     epoch(p.CreationDate),
		Status:           string(p.Status),
		StatusMessage:    p.StatusMessage,
		BackupSizeBytes:  p.BackupSizeInBytes,
		BackupVaultName:  p.VaultName,
		ResourceName:     p.ResourceName,
		VaultType:        vaultTypeBackup,
	}
}

type listRecoveryPointsByResourceOutput struct {
	RecoveryPoints []recoveryPointByResource
	NextToken      string `json:",omitempty"`
}

type getRecoveryPointRestoreMetadataOutput struct {
	BackupVaultArn   string
	RecoveryPointArn string
	RestoreMetadata  map[string]string
	ResourceType     string
}

type protectedResource struct {
	ResourceArn          string
	ResourceType         string
	ResourceName         string `json:",omitempty"`
	LastBackupTime       epoch  `json:",omitzero"`
	LastBackupVaultArn   string `json:",omitempty"`
	LastRecoveryPointArn string `json:",omitempty"`
}

func toProtectedResource(r *backup.ProtectedResource) protectedResource {
	return protectedResource{
		ResourceArn:          r.ResourceARN,
		ResourceType:         r.ResourceType,
		ResourceName:         r.ResourceName,
		LastBackupTime:       epoch(r.LastBackupTime),
		LastBackupVaultArn:   r.LastBackupVaultARN,
		LastRecoveryPointArn: r.LastRecoveryPointARN,
	}
}

type listProtectedResourcesOutput struct {
	Results   []protectedResource
	NextToken string `json:",omitempty"`
}

// Restore jobs.

type startRestoreJobInput struct {
	RecoveryPointArn                 *string
	Metadata                         map[string]string
	IamRoleArn                       string
	IdempotencyToken                 string
	ResourceType                     string
	CopySourceTagsToRestoredResource bool
}

type startRestoreJobOutput struct {
	RestoreJobId string
}

// restoreJob is both DescribeRestoreJobOutput and RestoreJobsListMember.
type restoreJob struct {
	AccountId                     string `json:",omitempty"`
	RestoreJobId                  string
	RecoveryPointArn              string
	BackupVaultArn                string `json:",omitempty"`
	CreationDate                  epoch  `json:",omitzero"`
	CompletionDate                epoch  `json:",omitzero"`
	Status                        string
	StatusMessage                 string `json:",omitempty"`
	PercentDone                   string
	BackupSizeInBytes             int64
	IamRoleArn                    string `json:",omitempty"`
	ExpectedCompletionTimeMinutes int64  `json:",omitempty"`
	CreatedResourceArn            string `json:",omitempty"`
	ResourceType                  string
	ValidationStatus              string `json:",omitempty"`
	ValidationStatusMessage       string `json:",omitempty"`
	IsParent                      bool
}

func toRestoreJob(j *backup.RestoreJob) restoreJob {
	w := restoreJob{
		AccountId:               j.AccountID,
		RestoreJobId:            j.ID,
		RecoveryPointArn:        j.RecoveryPointARN,
		BackupVaultArn:          j.VaultARN,
		CreationDate:            epoch(j.CreationDate),
		CompletionDate:          epoch(j.CompletionDate),
		Status:                  string(j.Status),
		StatusMessage:           j.StatusMessage,
		PercentDone:             percent(j.PercentDone),
		BackupSizeInBytes:       j.BackupSizeInBytes,
		IamRoleArn:              j.IAMRoleARN,
		CreatedResourceArn:      j.CreatedResourceARN,
		ResourceType:            j.ResourceType,
		ValidationStatus:        j.ValidationStatus,
		ValidationStatusMessage: j.ValidationStatusMessage,
	}
	if !j.ExpectedCompletionTime.IsZero() && j.ExpectedCompletionTime.After(j.CreationDate) {
		w.ExpectedCompletionTimeMinutes = int64(math.Ceil(j.ExpectedCompletionTime.Sub(j.CreationDate).Minutes()))
	}
	return w
}

type listRestoreJobsOutput struct {
	RestoreJobs []restoreJob
	NextToken   string `json:",omitempty"`
}
