// Package engine moves items: a backup streams every item of a table from a
// parallel Scan into a recovery point, and a restore streams a recovery
// point's items into a table with parallel BatchWriteItem calls. It holds no
// more than a few pages per segment and a few batches per writer in memory,
// whatever the size of the table.
//
// The engine sees DynamoDB only through the dynamodb.Scanner and
// dynamodb.Writer interfaces (already wrapped with retries and rate limits by
// the caller) and the vault only through ItemSink and ItemIterator, so it can
// be benchmarked on in-memory sources and sinks.
package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is a snapshot of a running backup or restore.
type Progress struct {
	Items      int64 // items scanned (backup) or written (restore)
	Bytes      int64 // bytes of item JSON moved
	Stored     int64 // bytes stored in the vault (backup), if known
	PartsDone  int   // segments (backup) or files (restore) finished
	PartsTotal int
}

// counters are updated by workers and read by the progress reporter.
type counters struct {
	items, bytes, parts atomic.Int64
}

// reportEvery calls fn with a snapshot every interval until ctx ends or stop
// is called. The returned stop waits for the reporter to finish and makes one
// last call.
func reportEvery(ctx context.Context, interval time.Duration, fn func(Progress), snap func() Progress) (stop func()) {
	if fn == nil {
		return func() {}
	}
	if interval <= 0 {
		interval = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				fn(snap())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			fn(snap())
		})
	}
}

// group runs functions in goroutines, cancels the shared context on the
// first error and returns that error from Wait.
type group struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

func (g *group) Go(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}
