package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	kindReportPlan = "ReportPlan"
	kindReportJob  = "ReportJob"

	tokenReportPlans = "rp1"
	tokenReportJobs  = "rj1"
)

const reportPlanCols = `name, arn, description, setting, delivery, destination, tags, creation_ns,
	last_attempted_ns, last_success_ns, idempotency_token, request_hash`

func reportPlanArgs(p *backup.ReportPlan) ([]any, error) {
	if p.Name == "" || p.ARN == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "ReportPlanName and ReportPlanArn are required")
	}
	created, err := requiredNanos(p.CreationTime, "CreationTime")
	if err != nil {
		return nil, err
	}
	attempted, err := nanos(p.LastAttemptedExecutionTime, "LastAttemptedExecutionTime")
	if err != nil {
		return nil, err
	}
	succeeded, err := nanos(p.LastSuccessfulExecutionTime, "LastSuccessfulExecutionTime")
	if err != nil {
		return nil, err
	}
	setting, err := jsonText(p.Setting, false)
	if err != nil {
		return nil, err
	}
	delivery, err := jsonText(p.Delivery, false)
	if err != nil {
		return nil, err
	}
	dest, err := jsonText(p.Destination, false)
	if err != nil {
		return nil, err
	}
	tags, err := jsonText(p.Tags, len(p.Tags) == 0)
	if err != nil {
		return nil, err
	}
	return []any{p.Name, p.ARN, p.Description, setting, delivery, dest, tags, created,
		attempted, succeeded, p.IdempotencyToken, p.RequestHash}, nil
}

func scanReportPlan(s scanner) (*backup.ReportPlan, error) {
	var (
		p                       backup.ReportPlan
		setting, delivery, dest string
		tags                    sql.NullString
		created                 int64
		attempted, succeeded    sql.NullInt64
	)
	if err := s.Scan(&p.Name, &p.ARN, &p.Description, &setting, &delivery, &dest, &tags, &created,
		&attempted, &succeeded, &p.IdempotencyToken, &p.RequestHash); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		text string
		v    any
	}{{setting, &p.Setting}, {delivery, &p.Delivery}, {dest, &p.Destination}} {
		if err := fromJSON(sql.NullString{String: f.text, Valid: true}, f.v); err != nil {
			return nil, fmt.Errorf("report plan %s: %w", p.Name, err)
		}
	}
	if err := fromJSON(tags, &p.Tags); err != nil {
		return nil, fmt.Errorf("report plan %s: tags: %w", p.Name, err)
	}
	p.CreationTime = time.Unix(0, created).UTC()
	p.LastAttemptedExecutionTime = timeOf(attempted)
	p.LastSuccessfulExecutionTime = timeOf(succeeded)
	return &p, nil
}

