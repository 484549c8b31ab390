package catalogtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

var allJobStates = []backup.JobState{
	backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting,
	backup.JobAborted, backup.JobCompleted, backup.JobFailed, backup.JobExpired, backup.JobPartial,
}

func jobID(j *backup.BackupJob) string { return j.ID }

func jobKey(j *backup.BackupJob) (time.Time, string) { return j.CreationDate, j.ID }

func testBackupJobRoundTrip(t *testing.T, c backup.Catalog) {
	if _, err := c.GetBackupJob(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupJob of a missing job: got %v, want NotFound", err)
	}
	wantCode(t, c.UpdateBackupJob(ctx(t), newJob("missing", "orders", at(0))), backup.ErrNotFound, "UpdateBackupJob of a missing job")

	mk := func() *backup.BackupJob {
		j := newJob("job-1", "orders", at(0))
		j.State = backup.JobRunning
		j.CompletionDate = time.Time{}
		j.IdempotencyToken = "token-1"
		j.RequestHash = "hash-1"
		j.ScheduledTime = at(-time.Minute - 1)
		j.CompleteBy = at(2*time.Hour + 3)
		return j
	}
	j, want := mk(), mk()
	must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob")
	j.RecoveryPointTags["env"] = "changed after create"
	j.CreatedBy.BackupPlanID = "changed after create"

	got, err := c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	wantEqual(t, "GetBackupJob", got, want)
	got.RecoveryPointTags["env"] = "changed after get"
	got, err = c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob")
	wantEqual(t, "GetBackupJob after changing a returned value", got, want)

	dup := newJob("job-1", "other-table", at(time.Hour))
	wantCode(t, c.CreateBackupJob(ctx(t), dup), backup.ErrAlreadyExists, "CreateBackupJob of an existing ID")

	// Every field changes but the token and the request hash, which are
	// the job's from its creation on.
	changed := &backup.BackupJob{
		ID:                     "job-1",
		AccountID:              "210987654321",
		Region:                 "us-east-2",
		VaultName:              "vault-b",
		VaultARN:               vaultARN("vault-b"),
		RecoveryPointARN:       pointARN("rp-other"),
		ResourceARN:            tableARN("customers"),
		ResourceType:           "DynamoDBv2",
		ResourceName:           "customers",
		IAMRoleARN:             "arn:aws:iam::210987654321:role/other",
		IdempotencyToken:       "token-2",
		RequestHash:            "hash-2",
		State:                  backup.JobPartial,
		StatusMessage:          "some segments failed",
		PercentDone:            0.1 + 0.2,
		BytesTransferred:       -1,
		BackupSizeInBytes:      1<<62 + 1,
		ItemCount:              7,
		CreationDate:           at(-time.Hour - 1),
		StartBy:                at(time.Hour + 999),
		CompletionDate:         at(2*time.Hour + 1),
		ExpectedCompletionDate: at(3*time.Hour + 2),
		Lifecycle:              backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91},
		RecoveryPointTags:      map[string]string{"k": "v", "empty": ""},
		Options:                backup.BackupOptions{Segments: 1, ReadRate: 1e-9},
		CreatedBy:              &backup.CreatedBy{BackupPlanID: "plan-2", BackupRuleID: "rule-9"},
		ScheduledTime:          at(-2*time.Hour - 7),
		CompleteBy:             at(5*time.Hour + 11),
	}
	must(t, c.UpdateBackupJob(ctx(t), changed), "UpdateBackupJob")
	got, err = c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob after update")
	kept := *changed
	kept.IdempotencyToken, kept.RequestHash = "token-1", "hash-1"
	wantEqual(t, "GetBackupJob after update", got, &kept)

	// Optional fields cleared.
	cleared := &backup.BackupJob{ID: "job-1", ResourceARN: tableARN("customers"), State: backup.JobFailed, CreationDate: at(5)}
	must(t, c.UpdateBackupJob(ctx(t), cleared), "UpdateBackupJob clearing fields")
	got, err = c.GetBackupJob(ctx(t), "job-1")
	must(t, err, "GetBackupJob after clearing")
	kept = *cleared
	kept.IdempotencyToken, kept.RequestHash = "token-1", "hash-1"
	wantEqual(t, "GetBackupJob after clearing", got, &kept)
}

