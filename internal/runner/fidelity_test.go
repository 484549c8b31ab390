package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

// strictPrefix names the tables a fixture's restores write through a
// strict target: one that refuses items out of DynamoDB's rules as DynamoDB
// does (no local server is strict about all of them).
const strictPrefix = "strict-"

// strictTables sends batches for tables named strictPrefix... through a
// writer that refuses out-of-spec items, and others straight on.
type strictTables struct{ lax, strict dynamodb.Writer }

func (s strictTables) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	if strings.HasPrefix(table, strictPrefix) {
		return s.strict.BatchWrite(ctx, table, items)
	}
	return s.lax.BatchWrite(ctx, table, items)
}

func withStrictTables(c *Config) {
	c.WrapWriter = func(w dynamodb.Writer) dynamodb.Writer {
		return strictTables{lax: w, strict: dynamodb.NewFaultWriter(w, dynamodb.Faults{RefuseInvalid: true})}
	}
}

// rawTable creates an empty table keyed by the string pk and writes items
// into it with raw BatchWriteItem JSON (the SDK would not build some of
// them).
func (f *fixture) rawTable(t *testing.T, name string, items [][]byte) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	waiter := sdk.NewTableExistsWaiter(f.db, func(o *sdk.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := waiter.Wait(ctx, &sdk.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	f.putRaw(t, f.client, name, items)
	return backup.TableARN("us-east-1", "000000000000", name)
}

func (f *fixture) putRaw(t *testing.T, c *dynamodb.Client, table string, items [][]byte) {
	t.Helper()
	for len(items) > 0 {
		n := min(len(items), dynamodb.MaxBatchItems)
		if un, _, err := c.BatchWrite(context.Background(), table, items[:n]); err != nil || len(un) > 0 {
			t.Fatalf("write %s: %v (%d unprocessed)", table, err, len(un))
		}
		items = items[n:]
	}
}

// scanRaw returns every item of table as the server sends it.
func scanRaw(t *testing.T, c *dynamodb.Client, table string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var key []byte
	for {
		p, err := c.ScanPage(context.Background(), dynamodb.ScanInput{Table: table, TotalSegments: 1, ExclusiveStartKey: key})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			out[string(it)] = true
		}
		key = append([]byte(nil), p.LastEvaluatedKey...)
		p.Release()
		if len(key) == 0 {
			return out
		}
	}
}

// pointItems returns every item a recovery point holds, and its metadata.
func (f *fixture) pointItems(t *testing.T, rp *backup.RecoveryPoint) (map[string]bool, pointMetadata) {
	t.Helper()
	ctx := context.Background()
	r, err := vault.New(f.store).Open(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var meta pointMetadata
	if err := json.Unmarshal(r.Metadata(), &meta); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, fe := range r.Files() {
		it, err := r.OpenFile(ctx, fe)
		if err != nil {
			t.Fatal(err)
		}
		for {
			item, err := it.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			out[string(item)] = true
		}
		it.Close()
	}
	return out, meta
}

func (f *fixture) restore(t *testing.T, pointARN string, meta map[string]string) *backup.RestoreJob {
	t.Helper()
	r, err := f.svc.StartRestoreJob(context.Background(), backup.StartRestoreJobInput{RecoveryPointARN: pointARN, Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	return f.waitRestore(t, r.ID)
}

func (f *fixture) backupOf(t *testing.T, arn string, opts backup.BackupOptions) (*backup.BackupJob, *backup.RecoveryPoint) {
	t.Helper()
	j, err := f.svc.StartBackupJob(context.Background(), backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: "Default", ResourceARN: arn, Options: opts})
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

func nested(kind string, depth int) string {
	return strings.Repeat(`{"`+kind+`":`+map[string]string{"M": `{"a":`, "L": `[`}[kind], depth) + `{"S":"leaf"}` +
		strings.Repeat(map[string]string{"M": `}`, "L": `]`}[kind]+`}`, depth)
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s %q lacks %q", what, s, sub)
		}
	}
}

// A lax source (moto) holds items DynamoDB refuses. The backup keeps them
// byte for byte, completes with issues naming them, and the point restores:
// into moto (lax) whole and validated; into a strict target, every other
// item, the refused ones named, FAILED unless told to accept that; into
// dynalite, which refuses duplicate set members and over-long numbers
// itself, likewise.
func TestOutOfSpecItemsFromMoto(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dynClient, err := dynamodb.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(dyn.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, testbed.Moto(t), func(c *Config) {
		withStrictTables(c)
		c.Sources = append(c.Sources, &Source{Name: "dynalite", Client: dynClient})
	})
	good := ddbjson.RandomItems(rand.New(rand.NewPCG(21, 1)), 40, 300)
	odd := map[string]string{
		`{"pk":{"S":"odd-ns"}}`:   `{"pk":{"S":"odd-ns"},"ns":{"NS":["1","1.0"]}}`,
		`{"pk":{"S":"odd-ss"}}`:   `{"pk":{"S":"odd-ss"},"ss":{"SS":["x","x"]}}`,
		`{"pk":{"S":"odd-bs"}}`:   `{"pk":{"S":"odd-bs"},"bs":{"BS":["AA==","AA=="]}}`,
		`{"pk":{"S":"odd-n"}}`:    `{"pk":{"S":"odd-n"},"n":{"N":"1234567890123456789012345678901234567890"}}`,
		`{"pk":{"S":"odd-deep"}}`: `{"pk":{"S":"odd-deep"},"d":` + nested("M", 40) + `}`,
	}
	items := append([][]byte{}, good...)
	for _, it := range odd {
		items = append(items, []byte(it))
	}
	arn := f.rawTable(t, "lax", items)

	j, rp := f.backupOf(t, arn, backup.BackupOptions{})
	mustContain(t, "backup StatusMessage", j.StatusMessage, "kept 5 items that DynamoDB's rules refuse")
	for key := range odd {
		mustContain(t, "backup StatusMessage", j.StatusMessage, key)
	}
	if j.ItemCount != 45 || j.MessageCategory() != backup.MessageCompletedWithIssues {
		t.Errorf("job: %d items, category %q", j.ItemCount, j.MessageCategory())
	}
	mustContain(t, "point StatusMessage", rp.StatusMessage, "kept 5 items")
	if rp.RestoreMetadata[backup.MetaOutOfSpecItems] != "5" || rp.ItemCount != 45 {
		t.Errorf("point: restore metadata %v, %d items", rp.RestoreMetadata, rp.ItemCount)
	}
	// The point holds every item as the source sent it.
	held, meta := f.pointItems(t, rp)
	source := scanRaw(t, f.client, "lax")
	if len(held) != len(source) {
		t.Errorf("point holds %d items, source %d", len(held), len(source))
	}
	for it := range source {
		if !held[it] {
			t.Errorf("point lacks %.100s as the source sends it", it)
		}
	}
	if meta.OutOfSpecItems != 5 || len(meta.OutOfSpec) != 5 {
		t.Errorf("point metadata: %d out of spec, %v", meta.OutOfSpecItems, meta.OutOfSpec)
	}

	// Into moto itself: everything, validated.
	r := f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "lax-copy"})
	if r.Status != backup.RestoreCompleted || r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != 45 || r.StatusMessage != "" {
		t.Errorf("lax restore: %s %q, validation %s %q, %d items", r.Status, r.StatusMessage, r.ValidationStatus, r.ValidationStatusMessage, r.ItemsRestored)
	}

	// Into a strict target: FAILED, naming the five; the table has the rest.
	r = f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": strictPrefix + "copy"})
	if r.Status != backup.RestoreFailed || r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != 40 {
		t.Errorf("strict restore: %s %q, validation %s %q, %d items", r.Status, r.StatusMessage, r.ValidationStatus, r.ValidationStatusMessage, r.ItemsRestored)
	}
	mustContain(t, "strict restore StatusMessage", r.StatusMessage, "the target refused 5 of the recovery point's 45 items",
		"ValidationException", MetaAllowRefusedItems+"=true")
	for key := range odd {
		mustContain(t, "strict restore StatusMessage", r.StatusMessage, key)
	}
	mustContain(t, "strict restore validation", r.ValidationStatusMessage, "the 5 items the target refused")
	if n := len(scanRaw(t, f.client, strictPrefix+"copy")); n != 40 {
		t.Errorf("strict copy holds %d items, want 40", n)
	}

	// Told to accept that: COMPLETED, still naming them.
	r = f.restore(t, j.RecoveryPointARN, map[string]string{"TargetTableName": strictPrefix + "accepted", MetaAllowRefusedItems: "true"})
	if r.Status != backup.RestoreCompleted || r.ValidationStatus != backup.ValidationSuccessful {
		t.Errorf("accepting restore: %s %q, validation %s", r.Status, r.StatusMessage, r.ValidationStatus)
	}
	mustContain(t, "accepting restore StatusMessage", r.StatusMessage, "the target refused 5", `{"pk":{"S":"odd-ns"}}`)

	// Into dynalite: it refuses the duplicate sets and the long number,
	// and takes the deep item.
	r = f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "dyn-copy", MetaTargetSource: "dynalite"})
	if r.Status != backup.RestoreFailed || r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != 41 {
		t.Errorf("dynalite restore: %s %q, validation %s %q, %d items", r.Status, r.StatusMessage, r.ValidationStatus, r.ValidationStatusMessage, r.ItemsRestored)
	}
	t.Logf("dynalite restore: %s\n%s\nbackup: %s", r.StatusMessage, r.ValidationStatusMessage, j.StatusMessage)
	mustContain(t, "dynalite restore StatusMessage", r.StatusMessage, "the target refused 4 of", "contains duplicates",
		`{"pk":{"S":"odd-ns"}}`, `{"pk":{"S":"odd-n"}}`)
	if strings.Contains(r.StatusMessage, "odd-deep") {
		t.Errorf("dynalite took the deep item, but the message names it: %q", r.StatusMessage)
	}
}

