// Package console is cairn's web console: server-rendered pages under
// /console/ that show jobs, vaults, recovery points, plans and protected
// resources, and start restores, on-demand backups, job stops and point
// deletions after a confirmation step.
//
// It is an adapter beside internal/awsapi: every read and every action goes
// through the same backup.Service the API serves, so the console can never
// do what the API refuses. Pages are html/template, parsed once at start;
// the stylesheet and the small script (times in the browser's zone, live
// job progress over server-sent events) are embedded with embed. Nothing is
// fetched from elsewhere and nothing is built by npm.
//
// Sign-in takes an access key pair the server knows (the API's keys),
// compared in constant time. A session is a random token in a cookie that
// is HttpOnly, SameSite=Strict and Secure over TLS; every form carries the
// session's CSRF token; sessions end at sign-out, after IdleTimeout without
// a request and after MaxAge in any case. Every page without a session
// redirects to the sign-in page.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// Prefix is where the console is served.
const Prefix = "/console/"

// DefaultRoleARN is the IAM role the console's on-demand backups name, as
// AWS's console defaults to it; cairn records the role and does not assume
// it.
const DefaultRoleARN = "arn:aws:iam::%s:role/service-role/AWSBackupDefaultServiceRole"

// Config configures a Handler.
type Config struct {
	// Service is what the console reads and acts on: the API's. Required.
	Service backup.Service
	// Credentials looks up the secret key of an access key (the API's
	// keys). Required.
	Credentials func(accessKeyID string) (secret string, ok bool)
	// PointTable returns the table description a COMPLETED recovery point
	// recorded (the runner's RecoveryPointTable); nil shows only the
	// point's restore metadata.
	PointTable func(ctx context.Context, vault, arn string) (json.RawMessage, error)
	// Compliance gives the governance verdicts for the dashboard; nil when
	// governance is off.
	Compliance backup.ComplianceService
	// Region and AccountID are the server's; they turn table names into
	// ARNs. Defaults us-east-1 and 000000000000.
	Region, AccountID string
	// Secure marks the session cookie Secure (the server speaks TLS). A
	// request that came over TLS gets a Secure cookie anyway.
	Secure bool
	// IdleTimeout ends a session after this long without a request
	// (default 1 hour); MaxAge ends it this long after sign-in (default 12
	// hours).
	IdleTimeout, MaxAge time.Duration
	// DashboardTTL is how long the dashboard's aggregates are reused
	// before they are computed again (default 30 seconds).
	DashboardTTL time.Duration
	// PollInterval is how often a live progress stream reads its jobs
	// (default 1 second).
	PollInterval time.Duration
	// Clock is the time source (default the real clock); Logger receives
	// failures (default slog.Default()).
	Clock  clock.Clock
	Logger *slog.Logger
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Handler serves the console.
type Handler struct {
	cfg      Config
	svc      backup.Service
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	dash     *dashboardCache
	mux      *http.ServeMux
	closed   chan struct{}
	close    sync.Once
}

// Close ends the open progress streams (the server is stopping); pages
// are still served.
func (h *Handler) Close() { h.close.Do(func() { close(h.closed) }) }

// New checks cfg and parses the templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.Credentials == nil {
		return nil, errors.New("console: Service and Credentials are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = time.Hour
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	if cfg.DashboardTTL <= 0 {
		cfg.DashboardTTL = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, svc: cfg.Service, log: cfg.Logger,
		sessions: newSessions(cfg.Clock, cfg.IdleTimeout, cfg.MaxAge), closed: make(chan struct{})}
	h.dash = &dashboardCache{ttl: cfg.DashboardTTL}
	if err := h.parse(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// parse reads every page template with the layout, once.
func (h *Handler) parse() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("console: parse layout: %w", err)
	}
	h.pages = map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("console: parse %s: %w", n, err)
		}
		h.pages[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return nil
}

// ServeHTTP serves the console's paths (under Prefix).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) now() time.Time { return h.cfg.Clock.Now() }

// ctxKey keys the request's session in its context.
type ctxKey struct{}

func sessionOf(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}
