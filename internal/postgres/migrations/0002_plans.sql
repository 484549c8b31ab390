-- Scheduled protection (issue 3), as internal/sqlite/migrations/0002_plans.sql:
-- backup plans and their versions, selections, the scheduler's rule
-- cursors, copy jobs and stacks; scheduled backup jobs and recovery-point
-- lifecycles. Conventions as in 0001.

-- One RUNNING or ABORTING backup job per resource; CREATED and PENDING jobs
-- wait their turn beside it. A violation is reported as backup.ErrConflict.
DROP INDEX backup_jobs_one_active;
CREATE UNIQUE INDEX backup_jobs_one_running ON backup_jobs (resource_arn)
	WHERE state IN ('RUNNING', 'ABORTING');

-- scheduled_ns is BackupJob.ScheduledTime, complete_by_ns CompleteBy, and
-- rule_id created_by's BackupRuleId, copied out for the index below.
ALTER TABLE backup_jobs ADD COLUMN scheduled_ns   bigint;
ALTER TABLE backup_jobs ADD COLUMN complete_by_ns bigint;
ALTER TABLE backup_jobs ADD COLUMN rule_id        text NOT NULL DEFAULT '';

UPDATE backup_jobs SET rule_id = coalesce(created_by::jsonb ->> 'BackupRuleId', '')
	WHERE created_by IS NOT NULL;

-- A rule occurrence creates one job per resource, however many schedulers
-- (or nodes) run it. A violation is reported as backup.ErrAlreadyExists.
CREATE UNIQUE INDEX backup_jobs_one_per_occurrence ON backup_jobs (rule_id, resource_arn, scheduled_ns)
	WHERE scheduled_ns IS NOT NULL;

-- cold_ns and delete_ns are the dates Lifecycle implies for the point
-- (backup.Lifecycle.Calculate of its creation), NULL for never; the
-- lifecycle worker lists the points due.
ALTER TABLE recovery_points ADD COLUMN source_vault_arn text NOT NULL DEFAULT '';
ALTER TABLE recovery_points ADD COLUMN cold_ns   bigint;
ALTER TABLE recovery_points ADD COLUMN delete_ns bigint;

UPDATE recovery_points SET
	cold_ns = CASE WHEN (lifecycle::jsonb ->> 'MoveToColdStorageAfterDays')::bigint > 0
		AND (lifecycle::jsonb ->> 'MoveToColdStorageAfterDays')::bigint <= (9223372036854775807 - creation_ns) / 86400000000000
		THEN creation_ns + (lifecycle::jsonb ->> 'MoveToColdStorageAfterDays')::bigint * 86400000000000 END,
	delete_ns = CASE WHEN (lifecycle::jsonb ->> 'DeleteAfterDays')::bigint > 0
		AND (lifecycle::jsonb ->> 'DeleteAfterDays')::bigint <= (9223372036854775807 - creation_ns) / 86400000000000
		THEN creation_ns + (lifecycle::jsonb ->> 'DeleteAfterDays')::bigint * 86400000000000 END
	WHERE lifecycle IS NOT NULL;

CREATE INDEX recovery_points_by_class   ON recovery_points (storage_class, creation_ns, id);
-- The points due for cold storage are read as storage_class = 'WARM' AND
-- cold_ns <= t: a range of this index, then sorted into page order.
CREATE INDEX recovery_points_cold_due   ON recovery_points (storage_class, cold_ns, creation_ns, id)
	WHERE cold_ns IS NOT NULL;
CREATE INDEX recovery_points_delete_due ON recovery_points (delete_ns, creation_ns, id)
	WHERE delete_ns IS NOT NULL;

-- A plan: what all its versions share. name is the latest version's
-- BackupPlanName; creation_ns is when the plan (its first version) was
-- created and orders ListBackupPlans; latest_version names the version
-- GetBackupPlan returns without a version ID.
CREATE TABLE backup_plans (
	id                 text COLLATE "C" NOT NULL PRIMARY KEY,
	arn                text NOT NULL,
	account_id         text NOT NULL,
	region             text NOT NULL,
	name               text NOT NULL,
	creator_request_id text NOT NULL,
	creation_ns        bigint NOT NULL,
	deletion_ns        bigint,
	last_execution_ns  bigint,
	latest_version     text COLLATE "C" NOT NULL,
	tags               text
);

