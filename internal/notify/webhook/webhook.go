// Package webhook is a notification target that POSTs each event to an
// HTTP(S) URL: a JSON document (Payload) signed with HMAC-SHA256 over a
// timestamp and the body, or a Slack-compatible {"text": ...} message.
//
// The signature lets a receiver check that the request came from a holder
// of the shared secret and is recent:
//
//	Cairn-Timestamp: 1764779400
//	Cairn-Signature: sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>
//
// A 2xx answer means delivered; 408, 429, 5xx and network errors are
// retried by the sender; any other answer is a notify.PermanentError.
// Redirects are not followed (a 3xx is permanent: configure the final URL).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
)

// Formats of the request body.
const (
	// FormatJSON is the signed JSON document Payload (the default).
	FormatJSON = "json"
	// FormatSlack is {"text": "..."}, which Slack's incoming webhooks and
	// compatible receivers (Mattermost, Rocket.Chat, ...) post as a
	// message.
	FormatSlack = "slack"
)

// Headers of every request.
const (
	HeaderTimestamp = "Cairn-Timestamp"
	HeaderSignature = "Cairn-Signature"
	HeaderEventID   = "Cairn-Event-Id"
	HeaderEventType = "Cairn-Event-Type"
	// SignaturePrefix starts the value of HeaderSignature.
	SignaturePrefix = "sha256="
)

// DefaultTimeout bounds one delivery attempt (connect, send, answer).
const DefaultTimeout = 10 * time.Second

// maxErrorBody is how much of a refusal's body goes into the error.
const maxErrorBody = 512

// Config is one webhook target.
type Config struct {
	// URL is the http or https URL requests are POSTed to.
	URL string
	// Secret is the HMAC-SHA256 key. With it every request carries
	// HeaderTimestamp and HeaderSignature; without it none (allowed only
	// for FormatSlack, whose receivers check no signature).
	Secret string
	// Format is FormatJSON (default) or FormatSlack.
	Format string
	// Timeout bounds one attempt; default DefaultTimeout.
	Timeout time.Duration
}

// Validate names the field at fault.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q must be an absolute http:// or https:// URL, e.g. https://hooks.example.com/cairn", Redact(c.URL))
	}
	switch c.Format {
	case "", FormatJSON:
		if c.Secret == "" {
			return errors.New("secret is required for the json format: it is the HMAC-SHA256 key receivers check the signature with")
		}
	case FormatSlack:
	default:
		return fmt.Errorf("format %q must be %s or %s", c.Format, FormatJSON, FormatSlack)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %v must not be negative", c.Timeout)
	}
	return nil
}

// Target posts events to one URL. It is safe for concurrent use.
type Target struct {
	name   string
	cfg    Config
	client *http.Client
	now    func() time.Time
}

// Option adjusts a Target.
type Option func(*Target)

// WithClock sets the clock the timestamp is taken from (tests).
func WithClock(now func() time.Time) Option { return func(t *Target) { t.now = now } }

// WithTransport sets the HTTP transport (tests, proxies).
func WithTransport(rt http.RoundTripper) Option { return func(t *Target) { t.client.Transport = rt } }

// New returns the target name (which identifies it in logs and delivery
// records) for c; it fails if c is not valid.
func New(name string, c Config, opts ...Option) (*Target, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", name, err)
	}
	if c.Format == "" {
		c.Format = FormatJSON
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	// Each target keeps its own connections: a burst of events to one
	// receiver reuses them instead of opening one per event.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	t := &Target{name: name, cfg: c, now: time.Now, client: &http.Client{
		Transport: tr,
		Timeout:   c.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// Kind is "webhook".
func (t *Target) Kind() string { return "webhook" }

// Name is the configured name.
func (t *Target) Name() string { return t.name }

// Deliver POSTs ev once. Errors never contain the URL's path, query or
// credentials, which may be secret (Slack's URLs are).
func (t *Target) Deliver(ctx context.Context, ev backup.Event) error {
	var body []byte
	var err error
	if t.cfg.Format == FormatSlack {
		body, err = json.Marshal(map[string]string{"text": notify.Text(ev)})
	} else {
		body, err = json.Marshal(NewPayload(ev))
	}
	if err != nil {
		return &notify.PermanentError{Err: fmt.Errorf("webhook %s: encode event %s: %w", t.name, ev.ID, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return &notify.PermanentError{Err: fmt.Errorf("webhook %s: %s", t.name, redactErr(err, t.cfg.URL))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cairn-webhook/1")
	req.Header.Set(HeaderEventID, ev.ID)
	req.Header.Set(HeaderEventType, string(ev.Type))
	if t.cfg.Secret != "" {
		ts := strconv.FormatInt(t.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign([]byte(t.cfg.Secret), ts, body))
	}
	resp, err := t.client.Do(req)
	if err != nil {
		// Network errors, timeouts, refused connections: retried.
		return fmt.Errorf("webhook %s: POST %s: %s", t.name, Redact(t.cfg.URL), redactErr(err, t.cfg.URL))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s: POST %s: %s%s", t.name, Redact(t.cfg.URL), resp.Status, bodyNote(snippet))
	if Retryable(resp.StatusCode) {
		return err
	}
	return &notify.PermanentError{Err: err}
}

// Retryable reports whether an answer with this status is worth another
// try: 408 Request Timeout, 429 Too Many Requests and every 5xx.
func Retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Sign returns the value of HeaderSignature for a body sent at timestamp
// ts (decimal Unix seconds, the value of HeaderTimestamp):
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return SignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify is what a receiver does: it checks sig against ts and body, and
// that ts is within tolerance of now (replays of old requests fail).
func Verify(secret []byte, ts, sig string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not Unix seconds", HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s %s is %v away from now, more than %v", HeaderTimestamp, ts, d.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return errors.New("signature does not match")
	}
	return nil
}

// Redact returns u without what may be secret: user info, path, query
// and fragment ("https://hooks.slack.com/..."). Unparsable input gives "...".
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "..."
	}
	out := p.Scheme + "://" + p.Host + "/"
	if (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" {
		out += "..."
	}
	return out
}

// redactErr is err's text with the URL replaced by its redacted form
// (net/http puts the whole URL into its errors).
func redactErr(err error, u string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if u != "" {
		s = strings.ReplaceAll(s, u, Redact(u))
	}
	return s
}

func bodyNote(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if s == "" {
		return ""
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}
