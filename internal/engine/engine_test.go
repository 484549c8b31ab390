package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/vault"
)

// tableScanner serves a fixed set of items as a parallel scan: an item
// belongs to the segment its index hashes to; pages hold pageSize items and
// the key is the page number.
type tableScanner struct {
	items    [][]byte
	pageSize int
	failOn   int // fail the call with this page number of segment 0 (if > 0)
	mu       sync.Mutex
	calls    int
}

func (s *tableScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	total := max(in.TotalSegments, 1)
	var seg [][]byte
	for i, it := range s.items {
		if i%total == in.Segment {
			seg = append(seg, it)
		}
	}
	page := 0
	if in.ExclusiveStartKey != nil {
		fmt.Sscanf(string(in.ExclusiveStartKey), "%d", &page)
	}
	if s.failOn > 0 && in.Segment == 0 && page == s.failOn {
		return nil, errors.New("injected scan failure")
	}
	lo, hi := page*s.pageSize, min((page+1)*s.pageSize, len(seg))
	p := &dynamodb.ScanPage{}
	if lo < len(seg) {
		p.Items = seg[lo:hi]
	}
	if hi < len(seg) {
		p.LastEvaluatedKey = fmt.Appendf(nil, "%d", page+1)
	}
	return p, nil
}

// tableWriter collects written items.
type tableWriter struct {
	mu    sync.Mutex
	items map[string]int // item -> times written
}

func (w *tableWriter) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	if len(items) == 0 || len(items) > 25 {
		return nil, 0, fmt.Errorf("batch of %d items", len(items))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, it := range items {
		w.items[string(it)]++
	}
	return nil, float64(len(items)), nil
}

func checksumOf(t *testing.T, items [][]byte) string {
	t.Helper()
	var c ddbjson.Checksum
	for _, it := range items {
		if err := c.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	return c.Sum()
}

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(1, 2)), 3000, 300)
	for _, segs := range []int{1, 3, 8} {
		t.Run(fmt.Sprintf("segments=%d", segs), func(t *testing.T) {
			v := vault.New(mem.New())
			w, err := v.Create(ctx, "rp1", vault.WriterOptions{MaxFileBytes: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			var reports []Progress
			var mu sync.Mutex
			res, err := Backup(ctx, BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 100}, Segments: segs,
				NewSink: func() ItemSink { return w.NewFile() }, ProgressInterval: time.Millisecond,
				Progress: func(p Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Items != int64(len(items)) || res.Checksum != checksumOf(t, items) || res.Segments != segs {
				t.Fatalf("result %+v, want %d items", res, len(items))
			}
			last := reports[len(reports)-1]
			if last.Items != int64(len(items)) || last.PartsDone != segs {
				t.Fatalf("last progress %+v", last)
			}
			if _, err := w.Commit(ctx, vault.CommitInfo{TableARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t", ContentChecksum: res.Checksum}); err != nil {
				t.Fatal(err)
			}
			r, err := v.Open(ctx, "rp1")
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Files()) < segs {
				t.Fatalf("%d data files for %d segments", len(r.Files()), segs)
			}
			// Restore through a writer that throttles, fails and leaves items
			// unprocessed: the retrying writer must still write every item once.
			tw := &tableWriter{items: map[string]int{}}
			fw := dynamodb.NewFaultWriter(tw, dynamodb.Faults{ThrottleEvery: 3, ServerErrorEvery: 7, UnprocessedEvery: 2})
			rw := dynamodb.NewRetryWriter(fw, dynamodb.RetryPolicy{Sleep: noSleep, MaxAttempts: -1})
			opens := make([]func(context.Context) (ItemIterator, error), 0)
			for _, f := range r.Files() {
				opens = append(opens, func(ctx context.Context) (ItemIterator, error) { return r.OpenFile(ctx, f) })
			}
			rres, err := Restore(ctx, RestoreInput{Table: "t2", Writer: rw, Files: opens, Writers: 4})
			if err != nil {
				t.Fatal(err)
			}
			if rres.Items != int64(len(items)) || len(tw.items) != len(items) {
				t.Fatalf("restored %d items, %d distinct, want %d", rres.Items, len(tw.items), len(items))
			}
			for _, it := range items {
				if tw.items[string(it)] != 1 {
					t.Fatalf("item written %d times", tw.items[string(it)])
				}
			}
			st := fw.Stats()
			if st.Throttles == 0 || st.UnprocessedItems == 0 || st.ServerErrors == 0 {
				t.Fatalf("faults were not exercised: %+v", st)
			}
		})
	}
}

func TestBackupScanErrorStopsEverySegment(t *testing.T) {
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(3, 4)), 2000, 200)
	var sinks []*countSink
	var mu sync.Mutex
	_, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 10, failOn: 5}, Segments: 4,
		NewSink: func() ItemSink { mu.Lock(); defer mu.Unlock(); s := &countSink{}; sinks = append(sinks, s); return s }})
	if err == nil || !contains(err.Error(), "injected scan failure") || !contains(err.Error(), "segment 0") {
		t.Fatalf("err = %v", err)
	}
	for i, s := range sinks {
		if !s.closed {
			t.Fatalf("sink %d not closed", i)
		}
	}
}

