package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// cairnJSON runs the CLI with --output json and decodes its stdout.
func cairnJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, _ := cairnOK(t, append(args, "--output", "json")...)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("cairn %s --output json is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// TestCLIOutputsAndLookups: --output json on every client command parses,
// commands take the short ids the tables show, a recovery point's id, and
// a plan's name, and negative --segments / --read-rate are refused.
func TestCLIOutputsAndLookups(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 300)

	// Refused before anything is sent: nothing is created.
	cairnFails(t, 2, []string{"--segments must be 0", "-3"}, "backup", "start", "orders", "--segments", "-3")
	cairnFails(t, 2, []string{"--read-rate must be 0", "-1"}, "backup", "start", "orders", "--read-rate", "-1")
	cairnFails(t, 2, []string{"--output must be table or json"}, "vault", "list", "--output", "yaml")
	if v := cairnJSON(t, "backup", "list"); len(v["BackupJobs"].([]any)) != 0 {
		t.Fatalf("refused starts created jobs: %v", v)
	}

	v := cairnJSON(t, "vault", "create", "second")
	if v["BackupVaultName"] != "second" || !strings.HasSuffix(v["BackupVaultArn"].(string), ":backup-vault:second") {
		t.Errorf("vault create json: %v", v)
	}
	if v := cairnJSON(t, "vault", "list"); len(v["BackupVaultList"].([]any)) != 2 {
		t.Errorf("vault list json: %v", v)
	}
	if v := cairnJSON(t, "vault", "describe", "second"); v["BackupVaultName"] != "second" {
		t.Errorf("vault describe json: %v", v)
	}

	// A backup into the second vault: stdout is the final job, as JSON.
	job := cairnJSON(t, "backup", "start", "orders", "--vault", "second")
	jobID, _ := job["BackupJobId"].(string)
	rpARN, _ := job["RecoveryPointArn"].(string)
	if job["State"] != "COMPLETED" || len(jobID) != fullIDLen || rpARN == "" {
		t.Fatalf("backup start json: %v", job)
	}
	if _, ok := job["ResultMetadata"]; ok {
		t.Errorf("json output carries the SDK's ResultMetadata: %v", job)
	}
	if v := cairnJSON(t, "backup", "list"); len(v["BackupJobs"].([]any)) != 1 {
		t.Errorf("backup list json: %v", v)
	}
	// The short id of the table, and a point id without --vault.
	if v := cairnJSON(t, "backup", "describe", jobID[:8]); v["BackupJobId"] != jobID {
		t.Errorf("backup describe by short id: %v", v)
	}
	cairnFails(t, 1, []string{"no backup job", "zzzz"}, "backup", "describe", "zzzz")
	pid := pointID(rpARN)
	if v := cairnJSON(t, "point", "describe", pid[:8]); v["RecoveryPointArn"] != rpARN || v["BackupVaultName"] != "second" {
		t.Errorf("point describe by short id in another vault: %v", v)
	}
	if v := cairnJSON(t, "point", "list", "--vault", "second"); len(v["RecoveryPoints"].([]any)) != 1 {
		t.Errorf("point list json: %v", v)
	}
	if v := cairnJSON(t, "point", "list", "--table", "orders"); len(v["RecoveryPoints"].([]any)) != 1 {
		t.Errorf("point list --table json: %v", v)
	}

	// A restore of the point given by its id.
	r := cairnJSON(t, "restore", "start", pid, "--table", "orders-copy")
	restoreID, _ := r["RestoreJobId"].(string)
	if r["Status"] != "COMPLETED" || r["ValidationStatus"] != "SUCCESSFUL" || r["RecoveryPointArn"] != rpARN {
		t.Fatalf("restore start json: %v", r)
	}
	if v := cairnJSON(t, "restore", "describe", restoreID[:8]); v["RestoreJobId"] != restoreID {
		t.Errorf("restore describe by short id: %v", v)
	}
	if v := cairnJSON(t, "restore", "list"); len(v["RestoreJobs"].([]any)) != 1 {
		t.Errorf("restore list json: %v", v)
	}
	if v := cairnJSON(t, "backup", "start", "orders", "--no-wait"); v["BackupJobId"] == nil {
		t.Errorf("backup start --no-wait json: %v", v)
	}

	// Plans: by name, and JSON.
	applied := cairnJSON(t, "apply", "-f", blogTemplatePath, "--stack-name", "blog", "--parameter", "TagKey=backup", "--parameter", "TagValue=daily")
	if len(applied["Changes"].([]any)) != 4 {
		t.Errorf("apply json: %v", applied)
	}
	if v := cairnJSON(t, "apply", "--show", "--stack-name", "blog"); v["Stack"] == nil {
		t.Errorf("apply --show json: %v", v)
	}
	plans := cairnJSON(t, "plan", "list")["BackupPlansList"].([]any)
	if len(plans) != 1 {
		t.Fatalf("plan list json: %v", plans)
	}
	planID := plans[0].(map[string]any)["BackupPlanId"].(string)
	out, _ := cairnOK(t, "plan", "show", "BackupPlan_blog")
	if kvValue(t, out, "Plan ID") != planID {
		t.Errorf("plan show by name:\n%s", out)
	}
	if v := cairnJSON(t, "plan", "show", "BackupPlan_blog"); v["BackupPlanId"] != planID || len(v["BackupSelectionsList"].([]any)) != 1 {
		t.Errorf("plan show json: %v", v)
	}
	if v := cairnJSON(t, "explain", "orders"); v["ResourceArn"] == nil {
		t.Errorf("explain json: %v", v)
	}
	// Times in table output carry their zone.
	out, _ = cairnOK(t, "vault", "describe", "second")
	if created := kvValue(t, out, "Created"); len(strings.Fields(created)) != 3 {
		t.Errorf("vault describe Created %q has no zone", created)
	}
}

