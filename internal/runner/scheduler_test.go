package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDueOccurrence(t *testing.T) {
	hour := time.Hour
	for _, tt := range []struct {
		name    string
		occs    []string
		now     string
		window  time.Duration
		run     string // "" for none
		skipped int
		cursor  string // "" for none
	}{
		{"nothing due", nil, "2026-03-01T04:59:59Z", hour, "", 0, ""},
		{"just due", []string{"2026-03-01T05:00:00Z"}, "2026-03-01T05:00:00Z", hour, "2026-03-01T05:00:00Z", 0, "2026-03-01T05:00:00Z"},
		{"inside the window", []string{"2026-03-01T05:00:00Z"}, "2026-03-01T05:59:59Z", hour, "2026-03-01T05:00:00Z", 0, "2026-03-01T05:00:00Z"},
		{"window closed", []string{"2026-03-01T05:00:00Z"}, "2026-03-01T06:00:00Z", hour, "", 1, "2026-03-01T05:00:00Z"},
		{"several missed, latest open", []string{"2026-03-01T05:00:00Z", "2026-03-02T05:00:00Z", "2026-03-03T05:00:00Z"},
			"2026-03-03T05:30:00Z", hour, "2026-03-03T05:00:00Z", 2, "2026-03-03T05:00:00Z"},
		{"several missed, all closed", []string{"2026-03-01T05:00:00Z", "2026-03-02T05:00:00Z"},
			"2026-03-02T07:00:00Z", hour, "", 2, "2026-03-02T05:00:00Z"},
		{"older windows still open: only the latest runs", []string{"2026-03-01T05:00:00Z", "2026-03-01T06:00:00Z", "2026-03-01T07:00:00Z"},
			"2026-03-01T07:10:00Z", 8 * hour, "2026-03-01T07:00:00Z", 2, "2026-03-01T07:00:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var occs []time.Time
			for _, o := range tt.occs {
				occs = append(occs, at(o))
			}
			d := dueOccurrence(occs, at(tt.now), tt.window)
			var run, cursor time.Time
			if tt.run != "" {
				run = at(tt.run)
			}
			if tt.cursor != "" {
				cursor = at(tt.cursor)
			}
			if !d.Run.Equal(run) || d.Skipped != tt.skipped || !d.Cursor.Equal(cursor) {
				t.Fatalf("got run %v skipped %d cursor %v; want run %v skipped %d cursor %v",
					d.Run, d.Skipped, d.Cursor, run, tt.skipped, cursor)
			}
		})
	}
}

func TestJobWindows(t *testing.T) {
	startBy, completeBy := at("2026-03-01T06:00:00Z"), at("2026-03-01T07:00:00Z")
	for _, tt := range []struct {
		state           backup.JobState
		now             string
		startClosed     bool
		completionEnded bool
	}{
		{backup.JobCreated, "2026-03-01T05:59:59Z", false, false},
		{backup.JobCreated, "2026-03-01T06:00:00Z", true, false},
		{backup.JobPending, "2026-03-01T06:30:00Z", true, false},
		{backup.JobRunning, "2026-03-01T06:30:00Z", false, false},
		{backup.JobRunning, "2026-03-01T07:00:00Z", false, true},
		{backup.JobAborting, "2026-03-01T08:00:00Z", false, false},
		{backup.JobCompleted, "2026-03-01T08:00:00Z", false, false},
		{backup.JobExpired, "2026-03-01T08:00:00Z", false, false},
	} {
		j := &backup.BackupJob{State: tt.state, StartBy: startBy, CompleteBy: completeBy}
		now := at(tt.now)
		if got := startWindowClosed(j, now); got != tt.startClosed {
			t.Errorf("%s at %s: start window closed = %v", tt.state, tt.now, got)
		}
		if got := completionWindowClosed(j, now); got != tt.completionEnded {
			t.Errorf("%s at %s: completion window ended = %v", tt.state, tt.now, got)
		}
	}
	// Zero deadlines never pass.
	j := &backup.BackupJob{State: backup.JobRunning}
	if completionWindowClosed(j, at("2100-01-01T00:00:00Z")) {
		t.Error("a job without CompleteBy was stopped")
	}
	j.State = backup.JobCreated
	if startWindowClosed(j, at("2100-01-01T00:00:00Z")) {
		t.Error("a job without StartBy expired")
	}
}

