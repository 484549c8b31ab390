package vault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

var bucketSeq atomic.Int64

// stores returns a constructor per kind of store; the S3 one runs against
// a real versitygw.
func stores(t *testing.T) map[string]func(t *testing.T) blob.Store {
	return map[string]func(t *testing.T) blob.Store{
		"mem": func(t *testing.T) blob.Store { return mem.New() },
		"file": func(t *testing.T) blob.Store {
			s, err := file.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"s3": func(t *testing.T) blob.Store {
			srv := testbed.Versity(t)
			s, err := s3.New(context.Background(), s3.Config{
				Bucket: fmt.Sprintf("vault-%d", bucketSeq.Add(1)), Prefix: "vaults/test",
				Endpoint: srv.Endpoint, Region: "us-east-1", PathStyle: true,
				AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EnsureBucket(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// item returns a DynamoDB JSON item with a random payload of about size bytes.
func item(rng *rand.Rand, i, size int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	payload := make([]byte, size)
	for j := range payload {
		payload[j] = alphabet[rng.IntN(len(alphabet))]
	}
	return fmt.Appendf(nil, `{"pk":{"S":"item-%08d"},"n":{"N":"%d"},"payload":{"S":"%s"}}`, i, i, payload)
}

func writePoint(t *testing.T, v *vault.Vault, id string, opts vault.WriterOptions, writers, perWriter int) map[string]bool {
	t.Helper()
	ctx := context.Background()
	w, err := v.Create(ctx, id, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	want := make(map[string]bool)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			fw := w.NewFile()
			for i := range perWriter {
				it := item(rng, g*perWriter+i, 50+rng.IntN(500))
				mu.Lock()
				want[string(it)] = true
				mu.Unlock()
				if err := fw.WriteItem(it); err != nil {
					errs <- err
					return
				}
			}
			if err := fw.Close(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := v.Open(ctx, id); !errors.Is(err, vault.ErrIncomplete) {
		t.Fatalf("Open before Commit = %v, want ErrIncomplete", err)
	}
	n := int64(writers * perWriter)
	now := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	m, err := w.Commit(ctx, vault.CommitInfo{
		TableARN: "arn:aws:dynamodb:us-east-1:000000000000:table/T", TableID: "tid",
		StartTime: now, EndTime: now.Add(time.Minute), ScanStartTime: now.Add(time.Second), ScanEndTime: now.Add(50 * time.Second),
		ExpectedItemCount: &n, Metadata: json.RawMessage(`{"TableName":"T"}`), ContentChecksum: "sum-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Summary.ItemCount != n || w.ItemsWritten() != n {
		t.Fatalf("summary says %d items, writer %d, want %d", m.Summary.ItemCount, w.ItemsWritten(), n)
	}
	if w.BytesStored() != m.Summary.Cairn.StoredBytes || w.BytesIn() != m.Summary.Cairn.UncompressedBytes {
		t.Fatalf("counters %d/%d, summary %d/%d", w.BytesIn(), w.BytesStored(),
			m.Summary.Cairn.UncompressedBytes, m.Summary.Cairn.StoredBytes)
	}
	return want
}

func readPoint(t *testing.T, v *vault.Vault, id string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	r, err := v.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]bool)
	for _, fe := range r.Files() {
		ir, err := r.OpenFile(ctx, fe)
		if err != nil {
			t.Fatal(err)
		}
		for {
			it, err := ir.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[string(it)] {
				t.Fatalf("item read twice: %.60s", it)
			}
			got[string(it)] = true
		}
		ir.Close()
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	for name, newStore := range stores(t) {
		for _, c := range []vault.Compression{vault.Zstd, vault.Gzip, vault.None} {
			t.Run(name+"/"+string(c), func(t *testing.T) {
				store := newStore(t)
				v := vault.New(store)
				opts := vault.WriterOptions{Compression: c, MaxFileBytes: 100 << 10}
				want := writePoint(t, v, "rp-1", opts, 4, 500)
				got := readPoint(t, v, "rp-1")
				if len(got) != len(want) {
					t.Fatalf("read %d items, wrote %d", len(got), len(want))
				}
				for it := range want {
					if !got[it] {
						t.Fatalf("item missing: %.60s", it)
					}
				}
				if err := v.Verify(context.Background(), "rp-1"); err != nil {
					t.Fatal(err)
				}
				r, err := v.Open(context.Background(), "rp-1")
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Files()) < 8 {
					t.Errorf("only %d data files; rotation at MaxFileBytes did not happen", len(r.Files()))
				}
				if string(r.Metadata()) != `{"TableName":"T"}` || r.ContentChecksum() != "sum-1" {
					t.Errorf("metadata %s, checksum %q", r.Metadata(), r.ContentChecksum())
				}
				s := r.Summary()
				if s.TableARN != "arn:aws:dynamodb:us-east-1:000000000000:table/T" || s.ExportType != "FULL_EXPORT" ||
					s.ExportARN != s.TableARN+"/export/rp-1" || !s.EndTime.Equal(s.StartTime.Add(time.Minute)) {
					t.Errorf("summary: %+v", s)
				}
				complete, incomplete, err := v.ListPoints(context.Background())
				if err != nil || len(complete) != 1 || complete[0] != "rp-1" || len(incomplete) != 0 {
					t.Errorf("ListPoints = %v, %v, %v", complete, incomplete, err)
				}
				if err := v.Delete(context.Background(), "rp-1"); err != nil {
					t.Fatal(err)
				}
				mustBeEmpty(t, store)
				if err := v.Delete(context.Background(), "rp-1"); err != nil {
					t.Fatalf("second Delete: %v", err)
				}
			})
		}
	}
}

// TestEncodersSharedAcrossPoints: idle encoders and pipe buffers are shared
// by every Writer of the process. Points written one after another with
// different compressions and levels, after points whose uploads failed in
// mid-file, must each read back exactly.
func TestEncodersSharedAcrossPoints(t *testing.T) {
	ctx := context.Background()
	store := blobfault.New(mem.New())
	v := vault.New(store)
	opts := []vault.WriterOptions{
		{}, {Compression: vault.Zstd, Level: 3}, {Compression: vault.Gzip}, {Compression: vault.Gzip, Level: 6},
		{Compression: vault.None}, {MaxFileBytes: 10 << 10}, {ZstdNoEntropy: true},
	}
	for round := range 2 {
		for i, o := range opts {
			// A point whose uploads fail after a few bytes, while files rotate:
			// its encoders go back to the pool with a frame half written.
			bad := fmt.Sprintf("bad-%d-%d", round, i)
			store.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.DataPrefix(bad), AfterBytes: 100})
			o.MaxFileBytes = 4 << 10
			w, err := v.Create(ctx, bad, o)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			fw := w.NewFile()
			for k := 0; k < 500 && fw.WriteItem(item(rng, k, 300)) == nil; k++ {
			}
			if err := fw.Close(); err == nil {
				t.Fatalf("%s: Close after failed uploads = nil", bad)
			}
			if _, err := w.Commit(ctx, vault.CommitInfo{}); err == nil {
				t.Fatalf("%s: Commit after failed uploads = nil", bad)
			}

			id := fmt.Sprintf("p-%d-%d", round, i)
			want := writePoint(t, v, id, opts[i], 3, 200)
			got := readPoint(t, v, id)
			if len(got) != len(want) {
				t.Fatalf("%s: read %d items, wrote %d", id, len(got), len(want))
			}
			for it := range want {
				if !got[it] {
					t.Fatalf("%s: item missing: %.60s", id, it)
				}
			}
			if err := v.Verify(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestZstdNoEntropy: without entropy coding, zstd files of random
// alphanumeric payloads are bigger (Huffman would code each character in
// about 6 bits) and read back the same.
func TestZstdNoEntropy(t *testing.T) {
	v := vault.New(mem.New())
	stored := map[bool]int64{}
	for _, noEntropy := range []bool{false, true} {
		id := fmt.Sprintf("p-%t", noEntropy)
		want := writePoint(t, v, id, vault.WriterOptions{ZstdNoEntropy: noEntropy}, 2, 300)
		got := readPoint(t, v, id)
		if len(got) != len(want) {
			t.Fatalf("%s: read %d items, wrote %d", id, len(got), len(want))
		}
		r, err := v.Open(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c := r.Summary().Cairn.Compression; c != vault.Zstd {
			t.Errorf("%s: compression %q", id, c)
		}
		stored[noEntropy] = r.Summary().Cairn.StoredBytes
	}
	if stored[true] < stored[false]*11/10 {
		t.Errorf("stored %d bytes without entropy coding, %d with: want at least 10 %% more", stored[true], stored[false])
	}
}

func mustBeEmpty(t *testing.T, s blob.Store) {
	t.Helper()
	var left []string
	s.List(context.Background(), "", func(i blob.Info) error { left = append(left, i.Key); return nil })
	if len(left) > 0 {
		t.Fatalf("left behind: %q", left)
	}
}

// TestExportLayout checks the files against DynamoDB's export format.
func TestExportLayout(t *testing.T) {
	store := mem.New()
	v := vault.New(store)
	writePoint(t, v, "01234567890123-a1b2c3d4", vault.WriterOptions{Compression: vault.Gzip}, 1, 3)
	var keys []string
	store.List(context.Background(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 7 {
		t.Fatalf("keys: %q", keys)
	}
	prefix := "AWSDynamoDB/01234567890123-a1b2c3d4/"
	for _, k := range []string{"_started", "cairn-metadata.json", "manifest-files.checksum", "manifest-files.json",
		"manifest-summary.checksum", "manifest-summary.json"} {
		if _, err := store.Stat(context.Background(), prefix+k); err != nil {
			t.Error(err)
		}
	}
	rc, _ := store.Get(context.Background(), prefix+"manifest-summary.json")
	var summary map[string]any
	if err := json.NewDecoder(rc).Decode(&summary); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{
		"version": "2020-06-30", "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT",
		"manifestFilesS3Key": prefix + "manifest-files.json", "itemCount": 3.0,
		"startTime": "2026-01-02T03:04:05.006Z", "tableId": "tid",
	} {
		if summary[field] != want {
			t.Errorf("summary %s = %v, want %v", field, summary[field], want)
		}
	}
	for _, field := range []string{"exportArn", "endTime", "tableArn", "exportTime", "s3Bucket", "s3Prefix", "billedSizeBytes"} {
		if _, ok := summary[field]; !ok {
			t.Errorf("summary lacks %s", field)
		}
	}
	rc, _ = store.Get(context.Background(), prefix+"manifest-files.json")
	var line map[string]any
	if err := json.NewDecoder(rc).Decode(&line); err != nil {
		t.Fatal(err)
	}
	key, _ := line["dataFileS3Key"].(string)
	if !strings.HasPrefix(key, prefix+"data/") || !strings.HasSuffix(key, ".json.gz") || line["itemCount"] != 3.0 {
		t.Errorf("manifest-files line: %v", line)
	}
	if md5, _ := line["md5Checksum"].(string); len(md5) != 24 {
		t.Errorf("md5Checksum %q", md5)
	}
}

func TestIncompleteUntilCommit(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	v := vault.New(store)
	w, err := v.Create(ctx, "p", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	if err := fw.WriteItem([]byte(`{"a":{"S":"b"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{}); !errors.Is(err, vault.ErrFilesOpen) {
		t.Fatalf("Commit with an open file = %v, want ErrFilesOpen", err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Open(ctx, "p"); !errors.Is(err, vault.ErrIncomplete) {
		t.Fatalf("Open = %v, want ErrIncomplete", err)
	}
	if err := v.Verify(ctx, "p"); !errors.Is(err, vault.ErrIncomplete) {
		t.Fatalf("Verify = %v, want ErrIncomplete", err)
	}
	complete, incomplete, _ := v.ListPoints(ctx)
	if len(complete) != 0 || len(incomplete) != 1 {
		t.Fatalf("ListPoints = %v, %v", complete, incomplete)
	}
	if _, err := v.Create(ctx, "p", vault.WriterOptions{}); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Open(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{}); !errors.Is(err, vault.ErrClosed) {
		t.Fatalf("second Commit = %v", err)
	}
	if err := w.Abort(ctx); err == nil {
		t.Fatal("Abort of a committed point succeeded")
	}
}

func TestEmptyPoint(t *testing.T) {
	ctx := context.Background()
	v := vault.New(mem.New())
	w, err := v.Create(ctx, "empty", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.NewFile().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{}); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
}

func TestAbort(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			v := vault.New(store)
			w, err := v.Create(ctx, "p", vault.WriterOptions{MaxFileBytes: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			// One writer finished, one with a file in flight, one idle
			// with a file in flight.
			rng := rand.New(rand.NewPCG(1, 2))
			done := w.NewFile()
			for i := range 300 {
				done.WriteItem(item(rng, i, 500))
			}
			if err := done.Close(); err != nil {
				t.Fatal(err)
			}
			busy, idle := w.NewFile(), w.NewFile()
			idle.WriteItem(item(rng, 0, 100))
			stop := make(chan struct{})
			var busyErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if busyErr = busy.WriteItem(item(rng, i, 500)); busyErr != nil {
						return
					}
				}
			})
			time.Sleep(50 * time.Millisecond)
			if err := w.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			close(stop)
			wg.Wait()
			if busyErr == nil {
				busyErr = busy.WriteItem(item(rng, 0, 10))
			}
			if busyErr == nil {
				t.Error("writes after Abort succeed")
			}
			busy.Close()
			idle.Close()
			mustBeEmpty(t, store)
			if _, err := w.Commit(ctx, vault.CommitInfo{}); err == nil {
				t.Error("Commit after Abort succeeded")
			}
		})
	}
}

func TestCommitAfterFailedFile(t *testing.T) {
	ctx := context.Background()
	for _, after := range []int64{0, 10} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			inner := mem.New()
			store := blobfault.New(inner)
			store.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.DataPrefix("p"), AfterBytes: after})
			v := vault.New(store)
			w, err := v.Create(ctx, "p", vault.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			good, bad := w.NewFile(), w.NewFile()
			_ = good.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			var werr error
			for i := 0; i < 5000 && werr == nil; i++ {
				werr = bad.WriteItem(item(rng, i, 500))
			}
			cerr := bad.Close()
			if werr == nil && cerr == nil {
				t.Fatal("no error from a FileWriter whose uploads fail")
			}
			if !errors.Is(cerr, blobfault.ErrInjected) {
				t.Errorf("Close = %v, want the injected error", cerr)
			}
			if _, err := w.Commit(ctx, vault.CommitInfo{}); err == nil || !errors.Is(err, blobfault.ErrInjected) {
				t.Fatalf("Commit = %v, want the injected error", err)
			}
			if err := w.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			mustBeEmpty(t, inner)
		})
	}
}

func TestCommitFailsOnSummaryPut(t *testing.T) {
	ctx := context.Background()
	inner := mem.New()
	store := blobfault.New(inner)
	v := vault.New(store)
	w, _ := v.Create(ctx, "p", vault.WriterOptions{})
	fw := w.NewFile()
	fw.WriteItem([]byte(`{"a":{"N":"1"}}`))
	fw.Close()
	store.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: vault.SummaryKey("p")})
	if _, err := w.Commit(ctx, vault.CommitInfo{}); err == nil {
		t.Fatal("Commit succeeded")
	}
	if _, err := v.Open(ctx, "p"); !errors.Is(err, vault.ErrIncomplete) {
		t.Fatalf("Open = %v", err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	mustBeEmpty(t, inner)
}

func TestWriteItemRejects(t *testing.T) {
	v := vault.New(mem.New())
	w, _ := v.Create(context.Background(), "p", vault.WriterOptions{})
	for _, it := range []string{"", "{", `"s"`, "{\"a\":\n1}", "[]"} {
		fw := w.NewFile()
		if err := fw.WriteItem([]byte(it)); err == nil {
			t.Errorf("WriteItem(%q) succeeded", it)
		}
		fw.Close()
	}
}

func TestInvalidIDs(t *testing.T) {
	v := vault.New(mem.New())
	ctx := context.Background()
	for _, id := range []string{"", "a/b", "..", ".x", "a b", strings.Repeat("x", 129)} {
		if _, err := v.Create(ctx, id, vault.WriterOptions{}); !errors.Is(err, vault.ErrInvalidPointID) {
			t.Errorf("Create(%q) = %v", id, err)
		}
		if _, err := v.Open(ctx, id); !errors.Is(err, vault.ErrInvalidPointID) {
			t.Errorf("Open(%q) = %v", id, err)
		}
	}
}

// committed writes a small point into a fresh mem store.
func committed(t *testing.T) (*mem.Store, *vault.Vault, *vault.Manifest) {
	t.Helper()
	ctx := context.Background()
	store := mem.New()
	v := vault.New(store)
	w, err := v.Create(ctx, "p", vault.WriterOptions{MaxFileBytes: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		if err := fw.WriteItem(item(rng, i, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(ctx, vault.CommitInfo{Metadata: json.RawMessage(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	return store, v, m
}

func TestCorruption(t *testing.T) {
	ctx := context.Background()
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte {
			if off < 0 {
				off += len(b)
			}
			b[off] ^= 0x01
			return b
		}
	}
	truncate := func(b []byte) []byte { return b[:len(b)/2] }
	appendJunk := func(b []byte) []byte { return append(b, "junk"...) }
	cases := []struct {
		name    string
		key     func(m *vault.Manifest) string
		fn      func([]byte) []byte
		openErr bool // Open fails, not only Verify
	}{
		{"data first byte", dataKey, flip(0), false},
		{"data middle byte", dataKey, flip(len("x") * 200), false},
		{"data last byte", dataKey, flip(-1), false},
		{"data truncated", dataKey, truncate, false},
		{"data trailing junk", dataKey, appendJunk, false},
		{"manifest-files truncated", constKey(vault.FilesManifestKey("p")), truncate, true},
		{"manifest-files flipped", constKey(vault.FilesManifestKey("p")), flip(10), true},
		{"metadata flipped", constKey(vault.MetadataKey("p")), flip(3), true},
		{"summary truncated", constKey(vault.SummaryKey("p")), truncate, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store, v, m := committed(t)
			if !store.Corrupt(c.key(m), c.fn) {
				t.Fatalf("no object %s", c.key(m))
			}
			_, err := v.Open(ctx, "p")
			if c.openErr && !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			if !c.openErr && err != nil {
				t.Fatalf("Open = %v", err)
			}
			if err := v.Verify(ctx, "p"); !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("Verify = %v, want ErrCorrupt", err)
			}
		})
	}
	t.Run("data file missing", func(t *testing.T) {
		store, v, m := committed(t)
		store.Delete(ctx, dataKey(m))
		if err := v.Verify(ctx, "p"); !errors.Is(err, vault.ErrCorrupt) {
			t.Fatalf("Verify = %v, want ErrCorrupt", err)
		}
	})
	t.Run("store read error is not corruption", func(t *testing.T) {
		store, _, m := committed(t)
		fs := blobfault.New(store)
		fs.Add(blobfault.Rule{Op: blobfault.OpGet, Prefix: dataKey(m), AfterBytes: 100})
		err := vault.New(fs).Verify(ctx, "p")
		if !errors.Is(err, blobfault.ErrInjected) || errors.Is(err, vault.ErrCorrupt) {
			t.Fatalf("Verify = %v, want the store's error", err)
		}
	})
}

func dataKey(m *vault.Manifest) string { return m.Files[len(m.Files)/2].DataFileS3Key }

func constKey(k string) func(*vault.Manifest) string {
	return func(*vault.Manifest) string { return k }
}

func TestLongItems(t *testing.T) {
	ctx := context.Background()
	v := vault.New(mem.New())
	w, _ := v.Create(ctx, "p", vault.WriterOptions{})
	fw := w.NewFile()
	big := item(rand.New(rand.NewPCG(1, 1)), 1, 700<<10) // longer than the read buffer
	for range 3 {
		if err := fw.WriteItem(big); err != nil {
			t.Fatal(err)
		}
	}
	fw.Close()
	if _, err := w.Commit(ctx, vault.CommitInfo{}); err != nil {
		t.Fatal(err)
	}
	r, _ := v.Open(ctx, "p")
	ir, err := r.OpenFile(ctx, r.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer ir.Close()
	for range 3 {
		it, err := ir.Next()
		if err != nil || !bytes.Equal(it, big) {
			t.Fatalf("Next: %d bytes, %v", len(it), err)
		}
	}
	if _, err := ir.Next(); err != io.EOF {
		t.Fatalf("Next at end = %v", err)
	}
}
