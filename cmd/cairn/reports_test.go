package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/report"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// waitReportJob polls DescribeReportJob until the job has ended.
func waitReportJob(t *testing.T, c *bk.Client, id string) *bktypes.ReportJob {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := c.DescribeReportJob(t.Context(), &bk.DescribeReportJobInput{ReportJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeReportJob %s: %v", id, err)
		}
		if s := aws.ToString(out.ReportJob.Status); s == "COMPLETED" || s == "FAILED" {
			return out.ReportJob
		}
		if time.Now().After(deadline) {
			t.Fatalf("report job %s did not end: %+v", id, out.ReportJob)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantAPIError(t *testing.T, err error, code, contains string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), contains) {
		t.Fatalf("got %v, want %s saying %q", err, code, contains)
	}
}

// reportReader is a reader of delivered reports that cairn did not write:
// Python's csv and json modules. It checks that both files hold the
// template's columns in order, the same rows, and the given ids in the
// given column; it prints the number of rows.
const reportReader = `
import csv, json, sys
spec = json.loads(sys.argv[1])
cols, idcol, ids = spec["columns"], spec["idColumn"], spec["ids"] or []
rows = {}
for path in spec["files"]:
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            r = csv.reader(f)
            header = next(r)
            assert header == cols, ("csv header", header)
            items = [dict(zip(header, row)) for row in r]
            for it in items:
                assert len(it) == len(cols)
        rows["csv"] = items
    else:
        with open(path) as f:
            doc = json.load(f)
        items = doc["reportItems"]
        for it in items:
            assert list(it.keys()) == cols, ("json keys", list(it.keys()))
        rows["json"] = items
for kind, items in rows.items():
    got = [it[idcol] for it in items]
    for want in ids:
        assert want in got, (kind, want, got)
if "csv" in rows and "json" in rows:
    assert len(rows["csv"]) == len(rows["json"])
    for c, j in zip(rows["csv"], rows["json"]):
        for k in cols:
            v = j[k]
            if v is None: v = ""
            elif isinstance(v, bool): v = "true" if v else "false"
            elif isinstance(v, (dict, list)): v = json.dumps(v, separators=(",", ":"))
            else: v = str(v)
            assert c[k] == v, (k, c[k], v)
for kind, items in rows.items():
    for it in items:
        for k, want in (spec.get("equal") or {}).items():
            if it[idcol] in ids:
                assert str(it[k]) == want, (kind, k, it[k], want)
print(len(next(iter(rows.values()))))
`

// readReports runs reportReader over files.
func readReports(t *testing.T, template string, files []string, idColumn string, ids []string, equal map[string]string) string {
	t.Helper()
	spec, _ := json.Marshal(map[string]any{"columns": report.Columns(template), "files": files, "idColumn": idColumn, "ids": ids, "equal": equal})
	out, err := exec.Command(boto3(t), "-c", reportReader, string(spec)).CombinedOutput()
	if err != nil {
		t.Fatalf("python's reader of %v: %v\n%s", files, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestReportPlans: report plans and on-demand report jobs through the AWS
// SDK for Go, with the three job templates in CSV and JSON, delivered to
// the data dir, to an allowed directory and to versitygw, read back by
// Python's csv and json modules (and boto3 for S3); bad input is refused
// and changes nothing.
func TestReportPlans(t *testing.T) {
	ddb := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	dir := t.TempDir()
	allowed := t.TempDir()
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
			Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: ddb.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}},
			Storage: StorageConfig{AllowedPaths: []string{allowed}, S3Endpoints: []S3EndpointConfig{{Name: "versity", URL: s3.Endpoint,
				AccessKeyID: s3.AccessKey, SecretAccessKey: s3.SecretKey}}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := backupClient(m)
	ctx := t.Context()

	// Something to report: a backup, a restore and a copy.
	db := ddbClient(ddb.Endpoint)
	createTable(t, db, "orders", "S", false)
	seedRandom(t, db, "orders", 50)
	backupID := startBackup(t, c, "orders")
	bj := waitBackupJob(t, c, backupID)
	restoreID := startRestore(t, c, aws.ToString(bj.RecoveryPointArn), "orders_copy", false)
	waitRestoreJob(t, c, restoreID)
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("copies")}); err != nil {
		t.Fatal(err)
	}
	cj, err := c.StartCopyJob(ctx, &bk.StartCopyJobInput{RecoveryPointArn: bj.RecoveryPointArn, SourceBackupVaultName: aws.String("Default"),
		DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:copies"),
		IamRoleArn:                aws.String("arn:aws:iam::000000000000:role/backup")})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		d, err := c.DescribeCopyJob(ctx, &bk.DescribeCopyJobInput{CopyJobId: cj.CopyJobId})
		if err != nil {
			t.Fatal(err)
		}
		if d.CopyJob.State == bktypes.CopyJobStateCompleted {
			break
		}
		if d.CopyJob.State == bktypes.CopyJobStateFailed || time.Now().After(deadline) {
			t.Fatalf("copy job: %+v", d.CopyJob)
		}
	}

	plan := func(name, template, prefix string, formats []string, tags map[string]string) *bk.CreateReportPlanOutput {
		t.Helper()
		in := &bk.CreateReportPlanInput{ReportPlanName: aws.String(name),
			ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports"), Formats: formats},
			ReportSetting:         &bktypes.ReportSetting{ReportTemplate: aws.String(template)}, ReportPlanTags: tags}
		if prefix != "" {
			in.ReportDeliveryChannel.S3KeyPrefix = aws.String(prefix)
		}
		out, err := c.CreateReportPlan(ctx, in)
		if err != nil {
			t.Fatalf("CreateReportPlan %s: %v", name, err)
		}
		return out
	}
	run := func(name string) *bktypes.ReportJob {
		t.Helper()
		out, err := c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String(name)})
		if err != nil {
			t.Fatalf("StartReportJob %s: %v", name, err)
		}
		j := waitReportJob(t, c, aws.ToString(out.ReportJobId))
		if aws.ToString(j.Status) != "COMPLETED" {
			t.Fatalf("report job of %s: %+v (%s)", name, j, aws.ToString(j.StatusMessage))
		}
		return j
	}
	localFiles := func(root string, j *bktypes.ReportJob) []string {
		var files []string
		for _, k := range j.ReportDestination.S3Keys {
			files = append(files, filepath.Join(root, filepath.FromSlash(k)))
		}
		return files
	}

	// The three job templates, both formats, in the data dir.
	bp := plan("backups_daily", "BACKUP_JOB_REPORT", "cairn/audit", []string{"CSV", "JSON"}, nil)
	j := run("backups_daily")
	if aws.ToString(j.ReportPlanArn) != aws.ToString(bp.ReportPlanArn) || aws.ToString(j.ReportTemplate) != "BACKUP_JOB_REPORT" ||
		aws.ToString(j.ReportDestination.S3BucketName) != "audit-reports" || len(j.ReportDestination.S3Keys) != 2 {
		t.Fatalf("report job: %+v %+v", j, j.ReportDestination)
	}
	day := time.Now().UTC().Format("2006/01/02")
	if k := j.ReportDestination.S3Keys[0]; !strings.HasPrefix(k, "cairn/audit/Backup/us-east-1/"+day+"/backups_daily_") || !strings.HasSuffix(k, ".csv") {
		t.Fatalf("report key %s", k)
	}
	root := filepath.Join(m.Config.DataDir, "reports", "audit-reports")
	readReports(t, "BACKUP_JOB_REPORT", localFiles(root, j), "backupJobId", []string{backupID},
		map[string]string{"jobStatus": "COMPLETED", "resourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/orders",
			"backupVaultName": "Default", "resourceName": "orders"})

	plan("restores", "RESTORE_JOB_REPORT", "", []string{"JSON", "CSV"}, nil)
	j = run("restores")
	readReports(t, "RESTORE_JOB_REPORT", localFiles(root, j), "restoreJobId", []string{restoreID},
		map[string]string{"jobStatus": "COMPLETED", "resourceName": "orders_copy", "recoveryPointArn": aws.ToString(bj.RecoveryPointArn)})

	// An allowed directory of the operator's (cairn:report-dir).
	plan("copies", "COPY_JOB_REPORT", "p", nil, map[string]string{"cairn:report-dir": filepath.Join(allowed, "reports")})
	j = run("copies")
	if len(j.ReportDestination.S3Keys) != 1 || !strings.HasSuffix(j.ReportDestination.S3Keys[0], ".csv") {
		t.Fatalf("default format: %+v", j.ReportDestination)
	}
	readReports(t, "COPY_JOB_REPORT", localFiles(filepath.Join(allowed, "reports"), j), "copyJobId", []string{aws.ToString(cj.CopyJobId)},
		map[string]string{"jobStatus": "COMPLETED", "destinationBackupVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:copies"})

	// versitygw, read back with boto3.
	plan("to_s3", "BACKUP_JOB_REPORT", "reports/daily", []string{"CSV", "JSON"}, map[string]string{"cairn:s3-endpoint": "versity"})
	j = run("to_s3")
	out, err := exec.Command(boto3(t), "-c", s3ReportFetcher, s3.Endpoint, s3.AccessKey, s3.SecretKey, "audit-reports",
		strings.Join(j.ReportDestination.S3Keys, ","), t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 reading the reports from versitygw: %v\n%s", err, out)
	}
	readReports(t, "BACKUP_JOB_REPORT", strings.Fields(string(out)), "backupJobId", []string{backupID}, nil)

	// Describe, list, update, the plan's execution times.
	d, err := c.DescribeReportPlan(ctx, &bk.DescribeReportPlanInput{ReportPlanName: aws.String("backups_daily")})
	if err != nil {
		t.Fatal(err)
	}
	rp := d.ReportPlan
	if aws.ToString(rp.DeploymentStatus) != "COMPLETED" || rp.LastSuccessfulExecutionTime == nil || rp.LastAttemptedExecutionTime == nil ||
		aws.ToString(rp.ReportDeliveryChannel.S3KeyPrefix) != "cairn/audit" || len(rp.ReportDeliveryChannel.Formats) != 2 {
		t.Fatalf("DescribeReportPlan: %+v %+v", rp, rp.ReportDeliveryChannel)
	}
	lp, err := c.ListReportPlans(ctx, &bk.ListReportPlansInput{MaxResults: aws.Int32(2)})
	if err != nil || len(lp.ReportPlans) != 2 || lp.NextToken == nil {
		t.Fatalf("ListReportPlans page: %+v %v", lp, err)
	}
	if _, err := c.UpdateReportPlan(ctx, &bk.UpdateReportPlanInput{ReportPlanName: aws.String("restores"),
		ReportPlanDescription: aws.String("restores of the day"),
		ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports"), Formats: []string{"JSON"}}}); err != nil {
		t.Fatal(err)
	}
	j = run("restores")
	if len(j.ReportDestination.S3Keys) != 1 || !strings.HasSuffix(j.ReportDestination.S3Keys[0], ".json") {
		t.Fatalf("after the update: %+v", j.ReportDestination)
	}
	lj, err := c.ListReportJobs(ctx, &bk.ListReportJobsInput{ByReportPlanName: aws.String("restores"), ByStatus: aws.String("COMPLETED")})
	if err != nil || len(lj.ReportJobs) != 2 {
		t.Fatalf("ListReportJobs of restores: %+v %v", lj, err)
	}

	// Idempotency: one job per token.
	a, err := c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String("copies"), IdempotencyToken: aws.String("tok-1")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String("copies"), IdempotencyToken: aws.String("tok-1")})
	if err != nil || aws.ToString(a.ReportJobId) != aws.ToString(b.ReportJobId) {
		t.Fatalf("StartReportJob retried with its token: %v, %v %v", err, a.ReportJobId, b.ReportJobId)
	}
	waitReportJob(t, c, aws.ToString(a.ReportJobId))

	// Bad input changes nothing.
	before, _ := c.ListReportPlans(ctx, &bk.ListReportPlansInput{})
	for _, tc := range []struct {
		in         *bk.CreateReportPlanInput
		code, says string
	}{
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("scan"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("SCAN_JOB_REPORT")}},
			"InvalidParameterValueException", "malware"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("1bad"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}},
			"InvalidParameterValueException", "a letter first"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("backups_daily"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}},
			"AlreadyExistsException", "already exists"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("fmt"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports"), Formats: []string{"PDF"}},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}},
			"InvalidParameterValueException", "ReportDeliveryChannel.Formats[0]"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("dir"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}, ReportPlanTags: map[string]string{"cairn:report-dir": "/etc"}},
			"InvalidParameterValueException", "storage.allowed_paths"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("ep"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("audit-reports")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}, ReportPlanTags: map[string]string{"cairn:s3-endpoint": "elsewhere"}},
			"InvalidParameterValueException", "not one the server allows"},
		{&bk.CreateReportPlanInput{ReportPlanName: aws.String("nobucket"), ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("Not_A_Bucket")},
			ReportSetting: &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}},
			"InvalidParameterValueException", "S3BucketName"},
	} {
		_, err := c.CreateReportPlan(ctx, tc.in)
		wantAPIError(t, err, tc.code, tc.says)
	}
	after, _ := c.ListReportPlans(ctx, &bk.ListReportPlansInput{})
	if len(after.ReportPlans) != len(before.ReportPlans) {
		t.Fatalf("refused creations made plans: %d before, %d after", len(before.ReportPlans), len(after.ReportPlans))
	}
	_, err = c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "nope")
	_, err = c.DescribeReportJob(ctx, &bk.DescribeReportJobInput{ReportJobId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "ResourceNotFoundException", "not found")

	// Delete: the plan goes, its reports stay.
	if _, err := c.DeleteReportPlan(ctx, &bk.DeleteReportPlanInput{ReportPlanName: aws.String("backups_daily")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeReportPlan(ctx, &bk.DescribeReportPlanInput{ReportPlanName: aws.String("backups_daily")})
	wantAPIError(t, err, "ResourceNotFoundException", "backups_daily")
}

// s3ReportFetcher downloads report objects with boto3 and prints the local
// paths.
const s3ReportFetcher = `
import os, sys, boto3
from botocore.config import Config
endpoint, key, secret, bucket, keys, out = sys.argv[1:7]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
    region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
for k in keys.split(","):
    assert k in listed, (k, listed)
    path = os.path.join(out, os.path.basename(k))
    s3.download_file(bucket, k, path)
    print(path)
`

// TestReportDaily: a report plan makes one report a day, of the previous
// UTC day, from 01:00 UTC on, on a fake clock.
func TestReportDaily(t *testing.T) {
	ddb := testbed.Dynalite(t)
	fake := clock.NewFake(time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
			Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: ddb.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: fake,
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := backupClient(m)
	ctx := t.Context()
	db := ddbClient(ddb.Endpoint)
	createTable(t, db, "inventory", "S", false)
	seedRandom(t, db, "inventory", 20)

	// A plan made on the 8th; a backup on the 9th at 10:00.
	fake.Set(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))
	if _, err := c.CreateReportPlan(ctx, &bk.CreateReportPlanInput{ReportPlanName: aws.String("daily"),
		ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("reports"), Formats: []string{"JSON"}},
		ReportSetting:         &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}}); err != nil {
		t.Fatal(err)
	}
	fake.Set(time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC))
	backupID := startBackup(t, c, "inventory")
	waitBackupJob(t, c, backupID)

	tick := func(at time.Time) []bktypes.ReportJob {
		t.Helper()
		fake.Set(at)
		if err := m.Reports.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		m.Reports.Wait()
		out, err := c.ListReportJobs(ctx, &bk.ListReportJobsInput{ByReportPlanName: aws.String("daily")})
		if err != nil {
			t.Fatal(err)
		}
		return out.ReportJobs
	}
	// The 9th at 01:30: the report of the 8th (no backup then).
	jobs := tick(time.Date(2026, 3, 9, 1, 30, 0, 0, time.UTC))
	if len(jobs) != 1 || aws.ToString(jobs[0].Status) != "COMPLETED" {
		t.Fatalf("daily job of the 8th: %+v", jobs)
	}
	if n := readReports(t, "BACKUP_JOB_REPORT", []string{filepath.Join(m.Config.DataDir, "reports", "reports", jobs[0].ReportDestination.S3Keys[0])},
		"backupJobId", nil, nil); n != "0" {
		t.Fatalf("report of the 8th has %s rows, want 0", n)
	}
	// Later on the 9th: nothing more. The 10th at 00:59: not yet.
	for _, at := range []time.Time{time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 59, 0, 0, time.UTC)} {
		if jobs := tick(at); len(jobs) != 1 {
			t.Fatalf("at %s: %d jobs, want 1", at, len(jobs))
		}
	}
	// The 10th at 01:00: the report of the 9th, with the backup.
	jobs = tick(time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC))
	if len(jobs) != 2 || aws.ToString(jobs[0].Status) != "COMPLETED" {
		t.Fatalf("daily job of the 9th: %+v", jobs)
	}
	if !strings.Contains(jobs[0].ReportDestination.S3Keys[0], "Backup/us-east-1/2026/03/10/daily_") {
		t.Fatalf("key of the daily report: %s", jobs[0].ReportDestination.S3Keys[0])
	}
	readReports(t, "BACKUP_JOB_REPORT", []string{filepath.Join(m.Config.DataDir, "reports", "reports", jobs[0].ReportDestination.S3Keys[0])},
		"backupJobId", []string{backupID}, map[string]string{"reportTimePeriodStart": "2026-03-09T00:00:00Z", "reportTimePeriodEnd": "2026-03-10T00:00:00Z"})
	d, err := c.DescribeReportPlan(ctx, &bk.DescribeReportPlanInput{ReportPlanName: aws.String("daily")})
	if err != nil || !aws.ToTime(d.ReportPlan.LastSuccessfulExecutionTime).Equal(time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("LastSuccessfulExecutionTime: %+v %v", d.ReportPlan, err)
	}
	// A second tick the same day, as a second server would: still two.
	if jobs := tick(time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)); len(jobs) != 2 {
		t.Fatalf("after a second tick on the 10th: %d jobs", len(jobs))
	}
}

