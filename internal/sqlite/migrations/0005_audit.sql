-- AWS Backup Audit Manager and protected resources (issue 9). Frameworks:
-- one row per framework, by name. controls is the JSON array of the framework's
-- controls (name, input parameters, scope) and n_controls its length, so
-- that the account-wide limit on controls is one sum.
CREATE TABLE frameworks (
	name              TEXT PRIMARY KEY,
	arn               TEXT NOT NULL UNIQUE,
	account_id        TEXT NOT NULL,
	region            TEXT NOT NULL,
	description       TEXT NOT NULL DEFAULT '',
	controls          TEXT NOT NULL,
	n_controls        INTEGER NOT NULL,
	creation_ns       INTEGER NOT NULL,
	deployment_status TEXT NOT NULL,
	framework_status  TEXT NOT NULL,
	idempotency_token TEXT NOT NULL DEFAULT '',
	tags              TEXT
) WITHOUT ROWID;

-- ListProtectedResourcesByBackupVault: a vault's protected resources with
-- a loose index scan, as recovery_points_protected does for all vaults.
CREATE INDEX recovery_points_protected_by_vault ON recovery_points (vault_name, resource_arn, creation_ns, id)
	WHERE status = 'COMPLETED';
