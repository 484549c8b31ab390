package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
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

	// Checkpoint, if set, is called with a segment's state each time the
	// segment's sink has made everything written so far durable (see
	// SyncSink, which the sinks must implement): after the page that takes
	// the segment past CheckpointItems items or CheckpointInterval since its
	// last checkpoint, and once at its end (Done). Calls for different
	// segments may come concurrently. An error fails the backup.
	Checkpoint func(SegmentState) error
	// CheckpointItems and CheckpointInterval bound the work of a segment
	// between two checkpoints; 0 is DefaultCheckpointItems and
	// DefaultCheckpointInterval.
	CheckpointItems    int64
	CheckpointInterval time.Duration
	// Resume holds the checkpoints an earlier attempt at this backup left
	// (the last of each segment that made one): finished segments are not
	// scanned again, the others scan on from their key, and the result
	// counts what the checkpoints hold. The sinks must already hold their
	// files (vault.Vault.Resume). Every state must be of the same
	// TotalSegments, which the scan then uses whatever Segments says.
	Resume []SegmentState
}

// Defaults of BackupInput.CheckpointItems and CheckpointInterval. A
// checkpoint ends the segment's current data file and waits for its
// upload, so it costs a file and a catalog write: a few a minute per
// segment cost next to nothing, and a resume rescans at most about this
// much of each segment (docs/benchmarks.md).
const (
	DefaultCheckpointItems    = 50000
	DefaultCheckpointInterval = 30 * time.Second
)

// SyncSink is an ItemSink that can make what it was given durable before
// it is closed, for checkpoints. Cut ends the data file being written (the
// sink goes on in a new one) and returns wait, which blocks until every
// file ended by this Cut is durable and returns a record (opaque to the
// engine, JSON) of each. wait may be called from another goroutine, while
// the sink goes on writing; the engine calls the waits of a sink in the
// order of its Cuts, and all of them before the sink's Close returns to
// its caller.
type SyncSink interface {
	ItemSink
	Cut() (wait func() ([]json.RawMessage, error), err error)
}

