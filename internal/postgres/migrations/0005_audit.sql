-- AWS Backup Audit Manager and protected resources (issue 9), as
-- internal/sqlite/migrations/0005_audit.sql. controls is the JSON array of
-- a framework's controls and n_controls its length, so that the
-- account-wide limit on controls is one sum.
CREATE TABLE frameworks (
	name              text COLLATE "C" PRIMARY KEY,
	arn               text NOT NULL UNIQUE,
	account_id        text NOT NULL,
	region            text NOT NULL,
	description       text NOT NULL DEFAULT '',
	controls          text NOT NULL,
	n_controls        integer NOT NULL,
	creation_ns       bigint NOT NULL,
	deployment_status text NOT NULL,
	framework_status  text NOT NULL,
	idempotency_token text NOT NULL DEFAULT '',
	tags              text
);

-- ListProtectedResourcesByBackupVault: a vault's protected resources.
CREATE INDEX recovery_points_protected_by_vault ON recovery_points (vault_name, resource_arn, creation_ns, id)
	WHERE status = 'COMPLETED';
