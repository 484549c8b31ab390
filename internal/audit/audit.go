// Package audit evaluates AWS Backup Audit Manager controls: given a
// framework and a snapshot of what cairn holds (the tables of every source
// with their tags, the live backup plans with their selections, the
// recovery points and the vaults), it says for every control and every
// resource the control evaluates whether it is COMPLIANT or NON_COMPLIANT,
// and why. It does no I/O: the runner gathers the snapshot
// (runner.Service.EvaluateFramework) and calls Evaluate.
package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/schedule"
)

// Resource types of the verdicts, as AWS Config names what Audit Manager's
// controls record.
const (
	TypeTable         = "AWS::DynamoDB::Table"
	TypeRecoveryPoint = "AWS::Backup::RecoveryPoint"
	TypeBackupPlan    = "AWS::Backup::BackupPlan"
	TypeBackupVault   = "AWS::Backup::BackupVault"
)

// Inputs is what controls are evaluated over, read at one moment.
type Inputs struct {
	// Now is the moment of the evaluation (recovery point ages, the next
	// runs of schedules).
	Now time.Time
	// Tables are the tables of every source, with their tags.
	Tables []backup.Resource
	// FailedSources name the sources whose tables could not be listed.
	FailedSources []string
	// Plans are the live plans (latest versions) with their selections.
	Plans []backup.PlanSelections
	// Points are the recovery points; only COMPLETED ones count.
	Points []*backup.RecoveryPoint
	// Vaults are the backup vaults.
	Vaults []*backup.Vault
}

// Evaluate evaluates every control of f over in. It is the one function
// that turns a framework into verdicts: per control, per resource.
func Evaluate(f *backup.Framework, in *Inputs) *backup.FrameworkEvaluation {
	out := &backup.FrameworkEvaluation{
		FrameworkName: f.Name,
		FrameworkARN:  f.ARN,
		EvaluatedAt:   in.Now,
		FailedSources: slices.Clone(in.FailedSources),
	}
	for _, c := range f.Controls {
		out.Controls = append(out.Controls, EvaluateControl(c, in))
	}
	return out
}

