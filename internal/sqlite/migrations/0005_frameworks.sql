-- AWS Backup Audit Manager frameworks (issue 9): one row per framework, by
-- name. controls is the JSON array of the framework's controls (name, input
-- parameters, scope) and n_controls its length, so that the account-wide
-- limit on controls is one sum.
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
