-- Governance policies (issue 9): AWS Organizations TAG_POLICY and
-- BACKUP_POLICY documents, stored as given, with cairn's options
-- (backup.PolicyOptions as JSON) beside them. A backup policy's plans and
-- selections carry its name in managed_by ('' for those made through the
-- API), which the API checks before it changes or deletes them.
CREATE TABLE policies (
	name        TEXT NOT NULL PRIMARY KEY,
	type        TEXT NOT NULL,
	document    TEXT NOT NULL,
	options     TEXT,
	creation_ns INTEGER NOT NULL,
	update_ns   INTEGER NOT NULL
);

ALTER TABLE backup_plans      ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE backup_selections ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';
