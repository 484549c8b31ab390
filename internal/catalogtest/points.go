package catalogtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func pointID(p *backup.RecoveryPoint) string { return p.ID }

func pointKey(p *backup.RecoveryPoint) (time.Time, string) { return p.CreationDate, p.ID }

func testRecoveryPointRoundTrip(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	if _, err := c.GetRecoveryPoint(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetRecoveryPoint of a missing point: got %v, want NotFound", err)
	}
	wantCode(t, c.UpdateRecoveryPoint(ctx(t), newPoint("missing", "vault-a", "orders", at(0))), backup.ErrNotFound, "UpdateRecoveryPoint of a missing point")
	wantCode(t, c.DeleteRecoveryPoint(ctx(t), "missing"), backup.ErrNotFound, "DeleteRecoveryPoint of a missing point")

	mk := func() *backup.RecoveryPoint {
		p := newPoint("rp-1", "vault-a", "orders", at(0))
		p.Status = backup.RecoveryPointCreating
		p.CompletionDate = time.Time{}
		return p
	}
	p, want := mk(), mk()
	must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint")
	p.Tags["env"] = "changed after create"
	p.RestoreMetadata["originalTableName"] = "changed after create"
	p.CreatedBy.BackupPlanID = "changed after create"
	got, err := c.GetRecoveryPoint(ctx(t), "rp-1")
	must(t, err, "GetRecoveryPoint")
	wantEqual(t, "GetRecoveryPoint", got, want)
	got.Tags["env"] = "changed after get"
	got, err = c.GetRecoveryPoint(ctx(t), "rp-1")
	must(t, err, "GetRecoveryPoint")
	wantEqual(t, "GetRecoveryPoint after changing a returned value", got, want)

	wantCode(t, c.CreateRecoveryPoint(ctx(t), newPoint("rp-1", "vault-b", "other", at(time.Hour))),
		backup.ErrAlreadyExists, "CreateRecoveryPoint of an existing ID")

	changed := &backup.RecoveryPoint{
		ID:                   "rp-1",
		ARN:                  pointARN("rp-1") + "-x",
		AccountID:            "210987654321",
		Region:               "us-east-2",
		VaultName:            "vault-b",
		VaultARN:             vaultARN("vault-b"),
		ResourceARN:          tableARN("customers"),
		ResourceType:         "DynamoDBv2",
		ResourceName:         "customers",
		IAMRoleARN:           "arn:aws:iam::210987654321:role/other",
		BackupJobID:          "job-other",
		Status:               backup.RecoveryPointCompleted,
		StatusMessage:        "complete",
		StorageClass:         backup.StorageCold,
		CreationDate:         at(-time.Hour - 1),
		CompletionDate:       at(time.Hour + 1),
		BackupSizeInBytes:    1<<50 + 1,
		ItemCount:            1,
		ContentChecksum:      "sha256:ffff",
		Lifecycle:            backup.Lifecycle{MoveToColdStorageAfterDays: 7, DeleteAfterDays: 97},
		Tags:                 map[string]string{"a": "b"},
		CreatedBy:            &backup.CreatedBy{BackupPlanID: "plan-2", BackupPlanVersion: "v9"},
		IsEncrypted:          false,
		RestoreMetadata:      map[string]string{"x": "y"},
		SourceBackupVaultARN: vaultARN("elsewhere"),
	}
	must(t, c.UpdateRecoveryPoint(ctx(t), changed), "UpdateRecoveryPoint")
	got, err = c.GetRecoveryPoint(ctx(t), "rp-1")
	must(t, err, "GetRecoveryPoint after update")
	// Tags change only through UpdateTags.
	changed.Tags = want.Tags
	wantEqual(t, "GetRecoveryPoint after update", got, changed)

	cleared := &backup.RecoveryPoint{ID: "rp-1", VaultName: "vault-b", Status: backup.RecoveryPointExpired, CreationDate: at(3)}
	must(t, c.UpdateRecoveryPoint(ctx(t), cleared), "UpdateRecoveryPoint clearing fields")
	got, err = c.GetRecoveryPoint(ctx(t), "rp-1")
	must(t, err, "GetRecoveryPoint after clearing")
	cleared.Tags = want.Tags
	wantEqual(t, "GetRecoveryPoint after clearing", got, cleared)

	must(t, c.DeleteRecoveryPoint(ctx(t), "rp-1"), "DeleteRecoveryPoint")
	if _, err := c.GetRecoveryPoint(ctx(t), "rp-1"); !backup.IsNotFound(err) {
		t.Fatalf("GetRecoveryPoint after delete: got %v, want NotFound", err)
	}
	wantCode(t, c.DeleteRecoveryPoint(ctx(t), "rp-1"), backup.ErrNotFound, "DeleteRecoveryPoint twice")
	points, _, err := c.ListRecoveryPoints(ctx(t), backup.RecoveryPointFilter{})
	must(t, err, "ListRecoveryPoints")
	if len(points) != 0 {
		t.Fatalf("ListRecoveryPoints after delete: %d points, want 0", len(points))
	}
}

