package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// BenchmarkMetricsScrape times the three aggregates one scrape reads, on a
// catalog of 200,000 backup jobs over 2,000 tables and 100,000 recovery
// points in 10 vaults (docs/monitoring.md: what a scrape costs).
func BenchmarkMetricsScrape(b *testing.B) {
	s := defaultShape(200000)
	c := openFilled(b, s)
	for v := range s.vaults {
		if err := c.CreateVault(b.Context(), &backup.Vault{Name: fmt.Sprintf("vault-%02d", v), CreationDate: s.start}); err != nil {
			b.Fatal(err)
		}
	}
	tx, err := c.write.BeginTx(b.Context(), nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(b.Context(), "INSERT INTO recovery_points ("+pointCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100000 {
		p := &backup.RecoveryPoint{ID: fmt.Sprintf("rp-%08d", i), VaultName: s.vault(i), Status: backup.RecoveryPointCompleted,
			StorageClass: backup.StorageWarm, CreationDate: s.created(i), ResourceARN: s.resource(i), BackupSizeInBytes: int64(i)}
		if i%10 == 1 {
			p.StorageClass = backup.StorageCold
		}
		args, err := pointArgs(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := stmt.ExecContext(b.Context(), args...); err != nil {
			b.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		active, err := c.CountActiveJobs(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		last, err := c.LastBackups(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		usage, err := c.PointUsage(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		// Tables whose every job failed (i%20 == 7 falls on the same tables)
		// have no last success.
		if len(active) == 0 || len(last) < s.resources*9/10 || len(usage) == 0 {
			b.Fatalf("%d active counts, %d resources, %d usage rows", len(active), len(last), len(usage))
		}
		b.ReportMetric(float64(t1.Sub(start).Microseconds()), "active-µs")
		b.ReportMetric(float64(t2.Sub(t1).Microseconds()), "last-µs")
		b.ReportMetric(float64(t3.Sub(t2).Microseconds()), "usage-µs")
	}
}
