package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// BenchmarkUpdateBackupJob is the runner's most frequent write (a job's
// progress), which now reads the stored row to derive events in its
// transaction; "ends" makes every update an end, which records two events.
func BenchmarkUpdateBackupJob(b *testing.B) {
	for _, ends := range []bool{false, true} {
		name := "progress"
		if ends {
			name = "ends"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			c, err := Open(ctx, filepath.Join(b.TempDir(), "catalog.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			j := &backup.BackupJob{ID: "job", VaultName: "Default", ResourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/t",
				State: backup.JobRunning, CreationDate: t0}
			if err := c.CreateBackupJob(ctx, j); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				j.PercentDone = float64(i % 100)
				if ends {
					j.State = backup.JobRunning
					if i%2 == 1 {
						j.State, j.CompletionDate = backup.JobCompleted, t0.Add(time.Duration(i))
					}
				}
				if err := c.UpdateBackupJob(ctx, j); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
