package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/datadir"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// procConfig writes the config file of a server process on dir: dynalite
// at ddbEndpoint as the "local" source, then extra (YAML keys).
func procConfig(t *testing.T, dir, ddbEndpoint, extra string) string {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-"+fmt.Sprint(time.Now().UnixNano())+".yaml")
	body := fmt.Sprintf("sources:\n  - name: local\n    region: us-east-1\n    endpoint: %s\n    access_key_id: test\n    secret_access_key: test\n%s", ddbEndpoint, extra)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// stop sends sig to the server and waits for it to exit (guarding against a
// hang only); it returns the exit code.
func (p *proc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return p.wait(t)
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(3 * time.Minute):
		out, _ := os.ReadFile(p.log)
		t.Fatalf("cairn server did not exit; its log:\n%s", out)
		return -1
	}
}

// waitLog waits until the server's log holds want.
func (p *proc) waitLog(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(p.log); bytes.Contains(b, []byte(want)) {
			return
		}
	}
	out, _ := os.ReadFile(p.log)
	t.Fatalf("the server's log never said %q:\n%s", want, out)
}

// startSlowBackup starts a backup of table held to readRate and waits until
// it has read something.
func startSlowBackup(t *testing.T, c *bk.Client, table string, readRate int) string {
	t.Helper()
	out, err := c.StartBackupJob(context.Background(), &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + table), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"ReadRate": fmt.Sprint(readRate), "Segments": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	waitProgress(t, func() bool {
		j, err := c.DescribeBackupJob(context.Background(), &bk.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
		if err == nil && j.State != bktypes.BackupJobStateRunning && j.State != bktypes.BackupJobStateCreated && j.State != bktypes.BackupJobStatePending {
			t.Fatalf("backup job %s %q", j.State, aws.ToString(j.StatusMessage))
		}
		return err == nil && j.State == bktypes.BackupJobStateRunning && aws.ToInt64(j.BytesTransferred) > 0
	})
	return aws.ToString(out.BackupJobId)
}

// runCairn runs the cairn binary with args and returns its combined output
// and exit code; one still running after two minutes is killed.
func runCairn(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cairnBinary(t), args...)
	cmd.Env = testbed.Env()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// A second `cairn server` on a data dir another one uses exits at once
// with a message naming the first one's pid, having changed nothing: the
// first one's backup goes on, completes and restores.
func TestSecondServerOnSameDataDir(t *testing.T) {
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "slow", ddbjson.TypeS, false)
	seedRandom(t, db, "slow", 3000)
	_, wantSum := tableChecksum(t, db, "slow")
	dir := filepath.Join(t.TempDir(), "data")
	a := startProcWith(t, dir, dyn.Endpoint, "")
	c, err := procClient(dir, a.addr)
	if err != nil {
		t.Fatal(err)
	}
	id := startSlowBackup(t, c, "slow", 25)
	cfg := procConfig(t, dir, dyn.Endpoint, "")

	// B on another port, then B with A's own address: the same refusal.
	for _, listen := range []string{fmt.Sprintf("127.0.0.1:%d", testbed.FreePort(t)), a.addr} {
		out, code := runCairn(t, "server", "--listen", listen, "--data-dir", dir, "--config", cfg)
		if code == 0 || !strings.Contains(out, fmt.Sprintf("pid %d", a.cmd.Process.Pid)) || !strings.Contains(out, dir) ||
			!strings.Contains(out, "in use by cairn server") {
			t.Fatalf("second server on %s: exit %d, output:\n%s", listen, code, out)
		}
		j, err := c.DescribeBackupJob(context.Background(), &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil || j.State != bktypes.BackupJobStateRunning {
			t.Fatalf("first server's job after the second server's start: %v %v", j.State, err)
		}
	}
	j := waitBackupJob(t, c, id)
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("first server's job: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), "slow-restored", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	if _, got := tableChecksum(t, db, "slow-restored"); got != wantSum {
		t.Fatalf("restored checksum %s, want %s", got, wantSum)
	}
	if code := a.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("graceful stop: exit %d", code)
	}
	// Once the first one is gone, a server starts on the data dir.
	startProcWith(t, dir, dyn.Endpoint, "")
}

