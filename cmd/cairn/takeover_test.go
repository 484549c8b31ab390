package main

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// TestKillNodeRunningBackup: two `cairn server` processes on one
// PostgreSQL catalog. The node that runs a backup (River chose it) is
// killed with SIGKILL half-way; the other node takes the job over and
// completes it from the dead node's checkpoints: one COMPLETED recovery
// point holding every item once (its restore matches the source item for
// item), no job left RUNNING, and the dead node shown dead.
func TestKillNodeRunningBackup(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	ctx := context.Background()
	const items = 6000
	createTable(t, db, "moving", ddbjson.TypeS, false)
	seedRandom(t, db, "moving", items)
	wantN, wantSum := tableChecksum(t, db, "moving")

	base := t.TempDir()
	const extra = "checkpoint_items: 300\n"
	a, dirA := startNodeConfig(t, base, "a", url, dyn.Endpoint, "", extra)
	b, dirB := startNodeConfig(t, base, "b", url, dyn.Endpoint, dirA, extra)
	ca, _ := procClient(dirA, a.addr)
	cb, _ := procClient(dirB, b.addr)
	id := startSlowBackup(t, ca, "moving", 200)

	// The node running the job, as the catalog records it (either node's
	// status tells every node's jobs).
	var owner string
	waitCond(t, "a node listed as running the job", func() bool {
		st, err := clusterStatus(t, dirB, b.addr)
		if err != nil {
			return false
		}
		for _, n := range st.Nodes {
			if slices.Contains(n.RunningJobs, id) {
				owner = n.NodeId
				return true
			}
		}
		return false
	})
	stA, err := clusterStatus(t, dirA, a.addr)
	if err != nil {
		t.Fatal(err)
	}
	victim, survivor, c := b, a, ca
	if stA.Self == owner {
		victim, survivor, c = a, b, cb
	}
	// Past a third of the table, so that checkpoints exist to resume from.
	waitCond(t, "the backup a third done", func() bool {
		j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err == nil && j.State == bktypes.BackupJobStateCompleted {
			t.Fatal("the backup completed before its node could be killed")
		}
		return err == nil && aws.ToInt64(j.BytesTransferred) > items*1000/3
	})
	victim.kill(t)

	j := waitBackupJob(t, c, id)
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("the job of the killed node: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	if !regexp.MustCompile(`resumed from checkpoints`).MatchString(aws.ToString(j.StatusMessage)) {
		t.Errorf("the taken-over job did not resume from the dead node's checkpoints: %q", aws.ToString(j.StatusMessage))
	}
	survivor.waitLog(t, "given back to the queue")

	pts, err := c.ListRecoveryPointsByResource(ctx, &bk.ListRecoveryPointsByResourceInput{
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/moving")})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts.RecoveryPoints) != 1 || pts.RecoveryPoints[0].Status != bktypes.RecoveryPointStatusCompleted ||
		aws.ToString(pts.RecoveryPoints[0].RecoveryPointArn) != aws.ToString(j.RecoveryPointArn) {
		t.Fatalf("recovery points of the table: %+v, want the job's one COMPLETED point", pts.RecoveryPoints)
	}
	running, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByState: bktypes.BackupJobStateRunning})
	if err != nil || len(running.BackupJobs) != 0 {
		t.Fatalf("backup jobs still RUNNING: %d (%v)", len(running.BackupJobs), err)
	}
	st, err := clusterStatus(t, dirA, survivor.addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range st.Nodes {
		if n.NodeId == owner && n.Alive {
			t.Errorf("the killed node %s is shown alive", owner)
		}
	}

	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), "moving-restored", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	if n, sum := tableChecksum(t, db, "moving-restored"); n != wantN || sum != wantSum {
		t.Fatalf("restored: %d items, checksum %s; the source: %d, %s", n, sum, wantN, wantSum)
	}
}
