// Package report is AWS Backup Audit Manager's report plans and report
// jobs (backup.ReportService): it stores plans in the catalog, makes a
// report of a plan once a day and on demand (StartReportJob), renders the
// templates in CSV and JSON from the catalog's jobs, and delivers the files
// to a local directory or an S3-compatible bucket.
//
// It is the one writer of report job state. A job's files are delivered
// whole or not at all: each is written through a blob.Store, whose Put
// makes an object visible only once complete (a temporary file renamed in
// a directory, one PutObject on S3), and the job is marked COMPLETED only
// after every file is. A job that fails removes the files it delivered.
// Recover, run at start, ends the jobs a killed process left RUNNING as
// FAILED, removes what they delivered and their temporary files, and runs
// the ones still CREATED.
//
// Where a plan's bucket is (docs/governance.md, "Reports"): by default the
// directory DATA_DIR/reports/BUCKET; with the plan's reserved tag
// cairn:report-dir, a directory under the server's storage.allowed_paths;
// with cairn:s3-endpoint, the bucket of that name on an S3 endpoint of
// storage.s3_endpoints. The destination is fixed when the plan is created.
package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/clock"
)

// Reserved report plan tags: where the plan's bucket is. They are kept
// with the plan's tags.
const (
	// TagReportDir names a directory (under storage.allowed_paths) that
	// holds the bucket's keys.
	TagReportDir = "cairn:report-dir"
	// TagS3Endpoint names the configured S3 endpoint the bucket is on.
	TagS3Endpoint = backup.TagS3Endpoint
)

// ControlResult is one control of one framework, evaluated: a row of
// CONTROL_COMPLIANCE_REPORT.
type ControlResult struct {
	FrameworkName, FrameworkDescription, ControlName string
	// Status is COMPLIANT, NON_COMPLIANT or INSUFFICIENT_DATA.
	Status                                 string
	LastEvaluationTime                     time.Time
	NumResourcesCompliant, NumNonCompliant int64
	Frequency, Scope, Parameters           string
}

// ResourceResult is one resource evaluated against one control: a row of
// RESOURCE_COMPLIANCE_REPORT.
type ResourceResult struct {
	FrameworkName, FrameworkDescription, ControlName string
	ResourceID, ResourceType                         string
	Status                                           string
	LastEvaluationTime                               time.Time
}

// Evaluator evaluates the controls of the frameworks named by their ARNs
// (all frameworks if none) for the compliance templates.
type Evaluator func(ctx context.Context, frameworkARNs []string) ([]ControlResult, []ResourceResult, error)

// Config wires a Service. Zero values take the documented defaults.
type Config struct {
	// Leader, when set, says whether this node is the cluster's leader
	// (backup.Cluster.IsLeader): the daily loop creates report jobs only
	// on the leader. nil: always (a server alone on its catalog).
	Leader  func() bool
	Catalog backup.Catalog
	// OpenStore opens the store of a destination (a directory or an S3
	// bucket), as it does vaults' storage.
	OpenStore func(ctx context.Context, st backup.VaultStorage) (blob.Store, error)
	// DataDir holds DATA_DIR/reports/BUCKET, the default destinations.
	DataDir string
	// Storage is where the operator lets data go besides the data dir.
	Storage   backup.StoragePolicy
	Region    string // default us-east-1
	AccountID string // default 000000000000
	Clock     clock.Clock
	Logger    *slog.Logger
	// Interval is how often the daily loop looks for plans due; default 1m.
	Interval time.Duration
	// DailyHour is the hour (UTC) from which a plan's daily report of the
	// previous day is due; default 1 (AWS makes them between 1 and 5 AM).
	DailyHour int
	// Evaluate evaluates frameworks; nil refuses the compliance templates.
	Evaluate Evaluator
	// BeforeDeliver, if set, runs before a job delivers its files (tests:
	// hold a job RUNNING).
	BeforeDeliver func(ctx context.Context, j *backup.ReportJob)
}

// Service implements backup.ReportService.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	started bool
	// wg tracks every goroutine; jobs tracks the jobs' only (Wait).
	wg     sync.WaitGroup
	jobs   sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	// stop ends the daily loop.
	stop chan struct{}
}

var _ backup.ReportService = (*Service)(nil)

