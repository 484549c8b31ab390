package engine

// Tests of a backup's scan pipeline: each segment's fetcher reads ahead of
// the segment's writer, through the retry and rate-limit wrappers, and
// keeps every item once, in the segment's order, with a bounded number of
// pages in memory. They run in synctest bubbles: retries, backoffs and the
// rate limiter use the bubble's fake clock, and a goroutine left behind
// fails the test.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// pageSource is an in-memory parallel scan: items are dealt round robin to
// the segments, a segment is read in pages of pageSize items, and the key
// is the page number. It counts the pages of each segment it handed out
// that the consumer has not released yet.
type pageSource struct {
	segs     [][][]byte
	pageSize int
	// unitsPerPage is each page's ConsumedCapacity.
	unitsPerPage float64
	// failAt fails every call for (segment, page) with its error.
	failAt map[[2]int]error

	mu                sync.Mutex
	calls, live, peak []int
	handed, released  int
}

func newPageSource(items [][]byte, segments, pageSize int) *pageSource {
	s := &pageSource{segs: make([][][]byte, segments), pageSize: pageSize,
		calls: make([]int, segments), live: make([]int, segments), peak: make([]int, segments)}
	for i, it := range items {
		s.segs[i%segments] = append(s.segs[i%segments], it)
	}
	return s
}

