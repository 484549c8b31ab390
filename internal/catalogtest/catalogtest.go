// Package catalogtest is the conformance suite for backup.Catalog. Every
// implementation runs it from its own tests:
//
//	func TestCatalog(t *testing.T) {
//		catalogtest.Run(t, func(t *testing.T) backup.Catalog { ... })
//	}
//
// Besides the contracts written on backup.Catalog, the suite pins down what
// those leave open, so that every implementation behaves alike:
//
//   - Stored values are copies: changing a value after Create, or a value a
//     Get returned, changes nothing stored. Times come back in UTC, equal to
//     the nanosecond; a nil map and an empty one are the same.
//   - Creating a backup job, recovery point or restore job whose ID is taken
//     fails with ErrAlreadyExists; Update of an absent ID fails with
//     ErrNotFound. UpdateBackupJob, like Create, fails with ErrConflict if it
//     would make a second RUNNING or ABORTING job for one resource, and with
//     ErrAlreadyExists if it would make a second job of one rule occurrence
//     (CreatedBy.BackupRuleID, ResourceARN, ScheduledTime), whatever the
//     states of the two jobs.
//   - A refused write changes nothing. Writes missing what a record cannot
//     do without (IDs, names, creation times) fail with ErrMissingParameter.
//   - NumberOfRecoveryPoints counts the vault's points that are not DELETING.
//     DeleteVault refuses (ErrInvalidRequest) while the vault holds any point
//     at all, DELETING ones included, since their bytes may still be there.
//   - Job and point listings are newest first: CreationDate descending, then
//     ID descending. CreatedAfter/CreatedBefore and CompleteAfter/
//     CompleteBefore are exclusive bounds; a Complete bound leaves out what
//     has no CompletionDate. States and Statuses match any of their values.
//   - ListBackupPlans orders plans by when they were created (their first
//     version), newest first, and returns each plan's latest version, whose
//     CreationDate is that version's; an update does not move a plan.
//     UpdateBackupPlan stores the new document only: what all versions
//     share (ARN, account, region, tags, CreatorRequestID, LastExecutionDate)
//     stays the plan's. Every version of a deleted plan has its DeletionDate.
//     SetPlanLastExecution, like SetRuleCursor, only moves forward.
//   - A recovery point's lifecycle dates are those of CalculatedLifecycle
//     and are recomputed on every write; ColdDueBy and DeleteDueBy include
//     points due exactly then, and never match a point without the date.
//   - Frameworks: names are unique; ListFrameworks orders by name;
//     UpdateFramework keeps ARN, CreationTime, account, region and tags; at
//     most backup.MaxFrameworks frameworks and backup.MaxFrameworkControls
//     controls in all, checked in the transaction that writes.
//   - ListVaults and ListStacks order by name; ListProtectedResources by ResourceARN, each
//     with its latest COMPLETED point by CreationDate, whose CreationDate is
//     the LastBackupTime.
//   - Pages: MaxResults 0 means 100; a negative MaxResults or a NextToken the
//     store did not issue fails with ErrInvalidParameter. A page holds
//     MaxResults items unless it is the last, and only the last has an empty
//     NextToken. Paging is by position, not offset: items inserted while a
//     caller pages through never make it see an item twice or miss one that
//     existed when it started.
//   - Tags: UpdateRecoveryPoint leaves a point's tags as they are;
//     UpdateTags is the one way to change the tags of a vault, a plan (all
//     its versions) or a point after it is created. It sees the tags as
//     stored, stores what update leaves, changes nothing if update fails,
//     and is ErrNotFound for a missing resource or a deleted plan (whose
//     update is never called). Concurrent UpdateTags on one resource lose
//     no change.
//   - Idempotency tokens: a backup, restore or copy job created with an
//     IdempotencyToken takes it for its kind of job; a creation with a
//     taken token fails with *backup.TokenInUseError naming the holder
//     before any other check (ID, running job, rule occurrence) and stores
//     nothing. An empty token is no token. A job keeps the token and
//     RequestHash it was created with whatever Update is given.
//   - The catalog is safe for concurrent use: of many concurrent creations
//     of a running job for one resource, of jobs of one rule occurrence, or
//     of jobs of one kind with one idempotency token, exactly one succeeds;
//     a plan is never deleted with selections.
//   - Policies: ListPolicies orders by name; re-applying a policy keeps its
//     CreationDate and type (another type under the name is
//     ErrAlreadyExists). ApplyPolicy and DeletePolicy store the policy and
//     its plan and selection changes together or not at all; plans and
//     selections keep the ManagedBy they were created with.
//   - Report plans and report jobs: see reports.go.
//   - Job history: see history.go.
//   - The outbox, deliveries and vault notifications: see outbox.go.
//   - Metrics aggregates (CountActiveJobs, LastBackups, PointUsage): see
//     metrics.go; PointUsage is ordered by vault, storage class and status,
//     CountActiveJobs in any order.
//   - Notification targets: see notifytargets.go.
//   - Job owners (the node that runs a job, ClaimJob, OwnedJobs) and a
//     stop that sticks (an ABORTING job stays so until it ends): see
//     owners.go.
//   - Checkpoints of running jobs: see checkpoints.go.
//   - The nodes that share a catalog: see nodes.go.
package catalogtest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Run runs the suite. open must return a new, empty catalog for each call;
// the suite closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) backup.Catalog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c backup.Catalog)
	}{
		{"VaultCreateGet", testVaultCreateGet},
		{"VaultList", testVaultList},
		{"VaultDelete", testVaultDelete},
		{"VaultRecoveryPointCount", testVaultRecoveryPointCount},
		{"BackupJobRoundTrip", testBackupJobRoundTrip},
		{"BackupJobOneActivePerResource", testBackupJobOneActive},
		{"BackupJobConcurrentCreate", testBackupJobConcurrentCreate},
		{"BackupJobScheduledOccurrence", testBackupJobScheduledOccurrence},
		{"BackupJobConcurrentScheduling", testBackupJobConcurrentScheduling},
		{"BackupJobListFilters", testBackupJobListFilters},
		{"BackupJobListPages", testBackupJobListPages},
		{"BackupJobPagingUnderInserts", testBackupJobPagingUnderInserts},
		{"RecoveryPointRoundTrip", testRecoveryPointRoundTrip},
		{"RecoveryPointListFilters", testRecoveryPointListFilters},
		{"RecoveryPointLifecycleFilters", testRecoveryPointLifecycleFilters},
		{"RecoveryPointPagingUnderInserts", testRecoveryPointPagingUnderInserts},
		{"ProtectedResources", testProtectedResources},
		{"ProtectedResourceLookups", testProtectedResourceLookups},
		{"RestoreJobRoundTrip", testRestoreJobRoundTrip},
		{"RestoreJobListFilters", testRestoreJobListFilters},
		{"RestoreJobPagingUnderInserts", testRestoreJobPagingUnderInserts},
		{"PlanCreateGet", testPlanCreateGet},
		{"PlanVersions", testPlanVersions},
		{"PlanList", testPlanList},
		{"PlanDelete", testPlanDelete},
		{"PlanDeleteRacesSelection", testPlanDeleteRacesSelection},
		{"PlanLastExecution", testPlanLastExecution},
		{"Selections", testSelections},
		{"RuleCursors", testRuleCursors},
		{"CopyJobRoundTrip", testCopyJobRoundTrip},
		{"CopyJobListFilters", testCopyJobListFilters},
		{"CopyJobPagingUnderInserts", testCopyJobPagingUnderInserts},
		{"IdempotencyTokenRace", testIdempotencyTokenRace},
		{"IdempotencyTokenRules", testIdempotencyTokenRules},
		{"Stacks", testStacks},
		{"Policies", testPolicies},
		{"PolicyManagedPlans", testPolicyManagedPlans},
		{"PolicyApplyAtomic", testPolicyApplyAtomic},
		{"Frameworks", testFrameworks},
		{"FrameworkLimits", testFrameworkLimits},
		{"Tags", testTags},
		{"TagsConcurrent", testTagsConcurrent},
		{"GovernanceTagAttempts", testGovernanceTagAttempts},
		{"GovernanceTagViolations", testGovernanceTagViolations},
		{"GovernanceViolationRace", testGovernanceViolationRace},
		{"ReportPlans", testReportPlans},
		{"ReportJobs", testReportJobs},
		{"JobCounts", testJobCounts},
		{"JobHistoryPrune", testJobHistoryPrune},
		// The outbox (outbox.go).
		{"OutboxJobEvents", testOutboxJobEvents},
		{"OutboxPointAndPlanEvents", testOutboxPointAndPlanEvents},
		{"OutboxDeliveries", testOutboxDeliveries},
		{"OutboxLargeBatches", testOutboxLargeBatches},
		{"VaultNotifications", testVaultNotifications},
		{"MetricsAggregates", testMetricsAggregates},
		{"NotificationTargets", testNotificationTargets},
		{"JobOwners", testJobOwners},
		{"JobClaimRace", testJobClaimRace},
		{"AbortingSticks", testAbortingSticks},
		{"Checkpoints", testCheckpoints},
		{"Nodes", testNodes},
		{"InvalidPages", testInvalidPages},
		{"ConcurrentReadersAndWriters", testConcurrentReadersAndWriters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t)
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, c)
		})
	}
}