func TestRetryDelay(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := retryDelay(i + 1); got != w {
			t.Errorf("retryDelay(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := retryDelay(1000); got != retryMaxDelay {
		t.Errorf("retryDelay(1000) = %v", got)
	}
}

func TestRuleWindowsDefaults(t *testing.T) {
	r := &backup.BackupRule{}
	if startWindow(r) != 8*time.Hour || completionWindow(r) != 7*24*time.Hour {
		t.Fatalf("defaults: start %v completion %v", startWindow(r), completionWindow(r))
	}
	r = &backup.BackupRule{StartWindowMinutes: 60, CompletionWindowMinutes: 120}
	if startWindow(r) != time.Hour || completionWindow(r) != 2*time.Hour {
		t.Fatalf("set: start %v completion %v", startWindow(r), completionWindow(r))
	}
}

type discard struct{}

func (discard) Warn(string, ...any) {}

func TestScheduledRunsPreview(t *testing.T) {
	p := &backup.BackupPlan{PlanDocument: backup.PlanDocument{Rules: []backup.BackupRule{
		{RuleID: "daily", ScheduleExpression: "cron(0 5 ? * * *)"},
		{RuleID: "hourly", ScheduleExpression: "cron(30 * ? * * *)"},
		{RuleID: "ny", ScheduleExpression: "cron(0 1 ? * * *)", ScheduleExpressionTimezone: "America/New_York"},
	}}}
	runs := scheduledRuns(p, at("2026-03-01T03:00:00Z"), 5, discard{})
	want := []struct {
		t    string
		rule string
	}{
		{"2026-03-01T03:30:00Z", "hourly"},
		{"2026-03-01T04:30:00Z", "hourly"},
		{"2026-03-01T05:00:00Z", "daily"},
		{"2026-03-01T05:30:00Z", "hourly"},
		{"2026-03-01T06:00:00Z", "ny"}, // 01:00 EST
	}
	if len(runs) != len(want) {
		t.Fatalf("%d runs: %+v", len(runs), runs)
	}
	for i, w := range want {
		if !runs[i].ExecutionTime.Equal(at(w.t)) || runs[i].RuleID != w.rule || runs[i].RecoveryPointType != "SNAPSHOT" {
			t.Errorf("run %d = %+v, want %s %s", i, runs[i], w.t, w.rule)
		}
	}
	if got := scheduledRuns(p, at("2026-03-01T03:00:00Z"), 0, discard{}); len(got) != 0 {
		t.Errorf("0 runs asked, %d given", len(got))
	}
}

// ---- The scheduler against a real catalog and dynalite, on a fake clock.

func (f *fixture) tag(t *testing.T, arn string, kv ...string) {
	t.Helper()
	var tags []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	if _, err := f.db.TagResource(context.Background(), &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags}); err != nil {
		t.Fatal(err)
	}
}

