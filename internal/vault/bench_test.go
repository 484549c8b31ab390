package vault_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/vault"
)

// benchItems returns 4096 distinct items of about 1 KB with random
// payloads: 4 MiB, more than the zstd window, so repeats do not flatter
// the compression.
func benchItems() (items [][]byte, framed int64) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 4096 {
		it := item(rng, i, 950)
		items = append(items, it)
		framed += int64(len(it) + len(`{"Item":}`+"\n"))
	}
	return items, framed
}

// BenchmarkWriteItems writes 1 KB items through one FileWriter into a
// point and commits it; MB/s counts the DYNAMODB_JSON bytes.
func BenchmarkWriteItems(b *testing.B) {
	items, framed := benchItems()
	perItem := framed / int64(len(items))
	stores := []struct {
		name string
		new  func(b *testing.B) blob.Store
	}{
		{"mem", func(b *testing.B) blob.Store { return mem.New() }},
		{"file", func(b *testing.B) blob.Store {
			s, err := file.New(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range stores {
		for _, c := range []vault.Compression{vault.Zstd, vault.Gzip, vault.None} {
			b.Run(st.name+"/"+string(c), func(b *testing.B) {
				ctx := context.Background()
				v := vault.New(st.new(b))
				b.SetBytes(perItem)
				b.ReportAllocs()
				cpu0 := cpuTime()
				w, err := v.Create(ctx, fmt.Sprintf("bench-%d", b.N), vault.WriterOptions{Compression: c})
				if err != nil {
					b.Fatal(err)
				}
				fw := w.NewFile()
				for i := 0; i < b.N; i++ {
					if err := fw.WriteItem(items[i%len(items)]); err != nil {
						b.Fatal(err)
					}
				}
				if err := fw.Close(); err != nil {
					b.Fatal(err)
				}
				m, err := w.Commit(ctx, vault.CommitInfo{})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(perItem)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
				if m.Summary.Cairn.UncompressedBytes > 0 {
					b.ReportMetric(float64(m.Summary.Cairn.StoredBytes)/float64(m.Summary.Cairn.UncompressedBytes), "ratio")
				}
			})
		}
	}
}

// BenchmarkParts measures the stages of WriteItems alone, to find the
// bottleneck: zstd SpeedFastest with the vault's settings, MD5, SHA-256.
func BenchmarkParts(b *testing.B) {
	items, framed := benchItems()
	var all []byte
	for _, it := range items {
		all = append(append(append(all, `{"Item":`...), it...), "}\n"...)
	}
	b.Run("zstd-fastest", func(b *testing.B) {
		enc, _ := zstd.NewWriter(io.Discard, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
		b.SetBytes(framed)
		for b.Loop() {
			enc.Write(all)
		}
		enc.Close()
	})
	compressed := int64(float64(len(all)) * 0.7)
	b.Run("md5-of-compressed", func(b *testing.B) {
		b.SetBytes(framed)
		h := md5.New()
		for b.Loop() {
			h.Write(all[:compressed])
		}
	})
	b.Run("sha256-of-compressed", func(b *testing.B) {
		b.SetBytes(framed)
		h := sha256.New()
		for b.Loop() {
			h.Write(all[:compressed])
		}
	})
}

// cpuTime is the CPU time (user and system) the process has used: the
// benchmark's MB/cpu-s is throughput per core, whatever else the machine
// is doing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMemoryPerFileWriter measures the heap an open FileWriter holds (its
// compressor, buffers and pipe) and fails past 8 MiB.
func TestMemoryPerFileWriter(t *testing.T) {
	items, _ := benchItems()
	for _, c := range []vault.Compression{vault.Zstd, vault.Gzip} {
		ctx := context.Background()
		v := vault.New(blobDiscard{})
		w, err := v.Create(ctx, "m", vault.WriterOptions{Compression: c})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC() // sync.Pool keeps its victims for one cycle
		runtime.ReadMemStats(&before)
		fws := make([]*vault.FileWriter, n)
		for i := range fws {
			fws[i] = w.NewFile()
			for _, it := range items[:2000] { // 2 MB each, past the zstd window
				if err := fws[i].WriteItem(it); err != nil {
					t.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
		t.Logf("%s: %.2f MiB heap per open FileWriter", c, float64(per)/(1<<20))
		if per > 8<<20 {
			t.Errorf("%s: %d bytes per FileWriter", c, per)
		}
		for _, fw := range fws {
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// blobDiscard is a store that reads and drops everything, so that only the
// writer's own memory is measured.
type blobDiscard struct{ blob.Store }

func (blobDiscard) Put(ctx context.Context, key string, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (blobDiscard) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	return nil
}
