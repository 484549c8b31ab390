package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// exposition is one parsed scrape.
type exposition map[string]*dto.MetricFamily

// scrapeURL GETs url without signing and parses the text exposition; it
// also returns the raw body.
func scrapeURL(t *testing.T, url string) (exposition, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %s %v", url, resp.StatusCode, body, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse the scrape of %s: %v", url, err)
	}
	return fams, string(body)
}

// sample returns the value of family name's sample whose labels are
// exactly labels (name, value, ... in any order): a counter's or gauge's
// value, a histogram's count.
func (e exposition) sample(name string, labels ...string) (float64, bool) {
	f := e[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		ok := true
		for _, l := range m.Label {
			if v, found := want[l.GetName()]; !found || v != l.GetValue() {
				ok = false
			}
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// sum adds the values of every sample of family name whose labels include
// labels.
func (e exposition) sum(name string, labels ...string) float64 {
	f := e[name]
	if f == nil {
		return 0
	}
	total := 0.0
	for _, m := range f.Metric {
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

func (e exposition) want(t *testing.T, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := e.sample(name, labels...)
	if !ok {
		t.Fatalf("%s%v: no such sample", name, labels)
	}
	if got != v {
		t.Fatalf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// After 2 completed backups and 1 failed one, a scrape of the running
// server (unsigned, on the API's address) shows exactly those counts, the
// last-success gauge of each table at its job's completion time, nothing
// for the table never backed up, the points and their bytes, no running
// or waiting job, the API's requests by operation and status, and a
// scheduler with nothing due. Every other path still needs a signature.
func TestMetricsScrape(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	db := ddbClient(dyn.Endpoint)
	c := backupClient(m)
	for _, table := range []string{"orders", "users"} {
		createTable(t, db, table, ddbjson.TypeS, false)
		seedRandom(t, db, table, 30)
	}
	var jobs []*bk.DescribeBackupJobOutput
	for _, table := range []string{"orders", "users", "missing"} {
		jobs = append(jobs, waitBackupJob(t, c, startBackup(t, c, table)))
	}
	if jobs[0].State != bktypes.BackupJobStateCompleted || jobs[1].State != bktypes.BackupJobStateCompleted ||
		jobs[2].State != bktypes.BackupJobStateFailed {
		t.Fatalf("jobs ended %s, %s, %s; want COMPLETED, COMPLETED, FAILED", jobs[0].State, jobs[1].State, jobs[2].State)
	}
	url := "http://" + m.Addr + "/metrics"
	// The observer hears of a job's end just after the catalog stores it:
	// wait (with a guard against a hang) until the third end is counted.
	var e exposition
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		e, _ = scrapeURL(t, url)
		if e.sum("cairn_jobs_ended_total", "type", "backup") >= 3 || time.Now().After(deadline) {
			break
		}
	}
	e.want(t, 3, "cairn_jobs_started_total", "type", "backup", "vault", "Default")
	e.want(t, 2, "cairn_jobs_ended_total", "type", "backup", "state", "COMPLETED", "vault", "Default")
	e.want(t, 1, "cairn_jobs_ended_total", "type", "backup", "state", "FAILED", "vault", "Default")
	e.want(t, 0, "cairn_jobs_ended_total", "type", "backup", "state", "EXPIRED", "vault", "Default")
	if n := e.sum("cairn_jobs_ended_total"); n != 3 {
		t.Fatalf("%v jobs ended in all, want 3", n)
	}
	e.want(t, 2, "cairn_job_duration_seconds", "type", "backup", "state", "COMPLETED")
	e.want(t, 60, "cairn_job_items_total", "type", "backup")
	e.want(t, 0, "cairn_jobs_running", "type", "backup")
	e.want(t, 0, "cairn_jobs_waiting", "type", "backup")

	var pointBytes int64
	for i, table := range []string{"orders", "users"} {
		j, err := m.Service.GetBackupJob(context.Background(), aws.ToString(jobs[i].BackupJobId))
		if err != nil {
			t.Fatal(err)
		}
		pointBytes += j.BackupSizeInBytes
		e.want(t, float64(j.CompletionDate.UnixNano())/1e9, "cairn_last_successful_backup_timestamp_seconds",
			"resource_arn", "arn:aws:dynamodb:us-east-1:000000000000:table/"+table)
		if sent := aws.ToTime(jobs[i].CompletionDate); sent.Sub(j.CompletionDate).Abs() > time.Millisecond {
			t.Fatalf("the API says %s completed at %v, the catalog %v", table, sent, j.CompletionDate)
		}
	}
	if _, ok := e.sample("cairn_last_successful_backup_timestamp_seconds",
		"resource_arn", "arn:aws:dynamodb:us-east-1:000000000000:table/missing"); ok {
		t.Fatal("a last success for the table whose backup failed")
	}
	if n := len(e["cairn_last_successful_backup_timestamp_seconds"].GetMetric()); n != 2 {
		t.Fatalf("%d last-success series, want 2", n)
	}
	e.want(t, 2, "cairn_recovery_points", "vault", "Default", "storage_class", "WARM", "status", "COMPLETED")
	e.want(t, float64(pointBytes), "cairn_recovery_point_bytes", "vault", "Default", "storage_class", "WARM", "status", "COMPLETED")
	e.want(t, 3, "cairn_api_requests_total", "operation", "StartBackupJob", "code", "200")
	if n, _ := e.sample("cairn_api_requests_total", "operation", "DescribeBackupJob", "code", "200"); n < 3 {
		t.Fatalf("%v DescribeBackupJob requests counted, want at least 3", n)
	}
	e.want(t, 0, "cairn_scheduler_lag_seconds")
	e.want(t, 1, "cairn_catalog_up")
	// The notification sender's metrics are on the same registry.
	e.want(t, 0, "cairn_notification_deliveries", "status", "UNDELIVERABLE")
	if e["go_goroutines"] == nil || e["process_resident_memory_bytes"] == nil {
		t.Fatal("no Go or process metrics")
	}

	// Only /metrics goes unsigned: the API refuses an unsigned request,
	// and counts it.
	resp, err := http.Get("http://" + m.Addr + "/backup-jobs/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned ListBackupJobs: %d, want 403", resp.StatusCode)
	}
	e, body := scrapeURL(t, url)
	e.want(t, 1, "cairn_api_requests_total", "operation", "ListBackupJobs", "code", "403")
	promtoolLint(t, body)
	if _, ok := e.sample("cairn_api_requests_total", "operation", "Unknown", "code", "200"); ok {
		t.Fatal("scrapes counted as API requests")
	}
}

// With metrics_listen, /metrics is served there and not on the API's
// address (where an unsigned request is refused like any other); a bad or
// clashing address is refused before anything starts.
func TestMetricsListen(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServerWith(t, t.TempDir(), dyn.Endpoint, func(m *Main) { m.Config.MetricsListen = "127.0.0.1:0" })
	if m.MetricsAddr == "" || m.MetricsAddr == m.Addr {
		t.Fatalf("metrics address %q (API %q)", m.MetricsAddr, m.Addr)
	}
	e, _ := scrapeURL(t, "http://"+m.MetricsAddr+"/metrics")
	e.want(t, 1, "cairn_catalog_up")
	resp, err := http.Get("http://" + m.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("/metrics on the API's address with metrics_listen set: %d, want 403", resp.StatusCode)
	}
	resp, err = http.Get("http://" + m.MetricsAddr + "/backup-jobs/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the API on the metrics address: %d, want 404", resp.StatusCode)
	}

	for _, tt := range []struct{ listen, metrics, want string }{
		{"127.0.0.1:0", "localhost", `metrics_listen "localhost" must be HOST:PORT`},
		{"127.0.0.1:7171", "127.0.0.1:7171", "is the API's address too"},
	} {
		dir := t.TempDir()
		bad := &Main{Config: Config{Listen: tt.listen, MetricsListen: tt.metrics, DataDir: dir + "/data"}, Logger: m.Logger}
		err := bad.Open(context.Background())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			bad.Close()
			t.Fatalf("metrics_listen %q: %v, want %q", tt.metrics, err, tt.want)
		}
		if _, err := os.Stat(dir + "/data"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("metrics_listen %q refused, yet the data dir was made (%v)", tt.metrics, err)
		}
	}
	// A busy address fails the start and leaves the API's address free.
	busy := &Main{Config: Config{Listen: "127.0.0.1:0", MetricsListen: m.MetricsAddr, DataDir: t.TempDir()}, Logger: m.Logger}
	if err := busy.Open(context.Background()); err == nil || !strings.Contains(err.Error(), "metrics_listen") {
		busy.Close()
		t.Fatalf("busy metrics address: %v", err)
	}
}