// CreateReportPlan stores p; see backup.ReportStore.
func (c *Catalog) CreateReportPlan(ctx context.Context, p *backup.ReportPlan) error {
	args, err := reportPlanArgs(p)
	if err != nil {
		return err
	}
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create report plan %s: %w", p.Name, err)
	}
	defer tx.Rollback()
	if p.IdempotencyToken != "" {
		_, err = tx.ExecContext(ctx, "INSERT INTO idempotency_tokens (kind, token, job_id) VALUES (?, ?, ?)", kindReportPlan, p.IdempotencyToken, p.Name)
		if isPrimaryKeyViolation(err) {
			var holder string
			if err := tx.QueryRowContext(ctx, "SELECT job_id FROM idempotency_tokens WHERE kind = ? AND token = ?", kindReportPlan, p.IdempotencyToken).Scan(&holder); err != nil {
				return fmt.Errorf("sqlite: create report plan %s: the holder of its idempotency token: %w", p.Name, err)
			}
			return &backup.TokenInUseError{Kind: kindReportPlan, Token: p.IdempotencyToken, JobID: holder}
		}
		if err != nil {
			return fmt.Errorf("sqlite: create report plan %s: idempotency token: %w", p.Name, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM report_plans").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: create report plan %s: %w", p.Name, err)
	}
	var exists int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM report_plans WHERE name = ?", p.Name).Scan(&exists)
	if err == nil {
		return &backup.Error{Code: backup.ErrAlreadyExists, Type: kindReportPlan, Context: p.Name,
			Message: fmt.Sprintf("report plan %s already exists; choose another name, or change it with UpdateReportPlan", p.Name)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: create report plan %s: %w", p.Name, err)
	}
	if n >= backup.MaxReportPlans {
		return &backup.Error{Code: backup.ErrLimitExceeded, Type: kindReportPlan, Context: p.Name,
			Message: fmt.Sprintf("there are %d report plans already, the most an account may have; delete one first", n)}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO report_plans ("+reportPlanCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...); err != nil {
		if isPrimaryKeyViolation(err) || isUniqueViolation(err) {
			return wrapf(err, backup.ErrAlreadyExists, kindReportPlan, p.Name, "report plan %s already exists", p.Name)
		}
		return fmt.Errorf("sqlite: create report plan %s: %w", p.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create report plan %s: commit: %w", p.Name, err)
	}
	return nil
}

// GetReportPlan returns the plan or ErrNotFound.
func (c *Catalog) GetReportPlan(ctx context.Context, name string) (*backup.ReportPlan, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+reportPlanCols+" FROM report_plans WHERE name = ?", name), scanReportPlan, kindReportPlan, name)
}

// ListReportPlans returns plans newest first.
func (c *Catalog) ListReportPlans(ctx context.Context, p backup.Page) ([]*backup.ReportPlan, string, error) {
	q := &listQuery{table: "report_plans", cols: reportPlanCols, keyNs: "creation_ns", keyID: "name"}
	return list(ctx, c.read, q, p, tokenReportPlans, scanReportPlan,
		func(p *backup.ReportPlan) (time.Time, string) { return p.CreationTime, p.Name })
}

// UpdateReportPlan replaces the plan's description, setting and delivery
// channel.
func (c *Catalog) UpdateReportPlan(ctx context.Context, p *backup.ReportPlan) error {
	setting, err := jsonText(p.Setting, false)
	if err != nil {
		return err
	}
	delivery, err := jsonText(p.Delivery, false)
	if err != nil {
		return err
	}
	res, err := c.write.ExecContext(ctx, "UPDATE report_plans SET description = ?, setting = ?, delivery = ? WHERE name = ?",
		p.Description, setting, delivery, p.Name)
	if err != nil {
		return fmt.Errorf("sqlite: update report plan %s: %w", p.Name, err)
	}
	return affectedOne(res, kindReportPlan, p.Name)
}

// SetReportPlanExecution records a job's attempt and success on its plan.
func (c *Catalog) SetReportPlanExecution(ctx context.Context, arn string, attempted, succeeded time.Time) error {
	a, err := nanos(attempted, "attempted")
	if err != nil {
		return err
	}
	s, err := nanos(succeeded, "succeeded")
	if err != nil {
		return err
	}
	_, err = c.write.ExecContext(ctx, `UPDATE report_plans SET
		last_attempted_ns = CASE WHEN ?1 IS NOT NULL AND (last_attempted_ns IS NULL OR ?1 > last_attempted_ns) THEN ?1 ELSE last_attempted_ns END,
		last_success_ns = CASE WHEN ?2 IS NOT NULL AND (last_success_ns IS NULL OR ?2 > last_success_ns) THEN ?2 ELSE last_success_ns END
		WHERE arn = ?3`, a, s, arn)
	if err != nil {
		return fmt.Errorf("sqlite: report plan %s: execution times: %w", arn, err)
	}
	return nil
}

// DeleteReportPlan removes the plan unless one of its jobs is active.
func (c *Catalog) DeleteReportPlan(ctx context.Context, name string) error {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete report plan %s: %w", name, err)
	}
	defer tx.Rollback()
	var arn string
	err = tx.QueryRowContext(ctx, "SELECT arn FROM report_plans WHERE name = ?", name).Scan(&arn)
	if errors.Is(err, sql.ErrNoRows) {
		return backup.NotFound(kindReportPlan, name)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete report plan %s: %w", name, err)
	}
	var active string
	err = tx.QueryRowContext(ctx, "SELECT id FROM report_jobs WHERE plan_arn = ? AND status IN ('CREATED', 'RUNNING') LIMIT 1", arn).Scan(&active)
	if err == nil {
		return &backup.Error{Code: backup.ErrConflict, Type: kindReportPlan, Context: name,
			Message: fmt.Sprintf("report plan %s has a report job under way (%s); delete the plan once it has ended (DescribeReportJob)", name, active)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: delete report plan %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM report_plans WHERE name = ?", name); err != nil {
		return fmt.Errorf("sqlite: delete report plan %s: %w", name, err)
	}
	// The plan's idempotency token goes with it: a new plan of the name may
	// be created with it.
	if _, err := tx.ExecContext(ctx, "DELETE FROM idempotency_tokens WHERE kind = ? AND job_id = ?", kindReportPlan, name); err != nil {
		return fmt.Errorf("sqlite: delete report plan %s: its idempotency token: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete report plan %s: commit: %w", name, err)
	}
	return nil
}

const reportJobCols = `id, plan_arn, plan_name, template, status, status_message, creation_ns, completion_ns,
	bucket, s3_keys, period_start_ns, period_end_ns, scheduled_ns, idempotency_token, request_hash`

func reportJobArgs(j *backup.ReportJob) ([]any, error) {
	if j.ID == "" || j.ReportPlanARN == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "ReportJobId and ReportPlanArn are required")
	}
	created, err := requiredNanos(j.CreationTime, "CreationTime")
	if err != nil {
		return nil, err
	}
	var times [4]any
	for i, t := range []time.Time{j.CompletionTime, j.PeriodStart, j.PeriodEnd, j.ScheduledDay} {
		if times[i], err = nanos(t, "time"); err != nil {
			return nil, err
		}
	}
	keys, err := jsonText(j.S3Keys, len(j.S3Keys) == 0)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.ReportPlanARN, j.ReportPlanName, j.ReportTemplate, string(j.Status), j.StatusMessage, created, times[0],
		j.S3BucketName, keys, times[1], times[2], times[3], j.IdempotencyToken, j.RequestHash}, nil
}

