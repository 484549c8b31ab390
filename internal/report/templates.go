package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// A report is a table: the template's columns, in AWS's order (from AWS
// Backup's developer guide, "Choosing your report template"), and one row
// per item. Each cell keeps its JSON type (string, number, boolean, object,
// null), so the JSON report carries numbers and booleans as AWS's samples
// do and the CSV report their text.

// Columns of the job templates. statusMessage is cairn's addition (the last
// column): AWS's samples do not show it, and a FAILED job is not useful
// without it.
var (
	backupJobColumns = []string{
		"reportTimePeriodStart", "reportTimePeriodEnd", "accountId", "region", "backupJobId", "jobStatus",
		"resourceType", "resourceArn", "resourceName", "backupPlanArn", "backupRuleId", "initiationDate",
		"backupPlanName", "backupRuleName", "backupRuleSchedule", "backupRuleTimezone", "startWindowEnd",
		"backupOptions", "isParentJob", "parentJobId", "creationDate", "completionDate", "recoveryPointArn",
		"jobRunTime", "backupSizeInBytes", "backupVaultName", "backupVaultArn", "vaultType", "vaultLockStatus",
		"isEncrypted", "encryptionKeyArn", "deleteAfterDays", "moveToColdAfterDays", "enableArchive", "iamRoleArn",
		"statusMessage",
	}
	copyJobColumns = []string{
		"reportTimePeriodStart", "reportTimePeriodEnd", "accountId", "region", "copyJobId", "jobStatus",
		"jobRunTime", "resourceType", "resourceArn", "resourceName", "initiationDate", "backupPlanName",
		"backupRuleName", "backupRuleSchedule", "backupRuleTimezone", "startWindowEnd", "backupOptions",
		"isParentJob", "parentJobId", "creationDate", "completionDate", "backupSizeInBytes",
		"sourceRecoveryPointArn", "sourceBackupVaultArn", "destinationRecoveryPointArn",
		"destinationBackupVaultArn", "vaultType", "vaultLockStatus", "isEncrypted", "encryptionKeyArn",
		"deleteAfterDays", "moveToColdAfterDays", "enableArchive", "iamRoleArn",
		"statusMessage",
	}
	restoreJobColumns = []string{
		"reportTimePeriod", "accountId", "region", "restoreJobId", "jobStatus", "recoveryPointArn",
		"resourceName", "initiationDate", "backupPlanName", "backupRuleName", "backupRuleSchedule",
		"backupRuleTimezone", "startWindowEnd", "backupOptions", "isParentJob", "parentJobId", "vaultType",
		"vaultLockStatus", "isEncrypted", "encryptionKeyArn", "deleteAfterDays", "moveToColdAfterDays",
		"enableArchive", "sourceResourceArn", "backupVaultArn", "creationDate", "backupSizeInBytes",
		"percentDone", "iamRoleArn",
		"statusMessage",
	}
	// ControlComplianceColumns and ResourceComplianceColumns are the
	// compliance templates' columns.
	ControlComplianceColumns = []string{
		"accountId", "region", "frameworkName", "frameworkDescription", "controlName", "controlComplianceStatus",
		"lastEvaluationTime", "numResourcesCompliant", "numResourcesNonCompliant", "controlFrequency",
		"controlScope", "controlParameters",
	}
	ResourceComplianceColumns = []string{
		"accountId", "region", "frameworkName", "frameworkDescription", "controlName", "resourceId",
		"resourceType", "resourceComplianceStatus", "lastEvaluationTime",
	}
)

// Columns returns the columns of a template, nil for one cairn does not
// make.
func Columns(template string) []string {
	switch template {
	case backup.ReportBackupJobs:
		return backupJobColumns
	case backup.ReportCopyJobs:
		return copyJobColumns
	case backup.ReportRestoreJobs:
		return restoreJobColumns
	case backup.ReportControlCompliance:
		return ControlComplianceColumns
	case backup.ReportResourceCompliance:
		return ResourceComplianceColumns
	}
	return nil
}

// Row is one report item: column name -> value of a JSON type.
type Row map[string]any

// table is a report's content.
type table struct {
	columns []string
	rows    []Row
}

// CSV renders the table as RFC 4180 CSV: a header row of the column names,
// then one line per row. Strings are as they are, numbers in decimal,
// booleans true/false, null empty, objects as compact JSON.
func (t table) CSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(t.columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.columns))
	for _, r := range t.rows {
		for i, c := range t.columns {
			rec[i] = cell(r[c])
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// JSON renders the table as AWS's JSON reports are: {"reportItems": [...]},
// each item an object with the columns in order.
func (t table) JSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n  \"reportItems\": [")
	for i, r := range t.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {")
		for j, c := range t.columns {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(c)
			v, err := json.Marshal(r[c])
			if err != nil {
				return nil, fmt.Errorf("report item %d, %s: %w", i, c, err)
			}
			b.WriteString("\n      ")
			b.Write(k)
			b.WriteString(": ")
			b.Write(v)
		}
		b.WriteString("\n    }")
	}
	if len(t.rows) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes(), nil
}

