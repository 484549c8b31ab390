package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	s3blob "github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

// lcEnv runs Services on a real SQLite catalog and a fake clock, with real
// vault storage: a directory per file vault (and per cold directory), a
// versitygw bucket per S3 vault; every store wrapped in blobfault, so tests
// can fail any step. Services made by newService share the catalog and the
// stores, as a restarted process would.
type lcEnv struct {
	t       *testing.T
	clock   *clock.Fake
	cat     *faultCatalog
	dataDir string
	// diskDir is the directory the operator allows file vaults in,
	// outside the data dir.
	diskDir string
	// adjust, if set, changes the Config of every Service newService
	// starts.
	adjust func(*Config)

	mu     sync.Mutex
	stores map[string]*blobfault.Store // by storage location
	// memS3, if set, serves S3 vaults from memory (storage classes
	// honoured) instead of versitygw.
	memS3   bool
	versity *testbed.S3
	dyn     *dynamodb.Client
	db      *sdk.Client
}

var t0 = time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC)

// testS3Endpoint is the S3 endpoint the tests' policy allows; lcEnv's
// openStore serves every S3 vault from versitygw (or memory) whatever it
// says.
const testS3Endpoint = "http://127.0.0.1:1"

func newLCEnv(t *testing.T) *lcEnv {
	t.Helper()
	cat, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return &lcEnv{t: t, clock: clock.NewFake(t0), cat: &faultCatalog{Catalog: cat}, dataDir: t.TempDir(),
		diskDir: t.TempDir(), stores: map[string]*blobfault.Store{}}
}

