-- Checkpoints of running jobs (issue 12): per backup scan segment or
-- restore data file, what the job made durable, so that a job run again
-- after a crash or taken over by another node resumes instead of starting
-- over. target is the recovery point's ID (backup) or the restored table's
-- ARN (restore); state is the engine's JSON record of the part (resume key,
-- data files, counts, partial content checksum). Times are nanoseconds
-- since the epoch.

CREATE TABLE job_checkpoints (
	job_id     TEXT NOT NULL,
	part       INTEGER NOT NULL,
	target     TEXT NOT NULL,
	done       INTEGER NOT NULL,
	state      TEXT NOT NULL,
	updated_ns INTEGER NOT NULL,
	PRIMARY KEY (job_id, part)
) WITHOUT ROWID;
