-- The first catalog schema. Every column that a listing filters or sorts on
-- is a real column; maps and small structs are JSON text (NULL when empty or
-- nil). Times are integer nanoseconds since the Unix epoch in UTC, NULL for
-- the zero time. Listings are newest first with keyset pagination on
-- (creation_ns DESC, id DESC), so every listing index ends in
-- (creation_ns, id) and a page is one index range scan.

CREATE TABLE vaults (
	name               TEXT NOT NULL PRIMARY KEY,
	arn                TEXT NOT NULL,
	account_id         TEXT NOT NULL,
	region             TEXT NOT NULL,
	creation_ns        INTEGER,
	creator_request_id TEXT NOT NULL,
	encryption_key_arn TEXT NOT NULL,
	tags               TEXT,
	storage            TEXT NOT NULL
);

CREATE TABLE backup_jobs (
	id                     TEXT NOT NULL PRIMARY KEY,
	account_id             TEXT NOT NULL,
	region                 TEXT NOT NULL,
	vault_name             TEXT NOT NULL,
	vault_arn              TEXT NOT NULL,
	recovery_point_arn     TEXT NOT NULL,
	resource_arn           TEXT NOT NULL,
	resource_type          TEXT NOT NULL,
	resource_name          TEXT NOT NULL,
	iam_role_arn           TEXT NOT NULL,
	idempotency_token      TEXT NOT NULL,
	state                  TEXT NOT NULL,
	status_message         TEXT NOT NULL,
	percent_done           REAL NOT NULL,
	bytes_transferred      INTEGER NOT NULL,
	backup_size_bytes      INTEGER NOT NULL,
	item_count             INTEGER NOT NULL,
	creation_ns            INTEGER NOT NULL,
	start_by_ns            INTEGER,
	completion_ns          INTEGER,
	expected_completion_ns INTEGER,
	lifecycle              TEXT,
	recovery_point_tags    TEXT,
	options                TEXT,
	created_by             TEXT
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
-- stepped back); normally empty. See completeRange in encode.go.
CREATE INDEX backup_jobs_completed_early ON backup_jobs (creation_ns, id) WHERE completion_ns < creation_ns;

CREATE TABLE recovery_points (
	id                TEXT NOT NULL PRIMARY KEY,
	arn               TEXT NOT NULL,
	account_id        TEXT NOT NULL,
	region            TEXT NOT NULL,
	vault_name        TEXT NOT NULL REFERENCES vaults (name),
	vault_arn         TEXT NOT NULL,
	resource_arn      TEXT NOT NULL,
	resource_type     TEXT NOT NULL,
	resource_name     TEXT NOT NULL,
	iam_role_arn      TEXT NOT NULL,
	backup_job_id     TEXT NOT NULL,
	status            TEXT NOT NULL,
	status_message    TEXT NOT NULL,
	storage_class     TEXT NOT NULL,
	creation_ns       INTEGER NOT NULL,
	completion_ns     INTEGER,
	backup_size_bytes INTEGER NOT NULL,
	item_count        INTEGER NOT NULL,
	content_checksum  TEXT NOT NULL,
	lifecycle         TEXT,
	tags              TEXT,
	created_by        TEXT,
	-- backup_plan_id is created_by's BackupPlanId, copied out to filter on.
	backup_plan_id    TEXT NOT NULL,
	is_encrypted      INTEGER NOT NULL,
	restore_metadata  TEXT
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
	id                        TEXT NOT NULL PRIMARY KEY,
	account_id                TEXT NOT NULL,
	region                    TEXT NOT NULL,
	recovery_point_arn        TEXT NOT NULL,
	vault_arn                 TEXT NOT NULL,
	resource_type             TEXT NOT NULL,
	iam_role_arn              TEXT NOT NULL,
	metadata                  TEXT,
	copy_source_tags          INTEGER NOT NULL,
	idempotency_token         TEXT NOT NULL,
	status                    TEXT NOT NULL,
	status_message            TEXT NOT NULL,
	percent_done              REAL NOT NULL,
	backup_size_bytes         INTEGER NOT NULL,
	items_restored            INTEGER NOT NULL,
	creation_ns               INTEGER NOT NULL,
	completion_ns             INTEGER,
	expected_completion_ns    INTEGER,
	created_resource_arn      TEXT NOT NULL,
	validation_status         TEXT NOT NULL,
	validation_status_message TEXT NOT NULL
);

CREATE INDEX restore_jobs_by_creation ON restore_jobs (creation_ns, id);
CREATE INDEX restore_jobs_by_status   ON restore_jobs (status, creation_ns, id);
CREATE INDEX restore_jobs_by_token    ON restore_jobs (idempotency_token) WHERE idempotency_token <> '';
CREATE INDEX restore_jobs_completed_early ON restore_jobs (creation_ns, id) WHERE completion_ns < creation_ns;
