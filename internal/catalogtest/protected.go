package catalogtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// testProtectedResourceLookups: GetProtectedResource gives a resource's
// latest COMPLETED point, ListProtectedResourcesByVault the latest one in a
// vault, and neither sees points that are not COMPLETED.
func testProtectedResourceLookups(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	create := func(id, vault, table string, created time.Time, s backup.RecoveryPointStatus) *backup.RecoveryPoint {
		t.Helper()
		p := newPoint(id, vault, table, created)
		p.Status = s
		must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint "+id)
		return p
	}
	o1 := create("o-1", "vault-a", "orders", at(1*time.Hour), backup.RecoveryPointCompleted)
	o2 := create("o-2", "vault-b", "orders", at(2*time.Hour), backup.RecoveryPointCompleted)
	create("o-3", "vault-a", "orders", at(3*time.Hour), backup.RecoveryPointPartial)
	create("c-1", "vault-a", "carts", at(1*time.Hour), backup.RecoveryPointCreating)
	var users []*backup.RecoveryPoint
	for i := range 5 {
		users = append(users, create(fmt.Sprintf("u-%d", i), "vault-a", fmt.Sprintf("users-%d", i), at(time.Duration(i)*time.Minute), backup.RecoveryPointCompleted))
	}
	pr := func(p *backup.RecoveryPoint) *backup.ProtectedResource {
		return &backup.ProtectedResource{ResourceARN: p.ResourceARN, ResourceType: p.ResourceType, ResourceName: p.ResourceName,
			LastBackupTime: p.CreationDate, LastBackupVaultARN: p.VaultARN, LastRecoveryPointARN: p.ARN}
	}

	got, err := c.GetProtectedResource(ctx(t), tableARN("orders"))
	must(t, err, "GetProtectedResource")
	wantEqual(t, "GetProtectedResource orders", got, pr(o2))
	_, err = c.GetProtectedResource(ctx(t), tableARN("carts"))
	wantCode(t, err, backup.ErrNotFound, "GetProtectedResource of a table without a COMPLETED point")
	_, err = c.GetProtectedResource(ctx(t), tableARN("nope"))
	wantCode(t, err, backup.ErrNotFound, "GetProtectedResource of an unknown table")

	for _, size := range []int{0, 1, 2} {
		list := collect(t, size, func(p backup.Page) ([]*backup.ProtectedResource, string, error) {
			return c.ListProtectedResourcesByVault(ctx(t), "vault-a", p)
		})
		want := []*backup.ProtectedResource{pr(o1)} // orders' latest point in vault-a, not o-2 of vault-b
		for _, u := range users {
			want = append(want, pr(u))
		}
		if len(list) != len(want) {
			t.Fatalf("ListProtectedResourcesByVault vault-a, MaxResults %d: %d resources, want %d", size, len(list), len(want))
		}
		for i := range list {
			wantEqual(t, fmt.Sprintf("ListProtectedResourcesByVault vault-a, MaxResults %d, resource %d", size, i), list[i], want[i])
		}
	}
	list, next, err := c.ListProtectedResourcesByVault(ctx(t), "vault-b", backup.Page{})
	must(t, err, "ListProtectedResourcesByVault vault-b")
	if len(list) != 1 || next != "" {
		t.Fatalf("ListProtectedResourcesByVault vault-b: %d resources, next %q", len(list), next)
	}
	wantEqual(t, "ListProtectedResourcesByVault vault-b", list[0], pr(o2))

	_, next, err = c.ListProtectedResourcesByVault(ctx(t), "vault-a", backup.Page{MaxResults: 1})
	must(t, err, "ListProtectedResourcesByVault")
	_, _, err = c.ListProtectedResourcesByVault(ctx(t), "vault-b", backup.Page{NextToken: next})
	wantCode(t, err, backup.ErrInvalidParameter, "a NextToken of vault-a given for vault-b")
	_, _, err = c.ListProtectedResources(ctx(t), backup.Page{NextToken: next})
	wantCode(t, err, backup.ErrInvalidParameter, "a NextToken of ListProtectedResourcesByVault given to ListProtectedResources")
}
