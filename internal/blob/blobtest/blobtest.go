// Package blobtest is the conformance suite every blob.Store passes. Each
// implementation's tests call Run with a constructor for fresh, empty stores.
package blobtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Options tunes the suite for a store.
type Options struct {
	// LargeSize is the size of the streamed object in the "Large" test;
	// default 20 MiB.
	LargeSize int64
	// FailAfter is how many bytes the failing reader of "FailedPut"
	// delivers before its error in the large case; default 7 MiB, enough to
	// push an S3 store past its first multipart part.
	FailAfter int64
	// PartSize is the part size of a store that uploads in parts (S3):
	// "Receipt" then expects the multipart ETag for objects larger than
	// it. Zero expects every ETag to be the hex MD5 (one part).
	PartSize int64
	// ETag, if set, returns the ETag a reader of the object at key sees
	// (an S3 HEAD); "Receipt" checks the Receipt's against it.
	ETag func(t *testing.T, s blob.Store, key string) string
}

// Run runs the suite. newStore must return a new, empty store each call.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	RunOptions(t, newStore, Options{})
}

// RunOptions is Run with options.
func RunOptions(t *testing.T, newStore func(t *testing.T) blob.Store, opts Options) {
	if opts.LargeSize == 0 {
		opts.LargeSize = 20 << 20
	}
	if opts.FailAfter == 0 {
		opts.FailAfter = 7 << 20
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"List", testList},
		{"ListStop", testListStop},
		{"Delete", testDelete},
		{"FailedPut", func(t *testing.T, s blob.Store) { testFailedPut(t, s, opts.FailAfter) }},
		{"Cancelled", testCancelled},
		{"CancelledMidPut", testCancelledMidPut},
		{"Large", func(t *testing.T, s blob.Store) { testLarge(t, s, opts.LargeSize) }},
		{"ConcurrentPuts", testConcurrentPuts},
		{"InvalidKeys", testInvalidKeys},
		{"Receipt", func(t *testing.T, s blob.Store) { testReceipt(t, s, opts) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return data
}

func list(t *testing.T, s blob.Store, prefix string) []blob.Info {
	t.Helper()
	var infos []blob.Info
	if err := s.List(context.Background(), prefix, func(i blob.Info) error {
		infos = append(infos, i)
		return nil
	}); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return infos
}

func keys(infos []blob.Info) []string {
	ks := make([]string, len(infos))
	for i, info := range infos {
		ks[i] = info.Key
	}
	return ks
}

func mustNotExist(t *testing.T, s blob.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
	}
	rc, err := s.Get(ctx, key)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
	}
	for _, k := range keys(list(t, s, key)) {
		if k == key {
			t.Errorf("List shows %q", key)
		}
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	data := []byte("hello, vault")
	put(t, s, "rp/1/data/0001.json.zst", data)
	if got := get(t, s, "rp/1/data/0001.json.zst"); !bytes.Equal(got, data) {
		t.Fatalf("Get = %q, want %q", got, data)
	}
	info, err := s.Stat(context.Background(), "rp/1/data/0001.json.zst")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "rp/1/data/0001.json.zst" || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v", info)
	}
	if info.ModTime.IsZero() {
		t.Error("Stat: zero ModTime")
	}
	// A key with unusual but valid characters.
	odd := "odd/key with spaces/ünïcode+=&.json"
	put(t, s, odd, data)
	if got := get(t, s, odd); !bytes.Equal(got, data) {
		t.Fatalf("Get(%q) = %q", odd, got)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil)
	if got := get(t, s, "empty"); len(got) != 0 {
		t.Fatalf("Get = %q, want empty", got)
	}
	info, err := s.Stat(context.Background(), "empty")
	if err != nil || info.Size != 0 {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "k", []byte("first version, longer"))
	put(t, s, "k", []byte("second"))
	if got := get(t, s, "k"); string(got) != "second" {
		t.Fatalf("Get = %q, want %q", got, "second")
	}
	if infos := list(t, s, ""); len(infos) != 1 || infos[0].Size != 6 {
		t.Fatalf("List = %+v", infos)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	mustNotExist(t, s, "missing")
	mustNotExist(t, s, "missing/dir/key")
	put(t, s, "present/x", []byte("x"))
	mustNotExist(t, s, "present/y")
	mustNotExist(t, s, "present/x/y")
}

func testList(t *testing.T, s blob.Store) {
	// "a/b" and "a/b/c" cannot both exist in a file-system store, so no key
	// here is a "directory" of another.
	all := []string{"a.c", "a-b/c", "a/b/c", "a/b/d", "a/bc", "a/bcd/e", "a/c", "b", "bb/a", "c/d/e/f"}
	for i, k := range all {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i))
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b/c", "a.c", "a/b/c", "a/b/d", "a/bc", "a/bcd/e", "a/c", "b", "bb/a", "c/d/e/f"}},
		{"a", []string{"a-b/c", "a.c", "a/b/c", "a/b/d", "a/bc", "a/bcd/e", "a/c"}},
		{"a/", []string{"a/b/c", "a/b/d", "a/bc", "a/bcd/e", "a/c"}},
		{"a/b", []string{"a/b/c", "a/b/d", "a/bc", "a/bcd/e"}},
		{"a/b/", []string{"a/b/c", "a/b/d"}},
		{"a/bc", []string{"a/bc", "a/bcd/e"}},
		{"b", []string{"b", "bb/a"}},
		{"c/d/e/", []string{"c/d/e/f"}},
		{"c/d/e/f", []string{"c/d/e/f"}},
		{"c/d/e/f/", nil},
		{"z", nil},
		{"a/z/", nil},
	}
	for _, c := range cases {
		got := keys(list(t, s, c.prefix))
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
	for _, info := range list(t, s, "") {
		for i, k := range all {
			if k == info.Key && info.Size != int64(i) {
				t.Errorf("List: %q has size %d, want %d", k, info.Size, i)
			}
		}
	}
}

