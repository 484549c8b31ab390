package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it):\ngot:\n%s\nwant:\n%s", path, t.Name(), got, want)
	}
}

// TestTablesGolden renders each list command's table from fixed data, as
// it is by default (fitting 100 columns) and with --wide, and compares it
// with testdata/*.golden.
func TestTablesGolden(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("CEST", 2*3600)
	t.Cleanup(func() { time.Local = local })

	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	long := "an error message from the source that goes on and on: " + strings.Repeat("more detail, ", 8)
	jobs := []types.BackupJob{
		{BackupJobId: aws.String("3f0c2a4e-8d1b-4c55-9a7e-2b6d1f0e9c11"), State: types.BackupJobStateCompleted,
			ResourceName: aws.String("orders"), BackupVaultName: aws.String("Default"), PercentDone: aws.String("100.0"),
			BackupSizeInBytes: aws.Int64(734003200), BytesTransferred: aws.Int64(1073741824), CreationDate: at("2026-03-29T00:30:00Z"),
			CompletionDate:   at("2026-03-29T00:41:07Z"),
			RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:0b6f6d1e-6a43-4a57-8a44-c0f4bd0d7a52")},
		{BackupJobId: aws.String("c4b9e0de-0d0c-4b9f-a2a1-6cf3f5d7e8a0"), State: types.BackupJobStateFailed,
			ResourceName: aws.String("customer-events-with-a-rather-long-table-name"), BackupVaultName: aws.String("offsite-frankfurt"),
			PercentDone: aws.String("12.5"), BackupSizeInBytes: aws.Int64(0), CreationDate: at("2026-03-30T03:00:00Z"),
			StatusMessage: aws.String(long)},
	}
	restores := []types.RestoreJobsListMember{
		{RestoreJobId: aws.String("9b1e7c3a-0f4d-4e2b-8c6a-5d2f3e1a7b90"), Status: types.RestoreJobStatusCompleted,
			CreatedResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders-copy"), PercentDone: aws.String("100.0"),
			ValidationStatus: "SUCCESSFUL", CreationDate: at("2026-03-29T08:00:00Z"), CompletionDate: at("2026-03-29T08:03:00Z"),
			RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:0b6f6d1e-6a43-4a57-8a44-c0f4bd0d7a52"),
			StatusMessage:    aws.String("not applied: TimeToLiveSpecification (the target does not support UpdateTimeToLive)")},
		{RestoreJobId: aws.String("1a2b3c4d-0000-4e2b-8c6a-5d2f3e1a7b90"), Status: types.RestoreJobStatusFailed,
			PercentDone: aws.String("0.0"), CreationDate: at("2026-03-29T09:00:00Z"),
			RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:0b6f6d1e-6a43-4a57-8a44-c0f4bd0d7a52"),
			StatusMessage:    aws.String("table orders already exists in source default; cairn never writes into an existing table: choose another TargetTableName or delete the table")},
	}
	points := []pointRow{
		{arn: "arn:aws:backup:us-east-1:000000000000:recovery-point:0b6f6d1e-6a43-4a57-8a44-c0f4bd0d7a52", status: "COMPLETED",
			table: "orders", vault: "Default", size: 734003200, created: at("2026-03-29T00:30:00Z")},
		{arn: "arn:aws:backup:us-east-1:000000000000:recovery-point:77e1c2a0-5b7d-4f0e-9d55-0a6f3c2b1e44", status: "COMPLETED",
			table: "customer-events-with-a-rather-long-table-name", vault: "offsite-frankfurt-with-a-long-vault-name", size: 1 << 40,
			created: at("2026-01-05T12:00:00Z")},
	}
	vaults := []types.BackupVaultListMember{
		{BackupVaultName: aws.String("Default"), NumberOfRecoveryPoints: 12, CreationDate: at("2026-01-01T00:00:00Z"),
			BackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:Default")},
		{BackupVaultName: aws.String("offsite-frankfurt-with-a-long-vault-name"), NumberOfRecoveryPoints: 3, CreationDate: at("2026-02-01T00:00:00Z"),
			BackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:offsite-frankfurt-with-a-long-vault-name")},
	}
	plans := []types.BackupPlansListMember{
		{BackupPlanName: aws.String("daily"), BackupPlanId: aws.String("8a4f1e2c-1b3d-4c5e-9f7a-0b2c4d6e8f10"),
			VersionId: aws.String("MDk3OTI2ZDMtYmE3Zi00YjY2LWJkZDktYmQ3NmEyNjUyMjA5"), CreationDate: at("2026-01-01T00:00:00Z"),
			LastExecutionDate: at("2026-03-29T05:00:00Z")},
	}
	rules := []types.BackupRule{
		{RuleName: aws.String("RuleForDailyBackups"), TargetBackupVaultName: aws.String("BackupVault_blog"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), ScheduleExpressionTimezone: aws.String("Europe/Berlin"),
			StartWindowMinutes: aws.Int64(60), CompletionWindowMinutes: aws.Int64(120),
			Lifecycle:   &types.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(30), DeleteAfterDays: aws.Int64(365)},
			CopyActions: []types.CopyAction{{DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:offsite")}}},
	}

	for _, wide := range []bool{false, true} {
		c := &cli{out: outputFlags{format: outputTable, wide: wide}}
		suffix := ""
		if wide {
			suffix = "-wide"
		}
		for name, tb := range map[string]*table{
			"backup-list": c.backupJobsTable(jobs), "restore-list": c.restoreJobsTable(restores), "point-list": c.pointTable(points),
			"vault-list": c.vaultTable(vaults), "plan-list": c.planTable(plans, false), "plan-rules": c.rulesTable(rules),
		} {
			var b bytes.Buffer
			if err := tb.write(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, name+suffix+".golden", b.String())
			for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				if strings.HasPrefix(l, notePrefix) { // a job's message: prose on its own line, never cut
					continue
				}
				if n := utf8.RuneCountInString(l); !wide && n > tableWidth {
					t.Errorf("%s: a line of %d columns, more than %d:\n%s", name, n, tableWidth, l)
				}
			}
			if name != "plan-rules" && !strings.Contains(b.String(), "CEST") {
				t.Errorf("%s: times carry no zone:\n%s", name, b.String())
			}
		}
	}
}

// TestProgressLines: on a non-terminal the progress is plain lines, with
// items, bytes and a rate, a percentage and an ETA only when there is an
// estimate, "validating" during a restore's check, and no carriage return.
func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	now := time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC)
	p := &progress{w: &b, now: func() time.Time { return now }}
	step := func(d time.Duration, l progressLook) {
		now = now.Add(d)
		p.show(l)
	}
	// A backup of a table whose size the source does not report.
	step(0, progressLook{state: "RUNNING", items: 0, bytes: 0, verb: "read"})
	step(5*time.Second, progressLook{state: "RUNNING", items: 50000, bytes: 50 << 20, verb: "read"}) // within progressEvery: no line
	step(6*time.Second, progressLook{state: "RUNNING", items: 110000, bytes: 110 << 20, verb: "read"})
	p.done()
	out := b.String()
	if strings.Contains(out, "\r") {
		t.Errorf("carriage return on a non-terminal: %q", out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines (first look, then after %s), got %q", progressEvery, lines)
	}
	if want := "RUNNING     110,000 items read  110.0 MiB  10,000 items/s, 10.0 MiB/s  elapsed 11s"; lines[1] != want {
		t.Errorf("line without estimate:\n got %q\nwant %q", lines[1], want)
	}
	if strings.Contains(out, "%") || strings.Contains(out, "ETA") {
		t.Errorf("a percentage or an ETA without an estimate: %q", out)
	}

	// A restore with an estimate, then its check.
	b.Reset()
	p = &progress{w: &b, now: func() time.Time { return now }}
	step(0, progressLook{state: "RUNNING", items: 0, bytes: -1, percent: 0, verb: "written"})
	step(20*time.Second, progressLook{state: "RUNNING", items: 40000, bytes: -1, percent: 40, verb: "written"})
	step(time.Second, progressLook{state: "RUNNING", phase: "validating", items: 100000, bytes: -1, percent: 99, verb: "written"})
	lines = strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", lines)
	}
	if want := "RUNNING     40,000 items written  2,000 items/s  40.0% ETA 30s  elapsed 20s"; lines[1] != want {
		t.Errorf("line with estimate:\n got %q\nwant %q", lines[1], want)
	}
	if !strings.HasPrefix(lines[2], "validating") {
		t.Errorf("restore check: %q", lines[2])
	}

	// On a terminal the line is redrawn in place.
	b.Reset()
	p = &progress{w: &b, now: func() time.Time { return now }, terminal: true}
	step(0, progressLook{state: "RUNNING", bytes: -1, verb: "read"})
	step(time.Second, progressLook{state: "RUNNING", items: 10, bytes: -1, verb: "read"})
	p.done()
	if strings.Count(b.String(), "\r") != 2 || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("terminal progress: %q", b.String())
	}
}

// TestFitTable: a table wider than its width gives up prose first, then
// names, and never cuts fixed columns.
func TestFitTable(t *testing.T) {
	tb := newFitTable(40, column{head: "ID"}, column{head: "NAME", flex: true, min: 6}, column{head: "MESSAGE", flex: true, min: 7, text: true})
	tb.row("12345678", "a-name-of-20-letters", "a message that is much too long for forty columns")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	if want := "ID        NAME                  MESSAGE\n12345678  a-name-of-20-letters  a mes...\n"; b.String() != want {
		t.Errorf("fit table:\n got %q\nwant %q", b.String(), want)
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if len(l) > 40 {
			t.Errorf("line of %d > 40: %q", len(l), l)
		}
	}
	if !strings.Contains(b.String(), "a-name-of-20-letters") {
		t.Errorf("the name was cut before the message:\n%s", b.String())
	}
}

// TestTableOneLine: a cell or a note with line breaks, tabs or other
// control characters prints on one line, so a multi-line failure reason
// never breaks a table.
func TestTableOneLine(t *testing.T) {
	tb := newTable("ID", "MESSAGE")
	tb.row("1", "first line\nsecond\tline\r\n")
	tb.note("reason:\n  the table\x00was\tnot found\n")
	tb.row("2", "plain")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "ID  MESSAGE\n1   first line second line\n" + notePrefix + "reason: the table was not found\n2   plain\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
