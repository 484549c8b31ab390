-- AWS Backup Audit Manager's report plans and report jobs (issue 9).
-- A plan is found by its name, unique among the plans that exist; a deleted
-- plan's row goes, its jobs stay (they name the plan's ARN, which a new plan
-- of the same name does not share). Setting, delivery channel, destination
-- and tags are JSON text. Times are nanoseconds since the epoch.

CREATE TABLE report_plans (
	name              TEXT PRIMARY KEY,
	arn               TEXT NOT NULL UNIQUE,
	description       TEXT NOT NULL DEFAULT '',
	setting           TEXT NOT NULL,
	delivery          TEXT NOT NULL,
	destination       TEXT NOT NULL,
	tags              TEXT,
	creation_ns       INTEGER NOT NULL,
	last_attempted_ns INTEGER,
	last_success_ns   INTEGER,
	idempotency_token TEXT NOT NULL DEFAULT '',
	request_hash      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX report_plans_by_creation ON report_plans (creation_ns, name);

-- status is CREATED, RUNNING, COMPLETED or FAILED; s3_keys a JSON list.
-- scheduled_ns is the UTC day a daily job was made for: one per plan and day.
CREATE TABLE report_jobs (
	id                TEXT PRIMARY KEY,
	plan_arn          TEXT NOT NULL,
	plan_name         TEXT NOT NULL,
	template          TEXT NOT NULL,
	status            TEXT NOT NULL,
	status_message    TEXT NOT NULL DEFAULT '',
	creation_ns       INTEGER NOT NULL,
	completion_ns     INTEGER,
	bucket            TEXT NOT NULL DEFAULT '',
	s3_keys           TEXT,
	period_start_ns   INTEGER,
	period_end_ns     INTEGER,
	scheduled_ns      INTEGER,
	idempotency_token TEXT NOT NULL DEFAULT '',
	request_hash      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX report_jobs_by_creation ON report_jobs (creation_ns, id);
CREATE INDEX report_jobs_by_plan ON report_jobs (plan_arn, creation_ns, id);
CREATE INDEX report_jobs_by_status ON report_jobs (status, creation_ns, id);
CREATE INDEX report_jobs_by_token ON report_jobs (idempotency_token) WHERE idempotency_token <> '';
CREATE UNIQUE INDEX report_jobs_one_per_day ON report_jobs (plan_arn, scheduled_ns) WHERE scheduled_ns IS NOT NULL;
