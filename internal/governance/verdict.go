package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// coverage is what cairn's backups say about the tables of a pass: the live
// plans with their selections and the latest COMPLETED point of each
// resource.
type coverage struct {
	plans  []backup.PlanSelections
	points map[string]*backup.ProtectedResource // by resource ARN
	// byARN holds each resource's covering plans, filled by resolve.
	byARN map[string][]*backup.BackupPlan
	// rules caches what each rule's schedule says at the pass's time.
	rules map[*backup.BackupRule]ruleTimes
}

// ruleTimes is a rule's next run and how old its resources' last backup
// may be: its period plus its start and completion windows.
type ruleTimes struct {
	next time.Time
	due  time.Duration
}

func (c *coverage) ruleTimes(r *backup.BackupRule, now time.Time) ruleTimes {
	if rt, ok := c.rules[r]; ok {
		return rt
	}
	var rt ruleTimes
	if s, err := backup.ParseSchedule(r.ScheduleExpression, r.ScheduleExpressionTimezone); err == nil {
		rt.next = s.Next(now)
		if n2 := s.Next(rt.next); !rt.next.IsZero() && !n2.IsZero() {
			start, complete := r.StartWindowMinutes, r.CompletionWindowMinutes
			if start == 0 {
				start = backup.DefaultStartWindowMinutes
			}
			if complete == 0 {
				complete = backup.DefaultCompletionWindowMinutes
			}
			rt.due = n2.Sub(rt.next) + time.Duration(start+complete)*time.Minute
		}
	}
	c.rules[r] = rt
	return rt
}

func (w *Worker) loadCoverage(ctx context.Context) (*coverage, error) {
	c := &coverage{points: map[string]*backup.ProtectedResource{}, byARN: map[string][]*backup.BackupPlan{},
		rules: map[*backup.BackupRule]ruleTimes{}}
	f := backup.BackupPlanFilter{Page: backup.Page{MaxResults: 1000}}
	for {
		plans, next, err := w.cfg.Backups.ListBackupPlans(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("governance: list backup plans: %w", err)
		}
		for _, p := range plans {
			if !p.DeletionDate.IsZero() {
				continue
			}
			ps := backup.PlanSelections{Plan: p}
			sp := backup.Page{MaxResults: 1000}
			for {
				sels, snext, err := w.cfg.Backups.ListBackupSelections(ctx, p.ID, sp)
				if backup.IsNotFound(err) { // deleted meanwhile
					break
				}
				if err != nil {
					return nil, fmt.Errorf("governance: list selections of plan %s: %w", p.ID, err)
				}
				ps.Selections = append(ps.Selections, sels...)
				if snext == "" {
					break
				}
				sp.NextToken = snext
			}
			c.plans = append(c.plans, ps)
		}
		if next == "" {
			break
		}
		f.NextToken = next
	}
	p := backup.Page{MaxResults: 1000}
	for {
		prs, next, err := w.cfg.Backups.ListProtectedResources(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("governance: list protected resources: %w", err)
		}
		for _, r := range prs {
			c.points[r.ResourceARN] = r
		}
		if next == "" {
			break
		}
		p.NextToken = next
	}
	return c, nil
}

// resolve finds the plans that cover each resource (backup.Resolve, one
// call for the whole pass).
func (c *coverage) resolve(res []backup.Resource) {
	for _, a := range backup.Resolve(c.plans, res) {
		c.byARN[a.Resource.ARN] = append(c.byARN[a.Resource.ARN], a.Plan)
	}
}

// tableCoverage is what the backups say about one table.
type tableCoverage struct {
	plans      []string // "PLAN/RULE"
	lastBackup time.Time
	lastPoint  string
	nextRun    time.Time
	// due is how old the last COMPLETED point may be: the shortest
	// period of a covering rule plus its start and completion windows.
	due     time.Duration
	dueRule string
}

func (c *coverage) of(arn string, now time.Time) tableCoverage {
	var tc tableCoverage
	if p := c.points[arn]; p != nil {
		tc.lastBackup, tc.lastPoint = p.LastBackupTime, p.LastRecoveryPointARN
	}
	for _, p := range c.byARN[arn] {
		for i := range p.Rules {
			r := &p.Rules[i]
			tc.plans = append(tc.plans, p.BackupPlanName+"/"+r.RuleName)
			rt := c.ruleTimes(r, now)
			if !rt.next.IsZero() && (tc.nextRun.IsZero() || rt.next.Before(tc.nextRun)) {
				tc.nextRun = rt.next
			}
			if rt.due != 0 && (tc.due == 0 || rt.due < tc.due) {
				tc.due, tc.dueRule = rt.due, p.BackupPlanName+"/"+r.RuleName
			}
		}
	}
	return tc
}

// decide makes a table's verdict from what each rule found on its tags
// and what the backups say. first is when the worker first saw the table:
// a table younger than its rule's period and windows is not yet expected
// to have a backup.
func decide(states []tagState, c tableCoverage, first, now time.Time) (backup.Verdict, string) {
	var bad, optOut, excluded []string
	applicable := 0
	for _, s := range states {
		switch s.kind {
		case tagBad:
			bad = append(bad, s.reason)
		case tagOptOut:
			optOut = append(optOut, s.reason)
		case tagExcluded:
			excluded = append(excluded, s.reason)
			continue
		}
		applicable++
	}
	switch {
	case len(bad) > 0:
		return backup.VerdictNonCompliant, strings.Join(bad, "; ")
	case len(optOut) > 0:
		reason := strings.Join(optOut, "; ")
		if len(c.plans) > 0 {
			reason += "; plans still cover it: " + strings.Join(c.plans, ", ")
		}
		return backup.VerdictOptedOut, reason
	case applicable == 0:
		return backup.VerdictNotApplicable, strings.Join(excluded, "; ")
	case len(c.plans) == 0:
		return backup.VerdictNonCompliant, "covered by no backup plan"
	}
	if c.lastBackup.IsZero() || now.Sub(c.lastBackup) > c.due {
		if now.Sub(first) <= c.due {
			return backup.VerdictCompliant, fmt.Sprintf("covered by %s; new, first backup due by %s",
				strings.Join(c.plans, ", "), first.Add(c.due).Format(time.RFC3339))
		}
		if c.lastBackup.IsZero() {
			return backup.VerdictNonCompliant, fmt.Sprintf("covered by %s but no COMPLETED recovery point within %s (%s's period and windows)",
				strings.Join(c.plans, ", "), fmtDuration(c.due), c.dueRule)
		}
		return backup.VerdictNonCompliant, fmt.Sprintf("covered by %s but the last COMPLETED recovery point is %s old, more than %s (%s's period and windows)",
			strings.Join(c.plans, ", "), fmtDuration(now.Sub(c.lastBackup)), fmtDuration(c.due), c.dueRule)
	}
	return backup.VerdictCompliant, fmt.Sprintf("backed up by %s; last COMPLETED recovery point %s ago",
		strings.Join(c.plans, ", "), fmtDuration(now.Sub(c.lastBackup)))
}

// fmtDuration prints d in days and hours, or minutes below an hour.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