func newPlan(t *testing.T, svc *Service, doc backup.PlanDocument, sels ...backup.SelectionDocument) *backup.BackupPlan {
	t.Helper()
	ctx := context.Background()
	p, err := svc.CreateBackupPlan(ctx, backup.CreateBackupPlanInput{Plan: doc})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sels {
		if _, err := svc.CreateBackupSelection(ctx, backup.CreateBackupSelectionInput{BackupPlanID: p.ID, Selection: s}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func tick(t *testing.T, svc *Service) {
	t.Helper()
	if err := svc.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// allJobs returns every backup job, oldest scheduled time first.
func allJobs(t *testing.T, svc *Service) []*backup.BackupJob {
	t.Helper()
	var out []*backup.BackupJob
	f := backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}}
	for {
		page, next, err := svc.ListBackupJobs(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		f.NextToken = next
	}
	slices.SortFunc(out, func(a, b *backup.BackupJob) int {
		if c := a.ScheduledTime.Compare(b.ScheduledTime); c != 0 {
			return c
		}
		return strings.Compare(a.ResourceARN, b.ResourceARN)
	})
	return out
}

// waitJob polls until cond holds for job id.
func waitJob(t *testing.T, svc *Service, id, what string, cond func(*backup.BackupJob) bool) *backup.BackupJob {
	t.Helper()
	var j *backup.BackupJob
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var err error
		if j, err = svc.GetBackupJob(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
	}
	t.Fatalf("job %s never %s: %s %q", id, what, j.State, j.StatusMessage)
	return nil
}

func terminal(j *backup.BackupJob) bool { return j.State.Terminal() }

func isState(s backup.JobState) func(*backup.BackupJob) bool {
	return func(j *backup.BackupJob) bool { return j.State == s }
}

// settle waits until every job has ended.
func settle(t *testing.T, svc *Service) []*backup.BackupJob {
	t.Helper()
	jobs := allJobs(t, svc)
	for i, j := range jobs {
		if !j.State.Terminal() {
			jobs[i] = waitJob(t, svc, j.ID, "ended", terminal)
		}
	}
	return jobs
}

// gate holds the scans of tables whose name starts with prefix until it is
// opened (or the job's context ends).
type gate struct {
	prefix string
	ch     chan struct{}
	once   sync.Once
}

func newGate(prefix string) *gate { return &gate{prefix: prefix, ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func (g *gate) wrap(s dynamodb.Scanner) dynamodb.Scanner {
	return scanFunc(func(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
		if strings.HasPrefix(in.Table, g.prefix) {
			select {
			case <-g.ch:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		return s.ScanPage(ctx, in)
	})
}

type scanFunc func(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error)

func (f scanFunc) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	return f(ctx, in)
}

// A daily rule at 05:00 UTC creates exactly one job per tagged table at
// 05:00 and none for untagged ones; a table tagged later is in the next
// occurrence. Jobs and points carry the plan and rule that made them.
func TestSchedulerDailyRule(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
	ctx := context.Background()
	orders := f.table(t, "orders", 20)
	logs := f.table(t, "logs", 5)
	f.tag(t, orders, "backup", "daily")
	p := newPlan(t, f.svc, dailyPlan("daily-plan"), tagSelection("tagged", "backup", "daily"))

	tick(t, f.svc)
	if jobs := allJobs(t, f.svc); len(jobs) != 0 {
		t.Fatalf("%d jobs before 05:00", len(jobs))
	}
	clk.Set(at("2026-03-01T04:59:59Z"))
	tick(t, f.svc)
	if jobs := allJobs(t, f.svc); len(jobs) != 0 {
		t.Fatalf("%d jobs before 05:00", len(jobs))
	}
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := settle(t, f.svc)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs at 05:00, want 1", len(jobs))
	}
	j := jobs[0]
	occ := at("2026-03-01T05:00:00Z")
	want := backup.CreatedBy{BackupPlanID: p.ID, BackupPlanARN: p.ARN, BackupPlanName: "daily-plan", BackupPlanVersion: p.VersionID,
		BackupRuleID: p.Rules[0].RuleID, BackupRuleName: "daily", BackupRuleCron: "cron(0 5 ? * * *)", BackupRuleTimezone: "Etc/UTC"}
	if j.ResourceARN != orders || j.State != backup.JobCompleted || j.CreatedBy == nil || *j.CreatedBy != want ||
		!j.ScheduledTime.Equal(occ) || !j.StartBy.Equal(occ.Add(time.Hour)) || !j.CompleteBy.Equal(occ.Add(2*time.Hour)) ||
		j.IAMRoleARN != testRole || j.VaultName != "Default" || j.Lifecycle.DeleteAfterDays != 35 || j.ItemCount != 20 {
		t.Fatalf("job %+v created by %+v", j, j.CreatedBy)
	}
	rp, err := f.svc.GetRecoveryPoint(ctx, "Default", j.RecoveryPointARN)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Status != backup.RecoveryPointCompleted || rp.CreatedBy == nil || *rp.CreatedBy != want || rp.Tags["made-by"] != "plan" || rp.Lifecycle.DeleteAfterDays != 35 {
		t.Fatalf("recovery point %+v", rp)
	}
	// Later passes of the same occurrence create nothing more.
	clk.Set(at("2026-03-01T05:00:30Z"))
	tick(t, f.svc)
	tick(t, f.svc)
	if jobs := allJobs(t, f.svc); len(jobs) != 1 {
		t.Fatalf("%d jobs after more passes", len(jobs))
	}
	got, _, err := f.svc.GetBackupPlan(ctx, p.ID, "", 0)
	if err != nil || !got.LastExecutionDate.Equal(occ) {
		t.Fatalf("LastExecutionDate %v, %v", got.LastExecutionDate, err)
	}

	// Tagging the other table puts it in the next occurrence.
	f.tag(t, logs, "backup", "daily")
	clk.Set(at("2026-03-02T05:00:00Z"))
	tick(t, f.svc)
	jobs = settle(t, f.svc)
	if len(jobs) != 3 {
		t.Fatalf("%d jobs after day 2, want 3", len(jobs))
	}
	day2 := at("2026-03-02T05:00:00Z")
	if !jobs[1].ScheduledTime.Equal(day2) || !jobs[2].ScheduledTime.Equal(day2) || jobs[1].ResourceARN != logs || jobs[2].ResourceARN != orders {
		t.Fatalf("day 2 jobs: %s %v, %s %v", jobs[1].ResourceARN, jobs[1].ScheduledTime, jobs[2].ResourceARN, jobs[2].ScheduledTime)
	}
	for _, j := range jobs {
		if j.State != backup.JobCompleted {
			t.Fatalf("job %s %s %q", j.ResourceName, j.State, j.StatusMessage)
		}
	}
}

type wantRun struct {
	rule string
	at   string
}

// tickRuns moves the clock to each time, runs a pass, waits for its jobs
// and checks which rule occurrences got a job.
func tickRuns(t *testing.T, f *fixture, clk *clock.Fake, steps []struct {
	now  string
	want []wantRun
}) {
	t.Helper()
	seen := map[string]bool{}
	for _, st := range steps {
		clk.Set(at(st.now))
		tick(t, f.svc)
		var got []wantRun
		for _, j := range settle(t, f.svc) {
			if seen[j.ID] {
				continue
			}
			seen[j.ID] = true
			if j.State != backup.JobCompleted {
				t.Errorf("job %s of %s: %s %q", j.ID, j.CreatedBy.BackupRuleName, j.State, j.StatusMessage)
			}
			got = append(got, wantRun{j.CreatedBy.BackupRuleName, j.ScheduledTime.Format(time.RFC3339)})
		}
		slices.SortFunc(got, func(a, b wantRun) int { return strings.Compare(a.rule+a.at, b.rule+b.at) })
		if !slices.Equal(got, st.want) {
			t.Errorf("at %s: jobs for %v, want %v", st.now, got, st.want)
		}
	}
}

// Rules in America/New_York run at the right instants across both DST
// changes (a repeated local time runs once); rules on month ends and on
// Feb 29 run on the right days.
func TestSchedulerCalendar(t *testing.T) {
	t.Run("daylight saving time", func(t *testing.T) {
		clk := clock.NewFake(at("2026-03-07T00:00:00Z"))
		f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
		arn := f.table(t, "nyc", 3)
		f.tag(t, arn, "tz", "ny")
		doc := backup.PlanDocument{BackupPlanName: "ny", Rules: []backup.BackupRule{
			{RuleName: "five", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 5 ? * * *)",
				ScheduleExpressionTimezone: "America/New_York", StartWindowMinutes: 60},
			{RuleName: "half-past-one", TargetBackupVaultName: "Default", ScheduleExpression: "cron(30 1 ? * * *)",
				ScheduleExpressionTimezone: "America/New_York", StartWindowMinutes: 60},
		}}
		newPlan(t, f.svc, doc, tagSelection("ny", "tz", "ny"))
		tickRuns(t, f, clk, []struct {
			now  string
			want []wantRun
		}{
			{"2026-03-07T06:30:00Z", []wantRun{{"half-past-one", "2026-03-07T06:30:00Z"}}}, // 01:30 EST
			{"2026-03-07T09:59:00Z", nil},
			{"2026-03-07T10:00:00Z", []wantRun{{"five", "2026-03-07T10:00:00Z"}}}, // 05:00 EST
			{"2026-03-08T06:30:00Z", []wantRun{{"half-past-one", "2026-03-08T06:30:00Z"}}},
			{"2026-03-08T09:00:00Z", []wantRun{{"five", "2026-03-08T09:00:00Z"}}}, // 05:00 EDT
			{"2026-03-09T05:30:00Z", []wantRun{{"half-past-one", "2026-03-09T05:30:00Z"}}},
			{"2026-03-09T09:00:00Z", []wantRun{{"five", "2026-03-09T09:00:00Z"}}},
			// Months later (missed runs skipped): the autumn change.
			{"2026-10-31T09:00:00Z", []wantRun{{"five", "2026-10-31T09:00:00Z"}}},
			{"2026-11-01T05:30:00Z", []wantRun{{"half-past-one", "2026-11-01T05:30:00Z"}}}, // 01:30 EDT
			{"2026-11-01T06:30:00Z", nil}, // 01:30 EST: the same local time, not again
			{"2026-11-01T09:00:00Z", nil}, // 04:00 EST
			{"2026-11-01T10:00:00Z", []wantRun{{"five", "2026-11-01T10:00:00Z"}}},
			{"2026-11-02T06:30:00Z", []wantRun{{"half-past-one", "2026-11-02T06:30:00Z"}}},
		})
	})
	t.Run("month ends and leap days", func(t *testing.T) {
		clk := clock.NewFake(at("2027-12-31T06:00:00Z"))
		f := newFixtureWith(t, func(c *Config) { c.Clock = clk })
		arn := f.table(t, "cal", 3)
		f.tag(t, arn, "cal", "yes")
		doc := backup.PlanDocument{BackupPlanName: "cal", Rules: []backup.BackupRule{
			{RuleName: "month-end", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 5 L * ? *)", StartWindowMinutes: 60},
			{RuleName: "leap-day", TargetBackupVaultName: "Default", ScheduleExpression: "cron(0 5 29 2 ? *)", StartWindowMinutes: 60},
		}}
		newPlan(t, f.svc, doc, tagSelection("cal", "cal", "yes"))
		tickRuns(t, f, clk, []struct {
			now  string
			want []wantRun
		}{
			{"2028-01-30T05:00:00Z", nil},
			{"2028-01-31T05:00:00Z", []wantRun{{"month-end", "2028-01-31T05:00:00Z"}}},
			{"2028-02-28T05:00:00Z", nil},
			{"2028-02-29T05:00:00Z", []wantRun{{"leap-day", "2028-02-29T05:00:00Z"}, {"month-end", "2028-02-29T05:00:00Z"}}},
			{"2028-03-31T05:00:00Z", []wantRun{{"month-end", "2028-03-31T05:00:00Z"}}},
			{"2028-04-30T05:00:00Z", []wantRun{{"month-end", "2028-04-30T05:00:00Z"}}},
			{"2029-02-28T05:00:00Z", []wantRun{{"month-end", "2029-02-28T05:00:00Z"}}},
			{"2029-03-01T05:00:00Z", nil},
		})
	})
}

// A job that cannot start within its start window (every worker slot is
// busy) ends EXPIRED without running.
func TestSchedulerStartWindowExpires(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	g := newGate("slow-")
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.MaxJobs = 1; c.WrapScanner = g.wrap })
	defer g.open()
	ctx := context.Background()
	busy := f.table(t, "slow-busy", 5)
	waiting := f.table(t, "waiting", 5)
	f.tag(t, waiting, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	hog, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: busy})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, hog.ID, "running", isState(backup.JobRunning))

	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 2 || jobs[1].ResourceARN != waiting || jobs[1].State != backup.JobCreated {
		t.Fatalf("jobs: %+v", jobs)
	}
	id := jobs[1].ID
	clk.Set(at("2026-03-01T05:59:59Z"))
	tick(t, f.svc)
	if j, _ := f.svc.GetBackupJob(ctx, id); j.State != backup.JobCreated {
		t.Fatalf("expired early: %s", j.State)
	}
	clk.Set(at("2026-03-01T06:00:00Z"))
	tick(t, f.svc)
	j, err := f.svc.GetBackupJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != backup.JobExpired || !strings.Contains(j.StatusMessage, "start window") || !j.CompletionDate.Equal(clk.Now()) {
		t.Fatalf("job %s %q completed %v", j.State, j.StatusMessage, j.CompletionDate)
	}
	g.open()
	if h := waitJob(t, f.svc, hog.ID, "ended", terminal); h.State != backup.JobCompleted {
		t.Fatalf("busy job %s %q", h.State, h.StatusMessage)
	}
	f.svc.Wait()
	if j, _ := f.svc.GetBackupJob(ctx, id); j.State != backup.JobExpired {
		t.Fatalf("expired job ran after all: %s", j.State)
	}
	pts, _, _ := f.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{ResourceARN: waiting})
	if len(pts) != 0 {
		t.Fatalf("expired job left %d points", len(pts))
	}
}

