package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// heldSource is an HTTP proxy in front of a DynamoDB endpoint that holds
// every request while it is held, as a busy source does.
type heldSource struct {
	URL string

	mu      sync.Mutex
	held    bool
	release chan struct{}
	waiting map[string]int // held requests by X-Amz-Target
	arrived chan struct{}  // a request arrived while held
}

func newHeldSource(t *testing.T, endpoint string) *heldSource {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	h := &heldSource{release: make(chan struct{}), waiting: map[string]int{}, arrived: make(chan struct{}, 64)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // cancelled held requests are expected
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		h.mu.Lock()
		held, release := h.held, h.release
		if held {
			h.waiting[op]++
			h.arrived <- struct{}{}
		}
		h.mu.Unlock()
		if held {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { h.Release(); srv.Close() })
	h.URL = srv.URL
	return h
}

// Hold holds every request from now on until Release.
func (h *heldSource) Hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.held {
		h.held, h.release = true, make(chan struct{})
	}
}

// Release lets held requests and every later one through.
func (h *heldSource) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		h.held = false
		close(h.release)
	}
}

// waitHeld waits until a request for operation op is being held.
func (h *heldSource) waitHeld(t *testing.T, op string) {
	t.Helper()
	for {
		h.mu.Lock()
		n := h.waiting["DynamoDB_20120810."+op]
		h.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-h.arrived:
		case <-time.After(time.Minute): // a guard against a hang only
			t.Fatalf("no %s request reached the source", op)
		}
	}
}

// TestStartJobsAnswerWhileSourceIsBusy: StartBackupJob and StartRestoreJob
// answer with a new job while the DynamoDB source answers nothing at all;
// the source's work is the job's (13.6). Once the source answers, the jobs
// complete; a table that does not exist ends its job FAILED saying which
// table and source.
func TestStartJobsAnswerWhileSourceIsBusy(t *testing.T) {
	dyn := testbed.Dynalite(t)
	src := newHeldSource(t, dyn.Endpoint)
	m := testServer(t, t.TempDir(), src.URL)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	createTable(t, db, "busy", "S", false)
	seedRandom(t, db, "busy", 200)
	// A guard against a hang only: a start that waits for the source never
	// gets an answer while it is held.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	src.Hold()
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/busy"), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatalf("StartBackupJob while the source is busy: %v", err)
	}
	id := aws.ToString(out.BackupJobId)
	src.waitHeld(t, "DescribeTable") // the job asks the source, and waits
	j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != bktypes.BackupJobStateCreated && j.State != bktypes.BackupJobStateRunning {
		t.Fatalf("backup job while the source is held: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	src.Release()
	if j := waitBackupJob(t, c, id); j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup job after the source answered: %s %q", j.State, aws.ToString(j.StatusMessage))
	}
	j, err = c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: out.BackupJobId})
	if err != nil {
		t.Fatal(err)
	}
	rpARN := aws.ToString(j.RecoveryPointArn)

	// A restore answers at once too; creating its table is the job's.
	src.Hold()
	rout, err := c.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN), IamRoleArn: aws.String(role),
		Metadata: map[string]string{"TargetTableName": "busy-restored"}})
	if err != nil {
		t.Fatalf("StartRestoreJob while the source is busy: %v", err)
	}
	src.waitHeld(t, "CreateTable")
	// So does a copy, which does not ask the source at all.
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("busy-copies")}); err != nil {
		t.Fatal(err)
	}
	cout, err := c.StartCopyJob(ctx, &bk.StartCopyJobInput{RecoveryPointArn: aws.String(rpARN), SourceBackupVaultName: aws.String("Default"),
		DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:busy-copies"), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatalf("StartCopyJob while the source is busy: %v", err)
	}
	// A backup of a table the source does not have is accepted while the
	// source is held, and fails in the job.
	mout, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/no-such-table"), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatalf("StartBackupJob of a missing table while the source is busy: %v", err)
	}
	if mout.CreationDate == nil || aws.ToString(mout.BackupJobId) == "" {
		t.Fatalf("StartBackupJob answer %+v", mout)
	}
	src.Release()
	if r := waitRestoreJob(t, c, aws.ToString(rout.RestoreJobId)); r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore job after the source answered: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	for {
		cj, err := c.DescribeCopyJob(ctx, &bk.DescribeCopyJobInput{CopyJobId: cout.CopyJobId})
		if err != nil {
			t.Fatal(err)
		}
		if cj.CopyJob.State == bktypes.CopyJobStateCompleted {
			break
		}
		if cj.CopyJob.State == bktypes.CopyJobStateFailed {
			t.Fatalf("copy job: %s", aws.ToString(cj.CopyJob.StatusMessage))
		}
		time.Sleep(20 * time.Millisecond)
	}
	missing := waitBackupJob(t, c, aws.ToString(mout.BackupJobId))
	msg := aws.ToString(missing.StatusMessage)
	if missing.State != bktypes.BackupJobStateFailed || !strings.Contains(msg, "table no-such-table was not found in DynamoDB source local") {
		t.Fatalf("backup job of a missing table: %s %q; want FAILED saying the table was not found in source local", missing.State, msg)
	}
	pts, err := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("Default")})
	if err != nil || len(pts.RecoveryPoints) != 1 {
		t.Fatalf("recovery points after the failed job: %d, %v; want only the first backup's", len(pts.RecoveryPoints), err)
	}
}
