package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// canonicalItems scans a table and returns its items in DynamoDB JSON's
// canonical form, sorted: two tables hold the same items iff these match.
func canonicalItems(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	var out []string
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
			c, err := ddbjson.AppendCanonical(nil, raw)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(c))
		}
	}
	slices.Sort(out)
	return out
}

// TestMotoImportsAPoint: a reader cairn did not write, moto's DynamoDB
// ImportTable, imports a recovery point from a vault under a prefix of a
// bucket of moto's S3 (moto serves both on one port), following the key
// layout and gzip files as it would a DynamoDB export; the imported table
// holds the source table's items, item for item. Before the export format
// fixes, the summary named no bucket and keys without the vault's prefix.
func TestMotoImportsAPoint(t *testing.T) {
	moto := testbed.Moto(t)
	m := &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
			Sources: []SourceConfig{{Name: "moto", Region: "us-east-1", Endpoint: moto.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}},
			Storage: StorageConfig{S3Endpoints: []S3EndpointConfig{{Name: "moto", URL: moto.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	ctx := context.Background()
	db := ddbClient(moto.Endpoint)
	c := backupClient(m)

	createTable(t, db, "orders", ddbjson.TypeS, false)
	// Every type, and empty values. Not all of the hostile corpus: moto's
	// JSON reader (py_partiql_parser 0.6.3) cuts a string at an escaped quote
	// or backslash and stops reading a file at an empty map ({"M":{}}),
	// limitations of moto's import, not of the files (DynamoDB's own
	// exports hold both).
	items := ddbjson.HostileCorpus()[:2]
	for i, it := range items {
		it[ddbjson.CorpusKey] = &ddbtypes.AttributeValueMemberS{Value: "corpus-" + string(rune('a'+i))}
		delete(it, "m_empty")
	}
	for _, raw := range ddbjson.RandomItems(rand.New(rand.NewPCG(3, 4)), 300, 300) {
		av, err := ddbjson.ToAttributeValues(raw)
		if err != nil {
			t.Fatal(err)
		}
		av[ddbjson.CorpusKey] = av["pk"]
		items = append(items, av)
	}
	putItems(t, db, "orders", items)
	want := canonicalItems(t, db, "orders")

	// A vault under a prefix of a bucket, in gzip as DynamoDB's exports.
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("exports"),
		BackupVaultTags: map[string]string{"cairn:storage": "s3://exports/team/cairn", "cairn:s3-endpoint": "moto",
			"cairn:compression": "gzip"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("exports"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders"), IamRoleArn: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	job := waitBackupJob(t, c, aws.ToString(out.BackupJobId))
	if job.State != "COMPLETED" {
		t.Fatalf("backup %s: %s", job.State, aws.ToString(job.StatusMessage))
	}
	id := pointID(aws.ToString(job.RecoveryPointArn))

	// What a reader finds from the summary's own fields.
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(moto.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("exports"),
		Key: aws.String("team/cairn/AWSDynamoDB/" + id + "/manifest-summary.json")})
	if err != nil {
		t.Fatal(err)
	}
	var summary struct {
		S3Bucket, S3Prefix, ManifestFilesS3Key string
		ItemCount                              int64
	}
	if err := json.NewDecoder(obj.Body).Decode(&summary); err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if summary.S3Bucket != "exports" || summary.S3Prefix != "team/cairn" ||
		summary.ManifestFilesS3Key != "team/cairn/AWSDynamoDB/"+id+"/manifest-files.json" || summary.ItemCount != int64(len(want)) {
		t.Fatalf("summary: %+v", summary)
	}
	dataPrefix := path.Dir(summary.ManifestFilesS3Key) + "/data/"

	imp, err := db.ImportTable(ctx, &dynamodb.ImportTableInput{
		S3BucketSource:       &ddbtypes.S3BucketSource{S3Bucket: aws.String(summary.S3Bucket), S3KeyPrefix: aws.String(dataPrefix)},
		InputFormat:          ddbtypes.InputFormatDynamodbJson,
		InputCompressionType: ddbtypes.InputCompressionTypeGzip,
		TableCreationParameters: &ddbtypes.TableCreationParameters{TableName: aws.String("orders-imported"),
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(ddbjson.CorpusKey), KeyType: ddbtypes.KeyTypeHash}},
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(ddbjson.CorpusKey), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			BillingMode:          ddbtypes.BillingModePayPerRequest},
	})
	if err != nil {
		t.Fatal(err)
	}
	var d *dynamodb.DescribeImportOutput
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		d, err = db.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: imp.ImportTableDescription.ImportArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.ImportTableDescription.ImportStatus != ddbtypes.ImportStatusInProgress || time.Now().After(deadline) {
			break
		}
	}
	if st := d.ImportTableDescription; st.ImportStatus != ddbtypes.ImportStatusCompleted || st.ErrorCount != 0 {
		t.Fatalf("import %s: %s %s, %d errors", st.ImportStatus, aws.ToString(st.FailureCode), aws.ToString(st.FailureMessage), st.ErrorCount)
	}
	got := canonicalItems(t, db, "orders-imported")
	if len(got) != len(want) {
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Logf("missing: %.400s", w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Logf("extra: %.400s", g)
			}
		}
		t.Fatalf("imported %d items, the source holds %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d differs:\nimported %.300s\nsource   %.300s", i, got[i], want[i])
		}
	}
	t.Logf("moto imported %d items from s3://%s/%s", len(got), summary.S3Bucket, strings.TrimSuffix(dataPrefix, "/"))
}

