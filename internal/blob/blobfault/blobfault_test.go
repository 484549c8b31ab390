package blobfault_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/blob/blobtest"
	"github.com/cairn-backup/cairn/internal/blob/mem"
)

func TestConformanceWithoutRules(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return blobfault.New(mem.New()) })
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	inner := mem.New()
	s := blobfault.New(inner)
	s.Add(blobfault.Rule{Op: blobfault.OpPut, Prefix: "data/", AfterBytes: 3, Times: 1})
	if err := s.Put(ctx, "data/x", strings.NewReader("hello")); !errors.Is(err, blobfault.ErrInjected) {
		t.Fatalf("Put = %v", err)
	}
	if _, err := inner.Stat(ctx, "data/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("partial object: %v", err)
	}
	if err := s.Put(ctx, "data/x", strings.NewReader("hello")); err != nil {
		t.Fatalf("rule not spent: %v", err)
	}
	boom := errors.New("boom")
	s.Add(blobfault.Rule{Op: blobfault.OpGet, AfterBytes: 2, Err: boom})
	rc, err := s.Get(ctx, "data/x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if string(got) != "he" || !errors.Is(err, boom) {
		t.Fatalf("Get read %q, %v", got, err)
	}
	s.Add(blobfault.Rule{Op: blobfault.OpDelete})
	if err := s.Delete(ctx, "data/x"); !errors.Is(err, blobfault.ErrInjected) {
		t.Fatalf("Delete = %v", err)
	}
	s.Reset()
	if err := s.Delete(ctx, "data/x"); err != nil {
		t.Fatal(err)
	}
	if s.Calls(blobfault.OpPut) != 2 || s.Calls(blobfault.OpDelete) != 2 {
		t.Fatalf("calls: put %d delete %d", s.Calls(blobfault.OpPut), s.Calls(blobfault.OpDelete))
	}
}

func TestClassesPassThrough(t *testing.T) {
	blobtest.RunClasses(t, func(t *testing.T) blob.Store { return blobfault.New(mem.New()) }, blobtest.ClassOptions{})
	ctx := context.Background()
	s := blobfault.New(mem.New())
	if err := s.Put(ctx, "k", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	s.Add(blobfault.Rule{Op: blobfault.OpSetClass, Times: 1})
	if err := s.SetClass(ctx, "k", "GLACIER"); !errors.Is(err, blobfault.ErrInjected) {
		t.Fatalf("SetClass = %v", err)
	}
	s.Add(blobfault.Rule{Op: blobfault.OpClassInfo, Times: 1})
	if _, err := s.ClassInfo(ctx, "k"); !errors.Is(err, blobfault.ErrInjected) {
		t.Fatalf("ClassInfo = %v", err)
	}
	if ci, err := s.ClassInfo(ctx, "k"); err != nil || ci.Class != blob.StandardClass {
		t.Fatalf("ClassInfo after the rule = %+v, %v", ci, err)
	}
}

func TestClassesWithoutInnerSupport(t *testing.T) {
	ctx := context.Background()
	s := blobfault.New(noClasses{mem.New()})
	if err := s.Put(ctx, "k", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClass(ctx, "k", "GLACIER"); !errors.Is(err, blob.ErrNoClasses) {
		t.Fatalf("SetClass = %v, want ErrNoClasses", err)
	}
	if _, err := s.ClassInfo(ctx, "k"); !errors.Is(err, blob.ErrNoClasses) {
		t.Fatalf("ClassInfo = %v, want ErrNoClasses", err)
	}
}

// noClasses hides the storage classes of the store it embeds.
type noClasses struct{ blob.Store }
