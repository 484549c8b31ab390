package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Report plans and report jobs:
//
//   - Plans are found by name; a second plan of a name is ErrAlreadyExists,
//     the (MaxReportPlans+1)th ErrLimitExceeded; a taken idempotency token
//     is *TokenInUseError naming the plan that holds it, before any other
//     check. Update changes description, setting and delivery only;
//     execution times only move forward.
//   - A plan is not deleted while one of its jobs is CREATED or RUNNING
//     (ErrConflict); deleting it frees its idempotency token. A job of a plan that is gone is ErrNotFound and takes
//     no token. One daily job per plan and ScheduledDay (ErrAlreadyExists),
//     also when created concurrently.
//   - Job listings are newest first; they filter by plan ARN, status,
//     active, creation bounds (exclusive) and token.

func newReportPlan(name string, created time.Time) *backup.ReportPlan {
	return &backup.ReportPlan{
		ARN:          backup.ReportPlanARN(region, account, name, "0A1B2C3D"),
		Name:         name,
		Description:  "daily jobs",
		Setting:      backup.ReportSetting{ReportTemplate: backup.ReportBackupJobs},
		Delivery:     backup.ReportDeliveryChannel{S3BucketName: "reports", S3KeyPrefix: "cairn/x", Formats: []string{"CSV", "JSON"}},
		Tags:         map[string]string{"team": "platform"},
		Destination:  backup.VaultStorage{Kind: backup.StorageFile, Path: "/var/lib/cairn/reports/reports"},
		CreationTime: created,
	}
}

func newReportJob(id string, p *backup.ReportPlan, created time.Time) *backup.ReportJob {
	return &backup.ReportJob{
		ID: id, ReportPlanARN: p.ARN, ReportPlanName: p.Name, ReportTemplate: p.Setting.ReportTemplate,
		Status: backup.ReportJobCreated, CreationTime: created, S3BucketName: p.Delivery.S3BucketName,
		PeriodStart: created.Add(-24 * time.Hour), PeriodEnd: created,
	}
}