// New returns a Service; call Recover, then Start; Close stops it.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.OpenStore == nil {
		return nil, errors.New("report: Catalog and OpenStore are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.DailyHour < 0 || cfg.DailyHour > 23 {
		return nil, fmt.Errorf("report: DailyHour %d must be from 0 to 23", cfg.DailyHour)
	}
	if cfg.DailyHour == 0 {
		cfg.DailyHour = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, stop: make(chan struct{})}, nil
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func (s *Service) complianceSupported() bool { return s.cfg.Evaluate != nil }

// CreateReportPlan implements backup.ReportService.
func (s *Service) CreateReportPlan(ctx context.Context, in backup.CreateReportPlanInput) (*backup.ReportPlan, error) {
	if err := s.validate(&in.Delivery, &in.Setting); err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("ReportPlanTags", withoutReserved(in.Tags)); err != nil {
		return nil, err
	}
	dest, err := s.destination(in.Tags, in.Delivery.S3BucketName)
	if err != nil {
		return nil, err
	}
	token := in.IdempotencyToken
	in.IdempotencyToken = ""
	hash := requestHash("CreateReportPlan", in)
	if token != "" {
		if p, err := s.planByToken(ctx, token, hash); p != nil || err != nil {
			return p, err
		}
	}
	p := &backup.ReportPlan{
		ARN:  backup.ReportPlanARN(s.cfg.Region, s.cfg.AccountID, in.Name, strings.ToLower(uuid.NewString())),
		Name: in.Name, Description: in.Description, Setting: in.Setting, Delivery: in.Delivery,
		Tags: maps.Clone(in.Tags), Destination: dest, CreationTime: s.now(),
		IdempotencyToken: token, RequestHash: hash,
	}
	err = s.cfg.Catalog.CreateReportPlan(ctx, p)
	var tu *backup.TokenInUseError
	if errors.As(err, &tu) {
		if p, err := s.planByToken(ctx, token, hash); p != nil || err != nil {
			return p, err
		}
		// Its plan was deleted in between: the token is free again.
		return nil, &backup.Error{Code: backup.ErrConflict, Type: "IdempotencyToken", Context: token,
			Message: fmt.Sprintf("report plan %s, made with IdempotencyToken %q, is being deleted; retry", tu.JobID, token)}
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("report plan created", "report_plan", p.Name, "template", p.Setting.ReportTemplate, "destination", p.Destination.String())
	return p, nil
}

// planByToken returns the plan a token created (nil if none), or the error
// of a request that reuses the token with other parameters.
func (s *Service) planByToken(ctx context.Context, token, hash string) (*backup.ReportPlan, error) {
	page := backup.Page{MaxResults: 1000}
	for {
		plans, next, err := s.cfg.Catalog.ListReportPlans(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, p := range plans {
			if p.IdempotencyToken == token {
				if p.RequestHash != hash {
					return nil, tokenReused("CreateReportPlan", token, "report plan "+p.Name)
				}
				return p, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		page.NextToken = next
	}
}

func tokenReused(op, token, what string) error {
	return &backup.Error{Code: backup.ErrInvalidRequest, Type: "IdempotencyToken", Context: token,
		Message: fmt.Sprintf("IdempotencyToken %q was used by an earlier %s request with other parameters, which made %s; "+
			"repeat that request unchanged, or use a new IdempotencyToken for a new request", token, op, what)}
}

// validate checks a delivery channel and setting, and the templates this
// server can make.
func (s *Service) validate(d *backup.ReportDeliveryChannel, st *backup.ReportSetting) error {
	if err := backup.ValidateReportDeliveryChannel("ReportDeliveryChannel", d); err != nil {
		return err
	}
	if err := backup.ValidateReportSetting("ReportSetting", st, s.cfg.AccountID, s.cfg.Region); err != nil {
		return err
	}
	if (st.ReportTemplate == backup.ReportControlCompliance || st.ReportTemplate == backup.ReportResourceCompliance) && !s.complianceSupported() {
		return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Parameter", Context: "ReportSetting.ReportTemplate",
			Message: fmt.Sprintf("ReportSetting.ReportTemplate: %s reports the evaluation of audit frameworks, which this cairn server was not started with; "+
				"use BACKUP_JOB_REPORT, RESTORE_JOB_REPORT or COPY_JOB_REPORT", st.ReportTemplate)}
	}
	return nil
}

func withoutReserved(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if k != TagReportDir && k != TagS3Endpoint {
			out[k] = v
		}
	}
	return out
}

// destination returns where a plan's bucket is, from its reserved tags,
// checked against what the operator allows.
func (s *Service) destination(tags map[string]string, bucket string) (backup.VaultStorage, error) {
	for k := range tags {
		if strings.HasPrefix(k, "cairn:") && k != TagReportDir && k != TagS3Endpoint {
			return backup.VaultStorage{}, &backup.Error{Code: backup.ErrInvalidParameter, Type: "Parameter", Context: "ReportPlanTags",
				Message: fmt.Sprintf("ReportPlanTags: %q is not a tag cairn knows; a report plan's cairn: tags are %s (a directory under the server's "+
					"storage.allowed_paths) and %s (a configured S3 endpoint)", k, TagReportDir, TagS3Endpoint)}
		}
	}
	dir, hasDir := tags[TagReportDir]
	endpoint, hasEndpoint := tags[TagS3Endpoint]
	switch {
	case hasDir && hasEndpoint:
		return backup.VaultStorage{}, backup.Errorf(backup.ErrInvalidParameter,
			"ReportPlanTags: give %s (a directory) or %s (an S3 endpoint), not both", TagReportDir, TagS3Endpoint)
	case hasEndpoint:
		st, err := s.cfg.Storage.ResolveS3(backup.VaultStorage{Kind: backup.StorageS3, Bucket: bucket, EndpointName: endpoint})
		if err != nil {
			return backup.VaultStorage{}, fmt.Errorf("ReportPlanTags: %w", err)
		}
		return st, nil
	case hasDir:
		clean := filepath.Clean(dir)
		if !filepath.IsAbs(dir) || clean != dir {
			return backup.VaultStorage{}, backup.Errorf(backup.ErrInvalidParameter,
				"ReportPlanTags: %s=%q must be a clean absolute path", TagReportDir, dir)
		}
		if !s.allowedDir(clean) {
			return backup.VaultStorage{}, backup.Errorf(backup.ErrInvalidParameter,
				"ReportPlanTags: %s=%q is not under a directory the server allows (storage.allowed_paths: %s); "+
					"choose one under them, or leave the tag out to deliver to the server's data dir", TagReportDir, dir, strings.Join(s.cfg.Storage.AllowedPaths, ", "))
		}
		return backup.VaultStorage{Kind: backup.StorageFile, Path: clean}, nil
	}
	return backup.VaultStorage{Kind: backup.StorageFile, Path: filepath.Join(s.cfg.DataDir, "reports", bucket)}, nil
}

// allowedDir reports whether dir lies under an allowed path, as written and
// with symbolic links followed (as far as they exist).
func (s *Service) allowedDir(dir string) bool {
	resolved := resolveExisting(dir)
	for _, a := range s.cfg.Storage.AllowedPaths {
		if backup.Within(dir, a) && (backup.Within(resolved, a) || backup.Within(resolved, resolveExisting(a))) {
			return true
		}
	}
	return false
}

// resolveExisting follows the symbolic links of the longest existing
// prefix of p.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// DescribeReportPlan implements backup.ReportService.
func (s *Service) DescribeReportPlan(ctx context.Context, name string) (*backup.ReportPlan, error) {
	return s.cfg.Catalog.GetReportPlan(ctx, name)
}

// ListReportPlans implements backup.ReportService.
func (s *Service) ListReportPlans(ctx context.Context, p backup.Page) ([]*backup.ReportPlan, string, error) {
	return s.cfg.Catalog.ListReportPlans(ctx, p)
}

// UpdateReportPlan implements backup.ReportService. The destination stays
// where the plan's tags put it; a new bucket name moves the default
// directory and names another bucket on the plan's S3 endpoint.
func (s *Service) UpdateReportPlan(ctx context.Context, in backup.UpdateReportPlanInput) (*backup.ReportPlan, error) {
	p, err := s.cfg.Catalog.GetReportPlan(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Delivery != nil {
		p.Delivery = *in.Delivery
	}
	if in.Setting != nil {
		p.Setting = *in.Setting
	}
	if err := s.validate(&p.Delivery, &p.Setting); err != nil {
		return nil, err
	}
	dest, err := s.destination(p.Tags, p.Delivery.S3BucketName)
	if err != nil {
		return nil, err
	}
	if dest != p.Destination {
		return nil, backup.Errorf(backup.ErrInvalidParameter,
			"ReportDeliveryChannel.S3BucketName: the plan's reports are delivered to %s, which its tags fixed when it was created; "+
				"create a new report plan to deliver elsewhere", p.Destination.String())
	}
	if err := s.cfg.Catalog.UpdateReportPlan(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteReportPlan implements backup.ReportService. Reports delivered stay
// where they are.
func (s *Service) DeleteReportPlan(ctx context.Context, name string) error {
	if err := s.cfg.Catalog.DeleteReportPlan(ctx, name); err != nil {
		return err
	}
	s.log.Info("report plan deleted", "report_plan", name)
	return nil
}

// StartReportJob implements backup.ReportService: an on-demand report of
// the 24 hours before now.
func (s *Service) StartReportJob(ctx context.Context, planName, token string) (*backup.ReportJob, error) {
	hash := requestHash("StartReportJob", planName)
	if token != "" {
		if j, err := s.jobByToken(ctx, token, hash); j != nil || err != nil {
			return j, err
		}
	}
	if s.isClosed() {
		return nil, backup.Errorf(backup.ErrUnavailable, "the server is stopping; start the report job after it restarts")
	}
	p, err := s.cfg.Catalog.GetReportPlan(ctx, planName)
	if err != nil {
		return nil, err
	}
	now := s.now()
	j := s.newJob(p, now, period{Start: now.Add(-24 * time.Hour), End: now})
	j.IdempotencyToken, j.RequestHash = token, hash
	err = s.cfg.Catalog.CreateReportJob(ctx, j)
	var tu *backup.TokenInUseError
	if errors.As(err, &tu) {
		return s.jobByToken(ctx, token, hash)
	}
	if err != nil {
		return nil, err
	}
	s.launch(j)
	return j, nil
}

func (s *Service) newJob(p *backup.ReportPlan, now time.Time, per period) *backup.ReportJob {
	return &backup.ReportJob{
		ID: strings.ToUpper(uuid.NewString()), ReportPlanARN: p.ARN, ReportPlanName: p.Name,
		ReportTemplate: p.Setting.ReportTemplate, Status: backup.ReportJobCreated, CreationTime: now,
		S3BucketName: p.Delivery.S3BucketName, PeriodStart: per.Start, PeriodEnd: per.End,
	}
}

func (s *Service) jobByToken(ctx context.Context, token, hash string) (*backup.ReportJob, error) {
	jobs, _, err := s.cfg.Catalog.ListReportJobs(ctx, backup.ReportJobFilter{IdempotencyToken: token, Page: backup.Page{MaxResults: 1}})
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	if jobs[0].RequestHash != hash {
		return nil, tokenReused("StartReportJob", token, "report job "+jobs[0].ID+" of report plan "+jobs[0].ReportPlanName)
	}
	return jobs[0], nil
}

// GetReportJob implements backup.ReportService.
func (s *Service) GetReportJob(ctx context.Context, id string) (*backup.ReportJob, error) {
	return s.cfg.Catalog.GetReportJob(ctx, id)
}

// ListReportJobs implements backup.ReportService.
func (s *Service) ListReportJobs(ctx context.Context, planName string, f backup.ReportJobFilter) ([]*backup.ReportJob, string, error) {
	if planName != "" {
		p, err := s.cfg.Catalog.GetReportPlan(ctx, planName)
		if err != nil {
			return nil, "", err
		}
		f.ReportPlanARN = p.ARN
	}
	return s.cfg.Catalog.ListReportJobs(ctx, f)
}

func (s *Service) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// launch runs a job in a tracked goroutine; once the service is closing
// the job stays CREATED and runs after the next start.
func (s *Service) launch(j *backup.ReportJob) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.jobs.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.jobs.Done()
		s.run(s.ctx, j)
	}()
}

// run makes and delivers one report. Files go first, each whole; the job
// is COMPLETED only once all are delivered.
func (s *Service) run(ctx context.Context, j *backup.ReportJob) {
	log := s.log.With("report_job", j.ID, "report_plan", j.ReportPlanName)
	j.Status = backup.ReportJobRunning
	if err := s.cfg.Catalog.UpdateReportJob(ctx, j); err != nil {
		log.Error("report job: record RUNNING", "err", err)
		return
	}
	if err := s.cfg.Catalog.SetReportPlanExecution(ctx, j.ReportPlanARN, s.now(), time.Time{}); err != nil {
		log.Warn("report job: record the plan's attempt", "err", err)
	}
	keys, err := s.deliver(ctx, j)
	if ctx.Err() != nil {
		// The process is stopping: the job stays RUNNING and Recover ends
		// it at the next start, removing what it delivered.
		log.Info("report job stopped with the server; it ends FAILED at the next start")
		return
	}
	end := s.now()
	j.CompletionTime = end
	if err != nil {
		j.Status, j.StatusMessage = backup.ReportJobFailed, message(err)
		log.Warn("report job failed", "err", err)
	} else {
		j.Status, j.S3Keys, j.StatusMessage = backup.ReportJobCompleted, keys, ""
		log.Info("report job completed", "keys", strings.Join(keys, ","))
	}
	if err := s.cfg.Catalog.UpdateReportJob(context.WithoutCancel(ctx), j); err != nil {
		log.Error("report job: record its end", "err", err)
		return
	}
	succeeded := time.Time{}
	if j.Status == backup.ReportJobCompleted {
		succeeded = end
	}
	if err := s.cfg.Catalog.SetReportPlanExecution(context.WithoutCancel(ctx), j.ReportPlanARN, time.Time{}, succeeded); err != nil {
		log.Warn("report job: record the plan's success", "err", err)
	}
}

func message(err error) string {
	var de *backup.Error
	msg := err.Error()
	if errors.As(err, &de) {
		msg = de.Message
	}
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	return msg
}

// deliver renders the plan's formats and writes each file; on an error it
// removes the files it wrote.
func (s *Service) deliver(ctx context.Context, j *backup.ReportJob) ([]string, error) {
	p, err := s.planOf(ctx, j)
	if err != nil {
		return nil, err
	}
	t, err := s.render(ctx, j, p)
	if err != nil {
		return nil, fmt.Errorf("make the %s report: %w", j.ReportTemplate, err)
	}
	store, err := s.cfg.OpenStore(ctx, p.Destination)
	if err != nil {
		return nil, fmt.Errorf("open the report destination %s (bucket %s): %w", p.Destination.String(), p.Delivery.S3BucketName, err)
	}
	if s.cfg.BeforeDeliver != nil {
		s.cfg.BeforeDeliver(ctx, j)
	}
	var keys []string
	for _, f := range p.Delivery.Formats {
		var body []byte
		switch f {
		case backup.ReportJSON:
			body, err = t.JSON()
		default:
			body, err = t.CSV()
		}
		if err == nil {
			key := backup.ReportKey(p.Delivery.S3KeyPrefix, s.cfg.Region, p.Name, j.ID, f, j.CreationTime)
			if err = store.Put(ctx, key, strings.NewReader(string(body))); err == nil {
				keys = append(keys, key)
				continue
			}
			err = fmt.Errorf("deliver %s to %s: %w", key, p.Destination.String(), err)
		}
		for _, k := range keys {
			if derr := store.Delete(context.WithoutCancel(ctx), k); derr != nil {
				s.log.Warn("report job: remove a file of a failed job", "report_job", j.ID, "key", k, "err", derr)
			}
		}
		return nil, err
	}
	return keys, nil
}

// planOf returns the job's plan as it is now (its formats and prefix may
// have changed since the job was created).
func (s *Service) planOf(ctx context.Context, j *backup.ReportJob) (*backup.ReportPlan, error) {
	p, err := s.cfg.Catalog.GetReportPlan(ctx, j.ReportPlanName)
	if err != nil {
		return nil, fmt.Errorf("report plan %s: %w", j.ReportPlanName, err)
	}
	if p.ARN != j.ReportPlanARN {
		return nil, fmt.Errorf("report plan %s was deleted", j.ReportPlanName)
	}
	return p, nil
}

// render makes the table of the job's template.
func (s *Service) render(ctx context.Context, j *backup.ReportJob, p *backup.ReportPlan) (table, error) {
	per := period{Start: j.PeriodStart, End: j.PeriodEnd}
	switch p.Setting.ReportTemplate {
	case backup.ReportBackupJobs:
		return backupJobsTable(ctx, s.cfg.Catalog, s.cfg.AccountID, s.cfg.Region, per)
	case backup.ReportCopyJobs:
		return copyJobsTable(ctx, s.cfg.Catalog, s.cfg.AccountID, s.cfg.Region, per)
	case backup.ReportRestoreJobs:
		return restoreJobsTable(ctx, s.cfg.Catalog, s.cfg.AccountID, s.cfg.Region, per)
	case backup.ReportControlCompliance, backup.ReportResourceCompliance:
		if s.cfg.Evaluate == nil {
			return table{}, backup.Errorf(backup.ErrInvalidParameter, "%s needs the evaluation of audit frameworks, which this server does not have", p.Setting.ReportTemplate)
		}
		controls, resources, err := s.cfg.Evaluate(ctx, p.Setting.FrameworkARNs)
		if err != nil {
			return table{}, err
		}
		if p.Setting.ReportTemplate == backup.ReportControlCompliance {
			return controlTable(s.cfg.AccountID, s.cfg.Region, controls), nil
		}
		return resourceTable(s.cfg.AccountID, s.cfg.Region, resources), nil
	}
	return table{}, fmt.Errorf("report template %q is not one cairn makes", p.Setting.ReportTemplate)
}

func controlTable(account, region string, rs []ControlResult) table {
	t := table{columns: ControlComplianceColumns}
	for _, c := range rs {
		t.rows = append(t.rows, Row{"accountId": account, "region": region, "frameworkName": c.FrameworkName,
			"frameworkDescription": c.FrameworkDescription, "controlName": c.ControlName,
			"controlComplianceStatus": c.Status, "lastEvaluationTime": stamp(c.LastEvaluationTime),
			"numResourcesCompliant": c.NumResourcesCompliant, "numResourcesNonCompliant": c.NumNonCompliant,
			"controlFrequency": c.Frequency, "controlScope": c.Scope, "controlParameters": c.Parameters})
	}
	return t
}

func resourceTable(account, region string, rs []ResourceResult) table {
	t := table{columns: ResourceComplianceColumns}
	for _, r := range rs {
		t.rows = append(t.rows, Row{"accountId": account, "region": region, "frameworkName": r.FrameworkName,
			"frameworkDescription": r.FrameworkDescription, "controlName": r.ControlName,
			"resourceId": r.ResourceID, "resourceType": r.ResourceType,
			"resourceComplianceStatus": r.Status, "lastEvaluationTime": stamp(r.LastEvaluationTime)})
	}
	return t
}

// Recover ends what a killed process left: jobs RUNNING end FAILED, and
// the files they delivered and the temporary files of their cut-short
// writes are removed; jobs still CREATED run again. Call it before Start.
func (s *Service) Recover(ctx context.Context) error {
	var active []*backup.ReportJob
	err := everyPage(ctx, func(pg backup.Page) ([]*backup.ReportJob, string, error) {
		return s.cfg.Catalog.ListReportJobs(ctx, backup.ReportJobFilter{Page: pg, Active: true})
	}, func(j *backup.ReportJob) { active = append(active, j) })
	if err != nil {
		return fmt.Errorf("report: recover: %w", err)
	}
	for _, j := range active {
		if j.Status == backup.ReportJobCreated {
			s.log.Info("report job queued again after a restart", "report_job", j.ID, "report_plan", j.ReportPlanName)
			s.launch(j)
			continue
		}
		s.cleanUp(ctx, j)
		j.Status, j.CompletionTime = backup.ReportJobFailed, s.now()
		j.StatusMessage = "the server stopped while the report job ran (killed or crashed); the report was not delivered and what it had written was removed; start a new report job (StartReportJob)"
		j.S3Keys = nil
		if err := s.cfg.Catalog.UpdateReportJob(ctx, j); err != nil {
			return fmt.Errorf("report: recover job %s: %w", j.ID, err)
		}
		s.log.Warn("report job left running by a previous process ended FAILED", "report_job", j.ID, "report_plan", j.ReportPlanName)
	}
	return nil
}

// cleanUp removes the files a job left RUNNING may have delivered, and the
// temporary files of a local destination.
func (s *Service) cleanUp(ctx context.Context, j *backup.ReportJob) {
	p, err := s.planOf(ctx, j)
	if err != nil {
		s.log.Warn("report job left running: its plan is gone, its files (if any) stay", "report_job", j.ID, "err", err)
		return
	}
	store, err := s.cfg.OpenStore(ctx, p.Destination)
	if err != nil {
		s.log.Warn("report job left running: cannot open its destination to remove what it wrote", "report_job", j.ID, "err", err)
		return
	}
	for _, f := range []string{backup.ReportCSV, backup.ReportJSON} {
		key := backup.ReportKey(p.Delivery.S3KeyPrefix, s.cfg.Region, p.Name, j.ID, f, j.CreationTime)
		if err := store.Delete(ctx, key); err != nil {
			s.log.Warn("report job left running: remove a file it wrote", "report_job", j.ID, "key", key, "err", err)
		}
	}
	if rt, ok := store.(interface{ RemoveTemp(context.Context) error }); ok && p.Destination.Kind == backup.StorageFile {
		if _, err := os.Stat(p.Destination.Path); err == nil {
			if err := rt.RemoveTemp(ctx); err != nil {
				s.log.Warn("report job left running: remove temporary files", "report_job", j.ID, "err", err)
			}
		}
	}
}

// Start runs the daily loop: every Interval, each plan whose report of the
// previous UTC day is due (from DailyHour on) and not yet made gets a job.
func (s *Service) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			if s.cfg.Leader != nil && !s.cfg.Leader() {
				// Another node leads and makes the daily reports.
			} else if err := s.Tick(s.ctx); err != nil && s.ctx.Err() == nil {
				s.log.Warn("report scheduler", "err", err)
			}
			select {
			case <-s.stop:
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Tick creates the daily jobs that are due at the clock's time and starts
// them. A plan gets one daily job per day, however many servers tick (the
// catalog refuses a second); a plan created after the day's hour gets its
// first the next day.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if now.Before(today.Add(time.Duration(s.cfg.DailyHour) * time.Hour)) {
		return nil
	}
	var plans []*backup.ReportPlan
	if err := everyPage(ctx, func(pg backup.Page) ([]*backup.ReportPlan, string, error) {
		return s.cfg.Catalog.ListReportPlans(ctx, pg)
	}, func(p *backup.ReportPlan) { plans = append(plans, p) }); err != nil {
		return err
	}
	var errs []error
	for _, p := range plans {
		if !p.CreationTime.Before(today) {
			continue // created today: its first daily report is tomorrow's
		}
		j := s.newJob(p, now, period{Start: today.AddDate(0, 0, -1), End: today})
		j.ScheduledDay = today
		err := s.cfg.Catalog.CreateReportJob(ctx, j)
		switch {
		case err == nil:
			s.log.Info("daily report job created", "report_job", j.ID, "report_plan", p.Name, "day", today.Format(time.DateOnly))
			s.launch(j)
		case backup.ErrorCode(err) == backup.ErrAlreadyExists || backup.IsNotFound(err):
		default:
			errs = append(errs, fmt.Errorf("report plan %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Wait blocks until no job runs; for tests.
func (s *Service) Wait() { s.jobs.Wait() }

// Shutdown stops gracefully: no new job starts (StartReportJob is refused
// with ErrUnavailable, the daily loop stops) and the running jobs get until
// ctx ends to finish; then it stops them as Close does.
func (s *Service) Shutdown(ctx context.Context) {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("report jobs still running at the end of the grace period are stopped; they end FAILED at the next start")
	}
	s.cancel()
	s.wg.Wait()
}

// Close stops the daily loop and the running jobs; jobs cut short stay
// RUNNING for Recover to end at the next start.
func (s *Service) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// sortBy sorts items oldest first by key.
func sortBy[T any](items []T, key func(T) (time.Time, string)) {
	slices.SortStableFunc(items, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(ia, ib)
	})
}
