package dynamodb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
			IndexName:  s("by-customer"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: s("customer"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
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
		"DeletionProtectionEnabled", "TimeToLive", "ContinuousBackups", "Tags"} {
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