// withDynamo starts dynalite for tests that back up and restore tables.
func (e *lcEnv) withDynamo() *lcEnv {
	dyn := testbed.Dynalite(e.t)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(dyn.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	client, err := dynamodb.New(cfg, dynamodb.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.dyn, e.db = client, sdk.NewFromConfig(cfg)
	return e
}

func (e *lcEnv) openStore(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := st.String()
	if st.Kind == backup.StorageS3 {
		key += " at " + st.Endpoint
	}
	if s, ok := e.stores[key]; ok {
		return s, nil
	}
	var inner blob.Store
	switch {
	case st.Kind == backup.StorageFile:
		fs, err := file.New(st.Path)
		if err != nil {
			return nil, err
		}
		inner = fs
	case e.memS3:
		inner = mem.New()
	default:
		if e.versity == nil {
			e.versity = testbed.Versity(e.t)
		}
		s, err := s3blob.New(ctx, s3blob.Config{Bucket: st.Bucket, Prefix: st.Prefix, Endpoint: e.versity.Endpoint,
			Region: "us-east-1", PathStyle: true, AccessKey: e.versity.AccessKey, SecretKey: e.versity.SecretKey})
		if err != nil {
			return nil, err
		}
		if err := s.EnsureBucket(ctx); err != nil {
			return nil, err
		}
		inner = s
	}
	s := blobfault.New(inner)
	e.stores[key] = s
	return s, nil
}

// store returns the (fault-injecting) store at a storage location.
func (e *lcEnv) store(st backup.VaultStorage) *blobfault.Store {
	e.t.Helper()
	s, err := e.openStore(context.Background(), st)
	if err != nil {
		e.t.Fatal(err)
	}
	return s.(*blobfault.Store)
}

// newService starts a Service as a (re)started process would: New, then
// Recover.
func (e *lcEnv) newService() *Service {
	e.t.Helper()
	cfg := Config{Catalog: e.cat, OpenStore: e.openStore, DataDir: e.dataDir, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ProgressInterval: 10 * time.Millisecond,
		Retry: dynamodb.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		Storage: backup.StoragePolicy{AllowedPaths: []string{e.diskDir},
			Endpoints: []backup.S3Endpoint{{Name: "test", URL: testS3Endpoint, PathStyle: true}}}}
	if e.adjust != nil {
		e.adjust(&cfg)
	}
	if e.dyn != nil {
		cfg.Sources = []*Source{{Name: "local", Client: e.dyn}}
	}
	svc, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { svc.Close() })
	if err := svc.Recover(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	svc.Wait() // the background sweep
	return svc
}

func (e *lcEnv) vault(svc *Service, name string, tags map[string]string) *backup.Vault {
	e.t.Helper()
	v, err := svc.CreateVault(context.Background(), backup.CreateVaultInput{Name: name, Tags: tags})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *lcEnv) fileVault(svc *Service, name string) *backup.Vault {
	return e.vault(svc, name, map[string]string{backup.TagStorage: filepath.Join(e.diskDir, name)})
}

func (e *lcEnv) s3Vault(svc *Service, name string, extra map[string]string) *backup.Vault {
	tags := map[string]string{backup.TagStorage: "s3://" + strings.ToLower(name) + "-bucket/vaults/" + name,
		backup.TagS3Endpoint: testS3Endpoint}
	for k, v := range extra {
		tags[k] = v
	}
	return e.vault(svc, name, tags)
}

func coldStorage(v *backup.Vault) backup.VaultStorage {
	return backup.VaultStorage{Kind: backup.StorageFile, Path: v.Storage.ColdDir()}
}

// point writes a small complete recovery point into v, created now with
// lifecycle l, and records it COMPLETED.
func (e *lcEnv) point(v *backup.Vault, l backup.Lifecycle) *backup.RecoveryPoint {
	e.t.Helper()
	ctx := context.Background()
	id := newID()
	w, err := vault.New(e.store(v.Storage)).Create(ctx, id, vault.WriterOptions{MaxFileBytes: 8 << 10})
	if err != nil {
		e.t.Fatal(err)
	}
	fw := w.NewFile()
	for i := range 100 {
		if err := fw.WriteItem(fmt.Appendf(nil, `{"pk":{"S":"item-%d"},"pad":{"S":"%s"}}`, i, strings.Repeat("x", 200+i))); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		e.t.Fatal(err)
	}
	m, err := w.Commit(ctx, vault.CommitInfo{Metadata: json.RawMessage(`{"recoveryPointId":"` + id + `"}`), ContentChecksum: "sum"})
	if err != nil {
		e.t.Fatal(err)
	}
	rp := &backup.RecoveryPoint{ID: id, ARN: backup.RecoveryPointARN("us-east-1", "000000000000", id),
		AccountID: "000000000000", Region: "us-east-1", VaultName: v.Name, VaultARN: v.ARN,
		ResourceARN: backup.TableARN("us-east-1", "000000000000", "orders"), ResourceType: backup.ResourceTypeDynamoDB,
		ResourceName: "orders", Status: backup.RecoveryPointCompleted, StorageClass: backup.StorageWarm,
		CreationDate: e.clock.Now(), CompletionDate: e.clock.Now(), BackupSizeInBytes: m.Summary.Cairn.StoredBytes,
		ItemCount: 100, ContentChecksum: "sum", Lifecycle: l}
	if err := e.cat.CreateRecoveryPoint(ctx, rp); err != nil {
		e.t.Fatal(err)
	}
	return rp
}

func (e *lcEnv) get(id string) *backup.RecoveryPoint {
	e.t.Helper()
	rp, err := e.cat.GetRecoveryPoint(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rp
}

func (e *lcEnv) gone(id string) {
	e.t.Helper()
	if _, err := e.cat.GetRecoveryPoint(context.Background(), id); !backup.IsNotFound(err) {
		e.t.Fatalf("recovery point %s: %v, want it deleted", id, err)
	}
}

// keys lists the objects of point id in st.
func (e *lcEnv) keys(st backup.VaultStorage, id string) []string {
	e.t.Helper()
	var keys []string
	if err := e.store(st).List(context.Background(), vault.PointPrefix(id), func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// allKeys lists every recovery point object in st.
func (e *lcEnv) allKeys(st backup.VaultStorage) []string {
	e.t.Helper()
	var keys []string
	if err := e.store(st).List(context.Background(), vault.RootPrefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return keys
}

func (e *lcEnv) checkStored(st backup.VaultStorage, id string) {
	e.t.Helper()
	if _, err := vault.New(e.store(st)).CheckStored(context.Background(), id); err != nil {
		e.t.Fatalf("point %s in %s: %v", id, st, err)
	}
}

// table creates a table with n random items and returns its ARN.
func (e *lcEnv) table(name string, n int) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.db.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		e.t.Fatal(err)
	}
	waiter := sdk.NewTableExistsWaiter(e.db, func(o *sdk.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := waiter.Wait(ctx, &sdk.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		e.t.Fatal(err)
	}
	for _, raw := range ddbjson.RandomItems(rand.New(rand.NewPCG(uint64(n), 7)), n, 500) {
		av, err := ddbjson.ToAttributeValues(raw)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.db.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String(name), Item: av}); err != nil {
			e.t.Fatal(err)
		}
	}
	return backup.TableARN("us-east-1", "000000000000", name)
}

// backup backs table arn up into v and returns the COMPLETED point.
func (e *lcEnv) backup(svc *Service, v *backup.Vault, arn string, l backup.Lifecycle) *backup.RecoveryPoint {
	e.t.Helper()
	j, err := svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: v.Name, ResourceARN: arn, Lifecycle: l})
	if err != nil {
		e.t.Fatal(err)
	}
	svc.Wait()
	if j, err = svc.GetBackupJob(context.Background(), j.ID); err != nil || j.State != backup.JobCompleted {
		e.t.Fatalf("backup job: %+v, %v", j, err)
	}
	return e.get(recoveryPointID(j.RecoveryPointARN))
}

// restore restores rp into a new table and checks the job validated it.
func (e *lcEnv) restore(svc *Service, rp *backup.RecoveryPoint, table string) {
	e.t.Helper()
	r, err := svc.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: rp.ARN,
		Metadata: map[string]string{MetaTargetTableName: table}})
	if err != nil {
		e.t.Fatal(err)
	}
	svc.Wait()
	if r, err = svc.GetRestoreJob(context.Background(), r.ID); err != nil || r.Status != backup.RestoreCompleted ||
		r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != rp.ItemCount {
		e.t.Fatalf("restore of %s: %+v, %v", rp.ARN, r, err)
	}
}