func TestBackupRejectsInvalidItem(t *testing.T) {
	items := [][]byte{[]byte(`{"pk":{"S":"a"}}`), []byte(`not an object`)}
	_, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 10}, Segments: 1})
	if err == nil || !contains(err.Error(), "invalid item") {
		t.Fatalf("err = %v", err)
	}
}

// Items a lax source holds that DynamoDB's rules refuse are kept byte for
// byte, covered by the checksum, counted and named by their keys.
func TestBackupKeepsOutOfSpecItems(t *testing.T) {
	ctx := context.Background()
	good := ddbjson.RandomItems(rand.New(rand.NewPCG(9, 9)), 500, 100)
	odd := [][]byte{
		[]byte(`{"pk":{"S":"dup-ns"},"ns":{"NS":["1","1.0"]}}`),
		[]byte(`{"pk":{"S":"dup-ss"},"ss":{"SS":["x","x"]}}`),
		[]byte(`{"pk":{"S":"unknown-type"},"v":{"Q":"1"}}`),
	}
	items := append(append([][]byte{}, good...), odd...)
	v := vault.New(mem.New())
	w, err := v.Create(ctx, "rp", vault.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backup(ctx, BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 7}, Segments: 4,
		KeyAttributes: []string{"pk"}, NewSink: func() ItemSink { return w.NewFile() }})
	if err != nil {
		t.Fatal(err)
	}
	var want ddbjson.Checksum
	for _, it := range good {
		if err := want.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range odd {
		if err := want.AddOutOfSpec(it); err != nil {
			t.Fatal(err)
		}
	}
	if res.Items != int64(len(items)) || res.Checksum != want.Sum() || res.OutOfSpec != 3 || len(res.OutOfSpecItems) != 3 {
		t.Fatalf("result: %d items, %s, %d out of spec (%v); want %d, %s, 3", res.Items, res.Checksum, res.OutOfSpec,
			res.OutOfSpecItems, len(items), want.Sum())
	}
	named := map[string]string{}
	for _, is := range res.OutOfSpecItems {
		named[is.Key] = is.Reason
	}
	for key, reason := range map[string]string{`{"pk":{"S":"dup-ns"}}`: "attribute ns: set contains duplicates",
		`{"pk":{"S":"dup-ss"}}`: "attribute ss: set contains duplicates", `{"pk":{"S":"unknown-type"}}`: "unknown type descriptor"} {
		if !contains(named[key], reason) {
			t.Errorf("item %s: reason %q, want %q (named: %v)", key, named[key], reason, named)
		}
	}
	// The vault holds every item as the source sent it.
	if _, err := w.Commit(ctx, vault.CommitInfo{TableARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t", ContentChecksum: res.Checksum}); err != nil {
		t.Fatal(err)
	}
	r, err := v.Open(ctx, "rp")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, fe := range r.Files() {
		it, err := r.OpenFile(ctx, fe)
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
			got[string(item)] = true
		}
		it.Close()
	}
	for _, it := range odd {
		if !got[string(it)] {
			t.Errorf("vault lacks %s as the source held it", it)
		}
	}
}

