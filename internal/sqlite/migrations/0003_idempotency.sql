-- Idempotency tokens (issue 8, item 2): taking a token and creating its job
-- are one step. Each kind of job has its own tokens; the primary key of
-- idempotency_tokens is the unique index that lets one creation of many
-- concurrent ones with a token win, in this process or another on the same
-- file. A job's idempotency_token column stays as it was (listings filter
-- on it); request_hash is the hash of the request's parameters, to tell a
-- retry from a request that reuses a token with other parameters.

ALTER TABLE backup_jobs  ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE restore_jobs ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE copy_jobs    ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';

-- kind is 'BackupJob', 'RestoreJob' or 'CopyJob'.
CREATE TABLE idempotency_tokens (
	kind   TEXT NOT NULL,
	token  TEXT NOT NULL,
	job_id TEXT NOT NULL,
	PRIMARY KEY (kind, token)
) WITHOUT ROWID;

-- Catalogs written before this schema may hold several jobs of one token
-- (the race this table closes): the newest keeps it, as the runner's lookup
-- by token returned it; the others keep their column value for listings.
INSERT OR IGNORE INTO idempotency_tokens (kind, token, job_id)
	SELECT 'BackupJob', idempotency_token, id FROM backup_jobs
	WHERE idempotency_token <> '' ORDER BY creation_ns DESC, id DESC;
INSERT OR IGNORE INTO idempotency_tokens (kind, token, job_id)
	SELECT 'RestoreJob', idempotency_token, id FROM restore_jobs
	WHERE idempotency_token <> '' ORDER BY creation_ns DESC, id DESC;
INSERT OR IGNORE INTO idempotency_tokens (kind, token, job_id)
	SELECT 'CopyJob', idempotency_token, id FROM copy_jobs
	WHERE idempotency_token <> '' ORDER BY creation_ns DESC, id DESC;

CREATE INDEX copy_jobs_by_token ON copy_jobs (idempotency_token) WHERE idempotency_token <> '';
