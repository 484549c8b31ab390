package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/notify/webhook"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// hookReceiver is a webhook receiver on loopback that checks each
// request's signature as docs/notifications.md tells receivers to.
type hookReceiver struct {
	secret string
	mu     sync.Mutex
	got    []webhook.Payload
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := webhook.Verify([]byte(h.secret), r.Header.Get("Cairn-Timestamp"), r.Header.Get("Cairn-Signature"), body,
		time.Now(), 5*time.Minute)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	_ = json.Unmarshal(body, &p)
	h.got = append(h.got, p)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) events() ([]webhook.Payload, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.got...), h.bad
}

// mailSink is an SMTP server (go-smtp) on loopback that keeps what it
// is sent.
type mailSink struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (m *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{m: m}, nil }

type sinkSession struct{ m *mailSink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, b)
	s.m.mu.Unlock()
	return nil
}

func (m *mailSink) messages() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.msgs...)
}

// serveSMTP serves m on l until the test ends.
func serveSMTP(t *testing.T, m *mailSink, l net.Listener) {
	s := smtp.NewServer(m)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
}

// A webhook target and an email target of the config file, filtering on
// BACKUP_JOB_FAILED, are both down when a job fails; the server is killed
// (SIGKILL) with the event in its outbox; once the receivers are up, the
// next server delivers the event to each exactly once: a signed JSON
// document to the webhook, a message to the SMTP server.
func TestWebhookAndEmailSurviveKill(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dir := filepath.Join(t.TempDir(), "data")
	hookPort, smtpPort := testbed.FreePort(t), testbed.FreePort(t)
	const secret = "kill-test-hmac-key"
	cfg := fmt.Sprintf(`notifications:
  targets:
    - name: hook
      events: [BACKUP_JOB_FAILED]
      webhook: {url: "http://127.0.0.1:%d/hook", secret: %s, timeout: 2s}
    - name: mail
      events: [BACKUP_JOB_FAILED]
      email: {host: 127.0.0.1, port: %d, tls: none, from: cairn@example.com, to: [oncall@example.com], timeout: 2s}
`, hookPort, secret, smtpPort)

	p := startProcEnv(t, dir, dyn.Endpoint, cfg)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	job := startBackup(t, c, "absent")
	if j := waitBackupJob(t, c, job); j.State != "FAILED" {
		t.Fatalf("job %s, want FAILED", j.State)
	}
	listArgs := []string{"notify", "deliveries", "--output", "json", "--endpoint", "http://" + p.addr, "--data-dir", dir}
	waitDeliveries(t, listArgs, job, 2, func(d awsapi.Delivery) bool { return d.Status == "PENDING" && d.Attempts >= 1 })
	p.kill(t)

	hook := &hookReceiver{secret: secret}
	hl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hookPort))
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: hook, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(hl) }()
	defer hs.Close()
	sink := &mailSink{}
	sl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", smtpPort))
	if err != nil {
		t.Fatal(err)
	}
	serveSMTP(t, sink, sl)

	p = startProcEnv(t, dir, dyn.Endpoint, cfg)
	defer p.stop(t, syscall.SIGTERM)
	listArgs[len(listArgs)-3] = "http://" + p.addr
	waitDeliveries(t, listArgs, job, 2, func(d awsapi.Delivery) bool { return d.Status == "DELIVERED" })

	got, bad := hook.events()
	if len(got) != 1 || bad != 0 {
		t.Fatalf("webhook got %d events (%d badly signed), want 1: %+v", len(got), bad, got)
	}
	ev := got[0]
	if ev.EventType != "BACKUP_JOB_FAILED" || ev.JobId != job || ev.State != "FAILED" || ev.EventId == "" ||
		ev.BackupVaultName != "Default" || !strings.HasSuffix(ev.ResourceArn, ":table/absent") || ev.StatusMessage == "" {
		t.Errorf("webhook event %+v", ev)
	}
	msgs := sink.messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server got %d messages, want 1", len(msgs))
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Header.Get("Subject"); s != "[cairn] BACKUP_JOB_FAILED: absent (vault Default)" {
		t.Errorf("Subject %q", s)
	}
	if m.Header.Get("X-Cairn-Event-Id") != ev.EventId {
		t.Errorf("the email's event id %q, the webhook's %q: want one event", m.Header.Get("X-Cairn-Event-Id"), ev.EventId)
	}
}

// cairn notify test reaches a webhook target of the vault whatever its
// event filter, signed; an event the filter refuses does not.
func TestNotifyTestReachesWebhookTarget(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	hook := &hookReceiver{secret: "notify-test-key"}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	m := testServerWith(t, t.TempDir(), dyn.Endpoint, func(m *Main) {
		m.Config.Notifications.AllowedHosts = []string{"127.0.0.1"}
	})
	cliEnv(t, m)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "key")
	if err := os.WriteFile(secretFile, []byte("notify-test-key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cairnOK(t, "notify", "targets", "create", "local", "--webhook", srv.URL+"/hook", "--secret-file", secretFile,
		"--vault", "Default", "--events", "BACKUP_JOB_FAILED")
	cairnOK(t, "notify", "test", "--vault", "Default")
	got, bad := hook.events()
	if len(got) != 1 || bad != 0 || got[0].EventType != "CAIRN_NOTIFICATION_TEST" || got[0].BackupVaultName != "Default" {
		t.Fatalf("receiver got %+v (%d bad)", got, bad)
	}
	// Of a failing job's events (BACKUP_JOB_COMPLETED, BACKUP_JOB_FAILED,
	// ...) the filter lets only BACKUP_JOB_FAILED through.
	c := backupClient(m)
	job := startBackup(t, c, "absent-too")
	waitBackupJob(t, c, job)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if got, _ = hook.events(); len(got) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed job's event never arrived: %+v", got)
		}
	}
	if got[1].EventType != "BACKUP_JOB_FAILED" || got[1].JobId != job {
		t.Errorf("second event %+v, want the job's BACKUP_JOB_FAILED", got[1])
	}
	out, _ := cairnOK(t, "notify", "deliveries", "--output", "json")
	var list awsapi.ListDeliveriesOutput
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range list.Deliveries {
		if d.JobId == job {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d deliveries of job %s, want 1 (BACKUP_JOB_FAILED to the webhook): %+v", n, job, list.Deliveries)
	}
}
