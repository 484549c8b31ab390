package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	s3blob "github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Issue 8.7: the real binary is killed with SIGKILL again and again while
// backups and copies write into a local vault and an S3 vault (versitygw).
// After a last restart, and once its sweep and its jobs are done, neither
// vault holds a recovery point directory or prefix the catalog does not
// list, nor an empty directory or temporary file, and every listed point
// is COMPLETED and verifies.
func TestKillsLeaveNoLitter(t *testing.T) {
	const kills = 12
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	db := ddbClient(dyn.Endpoint)
	for _, table := range []string{"litter-a", "litter-b"} {
		createTable(t, db, table, ddbjson.TypeS, false)
		seedRandom(t, db, table, 3000)
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	cfg := fmt.Sprintf("storage:\n  s3_endpoints:\n    - name: versity\n      url: %s\n      access_key_id: %s\n      secret_access_key: %s\n",
		s3.Endpoint, s3.AccessKey, s3.SecretKey)
	const bucket, prefix = "cairn-litter", "offsite"
	p := startProcWith(t, dir, dyn.Endpoint, cfg)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("offsite"),
		BackupVaultTags: map[string]string{"cairn:storage": "s3://" + bucket + "/" + prefix, "cairn:s3-endpoint": "versity"}}); err != nil {
		t.Fatal(err)
	}
	tableARN := func(table string) *string {
		return aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + table)
	}
	vaultARN := func(name string) *string {
		return aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:" + name)
	}
	backup := func(table, vaultName string, opts map[string]string) (string, error) {
		out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String(vaultName), ResourceArn: tableARN(table),
			IamRoleArn: aws.String(role), BackupOptions: opts})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.BackupJobId), nil
	}
	// A completed point in each vault to copy from.
	sources := map[string]string{}
	for table, v := range map[string]string{"litter-a": "Default", "litter-b": "offsite"} {
		id, err := backup(table, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		j := waitBackupJob(t, c, id)
		if j.State != bktypes.BackupJobStateCompleted {
			t.Fatalf("backup of %s: %s %s", table, j.State, aws.ToString(j.StatusMessage))
		}
		sources[v] = aws.ToString(j.RecoveryPointArn)
	}
	other := map[string]string{"Default": "offsite", "offsite": "Default"}
	const sweepDone = "sweep of incomplete recovery points done"
	sweeps := 0

	for i := range kills {
		vaults := []string{"Default", "offsite"}
		if i%2 == 1 {
			slices.Reverse(vaults)
		}
		var running []string
		for k, table := range []string{"litter-a", "litter-b"} {
			id, err := backup(table, vaults[k], map[string]string{"ReadRate": "500", "Segments": "2"})
			if err != nil && !strings.Contains(err.Error(), "ConflictException") { // one queued again by recovery
				t.Fatal(err)
			}
			if id != "" {
				running = append(running, id)
			}
		}
		for from, arn := range sources {
			if _, err := c.StartCopyJob(ctx, &bk.StartCopyJobInput{RecoveryPointArn: aws.String(arn), SourceBackupVaultName: aws.String(from),
				DestinationBackupVaultArn: vaultARN(other[from]), IamRoleArn: aws.String(role)}); err != nil {
				t.Fatal(err)
			}
		}
		if len(running) > 0 {
			waitProgress(t, func() bool {
				j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(running[0])})
				return err == nil && (j.State == bktypes.BackupJobStateRunning && aws.ToInt64(j.BytesTransferred) > 0 ||
					j.State == bktypes.BackupJobStateCompleted || j.State == bktypes.BackupJobStateFailed)
			})
		}
		time.Sleep(time.Duration(i%4) * 150 * time.Millisecond)
		p.kill(t)
		sweeps = logCount(t, p.log, sweepDone)
		p = startProcWith(t, dir, dyn.Endpoint, cfg)
		if c, err = procClient(dir, p.addr); err != nil {
			t.Fatal(err)
		}
	}

	// The last start: wait for what recovery queued again, then for the
	// sweep, and stop the server so nothing moves while we look.
	waitIdle(t, c)
	waitLog(t, p.log, sweepDone, sweeps+1)
	listed := map[string][]string{}
	for _, v := range []string{"Default", "offsite"} {
		out, err := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		for _, rp := range out.RecoveryPoints {
			if rp.Status != bktypes.RecoveryPointStatusCompleted {
				t.Errorf("vault %s lists point %s %s", v, aws.ToString(rp.RecoveryPointArn), rp.Status)
			}
			listed[v] = append(listed[v], pointID(aws.ToString(rp.RecoveryPointArn)))
		}
	}
	p.kill(t)

	local, err := fileblob.New(filepath.Join(dir, "vaults", "Default"))
	if err != nil {
		t.Fatal(err)
	}
	remote, err := s3blob.New(ctx, s3blob.Config{Bucket: bucket, Prefix: prefix, Endpoint: s3.Endpoint, Region: "us-east-1",
		PathStyle: true, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	for v, store := range map[string]blob.Store{"Default": local, "offsite": remote} {
		complete, incomplete, err := vault.New(store).ListPoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range incomplete {
			t.Errorf("vault %s holds the incomplete point %s", v, id)
		}
		for _, id := range complete {
			if !slices.Contains(listed[v], id) {
				t.Errorf("vault %s holds point %s, which the catalog does not list", v, id)
			}
		}
		for _, id := range listed[v] {
			if err := vault.New(store).Verify(ctx, id); err != nil {
				t.Errorf("vault %s: listed point %s does not verify: %v", v, id, err)
			}
		}
		t.Logf("vault %s: %d points, all listed and verified", v, len(listed[v]))
	}
	// On disk: no directory of a point the catalog does not list, no
	// empty directory, no temporary file.
	for _, root := range []string{filepath.Join(dir, "vaults", "Default"), filepath.Join(s3.Dir, bucket, prefix)} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			parts := strings.Split(filepath.ToSlash(rel), "/")
			if len(parts) >= 2 && parts[0] == "AWSDynamoDB" && !slices.Contains(listed["Default"], parts[1]) && !slices.Contains(listed["offsite"], parts[1]) {
				t.Errorf("left on disk: %s", p)
				return fs.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".cairn-tmp-") {
				t.Errorf("temporary file left: %s", p)
			}
			if d.IsDir() && p != root {
				if entries, err := os.ReadDir(p); err == nil && len(entries) == 0 {
					t.Errorf("empty directory left: %s", p)
				}
			}
			return nil
		})
	}
}

// waitIdle waits until no backup or copy job is active.
func waitIdle(t *testing.T, c *bk.Client) {
	t.Helper()
	ctx := context.Background()
	waitProgress(t, func() bool {
		for _, s := range []bktypes.BackupJobState{bktypes.BackupJobStateCreated, bktypes.BackupJobStatePending, bktypes.BackupJobStateRunning} {
			out, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByState: s})
			if err != nil || len(out.BackupJobs) > 0 {
				return false
			}
		}
		for _, s := range []bktypes.CopyJobState{bktypes.CopyJobStateCreated, bktypes.CopyJobStateRunning} {
			out, err := c.ListCopyJobs(ctx, &bk.ListCopyJobsInput{ByState: s})
			if err != nil || len(out.CopyJobs) > 0 {
				return false
			}
		}
		return true
	})
}

// logCount returns how often the log file holds line.
func logCount(t *testing.T, path, line string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Count(string(b), line)
}

// waitLog waits until the log file holds line at least n times.
func waitLog(t *testing.T, path, line string, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		if logCount(t, path, line) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("the log never said %q %d times:\n%s", line, n, b)
}