// Times in reports: item dates with milliseconds, period bounds without,
// as AWS's samples write them.
func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func periodStamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// runTime is a job's run time as HH:MM:SS: to its completion, or to end
// while it runs.
func runTime(created, completed, end time.Time) string {
	if completed.IsZero() {
		completed = end
	}
	d := max(completed.Sub(created), 0).Round(time.Second)
	h := int64(d / time.Hour)
	m := int64(d % time.Hour / time.Minute)
	s := int64(d % time.Minute / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// source is what the job templates read: the catalog's jobs, vaults and
// recovery points.
type source interface {
	ListBackupJobs(ctx context.Context, f backup.BackupJobFilter) ([]*backup.BackupJob, string, error)
	ListRestoreJobs(ctx context.Context, f backup.RestoreJobFilter) ([]*backup.RestoreJob, string, error)
	ListCopyJobs(ctx context.Context, f backup.CopyJobFilter) ([]*backup.CopyJob, string, error)
	GetVault(ctx context.Context, name string) (*backup.Vault, error)
	GetRecoveryPoint(ctx context.Context, id string) (*backup.RecoveryPoint, error)
}

// period is the time a report covers: [Start, End).
type period struct{ Start, End time.Time }

// everyPage calls list for each page until the last.
func everyPage[T any](ctx context.Context, list func(p backup.Page) ([]T, string, error), fn func(T)) error {
	p := backup.Page{MaxResults: 1000}
	for {
		items, next, err := list(p)
		if err != nil {
			return err
		}
		for _, it := range items {
			fn(it)
		}
		if next == "" {
			return ctx.Err()
		}
		p.NextToken = next
	}
}

// inPeriod selects jobs as AWS's job reports do: those that ended in the
// period and those still active at its end. Jobs are keyed by id, so one
// listed twice is reported once, and sorted by creation.
type jobSet[T any] struct {
	order []string
	byID  map[string]T
}

func (s *jobSet[T]) add(id string, j T) {
	if s.byID == nil {
		s.byID = map[string]T{}
	}
	if _, ok := s.byID[id]; !ok {
		s.order = append(s.order, id)
	}
	s.byID[id] = j
}

// vaultInfo caches the vaults a report names.
type vaultInfo struct {
	src   source
	ctx   context.Context
	cache map[string]*backup.Vault
}

func (v *vaultInfo) get(name string) *backup.Vault {
	if name == "" {
		return nil
	}
	if got, ok := v.cache[name]; ok {
		return got
	}
	got, err := v.src.GetVault(v.ctx, name)
	if err != nil {
		got = nil // a vault deleted since: its columns stay empty
	}
	v.cache[name] = got
	return got
}

// vaultColumns fills the vault's columns of a row. cairn has no vault
// lock and no air-gapped vaults.
func vaultColumns(r Row, v *backup.Vault) {
	r["vaultType"] = "BACKUP_VAULT"
	r["vaultLockStatus"] = "UNLOCKED"
	r["isEncrypted"] = false
	r["encryptionKeyArn"] = ""
	if v != nil && v.EncryptionKeyARN != "" {
		r["isEncrypted"] = true
		r["encryptionKeyArn"] = v.EncryptionKeyARN
	}
}

func lifecycleColumns(r Row, l backup.Lifecycle) {
	r["deleteAfterDays"] = nullIfZero(l.DeleteAfterDays)
	r["moveToColdAfterDays"] = nullIfZero(l.MoveToColdStorageAfterDays)
	r["enableArchive"] = false
}

func nullIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func planColumns(r Row, cb *backup.CreatedBy) {
	if cb == nil {
		cb = &backup.CreatedBy{}
	}
	r["backupPlanName"] = cb.BackupPlanName
	r["backupRuleName"] = cb.BackupRuleName
	r["backupRuleSchedule"] = cb.BackupRuleCron
	r["backupRuleTimezone"] = cb.BackupRuleTimezone
}

func backupOptions(o backup.BackupOptions) map[string]string {
	m := map[string]string{}
	if o.Segments > 0 {
		m["Segments"] = strconv.Itoa(o.Segments)
	}
	if o.ReadRate > 0 {
		m["ReadRate"] = strconv.FormatFloat(o.ReadRate, 'f', -1, 64)
	}
	if o.Compression != "" {
		m["Compression"] = o.Compression
	}
	return m
}

func vaultNameOf(arn string) string {
	_, name, ok := strings.Cut(arn, ":backup-vault:")
	if !ok {
		return ""
	}
	return name
}

func pointIDOf(arn string) string {
	_, id, ok := strings.Cut(arn, ":recovery-point:")
	if !ok {
		return ""
	}
	return id
}

// backupJobsTable is BACKUP_JOB_REPORT.
func backupJobsTable(ctx context.Context, src source, account, region string, p period) (table, error) {
	var set jobSet[*backup.BackupJob]
	add := func(j *backup.BackupJob) { set.add(j.ID, j) }
	err := everyPage(ctx, func(pg backup.Page) ([]*backup.BackupJob, string, error) {
		return src.ListBackupJobs(ctx, backup.BackupJobFilter{Page: pg, CompleteAfter: p.Start.Add(-time.Nanosecond), CompleteBefore: p.End})
	}, add)
	if err == nil {
		err = everyPage(ctx, func(pg backup.Page) ([]*backup.BackupJob, string, error) {
			return src.ListBackupJobs(ctx, backup.BackupJobFilter{Page: pg, CreatedBefore: p.End,
				States: []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}})
		}, add)
	}
	if err != nil {
		return table{}, fmt.Errorf("list backup jobs: %w", err)
	}
	vaults := &vaultInfo{src: src, ctx: ctx, cache: map[string]*backup.Vault{}}
	t := table{columns: backupJobColumns}
	for _, j := range sortedJobs(set, func(j *backup.BackupJob) (time.Time, string) { return j.CreationDate, j.ID }) {
		r := Row{
			"reportTimePeriodStart": periodStamp(p.Start), "reportTimePeriodEnd": periodStamp(p.End),
			"accountId": orDefault(j.AccountID, account), "region": orDefault(j.Region, region),
			"backupJobId": j.ID, "jobStatus": string(j.State), "resourceType": j.ResourceType,
			"resourceArn": j.ResourceARN, "resourceName": j.ResourceName,
			"backupPlanArn": "", "backupRuleId": "",
			"initiationDate": stamp(j.CreationDate), "startWindowEnd": stamp(j.StartBy),
			"backupOptions": backupOptions(j.Options), "isParentJob": false, "parentJobId": nil,
			"creationDate": stamp(j.CreationDate), "completionDate": stamp(j.CompletionDate),
			"recoveryPointArn": j.RecoveryPointARN, "jobRunTime": runTime(j.CreationDate, j.CompletionDate, p.End),
			"backupSizeInBytes": j.BackupSizeInBytes, "backupVaultName": j.VaultName, "backupVaultArn": j.VaultARN,
			"iamRoleArn": j.IAMRoleARN, "statusMessage": j.StatusMessage,
		}
		if j.CreatedBy != nil {
			r["backupPlanArn"], r["backupRuleId"] = j.CreatedBy.BackupPlanARN, j.CreatedBy.BackupRuleID
		}
		planColumns(r, j.CreatedBy)
		vaultColumns(r, vaults.get(j.VaultName))
		lifecycleColumns(r, j.Lifecycle)
		t.rows = append(t.rows, r)
	}
	return t, nil
}

// copyJobsTable is COPY_JOB_REPORT. The vault columns describe the
// destination vault, where the copy's recovery point lives.
func copyJobsTable(ctx context.Context, src source, account, region string, p period) (table, error) {
	var set jobSet[*backup.CopyJob]
	add := func(j *backup.CopyJob) { set.add(j.ID, j) }
	err := everyPage(ctx, func(pg backup.Page) ([]*backup.CopyJob, string, error) {
		return src.ListCopyJobs(ctx, backup.CopyJobFilter{Page: pg, CompleteAfter: p.Start.Add(-time.Nanosecond), CompleteBefore: p.End})
	}, add)
	if err == nil {
		err = everyPage(ctx, func(pg backup.Page) ([]*backup.CopyJob, string, error) {
			return src.ListCopyJobs(ctx, backup.CopyJobFilter{Page: pg, CreatedBefore: p.End,
				States: []backup.CopyJobState{backup.CopyCreated, backup.CopyRunning}})
		}, add)
	}
	if err != nil {
		return table{}, fmt.Errorf("list copy jobs: %w", err)
	}
	vaults := &vaultInfo{src: src, ctx: ctx, cache: map[string]*backup.Vault{}}
	t := table{columns: copyJobColumns}
	for _, j := range sortedJobs(set, func(j *backup.CopyJob) (time.Time, string) { return j.CreationDate, j.ID }) {
		r := Row{
			"reportTimePeriodStart": periodStamp(p.Start), "reportTimePeriodEnd": periodStamp(p.End),
			"accountId": orDefault(j.AccountID, account), "region": orDefault(j.Region, region),
			"copyJobId": j.ID, "jobStatus": string(j.State), "jobRunTime": runTime(j.CreationDate, j.CompletionDate, p.End),
			"resourceType": j.ResourceType, "resourceArn": j.ResourceARN, "resourceName": j.ResourceName,
			"initiationDate": stamp(j.CreationDate), "startWindowEnd": nil,
			"backupOptions": map[string]string{}, "isParentJob": false, "parentJobId": nil,
			"creationDate": stamp(j.CreationDate), "completionDate": stamp(j.CompletionDate),
			"backupSizeInBytes":      j.BackupSizeInBytes,
			"sourceRecoveryPointArn": j.SourceRecoveryPointARN, "sourceBackupVaultArn": j.SourceBackupVaultARN,
			"destinationRecoveryPointArn": j.DestinationRecoveryPointARN, "destinationBackupVaultArn": j.DestinationBackupVaultARN,
			"iamRoleArn": j.IAMRoleARN, "statusMessage": j.StatusMessage,
		}
		planColumns(r, j.CreatedBy)
		vaultColumns(r, vaults.get(vaultNameOf(j.DestinationBackupVaultARN)))
		lifecycleColumns(r, j.Lifecycle)
		t.rows = append(t.rows, r)
	}
	return t, nil
}

// restoreJobsTable is RESTORE_JOB_REPORT. Plan, lifecycle and source
// columns come from the restored recovery point (empty if it is gone).
func restoreJobsTable(ctx context.Context, src source, account, region string, p period) (table, error) {
	var set jobSet[*backup.RestoreJob]
	add := func(j *backup.RestoreJob) { set.add(j.ID, j) }
	err := everyPage(ctx, func(pg backup.Page) ([]*backup.RestoreJob, string, error) {
		return src.ListRestoreJobs(ctx, backup.RestoreJobFilter{Page: pg, CompleteAfter: p.Start.Add(-time.Nanosecond), CompleteBefore: p.End})
	}, add)
	if err == nil {
		err = everyPage(ctx, func(pg backup.Page) ([]*backup.RestoreJob, string, error) {
			return src.ListRestoreJobs(ctx, backup.RestoreJobFilter{Page: pg, CreatedBefore: p.End,
				Statuses: []backup.RestoreJobStatus{backup.RestorePending, backup.RestoreRunning}})
		}, add)
	}
	if err != nil {
		return table{}, fmt.Errorf("list restore jobs: %w", err)
	}
	vaults := &vaultInfo{src: src, ctx: ctx, cache: map[string]*backup.Vault{}}
	t := table{columns: restoreJobColumns}
	for _, j := range sortedJobs(set, func(j *backup.RestoreJob) (time.Time, string) { return j.CreationDate, j.ID }) {
		r := Row{
			"reportTimePeriod": periodStamp(p.Start) + " - " + periodStamp(p.End),
			"accountId":        orDefault(j.AccountID, account), "region": orDefault(j.Region, region),
			"restoreJobId": j.ID, "jobStatus": string(j.Status), "recoveryPointArn": j.RecoveryPointARN,
			"resourceName": restoredTable(j), "initiationDate": stamp(j.CreationDate), "startWindowEnd": nil,
			"backupOptions": map[string]string{}, "isParentJob": false, "parentJobId": nil,
			"sourceResourceArn": "", "backupVaultArn": j.VaultARN, "creationDate": stamp(j.CreationDate),
			"backupSizeInBytes": j.BackupSizeInBytes, "percentDone": fmt.Sprintf("%.2f%%", j.PercentDone),
			"iamRoleArn": j.IAMRoleARN, "statusMessage": j.StatusMessage,
		}
		var cb *backup.CreatedBy
		var lc backup.Lifecycle
		if id := pointIDOf(j.RecoveryPointARN); id != "" {
			if rp, err := src.GetRecoveryPoint(ctx, id); err == nil {
				cb, lc = rp.CreatedBy, rp.Lifecycle
				r["sourceResourceArn"] = rp.ResourceARN
			}
		}
		planColumns(r, cb)
		vaultColumns(r, vaults.get(vaultNameOf(j.VaultARN)))
		lifecycleColumns(r, lc)
		t.rows = append(t.rows, r)
	}
	return t, nil
}

// restoredTable names the table a restore makes.
func restoredTable(j *backup.RestoreJob) string {
	if j.CreatedResourceARN != "" {
		return backup.TableNameFromARN(j.CreatedResourceARN)
	}
	for k, v := range j.Metadata {
		if strings.EqualFold(k, "targetTableName") {
			return v
		}
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sortedJobs returns a set's jobs oldest first (creation, then id).
func sortedJobs[T any](s jobSet[T], key func(T) (time.Time, string)) []T {
	out := make([]T, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.byID[id])
	}
	sortBy(out, key)
	return out
}