func testListStop(t *testing.T, s blob.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("k/%d", i), []byte("x"))
	}
	stop := errors.New("stop")
	n := 0
	err := s.List(context.Background(), "k/", func(blob.Info) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("List returned %v after %d calls, want stop after 2", err, n)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "d/1", []byte("1"))
	put(t, s, "d/2", []byte("2"))
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, s, "d/1")
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if got := keys(list(t, s, "")); len(got) != 1 || got[0] != "d/2" {
		t.Fatalf("List = %q, want [d/2]", got)
	}
	if err := blob.DeletePrefix(ctx, s, "d/"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Fatalf("after DeletePrefix: %v", got)
	}
	// The key can be written again.
	put(t, s, "d/1", []byte("again"))
	if got := get(t, s, "d/1"); string(got) != "again" {
		t.Fatalf("Get = %q", got)
	}
}

// failingReader yields n pseudo-random bytes, then err.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func testFailedPut(t *testing.T, s blob.Store, large int64) {
	ctx := context.Background()
	boom := errors.New("reader broke")
	for _, n := range []int64{0, 100, large} {
		key := fmt.Sprintf("fresh/%d", n)
		err := s.Put(ctx, key, &failingReader{r: NewGenerator(1), n: n, err: boom})
		if err == nil {
			t.Fatalf("Put with a reader failing after %d bytes succeeded", n)
		}
		mustNotExist(t, s, key)

		// Over an existing object: the old one stays, or none; never a part.
		key = fmt.Sprintf("existing/%d", n)
		old := []byte("the previous version")
		put(t, s, key, old)
		if err := s.Put(ctx, key, &failingReader{r: NewGenerator(2), n: n, err: boom}); err == nil {
			t.Fatalf("overwriting Put with a reader failing after %d bytes succeeded", n)
		}
		rc, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, blob.ErrNotFound):
		case err != nil:
			t.Fatalf("Get after failed overwrite: %v", err)
		default:
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, old) {
				t.Fatalf("after failed overwrite: got %d bytes, want the previous version", len(got))
			}
		}
	}
}

func testCancelled(t *testing.T, s blob.Store) {
	put(t, s, "k", []byte("v"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "new", strings.NewReader("v")); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	mustNotExist(t, s, "new")
	if rc, err := s.Get(ctx, "k"); err == nil {
		// A lazily reading store may fail at Read instead.
		_, err = io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Error("Get with a cancelled context succeeded")
		}
	}
	if _, err := s.Stat(ctx, "k"); err == nil {
		t.Error("Stat with a cancelled context succeeded")
	}
	if err := s.List(ctx, "", func(blob.Info) error { return nil }); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
	if err := s.Delete(ctx, "k"); err == nil {
		t.Error("Delete with a cancelled context succeeded")
	}
}