// holdingS3 is an S3 endpoint that, while holding, takes the start of each
// object upload and then waits forever: a report job is caught in the
// middle of delivering a file. Otherwise it stores objects.
type holdingS3 struct {
	mu      sync.Mutex
	holding bool
	objects map[string]int // key -> size
	deleted []string
	started chan string // the key of each held upload, once it began
	quit    chan struct{}
}

func (h *holdingS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	switch {
	case len(parts) == 1 || parts[1] == "":
		w.WriteHeader(http.StatusOK) // HeadBucket, CreateBucket
	case r.Method == http.MethodPut:
		h.mu.Lock()
		holding := h.holding
		h.mu.Unlock()
		if holding {
			buf := make([]byte, 16)
			io.ReadFull(r.Body, buf)
			select {
			case h.started <- parts[1]:
			default:
			}
			select { // until the client is gone
			case <-r.Context().Done():
			case <-h.quit:
			}
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		h.objects[parts[1]] = int(n)
		h.mu.Unlock()
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete:
		h.mu.Lock()
		delete(h.objects, parts[1])
		h.deleted = append(h.deleted, parts[1])
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestKillDuringReportJob SIGKILLs the server while a report job is
// delivering its file to an S3 endpoint. After a restart the job is
// FAILED with a reason (never COMPLETED), no object of it exists, the
// report completed before the kill is intact, and a new job completes.
func TestKillDuringReportJob(t *testing.T) {
	dyn := testbed.Dynalite(t)
	h := &holdingS3{objects: map[string]int{}, started: make(chan string, 4), quit: make(chan struct{})}
	fake := httptest.NewServer(h)
	t.Cleanup(fake.Close)
	t.Cleanup(func() { close(h.quit) })
	dir := filepath.Join(t.TempDir(), "data")
	extra := "storage:\n  s3_endpoints:\n    - name: slow\n      url: " + fake.URL + "\n      access_key_id: k\n      secret_access_key: s\n"
	p := startProcWith(t, dir, dyn.Endpoint, extra)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	mk := func(name string, tags map[string]string) {
		t.Helper()
		if _, err := c.CreateReportPlan(ctx, &bk.CreateReportPlanInput{ReportPlanName: aws.String(name),
			ReportDeliveryChannel: &bktypes.ReportDeliveryChannel{S3BucketName: aws.String("reports"), Formats: []string{"CSV", "JSON"}},
			ReportSetting:         &bktypes.ReportSetting{ReportTemplate: aws.String("BACKUP_JOB_REPORT")}, ReportPlanTags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	mk("local", nil)
	mk("remote", map[string]string{"cairn:s3-endpoint": "slow"})
	start := func(name string) string {
		t.Helper()
		out, err := c.StartReportJob(ctx, &bk.StartReportJobInput{ReportPlanName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ReportJobId)
	}
	done := waitReportJob(t, c, start("local"))
	if aws.ToString(done.Status) != "COMPLETED" {
		t.Fatalf("local report: %+v", done)
	}

	h.mu.Lock()
	h.holding = true
	h.mu.Unlock()
	killed := start("remote")
	select {
	case key := <-h.started:
		if !strings.Contains(key, killed) {
			t.Fatalf("held upload %s is not of job %s", key, killed)
		}
	case <-time.After(time.Minute):
		t.Fatal("the report job never began its upload")
	}
	j, err := c.DescribeReportJob(ctx, &bk.DescribeReportJobInput{ReportJobId: aws.String(killed)})
	if err != nil || aws.ToString(j.ReportJob.Status) != "RUNNING" {
		t.Fatalf("report job during its upload: %+v %v", j, err)
	}
	p.kill(t)
	h.mu.Lock()
	h.holding = false
	h.mu.Unlock()

	p = startProcWith(t, dir, dyn.Endpoint, extra)
	c, _ = procClient(dir, p.addr)
	j, err = c.DescribeReportJob(ctx, &bk.DescribeReportJobInput{ReportJobId: aws.String(killed)})
	if err != nil {
		t.Fatal(err)
	}
	if s := aws.ToString(j.ReportJob.Status); s != "FAILED" || !strings.Contains(aws.ToString(j.ReportJob.StatusMessage), "stopped while the report job ran") ||
		len(j.ReportJob.ReportDestination.S3Keys) != 0 {
		t.Fatalf("killed report job after the restart: %s %q %+v", s, aws.ToString(j.ReportJob.StatusMessage), j.ReportJob.ReportDestination)
	}
	h.mu.Lock()
	for k := range h.objects {
		if strings.Contains(k, killed) {
			t.Errorf("an object of the killed job exists: %s", k)
		}
	}
	h.mu.Unlock()
	l, err := c.ListReportJobs(ctx, &bk.ListReportJobsInput{ByStatus: aws.String("RUNNING")})
	if err != nil || len(l.ReportJobs) != 0 {
		t.Fatalf("RUNNING report jobs after the restart: %+v %v", l, err)
	}
	// The report completed before the kill is whole.
	d, err := c.DescribeReportJob(ctx, &bk.DescribeReportJobInput{ReportJobId: done.ReportJobId})
	if err != nil || aws.ToString(d.ReportJob.Status) != "COMPLETED" {
		t.Fatalf("the report made before the kill: %+v %v", d, err)
	}
	var files []string
	for _, k := range d.ReportJob.ReportDestination.S3Keys {
		files = append(files, filepath.Join(dir, "reports", "reports", filepath.FromSlash(k)))
	}
	readReports(t, "BACKUP_JOB_REPORT", files, "backupJobId", nil, nil)
	// And the plan works again.
	again := waitReportJob(t, c, start("remote"))
	h.mu.Lock()
	defer h.mu.Unlock()
	if aws.ToString(again.Status) != "COMPLETED" || len(again.ReportDestination.S3Keys) != 2 || h.objects[again.ReportDestination.S3Keys[0]] == 0 {
		t.Fatalf("report job after the restart: %+v %+v; objects %v", again, again.ReportDestination, h.objects)
	}
}

// TestReportPlansAWSCLIAndBoto3: the real AWS CLI and boto3 create,
// describe, update, run and delete report plans; the CLI's report is read
// back by Python's csv module.
func TestReportPlansAWSCLIAndBoto3(t *testing.T) {
	ddb := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), ddb.Endpoint)
	cli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	must := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := cli.run(args...)
		if code != 0 {
			t.Fatalf("aws backup %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("aws backup %s: %v\n%s", args[0], err, out)
			}
		}
		return v
	}
	created := must("create-report-plan", "--report-plan-name", "cli_plan", "--report-plan-description", "from the CLI",
		"--report-delivery-channel", `{"S3BucketName":"cli-reports","S3KeyPrefix":"audit","Formats":["CSV","JSON"]}`,
		"--report-setting", "ReportTemplate=BACKUP_JOB_REPORT", "--report-plan-tags", "team=platform")
	if arn, _ := created["ReportPlanArn"].(string); !strings.HasPrefix(arn, "arn:aws:backup:us-east-1:000000000000:report-plan:cli_plan-") {
		t.Fatalf("create-report-plan: %v", created)
	}
	d := must("describe-report-plan", "--report-plan-name", "cli_plan")["ReportPlan"].(map[string]any)
	if d["DeploymentStatus"] != "COMPLETED" || d["ReportPlanDescription"] != "from the CLI" {
		t.Fatalf("describe-report-plan: %v", d)
	}
	id := must("start-report-job", "--report-plan-name", "cli_plan")["ReportJobId"].(string)
	var job map[string]any
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		job = must("describe-report-job", "--report-job-id", id)["ReportJob"].(map[string]any)
		if job["Status"] == "COMPLETED" || job["Status"] == "FAILED" || time.Now().After(deadline) {
			break
		}
	}
	if job["Status"] != "COMPLETED" || job["ReportTemplate"] != "BACKUP_JOB_REPORT" {
		t.Fatalf("describe-report-job: %v", job)
	}
	var files []string
	for _, k := range job["ReportDestination"].(map[string]any)["S3Keys"].([]any) {
		files = append(files, filepath.Join(m.Config.DataDir, "reports", "cli-reports", filepath.FromSlash(k.(string))))
	}
	readReports(t, "BACKUP_JOB_REPORT", files, "backupJobId", nil, nil)
	if jobs := must("list-report-jobs", "--by-report-plan-name", "cli_plan", "--by-status", "COMPLETED")["ReportJobs"].([]any); len(jobs) != 1 {
		t.Fatalf("list-report-jobs: %v", jobs)
	}
	must("update-report-plan", "--report-plan-name", "cli_plan", "--report-setting", "ReportTemplate=RESTORE_JOB_REPORT")
	if plans := must("list-report-plans")["ReportPlans"].([]any); len(plans) != 1 ||
		plans[0].(map[string]any)["ReportSetting"].(map[string]any)["ReportTemplate"] != "RESTORE_JOB_REPORT" {
		t.Fatalf("list-report-plans after the update: %v", plans)
	}
	_, errOut, code := cli.run("create-report-plan", "--report-plan-name", "controls",
		"--report-delivery-channel", "S3BucketName=cli-reports", "--report-setting", "ReportTemplate=SCAN_JOB_REPORT")
	if code == 0 || !strings.Contains(errOut, "InvalidParameterValueException") || !strings.Contains(errOut, "malware") {
		t.Fatalf("the scan template: exit %d\n%s", code, errOut)
	}
	_, errOut, code = cli.run("start-report-job", "--report-plan-name", "missing_plan")
	if code == 0 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("start-report-job of a missing plan: exit %d\n%s", code, errOut)
	}
	must("delete-report-plan", "--report-plan-name", "cli_plan")
	if plans := must("list-report-plans")["ReportPlans"].([]any); len(plans) != 0 {
		t.Fatalf("list-report-plans after delete: %v", plans)
	}

	out, err := exec.Command(boto3(t), "-c", boto3ReportScript, "http://"+m.Addr, m.Keys.AccessKeyID, m.Keys.SecretAccessKey,
		filepath.Join(m.Config.DataDir, "reports")).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}

const boto3ReportScript = `
import csv, json, os, sys, time, boto3, botocore
endpoint, key, secret, root = sys.argv[1:5]
c = boto3.client("backup", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
arn = c.create_report_plan(ReportPlanName="boto_plan", IdempotencyToken="plan-token",
    ReportDeliveryChannel={"S3BucketName": "boto-reports", "Formats": ["JSON", "CSV"]},
    ReportSetting={"ReportTemplate": "COPY_JOB_REPORT"})["ReportPlanArn"]
again = c.create_report_plan(ReportPlanName="boto_plan", IdempotencyToken="plan-token",
    ReportDeliveryChannel={"S3BucketName": "boto-reports", "Formats": ["JSON", "CSV"]},
    ReportSetting={"ReportTemplate": "COPY_JOB_REPORT"})["ReportPlanArn"]
assert arn == again, (arn, again)
try:
    c.create_report_plan(ReportPlanName="boto_plan", ReportDeliveryChannel={"S3BucketName": "boto-reports"},
        ReportSetting={"ReportTemplate": "COPY_JOB_REPORT"})
    sys.exit("a second plan of the name was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "AlreadyExistsException", e.response
ids = {c.start_report_job(ReportPlanName="boto_plan", IdempotencyToken="job-token")["ReportJobId"] for _ in range(3)}
assert len(ids) == 1, ids
jid = ids.pop()
for _ in range(600):
    job = c.describe_report_job(ReportJobId=jid)["ReportJob"]
    if job["Status"] in ("COMPLETED", "FAILED"):
        break
    time.sleep(0.1)
assert job["Status"] == "COMPLETED", job
assert job["ReportPlanArn"] == arn and job["CompletionTime"] >= job["CreationTime"], job
keys = job["ReportDestination"]["S3Keys"]
assert [k.rsplit(".", 1)[1] for k in keys] == ["json", "csv"], keys
with open(os.path.join(root, "boto-reports", keys[0])) as f:
    assert json.load(f) == {"reportItems": []}
with open(os.path.join(root, "boto-reports", keys[1]), newline="") as f:
    rows = list(csv.reader(f))
assert rows[0][:5] == ["reportTimePeriodStart", "reportTimePeriodEnd", "accountId", "region", "copyJobId"] and len(rows) == 1, rows
plans = c.list_report_plans(MaxResults=1)["ReportPlans"]
assert plans[0]["ReportPlanName"] == "boto_plan" and plans[0]["LastSuccessfulExecutionTime"], plans
jobs = c.list_report_jobs(ByReportPlanName="boto_plan")["ReportJobs"]
assert [j["ReportJobId"] for j in jobs] == [jid], jobs
c.delete_report_plan(ReportPlanName="boto_plan")
print("ok")
`