func testReportPlans(t *testing.T, c backup.Catalog) {
	if _, err := c.GetReportPlan(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetReportPlan of a missing plan: got %v, want NotFound", err)
	}
	p, want := newReportPlan("daily", at(0)), newReportPlan("daily", at(0))
	p.IdempotencyToken, want.IdempotencyToken = "tok-1", "tok-1"
	p.RequestHash, want.RequestHash = "h1", "h1"
	must(t, c.CreateReportPlan(ctx(t), p), "CreateReportPlan")
	p.Tags["team"] = "changed after create"
	got, err := c.GetReportPlan(ctx(t), "daily")
	must(t, err, "GetReportPlan")
	wantEqual(t, "GetReportPlan", got, want)

	wantCode(t, c.CreateReportPlan(ctx(t), newReportPlan("daily", at(time.Hour))), backup.ErrAlreadyExists, "CreateReportPlan of an existing name")
	again := newReportPlan("other", at(time.Hour))
	again.IdempotencyToken = "tok-1"
	var tu *backup.TokenInUseError
	if err := c.CreateReportPlan(ctx(t), again); !errors.As(err, &tu) || tu.JobID != "daily" {
		t.Fatalf("CreateReportPlan with a taken token: got %v, want TokenInUseError naming daily", err)
	}
	if _, err := c.GetReportPlan(ctx(t), "other"); !backup.IsNotFound(err) {
		t.Fatalf("a refused creation stored its plan: %v", err)
	}

	// Update changes what UpdateReportPlan may change, nothing else.
	u := newReportPlan("daily", at(5*time.Hour))
	u.Description = "now JSON only"
	u.Setting = backup.ReportSetting{ReportTemplate: backup.ReportRestoreJobs}
	u.Delivery = backup.ReportDeliveryChannel{S3BucketName: "other-bucket", Formats: []string{"JSON"}}
	u.Tags = nil
	must(t, c.UpdateReportPlan(ctx(t), u), "UpdateReportPlan")
	want.Description, want.Setting, want.Delivery = u.Description, u.Setting, u.Delivery
	got, err = c.GetReportPlan(ctx(t), "daily")
	must(t, err, "GetReportPlan after update")
	wantEqual(t, "GetReportPlan after update", got, want)
	wantCode(t, c.UpdateReportPlan(ctx(t), newReportPlan("missing", at(0))), backup.ErrNotFound, "UpdateReportPlan of a missing plan")

	must(t, c.SetReportPlanExecution(ctx(t), want.ARN, at(2*time.Hour), time.Time{}), "SetReportPlanExecution")
	must(t, c.SetReportPlanExecution(ctx(t), want.ARN, at(time.Hour), at(time.Hour)), "SetReportPlanExecution back in time")
	got, err = c.GetReportPlan(ctx(t), "daily")
	must(t, err, "GetReportPlan")
	if !got.LastAttemptedExecutionTime.Equal(at(2*time.Hour)) || !got.LastSuccessfulExecutionTime.Equal(at(time.Hour)) {
		t.Fatalf("execution times: got attempted %v, succeeded %v; want %v and %v",
			got.LastAttemptedExecutionTime, got.LastSuccessfulExecutionTime, at(2*time.Hour), at(time.Hour))
	}

	// Listing, newest first, in pages.
	for i := 1; i < backup.MaxReportPlans; i++ {
		must(t, c.CreateReportPlan(ctx(t), newReportPlan(fmt.Sprintf("plan_%02d", i), at(time.Duration(i)*time.Minute))), "CreateReportPlan")
	}
	wantCode(t, c.CreateReportPlan(ctx(t), newReportPlan("one_too_many", at(time.Hour))), backup.ErrLimitExceeded, "CreateReportPlan past the quota")
	var names []string
	page := backup.Page{MaxResults: 7}
	for {
		plans, next, err := c.ListReportPlans(ctx(t), page)
		must(t, err, "ListReportPlans")
		for _, p := range plans {
			names = append(names, p.Name)
		}
		if next == "" {
			break
		}
		page.NextToken = next
	}
	if len(names) != backup.MaxReportPlans || names[0] != "plan_19" || names[len(names)-1] != "daily" {
		t.Fatalf("ListReportPlans: got %v, want plan_19 ... plan_01, daily", names)
	}

	must(t, c.DeleteReportPlan(ctx(t), "plan_01"), "DeleteReportPlan")
	wantCode(t, c.DeleteReportPlan(ctx(t), "plan_01"), backup.ErrNotFound, "DeleteReportPlan again")
	must(t, c.CreateReportPlan(ctx(t), newReportPlan("plan_01", at(time.Hour))), "CreateReportPlan under the quota again")

	// Deleting a plan frees its token.
	must(t, c.DeleteReportPlan(ctx(t), "daily"), "DeleteReportPlan daily")
	again = newReportPlan("daily_again", at(2*time.Hour))
	again.IdempotencyToken = "tok-1"
	must(t, c.CreateReportPlan(ctx(t), again), "CreateReportPlan with the token of a deleted plan")
}

