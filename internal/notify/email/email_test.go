package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/notify/email"
)

// An SMTP server (github.com/emersion/go-smtp) on loopback with a
// certificate made for the test: STARTTLS or implicit TLS, PLAIN auth,
// and answers the test chooses.

type received struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
	helo   string
}

type backend struct {
	mu       sync.Mutex
	msgs     []received
	rcptErr  error // returned by Rcpt
	dataErr  error // returned by Data
	user     string
	password string
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, conn: c, r: received{tls: isTLS, helo: c.Hostname()}}, nil
}

type session struct {
	b    *backend
	conn *smtp.Conn
	r    received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.b.user || password != s.b.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.r.authed = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.r.authed == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.r.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	err := s.b.rcptErr
	s.b.mu.Unlock()
	if err != nil {
		return err
	}
	s.r.to = append(s.r.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	_, s.r.tls = s.conn.TLSConnectionState()
	s.r.data = b
	s.b.msgs = append(s.b.msgs, s.r)
	return nil
}

func (s *session) Reset()        { s.r = received{tls: s.r.tls, authed: s.r.authed, helo: s.r.helo} }
func (s *session) Logout() error { return nil }

// certificate returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func certificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cairn test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type server struct {
	*backend
	port int
	pool *x509.CertPool
}

// startServer starts the SMTP server; implicit serves TLS from the first
// byte, else STARTTLS is offered.
func startServer(t *testing.T, implicit bool) *server {
	t.Helper()
	cert, pool := certificate(t)
	be := &backend{user: "cairn", password: "mail-pass"}
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	var l net.Listener
	var err error
	if implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return &server{backend: be, port: l.Addr().(*net.TCPAddr).Port, pool: pool}
}

func (s *server) config(mode string) email.Config {
	return email.Config{Host: "127.0.0.1", Port: s.port, TLS: mode, Username: "cairn", Password: "mail-pass",
		From: "cairn@backup.example", To: []string{"oncall@example.com", "dba@example.com"},
		Timeout: 30 * time.Second, TLSConfig: &tls.Config{RootCAs: s.pool}}
}

func failedEvent() backup.Event {
	at := time.Date(2026, 12, 3, 5, 0, 7, 0, time.UTC)
	return backup.Event{ID: "ev-42", Type: backup.EventBackupJobFailed, Time: at,
		VaultName: "Default", VaultARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		JobType: "BACKUP", JobID: "job-7", State: "FAILED", StatusMessage: "table orders: AccessDenied",
		ResourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/orders", ResourceName: "orders",
		ResourceType: "DynamoDB"}
}

