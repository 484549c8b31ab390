package rebuild_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/rebuild"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/vault"
)

const region, account = "us-east-1", "000000000000"

func openStore(_ context.Context, st backup.VaultStorage) (blob.Store, error) {
	return fileblob.New(st.Path)
}

var t0 = time.Date(2026, 3, 1, 5, 0, 0, 123456789, time.UTC)

// env is a data dir with file vaults written as the server writes them.
type env struct {
	t       *testing.T
	dataDir string
}

func (e *env) vaultDir(name string) string { return filepath.Join(e.dataDir, "vaults", name) }

func (e *env) store(dir string) *vault.Vault {
	e.t.Helper()
	st, err := fileblob.New(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	return vault.New(st)
}

// newVault writes a vault's record, as CreateVault does.
func (e *env) newVault(name string, tags map[string]string) *backup.Vault {
	e.t.Helper()
	v := &backup.Vault{Name: name, ARN: backup.VaultARN(region, account, name), AccountID: account, Region: region,
		CreationDate: t0, CreatorRequestID: "req-" + name, Tags: tags,
		Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: e.vaultDir(name)}}
	b, err := backup.MarshalVaultRecord(v)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store(v.Storage.Path).PutVaultRecord(context.Background(), b); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// point writes a complete point of n items into dir, with rec as its record
// (none if nil), as a backup job does.
func (e *env) point(dir, id string, n int, rec *backup.RecoveryPoint) {
	e.t.Helper()
	ctx := context.Background()
	vt := e.store(dir)
	w, err := vt.Create(ctx, id, vault.WriterOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	fw := w.NewFile()
	for i := range n {
		if err := fw.WriteItem(fmt.Appendf(nil, `{"pk":{"S":"%s-%d"}}`, id, i)); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		e.t.Fatal(err)
	}
	if rec != nil {
		b, err := backup.MarshalPointRecord(rec)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := vt.PutPointRecord(ctx, id, b); err != nil {
			e.t.Fatal(err)
		}
	}
	meta := fmt.Appendf(nil, `{"table":{"TableName":"orders","TableArn":"%s","BillingMode":"PAY_PER_REQUEST"},"resourceArn":"%s","backupJobId":"JOB-%s"}`,
		backup.TableARN(region, account, "orders"), backup.TableARN(region, account, "orders"), id)
	items := int64(n)
	if _, err := w.Commit(ctx, vault.CommitInfo{TableARN: backup.TableARN(region, account, "orders"), StartTime: t0,
		EndTime: t0.Add(time.Minute), ScanStartTime: t0, ExpectedItemCount: &items, Metadata: meta, ContentChecksum: "v2:" + id}); err != nil {
		e.t.Fatal(err)
	}
}

// record returns the record of a point of vault v made by a plan.
func record(v *backup.Vault, id string) *backup.RecoveryPoint {
	return &backup.RecoveryPoint{
		ID: id, ARN: backup.RecoveryPointARN(region, account, id), AccountID: account, Region: region,
		VaultName: v.Name, VaultARN: v.ARN, ResourceARN: backup.TableARN(region, account, "orders"),
		ResourceType: backup.ResourceTypeDynamoDB, ResourceName: "orders", IAMRoleARN: "arn:aws:iam::000000000000:role/r",
		BackupJobID: "JOB-" + id, Status: backup.RecoveryPointCompleted, StorageClass: backup.StorageWarm,
		CreationDate: t0.Add(-time.Second), CompletionDate: t0.Add(2 * time.Minute), ItemCount: 5, ContentChecksum: "v2:" + id,
		Lifecycle: backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 365},
		Tags:      map[string]string{"team": "data"}, CreatedBy: &backup.CreatedBy{BackupPlanID: "plan-1", BackupRuleID: "rule-1", BackupRuleName: "daily"},
		RestoreMetadata: map[string]string{"originalTableName": "orders", "ItemCount": "5"},
	}
}

func (e *env) run(cat backup.Catalog, dryRun bool, extra ...rebuild.Location) *rebuild.Result {
	e.t.Helper()
	locs, err := rebuild.DataDirVaults(e.dataDir)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := rebuild.Run(context.Background(), rebuild.Config{Catalog: cat, OpenStore: openStore, Region: region, AccountID: account,
		DryRun: dryRun, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return t0.Add(time.Hour) }},
		append(locs, extra...))
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func memCatalog(t *testing.T) *sqlite.Catalog {
	t.Helper()
	c, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRebuild(t *testing.T) {
	ctx := context.Background()
	e := &env{t: t, dataDir: t.TempDir()}
	def := e.newVault("Default", map[string]string{"owner": "ops"})
	withRecord := record(def, "RP-RECORD")
	e.point(def.Storage.Path, withRecord.ID, 5, withRecord)
	e.point(def.Storage.Path, "RP-OLD", 3, nil) // made before records existed
	// A cold point, and one whose cold move was cut short (in both places).
	coldRec := record(def, "RP-COLD")
	coldRec.StorageClass = backup.StorageCold
	e.point(def.Storage.ColdDir(), coldRec.ID, 5, coldRec)
	both := record(def, "RP-BOTH")
	e.point(def.Storage.Path, both.ID, 5, both)
	bothCold := *both
	bothCold.StorageClass = backup.StorageCold
	e.point(def.Storage.ColdDir(), both.ID, 5, &bothCold)
	// An incomplete point: no summary.
	w, err := e.store(def.Storage.Path).Create(ctx, "RP-CUT", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w
	// A vault directory without a record.
	e.point(e.vaultDir("bare"), "RP-BARE", 2, nil)
	// A vault elsewhere, given by its location.
	elsewhere := filepath.Join(t.TempDir(), "offsite")
	off := &backup.Vault{Name: "offsite", ARN: backup.VaultARN(region, account, "offsite"), AccountID: account, Region: region, CreationDate: t0,
		Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: elsewhere}}
	b, _ := backup.MarshalVaultRecord(off)
	if err := e.store(elsewhere).PutVaultRecord(ctx, b); err != nil {
		t.Fatal(err)
	}
	offRec := record(off, "RP-OFF")
	e.point(elsewhere, offRec.ID, 5, offRec)
	offLoc := rebuild.Location{Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: elsewhere}}

	// A dry run adds nothing.
	cat := memCatalog(t)
	res := e.run(cat, true, offLoc)
	if res.Added() != 6 {
		t.Fatalf("a dry run would add %d points, want 6: %+v", res.Added(), res.Vaults)
	}
	if vs, _, _ := cat.ListVaults(ctx, backup.Page{}); len(vs) != 0 {
		t.Fatalf("a dry run added vaults: %v", vs)
	}

	res = e.run(cat, false, offLoc)
	if res.Added() != 6 {
		t.Fatalf("added %d points, want 6; %+v", res.Added(), res.Problems())
	}
	gotV, err := cat.GetVault(ctx, "Default")
	if err != nil {
		t.Fatal(err)
	}
	gotV.NumberOfRecoveryPoints = 0
	if !reflect.DeepEqual(gotV, def) {
		t.Fatalf("vault Default:\n got %+v\nwant %+v", gotV, def)
	}
	got, err := cat.GetRecoveryPoint(ctx, withRecord.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *withRecord
	want.BackupSizeInBytes = got.BackupSizeInBytes // the summary's
	if got.BackupSizeInBytes <= 0 || !reflect.DeepEqual(got, &want) {
		t.Fatalf("point with a record:\n got %+v\nwant %+v", got, &want)
	}
	old, err := cat.GetRecoveryPoint(ctx, "RP-OLD")
	if err != nil || old.ResourceARN != backup.TableARN(region, account, "orders") || old.ResourceName != "orders" ||
		old.ItemCount != 3 || old.Status != backup.RecoveryPointCompleted || !old.CreationDate.Equal(t0.Truncate(time.Millisecond)) || old.BackupJobID != "JOB-RP-OLD" ||
		old.RestoreMetadata["originalTableName"] != "orders" || old.ContentChecksum != "v2:RP-OLD" || old.VaultARN != def.ARN {
		t.Fatalf("point without a record: %+v, %v", old, err)
	}
	if cold, err := cat.GetRecoveryPoint(ctx, "RP-COLD"); err != nil || cold.StorageClass != backup.StorageCold || cold.Lifecycle != coldRec.Lifecycle {
		t.Fatalf("cold point: %+v, %v", cold, err)
	}
	if b, err := cat.GetRecoveryPoint(ctx, "RP-BOTH"); err != nil || b.StorageClass != backup.StorageWarm {
		t.Fatalf("point in warm and cold storage: %+v, %v; want WARM", b, err)
	}
	if _, err := cat.GetRecoveryPoint(ctx, "RP-CUT"); !backup.IsNotFound(err) {
		t.Fatalf("incomplete point: %v, want it left out", err)
	}
	if bare, err := cat.GetRecoveryPoint(ctx, "RP-BARE"); err != nil || bare.VaultName != "bare" {
		t.Fatalf("point of a vault without a record: %+v, %v", bare, err)
	}
	if o, err := cat.GetRecoveryPoint(ctx, "RP-OFF"); err != nil || o.VaultName != "offsite" || o.CreatedBy == nil {
		t.Fatalf("point of a vault elsewhere: %+v, %v", o, err)
	}
	if len(res.Problems()) > 0 {
		t.Errorf("problems: %v", res.Problems())
	}
	notes := strings.Join(res.Notes(), "\n")
	for _, want := range []string{"RP-OLD: no usable record", "bare: the vault has no record"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	for _, v := range res.Vaults {
		if v.Name == "Default" && v.Incomplete != 1 {
			t.Errorf("Default: %d incomplete points reported, want 1", v.Incomplete)
		}
	}

	// Again: everything is known, nothing is added (a merge).
	res = e.run(cat, false, offLoc)
	if res.Added() != 0 {
		t.Fatalf("a second rebuild added %d points", res.Added())
	}
	// A point the catalog lacks is added to a catalog that has the rest.
	late := record(def, "RP-LATE")
	e.point(def.Storage.Path, late.ID, 4, late)
	res = e.run(cat, false, offLoc)
	if res.Added() != 1 {
		t.Fatalf("a merge added %d points, want 1 (%v)", res.Added(), res.Problems())
	}
	if _, err := cat.GetRecoveryPoint(ctx, late.ID); err != nil {
		t.Fatal(err)
	}
}

// A location whose vault the catalog keeps elsewhere adds nothing, and a
// location that does not exist is a problem, not a new directory.
func TestRebuildRefusesOtherLocations(t *testing.T) {
	ctx := context.Background()
	e := &env{t: t, dataDir: t.TempDir()}
	def := e.newVault("Default", nil)
	e.point(def.Storage.Path, "RP-1", 2, record(def, "RP-1"))
	cat := memCatalog(t)
	other := *def
	other.Storage.Path = "/somewhere/else"
	if err := cat.CreateVault(ctx, &other); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	res := e.run(cat, false, rebuild.Location{Name: "gone", Storage: backup.VaultStorage{Kind: backup.StorageFile, Path: missing}})
	if res.Added() != 0 {
		t.Fatalf("added %d points of a vault the catalog keeps elsewhere", res.Added())
	}
	problems := strings.Join(res.Problems(), "\n")
	if !strings.Contains(problems, "keeps its points in file:///somewhere/else") || !strings.Contains(problems, "cannot read the vault's directory") {
		t.Fatalf("problems: %s", problems)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("the rebuild created a missing location")
	}
}
