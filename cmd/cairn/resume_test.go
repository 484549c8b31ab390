package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// resumeConfig makes backups checkpoint after every Scan page (about 1,000
// items of 1 KB each) and restores write with one writer, so that a kill
// lands between checkpoints of a table of a few Scan pages per segment.
const resumeConfig = "checkpoint_items: 500\nrestore_writers: 1\n"

// pointChecksum returns a recovery point's item count and content
// checksum, as the API reports them.
func pointChecksum(t *testing.T, c *bk.Client, arn string) (int64, string) {
	t.Helper()
	md, err := c.GetRecoveryPointRestoreMetadata(context.Background(), &bk.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String("Default"), RecoveryPointArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(md.RestoreMetadata[backup.MetaItemCount], 10, 64)
	if err != nil {
		t.Fatalf("the point's item count: %v", err)
	}
	return n, md.RestoreMetadata[backup.MetaContentChecksum]
}

// TestKillResumesBackupAndRestore SIGKILLs `cairn server` mid-backup of a
// dynalite table, once checkpoints exist: after the restart the job
// resumes from its checkpoints (its message and the log say from where)
// instead of failing, and completes; its point's content checksum equals
// a clean backup's and the table's. Then it SIGKILLs the server mid-restore
// of that point: after the restart the restore resumes, skipping the data
// files it wrote, and the restored table matches the source item for
// item (count and order-independent checksum, and the restore's own
// validation). It runs on each catalog: the checkpoints live there.
func TestKillResumesBackupAndRestore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKillResumes(t, resumeConfig) })
	t.Run("postgres", func(t *testing.T) {
		testKillResumes(t, resumeConfig+"catalog: "+testbed.PostgresURL(t)+"\n")
	})
}

