// Package email is a notification target that sends each event as a
// plain-text email through an SMTP server (github.com/wneessen/go-mail),
// over implicit TLS, mandatory STARTTLS, or (loopback relays only) no TLS,
// with optional authentication.
//
// The subject names the event type, the resource and the vault; the body
// is the event's fields, one per line. A 5xx answer from the server (a
// refused sender or recipient, failed authentication) is a
// notify.PermanentError; 4xx answers and connection errors are retried.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
)

// TLS modes.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS before
	// anything else (the default; port 587).
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts: for a relay on loopback or a trusted
	// network only.
	TLSNone = "none"
)

// DefaultTimeout bounds one delivery attempt.
const DefaultTimeout = 30 * time.Second

// Config is one email target.
type Config struct {
	// Host and Port of the SMTP server; Port defaults to 587 (465 for
	// TLSImplicit, 25 for TLSNone).
	Host string
	Port int
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone.
	TLS string
	// Username and Password authenticate (PLAIN or LOGIN, whichever the
	// server offers, only over TLS); empty Username sends without.
	Username string
	Password string
	// From is the sender address; To the recipients (at least one).
	From string
	To   []string
	// Timeout bounds one attempt; default DefaultTimeout.
	Timeout time.Duration
	// TLSConfig overrides the TLS client configuration (tests: a private
	// CA); its ServerName defaults to Host.
	TLSConfig *tls.Config
}

// Validate names the field at fault.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("host is required (the SMTP server)")
	case strings.ContainsAny(c.Host, " /:@") && !strings.HasPrefix(c.Host, "["):
		return fmt.Errorf("host %q must be a host name or IP address, without port or scheme (set port apart)", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("port %d must be 1-65535", c.Port)
	case c.From == "":
		return errors.New("from is required (the sender address)")
	case len(c.To) == 0:
		return errors.New("to is required (at least one recipient)")
	case c.Timeout < 0:
		return fmt.Errorf("timeout %v must not be negative", c.Timeout)
	case c.Password != "" && c.Username == "":
		return errors.New("password is set without username")
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return fmt.Errorf("tls %q must be %s, %s or %s", c.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if c.TLS == TLSNone && c.Username != "" {
		return errors.New("username and password need tls starttls or tls: they are never sent in plain text")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("from %q is not an email address", c.From)
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("to[%d] %q is not an email address", i, to)
		}
	}
	return nil
}

// Target mails events to a fixed list of recipients. It is safe for
// concurrent use: each delivery is its own SMTP session.
type Target struct {
	name string
	cfg  Config
}

// New returns the target name for c; it fails if c is not valid.
func New(name string, c Config) (*Target, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("email %s: %w", name, err)
	}
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[c.TLS]
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.To = append([]string(nil), c.To...)
	return &Target{name: name, cfg: c}, nil
}

// Kind is "email".
func (t *Target) Kind() string { return "email" }

// Name is the configured name.
func (t *Target) Name() string { return t.name }

// Message returns ev as the message Deliver sends.
func (t *Target) Message(ev backup.Event) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.From(t.cfg.From); err != nil {
		return nil, err
	}
	if err := m.To(t.cfg.To...); err != nil {
		return nil, err
	}
	m.Subject("[cairn] " + notify.Subject(ev))
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader("X-Cairn-Event-Id", ev.ID)
	m.SetGenHeader("X-Cairn-Event-Type", string(ev.Type))
	m.SetBodyString(gomail.TypeTextPlain, notify.Text(ev))
	return m, nil
}

// Deliver sends ev as one message to every recipient.
func (t *Target) Deliver(ctx context.Context, ev backup.Event) error {
	m, err := t.Message(ev)
	if err != nil {
		return &notify.PermanentError{Err: fmt.Errorf("email %s: %w", t.name, err)}
	}
	tlsConf := &tls.Config{ServerName: t.cfg.Host, MinVersion: tls.VersionTLS12}
	if t.cfg.TLSConfig != nil {
		tlsConf = t.cfg.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = t.cfg.Host
		}
	}
	opts := []gomail.Option{gomail.WithPort(t.cfg.Port), gomail.WithTimeout(t.cfg.Timeout), gomail.WithTLSConfig(tlsConf)}
	switch t.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if t.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(t.cfg.Username), gomail.WithPassword(t.cfg.Password))
	}
	c, err := gomail.NewClient(t.cfg.Host, opts...)
	if err != nil {
		return &notify.PermanentError{Err: fmt.Errorf("email %s: %w", t.name, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		err = fmt.Errorf("email %s: via %s:%d: %w", t.name, t.cfg.Host, t.cfg.Port, err)
		if Refused(err) {
			return &notify.PermanentError{Err: err}
		}
		return err
	}
	return nil
}

// Refused reports whether err carries a 5xx SMTP reply: the server
// refused for good (sender, recipient, message or credentials).
func Refused(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return false
		}
		if code := se.ErrorCode(); code >= 500 && code < 600 {
			return true
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500 && te.Code < 600
	}
	return false
}
