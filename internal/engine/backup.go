package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// ItemSink receives the items of one scan segment. It is used by one
// goroutine; Close makes what was written durable.
type ItemSink interface {
	WriteItem(item []byte) error
	Close() error
}

// BackupInput describes one backup.
type BackupInput struct {
	Table   string
	Scanner dynamodb.Scanner
	// Segments is the parallel scan's TotalSegments as asked; 0 chooses
	// with AutoSegments from TableSizeBytes. What is asked is capped by
	// EffectiveSegments.
	Segments int
	// TableSizeBytes and TableItemCount are the source's estimates of the
	// table's size (0: unknown).
	TableSizeBytes int64
	TableItemCount int64
	// KeyAttributes are the names of the table's key attributes: items
	// out of DynamoDB's rules are named by them.
	KeyAttributes []string
	// NewSink returns the sink for one segment. nil discards the items
	// (used to checksum a table).
	NewSink func() ItemSink
	// Progress, if set, is called about every ProgressInterval and once at
	// the end.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Parallel is how many segments are scanned at once; 0 is
	// min(Segments, MaxParallelSegments). More segments are scanned in
	// turns.
	Parallel int
	// ChecksumAlgorithm is the content checksum's algorithm; "" is
	// ddbjson.ChecksumAlgorithm. Checking a restored table against a
	// recovery point uses the point's (ddbjson.ChecksumAlgorithmOf).
	ChecksumAlgorithm string
}

// BackupResult is what a finished backup read.
type BackupResult struct {
	Items    int64
	Bytes    int64
	Checksum string // ddbjson.Checksum.Sum of every item
	// Sum is the checksum itself, to be combined with others.
	Sum ddbjson.Checksum
	// Segments is the TotalSegments the scan used (see EffectiveSegments).
	Segments int
	// OutOfSpec counts the items kept that DynamoDB's rules refuse (see
	// ddbjson.Checksum.AddOutOfSpec); OutOfSpecItems names the first
	// MaxNamedItems of them.
	OutOfSpec      int64
	OutOfSpecItems []ItemIssue
}

// MaxParallelSegments is how many segments a backup scans at once unless
// told otherwise. Each scanning segment holds a page or two and an open data
// file with its zstd encoder (about 2 MB together: 64 segments at once took
// the server to 105 MiB), so a job that asks for many segments
// (TotalSegments may be up to 1,000,000) scans them in turns and its memory
// stays bounded. Against DynamoDB a segment reads 1 MB pages at tens of
// milliseconds each, 10-20 MB/s; 16 of them deliver about what one or two
// cores of the engine take (about 170 MB/s per core, see docs/benchmarks.md).
const MaxParallelSegments = 16

// AutoSegments chooses a parallel scan's TotalSegments from the table size:
// one segment per 256 MiB, at least 4 (scans of small tables are bound by
// round trips, not bytes) and at most 64.
func AutoSegments(tableSizeBytes int64) int {
	n := int(tableSizeBytes / (256 << 20))
	return min(max(n, 4), 64)
}

// Limits of the segments a backup scans, whatever it is asked (DynamoDB
// takes TotalSegments up to 1,000,000). Every segment costs at least one
// Scan call, even an empty one, so a backup that asks for far more segments
// than the table fills would spend its time on round trips that read
// nothing.
const (
	// MaxSegments is the most segments a backup scans.
	MaxSegments = 1000
	// SegmentBytes is the least data worth a segment of its own: one Scan
	// page (DynamoDB reads at most 1 MB per call). A table of known size
	// gets at most one segment per SegmentBytes, and never fewer than
	// MaxParallelSegments.
	SegmentBytes = 1 << 20
	// SegmentItems stands for SegmentBytes when the source reports an item
	// count but no size.
	SegmentItems = 1000
	// UnknownSizeSegments is the most segments of a table whose source
	// reports neither size nor item count (dynalite reports 0 for both).
	UnknownSizeSegments = 64
)

// EffectiveSegments returns the TotalSegments a backup scans when asked
// for asked (0: automatic, see AutoSegments) of a table of about sizeBytes
// and items (0: unknown), and when that is fewer than asked, why.
func EffectiveSegments(asked int, sizeBytes, items int64) (int, string) {
	if asked <= 0 {
		return AutoSegments(sizeBytes), ""
	}
	limit, why := MaxSegments, fmt.Sprintf("cairn scans at most %d", MaxSegments)
	switch {
	case sizeBytes > 0:
		if n := (sizeBytes + SegmentBytes - 1) / SegmentBytes; n < int64(limit) {
			limit = max(int(n), MaxParallelSegments)
			why = fmt.Sprintf("the table holds about %s, and a segment is worth at least %s (one Scan page) and %d segments are scanned at once",
				sizeText(sizeBytes), sizeText(SegmentBytes), MaxParallelSegments)
		}
	case items > 0:
		if n := (items + SegmentItems - 1) / SegmentItems; n < int64(limit) {
			limit = max(int(n), MaxParallelSegments)
			why = fmt.Sprintf("the table holds about %d items, and a segment is worth at least %d items and %d segments are scanned at once",
				items, SegmentItems, MaxParallelSegments)
		}
	default:
		limit = UnknownSizeSegments
		why = fmt.Sprintf("the source reports neither the table's size nor its item count, and cairn then scans at most %d", UnknownSizeSegments)
	}
	if asked <= limit {
		return asked, ""
	}
	return limit, why
}