// SegmentState is a checkpoint of one scan segment: what of it is durable
// in the sink, and where the scan goes on from. It is stored as JSON.
type SegmentState struct {
	Segment  int `json:"segment"`
	Segments int `json:"segments"` // the scan's TotalSegments
	// Key is the ExclusiveStartKey the segment scans on from (raw DynamoDB
	// JSON); empty once Done.
	Key  json.RawMessage `json:"key,omitempty"`
	Done bool            `json:"done,omitempty"`
	// Items and Bytes count the items in Files and their JSON's size;
	// Checksum is their content checksum's Sum (its partial state, with
	// Items as its count: ddbjson.ChecksumOf); OutOfSpec counts those of
	// them DynamoDB's rules refuse.
	Items     int64  `json:"items"`
	Bytes     int64  `json:"bytes"`
	Checksum  string `json:"checksum"`
	OutOfSpec int64  `json:"outOfSpec,omitempty"`
	// Files are the sink's records of the segment's committed data files.
	Files []json.RawMessage `json:"files"`
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
	// Resumed counts the items the checkpoints of BackupInput.Resume held;
	// Items - Resumed were scanned by this run.
	Resumed int64
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
	if in.Checkpoint != nil && in.NewSink == nil {
		return nil, errors.New("engine: a backup with checkpoints needs sinks")
	}
	if len(in.Resume) > 0 {
		segs = in.Resume[0].Segments
	}
	states := make([]*SegmentState, segs)
	sums := make([]ddbjson.Checksum, segs)
	for i := range sums {
		sums[i] = total
	}
	var c counters
	var resumed, resumedOutOfSpec int64
	for i := range in.Resume {
		st := in.Resume[i]
		if st.Segments != segs || st.Segment < 0 || st.Segment >= segs || states[st.Segment] != nil {
			return nil, fmt.Errorf("engine: checkpoint of segment %d of %d does not fit a scan of %d segments (or repeats one)", st.Segment, st.Segments, segs)
		}
		if !st.Done && len(st.Key) == 0 {
			return nil, fmt.Errorf("engine: checkpoint of segment %d has neither a key nor Done", st.Segment)
		}
		sum, err := ddbjson.ChecksumOf(st.Checksum, st.Items)
		if err != nil {
			return nil, fmt.Errorf("engine: checkpoint of segment %d: %w", st.Segment, err)
		}
		if sum.Algorithm() != total.Algorithm() {
			return nil, fmt.Errorf("engine: checkpoint of segment %d has a %s checksum, the backup makes %s", st.Segment, sum.Algorithm(), total.Algorithm())
		}
		sums[st.Segment] = sum
		states[st.Segment] = &st
		resumed += st.Items
		resumedOutOfSpec += st.OutOfSpec
		c.items.Add(st.Items)
		c.bytes.Add(st.Bytes)
		if st.Done {
			c.parts.Add(1)
		}
	}
	stop := reportEvery(ctx, in.ProgressInterval, in.Progress, func() Progress {
		return Progress{Items: c.items.Load(), Bytes: c.bytes.Load(), PartsDone: int(c.parts.Load()), PartsTotal: segs}
	})
	parallel := in.Parallel
	if parallel <= 0 {
		parallel = MaxParallelSegments
	}
	next := make(chan int, segs)
	for seg := range segs {
		if states[seg] == nil || !states[seg].Done {
			next <- seg
		}
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
				if err := scanSegment(gctx, in, seg, segs, states[seg], &sums[seg], &c, issues); err != nil {
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
		Resumed: resumed, OutOfSpec: issues.n + resumedOutOfSpec, OutOfSpecItems: issues.items}, nil
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

func scanSegment(ctx context.Context, in BackupInput, seg, total int, resume *SegmentState, sum *ddbjson.Checksum, c *counters, issues *issueList) (err error) {
	var sink ItemSink
	if in.NewSink != nil {
		sink = in.NewSink()
		defer func() {
			if cerr := sink.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("segment %d: close: %w", seg, cerr)
			}
		}()
	}
	cp, err := newCheckpointer(in, sink, seg, total, resume)
	if err != nil {
		return err
	}
	if cp != nil {
		defer cp.stop()
	}
	pages := make(chan *dynamodb.ScanPage, pagesAhead)
	fetchErr := make(chan error, 1)
	go func() {
		defer close(pages)
		var key []byte
		if resume != nil {
			key = append([]byte(nil), resume.Key...)
		}
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
				if cp != nil {
					cp.outOfSpec++
				}
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
		if cp != nil {
			cp.add(int64(len(p.Items)), n)
			if err := cp.failed(); err != nil || len(p.LastEvaluatedKey) > 0 && cp.due() {
				if err == nil {
					err = cp.cut(ctx, p.LastEvaluatedKey, sum)
				}
				if err != nil {
					p.Release()
					drain()
					<-fetchErr
					return err
				}
			}
		}
		p.Release()
	}
	if err := <-fetchErr; err != nil {
		return err
	}
	if cp != nil {
		if err := cp.cut(ctx, nil, sum); err != nil {
			return err
		}
		if err := cp.stop(); err != nil {
			return err
		}
	}
	c.parts.Add(1)
	return nil
}

// checkpointer keeps one segment's state and checkpoints it when due. The
// scan only cuts the segment's data file and notes where it is (cut); a
// saver goroutine waits until the files are durable and then saves the
// checkpoint, so the scan does not stall on the store's sync.
type checkpointer struct {
	in   BackupInput
	sink SyncSink
	// The scan's side: the running state, items since the last cut and
	// when that was.
	state SegmentState
	since int64
	last  time.Time
	every int64
	each  time.Duration
	// outOfSpec counts the segment's items out of DynamoDB's rules.
	outOfSpec int64

	queue   chan pendingCheckpoint
	done    chan struct{}
	stopped bool
	err     atomic.Pointer[error] // the saver's first error
}

// pendingCheckpoint is a cut whose files may still be uploading.
type pendingCheckpoint struct {
	wait  func() ([]json.RawMessage, error)
	state SegmentState // without Files
}

// checkpointsAhead is how many cuts of a segment may be queued behind the
// one the saver works on. With none, at most one cut is unsaved while the
// scan goes on: a segment killed mid-way has scanned at most about one
// interval, and what it scanned while its last cut's files were synced,
// beyond its last saved checkpoint (two intervals if the store took an
// interval's time to sync a file); a sync takes far less than an interval
// (docs/benchmarks.md), so the scan seldom waits.
const checkpointsAhead = 0

// newCheckpointer returns nil when the backup makes no checkpoints.
func newCheckpointer(in BackupInput, sink ItemSink, seg, total int, resume *SegmentState) (*checkpointer, error) {
	if in.Checkpoint == nil {
		return nil, nil
	}
	ss, ok := sink.(SyncSink)
	if !ok {
		return nil, fmt.Errorf("engine: segment %d: a backup with checkpoints needs sinks that Cut, not %T", seg, sink)
	}
	cp := &checkpointer{in: in, sink: ss, last: time.Now(), every: in.CheckpointItems, each: in.CheckpointInterval,
		state: SegmentState{Segment: seg, Segments: total},
		queue: make(chan pendingCheckpoint, checkpointsAhead), done: make(chan struct{})}
	if cp.every <= 0 {
		cp.every = DefaultCheckpointItems
	}
	if cp.each <= 0 {
		cp.each = DefaultCheckpointInterval
	}
	var files []json.RawMessage
	if resume != nil {
		cp.state = *resume
		cp.state.Files = nil
		files = append(files, resume.Files...)
		cp.outOfSpec = resume.OutOfSpec
	}
	go cp.save(files)
	return cp, nil
}

// save is the saver: for each cut in turn it waits for the files and
// saves the checkpoint. After an error it only waits for the uploads of the
// cuts queued, so that none outlives the backup.
func (cp *checkpointer) save(files []json.RawMessage) {
	defer close(cp.done)
	for p := range cp.queue {
		if cp.err.Load() != nil {
			_, _ = p.wait()
			continue
		}
		got, err := p.wait()
		if err == nil {
			files = append(files, got...)
			st := p.state
			st.Files = files
			err = cp.in.Checkpoint(st)
		}
		if err != nil {
			err = fmt.Errorf("segment %d: checkpoint: %w", p.state.Segment, err)
			cp.err.CompareAndSwap(nil, &err)
		}
	}
}

func (cp *checkpointer) failed() error {
	if e := cp.err.Load(); e != nil {
		return *e
	}
	return nil
}

func (cp *checkpointer) add(items, bytes int64) {
	cp.since += items
	cp.state.Items += items
	cp.state.Bytes += bytes
}

func (cp *checkpointer) due() bool {
	return cp.since >= cp.every || time.Since(cp.last) >= cp.each
}

// cut ends the segment's data file and queues its checkpoint: scanning on
// from key, or done if key is nil.
func (cp *checkpointer) cut(ctx context.Context, key []byte, sum *ddbjson.Checksum) error {
	wait, err := cp.sink.Cut()
	if err != nil {
		return fmt.Errorf("segment %d: checkpoint: %w", cp.state.Segment, err)
	}
	st := cp.state
	st.Key = append(json.RawMessage(nil), key...)
	st.Done = key == nil
	st.Checksum = sum.Sum()
	st.OutOfSpec = cp.outOfSpec
	select {
	case cp.queue <- pendingCheckpoint{wait: wait, state: st}:
	case <-ctx.Done():
		// No checkpoint names these files; wait for their uploads to end
		// all the same, so that none outlives the backup.
		_, _ = wait()
		return ctx.Err()
	}
	cp.since, cp.last = 0, time.Now()
	return cp.failed()
}

// stop ends the saver once it has saved every queued checkpoint, and
// returns its first error. It is idempotent.
func (cp *checkpointer) stop() error {
	if !cp.stopped {
		cp.stopped = true
		close(cp.queue)
		<-cp.done
	}
	return cp.failed()
}
