package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// testServer runs the real server in-process on 127.0.0.1:0 against dir,
// with dynalite at ddbEndpoint as the "local" source.
func testServer(t *testing.T, dir, ddbEndpoint string) *Main {
	t.Helper()
	return testServerWith(t, dir, ddbEndpoint, nil)
}

// testServerWith is testServer with adjust (if not nil) applied to the
// server before it opens.
func testServerWith(t *testing.T, dir, ddbEndpoint string, adjust func(*Main)) *Main {
	t.Helper()
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: dir, Sources: []SourceConfig{{
			Name: "local", Region: "us-east-1", Endpoint: ddbEndpoint, AccessKeyID: "test", SecretAccessKey: "test",
		}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if adjust != nil {
		adjust(m)
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func backupClient(m *Main) *bk.Client {
	return bk.New(bk.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + m.Addr),
		Credentials: credentials.NewStaticCredentialsProvider(m.Keys.AccessKeyID, m.Keys.SecretAccessKey, "")})
}

func ddbClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// createTable creates a table keyed by ddbjson.CorpusKey of keyType, with a
// GSI and an LSI when withIndexes.
func createTable(t testing.TB, db *dynamodb.Client, name, keyType string, withIndexes bool) {
	t.Helper()
	ctx := context.Background()
	s := aws.String
	in := &dynamodb.CreateTableInput{
		TableName:             s(name),
		KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: s(ddbjson.CorpusKey), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: s(ddbjson.CorpusKey), AttributeType: ddbtypes.ScalarAttributeType(keyType)}},
		BillingMode:           ddbtypes.BillingModeProvisioned,
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(3)},
	}
	if withIndexes {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: s("sk"), KeyType: ddbtypes.KeyTypeRange})
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			ddbtypes.AttributeDefinition{AttributeName: s("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN},
			ddbtypes.AttributeDefinition{AttributeName: s("g"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			ddbtypes.AttributeDefinition{AttributeName: s("l"), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{IndexName: s("by-g"),
			KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: s("g"), KeyType: ddbtypes.KeyTypeHash}},
			Projection:            &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly},
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(1)}}}
		in.LocalSecondaryIndexes = []ddbtypes.LocalSecondaryIndex{{IndexName: s("by-l"),
			KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: s(ddbjson.CorpusKey), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: s("l"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeInclude, NonKeyAttributes: []string{"x"}}}}
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	waitActive(t, db, name)
}

// waitActive waits until a new table is ACTIVE: even with --createTableMs 0
// dynalite answers ResourceNotFoundException to writes for a moment.
func waitActive(t testing.TB, db *dynamodb.Client, name string) {
	t.Helper()
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("table %s did not become ACTIVE: %v", name, err)
	}
}

func putItems(t *testing.T, db *dynamodb.Client, table string, items []map[string]ddbtypes.AttributeValue) {
	t.Helper()
	for i, it := range items {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatalf("put item %d into %s: %v", i, table, err)
		}
	}
}

