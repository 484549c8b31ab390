package sqlite

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// BenchmarkListBackupJobsFiltered measures one page (MaxResults 100) of
// filtered ListBackupJobs over a file-backed catalog of 200,000 jobs, or of
// CAIRN_BENCH_JOBS jobs:
//
//	go test ./internal/sqlite -run '^$' -bench ListBackupJobsFiltered
//	CAIRN_BENCH_JOBS=1000000 go test ./internal/sqlite -run '^$' -bench ListBackupJobsFiltered -timeout 40m
//
// (docs/benchmarks.md adds -count 3 -benchtime 3s -v; -v also prints each
// case's query plan.)
//
// Every filter case runs twice on the same catalog, one right after the
// other: CASE/index is ListBackupJobs itself, CASE/no-index the baseline,
// listNaive: the same page computed without the catalog's indexes (see
// naiveQuery). Before timing, each case checks that both list the same jobs.
//
// Besides ns/op it reports p99-ns, the 99th percentile of single calls, and
// cpu-ns/op, the process's CPU time per call, which other load on the
// machine disturbs less than wall time.
func BenchmarkListBackupJobsFiltered(b *testing.B) {
	n := 200_000
	if v := os.Getenv("CAIRN_BENCH_JOBS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("CAIRN_BENCH_JOBS=%q: want a number of jobs, at least 1000", v)
		}
	}
	s := defaultShape(n)
	c := openFilled(b, s)
	for _, bc := range benchCases(s) {
		b.Run(bc.name, func(b *testing.B) {
			if err := sameListing(b.Context(), c, bc.f); err != nil {
				b.Fatal(err)
			}
			cur, err := decodeCursor(tokenJobs, bc.f.NextToken)
			if err != nil {
				b.Fatal(err)
			}
			plan, err := queryPlan(b.Context(), c, jobQuery(bc.f), cur)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("plan:\n%s", plan)
			b.Run("index", func(b *testing.B) { benchList(b, c, bc, (*Catalog).ListBackupJobs) })
			b.Run("no-index", func(b *testing.B) { benchList(b, c, bc, listNaive) })
		})
	}
}

