package console

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// dashboardCache keeps the dashboard's aggregates for ttl, so that loading
// the dashboard again (or many browsers loading it) does not count the
// jobs again: at most one computation per ttl, whoever asks.
type dashboardCache struct {
	ttl  time.Duration
	mu   sync.Mutex
	at   time.Time
	data *aggregates
}

// kindCounts are one job kind's counts by state over a window.
type kindCounts struct {
	Kind   string
	Link   string
	Total  int
	States []stateCount
}

type stateCount struct {
	State string
	Count int
}

// aggregates are the dashboard's figures that cost a count.
type aggregates struct {
	At         time.Time
	Today      []kindCounts
	Week       []kindCounts
	NextRuns   []nextRun
	Compliance map[string]int
	// ComplianceOn is false when governance is off.
	ComplianceOn bool
}

type nextRun struct {
	At       time.Time
	PlanID   string
	PlanName string
	RuleName string
	Schedule string
	Vault    string
}

// ForgetAggregates drops the dashboard's cached aggregates: the next load
// computes them again. For benchmarks and tests.
func (h *Handler) ForgetAggregates() {
	h.dash.mu.Lock()
	defer h.dash.mu.Unlock()
	h.dash.data = nil
}

func (c *dashboardCache) get(ctx context.Context, now time.Time, compute func(context.Context) (*aggregates, error)) (*aggregates, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data != nil && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		return c.data, nil
	}
	d, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	c.data, c.at = d, now
	return d, nil
}

// computeAggregates counts the jobs of the last 7 UTC days by kind and
// state with the job summaries (one range read of each job table's
// creation index, not a scan of the table), and gathers the next
// scheduled runs and the compliance verdicts.
func (h *Handler) computeAggregates(ctx context.Context) (*aggregates, error) {
	now := h.now()
	a := &aggregates{At: now}
	today := now.UTC().Truncate(24 * time.Hour)
	weekStart := today.Add(-6 * 24 * time.Hour)
	for _, k := range []struct {
		kind backup.JobKind
		name string
		link string
	}{{backup.JobKindBackup, "Backup jobs", "backup-jobs"}, {backup.JobKindRestore, "Restore jobs", "restore-jobs"}, {backup.JobKindCopy, "Copy jobs", "copy-jobs"}} {
		in := backup.JobSummaryInput{Kind: k.kind, Period: backup.PeriodOneDay, AccountID: backup.SummaryAggregateAll,
			ResourceType: backup.SummaryAggregateAll, MessageCategory: backup.SummaryAggregateAll, State: backup.SummaryAny,
			Page: backup.Page{MaxResults: 1000}}
		dayCounts, weekCounts := map[string]int{}, map[string]int{}
		for {
			rows, _, next, err := h.svc.ListJobSummaries(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if !r.StartTime.Before(weekStart) {
					weekCounts[r.State] += r.Count
				}
				if r.StartTime.Equal(today) {
					dayCounts[r.State] += r.Count
				}
			}
			if next == "" {
				break
			}
			in.NextToken = next
		}
		a.Today = append(a.Today, toKindCounts(k.name, k.link, dayCounts))
		a.Week = append(a.Week, toKindCounts(k.name, k.link, weekCounts))
	}
	runs, err := h.nextRuns(ctx, 8)
	if err != nil {
		return nil, err
	}
	a.NextRuns = runs
	if h.cfg.Compliance != nil {
		rep, err := h.cfg.Compliance.Compliance(ctx, "")
		if err != nil {
			return nil, err
		}
		if rep.Enabled {
			a.ComplianceOn = true
			a.Compliance = map[string]int{}
			for _, t := range rep.Resources {
				a.Compliance[string(t.Verdict)]++
			}
		}
	}
	return a, nil
}

func toKindCounts(name, link string, m map[string]int) kindCounts {
	k := kindCounts{Kind: name, Link: link}
	for s, n := range m {
		k.States = append(k.States, stateCount{s, n})
		k.Total += n
	}
	sort.Slice(k.States, func(i, j int) bool { return k.States[i].State < k.States[j].State })
	return k
}

// nextRuns returns the next n scheduled runs over every live plan.
func (h *Handler) nextRuns(ctx context.Context, n int) ([]nextRun, error) {
	var out []nextRun
	f := backup.BackupPlanFilter{Page: backup.Page{MaxResults: 100}}
	for pages := 0; pages < 10; pages++ {
		plans, next, err := h.svc.ListBackupPlans(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, p := range plans {
			full, runs, err := h.svc.GetBackupPlan(ctx, p.ID, "", 3)
			if err != nil {
				if backup.IsNotFound(err) {
					continue
				}
				return nil, err
			}
			for _, r := range runs {
				nr := nextRun{At: r.ExecutionTime, PlanID: full.ID, PlanName: full.BackupPlanName}
				if rule := full.Rule(r.RuleID); rule != nil {
					nr.RuleName, nr.Vault = rule.RuleName, rule.TargetBackupVaultName
					nr.Schedule = cronWords(rule.ScheduleExpression, rule.ScheduleExpressionTimezone)
				}
				out = append(out, nr)
			}
		}
		if next == "" {
			break
		}
		f.NextToken = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	agg, err := h.dash.get(ctx, h.now(), h.computeAggregates)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	week := h.now().Add(-7 * 24 * time.Hour)
	d := map[string]any{"Agg": agg}
	// The lists below read a handful of rows through the catalog's
	// indexes: cheap enough for every load.
	failed, _, err := h.svc.ListBackupJobs(ctx, backup.BackupJobFilter{Page: backup.Page{MaxResults: 10},
		States: []backup.JobState{backup.JobFailed, backup.JobExpired, backup.JobPartial}, CreatedAfter: week})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d["Failed"] = failed
	failedRestores, _, err := h.svc.ListRestoreJobs(ctx, backup.RestoreJobFilter{Page: backup.Page{MaxResults: 5},
		Statuses: []backup.RestoreJobStatus{backup.RestoreFailed}, CreatedAfter: week})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d["FailedRestores"] = failedRestores
	running, _, err := h.svc.ListBackupJobs(ctx, backup.BackupJobFilter{Page: backup.Page{MaxResults: 20},
		States: []backup.JobState{backup.JobRunning}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d["Running"] = running
	prot, more, err := h.svc.ListProtectedResources(ctx, backup.Page{MaxResults: 10})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d["Protected"], d["MoreProtected"] = prot, more != ""
	h.render(w, r, http.StatusOK, "dashboard", "Dashboard", d)
}
