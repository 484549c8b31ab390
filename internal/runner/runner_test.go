package runner

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

type fixture struct {
	svc   *Service
	store *blobfault.Store
	cat   *sqlite.Catalog
	db    *sdk.Client

	// What a second Service on the same catalog, vaults and DynamoDB needs.
	catalogPath string
	client      *dynamodb.Client
	dataDir     string

	mu     sync.Mutex
	others map[string]blob.Store // stores of other locations than Default's
}

// newFixture runs a Service on a real dynalite and SQLite catalog, with
// the Default vault in one fault-injecting in-memory store (every other
// storage location gets a store of its own).
func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with the Service's Config adjusted by
// adjust (a fake clock, fewer job slots, a scanner wrapper...).
func newFixtureWith(t *testing.T, adjust func(*Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, testbed.Dynalite(t), adjust)
}

// newFixtureOn is newFixtureWith on the DynamoDB-compatible server srv.
func newFixtureOn(t *testing.T, srv *testbed.Server, adjust func(*Config)) *fixture {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	client, err := dynamodb.New(cfg, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/catalog.db"
	cat, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	f := &fixture{store: blobfault.New(mem.New()), cat: cat, db: sdk.NewFromConfig(cfg),
		catalogPath: path, client: client, dataDir: t.TempDir()}
	f.svc = f.newService(t, cat, adjust)
	if err := f.svc.EnsureDefaultVault(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// openStore returns f.store for the Default vault's directory and a
// store of its own for any other location.
func (f *fixture) openStore(_ context.Context, st backup.VaultStorage) (blob.Store, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st.Kind == backup.StorageFile && st.Path == filepath.Join(f.dataDir, "vaults", "Default") {
		return f.store, nil
	}
	if f.others == nil {
		f.others = map[string]blob.Store{}
	}
	if s, ok := f.others[st.String()]; ok {
		return s, nil
	}
	s := mem.New()
	f.others[st.String()] = s
	return s, nil
}

// newService returns a recovered Service on catalog cat and the fixture's
// vaults and dynalite, closed at the end of the test.
func (f *fixture) newService(t *testing.T, cat backup.Catalog, adjust func(*Config)) *Service {
	t.Helper()
	c := Config{Catalog: cat, Sources: []*Source{{Name: "local", Client: f.client}},
		OpenStore: f.openStore,
		DataDir:   f.dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ProgressInterval: 10 * time.Millisecond,
		Retry:            dynamodb.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}
	if adjust != nil {
		adjust(&c)
	}
	svc, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if err := svc.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func (f *fixture) table(t *testing.T, name string, n int) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	// Even with --createTableMs 0, dynalite refuses writes for a moment.
	waiter := sdk.NewTableExistsWaiter(f.db, func(o *sdk.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &sdk.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(uint64(n), 1)), n, 1000)
	for _, raw := range items {
		av, err := ddbjson.ToAttributeValues(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String(name), Item: av}); err != nil {
			t.Fatal(err)
		}
	}
	return backup.TableARN("us-east-1", "000000000000", name)
}

// completedBackup makes a table of n items, backs it up into Default and
// returns the completed job and its recovery point.
func (f *fixture) completedBackup(t *testing.T, table string, n int) (*backup.BackupJob, *backup.RecoveryPoint) {
	t.Helper()
	arn := f.table(t, table, n)
	j, err := f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if j = f.wait(t, j.ID); j.State != backup.JobCompleted {
		t.Fatalf("backup %s %q", j.State, j.StatusMessage)
	}
	rp, err := f.cat.GetRecoveryPoint(context.Background(), recoveryPointID(j.RecoveryPointARN))
	if err != nil {
		t.Fatal(err)
	}
	return j, rp
}

func (f *fixture) wait(t *testing.T, id string) *backup.BackupJob {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		j, err := f.svc.GetBackupJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Terminal() {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("job did not end")
	return nil
}

func (f *fixture) waitRestore(t *testing.T, id string) *backup.RestoreJob {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		j, err := f.svc.GetRestoreJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("restore job did not end")
	return nil
}

func (f *fixture) objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	if err := f.store.List(context.Background(), "", func(i blob.Info) error {
		if i.Key != markerKey {
			keys = append(keys, i.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// A full disk in the middle of a backup fails the job with the reason and
// leaves neither a recovery point nor any of its files.
func TestBackupFullDiskLeavesNothing(t *testing.T) {
	f := newFixture(t)
	arn := f.table(t, "full-disk", 600)
	f.store.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: "AWSDynamoDB/", AfterBytes: 64 << 10, Err: syscall.ENOSPC})
	j, err := f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	j = f.wait(t, j.ID)
	if j.State != backup.JobFailed || !strings.Contains(j.StatusMessage, "no space left") {
		t.Fatalf("job %s %q", j.State, j.StatusMessage)
	}
	pts, _, err := f.svc.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{VaultName: "Default"})
	if err != nil || len(pts) != 0 {
		t.Fatalf("recovery points: %v %d", err, len(pts))
	}
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("objects left: %v", objs)
	}
	// Once there is space again, the next backup of the table succeeds.
	f.store.Reset()
	j, err = f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if j = f.wait(t, j.ID); j.State != backup.JobCompleted || j.ItemCount != 600 {
		t.Fatalf("second job %s %q items %d", j.State, j.StatusMessage, j.ItemCount)
	}
}

// A recovery point whose data was damaged is not restored as if it were
// good: the restore fails and names the file.
func TestRestoreOfCorruptedPointFails(t *testing.T) {
	f := newFixture(t)
	arn := f.table(t, "corrupt-src", 300)
	j, _ := f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if j = f.wait(t, j.ID); j.State != backup.JobCompleted {
		t.Fatalf("backup %s %q", j.State, j.StatusMessage)
	}
	// Flip one byte in the middle of a data file.
	var dataKey string
	for _, k := range f.objects(t) {
		if strings.Contains(k, "/data/") {
			dataKey = k
		}
	}
	rc, err := f.store.Get(context.Background(), dataKey)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b[len(b)/2] ^= 0x40
	if err := f.store.Put(context.Background(), dataKey, strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: j.RecoveryPointARN,
		Metadata: map[string]string{MetaTargetTableName: "corrupt-dst"}})
	if err != nil {
		t.Fatal(err)
	}
	r = f.waitRestore(t, r.ID)
	if r.Status != backup.RestoreFailed || !strings.Contains(r.StatusMessage, "data file "+dataKey) ||
		!strings.Contains(r.StatusMessage, "nothing was restored") {
		t.Fatalf("restore %s %q", r.Status, r.StatusMessage)
	}
	// Refused before the table was made: nothing half restored.
	if _, err := f.db.DescribeTable(context.Background(), &sdk.DescribeTableInput{TableName: aws.String("corrupt-dst")}); err == nil {
		t.Fatal("the restore of a damaged point created its table")
	}
}

// A restore validates the new table against the recovery point; a table
// that was written to meanwhile fails validation.
func TestRestoreValidationDetectsDifference(t *testing.T) {
	f := newFixture(t)
	j, rp := f.completedBackup(t, "valid-src", 200)
	// Pretend the point recorded another checksum: the restore must notice.
	rp.ContentChecksum = strings.Repeat("0", 64)
	if err := f.cat.UpdateRecoveryPoint(context.Background(), rp); err != nil {
		t.Fatal(err)
	}
	r, _ := f.svc.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: j.RecoveryPointARN,
		Metadata: map[string]string{MetaTargetTableName: "valid-dst"}})
	r = f.waitRestore(t, r.ID)
	if r.Status != backup.RestoreFailed || r.ValidationStatus != backup.ValidationFailed || !strings.Contains(r.ValidationStatusMessage, "200 items") {
		t.Fatalf("restore %s validation %s %q", r.Status, r.ValidationStatus, r.ValidationStatusMessage)
	}
}