// TestThirdPartyReaderFollowsManifests: a boto3 script that knows nothing
// of cairn (testdata/read_export.py) reads a recovery point in a vault
// under a prefix of a versitygw bucket as it would a DynamoDB export:
// summary, then manifest-files.json, then every data file fetched with
// If-Match on the etag the manifest records, which versitygw enforces. One
// data file is over 8 MiB, so it went up in parts and its ETag is no MD5:
// before the fix the manifest recorded the MD5 and such a fetch got 412.
// Every item of the table is read.
func TestThirdPartyReaderFollowsManifests(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testbed.Missing(t, "python3")
	}
	dyn := testbed.Dynalite(t)
	vs := testbed.Versity(t)
	m := testServerS3(t, t.TempDir(), dyn.Endpoint, vs)
	ctx := context.Background()
	db, c := ddbClient(dyn.Endpoint), backupClient(m)
	createTable(t, db, "events", ddbjson.TypeS, false)
	seedRandom(t, db, "events", 14000) // about 10 MiB of gzip: over one 8 MiB part
	want := canonicalItems(t, db, "events")

	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("offsite"),
		BackupVaultTags: map[string]string{"cairn:storage": "s3://exports/nightly/dynamodb", "cairn:s3-endpoint": "versity"}}); err != nil {
		t.Fatal(err)
	}
	// One segment, so one file holds every item; gzip chosen for this job.
	out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("offsite"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/events"), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"Segments": "1", "Compression": "GZIP"}})
	if err != nil {
		t.Fatal(err)
	}
	job := waitBackupJob(t, c, aws.ToString(out.BackupJobId))
	if job.State != "COMPLETED" {
		t.Fatalf("backup %s: %s", job.State, aws.ToString(job.StatusMessage))
	}
	id := pointID(aws.ToString(job.RecoveryPointArn))

	items := filepath.Join(t.TempDir(), "items.jsonl")
	cmd := exec.Command(python, "testdata/read_export.py", vs.Endpoint, "exports",
		"nightly/dynamodb/AWSDynamoDB/"+id+"/manifest-summary.json", items)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID="+vs.AccessKey, "AWS_SECRET_ACCESS_KEY="+vs.SecretKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	report, err := cmd.Output()
	if err != nil {
		t.Fatalf("the reader failed: %v\n%s", err, stderr.String())
	}
	var r struct {
		Files, Items, Multipart int
		SummaryItems            int `json:"summary_items"`
		Bytes                   int64
		IfMatchEnforced         bool `json:"if_match_enforced"`
		S3Prefix                string
	}
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatalf("report %s: %v", report, err)
	}
	t.Logf("reader: %s", report)
	if r.Items != len(want) || r.SummaryItems != len(want) || r.S3Prefix != "nightly/dynamodb" {
		t.Errorf("the reader read %d items (summary %d, prefix %q), the table holds %d", r.Items, r.SummaryItems, r.S3Prefix, len(want))
	}
	if r.Multipart == 0 || r.Bytes <= 8<<20 {
		t.Errorf("no data file went up in parts (%d bytes in %d files): the test proves nothing", r.Bytes, r.Files)
	}
	if !r.IfMatchEnforced {
		t.Error("versitygw answered a GET with a wrong If-Match: the test proves nothing")
	}
	data, err := os.ReadFile(items)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		c, err := ddbjson.AppendCanonical(nil, []byte(line))
		if err != nil {
			t.Fatalf("item %.100s: %v", line, err)
		}
		got = append(got, string(c))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the reader's %d items differ from the table's %d", len(got), len(want))
	}
}
