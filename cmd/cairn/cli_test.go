package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// cairnCLI runs cairn's own CLI in-process and returns its stdout, stderr
// and error.
func cairnCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		t.Logf("cairn %s: err %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String(), err
}

// cairnOK runs the CLI and requires it to succeed.
func cairnOK(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errb, err := cairnCLI(t, args...)
	if err != nil {
		t.Fatalf("cairn %s: %v (exit %d)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, exitCode(err), out, errb)
	}
	return out, errb
}

// cairnFails runs the CLI, requires it to fail with exit code code and an
// error message containing every one of want, and returns the message.
func cairnFails(t *testing.T, code int, want []string, args ...string) string {
	t.Helper()
	out, errb, err := cairnCLI(t, args...)
	if err == nil {
		t.Fatalf("cairn %s succeeded, want exit %d\nstdout:\n%s", strings.Join(args, " "), code, out)
	}
	if got := exitCode(err); got != code {
		t.Errorf("cairn %s: exit code %d, want %d (%v)", strings.Join(args, " "), got, code, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("cairn %s: error %q does not mention %q (stderr %s)", strings.Join(args, " "), err, w, errb)
		}
	}
	return err.Error()
}

// kvValue returns the value of "Key:  value" in kv output, failing if absent.
func kvValue(t *testing.T, out, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `:\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output has no %q line:\n%s", key, out)
	}
	return strings.TrimSpace(m[1])
}

// tableRows checks the header of table output and returns its rows, each
// split into fields (a date and time make two).
func tableRows(t *testing.T, out, header string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(strings.Join(strings.Fields(lines[0]), " "), header) {
		t.Fatalf("table output does not start with header %q:\n%s", header, out)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, notePrefix) { // a row's message, not a row
			continue
		}
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// cliEnv points the CLI at m through the environment, as a user would.
func cliEnv(t *testing.T, m *Main) {
	t.Setenv("CAIRN_ENDPOINT", "http://"+m.Addr)
	t.Setenv("CAIRN_DATA_DIR", m.Config.DataDir)
}

// TestCLI drives cairn's own CLI against a real server, dynalite and
// versitygw: vaults, a backup into S3 with progress, listing, a restore,
// and deletion.
func TestCLI(t *testing.T) {
	// The CLI must find its key pair in the data dir, not in the
	// environment of whoever runs the tests.
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	m := testServerS3(t, t.TempDir(), dyn.Endpoint, s3)
	cliEnv(t, m)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 2000)
	wantN, wantSum := tableChecksum(t, db, "orders")

	out, _ := cairnOK(t, "vault", "create", "plain")
	if !strings.Contains(out, "created vault plain (arn:aws:backup:us-east-1:000000000000:backup-vault:plain)") {
		t.Errorf("vault create: %q", out)
	}
	out, _ = cairnOK(t, "vault", "create", "s3v", "--storage", "s3://cairn-cli/v1", "--s3-endpoint", s3.Endpoint)
	if !strings.Contains(out, "created vault s3v") {
		t.Errorf("vault create --storage: %q", out)
	}
	cairnFails(t, 1, []string{"AlreadyExistsException"}, "vault", "create", "plain")
	cairnFails(t, 1, []string{"InvalidParameterValueException"}, "vault", "create", "bad", "--storage", "relative/path")

	out, _ = cairnOK(t, "vault", "list", "--wide")
	var names []string
	for _, r := range tableRows(t, out, "NAME RECOVERY POINTS CREATED ARN") {
		if len(r) != 6 || r[1] != "0" || !strings.HasSuffix(r[5], ":backup-vault:"+r[0]) {
			t.Errorf("vault list row %q", r)
		}
		names = append(names, r[0])
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Default", "plain", "s3v"}) {
		t.Errorf("vault list: %v\n%s", names, out)
	}

	// A backup into the S3 vault, slowed by --read-rate so that the CLI
	// shows progress while it waits.
	out, errb := cairnOK(t, "backup", "start", "orders", "--vault", "s3v", "--read-rate", "250")
	if !strings.HasPrefix(out, "started backup job ") {
		t.Errorf("backup start stdout begins %q", out)
	}
	// stderr is not a terminal: plain lines, no carriage returns.
	if !regexp.MustCompile(`(?m)^(CREATED|PENDING|RUNNING)\s+[0-9,]+ items read  [0-9.]+ [KMG]?i?B.*elapsed \d+s$`).MatchString(errb) ||
		strings.Contains(errb, "\r") {
		t.Errorf("backup start shows no progress line on stderr: %q", errb)
	}
	if got := kvValue(t, out, "State"); got != "COMPLETED" {
		t.Fatalf("backup State %s\n%s", got, out)
	}
	jobID := kvValue(t, out, "Backup job")
	rpARN := kvValue(t, out, "Recovery point")
	if kvValue(t, out, "Vault") != "s3v" || kvValue(t, out, "Resource type") != "DynamoDB" ||
		kvValue(t, out, "Resource") != "arn:aws:dynamodb:us-east-1:000000000000:table/orders" ||
		!strings.Contains(rpARN, ":recovery-point:") || kvValue(t, out, "Stored") == "0 B" {
		t.Errorf("backup start output:\n%s", out)
	}
	if files := bucketFiles(t, s3, "cairn-cli", "v1/AWSDynamoDB/"+pointID(rpARN)); !slices.Contains(files, "manifest-summary.json") {
		t.Errorf("versitygw holds %v for the point, no manifest-summary.json", files)
	}

	out, _ = cairnOK(t, "backup", "describe", jobID)
	if kvValue(t, out, "Backup job") != jobID || kvValue(t, out, "State") != "COMPLETED" || kvValue(t, out, "Recovery point") != rpARN ||
		kvValue(t, out, "Percent done") != "100.0" {
		t.Errorf("backup describe:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--state", "COMPLETED"}, true},
		{[]string{"--state", "completed", "--vault", "s3v", "--table", "orders"}, true},
		{[]string{"--state", "FAILED"}, false},
		{[]string{"--vault", "plain"}, false},
		{[]string{"--table", "other"}, false},
	} {
		out, _ := cairnOK(t, append([]string{"backup", "list"}, tc.args...)...)
		if !tc.want {
			if strings.TrimSpace(out) != "(none)" {
				t.Errorf("backup list %v: %q, want (none)", tc.args, out)
			}
			continue
		}
		rows := tableRows(t, out, "JOB ID STATE TABLE VAULT DONE SIZE CREATED")
		if len(rows) != 1 || rows[0][0] != jobID[:8] || rows[0][1] != "COMPLETED" || rows[0][2] != "orders" || rows[0][3] != "s3v" || rows[0][4] != "100.0%" {
			t.Errorf("backup list %v:\n%s", tc.args, out)
		}
	}

	for _, args := range [][]string{{"--vault", "s3v"}, {"--table", "orders"}} {
		out, _ := cairnOK(t, append([]string{"point", "list"}, args...)...)
		rows := tableRows(t, out, "POINT ID STATUS TABLE VAULT SIZE CREATED")
		if len(rows) != 1 || rows[0][0] != pointID(rpARN)[:8] || rows[0][1] != "COMPLETED" || rows[0][2] != "orders" || rows[0][3] != "s3v" {
			t.Errorf("point list %v:\n%s", args, out)
		}
	}
	if out, _ := cairnOK(t, "point", "list"); strings.TrimSpace(out) != "(none)" {
		t.Errorf("point list of Default: %q, want (none)", out)
	}
	out, _ = cairnOK(t, "vault", "describe", "s3v")
	if kvValue(t, out, "Recovery points") != "1" {
		t.Errorf("vault describe:\n%s", out)
	}

	// A restore into a new table.
	out, _ = cairnOK(t, "restore", "start", rpARN, "--table", "orders-copy")
	if kvValue(t, out, "Status") != "COMPLETED" || kvValue(t, out, "Validation") != "SUCCESSFUL" ||
		kvValue(t, out, "Created table") != "arn:aws:dynamodb:us-east-1:000000000000:table/orders-copy" {
		t.Fatalf("restore start:\n%s", out)
	}
	restoreID := kvValue(t, out, "Restore job")
	if n, sum := tableChecksum(t, db, "orders-copy"); n != wantN || sum != wantSum {
		t.Fatalf("restored table: %d items %s, source %d items %s", n, sum, wantN, wantSum)
	}
	out, _ = cairnOK(t, "restore", "list")
	rows := tableRows(t, out, "JOB ID STATUS CREATED TABLE DONE VALIDATION CREATED")
	if len(rows) != 1 || rows[0][0] != restoreID[:8] || rows[0][1] != "COMPLETED" || rows[0][2] != "orders-copy" || rows[0][4] != "SUCCESSFUL" {
		t.Errorf("restore list:\n%s", out)
	}
	if out, _ := cairnOK(t, "restore", "list", "--status", "FAILED"); strings.TrimSpace(out) != "(none)" {
		t.Errorf("restore list --status FAILED: %q", out)
	}
	out, _ = cairnOK(t, "restore", "describe", restoreID)
	if kvValue(t, out, "Status") != "COMPLETED" || kvValue(t, out, "Recovery point") != rpARN {
		t.Errorf("restore describe:\n%s", out)
	}
	// Restoring over an existing table fails the job, and the CLI says so
	// with exit code 3.
	cairnFails(t, 3, []string{"FAILED", "already exists"}, "restore", "start", rpARN, "--table", "orders")

	// Deletion.
	cairnFails(t, 1, []string{"InvalidRequestException"}, "vault", "delete", "s3v")
	out, _ = cairnOK(t, "point", "delete", rpARN, "--vault", "s3v")
	if !strings.Contains(out, "deleted recovery point "+rpARN) {
		t.Errorf("point delete: %q", out)
	}
	if files := bucketFiles(t, s3, "cairn-cli", "v1/AWSDynamoDB/"+pointID(rpARN)); len(files) != 0 {
		t.Errorf("versitygw still holds the deleted point: %v", files)
	}
	cairnFails(t, 1, []string{"ResourceNotFoundException"}, "point", "describe", rpARN, "--vault", "s3v")
	cairnOK(t, "vault", "delete", "s3v")
	cairnFails(t, 1, []string{"ResourceNotFoundException"}, "vault", "describe", "s3v")
}

// TestCLIErrors: usage errors, unknown things, an unreachable server and
// missing or wrong credentials each get a message that says what to do.
func TestCLIErrors(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	createTable(t, ddbClient(dyn.Endpoint), "orders", ddbjson.TypeS, false)

	t.Run("usage", func(t *testing.T) {
		cairnFails(t, 2, []string{"unknown command", "frobnicate"}, "frobnicate")
		cairnFails(t, 2, []string{"unknown command", "cairn vault frobnicate"}, "vault", "frobnicate")
		cairnFails(t, 2, []string{"needs a subcommand"}, "backup")
		cairnFails(t, 2, []string{"no command"})
		cairnFails(t, 2, []string{"usage: cairn backup start"}, "backup", "start")
		cairnFails(t, 2, []string{"usage: cairn vault create"}, "vault", "create", "a", "b")
		cairnFails(t, 2, []string{"unknown flag: --nope", "cairn vault list --help"}, "vault", "list", "--nope")
		msg := cairnFails(t, 2, []string{"--table", "required", "new table"}, "restore", "start",
			"arn:aws:backup:us-east-1:000000000000:recovery-point:x")
		if strings.Contains(msg, "Exception") {
			t.Errorf("restore start without --table reached the server: %s", msg)
		}
		// -h prints what the command does and its flags, and exits 0.
		out, _ := cairnOK(t, "vault", "create", "-h")
		if !strings.Contains(out, "Create a backup vault") || !strings.Contains(out, "--s3-endpoint") {
			t.Errorf("vault create -h: %q", out)
		}
		if _, errb, _ := cairnCLI(t, "frobnicate"); !strings.Contains(errb, "Usage:") {
			t.Errorf("unknown command prints no usage: %q", errb)
		}
		out, _ = cairnOK(t, "version")
		if !strings.HasPrefix(out, "cairn ") {
			t.Errorf("version: %q", out)
		}
	})

	t.Run("unknown things", func(t *testing.T) {
		cairnFails(t, 1, []string{"ResourceNotFoundException", "nosuch"}, "vault", "describe", "nosuch")
		cairnFails(t, 1, []string{"ResourceNotFoundException", "nosuch"}, "backup", "start", "orders", "--vault", "nosuch")
		cairnFails(t, 1, []string{"ResourceNotFoundException"}, "backup", "describe", "00000000-0000-0000-0000-000000000000")
		cairnFails(t, 1, []string{"ResourceNotFoundException"}, "restore", "start",
			"arn:aws:backup:us-east-1:000000000000:recovery-point:nope", "--table", "x-new")
	})

	t.Run("server down", func(t *testing.T) {
		t.Setenv("CAIRN_ENDPOINT", fmt.Sprintf("http://127.0.0.1:%d", testbed.FreePort(t)))
		cairnFails(t, 1, []string{"cannot reach the cairn server", "CAIRN_ENDPOINT"}, "vault", "list")
	})

	t.Run("no credentials", func(t *testing.T) {
		empty := t.TempDir()
		t.Setenv("CAIRN_DATA_DIR", empty)
		cairnFails(t, 1, []string{"no credentials", "CAIRN_ACCESS_KEY_ID", "CAIRN_SECRET_ACCESS_KEY", "CAIRN_DATA_DIR", empty}, "vault", "list")
	})

	t.Run("half the credentials", func(t *testing.T) {
		t.Setenv("CAIRN_ACCESS_KEY_ID", m.Keys.AccessKeyID)
		cairnFails(t, 1, []string{"CAIRN_ACCESS_KEY_ID", "CAIRN_SECRET_ACCESS_KEY"}, "vault", "list")
	})

	t.Run("wrong credentials", func(t *testing.T) {
		t.Setenv("CAIRN_ACCESS_KEY_ID", m.Keys.AccessKeyID)
		t.Setenv("CAIRN_SECRET_ACCESS_KEY", "wrong")
		cairnFails(t, 1, []string{"InvalidSignatureException", "check CAIRN_ACCESS_KEY_ID"}, "vault", "create", "intruder")
	})

	t.Run("corrupt key file", func(t *testing.T) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, credentialsFile), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("CAIRN_DATA_DIR", d)
		cairnFails(t, 1, []string{"not a valid key pair file"}, "vault", "list")
	})

	// Nothing above created anything.
	out, _ := cairnOK(t, "vault", "list")
	if rows := tableRows(t, out, "NAME RECOVERY POINTS CREATED"); len(rows) != 1 || rows[0][0] != "Default" {
		t.Errorf("vaults after failed commands:\n%s", out)
	}
	if out, _ := cairnOK(t, "backup", "list"); strings.TrimSpace(out) != "(none)" {
		t.Errorf("jobs after failed commands: %q", out)
	}
}