// faultCatalog fails UpdateRecoveryPoint as often as failUpdates says.
type faultCatalog struct {
	backup.Catalog
	failUpdates atomic.Int32
}

var errCatalogDown = errors.New("catalog unavailable")

func (c *faultCatalog) UpdateRecoveryPoint(ctx context.Context, p *backup.RecoveryPoint) error {
	if c.failUpdates.Add(-1) >= 0 {
		return errCatalogDown
	}
	c.failUpdates.Store(0)
	return c.Catalog.UpdateRecoveryPoint(ctx, p)
}

const day = 24 * time.Hour

// The story of a file vault's point: warm, then cold in the vault's cold
// directory (restorable from there), then deleted, data and catalog.
func TestLifecycleFileVault(t *testing.T) {
	e := newLCEnv(t).withDynamo()
	svc := e.newService()
	ctx := context.Background()
	v := e.fileVault(svc, "disk")
	arn := e.table("orders", 120)
	rp := e.backup(svc, v, arn, backup.Lifecycle{MoveToColdStorageAfterDays: 7, DeleteAfterDays: 97})

	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(rp.ID); got.StorageClass != backup.StorageWarm {
		t.Fatalf("a fresh point is %s", got.StorageClass)
	}
	e.clock.Advance(7*day - time.Second)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(rp.ID); got.StorageClass != backup.StorageWarm {
		t.Fatal("moved to cold storage before its date")
	}
	e.clock.Advance(time.Second)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetRecoveryPoint(ctx, v.Name, rp.ARN)
	if err != nil || got.StorageClass != backup.StorageCold || got.Status != backup.RecoveryPointCompleted || got.StatusMessage != "" {
		t.Fatalf("after the move-to-cold date: %+v, %v", got, err)
	}
	if keys := e.keys(v.Storage, rp.ID); len(keys) != 0 {
		t.Fatalf("warm copy left: %v", keys)
	}
	if v.Storage.ColdDir() != v.Storage.Path+".cold" {
		t.Fatalf("default cold dir %s", v.Storage.ColdDir())
	}
	e.checkStored(coldStorage(v), rp.ID)
	if _, err := os.Stat(filepath.Join(v.Storage.Path+".cold", filepath.FromSlash(vault.SummaryKey(rp.ID)))); err != nil {
		t.Fatalf("cold directory: %v", err)
	}
	e.restore(svc, got, "orders-from-cold")

	e.clock.Advance(90*day - time.Second)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.get(rp.ID)
	e.clock.Advance(time.Second)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.gone(rp.ID)
	if keys := e.keys(coldStorage(v), rp.ID); len(keys) != 0 {
		t.Fatalf("cold data left after expiry: %v", keys)
	}
}

