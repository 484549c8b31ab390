package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/blob"
)

// Resume reopens point id, whose writing a process cut short, to write on
// into it: the data files of keep (those a checkpoint recorded as
// committed) stay and are part of the point when it is committed, and
// every other object under the point's prefix but _started (data files
// begun after the last checkpoint, cut short or not) is deleted first.
// Each file of keep must be in the store with the size recorded, else
// Resume fails with ErrCorrupt and the caller starts the point over. A
// point that has its summary is complete: Resume fails with ErrExists.
// ctx governs the whole write, as for Create.
func (v *Vault) Resume(ctx context.Context, id string, opts WriterOptions, keep []FileEntry) (*Writer, error) {
	if err := checkPointID(id); err != nil {
		return nil, err
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	ext, _ := compressionExt(opts.Compression) // checked by setDefaults
	want := make(map[string]int64, len(keep))
	for _, fe := range keep {
		if !strings.HasSuffix(fe.DataFileS3Key, ext) {
			// A point has one compression (its summary names it).
			return nil, fmt.Errorf("vault: resume %s: %w: data file %s was not written with %s compression", id, ErrCorrupt, fe.DataFileS3Key, opts.Compression)
		}
		want[fe.DataFileS3Key] = fe.Size
	}
	found := 0
	var drop []string
	hasStarted, complete := false, false
	err := v.store.List(ctx, PointPrefix(id), func(info blob.Info) error {
		switch info.Key {
		case StartedKey(id):
			hasStarted = true
			return nil
		case SummaryKey(id):
			complete = true
			return nil
		}
		size, ok := want[v.loc.Key(info.Key)]
		if ok && size == info.Size {
			found++
			return nil
		}
		drop = append(drop, info.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: resume %s: %w", id, err)
	}
	if complete {
		return nil, fmt.Errorf("%w: %s is complete", ErrExists, id)
	}
	if found != len(want) {
		return nil, fmt.Errorf("vault: resume %s: %w: %d of the %d data files its checkpoints record are missing or of another size",
			id, ErrCorrupt, len(want)-found, len(want))
	}
	for _, key := range drop {
		if err := v.store.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return nil, fmt.Errorf("vault: resume %s: remove %s, written after the last checkpoint: %w", id, key, err)
		}
	}
	if !hasStarted {
		if err := v.store.Put(ctx, StartedKey(id), bytes.NewReader(opts.Started)); err != nil {
			return nil, fmt.Errorf("vault: resume %s: %w", id, err)
		}
	}
	w := &Writer{v: v, id: id, opts: opts, files: append([]FileEntry(nil), keep...)}
	for _, fe := range keep {
		w.items.Add(fe.ItemCount)
		w.bytesIn.Add(fe.UncompressedSize)
		w.bytesStored.Add(fe.Size)
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	return w, nil
}

// Cut ends the current data file (writing goes on in a new one) and
// returns wait, which blocks until the uploads of every file this
// FileWriter ended since the last Cut are done, records those files in the
// point, as Close does, and returns them. wait may run on another
// goroutine while the FileWriter goes on writing; call it once. A failed
// upload fails the point. A backup cuts at each checkpoint: the files wait
// returns are durable, and are those the checkpoint records.
func (f *FileWriter) Cut() (wait func() ([]FileEntry, error), err error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.closed {
		return nil, ErrClosed
	}
	f.count()
	if f.cur != nil {
		if err := f.finish(f.cur); err != nil {
			return nil, f.setErr(err)
		}
		f.pending = append(f.pending, f.cur)
		f.cur = nil
	}
	cut := f.pending
	f.pending = nil
	w := f.w
	return func() ([]FileEntry, error) {
		entries := make([]FileEntry, 0, len(cut))
		for _, d := range cut {
			err := <-d.done
			d.done <- err
			if err != nil {
				w.fail(err)
				return nil, err
			}
			entries = append(entries, d.entry(w.v.loc))
		}
		w.mu.Lock()
		w.files = append(w.files, entries...)
		w.mu.Unlock()
		return entries, nil
	}, nil
}

// Sync is Cut and its wait: it makes everything written so far durable
// and returns the files finished since the last Cut or Sync.
func (f *FileWriter) Sync() ([]FileEntry, error) {
	wait, err := f.Cut()
	if err != nil {
		return nil, err
	}
	return wait()
}
