package dynamodb

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cairn-backup/cairn/internal/ddbjson"
)

// The benchmarks compare the raw data plane with the bare SDK doing the
// same work: a parallel Scan of a table (items decoded by the SDK into
// AttributeValues, cut as raw JSON by ScanPage) and a parallel
// BatchWriteItem load, both asking for ReturnConsumedCapacity TOTAL.
//
// Against dynalite the server is the ceiling, and its speed drifts by a
// factor of two within a run (LevelDB compactions, Node's GC), so
// BenchmarkScan and BenchmarkBatchWrite alternate raw and SDK rounds in each
// iteration and report both rates and their ratio (raw/sdk ≥ 0.9 is the
// target). The ClientBound variants serve canned 1 MB pages from an
// in-process server to show what the client alone costs. All report the
// client's CPU time per item (cpu-ns/item), dynalite's own CPU excluded.

const (
	benchItems    = 20000
	benchSegments = 4
	benchWriters  = 8
)

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports items/s and client CPU per item.
func measure(b *testing.B, itemsPerOp int, fn func()) {
	b.Helper()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	b.StopTimer()
	total := float64(itemsPerOp) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/total, "cpu-ns/item")
}

// abMeasure runs raw and sdk alternately, each once per iteration and each
// first every other iteration, and reports their rates, their ratio and
// their CPU per item.
func abMeasure(b *testing.B, itemsPerOp int, raw, sdk func()) {
	b.Helper()
	var wall, cpu [2]time.Duration
	run := func(k int, fn func()) {
		c0, t0 := cpuTime(), time.Now()
		fn()
		wall[k] += time.Since(t0)
		cpu[k] += cpuTime() - c0
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			run(0, raw)
			run(1, sdk)
		} else {
			run(1, sdk)
			run(0, raw)
		}
		i++
	}
	total := float64(itemsPerOp) * float64(b.N)
	rawRate, sdkRate := total/wall[0].Seconds(), total/wall[1].Seconds()
	b.ReportMetric(rawRate, "raw-items/s")
	b.ReportMetric(sdkRate, "sdk-items/s")
	b.ReportMetric(rawRate/sdkRate, "raw/sdk")
	b.ReportMetric(float64(cpu[0])/total, "raw-cpu-ns/item")
	b.ReportMetric(float64(cpu[1])/total, "sdk-cpu-ns/item")
}