// A running job still running at the end of its completion window
// (counted from the scheduled time) is stopped: EXPIRED, as AWS records
// it, with its partial data removed.
func TestSchedulerCompletionWindowStopsSlowJob(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	g := newGate("slow-")
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.WrapScanner = g.wrap })
	defer g.open()
	ctx := context.Background()
	arn := f.table(t, "slow-big", 50)
	f.tag(t, arn, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := waitJob(t, f.svc, jobs[0].ID, "running", isState(backup.JobRunning))
	clk.Set(at("2026-03-01T06:59:59Z"))
	tick(t, f.svc)
	if j, _ := f.svc.GetBackupJob(ctx, j.ID); j.State != backup.JobRunning {
		t.Fatalf("stopped early: %s", j.State)
	}
	clk.Set(at("2026-03-01T07:00:00Z"))
	tick(t, f.svc)
	j = waitJob(t, f.svc, j.ID, "ended", terminal)
	if j.State != backup.JobExpired || !strings.Contains(j.StatusMessage, "Backup job expired before completion") {
		t.Fatalf("job %s %q", j.State, j.StatusMessage)
	}
	f.svc.Wait()
	if pts, _, _ := f.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{}); len(pts) != 0 {
		t.Fatalf("%d recovery points left", len(pts))
	}
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("partial data left: %v", objs)
	}
}

