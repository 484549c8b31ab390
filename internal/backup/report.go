package backup

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// AWS Backup Audit Manager's report plans and report jobs. A report plan
// names a report template, the formats (CSV, JSON) and where its reports
// are delivered; a report job writes one report of the plan, daily or on
// demand (StartReportJob). internal/report runs them.

// Report templates, as AWS names them.
const (
	ReportBackupJobs         = "BACKUP_JOB_REPORT"
	ReportRestoreJobs        = "RESTORE_JOB_REPORT"
	ReportCopyJobs           = "COPY_JOB_REPORT"
	ReportResourceCompliance = "RESOURCE_COMPLIANCE_REPORT"
	ReportControlCompliance  = "CONTROL_COMPLIANCE_REPORT"
	// ReportScanJobs is AWS's malware scan job report; cairn has no scan
	// jobs and refuses it.
	ReportScanJobs = "SCAN_JOB_REPORT"
)

// Report formats.
const (
	ReportCSV  = "CSV"
	ReportJSON = "JSON"
)

// MaxReportPlans is AWS's quota of report plans per account and region.
const MaxReportPlans = 20

// MaxFrameworksPerReportPlan is AWS's quota of frameworks a report plan
// covers.
const MaxFrameworksPerReportPlan = 1000

// A report plan's DeploymentStatus is always DeploymentCompleted
// (framework.go): creating, updating and deleting one is done when the
// call returns.

// ReportJobStatus is the status of a report job.
type ReportJobStatus string

// Report job statuses, as AWS names them.
const (
	ReportJobCreated   ReportJobStatus = "CREATED"
	ReportJobRunning   ReportJobStatus = "RUNNING"
	ReportJobCompleted ReportJobStatus = "COMPLETED"
	ReportJobFailed    ReportJobStatus = "FAILED"
)

// Terminal reports whether a job in status s is over.
func (s ReportJobStatus) Terminal() bool { return s == ReportJobCompleted || s == ReportJobFailed }

// ValidReportJobStatus reports whether s names a report job status.
func ValidReportJobStatus(s string) bool {
	switch ReportJobStatus(s) {
	case ReportJobCreated, ReportJobRunning, ReportJobCompleted, ReportJobFailed:
		return true
	}
	return false
}

// ReportDeliveryChannel is where and how a plan's reports are delivered.
type ReportDeliveryChannel struct {
	S3BucketName string   `json:"S3BucketName"`
	S3KeyPrefix  string   `json:"S3KeyPrefix,omitempty"`
	Formats      []string `json:"Formats,omitempty"`
}

// ReportSetting names a plan's template and, for the compliance
// templates, the frameworks it covers.
type ReportSetting struct {
	ReportTemplate     string   `json:"ReportTemplate"`
	FrameworkARNs      []string `json:"FrameworkArns,omitempty"`
	NumberOfFrameworks int      `json:"NumberOfFrameworks,omitempty"`
	Accounts           []string `json:"Accounts,omitempty"`
	OrganizationUnits  []string `json:"OrganizationUnits,omitempty"`
	Regions            []string `json:"Regions,omitempty"`
}

// ReportPlan is a report plan.
type ReportPlan struct {
	ARN         string
	Name        string
	Description string
	Setting     ReportSetting
	Delivery    ReportDeliveryChannel
	// Tags are the plan's ReportPlanTags, reserved cairn: tags included.
	Tags map[string]string
	// Destination is where the bucket's objects are written: a directory
	// or an S3 bucket (with no prefix: S3KeyPrefix is part of each key).
	// It is fixed when the plan is created, from its reserved tags.
	Destination VaultStorage

	CreationTime                time.Time
	LastAttemptedExecutionTime  time.Time
	LastSuccessfulExecutionTime time.Time

	IdempotencyToken string
	RequestHash      string
}

