package runner

import (
	"context"
	"time"

	"github.com/cairn-backup/cairn/internal/schedule"
)

// SchedulerLag is how far the scheduler is behind: now minus the due time
// of the oldest rule occurrence not yet turned into jobs, that is of the
// first occurrence after a live rule's cursor (or its plan's creation)
// that is not in the future; zero when no occurrence is due. A Tick hands
// every due occurrence (it runs the latest and skips older ones, see
// dueOccurrence), so the lag stays under SchedulerInterval while the
// scheduler runs and keeps up, and grows while it does not (the server was
// down, a pass fails, a source cannot be listed). It reads the plans and
// one cursor per rule; it writes nothing.
func (s *Service) SchedulerLag(ctx context.Context) (time.Duration, error) {
	plans, err := s.allPlans(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var oldest time.Time
	for _, p := range plans {
		if !p.DeletionDate.IsZero() {
			continue
		}
		for i := range p.Rules {
			r := &p.Rules[i]
			sch, err := schedule.Parse(ruleExpression(r), r.ScheduleExpressionTimezone)
			if err != nil {
				continue // the scheduler skips it too (see tickRule)
			}
			cursor, err := s.cfg.Catalog.RuleCursor(ctx, p.ID, r.RuleID)
			if err != nil {
				return 0, err
			}
			if cursor.IsZero() {
				cursor = p.CreationDate
			}
			next := sch.Next(cursor)
			if next.IsZero() || next.After(now) {
				continue
			}
			if oldest.IsZero() || next.Before(oldest) {
				oldest = next
			}
		}
	}
	if oldest.IsZero() {
		return 0, nil
	}
	return now.Sub(oldest), nil
}
