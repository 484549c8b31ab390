package catalogtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

var allCopyStates = []backup.CopyJobState{
	backup.CopyCreated, backup.CopyRunning, backup.CopyCompleted, backup.CopyFailed, backup.CopyPartial,
}

func copyID(j *backup.CopyJob) string { return j.ID }

func copyKey(j *backup.CopyJob) (time.Time, string) { return j.CreationDate, j.ID }

func testCopyJobRoundTrip(t *testing.T, c backup.Catalog) {
	if _, err := c.GetCopyJob(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetCopyJob of a missing job: got %v, want NotFound", err)
	}
	wantCode(t, c.UpdateCopyJob(ctx(t), newCopy("missing", "orders", at(0))), backup.ErrNotFound, "UpdateCopyJob of a missing job")

	mk := func() *backup.CopyJob {
		j := newCopy("copy-1", "orders", at(0))
		j.State = backup.CopyRunning
		j.CompletionDate = time.Time{}
		j.RequestHash = "hash-1"
		return j
	}
	j, want := mk(), mk()
	must(t, c.CreateCopyJob(ctx(t), j), "CreateCopyJob")
	j.CreatedBy.BackupRuleName = "changed after create"
	got, err := c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob")
	wantEqual(t, "GetCopyJob", got, want)
	got.CreatedBy.BackupRuleName = "changed after get"
	got, err = c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob")
	wantEqual(t, "GetCopyJob after changing a returned value", got, want)

	dup := newCopy("copy-1", "other", at(time.Hour))
	dup.IdempotencyToken = "token-of-the-duplicate"
	wantCode(t, c.CreateCopyJob(ctx(t), dup), backup.ErrAlreadyExists, "CreateCopyJob of an existing ID")
	// The refused creation took no token.
	free := newCopy("copy-3", "other", at(time.Hour))
	free.IdempotencyToken = dup.IdempotencyToken
	must(t, c.CreateCopyJob(ctx(t), free), "CreateCopyJob with the token of a refused creation")
	wantCode(t, c.CreateCopyJob(ctx(t), newCopy("", "other", at(time.Hour))), backup.ErrMissingParameter, "CreateCopyJob without an ID")
	noTime := newCopy("copy-2", "other", time.Time{})
	wantCode(t, c.CreateCopyJob(ctx(t), noTime), backup.ErrMissingParameter, "CreateCopyJob without a CreationDate")

	// Every field changes.
	changed := &backup.CopyJob{
		ID:                          "copy-1",
		AccountID:                   "210987654321",
		Region:                      "us-east-2",
		SourceBackupVaultARN:        vaultARN("vault-c"),
		SourceRecoveryPointARN:      pointARN("rp-other"),
		DestinationBackupVaultARN:   vaultARN("vault-d"),
		DestinationRecoveryPointARN: pointARN("rp-other-copy"),
		ResourceARN:                 tableARN("customers"),
		ResourceType:                "DynamoDBv2",
		ResourceName:                "customers",
		IAMRoleARN:                  "arn:aws:iam::210987654321:role/other",
		IdempotencyToken:            "token-2",
		RequestHash:                 "hash-2",
		State:                       backup.CopyFailed,
		StatusMessage:               "checksum mismatch",
		BackupSizeInBytes:           1<<61 + 3,
		CreationDate:                at(-time.Hour - 1),
		CompletionDate:              at(time.Hour + 1),
		Lifecycle:                   backup.Lifecycle{DeleteAfterDays: 7},
		CreatedBy:                   &backup.CreatedBy{BackupPlanID: "plan-2", BackupRuleID: "rule-9"},
	}
	must(t, c.UpdateCopyJob(ctx(t), changed), "UpdateCopyJob")
	got, err = c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob after update")
	kept := *changed // but for the token and request hash of its creation
	kept.IdempotencyToken, kept.RequestHash = "token-copy-1", "hash-1"
	wantEqual(t, "GetCopyJob after update", got, &kept)

	cleared := &backup.CopyJob{ID: "copy-1", State: backup.CopyCreated, CreationDate: at(5)}
	must(t, c.UpdateCopyJob(ctx(t), cleared), "UpdateCopyJob clearing fields")
	got, err = c.GetCopyJob(ctx(t), "copy-1")
	must(t, err, "GetCopyJob after clearing")
	kept = *cleared
	kept.IdempotencyToken, kept.RequestHash = "token-copy-1", "hash-1"
	wantEqual(t, "GetCopyJob after clearing", got, &kept)
}

