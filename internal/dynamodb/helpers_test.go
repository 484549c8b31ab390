package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// testConfig is an aws.Config for a test bed server, free of the
// developer's own AWS setup.
func testConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}

// dynalite starts a dynalite and returns a Client and a plain SDK client
// for it.
func dynalite(t testing.TB) (*Client, *dynamodb.Client) {
	t.Helper()
	return clientsFor(t, testbed.Dynalite(t))
}

func moto(t testing.TB) (*Client, *dynamodb.Client) {
	t.Helper()
	return clientsFor(t, testbed.Moto(t))
}

func clientsFor(t testing.TB, s *testbed.Server) (*Client, *dynamodb.Client) {
	t.Helper()
	cfg := testConfig(s.Endpoint)
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, dynamodb.NewFromConfig(cfg)
}

// createKV creates a table keyed by the string pk, pay per request.
func createKV(t testing.TB, sdk *dynamodb.Client, name string) {
	t.Helper()
	_, err := sdk.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

// randomItems returns n items {"pk":{"S":"item-%06d"},"n":{"N":i},"data":{"S":<random>}}
// of about size bytes. Random payloads keep LevelDB from compressing them.
func randomItems(t testing.TB, n, size int) [][]byte {
	t.Helper()
	raw := make([]byte, size*3/4)
	out := make([][]byte, n)
	for i := range out {
		rand.Read(raw)
		out[i] = fmt.Appendf(nil, `{"data":{"S":%q},"n":{"N":"%d"},"pk":{"S":"item-%06d"}}`,
			base64.StdEncoding.EncodeToString(raw), i, i)
		if err := ddbjson.ValidateItem(out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// load writes items with the raw writer in batches of 25, retrying.
func load(t testing.TB, w Writer, table string, items [][]byte) {
	t.Helper()
	for b := range chunks(items, MaxBatchItems) {
		un, _, err := w.BatchWrite(context.Background(), table, b)
		if err != nil || len(un) > 0 {
			t.Fatalf("load %s: %v, %d unprocessed", table, err, len(un))
		}
	}
}

func chunks(items [][]byte, n int) func(func([][]byte) bool) {
	return func(yield func([][]byte) bool) {
		for len(items) > 0 {
			k := min(n, len(items))
			if !yield(items[:k]) {
				return
			}
			items = items[k:]
		}
	}
}

// countItems counts a table's items with the SDK.
func countItems(t testing.TB, sdk *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(sdk, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n += int(out.Count)
	}
	return n
}
