package awsapi

import (
	"encoding/json"
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

func toCalculatedLifecycle(p *backup.RecoveryPoint) *calculatedLifecycle {
	if p.Lifecycle.IsZero() || p.CreationDate.IsZero() {
		return nil
	}
	cold, del := p.CalculatedLifecycle()
	return &calculatedLifecycle{MoveToColdStorageAt: epoch(cold), DeleteAt: epoch(del)}
}

// createdBy is the model's RecoveryPointCreator.
type createdBy struct {
	BackupPlanId       string `json:",omitempty"`
	BackupPlanArn      string `json:",omitempty"`
	BackupPlanName     string `json:",omitempty"`
	BackupPlanVersion  string `json:",omitempty"`
	BackupRuleId       string `json:",omitempty"`
	BackupRuleName     string `json:",omitempty"`
	BackupRuleCron     string `json:",omitempty"`
	BackupRuleTimezone string `json:",omitempty"`
}

func toCreatedBy(c *backup.CreatedBy) *createdBy {
	if c == nil {
		return nil
	}
	return &createdBy{BackupPlanId: c.BackupPlanID, BackupPlanArn: c.BackupPlanARN, BackupPlanName: c.BackupPlanName,
		BackupPlanVersion: c.BackupPlanVersion, BackupRuleId: c.BackupRuleID, BackupRuleName: c.BackupRuleName,
		BackupRuleCron: c.BackupRuleCron, BackupRuleTimezone: c.BackupRuleTimezone}
}

// Backup options cairn accepts in StartBackupJob's BackupOptions map.
const (
	// optionSegments is the parallel scan's number of segments.
	optionSegments = "Segments"
	// optionReadRate caps the read capacity units consumed per second.
	optionReadRate = "ReadRate"
	// optionCompression chooses the data files' compression: zstd, gzip
	// or none (any case).
	optionCompression = "Compression"
)

func toBackupOptions(o backup.BackupOptions) map[string]string {
	m := map[string]string{}
	if o.Segments > 0 {
		m[optionSegments] = strconv.Itoa(o.Segments)
	}
	if o.ReadRate > 0 {
		m[optionReadRate] = strconv.FormatFloat(o.ReadRate, 'f', -1, 64)
	}
	if o.Compression != "" {
		m[optionCompression] = o.Compression
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
		case optionCompression:
			c, err := backup.ParseCompression(v)
			if err != nil || c == "" {
				return o, invalidParam("BackupOptions %s must be zstd, gzip or none, not %q (gzip is what DynamoDB's own exports use)", k, v)
			}
			o.Compression = c
		default:
			return o, invalidParam("BackupOptions %q is not supported; cairn accepts %s, %s and %s", k, optionSegments, optionReadRate, optionCompression)
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
	InitiationDate         epoch  `json:",omitzero"`
	MessageCategory        string `json:",omitempty"`
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
		MessageCategory:        j.MessageCategory(),
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
	RecoveryPointArn     string
	BackupVaultName      string
	BackupVaultArn       string
	SourceBackupVaultArn string `json:",omitempty"` // copies only
	ResourceArn          string
	ResourceType         string
	ResourceName         string     `json:",omitempty"`
	CreatedBy            *createdBy `json:",omitempty"`
	IamRoleArn           string     `json:",omitempty"`
	Status               string
	StatusMessage        string `json:",omitempty"`
	CreationDate         epoch  `json:",omitzero"`
	InitiationDate       epoch  `json:",omitzero"`
	CompletionDate       epoch  `json:",omitzero"`
	BackupSizeInBytes    int64
	CalculatedLifecycle  *calculatedLifecycle `json:",omitempty"`
	Lifecycle            *lifecycle           `json:",omitempty"`
	IsEncrypted          bool
	StorageClass         string `json:",omitempty"` // DescribeRecoveryPoint only
	IsParent             bool
	VaultType            string
}

func toRecoveryPoint(p *backup.RecoveryPoint, withStorageClass bool) recoveryPoint {
	w := recoveryPoint{
		RecoveryPointArn:     p.ARN,
		BackupVaultName:      p.VaultName,
		BackupVaultArn:       p.VaultARN,
		SourceBackupVaultArn: p.SourceBackupVaultARN,
		ResourceArn:          p.ResourceARN,
		ResourceType:         p.ResourceType,
		ResourceName:         p.ResourceName,
		CreatedBy:            toCreatedBy(p.CreatedBy),
		IamRoleArn:           p.IAMRoleARN,
		Status:               string(p.Status),
		StatusMessage:        p.StatusMessage,
		CreationDate:         epoch(p.CreationDate),
		InitiationDate:       epoch(p.CreationDate),
		CompletionDate:       epoch(p.CompletionDate),
		BackupSizeInBytes:    p.BackupSizeInBytes,
		CalculatedLifecycle:  toCalculatedLifecycle(p),
		Lifecycle:            toLifecycle(p.Lifecycle),
		IsEncrypted:          p.IsEncrypted,
		VaultType:            vaultTypeBackup,
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

// Backup plans.

// backupRuleInput is the model's BackupRuleInput. Pointers tell an absent
// member from a zero one.
type backupRuleInput struct {
	RuleName                               *string
	TargetBackupVaultName                  *string
	TargetLogicallyAirGappedBackupVaultArn string
	ScheduleExpression                     string
	ScheduleExpressionTimezone             string
	StartWindowMinutes                     *int64
	CompletionWindowMinutes                *int64
	Lifecycle                              *lifecycle
	RecoveryPointTags                      map[string]string
	CopyActions                            []copyAction
	EnableContinuousBackup                 bool
	IndexActions                           []json.RawMessage
	ScanActions                            []json.RawMessage
}

// copyAction is the model's CopyAction.
type copyAction struct {
	Lifecycle                 *lifecycle `json:",omitempty"`
	DestinationBackupVaultArn *string
}

// advancedBackupSetting is the model's AdvancedBackupSetting.
type advancedBackupSetting struct {
	ResourceType  string
	BackupOptions map[string]string
}

// backupPlanInput is the model's BackupPlanInput.
type backupPlanInput struct {
	BackupPlanName         *string
	Rules                  []backupRuleInput
	AdvancedBackupSettings []advancedBackupSetting
	ScanSettings           []json.RawMessage
}

// backupRule is the model's BackupRule: a rule as GetBackupPlan shows it.
type backupRule struct {
	RuleName                   string
	TargetBackupVaultName      string
	ScheduleExpression         string
	ScheduleExpressionTimezone string `json:",omitempty"`
	StartWindowMinutes         int64
	CompletionWindowMinutes    int64
	Lifecycle                  *lifecycle        `json:",omitempty"`
	RecoveryPointTags          map[string]string `json:",omitempty"`
	RuleId                     string            `json:",omitempty"`
	CopyActions                []copyAction      `json:",omitempty"`
	EnableContinuousBackup     bool              `json:",omitempty"`
}

// backupPlan is the model's BackupPlan.
type backupPlan struct {
	BackupPlanName         string
	Rules                  []backupRule
	AdvancedBackupSettings []advancedBackupSetting `json:",omitempty"`
}

func toAdvancedBackupSettings(in []backup.AdvancedBackupSetting) []advancedBackupSetting {
	var out []advancedBackupSetting
	for _, a := range in {
		out = append(out, advancedBackupSetting{ResourceType: a.ResourceType, BackupOptions: a.BackupOptions})
	}
	return out
}

func toBackupRule(r backup.BackupRule) backupRule {
	w := backupRule{
		RuleName:                   r.RuleName,
		TargetBackupVaultName:      r.TargetBackupVaultName,
		ScheduleExpression:         r.ScheduleExpression,
		ScheduleExpressionTimezone: r.ScheduleExpressionTimezone,
		StartWindowMinutes:         r.StartWindowMinutes,
		CompletionWindowMinutes:    r.CompletionWindowMinutes,
		Lifecycle:                  toLifecycle(r.Lifecycle),
		RecoveryPointTags:          r.RecoveryPointTags,
		RuleId:                     r.RuleID,
		EnableContinuousBackup:     r.EnableContinuousBackup,
	}
	// Zero values mean AWS's defaults; show what applies.
	if w.ScheduleExpression == "" {
		w.ScheduleExpression = backup.DefaultScheduleExpression
	}
	if w.StartWindowMinutes == 0 {
		w.StartWindowMinutes = backup.DefaultStartWindowMinutes
	}
	if w.CompletionWindowMinutes == 0 {
		w.CompletionWindowMinutes = backup.DefaultCompletionWindowMinutes
	}
	for _, c := range r.CopyActions {
		arn := c.DestinationBackupVaultARN
		w.CopyActions = append(w.CopyActions, copyAction{Lifecycle: toLifecycle(c.Lifecycle), DestinationBackupVaultArn: &arn})
	}
	return w
}

func toBackupPlan(d *backup.PlanDocument) backupPlan {
	w := backupPlan{
		BackupPlanName:         d.BackupPlanName,
		Rules:                  []backupRule{},
		AdvancedBackupSettings: toAdvancedBackupSettings(d.AdvancedBackupSettings),
	}
	for _, r := range d.Rules {
		w.Rules = append(w.Rules, toBackupRule(r))
	}
	return w
}

type createBackupPlanInput struct {
	BackupPlan       *backupPlanInput
	BackupPlanTags   map[string]string
	CreatorRequestId string
}

// createBackupPlanOutput is also UpdateBackupPlanOutput.
type createBackupPlanOutput struct {
	BackupPlanId           string
	BackupPlanArn          string
	CreationDate           epoch `json:",omitzero"`
	VersionId              string
	AdvancedBackupSettings []advancedBackupSetting `json:",omitempty"`
}

type updateBackupPlanInput struct {
	BackupPlan *backupPlanInput
}

// scheduledRun is the model's ScheduledPlanExecutionMember.
type scheduledRun struct {
	ExecutionTime     epoch `json:",omitzero"`
	RuleId            string
	RuleExecutionType string
}

// ruleExecutionSnapshots is the RuleExecutionType of every cairn rule.
const ruleExecutionSnapshots = "SNAPSHOTS"

func toScheduledRun(r backup.ScheduledRun) scheduledRun {
	typ := r.RecoveryPointType
	switch typ {
	case "CONTINUOUS", "SNAPSHOTS", "CONTINUOUS_AND_SNAPSHOTS":
	default:
		typ = ruleExecutionSnapshots
	}
	return scheduledRun{ExecutionTime: epoch(r.ExecutionTime), RuleId: r.RuleID, RuleExecutionType: typ}
}

type getBackupPlanOutput struct {
	BackupPlan             backupPlan
	BackupPlanId           string
	BackupPlanArn          string
	VersionId              string
	CreatorRequestId       string                  `json:",omitempty"`
	CreationDate           epoch                   `json:",omitzero"`
	DeletionDate           epoch                   `json:",omitzero"`
	LastExecutionDate      epoch                   `json:",omitzero"`
	AdvancedBackupSettings []advancedBackupSetting `json:",omitempty"`
	ScheduledRunsPreview   []scheduledRun          `json:",omitempty"`
}

func toGetBackupPlanOutput(p *backup.BackupPlan, runs []backup.ScheduledRun) getBackupPlanOutput {
	w := getBackupPlanOutput{
		BackupPlan:             toBackupPlan(&p.PlanDocument),
		BackupPlanId:           p.ID,
		BackupPlanArn:          p.ARN,
		VersionId:              p.VersionID,
		CreatorRequestId:       p.CreatorRequestID,
		CreationDate:           epoch(p.CreationDate),
		DeletionDate:           epoch(p.DeletionDate),
		LastExecutionDate:      epoch(p.LastExecutionDate),
		AdvancedBackupSettings: toAdvancedBackupSettings(p.AdvancedBackupSettings),
	}
	for _, r := range runs {
		w.ScheduledRunsPreview = append(w.ScheduledRunsPreview, toScheduledRun(r))
	}
	return w
}

// backupPlansListMember is the model's BackupPlansListMember, the item of
// ListBackupPlans and ListBackupPlanVersions.
type backupPlansListMember struct {
	BackupPlanArn          string
	BackupPlanId           string
	CreationDate           epoch `json:",omitzero"`
	DeletionDate           epoch `json:",omitzero"`
	VersionId              string
	BackupPlanName         string
	CreatorRequestId       string                  `json:",omitempty"`
	LastExecutionDate      epoch                   `json:",omitzero"`
	AdvancedBackupSettings []advancedBackupSetting `json:",omitempty"`
}

func toBackupPlansListMember(p *backup.BackupPlan) backupPlansListMember {
	return backupPlansListMember{
		BackupPlanArn:          p.ARN,
		BackupPlanId:           p.ID,
		CreationDate:           epoch(p.CreationDate),
		DeletionDate:           epoch(p.DeletionDate),
		VersionId:              p.VersionID,
		BackupPlanName:         p.BackupPlanName,
		CreatorRequestId:       p.CreatorRequestID,
		LastExecutionDate:      epoch(p.LastExecutionDate),
		AdvancedBackupSettings: toAdvancedBackupSettings(p.AdvancedBackupSettings),
	}
}

type listBackupPlansOutput struct {
	BackupPlansList []backupPlansListMember
	NextToken       string `json:",omitempty"`
}

type listBackupPlanVersionsOutput struct {
	BackupPlanVersionsList []backupPlansListMember
	NextToken              string `json:",omitempty"`
}

type deleteBackupPlanOutput struct {
	BackupPlanId  string
	BackupPlanArn string
	DeletionDate  epoch `json:",omitzero"`
	VersionId     string
}

type getBackupPlanFromJSONInput struct {
	BackupPlanTemplateJson *string
}

type getBackupPlanFromJSONOutput struct {
	BackupPlan backupPlan
}

// Backup selections.

// condition is the model's Condition, an entry of ListOfTags.
type condition struct {
	ConditionType  *string
	ConditionKey   *string
	ConditionValue *string
}

// conditionParameter is the model's ConditionParameter.
type conditionParameter struct {
	ConditionKey   *string
	ConditionValue *string
}

// conditions is the model's Conditions.
type conditions struct {
	StringEquals    []conditionParameter
	StringNotEquals []conditionParameter
	StringLike      []conditionParameter
	StringNotLike   []conditionParameter
}

// backupSelection is the model's BackupSelection, in requests and
// responses.
type backupSelection struct {
	SelectionName *string
	IamRoleArn    *string
	Resources     []string
	ListOfTags    []condition
	NotResources  []string
	Conditions    *conditions
}

func toConditionParameters(in []backup.ConditionParameter) []conditionParameter {
	out := []conditionParameter{}
	for _, c := range in {
		out = append(out, conditionParameter{ConditionKey: &c.ConditionKey, ConditionValue: &c.ConditionValue})
	}
	return out
}

// orEmpty returns s, or an empty slice for nil, so that JSON shows [].
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toBackupSelection(d *backup.SelectionDocument) backupSelection {
	w := backupSelection{
		SelectionName: &d.SelectionName,
		IamRoleArn:    &d.IAMRoleARN,
		Resources:     orEmpty(d.Resources),
		NotResources:  orEmpty(d.NotResources),
		ListOfTags:    []condition{},
		Conditions: &conditions{
			StringEquals:    toConditionParameters(d.Conditions.StringEquals),
			StringNotEquals: toConditionParameters(d.Conditions.StringNotEquals),
			StringLike:      toConditionParameters(d.Conditions.StringLike),
			StringNotLike:   toConditionParameters(d.Conditions.StringNotLike),
		},
	}
	for _, c := range d.ListOfTags {
		w.ListOfTags = append(w.ListOfTags, condition{ConditionType: &c.ConditionType, ConditionKey: &c.ConditionKey, ConditionValue: &c.ConditionValue})
	}
	return w
}

type createBackupSelectionInput struct {
	BackupSelection  *backupSelection
	CreatorRequestId string
}

type createBackupSelectionOutput struct {
	SelectionId  string
	BackupPlanId string
	CreationDate epoch `json:",omitzero"`
}

type getBackupSelectionOutput struct {
	BackupSelection  backupSelection
	SelectionId      string
	BackupPlanId     string
	CreationDate     epoch  `json:",omitzero"`
	CreatorRequestId string `json:",omitempty"`
}

// backupSelectionsListMember is the model's BackupSelectionsListMember.
type backupSelectionsListMember struct {
	SelectionId      string
	SelectionName    string
	BackupPlanId     string
	CreationDate     epoch  `json:",omitzero"`
	CreatorRequestId string `json:",omitempty"`
	IamRoleArn       string
}

type listBackupSelectionsOutput struct {
	BackupSelectionsList []backupSelectionsListMember
	NextToken            string `json:",omitempty"`
}

// Copy jobs.

type startCopyJobInput struct {
	RecoveryPointArn          *string
	SourceBackupVaultName     *string
	DestinationBackupVaultArn *string
	IamRoleArn                *string
	IdempotencyToken          string
	Lifecycle                 *lifecycle
}

type startCopyJobOutput struct {
	CopyJobId    string
	CreationDate epoch `json:",omitzero"`
	IsParent     bool
}

// copyJob is the model's CopyJob.
type copyJob struct {
	AccountId                         string `json:",omitempty"`
	CopyJobId                         string
	SourceBackupVaultArn              string
	SourceRecoveryPointArn            string
	DestinationBackupVaultArn         string
	DestinationVaultType              string
	DestinationRecoveryPointArn       string     `json:",omitempty"`
	DestinationRecoveryPointLifecycle *lifecycle `json:",omitempty"`
	ResourceArn                       string
	CreationDate                      epoch `json:",omitzero"`
	CompletionDate                    epoch `json:",omitzero"`
	State                             string
	StatusMessage                     string `json:",omitempty"`
	BackupSizeInBytes                 int64
	IamRoleArn                        string     `json:",omitempty"`
	CreatedBy                         *createdBy `json:",omitempty"`
	ResourceType                      string
	IsParent                          bool
	ResourceName                      string `json:",omitempty"`
}

func toCopyJob(j *backup.CopyJob) copyJob {
	return copyJob{
		AccountId:                         j.AccountID,
		CopyJobId:                         j.ID,
		SourceBackupVaultArn:              j.SourceBackupVaultARN,
		SourceRecoveryPointArn:            j.SourceRecoveryPointARN,
		DestinationBackupVaultArn:         j.DestinationBackupVaultARN,
		DestinationVaultType:              vaultTypeBackup,
		DestinationRecoveryPointArn:       j.DestinationRecoveryPointARN,
		DestinationRecoveryPointLifecycle: toLifecycle(j.Lifecycle),
		ResourceArn:                       j.ResourceARN,
		CreationDate:                      epoch(j.CreationDate),
		CompletionDate:                    epoch(j.CompletionDate),
		State:                             string(j.State),
		StatusMessage:                     j.StatusMessage,
		BackupSizeInBytes:                 j.BackupSizeInBytes,
		IamRoleArn:                        j.IAMRoleARN,
		CreatedBy:                         toCreatedBy(j.CreatedBy),
		ResourceType:                      j.ResourceType,
		ResourceName:                      j.ResourceName,
	}
}

type describeCopyJobOutput struct {
	CopyJob copyJob
}

type listCopyJobsOutput struct {
	CopyJobs  []copyJob
	NextToken string `json:",omitempty"`
}

// Recovery point lifecycle.

type updateRecoveryPointLifecycleInput struct {
	Lifecycle *lifecycle
}

type updateRecoveryPointLifecycleOutput struct {
	BackupVaultArn      string
	RecoveryPointArn    string
	Lifecycle           *lifecycle           `json:",omitempty"`
	CalculatedLifecycle *calculatedLifecycle `json:",omitempty"`
}

type tagResourceInput struct {
	Tags map[string]string
}

type untagResourceInput struct {
	TagKeyList []string
}

type listTagsOutput struct {
	NextToken string `json:",omitempty"`
	Tags      map[string]string
}