// A restart in the middle: a new Service on the same catalog creates no
// second job for an occurrence handled before, queues again the job the
// old one had not started, and after downtime runs only the latest
// occurrence whose start window is open.
func TestSchedulerRestart(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	g := newGate("slow-")
	adjust := func(c *Config) { c.Clock = clk; c.MaxJobs = 1; c.WrapScanner = g.wrap }
	f := newFixtureWith(t, adjust)
	defer g.open()
	ctx := context.Background()
	busy := f.table(t, "slow-busy", 5)
	queued := f.table(t, "queued", 5)
	f.tag(t, queued, "backup", "daily")
	p := newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	hog, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: busy})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, hog.ID, "running", isState(backup.JobRunning))
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 2 || jobs[1].State != backup.JobCreated {
		t.Fatalf("jobs before the restart: %+v", jobs)
	}
	scheduled := jobs[1].ID

	// Stop the process: the running job goes back to the queue, the queued
	// one stays.
	f.svc.Close()
	if j, _ := f.cat.GetBackupJob(ctx, hog.ID); j.State != backup.JobPending || !strings.Contains(j.StatusMessage, "starts again after the server restarts") {
		t.Fatalf("running job after Close: %s %q", j.State, j.StatusMessage)
	}
	if j, _ := f.cat.GetBackupJob(ctx, scheduled); j.State != backup.JobCreated {
		t.Fatalf("queued job after Close: %s %q", j.State, j.StatusMessage)
	}
	g.open()
	clk.Set(at("2026-03-01T05:10:00Z"))
	svc := f.newService(t, f.cat, adjust)
	for _, id := range []string{scheduled, hog.ID} {
		if j := waitJob(t, svc, id, "ended", terminal); j.State != backup.JobCompleted {
			t.Fatalf("queued job %s after the restart: %s %q", id, j.State, j.StatusMessage)
		}
	}
	tick(t, svc)
	if jobs := settle(t, svc); len(jobs) != 2 {
		t.Fatalf("%d jobs after the restart's pass, want 2", len(jobs))
	}

	// Down for two days: days 2 and 3 are skipped, day 4 runs once.
	clk.Set(at("2026-03-04T05:30:00Z"))
	svc.Close()
	svc = f.newService(t, f.cat, adjust)
	tick(t, svc)
	tick(t, svc)
	jobs = settle(t, svc)
	if len(jobs) != 3 || !jobs[2].ScheduledTime.Equal(at("2026-03-04T05:00:00Z")) || jobs[2].State != backup.JobCompleted {
		t.Fatalf("jobs after downtime: %d, last %+v", len(jobs), jobs[len(jobs)-1])
	}
	cur, err := f.cat.RuleCursor(ctx, p.ID, p.Rules[0].RuleID)
	if err != nil || !cur.Equal(at("2026-03-04T05:00:00Z")) {
		t.Fatalf("rule cursor %v, %v", cur, err)
	}
}

