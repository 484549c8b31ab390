-- cairn's own notification targets created through the API (issue 10), as
-- internal/sqlite/migrations/0010_notification_targets.sql: webhooks and
-- email recipients, global (vault_name '') or for one vault. events is a
-- JSON list of event types (NULL: all); settings the kind's settings as
-- JSON, secrets included (the API never returns them). Times are bigint
-- nanoseconds since the epoch. Listed by name, in byte order.

CREATE TABLE notification_targets (
	name        text COLLATE "C" NOT NULL PRIMARY KEY,
	kind        text NOT NULL,
	vault_name  text NOT NULL DEFAULT '',
	events      text,
	settings    text NOT NULL,
	creation_ns bigint NOT NULL
);
