-- The cairn server processes (nodes) that share the catalog (issue 12): each
-- registers at start and heartbeats every few seconds. A SQLite catalog
-- has one node; the table mirrors PostgreSQL's, where several nodes share
-- one catalog and a node's advisory lock says whether its process lives.
-- Times are nanoseconds since the epoch. Listed by started_ns, then id.

CREATE TABLE cluster_nodes (
	id           TEXT PRIMARY KEY,
	address      TEXT NOT NULL DEFAULT '',
	max_jobs     INTEGER NOT NULL DEFAULT 0,
	started_ns   INTEGER NOT NULL,
	heartbeat_ns INTEGER NOT NULL
) WITHOUT ROWID;
