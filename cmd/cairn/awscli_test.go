package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// testServerS3 is testServer with versitygw's key pair as the credentials
// for S3 vault storage.
func testServerS3(t *testing.T, dir, ddbEndpoint string, s3 *testbed.S3) *Main {
	t.Helper()
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: dir,
			Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: ddbEndpoint, AccessKeyID: "test", SecretAccessKey: "test"}},
			Storage: StorageConfig{S3Endpoints: []S3EndpointConfig{{Name: "versity", URL: s3.Endpoint,
				AccessKeyID: s3.AccessKey, SecretAccessKey: s3.SecretKey}}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// awsCLI runs the real AWS CLI against one cairn server with one key pair.
type awsCLI struct {
	t        *testing.T
	bin      string
	endpoint string
	env      []string
}

func newAWSCLI(t *testing.T, m *Main, accessKey, secretKey string) *awsCLI {
	t.Helper()
	return &awsCLI{t: t, bin: testbed.AWSCLI(t), endpoint: "http://" + m.Addr,
		env: testbed.Env("AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey)}
}

// run runs `aws backup ARGS` and returns its stdout, stderr and exit code.
func (a *awsCLI) run(args ...string) (stdout, stderr string, code int) {
	a.t.Helper()
	full := append([]string{"backup"}, args...)
	full = append(full, "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.Command(a.bin, full...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		a.t.Fatalf("aws %s: %v", strings.Join(full, " "), err)
	}
	return out.String(), errb.String(), code
}

// ok runs `aws backup ARGS`, requires exit code 0 and decodes the output.
func (a *awsCLI) ok(args ...string) map[string]any {
	a.t.Helper()
	out, errb, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws backup %s: exit %d: %s", strings.Join(args, " "), code, errb)
	}
	v := map[string]any{}
	if strings.TrimSpace(out) != "" {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			a.t.Fatalf("aws backup %s: output %q: %v", args[0], out, err)
		}
	}
	return v
}

// fails runs `aws backup ARGS` and requires it to fail with the AWS error
// named want on stderr.
func (a *awsCLI) fails(want string, args ...string) string {
	a.t.Helper()
	out, errb, code := a.run(args...)
	if code == 0 || !strings.Contains(errb, want) {
		a.t.Fatalf("aws backup %s: exit %d, want failure with %s; stdout %s stderr %s", strings.Join(args, " "), code, want, out, errb)
	}
	return errb
}

// jsonList returns the objects of v[key], which must be a JSON array.
func jsonList(t *testing.T, v map[string]any, key string) []map[string]any {
	t.Helper()
	arr, ok := v[key].([]any)
	if !ok {
		t.Fatalf("output has no array %s: %v", key, v)
	}
	var out []map[string]any
	for _, e := range arr {
		out = append(out, e.(map[string]any))
	}
	return out
}

// jsonStr returns v[key] as a string, "" if absent.
func jsonStr(v map[string]any, key string) string {
	s, _ := v[key].(string)
	return s
}

// jsonNum returns v[key] as a number, -1 if absent.
func jsonNum(v map[string]any, key string) float64 {
	if n, ok := v[key].(float64); ok {
		return n
	}
	return -1
}

// poll runs a describe command until field of its output is one of the final
// values and returns the output.
func (a *awsCLI) poll(field string, final []string, args ...string) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		v := a.ok(args...)
		if slices.Contains(final, jsonStr(v, field)) {
			return v
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.t.Fatalf("aws backup %s: %s never reached %v", strings.Join(args, " "), field, final)
	return nil
}

// bucketFiles lists the files versitygw holds under bucket/prefix, as keys
// relative to prefix.
func bucketFiles(t *testing.T, s3 *testbed.S3, bucket, prefix string) []string {
	t.Helper()
	root := filepath.Join(s3.Dir, bucket, filepath.FromSlash(prefix))
	var keys []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk versitygw dir: %v", err)
	}
	return keys
}