const (
	account = "123456789012"
	region  = "eu-west-1"
)

// base has every sub-second digit set, to catch truncated times.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func tableARN(name string) string { return backup.TableARN(region, account, name) }

func vaultARN(name string) string { return backup.VaultARN(region, account, name) }

func pointARN(id string) string { return backup.RecoveryPointARN(region, account, id) }

func planARN(id string) string {
	return "arn:aws:backup:" + region + ":" + account + ":backup-plan:" + id
}

// ctx is the context of t.
func ctx(t *testing.T) context.Context { return t.Context() }

// wantCode fails t unless err is a domain error of code.
func wantCode(t *testing.T, err error, code backup.Code, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, code)
	}
	if got := backup.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %s), want code %s", what, err, got, code)
	}
}

// must fails t if err is not nil.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// normalize returns a copy of v (a pointer to a catalog value) with empty
// maps made nil, since the two are the same to a catalog.
func normalize(v any) any {
	nilEmpty := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		return m
	}
	switch v := v.(type) {
	case *backup.Vault:
		if v == nil {
			return v
		}
		c := *v
		c.Tags = nilEmpty(c.Tags)
		return c
	case *backup.BackupJob:
		if v == nil {
			return v
		}
		c := *v
		c.RecoveryPointTags = nilEmpty(c.RecoveryPointTags)
		return c
	case *backup.RecoveryPoint:
		if v == nil {
			return v
		}
		c := *v
		c.Tags = nilEmpty(c.Tags)
		c.RestoreMetadata = nilEmpty(c.RestoreMetadata)
		return c
	case *backup.RestoreJob:
		if v == nil {
			return v
		}
		c := *v
		c.Metadata = nilEmpty(c.Metadata)
		return c
	case *backup.BackupPlan:
		if v == nil {
			return v
		}
		c := *v
		c.Tags = nilEmpty(c.Tags)
		return c
	case *backup.BackupSelection:
		if v == nil {
			return v
		}
		return *v
	case *backup.CopyJob:
		if v == nil {
			return v
		}
		return *v
	case *backup.Stack:
		if v == nil {
			return v
		}
		c := *v
		c.Parameters = nilEmpty(c.Parameters)
		if len(c.Resources) == 0 {
			c.Resources = nil
		} else {
			c.Resources = slices.Clone(c.Resources)
			for i := range c.Resources {
				c.Resources[i].Attributes = nilEmpty(c.Resources[i].Attributes)
			}
		}
		return c
	case *backup.ProtectedResource:
		if v == nil {
			return v
		}
		return *v
	}
	return v
}

