-- Checkpoints of running jobs (issue 12), as
-- internal/sqlite/migrations/0011_checkpoints.sql: per backup scan segment
-- or restore data file, what the job made durable, so that a job run again
-- after a crash or taken over by another node resumes instead of starting
-- over. target is the recovery point's ID (backup) or the restored table's
-- ARN (restore); state is the engine's JSON record of the part. Times are
-- bigint nanoseconds since the epoch.

CREATE TABLE job_checkpoints (
	job_id     text COLLATE "C" NOT NULL,
	part       integer NOT NULL,
	target     text NOT NULL,
	done       boolean NOT NULL,
	state      text NOT NULL,
	updated_ns bigint NOT NULL,
	PRIMARY KEY (job_id, part)
);