var allPointStatuses = []backup.RecoveryPointStatus{
	backup.RecoveryPointCreating, backup.RecoveryPointCompleted, backup.RecoveryPointPartial,
	backup.RecoveryPointDeleting, backup.RecoveryPointExpired,
}

func matchPoint(f backup.RecoveryPointFilter, p *backup.RecoveryPoint) bool {
	cold, del := p.CalculatedLifecycle()
	return (f.VaultName == "" || p.VaultName == f.VaultName) &&
		(f.ResourceARN == "" || p.ResourceARN == f.ResourceARN) &&
		(f.ResourceType == "" || p.ResourceType == f.ResourceType) &&
		(len(f.Statuses) == 0 || slices.Contains(f.Statuses, p.Status)) &&
		(f.BackupPlanID == "" || (p.CreatedBy != nil && p.CreatedBy.BackupPlanID == f.BackupPlanID)) &&
		inRange(p.CreationDate, f.CreatedAfter, f.CreatedBefore) &&
		(f.StorageClass == "" || p.StorageClass == f.StorageClass) &&
		dueBy(cold, f.ColdDueBy) && dueBy(del, f.DeleteDueBy)
}

// dueBy reports whether a lifecycle date is at or before the non-zero
// bound by; a point without the date is never due.
func dueBy(date, by time.Time) bool {
	return by.IsZero() || (!date.IsZero() && !date.After(by))
}

