package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeTime is a clock that sleeping advances: retries take no real time.
type fakeTime struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeTime() *fakeTime { return &fakeTime{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeTime) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.sleeps = append(f.sleeps, d)
	return nil
}

func (f *fakeTime) policy() RetryPolicy {
	return RetryPolicy{Sleep: f.Sleep, Now: f.Now, Jitter: func() float64 { return 1 }}
}

type scanFunc func(ctx context.Context, in ScanInput) (*ScanPage, error)

func (f scanFunc) ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error) { return f(ctx, in) }

type writeFunc func(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error)

func (f writeFunc) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	return f(ctx, table, items)
}

var (
	errThrottle   = &APIError{Code: "ProvisionedThroughputExceededException", StatusCode: 400}
	errValidation = &APIError{Code: "ValidationException", StatusCode: 400}
)

func TestRetryScanner(t *testing.T) {
	tests := []struct {
		name      string
		fails     []error // errors of the first calls, then success
		policy    func(RetryPolicy) RetryPolicy
		wantCalls int
		wantErr   bool
	}{
		{"success", nil, nil, 1, false},
		{"throttled twice", []error{errThrottle, errThrottle}, nil, 3, false},
		{"500 then ok", []error{&APIError{Code: "InternalServerError", StatusCode: 500}}, nil, 2, false},
		{"validation is final", []error{errValidation}, nil, 1, true},
		{"gives up after MaxAttempts", []error{errThrottle, errThrottle, errThrottle, errThrottle},
			func(p RetryPolicy) RetryPolicy { p.MaxAttempts = 3; return p }, 3, true},
		{"gives up after MaxElapsed", []error{errThrottle, errThrottle, errThrottle, errThrottle, errThrottle},
			func(p RetryPolicy) RetryPolicy { p.MaxElapsed = 300 * time.Millisecond; return p }, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			p := ft.policy()
			if tt.policy != nil {
				p = tt.policy(p)
			}
			var retries []int
			p.OnRetry = func(n int, d time.Duration, err error) { retries = append(retries, n) }
			calls := 0
			s := NewRetryScanner(scanFunc(func(ctx context.Context, in ScanInput) (*ScanPage, error) {
				calls++
				if calls <= len(tt.fails) {
					return nil, tt.fails[calls-1]
				}
				return &ScanPage{Count: 7}, nil
			}), p)
			page, err := s.ScanPage(context.Background(), ScanInput{Table: "t"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if err == nil && page.Count != 7 {
				t.Errorf("page %+v", page)
			}
			if len(retries) != tt.wantCalls-1 {
				t.Errorf("OnRetry called %d times, want %d", len(retries), tt.wantCalls-1)
			}
		})
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	p := RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, Jitter: func() float64 { return 1 }}.withDefaults()
	want := []time.Duration{10, 20, 40, 80, 100, 100}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := p.backoff(200); got != 100*time.Millisecond {
		t.Errorf("backoff(200) = %v", got)
	}
	p.Jitter = func() float64 { return 0.25 }
	if got := p.backoff(3); got != 10*time.Millisecond {
		t.Errorf("jittered backoff(3) = %v, want 10ms", got)
	}
}

func TestRetryScannerStopsOnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	s := NewRetryScanner(scanFunc(func(context.Context, ScanInput) (*ScanPage, error) {
		calls++
		cancel()
		return nil, errThrottle
	}), newFakeTime().policy())
	_, err := s.ScanPage(ctx, ScanInput{})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

func items(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"pk":{"S":"%d"}}`, i)
	}
	return out
}

func TestRetryWriterResendsUnprocessed(t *testing.T) {
	ft := newFakeTime()
	written := map[string]int{}
	calls := 0
	// Each call writes only its first item; every third call is throttled.
	w := NewRetryWriter(writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) {
		calls++
		if calls%3 == 0 {
			return nil, 0, errThrottle
		}
		written[string(its[0])]++
		return its[1:], 1, nil
	}), ft.policy())
	in := items(25)
	unprocessed, cu, err := w.BatchWrite(context.Background(), "t", in)
	if err != nil || len(unprocessed) != 0 {
		t.Fatalf("BatchWrite: %v, %d unprocessed", err, len(unprocessed))
	}
	if len(written) != 25 || cu != 25 {
		t.Errorf("%d items written, %v units", len(written), cu)
	}
	for k, n := range written {
		if n != 1 {
			t.Errorf("%s written %d times", k, n)
		}
	}
	// 25 writing rounds plus 12 throttled, far beyond MaxAttempts: progress
	// resets the error count.
	if calls != 37 {
		t.Errorf("%d calls", calls)
	}
}

func TestRetryWriterGivesUp(t *testing.T) {
	t.Run("elapsed", func(t *testing.T) {
		ft := newFakeTime()
		p := ft.policy()
		p.MaxElapsed = time.Minute
		w := NewRetryWriter(writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) {
			return its[len(its)-3:], 0, nil // three items never go through
		}), p)
		un, _, err := w.BatchWrite(context.Background(), "t", items(10))
		var ue *UnwrittenError
		if !errors.As(err, &ue) || ue.Items != 3 || len(un) != 3 || !errors.Is(err, ErrUnprocessed) {
			t.Fatalf("err %v, %d unprocessed", err, len(un))
		}
		if el := ft.Now().Sub(newFakeTime().Now()); el > time.Minute {
			t.Errorf("slept %v, beyond MaxElapsed", el)
		}
		t.Log(err)
	})
	t.Run("not retryable", func(t *testing.T) {
		w := NewRetryWriter(writeFunc(func(context.Context, string, [][]byte) ([][]byte, float64, error) {
			return nil, 0, errValidation
		}), newFakeTime().policy())
		un, _, err := w.BatchWrite(context.Background(), "t", items(4))
		var ue *UnwrittenError
		if !errors.As(err, &ue) || ue.Items != 4 || len(un) != 4 || !errors.Is(err, errValidation) {
			t.Fatalf("err %v, %d unprocessed", err, len(un))
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := NewRetryWriter(writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) {
			cancel()
			return its, 0, nil
		}), newFakeTime().policy())
		_, _, err := w.BatchWrite(ctx, "t", items(2))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestFaultWriter(t *testing.T) {
	var got [][]byte
	fw := NewFaultWriter(writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) {
		got = append(got, its...)
		return nil, float64(len(its)), nil
	}), Faults{ThrottleEvery: 2, ServerErrorEvery: 3, UnprocessedEvery: 5, UnprocessedFraction: 0.2})
	ctx := context.Background()
	for call := 1; call <= 6; call++ {
		got = nil
		un, _, err := fw.BatchWrite(ctx, "t", items(10))
		switch call {
		case 2, 4, 6:
			if !IsThrottle(err) {
				t.Errorf("call %d: %v, want throttle", call, err)
			}
		case 3:
			if !IsRetryable(err) || IsThrottle(err) {
				t.Errorf("call 3: %v, want 500", err)
			}
		case 5:
			if err != nil || len(un) != 2 || len(got) != 8 {
				t.Errorf("call 5: %v, %d unprocessed, %d written", err, len(un), len(got))
			}
		default:
			if err != nil || len(un) != 0 || len(got) != 10 {
				t.Errorf("call %d: %v, %d unprocessed, %d written", call, err, len(un), len(got))
			}
		}
	}
	want := FaultStats{Calls: 6, Throttles: 3, ServerErrors: 1, UnprocessedCalls: 1, UnprocessedItems: 2}
	if s := fw.Stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
}

// TestFaultWriterWholeBatchUnprocessed: when every item of a batch is left
// unprocessed, the wrapped writer is not sent an empty batch (DynamoDB
// refuses those).
func TestFaultWriterWholeBatchUnprocessed(t *testing.T) {
	calls := 0
	fw := NewFaultWriter(writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) {
		calls++
		if len(its) == 0 {
			t.Error("empty batch sent through")
		}
		return nil, 0, nil
	}), Faults{UnprocessedEvery: 1, UnprocessedFraction: 1})
	un, _, err := fw.BatchWrite(context.Background(), "t", items(1))
	if err != nil || len(un) != 1 || calls != 0 {
		t.Fatalf("err %v, %d unprocessed, %d calls through; want nil, 1, 0", err, len(un), calls)
	}
}

// Right after CreateTable, DynamoDB may answer ResourceNotFoundException
// for a table DescribeTable already calls ACTIVE: with RetryNotFound the
// writer and scanner back off and try again, within the usual limits;
// without it, a missing table is not retried.
func TestRetryNotFound(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		retry, wantOK bool
		notFound      int
	}{{true, true, 3}, {false, false, 3}, {true, false, DefaultMaxAttempts + 5}} {
		ft := newFakeTime()
		p := ft.policy()
		p.RetryNotFound = tc.retry
		var written [][]byte
		fw := NewFaultWriter(writeFunc(func(_ context.Context, _ string, items [][]byte) ([][]byte, float64, error) {
			written = append(written, items...)
			return nil, 0, nil
		}), Faults{NotFoundFirst: tc.notFound})
		_, _, err := NewRetryWriter(fw, p).BatchWrite(ctx, "t", items(3))
		if (err == nil) != tc.wantOK || (err == nil && len(written) != 3) {
			t.Errorf("writer, retry %v, %d not found: err %v, %d written", tc.retry, tc.notFound, err, len(written))
		}
		if err != nil && !IsNotFound(err) {
			t.Errorf("writer gave up with %v, not the ResourceNotFoundException", err)
		}
		fs := NewFaultScanner(scanFunc(func(context.Context, ScanInput) (*ScanPage, error) { return &ScanPage{}, nil }),
			Faults{NotFoundFirst: tc.notFound})
		_, err = NewRetryScanner(fs, p).ScanPage(ctx, ScanInput{Table: "t"})
		if (err == nil) != tc.wantOK {
			t.Errorf("scanner, retry %v, %d not found: err %v", tc.retry, tc.notFound, err)
		}
	}
}

// The strict fault writer refuses, as DynamoDB does, a whole batch holding
// an item DynamoDB's rules refuse; IsItemRefused tells that answer.
func TestFaultWriterRefusesInvalidItems(t *testing.T) {
	var written int
	fw := NewFaultWriter(writeFunc(func(_ context.Context, _ string, items [][]byte) ([][]byte, float64, error) {
		written += len(items)
		return nil, 0, nil
	}), Faults{RefuseInvalid: true})
	batch := append(items(3), []byte(`{"pk":{"S":"x"},"ns":{"NS":["1","1.0"]}}`))
	_, _, err := fw.BatchWrite(context.Background(), "t", batch)
	if !IsItemRefused(err) || written != 0 || fw.Stats().Refused != 1 {
		t.Fatalf("err %v, %d written, stats %+v", err, written, fw.Stats())
	}
	if _, _, err := fw.BatchWrite(context.Background(), "t", items(3)); err != nil || written != 3 {
		t.Fatalf("valid batch: err %v, %d written", err, written)
	}
	for _, e := range []error{errThrottle, errors.New("x"), &APIError{Code: "ResourceNotFoundException"}} {
		if IsItemRefused(e) {
			t.Errorf("IsItemRefused(%v)", e)
		}
	}
	if !IsItemRefused(fmt.Errorf("wrapped: %w", errValidation)) || !IsItemRefused(&APIError{Code: "SerializationException"}) {
		t.Error("IsItemRefused misses a refusal")
	}
}
