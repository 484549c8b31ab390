package runner

import (
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
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