func testBackupJobOneActive(t *testing.T, c backup.Catalog) {
	first := newJob("first", "orders", at(0))
	first.State = backup.JobRunning
	first.CompletionDate = time.Time{}
	must(t, c.CreateBackupJob(ctx(t), first), "CreateBackupJob")

	// Beside a RUNNING job, only another RUNNING or ABORTING one conflicts:
	// CREATED and PENDING jobs wait their turn.
	for _, s := range allJobStates {
		j := newJob("second-"+string(s), "orders", at(time.Second))
		j.State = s
		err := c.CreateBackupJob(ctx(t), j)
		if s == backup.JobRunning || s == backup.JobAborting {
			wantCode(t, err, backup.ErrConflict, "CreateBackupJob of a second job in state "+string(s))
			if _, err := c.GetBackupJob(ctx(t), j.ID); !backup.IsNotFound(err) {
				t.Fatalf("refused CreateBackupJob stored the job: %v", err)
			}
		} else {
			must(t, err, "CreateBackupJob of a job in state "+string(s)+" next to a running one")
		}
	}
	for i := range 3 {
		j := newJob(fmt.Sprintf("waiting-%d", i), "orders", at(2*time.Second))
		j.State = []backup.JobState{backup.JobCreated, backup.JobPending}[i%2]
		must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob of another waiting job")
	}
	must(t, c.CreateBackupJob(ctx(t), func() *backup.BackupJob {
		j := newJob("other-table", "customers", at(time.Second))
		j.State = backup.JobRunning
		return j
	}()), "CreateBackupJob of a running job for another resource")

	// A waiting job cannot start while the first runs or aborts.
	waiting, err := c.GetBackupJob(ctx(t), "second-"+string(backup.JobCreated))
	must(t, err, "GetBackupJob")
	for _, s := range []backup.JobState{backup.JobRunning, backup.JobAborting} {
		first.State = s
		must(t, c.UpdateBackupJob(ctx(t), first), "UpdateBackupJob of the running job to "+string(s))
		for _, to := range []backup.JobState{backup.JobRunning, backup.JobAborting} {
			w := *waiting
			w.State = to
			wantCode(t, c.UpdateBackupJob(ctx(t), &w), backup.ErrConflict, "UpdateBackupJob of a waiting job to "+string(to)+" while the first is "+string(s))
		}
		got, err := c.GetBackupJob(ctx(t), waiting.ID)
		must(t, err, "GetBackupJob")
		if got.State != waiting.State {
			t.Fatalf("refused update changed the job: state %s, want %s", got.State, waiting.State)
		}
		// Waiting jobs may still change between waiting states.
		waiting.State = backup.JobPending
		must(t, c.UpdateBackupJob(ctx(t), waiting), "UpdateBackupJob of a waiting job to PENDING")
	}
	first.State = backup.JobAborted
	must(t, c.UpdateBackupJob(ctx(t), first), "UpdateBackupJob to ABORTED")

	waiting.State = backup.JobRunning
	must(t, c.UpdateBackupJob(ctx(t), waiting), "UpdateBackupJob of a waiting job once the running one ended")

	// Making a terminal job run again would make a second running one.
	first.State = backup.JobRunning
	wantCode(t, c.UpdateBackupJob(ctx(t), first), backup.ErrConflict, "UpdateBackupJob to a second running job")
	got, err := c.GetBackupJob(ctx(t), "first")
	must(t, err, "GetBackupJob")
	if got.State != backup.JobAborted {
		t.Fatalf("refused update changed the job: state %s, want ABORTED", got.State)
	}
	// A running job may update itself.
	waiting.PercentDone = 50
	must(t, c.UpdateBackupJob(ctx(t), waiting), "UpdateBackupJob of the running job")
	waiting.State = backup.JobAborting
	must(t, c.UpdateBackupJob(ctx(t), waiting), "UpdateBackupJob of the running job to ABORTING")
}

