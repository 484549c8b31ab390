-- Governance policies (issue 9), as internal/sqlite/migrations/0004_policies.sql:
-- AWS Organizations TAG_POLICY and BACKUP_POLICY documents, stored as
-- given, with cairn's options (backup.PolicyOptions as JSON) beside them. A
-- backup policy's plans and selections carry its name in managed_by (''
-- for those made through the API).
CREATE TABLE policies (
	name        text COLLATE "C" NOT NULL PRIMARY KEY,
	type        text NOT NULL,
	document    text NOT NULL,
	options     text,
	creation_ns bigint NOT NULL,
	update_ns   bigint NOT NULL
);

ALTER TABLE backup_plans      ADD COLUMN managed_by text NOT NULL DEFAULT '';
ALTER TABLE backup_selections ADD COLUMN managed_by text NOT NULL DEFAULT '';
