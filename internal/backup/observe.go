package backup

import (
	"context"
	"time"
)

// JobRun is what a JobObserver learns of a job when it starts running and
// when it ends. Vault is the vault the job writes to or reads from: a
// backup job's vault, a restore job's source vault, a copy job's
// destination vault.
type JobRun struct {
	Kind         JobKind
	ID           string
	VaultName    string
	ResourceARN  string
	ResourceType string
	// State is the job's state (a restore job's status) after the change,
	// as the API spells it.
	State string
	// Started is when the job started running in this process; zero if
	// it ended before it ran (expired, stopped, or ended by Recover).
	Started time.Time
	// Ended is the job's CompletionDate; zero at JobStarted.
	Ended time.Time
	// Items and Bytes are what the job moved: items scanned and bytes read
	// (backup), items written and the point's size (restore), the bytes
	// copied (copy). Zero at JobStarted.
	Items int64
	Bytes int64
}

// JobObserver is told, in the process that makes the change, when a job
// starts running and when it ends in a terminal state: once each per job
// and process (a backup retried inside its start window starts once).
// Counting what one process observes makes sums over several processes
// right. Calls are synchronous and must be quick; they must not block.
type JobObserver interface {
	JobStarted(r JobRun)
	JobEnded(r JobRun)
}

// ActiveJobCount is the number of jobs of one kind in one non-terminal
// state (CREATED, PENDING, RUNNING, ABORTING).
type ActiveJobCount struct {
	Kind  JobKind
	State string
	Count int64
}

// LastBackup is when a resource's latest COMPLETED backup job completed.
type LastBackup struct {
	ResourceARN  string
	ResourceType string
	Completed    time.Time
}

// PointUsage is the number and size (BackupSizeInBytes) of the recovery
// points of one vault, storage class and status.
type PointUsage struct {
	VaultName    string
	StorageClass StorageClass
	Status       RecoveryPointStatus
	Points       int64
	Bytes        int64
}

// MetricsStore answers the aggregate questions the metrics ask at each
// scrape. Every method reads indexes only and is cheap however long the
// job history is: its cost grows with the number of active jobs, protected
// resources or recovery points, never with the finished jobs.
type MetricsStore interface {
	// CountActiveJobs counts the backup, restore and copy jobs in each
	// non-terminal state; states without a job are left out.
	CountActiveJobs(ctx context.Context) ([]ActiveJobCount, error)
	// LastBackups returns, for every resource with a COMPLETED backup job,
	// the latest CompletionDate of one, ordered by resource ARN.
	LastBackups(ctx context.Context) ([]LastBackup, error)
	// PointUsage counts the recovery points and sums their sizes by vault,
	// storage class and status, ordered by those three; groups without a
	// point are left out.
	PointUsage(ctx context.Context) ([]PointUsage, error)
}
