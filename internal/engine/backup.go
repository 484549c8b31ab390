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
	// Segments is the parallel scan's TotalSegments; 0 chooses with
	// AutoSegments from TableSizeBytes.
	Segments       int
	TableSizeBytes int64
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
	Segments int
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

// Backup scans every segment of in.Table in parallel (at most in.Parallel at
// once), checksums every item
// and writes it into the segment's sink. Each segment fetches its next page
// while the previous one is being written, so the scan never waits for the
// vault unless the vault is the slower side. On error every segment stops
// and the first error is returned; the caller aborts the recovery point.
func Backup(ctx context.Context, in BackupInput) (*BackupResult, error) {
	segs := in.Segments
	if segs <= 0 {
		segs = AutoSegments(in.TableSizeBytes)
	}
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
	g, gctx := newGroup(ctx)
	for range min(parallel, segs) {
		g.Go(func() error {
			for seg := range next {
				if err := gctx.Err(); err != nil {
					return err
				}
				if err := scanSegment(gctx, in, seg, segs, &sums[seg], &c); err != nil {
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
	return &BackupResult{Items: total.Count(), Bytes: c.bytes.Load(), Checksum: total.Sum(), Segments: segs}, nil
}

func scanSegment(ctx context.Context, in BackupInput, seg, total int, sum *ddbjson.Checksum, c *counters) (err error) {
	var sink ItemSink
	if in.NewSink != nil {
		sink = in.NewSink()
		defer func() {
			if cerr := sink.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("segment %d: close: %w", seg, cerr)
			}
		}()
	}
	pages := make(chan *dynamodb.ScanPage, 1)
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
				p.Release()
				drain()
				<-fetchErr
				return fmt.Errorf("segment %d: invalid item from scan: %w", seg, err)
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
