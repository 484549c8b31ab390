package mem_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobtest"
	"github.com/cairn-backup/cairn/internal/blob/mem"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return mem.New() })
}

// A mem store standing in for S3 reports the ETags of uploads in parts.
func TestConformanceParts(t *testing.T) {
	const part = 5 << 20
	blobtest.RunOptions(t, func(t *testing.T) blob.Store { return mem.NewWith(mem.Options{PartSize: part}) },
		blobtest.Options{PartSize: part, ETag: func(t *testing.T, s blob.Store, key string) string {
			etag, err := s.(*mem.Store).ETag(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			return etag
		}})
}

func TestClasses(t *testing.T) {
	blobtest.RunClasses(t, func(t *testing.T) blob.Store { return mem.New() }, blobtest.ClassOptions{})
}

func TestArchive(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	s.Archive("GLACIER")
	if err := s.Put(ctx, "k", strings.NewReader("cold bytes")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClass(ctx, "k", "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, blob.ErrArchived) {
		t.Fatalf("Get of a GLACIER object = %v, want ErrArchived", err)
	}
	if ci, err := s.ClassInfo(ctx, "k"); err != nil || ci.Class != "GLACIER" || ci.Size != 10 {
		t.Fatalf("ClassInfo = %+v, %v", ci, err)
	}
	if err := s.SetClass(ctx, "k", "GLACIER_IR"); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "cold bytes" {
		t.Fatalf("Get = %q", b)
	}
}
