package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fillShape is the shape of a synthetic catalog of backup jobs: spread over
// resources and vaults, mostly COMPLETED, 5% FAILED, one job in 100 PARTIAL
// or ABORTED, and the last job of every twentieth resource still active.
type fillShape struct {
	jobs      int
	resources int
	vaults    int
	start     time.Time
	every     time.Duration // between two jobs' creation
}

func defaultShape(jobs int) fillShape {
	return fillShape{
		jobs:      jobs,
		resources: max(1, jobs/100),
		vaults:    10,
		start:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		every:     30 * time.Second,
	}
}

func (s fillShape) resource(i int) string {
	return backup.TableARN("eu-west-1", "123456789012", fmt.Sprintf("table-%05d", i%s.resources))
}

func (s fillShape) vault(i int) string { return fmt.Sprintf("vault-%02d", (i/7)%s.vaults) }

func (s fillShape) created(i int) time.Time { return s.start.Add(time.Duration(i) * s.every) }

func (s fillShape) job(i int) *backup.BackupJob {
	state := backup.JobCompleted
	switch {
	case i%20 == 7:
		state = backup.JobFailed
	case i%100 == 13:
		state = backup.JobPartial
	case i%100 == 42:
		state = backup.JobAborted
	}
	// The last job of every twentieth resource is still under way.
	if r := i % s.resources; i+s.resources >= s.jobs && r%20 == 0 {
		state = []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}[(r/20)%4]
	}
	created := s.created(i)
	j := &backup.BackupJob{
		ID:                fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
		AccountID:         "123456789012",
		Region:            "eu-west-1",
		VaultName:         s.vault(i),
		VaultARN:          backup.VaultARN("eu-west-1", "123456789012", s.vault(i)),
		RecoveryPointARN:  backup.RecoveryPointARN("eu-west-1", "123456789012", fmt.Sprintf("rp-%08x", i)),
		ResourceARN:       s.resource(i),
		ResourceType:      backup.ResourceTypeDynamoDB,
		ResourceName:      fmt.Sprintf("table-%05d", i%s.resources),
		IAMRoleARN:        "arn:aws:iam::123456789012:role/backup",
		IdempotencyToken:  fmt.Sprintf("token-%d", i),
		State:             state,
		PercentDone:       100,
		BytesTransferred:  int64(i) * 1000,
		BackupSizeInBytes: int64(i) * 1000,
		ItemCount:         int64(i),
		CreationDate:      created,
		StartBy:           created.Add(8 * time.Hour),
		Lifecycle:         backup.Lifecycle{DeleteAfterDays: 35},
		RecoveryPointTags: map[string]string{"env": "prod"},
		CreatedBy:         &backup.CreatedBy{BackupPlanID: "plan-1", BackupRuleID: "daily"},
	}
	if state.Terminal() {
		j.CompletionDate = created.Add(time.Duration(60+i%600) * time.Second)
	}
	return j
}

// fill inserts the shape's jobs in one transaction through one prepared
// statement.
func fill(ctx context.Context, c *Catalog, s fillShape) error {
	tx, err := c.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertJob)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range s.jobs {
		args, err := jobArgs(s.job(i))
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("job %d: %w", i, err)
		}
	}
	return tx.Commit()
}

// openFilled returns a file-backed catalog holding the shape's jobs, reopened
// after the fill so that it starts as a server would.
func openFilled(tb testing.TB, s fillShape) *Catalog {
	tb.Helper()
	path := tb.TempDir() + "/catalog.db"
	c, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := fill(tb.Context(), c, s); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("filled %d jobs in %v", s.jobs, time.Since(start).Round(time.Millisecond))
	if err := c.Close(); err != nil {
		tb.Fatal(err)
	}
	c, err = Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