func testRecoveryPointListFilters(t *testing.T, c backup.Catalog) {
	for _, name := range []string{"vault-a", "vault-b", "vault-c"} {
		must(t, c.CreateVault(ctx(t), newVault(name)), "CreateVault")
	}
	const n = 66
	created := func(i int) time.Time {
		if i%7 == 6 {
			i--
		}
		return at(time.Duration(i)*time.Hour + time.Duration(i)*time.Microsecond + time.Duration(i))
	}
	var points []*backup.RecoveryPoint
	for i := range n {
		vault := []string{"vault-a", "vault-b", "vault-c"}[(i/2)%3]
		p := newPoint(fmt.Sprintf("rp-%03d", i), vault, fmt.Sprintf("t%d", i%4), created(i))
		p.Status = allPointStatuses[i%len(allPointStatuses)]
		if i%6 == 1 {
			p.ResourceType = "Other"
		}
		switch i % 4 {
		case 0:
			p.CreatedBy = nil
		case 1:
			p.CreatedBy = &backup.CreatedBy{BackupPlanID: "plan-2", BackupRuleID: "daily"}
		}
		points = append(points, p)
	}
	for _, i := range shuffled(n) {
		must(t, c.CreateRecoveryPoint(ctx(t), points[i]), "CreateRecoveryPoint "+points[i].ID)
	}
	cases := []struct {
		name string
		f    backup.RecoveryPointFilter
	}{
		{"none", backup.RecoveryPointFilter{}},
		{"vault", backup.RecoveryPointFilter{VaultName: "vault-b"}},
		{"resource", backup.RecoveryPointFilter{ResourceARN: tableARN("t1")}},
		{"resource type", backup.RecoveryPointFilter{ResourceType: "Other"}},
		{"status", backup.RecoveryPointFilter{Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted}}},
		{"statuses", backup.RecoveryPointFilter{Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointPartial, backup.RecoveryPointExpired, backup.RecoveryPointPartial}}},
		{"backup plan", backup.RecoveryPointFilter{BackupPlanID: "plan-2"}},
		{"backup plan 1", backup.RecoveryPointFilter{BackupPlanID: "plan-1"}},
		{"created after", backup.RecoveryPointFilter{CreatedAfter: created(40)}},
		{"created after a tie", backup.RecoveryPointFilter{CreatedAfter: created(13)}},
		{"created before", backup.RecoveryPointFilter{CreatedBefore: created(20)}},
		{"vault, statuses, plan and range", backup.RecoveryPointFilter{VaultName: "vault-a",
			Statuses:     []backup.RecoveryPointStatus{backup.RecoveryPointCompleted, backup.RecoveryPointCreating, backup.RecoveryPointDeleting},
			BackupPlanID: "plan-1", CreatedAfter: created(2), CreatedBefore: created(64)}},
		{"resource and vault", backup.RecoveryPointFilter{ResourceARN: tableARN("t0"), VaultName: "vault-c", ResourceType: backup.ResourceTypeDynamoDB}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*backup.RecoveryPoint
			for _, p := range points {
				if matchPoint(tc.f, p) {
					want = append(want, p)
				}
			}
			newestFirst(want, pointKey)
			if len(want) == 0 {
				t.Fatalf("the case selects no point; fix the test")
			}
			checkListing(t, "ListRecoveryPoints", want, pointID, func(p backup.Page) ([]*backup.RecoveryPoint, string, error) {
				f := tc.f
				f.Page = p
				return c.ListRecoveryPoints(ctx(t), f)
			})
		})
	}
	points, next, err := c.ListRecoveryPoints(ctx(t), backup.RecoveryPointFilter{VaultName: "no-such-vault"})
	must(t, err, "ListRecoveryPoints of an unknown vault")
	if len(points) != 0 || next != "" {
		t.Fatalf("ListRecoveryPoints of an unknown vault: %d points, next %q", len(points), next)
	}
}

