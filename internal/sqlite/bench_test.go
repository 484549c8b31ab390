package sqlite

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// BenchmarkListBackupJobsFiltered measures one page (MaxResults 100) of
// filtered ListBackupJobs over a file-backed catalog of 200,000 jobs, or of
// CAIRN_BENCH_JOBS jobs:
//
//	go test ./internal/sqlite -run '^$' -bench ListBackupJobsFiltered
//	CAIRN_BENCH_JOBS=1000000 go test ./internal/sqlite -run '^$' -bench ListBackupJobsFiltered -timeout 30m
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
			var lat []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				jobs, _, err := c.ListBackupJobs(b.Context(), bc.f)
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
		})
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