// A target that refuses some items (as DynamoDB refuses out-of-spec ones:
// the whole batch, with a ValidationException) gets every other item; the
// refused ones are counted, named, and summed with the point's algorithm.
func TestRestoreNamesRefusedItems(t *testing.T) {
	good := ddbjson.RandomItems(rand.New(rand.NewPCG(10, 10)), 300, 100)
	odd := [][]byte{
		[]byte(`{"pk":{"S":"dup-ns"},"ns":{"NS":["1","1.0"]}}`),
		[]byte(`{"pk":{"S":"deep"},"d":` + strings.Repeat(`{"L":[`, 40) + `{"S":"x"}` + strings.Repeat(`]}`, 40) + `}`),
	}
	items := append(append([][]byte{}, good[:150]...), odd[0])
	items = append(append(items, good[150:]...), odd[1])
	tw := &tableWriter{items: map[string]int{}}
	fw := dynamodb.NewFaultWriter(tw, dynamodb.Faults{RefuseInvalid: true})
	res, err := Restore(context.Background(), RestoreInput{Table: "t", Writer: dynamodb.NewRetryWriter(fw, dynamodb.RetryPolicy{Sleep: noSleep}),
		KeyAttributes: []string{"pk"},
		Files:         []func(context.Context) (ItemIterator, error){func(context.Context) (ItemIterator, error) { return &sliceIter{items: items}, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != int64(len(good)) || len(tw.items) != len(good) || res.Refused != 2 || len(res.RefusedItems) != 2 {
		t.Fatalf("wrote %d (%d in the table), refused %d %v; want %d written, 2 refused", res.Items, len(tw.items), res.Refused, res.RefusedItems, len(good))
	}
	for _, it := range good {
		if tw.items[string(it)] != 1 {
			t.Fatalf("item %.60s written %d times", it, tw.items[string(it)])
		}
	}
	var want ddbjson.Checksum
	for _, it := range odd {
		if err := want.AddOutOfSpec(it); err != nil {
			t.Fatal(err)
		}
	}
	if !res.RefusedSum.Equal(&want) {
		t.Errorf("refused sum %s, want %s", res.RefusedSum.Sum(), want.Sum())
	}
	for _, is := range res.RefusedItems {
		if !contains(is.Reason, "ValidationException") || (is.Key != `{"pk":{"S":"dup-ns"}}` && is.Key != `{"pk":{"S":"deep"}}`) {
			t.Errorf("refused item %+v", is)
		}
	}
}

func TestBackupSinkErrorFails(t *testing.T) {
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(5, 6)), 500, 200)
	_, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: &tableScanner{items: items, pageSize: 10}, Segments: 2,
		NewSink: func() ItemSink { return &countSink{failAfter: 100} }})
	if err == nil || !contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestRestoreWriterErrorFails(t *testing.T) {
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(7, 8)), 300, 200)
	it := &sliceIter{items: items}
	_, err := Restore(context.Background(), RestoreInput{Table: "t", Writer: failingWriter{},
		Files: []func(context.Context) (ItemIterator, error){func(context.Context) (ItemIterator, error) { return it, nil }}})
	if err == nil || !contains(err.Error(), "access denied") {
		t.Fatalf("err = %v", err)
	}
}