// TestAWSCLIEndToEnd drives a real server with the unmodified AWS CLI
// (awscli 1, botocore's signer, serializers and parsers): vaults on local
// disk and on versitygw, a backup of a dynalite table into S3, the
// recovery point's APIs, a restore into a new table, and deletion.
func TestAWSCLIEndToEnd(t *testing.T) {
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	testbed.AWSCLI(t)
	dir := t.TempDir()
	m := testServerS3(t, dir, dyn.Endpoint, s3)
	awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	db := ddbClient(dyn.Endpoint)

	const table, restored, bucket, prefix = "orders", "orders-restored", "cairn-cli", "team/backups"
	tableARN := "arn:aws:dynamodb:us-east-1:000000000000:table/" + table
	createTable(t, db, table, ddbjson.TypeS, false)
	seedRandom(t, db, table, 500)
	wantN, wantSum := tableChecksum(t, db, table)

	// Vaults: one on versitygw, one on local disk.
	v := awscli.ok("create-backup-vault", "--backup-vault-name", "s3vault",
		"--backup-vault-tags", "cairn:storage=s3://"+bucket+"/"+prefix+",cairn:s3-endpoint="+s3.Endpoint+",team=data")
	if jsonStr(v, "BackupVaultName") != "s3vault" || !strings.HasSuffix(jsonStr(v, "BackupVaultArn"), ":backup-vault:s3vault") || v["CreationDate"] == nil {
		t.Fatalf("create-backup-vault: %v", v)
	}
	awscli.ok("create-backup-vault", "--backup-vault-name", "plain")
	awscli.fails("AlreadyExistsException", "create-backup-vault", "--backup-vault-name", "plain")

	v = awscli.ok("describe-backup-vault", "--backup-vault-name", "s3vault")
	if jsonStr(v, "BackupVaultName") != "s3vault" || jsonNum(v, "NumberOfRecoveryPoints") != 0 {
		t.Fatalf("describe-backup-vault: %v", v)
	}
	var names []string
	for _, bv := range jsonList(t, awscli.ok("list-backup-vaults"), "BackupVaultList") {
		names = append(names, jsonStr(bv, "BackupVaultName"))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Default", "plain", "s3vault"}) {
		t.Fatalf("list-backup-vaults: %v", names)
	}

	// A backup into the S3 vault.
	before := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	v = awscli.ok("start-backup-job", "--backup-vault-name", "s3vault", "--resource-arn", tableARN,
		"--iam-role-arn", "arn:aws:iam::000000000000:role/x")
	jobID := jsonStr(v, "BackupJobId")
	if jobID == "" || v["CreationDate"] == nil {
		t.Fatalf("start-backup-job: %v", v)
	}
	job := awscli.poll("State", []string{"COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"},
		"describe-backup-job", "--backup-job-id", jobID)
	if jsonStr(job, "State") != "COMPLETED" {
		t.Fatalf("backup job ended %s: %s", jsonStr(job, "State"), jsonStr(job, "StatusMessage"))
	}
	rpARN := jsonStr(job, "RecoveryPointArn")
	if jsonStr(job, "ResourceType") != "DynamoDB" || jsonStr(job, "ResourceArn") != tableARN || jsonStr(job, "BackupVaultName") != "s3vault" ||
		jsonNum(job, "BackupSizeInBytes") <= 0 || rpARN == "" || job["CompletionDate"] == nil {
		t.Fatalf("describe-backup-job: %v", job)
	}

	jobs := jsonList(t, awscli.ok("list-backup-jobs", "--by-state", "COMPLETED", "--by-resource-arn", tableARN, "--by-created-after", before), "BackupJobs")
	if len(jobs) != 1 || jsonStr(jobs[0], "BackupJobId") != jobID || jsonStr(jobs[0], "State") != "COMPLETED" ||
		jsonStr(jobs[0], "ResourceType") != "DynamoDB" || jsonNum(jobs[0], "BackupSizeInBytes") <= 0 {
		t.Fatalf("list-backup-jobs: %v", jobs)
	}
	for name, args := range map[string][]string{
		"other state":    {"--by-state", "FAILED"},
		"other resource": {"--by-resource-arn", "arn:aws:dynamodb:us-east-1:000000000000:table/other"},
		"created later":  {"--by-created-after", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
	} {
		if jobs := jsonList(t, awscli.ok(append([]string{"list-backup-jobs"}, args...)...), "BackupJobs"); len(jobs) != 0 {
			t.Errorf("list-backup-jobs %s: %v, want none", name, jobs)
		}
	}

	// The recovery point.
	pts := jsonList(t, awscli.ok("list-recovery-points-by-backup-vault", "--backup-vault-name", "s3vault"), "RecoveryPoints")
	if len(pts) != 1 || jsonStr(pts[0], "RecoveryPointArn") != rpARN || jsonStr(pts[0], "Status") != "COMPLETED" ||
		jsonStr(pts[0], "ResourceArn") != tableARN || jsonStr(pts[0], "ResourceType") != "DynamoDB" {
		t.Fatalf("list-recovery-points-by-backup-vault: %v", pts)
	}
	if pts := jsonList(t, awscli.ok("list-recovery-points-by-backup-vault", "--backup-vault-name", "plain"), "RecoveryPoints"); len(pts) != 0 {
		t.Fatalf("plain vault holds points: %v", pts)
	}
	pts = jsonList(t, awscli.ok("list-recovery-points-by-resource", "--resource-arn", tableARN), "RecoveryPoints")
	if len(pts) != 1 || jsonStr(pts[0], "RecoveryPointArn") != rpARN || jsonStr(pts[0], "BackupVaultName") != "s3vault" {
		t.Fatalf("list-recovery-points-by-resource: %v", pts)
	}
	rp := awscli.ok("describe-recovery-point", "--backup-vault-name", "s3vault", "--recovery-point-arn", rpARN)
	if jsonStr(rp, "Status") != "COMPLETED" || jsonStr(rp, "ResourceArn") != tableARN || jsonStr(rp, "BackupVaultName") != "s3vault" ||
		jsonNum(rp, "BackupSizeInBytes") <= 0 || jsonStr(rp, "ResourceType") != "DynamoDB" {
		t.Fatalf("describe-recovery-point: %v", rp)
	}
	md := awscli.ok("get-recovery-point-restore-metadata", "--backup-vault-name", "s3vault", "--recovery-point-arn", rpARN)
	meta, _ := md["RestoreMetadata"].(map[string]any)
	if jsonStr(md, "RecoveryPointArn") != rpARN || jsonStr(meta, "originalTableName") != table || jsonStr(meta, "ItemCount") != "500" {
		t.Fatalf("get-recovery-point-restore-metadata: %v", md)
	}
	if v := awscli.ok("describe-backup-vault", "--backup-vault-name", "s3vault"); jsonNum(v, "NumberOfRecoveryPoints") != 1 {
		t.Fatalf("describe-backup-vault after the backup: %v", v)
	}

	// The point's objects are in the bucket, under the vault's prefix, and
	// nothing of it is on local disk.
	id := pointID(rpARN)
	files := bucketFiles(t, s3, bucket, prefix+"/AWSDynamoDB/"+id)
	for _, want := range []string{"manifest-summary.json", "manifest-files.json", "cairn-metadata.json"} {
		if !slices.Contains(files, want) {
			t.Errorf("versitygw holds %v under the point's prefix, missing %s", files, want)
		}
	}
	if !slices.ContainsFunc(files, func(k string) bool { return strings.HasPrefix(k, "data/") }) {
		t.Errorf("versitygw holds no data file: %v", files)
	}
	summary, err := os.ReadFile(filepath.Join(s3.Dir, bucket, prefix, "AWSDynamoDB", id, "manifest-summary.json"))
	if err != nil || !json.Valid(summary) {
		t.Errorf("manifest-summary.json in versitygw: %v %q", err, summary)
	}
	filepath.WalkDir(filepath.Join(dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(p, id) {
			t.Errorf("recovery point data on local disk: %s", p)
		}
		return nil
	})

	// A restore into a new table.
	v = awscli.ok("start-restore-job", "--recovery-point-arn", rpARN, "--metadata", "TargetTableName="+restored,
		"--iam-role-arn", "arn:aws:iam::000000000000:role/x")
	restoreID := jsonStr(v, "RestoreJobId")
	if restoreID == "" {
		t.Fatalf("start-restore-job: %v", v)
	}
	r := awscli.poll("Status", []string{"COMPLETED", "FAILED", "ABORTED"}, "describe-restore-job", "--restore-job-id", restoreID)
	if jsonStr(r, "Status") != "COMPLETED" || jsonStr(r, "CreatedResourceArn") != "arn:aws:dynamodb:us-east-1:000000000000:table/"+restored ||
		jsonStr(r, "RecoveryPointArn") != rpARN {
		t.Fatalf("describe-restore-job: %v", r)
	}
	if n, sum := tableChecksum(t, db, restored); n != wantN || sum != wantSum {
		t.Fatalf("restored table: %d items %s, source %d items %s", n, sum, wantN, wantSum)
	}
	rjobs := jsonList(t, awscli.ok("list-restore-jobs"), "RestoreJobs")
	if len(rjobs) != 1 || jsonStr(rjobs[0], "RestoreJobId") != restoreID || jsonStr(rjobs[0], "Status") != "COMPLETED" {
		t.Fatalf("list-restore-jobs: %v", rjobs)
	}
	res := jsonList(t, awscli.ok("list-protected-resources"), "Results")
	if len(res) != 1 || jsonStr(res[0], "ResourceArn") != tableARN || jsonStr(res[0], "ResourceType") != "DynamoDB" {
		t.Fatalf("list-protected-resources: %v", res)
	}

	// Deletion: a vault with points stays; the point goes, with its objects.
	errb := awscli.fails("InvalidRequestException", "delete-backup-vault", "--backup-vault-name", "s3vault")
	if !strings.Contains(errb, "DeleteBackupVault") {
		t.Errorf("delete-backup-vault stderr does not name the operation: %s", errb)
	}
	awscli.ok("describe-backup-vault", "--backup-vault-name", "s3vault")
	awscli.ok("delete-recovery-point", "--backup-vault-name", "s3vault", "--recovery-point-arn", rpARN)
	awscli.fails("ResourceNotFoundException", "describe-recovery-point", "--backup-vault-name", "s3vault", "--recovery-point-arn", rpARN)
	if pts := jsonList(t, awscli.ok("list-recovery-points-by-backup-vault", "--backup-vault-name", "s3vault"), "RecoveryPoints"); len(pts) != 0 {
		t.Fatalf("recovery points after delete: %v", pts)
	}
	if files := bucketFiles(t, s3, bucket, prefix+"/AWSDynamoDB/"+id); len(files) != 0 {
		t.Fatalf("versitygw still holds the deleted point's objects: %v", files)
	}
	awscli.ok("delete-backup-vault", "--backup-vault-name", "s3vault")
	awscli.ok("delete-backup-vault", "--backup-vault-name", "plain")
	awscli.fails("ResourceNotFoundException", "describe-backup-vault", "--backup-vault-name", "s3vault")
	if vs := jsonList(t, awscli.ok("list-backup-vaults"), "BackupVaultList"); len(vs) != 1 || jsonStr(vs[0], "BackupVaultName") != "Default" {
		t.Fatalf("list-backup-vaults after deletes: %v", vs)
	}
}

// TestAWSCLIErrors: the AWS CLI sees AWS's errors, and requests that fail
// authentication change nothing.
func TestAWSCLIErrors(t *testing.T) {
	dyn := testbed.Dynalite(t)
	testbed.AWSCLI(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	good := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	createTable(t, ddbClient(dyn.Endpoint), "present", ddbjson.TypeS, false)

	t.Run("unknown job", func(t *testing.T) {
		_, errb, code := good.run("describe-backup-job", "--backup-job-id", "00000000-0000-0000-0000-000000000000")
		if code != 254 && code != 255 {
			t.Errorf("exit code %d, want 254 or 255", code)
		}
		if !strings.Contains(errb, "ResourceNotFoundException") {
			t.Errorf("stderr %s", errb)
		}
	})
	t.Run("unknown vault", func(t *testing.T) {
		good.fails("ResourceNotFoundException", "start-backup-job", "--backup-vault-name", "nope",
			"--resource-arn", "arn:aws:dynamodb:us-east-1:000000000000:table/present", "--iam-role-arn", "arn:aws:iam::000000000000:role/x")
	})
	t.Run("unknown table", func(t *testing.T) {
		// Accepted at once; the job finds the table missing (13.6).
		j := good.ok("start-backup-job", "--backup-vault-name", "Default",
			"--resource-arn", "arn:aws:dynamodb:us-east-1:000000000000:table/absent", "--iam-role-arn", "arn:aws:iam::000000000000:role/x")
		done := good.poll("State", []string{"COMPLETED", "FAILED"}, "describe-backup-job", "--backup-job-id", jsonStr(j, "BackupJobId"))
		if jsonStr(done, "State") != "FAILED" || !strings.Contains(jsonStr(done, "StatusMessage"), "table absent was not found in DynamoDB source") {
			t.Errorf("backup job of an unknown table: %v", done)
		}
	})

	wrongSecret := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey+"x")
	unknownKey := newAWSCLI(t, m, "AKIDUNKNOWN", m.Keys.SecretAccessKey)
	for name, c := range map[string]struct {
		cli  *awsCLI
		want string
	}{
		"wrong secret": {wrongSecret, "InvalidSignatureException"},
		"unknown key":  {unknownKey, "UnrecognizedClientException"},
	} {
		t.Run(name, func(t *testing.T) {
			c.cli.fails(c.want, "create-backup-vault", "--backup-vault-name", "intruder")
			c.cli.fails(c.want, "start-backup-job", "--backup-vault-name", "Default",
				"--resource-arn", "arn:aws:dynamodb:us-east-1:000000000000:table/present", "--iam-role-arn", "arn:aws:iam::000000000000:role/x")
			c.cli.fails(c.want, "list-backup-vaults")
		})
	}
	if vs := jsonList(t, good.ok("list-backup-vaults"), "BackupVaultList"); len(vs) != 1 || jsonStr(vs[0], "BackupVaultName") != "Default" {
		t.Fatalf("vaults after refused requests: %v", vs)
	}
	// The one job is the unknown table's, accepted and FAILED.
	if jobs := jsonList(t, good.ok("list-backup-jobs"), "BackupJobs"); len(jobs) != 1 || jsonStr(jobs[0], "ResourceName") != "absent" {
		t.Fatalf("jobs after refused requests: %v", jobs)
	}
}

// TestUnsignedRequests: requests without a signature get 403 and change
// nothing.
func TestUnsignedRequests(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	base := "http://" + m.Addr
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPut, "/backup-vaults/x", `{}`},
		{http.MethodPost, "/backup-vaults/x", `{}`},
		{http.MethodGet, "/backup-vaults/", ``},
		{http.MethodPut, "/backup-jobs", `{"BackupVaultName":"Default","ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/t","IamRoleArn":"arn:aws:iam::000000000000:role/x"}`},
		{http.MethodDelete, "/backup-vaults/Default", ``},
	} {
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		// An Authorization header that is not SigV4 is no better.
		for _, auth := range []string{"", "Basic eDp5"} {
			if auth != "" {
				req.Header.Set("Authorization", auth)
				req.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") == "" {
				t.Errorf("%s %s (Authorization %q): %d %s %s, want 403 with an error type", tc.method, tc.path, auth,
					resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
			}
		}
	}
	c := backupClient(m)
	ctx := context.Background()
	vs, err := c.ListBackupVaults(ctx, &bk.ListBackupVaultsInput{})
	if err != nil || len(vs.BackupVaultList) != 1 || aws.ToString(vs.BackupVaultList[0].BackupVaultName) != "Default" {
		t.Fatalf("vaults after unsigned requests: %v %+v", err, vs)
	}
	jobs, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{})
	if err != nil || len(jobs.BackupJobs) != 0 {
		t.Fatalf("jobs after unsigned requests: %v %+v", err, jobs)
	}
}
