package runner

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/vault"
)

// pointRecord reads and decodes point id's record from the fixture's store.
func (f *fixture) pointRecord(t *testing.T, id string) (*backup.RecoveryPoint, error) {
	t.Helper()
	b, err := vault.New(f.store).PointRecord(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return backup.UnmarshalPointRecord(b)
}

// A completed point's record is the catalog's entry, and stays so when its
// lifecycle changes; a lifecycle that cannot be written beside the data is
// not changed in the catalog either. Points and vaults recorded before
// records existed get them at the next start (13.3).
func TestPointRecords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, rp := f.completedBackup(t, "records", 30)
	rec, err := f.pointRecord(t, rp.ID)
	if err != nil || !reflect.DeepEqual(rec, rp) {
		t.Fatalf("record of a completed point:\n got %+v, %v\nwant %+v", rec, err, rp)
	}

	l := backup.Lifecycle{DeleteAfterDays: 42}
	upd, err := f.svc.UpdateRecoveryPointLifecycle(ctx, "Default", rp.ARN, l)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := f.pointRecord(t, rp.ID); err != nil || !reflect.DeepEqual(rec, upd) {
		t.Fatalf("record after a lifecycle update:\n got %+v, %v\nwant %+v", rec, err, upd)
	}
	if err := f.svc.TagResource(ctx, rp.ARN, map[string]string{"ticket": "42"}); err != nil {
		t.Fatal(err)
	}
	upd, err = f.cat.GetRecoveryPoint(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := f.pointRecord(t, rp.ID); err != nil || !reflect.DeepEqual(rec, upd) || rec.Tags["ticket"] != "42" {
		t.Fatalf("record after TagResource:\n got %+v, %v\nwant %+v", rec, err, upd)
	}
	f.store.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.PointRecordKey(rp.ID), Err: errors.New("disk on fire")})
	if _, err := f.svc.UpdateRecoveryPointLifecycle(ctx, "Default", rp.ARN, backup.Lifecycle{DeleteAfterDays: 7}); err == nil {
		t.Fatal("a lifecycle that could not be written beside the data was accepted")
	}
	f.store.Reset()
	if got, err := f.cat.GetRecoveryPoint(ctx, rp.ID); err != nil || got.Lifecycle != l {
		t.Fatalf("the catalog after a refused lifecycle update: %+v, %v; want lifecycle %+v", got, err, l)
	}

	// As an earlier version left them: no point record, a three-key marker.
	if err := f.store.Delete(ctx, vault.PointRecordKey(rp.ID)); err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"vault":"Default","account":"000000000000","region":"us-east-1"}`)
	if err := f.store.Put(ctx, markerKey, bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	svc := f.newService(t, f.cat, nil)
	svc.Wait()
	if rec, err := f.pointRecord(t, rp.ID); err != nil || !reflect.DeepEqual(rec, upd) {
		t.Fatalf("record written at start:\n got %+v, %v\nwant %+v", rec, err, upd)
	}
	b, err := vault.New(f.store).VaultRecord(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := backup.UnmarshalVaultRecord(b)
	want, _ := f.cat.GetVault(ctx, "Default")
	want.NumberOfRecoveryPoints = 0
	if len(want.Tags) == 0 {
		want.Tags = nil
	}
	if err != nil || !reflect.DeepEqual(v, want) || !strings.Contains(string(b), `"formatVersion"`) {
		t.Fatalf("vault record after the start: %s (%+v, %v); want %+v", b, v, err, want)
	}
}
