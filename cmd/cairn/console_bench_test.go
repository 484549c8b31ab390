package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/sqlite"
)

// BenchmarkConsolePages measures the console's list pages end to end: a
// real server (runner, SQLite catalog) with 200,000 backup, 200,000 restore
// and 200,000 copy jobs in its catalog, or CAIRN_BENCH_JOBS of each, and
// one HTTP GET of a page with a signed-in session per operation:
//
//	go test ./cmd/cairn -run '^$' -bench ConsolePages
//	CAIRN_BENCH_JOBS=1000000 go test ./cmd/cairn -run '^$' -bench ConsolePages -benchtime 200x -timeout 60m
//
// The jobs are written straight into a catalog the server made (one
// INSERT ... SELECT per table, the rows as the catalog stores them), then
// the server starts on it as it would after a restart. A job was created
// every 30 seconds going back from now: 5% FAILED, the rest COMPLETED,
// over 10,000 tables and 10 vaults.
//
// Besides ns/op it reports p50-ns and p99-ns of single requests. The
// dashboard is measured twice: "dashboard" within the aggregates' cache
// (what nearly every load costs) and "dashboard-uncached" with the cache
// emptied before each load (what one load in 30 seconds costs).
func BenchmarkConsolePages(b *testing.B) {
	n := 200_000
	if v := os.Getenv("CAIRN_BENCH_JOBS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("CAIRN_BENCH_JOBS=%q: want a number of jobs, at least 1000", v)
		}
	}
	dir := b.TempDir()
	now := time.Now()
	start := time.Now()
	if err := fillConsoleCatalog(b.Context(), filepath.Join(dir, "catalog.db"), n, now); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d jobs of each kind in %v", n, time.Since(start).Round(time.Millisecond))
	m := &Main{Config: Config{Listen: "127.0.0.1:0", DataDir: dir},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	base := "http://" + m.Addr + "/console/"
	c := consoleSession(b, base, m.Keys)

	for _, p := range []struct{ name, path string }{
		{"backup-jobs", "backup-jobs"},
		{"backup-jobs-failed", "backup-jobs?state=FAILED"},
		{"backup-jobs-resource", "backup-jobs?resource=table-04242"},
		{"backup-jobs-vault-24h", "backup-jobs?vault=vault-03&range=24h"},
		{"backup-jobs-all-filters", "backup-jobs?state=COMPLETED&resource=table-04242&vault=vault-03&range=30d"},
		{"backup-jobs-page-2", ""},
		{"restore-jobs", "restore-jobs"},
		{"restore-jobs-failed-7d", "restore-jobs?state=FAILED&range=7d"},
		{"copy-jobs", "copy-jobs"},
		{"copy-jobs-resource", "copy-jobs?resource=table-04242&state=COMPLETED"},
		{"dashboard", ""},
		{"dashboard-uncached", ""},
	} {
		path := p.path
		switch p.name {
		case "backup-jobs-page-2":
			path = "backup-jobs" + nextLink(b, c, base+"backup-jobs")
		case "dashboard", "dashboard-uncached":
			path = ""
		}
		b.Run(p.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				if p.name == "dashboard-uncached" {
					b.StopTimer()
					m.Console.ForgetAggregates()
					b.StartTimer()
				}
				t0 := time.Now()
				resp, err := c.Get(base + path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Nanoseconds()), "p99-ns")
		})
	}
}

var nextPattern = regexp.MustCompile(`href="(\?[^"]*token=[^"]*)" rel="next"`)

// nextLink returns the "Older" link of a list page.
func nextLink(b *testing.B, c *http.Client, u string) string {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := nextPattern.FindSubmatch(body)
	if m == nil {
		b.Fatalf("%s has no next page link", u)
	}
	return regexp.MustCompile(`&amp;`).ReplaceAllString(string(m[1]), "&")
}

// consoleSession signs in to the console and returns a client that keeps
// the session.
func consoleSession(tb testing.TB, base string, k keyPair) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "signin")
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if tok == nil {
		tb.Fatal("the sign-in page has no CSRF token")
	}
	resp, err = c.PostForm(base+"signin", url.Values{"csrf": {string(tok[1])}, "access_key_id": {k.AccessKeyID}, "secret_access_key": {k.SecretAccessKey}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/console/" {
		tb.Fatalf("sign-in ended at %s", resp.Request.URL)
	}
	return c
}

