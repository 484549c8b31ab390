package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fakeStore answers the aggregates from fields; err fails PointUsage.
type fakeStore struct {
	active []backup.ActiveJobCount
	last   []backup.LastBackup
	usage  []backup.PointUsage
	err    error
}

func (f *fakeStore) CountActiveJobs(context.Context) ([]backup.ActiveJobCount, error) {
	return f.active, nil
}
func (f *fakeStore) LastBackups(context.Context) ([]backup.LastBackup, error) { return f.last, nil }
func (f *fakeStore) PointUsage(context.Context) ([]backup.PointUsage, error)  { return f.usage, f.err }

type fakeCompliance struct{ rep *backup.ComplianceReport }

func (f fakeCompliance) Compliance(context.Context, string) (*backup.ComplianceReport, error) {
	return f.rep, nil
}

func newMetrics(t *testing.T, cfg Config) *Metrics {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// scrape GETs the handler and parses the text exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels are
// exactly labels (name=value pairs); ok is false if there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		match := true
		for i, l := range m.Label {
			if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Fatalf("%s%v: no sample", name, labels)
	}
	if got != v {
		t.Fatalf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// Job starts and ends become counters by type, state and vault, a
// duration histogram and items and bytes moved; a vault's failure counter
// exists at zero from its first job on, so that an alert on its increase
// sees the first failure.
func TestJobCounters(t *testing.T) {
	m := newMetrics(t, Config{Store: &fakeStore{}})
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	run := backup.JobRun{Kind: backup.JobKindBackup, ID: "j1", VaultName: "Default", State: "RUNNING", Started: t0}
	m.JobStarted(run)
	fams := scrape(t, m.Handler())
	want(t, fams, 1, "cairn_jobs_started_total", "type", "backup", "vault", "Default")
	want(t, fams, 0, "cairn_jobs_ended_total", "state", "FAILED", "type", "backup", "vault", "Default")

	done := run
	done.State, done.Ended, done.Items, done.Bytes = "COMPLETED", t0.Add(90*time.Second), 20, 4096
	m.JobEnded(done)
	failed := run
	failed.ID, failed.State, failed.Ended = "j2", "FAILED", t0.Add(time.Second)
	m.JobEnded(failed)
	expired := backup.JobRun{Kind: backup.JobKindBackup, ID: "j3", VaultName: "other", State: "EXPIRED", Ended: t0}
	m.JobEnded(expired) // never ran: no duration
	m.JobEnded(backup.JobRun{Kind: backup.JobKindRestore, ID: "r1", VaultName: "Default", State: "COMPLETED",
		Started: t0, Ended: t0.Add(time.Minute), Items: 20, Bytes: 1000})

	fams = scrape(t, m.Handler())
	want(t, fams, 1, "cairn_jobs_ended_total", "state", "COMPLETED", "type", "backup", "vault", "Default")
	want(t, fams, 1, "cairn_jobs_ended_total", "state", "FAILED", "type", "backup", "vault", "Default")
	want(t, fams, 1, "cairn_jobs_ended_total", "state", "EXPIRED", "type", "backup", "vault", "other")
	want(t, fams, 0, "cairn_jobs_ended_total", "state", "FAILED", "type", "backup", "vault", "other")
	want(t, fams, 1, "cairn_jobs_ended_total", "state", "COMPLETED", "type", "restore", "vault", "Default")
	want(t, fams, 1, "cairn_job_duration_seconds", "state", "COMPLETED", "type", "backup")
	want(t, fams, 1, "cairn_job_duration_seconds", "state", "FAILED", "type", "backup")
	if _, ok := value(fams, "cairn_job_duration_seconds", "state", "EXPIRED", "type", "backup"); ok {
		t.Fatal("a job that never ran has a duration")
	}
	h := fams["cairn_job_duration_seconds"]
	for _, s := range h.Metric {
		if s.Label[0].GetValue() == "COMPLETED" && s.Label[1].GetValue() == "backup" && s.Histogram.GetSampleSum() != 90 {
			t.Fatalf("duration sum %v, want 90", s.Histogram.GetSampleSum())
		}
	}
	want(t, fams, 20, "cairn_job_items_total", "type", "backup")
	want(t, fams, 4096, "cairn_job_bytes_total", "type", "backup")
	want(t, fams, 1000, "cairn_job_bytes_total", "type", "restore")
	want(t, fams, 0, "cairn_job_items_total", "type", "copy")
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Fatal("the Go and process collectors are missing")
	}
}

// The catalog's gauges come from the store at each scrape: running and
// waiting jobs by type (zero included), the last success per resource in
// Unix seconds, points and bytes per vault, class and status, the
// scheduler's lag and governance's verdicts. A failed read leaves its
// metrics out and sets cairn_catalog_up to 0; the rest is served.
func TestCatalogGauges(t *testing.T) {
	done := time.Date(2026, 12, 3, 5, 1, 2, 500_000_000, time.UTC)
	st := &fakeStore{
		active: []backup.ActiveJobCount{{Kind: backup.JobKindBackup, State: "RUNNING", Count: 2},
			{Kind: backup.JobKindBackup, State: "ABORTING", Count: 1}, {Kind: backup.JobKindBackup, State: "PENDING", Count: 4},
			{Kind: backup.JobKindRestore, State: "PENDING", Count: 1}},
		last: []backup.LastBackup{{ResourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/orders", Completed: done}},
		usage: []backup.PointUsage{{VaultName: "Default", StorageClass: backup.StorageWarm, Status: backup.RecoveryPointCompleted,
			Points: 3, Bytes: 12345}},
	}
	comp := fakeCompliance{&backup.ComplianceReport{Enabled: true, Resources: []backup.TableCompliance{
		{Verdict: backup.VerdictCompliant}, {Verdict: backup.VerdictCompliant}, {Verdict: backup.VerdictNonCompliant}}}}
	m := newMetrics(t, Config{Store: st, Compliance: comp,
		SchedulerLag: func(context.Context) (time.Duration, error) { return 90 * time.Second, nil }})
	fams := scrape(t, m.Handler())
	want(t, fams, 3, "cairn_jobs_running", "type", "backup")
	want(t, fams, 4, "cairn_jobs_waiting", "type", "backup")
	want(t, fams, 1, "cairn_jobs_waiting", "type", "restore")
	want(t, fams, 0, "cairn_jobs_running", "type", "copy")
	want(t, fams, float64(done.Unix())+0.5, "cairn_last_successful_backup_timestamp_seconds",
		"resource_arn", "arn:aws:dynamodb:us-east-1:000000000000:table/orders")
	want(t, fams, 3, "cairn_recovery_points", "status", "COMPLETED", "storage_class", "WARM", "vault", "Default")
	want(t, fams, 12345, "cairn_recovery_point_bytes", "status", "COMPLETED", "storage_class", "WARM", "vault", "Default")
	want(t, fams, 90, "cairn_scheduler_lag_seconds")
	want(t, fams, 2, "cairn_compliance_resources", "verdict", "COMPLIANT")
	want(t, fams, 1, "cairn_compliance_resources", "verdict", "NON_COMPLIANT")
	want(t, fams, 0, "cairn_compliance_resources", "verdict", "OPTED_OUT")
	want(t, fams, 1, "cairn_catalog_up")

	st.err = errors.New("disk I/O error")
	fams = scrape(t, m.Handler())
	want(t, fams, 0, "cairn_catalog_up")
	want(t, fams, 3, "cairn_jobs_running", "type", "backup")
	if fams["cairn_recovery_points"] != nil {
		t.Fatal("points served from a failed read")
	}
}

// Without governance and without a scheduler lag function, their metrics
// are absent rather than zero.
func TestOptionalGauges(t *testing.T) {
	m := newMetrics(t, Config{Store: &fakeStore{},
		Compliance: fakeCompliance{&backup.ComplianceReport{Enabled: false}}})
	fams := scrape(t, m.Handler())
	if fams["cairn_compliance_resources"] != nil || fams["cairn_scheduler_lag_seconds"] != nil {
		t.Fatal("governance off, yet verdicts served; or a lag without a scheduler")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a Store")
	}
}

// The middleware counts requests by operation and status code and times
// them; collectors registered on Registerer are served too.
func TestMiddlewareAndRegisterer(t *testing.T) {
	m := newMetrics(t, Config{Store: &fakeStore{}})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	op := func(r *http.Request) string {
		if strings.HasPrefix(r.URL.Path, "/backup-jobs") {
			return "ListBackupJobs"
		}
		return "Unknown"
	}
	h := m.Middleware(op, api)
	for i, auth := range []string{"AWS4-HMAC-SHA256 x", "AWS4-HMAC-SHA256 x", ""} {
		req := httptest.NewRequest("GET", "/backup-jobs/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if i < 2 && rec.Code != 200 || i == 2 && rec.Code != 403 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nothing", nil))
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_notification_test_total", Help: "test"})
	if err := m.Registerer().Register(c); err != nil {
		t.Fatal(err)
	}
	c.Add(7)
	fams := scrape(t, m.Handler())
	want(t, fams, 2, "cairn_api_requests_total", "code", "200", "operation", "ListBackupJobs")
	want(t, fams, 1, "cairn_api_requests_total", "code", "403", "operation", "ListBackupJobs")
	want(t, fams, 1, "cairn_api_requests_total", "code", "403", "operation", "Unknown")
	want(t, fams, 3, "cairn_api_request_duration_seconds", "operation", "ListBackupJobs")
	want(t, fams, 7, "cairn_notification_test_total")
	names := m.MetricNames()
	for _, n := range []string{"cairn_notification_test_total", "cairn_jobs_ended_total", "cairn_job_duration_seconds",
		"cairn_last_successful_backup_timestamp_seconds", "go_goroutines", "process_cpu_seconds_total"} {
		if !slices.Contains(names, n) {
			t.Errorf("MetricNames lacks %s: %v", n, names)
		}
	}
	if !m.Registerer().Unregister(c) || slices.Contains(m.MetricNames(), "cairn_notification_test_total") {
		t.Error("an unregistered collector is still listed")
	}
}

// A handler behind the middleware can still stream: the recorder is an
// http.Flusher and flushes reach the connection.
func TestMiddlewareFlushes(t *testing.T) {
	m := newMetrics(t, Config{Store: &fakeStore{}})
	h := m.Middleware(func(*http.Request) string { return "Stream" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("the middleware's writer is no http.Flusher")
			return
		}
		_, _ = w.Write([]byte("data: 1\n\n"))
		f.Flush()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/events", nil))
	if !rec.Flushed {
		t.Fatal("the flush did not reach the connection")
	}
	want(t, scrape(t, m.Handler()), 1, "cairn_api_requests_total", "code", "200", "operation", "Stream")
}
