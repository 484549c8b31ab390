-- Idempotency tokens (issue 8, item 2), as
-- internal/sqlite/migrations/0003_idempotency.sql: taking a token and
-- creating its job are one transaction. Each kind of job has its own tokens;
-- the primary key of idempotency_tokens is the unique index that lets one of
-- many concurrent creations with a token win, on this node or another.
-- request_hash is the hash of the request's parameters, to tell a retry from
-- a request that reuses a token with other parameters.

ALTER TABLE backup_jobs  ADD COLUMN request_hash text NOT NULL DEFAULT '';
ALTER TABLE restore_jobs ADD COLUMN request_hash text NOT NULL DEFAULT '';
ALTER TABLE copy_jobs    ADD COLUMN request_hash text NOT NULL DEFAULT '';

-- kind is 'BackupJob', 'RestoreJob' or 'CopyJob' (and, from 0007,
-- 'ReportPlan' and 'ReportJob').
CREATE TABLE idempotency_tokens (
	kind   text NOT NULL,
	token  text NOT NULL,
	job_id text NOT NULL,
	PRIMARY KEY (kind, token)
);

-- The newest job of a token keeps it, as on SQLite (empty on a new catalog).
INSERT INTO idempotency_tokens (kind, token, job_id)
	SELECT DISTINCT ON (idempotency_token) 'BackupJob', idempotency_token, id FROM backup_jobs
	WHERE idempotency_token <> '' ORDER BY idempotency_token, creation_ns DESC, id DESC;
INSERT INTO idempotency_tokens (kind, token, job_id)
	SELECT DISTINCT ON (idempotency_token) 'RestoreJob', idempotency_token, id FROM restore_jobs
	WHERE idempotency_token <> '' ORDER BY idempotency_token, creation_ns DESC, id DESC;
INSERT INTO idempotency_tokens (kind, token, job_id)
	SELECT DISTINCT ON (idempotency_token) 'CopyJob', idempotency_token, id FROM copy_jobs
	WHERE idempotency_token <> '' ORDER BY idempotency_token, creation_ns DESC, id DESC;

CREATE INDEX copy_jobs_by_token ON copy_jobs (idempotency_token) WHERE idempotency_token <> '';
