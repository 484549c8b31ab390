package catalogtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func restoreID(j *backup.RestoreJob) string { return j.ID }

func restoreKey(j *backup.RestoreJob) (time.Time, string) { return j.CreationDate, j.ID }

func testRestoreJobRoundTrip(t *testing.T, c backup.Catalog) {
	if _, err := c.GetRestoreJob(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetRestoreJob of a missing job: got %v, want NotFound", err)
	}
	wantCode(t, c.UpdateRestoreJob(ctx(t), newRestore("missing", at(0))), backup.ErrNotFound, "UpdateRestoreJob of a missing job")

	mk := func() *backup.RestoreJob {
		j := newRestore("restore-1", at(0))
		j.Status = backup.RestoreRunning
		j.CompletionDate = time.Time{}
		j.IdempotencyToken = "token-1"
		j.RequestHash = "hash-1"
		return j
	}
	j, want := mk(), mk()
	must(t, c.CreateRestoreJob(ctx(t), j), "CreateRestoreJob")
	j.Metadata["targetTableName"] = "changed after create"
	got, err := c.GetRestoreJob(ctx(t), "restore-1")
	must(t, err, "GetRestoreJob")
	wantEqual(t, "GetRestoreJob", got, want)
	got.Metadata["targetTableName"] = "changed after get"
	got, err = c.GetRestoreJob(ctx(t), "restore-1")
	must(t, err, "GetRestoreJob")
	wantEqual(t, "GetRestoreJob after changing a returned value", got, want)

	wantCode(t, c.CreateRestoreJob(ctx(t), newRestore("restore-1", at(time.Hour))), backup.ErrAlreadyExists, "CreateRestoreJob of an existing ID")

	changed := &backup.RestoreJob{
		ID:                      "restore-1",
		AccountID:               "210987654321",
		Region:                  "us-east-2",
		RecoveryPointARN:        pointARN("rp-other"),
		VaultARN:                vaultARN("vault-b"),
		ResourceType:            "DynamoDBv2",
		IAMRoleARN:              "arn:aws:iam::210987654321:role/other",
		Metadata:                map[string]string{"targetTableName": "t2", "encryptionType": "Default"},
		CopySourceTags:          false,
		IdempotencyToken:        "token-2",
		RequestHash:             "hash-2",
		Status:                  backup.RestoreFailed,
		StatusMessage:           "validation failed",
		PercentDone:             99.99,
		BackupSizeInBytes:       3,
		ItemsRestored:           1<<40 + 1,
		CreationDate:            at(-time.Hour - 1),
		CompletionDate:          at(time.Hour + 1),
		ExpectedCompletionTime:  at(time.Hour + 2),
		CreatedResourceARN:      tableARN("t2"),
		ValidationStatus:        backup.ValidationFailed,
		ValidationStatusMessage: "checksum differs",
	}
	must(t, c.UpdateRestoreJob(ctx(t), changed), "UpdateRestoreJob")
	got, err = c.GetRestoreJob(ctx(t), "restore-1")
	must(t, err, "GetRestoreJob after update")
	kept := *changed // but for the token and request hash of its creation
	kept.IdempotencyToken, kept.RequestHash = "token-1", "hash-1"
	wantEqual(t, "GetRestoreJob after update", got, &kept)

	cleared := &backup.RestoreJob{ID: "restore-1", Status: backup.RestorePending, CreationDate: at(7)}
	must(t, c.UpdateRestoreJob(ctx(t), cleared), "UpdateRestoreJob clearing fields")
	got, err = c.GetRestoreJob(ctx(t), "restore-1")
	must(t, err, "GetRestoreJob after clearing")
	kept = *cleared
	kept.IdempotencyToken, kept.RequestHash = "token-1", "hash-1"
	wantEqual(t, "GetRestoreJob after clearing", got, &kept)
}

var allRestoreStatuses = []backup.RestoreJobStatus{
	backup.RestorePending, backup.RestoreRunning, backup.RestoreCompleted, backup.RestoreAborted, backup.RestoreFailed,
}

func matchRestore(f backup.RestoreJobFilter, j *backup.RestoreJob) bool {
	return (f.AccountID == "" || j.AccountID == f.AccountID) &&
		(f.ResourceType == "" || j.ResourceType == f.ResourceType) &&
		(len(f.Statuses) == 0 || slices.Contains(f.Statuses, j.Status)) &&
		(f.IdempotencyToken == "" || j.IdempotencyToken == f.IdempotencyToken) &&
		inRange(j.CreationDate, f.CreatedAfter, f.CreatedBefore) &&
		completeInRange(j.CompletionDate, f.CompleteAfter, f.CompleteBefore)
}