func testBackupJobConcurrentCreate(t *testing.T, c backup.Catalog) {
	const n = 32
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			j := newJob(fmt.Sprintf("race-%02d", i), "contended", at(time.Duration(i)))
			// Every other creator makes a waiting job, which never conflicts.
			j.State = []backup.JobState{backup.JobRunning, backup.JobCreated, backup.JobAborting, backup.JobPending}[i%4]
			j.CompletionDate = time.Time{}
			<-start
			errs[i] = c.CreateBackupJob(ctx(t), j)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		waiting := i%2 == 1
		switch {
		case waiting && err != nil:
			t.Errorf("creator %d of a waiting job: %v", i, err)
		case waiting:
		case err == nil:
			won++
		case backup.ErrorCode(err) != backup.ErrConflict:
			t.Errorf("creator %d: got %v, want nil or Conflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent creations of a running job succeeded, want exactly 1", won, n/2)
	}
	jobs, _, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{ResourceARN: tableARN("contended")})
	must(t, err, "ListBackupJobs")
	if len(jobs) != n/2+1 {
		t.Fatalf("ListBackupJobs after the race: %d jobs, want %d", len(jobs), n/2+1)
	}
}

// scheduledJob returns a CREATED job of rule for table's occurrence at
// scheduled.
func scheduledJob(id, rule, table string, scheduled time.Time) *backup.BackupJob {
	j := newJob(id, table, scheduled.Add(time.Second))
	j.State = backup.JobCreated
	j.CompletionDate = time.Time{}
	j.CreatedBy.BackupRuleID = rule
	j.ScheduledTime = scheduled
	j.CompleteBy = scheduled.Add(2 * time.Hour)
	return j
}

func testBackupJobScheduledOccurrence(t *testing.T, c backup.Catalog) {
	occ := at(24 * time.Hour)
	first := scheduledJob("first", "rule-1", "orders", occ)
	must(t, c.CreateBackupJob(ctx(t), first), "CreateBackupJob")
	got, err := c.GetBackupJob(ctx(t), "first")
	must(t, err, "GetBackupJob")
	wantEqual(t, "GetBackupJob of a scheduled job", got, scheduledJob("first", "rule-1", "orders", occ))

	// The same occurrence, whatever the second job's state.
	for _, s := range []backup.JobState{backup.JobCreated, backup.JobRunning, backup.JobFailed} {
		dup := scheduledJob("dup-"+string(s), "rule-1", "orders", occ)
		dup.State = s
		wantCode(t, c.CreateBackupJob(ctx(t), dup), backup.ErrAlreadyExists, "CreateBackupJob of a second job of one occurrence in state "+string(s))
		if _, err := c.GetBackupJob(ctx(t), dup.ID); !backup.IsNotFound(err) {
			t.Fatalf("refused CreateBackupJob stored the job: %v", err)
		}
	}
	// Still refused once the first job has ended.
	first.State = backup.JobFailed
	first.CompletionDate = occ.Add(time.Hour)
	must(t, c.UpdateBackupJob(ctx(t), first), "UpdateBackupJob")
	wantCode(t, c.CreateBackupJob(ctx(t), scheduledJob("retry", "rule-1", "orders", occ)), backup.ErrAlreadyExists,
		"CreateBackupJob of an ended occurrence")

	// Another occurrence, resource or rule is another job.
	must(t, c.CreateBackupJob(ctx(t), scheduledJob("next-day", "rule-1", "orders", occ.Add(24*time.Hour))), "CreateBackupJob of the next occurrence")
	must(t, c.CreateBackupJob(ctx(t), scheduledJob("a-nanosecond-later", "rule-1", "orders", occ.Add(1))), "CreateBackupJob of an occurrence 1ns later")
	must(t, c.CreateBackupJob(ctx(t), scheduledJob("customers", "rule-1", "customers", occ)), "CreateBackupJob of another resource")
	must(t, c.CreateBackupJob(ctx(t), scheduledJob("rule-2", "rule-2", "orders", occ)), "CreateBackupJob of another rule")
	// On-demand jobs have no occurrence.
	for i := range 2 {
		j := newJob(fmt.Sprintf("on-demand-%d", i), "orders", occ)
		j.CreatedBy.BackupRuleID = "rule-1"
		must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob of an on-demand job")
	}

	// Moving a job onto a taken occurrence is refused and changes nothing.
	moved := scheduledJob("next-day", "rule-1", "orders", occ)
	wantCode(t, c.UpdateBackupJob(ctx(t), moved), backup.ErrAlreadyExists, "UpdateBackupJob onto a taken occurrence")
	got, err = c.GetBackupJob(ctx(t), "next-day")
	must(t, err, "GetBackupJob")
	if !got.ScheduledTime.Equal(occ.Add(24 * time.Hour)) {
		t.Fatalf("refused update changed ScheduledTime to %s", got.ScheduledTime)
	}
	// A job keeps its own occurrence through updates.
	got.State = backup.JobRunning
	must(t, c.UpdateBackupJob(ctx(t), got), "UpdateBackupJob of a scheduled job")
}