// Two Services ticking one catalog at once create each job once.
func TestSchedulerConcurrentServices(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	adjust := func(c *Config) { c.Clock = clk }
	f := newFixtureWith(t, adjust)
	var arns []string
	for i := range 6 {
		arn := f.table(t, fmt.Sprintf("tbl%d", i), 3)
		f.tag(t, arn, "backup", "daily")
		arns = append(arns, arn)
	}
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	cat2, err := sqlite.Open(context.Background(), f.catalogPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat2.Close() })
	other := f.newService(t, cat2, adjust)
	clk.Set(at("2026-03-01T05:00:00Z"))
	for range 3 {
		var wg sync.WaitGroup
		for _, svc := range []*Service{f.svc, other} {
			wg.Go(func() {
				if err := svc.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	jobs := settle(t, f.svc)
	if len(jobs) != len(arns) {
		t.Fatalf("%d jobs for %d tables", len(jobs), len(arns))
	}
	for i, j := range jobs {
		if j.ResourceARN != arns[i] || j.State != backup.JobCompleted {
			t.Errorf("job %d: %s %s %q", i, j.ResourceARN, j.State, j.StatusMessage)
		}
	}
}

// Two rules back the same table up at the same time: one job runs, the
// other waits PENDING, naming it, and runs when it is done.
func TestSchedulerOneRunningJobPerResource(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	g := newGate("slow-")
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.WrapScanner = g.wrap })
	defer g.open()
	arn := f.table(t, "slow-two", 10)
	f.tag(t, arn, "backup", "daily")
	doc := dailyPlan("p")
	second := doc.Rules[0]
	second.RuleName = "also-daily"
	doc.Rules = append(doc.Rules, second)
	newPlan(t, f.svc, doc, tagSelection("s", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs", len(jobs))
	}
	var running, pending *backup.BackupJob
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && (running == nil || pending == nil); time.Sleep(5 * time.Millisecond) {
		running, pending = nil, nil
		for _, j := range allJobs(t, f.svc) {
			switch j.State {
			case backup.JobRunning:
				running = j
			case backup.JobPending:
				pending = j
			}
		}
	}
	if running == nil || pending == nil {
		t.Fatalf("want one RUNNING and one PENDING job: %+v", allJobs(t, f.svc))
	}
	if !strings.Contains(pending.StatusMessage, running.ID) {
		t.Fatalf("pending job's message %q does not name %s", pending.StatusMessage, running.ID)
	}
	g.open()
	for _, j := range settle(t, f.svc) {
		if j.State != backup.JobCompleted {
			t.Fatalf("job %s %s %q", j.ID, j.State, j.StatusMessage)
		}
	}
	if pts, _, _ := f.svc.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{ResourceARN: arn}); len(pts) != 2 {
		t.Fatalf("%d recovery points, want 2", len(pts))
	}
}

// failing makes the scans of tables starting with prefix fail with
// throttling while fails() says so.
func failing(prefix string, fails func() bool) func(dynamodb.Scanner) dynamodb.Scanner {
	throttled := &dynamodb.APIError{Code: "ProvisionedThroughputExceededException", StatusCode: 400, Message: "slow down"}
	return func(s dynamodb.Scanner) dynamodb.Scanner {
		return scanFunc(func(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
			if strings.HasPrefix(in.Table, prefix) && fails() {
				return nil, throttled
			}
			return s.ScanPage(ctx, in)
		})
	}
}

// A scheduled job throttled beyond the retry policy is tried again inside
// its start window: PENDING with the reason and the time of the retry,
// then COMPLETED with one recovery point.
func TestSchedulerRetriesTransientFailure(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) {
		c.Clock = clk
		c.Retry.MaxAttempts = 2
		// Throttled until the retry.
		c.WrapScanner = failing("flaky", func() bool { return clk.Now().Before(at("2026-03-01T05:01:00Z")) })
	})
	ctx := context.Background()
	arn := f.table(t, "flaky", 10)
	f.tag(t, arn, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := waitJob(t, f.svc, jobs[0].ID, "pending", isState(backup.JobPending))
	if !strings.Contains(j.StatusMessage, "attempt 1 failed") || !strings.Contains(j.StatusMessage, "retrying at 2026-03-01T05:01:00Z") {
		t.Fatalf("message %q", j.StatusMessage)
	}
	firstPoint := jobs[0].RecoveryPointARN
	tick(t, f.svc) // too early: nothing happens
	if j, _ := f.svc.GetBackupJob(ctx, j.ID); j.State != backup.JobPending {
		t.Fatalf("retried early: %s", j.State)
	}
	clk.Set(at("2026-03-01T05:01:00Z"))
	tick(t, f.svc)
	j = waitJob(t, f.svc, j.ID, "ended", terminal)
	if j.State != backup.JobCompleted || j.ItemCount != 10 || j.StatusMessage != "" {
		t.Fatalf("job %s %q items %d", j.State, j.StatusMessage, j.ItemCount)
	}
	pts, _, _ := f.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{ResourceARN: arn})
	if len(pts) != 1 || pts[0].ARN != j.RecoveryPointARN || pts[0].ARN == firstPoint {
		t.Fatalf("points %d; job's %s, first attempt's %s", len(pts), j.RecoveryPointARN, firstPoint)
	}
}

