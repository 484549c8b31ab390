package engine_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
	"github.com/cairn-backup/cairn/internal/vault"
)

// The engine benchmarks measure what cairn itself costs per byte of
// DynamoDB JSON, with DynamoDB out of the picture: an in-memory Scanner
// serves pre-generated 1 MB pages of 1 KB items, and the items go into a
// vault on local disk (b.TempDir). Two corpora: "random" items
// (ddbjson.RandomItems: a few small attributes and a random, incompressible
// 900-byte string) and "orders" (ddbjson.OrderItems: about 20 attributes,
// nested maps and lists, text from small vocabularies, compressible like
// real tables, and costlier to parse). The target is 150 MB/s per core;
// run with -cpu 1 to read it directly, and -cpu 2 to see how it scales.
// Each benchmark also reports MB/cpu-s, the bytes per second of CPU time
// the process used (all goroutines, GC included): that is the per-core
// rate even on a busy machine, where MB/s (wall clock) is not.
// docs/benchmarks.md has the numbers and the profile.
//
//	go test -run '^$' -bench . -cpu 1,2 ./internal/engine

const (
	benchItems    = 20000 // about 20 MB of item JSON per operation
	benchPayload  = 1000
	benchSegments = 4 // engine.AutoSegments for a small table
	pageBytes     = 1 << 20
)

// memScanner serves a table held in memory as pages of about 1 MB, dealt
// round robin to the segments. Its LastEvaluatedKey is the index of the
// next page in the segment's list.
type memScanner struct {
	segs [][][][]byte // segment → page → items
}

func newMemScanner(items [][]byte, segments int) *memScanner {
	s := &memScanner{segs: make([][][][]byte, segments)}
	var page [][]byte
	n, k := 0, 0
	flush := func() {
		s.segs[k%segments] = append(s.segs[k%segments], page)
		page, n = nil, 0
		k++
	}
	for _, it := range items {
		page = append(page, it)
		if n += len(it); n >= pageBytes {
			flush()
		}
	}
	if len(page) > 0 {
		flush()
	}
	return s
}

func (s *memScanner) ScanPage(_ context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	pages := s.segs[in.Segment]
	i := 0
	if len(in.ExclusiveStartKey) > 0 {
		i, _ = strconv.Atoi(string(in.ExclusiveStartKey))
	}
	p := &dynamodb.ScanPage{}
	if i < len(pages) {
		p.Items = pages[i]
		p.Count, p.ScannedCount = len(pages[i]), len(pages[i])
	}
	if i+1 < len(pages) {
		p.LastEvaluatedKey = strconv.AppendInt(nil, int64(i+1), 10)
	}
	return p, nil
}

// perCPU runs the benchmark loop body through b.Loop and reports MB/cpu-s.
func perCPU(b *testing.B, bytesPerOp int64, fn func()) {
	b.Helper()
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		fn()
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
}

// corpora are the benchmarks' item sets, by name.
var corpora = []struct {
	name  string
	items func() [][]byte
}{
	{"random", func() [][]byte { return ddbjson.RandomItems(rand.New(rand.NewPCG(1, 2)), benchItems, benchPayload) }},
	{"orders", func() [][]byte { return ddbjson.OrderItems(rand.New(rand.NewPCG(1, 2)), benchItems) }},
}

func benchData(items [][]byte) ([][]byte, int64) {
	var total int64
	for _, it := range items {
		total += int64(len(it))
	}
	return items, total
}

func newVault(b *testing.B) *vault.Vault {
	b.Helper()
	store, err := fileblob.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return vault.New(store)
}

