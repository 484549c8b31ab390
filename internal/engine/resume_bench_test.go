package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
	"github.com/cairn-backup/cairn/internal/vault"
)

// genScanner serves a table of n generated items (about 450 bytes each,
// a random payload) as pages of pageItems, item i in segment i % segments.
// It counts the items it serves per segment and calls onItems with the
// running total.
type genScanner struct {
	n, segments, pageItems int
	scanned                []atomic.Int64
	total                  atomic.Int64
	onItems                func(total int64)
}

func newGenScanner(n, segments int) *genScanner {
	return &genScanner{n: n, segments: segments, pageItems: 2000, scanned: make([]atomic.Int64, segments)}
}

func genItem(i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 99))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	b := make([]byte, 0, 480)
	b = fmt.Appendf(b, `{"pk":{"S":"item-%09d"},"n":{"N":"%d"},"payload":{"S":"`, i, i)
	for range 400 {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return append(b, `"}}`...)
}

func (s *genScanner) segItems(seg int) int { return (s.n - seg + s.segments - 1) / s.segments }

func (s *genScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	page := 0
	if len(in.ExclusiveStartKey) > 0 {
		page, _ = strconv.Atoi(string(in.ExclusiveStartKey))
	}
	lo, hi := page*s.pageItems, min((page+1)*s.pageItems, s.segItems(in.Segment))
	p := &dynamodb.ScanPage{}
	for j := lo; j < hi; j++ {
		p.Items = append(p.Items, genItem(j*s.segments+in.Segment))
	}
	if hi < s.segItems(in.Segment) {
		p.LastEvaluatedKey = strconv.AppendInt(nil, int64(page+1), 10)
	}
	s.scanned[in.Segment].Add(int64(len(p.Items)))
	t := s.total.Add(int64(len(p.Items)))
	if s.onItems != nil {
		s.onItems(t)
	}
	return p, nil
}

type syncFile struct{ *vault.FileWriter }

func (f syncFile) Cut() (func() ([]json.RawMessage, error), error) {
	wait, err := f.FileWriter.Cut()
	if err != nil {
		return nil, err
	}
	return func() ([]json.RawMessage, error) {
		entries, err := wait()
		out := make([]json.RawMessage, len(entries))
		for i := range entries {
			out[i], _ = json.Marshal(&entries[i])
		}
		return out, err
	}, nil
}