// Retries stop when the start window closes: the job ends FAILED with the
// last error and leaves nothing behind.
func TestSchedulerRetriesEndWithTheWindow(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) {
		c.Clock = clk
		c.Retry.MaxAttempts = 2
		c.WrapScanner = failing("flaky", func() bool { return true })
	})
	ctx := context.Background()
	arn := f.table(t, "flaky-always", 5)
	f.tag(t, arn, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	jobs := allJobs(t, f.svc)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	id := jobs[0].ID
	// Attempts at 05:00, 05:10, ... 05:50; the retry after the sixth would
	// be at 06:00, when the window closes.
	for n := 1; n <= 6; n++ {
		j := waitJob(t, f.svc, id, fmt.Sprintf("done with attempt %d", n), func(j *backup.BackupJob) bool {
			return j.State.Terminal() || (j.State == backup.JobPending && strings.Contains(j.StatusMessage, fmt.Sprintf("attempt %d failed", n)))
		})
		if n < 6 && j.State != backup.JobPending {
			t.Fatalf("after attempt %d: %s %q", n, j.State, j.StatusMessage)
		}
		if n < 6 {
			clk.Advance(10 * time.Minute)
			tick(t, f.svc)
		}
	}
	j := waitJob(t, f.svc, id, "ended", terminal)
	if j.State != backup.JobFailed || !strings.Contains(j.StatusMessage, "attempt 6 failed") || !strings.Contains(j.StatusMessage, "start window") {
		t.Fatalf("job %s %q", j.State, j.StatusMessage)
	}
	f.svc.Wait()
	if pts, _, _ := f.svc.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{}); len(pts) != 0 {
		t.Fatalf("%d points left", len(pts))
	}
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("data left: %v", objs)
	}
}

