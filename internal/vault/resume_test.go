package vault_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Resume keeps the files a checkpoint recorded (Sync's), deletes what was
// written after it, and the committed point holds exactly the kept files
// and those written after the resume. A missing kept file or a complete
// point is refused.
func TestResumeKeepsSyncedFilesOnly(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	v := vault.New(store)
	w, err := v.Create(ctx, "rp1", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	for i := range 10 {
		if err := fw.WriteItem(fmt.Appendf(nil, `{"pk":{"S":"a%d"}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := fw.Sync()
	if err != nil || len(kept) != 1 || kept[0].ItemCount != 10 {
		t.Fatalf("Sync = %+v, %v", kept, err)
	}
	if again, err := fw.Sync(); err != nil || len(again) != 0 {
		t.Fatalf("a second Sync with nothing written = %+v, %v", again, err)
	}
	for i := range 5 { // written after the checkpoint: lost with the process
		if err := fw.WriteItem(fmt.Appendf(nil, `{"pk":{"S":"b%d"}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil { // a complete file, but no checkpoint names it
		t.Fatal(err)
	}
	// The process dies here: no Commit, no Abort.

	if _, err := v.Resume(ctx, "rp1", vault.WriterOptions{}, append(kept, vault.FileEntry{DataFileS3Key: vault.DataFileKey("rp1", "gone.json.zst"), Size: 3})); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("Resume with a missing file: %v, want ErrCorrupt", err)
	}
	if _, err := v.Resume(ctx, "rp1", vault.WriterOptions{Compression: vault.Gzip}, kept); !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("Resume with another compression than the kept files': %v, want ErrCorrupt", err)
	}
	w2, err := v.Resume(ctx, "rp1", vault.WriterOptions{}, kept)
	if err != nil {
		t.Fatal(err)
	}
	if w2.ItemsWritten() != 10 {
		t.Fatalf("a resumed writer counts %d items, want the 10 kept", w2.ItemsWritten())
	}
	fw2 := w2.NewFile()
	for i := range 3 {
		if err := fw2.WriteItem(fmt.Appendf(nil, `{"pk":{"S":"c%d"}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw2.Close(); err != nil {
		t.Fatal(err)
	}
	n := int64(13)
	m, err := w2.Commit(ctx, vault.CommitInfo{ExpectedItemCount: &n})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Summary.ItemCount != 13 {
		t.Fatalf("committed %d files of %d items, want 2 of 13", len(m.Files), m.Summary.ItemCount)
	}
	var data int
	_ = store.List(ctx, vault.DataPrefix("rp1"), func(blob.Info) error { data++; return nil })
	if data != 2 {
		t.Fatalf("%d data files in the store, want the 2 of the manifest", data)
	}
	r, err := v.Open(ctx, "rp1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckFiles(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Resume(ctx, "rp1", vault.WriterOptions{}, m.Files); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("Resume of a complete point: %v, want ErrExists", err)
	}
}
