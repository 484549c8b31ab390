-- Governance (issue 9): what the worker did to give tables their required
-- tag, one row per attempt, and the disallowed tag values it saw, from the
-- pass that saw one until it was resolved. Times are nanoseconds since the
-- epoch.

CREATE TABLE tag_attempts (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	source        TEXT NOT NULL,
	resource_arn  TEXT NOT NULL,
	resource_name TEXT NOT NULL,
	rule          TEXT NOT NULL,
	tag_key       TEXT NOT NULL,
	tag_value     TEXT NOT NULL,
	reason        TEXT NOT NULL,
	attempt       INTEGER NOT NULL,
	time_ns       INTEGER NOT NULL,
	outcome       TEXT NOT NULL,
	error         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tag_attempts_resource ON tag_attempts (resource_arn, id);

CREATE TABLE tag_violations (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	source        TEXT NOT NULL,
	resource_arn  TEXT NOT NULL,
	resource_name TEXT NOT NULL,
	rule          TEXT NOT NULL,
	tag_key       TEXT NOT NULL,
	tag_value     TEXT NOT NULL,
	mode          TEXT NOT NULL,
	seen_ns       INTEGER NOT NULL,
	resolved_ns   INTEGER,
	resolution    TEXT NOT NULL DEFAULT ''
);
-- At most one open violation per resource, key and value.
CREATE UNIQUE INDEX tag_violations_open ON tag_violations (resource_arn, tag_key, tag_value)
	WHERE resolved_ns IS NULL;