func testReportJobs(t *testing.T, c backup.Catalog) {
	p := newReportPlan("daily", at(0))
	must(t, c.CreateReportPlan(ctx(t), p), "CreateReportPlan")
	if _, err := c.GetReportJob(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetReportJob of a missing job: got %v, want NotFound", err)
	}
	j, want := newReportJob("job-1", p, at(time.Hour)), newReportJob("job-1", p, at(time.Hour))
	j.IdempotencyToken, want.IdempotencyToken = "tok", "tok"
	must(t, c.CreateReportJob(ctx(t), j), "CreateReportJob")
	got, err := c.GetReportJob(ctx(t), "job-1")
	must(t, err, "GetReportJob")
	wantEqual(t, "GetReportJob", got, want)
	wantCode(t, c.CreateReportJob(ctx(t), newReportJob("job-1", p, at(time.Hour))), backup.ErrAlreadyExists, "CreateReportJob of an existing ID")
	dup := newReportJob("job-x", p, at(time.Hour))
	dup.IdempotencyToken = "tok"
	var tu *backup.TokenInUseError
	if err := c.CreateReportJob(ctx(t), dup); !errors.As(err, &tu) || tu.JobID != "job-1" {
		t.Fatalf("CreateReportJob with a taken token: got %v, want TokenInUseError naming job-1", err)
	}

	// An active job keeps its plan.
	wantCode(t, c.DeleteReportPlan(ctx(t), "daily"), backup.ErrConflict, "DeleteReportPlan with a CREATED job")
	j.Status = backup.ReportJobRunning
	must(t, c.UpdateReportJob(ctx(t), j), "UpdateReportJob")
	wantCode(t, c.DeleteReportPlan(ctx(t), "daily"), backup.ErrConflict, "DeleteReportPlan with a RUNNING job")
	j.Status, j.CompletionTime, j.S3Keys, j.StatusMessage = backup.ReportJobCompleted, at(2*time.Hour), []string{"a/b.csv", "a/b.json"}, "done"
	j.IdempotencyToken = "ignored"
	must(t, c.UpdateReportJob(ctx(t), j), "UpdateReportJob")
	want.Status, want.CompletionTime, want.S3Keys, want.StatusMessage = j.Status, j.CompletionTime, j.S3Keys, j.StatusMessage
	got, err = c.GetReportJob(ctx(t), "job-1")
	must(t, err, "GetReportJob")
	wantEqual(t, "GetReportJob after update", got, want)
	wantCode(t, c.UpdateReportJob(ctx(t), newReportJob("missing", p, at(0))), backup.ErrNotFound, "UpdateReportJob of a missing job")

	// One daily job per plan and day, also when raced.
	day := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newReportJob(fmt.Sprintf("daily-%d", i), p, at(3*time.Hour))
			d.ScheduledDay = day
			errs[i] = c.CreateReportJob(ctx(t), d)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case backup.ErrorCode(err) != backup.ErrAlreadyExists:
			t.Fatalf("concurrent daily job: got %v, want ErrAlreadyExists", err)
		}
	}
	if won != 1 {
		t.Fatalf("concurrent daily jobs of one day: %d created, want 1", won)
	}

	// Listings.
	other := newReportPlan("other", at(0))
	other.ARN = backup.ReportPlanARN(region, account, "other", "FFFF")
	must(t, c.CreateReportPlan(ctx(t), other), "CreateReportPlan other")
	o := newReportJob("job-o", other, at(4*time.Hour))
	o.Status = backup.ReportJobFailed
	must(t, c.CreateReportJob(ctx(t), o), "CreateReportJob other")
	ids := func(f backup.ReportJobFilter) []string {
		t.Helper()
		jobs, _, err := c.ListReportJobs(ctx(t), f)
		must(t, err, "ListReportJobs")
		out := []string{}
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    backup.ReportJobFilter
		want string
	}{
		{backup.ReportJobFilter{}, "[job-o daily-? job-1]"},
		{backup.ReportJobFilter{ReportPlanARN: other.ARN}, "[job-o]"},
		{backup.ReportJobFilter{Status: backup.ReportJobFailed}, "[job-o]"},
		{backup.ReportJobFilter{Status: backup.ReportJobCompleted}, "[job-1]"},
		{backup.ReportJobFilter{Active: true}, "[daily-?]"},
		{backup.ReportJobFilter{CreatedAfter: at(time.Hour), CreatedBefore: at(4 * time.Hour)}, "[daily-?]"},
		{backup.ReportJobFilter{IdempotencyToken: "tok"}, "[job-1]"},
	} {
		got := fmt.Sprint(ids(tc.f))
		if len(got) != len(tc.want) || !matchDigitWildcard(got, tc.want) {
			t.Fatalf("ListReportJobs(%+v): got %s, want %s", tc.f, got, tc.want)
		}
	}

	// A job of a plan that is gone is refused and takes no token.
	must(t, c.DeleteReportPlan(ctx(t), "other"), "DeleteReportPlan other")
	gone := newReportJob("job-gone", other, at(5*time.Hour))
	gone.IdempotencyToken = "tok-gone"
	wantCode(t, c.CreateReportJob(ctx(t), gone), backup.ErrNotFound, "CreateReportJob of a deleted plan")
	free := newReportJob("job-free", p, at(5*time.Hour))
	free.IdempotencyToken = "tok-gone"
	must(t, c.CreateReportJob(ctx(t), free), "CreateReportJob with the token of a refused creation")
}

// matchDigitWildcard reports whether got equals want where each '?' of
// want stands for one digit.
func matchDigitWildcard(got, want string) bool {
	for i := range want {
		if want[i] == '?' {
			if got[i] < '0' || got[i] > '9' {
				return false
			}
			continue
		}
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