func testRecoveryPointLifecycleFilters(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	lifecycles := []backup.Lifecycle{
		{},
		{DeleteAfterDays: 35},
		{MoveToColdStorageAfterDays: 7, DeleteAfterDays: 97},
		{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91},
		{DeleteAfterDays: 1},
		{MoveToColdStorageAfterDays: 3},
	}
	const n = 60
	created := func(i int) time.Time { return at(time.Duration(i)*5*time.Hour + time.Duration(i)) }
	var points []*backup.RecoveryPoint
	for i := range n {
		p := newPoint(fmt.Sprintf("rp-%03d", i), []string{"vault-a", "vault-b"}[i%2], "orders", created(i))
		p.Lifecycle = lifecycles[i%len(lifecycles)]
		p.Status = allPointStatuses[(i/2)%len(allPointStatuses)]
		if i%4 == 3 {
			p.StorageClass = backup.StorageCold
		}
		points = append(points, p)
	}
	for _, i := range shuffled(n) {
		must(t, c.CreateRecoveryPoint(ctx(t), points[i]), "CreateRecoveryPoint "+points[i].ID)
	}
	// Updates recompute the dates: a later creation, a shorter lifecycle.
	points[2].CreationDate = points[2].CreationDate.Add(10 * 24 * time.Hour)
	points[8].Lifecycle = backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 2}
	points[9].StorageClass = backup.StorageCold
	for _, i := range []int{2, 8, 9} {
		must(t, c.UpdateRecoveryPoint(ctx(t), points[i]), "UpdateRecoveryPoint "+points[i].ID)
	}
	cold := func(i int) time.Time { d, _ := points[i].CalculatedLifecycle(); return d }
	del := func(i int) time.Time { _, d := points[i].CalculatedLifecycle(); return d }
	cases := []struct {
		name  string
		f     backup.RecoveryPointFilter
		empty bool
	}{
		{"warm", backup.RecoveryPointFilter{StorageClass: backup.StorageWarm}, false},
		{"cold", backup.RecoveryPointFilter{StorageClass: backup.StorageCold}, false},
		{"cold due, at a date", backup.RecoveryPointFilter{ColdDueBy: cold(20)}, false},
		{"cold due, a nanosecond before a date", backup.RecoveryPointFilter{ColdDueBy: cold(20).Add(-1)}, false},
		{"warm and cold due", backup.RecoveryPointFilter{StorageClass: backup.StorageWarm, ColdDueBy: cold(33)}, false},
		{"warm and cold due, updated", backup.RecoveryPointFilter{StorageClass: backup.StorageWarm, ColdDueBy: cold(8)}, false},
		{"warm, cold due and completed", backup.RecoveryPointFilter{StorageClass: backup.StorageWarm, ColdDueBy: cold(45),
			Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted}}, false},
		{"delete due, at a date", backup.RecoveryPointFilter{DeleteDueBy: del(28)}, false},
		{"delete due, updated", backup.RecoveryPointFilter{DeleteDueBy: del(8)}, false},
		{"delete due in a vault", backup.RecoveryPointFilter{DeleteDueBy: at(40 * 24 * time.Hour), VaultName: "vault-b"}, false},
		{"delete due, with statuses", backup.RecoveryPointFilter{DeleteDueBy: del(50),
			Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted, backup.RecoveryPointExpired}}, false},
		{"cold and delete due", backup.RecoveryPointFilter{ColdDueBy: cold(50), DeleteDueBy: del(52)}, false},
		{"everything due some day", backup.RecoveryPointFilter{ColdDueBy: at(1000 * 24 * time.Hour), DeleteDueBy: at(1000 * 24 * time.Hour)}, false},
		{"nothing due yet", backup.RecoveryPointFilter{DeleteDueBy: at(time.Hour)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []*backup.RecoveryPoint
			for _, p := range points {
				if matchPoint(tc.f, p) {
					want = append(want, p)
				}
			}
			newestFirst(want, pointKey)
			if (len(want) == 0) != tc.empty || len(want) == n {
				t.Fatalf("the case selects %d of %d points; fix the test", len(want), n)
			}
			checkListing(t, "ListRecoveryPoints", want, pointID, func(p backup.Page) ([]*backup.RecoveryPoint, string, error) {
				f := tc.f
				f.Page = p
				return c.ListRecoveryPoints(ctx(t), f)
			})
		})
	}
	_, _, err := c.ListRecoveryPoints(ctx(t), backup.RecoveryPointFilter{StorageClass: "GLACIER"})
	wantCode(t, err, backup.ErrInvalidParameter, "ListRecoveryPoints of an unknown StorageClass")
}

func testRecoveryPointPagingUnderInserts(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	pagingUnderInserts(t, func(id string, created time.Time) error {
		return c.CreateRecoveryPoint(ctx(t), newPoint(id, "vault-a", "orders", created))
	}, func(p backup.Page) ([]item, string, error) {
		points, next, err := c.ListRecoveryPoints(ctx(t), backup.RecoveryPointFilter{Page: p, VaultName: "vault-a"})
		out := make([]item, len(points))
		for i, rp := range points {
			out[i] = item{rp.ID, rp.CreationDate}
		}
		return out, next, err
	})
}

