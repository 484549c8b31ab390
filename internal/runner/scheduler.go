package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/schedule"
)

// maxCatchUp bounds how many missed occurrences of one rule a pass looks
// at; only the latest one can run anyway.
const maxCatchUp = 10000

// Retry backoff of scheduled jobs that failed transiently: it doubles from
// retryBaseDelay up to retryMaxDelay (AWS Backup retries at least every 10
// minutes while the start window is open).
const (
	retryBaseDelay = time.Minute
	retryMaxDelay  = 10 * time.Minute
)

// Start runs the scheduler (Tick every Config.SchedulerInterval), the
// lifecycle worker (LifecycleTick every Config.LifecycleInterval), the
// retry of deletions that failed (RetryDeletes, as often) and, with a
// Config.JobHistory, the pruning of old jobs (PruneHistory, as often) in the background
// until Shutdown or Close. Call it after Recover; calling it again does
// nothing.
func (s *Service) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.started {
		return
	}
	s.started = true
	s.wg.Add(3)
	// The scheduler's pass is gated inside (its windows and wake-ups are
	// this node's); the others are the cluster's singletons.
	go s.every(s.cfg.SchedulerInterval, "scheduler", s.Tick)
	go s.every(s.cfg.LifecycleInterval, "lifecycle", s.leaderOnly(s.LifecycleTick))
	go s.every(s.cfg.LifecycleInterval, "deletes", s.leaderOnly(s.RetryDeletes))
	if s.cfg.JobHistory > 0 {
		s.wg.Add(1)
		go s.every(s.cfg.LifecycleInterval, "history", s.leaderOnly(s.PruneHistory))
	}
	if s.cfg.Queue != nil {
		s.wg.Add(1)
		go s.takeoverLoop()
	}
}

// leaderOnly runs pass only while this node is the cluster's leader
// (Config.Cluster): the lifecycle worker with its sweep, the retried
// deletes and the job history run once across the nodes. A node that is
// not the leader skips the pass and asks again at the next one.
func (s *Service) leaderOnly(pass func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if !s.cfg.Cluster.IsLeader() {
			return nil
		}
		return pass(ctx)
	}
}

// every calls pass now and then every interval until Shutdown begins,
// which also cuts a pass short (every pass can be repeated).
func (s *Service) every(interval time.Duration, name string, pass func(context.Context) error) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := pass(s.drain); err != nil && s.drain.Err() == nil {
			s.log.Error("background pass failed; trying again at the next one", "worker", name, "err", err)
		}
		select {
		case <-s.drain.Done():
			return
		case <-t.C:
		}
	}
}

