package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
)

const (
	kindReportPlan = "ReportPlan"
	kindReportJob  = "ReportJob"
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
		tags                    *string
		created                 int64
		attempted, succeeded    *int64
	)
	if err := s.Scan(&p.Name, &p.ARN, &p.Description, &setting, &delivery, &dest, &tags, &created,
		&attempted, &succeeded, &p.IdempotencyToken, &p.RequestHash); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		text string
		v    any
	}{{setting, &p.Setting}, {delivery, &p.Delivery}, {dest, &p.Destination}} {
		if err := fromJSON(&f.text, f.v); err != nil {
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

// CreateReportPlan stores p; see backup.ReportStore. Report plans are
// created one at a time (a lock on the table that lets readers be), so
// that the limit on their number holds across nodes.
func (c *Catalog) CreateReportPlan(ctx context.Context, p *backup.ReportPlan) error {
	args, err := reportPlanArgs(p)
	if err != nil {
		return err
	}
	return c.inTx(ctx, "create report plan "+p.Name, func(tx pgx.Tx) error {
		if p.IdempotencyToken != "" {
			if err := takeToken(ctx, tx, kindReportPlan, p.IdempotencyToken, p.Name); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE report_plans IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("postgres: create report plan %s: %w", p.Name, err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM report_plans").Scan(&n); err != nil {
			return fmt.Errorf("postgres: create report plan %s: %w", p.Name, err)
		}
		var exists int
		err := tx.QueryRow(ctx, "SELECT 1 FROM report_plans WHERE name = $1", p.Name).Scan(&exists)
		if err == nil {
			return &backup.Error{Code: backup.ErrAlreadyExists, Type: kindReportPlan, Context: p.Name,
				Message: fmt.Sprintf("report plan %s already exists; choose another name, or change it with UpdateReportPlan", p.Name)}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: create report plan %s: %w", p.Name, err)
		}
		if n >= backup.MaxReportPlans {
			return &backup.Error{Code: backup.ErrLimitExceeded, Type: kindReportPlan, Context: p.Name,
				Message: fmt.Sprintf("there are %d report plans already, the most an account may have; delete one first", n)}
		}
		if _, err := tx.Exec(ctx, insertQuery("report_plans", reportPlanCols), args...); err != nil {
			if isUniqueViolation(err) {
				return wrapf(err, backup.ErrAlreadyExists, kindReportPlan, p.Name, "report plan %s already exists", p.Name)
			}
			return fmt.Errorf("postgres: create report plan %s: %w", p.Name, err)
		}
		return nil
	})
}

// GetReportPlan returns the plan or ErrNotFound.
func (c *Catalog) GetReportPlan(ctx context.Context, name string) (*backup.ReportPlan, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+reportPlanCols+" FROM report_plans WHERE name = $1", name), scanReportPlan, kindReportPlan, name)
}

// ListReportPlans returns plans newest first.
func (c *Catalog) ListReportPlans(ctx context.Context, p backup.Page) ([]*backup.ReportPlan, string, error) {
	q := &listQuery{table: "report_plans", cols: reportPlanCols, keyNs: "creation_ns", keyID: "name"}
	return list(ctx, c.pool, q, p, tokenReportPlans, scanReportPlan,
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
	tag, err := c.pool.Exec(ctx, "UPDATE report_plans SET description = $1, setting = $2, delivery = $3 WHERE name = $4",
		p.Description, setting, delivery, p.Name)
	if err != nil {
		return fmt.Errorf("postgres: update report plan %s: %w", p.Name, err)
	}
	return affectedOne(tag, kindReportPlan, p.Name)
}

// SetReportPlanExecution records a job's attempt and success on its plan;
// each time only moves forward.
func (c *Catalog) SetReportPlanExecution(ctx context.Context, arn string, attempted, succeeded time.Time) error {
	a, err := nanos(attempted, "attempted")
	if err != nil {
		return err
	}
	s, err := nanos(succeeded, "succeeded")
	if err != nil {
		return err
	}
	// greatest ignores NULLs: a NULL argument leaves the column as it is.
	_, err = c.pool.Exec(ctx, `UPDATE report_plans SET
		last_attempted_ns = greatest(last_attempted_ns, $1::bigint),
		last_success_ns = greatest(last_success_ns, $2::bigint)
		WHERE arn = $3`, a, s, arn)
	if err != nil {
		return fmt.Errorf("postgres: report plan %s: execution times: %w", arn, err)
	}
	return nil
}

// DeleteReportPlan removes the plan unless one of its jobs is active. The
// plan's row is locked first, so that a job being created for it
// meanwhile (CreateReportJob locks it too) is seen or refused.
func (c *Catalog) DeleteReportPlan(ctx context.Context, name string) error {
	return c.inTx(ctx, "delete report plan "+name, func(tx pgx.Tx) error {
		var arn string
		err := tx.QueryRow(ctx, "SELECT arn FROM report_plans WHERE name = $1 FOR UPDATE", name).Scan(&arn)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.NotFound(kindReportPlan, name)
		}
		if err != nil {
			return fmt.Errorf("postgres: delete report plan %s: %w", name, err)
		}
		var active string
		err = tx.QueryRow(ctx, "SELECT id FROM report_jobs WHERE plan_arn = $1 AND status IN ('CREATED', 'RUNNING') LIMIT 1", arn).Scan(&active)
		if err == nil {
			return &backup.Error{Code: backup.ErrConflict, Type: kindReportPlan, Context: name,
				Message: fmt.Sprintf("report plan %s has a report job under way (%s); delete the plan once it has ended (DescribeReportJob)", name, active)}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: delete report plan %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM report_plans WHERE name = $1", name); err != nil {
			return fmt.Errorf("postgres: delete report plan %s: %w", name, err)
		}
		// The plan's idempotency token goes with it: a new plan of the name
		// may be created with it.
		if _, err := tx.Exec(ctx, "DELETE FROM idempotency_tokens WHERE kind = $1 AND job_id = $2", kindReportPlan, name); err != nil {
			return fmt.Errorf("postgres: delete report plan %s: its idempotency token: %w", name, err)
		}
		return nil
	})
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
	var times [4]*int64
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
		completed, start, end, scheduled *int64
		keys                             *string
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

// CreateReportJob stores j; see backup.ReportStore. The token, the check
// that the plan exists (its row locked FOR SHARE until the end, so that it
// is not deleted meanwhile) and the insert are one transaction: a job of a
// plan being deleted is refused, not orphaned, and takes no token.
func (c *Catalog) CreateReportJob(ctx context.Context, j *backup.ReportJob) error {
	args, err := reportJobArgs(j)
	if err != nil {
		return err
	}
	return c.inTx(ctx, "create report job "+j.ID, func(tx pgx.Tx) error {
		if j.IdempotencyToken != "" {
			if err := takeToken(ctx, tx, kindReportJob, j.IdempotencyToken, j.ID); err != nil {
				return err
			}
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM report_plans WHERE arn = $1 FOR SHARE", j.ReportPlanARN).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.NotFound(kindReportPlan, j.ReportPlanName)
		}
		if err != nil {
			return fmt.Errorf("postgres: create report job %s: %w", j.ID, err)
		}
		_, err = tx.Exec(ctx, insertQuery("report_jobs", reportJobCols), args...)
		switch {
		case isPrimaryKeyViolation(err, "report_jobs"):
			return wrapf(err, backup.ErrAlreadyExists, kindReportJob, j.ID, "report job %s already exists", j.ID)
		case isUniqueViolation(err):
			return wrapf(err, backup.ErrAlreadyExists, kindReportJob, j.ID, "report plan %s has a daily report job for %s already",
				j.ReportPlanName, j.ScheduledDay.Format(time.DateOnly))
		case err != nil:
			return fmt.Errorf("postgres: create report job %s: %w", j.ID, err)
		}
		return nil
	})
}

// GetReportJob returns the job or ErrNotFound.
func (c *Catalog) GetReportJob(ctx context.Context, id string) (*backup.ReportJob, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+reportJobCols+" FROM report_jobs WHERE id = $1", id), scanReportJob, kindReportJob, id)
}

// UpdateReportJob replaces the job but for its plan, day, token and hash.
func (c *Catalog) UpdateReportJob(ctx context.Context, j *backup.ReportJob) error {
	args, err := reportJobArgs(j)
	if err != nil {
		return err
	}
	query, args := updateQuery("report_jobs", reportJobCols, args,
		"plan_arn", "plan_name", "scheduled_ns", "idempotency_token", "request_hash")
	tag, err := c.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: update report job %s: %w", j.ID, err)
	}
	return affectedOne(tag, kindReportJob, j.ID)
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
	return list(ctx, c.pool, q, f.Page, tokenReportJobs, scanReportJob,
		func(j *backup.ReportJob) (time.Time, string) { return j.CreationTime, j.ID })
}