// ReportJob is one run of a report plan.
type ReportJob struct {
	ID             string
	ReportPlanARN  string
	ReportPlanName string
	ReportTemplate string
	Status         ReportJobStatus
	StatusMessage  string
	CreationTime   time.Time
	CompletionTime time.Time
	// S3BucketName and S3Keys say where the report's files are; S3Keys are
	// set once the job has COMPLETED.
	S3BucketName string
	S3Keys       []string
	// PeriodStart and PeriodEnd bound the report's time period.
	PeriodStart time.Time
	PeriodEnd   time.Time
	// ScheduledDay is the UTC midnight of the day a daily run was made
	// for; zero for jobs StartReportJob made. A plan has one daily job per
	// day.
	ScheduledDay time.Time

	IdempotencyToken string
	RequestHash      string
}

// ReportJobFilter selects report jobs; zero fields do not filter. Jobs are
// listed newest first.
type ReportJobFilter struct {
	Page
	ReportPlanARN    string
	Status           ReportJobStatus
	CreatedAfter     time.Time
	CreatedBefore    time.Time
	IdempotencyToken string
	// Active keeps only jobs that are CREATED or RUNNING.
	Active bool
}

// ReportStore keeps report plans and report jobs.
type ReportStore interface {
	// CreateReportPlan stores p. It fails with ErrAlreadyExists if a plan
	// has its name, ErrLimitExceeded if MaxReportPlans exist, and with
	// *TokenInUseError (Kind "ReportPlan", JobID the holder's name) if
	// p.IdempotencyToken is held, before any other check.
	CreateReportPlan(ctx context.Context, p *ReportPlan) error
	// GetReportPlan returns the plan or ErrNotFound.
	GetReportPlan(ctx context.Context, name string) (*ReportPlan, error)
	// ListReportPlans returns plans newest first.
	ListReportPlans(ctx context.Context, p Page) ([]*ReportPlan, string, error)
	// UpdateReportPlan replaces the plan's description, setting and
	// delivery channel (matched by name); ErrNotFound if absent.
	UpdateReportPlan(ctx context.Context, p *ReportPlan) error
	// SetReportPlanExecution records a job's attempt (and success) on its
	// plan; times only move forward. A missing plan is not an error.
	SetReportPlanExecution(ctx context.Context, arn string, attempted, succeeded time.Time) error
	// DeleteReportPlan removes the plan and frees its idempotency token;
	// ErrNotFound if absent, ErrConflict while one of its jobs is CREATED or
	// RUNNING (checked in the same transaction).
	DeleteReportPlan(ctx context.Context, name string) error

	// CreateReportJob stores j. It fails with ErrNotFound if its plan
	// (ReportPlanARN) is gone, with ErrAlreadyExists if j has a
	// ScheduledDay that a job of the plan has, and with *TokenInUseError
	// (Kind "ReportJob") if j's IdempotencyToken is held.
	CreateReportJob(ctx context.Context, j *ReportJob) error
	// GetReportJob returns the job or ErrNotFound.
	GetReportJob(ctx context.Context, id string) (*ReportJob, error)
	// UpdateReportJob replaces the job (matched by ID) but for its token,
	// request hash, plan and ScheduledDay; ErrNotFound if absent.
	UpdateReportJob(ctx context.Context, j *ReportJob) error
	ListReportJobs(ctx context.Context, f ReportJobFilter) ([]*ReportJob, string, error)
}

// CreateReportPlanInput asks for a new report plan.
type CreateReportPlanInput struct {
	Name             string
	Description      string
	Delivery         ReportDeliveryChannel
	Setting          ReportSetting
	Tags             map[string]string
	IdempotencyToken string
}

// UpdateReportPlanInput changes a report plan; nil members stay as they
// are.
type UpdateReportPlanInput struct {
	Name        string
	Description *string
	Delivery    *ReportDeliveryChannel
	Setting     *ReportSetting
}

// ReportService manages report plans and runs report jobs.
type ReportService interface {
	// CreateReportPlan validates and stores a plan; the same
	// IdempotencyToken with the same request returns the plan it created.
	CreateReportPlan(ctx context.Context, in CreateReportPlanInput) (*ReportPlan, error)
	DescribeReportPlan(ctx context.Context, name string) (*ReportPlan, error)
	ListReportPlans(ctx context.Context, p Page) ([]*ReportPlan, string, error)
	UpdateReportPlan(ctx context.Context, in UpdateReportPlanInput) (*ReportPlan, error)
	DeleteReportPlan(ctx context.Context, name string) error
	// StartReportJob creates a job of the plan and returns at once; the
	// job runs in the background. The same token returns the same job.
	StartReportJob(ctx context.Context, planName, idempotencyToken string) (*ReportJob, error)
	GetReportJob(ctx context.Context, id string) (*ReportJob, error)
	// ListReportJobs lists jobs; f.ReportPlanARN is set from planName, an
	// unknown plan being ErrNotFound.
	ListReportJobs(ctx context.Context, planName string, f ReportJobFilter) ([]*ReportJob, string, error)
}

