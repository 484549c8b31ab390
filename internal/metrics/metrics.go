// Package metrics is cairn's Prometheus metrics: one registry (never the
// global one) with the Go and process collectors, the job counters and
// histograms fed by the runner through backup.JobObserver, the API's
// request counters fed by an HTTP middleware, and the gauges that describe
// the catalog, read at each scrape through backup.MetricsStore and a few
// functions cmd/ wires (the scheduler's lag, governance's verdicts). Other
// packages register their own collectors (notification deliveries) on
// Registerer. docs/monitoring.md lists every metric.
//
// Counters and histograms count what this process did, so that sums over
// several processes are right; gauges read from the catalog describe the
// catalog, which every process shares, so take one process's value (max,
// not sum) when several serve one catalog.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Config wires Metrics. Store is required; the rest is optional.
type Config struct {
	// Store answers the catalog's aggregates at each scrape.
	Store backup.MetricsStore
	// SchedulerLag returns how late the scheduler is (runner.Service's
	// SchedulerLag); nil leaves cairn_scheduler_lag_seconds out.
	SchedulerLag func(ctx context.Context) (time.Duration, error)
	// Compliance gives governance's verdicts; nil (governance off) leaves
	// cairn_compliance_resources out.
	Compliance backup.ComplianceService
	// ScrapeTimeout bounds the catalog reads of one scrape; default 10s.
	ScrapeTimeout time.Duration
	Logger        *slog.Logger
}

// DefaultScrapeTimeout is Config.ScrapeTimeout's default.
const DefaultScrapeTimeout = 10 * time.Second

// Metrics owns the registry. It is a backup.JobObserver.
type Metrics struct {
	reg *prometheus.Registry
	rr  *recordingRegisterer
	log *slog.Logger

	jobsStarted *prometheus.CounterVec
	jobsEnded   *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec
	jobItems    *prometheus.CounterVec
	jobBytes    *prometheus.CounterVec

	apiRequests *prometheus.CounterVec
	apiDuration *prometheus.HistogramVec
}

var _ backup.JobObserver = (*Metrics)(nil)

// Label names.
const (
	labelType         = "type"
	labelVault        = "vault"
	labelState        = "state"
	labelOperation    = "operation"
	labelCode         = "code"
	labelResourceARN  = "resource_arn"
	labelStorageClass = "storage_class"
	labelStatus       = "status"
	labelVerdict      = "verdict"
)

// JobDurationBuckets are the buckets of cairn_job_duration_seconds: from a
// second to a day.
var JobDurationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400}

// jobTypes are the values of the type label, with the terminal states of
// each kind, whose counters start at zero once a vault is seen (so that an
// alert on their increase sees the first failure).
var jobTypes = []struct {
	kind     backup.JobKind
	terminal []string
}{
	{backup.JobKindBackup, []string{"COMPLETED", "ABORTED", "FAILED", "EXPIRED", "PARTIAL"}},
	{backup.JobKindRestore, []string{"COMPLETED", "ABORTED", "FAILED"}},
	{backup.JobKindCopy, []string{"COMPLETED", "FAILED", "PARTIAL"}},
}

// typeLabel is the type label's value of a job kind: backup, restore, copy.
func typeLabel(k backup.JobKind) string { return strings.ToLower(string(k)) }

