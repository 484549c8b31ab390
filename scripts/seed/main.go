// Command seed creates an example DynamoDB table for the demo: a composite
// key, a GSI, tags and N items of about 1 KB of random payload. It reads the
// AWS SDK's standard configuration (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func main() {
	table := flag.String("table", "orders", "table to create")
	items := flag.Int("items", 20000, "items to write")
	flag.Parse()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	s := func(v string) *string { return &v }
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: table,
		KeySchema: []types.KeySchemaElement{{AttributeName: s("customer"), KeyType: types.KeyTypeHash}, {AttributeName: s("order"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("customer"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("order"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: s("status"), AttributeType: types.ScalarAttributeTypeS},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  s("by-status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: s("status"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		log.Fatalf("create table %s: %v", *table, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: table}, time.Minute); err != nil {
		log.Fatalf("table %s did not become ACTIVE: %v", *table, err)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: desc.Table.TableArn,
		Tags: []types.Tag{{Key: s("backup"), Value: s("daily")}, {Key: s("team"), Value: s("shop")}}}); err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range work {
				var reqs []types.WriteRequest
				for i := start; i < min(start+25, *items); i++ {
					payload := make([]byte, 480)
					rand.Read(payload)
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"customer": &types.AttributeValueMemberS{Value: fmt.Sprintf("customer-%04d", i%1000)},
						"order":    &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
						"status":   &types.AttributeValueMemberS{Value: []string{"open", "paid", "shipped"}[i%3]},
						"payload":  &types.AttributeValueMemberS{Value: hex.EncodeToString(payload)},
					}}})
				}
				for len(reqs) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{*table: reqs}})
					if err != nil {
						log.Fatal(err)
					}
					reqs = out.UnprocessedItems[*table]
				}
			}
		}()
	}
	for i := 0; i < *items; i += 25 {
		work <- i
	}
	close(work)
	wg.Wait()
	fmt.Printf("table %s: %d items (%s)\n", *table, *items, aws.ToString(desc.Table.TableArn))
}