// dynalite holds items nested far deeper than DynamoDB's 32 levels: they
// are kept, named, restored into dynalite, and refused by a strict target.
func TestOutOfSpecDeepItemsFromDynalite(t *testing.T) {
	f := newFixtureWith(t, withStrictTables)
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(22, 1)), 60, 300)
	items = append(items, []byte(`{"pk":{"S":"deep-40"},"d":`+nested("L", 40)+`}`), []byte(`{"pk":{"S":"deep-300"},"d":`+nested("M", 300)+`}`))
	arn := f.rawTable(t, "deep", items)
	j, rp := f.backupOf(t, arn, backup.BackupOptions{})
	mustContain(t, "backup StatusMessage", j.StatusMessage, "kept 2 items", `{"pk":{"S":"deep-40"}}`, `{"pk":{"S":"deep-300"}}`,
		"nested more than 32 levels deep")
	if rp.ItemCount != 62 {
		t.Errorf("point holds %d items", rp.ItemCount)
	}
	r := f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "deep-copy"})
	if r.Status != backup.RestoreCompleted || r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != 62 {
		t.Errorf("restore: %s %q, validation %s %q", r.Status, r.StatusMessage, r.ValidationStatus, r.ValidationStatusMessage)
	}
	r = f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": strictPrefix + "deep"})
	if r.Status != backup.RestoreFailed || r.ItemsRestored != 60 || r.ValidationStatus != backup.ValidationSuccessful {
		t.Errorf("strict restore: %s %q, validation %s, %d items", r.Status, r.StatusMessage, r.ValidationStatus, r.ItemsRestored)
	}
	mustContain(t, "strict restore StatusMessage", r.StatusMessage, "refused 2 of", `{"pk":{"S":"deep-300"}}`)
}

