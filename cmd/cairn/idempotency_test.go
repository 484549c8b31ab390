package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// concurrently runs call n times at once and returns the job IDs it
// returned, failing t on any error.
func concurrently(t *testing.T, what string, n int, call func() (string, error)) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ids[i], errs[i] = call()
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s, call %d of %d with one IdempotencyToken: %v", what, i, n, err)
		}
	}
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("%s: %d concurrent calls with one IdempotencyToken returned jobs %v, want one", what, n, ids)
		}
	}
	return ids
}

// wantTokenReused fails t unless err is the InvalidRequestException of a
// token reused with other parameters, naming the first request's job.
func wantTokenReused(t *testing.T, what string, err error, firstJob string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidRequestException" ||
		!strings.Contains(ae.ErrorMessage(), "IdempotencyToken") || !strings.Contains(ae.ErrorMessage(), firstJob) {
		t.Fatalf("%s: got %v, want InvalidRequestException naming the token and job %s", what, err, firstJob)
	}
}

// TestIdempotencyTokensConcurrent sends eight concurrent StartBackupJob,
// StartCopyJob and StartRestoreJob requests with one IdempotencyToken each
// through the HTTP API: every request gets the same job, and one backup,
// one copy (one new recovery point) and one restore are made (issue 8.2).
// The same token with other parameters is refused with
// InvalidRequestException, through the SDK, the AWS CLI and boto3.
func TestIdempotencyTokensConcurrent(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "idem", "S", false)
	seedRandom(t, db, "idem", 300)
	tableARN := "arn:aws:dynamodb:us-east-1:000000000000:table/idem"
	const n = 8

	backupIn := func(token string) *bk.StartBackupJobInput {
		return &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"), ResourceArn: aws.String(tableARN),
			IamRoleArn: aws.String(role), IdempotencyToken: aws.String(token),
			Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(30)}, RecoveryPointTags: map[string]string{"team": "a"}}
	}
	ids := concurrently(t, "StartBackupJob", n, func() (string, error) {
		out, err := c.StartBackupJob(ctx, backupIn("backup-token"))
		if err != nil {
			return "", err
		}
		return aws.ToString(out.BackupJobId), nil
	})
	backupID := ids[0]
	j := waitBackupJob(t, c, backupID)
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup job %s %s: %s", backupID, j.State, aws.ToString(j.StatusMessage))
	}
	jobs, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByResourceArn: aws.String(tableARN)})
	if err != nil || len(jobs.BackupJobs) != 1 {
		t.Fatalf("backup jobs of the table after %d requests with one token: %d, %v; want 1", n, len(jobs.BackupJobs), err)
	}
	// A retry after the job ended still gets it.
	again, err := c.StartBackupJob(ctx, backupIn("backup-token"))
	if err != nil || aws.ToString(again.BackupJobId) != backupID {
		t.Fatalf("StartBackupJob retried after the job ended: %v, %v; want job %s", again, err, backupID)
	}
	// The token with other parameters.
	other := backupIn("backup-token")
	other.Lifecycle.DeleteAfterDays = aws.Int64(31)
	_, err = c.StartBackupJob(ctx, other)
	wantTokenReused(t, "StartBackupJob with the token of another request", err, backupID)
	rpARN := aws.ToString(j.RecoveryPointArn)

	// Copies.
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("copies")}); err != nil {
		t.Fatal(err)
	}
	copiesARN := "arn:aws:backup:us-east-1:000000000000:backup-vault:copies"
	copyIn := func(token string) *bk.StartCopyJobInput {
		return &bk.StartCopyJobInput{RecoveryPointArn: aws.String(rpARN), SourceBackupVaultName: aws.String("Default"),
			DestinationBackupVaultArn: aws.String(copiesARN), IamRoleArn: aws.String(role), IdempotencyToken: aws.String(token)}
	}
	ids = concurrently(t, "StartCopyJob", n, func() (string, error) {
		out, err := c.StartCopyJob(ctx, copyIn("copy-token"))
		if err != nil {
			return "", err
		}
		return aws.ToString(out.CopyJobId), nil
	})
	copyID := ids[0]
	for {
		cj, err := c.DescribeCopyJob(ctx, &bk.DescribeCopyJobInput{CopyJobId: aws.String(copyID)})
		if err != nil {
			t.Fatal(err)
		}
		if s := cj.CopyJob.State; s == bktypes.CopyJobStateCompleted {
			break
		} else if s == bktypes.CopyJobStateFailed {
			t.Fatalf("copy job failed: %s", aws.ToString(cj.CopyJob.StatusMessage))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cjobs, err := c.ListCopyJobs(ctx, &bk.ListCopyJobsInput{})
	if err != nil || len(cjobs.CopyJobs) != 1 {
		t.Fatalf("copy jobs after %d requests with one token: %d, %v; want 1", n, len(cjobs.CopyJobs), err)
	}
	pts, err := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("copies")})
	if err != nil || len(pts.RecoveryPoints) != 1 {
		t.Fatalf("recovery points in the copies vault: %d, %v; want 1", len(pts.RecoveryPoints), err)
	}
	otherCopy := copyIn("copy-token")
	otherCopy.Lifecycle = &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(7)}
	_, err = c.StartCopyJob(ctx, otherCopy)
	wantTokenReused(t, "StartCopyJob with the token of another request", err, copyID)

	// Restores.
	restoreIn := func(token, target string) *bk.StartRestoreJobInput {
		return &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), IamRoleArn: aws.String(role),
			Metadata: map[string]string{"TargetTableName": target}, IdempotencyToken: aws.String(token)}
	}
	ids = concurrently(t, "StartRestoreJob", n, func() (string, error) {
		out, err := c.StartRestoreJob(ctx, restoreIn("restore-token", "idem-restored"))
		if err != nil {
			return "", err
		}
		return aws.ToString(out.RestoreJobId), nil
	})
	restoreID := ids[0]
	if r := waitRestoreJob(t, c, restoreID); r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore job %s: %s", r.Status, aws.ToString(r.StatusMessage))
	}
	rjobs, err := c.ListRestoreJobs(ctx, &bk.ListRestoreJobsInput{})
	if err != nil || len(rjobs.RestoreJobs) != 1 {
		t.Fatalf("restore jobs after %d requests with one token: %d, %v; want 1", n, len(rjobs.RestoreJobs), err)
	}
	_, err = c.StartRestoreJob(ctx, restoreIn("restore-token", "idem-elsewhere"))
	wantTokenReused(t, "StartRestoreJob with the token of another request", err, restoreID)

	// The AWS CLI: a retry gets the job, other parameters the error.
	cli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	got := cli.ok("start-restore-job", "--recovery-point-arn", rpARN, "--iam-role-arn", role,
		"--metadata", "TargetTableName=idem-restored", "--idempotency-token", "restore-token")
	if jsonStr(got, "RestoreJobId") != restoreID {
		t.Fatalf("aws backup start-restore-job with the token: %v, want job %s", got, restoreID)
	}
	errb := cli.fails("InvalidRequestException", "start-restore-job", "--recovery-point-arn", rpARN, "--iam-role-arn", role,
		"--metadata", "TargetTableName=idem-cli", "--idempotency-token", "restore-token")
	if !strings.Contains(errb, restoreID) {
		t.Fatalf("the AWS CLI's error does not name the first job %s: %s", restoreID, errb)
	}

	// boto3, eight threads at once, then the token with other parameters.
	python := boto3(t)
	cmd := exec.Command(python, "-c", boto3Script, "http://"+m.Addr, rpARN, copiesARN, role)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+m.Keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+m.Keys.SecretAccessKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	cjobs, err = c.ListCopyJobs(ctx, &bk.ListCopyJobsInput{})
	if err != nil || len(cjobs.CopyJobs) != 2 {
		t.Fatalf("copy jobs after the boto3 requests: %d, %v; want 2", len(cjobs.CopyJobs), err)
	}
}

