package ddbjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/testbed"
)

var testCreds = aws.Credentials{AccessKeyID: "cairntest", SecretAccessKey: "cairntestsecret"}

// TestDynalite sends the hostile corpus through a real DynamoDB-compatible
// server and checks that nothing changes on the way: SDK PutItem, then a raw
// Scan (AppendScanRequest, ParseScanResponse) in two segments with small
// pages, export lines, a raw BatchWriteItem into a second table
// (AppendBatchWriteRequest, ParseBatchWriteResponse), and SDK Scans of both
// tables. Every path must give the checksum of what went in.
func TestDynalite(t *testing.T) {
	srv := testbed.Dynalite(t)
	ctx := t.Context()
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return testCreds, nil
		}),
	})
	raw := &rawClient{endpoint: srv.Endpoint, signer: v4.NewSigner()}

	for _, kt := range []string{TypeS, TypeN, TypeB} {
		t.Run("key"+kt, func(t *testing.T) {
			corpus := HostileCorpusFor(kt)
			var want Checksum
			for _, av := range corpus {
				b, err := FromAttributeValues(av)
				if err != nil {
					t.Fatal(err)
				}
				if err := want.Add(b); err != nil {
					t.Fatal(err)
				}
			}
			src, dst := "hostile_src_"+kt, "hostile_dst_"+kt
			createTable(t, client, src, kt)
			createTable(t, client, dst, kt)
			for k, av := range corpus {
				if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(src), Item: av}); err != nil {
					t.Fatalf("PutItem corpus item %d: %v", k, err)
				}
			}

			// Backup path: raw segmented Scan, checksum, export lines.
			var got Checksum
			var lines []byte
			for seg := range 2 {
				var part Checksum
				var esk []byte
				for {
					body := raw.call(t, "Scan", AppendScanRequest(nil, src, seg, 2, 7, esk))
					r, err := ParseScanResponse(body)
					if err != nil {
						t.Fatalf("ParseScanResponse: %v\n%.300s", err, body)
					}
					if int(r.Count) != len(r.Items) || r.ConsumedCapacity <= 0 {
						t.Errorf("Count %d for %d items, ConsumedCapacity %v", r.Count, len(r.Items), r.ConsumedCapacity)
					}
					for _, it := range r.Items {
						if err := part.Add(it); err != nil {
							t.Fatalf("scanned item: %v\n%.300s", err, it)
						}
						lines = AppendExportLine(lines, it)
					}
					if r.LastEvaluatedKey == nil {
						break
					}
					esk = bytes.Clone(r.LastEvaluatedKey)
				}
				got.Merge(&part)
			}
			if !got.Equal(&want) {
				t.Fatalf("raw Scan checksum %s/%d, want %s/%d", got.Sum(), got.Count(), want.Sum(), want.Count())
			}

			// Restore path: export lines back into raw BatchWriteItem bodies.
			var batch [][]byte
			flush := func() {
				if len(batch) == 0 {
					return
				}
				body := raw.call(t, "BatchWriteItem", AppendBatchWriteRequest(nil, dst, batch))
				un, consumed, err := ParseBatchWriteResponse(body)
				if err != nil || len(un) != 0 || consumed <= 0 {
					t.Fatalf("ParseBatchWriteResponse: %d unprocessed, consumed %v, %v\n%.300s", len(un), consumed, err, body)
				}
				batch = batch[:0]
			}
			size := 0
			for len(lines) > 0 {
				end := bytes.IndexByte(lines, '\n') + 1
				item, err := ExportLineItem(lines[:end])
				if err != nil {
					t.Fatal(err)
				}
				lines = lines[end:]
				if len(batch) == 25 || size+len(item) > 4<<20 {
					flush()
					size = 0
				}
				batch = append(batch, item)
				size += len(item)
			}
			flush()

			// Both tables read back through the SDK.
			for _, table := range []string{src, dst} {
				var sdk Checksum
				p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(10)})
				for p.HasMorePages() {
					out, err := p.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					for _, av := range out.Items {
						b, err := FromAttributeValues(av)
						if err != nil {
							t.Fatalf("%s: FromAttributeValues(scanned): %v", table, err)
						}
						if err := sdk.Add(b); err != nil {
							t.Fatal(err)
						}
						back, err := ToAttributeValues(b)
						if err != nil || !reflect.DeepEqual(back, av) {
							t.Errorf("%s: SDK item does not survive FromAttributeValues/ToAttributeValues (%v)", table, err)
						}
					}
				}
				if !sdk.Equal(&want) {
					t.Errorf("%s: SDK Scan checksum %s/%d, want %s/%d", table, sdk.Sum(), sdk.Count(), want.Sum(), want.Count())
				}
			}
		})
	}
}

func createTable(t *testing.T, client *dynamodb.Client, name, keyType string) {
	t.Helper()
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(CorpusKey), AttributeType: types.ScalarAttributeType(keyType)}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(CorpusKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	// Even with --createTableMs 0, dynalite refuses writes for a moment.
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := w.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("table %s did not become ACTIVE: %v", name, err)
	}
}

// rawClient sends signed DynamoDB JSON 1.0 requests and returns raw bodies.
type rawClient struct {
	endpoint string
	signer   *v4.Signer
}

func (c *rawClient) call(t *testing.T, op string, body []byte) []byte {
	t.Helper()
	ctx := t.Context()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, testCreds, req, hex.EncodeToString(sum[:]), "dynamodb", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", op, resp.StatusCode, fmt.Sprintf("%.500s", out))
	}
	return out
}
