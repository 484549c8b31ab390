package catalogtest

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// tagsOf returns the stored tags of the resource t names.
func tagsOf(t *testing.T, c backup.Catalog, tt backup.TagTarget) map[string]string {
	t.Helper()
	var tags map[string]string
	switch tt.Kind {
	case backup.TagKindVault:
		v, err := c.GetVault(ctx(t), tt.ID)
		must(t, err, "GetVault")
		tags = v.Tags
	case backup.TagKindPlan:
		tags = getPlan(t, c, tt.ID, "").Tags
	case backup.TagKindRecoveryPoint:
		p, err := c.GetRecoveryPoint(ctx(t), tt.ID)
		must(t, err, "GetRecoveryPoint")
		tags = p.Tags
	}
	return emptyNil(tags)
}

func testTags(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-b")), "CreateVault")
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-1", "daily", at(0))), "CreateBackupPlan")
	p := newPoint("rp-1", "vault-a", "orders", at(0))
	p.Tags = nil
	must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint")

	targets := []struct {
		target  backup.TagTarget
		initial map[string]string
	}{
		{backup.TagTarget{Kind: backup.TagKindVault, ID: "vault-a"}, newVault("vault-a").Tags},
		{backup.TagTarget{Kind: backup.TagKindPlan, ID: "plan-1"}, newPlan("plan-1", "daily", at(0)).Tags},
		{backup.TagTarget{Kind: backup.TagKindRecoveryPoint, ID: "rp-1"}, nil},
	}
	for _, tt := range targets {
		t.Run(string(tt.target.Kind), func(t *testing.T) {
			var seen map[string]string
			must(t, c.UpdateTags(ctx(t), tt.target, func(tags map[string]string) error {
				if tags == nil {
					return errors.New("update was given a nil map")
				}
				seen = maps.Clone(tags)
				tags["added"] = "1"
				tags["other"] = "x y"
				return nil
			}), "UpdateTags adding")
			wantEqual(t, "tags UpdateTags saw", emptyNil(seen), emptyNil(tt.initial))
			want := maps.Clone(tt.initial)
			if want == nil {
				want = map[string]string{}
			}
			want["added"], want["other"] = "1", "x y"
			wantEqual(t, "tags after adding", tagsOf(t, c, tt.target), want)

			refused := errors.New("refused")
			err := c.UpdateTags(ctx(t), tt.target, func(tags map[string]string) error {
				clear(tags)
				tags["half"] = "made"
				return refused
			})
			if !errors.Is(err, refused) {
				t.Fatalf("UpdateTags whose update fails: got %v, want its error", err)
			}
			wantEqual(t, "tags after a refused update", tagsOf(t, c, tt.target), want)

			must(t, c.UpdateTags(ctx(t), tt.target, func(tags map[string]string) error {
				clear(tags)
				return nil
			}), "UpdateTags removing all")
			wantEqual(t, "tags after removing all", tagsOf(t, c, tt.target), emptyNil(nil))

			missing := tt.target
			missing.ID = "missing-" + tt.target.ID
			called := false
			err = c.UpdateTags(ctx(t), missing, func(map[string]string) error { called = true; return nil })
			wantCode(t, err, backup.ErrNotFound, "UpdateTags of a missing resource")
			if called {
				t.Error("UpdateTags of a missing resource called update")
			}
		})
	}

	// A plan's tags are shared by its versions and kept by UpdateBackupPlan.
	plan := backup.TagTarget{Kind: backup.TagKindPlan, ID: "plan-1"}
	must(t, c.UpdateTags(ctx(t), plan, func(tags map[string]string) error { tags["team"] = "blue"; return nil }), "UpdateTags plan")
	prev := getPlan(t, c, "plan-1", "")
	v2 := nextVersion(prev, "v2", "daily", at(time.Hour))
	v2.Tags = map[string]string{"ignored": "by UpdateBackupPlan"}
	must(t, c.UpdateBackupPlan(ctx(t), v2), "UpdateBackupPlan")
	wantEqual(t, "plan tags after UpdateBackupPlan", tagsOf(t, c, plan), map[string]string{"team": "blue"})
	wantEqual(t, "tags of the plan's first version", emptyNil(getPlan(t, c, "plan-1", prev.VersionID).Tags), map[string]string{"team": "blue"})

	// A point's tags are kept by UpdateRecoveryPoint.
	point := backup.TagTarget{Kind: backup.TagKindRecoveryPoint, ID: "rp-1"}
	must(t, c.UpdateTags(ctx(t), point, func(tags map[string]string) error { tags["env"] = "prod"; return nil }), "UpdateTags point")
	stale := newPoint("rp-1", "vault-a", "orders", at(0)) // read before the tags changed
	stale.Tags = map[string]string{"env": "stale"}
	stale.StorageClass = backup.StorageCold
	must(t, c.UpdateRecoveryPoint(ctx(t), stale), "UpdateRecoveryPoint")
	wantEqual(t, "point tags after UpdateRecoveryPoint", tagsOf(t, c, point), map[string]string{"env": "prod"})

	// A deleted plan has no tags to change.
	_, err := c.DeleteBackupPlan(ctx(t), "plan-1", at(2*time.Hour))
	must(t, err, "DeleteBackupPlan")
	wantCode(t, c.UpdateTags(ctx(t), plan, func(map[string]string) error { return nil }), backup.ErrNotFound, "UpdateTags of a deleted plan")

	// Another vault's tags are not touched.
	wantEqual(t, "tags of another vault", tagsOf(t, c, backup.TagTarget{Kind: backup.TagKindVault, ID: "vault-b"}), newVault("vault-b").Tags)
}

// testTagsConcurrent runs many UpdateTags on one resource at once, each
// adding its own key: none may be lost.
func testTagsConcurrent(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	target := backup.TagTarget{Kind: backup.TagKindVault, ID: "vault-a"}
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- c.UpdateTags(ctx(t), target, func(tags map[string]string) error {
				tags[fmt.Sprintf("k%02d", i)] = "v"
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent UpdateTags")
	}
	got := tagsOf(t, c, target)
	for i := range n {
		if _, ok := got[fmt.Sprintf("k%02d", i)]; !ok {
			t.Errorf("tag k%02d of a concurrent UpdateTags was lost", i)
		}
	}
}

// emptyNil returns nil for an empty map: to a catalog the two are the same.
func emptyNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