// backupOnce backs the in-memory table up into a new point of v and
// reports the stored size as a percentage of the item JSON ("stored-%"); a
// nil v only checksums.
func backupOnce(b *testing.B, sc dynamodb.Scanner, v *vault.Vault, id string, opts vault.WriterOptions, alg string, want int, checkpointEvery int64) {
	ctx := context.Background()
	in := engine.BackupInput{Table: "bench", Scanner: sc, Segments: benchSegments, ChecksumAlgorithm: alg}
	var w *vault.Writer
	if v != nil {
		var err error
		if w, err = v.Create(ctx, id, opts); err != nil {
			b.Fatal(err)
		}
		in.NewSink = func() engine.ItemSink { return w.NewFile() }
		if checkpointEvery > 0 {
			in.NewSink = func() engine.ItemSink { return syncFile{w.NewFile()} }
			in.CheckpointItems = checkpointEvery
			in.Checkpoint = func(st engine.SegmentState) error { _, err := json.Marshal(st); return err }
		}
	}
	res, err := engine.Backup(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	if res.Items != int64(want) {
		b.Fatalf("backed up %d items, want %d", res.Items, want)
	}
	if w != nil {
		m, err := w.Commit(ctx, vault.CommitInfo{ExpectedItemCount: &res.Items, ContentChecksum: res.Checksum})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(100*float64(m.Summary.Cairn.StoredBytes)/float64(res.Bytes), "stored-%")
	}
}

// BenchmarkBackup is engine.Backup from memory into a file vault, for each
// corpus. The zstd case is what cairn does by default; zstd-v1 is the same
// with the content checksum cairn used before ddbjson.ChecksumV2 (the
// baseline); zstd-noentropy is the WriterOptions.ZstdNoEntropy trade (less
// CPU, bigger files); none and checksum-only take compression and then the
// vault away to show what each layer costs. zstd-checkpoint-1000 is zstd
// with a checkpoint (the data file synced, the state marshalled) every 1,000
// items of a segment, 50 times cairn's default rate: what checkpoints cost.
func BenchmarkBackup(b *testing.B) {
	for _, corpus := range corpora {
		b.Run(corpus.name, func(b *testing.B) { benchBackup(b, corpus.items()) })
	}
}

func benchBackup(b *testing.B, items [][]byte) {
	items, total := benchData(items)
	sc := newMemScanner(items, benchSegments)
	v1 := ddbjson.ChecksumV1
	for _, tc := range []struct {
		name string
		opts vault.WriterOptions
		sink bool
		alg  string
		cp   int64
	}{
		{"zstd", vault.WriterOptions{Compression: vault.Zstd}, true, "", 0},
		{"zstd-checkpoint-1000", vault.WriterOptions{Compression: vault.Zstd}, true, "", 1000},
		{"zstd-v1", vault.WriterOptions{Compression: vault.Zstd}, true, v1, 0},
		{"zstd-noentropy", vault.WriterOptions{Compression: vault.Zstd, ZstdNoEntropy: true}, true, "", 0},
		{"gzip", vault.WriterOptions{Compression: vault.Gzip}, true, "", 0},
		{"none", vault.WriterOptions{Compression: vault.None}, true, "", 0},
		{"checksum-only", vault.WriterOptions{}, false, "", 0},
		{"checksum-only-v1", vault.WriterOptions{}, false, v1, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var v *vault.Vault
			if tc.sink {
				v = newVault(b)
			}
			i := 0
			perCPU(b, total, func() {
				id := "p" + strconv.Itoa(i)
				i++
				backupOnce(b, sc, v, id, tc.opts, tc.alg, len(items), tc.cp)
				if v != nil {
					// Deleting is part of the loop (and of the CPU time),
					// so that the disk does not fill up.
					if err := v.Delete(context.Background(), id); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// discardWriter accepts every batch.
type discardWriter struct{}

func (discardWriter) BatchWrite(context.Context, string, [][]byte) ([][]byte, float64, error) {
	return nil, 0, nil
}

// BenchmarkRestore is engine.Restore from a file vault (one point written
// once by the backup path) into a Writer that drops the batches: reading,
// checking and decompressing the data files and cutting them into batches.
func BenchmarkRestore(b *testing.B) {
	for _, corpus := range corpora {
		b.Run(corpus.name, func(b *testing.B) { benchRestore(b, corpus.items()) })
	}
}

func benchRestore(b *testing.B, items [][]byte) {
	items, total := benchData(items)
	sc := newMemScanner(items, benchSegments)
	for _, c := range []vault.Compression{vault.Zstd, vault.Gzip, vault.None} {
		b.Run(string(c), func(b *testing.B) {
			ctx := context.Background()
			v := newVault(b)
			backupOnce(b, sc, v, "point", vault.WriterOptions{Compression: c}, "", len(items), 0)
			perCPU(b, total, func() {
				r, err := v.Open(ctx, "point")
				if err != nil {
					b.Fatal(err)
				}
				var files []func(context.Context) (engine.ItemIterator, error)
				for _, fe := range r.Files() {
					files = append(files, func(ctx context.Context) (engine.ItemIterator, error) { return r.OpenFile(ctx, fe) })
				}
				res, err := engine.Restore(ctx, engine.RestoreInput{Table: "bench", Writer: discardWriter{}, Files: files})
				if err != nil {
					b.Fatal(err)
				}
				if res.Items != int64(len(items)) {
					b.Fatalf("restored %d items, want %d", res.Items, len(items))
				}
			})
		})
	}
}