// tableChecksum scans a table with the SDK and returns the content checksum.
func tableChecksum(t *testing.T, db *dynamodb.Client, table string) (int64, string) {
	t.Helper()
	var sum ddbjson.Checksum
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, it := range page.Items {
			raw, err := ddbjson.FromAttributeValues(it)
			if err != nil {
				t.Fatal(err)
			}
			if err := sum.Add(raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sum.Count(), sum.Sum()
}

func waitBackupJob(t *testing.T, c *bk.Client, id string) *bk.DescribeBackupJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		j, err := c.DescribeBackupJob(context.Background(), &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("describe backup job: %v", err)
		}
		switch j.State {
		case bktypes.BackupJobStateCompleted, bktypes.BackupJobStateFailed, bktypes.BackupJobStateAborted, bktypes.BackupJobStateExpired:
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("backup job %s did not end", id)
	return nil
}

func waitRestoreJob(t *testing.T, c *bk.Client, id string) *bk.DescribeRestoreJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		j, err := c.DescribeRestoreJob(context.Background(), &bk.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			t.Fatalf("describe restore job: %v", err)
		}
		switch j.Status {
		case bktypes.RestoreJobStatusCompleted, bktypes.RestoreJobStatusFailed, bktypes.RestoreJobStatusAborted:
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("restore job %s did not end", id)
	return nil
}

const role = "arn:aws:iam::000000000000:role/cairn"

func startBackup(t *testing.T, c *bk.Client, table string) string {
	t.Helper()
	out, err := c.StartBackupJob(context.Background(), &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + table), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatalf("start backup job of %s: %v", table, err)
	}
	return aws.ToString(out.BackupJobId)
}

func startRestore(t *testing.T, c *bk.Client, rpARN, target string, copyTags bool) string {
	t.Helper()
	out, err := c.StartRestoreJob(context.Background(), &bk.StartRestoreJobInput{RecoveryPointArn: aws.String(rpARN),
		Metadata: map[string]string{"TargetTableName": target}, IamRoleArn: aws.String(role), CopySourceTagsToRestoredResource: copyTags})
	if err != nil {
		t.Fatalf("start restore of %s: %v", rpARN, err)
	}
	return aws.ToString(out.RestoreJobId)
}

// TestFidelity backs up the hostile corpus for S, N and B keys from real
// dynalite and restores it into new tables: every value must come back
// exactly, with the table's settings.
func TestFidelity(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	for _, kt := range []string{ddbjson.TypeS, ddbjson.TypeN, ddbjson.TypeB} {
		t.Run("key "+kt, func(t *testing.T) {
			src := "hostile-" + strings.ToLower(kt)
			createTable(t, db, src, kt, false)
			putItems(t, db, src, ddbjson.HostileCorpusFor(kt))
			desc, _ := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(src)})
			if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: desc.Table.TableArn,
				Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String("daily")}}}); err != nil {
				t.Fatal(err)
			}
			wantN, wantSum := tableChecksum(t, db, src)

			j := waitBackupJob(t, c, startBackup(t, c, src))
			if j.State != bktypes.BackupJobStateCompleted {
				t.Fatalf("backup job %s: %s", j.State, aws.ToString(j.StatusMessage))
			}
			if aws.ToString(j.ResourceType) != "DynamoDB" || aws.ToString(j.ResourceName) != src || aws.ToInt64(j.BackupSizeInBytes) <= 0 || aws.ToString(j.PercentDone) != "100.0" {
				t.Fatalf("job fields: type %q name %q size %d done %q", aws.ToString(j.ResourceType), aws.ToString(j.ResourceName), aws.ToInt64(j.BackupSizeInBytes), aws.ToString(j.PercentDone))
			}
			rp, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"), RecoveryPointArn: j.RecoveryPointArn})
			if err != nil || rp.Status != bktypes.RecoveryPointStatusCompleted {
				t.Fatalf("recovery point: %v %v", err, rp)
			}

			target := src + "-restored"
			r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), target, true))
			if r.Status != bktypes.RestoreJobStatusCompleted || r.ValidationStatus != bktypes.RestoreValidationStatusSuccessful {
				t.Fatalf("restore: %s %q validation %s %q", r.Status, aws.ToString(r.StatusMessage), r.ValidationStatus, aws.ToString(r.ValidationStatusMessage))
			}
			gotN, gotSum := tableChecksum(t, db, target)
			if gotN != wantN || gotSum != wantSum {
				t.Fatalf("restored table: %d items %s, source %d items %s", gotN, gotSum, wantN, wantSum)
			}
			tags, err := db.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: r.CreatedResourceArn})
			if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "backup" {
				t.Fatalf("tags of restored table: %v %+v", err, tags)
			}
		})
	}
}

