package runner

import (
	"context"

	"github.com/cairn-backup/cairn/internal/backup"
)

// ListJobSummaries counts in.Kind's jobs in the catalog and folds the counts
// into in.Period's buckets (backup.Summarize); ONE_DAY when no period is given.
func (s *Service) ListJobSummaries(ctx context.Context, in backup.JobSummaryInput) ([]backup.JobSummary, backup.AggregationPeriod, string, error) {
	if in.Period == "" {
		in.Period = backup.PeriodOneDay
	}
	now := s.now()
	counts, err := s.cfg.Catalog.CountJobs(ctx, in.CountFilter(now))
	if err != nil {
		return nil, "", "", err
	}
	rows, next, err := backup.PageSummaries(backup.Summarize(counts, in, now), in.Page)
	if err != nil {
		return nil, "", "", err
	}
	return rows, in.Period, next, nil
}