func scanReportJob(s scanner) (*backup.ReportJob, error) {
	var (
		j                                backup.ReportJob
		status                           string
		created                          int64
		completed, start, end, scheduled sql.NullInt64
		keys                             sql.NullString
	)
	if err := s.Scan(&j.ID, &j.ReportPlanARN, &j.ReportPlanName, &j.ReportTemplate, &status, &j.StatusMessage, &created, &completed,
		&j.S3BucketName, &keys, &start, &end, &scheduled, &j.IdempotencyToken, &j.RequestHash); err != nil {
		return nil, err
	}
	j.Status = backup.ReportJobStatus(status)
	j.CreationTime = time.Unix(0, created).UTC()
	j.CompletionTime, j.PeriodStart, j.PeriodEnd, j.ScheduledDay = timeOf(completed), timeOf(start), timeOf(end), timeOf(scheduled)
	if err := fromJSON(keys, &j.S3Keys); err != nil {
		return nil, fmt.Errorf("report job %s: keys: %w", j.ID, err)
	}
	return &j, nil
}

// CreateReportJob stores j; see backup.ReportStore.
func (c *Catalog) CreateReportJob(ctx context.Context, j *backup.ReportJob) error {
	args, err := reportJobArgs(j)
	if err != nil {
		return err
	}
	// The plan must exist in the same transaction as the insert: a job of
	// a plan being deleted is refused, not orphaned.
	query := "INSERT INTO report_jobs (" + reportJobCols + `)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM report_plans WHERE arn = ?)`
	err = c.insertWithToken(ctx, kindReportJob, j.IdempotencyToken, j.ID, query, append(args, j.ReportPlanARN), nil)
	switch {
	case isTokenInUse(err):
		return err
	case isPrimaryKeyViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindReportJob, j.ID, "report job %s already exists", j.ID)
	case isUniqueViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindReportJob, j.ID, "report plan %s has a daily report job for %s already",
			j.ReportPlanName, j.ScheduledDay.Format(time.DateOnly))
	case err != nil:
		return fmt.Errorf("sqlite: create report job %s: %w", j.ID, err)
	}
	// The insert wrote no row if the plan is gone; then the token it may
	// have taken must go too, which insertWithToken's transaction already
	// committed: check and undo.
	var n int
	if err := c.write.QueryRowContext(ctx, "SELECT count(*) FROM report_jobs WHERE id = ?", j.ID).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: create report job %s: %w", j.ID, err)
	}
	if n == 0 {
		if j.IdempotencyToken != "" {
			if _, err := c.write.ExecContext(ctx, "DELETE FROM idempotency_tokens WHERE kind = ? AND token = ? AND job_id = ?",
				kindReportJob, j.IdempotencyToken, j.ID); err != nil {
				return fmt.Errorf("sqlite: create report job %s: release token: %w", j.ID, err)
			}
		}
		return backup.NotFound(kindReportPlan, j.ReportPlanName)
	}
	return nil
}

// GetReportJob returns the job or ErrNotFound.
func (c *Catalog) GetReportJob(ctx context.Context, id string) (*backup.ReportJob, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+reportJobCols+" FROM report_jobs WHERE id = ?", id), scanReportJob, kindReportJob, id)
}

// UpdateReportJob replaces the job but for its plan, day, token and hash.
func (c *Catalog) UpdateReportJob(ctx context.Context, j *backup.ReportJob) error {
	args, err := reportJobArgs(j)
	if err != nil {
		return err
	}
	res, err := c.write.ExecContext(ctx, `UPDATE report_jobs SET
		template = ?4, status = ?5, status_message = ?6, creation_ns = ?7, completion_ns = ?8,
		bucket = ?9, s3_keys = ?10, period_start_ns = ?11, period_end_ns = ?12
		WHERE id = ?1`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: update report job %s: %w", j.ID, err)
	}
	return affectedOne(res, kindReportJob, j.ID)
}

// ListReportJobs returns the jobs that match f, newest first.
func (c *Catalog) ListReportJobs(ctx context.Context, f backup.ReportJobFilter) ([]*backup.ReportJob, string, error) {
	q := &listQuery{table: "report_jobs", cols: reportJobCols}
	if f.ReportPlanARN != "" {
		q.where("plan_arn = ?", f.ReportPlanARN)
	}
	if f.IdempotencyToken != "" {
		q.where("idempotency_token = ? AND idempotency_token <> ''", f.IdempotencyToken)
	}
	q.timeRange("creation_ns", f.CreatedAfter, f.CreatedBefore)
	switch {
	case f.Status != "":
		q.where("status = ?", string(f.Status))
	case f.Active:
		q.anyOf("status", []string{string(backup.ReportJobCreated), string(backup.ReportJobRunning)})
	}
	return list(ctx, c.read, q, f.Page, tokenReportJobs, scanReportJob,
		func(j *backup.ReportJob) (time.Time, string) { return j.CreationTime, j.ID })
}