// ReportPlanARN returns the ARN of a report plan: AWS's
// arn:aws:backup:REGION:ACCOUNT:report-plan:NAME-ID.
func ReportPlanARN(region, account, name, id string) string {
	return fmt.Sprintf("arn:aws:backup:%s:%s:report-plan:%s-%s", region, account, name, id)
}

var reportPlanNamePattern = regexp.MustCompile(`^[a-zA-Z][_a-zA-Z0-9]*$`)

// ValidateReportPlanName checks a report plan name as the model does: 1 to
// 256 characters, a letter, then letters, digits and underscores.
func ValidateReportPlanName(member, name string) error {
	if name == "" || len(name) > 256 || !reportPlanNamePattern.MatchString(name) {
		return reportParamError(member, "%q is not a report plan name: 1 to 256 characters, a letter first, then letters (a-z, A-Z), digits and underscores (_)", name)
	}
	return nil
}

// ValidateReportPlanDescription checks a description: at most 1,024
// characters, not only white space.
func ValidateReportPlanDescription(member, d string) error {
	if len([]rune(d)) > 1024 {
		return reportParamError(member, "is %d characters long; at most 1,024 are allowed", len([]rune(d)))
	}
	if d != "" && strings.TrimSpace(d) == "" {
		return reportParamError(member, "must contain a character that is not white space, or be left out")
	}
	return nil
}

// ValidateReportDeliveryChannel checks a delivery channel and fills in
// its default format (CSV). Formats are CSV and JSON, each at most once.
func ValidateReportDeliveryChannel(member string, c *ReportDeliveryChannel) error {
	if c.S3BucketName == "" {
		return &Error{Code: ErrMissingParameter, Message: "Missing required parameter " + member + ".S3BucketName",
			Type: "Parameter", Context: member + ".S3BucketName"}
	}
	if !validBucket(c.S3BucketName) || strings.HasPrefix(c.S3BucketName, ".") || strings.HasSuffix(c.S3BucketName, ".") ||
		strings.HasPrefix(c.S3BucketName, "-") || strings.Contains(c.S3BucketName, "..") {
		return reportParamError(member+".S3BucketName", "%q is not an S3 bucket name (3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)", c.S3BucketName)
	}
	if p := c.S3KeyPrefix; p != "" {
		if len(p) > 512 || strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.HasSuffix(p, "/") ||
			slices.Contains(strings.Split(p, "/"), "..") || slices.Contains(strings.Split(p, "/"), ".") || strings.ContainsAny(p, "\\\x00") {
			return reportParamError(member+".S3KeyPrefix", "%q is not a key prefix cairn accepts: at most 512 characters, segments separated by single '/', no leading or trailing '/', no '.' or '..' segment, no '\\'", p)
		}
		for _, r := range p {
			if r < 0x20 || r == 0x7f {
				return reportParamError(member+".S3KeyPrefix", "must not contain control characters")
			}
		}
	}
	if len(c.Formats) == 0 {
		c.Formats = []string{ReportCSV}
		return nil
	}
	seen := map[string]bool{}
	for i, f := range c.Formats {
		if f != ReportCSV && f != ReportJSON {
			return reportParamError(fmt.Sprintf("%s.Formats[%d]", member, i), "%q is not a report format (CSV or JSON)", f)
		}
		if seen[f] {
			return reportParamError(fmt.Sprintf("%s.Formats[%d]", member, i), "%s is given twice", f)
		}
		seen[f] = true
	}
	return nil
}

