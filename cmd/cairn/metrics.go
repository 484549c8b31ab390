package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/metrics"
)

// metricsPath is where the Prometheus metrics are served: on the API's
// address, unsigned, or on Config.MetricsListen alone when it is set
// (docs/monitoring.md).
const metricsPath = "/metrics"

// serverMetrics is the server's part of the metrics: the registry, the
// separate listener if there is one, and governance's verdicts once the
// worker runs.
type serverMetrics struct {
	*metrics.Metrics
	listener   net.Listener
	http       *http.Server
	done       chan error
	compliance lateCompliance
}

// lateCompliance answers governance's verdicts once the worker is set; a
// scrape before that (or with governance off) sees governance off.
type lateCompliance struct {
	w atomic.Pointer[governance.Worker]
}

func (l *lateCompliance) Compliance(ctx context.Context, name string) (*backup.ComplianceReport, error) {
	if w := l.w.Load(); w != nil {
		return w.Compliance(ctx, name)
	}
	return &backup.ComplianceReport{}, nil
}

// validateMetricsListen checks --metrics-listen before anything is created.
func (c *Config) validateMetricsListen() error {
	if c.MetricsListen == "" {
		return nil
	}
	if err := validateAddr("metrics_listen", c.MetricsListen, "127.0.0.1:9171 or :9171"); err != nil {
		return err
	}
	if _, port, _ := net.SplitHostPort(c.MetricsListen); c.MetricsListen == c.Listen && port != "0" {
		return fmt.Errorf("config: metrics_listen %q is the API's address too; leave it out to serve %s on the API's address, or give another one",
			c.MetricsListen, metricsPath)
	}
	return nil
}

// listenMetrics binds Config.MetricsListen, if set, so that a busy or
// wrong address fails the start before anything is changed.
func (m *Main) listenMetrics() error {
	m.metrics = &serverMetrics{}
	if m.Config.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		return fmt.Errorf("listen on %s (metrics_listen): %w", m.Config.MetricsListen, err)
	}
	m.metrics.listener = ln
	m.MetricsAddr = ln.Addr().String()
	return nil
}

// openMetrics makes the registry; it runs once the catalog is open and
// before the runner, which reports its jobs to it.
func (m *Main) openMetrics() error {
	mt, err := metrics.New(metrics.Config{
		Store:      m.catalog,
		Compliance: &m.metrics.compliance,
		SchedulerLag: func(ctx context.Context) (time.Duration, error) {
			return m.Service.SchedulerLag(ctx)
		},
		Logger: m.Logger,
	})
	if err != nil {
		return err
	}
	m.metrics.Metrics = mt
	m.Metrics = mt
	return nil
}

// MetricsRegisterer is where the server's other parts register their
// collectors (notification deliveries); they are served on /metrics.
func (m *Main) MetricsRegisterer() prometheus.Registerer { return m.metrics.Registerer() }

// apiHandler wraps the API: its requests are counted by operation and
// status, and /metrics is served there, unsigned, unless it has an address
// of its own. Every other path still needs a signature.
func (m *Main) apiHandler(api *awsapi.Server) http.Handler {
	counted := m.metrics.Middleware(api.Operation, api)
	if m.metrics.listener != nil {
		return counted
	}
	scrape := m.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metricsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		counted.ServeHTTP(w, r)
	})
}

// serveMetrics starts serving /metrics on its own address, if it has one,
// with the API's HTTP limits (over plain HTTP: scrapers reach it on a
// private address).
func (m *Main) serveMetrics() {
	sm := m.metrics
	if sm == nil || sm.listener == nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, sm.Handler())
	sm.http = &http.Server{Handler: mux, ReadHeaderTimeout: m.Config.ReadHeaderTimeout, ReadTimeout: m.Config.ReadTimeout,
		IdleTimeout: m.Config.IdleTimeout, MaxHeaderBytes: m.Config.MaxHeaderBytes, ErrorLog: m.http.ErrorLog}
	sm.done = make(chan error, 1)
	go func(ln net.Listener) { sm.done <- sm.http.Serve(ln) }(sm.listener)
	m.Logger.Info("metrics served", "listen", m.MetricsAddr, "endpoint", "http://"+m.MetricsAddr+metricsPath)
}

// closeMetrics stops the metrics' own server, or closes its listener if it
// never served.
func (m *Main) closeMetrics() error {
	sm := m.metrics
	if sm == nil {
		return nil
	}
	var err error
	if sm.http != nil && sm.done != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = sm.http.Shutdown(ctx)
		cancel()
		if serr := <-sm.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		sm.done = nil
	} else if sm.listener != nil {
		err = sm.listener.Close()
	}
	sm.listener = nil
	return err
}