// Points made before checksum v2 carry a v1 checksum: a restore checks the
// restored table with the point's algorithm, and a checksum of no known
// algorithm fails the validation with the reason.
func TestRestoreValidatesWithThePointsChecksumAlgorithm(t *testing.T) {
	f := newFixture(t)
	j, rp := f.completedBackup(t, "v1-src", 150)
	if alg, err := ddbjson.ChecksumAlgorithmOf(rp.ContentChecksum); err != nil || alg != ddbjson.ChecksumAlgorithm {
		t.Fatalf("new point's checksum %q is of %q (%v), want %q", rp.ContentChecksum, alg, err, ddbjson.ChecksumAlgorithm)
	}
	v1, _ := ddbjson.NewChecksum(ddbjson.ChecksumV1)
	for _, it := range ddbjson.RandomItems(rand.New(rand.NewPCG(150, 1)), 150, 1000) { // the items f.table wrote
		if err := v1.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		sum, target string
		want        backup.RestoreJobStatus
		message     string
	}{
		{v1.Sum(), "v1-dst", backup.RestoreCompleted, v1.Sum() + " match"},
		{"sha1:0000", "bad-dst", backup.RestoreFailed, "not a content checksum of a known algorithm"},
	} {
		rp.ContentChecksum = tc.sum
		if err := f.cat.UpdateRecoveryPoint(context.Background(), rp); err != nil {
			t.Fatal(err)
		}
		r, _ := f.svc.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: j.RecoveryPointARN,
			Metadata: map[string]string{MetaTargetTableName: tc.target}})
		r = f.waitRestore(t, r.ID)
		if msg := r.ValidationStatusMessage + r.StatusMessage; r.Status != tc.want || !strings.Contains(msg, tc.message) {
			t.Errorf("checksum %s: restore %s, %q; want %s with %q", tc.sum, r.Status, msg, tc.want, tc.message)
		}
	}
}

func TestStartRestoreValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tt := range []struct {
		in   backup.StartRestoreJobInput
		code backup.Code
	}{
		{backup.StartRestoreJobInput{RecoveryPointARN: "nope", Metadata: map[string]string{MetaTargetTableName: "abc"}}, backup.ErrInvalidParameter},
		{backup.StartRestoreJobInput{RecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", "X")}, backup.ErrMissingParameter},
		{backup.StartRestoreJobInput{RecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", "X"), Metadata: map[string]string{MetaTargetTableName: "a b"}}, backup.ErrInvalidParameter},
		{backup.StartRestoreJobInput{RecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", "X"), Metadata: map[string]string{MetaTargetTableName: "abc"}}, backup.ErrNotFound},
		{backup.StartRestoreJobInput{RecoveryPointARN: backup.RecoveryPointARN("us-east-1", "000000000000", "X"), ResourceType: "EBS", Metadata: map[string]string{MetaTargetTableName: "abc"}}, backup.ErrInvalidParameter},
	} {
		if _, err := f.svc.StartRestoreJob(ctx, tt.in); backup.ErrorCode(err) != tt.code {
			t.Errorf("%+v: err %v, want %s", tt.in, err, tt.code)
		}
	}
	jobs, _, _ := f.svc.ListRestoreJobs(ctx, backup.RestoreJobFilter{})
	if len(jobs) != 0 {
		t.Fatalf("%d restore jobs created by bad requests", len(jobs))
	}
}

// Recover removes an incomplete point the catalog does not know (an upload
// an object store finished after its backup was aborted) and keeps
// complete ones.
func TestRecoverSweepsOrphanPoints(t *testing.T) {
	f := newFixture(t)
	arn := f.table(t, "sweep-src", 50)
	j, _ := f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn})
	if j = f.wait(t, j.ID); j.State != backup.JobCompleted {
		t.Fatalf("backup %s %q", j.State, j.StatusMessage)
	}
	before := len(f.objects(t))
	w, err := vault.New(f.store).Create(context.Background(), "ORPHAN", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	fw.WriteItem([]byte(`{"pk":{"S":"x"}}`))
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.objects(t)) <= before {
		t.Fatal("the orphan was not written")
	}
	if err := f.svc.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.svc.Wait() // the sweep of incomplete points runs in the background
	if after := len(f.objects(t)); after != before {
		t.Fatalf("%d objects after Recover, want the %d of the completed point", after, before)
	}
	if _, err := f.svc.GetRecoveryPoint(context.Background(), "Default", j.RecoveryPointARN); err != nil {
		t.Fatalf("completed point lost: %v", err)
	}
}