func testBackupJobConcurrentScheduling(t *testing.T, c backup.Catalog) {
	// Several schedulers create the jobs of one occurrence for the same
	// tables at once: each table gets one job.
	const schedulers, tables = 8, 6
	occ := at(48 * time.Hour)
	errs := make([][]error, schedulers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for s := range schedulers {
		errs[s] = make([]error, tables)
		wg.Go(func() {
			<-start
			for k := range tables {
				table := fmt.Sprintf("table-%d", (k+s)%tables)
				j := scheduledJob(fmt.Sprintf("s%d-%s", s, table), "daily", table, occ)
				errs[s][(k+s)%tables] = c.CreateBackupJob(ctx(t), j)
			}
		})
	}
	close(start)
	wg.Wait()
	for k := range tables {
		won := 0
		for s := range schedulers {
			switch err := errs[s][k]; {
			case err == nil:
				won++
			case backup.ErrorCode(err) != backup.ErrAlreadyExists:
				t.Errorf("scheduler %d, table-%d: got %v, want nil or AlreadyExists", s, k, err)
			}
		}
		if won != 1 {
			t.Errorf("table-%d: %d of %d schedulers created its job, want exactly 1", k, won, schedulers)
		}
		jobs, _, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{ResourceARN: tableARN(fmt.Sprintf("table-%d", k))})
		must(t, err, "ListBackupJobs")
		if len(jobs) != 1 {
			t.Errorf("table-%d has %d jobs, want 1", k, len(jobs))
		}
	}
}

// jobSet is the data set of the backup job listing tests.
type jobSet struct {
	jobs    []*backup.BackupJob // in ID order
	created func(i int) time.Time
}

func makeJobSet(t *testing.T, c backup.Catalog) jobSet {
	const n = 72
	created := func(i int) time.Time {
		if i%6 == 5 { // ties on CreationDate are broken by ID
			i--
		}
		return at(time.Duration(i)*time.Minute + time.Duration(i)*time.Millisecond + time.Duration(i))
	}
	s := jobSet{created: created}
	for i := range n {
		state := allJobStates[i%len(allJobStates)]
		table := fmt.Sprintf("t%d", i%3)
		if state.Active() && i != 0 { // one active job per resource
			table = fmt.Sprintf("active-%d", i)
		}
		j := newJob(fmt.Sprintf("job-%03d", i), table, created(i))
		j.State = state
		vault := []string{"vault-a", "vault-b"}[(i/2)%2]
		j.VaultName, j.VaultARN = vault, vaultARN(vault)
		j.AccountID = []string{account, "210987654321"}[(i/3)%2]
		if i%5 == 4 {
			j.ResourceType = "Other"
		}
		if i%4 == 0 {
			j.IdempotencyToken = fmt.Sprintf("tok-%d", i)
		}
		if state.Active() {
			j.CompletionDate = time.Time{}
		} else {
			j.CompletionDate = created(i).Add(time.Duration(n-i) * 7 * time.Minute)
		}
		if i%11 == 3 && state.Terminal() { // the clock stepped back
			j.CompletionDate = created(i).Add(-30 * time.Minute)
		}
		s.jobs = append(s.jobs, j)
	}
	for _, i := range shuffled(n) {
		must(t, c.CreateBackupJob(ctx(t), s.jobs[i]), "CreateBackupJob "+s.jobs[i].ID)
	}
	return s
}

func matchJob(f backup.BackupJobFilter, j *backup.BackupJob) bool {
	return (f.ResourceARN == "" || j.ResourceARN == f.ResourceARN) &&
		(f.ResourceType == "" || j.ResourceType == f.ResourceType) &&
		(len(f.States) == 0 || slices.Contains(f.States, j.State)) &&
		(f.VaultName == "" || j.VaultName == f.VaultName) &&
		(f.AccountID == "" || j.AccountID == f.AccountID) &&
		(f.IdempotencyToken == "" || j.IdempotencyToken == f.IdempotencyToken) &&
		inRange(j.CreationDate, f.CreatedAfter, f.CreatedBefore) &&
		completeInRange(j.CompletionDate, f.CompleteAfter, f.CompleteBefore)
}

