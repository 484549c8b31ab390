package backup

import (
	"testing"
	"time"
)

// TestSummarizeAndPage: ONE_DAY keeps days apart and drops days outside the
// 14; ResourceType AGGREGATE_ALL sums over types; pages follow offsets and a
// foreign token is an invalid parameter.
func TestSummarizeAndPage(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	today := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	c := func(d time.Time, rt string, n int) JobCount {
		return JobCount{Day: d, Region: "r", AccountID: "a", State: "COMPLETED", ResourceType: rt, MessageCategory: "SUCCESS", Count: n}
	}
	counts := []JobCount{c(today, "DynamoDB", 2), c(today, "S3", 1), c(today.Add(-13*day), "DynamoDB", 4), c(today.Add(-14*day), "DynamoDB", 8)}
	rows := Summarize(counts, JobSummaryInput{Kind: JobKindBackup, Period: PeriodOneDay, ResourceType: SummaryAggregateAll}, now)
	if len(rows) != 2 || rows[0].Count != 4 || !rows[0].StartTime.Equal(today.Add(-13*day)) ||
		rows[1].Count != 3 || rows[1].ResourceType != SummaryAggregateAll || !rows[1].EndTime.Equal(today.Add(day)) {
		t.Fatalf("ONE_DAY rows %+v", rows)
	}
	rows = Summarize(counts, JobSummaryInput{Kind: JobKindBackup, Period: PeriodOneDay}, now)
	if len(rows) != 3 || rows[1].ResourceType != "DynamoDB" || rows[2].ResourceType != "S3" {
		t.Fatalf("ANY rows %+v", rows)
	}
	p1, next, err := PageSummaries(rows, Page{MaxResults: 2})
	if err != nil || len(p1) != 2 || next != "2" {
		t.Fatalf("page 1: %d rows, next %q, %v", len(p1), next, err)
	}
	p2, next, err := PageSummaries(rows, Page{MaxResults: 2, NextToken: next})
	if err != nil || len(p2) != 1 || next != "" || p2[0] != rows[2] {
		t.Fatalf("page 2: %+v, next %q, %v", p2, next, err)
	}
	for _, tok := range []string{"x", "-1", "4"} {
		if _, _, err := PageSummaries(rows, Page{NextToken: tok}); ErrorCode(err) != ErrInvalidParameter {
			t.Errorf("token %q: %v, want ErrInvalidParameter", tok, err)
		}
	}
}
