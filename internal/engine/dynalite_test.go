package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// pageLimit asks for pages of at most n items, so a small table is read
// in many pages.
type pageLimit struct {
	s dynamodb.Scanner
	n int
}

func (l pageLimit) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	in.Limit = l.n
	return l.s.ScanPage(ctx, in)
}

// A backup from dynalite through cairn's raw scanner, reading ahead in
// pages of 20 items with throttling and connection resets retried, writes
// each segment's items exactly as the SDK's parallel Scan of the same
// segment returns them: the same items, once each, in the same order.
func TestBackupFromDynaliteKeepsEachSegmentsOrder(t *testing.T) {
	ctx := context.Background()
	srv := testbed.Dynalite(t)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""))}
	db := sdk.NewFromConfig(cfg)
	const table, segments, pageItems = "pipeline", 4, 20
	if _, err := db.CreateTable(ctx, &sdk.CreateTableInput{
		TableName:            aws.String(table),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	// dynalite refuses writes with ResourceNotFoundException until the
	// table is ACTIVE.
	if err := sdk.NewTableExistsWaiter(db).Wait(ctx, &sdk.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(8, 8)), 600, 200)
	for lo := 0; lo < len(items); lo += 25 {
		var reqs []types.WriteRequest
		for _, raw := range items[lo:min(lo+25, len(items))] {
			av, err := ddbjson.ToAttributeValues(raw)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		out, err := db.BatchWriteItem(ctx, &sdk.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		if len(out.UnprocessedItems) > 0 {
			t.Fatalf("seed: %d unprocessed", len(out.UnprocessedItems))
		}
	}

	// What the SDK reads from each segment, in order: the reference.
	want := make([][]string, segments)
	total := 0
	for seg := range segments {
		p := sdk.NewScanPaginator(db, &sdk.ScanInput{TableName: aws.String(table), Segment: aws.Int32(int32(seg)),
			TotalSegments: aws.Int32(segments), Limit: aws.Int32(pageItems)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				want[seg] = append(want[seg], it["pk"].(*types.AttributeValueMemberS).Value)
			}
		}
		total += len(want[seg])
	}
	if total != len(items) {
		t.Fatalf("the SDK read %d items, want %d", total, len(items))
	}

	c, err := dynamodb.New(cfg, dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faulty := dynamodb.NewFaultScanner(pageLimit{c, pageItems}, dynamodb.Faults{ThrottleEvery: 4, ResetEvery: 9})
	rec := &recorder{}
	res, err := Backup(ctx, BackupInput{Table: table, Segments: segments, NewSink: rec.newSink,
		Scanner: dynamodb.NewRetryScanner(faulty, dynamodb.RetryPolicy{Sleep: noSleep})})
	if err != nil {
		t.Fatal(err)
	}
	if st := faulty.Stats(); st.Throttles == 0 || st.Resets == 0 {
		t.Errorf("faults %+v: want throttles and resets", st)
	}
	if res.Items != int64(len(items)) || res.Checksum != sumOf(t, items) {
		t.Errorf("backup read %d items, checksum %s; want %d, %s", res.Items, res.Checksum, len(items), sumOf(t, items))
	}
	if len(rec.sinks) != segments {
		t.Fatalf("%d sinks, want %d", len(rec.sinks), segments)
	}
	seen := map[int]bool{}
	for i, s := range rec.sinks {
		var got []string
		for _, raw := range s.items {
			var it struct {
				PK struct{ S string } `json:"pk"`
			}
			if err := json.Unmarshal([]byte(raw), &it); err != nil {
				t.Fatal(err)
			}
			got = append(got, it.PK.S)
		}
		seg := -1
		for k := range want {
			if len(got) > 0 && len(want[k]) > 0 && want[k][0] == got[0] {
				seg = k
			}
		}
		if seg < 0 || seen[seg] {
			t.Errorf("sink %d holds no segment's items in order", i)
			continue
		}
		seen[seg] = true
		if len(got) != len(want[seg]) {
			t.Errorf("sink %d (segment %d): %d items, the SDK read %d", i, seg, len(got), len(want[seg]))
			continue
		}
		for k := range got {
			if got[k] != want[seg][k] {
				t.Errorf("sink %d (segment %d): item %d is %s, the SDK's is %s", i, seg, k, got[k], want[seg][k])
				break
			}
		}
	}
}
