package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// On a PostgreSQL catalog jobs go through the queue: a server killed with
// SIGKILL in the middle of a backup, then of a restore, is followed by a
// new process (a new node): the jobs the dead one owned are taken over and
// complete. Exactly one COMPLETED recovery point, the restore matches the
// source item for item, and no job stays RUNNING.
func TestKillOnPostgresTakesJobsOver(t *testing.T) {
	dyn := testbed.Dynalite(t)
	url := testbed.PostgresURL(t)
	db := ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "big", ddbjson.TypeS, false)
	seedRandom(t, db, "big", 12000)
	wantN, wantSum := tableChecksum(t, db, "big")
	cfg := fmt.Sprintf("catalog: %s\n", url)

	dir := filepath.Join(t.TempDir(), "data")
	p := startProcWith(t, dir, dyn.Endpoint, cfg)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	// A backup slowed down by a read-rate limit, killed while it runs.
	id := startSlowBackup(t, c, "big", 200)
	p.kill(t)

	p = startProcWith(t, dir, dyn.Endpoint, cfg)
	c, _ = procClient(dir, p.addr)
	j := waitBackupJob(t, c, id)
	if j.State != bktypes.BackupJobStateCompleted || aws.ToInt64(j.BackupSizeInBytes) == 0 {
		t.Fatalf("backup job of the killed node: %s %q; want it taken over and COMPLETED", j.State, aws.ToString(j.StatusMessage))
	}
	pts, err := c.ListRecoveryPointsByResource(ctx, &bk.ListRecoveryPointsByResourceInput{
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/big")})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts.RecoveryPoints) != 1 || pts.RecoveryPoints[0].Status != bktypes.RecoveryPointStatusCompleted ||
		aws.ToString(pts.RecoveryPoints[0].RecoveryPointArn) != aws.ToString(j.RecoveryPointArn) {
		t.Fatalf("recovery points of big: %+v; want exactly the job's one, COMPLETED", pts.RecoveryPoints)
	}

	// A restore killed once it has created its table.
	rid := startRestore(t, c, aws.ToString(j.RecoveryPointArn), "big-restored", false)
	waitProgress(t, func() bool {
		r, err := c.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(rid)})
		return err == nil && r.Status == bktypes.RestoreJobStatusRunning && aws.ToString(r.CreatedResourceArn) != ""
	})
	p.kill(t)
	p = startProcWith(t, dir, dyn.Endpoint, cfg)
	c, _ = procClient(dir, p.addr)
	r := waitRestoreJob(t, c, rid)
	if r.Status != bktypes.RestoreJobStatusCompleted || r.ValidationStatus != bktypes.RestoreValidationStatusSuccessful {
		t.Fatalf("restore job of the killed node: %s, validation %s %q", r.Status, r.ValidationStatus, aws.ToString(r.StatusMessage))
	}
	if n, sum := tableChecksum(t, db, "big-restored"); n != wantN || sum != wantSum {
		t.Fatalf("restored table: %d items, checksum %s; the source has %d, %s", n, sum, wantN, wantSum)
	}
	for _, st := range []bktypes.BackupJobState{bktypes.BackupJobStateRunning, bktypes.BackupJobStatePending, bktypes.BackupJobStateCreated} {
		jobs, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByState: st})
		if err != nil || len(jobs.BackupJobs) != 0 {
			t.Fatalf("backup jobs %s: %v %v", st, jobs, err)
		}
	}
	rs, err := c.ListRestoreJobs(ctx, &bk.ListRestoreJobsInput{ByStatus: bktypes.RestoreJobStatusRunning})
	if err != nil || len(rs.RestoreJobs) != 0 {
		t.Fatalf("restore jobs RUNNING: %v %v", rs, err)
	}
}