func TestRestoreBatchesRespectLimits(t *testing.T) {
	// Big items force batches below 25 items to stay under the byte limit.
	big := make([][]byte, 40)
	for i := range big {
		pad := make([]byte, 390<<10)
		for j := range pad {
			pad[j] = 'a' + byte(j%26)
		}
		big[i] = fmt.Appendf(nil, `{"pk":{"S":"%d"},"p":{"S":"%s"}}`, i, pad)
	}
	rec := &recordingWriter{}
	_, err := Restore(context.Background(), RestoreInput{Table: "t", Writer: rec,
		Files: []func(context.Context) (ItemIterator, error){func(context.Context) (ItemIterator, error) { return &sliceIter{items: big}, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range rec.batches {
		if b.bytes > maxBatchBytes+400<<10 || b.items > maxBatchItems {
			t.Fatalf("batch of %d items, %d bytes", b.items, b.bytes)
		}
		n += b.items
	}
	if n != len(big) {
		t.Fatalf("wrote %d items, want %d", n, len(big))
	}
}

func TestAutoSegments(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want int
	}{{0, 4}, {1 << 30, 4}, {10 << 30, 40}, {1 << 40, 64}} {
		if got := AutoSegments(tt.size); got != tt.want {
			t.Errorf("AutoSegments(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}

func TestBatchAddKeepsItemsValidWhenGrowing(t *testing.T) {
	var b batch
	var want []string
	for i := range 25 {
		it := fmt.Appendf(nil, `{"pk":{"S":"%d-%x"}}`, i, fnv.New64().Sum(nil))
		want = append(want, string(it))
		b.add(it)
	}
	for i, it := range b.items {
		if string(it) != want[i] {
			t.Fatalf("item %d = %s, want %s", i, it, want[i])
		}
	}
}

type countSink struct {
	n, failAfter int
	closed       bool
}

func (s *countSink) WriteItem([]byte) error {
	s.n++
	if s.failAfter > 0 && s.n > s.failAfter {
		return errors.New("disk full")
	}
	return nil
}
func (s *countSink) Close() error { s.closed = true; return nil }

type sliceIter struct {
	items [][]byte
	i     int
}

func (s *sliceIter) Next() ([]byte, error) {
	if s.i == len(s.items) {
		return nil, io.EOF
	}
	s.i++
	return s.items[s.i-1], nil
}
func (s *sliceIter) Close() error { return nil }

type failingWriter struct{}

func (failingWriter) BatchWrite(context.Context, string, [][]byte) ([][]byte, float64, error) {
	return nil, 0, errors.New("access denied")
}

type recordingWriter struct {
	mu      sync.Mutex
	batches []struct{ items, bytes int }
}

func (w *recordingWriter) BatchWrite(_ context.Context, _ string, items [][]byte) ([][]byte, float64, error) {
	n := 0
	for _, it := range items {
		n += len(it)
	}
	w.mu.Lock()
	w.batches = append(w.batches, struct{ items, bytes int }{len(items), n})
	w.mu.Unlock()
	return nil, 0, nil
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// slowScanner is a tableScanner whose segments take a while, and which
// counts how many segments are being scanned at once (from the first page
// until the last).
type slowScanner struct {
	tableScanner
	mu          sync.Mutex
	open, peak  int
	segmentsRun map[int]bool
}

func (s *slowScanner) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	if in.ExclusiveStartKey == nil {
		s.mu.Lock()
		s.open++
		s.peak = max(s.peak, s.open)
		s.segmentsRun[in.Segment] = true
		s.mu.Unlock()
	}
	time.Sleep(time.Millisecond)
	p, err := s.tableScanner.ScanPage(ctx, in)
	if err != nil || p.LastEvaluatedKey == nil {
		s.mu.Lock()
		s.open--
		s.mu.Unlock()
	}
	return p, err
}

// A job may ask for far more segments than are worth scanning at once: they
// are scanned in turns, never more than Parallel (or MaxParallelSegments)
// at a time, each with its own sink, and every item is still read once.
func TestBackupScansManySegmentsInTurns(t *testing.T) {
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(7, 7)), 2000, 100)
	var want ddbjson.Checksum
	for _, it := range items {
		if err := want.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ segments, parallel, wantPeak int }{
		{200, 0, MaxParallelSegments},
		{200, 5, 5},
		{3, 0, 3},
	} {
		sc := &slowScanner{tableScanner: tableScanner{items: items, pageSize: 4}, segmentsRun: map[int]bool{}}
		var mu sync.Mutex
		sinks, openSinks, peakSinks := 0, 0, 0
		res, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: sc, Segments: tc.segments, Parallel: tc.parallel,
			TableSizeBytes: 1 << 30, // large enough for every segment asked
			NewSink: func() ItemSink {
				mu.Lock()
				defer mu.Unlock()
				sinks++
				openSinks++
				peakSinks = max(peakSinks, openSinks)
				return &countingSink{close: func() { mu.Lock(); openSinks--; mu.Unlock() }}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Items != int64(len(items)) || res.Checksum != want.Sum() || res.Segments != tc.segments {
			t.Errorf("%d segments: %d items, checksum %s, %d segments; want %d, %s, %d",
				tc.segments, res.Items, res.Checksum, res.Segments, len(items), want.Sum(), tc.segments)
		}
		if len(sc.segmentsRun) != tc.segments || sinks != tc.segments {
			t.Errorf("%d segments: %d scanned with %d sinks", tc.segments, len(sc.segmentsRun), sinks)
		}
		// At most the limit; and (as the segments overlap for
		// milliseconds) not far below it, or the limit would not be what
		// bounds them.
		if sc.peak > tc.wantPeak || peakSinks > tc.wantPeak || sc.peak < (tc.wantPeak+1)/2 {
			t.Errorf("%d segments, parallel %d: %d segments and %d sinks open at once, want at most %d",
				tc.segments, tc.parallel, sc.peak, peakSinks, tc.wantPeak)
		}
	}
}

// countingSink discards items and calls close once closed.
type countingSink struct{ close func() }

func (s *countingSink) WriteItem([]byte) error { return nil }
func (s *countingSink) Close() error           { s.close(); return nil }

func TestEffectiveSegments(t *testing.T) {
	for _, tc := range []struct {
		asked       int
		size, items int64
		want        int
		capped      bool
		whyMentions string
	}{
		{0, 0, 0, 4, false, ""},
		{0, 10 << 30, 0, 40, false, ""},
		{8, 0, 0, 8, false, ""},
		{1000000, 0, 0, UnknownSizeSegments, true, "neither the table's size nor its item count"},
		{1000000, 3 << 20, 3000, MaxParallelSegments, true, "about 3.0 MiB"},
		{100, 200 << 20, 0, 100, false, ""},
		{1000, 200 << 20, 0, 200, true, "about 200.0 MiB"},
		{1000000, 0, 50000, 50, true, "about 50000 items"},
		{1000000, 1 << 40, 0, MaxSegments, true, "at most 1000"},
		{1000, 1 << 40, 0, 1000, false, ""},
	} {
		got, why := EffectiveSegments(tc.asked, tc.size, tc.items)
		if got != tc.want || (why != "") != tc.capped || !contains(why, tc.whyMentions) {
			t.Errorf("EffectiveSegments(%d, %d, %d) = %d, %q; want %d (capped %v, mentioning %q)",
				tc.asked, tc.size, tc.items, got, why, tc.want, tc.capped, tc.whyMentions)
		}
	}
}

// Segments=1000000 on a small table does not cost a million Scan calls:
// the scan uses what the table's size is worth, and the count of calls is
// bounded by the segments used plus the pages read.
func TestBackupOfManySegmentsOnSmallTableIsBounded(t *testing.T) {
	items := ddbjson.RandomItems(rand.New(rand.NewPCG(11, 11)), 3000, 100)
	for _, tc := range []struct {
		name        string
		size, count int64
		want        int
	}{
		{"size unknown", 0, 0, UnknownSizeSegments},
		{"size known", 3000 * 150, 3000, MaxParallelSegments},
	} {
		sc := &tableScanner{items: items, pageSize: 100}
		res, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: sc, Segments: 1000000,
			TableSizeBytes: tc.size, TableItemCount: tc.count})
		if err != nil {
			t.Fatal(err)
		}
		pages := 0
		for seg := range tc.want {
			n := (len(items) - seg + tc.want - 1) / tc.want // items of the segment
			pages += max(1, (n+99)/100)
		}
		if res.Segments != tc.want || res.Items != int64(len(items)) || sc.calls != pages {
			t.Errorf("%s: %d segments, %d items, %d Scan calls; want %d segments, %d items, %d calls",
				tc.name, res.Segments, res.Items, sc.calls, tc.want, len(items), pages)
		}
	}
}