func (s *pageSource) ScanPage(ctx context.Context, in dynamodb.ScanInput) (*dynamodb.ScanPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.TotalSegments != len(s.segs) {
		return nil, fmt.Errorf("asked for %d segments, the source has %d", in.TotalSegments, len(s.segs))
	}
	seg, page := in.Segment, 0
	if in.ExclusiveStartKey != nil {
		if _, err := fmt.Sscanf(string(in.ExclusiveStartKey), "%d", &page); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.calls[seg]++
	if err := s.failAt[[2]int{seg, page}]; err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.live[seg]++
	s.peak[seg] = max(s.peak[seg], s.live[seg])
	s.handed++
	s.mu.Unlock()
	items := s.segs[seg]
	lo, hi := min(page*s.pageSize, len(items)), min((page+1)*s.pageSize, len(items))
	var key []byte
	if hi < len(items) {
		key = fmt.Appendf(nil, "%d", page+1)
	}
	var once sync.Once
	p := dynamodb.NewScanPage(items[lo:hi], key, func() {
		once.Do(func() {
			s.mu.Lock()
			s.live[seg]--
			s.released++
			s.mu.Unlock()
		})
	})
	p.ConsumedCapacity = s.unitsPerPage
	return p, nil
}

// checkReleased fails unless every page handed out was released.
func (s *pageSource) checkReleased(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released != s.handed {
		t.Errorf("%d pages handed out, %d released (live per segment: %v)", s.handed, s.released, s.live)
	}
}

// recorder hands out sinks that record what they were given, in order.
type recorder struct {
	mu    sync.Mutex
	sinks []*recordingSink
	// before, if set, runs before each item is recorded; an error fails
	// the write.
	before func() error
}

type recordingSink struct {
	r      *recorder
	items  []string
	closed bool
}

func (r *recorder) newSink() ItemSink {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &recordingSink{r: r}
	r.sinks = append(r.sinks, s)
	return s
}

func (s *recordingSink) WriteItem(item []byte) error {
	if s.r.before != nil {
		if err := s.r.before(); err != nil {
			return err
		}
	}
	s.items = append(s.items, string(item))
	return nil
}

func (s *recordingSink) Close() error { s.closed = true; return nil }

// checkSegments fails unless each sink holds the start of one segment's
// items, in the segment's order, and no segment went to two sinks; with
// complete, the whole segment, and every segment has its sink. The segments' items are told apart by
// content (every item is distinct).
func checkSegments(t *testing.T, r *recorder, segs [][][]byte, complete bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	// A backup that stops may stop before some segments started.
	if len(r.sinks) > len(segs) || (complete && len(r.sinks) != len(segs)) {
		t.Errorf("%d sinks for %d segments", len(r.sinks), len(segs))
	}
	owner := map[string]int{}
	for seg, items := range segs {
		for _, it := range items {
			owner[string(it)] = seg
		}
	}
	taken := map[int]bool{}
	for i, s := range r.sinks {
		if !s.closed {
			t.Errorf("sink %d was not closed", i)
		}
		if len(s.items) == 0 {
			if complete {
				// Only an empty segment leaves its sink empty.
				found := false
				for seg, items := range segs {
					if len(items) == 0 && !taken[seg] {
						taken[seg], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("sink %d got no items", i)
				}
			}
			continue
		}
		seg, ok := owner[s.items[0]]
		if !ok {
			t.Errorf("sink %d: item not in the table: %.40q", i, s.items[0])
			continue
		}
		if taken[seg] {
			t.Errorf("sink %d: segment %d went to two sinks", i, seg)
		}
		taken[seg] = true
		want := segs[seg]
		if len(s.items) > len(want) || (complete && len(s.items) != len(want)) {
			t.Errorf("sink %d (segment %d): %d items, the segment has %d", i, seg, len(s.items), len(want))
		}
		for k := range min(len(s.items), len(want)) {
			if s.items[k] != string(want[k]) {
				t.Errorf("sink %d (segment %d): item %d is not the segment's item %d: lost, duplicated or out of order", i, seg, k, k)
				break
			}
		}
	}
}

func sumOf(t *testing.T, items [][]byte) string {
	t.Helper()
	var c ddbjson.Checksum
	for _, it := range items {
		if err := c.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	return c.Sum()
}

// A segment's fetcher sends the next Scan before the writer is done with
// the page before, and stops pagesAhead pages ahead of the writer: no
// segment ever holds more than pagesAhead+2 pages. The writer is held at
// every item and released one item at a time; the count of pages handed
// out and not released is checked at every call of the source and at
// every point where all goroutines wait.
func TestBackupReadsAheadWithBoundedPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const segments, pageSize = 3, 10
		items := ddbjson.RandomItems(rand.New(rand.NewPCG(3, 3)), 3*segments*pageSize*4+7, 40)
		src := newPageSource(items, segments, pageSize)
		gate := make(chan struct{})
		rec := &recorder{before: func() error { <-gate; return nil }}
		var res *BackupResult
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			res, err = Backup(context.Background(), BackupInput{Table: "t", Scanner: src, Segments: segments, NewSink: rec.newSink})
		}()
		bound := pagesAhead + 2
		for step := 0; ; step++ {
			synctest.Wait()
			src.mu.Lock()
			for seg := range segments {
				if src.live[seg] > bound {
					t.Fatalf("step %d: segment %d holds %d pages, more than %d", step, seg, src.live[seg], bound)
				}
				// Before the first item is written, every segment has
				// read as far ahead as it may: the writer's page, the
				// queued ones, and the one it waits to queue.
				if step == 0 && src.calls[seg] != bound {
					t.Errorf("with every writer held at its first item, segment %d made %d Scan calls, want %d", seg, src.calls[seg], bound)
				}
			}
			src.mu.Unlock()
			select {
			case gate <- struct{}{}:
				continue
			case <-done:
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.Items != int64(len(items)) || res.Checksum != sumOf(t, items) {
			t.Errorf("backup read %d items, checksum %s; want %d, %s", res.Items, res.Checksum, len(items), sumOf(t, items))
		}
		for seg, p := range src.peak {
			if p != bound {
				t.Errorf("segment %d held at most %d pages at once, want %d (the bound, reached)", seg, p, bound)
			}
		}
		src.checkReleased(t)
		checkSegments(t, rec, src.segs, true)
	})
}

// Throttling, server errors and connection resets, retried with backoff,
// under a read rate limit: every item is kept once, in its segment's
// order, every page is released, and the rate limit still holds for the
// pages read ahead.
func TestBackupReadAheadThroughFaultsAndRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const segments, pageSize, units, rate = 4, 7, 5.0, 100.0
		items := ddbjson.RandomItems(rand.New(rand.NewPCG(4, 4)), 500, 60)
		src := newPageSource(items, segments, pageSize)
		src.unitsPerPage = units
		faulty := dynamodb.NewFaultScanner(src, dynamodb.Faults{ThrottleEvery: 3, ServerErrorEvery: 5, ResetEvery: 7})
		var retries atomic.Int64
		// About half the calls fail, those of all segments counted
		// together: a segment may meet many failures in a row.
		scanner := dynamodb.NewRetryScanner(faulty, dynamodb.RetryPolicy{MaxAttempts: 100,
			OnRetry: func(int, time.Duration, error) { retries.Add(1) }})
		scanner = dynamodb.NewRateLimitedScanner(scanner, rate)
		rec := &recorder{}
		start := time.Now()
		res, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: scanner, Segments: segments, NewSink: rec.newSink})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if res.Items != int64(len(items)) || res.Checksum != sumOf(t, items) {
			t.Errorf("backup read %d items, checksum %s; want %d, %s", res.Items, res.Checksum, len(items), sumOf(t, items))
		}
		st := faulty.Stats()
		if st.Throttles == 0 || st.ServerErrors == 0 || st.Resets == 0 || retries.Load() != int64(st.Throttles+st.ServerErrors+st.Resets) {
			t.Errorf("faults %+v, %d retries: want every kind injected and each retried", st, retries.Load())
		}
		// The limiter starts empty, lets each segment overdraw it by one
		// page, and the last pages' debt is never waited for: the rest is
		// paid at the rate.
		pages := 0
		for _, s := range src.segs {
			pages += (len(s) + pageSize - 1) / pageSize
		}
		if least := time.Duration((float64(pages-2*segments) * units / rate) * float64(time.Second)); elapsed < least {
			t.Errorf("%d pages of %g units read in %s at %g units/s: faster than the limit allows (%s)", pages, units, elapsed, rate, least)
		}
		src.checkReleased(t)
		checkSegments(t, rec, src.segs, true)
	})
}

