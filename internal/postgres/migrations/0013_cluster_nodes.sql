-- The cairn server processes (nodes) that share the catalog (issue 12), as
-- internal/sqlite/migrations/0013_cluster_nodes.sql: each registers at
-- start and heartbeats every few seconds (internal/cluster); whether its
-- process lives is told by the session-level advisory lock it holds, not
-- by this table. Times are bigint nanoseconds since the epoch (heartbeats
-- are PostgreSQL's own clock, read on the node's locked session). Listed
-- by started_ns, then id.

CREATE TABLE cluster_nodes (
	id           text COLLATE "C" NOT NULL PRIMARY KEY,
	address      text NOT NULL DEFAULT '',
	max_jobs     integer NOT NULL DEFAULT 0,
	started_ns   bigint NOT NULL,
	heartbeat_ns bigint NOT NULL
);