// A start that fails on bad input creates nothing: no data dir, no key
// pair, no vault; and a start refused by the lock changes nothing in the
// data dir.
func TestFailedStartChangesNothing(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "never")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	badCfg := filepath.Join(base, "bad.yaml")
	os.WriteFile(badCfg, []byte("listen: 127.0.0.1:0\nmax_jobz: 3\n"), 0o600)
	for name, args := range map[string][]string{
		"listen syntax":  {"--listen", "127.0.0.1"},
		"listen port":    {"--listen", "127.0.0.1:99999"},
		"port in use":    {"--listen", busy.Addr().String()},
		"unknown key":    {"--config", badCfg},
		"tls half":       {"--listen", "127.0.0.1:0", "--tls-cert", filepath.Join(base, "cert.pem")},
		"tls missing":    {"--listen", "127.0.0.1:0", "--tls-cert", filepath.Join(base, "cert.pem"), "--tls-key", filepath.Join(base, "key.pem")},
		"grace negative": {"--listen", "127.0.0.1:0", "--shutdown-grace", "-1s"},
		"log format":     {"--listen", "127.0.0.1:0", "--log-format", "xml"},
	} {
		out, code := runCairn(t, append([]string{"server", "--data-dir", dir}, args...)...)
		if code == 0 {
			t.Fatalf("%s: the server started:\n%s", name, out)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: a failed start created %s (%v); output:\n%s", name, dir, err, out)
		}
	}
}

// SIGTERM does not fail running jobs. A second signal during the grace
// period stops at once; a job still running when the grace period ends
// goes back to the queue; after the restart it runs and completes; a job
// that finishes within the grace period completes before the process
// exits.
func TestSIGTERMDuringBackups(t *testing.T) {
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "nightly", ddbjson.TypeS, false)
	seedRandom(t, db, "nightly", 6000)
	_, wantSum := tableChecksum(t, db, "nightly")
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()

	// 1. A long grace period, cut short by a second signal.
	p := startProcWith(t, dir, dyn.Endpoint, "shutdown_grace: 1h\n")
	c, _ := procClient(dir, p.addr)
	id := startSlowBackup(t, c, "nightly", 20)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "stopping: signal received")
	// While it waits for the job, reads work and new work is refused.
	if _, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)}); err != nil {
		out, _ := os.ReadFile(p.log)
		t.Fatalf("a read while stopping: %v\n%s", err, out)
	}
	_, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/nightly"), IamRoleArn: aws.String(role)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailableException" || !strings.Contains(ae.ErrorMessage(), "shutting down") {
		out, _ := os.ReadFile(p.log)
		t.Fatalf("StartBackupJob while stopping: %v\n%s", err, out)
	}
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("stop at the second signal: exit %d", code)
	}

	// 2. The job was queued again; a short grace period ends before it
	// does: queued again once more.
	p = startProcWith(t, dir, dyn.Endpoint, "shutdown_grace: 1s\n")
	c, _ = procClient(dir, p.addr)
	j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	if err != nil || (j.State != bktypes.BackupJobStatePending && j.State != bktypes.BackupJobStateRunning) {
		t.Fatalf("job after a stop at the second signal: %v %v", j.State, err)
	}
	waitProgress(t, func() bool {
		j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		return err == nil && j.State == bktypes.BackupJobStateRunning && aws.ToInt64(j.BytesTransferred) > 0
	})
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("stop after the grace period: exit %d", code)
	}
	p.waitLog(t, "backup job stopped by the server's shutdown")

	// 3. A grace period long enough: SIGTERM waits for the job, which
	// completes before the process exits.
	p = startProcWith(t, dir, dyn.Endpoint, "shutdown_grace: 5m\n")
	c, _ = procClient(dir, p.addr)
	j, err = c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	if err != nil || j.State == bktypes.BackupJobStateFailed || j.State == bktypes.BackupJobStateCompleted {
		t.Fatalf("job after a stop after the grace period: %v %q %v", j.State, aws.ToString(j.StatusMessage), err)
	}
	waitProgress(t, func() bool {
		j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		return err == nil && j.State == bktypes.BackupJobStateRunning
	})
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("graceful stop: exit %d", code)
	}
	p.waitLog(t, "backup job completed")

	p = startProcWith(t, dir, dyn.Endpoint, "")
	c, _ = procClient(dir, p.addr)
	j, err = c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
	if err != nil || j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("job after the graceful stop: %v %q %v", j.State, aws.ToString(j.StatusMessage), err)
	}
	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), "nightly-restored", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	if _, got := tableChecksum(t, db, "nightly-restored"); got != wantSum {
		t.Fatalf("restored checksum %s, want %s", got, wantSum)
	}
	pts, err := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("Default")})
	if err != nil || len(pts.RecoveryPoints) != 1 {
		t.Fatalf("recovery points: %v %v, want only the completed one", pts, err)
	}
}

