package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/notify/webhook"
	"github.com/cairn-backup/cairn/internal/testbed"
)

func failedEvent() backup.Event {
	at := time.Date(2026, 12, 3, 5, 0, 7, 123000000, time.UTC)
	return backup.Event{
		ID: "ev-0001", Type: backup.EventBackupJobFailed, Time: at,
		AccountID: "000000000000", Region: "us-east-1",
		VaultName: "Default", VaultARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		JobType: "BACKUP", JobID: "job-1", State: "FAILED", StatusMessage: "scan segment 3: throttled",
		ResourceARN:  "arn:aws:dynamodb:us-east-1:000000000000:table/orders",
		ResourceType: "DynamoDB", ResourceName: "orders",
		RecoveryPointARN:  "arn:aws:backup:us-east-1:000000000000:recovery-point:rp-1",
		BackupSizeInBytes: 4096, BytesTransferred: 2048, ItemCount: 10,
		CreationDate: at.Add(-time.Minute), CompletionDate: at,
		CreatedBy: &backup.CreatedBy{BackupPlanID: "plan-1", BackupPlanName: "nightly", BackupRuleName: "r0500"},
	}
}

// receiver is the python3 receiver of testdata/receiver.py, which checks
// the signature with nothing but the documented recipe.
type receiver struct {
	url   string
	lines chan string
}

func startReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		testbed.Missing(t, "python3", "apt-get install -y python3")
	}
	cmd := exec.Command(py, "testdata/receiver.py", secret)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := &receiver{lines: make(chan string, 16)}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "PORT ") {
		t.Fatalf("receiver did not start: %q %v", sc.Text(), sc.Err())
	}
	r.url = "http://127.0.0.1:" + strings.TrimPrefix(sc.Text(), "PORT ") + "/hooks/cairn"
	go func() {
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	return r
}