-- Names are unique among the plans that are not deleted.
CREATE UNIQUE INDEX backup_plans_live_name ON backup_plans (name) WHERE deletion_ns IS NULL;
CREATE INDEX backup_plans_by_creation ON backup_plans (creation_ns, id);
CREATE INDEX backup_plans_live        ON backup_plans (creation_ns, id) WHERE deletion_ns IS NULL;

-- One version of a plan: its document (backup.PlanDocument as JSON) and
-- when it was made. The column names differ from backup_plans' so that the
-- two join without qualifying.
CREATE TABLE backup_plan_versions (
	plan_id    text COLLATE "C" NOT NULL REFERENCES backup_plans (id),
	version_id text COLLATE "C" NOT NULL,
	version_ns bigint NOT NULL,
	document   text NOT NULL,
	PRIMARY KEY (plan_id, version_id)
);

CREATE INDEX backup_plan_versions_by_creation ON backup_plan_versions (plan_id, version_ns, version_id);

-- A selection of a plan; document is its backup.SelectionDocument as JSON,
-- name its SelectionName copied out to be unique per plan.
CREATE TABLE backup_selections (
	id                 text COLLATE "C" NOT NULL PRIMARY KEY,
	plan_id            text COLLATE "C" NOT NULL REFERENCES backup_plans (id),
	name               text NOT NULL,
	creator_request_id text NOT NULL,
	creation_ns        bigint NOT NULL,
	document           text NOT NULL
);

CREATE UNIQUE INDEX backup_selections_name ON backup_selections (plan_id, name);
CREATE INDEX backup_selections_by_plan ON backup_selections (plan_id, creation_ns, id);

-- The last occurrence of each rule the scheduler has handled.
CREATE TABLE rule_cursors (
	plan_id text NOT NULL,
	rule_id text NOT NULL,
	at_ns   bigint NOT NULL,
	PRIMARY KEY (plan_id, rule_id)
);

CREATE TABLE copy_jobs (
	id                             text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id                     text NOT NULL,
	region                         text NOT NULL,
	source_vault_arn               text NOT NULL,
	source_recovery_point_arn      text NOT NULL,
	destination_vault_arn          text NOT NULL,
	destination_recovery_point_arn text NOT NULL,
	resource_arn                   text NOT NULL,
	resource_type                  text NOT NULL,
	resource_name                  text NOT NULL,
	iam_role_arn                   text NOT NULL,
	idempotency_token              text NOT NULL,
	state                          text NOT NULL,
	status_message                 text NOT NULL,
	backup_size_bytes              bigint NOT NULL,
	creation_ns                    bigint NOT NULL,
	completion_ns                  bigint,
	lifecycle                      text,
	created_by                     text
);

CREATE INDEX copy_jobs_by_creation    ON copy_jobs (creation_ns, id);
CREATE INDEX copy_jobs_by_state       ON copy_jobs (state, creation_ns, id);
CREATE INDEX copy_jobs_by_resource    ON copy_jobs (resource_arn, creation_ns, id);
CREATE INDEX copy_jobs_by_type        ON copy_jobs (resource_type, creation_ns, id);
CREATE INDEX copy_jobs_by_destination ON copy_jobs (destination_vault_arn, creation_ns, id);
CREATE INDEX copy_jobs_by_account     ON copy_jobs (account_id, creation_ns, id);
CREATE INDEX copy_jobs_completed_early ON copy_jobs (creation_ns, id) WHERE completion_ns < creation_ns;
-- PostgreSQL only, as backup_jobs_by_completion (0001).
CREATE INDEX copy_jobs_by_completion ON copy_jobs (completion_ns) WHERE completion_ns IS NOT NULL;

-- What one applied template created: Parameters (a map) and Resources (a
-- list of backup.StackResource) as JSON.
CREATE TABLE stacks (
	name        text COLLATE "C" NOT NULL PRIMARY KEY,
	parameters  text,
	resources   text,
	creation_ns bigint,
	update_ns   bigint
);