func rawParallelScan(b *testing.B, s Scanner, table string) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	for seg := range benchSegments {
		wg.Go(func() {
			var key []byte
			for {
				p, err := s.ScanPage(context.Background(), ScanInput{Table: table, Segment: seg, TotalSegments: benchSegments, ExclusiveStartKey: key})
				if err != nil {
					b.Error(err)
					return
				}
				n.Add(int64(len(p.Items)))
				key = p.LastEvaluatedKey
				p.Release()
				if key == nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

func sdkParallelScan(b *testing.B, sdk *dynamodb.Client, table string) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	for seg := range benchSegments {
		wg.Go(func() {
			p := dynamodb.NewScanPaginator(sdk, &dynamodb.ScanInput{TableName: aws.String(table),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(benchSegments), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					b.Error(err)
					return
				}
				n.Add(int64(len(out.Items)))
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

func BenchmarkScan(b *testing.B) {
	c, sdk := dynalite(b)
	createKV(b, sdk, "bench")
	loadParallel(b, c, "bench", randomItems(b, benchItems, 1000))
	check := func(n int) {
		if n != benchItems {
			b.Fatalf("%d items, want %d", n, benchItems)
		}
	}
	abMeasure(b, benchItems,
		func() { check(rawParallelScan(b, c, "bench")) },
		func() { check(sdkParallelScan(b, sdk, "bench")) })
}

// loadParallel writes items with benchWriters parallel raw writers.
func loadParallel(b testing.TB, w Writer, table string, items [][]byte) {
	loadWith(b, w, table, items, benchWriters)
}

func loadWith(b testing.TB, w Writer, table string, items [][]byte, writers int) {
	batches := make(chan [][]byte)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for batch := range batches {
				un, _, err := w.BatchWrite(context.Background(), table, batch)
				if err != nil || len(un) > 0 {
					b.Errorf("batch write: %v, %d unprocessed", err, len(un))
				}
			}
		})
	}
	for batch := range chunks(items, MaxBatchItems) {
		batches <- batch
	}
	close(batches)
	wg.Wait()
}

func sdkLoadParallel(b testing.TB, sdk *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	batches := make(chan []map[string]types.AttributeValue)
	var wg sync.WaitGroup
	for range benchWriters {
		wg.Go(func() {
			for batch := range batches {
				reqs := make([]types.WriteRequest, len(batch))
				for i, it := range batch {
					reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
				}
				out, err := sdk.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]types.WriteRequest{table: reqs}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
				if err != nil || len(out.UnprocessedItems) > 0 {
					b.Errorf("batch write: %v", err)
				}
			}
		})
	}
	for len(items) > 0 {
		k := min(MaxBatchItems, len(items))
		batches <- items[:k]
		items = items[k:]
	}
	close(batches)
	wg.Wait()
}

func BenchmarkBatchWrite(b *testing.B) {
	const n = 5000
	c, sdk := dynalite(b)
	createKV(b, sdk, "bench")
	raw := randomItems(b, n, 1000)
	avs := make([]map[string]types.AttributeValue, n)
	for i, it := range raw {
		var err error
		if avs[i], err = ddbjson.ToAttributeValues(it); err != nil {
			b.Fatal(err)
		}
	}
	loadParallel(b, c, "bench", raw) // both sides overwrite from here on
	abMeasure(b, n,
		func() { loadParallel(b, c, "bench", raw) },
		func() { sdkLoadParallel(b, sdk, "bench", avs) })
}

// cannedScanServer answers every Scan with the same page of items; the
// page number travels in the key, {"pk":{"S":"page-N"}}, and the pages-th
// page of a segment is its last.
func cannedScanServer(b *testing.B, items [][]byte, pages int) *httptest.Server {
	head := fmt.Appendf(nil, `{"Count":%d,"ScannedCount":%d,"ConsumedCapacity":{"TableName":"bench","CapacityUnits":128},"Items":[`, len(items), len(items))
	for i, it := range items {
		if i > 0 {
			head = append(head, ',')
		}
		head = append(head, it...)
	}
	bodies := make([][]byte, pages)
	for p := range bodies {
		body := append([]byte(nil), head...)
		if p < pages-1 {
			body = fmt.Appendf(body, `],"LastEvaluatedKey":{"pk":{"S":"page-%d"}}}`, p+1)
		} else {
			body = append(body, "]}"...)
		}
		bodies[p] = body
	}
	crcs := make([]string, pages)
	for p, body := range bodies {
		crcs[p] = strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		p := 0
		if i := bytes.Index(req, []byte(`"page-`)); i >= 0 {
			p = int(req[i+len(`"page-`)] - '0')
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amz-Crc32", crcs[p])
		w.Header().Set("Content-Length", strconv.Itoa(len(bodies[p])))
		_, _ = w.Write(bodies[p])
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkScanClientBound(b *testing.B) {
	const perPage, pages = 1000, 5 // 1 MB pages, like DynamoDB's
	srv := cannedScanServer(b, randomItems(b, perPage, 1000), pages)
	cfg := testConfig(srv.URL)
	c, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	sdk := dynamodb.NewFromConfig(cfg)
	want := perPage * pages * benchSegments
	b.Run("Raw", func(b *testing.B) {
		measure(b, want, func() {
			if n := rawParallelScan(b, c, "bench"); n != want {
				b.Fatalf("%d items", n)
			}
		})
	})
	b.Run("SDK", func(b *testing.B) {
		measure(b, want, func() {
			if n := sdkParallelScan(b, sdk, "bench"); n != want {
				b.Fatalf("%d items", n)
			}
		})
	})
}

func BenchmarkBatchWriteClientBound(b *testing.B) {
	const n = 5000
	resp := []byte(`{"UnprocessedItems":{},"ConsumedCapacity":[{"TableName":"bench","CapacityUnits":25}]}`)
	crc := strconv.FormatUint(uint64(crc32.ChecksumIEEE(resp)), 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Amz-Crc32", crc)
		_, _ = w.Write(resp)
	}))
	b.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	c, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	sdk := dynamodb.NewFromConfig(cfg)
	raw := randomItems(b, n, 1000)
	avs := make([]map[string]types.AttributeValue, n)
	for i, it := range raw {
		if avs[i], err = ddbjson.ToAttributeValues(it); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Raw", func(b *testing.B) { measure(b, n, func() { loadParallel(b, c, "bench", raw) }) })
	b.Run("SDK", func(b *testing.B) { measure(b, n, func() { sdkLoadParallel(b, sdk, "bench", avs) }) })
}
