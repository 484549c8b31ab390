package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// failureOnly is the SNS filter policy AWS's guide gives to get only
// failed backup jobs of a vault that sends BACKUP_JOB_COMPLETED.
const failureOnly = `{"State":[{"anything-but":"COMPLETED"}]}`

// snsEnv points the in-process server's SNS client at moto.
func snsEnv(t *testing.T, endpoint string) {
	t.Setenv("AWS_ENDPOINT_URL_SNS", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

// waitMessages reads q until it has received at least n messages in all
// (guarding against a hang only) and returns them.
func waitMessages(t *testing.T, q *testbed.SNSQueue, n int) []testbed.SNSMessage {
	t.Helper()
	var got []testbed.SNSMessage
	for deadline := time.Now().Add(2 * time.Minute); len(got) < n; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the queue received %d messages, want %d: %+v", len(got), n, got)
		}
		got = append(got, q.Receive(t)...)
	}
	return got
}

func attr(m testbed.SNSMessage, k string) string { return m.MessageAttributes[k].Value }

// TestVaultNotificationsEndToEnd: the AWS CLI configures the Default
// vault's notifications (bad requests change nothing), a completed and a
// failed backup reach moto's SNS, and an SQS subscription with AWS
// Backup's failure-only filter policy gets exactly the failed one; cairn
// notify test and cairn notify deliveries show the deliveries.
func TestVaultNotificationsEndToEnd(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	moto := testbed.Moto(t)
	failures := testbed.NewSNSQueue(t, moto.Endpoint, "cairn-backups", "failures", failureOnly)
	everything := testbed.NewSNSQueue(t, moto.Endpoint, "cairn-backups", "everything", "")
	snsEnv(t, moto.Endpoint)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	cli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)

	cli.fails("ResourceNotFoundException", "get-backup-vault-notifications", "--backup-vault-name", "Default")
	cli.ok("put-backup-vault-notifications", "--backup-vault-name", "Default", "--sns-topic-arn", failures.TopicARN,
		"--backup-vault-events", "BACKUP_JOB_COMPLETED")
	want := map[string]any{"BackupVaultName": "Default", "BackupVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		"SNSTopicArn": failures.TopicARN, "BackupVaultEvents": []any{"BACKUP_JOB_COMPLETED"}}
	if got := cli.ok("get-backup-vault-notifications", "--backup-vault-name", "Default"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("get-backup-vault-notifications: %v, want %v", got, want)
	}
	// Bad requests: a clear 4xx, and the configuration stays as it was.
	errb := cli.fails("InvalidParameterValueException", "put-backup-vault-notifications", "--backup-vault-name", "Default",
		"--sns-topic-arn", failures.TopicARN, "--backup-vault-events", "BACKUP_JOB_FAILED", "BACKUP_JOB_EXPLODED")
	if !strings.Contains(errb, `"BACKUP_JOB_EXPLODED" is not a BackupVaultEvents value`) {
		t.Errorf("an unknown event's error does not name it: %s", errb)
	}
	errb = cli.fails("InvalidParameterValueException", "put-backup-vault-notifications", "--backup-vault-name", "Default",
		"--sns-topic-arn", "arn:aws:sqs:us-east-1:000000000000:failures", "--backup-vault-events", "BACKUP_JOB_FAILED")
	if !strings.Contains(errb, "not an SNS topic ARN") {
		t.Errorf("an SQS ARN's error: %s", errb)
	}
	cli.fails("ResourceNotFoundException", "put-backup-vault-notifications", "--backup-vault-name", "nosuchvault",
		"--sns-topic-arn", failures.TopicARN, "--backup-vault-events", "BACKUP_JOB_FAILED")
	if got := cli.ok("get-backup-vault-notifications", "--backup-vault-name", "Default"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the refused requests: %v, want %v", got, want)
	}

	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 50)
	c := backupClient(m)
	ok := startBackup(t, c, "orders")
	bad := startBackup(t, c, "absent")
	waitBackupJob(t, c, ok)
	waitBackupJob(t, c, bad)

	// The failure-only subscription gets the failed job's COMPLETED
	// event (State FAILED), and nothing else.
	got := waitMessages(t, failures, 1)
	m1 := got[0]
	if attr(m1, "Id") != bad || attr(m1, "State") != "FAILED" || attr(m1, "EventType") != "BACKUP_JOB" ||
		attr(m1, "EventName") != "BACKUP_JOB_COMPLETED" || attr(m1, "AccountId") != "000000000000" || attr(m1, "EventId") == "" {
		t.Errorf("the failed job's message: %+v", m1)
	}
	if !strings.Contains(m1.Message, "table absent was not found") || !strings.Contains(m1.Message, "BackupJob ID : "+bad) {
		t.Errorf("the failed job's message does not say what failed: %q", m1.Message)
	}
	// The unfiltered one gets both.
	ends := map[string]string{}
	for _, msg := range waitMessages(t, everything, 2) {
		ends[attr(msg, "Id")] = attr(msg, "State")
	}
	if fmt.Sprint(ends) != fmt.Sprint(map[string]string{ok: "COMPLETED", bad: "FAILED"}) {
		t.Errorf("completed events: %v", ends)
	}
	if more := failures.Receive(t); len(more) != 0 {
		t.Errorf("the failure-only subscription got more: %+v", more)
	}

	// cairn notify test sends to the vault's topic whatever its events.
	out, _ := cairnOK(t, "notify", "test", "--vault", "Default")
	rows := tableRows(t, out, "EVENT TYPE TARGET STATUS TRIES AGE ERROR")
	if len(rows) != 1 || rows[0][1] != "CAIRN_NOTIFICATION_TEST" || rows[0][2] != "sns" || rows[0][3] != "cairn-backups" || rows[0][4] != "DELIVERED" {
		t.Errorf("cairn notify test:\n%s", out)
	}
	test := waitMessages(t, everything, 1)
	if attr(test[0], "EventName") != "CAIRN_NOTIFICATION_TEST" || attr(test[0], "State") != "TEST" {
		t.Errorf("the test message: %+v", test[0])
	}
	cairnFails(t, 1, []string{"nosuchvault"}, "notify", "test", "--vault", "nosuchvault")
	cairnFails(t, 1, []string{"--vault is required"}, "notify", "test")

	// Every delivery is on record, in JSON and in a table of 100 columns.
	var list awsapi.ListDeliveriesOutput
	js, _ := cairnOK(t, "notify", "deliveries", "--output", "json")
	if err := json.Unmarshal([]byte(js), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Deliveries) != 3 {
		t.Errorf("%d deliveries, want 3 (2 ends, the test)", len(list.Deliveries))
	}
	for _, d := range list.Deliveries {
		if d.Status != "DELIVERED" || d.TargetKind != "sns" || d.TargetName != failures.TopicARN || d.Attempts != 1 {
			t.Errorf("delivery: %+v", d)
		}
	}
	table, _ := cairnOK(t, "notify", "deliveries", "--vault", "Default")
	for _, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if len(line) > 100 {
			t.Errorf("a line of %d columns:\n%s", len(line), line)
		}
	}
	if n := len(tableRows(t, table, "EVENT TYPE TARGET STATUS TRIES AGE ERROR")); n != len(list.Deliveries) {
		t.Errorf("the table has %d rows, the JSON %d deliveries", n, len(list.Deliveries))
	}
	cairnFails(t, 1, []string{"--status", "LOST"}, "notify", "deliveries", "--status", "LOST")

	cli.ok("delete-backup-vault-notifications", "--backup-vault-name", "Default")
	cli.fails("ResourceNotFoundException", "get-backup-vault-notifications", "--backup-vault-name", "Default")
	cli.ok("delete-backup-vault-notifications", "--backup-vault-name", "Default")
}

