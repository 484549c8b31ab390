package notify_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

func snsClient(endpoint string) *sns.Client {
	return sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// failureOnly is the filter policy AWS's guide gives for failed backup
// jobs only: every BACKUP_JOB_COMPLETED event whose State is not
// COMPLETED.
const failureOnly = `{"State":[{"anything-but":"COMPLETED"}]}`

// TestSNSFilterPolicyOfAWSBackup runs backup jobs to their ends through
// the catalog, sends their events to moto_server's SNS with the sender,
// and reads them back from two SQS subscriptions: one with AWS Backup's
// failure-only filter policy, which must let exactly the failed and the
// expired job through, and one without a filter.
func TestSNSFilterPolicyOfAWSBackup(t *testing.T) {
	moto := testbed.Moto(t)
	failures := testbed.NewSNSQueue(t, moto.Endpoint, "backups", "failures", failureOnly)
	all := testbed.NewSNSQueue(t, moto.Endpoint, "backups", "everything", "")

	cat, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	clk := clock.NewFake(t0)
	cat.SetClock(clk.Now)
	vault := &backup.Vault{Name: "Default", ARN: backup.VaultARN("us-east-1", "000000000000", "Default"),
		AccountID: "000000000000", Region: "us-east-1", CreationDate: t0, Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: "/x"}}
	if err := cat.CreateVault(t.Context(), vault); err != nil {
		t.Fatal(err)
	}
	if err := cat.PutVaultNotifications(t.Context(), &backup.VaultNotifications{VaultName: "Default",
		SNSTopicARN: failures.TopicARN, Events: []backup.EventType{backup.EventBackupJobCompleted}}); err != nil {
		t.Fatal(err)
	}
	s, err := notify.New(notify.Config{Outbox: cat, Clock: clk,
		Resolver: &notify.SNSResolver{Store: cat, Client: snsClient(moto.Endpoint)}})
	if err != nil {
		t.Fatal(err)
	}

	ends := map[string]backup.JobState{"job-ok": backup.JobCompleted, "job-failed": backup.JobFailed, "job-expired": backup.JobExpired}
	for id, end := range ends {
		j := &backup.BackupJob{ID: id, AccountID: "000000000000", Region: "us-east-1", VaultName: "Default", VaultARN: vault.ARN,
			ResourceARN: backup.TableARN("us-east-1", "000000000000", id), ResourceType: backup.ResourceTypeDynamoDB, ResourceName: id,
			State: backup.JobCreated, CreationDate: t0}
		if err := cat.CreateBackupJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		j.State = backup.JobRunning
		if err := cat.UpdateBackupJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		j.State, j.CompletionDate = end, t0.Add(time.Minute)
		if end == backup.JobFailed {
			j.StatusMessage = "table orders not found"
		}
		if err := cat.UpdateBackupJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}

	got := failures.Receive(t)
	var states []string
	eventIDs := map[string]bool{}
	for _, m := range got {
		a := func(k string) string { return m.MessageAttributes[k].Value }
		states = append(states, a("Id")+"="+a("State"))
		if a("EventType") != "BACKUP_JOB" || a("AccountId") != "000000000000" || a("StartTime") != "2026-12-03T05:00:00.000Z" ||
			a("EventName") != "BACKUP_JOB_COMPLETED" || a("BackupVaultName") != "Default" || m.Subject != notify.SNSSubject {
			t.Errorf("message attributes: %+v, subject %q", m.MessageAttributes, m.Subject)
		}
		if eventIDs[a("EventId")] || a("EventId") == "" {
			t.Errorf("event id %q missing or repeated", a("EventId"))
		}
		eventIDs[a("EventId")] = true
		if !strings.Contains(m.Message, "BackupJob ID : "+a("Id")) || !strings.Contains(m.Message, "Resource ARN : arn:aws:dynamodb:") {
			t.Errorf("message text: %q", m.Message)
		}
		if a("Id") == "job-failed" && !strings.Contains(m.Message, "table orders not found") {
			t.Errorf("the failed job's message does not say why: %q", m.Message)
		}
	}
	sort.Strings(states)
	if want := "[job-expired=EXPIRED job-failed=FAILED]"; fmt.Sprint(states) != want {
		t.Errorf("through the failure-only filter: %v, want %s", states, want)
	}
	if n := len(all.Receive(t)); n != 3 {
		t.Errorf("the unfiltered queue got %d messages, want 3", n)
	}
	ds, _, err := cat.ListDeliveries(t.Context(), backup.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status != backup.DeliveryDelivered || d.TargetKind != "sns" || d.TargetName != failures.TopicARN {
			t.Errorf("delivery: %+v", d)
		}
	}
	if len(ds) != 3 {
		t.Errorf("%d deliveries, want 3", len(ds))
	}
}

// TestSNSErrors: a topic SNS does not know is undeliverable at once with
// SNS's answer; an SNS endpoint that does not answer is retried.
func TestSNSErrors(t *testing.T) {
	moto := testbed.Moto(t)
	ev := backup.Event{ID: "ev-1", Type: backup.EventBackupJobFailed, Time: t0, JobType: backup.JobTypeBackup, JobID: "job-1", State: "FAILED"}
	missing := &notify.SNSTarget{Client: snsClient(moto.Endpoint), TopicARN: "arn:aws:sns:us-east-1:000000000000:nobody"}
	err := missing.Deliver(t.Context(), ev)
	var perm *notify.PermanentError
	if !errors.As(err, &perm) {
		t.Errorf("publish to a missing topic: %v, want a permanent error", err)
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d", testbed.FreePort(t))
	down := &notify.SNSTarget{Client: snsClient(closed), TopicARN: "arn:aws:sns:us-east-1:000000000000:any"}
	err = down.Deliver(t.Context(), ev)
	if err == nil || errors.As(err, &perm) {
		t.Errorf("publish to an endpoint that is down: %v, want an error to retry", err)
	}
}
