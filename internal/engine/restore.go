package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// ItemIterator yields the items of one data file. The slice Next returns is
// valid until the next call; Next returns io.EOF at the end, after checking
// the file's checksum and item count.
type ItemIterator interface {
	Next() ([]byte, error)
	Close() error
}

// RestoreInput describes one restore.
type RestoreInput struct {
	Table  string
	Writer dynamodb.Writer
	// Files opens each data file of the recovery point.
	Files []func(ctx context.Context) (ItemIterator, error)
	// Writers is the number of parallel BatchWriteItem callers; 0 means 8.
	Writers int
	// Readers is the number of files read at once; 0 means min(4, files).
	Readers          int
	Progress         func(Progress)
	ProgressInterval time.Duration
	// KeyAttributes are the names of the table's key attributes: items the
	// target refuses are named by them.
	KeyAttributes []string
	// ChecksumAlgorithm is the recovery point's content checksum algorithm
	// ("" is ddbjson.ChecksumAlgorithm): the items the target refuses are
	// summed with it, so that a check of the restored table can account
	// for them.
	ChecksumAlgorithm string
	// FileDone, if set, is called once every item of a file is written
	// (or refused by the target), with what the file gave: a restore's
	// checkpoint. Calls may come concurrently. An error fails the restore.
	FileDone func(FileResult) error
	// Done holds the files an earlier attempt at this restore wrote fully
	// (what FileDone reported): they are not read again, and the result
	// counts them. Writing a file again is harmless (the same keys get the
	// same items), so the files an attempt had not finished are written
	// whole.
	Done []FileResult
}

// FileResult is what one data file gave a restore.
type FileResult struct {
	File    int   `json:"file"` // index in RestoreInput.Files
	Items   int64 `json:"items"`
	Bytes   int64 `json:"bytes"`
	Refused int64 `json:"refused,omitempty"`
	// RefusedSum is the content checksum's Sum of the refused items
	// (ddbjson.ChecksumOf with Refused as the count).
	RefusedSum string `json:"refusedSum,omitempty"`
}

// fileTracker tells when every batch of a file is written.
type fileTracker struct {
	mu       sync.Mutex
	pending  int  // batches sent, not yet written
	read     bool // the reader sent the file's last batch
	res      FileResult
	refused  ddbjson.Checksum
	reported bool
}

// batchDone records a written batch; it returns the file's result once
// the file is complete.
func (f *fileTracker) update(items, bytes int64, sent, written int, read bool) (FileResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending += sent - written
	f.res.Items += items
	f.res.Bytes += bytes
	f.read = f.read || read
	if f.read && f.pending == 0 && !f.reported {
		f.reported = true
		r := f.res
		if r.Refused > 0 {
			r.RefusedSum = f.refused.Sum()
		}
		return r, true
	}
	return FileResult{}, false
}

// RestoreResult is what a finished restore wrote.
type RestoreResult struct {
	Items int64
	Bytes int64
	// Refused counts the items the target refused as invalid (see
	// dynamodb.IsItemRefused); RefusedItems names the first MaxNamedItems
	// of them and RefusedSum is their checksum. Every other item was
	// written.
	Refused      int64
	RefusedItems []ItemIssue
	RefusedSum   ddbjson.Checksum
}

const (
	maxBatchItems = 25      // BatchWriteItem's limit
	maxBatchBytes = 4 << 20 // well under BatchWriteItem's 16 MB request limit
)

type batch struct {
	buf   []byte
	items [][]byte
	file  int
}

func (b *batch) reset() { b.buf, b.items = b.buf[:0], b.items[:0] }

// add copies item into the batch. Slices into buf are fixed up when buf
// grows, so items stays valid.
func (b *batch) add(item []byte) {
	if cap(b.buf)-len(b.buf) < len(item) {
		nb := make([]byte, len(b.buf), max(2*cap(b.buf), len(b.buf)+len(item), 64<<10))
		copy(nb, b.buf)
		off := 0
		for i, it := range b.items {
			b.items[i] = nb[off : off+len(it)]
			off += len(it)
		}
		b.buf = nb
	}
	start := len(b.buf)
	b.buf = append(b.buf, item...)
	b.items = append(b.items, b.buf[start:len(b.buf)])
}

