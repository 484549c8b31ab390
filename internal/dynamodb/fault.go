package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"syscall"

	"github.com/cairn-backup/cairn/internal/ddbjson"
)

// Faults says which failures a fault-injecting wrapper makes up. Calls are
// counted from 1; a call hit by several rules gets the first of: not found,
// throttle, server error, connection reset, unprocessed items, invalid item.
// Zero disables a rule.
type Faults struct {
	// ThrottleEvery fails every Nth call with a
	// ProvisionedThroughputExceededException (HTTP 400) without calling the
	// wrapped Scanner or Writer.
	ThrottleEvery int
	// ServerErrorEvery fails every Nth call with an InternalServerError
	// (HTTP 500) without calling through.
	ServerErrorEvery int
	// ResetEvery fails every Nth call with a connection reset.
	ResetEvery int
	// UnprocessedEvery makes every Nth BatchWrite write only part of its
	// items and return the rest, UnprocessedFraction of them (at least one;
	// default 0.5), as unprocessed. Scanners ignore it.
	UnprocessedEvery    int
	UnprocessedFraction float64
	// NotFoundFirst fails the first N calls with a
	// ResourceNotFoundException (HTTP 400), as DynamoDB may answer for a
	// table created moments ago, without calling through.
	NotFoundFirst int
	// RefuseInvalid makes a Writer refuse, as DynamoDB does, every batch
	// that holds an item DynamoDB's rules refuse (ddbjson.ValidateItem):
	// the whole batch fails with a ValidationException and nothing of it is
	// written. Lax servers (moto, dynalite) take many such items; this is
	// the strict target. Scanners ignore it.
	RefuseInvalid bool
}

// FaultStats counts what a fault-injecting wrapper did.
type FaultStats struct {
	Calls, Throttles, ServerErrors, Resets, UnprocessedCalls, UnprocessedItems, NotFound, Refused int
}

type faults struct {
	f     Faults
	mu    sync.Mutex
	stats FaultStats
}

func every(n, call int) bool { return n > 0 && call%n == 0 }

// next counts a call and returns the error to inject, if any, and whether
// to return unprocessed items.
func (fs *faults) next() (partial bool, err error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.stats.Calls++
	n := fs.stats.Calls
	switch {
	case n <= fs.f.NotFoundFirst:
		fs.stats.NotFound++
		return false, &APIError{Code: "ResourceNotFoundException", StatusCode: http.StatusBadRequest,
			Message: "injected: Requested resource not found"}
	case every(fs.f.ThrottleEvery, n):
		fs.stats.Throttles++
		return false, &APIError{Code: "ProvisionedThroughputExceededException", StatusCode: http.StatusBadRequest,
			Message: "injected: the level of configured provisioned throughput for the table was exceeded"}
	case every(fs.f.ServerErrorEvery, n):
		fs.stats.ServerErrors++
		return false, &APIError{Code: "InternalServerError", StatusCode: http.StatusInternalServerError, Message: "injected: internal server error"}
	case every(fs.f.ResetEvery, n):
		fs.stats.Resets++
		return false, fmt.Errorf("injected: read tcp: %w", syscall.ECONNRESET)
	case every(fs.f.UnprocessedEvery, n):
		fs.stats.UnprocessedCalls++
		return true, nil
	}
	return false, nil
}

func (fs *faults) Stats() FaultStats {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.stats
}

// FaultScanner is a Scanner that injects failures, for tests.
type FaultScanner struct {
	s Scanner
	faults
}

// NewFaultScanner wraps s with the failures of f.
func NewFaultScanner(s Scanner, f Faults) *FaultScanner {
	return &FaultScanner{s: s, faults: faults{f: f}}
}

// ScanPage implements Scanner.
func (fs *FaultScanner) ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error) {
	if _, err := fs.next(); err != nil {
		return nil, fmt.Errorf("scan %s segment %d: %w", in.Table, in.Segment, err)
	}
	return fs.s.ScanPage(ctx, in)
}

// Stats returns the counts so far.
func (fs *FaultScanner) Stats() FaultStats { return fs.faults.Stats() }

// FaultWriter is a Writer that injects failures and unprocessed items, for
// tests: dynalite never leaves items unprocessed, so this is how restore's
// handling of UnprocessedItems is proved.
type FaultWriter struct {
	w Writer
	faults
}

// NewFaultWriter wraps w with the failures of f.
func NewFaultWriter(w Writer, f Faults) *FaultWriter {
	return &FaultWriter{w: w, faults: faults{f: f}}
}

// BatchWrite implements Writer. On an unprocessed-items call it writes the
// first items through w and returns the others, copied, as unprocessed;
// when every item is left unprocessed, w is not called.
func (fw *FaultWriter) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	partial, err := fw.next()
	if err != nil {
		return nil, 0, fmt.Errorf("batch write %s: %w", table, err)
	}
	if fw.f.RefuseInvalid {
		for _, it := range items {
			if verr := ddbjson.ValidateItem(it); verr != nil {
				fw.mu.Lock()
				fw.stats.Refused++
				fw.mu.Unlock()
				msg := verr.Error()
				var de *ddbjson.Error
				if errors.As(verr, &de) {
					msg = de.Reason
					if de.Path != "" {
						msg = de.Path + ": " + msg
					}
				}
				return nil, 0, fmt.Errorf("batch write %s: %w", table, &APIError{Code: "ValidationException", StatusCode: http.StatusBadRequest,
					Message: "injected: One or more parameter values were invalid: " + msg})
			}
		}
	}
	if !partial || len(items) == 0 {
		return fw.w.BatchWrite(ctx, table, items)
	}
	frac := fw.f.UnprocessedFraction
	if frac <= 0 || frac > 1 {
		frac = 0.5
	}
	k := min(len(items), max(1, int(math.Ceil(frac*float64(len(items))))))
	keep := len(items) - k
	var unprocessed [][]byte
	var cu float64
	if keep > 0 { // DynamoDB refuses an empty batch: send none
		if unprocessed, cu, err = fw.w.BatchWrite(ctx, table, items[:keep]); err != nil {
			return nil, cu, err
		}
	}
	for _, it := range items[keep:] {
		unprocessed = append(unprocessed, append([]byte(nil), it...))
	}
	fw.mu.Lock()
	fw.stats.UnprocessedItems += k
	fw.mu.Unlock()
	return unprocessed, cu, nil
}

// Stats returns the counts so far.
func (fw *FaultWriter) Stats() FaultStats { return fw.faults.Stats() }
