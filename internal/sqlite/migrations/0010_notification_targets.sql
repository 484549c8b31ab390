-- cairn's own notification targets created through the API (issue 10):
-- webhooks and email recipients, global (vault_name '') or for one vault.
-- events is a JSON list of event types (NULL: all); settings the kind's
-- settings as JSON, secrets included (the API never returns them).
-- Times are nanoseconds since the epoch.

CREATE TABLE notification_targets (
	name        TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	vault_name  TEXT NOT NULL DEFAULT '',
	events      TEXT,
	settings    TEXT NOT NULL,
	creation_ns INTEGER NOT NULL
) WITHOUT ROWID;
