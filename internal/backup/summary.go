package backup

import (
	"context"
	"sort"
	"strconv"
	"time"
)

// JobKind names the three kinds of jobs that ListBackupJobSummaries,
// ListRestoreJobSummaries and ListCopyJobSummaries count.
type JobKind string

// The job kinds.
const (
	JobKindBackup  JobKind = "BACKUP"
	JobKindRestore JobKind = "RESTORE"
	JobKindCopy    JobKind = "COPY"
)

// AggregationPeriod is the model's AggregationPeriod: the window and the
// bucket width of a job summary.
type AggregationPeriod string

// The aggregation periods.
const (
	// PeriodOneDay counts per UTC day over the 14 days up to and including today.
	PeriodOneDay AggregationPeriod = "ONE_DAY"
	// PeriodSevenDays is one count over the 7 UTC days up to and including today.
	PeriodSevenDays AggregationPeriod = "SEVEN_DAYS"
	// PeriodFourteenDays is one count over the 14 UTC days up to and including today.
	PeriodFourteenDays AggregationPeriod = "FOURTEEN_DAYS"
)

// ValidAggregationPeriod reports whether p is one of the model's values.
func ValidAggregationPeriod(p string) bool {
	switch AggregationPeriod(p) {
	case PeriodOneDay, PeriodSevenDays, PeriodFourteenDays:
		return true
	}
	return false
}

// The two special values of the summary filters (AccountId, State,
// ResourceType, MessageCategory). Absent is read as SummaryAny.
const (
	// SummaryAny counts each value of the member separately.
	SummaryAny = "ANY"
	// SummaryAggregateAll counts all values of the member together; the
	// summary's member then reads AGGREGATE_ALL.
	SummaryAggregateAll = "AGGREGATE_ALL"
)

// Message categories cairn gives its jobs (AWS's list is longer; cairn
// knows only whether a job completed).
const (
	MessageCategorySuccess = "SUCCESS"
	MessageCategoryUnknown = "UNKNOWN"
)

// JobCountFilter selects the jobs JobSummaryStore.CountJobs counts; zero
// fields do not filter.
type JobCountFilter struct {
	Kind JobKind
	// CreatedFrom and CreatedBefore bound the jobs' CreationDate
	// [CreatedFrom, CreatedBefore).
	CreatedFrom, CreatedBefore                      time.Time
	AccountID, State, ResourceType, MessageCategory string
}

// JobCount is the number of jobs created on one UTC day that share region,
// account, state, resource type and message category.
type JobCount struct {
	Day                                                     time.Time
	Region, AccountID, State, ResourceType, MessageCategory string
	Count                                                   int
}

// JobSummaryStore counts jobs for the job summaries.
type JobSummaryStore interface {
	// CountJobs returns the jobs of f.Kind that match f, counted per UTC day
	// of their CreationDate and per region, account, state, resource type
	// and message category (SUCCESS for a COMPLETED job, UNKNOWN for any
	// other; "" for restore jobs, which have none), in no particular order.
	CountJobs(ctx context.Context, f JobCountFilter) ([]JobCount, error)
}

// JobSummaryInput asks for a job summary; the string filters take a value,
// SummaryAny ("" too) or SummaryAggregateAll.
type JobSummaryInput struct {
	Page
	Kind                                            JobKind
	Period                                          AggregationPeriod
	AccountID, State, ResourceType, MessageCategory string
}

// JobSummary is one row of a job summary: Count jobs created in
// [StartTime, EndTime).
type JobSummary struct {
	Region, AccountID, State, ResourceType, MessageCategory string
	Count                                                   int
	StartTime, EndTime                                      time.Time
}

// JobSummaryService answers the three List*JobSummaries operations.
type JobSummaryService interface {
	// ListJobSummaries returns a page of the summary of in.Kind's jobs,
	// oldest bucket first, and the period it used.
	ListJobSummaries(ctx context.Context, in JobSummaryInput) ([]JobSummary, AggregationPeriod, string, error)
}

// SummaryWindow returns the window of period p at now and the width of its
// buckets: the window ends at the next UTC midnight (today is included).
func SummaryWindow(p AggregationPeriod, now time.Time) (from, to time.Time, width time.Duration) {
	day := 24 * time.Hour
	to = now.UTC().Truncate(day).Add(day)
	switch p {
	case PeriodSevenDays:
		return to.Add(-7 * day), to, 7 * day
	case PeriodFourteenDays:
		return to.Add(-14 * day), to, 14 * day
	default:
		return to.Add(-14 * day), to, day
	}
}

// CountFilter returns the catalog filter of in at now: a member that names
// one value filters by it.
func (in JobSummaryInput) CountFilter(now time.Time) JobCountFilter {
	from, to, _ := SummaryWindow(in.Period, now)
	one := func(v string) string {
		if v == SummaryAny || v == SummaryAggregateAll {
			return ""
		}
		return v
	}
	return JobCountFilter{Kind: in.Kind, CreatedFrom: from, CreatedBefore: to,
		AccountID: one(in.AccountID), State: one(in.State), ResourceType: one(in.ResourceType),
		MessageCategory: one(in.MessageCategory)}
}

// Summarize folds the daily counts into the buckets of in.Period at now.
// A member given as SummaryAggregateAll is summed over and reads
// AGGREGATE_ALL; any other member is grouped by. Rows come oldest bucket
// first, then by region, account, state, resource type and category; empty
// buckets are left out.
func Summarize(counts []JobCount, in JobSummaryInput, now time.Time) []JobSummary {
	from, to, width := SummaryWindow(in.Period, now)
	agg := func(member, v string) string {
		if member == SummaryAggregateAll {
			return SummaryAggregateAll
		}
		return v
	}
	sums := map[JobSummary]int{}
	for _, c := range counts {
		if c.Day.Before(from) || !c.Day.Before(to) {
			continue
		}
		start := from.Add(c.Day.Sub(from) / width * width)
		k := JobSummary{Region: c.Region, AccountID: agg(in.AccountID, c.AccountID), State: agg(in.State, c.State),
			ResourceType: agg(in.ResourceType, c.ResourceType), StartTime: start, EndTime: start.Add(width)}
		if in.Kind != JobKindRestore {
			k.MessageCategory = agg(in.MessageCategory, c.MessageCategory)
		}
		sums[k] += c.Count
	}
	out := make([]JobSummary, 0, len(sums))
	for k, n := range sums {
		k.Count = n
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.StartTime.Equal(b.StartTime) {
			return a.StartTime.Before(b.StartTime)
		}
		for _, p := range [][2]string{{a.Region, b.Region}, {a.AccountID, b.AccountID}, {a.State, b.State},
			{a.ResourceType, b.ResourceType}, {a.MessageCategory, b.MessageCategory}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return out
}

// PageSummaries returns the page p of rows; the token is the offset of the
// next row. A token that is not one fails with ErrInvalidParameter.
func PageSummaries(rows []JobSummary, p Page) ([]JobSummary, string, error) {
	off := 0
	if p.NextToken != "" {
		n, err := strconv.Atoi(p.NextToken)
		if err != nil || n < 0 || n > len(rows) {
			return nil, "", Errorf(ErrInvalidParameter, "NextToken %q is not a token this listing gave; start again without it", p.NextToken)
		}
		off = n
	}
	size := p.MaxResults
	if size <= 0 {
		size = 1000
	}
	end := min(off+size, len(rows))
	next := ""
	if end < len(rows) {
		next = strconv.Itoa(end)
	}
	return rows[off:end], next, nil
}
