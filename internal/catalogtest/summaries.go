package catalogtest

import (
	"sort"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// testJobCounts: CountJobs counts per UTC day of creation and per state and
// message category, within the creation range and filters; Summarize folds
// the counts into the period's buckets.
func testJobCounts(t *testing.T, c backup.Catalog) {
	day := 24 * time.Hour
	today := base.Truncate(day)
	b := func(id, table string, at time.Time, st backup.JobState) {
		j := newJob(id, table, at)
		j.State = st
		must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob "+id)
	}
	b("b1", "t1", base, backup.JobCompleted)
	b("b2", "t2", base.Add(time.Hour), backup.JobCompleted)
	b("b3", "t3", base.Add(2*time.Hour), backup.JobFailed)
	b("b4", "t4", base.Add(-day), backup.JobCompleted)
	b("b5", "t5", base.Add(-30*day), backup.JobCompleted) // outside every window
	r2 := newRestore("r2", base)
	r2.Status = backup.RestoreFailed
	must(t, c.CreateRestoreJob(ctx(t), newRestore("r1", base)), "CreateRestoreJob r1")
	must(t, c.CreateRestoreJob(ctx(t), r2), "CreateRestoreJob r2")
	must(t, c.CreateCopyJob(ctx(t), newCopy("c1", "t1", base.Add(-day))), "CreateCopyJob c1")

	oneDay := backup.JobSummaryInput{Kind: backup.JobKindBackup, Period: backup.PeriodOneDay}
	counts, err := c.CountJobs(ctx(t), oneDay.CountFilter(base))
	must(t, err, "CountJobs")
	sort.Slice(counts, func(i, j int) bool {
		if !counts[i].Day.Equal(counts[j].Day) {
			return counts[i].Day.Before(counts[j].Day)
		}
		return counts[i].State < counts[j].State
	})
	row := func(d time.Time, st, cat string, n int) backup.JobCount {
		return backup.JobCount{Day: d, Region: region, AccountID: account, State: st, ResourceType: backup.ResourceTypeDynamoDB,
			MessageCategory: cat, Count: n}
	}
	wantEqual(t, "backup counts", counts, []backup.JobCount{
		row(today.Add(-day), "COMPLETED", "SUCCESS", 1),
		row(today, "COMPLETED", "SUCCESS", 2),
		row(today, "FAILED", "UNKNOWN", 1),
	})

	failed := oneDay
	failed.State = "FAILED"
	counts, err = c.CountJobs(ctx(t), failed.CountFilter(base))
	must(t, err, "CountJobs FAILED")
	wantEqual(t, "FAILED counts", counts, []backup.JobCount{row(today, "FAILED", "UNKNOWN", 1)})
	unknown := oneDay
	unknown.MessageCategory = "UNKNOWN"
	counts, err = c.CountJobs(ctx(t), unknown.CountFilter(base))
	must(t, err, "CountJobs UNKNOWN")
	wantEqual(t, "UNKNOWN counts", counts, []backup.JobCount{row(today, "FAILED", "UNKNOWN", 1)})
	other := oneDay
	other.AccountID = "210987654321"
	counts, err = c.CountJobs(ctx(t), other.CountFilter(base))
	must(t, err, "CountJobs other account")
	wantEqual(t, "other account's counts", len(counts), 0)

	week := backup.JobSummaryInput{Kind: backup.JobKindBackup, Period: backup.PeriodSevenDays, State: backup.SummaryAggregateAll}
	counts, err = c.CountJobs(ctx(t), week.CountFilter(base))
	must(t, err, "CountJobs week")
	sum := func(at time.Time, st, cat string, n int) backup.JobSummary {
		return backup.JobSummary{Region: region, AccountID: account, State: st, ResourceType: backup.ResourceTypeDynamoDB,
			MessageCategory: cat, Count: n, StartTime: today.Add(-6 * day), EndTime: today.Add(day)}
	}
	wantEqual(t, "SEVEN_DAYS, all states summed", backup.Summarize(counts, week, base), []backup.JobSummary{
		sum(today, "AGGREGATE_ALL", "SUCCESS", 3),
		sum(today, "AGGREGATE_ALL", "UNKNOWN", 1),
	})

	restores := backup.JobSummaryInput{Kind: backup.JobKindRestore, Period: backup.PeriodFourteenDays}
	counts, err = c.CountJobs(ctx(t), restores.CountFilter(base))
	must(t, err, "CountJobs restores")
	rs := backup.Summarize(counts, restores, base)
	if len(rs) != 2 || rs[0].State != "COMPLETED" || rs[0].Count != 1 || rs[1].State != "FAILED" || rs[1].Count != 1 ||
		rs[0].MessageCategory != "" || !rs[0].StartTime.Equal(today.Add(-13*day)) {
		t.Fatalf("restore summary %+v", rs)
	}
	copies := backup.JobSummaryInput{Kind: backup.JobKindCopy}
	counts, err = c.CountJobs(ctx(t), copies.CountFilter(base))
	must(t, err, "CountJobs copies")
	cs := backup.Summarize(counts, copies, base)
	if len(cs) != 1 || cs[0].Count != 1 || !cs[0].StartTime.Equal(today.Add(-day)) || !cs[0].EndTime.Equal(today) {
		t.Fatalf("copy summary %+v", cs)
	}
}