// A source that cannot be listed does not make its tables look
// unselected: the occurrence stays due (the cursor does not move) while its
// start window is open, and is given up once it has closed.
func TestSchedulerSourceDown(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	down, err := dynamodb.New(aws.Config{Region: "us-west-2", BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(c *Config) {
		c.Clock = clk
		c.Sources = append(c.Sources, &Source{Name: "down", Region: "us-west-2", Client: down})
	})
	ctx := context.Background()
	arn := f.table(t, "up-table", 5)
	f.tag(t, arn, "backup", "daily")
	p := newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	rule := p.Rules[0].RuleID
	clk.Set(at("2026-03-01T05:00:00Z"))
	tick(t, f.svc)
	clk.Set(at("2026-03-01T05:30:00Z"))
	tick(t, f.svc)
	if jobs := settle(t, f.svc); len(jobs) != 1 || jobs[0].ResourceARN != arn || jobs[0].State != backup.JobCompleted {
		t.Fatalf("jobs: %+v", jobs)
	}
	if cur, err := f.cat.RuleCursor(ctx, p.ID, rule); err != nil || !cur.IsZero() {
		t.Fatalf("cursor moved while a source was down: %v %v", cur, err)
	}
	clk.Set(at("2026-03-01T06:00:00Z"))
	tick(t, f.svc)
	if cur, err := f.cat.RuleCursor(ctx, p.ID, rule); err != nil || !cur.Equal(at("2026-03-01T05:00:00Z")) {
		t.Fatalf("cursor after the window closed: %v %v", cur, err)
	}
	if jobs := allJobs(t, f.svc); len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
}

// A second on-demand backup of a table with an active job is refused.
func TestStartBackupJobConflict(t *testing.T) {
	g := newGate("slow-")
	f := newFixtureWith(t, func(c *Config) { c.WrapScanner = g.wrap })
	defer g.open()
	ctx := context.Background()
	arn := f.table(t, "slow-conflict", 5)
	j, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, f.svc, j.ID, "running", isState(backup.JobRunning))
	_, err = f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if backup.ErrorCode(err) != backup.ErrConflict || !strings.Contains(err.Error(), j.ID) {
		t.Fatalf("second job: %v", err)
	}
	g.open()
	if j = waitJob(t, f.svc, j.ID, "ended", terminal); j.State != backup.JobCompleted {
		t.Fatalf("job %s %q", j.State, j.StatusMessage)
	}
	if jobs := allJobs(t, f.svc); len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
}

// Start runs the scheduler on its own: a due rule gets its job without a
// call to Tick, and Close ends the loop.
func TestStartRunsScheduler(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T04:00:00Z"))
	f := newFixtureWith(t, func(c *Config) { c.Clock = clk; c.SchedulerInterval = 5 * time.Millisecond })
	arn := f.table(t, "started", 3)
	f.tag(t, arn, "backup", "daily")
	newPlan(t, f.svc, dailyPlan("p"), tagSelection("s", "backup", "daily"))
	clk.Set(at("2026-03-01T05:00:00Z"))
	f.svc.Start()
	f.svc.Start() // a second call does nothing
	var jobs []*backup.BackupJob
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && len(jobs) == 0; time.Sleep(5 * time.Millisecond) {
		jobs = allJobs(t, f.svc)
	}
	if len(jobs) != 1 || jobs[0].ResourceARN != arn {
		t.Fatalf("jobs: %+v", jobs)
	}
	if j := waitJob(t, f.svc, jobs[0].ID, "ended", terminal); j.State != backup.JobCompleted {
		t.Fatalf("job %s %q", j.State, j.StatusMessage)
	}
	f.svc.Close() // returns: the loops ended
	if jobs := allJobs(t, f.svc); len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
}

// Recover queues again a job a previous process had not started while its
// start window is open, and ends it EXPIRED once the window has closed.
func TestRecoverQueuesUnstartedJobs(t *testing.T) {
	clk := clock.NewFake(at("2026-03-01T05:30:00Z"))
	adjust := func(c *Config) { c.Clock = clk }
	f := newFixtureWith(t, adjust)
	ctx := context.Background()
	arnOpen := f.table(t, "left-open", 4)
	arnClosed := f.table(t, "left-closed", 4)
	mk := func(arn, name string, state backup.JobState, startBy time.Time) *backup.BackupJob {
		j := &backup.BackupJob{ID: newID(), AccountID: "000000000000", Region: "us-east-1", VaultName: "Default",
			VaultARN:         backup.VaultARN("us-east-1", "000000000000", "Default"),
			RecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", newID()),
			ResourceARN:      arn, ResourceType: backup.ResourceTypeDynamoDB, ResourceName: name,
			State: state, StatusMessage: "attempt 1 failed: throttled", CreationDate: at("2026-03-01T05:00:00Z"), StartBy: startBy}
		if err := f.cat.CreateBackupJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	open := mk(arnOpen, "left-open", backup.JobPending, at("2026-03-01T06:00:00Z"))
	closed := mk(arnClosed, "left-closed", backup.JobCreated, at("2026-03-01T05:15:00Z"))
	svc := f.newService(t, f.cat, adjust)
	if j := waitJob(t, svc, open.ID, "ended", terminal); j.State != backup.JobCompleted || j.ItemCount != 4 {
		t.Fatalf("job with an open window: %s %q", j.State, j.StatusMessage)
	}
	j, err := svc.GetBackupJob(ctx, closed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != backup.JobExpired || !strings.Contains(j.StatusMessage, "start window closed at 2026-03-01T05:15:00Z") {
		t.Fatalf("job with a closed window: %s %q", j.State, j.StatusMessage)
	}
}
