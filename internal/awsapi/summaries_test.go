package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	backupsdk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
)

// summaryRows is what the fake answers ListJobSummaries with.
var summaryRows = []backup.JobSummary{{Region: testRegion, AccountID: testAccount, State: "COMPLETED",
	ResourceType: "DynamoDB", MessageCategory: "SUCCESS", Count: 2,
	StartTime: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), EndTime: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}}

func (f *fakeService) ListJobSummaries(_ context.Context, in backup.JobSummaryInput) ([]backup.JobSummary, backup.AggregationPeriod, string, error) {
	if err := f.record("ListJobSummaries", in); err != nil {
		return nil, "", "", err
	}
	p := in.Period
	if p == "" {
		p = backup.PeriodOneDay
	}
	return summaryRows, p, "", nil
}

func TestJobSummariesWire(t *testing.T) {
	env := newTestEnv(t, nil, nil)
	ctx := t.Context()
	out, err := env.client.ListBackupJobSummaries(ctx, &backupsdk.ListBackupJobSummariesInput{
		AggregationPeriod: types.AggregationPeriodSevenDays, State: types.BackupJobStatusAggregateAll,
		ResourceType: strPtr("DynamoDB"), AccountId: strPtr(testAccount), MessageCategory: strPtr("SUCCESS"), MaxResults: int32Ptr(5)})
	if err != nil {
		t.Fatal(err)
	}
	if *out.AggregationPeriod != "SEVEN_DAYS" || len(out.BackupJobSummaries) != 1 {
		t.Fatalf("answer %+v", out)
	}
	s := out.BackupJobSummaries[0]
	if *s.Region != testRegion || *s.AccountId != testAccount || s.State != "COMPLETED" || *s.ResourceType != "DynamoDB" ||
		*s.MessageCategory != "SUCCESS" || s.Count != 2 || !s.StartTime.Equal(summaryRows[0].StartTime) || !s.EndTime.Equal(summaryRows[0].EndTime) {
		t.Fatalf("summary %+v", s)
	}
	calls := env.fake.Calls()
	want := backup.JobSummaryInput{Kind: backup.JobKindBackup, Period: backup.PeriodSevenDays, State: "AGGREGATE_ALL",
		ResourceType: "DynamoDB", AccountID: testAccount, MessageCategory: "SUCCESS", Page: backup.Page{MaxResults: 5}}
	if len(calls) != 1 || calls[0].In != want {
		t.Fatalf("calls %+v, want %+v", calls, want)
	}
	r, err := env.client.ListRestoreJobSummaries(ctx, &backupsdk.ListRestoreJobSummariesInput{State: types.RestoreJobStateCompleted})
	if err != nil || *r.AggregationPeriod != "ONE_DAY" || len(r.RestoreJobSummaries) != 1 {
		t.Fatalf("restore summaries %+v, %v", r, err)
	}
	c, err := env.client.ListCopyJobSummaries(ctx, &backupsdk.ListCopyJobSummariesInput{AggregationPeriod: types.AggregationPeriodFourteenDays})
	if err != nil || *c.AggregationPeriod != "FOURTEEN_DAYS" || len(c.CopyJobSummaries) != 1 {
		t.Fatalf("copy summaries %+v, %v", c, err)
	}
}

// TestJobSummariesBadInput: a bad member is an InvalidParameterValueException
// naming it, and the service is not asked.
func TestJobSummariesBadInput(t *testing.T) {
	env := newTestEnv(t, nil, nil)
	ctx := t.Context()
	cases := []struct {
		member string
		call   func() error
	}{
		{"AggregationPeriod", func() error {
			_, err := env.client.ListBackupJobSummaries(ctx, &backupsdk.ListBackupJobSummariesInput{AggregationPeriod: "ONE_WEEK"})
			return err
		}},
		{"State", func() error {
			_, err := env.client.ListBackupJobSummaries(ctx, &backupsdk.ListBackupJobSummariesInput{State: "DONE"})
			return err
		}},
		{"State", func() error { // COMPLETING is a copy job state, not a restore job's
			_, err := env.client.ListRestoreJobSummaries(ctx, &backupsdk.ListRestoreJobSummariesInput{State: "COMPLETING"})
			return err
		}},
		{"AccountId", func() error {
			_, err := env.client.ListCopyJobSummaries(ctx, &backupsdk.ListCopyJobSummariesInput{AccountId: strPtr("12345")})
			return err
		}},
		{"ResourceType", func() error {
			_, err := env.client.ListCopyJobSummaries(ctx, &backupsdk.ListCopyJobSummariesInput{ResourceType: strPtr("no spaces")})
			return err
		}},
		{"MaxResults", func() error {
			_, err := env.client.ListCopyJobSummaries(ctx, &backupsdk.ListCopyJobSummariesInput{MaxResults: int32Ptr(1001)})
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.call()
		var ipv *types.InvalidParameterValueException
		if !errors.As(err, &ipv) || !strings.Contains(err.Error(), tc.member) {
			t.Errorf("%s: got %v, want InvalidParameterValueException naming it", tc.member, err)
		}
	}
	if calls := env.fake.Calls(); len(calls) != 0 {
		t.Fatalf("the service was asked: %+v", calls)
	}
}

func strPtr(s string) *string { return &s }
func int32Ptr(n int32) *int32 { return &n }