// TestResumeBenchmark is the resume benchmark of docs/benchmarks.md: a
// backup of CAIRN_BENCH_RESUME_ITEMS items (1,000,000 there; skipped when
// unset) over 4 segments into a file vault is killed at about half-way
// (its context is cancelled and its checkpoint store refuses every later
// save, as a dead process's would), then resumed from the checkpoints it
// left. It measures, per segment, the items scanned again: those the
// killed run and the resumed run scanned together minus those in the
// point, against the checkpoint interval; and it times a clean backup
// without checkpoints, one with them, and the resume.
//
//	CAIRN_BENCH_RESUME_ITEMS=1000000 go test -count=1 -run TestResumeBenchmark -v ./internal/engine
func TestResumeBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CAIRN_BENCH_RESUME_ITEMS"))
	if n <= 0 {
		t.Skip("set CAIRN_BENCH_RESUME_ITEMS to run the resume benchmark")
	}
	const segs = 4
	every := int64(engine.DefaultCheckpointItems)
	if v, _ := strconv.ParseInt(os.Getenv("CAIRN_BENCH_RESUME_EVERY"), 10, 64); v > 0 {
		every = v
	}
	ctx := context.Background()
	newVault := func(t *testing.T) *vault.Vault {
		st, err := fileblob.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return vault.New(st)
	}
	run := func(name string, v *vault.Vault, checkpoints bool) (*engine.BackupResult, time.Duration) {
		w, err := v.Create(ctx, "clean", vault.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		in := engine.BackupInput{Table: "t", Scanner: newGenScanner(n, segs), Segments: segs,
			NewSink: func() engine.ItemSink { return syncFile{w.NewFile()} }}
		var saves atomic.Int64
		if checkpoints {
			in.Checkpoint = func(st engine.SegmentState) error {
				_, err := json.Marshal(st)
				saves.Add(1)
				return err
			}
			in.CheckpointItems = every
		}
		start := time.Now()
		res, err := engine.Backup(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx, vault.CommitInfo{ContentChecksum: res.Checksum}); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		t.Logf("%s: %d items in %v (%.0f items/s), %d checkpoints", name, res.Items, d.Round(time.Millisecond), float64(res.Items)/d.Seconds(), saves.Load())
		return res, d
	}
	clean, _ := run("clean backup, no checkpoints", newVault(t), false)
	withCP, _ := run("clean backup with checkpoints", newVault(t), true)
	if withCP.Checksum != clean.Checksum {
		t.Fatalf("checksums differ: %s, %s", withCP.Checksum, clean.Checksum)
	}

	// The killed run.
	v := newVault(t)
	w, err := v.Create(ctx, "rp", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, kill := context.WithCancel(ctx)
	var mu sync.Mutex
	dead := false
	saved := map[int][]byte{}
	first := newGenScanner(n, segs)
	first.onItems = func(total int64) {
		if total >= int64(n/2) {
			mu.Lock()
			dead = true
			mu.Unlock()
			kill()
		}
	}
	start := time.Now()
	_, err = engine.Backup(runCtx, engine.BackupInput{Table: "t", Scanner: first, Segments: segs, CheckpointItems: every,
		NewSink: func() engine.ItemSink { return syncFile{w.NewFile()} },
		Checkpoint: func(st engine.SegmentState) error {
			mu.Lock()
			defer mu.Unlock()
			if dead {
				return errors.New("dead")
			}
			b, err := json.Marshal(st)
			saved[st.Segment] = b
			return err
		}})
	if err == nil {
		t.Fatal("the killed backup completed")
	}
	killedAfter := time.Since(start)

	var states []engine.SegmentState
	var files []vault.FileEntry
	held := make([]int64, segs)
	for _, b := range saved {
		var st engine.SegmentState
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
		held[st.Segment] = st.Items
		for _, f := range st.Files {
			var fe vault.FileEntry
			if err := json.Unmarshal(f, &fe); err != nil {
				t.Fatal(err)
			}
			files = append(files, fe)
		}
	}
	start = time.Now()
	w2, err := v.Resume(ctx, "rp", vault.WriterOptions{}, files)
	if err != nil {
		t.Fatal(err)
	}
	second := newGenScanner(n, segs)
	res, err := engine.Backup(ctx, engine.BackupInput{Table: "t", Scanner: second, Segments: segs, CheckpointItems: every, Resume: states,
		NewSink:    func() engine.ItemSink { return syncFile{w2.NewFile()} },
		Checkpoint: func(engine.SegmentState) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w2.Commit(ctx, vault.CommitInfo{ContentChecksum: res.Checksum, ExpectedItemCount: &res.Items})
	if err != nil {
		t.Fatal(err)
	}
	resumedIn := time.Since(start)
	if res.Checksum != clean.Checksum || res.Items != int64(n) || m.Summary.ItemCount != int64(n) {
		t.Fatalf("resumed point: %d items, %s; clean: %d, %s", res.Items, res.Checksum, clean.Items, clean.Checksum)
	}
	t.Logf("killed after %v at %d of %d items scanned; resumed in %v", killedAfter.Round(time.Millisecond), first.total.Load(), n, resumedIn.Round(time.Millisecond))
	t.Logf("| segment | items in the point | scanned before the kill | held by the last checkpoint | scanned after the resume | rescanned | interval |")
	t.Logf("|---|---|---|---|---|---|---|")
	for seg := range segs {
		inPoint := int64(first.segItems(seg))
		before, after := first.scanned[seg].Load(), second.scanned[seg].Load()
		rescanned := before + after - inPoint
		t.Logf("| %d | %d | %d | %d | %d | %d | %d |", seg, inPoint, before, held[seg], after, rescanned, every)
		if after != inPoint-held[seg] {
			t.Errorf("segment %d: scanned %d after the resume, the checkpoint lacks %d", seg, after, inPoint-held[seg])
		}
		if rescanned > 2*every+int64(3*first.pageItems) {
			t.Errorf("segment %d: %d items rescanned, more than two intervals of %d (and the pages in flight)", seg, rescanned, every)
		}
	}
}