func TestDeliveredOverSTARTTLSAndImplicitTLS(t *testing.T) {
	for _, mode := range []string{email.TLSStartTLS, email.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, mode == email.TLSImplicit)
			target, err := email.New("oncall", srv.config(mode))
			if err != nil {
				t.Fatal(err)
			}
			if err := target.Deliver(context.Background(), failedEvent()); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(srv.msgs))
			}
			got := srv.msgs[0]
			if !got.tls || got.authed != "cairn" {
				t.Errorf("tls %v, authenticated as %q; want TLS and cairn", got.tls, got.authed)
			}
			if got.from != "cairn@backup.example" || strings.Join(got.to, ",") != "oncall@example.com,dba@example.com" {
				t.Errorf("envelope from %q to %v", got.from, got.to)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(got.data))
			if err != nil {
				t.Fatalf("message: %v\n%s", err, got.data)
			}
			h := msg.Header
			if s := h.Get("Subject"); s != "[cairn] BACKUP_JOB_FAILED: orders (vault Default)" {
				t.Errorf("Subject %q", s)
			}
			if h.Get("X-Cairn-Event-Id") != "ev-42" || h.Get("X-Cairn-Event-Type") != "BACKUP_JOB_FAILED" {
				t.Errorf("event headers %v", h)
			}
			if !strings.Contains(h.Get("From"), "cairn@backup.example") || !strings.Contains(h.Get("To"), "dba@example.com") ||
				h.Get("Date") == "" || h.Get("Message-Id") == "" {
				t.Errorf("headers %v", h)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type %q", h.Get("Content-Type"))
			}
			body, _ := io.ReadAll(msg.Body)
			text := string(body)
			if strings.Contains(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
				text = strings.ReplaceAll(text, "=\r\n", "")
			}
			for _, want := range []string{"State: FAILED", "Status message: table orders: AccessDenied",
				"Resource: arn:aws:dynamodb:us-east-1:000000000000:table/orders", "Job: BACKUP job-7", "Event id: ev-42"} {
				if !strings.Contains(text, want) {
					t.Errorf("body lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestRefusalsArePermanentTemporaryOnesRetry(t *testing.T) {
	srv := startServer(t, false)
	var perm *notify.PermanentError
	deliver := func(c email.Config) error {
		target, err := email.New("oncall", c)
		if err != nil {
			t.Fatal(err)
		}
		return target.Deliver(context.Background(), failedEvent())
	}

	srv.mu.Lock()
	srv.rcptErr = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	srv.mu.Unlock()
	if err := deliver(srv.config(email.TLSStartTLS)); !errors.As(err, &perm) || !strings.Contains(err.Error(), "no such mailbox") {
		t.Errorf("550 on RCPT: %v, want a PermanentError naming the reason", err)
	}

	srv.mu.Lock()
	srv.rcptErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	srv.mu.Unlock()
	if err := deliver(srv.config(email.TLSStartTLS)); err == nil || errors.As(err, &perm) {
		t.Errorf("451 on RCPT: %v, want a retryable error", err)
	}

	srv.mu.Lock()
	srv.rcptErr = nil
	srv.dataErr = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
	srv.mu.Unlock()
	if err := deliver(srv.config(email.TLSStartTLS)); !errors.As(err, &perm) {
		t.Errorf("554 on DATA: %v, want a PermanentError", err)
	}
	srv.mu.Lock()
	srv.dataErr = nil
	srv.mu.Unlock()

	bad := srv.config(email.TLSStartTLS)
	bad.Password = "wrong"
	err := deliver(bad)
	if !errors.As(err, &perm) {
		t.Errorf("535 on AUTH: %v, want a PermanentError", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("error shows the password: %v", err)
	}

	// Nobody listening: retried.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	down := srv.config(email.TLSStartTLS)
	down.Port = port
	if err := deliver(down); err == nil || errors.As(err, &perm) {
		t.Errorf("connection refused: %v, want a retryable error", err)
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.msgs) != 0 {
		t.Errorf("%d messages accepted, want 0", len(srv.msgs))
	}
}

func TestConfigRefused(t *testing.T) {
	ok := email.Config{Host: "smtp.example.com", From: "a@example.com", To: []string{"b@example.com"}}
	if _, err := email.New("x", ok); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*email.Config){
		"no host":        func(c *email.Config) { c.Host = "" },
		"host with port": func(c *email.Config) { c.Host = "smtp.example.com:587" },
		"bad port":       func(c *email.Config) { c.Port = 70000 },
		"no from":        func(c *email.Config) { c.From = "" },
		"bad from":       func(c *email.Config) { c.From = "not an address" },
		"no to":          func(c *email.Config) { c.To = nil },
		"bad to":         func(c *email.Config) { c.To = []string{"b@example.com", "nope"} },
		"bad tls":        func(c *email.Config) { c.TLS = "ssl3" },
		"auth no tls":    func(c *email.Config) { c.TLS = email.TLSNone; c.Username = "u"; c.Password = "p" },
		"password alone": func(c *email.Config) { c.Password = "p" },
	} {
		c := ok
		mut(&c)
		_, err := email.New("x", c)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if c.Password != "" && strings.Contains(err.Error(), c.Password+"\"") {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
	}
}
