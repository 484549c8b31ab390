package backup

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/schedule"
)

// Limits AWS Backup puts on plans.
const (
	// DefaultScheduleExpressionTimezone is the time zone AWS reports for a
	// rule created without one.
	DefaultScheduleExpressionTimezone = "Etc/UTC"
	// MaxWindowMinutes is the longest start or completion window (100 years).
	MaxWindowMinutes = 52_560_000
	// MinCompletionAfterStartMinutes is how much longer than the start
	// window the completion window must be.
	MinCompletionAfterStartMinutes = 60
)

// ValidatePlanDocument checks a plan as AWS does (names, windows, lifecycle,
// schedule expression and time zone, copy destinations, recovery point tags)
// and fills in AWS's defaults: ScheduleExpression
// DefaultScheduleExpression, ScheduleExpressionTimezone
// DefaultScheduleExpressionTimezone, StartWindowMinutes
// DefaultStartWindowMinutes and CompletionWindowMinutes
// DefaultCompletionWindowMinutes. It does not check that vaults exist. On
// error d is left unchanged and the *Error (ErrMissingParameter or
// ErrInvalidParameter) names the field at fault in Context and says what to
// change.
func ValidatePlanDocument(d *PlanDocument) error {
	if d == nil {
		return planMissing("BackupPlan", "BackupPlan is required")
	}
	if d.BackupPlanName == "" {
		return planMissing("BackupPlanName", "BackupPlanName is required")
	}
	if !validName(d.BackupPlanName) {
		return planInvalid("BackupPlanName", "BackupPlanName %q must be 1 to 50 letters, digits, '-', '_' or '.'", d.BackupPlanName)
	}
	if len(d.Rules) == 0 {
		return planMissing("Rules", "a backup plan needs at least one rule in Rules")
	}
	// Validate a copy of the rules with defaults filled, so that d is
	// changed only when all of it is valid.
	rules := make([]BackupRule, len(d.Rules))
	names := make(map[string]int, len(d.Rules))
	for i := range d.Rules {
		r := d.Rules[i]
		if err := validateRule(i, &r); err != nil {
			return err
		}
		if j, dup := names[r.RuleName]; dup {
			return planInvalid(fmt.Sprintf("Rules[%d].RuleName", i), "RuleName %q is used by Rules[%d] and Rules[%d]; rule names must be unique within a plan", r.RuleName, j, i)
		}
		names[r.RuleName] = i
		rules[i] = r
	}
	for i, s := range d.AdvancedBackupSettings {
		if !validName(s.ResourceType) {
			return planInvalid(fmt.Sprintf("AdvancedBackupSettings[%d].ResourceType", i), "AdvancedBackupSettings[%d].ResourceType %q must be 1 to 50 letters, digits, '-', '_' or '.' (for example EC2)", i, s.ResourceType)
		}
	}
	copy(d.Rules, rules)
	return nil
}