// A point whose cold and delete dates have both passed is deleted, not
// moved; a point without a lifecycle stays.
func TestLifecycleDeleteBeforeCold(t *testing.T) {
	e := newLCEnv(t)
	svc := e.newService()
	v := e.fileVault(svc, "disk")
	both := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91})
	keep := e.point(v, backup.Lifecycle{})
	onlyDelete := e.point(v, backup.Lifecycle{DeleteAfterDays: 2})
	e.clock.Advance(100 * day)
	if err := svc.LifecycleTick(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.gone(both.ID)
	e.gone(onlyDelete.ID)
	if got := e.get(keep.ID); got.StorageClass != backup.StorageWarm {
		t.Fatalf("point without lifecycle: %+v", got)
	}
	e.checkStored(v.Storage, keep.ID)
	for _, id := range []string{both.ID, onlyDelete.ID} {
		if k := append(e.keys(v.Storage, id), e.keys(coldStorage(v), id)...); len(k) != 0 {
			t.Fatalf("data of a deleted point left: %v", k)
		}
	}
}

// A cold move that fails at any step leaves a readable WARM point (or a
// COLD one once it is marked) and the next pass finishes it.
func TestColdMoveFailures(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		fault func(e *lcEnv, v *backup.Vault, id string)
		// coldFirst: the point is COLD already after the failed pass.
		coldFirst bool
	}{
		{"data file copy", func(e *lcEnv, v *backup.Vault, id string) {
			e.store(coldStorage(v)).Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.DataPrefix(id), AfterBytes: 100, Times: 1})
		}, false},
		{"summary copy", func(e *lcEnv, v *backup.Vault, id string) {
			e.store(coldStorage(v)).Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.SummaryKey(id), Times: 1})
		}, false},
		{"read back", func(e *lcEnv, v *backup.Vault, id string) {
			e.store(coldStorage(v)).Add(blobfault.Rule{Op: blobfault.OpGet, Prefix: vault.DataPrefix(id), AfterBytes: 10, Times: 1})
		}, false},
		{"read warm", func(e *lcEnv, v *backup.Vault, id string) {
			e.store(v.Storage).Add(blobfault.Rule{Op: blobfault.OpGet, Prefix: vault.DataPrefix(id), AfterBytes: 10, Times: 1})
		}, false},
		{"mark COLD", func(e *lcEnv, v *backup.Vault, id string) { e.cat.failUpdates.Store(1) }, false},
		{"remove warm", func(e *lcEnv, v *backup.Vault, id string) {
			// Fails once in the move and once more in the pass's retry.
			e.store(v.Storage).Add(blobfault.Rule{Op: blobfault.OpDelete, Prefix: vault.DataPrefix(id), Times: 2})
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLCEnv(t)
			svc := e.newService()
			v := e.fileVault(svc, "disk")
			rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 1})
			e.clock.Advance(day)
			tt.fault(e, v, rp.ID)
			err := svc.LifecycleTick(ctx)
			got := e.get(rp.ID)
			if tt.coldFirst {
				if err == nil || got.StorageClass != backup.StorageCold {
					t.Fatalf("after the failed pass: %s, %v", got.StorageClass, err)
				}
				e.checkStored(coldStorage(v), rp.ID)
				if len(e.keys(v.Storage, rp.ID)) == 0 {
					t.Fatal("the fault removed nothing: the test did not test")
				}
			} else {
				if err == nil || got.StorageClass != backup.StorageWarm {
					t.Fatalf("after the failed pass: %s, %v", got.StorageClass, err)
				}
				e.checkStored(v.Storage, rp.ID)
			}
			if err := svc.LifecycleTick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := e.get(rp.ID); got.StorageClass != backup.StorageCold {
				t.Fatalf("after the next pass: %s", got.StorageClass)
			}
			e.checkStored(coldStorage(v), rp.ID)
			if keys := e.keys(v.Storage, rp.ID); len(keys) != 0 {
				t.Fatalf("warm copy left: %v", keys)
			}
		})
	}
}