// fillConsoleCatalog makes a catalog at path and writes n backup, restore
// and copy jobs into it, the newest created at now.
func fillConsoleCatalog(ctx context.Context, path string, n int, now time.Time) error {
	c, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	const series = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) `
	acct, region := "000000000000", "us-east-1"
	table := `'arn:aws:dynamodb:us-east-1:000000000000:table/' || printf('table-%05d', i % 10000)`
	state := `CASE WHEN i % 20 = 7 THEN 'FAILED' ELSE 'COMPLETED' END`
	created := `:now - i * 30000000000`
	stmts := []string{
		series + `INSERT INTO backup_jobs (id, account_id, region, vault_name, vault_arn, recovery_point_arn, resource_arn,
			resource_type, resource_name, iam_role_arn, idempotency_token, state, status_message, percent_done,
			bytes_transferred, backup_size_bytes, item_count, creation_ns, start_by_ns, completion_ns)
		SELECT printf('%08x-0000-4000-8000-%012x', i, i), '` + acct + `', '` + region + `', printf('vault-%02d', (i / 7) % 10),
			'arn:aws:backup:us-east-1:000000000000:backup-vault:' || printf('vault-%02d', (i / 7) % 10),
			'arn:aws:backup:us-east-1:000000000000:recovery-point:' || printf('rp-%08x', i), ` + table + `,
			'DynamoDB', printf('table-%05d', i % 10000), 'arn:aws:iam::000000000000:role/backup', '', ` + state + `,
			CASE WHEN i % 20 = 7 THEN 'scan segment 0: throttled' ELSE '' END, 100, i * 1000, i * 1000, i,
			` + created + `, ` + created + ` + 28800000000000, ` + created + ` + 60000000000 FROM n`,
		series + `INSERT INTO restore_jobs (id, account_id, region, recovery_point_arn, vault_arn, resource_type, iam_role_arn,
			metadata, copy_source_tags, idempotency_token, status, status_message, percent_done, backup_size_bytes,
			items_restored, creation_ns, completion_ns, created_resource_arn, validation_status, validation_status_message)
		SELECT printf('r%07x-0000-4000-8000-%012x', i, i), '` + acct + `', '` + region + `',
			'arn:aws:backup:us-east-1:000000000000:recovery-point:' || printf('rp-%08x', i),
			'arn:aws:backup:us-east-1:000000000000:backup-vault:Default', 'DynamoDB', '',
			'{"targetTableName":"' || printf('restored-%07d', i) || '"}', 0, '', ` + state + `, '', 100, i * 1000, i,
			` + created + `, ` + created + ` + 60000000000,
			'arn:aws:dynamodb:us-east-1:000000000000:table/' || printf('restored-%07d', i), 'SUCCESSFUL', '' FROM n`,
		series + `INSERT INTO copy_jobs (id, account_id, region, source_vault_arn, source_recovery_point_arn, destination_vault_arn,
			destination_recovery_point_arn, resource_arn, resource_type, resource_name, iam_role_arn, idempotency_token,
			state, status_message, backup_size_bytes, creation_ns, completion_ns)
		SELECT printf('c%07x-0000-4000-8000-%012x', i, i), '` + acct + `', '` + region + `',
			'arn:aws:backup:us-east-1:000000000000:backup-vault:Default',
			'arn:aws:backup:us-east-1:000000000000:recovery-point:' || printf('rp-%08x', i),
			'arn:aws:backup:us-east-1:000000000000:backup-vault:' || printf('vault-%02d', i % 10),
			'arn:aws:backup:us-east-1:000000000000:recovery-point:' || printf('cp-%08x', i), ` + table + `, 'DynamoDB',
			printf('table-%05d', i % 10000), '', '', ` + state + `, '', i * 1000, ` + created + `, ` + created + ` + 60000000000 FROM n`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s, sql.Named("last", n-1), sql.Named("now", now.UnixNano())); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	return nil
}
