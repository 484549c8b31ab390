package dynamodb

import (
	"context"
	"sync"
	"time"
)

// LimiterOptions tune a Limiter. The zero value is the default.
type LimiterOptions struct {
	// Burst caps the units that accumulate while the limiter is idle.
	// Default: one second's worth.
	Burst float64
	// Now tells the time. Default time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx ends. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Limiter is a token bucket of capacity units that is debited after the
// fact: a call waits until the bucket is not in debt, runs, and then pays
// what it actually consumed, which DynamoDB only says afterwards. Calls that
// start together may overdraw the bucket by one page each; the debt is then
// repaid before the next call starts, so the long-run rate holds. It is safe
// for concurrent use; share one Limiter between all segments of a table.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // units per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// NewLimiter returns a Limiter allowing unitsPerSecond. It starts empty.
func NewLimiter(unitsPerSecond float64, o LimiterOptions) *Limiter {
	l := &Limiter{rate: unitsPerSecond, burst: o.Burst, now: o.Now, sleep: o.Sleep}
	if l.burst <= 0 {
		l.burst = unitsPerSecond
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.sleep == nil {
		l.sleep = sleepCtx
	}
	l.last = l.now()
	return l
}

func (l *Limiter) refill() {
	now := l.now()
	if el := now.Sub(l.last); el > 0 {
		l.tokens = min(l.burst, l.tokens+el.Seconds()*l.rate)
	}
	l.last = now
}

// Wait blocks until the bucket is not in debt, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		l.refill()
		debt := -l.tokens
		l.mu.Unlock()
		if debt <= 0 {
			return ctx.Err()
		}
		d := time.Duration(debt / l.rate * float64(time.Second))
		if err := l.sleep(ctx, max(d, time.Millisecond)); err != nil {
			return err
		}
	}
}

// Debit takes units from the bucket, going into debt if need be.
func (l *Limiter) Debit(units float64) {
	l.mu.Lock()
	l.refill()
	l.tokens -= units
	l.mu.Unlock()
}

// Consistent reads cost one read unit per 4 KB, eventually consistent ones
// (a backup's Scan) half that; a write costs one write unit per 1 KB.
const (
	readUnitBytes  = 4 << 10
	writeUnitBytes = 1 << 10
)

// EstimateReadUnits estimates an eventually consistent Scan page's read
// units from its response size, for servers that report no
// ConsumedCapacity: 0.5 per started 4 KB. The JSON of a response is larger
// than DynamoDB's accounting of item size, so this errs on the cautious side.
func EstimateReadUnits(bytes int) float64 {
	return float64((bytes+readUnitBytes-1)/readUnitBytes) * 0.5
}

// EstimateWriteUnits estimates the write units of putting items: one per
// started 1 KB of each item's JSON.
func EstimateWriteUnits(items [][]byte) float64 {
	var u int
	for _, it := range items {
		u += max(1, (len(it)+writeUnitBytes-1)/writeUnitBytes)
	}
	return float64(u)
}

type limitedScanner struct {
	s Scanner
	l *Limiter
}

// NewRateLimitedScanner returns a Scanner that keeps the read capacity its
// pages consume under readUnitsPerSecond, all callers together. Each page is
// paid with its ConsumedCapacity, or EstimateReadUnits(page.Bytes) when the
// server reports none. A rate of 0 or less returns s unchanged.
func NewRateLimitedScanner(s Scanner, readUnitsPerSecond float64) Scanner {
	if readUnitsPerSecond <= 0 {
		return s
	}
	return NewLimitedScanner(s, NewLimiter(readUnitsPerSecond, LimiterOptions{}))
}

// NewLimitedScanner is NewRateLimitedScanner with a Limiter of one's own
// (shared with other scanners, or on a fake clock).
func NewLimitedScanner(s Scanner, l *Limiter) Scanner { return &limitedScanner{s: s, l: l} }

func (ls *limitedScanner) ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error) {
	if err := ls.l.Wait(ctx); err != nil {
		return nil, err
	}
	p, err := ls.s.ScanPage(ctx, in)
	if err != nil {
		return nil, err
	}
	cu := p.ConsumedCapacity
	if cu <= 0 {
		cu = EstimateReadUnits(p.Bytes)
	}
	ls.l.Debit(cu)
	return p, nil
}

type limitedWriter struct {
	w Writer
	l *Limiter
}

// NewRateLimitedWriter returns a Writer that keeps the write capacity its
// batches consume under writeUnitsPerSecond, all callers together. Each
// batch is paid with its consumed capacity, or EstimateWriteUnits of the
// items written when the server reports none. A rate of 0 or less returns w
// unchanged.
func NewRateLimitedWriter(w Writer, writeUnitsPerSecond float64) Writer {
	if writeUnitsPerSecond <= 0 {
		return w
	}
	return NewLimitedWriter(w, NewLimiter(writeUnitsPerSecond, LimiterOptions{}))
}

// NewLimitedWriter is NewRateLimitedWriter with a Limiter of one's own.
func NewLimitedWriter(w Writer, l *Limiter) Writer { return &limitedWriter{w: w, l: l} }

func (lw *limitedWriter) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	if err := lw.l.Wait(ctx); err != nil {
		return nil, 0, err
	}
	unprocessed, cu, err := lw.w.BatchWrite(ctx, table, items)
	if err == nil && cu <= 0 {
		cu = EstimateWriteUnits(items) - EstimateWriteUnits(unprocessed)
	}
	lw.l.Debit(cu)
	return unprocessed, cu, err
}
