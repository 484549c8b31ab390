package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/vault"
)

// syncFile adapts a vault.FileWriter to SyncSink, as the runner does.
type syncFile struct{ *vault.FileWriter }

func (f syncFile) Cut() (func() ([]json.RawMessage, error), error) {
	wait, err := f.FileWriter.Cut()
	if err != nil {
		return nil, err
	}
	return func() ([]json.RawMessage, error) {
		entries, err := wait()
		if err != nil {
			return nil, err
		}
		out := make([]json.RawMessage, len(entries))
		for i, e := range entries {
			if out[i], err = json.Marshal(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}, nil
}

// countingScanner counts the items it serves per segment.
type countingScanner struct {
	dynamodb.Scanner
	mu    sync.Mutex
	items map[int]int64
}

func (s *countingScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	p, err := s.Scanner.ScanPage(ctx, in)
	if err == nil {
		s.mu.Lock()
		s.items[in.Segment] += int64(len(p.Items))
		s.mu.Unlock()
	}
	return p, err
}

// checkpointStore keeps checkpoints as the catalog does: JSON, the last
// of each segment, and nothing once the process is "dead".
type checkpointStore struct {
	mu    sync.Mutex
	saves int
	dieAt int // the save after which the process dies (0: never)
	kill  func()
	dead  bool
	state map[int][]byte
}

var errDead = errors.New("the process is dead")

func (s *checkpointStore) save(st SegmentState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return errDead
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	s.state[st.Segment] = b
	s.saves++
	if s.saves == s.dieAt {
		s.dead = true
		s.kill()
	}
	return nil
}

func (s *checkpointStore) resume(t *testing.T) ([]SegmentState, []vault.FileEntry) {
	t.Helper()
	var states []SegmentState
	var files []vault.FileEntry
	for _, b := range s.state {
		var st SegmentState
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
		for _, f := range st.Files {
			var fe vault.FileEntry
			if err := json.Unmarshal(f, &fe); err != nil {
				t.Fatal(err)
			}
			files = append(files, fe)
		}
	}
	return states, files
}

// A backup killed after any number of checkpoints and resumed from them
// writes every item exactly once: the point's content checksum and items
// are a clean backup's, the files written after the last checkpoint are
// gone, and the resumed run scans only what the checkpoints do not hold.
func TestBackupResumesFromCheckpoints(t *testing.T) {
	ctx := context.Background()
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(5, 6)), 3000, 200)
	want := checksumOf(t, items)
	const segs, every, pageSize = 4, 100, 40
	for _, dieAt := range []int{1, 3, 9, 20, 26} {
		t.Run(fmt.Sprintf("killed after checkpoint %d", dieAt), func(t *testing.T) {
			store := mem.New()
			v := vault.New(store)
			w, err := v.Create(ctx, "rp1", vault.WriterOptions{MaxFileBytes: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			runCtx, kill := context.WithCancel(ctx)
			cps := &checkpointStore{dieAt: dieAt, kill: kill, state: map[int][]byte{}}
			first := &countingScanner{Scanner: &tableScanner{items: items, pageSize: pageSize}, items: map[int]int64{}}
			_, err = Backup(runCtx, BackupInput{Table: "t", Scanner: first, Segments: segs, Parallel: 2,
				NewSink: func() ItemSink { return syncFile{w.NewFile()} }, Checkpoint: cps.save, CheckpointItems: every})
			if err == nil {
				t.Fatal("the killed backup succeeded")
			}
			// The dead process's writer is left as it is: no Abort, no Commit.
			states, files := cps.resume(t)
			w2, err := v.Resume(ctx, "rp1", vault.WriterOptions{MaxFileBytes: 16 << 10}, files)
			if err != nil {
				t.Fatal(err)
			}
			second := &countingScanner{Scanner: &tableScanner{items: items, pageSize: pageSize}, items: map[int]int64{}}
			cps2 := &checkpointStore{state: map[int][]byte{}}
			res, err := Backup(ctx, BackupInput{Table: "t", Scanner: second, Segments: 99, Parallel: 2, Resume: states,
				NewSink: func() ItemSink { return syncFile{w2.NewFile()} }, Checkpoint: cps2.save, CheckpointItems: every})
			if err != nil {
				t.Fatal(err)
			}
			if res.Items != int64(len(items)) || res.Checksum != want || res.Segments != segs {
				t.Fatalf("resumed backup: %d items, checksum %s, %d segments; a clean one: %d, %s, %d", res.Items, res.Checksum, res.Segments, len(items), want, segs)
			}
			var rescanned int64
			for seg := range segs {
				var held int64
				for _, st := range states {
					if st.Segment == seg {
						held = st.Items
					}
				}
				perSeg := int64(0)
				for i := range items {
					if i%segs == seg {
						perSeg++
					}
				}
				if got := second.items[seg]; got != perSeg-held {
					t.Errorf("segment %d: resumed run scanned %d items, want the %d its checkpoint lacks", seg, got, perSeg-held)
				}
				// What the first run scanned beyond its last checkpoint is
				// scanned again: at most the interval of the checkpoint
				// being saved, the next one and the pages read ahead.
				r := first.items[seg] - held
				rescanned += r
				if r > 2*every+(pagesAhead+2)*pageSize {
					t.Errorf("segment %d: %d items rescanned, more than two intervals (%d) and the pages ahead", seg, r, every)
				}
			}
			if res.Resumed == 0 || res.Items-res.Resumed != second.total() {
				t.Errorf("Resumed %d; the resumed run scanned %d of %d", res.Resumed, second.total(), res.Items)
			}
			for seg := range segs {
				var st SegmentState
				if b, ok := cps2.state[seg]; ok {
					_ = json.Unmarshal(b, &st)
				}
				if b, ok := cps.state[seg]; ok && !st.Done {
					var old SegmentState
					_ = json.Unmarshal(b, &old)
					if !old.Done {
						t.Errorf("segment %d: no Done checkpoint after the resume", seg)
					}
				}
			}
			if _, err := w2.Commit(ctx, vault.CommitInfo{TableARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t",
				ContentChecksum: res.Checksum, ExpectedItemCount: &res.Items}); err != nil {
				t.Fatal(err)
			}
			r, err := v.Open(ctx, "rp1")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.CheckFiles(ctx); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			var sum ddbjson.Checksum
			for _, f := range r.Files() {
				it, err := r.OpenFile(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for {
					item, err := it.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					seen[string(item)]++
					if err := sum.Add(item); err != nil {
						t.Fatal(err)
					}
				}
				it.Close()
			}
			for _, it := range items {
				if seen[string(it)] != 1 {
					t.Fatalf("an item is in the point %d times", seen[string(it)])
				}
			}
			if len(seen) != len(items) || sum.Sum() != want {
				t.Fatalf("the point holds %d distinct items, checksum %s; want %d, %s", len(seen), sum.Sum(), len(items), want)
			}
			// Every object under data/ is a file of the manifest: the
			// partial files of the killed run are gone.
			listed := map[string]bool{}
			for _, f := range r.Files() {
				listed[f.DataFileS3Key] = true
			}
			_ = store.List(ctx, vault.DataPrefix("rp1"), func(info blob.Info) error {
				if !listed[info.Key] {
					t.Errorf("%s is in the vault but not in the point", info.Key)
				}
				return nil
			})
			t.Logf("killed after checkpoint %d: %d items held by checkpoints, %d rescanned", dieAt, res.Resumed, rescanned)
		})
	}
}

func (s *countingScanner) total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.items {
		n += v
	}
	return n
}

// Checkpoints that do not fit the scan are refused before anything is
// scanned.
func TestBackupRefusesBadCheckpoints(t *testing.T) {
	sink := func() ItemSink { return syncFile{} }
	for name, states := range map[string][]SegmentState{
		"two sizes":    {{Segment: 0, Segments: 4, Done: true, Checksum: "xxh3-128:00000000000000000000000000000000"}, {Segment: 1, Segments: 3, Done: true, Checksum: "xxh3-128:00000000000000000000000000000000"}},
		"out of range": {{Segment: 4, Segments: 4, Done: true, Checksum: "xxh3-128:00000000000000000000000000000000"}},
		"no key":       {{Segment: 0, Segments: 4, Checksum: "xxh3-128:00000000000000000000000000000000"}},
		"bad checksum": {{Segment: 0, Segments: 4, Done: true, Checksum: "nope"}},
	} {
		_, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: &tableScanner{}, Resume: states, NewSink: sink,
			Checkpoint: func(SegmentState) error { return nil }})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A restore killed after some files were reported written, and resumed
// with them, does not read those files again and writes every other item:
// the table holds every item of the point, and the result counts them all.
func TestRestoreResumesFromFinishedFiles(t *testing.T) {
	ctx := context.Background()
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(7, 8)), 2000, 200)
	v := vault.New(mem.New())
	w, err := v.Create(ctx, "rp1", vault.WriterOptions{MaxFileBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backup(ctx, BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 50}, Segments: 4,
		NewSink: func() ItemSink { return w.NewFile() }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{ContentChecksum: res.Checksum}); err != nil {
		t.Fatal(err)
	}
	r, err := v.Open(ctx, "rp1")
	if err != nil {
		t.Fatal(err)
	}
	files := r.Files()
	if len(files) < 8 {
		t.Fatalf("only %d data files", len(files))
	}
	opens := make([]func(context.Context) (ItemIterator, error), len(files))
	for i, f := range files {
		opens[i] = func(ctx context.Context) (ItemIterator, error) { return r.OpenFile(ctx, f) }
	}
	for _, dieAt := range []int{1, len(files) / 2, len(files) - 1} {
		t.Run(fmt.Sprintf("killed after file %d of %d", dieAt, len(files)), func(t *testing.T) {
			runCtx, kill := context.WithCancel(ctx)
			var mu sync.Mutex
			var done []FileResult
			first := &tableWriter{items: map[string]int{}}
			_, err := Restore(runCtx, RestoreInput{Table: "t2", Writer: first, Files: opens, Writers: 3, Readers: 2,
				FileDone: func(fr FileResult) error {
					mu.Lock()
					defer mu.Unlock()
					if len(done) == dieAt {
						return errDead
					}
					done = append(done, fr)
					if len(done) == dieAt {
						kill()
					}
					return nil
				}})
			if err == nil {
				t.Fatal("the killed restore succeeded")
			}
			var doneItems int64
			inDone := map[string]bool{}
			for _, d := range done {
				doneItems += d.Items
				it, _ := opens[d.File](ctx)
				var n int64
				for {
					item, err := it.Next()
					if err != nil {
						break
					}
					n++
					inDone[string(item)] = true
					if first.items[string(item)] != 1 {
						t.Fatalf("file %d was reported written but an item of it was written %d times", d.File, first.items[string(item)])
					}
				}
				if n != d.Items {
					t.Fatalf("file %d reported %d items, holds %d", d.File, d.Items, n)
				}
			}
			second := &tableWriter{items: map[string]int{}}
			rres, err := Restore(ctx, RestoreInput{Table: "t2", Writer: second, Files: opens, Writers: 3, Done: done})
			if err != nil {
				t.Fatal(err)
			}
			if rres.Items != int64(len(items)) {
				t.Fatalf("resumed restore counts %d items, want %d", rres.Items, len(items))
			}
			for _, it := range items {
				table := first.items[string(it)] + second.items[string(it)]
				switch {
				case table == 0:
					t.Fatal("an item of the point is not in the table")
				case inDone[string(it)] && second.items[string(it)] != 0:
					t.Fatal("the resumed restore wrote an item of a finished file again")
				}
			}
			if int64(len(second.items)) != int64(len(items))-doneItems {
				t.Fatalf("the resumed restore wrote %d items, want the %d of the unfinished files", len(second.items), int64(len(items))-doneItems)
			}
		})
	}
}
