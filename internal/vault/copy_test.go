package vault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/vault"
)

func objects(t *testing.T, s blob.Store, prefix string) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	err := s.List(context.Background(), prefix, func(i blob.Info) error {
		rc, err := s.Get(context.Background(), i.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		out[i.Key] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A copy under a new ID, between every pair of store kinds, holds the same
// items, checks out, names its new ID everywhere and leaves the source as it
// was.
func TestCopyNewID(t *testing.T) {
	ctx := context.Background()
	kinds := stores(t)
	for _, pair := range [][2]string{{"mem", "file"}, {"file", "s3"}, {"s3", "file"}, {"file", "file"}} {
		t.Run(pair[0]+"-to-"+pair[1], func(t *testing.T) {
			srcStore, dstStore := kinds[pair[0]](t), kinds[pair[1]](t)
			src, dst := vault.New(srcStore), vault.New(dstStore)
			want := writePoint(t, src, "SRC-1", vault.WriterOptions{MaxFileBytes: 16 << 10}, 3, 100)
			before := objects(t, srcStore, "")
			m, err := vault.Copy(ctx, src, "SRC-1", dst, "DST-2", vault.CopyOptions{
				Metadata: func(old json.RawMessage) (json.RawMessage, error) {
					return json.RawMessage(strings.Replace(string(old), `"T"`, `"T-copy"`, 1)), nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := readPoint(t, dst, "DST-2"); !maps.Equal(got, want) {
				t.Fatalf("copy holds %d items, want %d", len(got), len(want))
			}
			r, err := dst.Open(ctx, "DST-2")
			if err != nil {
				t.Fatal(err)
			}
			s := r.Summary()
			if s.Cairn.RecoveryPointID != "DST-2" || !strings.HasSuffix(s.ExportARN, "/export/DST-2") ||
				s.Cairn.ContentChecksum != "sum-1" || s.ItemCount != 300 || m.Summary.ItemCount != 300 {
				t.Fatalf("copy summary = %+v", s)
			}
			if string(r.Metadata()) != `{"TableName":"T-copy"}` {
				t.Fatalf("copy metadata = %s", r.Metadata())
			}
			// The keys, bucket and prefix are the destination's.
			for _, fe := range r.Files() {
				if !strings.HasPrefix(fe.DataFileS3Key, dst.Location().Key(vault.DataPrefix("DST-2"))) {
					t.Fatalf("data file %s is outside the copy", fe.DataFileS3Key)
				}
			}
			if s.Location() != dst.Location() || s.ManifestFilesS3Key != dst.Location().Key(vault.FilesManifestKey("DST-2")) {
				t.Fatalf("copy summary names %+v and %s, the copy is at %+v", s.Location(), s.ManifestFilesS3Key, dst.Location())
			}
			if err := dst.Verify(ctx, "DST-2"); err != nil {
				t.Fatal(err)
			}
			if after := objects(t, srcStore, ""); !maps.EqualFunc(before, after, bytes.Equal) {
				t.Fatal("Copy changed the source")
			}
		})
	}
}

// A copy under the same ID is byte for byte the source.
func TestCopySameID(t *testing.T) {
	ctx := context.Background()
	srcStore := mem.New()
	dstStore, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, dst := vault.New(srcStore), vault.New(dstStore)
	writePoint(t, src, "P", vault.WriterOptions{MaxFileBytes: 16 << 10}, 2, 100)
	if _, err := vault.Copy(ctx, src, "P", dst, "P", vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if a, b := objects(t, srcStore, ""), objects(t, dstStore, ""); !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatalf("copy differs: %d objects, source %d", len(b), len(a))
	}
}

// Copying again onto a complete copy only checks it; a copy cut short is
// incomplete, and the next Copy completes it.
func TestCopyCutShortAndRepeated(t *testing.T) {
	ctx := context.Background()
	src := vault.New(mem.New())
	want := writePoint(t, src, "P", vault.WriterOptions{MaxFileBytes: 16 << 10}, 2, 100)
	dstStore := blobfault.New(mem.New())
	dst := vault.New(dstStore)

	for _, rule := range []blobfault.Rule{
		{Op: blobfault.OpPut, Prefix: vault.DataPrefix("Q"), AfterBytes: 100, Times: 1}, // a data file
		{Op: blobfault.OpPut, Prefix: vault.MetadataKey("Q"), Times: 1},                 // the manifests
		{Op: blobfault.OpPut, Prefix: vault.SummaryKey("Q"), Times: 1},                  // the summary
	} {
		dstStore.Add(rule)
		if _, err := vault.Copy(ctx, src, "P", dst, "Q", vault.CopyOptions{}); !errors.Is(err, blobfault.ErrInjected) {
			t.Fatalf("Copy with %s failing = %v", rule.Prefix, err)
		}
		if _, err := dst.Open(ctx, "Q"); !errors.Is(err, vault.ErrIncomplete) {
			t.Fatalf("after a failed copy, Open = %v, want ErrIncomplete", err)
		}
		_, incomplete, err := dst.ListPoints(ctx)
		if err != nil || len(incomplete) != 1 || incomplete[0] != "Q" {
			t.Fatalf("ListPoints incomplete = %v, %v", incomplete, err)
		}
	}
	if _, err := vault.Copy(ctx, src, "P", dst, "Q", vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readPoint(t, dst, "Q"); !maps.Equal(got, want) {
		t.Fatal("completed copy has other items")
	}
	puts := dstStore.Calls(blobfault.OpPut)
	if _, err := vault.Copy(ctx, src, "P", dst, "Q", vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := dstStore.Calls(blobfault.OpPut); n != puts {
		t.Fatalf("a repeated copy wrote %d objects", n-puts)
	}
}

// A corrupt source is refused; so is a destination that does not store
// what it was given.
func TestCopyCorruption(t *testing.T) {
	ctx := context.Background()
	srcStore, src, m := committed(t)
	srcStore.Corrupt(dataKey(m), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	if _, err := vault.Copy(ctx, src, "p", vault.New(mem.New()), "q", vault.CopyOptions{}); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("copy of a corrupt source = %v, want ErrCorrupt", err)
	}

	_, src, m = committed(t)
	bad := &flipStore{Store: mem.New(), key: strings.Replace(dataKey(m), "/p/", "/q/", 1)}
	if _, err := vault.Copy(ctx, src, "p", vault.New(bad), "q", vault.CopyOptions{}); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("copy onto a store that flips a bit = %v, want ErrCorrupt", err)
	}
	if !bad.flipped {
		t.Fatal("the store flipped nothing: the test did not test")
	}
}

// flipStore flips one bit of the object stored under key.
type flipStore struct {
	blob.Store
	key     string
	flipped bool
}

func (f *flipStore) Put(ctx context.Context, key string, r io.Reader) error {
	if key != f.key {
		return f.Store.Put(ctx, key, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b[0] ^= 0x80
	f.flipped = true
	return f.Store.Put(ctx, key, bytes.NewReader(b))
}

func TestCheckStored(t *testing.T) {
	ctx := context.Background()
	store, v, m := committed(t)
	got, err := v.CheckStored(ctx, "p")
	if err != nil || len(got.Files) != len(m.Files) || got.Summary.ItemCount != 200 {
		t.Fatalf("CheckStored = %+v, %v", got, err)
	}
	store.Corrupt(dataKey(m), func(b []byte) []byte { return append(b, 0) })
	if _, err := v.CheckStored(ctx, "p"); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("CheckStored of a longer file = %v", err)
	}
	store, v, m = committed(t)
	if err := store.Delete(ctx, dataKey(m)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CheckStored(ctx, "p"); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("CheckStored with a missing file = %v", err)
	}
	if _, err := v.CheckStored(ctx, "nope"); !errors.Is(err, vault.ErrIncomplete) {
		t.Fatalf("CheckStored of a missing point = %v", err)
	}
}

// Transition moves the data files to the class and leaves the manifests, so
// an archived point can still be opened; it resumes after a failure.
func TestTransition(t *testing.T) {
	ctx := context.Background()
	inner, v, m := committed(t)
	if len(m.Files) < 3 {
		t.Fatalf("want several data files, got %d", len(m.Files))
	}
	inner.Archive("GLACIER")
	faulty := blobfault.New(inner)
	fv := vault.New(faulty)
	faulty.Add(blobfault.Rule{Op: blobfault.OpSetClass, Prefix: m.Files[1].DataFileS3Key, Times: 1})
	if _, err := fv.Transition(ctx, "p", "GLACIER"); !errors.Is(err, blobfault.ErrInjected) {
		t.Fatalf("Transition with a failing SetClass = %v", err)
	}
	res, err := fv.Transition(ctx, "p", "GLACIER")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten != len(m.Files)-1 || len(res.Ignored) != 0 {
		t.Fatalf("resumed Transition = %+v, want %d rewritten", res, len(m.Files)-1)
	}
	for _, fe := range m.Files {
		if ci, err := inner.ClassInfo(ctx, fe.DataFileS3Key); err != nil || ci.Class != "GLACIER" {
			t.Fatalf("%s: %+v, %v", fe.DataFileS3Key, ci, err)
		}
	}
	for _, k := range []string{vault.SummaryKey("p"), vault.FilesManifestKey("p"), vault.MetadataKey("p")} {
		if ci, err := inner.ClassInfo(ctx, k); err != nil || ci.Class != blob.StandardClass {
			t.Fatalf("%s: %+v, %v", k, ci, err)
		}
	}
	r, err := v.Open(ctx, "p")
	if err != nil {
		t.Fatalf("Open of an archived point: %v", err)
	}
	if _, err := r.OpenFile(ctx, r.Files()[0]); !errors.Is(err, blob.ErrArchived) {
		t.Fatalf("reading an archived data file = %v, want ErrArchived", err)
	}
	if res, err := v.Transition(ctx, "p", "GLACIER"); err != nil || res.Rewritten != 0 {
		t.Fatalf("repeated Transition = %+v, %v", res, err)
	}
	// Back to a readable class: the items are all there.
	if _, err := v.Transition(ctx, "p", "GLACIER_IR"); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, "p"); err != nil {
		t.Fatal(err)
	}
}

func TestTransitionWithoutClasses(t *testing.T) {
	fs, err := file.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.New(fs).Transition(context.Background(), "p", "GLACIER"); !errors.Is(err, blob.ErrNoClasses) {
		t.Fatalf("Transition on a file store = %v, want ErrNoClasses", err)
	}
}

// versitygw accepts storage classes and keeps objects STANDARD: Transition
// reports it.
func TestTransitionIgnoredByVersity(t *testing.T) {
	ctx := context.Background()
	v := vault.New(stores(t)["s3"](t))
	writePoint(t, v, "p", vault.WriterOptions{MaxFileBytes: 16 << 10}, 2, 50)
	res, err := v.Transition(ctx, "p", "GLACIER")
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Open(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ignored) != len(r.Files()) || res.ReportedClass != blob.StandardClass {
		t.Fatalf("Transition on versitygw = %+v, want every file ignored", res)
	}
	if err := v.Verify(ctx, "p"); err != nil {
		t.Fatal(err)
	}
}