// cancellingReader cancels its context once it has yielded n bytes and then
// keeps yielding data, as a producer that does not watch the context would.
type cancellingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testCancelledMidPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := io.LimitReader(&cancellingReader{r: NewGenerator(3), n: 1 << 20, cancel: cancel}, 3<<20)
	if err := s.Put(ctx, "mid", r); err == nil {
		t.Fatal("Put whose context was cancelled midway succeeded")
	}
	mustNotExist(t, s, "mid")
}

func testLarge(t *testing.T, s blob.Store, size int64) {
	ctx := context.Background()
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(NewGenerator(42), size), h)
	if err := s.Put(ctx, "large/object", struct{ io.Reader }{src}); err != nil {
		t.Fatal(err)
	}
	want := h.Sum(nil)
	info, err := s.Stat(ctx, "large/object")
	if err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, size)
	}
	rc, err := s.Get(ctx, "large/object")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h.Reset()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatal(err)
	}
	if n != size || !bytes.Equal(h.Sum(nil), want) {
		t.Fatalf("read back %d bytes with a different hash, want %d", n, size)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i)}, 1000+i*1000)
			if err := s.Put(context.Background(), fmt.Sprintf("c/%02d", i), bytes.NewReader(data)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	infos := list(t, s, "c/")
	if len(infos) != n {
		t.Fatalf("List found %d objects, want %d", len(infos), n)
	}
	for i, info := range infos {
		data := get(t, s, info.Key)
		if info.Key != fmt.Sprintf("c/%02d", i) || len(data) != 1000+i*1000 || data[0] != byte('a'+i) {
			t.Errorf("object %d: key %q, %d bytes", i, info.Key, len(data))
		}
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/a", "a/", "a//b", "a/../b", "..", ".", "a/./b", `a\b`, "a\x00b"} {
		if err := s.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Errorf("invalid keys left objects: %v", keys(got))
	}
}

// testReceipt checks what PutWithReceipt reports: the size and MD5 of what
// was stored and the ETag S3 gives it, one part or several.
func testReceipt(t *testing.T, s blob.Store, opts Options) {
	ctx := context.Background()
	sizes := []int64{0, 1000, opts.LargeSize}
	if opts.PartSize > 0 {
		sizes = append(sizes, opts.PartSize, opts.PartSize+1)
	}
	for i, size := range sizes {
		key := fmt.Sprintf("receipt/%d", i)
		data, _ := io.ReadAll(io.LimitReader(NewGenerator(uint64(size)), size))
		rc, err := blob.PutWithReceipt(ctx, s, key, struct{ io.Reader }{bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("PutWithReceipt of %d bytes: %v", size, err)
		}
		sum := md5.Sum(data)
		want := blob.Receipt{Size: size, MD5: hex.EncodeToString(sum[:]), ETag: hex.EncodeToString(sum[:])}
		if opts.PartSize > 0 && size > opts.PartSize {
			var parts [][]byte
			for off := int64(0); off < size; off += opts.PartSize {
				p := md5.Sum(data[off:min(off+opts.PartSize, size)])
				parts = append(parts, p[:])
			}
			want.ETag = blob.MultipartETag(parts)
		}
		if rc != want {
			t.Errorf("receipt of %d bytes = %+v, want %+v", size, rc, want)
		}
		if opts.ETag != nil {
			if got := opts.ETag(t, s, key); got != rc.ETag {
				t.Errorf("object of %d bytes: a reader sees ETag %q, the receipt says %q", size, got, rc.ETag)
			}
		}
		if got := get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("object of %d bytes read back differently", size)
		}
	}
}

// Generator is an endless, deterministic stream of pseudo-random bytes,
// cheap to produce, for large test objects that must not compress.
type Generator struct {
	rng *rand.ChaCha8
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &Generator{rng: rand.NewChaCha8(s)}
}

// Read fills p; it never fails.
func (g *Generator) Read(p []byte) (int, error) {
	return g.rng.Read(p)
}
