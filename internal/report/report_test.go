package report_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/report"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

var day = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

type fixture struct {
	cat   *sqlite.Catalog
	clock *clock.Fake
	dir   string
	svc   *report.Service
	// wrap, if set, wraps every store the service opens.
	wrap func(blob.Store) blob.Store
	// hold, if set, runs before a job delivers.
	hold func(ctx context.Context, j *backup.ReportJob)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cat, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	f := &fixture{cat: cat, clock: clock.NewFake(day.Add(10 * time.Hour)), dir: t.TempDir()}
	f.svc = f.service(t)
	return f
}

func (f *fixture) service(t *testing.T) *report.Service {
	t.Helper()
	svc, err := report.New(report.Config{Catalog: f.cat, DataDir: f.dir, Clock: f.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BeforeDeliver: func(ctx context.Context, j *backup.ReportJob) {
			if f.hold != nil {
				f.hold(ctx, j)
			}
		},
		OpenStore: func(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
			s, err := fileblob.New(st.Path)
			if err != nil || f.wrap == nil {
				return s, err
			}
			return f.wrap(s), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func (f *fixture) plan(t *testing.T, template string, formats ...string) *backup.ReportPlan {
	t.Helper()
	p, err := f.svc.CreateReportPlan(t.Context(), backup.CreateReportPlanInput{Name: "plan_" + strings.ToLower(template[:4]),
		Delivery: backup.ReportDeliveryChannel{S3BucketName: "reports", S3KeyPrefix: "a/b", Formats: formats},
		Setting:  backup.ReportSetting{ReportTemplate: template}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) run(t *testing.T, plan string) *backup.ReportJob {
	t.Helper()
	j, err := f.svc.StartReportJob(t.Context(), plan, "")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Wait()
	j, err = f.svc.GetReportJob(t.Context(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// files returns the regular files under the fixture's reports directory,
// temporary ones included.
func (f *fixture) files(t *testing.T) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(f.dir, "reports"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(f.dir, "reports", "reports"), p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func backupJob(id string, state backup.JobState, created, completed time.Time) *backup.BackupJob {
	return &backup.BackupJob{ID: id, AccountID: "000000000000", Region: "us-east-1", VaultName: "Default",
		VaultARN: backup.VaultARN("us-east-1", "000000000000", "Default"), ResourceARN: backup.TableARN("us-east-1", "000000000000", "t_"+id),
		ResourceType: "DynamoDB", ResourceName: "t_" + id, IAMRoleARN: "arn:aws:iam::000000000000:role/r", State: state,
		CreationDate: created, CompletionDate: completed, StartBy: created.Add(time.Hour), BackupSizeInBytes: 1234,
		Lifecycle: backup.Lifecycle{DeleteAfterDays: 30},
		CreatedBy: &backup.CreatedBy{BackupPlanName: "nightly", BackupRuleName: "r1", BackupRuleCron: "cron(0 5 ? * * *)", BackupRuleTimezone: "UTC"}}
}

// TestJobReportRows: a backup job report holds the jobs that ended in its
// period and those still active at its end, oldest first, in both formats
// alike; a job that ended before the period, or began after it, is not in.
func TestJobReportRows(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, j := range []*backup.BackupJob{
		backupJob("old", backup.JobCompleted, day.Add(-30*time.Hour), day.Add(-26*time.Hour)),                 // ended before
		backupJob("done", backup.JobCompleted, day.Add(-10*time.Hour), day.Add(-10*time.Hour+90*time.Second)), // in
		backupJob("fail", backup.JobFailed, day.Add(2*time.Hour), day.Add(3*time.Hour)),                       // in
		backupJob("run", backup.JobRunning, day.Add(-40*time.Hour), time.Time{}),                              // active: in
		backupJob("late", backup.JobCompleted, day.Add(11*time.Hour), day.Add(11*time.Hour)),                  // after
	} {
		if j.State == backup.JobFailed {
			j.StatusMessage = "table t_fail was not found, \"quoted\""
		}
		if err := f.cat.CreateBackupJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	f.plan(t, backup.ReportBackupJobs, "CSV", "JSON")
	j := f.run(t, "plan_back")
	if j.Status != backup.ReportJobCompleted || len(j.S3Keys) != 2 {
		t.Fatalf("job: %+v", j)
	}
	root := filepath.Join(f.dir, "reports", "reports")
	raw, err := os.ReadFile(filepath.Join(root, j.S3Keys[1]))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ReportItems []map[string]any }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range doc.ReportItems {
		ids = append(ids, it["backupJobId"].(string))
	}
	if strings.Join(ids, ",") != "run,done,fail" {
		t.Fatalf("jobs in the report: %v, want run,done,fail", ids)
	}
	done := doc.ReportItems[1]
	for k, want := range map[string]any{"jobRunTime": "00:01:30", "backupSizeInBytes": 1234.0, "isParentJob": false,
		"parentJobId": nil, "deleteAfterDays": 30.0, "moveToColdAfterDays": nil, "backupRuleSchedule": "cron(0 5 ? * * *)",
		"creationDate": "2026-03-08T14:00:00.000Z", "reportTimePeriodStart": "2026-03-08T10:00:00Z", "reportTimePeriodEnd": "2026-03-09T10:00:00Z",
		"vaultType": "BACKUP_VAULT", "isEncrypted": false} {
		if done[k] != want {
			t.Errorf("%s: got %#v, want %#v", k, done[k], want)
		}
	}
	if run := doc.ReportItems[0]; run["completionDate"] != nil || run["jobRunTime"] != "50:00:00" {
		t.Errorf("the active job: completionDate %v, jobRunTime %v", run["completionDate"], run["jobRunTime"])
	}
	rc, _ := os.Open(filepath.Join(root, j.S3Keys[0]))
	defer rc.Close()
	rows, err := csv.NewReader(rc).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(report.Columns(backup.ReportBackupJobs), ",") {
		t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
	}
	last := len(rows[0]) - 1
	if rows[3][4] != "fail" || rows[3][last] != "table t_fail was not found, \"quoted\"" || rows[2][17] != "{}" {
		t.Fatalf("csv row of the failed job: %v", rows[3])
	}
}

// putFails fails the second Put after letting some bytes through.
type putFails struct {
	blob.Store
	mu sync.Mutex
	n  int
}

func (p *putFails) Put(ctx context.Context, key string, r io.Reader) error {
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	if n == 2 {
		return p.Store.Put(ctx, key, io.MultiReader(io.LimitReader(r, 100), errReader{}))
	}
	return p.Store.Put(ctx, key, r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk full") }

// TestFailedDeliveryLeavesNothing: a job whose second file cannot be
// written ends FAILED saying why, and leaves no file: not the first one
// it delivered, not a temporary one.
func TestFailedDeliveryLeavesNothing(t *testing.T) {
	f := newFixture(t)
	f.wrap = func(s blob.Store) blob.Store { return &putFails{Store: s} }
	f.plan(t, backup.ReportBackupJobs, "CSV", "JSON")
	j := f.run(t, "plan_back")
	if j.Status != backup.ReportJobFailed || !strings.Contains(j.StatusMessage, "disk full") || len(j.S3Keys) != 0 {
		t.Fatalf("job: %+v", j)
	}
	if files := f.files(t); len(files) != 0 {
		t.Fatalf("files left by a failed job: %v", files)
	}
	p, _ := f.svc.DescribeReportPlan(t.Context(), "plan_back")
	if p.LastAttemptedExecutionTime.IsZero() || !p.LastSuccessfulExecutionTime.IsZero() {
		t.Fatalf("plan's execution times: %+v", p)
	}
}

// TestRecoverEndsRunningJobs: at start, a job left RUNNING ends FAILED and
// what it wrote (a whole file, a temporary one) goes; a job left CREATED
// runs and completes.
func TestRecoverEndsRunningJobs(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	p := f.plan(t, backup.ReportRestoreJobs, "CSV", "JSON")
	mk := func(id string, st backup.ReportJobStatus) *backup.ReportJob {
		j := &backup.ReportJob{ID: id, ReportPlanARN: p.ARN, ReportPlanName: p.Name, ReportTemplate: p.Setting.ReportTemplate,
			Status: st, CreationTime: f.clock.Now(), S3BucketName: "reports", PeriodStart: day.Add(-24 * time.Hour), PeriodEnd: day}
		if err := f.cat.CreateReportJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	running, created := mk("RUNNING-1", backup.ReportJobRunning), mk("CREATED-1", backup.ReportJobCreated)
	key := backup.ReportKey("a/b", "us-east-1", p.Name, running.ID, "CSV", running.CreationTime)
	path := filepath.Join(f.dir, "reports", "reports", filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("reportTimePeriod,acc"), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(path), ".cairn-tmp-123"), []byte("half"), 0o644)

	svc := f.service(t)
	if err := svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	got, _ := f.cat.GetReportJob(ctx, running.ID)
	if got.Status != backup.ReportJobFailed || !strings.Contains(got.StatusMessage, "stopped while the report job ran") || got.CompletionTime.IsZero() {
		t.Fatalf("the job left RUNNING: %+v", got)
	}
	got, _ = f.cat.GetReportJob(ctx, created.ID)
	if got.Status != backup.ReportJobCompleted || len(got.S3Keys) != 2 {
		t.Fatalf("the job left CREATED: %+v", got)
	}
	files := f.files(t)
	if len(files) != 2 || !strings.Contains(files[0], created.ID) || !strings.Contains(files[1], created.ID) {
		t.Fatalf("files after Recover: %v (want only the two of %s)", files, created.ID)
	}
}

// TestDailyOncePerDay: Tick makes one job per plan and day, from the daily
// hour on, and none for a plan created that day.
func TestDailyOncePerDay(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.clock.Set(day.Add(-12 * time.Hour))
	f.plan(t, backup.ReportCopyJobs, "JSON")
	f.clock.Set(day.Add(30 * time.Minute))
	count := func() int {
		t.Helper()
		f.svc.Wait()
		jobs, _, err := f.cat.ListReportJobs(ctx, backup.ReportJobFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{day.Add(30 * time.Minute), 0},
		{day.Add(time.Hour), 1},
		{day.Add(5 * time.Hour), 1},
		{day.Add(25 * time.Hour), 2},
	} {
		f.clock.Set(tc.at)
		if err := f.svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != tc.want {
			t.Fatalf("at %s: %d jobs, want %d", tc.at, n, tc.want)
		}
	}
	// A plan created on the day gets none that day.
	f.clock.Set(day.Add(26 * time.Hour))
	p, err := f.svc.CreateReportPlan(ctx, backup.CreateReportPlanInput{Name: "late",
		Delivery: backup.ReportDeliveryChannel{S3BucketName: "reports"}, Setting: backup.ReportSetting{ReportTemplate: backup.ReportBackupJobs}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, _, _ := f.cat.ListReportJobs(ctx, backup.ReportJobFilter{ReportPlanARN: p.ARN})
	if len(jobs) != 0 {
		t.Fatalf("a plan created today got a daily job: %+v", jobs)
	}
}

// TestShutdownLetsJobsFinish: Shutdown refuses new jobs at once and waits
// for the running one, which completes.
func TestShutdownLetsJobsFinish(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.plan(t, backup.ReportBackupJobs, "CSV")
	started, release := make(chan string, 1), make(chan struct{})
	f.hold = func(_ context.Context, j *backup.ReportJob) {
		select {
		case started <- j.ID:
		default:
		}
		<-release
	}
	if _, err := f.svc.StartReportJob(ctx, "plan_back", ""); err != nil {
		t.Fatal(err)
	}
	id := <-started
	stopped := make(chan struct{})
	go func() { f.svc.Shutdown(context.Background()); close(stopped) }()
	for {
		_, err := f.svc.StartReportJob(ctx, "plan_back", "")
		if backup.ErrorCode(err) == backup.ErrUnavailable {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// Shutdown had not begun yet: that job runs after the held one.
		runtime.Gosched()
	}
	close(release)
	<-stopped
	j, err := f.cat.GetReportJob(ctx, id)
	if err != nil || j.Status != backup.ReportJobCompleted {
		t.Fatalf("the job running at Shutdown: %+v %v", j, err)
	}
}

// TestPlanTokens: a retry with a plan's token returns the plan; the token
// with other parameters is refused; once the plan is deleted the token
// makes a new one.
func TestPlanTokens(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	in := backup.CreateReportPlanInput{Name: "p", IdempotencyToken: "tok",
		Delivery: backup.ReportDeliveryChannel{S3BucketName: "reports"}, Setting: backup.ReportSetting{ReportTemplate: backup.ReportBackupJobs}}
	a, err := f.svc.CreateReportPlan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.CreateReportPlan(ctx, in)
	if err != nil || b.ARN != a.ARN {
		t.Fatalf("retry: %v %v", b, err)
	}
	other := in
	other.Description = "other"
	if _, err := f.svc.CreateReportPlan(ctx, other); backup.ErrorCode(err) != backup.ErrInvalidRequest || !strings.Contains(err.Error(), "report plan p") {
		t.Fatalf("the token with other parameters: %v", err)
	}
	if err := f.svc.DeleteReportPlan(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.CreateReportPlan(ctx, in)
	if err != nil || c.ARN == a.ARN {
		t.Fatalf("after delete: %v %v", c, err)
	}
}
