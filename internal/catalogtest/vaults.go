package catalogtest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func testVaultCreateGet(t *testing.T, c backup.Catalog) {
	if _, err := c.GetVault(ctx(t), "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetVault of a missing vault: got %v, want NotFound", err)
	}
	v := newVault("vault-a")
	v.NumberOfRecoveryPoints = 99 // computed by the catalog; ignored on create
	must(t, c.CreateVault(ctx(t), v), "CreateVault")

	want := newVault("vault-a")
	v.Tags["team"] = "changed after create"
	got, err := c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	wantEqual(t, "GetVault", got, want)

	got.Tags["team"] = "changed after get"
	got, err = c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	wantEqual(t, "GetVault after changing a returned value", got, want)

	again := newVault("vault-a")
	again.CreatorRequestID = "other"
	wantCode(t, c.CreateVault(ctx(t), again), backup.ErrAlreadyExists, "CreateVault of an existing name")
	got, err = c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	wantEqual(t, "GetVault after a refused create", got, want)

	// A vault with only the required fields.
	bare := &backup.Vault{Name: "bare", ARN: vaultARN("bare"), CreationDate: at(0),
		Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: "/var/lib/cairn/bare"}}
	must(t, c.CreateVault(ctx(t), bare), "CreateVault bare")
	got, err = c.GetVault(ctx(t), "bare")
	must(t, err, "GetVault bare")
	wantEqual(t, "GetVault bare", got, bare)
}

func testVaultList(t *testing.T, c backup.Catalog) {
	got, next, err := c.ListVaults(ctx(t), backup.Page{})
	must(t, err, "ListVaults of an empty catalog")
	if len(got) != 0 || next != "" {
		t.Fatalf("ListVaults of an empty catalog: got %d vaults, next %q", len(got), next)
	}

	const n = 23
	var names []string
	for _, i := range shuffled(n) {
		name := fmt.Sprintf("vault-%02d", i)
		must(t, c.CreateVault(ctx(t), newVault(name)), "CreateVault")
	}
	for i := range n {
		names = append(names, fmt.Sprintf("vault-%02d", i))
	}
	for _, size := range []int{0, 1, 5, 22, 23, 24, 1000} {
		all := collect(t, size, func(p backup.Page) ([]*backup.Vault, string, error) { return c.ListVaults(ctx(t), p) })
		got := ids(all, func(v *backup.Vault) string { return v.Name })
		if !slices.Equal(got, names) {
			t.Fatalf("ListVaults, MaxResults %d:\n got %v\nwant %v", size, got, names)
		}
		for _, v := range all {
			wantEqual(t, "ListVaults "+v.Name, v, newVault(v.Name))
		}
	}
}

func testVaultDelete(t *testing.T, c backup.Catalog) {
	wantCode(t, c.DeleteVault(ctx(t), "missing"), backup.ErrNotFound, "DeleteVault of a missing vault")

	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	p := newPoint("rp-1", "vault-a", "orders", at(0))
	p.Status = backup.RecoveryPointCreating
	must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint")
	wantCode(t, c.DeleteVault(ctx(t), "vault-a"), backup.ErrInvalidRequest, "DeleteVault of a vault with a point")

	p.Status = backup.RecoveryPointDeleting
	must(t, c.UpdateRecoveryPoint(ctx(t), p), "UpdateRecoveryPoint to DELETING")
	v, err := c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	if v.NumberOfRecoveryPoints != 0 {
		t.Fatalf("NumberOfRecoveryPoints with one DELETING point: got %d, want 0", v.NumberOfRecoveryPoints)
	}
	wantCode(t, c.DeleteVault(ctx(t), "vault-a"), backup.ErrInvalidRequest, "DeleteVault of a vault with a DELETING point")

	must(t, c.DeleteRecoveryPoint(ctx(t), "rp-1"), "DeleteRecoveryPoint")
	must(t, c.DeleteVault(ctx(t), "vault-a"), "DeleteVault of an empty vault")
	if _, err := c.GetVault(ctx(t), "vault-a"); !backup.IsNotFound(err) {
		t.Fatalf("GetVault after DeleteVault: got %v, want NotFound", err)
	}
	wantCode(t, c.DeleteVault(ctx(t), "vault-a"), backup.ErrNotFound, "DeleteVault twice")
	vaults, _, err := c.ListVaults(ctx(t), backup.Page{})
	must(t, err, "ListVaults")
	if len(vaults) != 1 || vaults[0].Name != "vault-b" {
		t.Fatalf("ListVaults after DeleteVault: got %d vaults, want only vault-b", len(vaults))
	}
	// The name can be used again.
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault after DeleteVault")
}

func testVaultRecoveryPointCount(t *testing.T, c backup.Catalog) {
	for _, name := range []string{"vault-a", "vault-b", "vault-c"} {
		must(t, c.CreateVault(ctx(t), newVault(name)), "CreateVault")
	}
	statuses := []backup.RecoveryPointStatus{
		backup.RecoveryPointCreating, backup.RecoveryPointCompleted, backup.RecoveryPointPartial,
		backup.RecoveryPointExpired, backup.RecoveryPointDeleting, backup.RecoveryPointCompleted,
	}
	for i, s := range statuses {
		p := newPoint(fmt.Sprintf("a-%d", i), "vault-a", "orders", at(time.Duration(i)*time.Second))
		p.Status = s
		must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint")
	}
	for i := range 2 {
		must(t, c.CreateRecoveryPoint(ctx(t), newPoint(fmt.Sprintf("b-%d", i), "vault-b", "orders", at(0))), "CreateRecoveryPoint")
	}
	want := map[string]int64{"vault-a": 5, "vault-b": 2, "vault-c": 0}
	for name, n := range want {
		v, err := c.GetVault(ctx(t), name)
		must(t, err, "GetVault")
		if v.NumberOfRecoveryPoints != n {
			t.Errorf("GetVault(%s).NumberOfRecoveryPoints = %d, want %d", name, v.NumberOfRecoveryPoints, n)
		}
	}
	vaults, _, err := c.ListVaults(ctx(t), backup.Page{})
	must(t, err, "ListVaults")
	for _, v := range vaults {
		if v.NumberOfRecoveryPoints != want[v.Name] {
			t.Errorf("ListVaults: %s has NumberOfRecoveryPoints %d, want %d", v.Name, v.NumberOfRecoveryPoints, want[v.Name])
		}
	}
	must(t, c.DeleteRecoveryPoint(ctx(t), "a-0"), "DeleteRecoveryPoint")
	v, err := c.GetVault(ctx(t), "vault-a")
	must(t, err, "GetVault")
	if v.NumberOfRecoveryPoints != 4 {
		t.Errorf("NumberOfRecoveryPoints after a delete = %d, want 4", v.NumberOfRecoveryPoints)
	}

	moved := newPoint("b-0", "vault-c", "orders", at(0))
	must(t, c.UpdateRecoveryPoint(ctx(t), moved), "UpdateRecoveryPoint to another vault")
	for name, n := range map[string]int64{"vault-b": 1, "vault-c": 1} {
		v, err := c.GetVault(ctx(t), name)
		must(t, err, "GetVault")
		if v.NumberOfRecoveryPoints != n {
			t.Errorf("after moving a point, %s has NumberOfRecoveryPoints %d, want %d", name, v.NumberOfRecoveryPoints, n)
		}
	}
}