// sizeText writes n bytes in KiB, MiB or GiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

// Backup scans every segment of in.Table in parallel (at most in.Parallel at
// once), checksums every item
// and writes it into the segment's sink. Each segment fetches its next page
// while the previous one is being written, so the scan never waits for the
// vault unless the vault is the slower side. On error every segment stops
// and the first error is returned; the caller aborts the recovery point.
func Backup(ctx context.Context, in BackupInput) (*BackupResult, error) {
	segs, _ := EffectiveSegments(in.Segments, in.TableSizeBytes, in.TableItemCount)
	total, err := ddbjson.NewChecksum(in.ChecksumAlgorithm)
	if err != nil {
		return nil, err
	}
	var c counters
	stop := reportEvery(ctx, in.ProgressInterval, in.Progress, func() Progress {
		return Progress{Items: c.items.Load(), Bytes: c.bytes.Load(), PartsDone: int(c.parts.Load()), PartsTotal: segs}
	})
	sums := make([]ddbjson.Checksum, segs)
	for i := range sums {
		sums[i] = total
	}
	parallel := in.Parallel
	if parallel <= 0 {
		parallel = MaxParallelSegments
	}
	next := make(chan int, segs)
	for seg := range segs {
		next <- seg
	}
	close(next)
	issues := &issueList{}
	g, gctx := newGroup(ctx)
	for range min(parallel, segs) {
		g.Go(func() error {
			for seg := range next {
				if err := gctx.Err(); err != nil {
					return err
				}
				if err := scanSegment(gctx, in, seg, segs, &sums[seg], &c, issues); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err = g.Wait()
	stop()
	if err != nil {
		return nil, err
	}
	for i := range sums {
		total.Merge(&sums[i])
	}
	return &BackupResult{Items: total.Count(), Bytes: c.bytes.Load(), Checksum: total.Sum(), Sum: total, Segments: segs,
		OutOfSpec: issues.n, OutOfSpecItems: issues.items}, nil
}

// keepOutOfSpec adds an item that sum.Add refused with why to sum under
// the lax rules, and names it in issues. It fails for an item that is not
// even a JSON object.
func keepOutOfSpec(in BackupInput, sum *ddbjson.Checksum, item []byte, why error, issues *issueList) error {
	if err := sum.AddOutOfSpec(item); err != nil {
		return why
	}
	issues.add(item, in.KeyAttributes, why)
	return nil
}

// pagesAhead is how many pages of a segment may wait, read but not yet
// written, while the segment's writer works on the page before them. Each
// segment has a fetcher that sends the segment's next Scan as soon as the
// page it read is queued, so the source serves the next page while the
// previous one is checksummed, compressed and written; a fetcher stops when
// the queue is full. So a segment holds at most pagesAhead+2 pages: the one
// being written, pagesAhead queued, and the one being read (or waiting for
// room in the queue). A Scan page is at most 1 MB of item data in
// DynamoDB's accounting (its JSON a little more); at MaxParallelSegments
// segments that bounds a backup's pages to about 16 × 3 × 1.3 MB. The
// writer of a page is faster than the source in every measured case
// (docs/benchmarks.md: the fetcher's gap between a response and the next
// request is under 1 % of a segment's time), so one page ahead suffices.
const pagesAhead = 1

func scanSegment(ctx context.Context, in BackupInput, seg, total int, sum *ddbjson.Checksum, c *counters, issues *issueList) (err error) {
	var sink ItemSink
	if in.NewSink != nil {
		sink = in.NewSink()
		defer func() {
			if cerr := sink.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("segment %d: close: %w", seg, cerr)
			}
		}()
	}
	pages := make(chan *dynamodb.ScanPage, pagesAhead)
	fetchErr := make(chan error, 1)
	go func() {
		defer close(pages)
		var key []byte
		for {
			p, err := in.Scanner.ScanPage(ctx, dynamodb.ScanInput{Table: in.Table, Segment: seg, TotalSegments: total, ExclusiveStartKey: key})
			if err != nil {
				fetchErr <- fmt.Errorf("scan segment %d of %d: %w", seg, total, err)
				return
			}
			if len(p.LastEvaluatedKey) > 0 {
				key = append(key[:0:0], p.LastEvaluatedKey...)
			} else {
				key = nil
			}
			select {
			case pages <- p:
			case <-ctx.Done():
				p.Release()
				fetchErr <- ctx.Err()
				return
			}
			if key == nil {
				fetchErr <- nil
				return
			}
		}
	}()
	drain := func() {
		for p := range pages {
			p.Release()
		}
	}
	for p := range pages {
		var n int64
		for _, item := range p.Items {
			if err := sum.Add(item); err != nil {
				if err = keepOutOfSpec(in, sum, item, err, issues); err != nil {
					p.Release()
					drain()
					<-fetchErr
					return fmt.Errorf("segment %d: invalid item from scan: %w", seg, err)
				}
			}
			if sink != nil {
				if err := sink.WriteItem(item); err != nil {
					p.Release()
					drain()
					<-fetchErr
					return fmt.Errorf("segment %d: write: %w", seg, err)
				}
			}
			n += int64(len(item))
		}
		c.items.Add(int64(len(p.Items)))
		c.bytes.Add(n)
		p.Release()
	}
	if err := <-fetchErr; err != nil {
		return err
	}
	c.parts.Add(1)
	return nil
}