// A process killed midway through a cold move leaves a state the next
// process's Recover finishes: each crash point is reproduced by failing the
// step after it and then starting a new Service on the same catalog and
// storage (which knows nothing of the first one's memory).
func TestColdMoveCrashRecovery(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		before func(e *lcEnv, v *backup.Vault, id string)
	}{
		{"cut short while copying", func(e *lcEnv, v *backup.Vault, id string) {
			// The partial cold copy is not removed either (the process died).
			e.store(coldStorage(v)).Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.SummaryKey(id)})
			e.store(coldStorage(v)).Add(blobfault.Rule{Op: blobfault.OpDelete, Prefix: vault.DataPrefix(id)})
		}},
		{"copied, not marked", func(e *lcEnv, v *backup.Vault, id string) { e.cat.failUpdates.Store(1) }},
		{"marked, warm copy not removed", func(e *lcEnv, v *backup.Vault, id string) {
			// The summary goes first; the data files stay.
			e.store(v.Storage).Add(blobfault.Rule{Op: blobfault.OpDelete, Prefix: vault.DataPrefix(id)})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLCEnv(t)
			svc := e.newService()
			v := e.fileVault(svc, "disk")
			rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 1})
			e.clock.Advance(day)
			tt.before(e, v, rp.ID)
			_ = svc.LifecycleTick(ctx)
			svc.Close()
			// Whatever the crash left, the point reads where the catalog says.
			got := e.get(rp.ID)
			st := v.Storage
			if got.StorageClass == backup.StorageCold {
				st = coldStorage(v)
			}
			e.checkStored(st, rp.ID)
			e.store(v.Storage).Reset()
			e.store(coldStorage(v)).Reset()

			svc2 := e.newService()
			got = e.get(rp.ID)
			switch tt.name {
			case "cut short while copying":
				// Recover removed the partial copy; the next pass moves it.
				if keys := e.keys(coldStorage(v), rp.ID); got.StorageClass != backup.StorageWarm || len(keys) != 0 {
					t.Fatalf("after Recover: %s, cold keys %v", got.StorageClass, keys)
				}
				if err := svc2.LifecycleTick(ctx); err != nil {
					t.Fatal(err)
				}
				got = e.get(rp.ID)
			}
			if got.StorageClass != backup.StorageCold {
				t.Fatalf("after recovery: %s", got.StorageClass)
			}
			e.checkStored(coldStorage(v), rp.ID)
			if keys := e.keys(v.Storage, rp.ID); len(keys) != 0 {
				t.Fatalf("warm copy left: %v", keys)
			}
		})
	}
}

