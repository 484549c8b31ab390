-- AWS Backup Audit Manager's report plans and report jobs (issue 9), as
-- internal/sqlite/migrations/0007_reports.sql. A deleted plan's row goes,
-- its jobs stay. Setting, delivery channel, destination and tags are JSON
-- text.

CREATE TABLE report_plans (
	name              text COLLATE "C" PRIMARY KEY,
	arn               text NOT NULL UNIQUE,
	description       text NOT NULL DEFAULT '',
	setting           text NOT NULL,
	delivery          text NOT NULL,
	destination       text NOT NULL,
	tags              text,
	creation_ns       bigint NOT NULL,
	last_attempted_ns bigint,
	last_success_ns   bigint,
	idempotency_token text NOT NULL DEFAULT '',
	request_hash      text NOT NULL DEFAULT ''
);

CREATE INDEX report_plans_by_creation ON report_plans (creation_ns, name);

-- status is CREATED, RUNNING, COMPLETED or FAILED; s3_keys a JSON list.
-- scheduled_ns is the UTC day a daily job was made for: one per plan and day.
CREATE TABLE report_jobs (
	id                text COLLATE "C" PRIMARY KEY,
	plan_arn          text NOT NULL,
	plan_name         text NOT NULL,
	template          text NOT NULL,
	status            text NOT NULL,
	status_message    text NOT NULL DEFAULT '',
	creation_ns       bigint NOT NULL,
	completion_ns     bigint,
	bucket            text NOT NULL DEFAULT '',
	s3_keys           text,
	period_start_ns   bigint,
	period_end_ns     bigint,
	scheduled_ns      bigint,
	idempotency_token text NOT NULL DEFAULT '',
	request_hash      text NOT NULL DEFAULT ''
);

CREATE INDEX report_jobs_by_creation ON report_jobs (creation_ns, id);
CREATE INDEX report_jobs_by_plan ON report_jobs (plan_arn, creation_ns, id);
CREATE INDEX report_jobs_by_status ON report_jobs (status, creation_ns, id);
CREATE INDEX report_jobs_by_token ON report_jobs (idempotency_token) WHERE idempotency_token <> '';
CREATE UNIQUE INDEX report_jobs_one_per_day ON report_jobs (plan_arn, scheduled_ns) WHERE scheduled_ns IS NOT NULL;