// wantEqual fails t unless got and want hold the same value.
func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := normalize(got), normalize(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, show(g), show(w))
	}
}

// show prints v with its pointers followed, one field a line.
func show(v any) string {
	s := fmt.Sprintf("%+v", v)
	if cb := reflect.ValueOf(v); cb.Kind() == reflect.Struct {
		if f := cb.FieldByName("CreatedBy"); f.IsValid() && !f.IsNil() {
			s += fmt.Sprintf(" CreatedBy=%+v", f.Elem().Interface())
		}
	}
	return strings.ReplaceAll(s, " ", "\n\t")
}

// collect pages through a listing with MaxResults size and returns every
// item, checking the page rules of the package comment.
func collect[T any](t *testing.T, size int, list func(p backup.Page) ([]T, string, error)) []T {
	t.Helper()
	limit := size
	if limit == 0 {
		limit = 100
	}
	all := []T{}
	p := backup.Page{MaxResults: size}
	for pages := 1; ; pages++ {
		got, next, err := list(p)
		if err != nil {
			t.Fatalf("page %d (MaxResults %d): %v", pages, size, err)
		}
		if len(got) > limit {
			t.Fatalf("page %d has %d items, more than MaxResults %d", pages, len(got), size)
		}
		all = append(all, got...)
		if next == "" {
			return all
		}
		if len(got) != limit {
			t.Fatalf("page %d has %d items and a NextToken, want a full page of %d", pages, len(got), limit)
		}
		if pages > 10000 {
			t.Fatalf("more than 10000 pages")
		}
		p.NextToken = next
	}
}

// ids returns the IDs of items as key returns them.
func ids[T any](items []T, key func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = key(v)
	}
	return out
}

// inRange reports whether t is strictly between the non-zero bounds.
func inRange(t, after, before time.Time) bool {
	return (after.IsZero() || t.After(after)) && (before.IsZero() || t.Before(before))
}

// completeInRange applies Complete bounds: with any bound set, an item with
// no completion time is left out.
func completeInRange(t, after, before time.Time) bool {
	if after.IsZero() && before.IsZero() {
		return true
	}
	return !t.IsZero() && inRange(t, after, before)
}

// newestFirst sorts items by creation time, then ID, both descending.
func newestFirst[T any](items []T, key func(T) (time.Time, string)) {
	sort.SliceStable(items, func(i, j int) bool {
		ti, ii := key(items[i])
		tj, ij := key(items[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return ii > ij
	})
}

// checkListing compares a listing, paged at several sizes, with want.
func checkListing[T any](t *testing.T, what string, want []T, id func(T) string, list func(p backup.Page) ([]T, string, error)) {
	t.Helper()
	for _, size := range []int{0, 1, 4} {
		got := collect(t, size, list)
		if g, w := ids(got, id), ids(want, id); !slices.Equal(g, w) {
			t.Fatalf("%s, MaxResults %d:\n got %v\nwant %v", what, size, g, w)
		}
		if size == 0 {
			for i := range got {
				wantEqual(t, what+": "+id(want[i]), got[i], want[i])
			}
		}
	}
}

// shuffled returns 0..n-1 in a fixed scrambled order, so that insertion
// order is not time order.
func shuffled(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = (i*37 + 11) % n
	}
	if n%37 == 0 {
		for i := range out {
			out[i] = n - 1 - i
		}
	}
	return out
}