func testBackupJobListFilters(t *testing.T, c backup.Catalog) {
	s := makeJobSet(t, c)
	cr := s.created
	completed := func(i int) time.Time { return s.jobs[i].CompletionDate }
	active := []backup.JobState{backup.JobCreated, backup.JobPending, backup.JobRunning, backup.JobAborting}
	cases := []struct {
		name string
		f    backup.BackupJobFilter
	}{
		{"none", backup.BackupJobFilter{}},
		{"resource", backup.BackupJobFilter{ResourceARN: tableARN("t0")}},
		{"resource t1", backup.BackupJobFilter{ResourceARN: tableARN("t1")}},
		{"resource unknown", backup.BackupJobFilter{ResourceARN: tableARN("unknown")}},
		{"resource type", backup.BackupJobFilter{ResourceType: "Other"}},
		{"state", backup.BackupJobFilter{States: []backup.JobState{backup.JobCompleted}}},
		{"active states", backup.BackupJobFilter{States: active}},
		{"states repeated", backup.BackupJobFilter{States: []backup.JobState{backup.JobFailed, backup.JobExpired, backup.JobFailed}}},
		{"vault", backup.BackupJobFilter{VaultName: "vault-b"}},
		{"account", backup.BackupJobFilter{AccountID: "210987654321"}},
		{"idempotency token", backup.BackupJobFilter{IdempotencyToken: "tok-4"}},
		{"created after", backup.BackupJobFilter{CreatedAfter: cr(30)}},
		{"created after a tie", backup.BackupJobFilter{CreatedAfter: cr(35)}},
		{"created before", backup.BackupJobFilter{CreatedBefore: cr(40)}},
		{"created between", backup.BackupJobFilter{CreatedAfter: cr(10), CreatedBefore: cr(50)}},
		{"complete after", backup.BackupJobFilter{CompleteAfter: completed(20)}},
		{"complete before", backup.BackupJobFilter{CompleteBefore: completed(30)}},
		{"complete before, clock stepped back", backup.BackupJobFilter{CompleteBefore: cr(40)}},
		{"complete between", backup.BackupJobFilter{CompleteAfter: completed(60), CompleteBefore: completed(15)}},
		{"resource and state", backup.BackupJobFilter{ResourceARN: tableARN("t0"), States: []backup.JobState{backup.JobCreated, backup.JobFailed}}},
		{"vault, states and created range", backup.BackupJobFilter{VaultName: "vault-a",
			States: []backup.JobState{backup.JobCompleted, backup.JobFailed, backup.JobRunning}, CreatedAfter: cr(5), CreatedBefore: cr(66)}},
		{"everything", backup.BackupJobFilter{ResourceARN: tableARN("t2"), ResourceType: backup.ResourceTypeDynamoDB,
			States: []backup.JobState{backup.JobCompleted, backup.JobAborted, backup.JobPartial}, VaultName: "vault-a", AccountID: account,
			CreatedAfter: cr(1), CreatedBefore: cr(70), CompleteAfter: completed(71), CompleteBefore: completed(2)}},
		{"no match", backup.BackupJobFilter{ResourceARN: tableARN("t2"), States: []backup.JobState{backup.JobRunning}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*backup.BackupJob
			for _, j := range s.jobs {
				if matchJob(tc.f, j) {
					want = append(want, j)
				}
			}
			newestFirst(want, jobKey)
			if len(want) == 0 && tc.name != "no match" && tc.name != "resource unknown" {
				t.Fatalf("the case selects no job; fix the test")
			}
			checkListing(t, "ListBackupJobs", want, jobID, func(p backup.Page) ([]*backup.BackupJob, string, error) {
				f := tc.f
				f.Page = p
				return c.ListBackupJobs(ctx(t), f)
			})
		})
	}
}

