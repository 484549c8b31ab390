package notify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// BenchmarkOutboxDelivery measures the outbox's delivery rate: b.N events
// in a catalog on disk, planned and delivered to one target that accepts
// at once (so the catalog's writes are what is measured).
func BenchmarkOutboxDelivery(b *testing.B) {
	ctx := context.Background()
	cat, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	now := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	for range b.N {
		if err := cat.AppendEvent(ctx, &backup.Event{Type: backup.EventBackupJobCompleted, Time: now, VaultName: "Default"}); err != nil {
			b.Fatal(err)
		}
	}
	sink := &target{kind: "webhook", name: "sink"}
	s, err := notify.New(notify.Config{Outbox: cat, Resolver: &resolver{ts: []notify.Target{sink}}, Clock: clock.NewFake(now)})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if err := s.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	if got := len(sink.received()); got != b.N {
		b.Fatalf("delivered %d of %d", got, b.N)
	}
}