// benchList measures one way to list bc's page.
func benchList(b *testing.B, c *Catalog, bc benchCase,
	list func(*Catalog, context.Context, backup.BackupJobFilter) ([]*backup.BackupJob, string, error)) {
	var lat []time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		jobs, _, err := list(c, b.Context(), bc.f)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if (len(jobs) == 0) != bc.empty {
			b.Fatalf("%d jobs listed", len(jobs))
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(len(lat)), "cpu-ns/op")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// listNaive is the benchmark's baseline: the page of ListBackupJobs
// computed the naive way, by the query of naiveQuery, read and decoded by the
// same code as ListBackupJobs.
func listNaive(c *Catalog, ctx context.Context, f backup.BackupJobFilter) ([]*backup.BackupJob, string, error) {
	return list(ctx, c.read, naiveQuery(jobQuery(f)), f.Page, tokenJobs, scanJob,
		func(j *backup.BackupJob) (time.Time, string) { return j.CreationDate, j.ID })
}

// naiveQuery returns q as one plain SELECT that reads no index: the same
// conditions, keyset cursor, order and LIMIT, but each set of alternatives
// (the union of one index scan per alternative) becomes one OR of them, and
// the table is read NOT INDEXED. SQLite then scans every row of the table
// and keeps the newest matches in a sorter: what the listing would cost
// without the index design.
func naiveQuery(q *listQuery) *listQuery {
	n := &listQuery{table: q.table + " NOT INDEXED", cols: q.cols, keyNs: q.keyNs, keyID: q.keyID,
		conds: slices.Clone(q.conds)}
	for _, set := range q.alts {
		var text []string
		var args []any
		for _, alt := range set {
			text = append(text, "("+alt.cond+")")
			args = append(args, alt.args...)
		}
		n.where("("+strings.Join(text, " OR ")+")", args...)
	}
	return n
}

// sameListing checks that ListBackupJobs and listNaive list the same jobs
// for f, page by page for up to three pages.
func sameListing(ctx context.Context, c *Catalog, f backup.BackupJobFilter) error {
	for page := 1; page <= 3; page++ {
		got, next, err := c.ListBackupJobs(ctx, f)
		if err != nil {
			return err
		}
		want, wantNext, err := listNaive(c, ctx, f)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		if !slices.EqualFunc(got, want, func(a, b *backup.BackupJob) bool { return a.ID == b.ID }) || next != wantNext {
			return fmt.Errorf("page %d: ListBackupJobs listed %d jobs (next %q), the baseline %d (next %q)",
				page, len(got), next, len(want), wantNext)
		}
		if next == "" {
			return nil
		}
		f.NextToken = next
	}
	return nil
}

// TestListNaive checks the baseline of BenchmarkListBackupJobsFiltered: for
// every case it lists what ListBackupJobs lists, and its plan reads the
// whole table and no index.
func TestListNaive(t *testing.T) {
	s := defaultShape(10000)
	c := openFilled(t, s)
	for _, bc := range benchCases(s) {
		if err := sameListing(t.Context(), c, bc.f); err != nil {
			t.Errorf("%s: %v", bc.name, err)
		}
		cur, err := decodeCursor(tokenJobs, bc.f.NextToken)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := queryPlan(t.Context(), c, naiveQuery(jobQuery(bc.f)), cur)
		if err != nil {
			t.Fatalf("%s: %v", bc.name, err)
		}
		if plan != "SCAN backup_jobs\nUSE TEMP B-TREE FOR ORDER BY" {
			t.Errorf("%s: the baseline's plan is not one full scan:\n%s", bc.name, plan)
		}
	}
}

type benchCase struct {
	name  string
	f     backup.BackupJobFilter
	empty bool // the listing is empty
}

// benchCases are the filtered listings the API and the runner make.
func benchCases(s fillShape) []benchCase {
	mid := s.created(s.jobs / 2)
	// A cursor half-way through the FAILED jobs: a deep page.
	deep := encodeCursor(tokenJobs, mid, s.job(s.jobs/2).ID)
	page := backup.Page{MaxResults: 100}
	return []benchCase{
		{name: "none", f: backup.BackupJobFilter{Page: page}},
		{name: "state=FAILED", f: backup.BackupJobFilter{Page: page, States: []backup.JobState{backup.JobFailed}}},
		{name: "state=FAILED/deep", f: backup.BackupJobFilter{Page: backup.Page{MaxResults: 100, NextToken: deep}, States: []backup.JobState{backup.JobFailed}}},
		{name: "state=RUNNING", f: backup.BackupJobFilter{Page: page, States: []backup.JobState{backup.JobRunning}}},
		{name: "states=active", f: backup.BackupJobFilter{Page: page, States: []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}}},
		{name: "resource", f: backup.BackupJobFilter{Page: page, ResourceARN: s.resource(s.jobs / 3)}},
		{name: "resource+state=FAILED", f: backup.BackupJobFilter{Page: page, ResourceARN: s.resource(7), States: []backup.JobState{backup.JobFailed}}},
		{name: "vault+created-range", f: backup.BackupJobFilter{Page: page, VaultName: s.vault(s.jobs / 2),
			CreatedAfter: mid.Add(-24 * time.Hour), CreatedBefore: mid.Add(24 * time.Hour)}},
		{name: "vault+states+created-range", f: backup.BackupJobFilter{Page: page, VaultName: s.vault(s.jobs / 2),
			States:       []backup.JobState{backup.JobFailed, backup.JobPartial, backup.JobAborted},
			CreatedAfter: mid.Add(-7 * 24 * time.Hour), CreatedBefore: mid}},
		{name: "complete-after-last-hour", f: backup.BackupJobFilter{Page: page, CompleteAfter: s.created(s.jobs - 1).Add(-time.Hour)}},
		{name: "idempotency-token", f: backup.BackupJobFilter{Page: page, IdempotencyToken: "token-" + strconv.Itoa(s.jobs/2)}},
		{name: "account+type", f: backup.BackupJobFilter{Page: page, AccountID: "123456789012", ResourceType: backup.ResourceTypeDynamoDB}},
		{name: "complete-before-first-day", f: backup.BackupJobFilter{Page: page, CompleteBefore: s.created(0).Add(24 * time.Hour)}},
		{name: "account-unknown", f: backup.BackupJobFilter{Page: page, AccountID: "999999999999"}, empty: true},
		{name: "type-unknown", f: backup.BackupJobFilter{Page: page, ResourceType: "EBS"}, empty: true},
		{name: "resource-unknown", f: backup.BackupJobFilter{Page: page, ResourceARN: s.resource(0) + "-gone"}, empty: true},
	}
}