// Tick is one pass of the scheduler:
//
//  1. jobs of this process still waiting to start after their start window
//     end EXPIRED, and running jobs past their completion window are
//     stopped (EXPIRED, partial data removed);
//  2. on the cluster's leader only (Config.Cluster), every rule of every
//     live plan with a due occurrence creates one job per resource its
//     plan's selections cover (see dueOccurrence for the catch-up policy);
//     a rule occurrence has one job per resource however many passes or
//     processes see it;
//  3. waiting jobs are woken to try again.
//
// It returns the errors of rules it could not handle; the other rules are
// handled all the same.
func (s *Service) Tick(ctx context.Context) error {
	defer s.kick()
	s.enforceWindows(s.now())
	if !s.cfg.Cluster.IsLeader() {
		// Plan rules are the leader's (Config.Cluster); this node's own
		// jobs keep their windows and wake-ups above.
		return nil
	}
	plans, err := s.livePlans(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var inv *inventory // read once, when a rule first needs it
	var errs []error
	for _, ps := range plans {
		for i := range ps.Plan.Rules {
			if err := s.tickRule(ctx, ps, &ps.Plan.Rules[i], now, &inv); err != nil {
				errs = append(errs, fmt.Errorf("plan %s rule %s: %w", ps.Plan.ID, ps.Plan.Rules[i].RuleName, err))
			}
		}
	}
	return errors.Join(errs...)
}

// tickRule handles the occurrences of one rule since its cursor.
func (s *Service) tickRule(ctx context.Context, ps backup.PlanSelections, r *backup.BackupRule, now time.Time, inv **inventory) error {
	p := ps.Plan
	log := s.log.With("plan", p.ID, "rule", r.RuleID, "rule_name", r.RuleName)
	sch, err := schedule.Parse(ruleExpression(r), r.ScheduleExpressionTimezone)
	if se := (*schedule.Error)(nil); errors.As(err, &se) && se.Never {
		return nil // stored before such rules were refused: it has no runs to make
	}
	if err != nil {
		log.Error("cannot parse the schedule of a backup rule; update the plan", "expression", r.ScheduleExpression, "err", err)
		return nil
	}
	cursor, err := s.cfg.Catalog.RuleCursor(ctx, p.ID, r.RuleID)
	if err != nil {
		return err
	}
	if cursor.IsZero() {
		cursor = p.CreationDate
	}
	d := dueOccurrence(sch.Between(cursor, now, maxCatchUp), now, startWindow(r))
	if d.Cursor.IsZero() {
		return nil // nothing due
	}
	if !d.Run.IsZero() {
		if *inv == nil {
			*inv = s.inventory(ctx)
		}
		created, err := s.createRuleJobs(ctx, ps, r, d.Run, (*inv).Resources, now, log)
		if err != nil {
			return err
		}
		if created > 0 {
			if err := s.cfg.Catalog.SetPlanLastExecution(ctx, p.ID, now); err != nil {
				return err
			}
		}
		if !(*inv).Complete() {
			// Tables of the failed sources have no job yet: keep the
			// occurrence due; the next pass tries again while its start
			// window is open.
			log.Warn("rule occurrence left due: some DynamoDB sources could not be listed",
				"scheduled", d.Run, "sources", (*inv).Failed, "start_by", d.Run.Add(startWindow(r)))
			return nil
		}
	}
	if d.Skipped > 0 {
		log.Warn("missed rule occurrences skipped: after downtime only the latest occurrence whose start window is still open runs",
			"skipped", d.Skipped, "cursor", cursor, "latest", d.Cursor, "ran", !d.Run.IsZero())
	}
	return s.cfg.Catalog.SetRuleCursor(ctx, p.ID, r.RuleID, d.Cursor)
}

// createRuleJobs creates and queues the jobs of one rule occurrence: one
// per resource the plan's selections cover. A job another pass or process
// created already counts as done. It returns how many jobs it created.
func (s *Service) createRuleJobs(ctx context.Context, ps backup.PlanSelections, r *backup.BackupRule, occ time.Time, resources []backup.Resource, now time.Time, log *slog.Logger) (int, error) {
	created := 0
	seen := map[string]bool{}
	for _, a := range backup.Resolve([]backup.PlanSelections{ps}, resources) {
		if seen[a.Resource.ARN] {
			continue // covered by two selections: one job
		}
		seen[a.Resource.ARN] = true
		job := s.scheduledJob(ps.Plan, r, a.Selection, a.Resource, occ, now)
		if err := s.cfg.Catalog.CreateBackupJob(ctx, job); err != nil {
			if backup.ErrorCode(err) == backup.ErrAlreadyExists {
				continue // another pass or process made it
			}
			return created, fmt.Errorf("create backup job for %s: %w", a.Resource.ARN, err)
		}
		created++
		log.Info("scheduled backup job created", "job", job.ID, "resource", job.ResourceARN, "scheduled", occ, "vault", job.VaultName)
		if err := s.enqueue(ctx, job); err != nil {
			log.Error("cannot queue scheduled backup job", "job", job.ID, "err", err)
		}
	}
	return created, nil
}

// scheduledJob is the job of one rule occurrence for one resource.
func (s *Service) scheduledJob(p *backup.BackupPlan, r *backup.BackupRule, sel *backup.BackupSelection, res backup.Resource, occ, now time.Time) *backup.BackupJob {
	// AWS counts the completion window from the scheduled time, not from
	// when the job started.
	completeBy := occ.Add(completionWindow(r))
	tz := r.ScheduleExpressionTimezone
	if tz == "" {
		tz = backup.DefaultScheduleExpressionTimezone
	}
	return &backup.BackupJob{
		ID: newID(), AccountID: s.cfg.AccountID, Region: s.cfg.Region,
		VaultName: r.TargetBackupVaultName, VaultARN: backup.VaultARN(s.cfg.Region, s.cfg.AccountID, r.TargetBackupVaultName),
		RecoveryPointARN: backup.RecoveryPointARN(s.cfg.Region, s.cfg.AccountID, newID()),
		ResourceARN:      res.ARN, ResourceType: backup.ResourceTypeDynamoDB, ResourceName: res.Name,
		IAMRoleARN: sel.IAMRoleARN,
		State:      backup.JobCreated, CreationDate: now,
		StartBy: occ.Add(startWindow(r)), CompleteBy: completeBy, ExpectedCompletionDate: completeBy,
		Lifecycle: r.Lifecycle, RecoveryPointTags: maps.Clone(r.RecoveryPointTags),
		CreatedBy: &backup.CreatedBy{
			BackupPlanID: p.ID, BackupPlanARN: p.ARN, BackupPlanName: p.BackupPlanName, BackupPlanVersion: p.VersionID,
			BackupRuleID: r.RuleID, BackupRuleName: r.RuleName, BackupRuleCron: ruleExpression(r), BackupRuleTimezone: tz,
		},
		ScheduledTime: occ,
	}
}

// enforceWindows ends the jobs of this process whose windows closed: a job
// not started by StartBy ends EXPIRED; a running job past CompleteBy is
// stopped and ends EXPIRED with its partial data removed, as AWS Backup
// does.
func (s *Service) enforceWindows(now time.Time) {
	s.mu.Lock()
	jobs := make([]*activeJob, 0, len(s.running))
	for _, aj := range s.running {
		if aj.backup != nil {
			jobs = append(jobs, aj)
		}
	}
	s.mu.Unlock()
	for _, aj := range jobs {
		aj.mu.Lock()
		j := aj.backup
		switch {
		case startWindowClosed(j, now) && !aj.resuming:
			expireUnstarted(j, now)
			s.saveBackup(aj)
			aj.mu.Unlock()
			aj.cancel(errStartWindow)
			s.log.Warn("backup job expired: its start window closed", "job", j.ID, "resource", j.ResourceARN, "start_by", j.StartBy)
		case completionWindowClosed(j, now) && !aj.completionExpired:
			aj.completionExpired = true
			aj.mu.Unlock()
			aj.cancel(errCompletionWindow)
			s.log.Warn("stopping backup job: its completion window ended", "job", j.ID, "resource", j.ResourceARN, "complete_by", j.CompleteBy)
		default:
			aj.mu.Unlock()
		}
	}
}

// Cancel causes of jobs the scheduler ends.
var (
	errStartWindow      = errors.New("the start window closed before the job started")
	errCompletionWindow = errors.New("the completion window ended before the job completed")
)

// occurrenceDecision is what a scheduler pass does with the occurrences
// of a rule since its cursor.
type occurrenceDecision struct {
	// Run is the occurrence to create jobs for; zero for none.
	Run time.Time
	// Skipped counts the occurrences that get no jobs.
	Skipped int
	// Cursor is where the rule's cursor moves once Run is handled: the
	// latest occurrence. Zero when nothing is due.
	Cursor time.Time
}

// dueOccurrence is the catch-up policy. Of the occurrences since the
// cursor (ascending), only the latest one runs, and only while its start
// window (occurrence + window) is open; every older one is skipped, as is
// the latest when its window closed too. So after downtime a rule runs at
// most once, and never for a time whose window has passed.
func dueOccurrence(occs []time.Time, now time.Time, window time.Duration) occurrenceDecision {
	if len(occs) == 0 {
		return occurrenceDecision{}
	}
	last := occs[len(occs)-1]
	d := occurrenceDecision{Cursor: last, Skipped: len(occs) - 1}
	if now.Before(last.Add(window)) {
		d.Run = last
	} else {
		d.Skipped++
	}
	return d
}

// startWindowClosed reports whether a job that has not started must
// expire: its start window [scheduled, StartBy) is over.
func startWindowClosed(j *backup.BackupJob, now time.Time) bool {
	return (j.State == backup.JobCreated || j.State == backup.JobPending) && !j.StartBy.IsZero() && !now.Before(j.StartBy)
}

// completionWindowClosed reports whether a running job must be stopped:
// its completion window is over.
func completionWindowClosed(j *backup.BackupJob, now time.Time) bool {
	return j.State == backup.JobRunning && !j.CompleteBy.IsZero() && !now.Before(j.CompleteBy)
}

// expireUnstarted ends a job whose start window closed.
func expireUnstarted(j *backup.BackupJob, now time.Time) {
	msg := fmt.Sprintf("Backup job expired before it could start: its start window closed at %s.", j.StartBy.Format(time.RFC3339))
	if j.StatusMessage != "" {
		msg += " Before that: " + j.StatusMessage
	}
	j.State, j.CompletionDate, j.StatusMessage = backup.JobExpired, now, msg
}

// completionExpiredMessage is the StatusMessage of a job stopped at the end
// of its completion window.
func completionExpiredMessage(j *backup.BackupJob) string {
	return fmt.Sprintf("Backup job expired before completion. Its completion window ended at %s; the partial recovery point was removed. "+
		"Give the rule a longer CompletionWindowMinutes if the table needs more time.", j.CompleteBy.Format(time.RFC3339))
}

// retryDelay is the backoff before attempt n+1 of a scheduled job whose
// attempt n failed transiently.
func retryDelay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 5 {
		return retryMaxDelay
	}
	return min(retryBaseDelay<<(n-1), retryMaxDelay)
}

// startWindow and completionWindow are a rule's windows with AWS's
// defaults.
func startWindow(r *backup.BackupRule) time.Duration {
	if r.StartWindowMinutes > 0 {
		return time.Duration(r.StartWindowMinutes) * time.Minute
	}
	return backup.DefaultStartWindowMinutes * time.Minute
}

func completionWindow(r *backup.BackupRule) time.Duration {
	if r.CompletionWindowMinutes > 0 {
		return time.Duration(r.CompletionWindowMinutes) * time.Minute
	}
	return backup.DefaultCompletionWindowMinutes * time.Minute
}