func matchCopy(f backup.CopyJobFilter, j *backup.CopyJob) bool {
	return (f.ResourceARN == "" || j.ResourceARN == f.ResourceARN) &&
		(f.ResourceType == "" || j.ResourceType == f.ResourceType) &&
		(len(f.States) == 0 || slices.Contains(f.States, j.State)) &&
		(f.DestinationBackupVaultARN == "" || j.DestinationBackupVaultARN == f.DestinationBackupVaultARN) &&
		(f.AccountID == "" || j.AccountID == f.AccountID) &&
		(f.IdempotencyToken == "" || j.IdempotencyToken == f.IdempotencyToken) &&
		inRange(j.CreationDate, f.CreatedAfter, f.CreatedBefore) &&
		completeInRange(j.CompletionDate, f.CompleteAfter, f.CompleteBefore)
}

func testCopyJobListFilters(t *testing.T, c backup.Catalog) {
	const n = 65
	created := func(i int) time.Time {
		if i%6 == 5 { // ties on CreationDate are broken by ID
			i--
		}
		return at(time.Duration(i)*time.Minute + time.Duration(i)*time.Millisecond + time.Duration(i))
	}
	var jobs []*backup.CopyJob
	for i := range n {
		j := newCopy(fmt.Sprintf("copy-%03d", i), fmt.Sprintf("t%d", i%3), created(i))
		j.State = allCopyStates[i%len(allCopyStates)]
		dest := []string{"vault-b", "vault-c", "vault-d"}[(i/2)%3]
		j.DestinationBackupVaultARN = vaultARN(dest)
		j.AccountID = []string{account, "210987654321"}[(i/3)%2]
		if i%4 == 1 {
			j.ResourceType = "Other"
		}
		if j.State.Terminal() {
			j.CompletionDate = created(i).Add(time.Duration(n-i) * 7 * time.Minute)
		} else {
			j.CompletionDate = time.Time{}
		}
		if i%11 == 3 && j.State.Terminal() { // the clock stepped back
			j.CompletionDate = created(i).Add(-30 * time.Minute)
		}
		jobs = append(jobs, j)
	}
	for _, i := range shuffled(n) {
		must(t, c.CreateCopyJob(ctx(t), jobs[i]), "CreateCopyJob "+jobs[i].ID)
	}
	cr := created
	completed := func(i int) time.Time { return jobs[i].CompletionDate }
	cases := []struct {
		name  string
		f     backup.CopyJobFilter
		empty bool
	}{
		{"none", backup.CopyJobFilter{}, false},
		{"resource", backup.CopyJobFilter{ResourceARN: tableARN("t1")}, false},
		{"resource unknown", backup.CopyJobFilter{ResourceARN: tableARN("unknown")}, true},
		{"resource type", backup.CopyJobFilter{ResourceType: "Other"}, false},
		{"state", backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCompleted}}, false},
		{"states", backup.CopyJobFilter{States: []backup.CopyJobState{backup.CopyCreated, backup.CopyRunning, backup.CopyCreated}}, false},
		{"destination vault", backup.CopyJobFilter{DestinationBackupVaultARN: vaultARN("vault-c")}, false},
		{"account", backup.CopyJobFilter{AccountID: "210987654321"}, false},
		{"idempotency token", backup.CopyJobFilter{IdempotencyToken: "token-copy-007"}, false},
		{"idempotency token unknown", backup.CopyJobFilter{IdempotencyToken: "token-unknown"}, true},
		{"created after a tie", backup.CopyJobFilter{CreatedAfter: cr(35)}, false},
		{"created between", backup.CopyJobFilter{CreatedAfter: cr(10), CreatedBefore: cr(50)}, false},
		{"complete after", backup.CopyJobFilter{CompleteAfter: completed(22)}, false},
		{"complete before", backup.CopyJobFilter{CompleteBefore: completed(32)}, false},
		{"complete before, clock stepped back", backup.CopyJobFilter{CompleteBefore: cr(40)}, false},
		{"complete between", backup.CopyJobFilter{CompleteAfter: completed(62), CompleteBefore: completed(12)}, false},
		{"destination, states and created range", backup.CopyJobFilter{DestinationBackupVaultARN: vaultARN("vault-b"),
			States:       []backup.CopyJobState{backup.CopyCompleted, backup.CopyFailed, backup.CopyPartial},
			CreatedAfter: cr(3), CreatedBefore: cr(60)}, false},
		{"everything", backup.CopyJobFilter{ResourceARN: tableARN("t2"), ResourceType: backup.ResourceTypeDynamoDB,
			States:                    []backup.CopyJobState{backup.CopyCompleted, backup.CopyFailed, backup.CopyPartial},
			DestinationBackupVaultARN: vaultARN("vault-c"), AccountID: account,
			CreatedAfter: cr(1), CreatedBefore: cr(64), CompleteAfter: completed(64), CompleteBefore: completed(2)}, false},
		{"no match", backup.CopyJobFilter{ResourceType: "Other", States: []backup.CopyJobState{backup.CopyCompleted}, AccountID: "999999999999"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*backup.CopyJob
			for _, j := range jobs {
				if matchCopy(tc.f, j) {
					want = append(want, j)
				}
			}
			newestFirst(want, copyKey)
			if (len(want) == 0) != tc.empty {
				t.Fatalf("the case selects %d jobs; fix the test", len(want))
			}
			checkListing(t, "ListCopyJobs", want, copyID, func(p backup.Page) ([]*backup.CopyJob, string, error) {
				f := tc.f
				f.Page = p
				return c.ListCopyJobs(ctx(t), f)
			})
		})
	}
}