// Right after a table turns ACTIVE, DynamoDB may still answer
// ResourceNotFoundException for it: the restore backs off and goes on.
func TestRestoreRetriesNotFoundAfterActive(t *testing.T) {
	var fault *dynamodb.FaultWriter
	f := newFixtureWith(t, func(c *Config) {
		c.WrapWriter = func(w dynamodb.Writer) dynamodb.Writer {
			fault = dynamodb.NewFaultWriter(w, dynamodb.Faults{NotFoundFirst: 4})
			return fault
		}
	})
	j, _ := f.completedBackup(t, "late-src", 120)
	r := f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "late-dst"})
	if r.Status != backup.RestoreCompleted || r.ValidationStatus != backup.ValidationSuccessful || r.ItemsRestored != 120 {
		t.Fatalf("restore %s %q, validation %s", r.Status, r.StatusMessage, r.ValidationStatus)
	}
	if st := fault.Stats(); st.NotFound != 4 {
		t.Errorf("fault stats %+v, want 4 not-found answers", st)
	}
}

// countingScanner counts Scan calls.
type countingScanner struct {
	s     dynamodb.Scanner
	calls *atomic.Int64
}

func (c countingScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	c.calls.Add(1)
	return c.s.ScanPage(ctx, in)
}

// Segments=1000000 on a small table does not hold a job slot for a million
// empty Scan calls: the backup scans as many segments as the table is worth
// (dynalite reports no size: UnknownSizeSegments), says so in the job, and
// records the count in the point.
func TestBackupWithAMillionSegmentsIsBounded(t *testing.T) {
	var calls atomic.Int64
	f := newFixtureWith(t, func(c *Config) {
		c.WrapScanner = func(s dynamodb.Scanner) dynamodb.Scanner { return countingScanner{s: s, calls: &calls} }
	})
	arn := f.table(t, "million", 3000)
	j, rp := f.backupOf(t, arn, backup.BackupOptions{Segments: 1000000})
	// 3,000 items of 1 KB in 64 segments: one page each.
	if n := calls.Load(); n < 64 || n > 2*64 {
		t.Errorf("%d Scan calls, want 64 to 128", n)
	}
	mustContain(t, "job StatusMessage", j.StatusMessage, "64 parallel scan segments, not the 1000000 asked",
		"neither the table's size nor its item count")
	if j.ItemCount != 3000 || j.Options.Segments != 1000000 {
		t.Errorf("job: %d items, options %+v", j.ItemCount, j.Options)
	}
	if _, meta := f.pointItems(t, rp); meta.Segments != 64 {
		t.Errorf("point metadata records %d segments, want 64", meta.Segments)
	}
}