// TestSettingsRoundTrip restores a table with a GSI, an LSI and provisioned
// throughput and compares the descriptions.
func TestSettingsRoundTrip(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "indexed", ddbjson.TypeS, true)
	for i := range 300 {
		putItems(t, db, "indexed", []map[string]ddbtypes.AttributeValue{{
			ddbjson.CorpusKey: &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("k%03d", i%17)},
			"sk":              &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)},
			"g":               &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("g%d", i%5)},
			"l":               &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("l%d", i)},
			"x":               &ddbtypes.AttributeValueMemberN{Value: "1"},
		}})
	}
	j := waitBackupJob(t, c, startBackup(t, c, "indexed"))
	if j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backup: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), "indexed-copy", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore: %s %s", r.Status, aws.ToString(r.StatusMessage))
	}
	a, _ := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("indexed")})
	b, _ := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("indexed-copy")})
	if got, want := describeShape(b.Table), describeShape(a.Table); got != want {
		t.Fatalf("restored table settings differ:\n got %s\nwant %s", got, want)
	}
}

func describeShape(d *ddbtypes.TableDescription) string {
	var sb strings.Builder
	for _, k := range d.KeySchema {
		fmt.Fprintf(&sb, "key %s %s; ", aws.ToString(k.AttributeName), k.KeyType)
	}
	fmt.Fprintf(&sb, "attrs %d; ", len(d.AttributeDefinitions))
	if d.ProvisionedThroughput != nil {
		fmt.Fprintf(&sb, "rcu %d wcu %d; ", aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits))
	}
	for _, g := range d.GlobalSecondaryIndexes {
		fmt.Fprintf(&sb, "gsi %s %s %d; ", aws.ToString(g.IndexName), g.Projection.ProjectionType, len(g.KeySchema))
	}
	for _, l := range d.LocalSecondaryIndexes {
		fmt.Fprintf(&sb, "lsi %s %s %v; ", aws.ToString(l.IndexName), l.Projection.ProjectionType, l.Projection.NonKeyAttributes)
	}
	return sb.String()
}

// TestBadInput: malformed or unknown things get AWS errors and create nothing.
func TestBadInput(t *testing.T) {
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "present", ddbjson.TypeS, false)
	putItems(t, db, "present", []map[string]ddbtypes.AttributeValue{{ddbjson.CorpusKey: &ddbtypes.AttributeValueMemberS{Value: "a"}}})

	var nf *bktypes.ResourceNotFoundException
	var inv *bktypes.InvalidParameterValueException
	_, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("NoSuchVault"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/present"), IamRoleArn: aws.String(role)})
	if !errors.As(err, &nf) {
		t.Errorf("unknown vault: %v", err)
	}
	_, err = c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("not-an-arn"), IamRoleArn: aws.String(role)})
	if !errors.As(err, &inv) {
		t.Errorf("malformed ARN: %v", err)
	}
	_, err = c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String("00000000-0000-0000-0000-000000000000")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown job: %v", err)
	}
	_, err = c.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:nope"),
		Metadata: map[string]string{"TargetTableName": "x-new"}, IamRoleArn: aws.String(role)})
	if !errors.As(err, &nf) {
		t.Errorf("unknown recovery point: %v", err)
	}
	_, err = c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("bad name!")})
	if !errors.As(err, &inv) {
		t.Errorf("invalid vault name: %v", err)
	}
	jobs, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{})
	if err != nil || len(jobs.BackupJobs) != 0 {
		t.Fatalf("bad requests created jobs: %v %d", err, len(jobs.BackupJobs))
	}
	vaults, _ := c.ListBackupVaults(ctx, &bk.ListBackupVaultsInput{})
	if len(vaults.BackupVaultList) != 1 {
		t.Fatalf("vaults: %d, want only Default", len(vaults.BackupVaultList))
	}

	// An unknown table is the job's to find (StartBackupJob does not wait
	// for the source): it ends FAILED saying so, with no recovery point.
	absent := waitBackupJob(t, c, startBackup(t, c, "absent"))
	if absent.State != bktypes.BackupJobStateFailed || !strings.Contains(aws.ToString(absent.StatusMessage), "table absent was not found") {
		t.Errorf("unknown table: %s %q", absent.State, aws.ToString(absent.StatusMessage))
	}

	// Restoring into an existing table fails the job and leaves the table alone.
	j := waitBackupJob(t, c, startBackup(t, c, "present"))
	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), "present", false))
	if r.Status != bktypes.RestoreJobStatusFailed || !strings.Contains(aws.ToString(r.StatusMessage), "already exists") {
		t.Fatalf("restore into existing table: %s %q", r.Status, aws.ToString(r.StatusMessage))
	}
	if n, _ := tableChecksum(t, db, "present"); n != 1 {
		t.Fatalf("existing table changed: %d items", n)
	}
}

