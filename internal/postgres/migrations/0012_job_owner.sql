-- As internal/sqlite/migrations/0012_job_owner.sql: the node that runs a
-- job (issue 12: several nodes on one catalog). owner is the node ID of the process that claimed the job ('' while it waits in
-- the queue or once nobody runs it); attempt counts how often the job was
-- handed to the queue, so that a job given back after its node died is a
-- new queue entry. Neither is on the AWS wire. The partial indexes find the
-- jobs of a node (takeover of a dead node's jobs) without a scan.

ALTER TABLE backup_jobs ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE backup_jobs ADD COLUMN attempt integer NOT NULL DEFAULT 0;
ALTER TABLE restore_jobs ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE restore_jobs ADD COLUMN attempt integer NOT NULL DEFAULT 0;
ALTER TABLE copy_jobs ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE copy_jobs ADD COLUMN attempt integer NOT NULL DEFAULT 0;

CREATE INDEX backup_jobs_by_owner  ON backup_jobs (owner) WHERE owner <> '';
CREATE INDEX restore_jobs_by_owner ON restore_jobs (owner) WHERE owner <> '';
CREATE INDEX copy_jobs_by_owner    ON copy_jobs (owner) WHERE owner <> '';