// Settings moto keeps and dynalite ignores (warm throughput of the table
// and its index, deletion protection) come back on moto and are named in
// the StatusMessage of a restore into dynalite.
func TestSettingsNotAppliedAreNamed(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dynClient, err := dynamodb.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(dyn.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, testbed.Moto(t), func(c *Config) { c.Sources = append(c.Sources, &Source{Name: "dynalite", Client: dynClient}) })
	ctx := context.Background()
	s := aws.String
	if _, err := f.db.CreateTable(ctx, &sdk.CreateTableInput{TableName: s("warm"),
		KeySchema: []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: s("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("g"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: s("by-g"),
			KeySchema:      []types.KeySchemaElement{{AttributeName: s("g"), KeyType: types.KeyTypeHash}},
			Projection:     &types.Projection{ProjectionType: types.ProjectionTypeAll},
			WarmThroughput: &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(14000), WriteUnitsPerSecond: aws.Int64(4100)}}},
		WarmThroughput:            &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(20000), WriteUnitsPerSecond: aws.Int64(6000)},
		DeletionProtectionEnabled: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	f.putRaw(t, f.client, "warm", ddbjson.RandomItems(rand.New(rand.NewPCG(23, 1)), 30, 200))
	j, rp := f.backupOf(t, backup.TableARN("us-east-1", "000000000000", "warm"), backup.BackupOptions{})
	if rp.RestoreMetadata[backup.MetaWarmThroughput] != `{"ReadUnitsPerSecond":20000,"WriteUnitsPerSecond":6000}` {
		t.Errorf("restore metadata %v", rp.RestoreMetadata)
	}
	r := f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "warm-moto"})
	if r.Status != backup.RestoreCompleted || r.StatusMessage != "" {
		t.Errorf("moto restore: %s %q", r.Status, r.StatusMessage)
	}
	d, err := f.db.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: s("warm-moto")})
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Table.WarmThroughput; w == nil || aws.ToInt64(w.ReadUnitsPerSecond) != 20000 || !aws.ToBool(d.Table.DeletionProtectionEnabled) ||
		aws.ToInt64(d.Table.GlobalSecondaryIndexes[0].WarmThroughput.WriteUnitsPerSecond) != 4100 {
		t.Errorf("moto copy: warm %+v, protected %v", d.Table.WarmThroughput, aws.ToBool(d.Table.DeletionProtectionEnabled))
	}
	r = f.restore(t, j.RecoveryPointARN, map[string]string{"targetTableName": "warm-dyn", MetaTargetSource: "dynalite"})
	if r.Status != backup.RestoreCompleted || r.ValidationStatus != backup.ValidationSuccessful {
		t.Errorf("dynalite restore: %s %q", r.Status, r.StatusMessage)
	}
	mustContain(t, "dynalite restore StatusMessage", r.StatusMessage, "not applied: ", "DeletionProtectionEnabled: target ignored it",
		"WarmThroughput: target ignored it", "GlobalSecondaryIndexes[by-g].WarmThroughput: target ignored it")
}
