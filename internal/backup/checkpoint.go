package backup

import (
	"context"
	"time"
)

// Checkpoint records what a running job has made durable of one part of
// its work, so that the job, run again after its process died (Recover) or
// taken over by another node, resumes where it stopped instead of starting
// over. A backup has one per scan segment: the key to scan on from, the
// data files committed so far and the counts and partial content checksum
// of their items. A restore has one per data file fully written into its
// table.
type Checkpoint struct {
	JobID string
	// Part is the scan segment (backup) or the data file's index in the
	// point's manifest (restore).
	Part int
	// Target is what the job writes into: the recovery point's ID
	// (backup) or the restored table's ARN (restore). Checkpoints of
	// another target are stale: the job starts over.
	Target string
	// Done is set when the part is finished.
	Done bool
	// State is the engine's record of the part (JSON), stored as it is.
	State     []byte
	UpdatedAt time.Time
}

// CheckpointStore keeps the checkpoints of running jobs (migration
// 0011_checkpoints). A checkpoint is written only after what it records is
// durable in the vault or the table; the runner deletes a job's
// checkpoints when the job ends or starts over.
type CheckpointStore interface {
	// SaveCheckpoint stores cp, replacing the job's checkpoint of the same
	// part. JobID and UpdatedAt are required (ErrMissingParameter).
	SaveCheckpoint(ctx context.Context, cp *Checkpoint) error
	// ListCheckpoints returns the job's checkpoints ordered by Part; a job
	// without any has none, which is no error.
	ListCheckpoints(ctx context.Context, jobID string) ([]*Checkpoint, error)
	// DeleteCheckpoints removes every checkpoint of the job; deleting none
	// is no error.
	DeleteCheckpoints(ctx context.Context, jobID string) error
}