// EvaluateControl evaluates one control over in. A control cairn does not
// know (it cannot be stored: frameworks are validated) yields a
// NON_COMPLIANT evaluation without resources and a note saying so.
func EvaluateControl(c backup.FrameworkControl, in *Inputs) backup.ControlEvaluation {
	ev := backup.ControlEvaluation{ControlName: c.Name, Scope: c.Scope, Resources: []backup.ResourceEvaluation{}}
	def := backup.ControlByName(c.Name)
	if def == nil {
		ev.Compliance = backup.NonCompliant
		ev.Note = fmt.Sprintf("cairn does not evaluate control %s", c.Name)
		return ev
	}
	ev.Evaluates = def.Evaluates
	ev.Parameters = def.ParamValues(c.InputParameters)
	p := ev.Parameters
	switch c.Name {
	case backup.ControlProtectedByBackupPlan:
		ev.Resources = protectedByPlan(c.Scope, in)
	case backup.ControlLastRecoveryPointCreated:
		ev.Resources = lastRecoveryPoint(c.Scope, in, duration(p[backup.ParamRecoveryPointAgeUnit], p[backup.ParamRecoveryPointAgeValue]))
	case backup.ControlPlanMinFrequencyRetention:
		ev.Resources = planFrequencyRetention(c.Scope, in,
			duration(p[backup.ParamRequiredFrequencyUnit], p[backup.ParamRequiredFrequencyValue]), atoi(p[backup.ParamRequiredRetentionDays]))
	case backup.ControlRecoveryPointMinRetention:
		ev.Resources = pointRetention(c.Scope, in, atoi(p[backup.ParamRequiredRetentionDays]))
	case backup.ControlRecoveryPointManualDeletion:
		ev.Resources = manualDeletion(c.Scope, in, p[backup.ParamPrincipalArnList])
	}
	ev.Compliance = backup.Compliant
	for _, r := range ev.Resources {
		if r.Compliance != backup.Compliant {
			ev.Compliance = backup.NonCompliant
			break
		}
	}
	if def.Evaluates == backup.EvaluatesResource && len(in.FailedSources) > 0 {
		ev.Note = fmt.Sprintf("the tables of source(s) %s could not be listed and are not evaluated", strings.Join(in.FailedSources, ", "))
	}
	return ev
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func duration(unit, value string) time.Duration {
	n := time.Duration(atoi(value))
	if unit == backup.UnitHours {
		return n * time.Hour
	}
	return n * 24 * time.Hour
}

// span says a duration the way the control's parameters give it.
func span(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int64(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	h := d.Hours()
	if h == float64(int64(h)) {
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", int64(h))
	}
	return d.Round(time.Minute).String()
}

// scope matching

// tagsMatch reports whether tags satisfy the scope's tag: the key present,
// with the value unless the scope's value is empty.
func tagsMatch(scope map[string]string, tags map[string]string) bool {
	for k, v := range scope {
		got, ok := tags[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

func idMatch(ids []string, names ...string) bool {
	if len(ids) == 0 {
		return true
	}
	for _, id := range ids {
		for _, n := range names {
			if n != "" && id == n {
				return true
			}
		}
	}
	return false
}

func typeMatch(types []string, t string) bool {
	return len(types) == 0 || slices.Contains(types, t)
}

func tablesInScope(s backup.ControlScope, in *Inputs) []backup.Resource {
	var out []backup.Resource
	for _, t := range in.Tables {
		if typeMatch(s.ComplianceResourceTypes, t.Type) && idMatch(s.ComplianceResourceIDs, t.ARN, t.Name) && tagsMatch(s.Tags, t.Tags) {
			out = append(out, t)
		}
	}
	return out
}

func tableVerdict(t backup.Resource, ok bool, reason string) backup.ResourceEvaluation {
	c := backup.NonCompliant
	if ok {
		c = backup.Compliant
	}
	return backup.ResourceEvaluation{ResourceARN: t.ARN, ResourceType: TypeTable, ResourceName: t.Name, Compliance: c, Reason: reason}
}

// BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN: a table is compliant when a
// selection of a live plan covers it.
func protectedByPlan(s backup.ControlScope, in *Inputs) []backup.ResourceEvaluation {
	tables := tablesInScope(s, in)
	by := map[string]backup.Assignment{}
	for _, a := range backup.Resolve(in.Plans, tables) {
		if _, ok := by[a.Resource.ARN]; !ok {
			by[a.Resource.ARN] = a
		}
	}
	out := []backup.ResourceEvaluation{}
	for _, t := range tables {
		if a, ok := by[t.ARN]; ok {
			out = append(out, tableVerdict(t, true, fmt.Sprintf("selection %s of backup plan %s covers the table",
				a.Selection.SelectionName, a.Plan.BackupPlanName)))
		} else {
			out = append(out, tableVerdict(t, false, "no selection of any backup plan covers the table"))
		}
	}
	return out
}

// latestCompleted returns each resource's newest COMPLETED recovery point.
func latestCompleted(points []*backup.RecoveryPoint) map[string]*backup.RecoveryPoint {
	m := map[string]*backup.RecoveryPoint{}
	for _, p := range points {
		if p.Status != backup.RecoveryPointCompleted {
			continue
		}
		if q, ok := m[p.ResourceARN]; !ok || p.CreationDate.After(q.CreationDate) {
			m[p.ResourceARN] = p
		}
	}
	return m
}

// BACKUP_LAST_RECOVERY_POINT_CREATED: a table is compliant when it has a
// COMPLETED recovery point created within maxAge before now.
func lastRecoveryPoint(s backup.ControlScope, in *Inputs, maxAge time.Duration) []backup.ResourceEvaluation {
	latest := latestCompleted(in.Points)
	out := []backup.ResourceEvaluation{}
	for _, t := range tablesInScope(s, in) {
		p, ok := latest[t.ARN]
		switch {
		case !ok:
			out = append(out, tableVerdict(t, false, "the table has no completed recovery point"))
		case in.Now.Sub(p.CreationDate) > maxAge:
			out = append(out, tableVerdict(t, false, fmt.Sprintf("the last completed recovery point (%s, %s) is %s old, older than %s",
				p.ID, p.CreationDate.UTC().Format(time.RFC3339), age(in.Now.Sub(p.CreationDate)), span(maxAge))))
		default:
			out = append(out, tableVerdict(t, true, fmt.Sprintf("recovery point %s was created %s ago, within %s",
				p.ID, age(in.Now.Sub(p.CreationDate)), span(maxAge))))
		}
	}
	return out
}

func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Truncate(time.Minute).String()
}

// BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK: a plan is compliant
// when one of its rules runs at least every freq and keeps its points at
// least retentionDays (a rule without DeleteAfterDays keeps them for ever).
func planFrequencyRetention(s backup.ControlScope, in *Inputs, freq time.Duration, retentionDays int64) []backup.ResourceEvaluation {
	out := []backup.ResourceEvaluation{}
	for _, ps := range in.Plans {
		p := ps.Plan
		if !p.DeletionDate.IsZero() || !idMatch(s.ComplianceResourceIDs, p.ID, p.ARN, p.BackupPlanName) || !tagsMatch(s.Tags, p.Tags) {
			continue
		}
		v := backup.ResourceEvaluation{ResourceARN: p.ARN, ResourceType: TypeBackupPlan, ResourceName: p.BackupPlanName, Compliance: backup.NonCompliant}
		var whyNot []string
		for _, r := range p.Rules {
			ok, why := ruleMeets(r, in.Now, freq, retentionDays)
			if ok {
				v.Compliance, v.Reason = backup.Compliant, fmt.Sprintf("rule %s %s", r.RuleName, why)
				whyNot = nil
				break
			}
			whyNot = append(whyNot, fmt.Sprintf("rule %s %s", r.RuleName, why))
		}
		if v.Compliance != backup.Compliant {
			if len(whyNot) == 0 {
				v.Reason = "the plan has no rules"
			} else {
				v.Reason = "no rule runs at least every " + span(freq) + fmt.Sprintf(" and keeps points at least %d days: ", retentionDays) +
					strings.Join(whyNot, "; ")
			}
		}
		out = append(out, v)
	}
	return out
}

// maxRuns bounds how many upcoming runs of a schedule are looked at to find
// its longest gap.
const maxRuns = 5000

// horizon is how far ahead runs are looked at: more than a year, so that
// monthly and yearly patterns show their longest gap.
const horizon = 400 * 24 * time.Hour

// dstSlack is the longest gap a time zone change adds between two runs of
// a daily schedule (a 05:00 run is 25 hours after the previous one when
// clocks go back).
const dstSlack = time.Hour

// ruleMeets says whether a rule satisfies the frequency and retention, and why.
func ruleMeets(r backup.BackupRule, now time.Time, freq time.Duration, retentionDays int64) (bool, string) {
	expr, tz := r.ScheduleExpression, r.ScheduleExpressionTimezone
	if expr == "" {
		expr = backup.DefaultScheduleExpression
	}
	sched, err := schedule.Parse(expr, tz)
	if err != nil {
		return false, fmt.Sprintf("has a schedule cairn cannot read (%v)", err)
	}
	gap, runs := longestGap(sched, now)
	freqOK := runs >= 2 && gap <= freq
	if !freqOK && runs >= 2 && tz != "" && tz != "UTC" && tz != backup.DefaultScheduleExpressionTimezone {
		freqOK = gap <= freq+dstSlack
	}
	retOK := r.Lifecycle.DeleteAfterDays == 0 || r.Lifecycle.DeleteAfterDays >= retentionDays
	keep := "keeps points until they are deleted by hand"
	if r.Lifecycle.DeleteAfterDays > 0 {
		keep = fmt.Sprintf("keeps points %d days", r.Lifecycle.DeleteAfterDays)
	}
	every := "runs fewer than twice in the next 400 days"
	if runs >= 2 {
		every = "runs at least every " + span(gap)
	}
	return freqOK && retOK, fmt.Sprintf("(%s) %s and %s", expr, every, keep)
}

// longestGap returns the longest time between two consecutive runs of s
// from now on (within horizon and maxRuns), and how many runs it saw.
func longestGap(s *schedule.Schedule, now time.Time) (time.Duration, int) {
	var gap time.Duration
	prev := s.Next(now)
	if prev.IsZero() {
		return 0, 0
	}
	runs := 1
	end := now.Add(horizon)
	for runs < maxRuns {
		t := s.Next(prev)
		if t.IsZero() || t.After(end) {
			break
		}
		gap = max(gap, t.Sub(prev))
		prev = t
		runs++
	}
	return gap, runs
}

// BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK: a COMPLETED recovery
// point is compliant when its lifecycle keeps it at least retentionDays
// after its creation (or for ever).
func pointRetention(s backup.ControlScope, in *Inputs, retentionDays int64) []backup.ResourceEvaluation {
	out := []backup.ResourceEvaluation{}
	for _, p := range in.Points {
		if p.Status != backup.RecoveryPointCompleted || !typeMatch(s.ComplianceResourceTypes, p.ResourceType) ||
			!idMatch(s.ComplianceResourceIDs, p.ARN, p.ID, p.ResourceARN, p.ResourceName) || !tagsMatch(s.Tags, p.Tags) {
			continue
		}
		v := backup.ResourceEvaluation{ResourceARN: p.ARN, ResourceType: TypeRecoveryPoint, ResourceName: p.ResourceName}
		switch d := p.Lifecycle.DeleteAfterDays; {
		case d == 0:
			v.Compliance, v.Reason = backup.Compliant, "the point has no expiry: it is kept until deleted by hand"
		case d >= retentionDays:
			v.Compliance, v.Reason = backup.Compliant, fmt.Sprintf("the point is kept %d days, at least %d", d, retentionDays)
		default:
			v.Compliance, v.Reason = backup.NonCompliant, fmt.Sprintf("the point is kept %d days, fewer than %d", d, retentionDays)
		}
		out = append(out, v)
	}
	return out
}

// BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED: AWS looks for a vault
// access policy that denies DeleteRecoveryPoint, UpdateRecoveryPointLifecycle
// and PutBackupVaultAccessPolicy to everyone but principalArnList. cairn's
// vaults have no access policies: every caller that holds the server's key
// may delete recovery points, so every vault is NON_COMPLIANT.
func manualDeletion(s backup.ControlScope, in *Inputs, principals string) []backup.ResourceEvaluation {
	out := []backup.ResourceEvaluation{}
	reason := "cairn vaults have no access policy (PutBackupVaultAccessPolicy is not supported): any caller holding the " +
		"server's key can call DeleteRecoveryPoint and UpdateRecoveryPointLifecycle on this vault"
	if strings.TrimSpace(principals) != "" {
		reason += "; the principals in principalArnList change nothing, as no policy denies anyone else"
	}
	for _, v := range in.Vaults {
		if !idMatch(s.ComplianceResourceIDs, v.Name, v.ARN) || !tagsMatch(s.Tags, v.Tags) {
			continue
		}
		out = append(out, backup.ResourceEvaluation{ResourceARN: v.ARN, ResourceType: TypeBackupVault, ResourceName: v.Name,
			Compliance: backup.NonCompliant, Reason: reason})
	}
	return out
}