// TestStopBackupJob stops a slow backup: the job ends ABORTED and no
// recovery point or vault file is left.
func TestStopBackupJob(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dir := t.TempDir()
	m := testServer(t, dir, dyn.Endpoint)
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "slow", ddbjson.TypeS, false)
	seedRandom(t, db, "slow", 2000)
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/slow"), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"ReadRate": "20", "Segments": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	// A second job for the same table is refused while the first runs.
	_, err = c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/slow"), IamRoleArn: aws.String(role)})
	var conflict *bktypes.ConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("second job for the same table: %v", err)
	}
	waitState(t, c, aws.ToString(out.BackupJobId), bktypes.BackupJobStateRunning)
	if _, err := c.StopBackupJob(ctx, &bk.StopBackupJobInput{BackupJobId: out.BackupJobId}); err != nil {
		t.Fatal(err)
	}
	j := waitBackupJob(t, c, aws.ToString(out.BackupJobId))
	if j.State != bktypes.BackupJobStateAborted {
		t.Fatalf("stopped job: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
	pts, _ := c.ListRecoveryPointsByBackupVault(ctx, &bk.ListRecoveryPointsByBackupVaultInput{BackupVaultName: aws.String("Default")})
	if len(pts.RecoveryPoints) != 0 {
		t.Fatalf("recovery points after stop: %d", len(pts.RecoveryPoints))
	}
	assertNoPointData(t, filepath.Join(dir, "vaults", "Default"))
	if _, err := c.StopBackupJob(ctx, &bk.StopBackupJobInput{BackupJobId: out.BackupJobId}); err == nil {
		t.Fatal("stopping an ABORTED job succeeded")
	}
}

func waitState(t *testing.T, c *bk.Client, id string, want bktypes.BackupJobState) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		j, err := c.DescribeBackupJob(context.Background(), &bk.DescribeBackupJobInput{BackupJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if j.State == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("job %s never reached %s", id, want)
}

// assertNoPointData fails if a local vault holds any recovery point file.
func assertNoPointData(t *testing.T, vaultDir string) {
	t.Helper()
	var files []string
	filepath.WalkDir(vaultDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != "cairn-vault.json" {
			files = append(files, p)
		}
		return nil
	})
	if len(files) > 0 {
		t.Fatalf("vault holds leftover files: %v", files)
	}
}

// seedRandom writes n items of about 1 KB of random payload.
func seedRandom(t testing.TB, db *dynamodb.Client, table string, n int) {
	t.Helper()
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(uint64(n), 7)), n, 1000)
	for start := 0; start < len(items); start += 25 {
		var reqs []ddbtypes.WriteRequest
		for _, raw := range items[start:min(start+25, len(items))] {
			av, err := ddbjson.ToAttributeValues(raw)
			if err != nil {
				t.Fatal(err)
			}
			av[ddbjson.CorpusKey] = av["pk"]
			reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: av}})
		}
		if _, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]ddbtypes.WriteRequest{table: reqs}}); err != nil {
			t.Fatal(err)
		}
	}
}
