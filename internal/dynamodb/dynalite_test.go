package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// createIndexed creates a provisioned table with a GSI and an LSI, and tags it.
func createIndexed(t *testing.T, sdk *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	s := func(v string) *string { return aws.String(v) }
	out, err := sdk.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: s(name),
		KeySchema: []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}, {AttributeName: s("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: s("email"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("created"), AttributeType: types.ScalarAttributeTypeN},
		},
		BillingMode:           types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(3)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:             s("by-email"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: s("email"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"name", "plan"}},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(2)},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName:  s("by-created"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}, {AttributeName: s("created"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	// Even with --createTableMs 0, dynalite refuses writes for a moment.
	waiter := dynamodb.NewTableExistsWaiter(sdk, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: s(name)}, time.Minute); err != nil {
		t.Fatalf("table %s did not become ACTIVE: %v", name, err)
	}
	_, err = sdk.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: out.TableDescription.TableArn,
		Tags: []types.Tag{{Key: s("team"), Value: s("storage")}, {Key: s("env"), Value: s("test")}}})
	if err != nil {
		t.Fatalf("tag %s: %v", name, err)
	}
}

// comparable strips what differs between two tables of the same shape.
func comparable(s *TableSpec) *TableSpec {
	c := *s
	c.TableName, c.TableArn, c.TableId, c.CreationDateTime, c.Warnings = "", "", "", nil, nil
	slices.SortFunc(c.Tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return &c
}

func specJSON(t *testing.T, s *TableSpec) string {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDescribeAndCreateTable(t *testing.T) {
	c, sdk := dynalite(t)
	ctx := context.Background()
	createIndexed(t, sdk, "users")

	spec, err := c.DescribeTable(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spec:\n%s", specJSON(t, spec))
	if spec.TableName != "users" || !strings.HasSuffix(spec.TableArn, ":table/users") || spec.BillingMode != BillingProvisioned {
		t.Errorf("name %q arn %q billing %q", spec.TableName, spec.TableArn, spec.BillingMode)
	}
	if pt := spec.ProvisionedThroughput; pt == nil || pt.ReadCapacityUnits != 7 || pt.WriteCapacityUnits != 3 {
		t.Errorf("throughput %+v", pt)
	}
	if len(spec.GlobalSecondaryIndexes) != 1 || len(spec.LocalSecondaryIndexes) != 1 {
		t.Fatalf("indexes %+v %+v", spec.GlobalSecondaryIndexes, spec.LocalSecondaryIndexes)
	}
	g := spec.GlobalSecondaryIndexes[0]
	if g.IndexName != "by-email" || g.Projection.ProjectionType != "INCLUDE" || len(g.Projection.NonKeyAttributes) != 2 ||
		g.ProvisionedThroughput == nil || g.ProvisionedThroughput.ReadCapacityUnits != 5 {
		t.Errorf("gsi %+v", g)
	}
	if l := spec.LocalSecondaryIndexes[0]; l.IndexName != "by-created" || l.Projection.ProjectionType != "KEYS_ONLY" || len(l.KeySchema) != 2 {
		t.Errorf("lsi %+v", l)
	}
	if len(spec.Tags) != 2 {
		t.Errorf("tags %+v", spec.Tags)
	}
	// dynalite has no DescribeContinuousBackups.
	if len(spec.Warnings) != 1 || !strings.HasPrefix(spec.Warnings[0], "ContinuousBackups: server does not support DescribeContinuousBackups") {
		t.Errorf("warnings %q", spec.Warnings)
	}

	// The JSON reads back into an equal spec.
	var back TableSpec
	if err := json.Unmarshal([]byte(specJSON(t, spec)), &back); err != nil {
		t.Fatal(err)
	}
	if specJSON(t, &back) != specJSON(t, spec) {
		t.Error("spec does not survive a JSON round trip")
	}

	res, err := c.CreateTable(ctx, spec, "users-restored", CreateOptions{CopyTags: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("applied %q, not applied %q", res.Applied, res.NotApplied)
	if !strings.HasSuffix(res.TableARN, ":table/users-restored") {
		t.Errorf("ARN %q", res.TableARN)
	}
	for _, want := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "Tags"} {
		if !slices.Contains(res.Applied, want) {
			t.Errorf("Applied %q lacks %s", res.Applied, want)
		}
	}
	if len(res.NotApplied) != 0 {
		t.Errorf("NotApplied %q", res.NotApplied)
	}
	got, err := c.DescribeTable(ctx, "users-restored")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := specJSON(t, comparable(spec)), specJSON(t, comparable(got)); a != b {
		t.Errorf("restored table differs:\n%s\nwant\n%s", b, a)
	}

	// Without CopyTags the new table has none.
	if _, err := c.CreateTable(ctx, spec, "users-untagged", CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.DescribeTable(ctx, "users-untagged"); s == nil || len(s.Tags) != 0 {
		t.Errorf("untagged copy: %+v", s)
	}

	// Pay per request, overridden.
	res, err = c.CreateTable(ctx, spec, "users-ondemand", CreateOptions{BillingMode: BillingPayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.DescribeTable(ctx, "users-ondemand"); s == nil || s.BillingMode != BillingPayPerRequest || !slices.Contains(res.Applied, "BillingMode") {
		t.Errorf("on-demand copy: %+v %q", s, res.Applied)
	}
}

func TestCreateTableNotAppliedOnDynalite(t *testing.T) {
	c, sdk := dynalite(t)
	ctx := context.Background()
	createKV(t, sdk, "src")
	spec, err := c.DescribeTable(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	// What dynalite silently ignores or does not implement.
	spec.StreamSpecification = &StreamSpecification{StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES"}
	spec.SSEDescription = &SSEDescription{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: "arn:aws:kms:us-east-1:000000000000:key/abc"}
	spec.TimeToLive = &TimeToLive{TimeToLiveStatus: "ENABLED", AttributeName: "expires"}
	spec.ContinuousBackups = &ContinuousBackups{PointInTimeRecoveryStatus: "ENABLED"}
	spec.TableClass = "STANDARD_INFREQUENT_ACCESS"
	spec.WarmThroughput = &WarmThroughput{ReadUnitsPerSecond: 20000, WriteUnitsPerSecond: 6000}
	spec.DeletionProtectionEnabled = true
	res, err := c.CreateTable(ctx, spec, "dst", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("not applied: %q", res.NotApplied)
	for _, prefix := range []string{"StreamSpecification: ", "SSESpecification: ", "TimeToLive: target does not support UpdateTimeToLive",
		"ContinuousBackups: target does not support UpdateContinuousBackups", "TableClass: target ignored it",
		"WarmThroughput: target ignored it", "DeletionProtectionEnabled: target ignored it"} {
		if !slices.ContainsFunc(res.NotApplied, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
			t.Errorf("NotApplied %q lacks %q", res.NotApplied, prefix)
		}
	}
}

func TestCreateTableExists(t *testing.T) {
	c, sdk := dynalite(t)
	ctx := context.Background()
	createKV(t, sdk, "taken")
	load(t, c, "taken", randomItems(t, 3, 100))
	before, err := c.DescribeTable(ctx, "taken")
	if err != nil {
		t.Fatal(err)
	}

	createIndexed(t, sdk, "other")
	spec, err := c.DescribeTable(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTable(ctx, spec, "taken", CreateOptions{CopyTags: true})
	if !errors.Is(err, ErrTableExists) {
		t.Fatalf("err = %v, want ErrTableExists", err)
	}
	after, err := c.DescribeTable(ctx, "taken")
	if err != nil {
		t.Fatal(err)
	}
	if specJSON(t, before) != specJSON(t, after) {
		t.Errorf("existing table changed:\n%s\nwas\n%s", specJSON(t, after), specJSON(t, before))
	}
	if n := countItems(t, sdk, "taken"); n != 3 {
		t.Errorf("%d items left, want 3", n)
	}
}

func TestTableHelpers(t *testing.T) {
	c, sdk := dynalite(t)
	ctx := context.Background()
	if _, err := c.DescribeTable(ctx, "nope"); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("DescribeTable of a missing table: %v", err)
	}
	if ok, err := c.TableExists(ctx, "nope"); ok || err != nil {
		t.Errorf("TableExists = %v, %v", ok, err)
	}
	if err := c.DeleteTable(ctx, "nope"); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("DeleteTable of a missing table: %v", err)
	}
	_, err := c.ScanPage(ctx, ScanInput{Table: "nope"})
	if !errors.Is(err, ErrTableNotFound) || IsRetryable(err) {
		t.Errorf("ScanPage of a missing table: %v", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Errorf("not an *APIError: %#v", err)
	}
	_, _, err = c.BatchWrite(ctx, "nope", items(1))
	if !errors.Is(err, ErrTableNotFound) {
		t.Errorf("BatchWrite to a missing table: %v", err)
	}

	// More tables than a ListTables page (100).
	var want []string
	for i := range 105 {
		name := fmt.Sprintf("t%03d", i)
		createKV(t, sdk, name)
		want = append(want, name)
	}
	names, err := c.ListTables(ctx)
	if err != nil || !slices.Equal(names, want) {
		t.Errorf("ListTables: %d names, %v", len(names), err)
	}
	if ok, err := c.TableExists(ctx, "t000"); !ok || err != nil {
		t.Errorf("TableExists = %v, %v", ok, err)
	}
	arn, err := c.TableARN(ctx, "t001")
	if err != nil || !regexp.MustCompile(`^arn:aws:dynamodb:us-east-1:\d{12}:table/t001$`).MatchString(arn) {
		t.Errorf("TableARN = %q, %v", arn, err)
	}
	if err := c.DeleteTable(ctx, "t000"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.TableExists(ctx, "t000"); ok {
		t.Error("t000 still exists")
	}

	// A validation error is final and typed.
	_, _, err = c.BatchWrite(ctx, "t001", [][]byte{[]byte(`{"other":{"S":"x"}}`)})
	if !errors.As(err, &ae) || ae.Code != "ValidationException" || IsRetryable(err) {
		t.Errorf("BatchWrite of an item without key: %v", err)
	}
	if _, _, err := c.BatchWrite(ctx, "t001", items(26)); err == nil {
		t.Error("BatchWrite of 26 items worked")
	}
}

// scanAll scans table with total segments in parallel through s and returns
// the pk of every item, one entry per time it was seen.
func scanAll(t *testing.T, s Scanner, table string, total, limit int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	pk := regexp.MustCompile(`"pk":\{"S":"([^"]+)"\}`)
	for seg := range total {
		wg.Go(func() {
			var key []byte
			for {
				p, err := s.ScanPage(context.Background(), ScanInput{Table: table, Segment: seg, TotalSegments: total, Limit: limit, ExclusiveStartKey: key})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, it := range p.Items {
					m := pk.FindSubmatch(it)
					if m == nil {
						errs <- fmt.Errorf("item without pk: %s", it)
					} else {
						seen[string(m[1])]++
					}
				}
				mu.Unlock()
				key = p.LastEvaluatedKey
				p.Release()
				if key == nil {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return seen
}

func TestParallelScanAndFaultyRestore(t *testing.T) {
	c, sdk := dynalite(t)
	createKV(t, sdk, "src")
	const n = 2000
	src := randomItems(t, n, 1000)

	// Load through the retrying writer over a faulty one: throttles, 500s,
	// resets and unprocessed items, as AWS produces under load.
	fw := NewFaultWriter(c, Faults{ThrottleEvery: 7, ServerErrorEvery: 11, ResetEvery: 13, UnprocessedEvery: 3, UnprocessedFraction: 0.4})
	retries := 0
	w := NewRetryWriter(fw, RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil },
		OnRetry: func(int, time.Duration, error) { retries++ }})
	load(t, w, "src", src)
	st := fw.Stats()
	t.Logf("fault writer: %+v; %d retries", st, retries)
	if st.Throttles == 0 || st.ServerErrors == 0 || st.Resets == 0 || st.UnprocessedItems == 0 {
		t.Errorf("faults not injected: %+v", st)
	}
	if got := countItems(t, sdk, "src"); got != n {
		t.Fatalf("%d items written, want %d", got, n)
	}

	// A parallel scan with small pages, also through faults, sees every
	// item exactly once.
	fs := NewFaultScanner(c, Faults{ThrottleEvery: 5, ServerErrorEvery: 9})
	s := NewRetryScanner(fs, RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }})
	seen := scanAll(t, s, "src", 4, 97)
	if len(seen) != n {
		t.Errorf("%d distinct items scanned, want %d", len(seen), n)
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("%s seen %d times", k, v)
		}
	}
	t.Logf("fault scanner: %+v", fs.Stats())

	// The scanned bytes are the written items: restore them elsewhere and
	// compare, item by item.
	createKV(t, sdk, "dst")
	var all [][]byte
	var key []byte
	for {
		p, err := c.ScanPage(context.Background(), ScanInput{Table: "src", ExclusiveStartKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if p.ConsumedCapacity <= 0 || p.Bytes == 0 || p.Count != len(p.Items) {
			t.Errorf("page: %d units, %d bytes, count %d of %d items", int(p.ConsumedCapacity), p.Bytes, p.Count, len(p.Items))
		}
		for _, it := range p.Items {
			all = append(all, append([]byte(nil), it...))
		}
		key = p.LastEvaluatedKey
		p.Release()
		if key == nil {
			break
		}
	}
	load(t, c, "dst", all)
	want := map[string]bool{}
	for _, it := range src {
		want[string(it)] = true
	}
	for _, it := range all {
		if !want[string(it)] {
			t.Fatalf("scanned item not among those written: %.80s", it)
		}
	}
	if countItems(t, sdk, "dst") != n {
		t.Error("restored copy incomplete")
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	srv := testbed.Dynalite(t)
	for _, kv := range testbed.Env() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.Endpoint)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != srv.Endpoint+"/" {
		t.Errorf("endpoint %q, want %q", c.Endpoint(), srv.Endpoint)
	}
	createKV(t, dynamodb.NewFromConfig(cfg), "envtable")
	if _, err := c.ScanPage(context.Background(), ScanInput{Table: "envtable"}); err != nil {
		t.Fatal(err)
	}
	// Without an endpoint override, the regional AWS endpoint.
	c2, err := New(aws.Config{Region: "eu-west-3"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Endpoint() != "https://dynamodb.eu-west-3.amazonaws.com/" {
		t.Errorf("default endpoint %q", c2.Endpoint())
	}
}