func (r *receiver) next(t *testing.T) (verdict string, ev webhook.Payload, idHeader string) {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatal("receiver exited")
		}
		var v struct {
			Verdict string          `json:"verdict"`
			Event   webhook.Payload `json:"event"`
			ID      string          `json:"event_id_header"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("receiver said %q: %v", l, err)
		}
		return v.Verdict, v.Event, v.ID
	case <-time.After(30 * time.Second): // guards against a hang only
		t.Fatal("receiver got nothing")
	}
	return
}

func TestSignedEventVerifiedByPythonReceiver(t *testing.T) {
	const secret = "s3cr3t-hmac-key"
	r := startReceiver(t, secret)
	target, err := webhook.New("ops", webhook.Config{URL: r.url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ev := failedEvent()
	if err := target.Deliver(context.Background(), ev); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	verdict, got, idHeader := r.next(t)
	if verdict != "valid" {
		t.Fatalf("receiver's verdict %q, want valid", verdict)
	}
	want := webhook.NewPayload(ev)
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("receiver got\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	for k, v := range map[string]string{"EventId": got.EventId, "EventType": got.EventType, "EventTime": got.EventTime,
		"BackupVaultName": got.BackupVaultName, "JobId": got.JobId, "State": got.State, "StatusMessage": got.StatusMessage,
		"ResourceArn": got.ResourceArn, "RecoveryPointArn": got.RecoveryPointArn} {
		if v == "" {
			t.Errorf("%s is empty", k)
		}
	}
	if got.EventTime != "2026-12-03T05:00:07.123Z" || got.BackupSizeInBytes != 4096 || got.CreatedBy.BackupPlanName != "nightly" {
		t.Errorf("fields: %+v", got)
	}
	if idHeader != ev.ID {
		t.Errorf("Cairn-Event-Id %q, want %q", idHeader, ev.ID)
	}

	// Signed with another key: the receiver refuses (401), which is
	// permanent for the target.
	wrong, _ := webhook.New("ops", webhook.Config{URL: r.url, Secret: "another key"})
	err = wrong.Deliver(context.Background(), ev)
	var perm *notify.PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("wrong key: %v, want a PermanentError", err)
	}
	if v, _, _ := r.next(t); v != "bad-signature" {
		t.Errorf("verdict %q, want bad-signature", v)
	}

	// A request from an hour ago (a replay) is refused too.
	old, _ := webhook.New("ops", webhook.Config{URL: r.url, Secret: secret},
		webhook.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	if err := old.Deliver(context.Background(), ev); !errors.As(err, &perm) {
		t.Fatalf("stale: %v, want a PermanentError", err)
	}
	if v, _, _ := r.next(t); v != "stale" {
		t.Errorf("verdict %q, want stale", v)
	}
}

func TestVerifyMatchesSign(t *testing.T) {
	now := time.Unix(1764779400, 0)
	body := []byte(`{"EventId":"x"}`)
	sig := webhook.Sign([]byte("k"), "1764779400", body)
	if err := webhook.Verify([]byte("k"), "1764779400", sig, body, now, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Verify([]byte("k"), "1764779400", sig, []byte(`{"EventId":"y"}`), now, 5*time.Minute); err == nil {
		t.Error("a changed body verified")
	}
	if err := webhook.Verify([]byte("k"), "1764779400", sig, body, now.Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("an old timestamp verified")
	}
}

// capture is a loopback receiver that records requests and answers with
// the status it is told.
type capture struct {
	mu     sync.Mutex
	status int
	bodies [][]byte
	hdrs   []http.Header
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	c.hdrs = append(c.hdrs, r.Header.Clone())
	st := c.status
	c.mu.Unlock()
	if st >= 300 && st < 400 {
		w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
	}
	w.WriteHeader(st)
	_, _ = io.WriteString(w, "answer body")
}

func TestStatusesDecideRetry(t *testing.T) {
	c := &capture{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	target, err := webhook.New("ops", webhook.Config{URL: srv.URL + "/T000/B000/secretpath?token=abc", Secret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status int
		want   string // ok, retry, permanent
	}{
		{200, "ok"}, {201, "ok"}, {202, "ok"}, {204, "ok"},
		{408, "retry"}, {429, "retry"}, {500, "retry"}, {502, "retry"}, {503, "retry"}, {504, "retry"},
		{301, "permanent"}, {302, "permanent"}, {400, "permanent"}, {401, "permanent"}, {403, "permanent"},
		{404, "permanent"}, {410, "permanent"}, {413, "permanent"},
	} {
		c.mu.Lock()
		c.status = tc.status
		c.mu.Unlock()
		err := target.Deliver(context.Background(), failedEvent())
		var perm *notify.PermanentError
		got := "ok"
		switch {
		case errors.As(err, &perm):
			got = "permanent"
		case err != nil:
			got = "retry"
		}
		if got != tc.want {
			t.Errorf("status %d: %s (%v), want %s", tc.status, got, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "secretpath") || strings.Contains(err.Error(), "abc")) {
			t.Errorf("status %d: error shows the URL's path or query: %v", tc.status, err)
		}
		if err != nil && !strings.Contains(err.Error(), "answer body") {
			t.Errorf("status %d: error lacks the answer: %v", tc.status, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) != 18 {
		t.Errorf("%d requests, want 18 (no redirect followed)", len(c.bodies))
	}
}

func TestNetworkErrorsAndTimeoutsRetry(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	target, _ := webhook.New("ops", webhook.Config{URL: "http://" + addr + "/x/secretpath", Secret: "k"})
	err = target.Deliver(context.Background(), failedEvent())
	var perm *notify.PermanentError
	if err == nil || errors.As(err, &perm) {
		t.Fatalf("refused connection: %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "secretpath") {
		t.Errorf("error shows the URL's path: %v", err)
	}

	// A receiver that never answers: the attempt's timeout ends it.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	slow, _ := webhook.New("ops", webhook.Config{URL: srv.URL, Secret: "k", Timeout: 100 * time.Millisecond})
	err = slow.Deliver(context.Background(), failedEvent())
	if err == nil || errors.As(err, &perm) {
		t.Fatalf("slow receiver: %v, want a retryable error", err)
	}
}

func TestSlackFormat(t *testing.T) {
	c := &capture{status: 200}
	srv := httptest.NewServer(c)
	defer srv.Close()
	target, err := webhook.New("slack", webhook.Config{URL: srv.URL + "/services/T/B/X", Format: webhook.FormatSlack})
	if err != nil {
		t.Fatal(err)
	}
	if err := target.Deliver(context.Background(), failedEvent()); err != nil {
		t.Fatal(err)
	}
	var msg map[string]string
	if err := json.Unmarshal(c.bodies[0], &msg); err != nil || len(msg) != 1 {
		t.Fatalf("body %s: %v, want {\"text\": ...} only", c.bodies[0], err)
	}
	text := msg["text"]
	for _, want := range []string{"BACKUP_JOB_FAILED: orders (vault Default)", "State: FAILED",
		"scan segment 3: throttled", "Event id: ev-0001"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if c.hdrs[0].Get(webhook.HeaderSignature) != "" {
		t.Error("signed without a secret")
	}
}

func TestConfigRefused(t *testing.T) {
	for _, c := range []webhook.Config{
		{}, {URL: "ftp://x/y", Secret: "k"}, {URL: "/relative", Secret: "k"}, {URL: "http://", Secret: "k"},
		{URL: "https://h/x"}, {URL: "https://h/x", Secret: "k", Format: "xml"},
		{URL: "https://h/x", Secret: "k", Timeout: -time.Second},
	} {
		if _, err := webhook.New("x", c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T/B/X": "https://hooks.slack.com/...",
		"https://user:pw@h.example:8443/":        "https://h.example:8443/",
		"http://h/?token=1":                      "http://h/...",
		"not a url":                              "...",
	} {
		if got := webhook.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
