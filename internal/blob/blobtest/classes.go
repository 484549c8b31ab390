package blobtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
)

// ClassOptions tunes RunClasses for a store.
type ClassOptions struct {
	// Ignored says the store accepts storage classes but keeps every object
	// as it was (versitygw does): ClassInfo reports blob.StandardClass
	// after SetClass.
	Ignored bool
}

// readableClass is a class whose objects S3 still serves without a restore.
const readableClass = "STANDARD_IA"

// RunClasses runs the suite of blob.ClassSetter. newStore must return a new,
// empty store each call that implements blob.ClassSetter.
func RunClasses(t *testing.T, newStore func(t *testing.T) blob.Store, opts ClassOptions) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store, cs blob.ClassSetter)
	}{
		{"Fresh", testClassFresh},
		{"SetClass", func(t *testing.T, s blob.Store, cs blob.ClassSetter) { testSetClass(t, s, cs, opts) }},
		{"Overwrite", func(t *testing.T, s blob.Store, cs blob.ClassSetter) { testClassOverwrite(t, s, cs, opts) }},
		{"Missing", testClassMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			cs, ok := s.(blob.ClassSetter)
			if !ok {
				t.Fatalf("%T does not implement blob.ClassSetter", s)
			}
			tt.fn(t, s, cs)
		})
	}
}

func classInfo(t *testing.T, cs blob.ClassSetter, key string) blob.ClassInfo {
	t.Helper()
	ci, err := cs.ClassInfo(context.Background(), key)
	if err != nil {
		t.Fatalf("ClassInfo(%q): %v", key, err)
	}
	return ci
}

func checkInfo(t *testing.T, ci blob.ClassInfo, data []byte, class string) {
	t.Helper()
	if ci.Size != int64(len(data)) {
		t.Errorf("ClassInfo size = %d, want %d", ci.Size, len(data))
	}
	if ci.Class != class {
		t.Errorf("ClassInfo class = %q, want %q", ci.Class, class)
	}
	sum := md5.Sum(data)
	if ci.MD5 != "" && ci.MD5 != hex.EncodeToString(sum[:]) {
		t.Errorf("ClassInfo MD5 = %s, want %x", ci.MD5, sum)
	}
}

func testClassFresh(t *testing.T, s blob.Store, cs blob.ClassSetter) {
	data := []byte("a fresh object")
	put(t, s, "rp/1/data/a.json.zst", data)
	checkInfo(t, classInfo(t, cs, "rp/1/data/a.json.zst"), data, blob.StandardClass)
}

func testSetClass(t *testing.T, s blob.Store, cs blob.ClassSetter, opts ClassOptions) {
	ctx := context.Background()
	want := readableClass
	if opts.Ignored {
		want = blob.StandardClass
	}
	for _, key := range []string{"rp/1/data/a.json.zst", "odd/key with spaces/ünïcode+=&.json"} {
		data := bytes.Repeat([]byte(key), 100)
		put(t, s, key, data)
		put(t, s, key+".other", []byte("untouched"))
		for range 2 { // idempotent
			if err := cs.SetClass(ctx, key, readableClass); err != nil {
				t.Fatalf("SetClass(%q): %v", key, err)
			}
			checkInfo(t, classInfo(t, cs, key), data, want)
			if got := get(t, s, key); !bytes.Equal(got, data) {
				t.Fatalf("Get(%q) after SetClass changed the bytes", key)
			}
		}
		checkInfo(t, classInfo(t, cs, key+".other"), []byte("untouched"), blob.StandardClass)
		if err := cs.SetClass(ctx, key, blob.StandardClass); err != nil {
			t.Fatalf("SetClass(%q, STANDARD): %v", key, err)
		}
		checkInfo(t, classInfo(t, cs, key), data, blob.StandardClass)
	}
	if infos := list(t, s, "rp/"); len(infos) != 2 {
		t.Fatalf("List after SetClass = %+v", infos)
	}
}

func testClassOverwrite(t *testing.T, s blob.Store, cs blob.ClassSetter, opts ClassOptions) {
	put(t, s, "k", []byte("first"))
	if err := cs.SetClass(context.Background(), "k", readableClass); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", []byte("second version"))
	checkInfo(t, classInfo(t, cs, "k"), []byte("second version"), blob.StandardClass)
}

func testClassMissing(t *testing.T, s blob.Store, cs blob.ClassSetter) {
	ctx := context.Background()
	if err := cs.SetClass(ctx, "missing", readableClass); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("SetClass(missing) = %v, want ErrNotFound", err)
	}
	if _, err := cs.ClassInfo(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ClassInfo(missing) = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "/abs", "a/../b"} {
		if err := cs.SetClass(ctx, bad, readableClass); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("SetClass(%q) = %v, want ErrInvalidKey", bad, err)
		}
		if _, err := cs.ClassInfo(ctx, bad); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ClassInfo(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
	if _, ok := s.(blob.ClassSetter); !ok {
		t.Fatal("not a ClassSetter")
	}
}
