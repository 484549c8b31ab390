package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// TestAWSCLIJobSummaries: with the real AWS CLI, two COMPLETED backups, one
// FAILED backup (a missing table) and one COMPLETED restore are counted
// exactly by list-backup-job-summaries, list-restore-job-summaries and
// list-copy-job-summaries, per day and summed over a week; a bad enum value is
// an InvalidParameterValueException naming the parameter.
func TestAWSCLIJobSummaries(t *testing.T) {
	dyn := testbed.Dynalite(t)
	testbed.AWSCLI(t)
	// The server's clock stands still at noon UTC, so that every job falls
	// on one day whenever the test runs (a real clock at midnight would
	// split them over two days' buckets).
	clk := clock.NewFake(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	m := testServerWith(t, t.TempDir(), dyn.Endpoint, func(m *Main) { m.Clock = clk })
	aws := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	db := ddbClient(dyn.Endpoint)
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/"
	for _, table := range []string{"sum-a", "sum-b"} {
		createTable(t, db, table, ddbjson.TypeS, false)
		seedRandom(t, db, table, 20)
	}
	backupOf := func(table, want string) map[string]any {
		j := aws.ok("start-backup-job", "--backup-vault-name", "Default", "--resource-arn", arn+table,
			"--iam-role-arn", "arn:aws:iam::000000000000:role/x")
		done := aws.poll("State", []string{"COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"},
			"describe-backup-job", "--backup-job-id", jsonStr(j, "BackupJobId"))
		if jsonStr(done, "State") != want {
			t.Fatalf("backup of %s: %v, want %s", table, done, want)
		}
		return done
	}
	a := backupOf("sum-a", "COMPLETED")
	backupOf("sum-b", "COMPLETED")
	backupOf("sum-absent", "FAILED")
	r := aws.ok("start-restore-job", "--recovery-point-arn", jsonStr(a, "RecoveryPointArn"),
		"--metadata", "TargetTableName=sum-a-restored", "--iam-role-arn", "arn:aws:iam::000000000000:role/x")
	if done := aws.poll("Status", []string{"COMPLETED", "FAILED", "ABORTED"}, "describe-restore-job",
		"--restore-job-id", jsonStr(r, "RestoreJobId")); jsonStr(done, "Status") != "COMPLETED" {
		t.Fatalf("restore: %v", done)
	}
	today := clk.Now().UTC().Truncate(24 * time.Hour)

	type row struct {
		State, Category string
		Count           float64
		Start, End      time.Time
	}
	rows := func(key string, args ...string) (string, []row) {
		out := aws.ok(args...)
		var got []row
		for _, s := range jsonList(t, out, key) {
			if jsonStr(s, "Region") != "us-east-1" || jsonStr(s, "AccountId") != "000000000000" || jsonStr(s, "ResourceType") != "DynamoDB" {
				t.Errorf("%s: %v", args[0], s)
			}
			got = append(got, row{jsonStr(s, "State"), jsonStr(s, "MessageCategory"), jsonNum(s, "Count"),
				time.Unix(int64(jsonNum(s, "StartTime")), 0).UTC(), time.Unix(int64(jsonNum(s, "EndTime")), 0).UTC()})
		}
		return jsonStr(out, "AggregationPeriod"), got
	}
	day := 24 * time.Hour
	period, got := rows("BackupJobSummaries", "list-backup-job-summaries", "--aggregation-period", "ONE_DAY")
	want := []row{{"COMPLETED", "SUCCESS", 2, today, today.Add(day)}, {"FAILED", "UNKNOWN", 1, today, today.Add(day)}}
	if period != "ONE_DAY" || !equalRows(got, want) {
		t.Errorf("list-backup-job-summaries ONE_DAY: %s %+v, want %+v", period, got, want)
	}
	period, got = rows("BackupJobSummaries", "list-backup-job-summaries", "--aggregation-period", "SEVEN_DAYS",
		"--state", "AGGREGATE_ALL", "--message-category", "AGGREGATE_ALL")
	want = []row{{"AGGREGATE_ALL", "AGGREGATE_ALL", 3, today.Add(-6 * day), today.Add(day)}}
	if period != "SEVEN_DAYS" || !equalRows(got, want) {
		t.Errorf("list-backup-job-summaries SEVEN_DAYS: %s %+v, want %+v", period, got, want)
	}
	_, got = rows("BackupJobSummaries", "list-backup-job-summaries", "--state", "FAILED")
	if want := []row{{"FAILED", "UNKNOWN", 1, today, today.Add(day)}}; !equalRows(got, want) {
		t.Errorf("list-backup-job-summaries FAILED: %+v, want %+v", got, want)
	}
	period, got = rows("RestoreJobSummaries", "list-restore-job-summaries", "--aggregation-period", "FOURTEEN_DAYS")
	if want := []row{{"COMPLETED", "", 1, today.Add(-13 * day), today.Add(day)}}; period != "FOURTEEN_DAYS" || !equalRows(got, want) {
		t.Errorf("list-restore-job-summaries: %s %+v, want %+v", period, got, want)
	}
	if _, got = rows("CopyJobSummaries", "list-copy-job-summaries"); len(got) != 0 {
		t.Errorf("list-copy-job-summaries: %+v, want none", got)
	}

	for _, bad := range [][]string{
		{"AggregationPeriod", "list-backup-job-summaries", "--aggregation-period", "ONE_WEEK"},
		{"State", "list-restore-job-summaries", "--state", "EXPIRED"},
		{"AccountId", "list-copy-job-summaries", "--account-id", "42"},
	} {
		if msg := aws.fails("InvalidParameterValueException", bad[1:]...); !strings.Contains(msg, bad[0]) {
			t.Errorf("%v: %s does not name %s", bad[1:], msg, bad[0])
		}
	}
}

// TestCLIListSince: cairn backup list and restore list --since keep only the
// jobs created within the duration, and refuse a duration that is not one.
func TestCLIListSince(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	createTable(t, ddbClient(dyn.Endpoint), "since-a", ddbjson.TypeS, false)
	out, _ := cairnOK(t, "backup", "start", "since-a")
	rpARN := kvValue(t, out, "Recovery point")
	if _, _, err := cairnCLI(t, "backup", "start", "since-absent"); err == nil { // FAILED: no such table
		t.Fatal("backup start since-absent succeeded")
	}
	cairnOK(t, "restore", "start", rpARN, "--table", "since-a-copy")

	if rows := tableRows(t, first(cairnOK(t, "backup", "list", "--since", "1h")), "JOB ID STATE TABLE VAULT DONE SIZE CREATED"); len(rows) != 2 {
		t.Errorf("backup list --since 1h: %v, want 2 jobs", rows)
	}
	failed := first(cairnOK(t, "backup", "list", "--since", "7d", "--state", "FAILED"))
	if rows := tableRows(t, failed, "JOB ID STATE TABLE VAULT DONE SIZE CREATED"); len(rows) != 1 || rows[0][2] != "since-absent" {
		t.Errorf("backup list --since 7d --state FAILED: %v", rows)
	}
	// The failure's reason, whole and on one line, under the job's row.
	var listed struct {
		BackupJobs []struct{ StatusMessage string }
	}
	if err := json.Unmarshal([]byte(first(cairnOK(t, "backup", "list", "--state", "FAILED", "--output", "json"))), &listed); err != nil || len(listed.BackupJobs) != 1 {
		t.Fatalf("backup list --output json: %v %+v", err, listed)
	}
	reason := listed.BackupJobs[0].StatusMessage
	lines := strings.Split(strings.TrimRight(failed, "\n"), "\n")
	if reason == "" || len(lines) != 3 || lines[2] != notePrefix+reason {
		t.Errorf("backup list --state FAILED does not show the reason %q on the line under the job:\n%s", reason, failed)
	}
	if rows := tableRows(t, first(cairnOK(t, "restore", "list", "--since", "36h")), "JOB ID STATUS CREATED TABLE DONE VALIDATION CREATED"); len(rows) != 1 {
		t.Errorf("restore list --since 36h: %v, want 1 job", rows)
	}
	// Every job was created more than a millisecond ago: each took a round trip and a poll.
	for _, cmd := range []string{"backup", "restore"} {
		if out, _ := cairnOK(t, cmd, "list", "--since", "1ms"); strings.TrimSpace(out) != "(none)" {
			t.Errorf("%s list --since 1ms: %q, want (none)", cmd, out)
		}
	}
	for _, bad := range []string{"-5m", "soon", "0d", "1.5d"} {
		cairnFails(t, 2, []string{"--since", bad}, "backup", "list", "--since", bad)
		cairnFails(t, 2, []string{"--since", bad}, "restore", "list", "--since", bad)
	}
}

// first returns the first of two strings.
func first(a, _ string) string { return a }

func equalRows[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
