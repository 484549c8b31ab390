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
	writers := in.Writers
	if writers <= 0 {
		writers = 8
	}
	readers := in.Readers
	if readers <= 0 {
		readers = 4
	}
	readers = max(1, min(readers, len(in.Files)))
	var c counters
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
				if err := readFile(gctx, in.Files[i], &pool, batches); err != nil {
					return fmt.Errorf("data file %d: %w", i, err)
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
					written, n, err = writeOneByOne(gctx, in, b.items, refused)
				}
				if err != nil {
					return fmt.Errorf("batch write to %s: %w", in.Table, err)
				}
				c.items.Add(written)
				c.bytes.Add(n)
				b.reset()
				pool.Put(b)
			}
			return nil
		})
	}
	err = g.Wait()
	stop()
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
func writeOneByOne(ctx context.Context, in RestoreInput, items [][]byte, refused *refusedItems) (int64, int64, error) {
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
		default:
			return written, bytes, err
		}
	}
	return written, bytes, nil
}

func readFile(ctx context.Context, open func(context.Context) (ItemIterator, error), pool *sync.Pool, out chan<- *batch) error {
	it, err := open(ctx)
	if err != nil {
		return err
	}
	defer it.Close()
	b := pool.Get().(*batch)
	send := func() error {
		select {
		case out <- b:
			b = pool.Get().(*batch)
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
			return err
		}
		if len(b.items) > 0 && len(b.buf)+len(item) > maxBatchBytes {
			if err := send(); err != nil {
				return err
			}
		}
		b.add(item)
		if len(b.items) == maxBatchItems {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(b.items) > 0 {
		return send()
	}
	return nil
}