// A page that cannot be read (an error the retries do not cure) fails the
// backup and stops every segment: what was written is each segment's items
// in order up to where it stopped, nothing past the failed page, every
// sink closed, every page released, no goroutine left.
func TestBackupReadAheadStopsOnErrorMidStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const segments, pageSize = 3, 5
		items := ddbjson.RandomItems(rand.New(rand.NewPCG(5, 5)), 300, 40)
		src := newPageSource(items, segments, pageSize)
		bad := &dynamodb.APIError{Code: "ValidationException", StatusCode: http.StatusBadRequest, Message: "injected"}
		src.failAt = map[[2]int]error{{1, 4}: bad}
		rec := &recorder{}
		res, err := Backup(context.Background(), BackupInput{Table: "t", Scanner: dynamodb.NewRetryScanner(src, dynamodb.RetryPolicy{}),
			Segments: segments, NewSink: rec.newSink})
		var api *dynamodb.APIError
		if res != nil || !errors.As(err, &api) || api != bad {
			t.Fatalf("Backup = %v, %v; want the page's error", res, err)
		}
		if src.calls[1] != 5 {
			t.Errorf("segment 1: %d Scan calls, want 5 (pages 0-3, then the failing one, not retried)", src.calls[1])
		}
		src.checkReleased(t)
		checkSegments(t, rec, src.segs, false)
		unread := map[string]bool{}
		for _, it := range src.segs[1][4*pageSize:] {
			unread[string(it)] = true
		}
		for _, s := range rec.sinks {
			for _, it := range s.items {
				if unread[it] {
					t.Fatal("an item of the failed page or after it was written")
				}
			}
		}
	})
}

// Cancelling the backup's context while pages are read ahead stops it:
// Backup returns the context's error, every sink is closed, every page
// released and no goroutine is left behind.
func TestBackupReadAheadCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const segments, pageSize = 4, 6
		items := ddbjson.RandomItems(rand.New(rand.NewPCG(6, 6)), 400, 40)
		src := newPageSource(items, segments, pageSize)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var written atomic.Int64
		rec := &recorder{before: func() error {
			if written.Add(1) == 100 {
				cancel()
			}
			return nil
		}}
		res, err := Backup(ctx, BackupInput{Table: "t", Scanner: dynamodb.NewRetryScanner(src, dynamodb.RetryPolicy{}),
			Segments: segments, NewSink: rec.newSink})
		if res != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("Backup = %v, %v; want context.Canceled", res, err)
		}
		if n := written.Load(); n >= int64(len(items)) {
			t.Errorf("all %d items were written despite the cancel", n)
		}
		src.checkReleased(t)
		checkSegments(t, rec, src.segs, false)
	})
}
