package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how the retry wrappers back off. The zero value means
// the defaults.
type RetryPolicy struct {
	// BaseDelay is the backoff before the first retry's jitter; each retry
	// doubles it. Default 50ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 10s.
	MaxDelay time.Duration
	// MaxAttempts bounds the calls made for one ScanPage or BatchWrite that
	// keeps failing with retryable errors, the first included. Default 10;
	// negative means no bound (MaxElapsed still applies). Rounds that only
	// return unprocessed items do not count: a BatchWrite that makes progress
	// goes on until MaxElapsed.
	MaxAttempts int
	// MaxElapsed bounds the time spent on one ScanPage or BatchWrite,
	// retries included. Default 10 minutes; negative means no bound.
	MaxElapsed time.Duration
	// OnRetry, when set, is called before each backoff with the number of
	// the retry (1 for the first), the delay and the error that caused it
	// (ErrUnprocessed for items the server did not process).
	OnRetry func(attempt int, delay time.Duration, err error)
	// Sleep waits for d or until ctx ends. Default: a timer. Tests inject
	// one that does not sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time for MaxElapsed. Default time.Now.
	Now func() time.Time
	// Jitter returns a number in [0,1) that scales each backoff (full
	// jitter). Default math/rand/v2.Float64.
	Jitter func() float64
	// RetryNotFound retries ResourceNotFoundException too, within the same
	// limits: DynamoDB may answer it for a while right after a table was
	// created, even once DescribeTable said ACTIVE (its endpoints learn of
	// a new table at different times). For restores into a new table.
	RetryNotFound bool
}

// Defaults of RetryPolicy.
const (
	DefaultBaseDelay   = 50 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
	DefaultMaxAttempts = 10
	DefaultMaxElapsed  = 10 * time.Minute
)

// ErrUnprocessed is what OnRetry is called with when BatchWriteItem left
// items unprocessed.
var ErrUnprocessed = errors.New("BatchWriteItem left items unprocessed")

// UnwrittenError is returned by the retrying writer when it gives up: Items
// of the batch were not written.
type UnwrittenError struct {
	Table    string
	Items    int // unwritten items
	Attempts int
	Err      error // the last error, or the context's, or ErrUnprocessed
}

func (e *UnwrittenError) Error() string {
	return fmt.Sprintf("batch write %s: %d items unwritten after %d attempts: %v", e.Table, e.Items, e.Attempts, e.Err)
}

func (e *UnwrittenError) Unwrap() error { return e.Err }

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	return p
}

// backoff returns the delay before retry n (1-based): a uniformly random
// share of min(MaxDelay, BaseDelay·2^(n-1)).
func (p RetryPolicy) backoff(n int) time.Duration {
	ceil := p.MaxDelay
	if n-1 < 30 {
		ceil = min(p.MaxDelay, p.BaseDelay<<(n-1))
	}
	return time.Duration(p.Jitter() * float64(ceil))
}

// retrier tracks one call's retries.
type retrier struct {
	p       RetryPolicy
	start   time.Time
	retries int // backoffs so far
	errors  int // consecutive calls that failed
}

func (p RetryPolicy) start() *retrier { return &retrier{p: p, start: p.Now()} }

// retryable reports whether a call that failed with err is sent again.
func (p RetryPolicy) retryable(err error) bool {
	return IsRetryable(err) || p.RetryNotFound && IsNotFound(err)
}

// wait backs off before the next call, or says why not to: the error limit,
// the elapsed limit or the context.
func (r *retrier) wait(ctx context.Context, cause error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if cause == ErrUnprocessed {
		r.errors = 0 // the call worked
	} else {
		r.errors++
		if r.p.MaxAttempts > 0 && r.errors >= r.p.MaxAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", r.errors, cause)
		}
	}
	r.retries++
	d := r.p.backoff(r.retries)
	if r.p.MaxElapsed > 0 && r.p.Now().Add(d).Sub(r.start) > r.p.MaxElapsed {
		return fmt.Errorf("gave up after %v: %w", r.p.MaxElapsed, cause)
	}
	if r.p.OnRetry != nil {
		r.p.OnRetry(r.retries, d, cause)
	}
	return r.p.Sleep(ctx, d)
}

type retryScanner struct {
	s Scanner
	p RetryPolicy
}

// NewRetryScanner returns a Scanner that sends a ScanPage again, after an
// exponential backoff with full jitter, while it fails with IsRetryable
// errors (and IsNotFound ones with RetryNotFound), within the policy's
// limits.
func NewRetryScanner(s Scanner, p RetryPolicy) Scanner {
	return &retryScanner{s: s, p: p.withDefaults()}
}

func (rs *retryScanner) ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error) {
	var r *retrier
	for {
		page, err := rs.s.ScanPage(ctx, in)
		if err == nil || !rs.p.retryable(err) {
			return page, err
		}
		if r == nil {
			r = rs.p.start()
		}
		if werr := r.wait(ctx, err); werr != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
			}
			return nil, werr
		}
	}
}

type retryWriter struct {
	w Writer
	p RetryPolicy
}

// NewRetryWriter returns a Writer that sends a BatchWrite again while it
// fails with IsRetryable errors (and IsNotFound ones with RetryNotFound),
// and sends the unprocessed items again until
// every item is written, backing off exponentially with full jitter between
// rounds. It never returns unprocessed items with a nil error: when it gives
// up (on the context, MaxElapsed, or MaxAttempts consecutive errors) it
// returns the unwritten items with an *UnwrittenError.
func NewRetryWriter(w Writer, p RetryPolicy) Writer {
	return &retryWriter{w: w, p: p.withDefaults()}
}

func (rw *retryWriter) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	pending := items
	var consumed float64
	var r *retrier
	calls := 0
	for {
		calls++
		unprocessed, cu, err := rw.w.BatchWrite(ctx, table, pending)
		consumed += cu
		var cause error
		switch {
		case err == nil && len(unprocessed) == 0:
			return nil, consumed, nil
		case err == nil:
			pending, cause = unprocessed, ErrUnprocessed
		case rw.p.retryable(err):
			cause = err
		default:
			return pending, consumed, &UnwrittenError{Table: table, Items: len(pending), Attempts: calls, Err: err}
		}
		if r == nil {
			r = rw.p.start()
		}
		if werr := r.wait(ctx, cause); werr != nil {
			return pending, consumed, &UnwrittenError{Table: table, Items: len(pending), Attempts: calls, Err: werr}
		}
	}
}