// Recover removes partial cold copies the catalog does not know and cold
// copies of WARM points, and keeps a complete cold copy the catalog does
// not list: it may be all that is left of a point whose catalog entry was
// lost.
func TestRecoverRemovesOrphanColdCopies(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	v := e.fileVault(svc, "disk")
	rp := e.point(v, backup.Lifecycle{})
	cold := vault.New(e.store(coldStorage(v)))
	if _, err := vault.Copy(ctx, vault.New(e.store(v.Storage)), rp.ID, cold, "LOST", vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A cold copy of a WARM point that is not due is not kept either.
	if _, err := vault.Copy(ctx, vault.New(e.store(v.Storage)), rp.ID, cold, rp.ID, vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A partial copy of a point the catalog does not know.
	w, err := cold.Create(ctx, "PARTIAL", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	fw.WriteItem([]byte(`{"pk":{"S":"x"}}`))
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	e.newService()
	for _, id := range []string{"PARTIAL", rp.ID} {
		if keys := e.keys(coldStorage(v), id); len(keys) != 0 {
			t.Fatalf("cold copy %s left: %v", id, keys)
		}
	}
	e.checkStored(coldStorage(v), "LOST")
	e.checkStored(v.Storage, rp.ID)
	if got := e.get(rp.ID); got.StorageClass != backup.StorageWarm {
		t.Fatalf("point is %s", got.StorageClass)
	}
}

// A vault's cold directory can be set with cairn:cold-path.
func TestColdPathTag(t *testing.T) {
	e := newLCEnv(t)
	svc := e.newService()
	coldDir := filepath.Join(e.diskDir, "elsewhere", "cold")
	v := e.vault(svc, "tagged", map[string]string{backup.TagColdPath: coldDir})
	if v.Storage.Kind != backup.StorageFile || v.Storage.ColdPath != coldDir || v.Storage.Path != filepath.Join(e.dataDir, "vaults", "tagged") {
		t.Fatalf("storage %+v", v.Storage)
	}
	if v.Tags[backup.TagColdPath] != coldDir {
		t.Fatalf("tags %v: the reserved tag is not kept as given (ListTags shows it)", v.Tags)
	}
	rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 1})
	e.clock.Advance(day)
	if err := svc.LifecycleTick(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkStored(backup.VaultStorage{Kind: backup.StorageFile, Path: coldDir}, rp.ID)

	for _, tags := range []map[string]string{
		{backup.TagColdPath: "relative"},
		{backup.TagColdPath: filepath.Join(e.dataDir, "vaults", "bad", "inside")},
		{backup.TagColdStorageClass: "GLACIER"},
	} {
		if _, err := svc.CreateVault(context.Background(), backup.CreateVaultInput{Name: "bad", Tags: tags}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
			t.Errorf("CreateVault with %v: %v, want InvalidParameter", tags, err)
		}
	}
	if _, err := e.cat.GetVault(context.Background(), "bad"); !backup.IsNotFound(err) {
		t.Fatalf("a refused vault exists: %v", err)
	}
}

// An S3 vault's cold points stay in place, their data files rewritten in
// the vault's cold storage class; the manifests stay readable.
func TestColdS3Classes(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	e.memS3 = true
	svc := e.newService()
	v := e.s3Vault(svc, "offsite", map[string]string{backup.TagColdStorageClass: "DEEP_ARCHIVE"})
	rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 120})
	other := e.point(v, backup.Lifecycle{})
	store := e.store(v.Storage)
	e.clock.Advance(30 * day)
	store.Add(blobfault.Rule{Op: blobfault.OpSetClass, Prefix: vault.DataPrefix(rp.ID), Times: 1})
	if err := svc.LifecycleTick(ctx); err == nil || e.get(rp.ID).StorageClass != backup.StorageWarm {
		t.Fatalf("a failed rewrite: %v, point %s", err, e.get(rp.ID).StorageClass)
	}
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.get(rp.ID)
	if got.StorageClass != backup.StorageCold || got.StatusMessage != "" {
		t.Fatalf("after the pass: %+v", got)
	}
	r, err := vault.New(store).Open(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range r.Files() {
		if ci, err := store.ClassInfo(ctx, fe.DataFileS3Key); err != nil || ci.Class != "DEEP_ARCHIVE" {
			t.Fatalf("%s: %+v, %v", fe.DataFileS3Key, ci, err)
		}
	}
	if ci, err := store.ClassInfo(ctx, vault.SummaryKey(rp.ID)); err != nil || ci.Class != blob.StandardClass {
		t.Fatalf("summary: %+v, %v", ci, err)
	}
	r2, _ := vault.New(store).Open(ctx, other.ID)
	if ci, _ := store.ClassInfo(ctx, r2.Files()[0].DataFileS3Key); ci.Class != blob.StandardClass {
		t.Fatalf("a point without lifecycle went to %s", ci.Class)
	}
	e.clock.Advance(90 * day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.gone(rp.ID)
	if keys := e.keys(v.Storage, rp.ID); len(keys) != 0 {
		t.Fatalf("data left: %v", keys)
	}
}

// versitygw accepts storage classes and ignores them: the point goes COLD,
// says so in its StatusMessage, and restores.
func TestColdS3Versity(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t).withDynamo()
	svc := e.newService()
	v := e.s3Vault(svc, "versity", nil)
	if v.Storage.ColdClass() != "GLACIER" {
		t.Fatalf("default cold class %q", v.Storage.ColdClass())
	}
	rp := e.backup(svc, v, e.table("events", 80), backup.Lifecycle{MoveToColdStorageAfterDays: 1})
	e.clock.Advance(day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetRecoveryPoint(ctx, v.Name, rp.ARN)
	if err != nil || got.StorageClass != backup.StorageCold ||
		!strings.Contains(got.StatusMessage, "ignored storage class GLACIER") || !strings.Contains(got.StatusMessage, "STANDARD") {
		t.Fatalf("after the pass: %+v, %v", got, err)
	}
	e.checkStored(v.Storage, rp.ID)
	e.restore(svc, got, "events-from-cold")
}

// A point a restore or copy reads is not moved until the reader is done.
func TestColdMoveWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	v := e.fileVault(svc, "disk")
	rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91})
	release, err := inUse.read(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(rp.ID); got.StorageClass != backup.StorageWarm {
		t.Fatal("moved while being read")
	}
	e.checkStored(v.Storage, rp.ID)
	release()
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(rp.ID); got.StorageClass != backup.StorageCold {
		t.Fatal("not moved once the reader was done")
	}
	// DeleteRecoveryPoint does not run into a move or an expiry under way.
	done, ok := inUse.change(rp.ID)
	if !ok {
		t.Fatal("cannot mark the point as changing")
	}
	if err := svc.DeleteRecoveryPoint(ctx, v.Name, rp.ARN); backup.ErrorCode(err) != backup.ErrConflict {
		t.Fatalf("DeleteRecoveryPoint during a move: %v, want Conflict", err)
	}
	done()
	// Expiry waits for readers too.
	release, _ = inUse.read(ctx, rp.ID)
	e.clock.Advance(90 * day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.get(rp.ID)
	release()
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.gone(rp.ID)
}

// An expired point that cannot be deleted is EXPIRED, with the reason,
// until a later pass deletes it.
func TestExpiryFailureMarksExpired(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	v := e.fileVault(svc, "disk")
	rp := e.point(v, backup.Lifecycle{DeleteAfterDays: 1})
	e.clock.Advance(day)
	e.store(v.Storage).Add(blobfault.Rule{Op: blobfault.OpDelete, Prefix: vault.PointPrefix(rp.ID), Times: 1})
	if err := svc.LifecycleTick(ctx); err == nil {
		t.Fatal("a failed deletion was not reported")
	}
	got := e.get(rp.ID)
	if got.Status != backup.RecoveryPointExpired || !strings.Contains(got.StatusMessage, "could not be deleted") {
		t.Fatalf("after the failed deletion: %s %q", got.Status, got.StatusMessage)
	}
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.gone(rp.ID)
}

func TestUpdateRecoveryPointLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	svc := e.newService()
	v := e.fileVault(svc, "disk")
	rp := e.point(v, backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 100})

	for _, tt := range []struct {
		vault, arn string
		l          backup.Lifecycle
		code       backup.Code
		msg        string
	}{
		{v.Name, rp.ARN, backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 99}, backup.ErrInvalidParameter, "at least 100"},
		{v.Name, rp.ARN, backup.Lifecycle{DeleteAfterDays: -1}, backup.ErrInvalidParameter, "DeleteAfterDays must be 1 to 36500"},
		{v.Name, rp.ARN, backup.Lifecycle{DeleteAfterDays: 36501}, backup.ErrInvalidParameter, "36500"},
		{"Nope", rp.ARN, backup.Lifecycle{DeleteAfterDays: 5}, backup.ErrNotFound, ""},
		{v.Name, backup.RecoveryPointARN("us-east-1", "000000000000", "MISSING"), backup.Lifecycle{DeleteAfterDays: 5}, backup.ErrNotFound, ""},
		{v.Name, "not-an-arn", backup.Lifecycle{DeleteAfterDays: 5}, backup.ErrInvalidParameter, ""},
	} {
		_, err := svc.UpdateRecoveryPointLifecycle(ctx, tt.vault, tt.arn, tt.l)
		if backup.ErrorCode(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.msg) {
			t.Errorf("%+v: %v, want %s %q", tt.l, err, tt.code, tt.msg)
		}
	}
	if got := e.get(rp.ID); got.Lifecycle != rp.Lifecycle {
		t.Fatalf("a refused update changed the lifecycle: %+v", got.Lifecycle)
	}

	// Moving the cold date earlier takes effect at the next pass.
	e.clock.Advance(2 * day)
	out, err := svc.UpdateRecoveryPointLifecycle(ctx, v.Name, rp.ARN, backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 200})
	if err != nil {
		t.Fatal(err)
	}
	if cold, del := out.CalculatedLifecycle(); !cold.Equal(t0.Add(day)) || !del.Equal(t0.Add(200*day)) {
		t.Fatalf("calculated lifecycle %v %v", cold, del)
	}
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(rp.ID); got.StorageClass != backup.StorageCold {
		t.Fatalf("not moved after the update: %s", got.StorageClass)
	}
	// Once cold, MoveToColdStorageAfterDays stays; DeleteAfterDays may change.
	for _, l := range []backup.Lifecycle{{MoveToColdStorageAfterDays: 2, DeleteAfterDays: 200}, {DeleteAfterDays: 200}} {
		if _, err := svc.UpdateRecoveryPointLifecycle(ctx, v.Name, rp.ARN, l); backup.ErrorCode(err) != backup.ErrInvalidParameter ||
			!strings.Contains(err.Error(), "cold storage already") {
			t.Errorf("changing the cold days of a COLD point (%+v): %v", l, err)
		}
	}
	if _, err := svc.UpdateRecoveryPointLifecycle(ctx, v.Name, rp.ARN, backup.Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 91}); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(91 * day))
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	e.gone(rp.ID)
}