func testProtectedResources(t *testing.T, c backup.Catalog) {
	res, next, err := c.ListProtectedResources(ctx(t), backup.Page{})
	must(t, err, "ListProtectedResources of an empty catalog")
	if len(res) != 0 || next != "" {
		t.Fatalf("ListProtectedResources of an empty catalog: %d resources, next %q", len(res), next)
	}
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	create := func(id, vault, table string, created time.Time, s backup.RecoveryPointStatus) *backup.RecoveryPoint {
		t.Helper()
		p := newPoint(id, vault, table, created)
		p.Status = s
		must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint "+id)
		return p
	}
	// orders: the latest COMPLETED point is not the latest point.
	create("orders-1", "vault-a", "orders", at(1*time.Hour), backup.RecoveryPointCompleted)
	orders3 := create("orders-3", "vault-b", "orders", at(3*time.Hour), backup.RecoveryPointCompleted)
	orders3.ResourceName = "orders-renamed"
	must(t, c.UpdateRecoveryPoint(ctx(t), orders3), "UpdateRecoveryPoint")
	create("orders-4", "vault-a", "orders", at(4*time.Hour), backup.RecoveryPointPartial)
	orders5 := create("orders-5", "vault-a", "orders", at(5*time.Hour), backup.RecoveryPointCreating)
	// carts has no COMPLETED point.
	create("carts-1", "vault-a", "carts", at(1*time.Hour), backup.RecoveryPointCreating)
	create("carts-2", "vault-a", "carts", at(2*time.Hour), backup.RecoveryPointPartial)
	create("carts-3", "vault-a", "carts", at(3*time.Hour), backup.RecoveryPointDeleting)
	create("carts-4", "vault-a", "carts", at(4*time.Hour), backup.RecoveryPointExpired)
	var points []*backup.RecoveryPoint
	for i := range 11 {
		points = append(points, create(fmt.Sprintf("u-%02d", i), "vault-b", fmt.Sprintf("users-%02d", i), at(time.Duration(i)*time.Minute), backup.RecoveryPointCompleted))
	}
	protected := func(p *backup.RecoveryPoint) *backup.ProtectedResource {
		return &backup.ProtectedResource{
			ResourceARN: p.ResourceARN, ResourceType: p.ResourceType, ResourceName: p.ResourceName,
			LastBackupTime: p.CreationDate, LastBackupVaultARN: p.VaultARN, LastRecoveryPointARN: p.ARN,
		}
	}
	check := func(what string, latest ...*backup.RecoveryPoint) {
		t.Helper()
		var want []*backup.ProtectedResource
		for _, p := range latest {
			want = append(want, protected(p))
		}
		slices.SortFunc(want, func(a, b *backup.ProtectedResource) int {
			return strings.Compare(a.ResourceARN, b.ResourceARN)
		})
		for _, size := range []int{0, 1, 3} {
			got := collect(t, size, func(p backup.Page) ([]*backup.ProtectedResource, string, error) {
				return c.ListProtectedResources(ctx(t), p)
			})
			if len(got) != len(want) {
				t.Fatalf("%s, MaxResults %d: got %d resources, want %d", what, size, len(got), len(want))
			}
			for i := range got {
				wantEqual(t, fmt.Sprintf("%s, MaxResults %d, resource %d", what, size, i), got[i], want[i])
			}
		}
	}
	check("initially", append(slices.Clone(points), orders3)...)

	must(t, c.DeleteRecoveryPoint(ctx(t), "orders-3"), "DeleteRecoveryPoint")
	orders1, err := c.GetRecoveryPoint(ctx(t), "orders-1")
	must(t, err, "GetRecoveryPoint")
	check("after deleting the latest point", append(slices.Clone(points), orders1)...)

	orders5.Status = backup.RecoveryPointCompleted
	must(t, c.UpdateRecoveryPoint(ctx(t), orders5), "UpdateRecoveryPoint")
	check("after a newer point completes", append(slices.Clone(points), orders5)...)

	for _, id := range []string{"orders-1", "orders-4", "orders-5"} {
		must(t, c.DeleteRecoveryPoint(ctx(t), id), "DeleteRecoveryPoint")
	}
	check("after deleting all points of a resource", points...)
}
