package backup

import "context"

// OwnedJob is an active job a node has claimed.
type OwnedJob struct {
	Kind  JobKind
	ID    string
	Owner string
}

// JobOwnerStore records which node runs which job, so that several nodes on
// one catalog never run one job twice and the jobs of a dead node can be
// found and handed back to the queue.
type JobOwnerStore interface {
	// ClaimJob makes node the owner of the job of that kind and ID if, in
	// one step, the job has no owner and is in one of the states from
	// (backup and copy jobs' State, restore jobs' Status). It reports
	// whether it did; false (and no error) when the job is owned, in
	// another state, or absent. Of several concurrent claims at most one
	// succeeds.
	ClaimJob(ctx context.Context, kind JobKind, id, node string, from []string) (bool, error)
	// OwnedJobs returns the jobs whose owner is one of nodes and that
	// have not ended (backup jobs CREATED, PENDING, RUNNING or ABORTING;
	// restore jobs PENDING or RUNNING; copy jobs CREATED or RUNNING).
	OwnedJobs(ctx context.Context, nodes []string) ([]OwnedJob, error)
}

// StoredBackupState is the state UpdateBackupJob stores when a job stored
// in state before is written in state after: a job being stopped
// (ABORTING) stays so until it ends, whoever writes it, so that a stop
// recorded through one node is never undone by the progress save of the
// node that runs the job.
func StoredBackupState(before, after JobState) JobState {
	if before == JobAborting && !after.Terminal() {
		return JobAborting
	}
	return after
}
