package dynamodb

import (
	"context"
	"testing"
	"time"
)

func TestRateLimitedScanner(t *testing.T) {
	tests := []struct {
		name     string
		page     ScanPage
		rate     float64
		pages    int
		wantTime time.Duration // fake time the pages take
	}{
		// 20 pages of 50 units at 100 units/s: the first page is free, then
		// each page waits for the debt of the previous one: 19 × 0.5 s.
		{"consumed capacity", ScanPage{ConsumedCapacity: 50}, 100, 20, 9500 * time.Millisecond},
		// No ConsumedCapacity: 1 MB pages are 256 × 4 KB × 0.5 = 128 units.
		{"estimated from bytes", ScanPage{Bytes: 1 << 20}, 128, 11, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			start := ft.Now()
			inner := scanFunc(func(context.Context, ScanInput) (*ScanPage, error) { p := tt.page; return &p, nil })
			s := NewLimitedScanner(inner, NewLimiter(tt.rate, LimiterOptions{Now: ft.Now, Sleep: ft.Sleep}))
			for range tt.pages {
				if _, err := s.ScanPage(context.Background(), ScanInput{}); err != nil {
					t.Fatal(err)
				}
			}
			got := ft.Now().Sub(start)
			if d := got - tt.wantTime; d < -time.Millisecond || d > 10*time.Millisecond {
				t.Errorf("took %v of fake time, want %v", got, tt.wantTime)
			}
		})
	}
}

func TestLimiterBurst(t *testing.T) {
	ft := newFakeTime()
	l := NewLimiter(10, LimiterOptions{Burst: 30, Now: ft.Now, Sleep: ft.Sleep})
	ft.t = ft.t.Add(time.Hour) // idle: at most Burst accumulates
	l.Debit(40)
	start := ft.Now()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ft.Now().Sub(start); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("waited %v, want 1s (10 units of debt at 10/s)", got)
	}
}

func TestRateLimitedWriterEstimates(t *testing.T) {
	ft := newFakeTime()
	inner := writeFunc(func(_ context.Context, _ string, its [][]byte) ([][]byte, float64, error) { return nil, 0, nil })
	w := NewLimitedWriter(inner, NewLimiter(25, LimiterOptions{Now: ft.Now, Sleep: ft.Sleep}))
	big := make([]byte, 1500) // 2 write units each
	batch := [][]byte{big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big, big}
	start := ft.Now()
	for range 3 {
		if _, _, err := w.BatchWrite(context.Background(), "t", batch); err != nil {
			t.Fatal(err)
		}
	}
	if got := ft.Now().Sub(start); got < 3990*time.Millisecond || got > 4010*time.Millisecond {
		t.Errorf("took %v, want 4s (two debts of 50 units at 25/s)", got)
	}
	if EstimateReadUnits(1) != 0.5 || EstimateReadUnits(4096) != 0.5 || EstimateReadUnits(4097) != 1 {
		t.Error("EstimateReadUnits")
	}
}