// TestNotificationSurvivesKill: a server whose SNS endpoint is down ends a
// job and records its event but cannot send it; it is killed (SIGKILL).
// The next server, with SNS reachable, sends it: the subscriber gets
// each of the job's events once.
func TestNotificationSurvivesKill(t *testing.T) {
	dyn := testbed.Dynalite(t)
	moto := testbed.Moto(t)
	q := testbed.NewSNSQueue(t, moto.Endpoint, "cairn-kill", "kill", "")
	dir := filepath.Join(t.TempDir(), "data")
	down := fmt.Sprintf("http://127.0.0.1:%d", testbed.FreePort(t))
	snsVars := []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}

	p := startProcEnv(t, dir, dyn.Endpoint, "", append(snsVars, "AWS_ENDPOINT_URL_SNS="+down)...)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.PutBackupVaultNotifications(ctx, &bk.PutBackupVaultNotificationsInput{BackupVaultName: aws.String("Default"),
		SNSTopicArn: aws.String(q.TopicARN), BackupVaultEvents: []bktypes.BackupVaultEvent{"BACKUP_JOB_COMPLETED", "BACKUP_JOB_FAILED"}}); err != nil {
		t.Fatal(err)
	}
	// A backup completes while SNS is down: notifications never fail a job.
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 20)
	okJob := startBackup(t, c, "orders")
	if out := waitBackupJob(t, c, okJob); out.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("a backup while SNS is down: %s %s", out.State, aws.ToString(out.StatusMessage))
	}
	job := startBackup(t, c, "absent")
	waitBackupJob(t, c, job)
	// The events wait in the outbox, tried and failed against the endpoint
	// that is down.
	listArgs := []string{"notify", "deliveries", "--output", "json", "--endpoint", "http://" + p.addr, "--data-dir", dir}
	tried := func(d awsapi.Delivery) bool { return d.Status == "PENDING" && d.Attempts >= 1 }
	waitDeliveries(t, listArgs, job, 2, tried)
	waitDeliveries(t, listArgs, okJob, 1, tried)
	p.kill(t)
	if got := q.Receive(t); len(got) != 0 {
		t.Fatalf("messages before the restart: %+v", got)
	}

	p = startProcEnv(t, dir, dyn.Endpoint, "", append(snsVars, "AWS_ENDPOINT_URL_SNS="+moto.Endpoint)...)
	defer p.stop(t, syscall.SIGTERM)
	got := waitMessages(t, q, 3)
	// Once all are recorded DELIVERED nothing sends them again: what the
	// queue holds then is all it gets.
	listArgs[len(listArgs)-3] = "http://" + p.addr
	delivered := func(d awsapi.Delivery) bool { return d.Status == "DELIVERED" }
	waitDeliveries(t, listArgs, job, 2, delivered)
	waitDeliveries(t, listArgs, okJob, 1, delivered)
	got = append(got, q.Receive(t)...)
	var names []string
	ids := map[string]int{}
	for _, msg := range got {
		who := map[string]string{job: "failed", okJob: "ok"}[attr(msg, "Id")]
		names = append(names, who+":"+attr(msg, "EventName")+":"+attr(msg, "State"))
		ids[attr(msg, "EventId")]++
	}
	sort.Strings(names)
	if want := "[failed:BACKUP_JOB_COMPLETED:FAILED failed:BACKUP_JOB_FAILED:FAILED ok:BACKUP_JOB_COMPLETED:COMPLETED]"; fmt.Sprint(names) != want {
		t.Errorf("messages after the restart: %v, want %s", names, want)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s arrived %d times", id, n)
		}
	}
}

// waitDeliveries runs `cairn notify deliveries` (args) until want of job's
// deliveries satisfy ok (guarding against a hang only).
func waitDeliveries(t *testing.T, args []string, job string, want int, ok func(awsapi.Delivery) bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		out, code := runCairn(t, args...)
		if code != 0 {
			t.Fatalf("cairn notify deliveries: exit %d\n%s", code, out)
		}
		var list awsapi.ListDeliveriesOutput
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		n := 0
		for _, d := range list.Deliveries {
			if d.JobId == job && ok(d) {
				n++
			}
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deliveries of job %s never got there: %+v", job, list.Deliveries)
		}
	}
}
