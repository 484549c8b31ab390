-- The outbox of domain events (issue 10) and the record of their
-- deliveries. An event is written in the transaction of the change that
-- causes it; seq orders events as they were recorded. planned is 1 once
-- the sender has recorded a delivery row for each of the event's targets.
-- body is the event as JSON. Times are nanoseconds since the epoch.

CREATE TABLE events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	type       TEXT NOT NULL,
	vault_name TEXT NOT NULL DEFAULT '',
	time_ns    INTEGER NOT NULL,
	body       TEXT NOT NULL,
	planned    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX events_unplanned ON events (seq) WHERE planned = 0;
CREATE INDEX events_by_vault ON events (vault_name, seq);

-- One row per (event, target). status is PENDING, DELIVERED or
-- UNDELIVERABLE; a PENDING row is due at next_ns.
CREATE TABLE deliveries (
	event_id     TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	target_kind  TEXT NOT NULL,
	target_name  TEXT NOT NULL,
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	created_ns   INTEGER NOT NULL,
	last_ns      INTEGER,
	next_ns      INTEGER,
	delivered_ns INTEGER,
	PRIMARY KEY (event_id, target_kind, target_name)
) WITHOUT ROWID;

CREATE INDEX deliveries_due ON deliveries (next_ns, event_id) WHERE status = 'PENDING';
CREATE INDEX deliveries_by_creation ON deliveries (created_ns, event_id, target_kind, target_name);
CREATE INDEX deliveries_by_status ON deliveries (status, created_ns);

-- A vault's AWS Backup notification configuration
-- (PutBackupVaultNotifications); events is a JSON list of event names.
CREATE TABLE vault_notifications (
	vault_name    TEXT PRIMARY KEY REFERENCES vaults (name) ON DELETE CASCADE,
	sns_topic_arn TEXT NOT NULL,
	events        TEXT NOT NULL
) WITHOUT ROWID;