// ValidateReportSetting checks a report setting: a template cairn makes,
// framework ARNs only for the compliance templates (at most
// MaxFrameworksPerReportPlan), and the account and region scope cairn can
// honour (its own account and region, "ROOT" or "*"). NumberOfFrameworks is
// computed, not taken.
func ValidateReportSetting(member string, s *ReportSetting, account, region string) error {
	switch s.ReportTemplate {
	case "":
		return &Error{Code: ErrMissingParameter, Message: "Missing required parameter " + member + ".ReportTemplate",
			Type: "Parameter", Context: member + ".ReportTemplate"}
	case ReportBackupJobs, ReportRestoreJobs, ReportCopyJobs:
		if len(s.FrameworkARNs) > 0 {
			return reportParamError(member+".FrameworkArns", "applies only to RESOURCE_COMPLIANCE_REPORT and CONTROL_COMPLIANCE_REPORT, not %s; leave it out", s.ReportTemplate)
		}
	case ReportResourceCompliance, ReportControlCompliance:
		if len(s.FrameworkARNs) > MaxFrameworksPerReportPlan {
			return &Error{Code: ErrLimitExceeded, Type: "Parameter", Context: member + ".FrameworkArns",
				Message: fmt.Sprintf("%s.FrameworkArns: %d frameworks; a report plan covers at most %d", member, len(s.FrameworkARNs), MaxFrameworksPerReportPlan)}
		}
		for i, a := range s.FrameworkARNs {
			arn, err := ParseARN(a)
			kind, _, _ := strings.Cut(arn.Resource, ":")
			if err != nil || arn.Service != "backup" || kind != "framework" {
				return reportParamError(fmt.Sprintf("%s.FrameworkArns[%d]", member, i), "%q is not the ARN of a framework (arn:aws:backup:REGION:ACCOUNT:framework:NAME-ID)", a)
			}
		}
	case ReportScanJobs:
		return reportParamError(member+".ReportTemplate", "%s reports malware scan jobs, which cairn does not have; use BACKUP_JOB_REPORT, RESTORE_JOB_REPORT, COPY_JOB_REPORT, RESOURCE_COMPLIANCE_REPORT or CONTROL_COMPLIANCE_REPORT", s.ReportTemplate)
	default:
		return reportParamError(member+".ReportTemplate", "%q is not a report template (BACKUP_JOB_REPORT, RESTORE_JOB_REPORT, COPY_JOB_REPORT, RESOURCE_COMPLIANCE_REPORT or CONTROL_COMPLIANCE_REPORT)", s.ReportTemplate)
	}
	for i, a := range s.Accounts {
		if a != account && a != "ROOT" && a != "*" {
			return reportParamError(fmt.Sprintf("%s.Accounts[%d]", member, i), "%q: this server holds account %s only; name it, ROOT, or leave Accounts out", a, account)
		}
	}
	if len(s.OrganizationUnits) > 0 {
		return reportParamError(member+".OrganizationUnits", "cairn has no AWS Organizations units; leave OrganizationUnits out")
	}
	for i, r := range s.Regions {
		if r != region && r != "*" {
			return reportParamError(fmt.Sprintf("%s.Regions[%d]", member, i), "%q: this server holds region %s only; name it, \"*\", or leave Regions out", r, region)
		}
	}
	s.NumberOfFrameworks = len(s.FrameworkARNs)
	return nil
}

// ReportKey returns the key, under the plan's bucket, of a report file:
// PREFIX/Backup/REGION/YYYY/MM/DD/PLAN_JOBID.EXT, as AWS lays reports out
// (s3://BUCKET/PREFIX/Backup/REGION/year/month/day/report-name); the day is
// the job's creation day in UTC.
func ReportKey(prefix, region, plan, jobID, format string, created time.Time) string {
	d := created.UTC()
	name := fmt.Sprintf("Backup/%s/%04d/%02d/%02d/%s_%s.%s", region, d.Year(), int(d.Month()), d.Day(), plan, jobID, strings.ToLower(format))
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// reportParamError is an ErrInvalidParameter naming the member at fault.
func reportParamError(member, format string, args ...any) *Error {
	return &Error{Code: ErrInvalidParameter, Type: "Parameter", Context: member,
		Message: member + ": " + fmt.Sprintf(format, args...)}
}