// validateRule checks rule i and fills its defaults in r.
func validateRule(i int, r *BackupRule) error {
	at := func(field string) string { return fmt.Sprintf("Rules[%d].%s", i, field) }
	if r.RuleName == "" {
		return planMissing(at("RuleName"), "Rules[%d].RuleName is required", i)
	}
	if !validName(r.RuleName) {
		return planInvalid(at("RuleName"), "RuleName %q must be 1 to 50 letters, digits, '-', '_' or '.'", r.RuleName)
	}
	rule := fmt.Sprintf("rule %q", r.RuleName)
	if r.TargetBackupVaultName == "" {
		return planMissing(at("TargetBackupVaultName"), "%s: TargetBackupVaultName is required", rule)
	}
	if err := ValidateVaultName(r.TargetBackupVaultName); err != nil {
		return planInvalid(at("TargetBackupVaultName"), "%s: TargetBackupVaultName: %s", rule, errorMessage(err))
	}
	if r.ScheduleExpression == "" {
		r.ScheduleExpression = DefaultScheduleExpression
	}
	if r.ScheduleExpressionTimezone == "" {
		r.ScheduleExpressionTimezone = DefaultScheduleExpressionTimezone
	}
	if _, err := schedule.Parse(r.ScheduleExpression, r.ScheduleExpressionTimezone); err != nil {
		field := "ScheduleExpression"
		var se *schedule.Error
		if errors.As(err, &se) && se.Field == "TimeZone" {
			field = "ScheduleExpressionTimezone"
		}
		return planInvalid(at(field), "%s: %s: %v", rule, field, err)
	}
	start, completion, err := ValidateWindows("StartWindowMinutes", given(r.StartWindowMinutes), "CompletionWindowMinutes", given(r.CompletionWindowMinutes))
	if err != nil {
		var e *Error
		errors.As(err, &e)
		return planInvalid(at(e.Context), "%s: %s", rule, e.Message)
	}
	r.StartWindowMinutes, r.CompletionWindowMinutes = start, completion
	if err := validateLifecycle(at("Lifecycle"), rule+": Lifecycle", r.Lifecycle); err != nil {
		return err
	}
	if err := ValidateTags("RecoveryPointTags", r.RecoveryPointTags); err != nil {
		return planInvalid(at("RecoveryPointTags"), "%s: %s", rule, errorMessage(err))
	}
	for j, c := range r.CopyActions {
		cat := at(fmt.Sprintf("CopyActions[%d]", j))
		what := fmt.Sprintf("%s: CopyActions[%d]", rule, j)
		if c.DestinationBackupVaultARN == "" {
			return planMissing(cat+".DestinationBackupVaultARN", "%s: DestinationBackupVaultArn is required", what)
		}
		if _, _, err := ParseVaultARN(c.DestinationBackupVaultARN); err != nil {
			return planInvalid(cat+".DestinationBackupVaultARN", "%s: DestinationBackupVaultArn: %s", what, errorMessage(err))
		}
		if err := validateLifecycle(cat+".Lifecycle", what+": Lifecycle", c.Lifecycle); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePlanRunsAfter checks that every rule of a plan that passed
// ValidatePlanDocument runs again after now: a schedule whose years have
// all passed (cron(0 5 * * ? 2020)) would never make a backup. An error is
// an ErrInvalidParameter *Error naming the rule's ScheduleExpression.
func ValidatePlanRunsAfter(d *PlanDocument, now time.Time) error {
	for i, r := range d.Rules {
		s, err := ParseSchedule(r.ScheduleExpression, r.ScheduleExpressionTimezone)
		if err != nil {
			return planInvalid(fmt.Sprintf("Rules[%d].ScheduleExpression", i), "rule %q: ScheduleExpression: %s", r.RuleName, errorMessage(err))
		}
		if s.Next(now).IsZero() {
			return planInvalid(fmt.Sprintf("Rules[%d].ScheduleExpression", i),
				"rule %q: ScheduleExpression %s has no run after %s: the years it names have passed; name a year to come or *",
				r.RuleName, r.ScheduleExpression, now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// ValidateLifecycle checks a lifecycle as AWS does: each value 0 (never) to
// MaxLifecycleDays, and DeleteAfterDays at least MoveToColdStorageAfterDays
// + MinColdStorageDays when both are set.
func ValidateLifecycle(l Lifecycle) error {
	return validateLifecycle("Lifecycle", "Lifecycle", l)
}

func validateLifecycle(context, what string, l Lifecycle) error {
	switch {
	case l.MoveToColdStorageAfterDays < 0 || l.MoveToColdStorageAfterDays > MaxLifecycleDays:
		return planInvalid(context+".MoveToColdStorageAfterDays", "%s: MoveToColdStorageAfterDays must be 1 to %d days (or left out); got %d", what, MaxLifecycleDays, l.MoveToColdStorageAfterDays)
	case l.DeleteAfterDays < 0 || l.DeleteAfterDays > MaxLifecycleDays:
		return planInvalid(context+".DeleteAfterDays", "%s: DeleteAfterDays must be 1 to %d days (or left out); got %d", what, MaxLifecycleDays, l.DeleteAfterDays)
	case l.MoveToColdStorageAfterDays > 0 && l.DeleteAfterDays > 0 && l.DeleteAfterDays < l.MoveToColdStorageAfterDays+MinColdStorageDays:
		return planInvalid(context+".DeleteAfterDays", "%s: DeleteAfterDays must be at least MoveToColdStorageAfterDays + %d (points stay in cold storage %d days at least), so at least %d; got %d",
			what, MinColdStorageDays, MinColdStorageDays, l.MoveToColdStorageAfterDays+MinColdStorageDays, l.DeleteAfterDays)
	}
	return nil
}

// validName reports whether s matches AWS's ^[a-zA-Z0-9\-\_\.]{1,50}$, the
// pattern of plan, rule and selection names.
func validName(s string) bool {
	if len(s) < 1 || len(s) > 50 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ParseSchedule parses a rule's ScheduleExpression in its
// ScheduleExpressionTimezone (empty: DefaultScheduleExpression, UTC), with
// errors as ErrInvalidParameter *Error. The scheduler and the plan preview
// use it on stored rules.
func ParseSchedule(expr, tz string) (*schedule.Schedule, error) {
	if expr == "" {
		expr = DefaultScheduleExpression
	}
	s, err := schedule.Parse(expr, tz)
	if err != nil {
		return nil, &Error{Code: ErrInvalidParameter, Message: err.Error(), Context: expr, Err: err}
	}
	return s, nil
}

func planMissing(context, format string, args ...any) *Error {
	return &Error{Code: ErrMissingParameter, Message: fmt.Sprintf(format, args...), Type: "BackupPlan", Context: context}
}

func planInvalid(context, format string, args ...any) *Error {
	return &Error{Code: ErrInvalidParameter, Message: fmt.Sprintf(format, args...), Type: "BackupPlan", Context: context}
}

// errorMessage returns the user-facing message of a domain error.
func errorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// PlanARN returns the ARN of a backup plan.
func PlanARN(region, account, id string) string {
	return ARN{Partition: "aws", Service: "backup", Region: region, AccountID: account, Resource: "backup-plan:" + id}.String()
}