// boto3 returns python3 if it can import boto3, or skips/fails the test.
func boto3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil || exec.Command(p, "-c", "import boto3").Run() != nil {
		testbed.Missing(t, "python3 with boto3")
	}
	return p
}

const boto3Script = `
import sys, threading, boto3, botocore
endpoint, rp, dest, role = sys.argv[1:5]
def client():
    return boto3.client("backup", endpoint_url=endpoint, region_name="us-east-1")
ids, errs = [], []
def start():
    try:
        ids.append(client().start_copy_job(RecoveryPointArn=rp, SourceBackupVaultName="Default",
            DestinationBackupVaultArn=dest, IamRoleArn=role, IdempotencyToken="boto3-token")["CopyJobId"])
    except Exception as e:
        errs.append(e)
threads = [threading.Thread(target=start) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
assert not errs, errs
assert len(ids) == 8 and len(set(ids)) == 1, ids
try:
    client().start_copy_job(RecoveryPointArn=rp, SourceBackupVaultName="Default", DestinationBackupVaultArn=dest,
        IamRoleArn=role, IdempotencyToken="boto3-token", Lifecycle={"DeleteAfterDays": 9})
    sys.exit("the token with other parameters was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidRequestException", e.response
    assert ids[0] in e.response["Error"]["Message"], e.response
print("ok", ids[0])
`
