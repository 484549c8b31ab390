package postgres

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// BenchmarkListBackupJobsFiltered is internal/sqlite's benchmark of the
// same name on PostgreSQL: one page (MaxResults 100) of filtered
// ListBackupJobs over a catalog of 200,000 jobs, or of CAIRN_BENCH_JOBS
// jobs, of the same shape and with the same cases:
//
//	CAIRN_BENCH_JOBS=1000000 go test ./internal/postgres -run '^$' -bench ListBackupJobsFiltered -benchtime 3s -timeout 60m -v
//
// It reports p99-ns, the 99th percentile of single calls, and logs each
// case's plan (EXPLAIN). The server is the test bed's (PostgreSQL 15,
// fsync off, default memory settings), on the same machine.
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
			cur, err := decodeCursor(tokenJobs, bc.f.NextToken)
			if err != nil {
				b.Fatal(err)
			}
			q, args := jobQuery(bc.f).build(cur, 101)
			rows, err := c.pool.Query(b.Context(), "EXPLAIN "+q, args...)
			if err != nil {
				b.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("plan:\n%s", strings.Join(plan, "\n"))
			var lat []time.Duration
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
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// fillShape is internal/sqlite's synthetic catalog of backup jobs (see its
// fill_test.go): spread over resources and vaults, mostly COMPLETED, 5%
// FAILED, one job in 100 PARTIAL or ABORTED, and the last job of every
// twentieth resource still active.
type fillShape struct {
	jobs, resources, vaults int
	start                   time.Time
	every                   time.Duration
}

func defaultShape(jobs int) fillShape {
	return fillShape{jobs: jobs, resources: max(1, jobs/100), vaults: 10,
		start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), every: 30 * time.Second}
}

func (s fillShape) resource(i int) string {
	return backup.TableARN("eu-west-1", "123456789012", fmt.Sprintf("table-%05d", i%s.resources))
}

func (s fillShape) vault(i int) string { return fmt.Sprintf("vault-%02d", (i/7)%s.vaults) }

func (s fillShape) created(i int) time.Time { return s.start.Add(time.Duration(i) * s.every) }

func (s fillShape) job(i int) *backup.BackupJob {
	state := backup.JobCompleted
	switch {
	case i%20 == 7:
		state = backup.JobFailed
	case i%100 == 13:
		state = backup.JobPartial
	case i%100 == 42:
		state = backup.JobAborted
	}
	if r := i % s.resources; i+s.resources >= s.jobs && r%20 == 0 {
		state = []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}[(r/20)%4]
	}
	created := s.created(i)
	j := &backup.BackupJob{
		ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), AccountID: "123456789012", Region: "eu-west-1",
		VaultName: s.vault(i), VaultARN: backup.VaultARN("eu-west-1", "123456789012", s.vault(i)),
		RecoveryPointARN: backup.RecoveryPointARN("eu-west-1", "123456789012", fmt.Sprintf("rp-%08x", i)),
		ResourceARN:      s.resource(i), ResourceType: backup.ResourceTypeDynamoDB, ResourceName: fmt.Sprintf("table-%05d", i%s.resources),
		IAMRoleARN: "arn:aws:iam::123456789012:role/backup", IdempotencyToken: fmt.Sprintf("token-%d", i),
		State: state, PercentDone: 100, BytesTransferred: int64(i) * 1000, BackupSizeInBytes: int64(i) * 1000,
		ItemCount: int64(i), CreationDate: created, StartBy: created.Add(8 * time.Hour),
		Lifecycle: backup.Lifecycle{DeleteAfterDays: 35}, RecoveryPointTags: map[string]string{"env": "prod"},
		CreatedBy: &backup.CreatedBy{BackupPlanID: "plan-1", BackupRuleID: "daily"},
	}
	if state.Terminal() {
		j.CompletionDate = created.Add(time.Duration(60+i%600) * time.Second)
	}
	return j
}

// openFilled returns a catalog in a new database of a test bed cluster
// holding the shape's jobs (COPY, then ANALYZE as autovacuum would).
func openFilled(tb testing.TB, s fillShape) *Catalog {
	tb.Helper()
	c, err := Open(tb.Context(), testbed.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	start := time.Now()
	i := 0
	_, err = c.pool.CopyFrom(tb.Context(), pgx.Identifier{"backup_jobs"}, columns(jobCols), pgx.CopyFromFunc(func() ([]any, error) {
		if i == s.jobs {
			return nil, nil
		}
		i++
		return jobArgs(s.job(i - 1))
	}))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.pool.Exec(context.Background(), "ANALYZE backup_jobs"); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("filled %d jobs in %v", s.jobs, time.Since(start).Round(time.Millisecond))
	return c
}

type benchCase struct {
	name  string
	f     backup.BackupJobFilter
	empty bool
}

// benchCases are internal/sqlite's cases.
func benchCases(s fillShape) []benchCase {
	mid := s.created(s.jobs / 2)
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
