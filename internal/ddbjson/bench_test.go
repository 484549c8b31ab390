package ddbjson

import (
	"math/rand/v2"
	"testing"
)

// benchSizes runs f on random items of three sizes, and on 1000
// OrderItems ("orders": many small attributes, nested).
func benchSizes(b *testing.B, f func(b *testing.B, items [][]byte, total int64)) {
	run := func(name string, items [][]byte) {
		b.Run(name, func(b *testing.B) {
			var total int64
			for _, it := range items {
				total += int64(len(it))
			}
			setBytes(b, total)
			b.ReportAllocs()
			cpu := processCPU()
			f(b, items, total)
			reportCPU(b, cpu)
		})
	}
	for _, size := range []int{200, 1000, 10000} {
		run(sizeName(size), RandomItems(rand.New(rand.NewPCG(1, 1)), 1000, size))
	}
	run("orders", OrderItems(rand.New(rand.NewPCG(1, 1)), 1000))
}

// reportCPU reports throughput per second of process CPU time ("cpuMB/s"),
// which stays meaningful on a loaded machine where wall-clock MB/s does not.
// Run with -cpu 1 so that it means MB/s per core.
func reportCPU(b *testing.B, start float64) {
	if used := processCPU() - start; used > 0 && start > 0 {
		b.ReportMetric(float64(b.N)*float64(benchBytes(b))/used/1e6, "cpuMB/s")
	}
}

var benchBytesBy = map[string]int64{}

// setBytes is b.SetBytes remembering the value for reportCPU.
func setBytes(b *testing.B, n int64) {
	b.SetBytes(n)
	benchBytesBy[b.Name()] = n
}

func benchBytes(b *testing.B) int64 { return benchBytesBy[b.Name()] }

func sizeName(n int) string {
	if n >= 1000 {
		return string(rune('0'+n/10000)) + string(rune('0'+n/1000%10)) + "KB"
	}
	return "200B"
}

func BenchmarkChecksumAdd(b *testing.B) {
	for _, alg := range []string{ChecksumV2, ChecksumV1} {
		b.Run(alg[len(alg)-2:], func(b *testing.B) {
			benchSizes(b, func(b *testing.B, items [][]byte, _ int64) {
				c, _ := NewChecksum(alg)
				for b.Loop() {
					for _, it := range items {
						if err := c.Add(it); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		})
	}
}

func BenchmarkValidateItem(b *testing.B) {
	benchSizes(b, func(b *testing.B, items [][]byte, _ int64) {
		for b.Loop() {
			for _, it := range items {
				if err := ValidateItem(it); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkAppendExportLine(b *testing.B) {
	benchSizes(b, func(b *testing.B, items [][]byte, total int64) {
		buf := make([]byte, 0, total+int64(len(items))*16)
		for b.Loop() {
			buf = buf[:0]
			for _, it := range items {
				buf = AppendExportLine(buf, it)
			}
		}
	})
}

func BenchmarkExportLineItem(b *testing.B) {
	benchSizes(b, func(b *testing.B, items [][]byte, _ int64) {
		lines := make([][]byte, len(items))
		for k, it := range items {
			lines[k] = AppendExportLine(nil, it)
		}
		for b.Loop() {
			for _, l := range lines {
				if _, err := ExportLineItem(l); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkParseScanResponse(b *testing.B) {
	benchSizes(b, func(b *testing.B, items [][]byte, _ int64) {
		var body []byte
		body = append(body, `{"ConsumedCapacity":{"CapacityUnits":128.5,"TableName":"bench"},"Count":1000,"Items":[`...)
		for k, it := range items {
			if k > 0 {
				body = append(body, ',')
			}
			body = append(body, it...)
		}
		body = append(body, `],"LastEvaluatedKey":{"pk":{"S":"x"}},"ScannedCount":1000}`...)
		setBytes(b, int64(len(body)))
		var r ScanResponse
		for b.Loop() {
			if err := ParseScanResponseInto(&r, body); err != nil || len(r.Items) != len(items) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBackupPath is the per-item work of a backup: parse the page,
// checksum every item, write its export line.
func BenchmarkBackupPath(b *testing.B) {
	benchSizes(b, func(b *testing.B, items [][]byte, total int64) {
		body := []byte(`{"Count":1000,"Items":[`)
		for k, it := range items {
			if k > 0 {
				body = append(body, ',')
			}
			body = append(body, it...)
		}
		body = append(body, `],"ScannedCount":1000}`...)
		var r ScanResponse
		var c Checksum
		out := make([]byte, 0, total*2)
		for b.Loop() {
			if err := ParseScanResponseInto(&r, body); err != nil {
				b.Fatal(err)
			}
			out = out[:0]
			for _, it := range r.Items {
				if err := c.Add(it); err != nil {
					b.Fatal(err)
				}
				out = AppendExportLine(out, it)
			}
		}
	})
}