// TestCLIInterruptWhileCreating: Ctrl-C while StartBackupJob is on its way
// says whether a job exists: created (its id and how to stop it), or not.
func TestCLIInterruptWhileCreating(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	createTable(t, ddbClient(dyn.Endpoint), "orders", ddbjson.TypeS, false)

	// A proxy in front of the server holds StartBackupJob until the test
	// has pressed Ctrl-C, then forwards it (or refuses it).
	target, _ := url.Parse("http://" + m.Addr)
	arrived, release := make(chan struct{}, 1), make(chan bool)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/backup-jobs" {
			arrived <- struct{}{}
			if forward := <-release; !forward {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("x-amzn-ErrorType", "InvalidRequestException")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"Code":"InvalidRequestException","Message":"refused"}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	t.Setenv("CAIRN_ENDPOINT", proxy.URL)

	start := func(forward bool) (string, error) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stdout, stderr bytes.Buffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"backup", "start", "orders"}, &stdout, &stderr) }()
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("StartBackupJob never reached the proxy")
		}
		cancel() // Ctrl-C
		release <- forward
		select {
		case err := <-done:
			return stderr.String(), err
		case <-time.After(60 * time.Second):
			t.Fatal("cairn backup start did not return after Ctrl-C")
		}
		return "", nil
	}

	_, err := start(true)
	if err == nil || exitCode(err) != exitInterrupted {
		t.Fatalf("interrupted start: err %v, exit %d", err, exitCode(err))
	}
	jobs := cairnJSON(t, "backup", "list")["BackupJobs"].([]any)
	if len(jobs) != 1 {
		t.Fatalf("jobs after an interrupted start that reached the server: %v", jobs)
	}
	id := jobs[0].(map[string]any)["BackupJobId"].(string)
	for _, want := range []string{"was created", id, "cairn backup stop " + id} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("interrupted start says %q, not %q", err, want)
		}
	}

	_, err = start(false)
	if err == nil || exitCode(err) != exitInterrupted || !strings.Contains(err.Error(), "no backup job was created") {
		t.Errorf("interrupted start refused by the server: %v (exit %d)", err, exitCode(err))
	}
	if jobs := cairnJSON(t, "backup", "list")["BackupJobs"].([]any); len(jobs) != 1 {
		t.Errorf("a refused start made a job: %v", jobs)
	}
}
