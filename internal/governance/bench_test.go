package governance_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// BenchmarkDiscoveryPass measures a full governance pass (discovery,
// tagging rules, compliance verdicts) over CAIRN_BENCH_TABLES tables
// (default 10,000) with tags, against dynalite, and in the same iteration
// its floor: the bare loop of ListTables and ListTagsOfResource through the
// SDK, with as many calls in flight (governance.DefaultWorkers). Rounds
// alternate which goes first (run an even number of them). It reports both rates, their ratio and the
// DynamoDB calls each makes per pass (docs/benchmarks.md).
//
//	CAIRN_BENCH_TABLES=10000 go test ./internal/governance -run '^$' -bench DiscoveryPass -benchtime 4x -timeout 2h
func BenchmarkDiscoveryPass(b *testing.B) {
	n := 10000
	if v := os.Getenv("CAIRN_BENCH_TABLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	dl := testbed.Dynalite(b)
	counter := &callCounter{next: http.DefaultTransport}
	cfg := awsConfig(dl.Endpoint)
	cfg.HTTPClient = &http.Client{Transport: counter}
	ddb := sdk.NewFromConfig(cfg)
	start := time.Now()
	createTables(b, ddb, n)
	b.Logf("created %d tables with 3 tags each in %v", n, time.Since(start).Round(time.Second))

	client, err := dynamodb.New(cfg, dynamodb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	addPlan(b, cat)
	fc := clock.NewFake(t0)
	w, err := governance.New(governance.Config{Rules: []governance.Rule{governance.Superwerker()},
		Sources: []governance.Source{{Name: "local", Inventory: client, Tagger: client}},
		Backups: cat, Store: cat, Clock: fc, Rate: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// A first pass learns the ARN prefix, as a running server has.
	if err := w.Pass(ctx); err != nil {
		b.Fatal(err)
	}
	var bareTime, passTime time.Duration
	var bareCalls, passCalls int64
	b.ResetTimer()
	for i := range b.N {
		bare := func() {
			c0 := counter.total()
			t := time.Now()
			got := bareLoop(b, ddb, "arn:aws:dynamodb:us-east-1:000000000000:table/")
			bareTime += time.Since(t)
			bareCalls += counter.total() - c0
			if got != n {
				b.Fatalf("bare loop saw %d tables, want %d", got, n)
			}
		}
		pass := func() {
			c0 := counter.total()
			fc.Advance(10 * time.Second)
			t := time.Now()
			if err := w.Pass(ctx); err != nil {
				b.Fatal(err)
			}
			passTime += time.Since(t)
			passCalls += counter.total() - c0
			r, _ := w.Compliance(ctx, "")
			if len(r.Resources) != n {
				b.Fatalf("pass judged %d tables, want %d", len(r.Resources), n)
			}
		}
		bt, pt := bareTime, passTime
		if i%2 == 0 {
			bare()
			pass()
		} else {
			pass()
			bare()
		}
		bt, pt = bareTime-bt, passTime-pt
		b.Logf("round %d (%s first): bare loop %.2f s, cairn pass %.2f s, ratio %.2f", i+1, map[bool]string{true: "bare", false: "cairn"}[i%2 == 0],
			bt.Seconds(), pt.Seconds(), bt.Seconds()/pt.Seconds())
	}
	b.StopTimer()
	rounds := float64(b.N)
	bareRate := float64(n) * rounds / bareTime.Seconds()
	passRate := float64(n) * rounds / passTime.Seconds()
	b.ReportMetric(bareRate, "bare-tables/s")
	b.ReportMetric(passRate, "pass-tables/s")
	b.ReportMetric(passRate/bareRate, "ratio")
	b.ReportMetric(float64(bareCalls)/rounds, "bare-calls/pass")
	b.ReportMetric(float64(passCalls)/rounds, "pass-calls/pass")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d tables, %d rounds: bare loop %.2f s per pass (%.0f tables/s, %.0f calls), cairn pass %.2f s (%.0f tables/s, %.0f calls); ratio %.2f; GOMAXPROCS %d",
		n, b.N, bareTime.Seconds()/rounds, bareRate, float64(bareCalls)/rounds, passTime.Seconds()/rounds, passRate,
		float64(passCalls)/rounds, passRate/bareRate, runtime.GOMAXPROCS(0))
}

// callCounter counts the requests sent through it.
type callCounter struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func (c *callCounter) total() int64 { return c.n.Load() }

// bareLoop is the floor: every page of ListTables, then ListTagsOfResource
// for every table, DefaultWorkers at once. It returns the tables seen.
func bareLoop(b *testing.B, ddb *sdk.Client, prefix string) int {
	ctx := context.Background()
	var names []string
	p := sdk.NewListTablesPaginator(ddb, &sdk.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		names = append(names, page.TableNames...)
	}
	next := make(chan string)
	var wg sync.WaitGroup
	var tagged atomic.Int64
	for range governance.DefaultWorkers {
		wg.Go(func() {
			for name := range next {
				in := &sdk.ListTagsOfResourceInput{ResourceArn: aws.String(prefix + name)}
				for {
					out, err := ddb.ListTagsOfResource(ctx, in)
					if err != nil {
						b.Error(err)
						break
					}
					if aws.ToString(out.NextToken) == "" {
						tagged.Add(1)
						break
					}
					in.NextToken = out.NextToken
				}
			}
		})
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
	return int(tagged.Load())
}

// createTables makes n empty tables, each tagged superwerker:backup=daily
// (one in ten none), team and env, 16 at a time.
func createTables(b *testing.B, ddb *sdk.Client, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				name := fmt.Sprintf("table-%05d", i)
				out, err := ddb.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String(name),
					KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
					AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
					BillingMode:          types.BillingModePayPerRequest})
				if err != nil {
					b.Error(err)
					continue
				}
				value := "daily"
				if i%10 == 0 {
					value = "none"
				}
				_, err = ddb.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: out.TableDescription.TableArn,
					Tags: []types.Tag{{Key: aws.String("superwerker:backup"), Value: aws.String(value)},
						{Key: aws.String("team"), Value: aws.String(fmt.Sprintf("team-%d", i%50))},
						{Key: aws.String("env"), Value: aws.String("prod")}}})
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}
