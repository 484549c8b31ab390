package dynamodb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-backup/cairn/internal/testbed"
)

// moto implements what dynalite lacks: TTL, PITR, streams, SSE, tags at
// CreateTable, deletion protection.
func TestMotoFullSpecRoundTrip(t *testing.T) {
	c, sdk := moto(t)
	ctx := context.Background()
	s := aws.String
	_, err := sdk.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            s("orders"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: s("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: s("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: s("customer"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:      s("by-customer"),
			KeySchema:      []types.KeySchemaElement{{AttributeName: s("customer"), KeyType: types.KeyTypeHash}},
			Projection:     &types.Projection{ProjectionType: types.ProjectionTypeAll},
			WarmThroughput: &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(13000), WriteUnitsPerSecond: aws.Int64(4500)},
		}},
		WarmThroughput:            &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(15000), WriteUnitsPerSecond: aws.Int64(5000)},
		StreamSpecification:       &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		SSESpecification:          &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms},
		TableClass:                types.TableClassStandardInfrequentAccess,
		DeletionProtectionEnabled: aws.Bool(true),
		Tags:                      []types.Tag{{Key: s("team"), Value: s("billing")}, {Key: s("cost-center"), Value: s("42")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: s("orders"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: s("expires")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: s("orders"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	load(t, c, "orders", randomItems(t, 10, 200))

	spec, err := c.DescribeTable(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spec:\n%s", specJSON(t, spec))
	if len(spec.Warnings) != 0 {
		t.Errorf("warnings %q", spec.Warnings)
	}
	if spec.BillingMode != BillingPayPerRequest || spec.ProvisionedThroughput != nil {
		t.Errorf("billing %q %+v", spec.BillingMode, spec.ProvisionedThroughput)
	}
	if st := spec.StreamSpecification; st == nil || !st.StreamEnabled || st.StreamViewType != "NEW_AND_OLD_IMAGES" {
		t.Errorf("stream %+v", st)
	}
	if e := spec.SSEDescription; e == nil || e.SSEType != "KMS" {
		t.Errorf("sse %+v", e)
	}
	if tt := spec.TimeToLive; tt == nil || tt.TimeToLiveStatus != "ENABLED" || tt.AttributeName != "expires" {
		t.Errorf("ttl %+v", tt)
	}
	if cb := spec.ContinuousBackups; cb == nil || cb.PointInTimeRecoveryStatus != "ENABLED" {
		t.Errorf("pitr %+v", cb)
	}
	if w := spec.WarmThroughput; w == nil || w.ReadUnitsPerSecond != 15000 || w.WriteUnitsPerSecond != 5000 {
		t.Errorf("warm throughput %+v", w)
	}
	if w := spec.GlobalSecondaryIndexes[0].WarmThroughput; w == nil || w.ReadUnitsPerSecond != 13000 || w.WriteUnitsPerSecond != 4500 {
		t.Errorf("index warm throughput %+v", w)
	}
	// moto 5.2.1 accepts TableClass but does not report it (no TableClassSummary).
	if len(spec.Tags) != 2 || !spec.DeletionProtectionEnabled || spec.ItemCount != 10 {
		t.Errorf("tags %+v protection %v items %d", spec.Tags, spec.DeletionProtectionEnabled, spec.ItemCount)
	}

	res, err := c.CreateTable(ctx, spec, "orders-restored", CreateOptions{CopyTags: true, Tags: []Tag{{Key: "restored-by", Value: "cairn"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("applied %q, not applied %q", res.Applied, res.NotApplied)
	for _, want := range []string{"BillingMode", "GlobalSecondaryIndexes", "SSESpecification", "StreamSpecification",
		"DeletionProtectionEnabled", "TimeToLive", "ContinuousBackups", "Tags", "WarmThroughput",
		"GlobalSecondaryIndexes[by-customer].WarmThroughput"} {
		if !slices.Contains(res.Applied, want) {
			t.Errorf("Applied lacks %s", want)
		}
	}
	if len(res.NotApplied) != 0 {
		t.Errorf("NotApplied %q", res.NotApplied)
	}
	got, err := c.DescribeTable(ctx, "orders-restored")
	if err != nil {
		t.Fatal(err)
	}
	want := comparable(spec)
	want.Tags = append(want.Tags, Tag{Key: "restored-by", Value: "cairn"})
	want.ItemCount, want.TableSizeBytes = 0, 0
	slices.SortFunc(want.Tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	if a, b := specJSON(t, want), specJSON(t, comparable(got)); a != b {
		t.Errorf("restored table differs:\n%s\nwant\n%s", b, a)
	}
}

// Warm throughput at what a new table has anyway is not asked for (it
// would be a paid pre-warm on AWS, and moto refuses less than provisioned
// capacity); an explicit deletion protection overrides the point's.
func TestMotoWarmThroughputBaselineAndOverrides(t *testing.T) {
	c, sdk := moto(t)
	ctx := context.Background()
	createKV(t, sdk, "plain")
	spec, err := c.DescribeTable(ctx, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if spec.WarmThroughput == nil {
		t.Fatal("moto reports no warm throughput for an on-demand table")
	}
	spec.DeletionProtectionEnabled = true
	res, err := c.CreateTable(ctx, spec, "plain-copy", CreateOptions{DeletionProtection: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Applied, "WarmThroughput") || slices.Contains(res.Applied, "DeletionProtectionEnabled") || len(res.NotApplied) != 0 {
		t.Errorf("applied %q, not applied %q", res.Applied, res.NotApplied)
	}
	got, err := c.DescribeTable(ctx, "plain-copy")
	if err != nil {
		t.Fatal(err)
	}
	if got.DeletionProtectionEnabled || *got.WarmThroughput != *spec.WarmThroughput {
		t.Errorf("copy: protection %v, warm %+v; want false, %+v", got.DeletionProtectionEnabled, got.WarmThroughput, spec.WarmThroughput)
	}
}

// refuseWarm is the SDK client of a target that refuses any warm
// throughput at CreateTable, as DynamoDB does for values it cannot take.
type refuseWarm struct {
	*dynamodb.Client
	creates int
}

func (r *refuseWarm) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	r.creates++
	if in.WarmThroughput != nil {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Requested WarmThroughput is above the account limit"}
	}
	return r.Client.CreateTable(ctx, in, optFns...)
}

func TestCreateTableWithoutRefusedWarmThroughput(t *testing.T) {
	srv := testbed.Moto(t)
	ctx := context.Background()
	api := &refuseWarm{Client: dynamodb.NewFromConfig(testConfig(srv.Endpoint))}
	c, err := New(testConfig(srv.Endpoint), Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	spec := &TableSpec{KeySchema: []KeySchemaElement{{AttributeName: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []AttributeDefinition{{AttributeName: "pk", AttributeType: "S"}}, BillingMode: BillingPayPerRequest,
		WarmThroughput: &WarmThroughput{ReadUnitsPerSecond: 40000, WriteUnitsPerSecond: 10000}}
	res, err := c.CreateTable(ctx, spec, "warm", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if api.creates != 2 || len(res.NotApplied) != 1 || !strings.HasPrefix(res.NotApplied[0], "WarmThroughput: target refused it (ValidationException: Requested") {
		t.Errorf("%d CreateTable calls, not applied %q", api.creates, res.NotApplied)
	}
}

// DynamoDB's description of a table is captured field by field; moto and
// dynalite do not report a table class, so it is checked here on a
// description as DynamoDB gives it.
func TestSpecFromDescriptionCapturesClassAndWarmThroughput(t *testing.T) {
	d := &types.TableDescription{
		TableName:          aws.String("t"),
		KeySchema:          []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		TableClassSummary:  &types.TableClassSummary{TableClass: types.TableClassStandardInfrequentAccess},
		BillingModeSummary: &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest},
		WarmThroughput: &types.TableWarmThroughputDescription{ReadUnitsPerSecond: aws.Int64(20000), WriteUnitsPerSecond: aws.Int64(6000),
			Status: types.TableStatusActive},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndexDescription{{IndexName: aws.String("g"),
			WarmThroughput: &types.GlobalSecondaryIndexWarmThroughputDescription{ReadUnitsPerSecond: aws.Int64(12000), WriteUnitsPerSecond: aws.Int64(4000)}}},
		VectorIndexes: []types.VectorIndexDescription{{IndexName: aws.String("v")}},
	}
	s := specFromDescription(d)
	if s.TableClass != "STANDARD_INFREQUENT_ACCESS" || s.WarmThroughput == nil || s.WarmThroughput.ReadUnitsPerSecond != 20000 ||
		s.GlobalSecondaryIndexes[0].WarmThroughput == nil || len(s.Warnings) != 1 || !strings.HasPrefix(s.Warnings[0], "VectorIndexes") {
		t.Fatalf("spec %+v", s)
	}
	in, _, err := createInput(s, "copy", CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The index's warm throughput is the on-demand default: not asked.
	if in.TableClass != types.TableClassStandardInfrequentAccess || aws.ToInt64(in.WarmThroughput.ReadUnitsPerSecond) != 20000 ||
		in.GlobalSecondaryIndexes[0].WarmThroughput != nil {
		t.Fatalf("create input: class %q warm %+v index warm %+v", in.TableClass, in.WarmThroughput, in.GlobalSecondaryIndexes[0].WarmThroughput)
	}
	in, _, err = createInput(s, "copy", CreateOptions{TableClass: "STANDARD"})
	if err != nil || in.TableClass != types.TableClassStandard {
		t.Fatalf("override: %q %v", in.TableClass, err)
	}
	if _, _, err := createInput(s, "copy", CreateOptions{TableClass: "COLD"}); err == nil {
		t.Fatal("unknown table class accepted")
	}
}

// lateTable is the SDK client of a DynamoDB that, for a while after a
// table turned ACTIVE, still answers ResourceNotFoundException for it.
type lateTable struct {
	*dynamodb.Client
	ttl, tags int
}

func notFound() error {
	return &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Requested resource not found"}
}

func (l *lateTable) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	if l.ttl++; l.ttl <= 2 {
		return nil, notFound()
	}
	return l.Client.UpdateTimeToLive(ctx, in, optFns...)
}

func (l *lateTable) TagResource(ctx context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	if l.tags++; l.tags <= 1 {
		return nil, notFound()
	}
	return l.Client.TagResource(ctx, in, optFns...)
}

// The settings applied after CreateTable are sent again while the new
// table is not found.
func TestCreateTableRetriesNotFoundAfterActive(t *testing.T) {
	srv := testbed.Moto(t)
	api := &lateTable{Client: dynamodb.NewFromConfig(testConfig(srv.Endpoint))}
	c, err := New(testConfig(srv.Endpoint), Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	spec := &TableSpec{KeySchema: []KeySchemaElement{{AttributeName: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []AttributeDefinition{{AttributeName: "pk", AttributeType: "S"}}, BillingMode: BillingPayPerRequest,
		TimeToLive: &TimeToLive{TimeToLiveStatus: "ENABLED", AttributeName: "exp"}}
	res, err := c.CreateTable(context.Background(), spec, "late", CreateOptions{Tags: []Tag{{Key: "a", Value: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Applied, "TimeToLive") || !slices.Contains(res.Applied, "Tags") || api.ttl != 3 {
		t.Errorf("applied %q, not applied %q, %d UpdateTimeToLive calls", res.Applied, res.NotApplied, api.ttl)
	}
}