func testBackupJobListPages(t *testing.T, c backup.Catalog) {
	const n = 105
	for i := range n {
		must(t, c.CreateBackupJob(ctx(t), newJob(fmt.Sprintf("job-%03d", i), "orders", at(time.Duration(i)*time.Second))), "CreateBackupJob")
	}
	jobs, next, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{})
	must(t, err, "ListBackupJobs")
	if len(jobs) != 100 || next == "" {
		t.Fatalf("ListBackupJobs with MaxResults 0: got %d jobs and next %q, want 100 and a token", len(jobs), next)
	}
	if jobs[0].ID != "job-104" || jobs[99].ID != "job-005" {
		t.Fatalf("first page runs from %s to %s, want job-104 to job-005", jobs[0].ID, jobs[99].ID)
	}
	jobs, next, err = c.ListBackupJobs(ctx(t), backup.BackupJobFilter{Page: backup.Page{NextToken: next}})
	must(t, err, "ListBackupJobs page 2")
	if len(jobs) != 5 || next != "" || jobs[4].ID != "job-000" {
		t.Fatalf("second page: got %d jobs and next %q, want job-004 to job-000 and no token", len(jobs), next)
	}
	// A token keeps its place when the filter stays the same.
	jobs, next, err = c.ListBackupJobs(ctx(t), backup.BackupJobFilter{Page: backup.Page{MaxResults: n}})
	must(t, err, "ListBackupJobs of everything")
	if len(jobs) != n || next != "" {
		t.Fatalf("MaxResults %d: got %d jobs and next %q", n, len(jobs), next)
	}
}

func testBackupJobPagingUnderInserts(t *testing.T, c backup.Catalog) {
	k := 0
	pagingUnderInserts(t, func(id string, created time.Time) error {
		k++
		return c.CreateBackupJob(ctx(t), newJob(id, fmt.Sprintf("table-%d", k), created))
	}, func(p backup.Page) ([]item, string, error) {
		jobs, next, err := c.ListBackupJobs(ctx(t), backup.BackupJobFilter{Page: p})
		out := make([]item, len(jobs))
		for i, j := range jobs {
			out[i] = item{j.ID, j.CreationDate}
		}
		return out, next, err
	})
}

// item is a listed thing: its ID and creation time.
type item struct {
	id      string
	created time.Time
}

// pagingUnderInserts pages through a newest-first listing while creating
// items before, after and among those not yet read, and checks that every
// item that existed at the start is listed exactly once, in order.
func pagingUnderInserts(t *testing.T, create func(id string, created time.Time) error, list func(p backup.Page) ([]item, string, error)) {
	const n = 40
	orig := map[string]bool{}
	for _, i := range shuffled(n) {
		d := time.Duration(i) * time.Second
		if i%5 == 4 {
			d -= time.Second // a tie with the previous one
		}
		id := fmt.Sprintf("orig-%03d", i)
		orig[id] = true
		must(t, create(id, at(d)), "create "+id)
	}
	seen := map[string]int{}
	var all []item
	p := backup.Page{MaxResults: 6}
	for round := 0; ; round++ {
		page, next, err := list(p)
		must(t, err, fmt.Sprintf("list page %d", round))
		all = append(all, page...)
		for _, it := range page {
			seen[it.id]++
		}
		if next == "" {
			break
		}
		if round > 100 {
			t.Fatal("too many pages")
		}
		last := page[len(page)-1]
		for _, x := range []struct {
			suffix string
			at     time.Time
		}{
			{"newer", at(time.Hour + time.Duration(round))},
			{"older", at(-time.Hour - time.Duration(round))},
			// Same time as the last item read: before or after it by ID.
			{"tie-a", last.created},
			{"tie-z", last.created},
		} {
			id := fmt.Sprintf("new-%02d-%s", round, x.suffix)
			if x.suffix == "tie-z" {
				id = "z" + id
			}
			must(t, create(id, x.at), "create "+id)
		}
		p.NextToken = next
	}
	for id := range orig {
		if seen[id] != 1 {
			t.Errorf("%s listed %d times, want once", id, seen[id])
		}
	}
	for id, k := range seen {
		if k > 1 {
			t.Errorf("%s listed %d times", id, k)
		}
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if b.created.After(a.created) || (b.created.Equal(a.created) && b.id >= a.id) {
			t.Fatalf("listing out of order at %d: %s (%s) before %s (%s)", i, a.id, a.created, b.id, b.created)
		}
	}
}
