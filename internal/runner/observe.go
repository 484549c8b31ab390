package runner

import (
	"context"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// observedCatalog tells Config.Observer of the job starts and ends this
// process writes. Every change of a job's state goes through the catalog,
// so watching the writes sees every start and every end, whichever path
// (a worker, StopBackupJob, the scheduler's windows, Recover) made it. A
// job starts when it is first written RUNNING and ends when it is written
// in a terminal state; a backup retried inside its start window starts
// once.
type observedCatalog struct {
	backup.Catalog
	obs backup.JobObserver
	now func() time.Time

	mu sync.Mutex
	// started holds when each job this process saw start began running,
	// until it ends.
	started map[string]time.Time
}

func newObservedCatalog(c backup.Catalog, obs backup.JobObserver, now func() time.Time) *observedCatalog {
	return &observedCatalog{Catalog: c, obs: obs, now: now, started: map[string]time.Time{}}
}

// saw reports r's change, once it is stored, if it starts or ends the job.
func (c *observedCatalog) saw(r backup.JobRun, running, terminal bool) {
	c.mu.Lock()
	start, seen := c.started[r.ID]
	switch {
	case running && !seen:
		start = c.now()
		c.started[r.ID] = start
	case terminal:
		delete(c.started, r.ID)
	}
	c.mu.Unlock()
	switch {
	case running && !seen:
		r.Started, r.Ended, r.Items, r.Bytes = start, time.Time{}, 0, 0
		c.obs.JobStarted(r)
	case terminal:
		r.Started = start
		c.obs.JobEnded(r)
	}
}

func backupRun(j *backup.BackupJob) backup.JobRun {
	return backup.JobRun{Kind: backup.JobKindBackup, ID: j.ID, VaultName: j.VaultName, ResourceARN: j.ResourceARN,
		ResourceType: j.ResourceType, State: string(j.State), Ended: j.CompletionDate, Items: j.ItemCount, Bytes: j.BytesTransferred}
}

func restoreRun(j *backup.RestoreJob) backup.JobRun {
	r := backup.JobRun{Kind: backup.JobKindRestore, ID: j.ID, VaultName: vaultName(j.VaultARN), ResourceARN: j.CreatedResourceARN,
		ResourceType: j.ResourceType, State: string(j.Status), Ended: j.CompletionDate, Items: j.ItemsRestored}
	if j.Status == backup.RestoreCompleted {
		r.Bytes = j.BackupSizeInBytes
	}
	return r
}

func copyRun(j *backup.CopyJob) backup.JobRun {
	r := backup.JobRun{Kind: backup.JobKindCopy, ID: j.ID, VaultName: vaultName(j.DestinationBackupVaultARN), ResourceARN: j.ResourceARN,
		ResourceType: j.ResourceType, State: string(j.State), Ended: j.CompletionDate}
	if j.State == backup.CopyCompleted {
		r.Bytes = j.BackupSizeInBytes
	}
	return r
}

// vaultName is the name in a vault ARN, or the ARN itself if it is none.
func vaultName(arn string) string {
	if _, name, err := backup.ParseVaultARN(arn); err == nil {
		return name
	}
	return arn
}

func (c *observedCatalog) CreateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	if err := c.Catalog.CreateBackupJob(ctx, j); err != nil {
		return err
	}
	c.saw(backupRun(j), j.State == backup.JobRunning, j.State.Terminal())
	return nil
}

func (c *observedCatalog) UpdateBackupJob(ctx context.Context, j *backup.BackupJob) error {
	if err := c.Catalog.UpdateBackupJob(ctx, j); err != nil {
		return err
	}
	c.saw(backupRun(j), j.State == backup.JobRunning, j.State.Terminal())
	return nil
}

func (c *observedCatalog) CreateRestoreJob(ctx context.Context, j *backup.RestoreJob) error {
	if err := c.Catalog.CreateRestoreJob(ctx, j); err != nil {
		return err
	}
	c.saw(restoreRun(j), j.Status == backup.RestoreRunning, j.Status.Terminal())
	return nil
}

func (c *observedCatalog) UpdateRestoreJob(ctx context.Context, j *backup.RestoreJob) error {
	if err := c.Catalog.UpdateRestoreJob(ctx, j); err != nil {
		return err
	}
	c.saw(restoreRun(j), j.Status == backup.RestoreRunning, j.Status.Terminal())
	return nil
}

func (c *observedCatalog) CreateCopyJob(ctx context.Context, j *backup.CopyJob) error {
	if err := c.Catalog.CreateCopyJob(ctx, j); err != nil {
		return err
	}
	c.saw(copyRun(j), j.State == backup.CopyRunning, j.State.Terminal())
	return nil
}

func (c *observedCatalog) UpdateCopyJob(ctx context.Context, j *backup.CopyJob) error {
	if err := c.Catalog.UpdateCopyJob(ctx, j); err != nil {
		return err
	}
	c.saw(copyRun(j), j.State == backup.CopyRunning, j.State.Terminal())
	return nil
}