// Restore writes every item of every file into in.Table. Readers turn files
// into batches of up to 25 items; writers send them with BatchWriteItem. The
// Writer is expected to retry throttling and UnprocessedItems until every item
// is written; an error from it fails the restore, except one that says the
// target refuses an item as invalid (DynamoDB refuses the whole batch with a
// ValidationException when one of its items breaks its rules): the items of
// that batch are then sent one by one, and those the target refuses are
// counted and named in the result instead of being written.
func Restore(ctx context.Context, in RestoreInput) (*RestoreResult, error) {
	refusedSum, err := ddbjson.NewChecksum(in.ChecksumAlgorithm)
	if err != nil {
		return nil, err
	}
	refused := &refusedItems{sum: refusedSum}
	tracks := make([]*fileTracker, len(in.Files))
	skip := make(map[int]bool, len(in.Done))
	var c counters
	for _, d := range in.Done {
		if d.File < 0 || d.File >= len(in.Files) || skip[d.File] {
			return nil, fmt.Errorf("engine: checkpoint of data file %d does not fit a restore of %d files (or repeats one)", d.File, len(in.Files))
		}
		skip[d.File] = true
		if d.Refused > 0 {
			sum, err := ddbjson.ChecksumOf(d.RefusedSum, d.Refused)
			if err == nil && sum.Algorithm() != refused.sum.Algorithm() {
				err = fmt.Errorf("a %s checksum, the point's is %s", sum.Algorithm(), refused.sum.Algorithm())
			}
			if err != nil {
				return nil, fmt.Errorf("engine: checkpoint of data file %d: %w", d.File, err)
			}
			refused.sum.Merge(&sum)
			refused.n += d.Refused
		}
		c.items.Add(d.Items)
		c.bytes.Add(d.Bytes)
		c.parts.Add(1)
	}
	for i := range tracks {
		tracks[i] = &fileTracker{res: FileResult{File: i}, refused: refusedSum}
	}
	fileDone := func(i int, items, bytes int64, sent, written int, read bool) error {
		if in.FileDone == nil {
			return nil
		}
		if r, ok := tracks[i].update(items, bytes, sent, written, read); ok {
			return in.FileDone(r)
		}
		return nil
	}
	writers := in.Writers
	if writers <= 0 {
		writers = 8
	}
	readers := in.Readers
	if readers <= 0 {
		readers = 4
	}
	readers = max(1, min(readers, len(in.Files)))
	stop := reportEvery(ctx, in.ProgressInterval, in.Progress, func() Progress {
		return Progress{Items: c.items.Load(), Bytes: c.bytes.Load(), PartsDone: int(c.parts.Load()), PartsTotal: len(in.Files)}
	})
	pool := sync.Pool{New: func() any { return &batch{} }}
	batches := make(chan *batch, writers)
	files := make(chan int)

	g, gctx := newGroup(ctx)
	var readersWG sync.WaitGroup
	g.Go(func() error {
		defer close(files)
		for i := range in.Files {
			if skip[i] {
				continue
			}
			select {
			case files <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for range readers {
		readersWG.Add(1)
		g.Go(func() error {
			defer readersWG.Done()
			for i := range files {
				sent, err := readFile(gctx, i, in.Files[i], &pool, batches)
				if err != nil {
					return fmt.Errorf("data file %d: %w", i, err)
				}
				if err := fileDone(i, 0, 0, sent, 0, true); err != nil {
					return fmt.Errorf("data file %d: checkpoint: %w", i, err)
				}
				c.parts.Add(1)
			}
			return nil
		})
	}
	go func() { readersWG.Wait(); close(batches) }()
	for range writers {
		g.Go(func() error {
			for b := range batches {
				if gctx.Err() != nil {
					continue // drain so readers can finish
				}
				var n int64
				for _, it := range b.items {
					n += int64(len(it))
				}
				written := int64(len(b.items))
				unprocessed, _, err := in.Writer.BatchWrite(gctx, in.Table, b.items)
				if err == nil && len(unprocessed) > 0 {
					err = fmt.Errorf("%d items were left unprocessed", len(unprocessed))
				}
				if dynamodb.IsItemRefused(err) {
					written, n, err = writeOneByOne(gctx, in, b.items, refused, tracks[b.file])
				}
				if err != nil {
					return fmt.Errorf("batch write to %s: %w", in.Table, err)
				}
				c.items.Add(written)
				c.bytes.Add(n)
				if err := fileDone(b.file, written, n, 0, 1, false); err != nil {
					return fmt.Errorf("data file %d: checkpoint: %w", b.file, err)
				}
				b.reset()
				pool.Put(b)
			}
			return nil
		})
	}
	err = g.Wait()
	stop()
	if err == nil {
		// Writers drop the batches left when ctx ends: a cancelled
		// restore is never complete.
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return &RestoreResult{Items: c.items.Load(), Bytes: c.bytes.Load(),
		Refused: refused.n, RefusedItems: refused.items, RefusedSum: refused.sum}, nil
}

// refusedItems collects the items a target refused and their checksum.
type refusedItems struct {
	issueList
	sum ddbjson.Checksum
}

func (r *refusedItems) add(item []byte, keyAttrs []string, why error) {
	r.issueList.add(item, keyAttrs, why)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sum.Add(item) != nil {
		_ = r.sum.AddOutOfSpec(item) // not even JSON: the check of the table will not add up, and says so
	}
}

// writeOneByOne writes the items of a batch the target refused one at a
// time, and records those it refuses on their own. It returns the count
// and bytes of the items written.
func writeOneByOne(ctx context.Context, in RestoreInput, items [][]byte, refused *refusedItems, file *fileTracker) (int64, int64, error) {
	var written, bytes int64
	for _, it := range items {
		unprocessed, _, err := in.Writer.BatchWrite(ctx, in.Table, [][]byte{it})
		if err == nil && len(unprocessed) > 0 {
			err = errors.New("1 item was left unprocessed")
		}
		switch {
		case err == nil:
			written++
			bytes += int64(len(it))
		case dynamodb.IsItemRefused(err):
			refused.add(it, in.KeyAttributes, err)
			file.mu.Lock()
			file.res.Refused++
			if file.refused.Add(it) != nil {
				_ = file.refused.AddOutOfSpec(it)
			}
			file.mu.Unlock()
		default:
			return written, bytes, err
		}
	}
	return written, bytes, nil
}

// readFile sends file i's items in batches; it returns how many batches
// it sent.
func readFile(ctx context.Context, i int, open func(context.Context) (ItemIterator, error), pool *sync.Pool, out chan<- *batch) (int, error) {
	it, err := open(ctx)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	sent := 0
	b := pool.Get().(*batch)
	b.file = i
	send := func() error {
		select {
		case out <- b:
			sent++
			b = pool.Get().(*batch)
			b.file = i
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		item, err := it.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sent, err
		}
		if len(b.items) > 0 && len(b.buf)+len(item) > maxBatchBytes {
			if err := send(); err != nil {
				return sent, err
			}
		}
		b.add(item)
		if len(b.items) == maxBatchItems {
			if err := send(); err != nil {
				return sent, err
			}
		}
	}
	if len(b.items) > 0 {
		return sent, send()
	}
	pool.Put(b)
	return sent, nil
}