// New returns Metrics with every collector registered.
func New(cfg Config) (*Metrics, error) {
	if cfg.Store == nil {
		return nil, errors.New("metrics: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = DefaultScrapeTimeout
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: cfg.Logger,
		jobsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_jobs_started_total",
			Help: "Jobs this process started running, by type (backup, restore, copy) and vault.",
		}, []string{labelType, labelVault}),
		jobsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_jobs_ended_total",
			Help: "Jobs this process ended, by type, terminal state (COMPLETED, FAILED, EXPIRED, ABORTED, PARTIAL) and vault.",
		}, []string{labelType, labelState, labelVault}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_job_duration_seconds",
			Help:    "Time from a job's start to its end, of the jobs this process ran, by type and terminal state.",
			Buckets: JobDurationBuckets,
		}, []string{labelType, labelState}),
		jobItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_job_items_total",
			Help: "Items the jobs this process ended moved: scanned by backups, written by restores.",
		}, []string{labelType}),
		jobBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_job_bytes_total",
			Help: "Bytes the jobs this process ended moved: read from DynamoDB by backups, restored from completed points, copied by completed copies.",
		}, []string{labelType}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_api_requests_total",
			Help: "API requests answered, by operation (AWS's name, or cairn's for /cairn/ routes; Unknown for no route) and HTTP status code.",
		}, []string{labelOperation, labelCode}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_api_request_duration_seconds",
			Help:    "Time to answer an API request, by operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{labelOperation}),
	}
	m.rr = &recordingRegisterer{reg: m.reg}
	for _, jt := range jobTypes {
		t := typeLabel(jt.kind)
		m.jobItems.WithLabelValues(t)
		m.jobBytes.WithLabelValues(t)
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.jobsStarted, m.jobsEnded, m.jobDuration, m.jobItems, m.jobBytes, m.apiRequests, m.apiDuration,
		&catalogCollector{cfg: cfg},
	} {
		if err := m.rr.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Registerer is where other packages register their collectors (for
// instance internal/notify's delivery counters); they appear on the same
// /metrics.
func (m *Metrics) Registerer() prometheus.Registerer { return m.rr }

// Gatherer gathers every metric, as /metrics serves them.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the metrics in Prometheus' text format (or the protobuf
// or OpenMetrics format a scraper asks for). A catalog read that fails
// leaves its metrics out of that scrape and sets cairn_catalog_up to 0;
// the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{m.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	parts := make([]string, len(v))
	for i, x := range v {
		if s, ok := x.(string); ok {
			parts[i] = s
		} else if e, ok := x.(error); ok {
			parts[i] = e.Error()
		}
	}
	p.log.Error("metrics: serving a scrape", "err", strings.Join(parts, " "))
}

// JobStarted counts a job that started running.
func (m *Metrics) JobStarted(r backup.JobRun) {
	t := typeLabel(r.Kind)
	m.jobsStarted.WithLabelValues(t, r.VaultName).Inc()
	m.initEnded(r.Kind, r.VaultName)
}

// JobEnded counts a job that ended, and observes its duration if it ran in
// this process.
func (m *Metrics) JobEnded(r backup.JobRun) {
	t := typeLabel(r.Kind)
	m.initEnded(r.Kind, r.VaultName)
	m.jobsEnded.WithLabelValues(t, r.State, r.VaultName).Inc()
	if !r.Started.IsZero() && !r.Ended.IsZero() {
		m.jobDuration.WithLabelValues(t, r.State).Observe(max(0, r.Ended.Sub(r.Started).Seconds()))
	}
	if r.Items > 0 {
		m.jobItems.WithLabelValues(t).Add(float64(r.Items))
	}
	if r.Bytes > 0 {
		m.jobBytes.WithLabelValues(t).Add(float64(r.Bytes))
	}
}

// initEnded makes the ended counters of a kind's terminal states exist, at
// zero, for a vault.
func (m *Metrics) initEnded(k backup.JobKind, vault string) {
	for _, jt := range jobTypes {
		if jt.kind == k {
			for _, st := range jt.terminal {
				m.jobsEnded.WithLabelValues(typeLabel(k), st, vault)
			}
		}
	}
}

// Middleware counts and times the requests next answers. operation names
// a request's operation (awsapi.Server.Operation); it must not read the
// body.
func (m *Metrics) Middleware(operation func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := operation(r)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		m.apiRequests.WithLabelValues(op, strconv.Itoa(rec.status)).Inc()
		m.apiDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes a flush on, for handlers that stream (server-sent events).
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines) through the recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