func testRestoreJobListFilters(t *testing.T, c backup.Catalog) {
	const n = 47
	created := func(i int) time.Time {
		if i%8 == 7 {
			i--
		}
		return at(time.Duration(i)*time.Minute + time.Duration(i))
	}
	var jobs []*backup.RestoreJob
	for i := range n {
		j := newRestore(fmt.Sprintf("restore-%03d", i), created(i))
		j.Status = allRestoreStatuses[i%len(allRestoreStatuses)]
		j.AccountID = []string{account, "210987654321"}[(i/2)%2]
		if i%3 == 2 {
			j.ResourceType = "Other"
		}
		if i%4 == 1 {
			j.IdempotencyToken = fmt.Sprintf("tok-%d", i)
		}
		if j.Status.Terminal() {
			j.CompletionDate = created(i).Add(time.Duration(n-i) * 3 * time.Minute)
			if i%10 == 3 { // the clock stepped back
				j.CompletionDate = created(i).Add(-20 * time.Minute)
			}
		} else {
			j.CompletionDate = time.Time{}
		}
		jobs = append(jobs, j)
	}
	for _, i := range shuffled(n) {
		must(t, c.CreateRestoreJob(ctx(t), jobs[i]), "CreateRestoreJob "+jobs[i].ID)
	}
	completed := func(i int) time.Time { return jobs[i].CompletionDate }
	cases := []struct {
		name string
		f    backup.RestoreJobFilter
	}{
		{"none", backup.RestoreJobFilter{}},
		{"account", backup.RestoreJobFilter{AccountID: "210987654321"}},
		{"resource type", backup.RestoreJobFilter{ResourceType: "Other"}},
		{"status", backup.RestoreJobFilter{Statuses: []backup.RestoreJobStatus{backup.RestoreRunning}}},
		{"statuses", backup.RestoreJobFilter{Statuses: []backup.RestoreJobStatus{backup.RestoreCompleted, backup.RestoreFailed}}},
		{"idempotency token", backup.RestoreJobFilter{IdempotencyToken: "tok-5"}},
		{"created after", backup.RestoreJobFilter{CreatedAfter: created(20)}},
		{"created after a tie", backup.RestoreJobFilter{CreatedAfter: created(15)}},
		{"created before", backup.RestoreJobFilter{CreatedBefore: created(33)}},
		{"complete after", backup.RestoreJobFilter{CompleteAfter: completed(12)}},
		{"complete before", backup.RestoreJobFilter{CompleteBefore: completed(13)}},
		{"complete before, clock stepped back", backup.RestoreJobFilter{CompleteBefore: created(30)}},
		{"everything", backup.RestoreJobFilter{AccountID: account, ResourceType: backup.ResourceTypeDynamoDB,
			Statuses:     []backup.RestoreJobStatus{backup.RestoreCompleted, backup.RestoreAborted, backup.RestorePending},
			CreatedAfter: created(1), CreatedBefore: created(45), CompleteAfter: completed(44), CompleteBefore: completed(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*backup.RestoreJob
			for _, j := range jobs {
				if matchRestore(tc.f, j) {
					want = append(want, j)
				}
			}
			newestFirst(want, restoreKey)
			if len(want) == 0 {
				t.Fatalf("the case selects no job; fix the test")
			}
			checkListing(t, "ListRestoreJobs", want, restoreID, func(p backup.Page) ([]*backup.RestoreJob, string, error) {
				f := tc.f
				f.Page = p
				return c.ListRestoreJobs(ctx(t), f)
			})
		})
	}
}

func testRestoreJobPagingUnderInserts(t *testing.T, c backup.Catalog) {
	pagingUnderInserts(t, func(id string, created time.Time) error {
		return c.CreateRestoreJob(ctx(t), newRestore(id, created))
	}, func(p backup.Page) ([]item, string, error) {
		jobs, next, err := c.ListRestoreJobs(ctx(t), backup.RestoreJobFilter{Page: p})
		out := make([]item, len(jobs))
		for i, j := range jobs {
			out[i] = item{j.ID, j.CreationDate}
		}
		return out, next, err
	})
}
