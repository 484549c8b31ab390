-- The first catalog schema, as internal/sqlite/migrations/0001_init.sql.
-- Every column that a listing filters or sorts on is a real column; maps and
-- small structs are JSON text (NULL when empty or nil). Times are bigint
-- nanoseconds since the Unix epoch in UTC, NULL for the zero time, so that
-- they round-trip to the nanosecond. Listings are newest first with keyset
-- pagination on (creation_ns DESC, id DESC), so every listing index ends in
-- (creation_ns, id) and a page is one index range scan. Names and IDs that
-- listings order by are COLLATE "C": byte order, whatever the database's
-- locale, as on SQLite.

CREATE TABLE vaults (
	name               text COLLATE "C" NOT NULL PRIMARY KEY,
	arn                text NOT NULL,
	account_id         text NOT NULL,
	region             text NOT NULL,
	creation_ns        bigint,
	creator_request_id text NOT NULL,
	encryption_key_arn text NOT NULL,
	tags               text,
	storage            text NOT NULL
);

CREATE TABLE backup_jobs (
	id                     text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id             text NOT NULL,
	region                 text NOT NULL,
	vault_name             text NOT NULL,
	vault_arn              text NOT NULL,
	recovery_point_arn     text NOT NULL,
	resource_arn           text COLLATE "C" NOT NULL,
	resource_type          text NOT NULL,
	resource_name          text NOT NULL,
	iam_role_arn           text NOT NULL,
	idempotency_token      text NOT NULL,
	state                  text NOT NULL,
	status_message         text NOT NULL,
	percent_done           double precision NOT NULL,
	bytes_transferred      bigint NOT NULL,
	backup_size_bytes      bigint NOT NULL,
	item_count             bigint NOT NULL,
	creation_ns            bigint NOT NULL,
	start_by_ns            bigint,
	completion_ns          bigint,
	expected_completion_ns bigint,
	lifecycle              text,
	recovery_point_tags    text,
	options                text,
	created_by             text
);

-- One backup job per resource at a time. The state list is the complement
-- of backup.JobState.Terminal; a violation is reported as backup.ErrConflict.
CREATE UNIQUE INDEX backup_jobs_one_active ON backup_jobs (resource_arn)
	WHERE state IN ('CREATED', 'PENDING', 'RUNNING', 'ABORTING');

CREATE INDEX backup_jobs_by_creation ON backup_jobs (creation_ns, id);
CREATE INDEX backup_jobs_by_state    ON backup_jobs (state, creation_ns, id);
CREATE INDEX backup_jobs_by_resource ON backup_jobs (resource_arn, creation_ns, id);
CREATE INDEX backup_jobs_by_vault    ON backup_jobs (vault_name, creation_ns, id);
CREATE INDEX backup_jobs_by_account  ON backup_jobs (account_id, creation_ns, id);
CREATE INDEX backup_jobs_by_type     ON backup_jobs (resource_type, creation_ns, id);
CREATE INDEX backup_jobs_by_token    ON backup_jobs (idempotency_token) WHERE idempotency_token <> '';
-- Jobs whose completion time is before their creation time (a clock
-- stepped back); normally empty. See completeRange in list.go.
CREATE INDEX backup_jobs_completed_early ON backup_jobs (creation_ns, id) WHERE completion_ns < creation_ns;
-- PostgreSQL only: the jobs completed after a time (CompleteAfter). SQLite
-- walks the creation index newest first and meets them at once; PostgreSQL's
-- planner, which does not know that completion follows creation, would scan
-- the table. Indexes are the one thing the two schemas may differ in.
CREATE INDEX backup_jobs_by_completion ON backup_jobs (completion_ns) WHERE completion_ns IS NOT NULL;

CREATE TABLE recovery_points (
	id                text COLLATE "C" NOT NULL PRIMARY KEY,
	arn               text NOT NULL,
	account_id        text NOT NULL,
	region            text NOT NULL,
	vault_name        text COLLATE "C" NOT NULL REFERENCES vaults (name),
	vault_arn         text NOT NULL,
	resource_arn      text COLLATE "C" NOT NULL,
	resource_type     text NOT NULL,
	resource_name     text NOT NULL,
	iam_role_arn      text NOT NULL,
	backup_job_id     text NOT NULL,
	status            text NOT NULL,
	status_message    text NOT NULL,
	storage_class     text NOT NULL,
	creation_ns       bigint NOT NULL,
	completion_ns     bigint,
	backup_size_bytes bigint NOT NULL,
	item_count        bigint NOT NULL,
	content_checksum  text NOT NULL,
	lifecycle         text,
	tags              text,
	created_by        text,
	-- backup_plan_id is created_by's BackupPlanId, copied out to filter on.
	backup_plan_id    text NOT NULL,
	is_encrypted      boolean NOT NULL,
	restore_metadata  text
);

CREATE INDEX recovery_points_by_creation ON recovery_points (creation_ns, id);
-- status makes the index cover the count of a vault's points
-- (NumberOfRecoveryPoints), so that reading a vault never reads its points.
CREATE INDEX recovery_points_by_vault    ON recovery_points (vault_name, creation_ns, id, status);
CREATE INDEX recovery_points_by_resource ON recovery_points (resource_arn, creation_ns, id);
CREATE INDEX recovery_points_by_status   ON recovery_points (status, creation_ns, id);
CREATE INDEX recovery_points_by_plan     ON recovery_points (backup_plan_id, creation_ns, id) WHERE backup_plan_id <> '';
-- ListProtectedResources: the latest COMPLETED point of each resource.
CREATE INDEX recovery_points_protected   ON recovery_points (resource_arn, creation_ns, id) WHERE status = 'COMPLETED';

CREATE TABLE restore_jobs (
	id                        text COLLATE "C" NOT NULL PRIMARY KEY,
	account_id                text NOT NULL,
	region                    text NOT NULL,
	recovery_point_arn        text NOT NULL,
	vault_arn                 text NOT NULL,
	resource_type             text NOT NULL,
	iam_role_arn              text NOT NULL,
	metadata                  text,
	copy_source_tags          boolean NOT NULL,
	idempotency_token         text NOT NULL,
	status                    text NOT NULL,
	status_message            text NOT NULL,
	percent_done              double precision NOT NULL,
	backup_size_bytes         bigint NOT NULL,
	items_restored            bigint NOT NULL,
	creation_ns               bigint NOT NULL,
	completion_ns             bigint,
	expected_completion_ns    bigint,
	created_resource_arn      text NOT NULL,
	validation_status         text NOT NULL,
	validation_status_message text NOT NULL
);

CREATE INDEX restore_jobs_by_creation ON restore_jobs (creation_ns, id);
CREATE INDEX restore_jobs_by_status   ON restore_jobs (status, creation_ns, id);
CREATE INDEX restore_jobs_by_token    ON restore_jobs (idempotency_token) WHERE idempotency_token <> '';
CREATE INDEX restore_jobs_completed_early ON restore_jobs (creation_ns, id) WHERE completion_ns < creation_ns;
-- PostgreSQL only, as backup_jobs_by_completion.
CREATE INDEX restore_jobs_by_completion ON restore_jobs (completion_ns) WHERE completion_ns IS NOT NULL;
