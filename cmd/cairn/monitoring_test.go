package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// The example alerting rules pass `promtool check rules` and their unit
// tests (`promtool test rules`), Debian's promtool from the test bed.
func TestAlertRulesPromtool(t *testing.T) {
	promtool := testbed.Promtool(t)
	dir := filepath.Join(testbed.RepoRoot(), "contrib", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "cairn-alerts.yml"},
		{"test", "rules", "cairn-alerts.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// promtoolLint runs `promtool check metrics` on a scrape (Prometheus'
// naming conventions: base units, _total on counters, help on every
// metric) and fails t on any finding about a cairn_ metric.
func promtoolLint(t *testing.T, body string) {
	t.Helper()
	promtool := testbed.Promtool(t)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, _ := cmd.CombinedOutput() // it exits 3 on mere lint findings; judge by them
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "cairn_") {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
}

// metricName finds metric names in PromQL (and in prose): cairn's and the
// Go and process collectors'.
var metricName = regexp.MustCompile(`\b(?:cairn|go|process)_[a-z0-9_]+`)

// The rules, the Grafana dashboard and docs/monitoring.md name only metrics
// the server registers (histograms by their _bucket, _sum and _count
// series too), and the docs list every cairn_ metric the server registers.
func TestMonitoringReferencesExist(t *testing.T) {
	m := testServer(t, t.TempDir(), "http://127.0.0.1:9")
	names := m.Metrics.MetricNames()
	exists := func(n string) bool {
		if slices.Contains(names, n) {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && slices.Contains(names, base) {
				return true
			}
		}
		return false
	}
	root := testbed.RepoRoot()
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Rules: every expression.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(read("contrib/prometheus/cairn-alerts.yml"), &rules); err != nil {
		t.Fatalf("rules: %v", err)
	}
	nRules := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			nRules++
			used := metricName.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("rule %s uses no cairn metric: %s", r.Alert, r.Expr)
			}
			for _, n := range used {
				if !exists(n) {
					t.Errorf("rule %s uses %s, which the server does not register", r.Alert, n)
				}
			}
		}
	}
	if nRules < 5 {
		t.Fatalf("%d rules read", nRules)
	}

	// Dashboard: valid JSON; every query of every panel and variable.
	var dash any
	if err := json.Unmarshal(read("contrib/grafana/cairn-dashboard.json"), &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var queries []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "query") {
					queries = append(queries, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(dash)
	if len(queries) < 10 {
		t.Fatalf("%d dashboard queries found", len(queries))
	}
	for _, q := range queries {
		for _, n := range metricName.FindAllString(q, -1) {
			if !exists(n) {
				t.Errorf("dashboard queries %s, which the server does not register: %s", n, q)
			}
		}
	}

	// Docs: both ways for cairn_ metrics.
	doc := string(read("docs/monitoring.md"))
	for _, n := range metricName.FindAllString(doc, -1) {
		if strings.HasPrefix(n, "cairn_") && !exists(n) {
			t.Errorf("docs/monitoring.md names %s, which the server does not register", n)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "cairn_") && !strings.Contains(doc, "| `"+n+"` |") {
			t.Errorf("docs/monitoring.md's table lacks %s", n)
		}
	}
}

// A real Prometheus server (Debian's) scrapes a running cairn server and
// evaluates contrib/prometheus/cairn-alerts.yml: a backup that fails makes
// CairnJobFailed fire for its type, state and vault, and nothing else
// fires.
func TestPrometheusScrapesAndAlerts(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	config := filepath.Join(t.TempDir(), "prometheus.yml")
	rules := filepath.Join(testbed.RepoRoot(), "contrib", "prometheus", "cairn-alerts.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cairn
    static_configs:
      - targets: [%q]
rule_files:
  - %q
`, m.Addr, rules)), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := testbed.Prometheus(t, config)
	api := func(path string, out any) {
		t.Helper()
		resp, err := http.Get(prom.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("prometheus %s: %d %v", path, resp.StatusCode, err)
		}
	}
	// until polls cond every 200 ms; the deadline only guards against a
	// hang.
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("prometheus: never %s", what)
			}
		}
	}
	until("scraped cairn", func() bool {
		var q struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		api("/api/v1/query?query=cairn_catalog_up", &q)
		return len(q.Data.Result) == 1 && q.Data.Result[0].Value[1] == "1"
	})

	c := backupClient(m)
	if j := waitBackupJob(t, c, startBackup(t, c, "missing")); j.State != "FAILED" {
		t.Fatalf("backup of a missing table: %s", j.State)
	}
	type alert struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	}
	var firing []alert
	until("fired CairnJobFailed", func() bool {
		var a struct {
			Data struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		api("/api/v1/alerts", &a)
		firing = a.Data.Alerts
		return slices.ContainsFunc(firing, func(x alert) bool { return x.Labels["alertname"] == "CairnJobFailed" && x.State == "firing" })
	})
	if len(firing) != 1 {
		t.Fatalf("alerts %+v, want CairnJobFailed alone", firing)
	}
	l := firing[0].Labels
	if l["type"] != "backup" || l["state"] != "FAILED" || l["vault"] != "Default" || l["severity"] != "warning" {
		t.Fatalf("CairnJobFailed labels %v", l)
	}
}