func testCopyJobPagingUnderInserts(t *testing.T, c backup.Catalog) {
	pagingUnderInserts(t, func(id string, created time.Time) error {
		return c.CreateCopyJob(ctx(t), newCopy(id, "orders", created))
	}, func(p backup.Page) ([]item, string, error) {
		jobs, next, err := c.ListCopyJobs(ctx(t), backup.CopyJobFilter{Page: p, ResourceARN: tableARN("orders")})
		out := make([]item, len(jobs))
		for i, j := range jobs {
			out[i] = item{j.ID, j.CreationDate}
		}
		return out, next, err
	})
}

func testStacks(t *testing.T, c backup.Catalog) {
	if _, err := c.GetStack(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetStack of a missing stack: got %v, want NotFound", err)
	}
	wantCode(t, c.DeleteStack(ctx(t), "missing"), backup.ErrNotFound, "DeleteStack of a missing stack")
	s, want := newStack("blog"), newStack("blog")
	must(t, c.PutStack(ctx(t), s), "PutStack")
	s.Parameters["TagKey"] = "changed after put"
	s.Resources[0].Attributes["Ref"] = "changed after put"
	got, err := c.GetStack(ctx(t), "blog")
	must(t, err, "GetStack")
	wantEqual(t, "GetStack", got, want)
	got.Resources[0].PhysicalID = "changed after get"
	got, err = c.GetStack(ctx(t), "blog")
	must(t, err, "GetStack")
	wantEqual(t, "GetStack after changing a returned value", got, want)

	// A second put replaces the stack whole.
	re := newStack("blog")
	re.Parameters = map[string]string{"TagKey": "backup"}
	re.Resources = re.Resources[1:]
	re.UpdateDate = at(time.Hour + 1)
	must(t, c.PutStack(ctx(t), re), "PutStack again")
	got, err = c.GetStack(ctx(t), "blog")
	must(t, err, "GetStack after the second put")
	wantEqual(t, "GetStack after the second put", got, re)
	bare := &backup.Stack{Name: "bare"}
	must(t, c.PutStack(ctx(t), bare), "PutStack of a bare stack")
	got, err = c.GetStack(ctx(t), "bare")
	must(t, err, "GetStack")
	wantEqual(t, "GetStack of a bare stack", got, bare)
	wantCode(t, c.PutStack(ctx(t), &backup.Stack{}), backup.ErrMissingParameter, "PutStack without a name")

	// Listed by name.
	var names []string
	for _, i := range shuffled(9) {
		name := fmt.Sprintf("stack-%d", i)
		must(t, c.PutStack(ctx(t), newStack(name)), "PutStack "+name)
	}
	for i := range 9 {
		names = append(names, fmt.Sprintf("stack-%d", i))
	}
	names = append([]string{"bare", "blog"}, names...)
	for _, size := range []int{0, 1, 4} {
		got := collect(t, size, func(p backup.Page) ([]*backup.Stack, string, error) { return c.ListStacks(ctx(t), p) })
		if g := ids(got, func(s *backup.Stack) string { return s.Name }); !slices.Equal(g, names) {
			t.Fatalf("ListStacks, MaxResults %d:\n got %v\nwant %v", size, g, names)
		}
		if size == 0 {
			wantEqual(t, "ListStacks: blog", got[1], re)
		}
	}

	must(t, c.DeleteStack(ctx(t), "blog"), "DeleteStack")
	if _, err := c.GetStack(ctx(t), "blog"); !backup.IsNotFound(err) {
		t.Fatalf("GetStack after delete: got %v, want NotFound", err)
	}
	wantCode(t, c.DeleteStack(ctx(t), "blog"), backup.ErrNotFound, "DeleteStack twice")
}