// `cairn catalog rebuild` takes the data dir's lock as the server does: it
// does not run beside a server, and runs once the server has stopped.
func TestCatalogRebuildTakesTheLock(t *testing.T) {
	m := openServer(t, nil)
	_, _, err := cairnRun(t, "catalog", "rebuild", "--data-dir", m.Config.DataDir)
	if !errors.Is(err, datadir.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("cairn server (pid %d", os.Getpid())) {
		t.Fatalf("rebuild beside a server: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if out, errb, err := cairnRun(t, "catalog", "rebuild", "--data-dir", m.Config.DataDir); err != nil {
		t.Fatalf("rebuild after the server stopped: %v\n%s%s", err, out, errb)
	}
}

// An S3 vault whose endpoint is down does not keep the server from
// starting. A DeleteRecoveryPoint that cannot reach it answers as AWS does
// and leaves the point DELETING; the next start skips the vault, says so,
// serves the API, and finishes the deletion in the background once the
// endpoint is back.
func TestServerStartsWithS3VaultDown(t *testing.T) {
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "offsite-table", ddbjson.TypeS, false)
	seedRandom(t, db, "offsite-table", 200)
	dir := filepath.Join(t.TempDir(), "data")
	extra := fmt.Sprintf("storage:\n  s3_endpoints:\n    - name: versity\n      url: %s\n      access_key_id: %s\n      secret_access_key: %s\n"+
		"lifecycle_interval: 1s\nstartup_vault_timeout: 2s\n", s3.Endpoint, s3.AccessKey, s3.SecretKey)
	p := startProcWith(t, dir, dyn.Endpoint, extra)
	c, _ := procClient(dir, p.addr)
	ctx := context.Background()
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("offsite"),
		BackupVaultTags: map[string]string{"cairn:storage": "s3://cairn-down/vaults/offsite", "cairn:s3-endpoint": "versity"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("offsite"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/offsite-table"), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	j := waitBackupJob(t, c, aws.ToString(out.BackupJobId))
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup into S3: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	point := &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("offsite"), RecoveryPointArn: j.RecoveryPointArn}

	s3.Stop() // its port is closed now
	if _, err := c.DeleteRecoveryPoint(ctx, &bk.DeleteRecoveryPointInput{BackupVaultName: aws.String("offsite"),
		RecoveryPointArn: j.RecoveryPointArn}); err != nil {
		t.Fatalf("DeleteRecoveryPoint with the S3 endpoint down: %v", err)
	}
	if rp, err := c.DescribeRecoveryPoint(ctx, point); err != nil || rp.Status != bktypes.RecoveryPointStatusDeleting {
		t.Fatalf("point after a deletion that could not reach S3: %v %v", rp, err)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}

	p = startProcWith(t, dir, dyn.Endpoint, extra)
	p.waitLog(t, "could not be reached at start")
	c, _ = procClient(dir, p.addr)
	if rp, err := c.DescribeRecoveryPoint(ctx, point); err != nil || rp.Status != bktypes.RecoveryPointStatusDeleting {
		t.Fatalf("point after the restart: %v %v", rp, err)
	}
	s3.Restart(t)
	waitProgress(t, func() bool {
		_, err := c.DescribeRecoveryPoint(ctx, point)
		var ae smithy.APIError
		return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
	})
	id := aws.ToString(j.RecoveryPointArn)[strings.LastIndex(aws.ToString(j.RecoveryPointArn), ":")+1:]
	filepath.WalkDir(s3.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(p, id) && !d.IsDir() {
			t.Errorf("object of the deleted point left: %s", p)
		}
		return nil
	})
}