func testKillResumes(t *testing.T, config string) {
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	ctx := context.Background()
	const items = 16000
	createTable(t, db, "big", "S", false)
	seedRandom(t, db, "big", items)
	wantN, wantSum := tableChecksum(t, db, "big")
	if wantN != items {
		t.Fatalf("seeded %d items, the table holds %d", items, wantN)
	}

	dir := filepath.Join(t.TempDir(), "data")
	p := startProcWith(t, dir, dyn.Endpoint, config)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	clean := waitBackupJob(t, c, startBackup(t, c, "big"))
	if clean.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("clean backup: %s %s", clean.State, aws.ToString(clean.StatusMessage))
	}
	cleanN, cleanSum := pointChecksum(t, c, aws.ToString(clean.RecoveryPointArn))
	if cleanN != wantN || cleanSum != wantSum {
		t.Fatalf("clean backup: %d items, %s; the table: %d, %s", cleanN, cleanSum, wantN, wantSum)
	}

	total := aws.ToInt64(clean.BytesTransferred)
	// A backup slowed down by a read-rate limit, killed past half-way:
	// every segment has written pages, and checkpointed them, by then.
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/big"), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"ReadRate": "400", "Segments": "4"}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.BackupJobId)
	var before int64
	waitProgress(t, func() bool {
		j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
		if err == nil && j.State == bktypes.BackupJobStateCompleted {
			t.Fatal("the backup completed before it could be killed")
		}
		before = aws.ToInt64(j.BytesTransferred)
		return err == nil && j.State == bktypes.BackupJobStateRunning && before >= total/2
	})
	p.kill(t)
	t.Logf("killed the server with the backup at %d of %d bytes", before, total)

	p = startProcWith(t, dir, dyn.Endpoint, config)
	c, _ = procClient(dir, p.addr)
	j := waitBackupJob(t, c, id)
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("the killed backup job after the restart: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	msg := aws.ToString(j.StatusMessage)
	m := regexp.MustCompile(`resumed from checkpoints: (\d+) of 4 scan segments finished, (\d+) items`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("the resumed job's message does not say from where it resumed: %q", msg)
	}
	if kept, _ := strconv.ParseInt(m[2], 10, 64); kept == 0 || kept >= items {
		t.Fatalf("the resumed job kept %s items of %d", m[2], items)
	}
	logText, _ := os.ReadFile(p.log)
	if !strings.Contains(string(logText), "backup job resumes from checkpoints") {
		t.Fatal("the server's log does not say the backup resumed")
	}
	if aws.ToInt64(j.BytesTransferred) != total {
		t.Fatalf("the resumed job counts %d bytes, a clean one %d", aws.ToInt64(j.BytesTransferred), total)
	}
	gotN, gotSum := pointChecksum(t, c, aws.ToString(j.RecoveryPointArn))
	if gotN != cleanN || gotSum != cleanSum {
		t.Fatalf("the resumed point: %d items, checksum %s; a clean backup: %d, %s", gotN, gotSum, cleanN, cleanSum)
	}
	pts, err := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("Default")})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts.RecoveryPoints) != 2 {
		t.Fatalf("%d recovery points, want the clean one and the resumed one", len(pts.RecoveryPoints))
	}
	for _, rp := range pts.RecoveryPoints {
		if rp.Status != bktypes.RecoveryPointStatusCompleted {
			t.Fatalf("recovery point %s is %s", aws.ToString(rp.RecoveryPointArn), rp.Status)
		}
	}
	checkVaultFiles(t, dir, aws.ToString(j.RecoveryPointArn))

	// A restore of the resumed point, killed once part of it is written.
	rid := startRestore(t, c, aws.ToString(j.RecoveryPointArn), "big-restored", false)
	var written float64
	waitProgress(t, func() bool {
		r, err := c.DescribeRestoreJob(ctx, &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(rid)})
		if err == nil && r.Status == bktypes.RestoreJobStatusCompleted {
			t.Fatal("the restore completed before it could be killed")
		}
		if err != nil {
			return false
		}
		written, _ = strconv.ParseFloat(strings.TrimSuffix(aws.ToString(r.PercentDone), "%"), 64)
		return r.Status == bktypes.RestoreJobStatusRunning && written >= 40
	})
	p.kill(t)
	t.Logf("killed the server with the restore at %.0f %% of %d items", written, items)
	p = startProcWith(t, dir, dyn.Endpoint, config)
	c, _ = procClient(dir, p.addr)
	r := waitRestoreJob(t, c, rid)
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("the killed restore job after the restart: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	if !regexp.MustCompile(`resumed after a restart: [1-9]\d* of the \d+ data files were written`).MatchString(aws.ToString(r.StatusMessage)) {
		t.Fatalf("the resumed restore's message does not say what it skipped: %q", aws.ToString(r.StatusMessage))
	}
	if r.ValidationStatus != bktypes.RestoreValidationStatusSuccessful {
		t.Fatalf("the resumed restore's validation: %s %q", r.ValidationStatus, aws.ToString(r.ValidationStatusMessage))
	}
	if n, sum := tableChecksum(t, db, "big-restored"); n != wantN || sum != wantSum {
		t.Fatalf("restored table: %d items, checksum %s; the source: %d, %s", n, sum, wantN, wantSum)
	}
	for _, st := range []bktypes.BackupJobState{bktypes.BackupJobStateRunning, bktypes.BackupJobStatePending, bktypes.BackupJobStateCreated} {
		jobs, _ := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByState: st})
		if len(jobs.BackupJobs) != 0 {
			t.Fatalf("%d backup jobs still %s", len(jobs.BackupJobs), st)
		}
	}
}

// checkVaultFiles fails if the vault holds a data file of the point that
// its manifest does not list (a partial file written after the last
// checkpoint of the killed run).
func checkVaultFiles(t *testing.T, dir, arn string) {
	t.Helper()
	id := arn[strings.LastIndex(arn, ":")+1:]
	manifest, err := os.ReadFile(filepath.Join(dir, "vaults", "Default", "AWSDynamoDB", id, "manifest-files.json"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "vaults", "Default", "AWSDynamoDB", id, "data"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.Contains(string(manifest), "/data/"+e.Name()) {
			t.Errorf("data file %s of the point is not in its manifest", e.Name())
		}
	}
}
