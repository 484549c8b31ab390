package backup

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// MaxRecoveryPointTags is how many tags a recovery point may carry.
	MaxRecoveryPointTags = 50
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
	if r.StartWindowMinutes == 0 {
		r.StartWindowMinutes = DefaultStartWindowMinutes
	}
	if r.CompletionWindowMinutes == 0 {
		r.CompletionWindowMinutes = DefaultCompletionWindowMinutes
	}
	switch {
	case r.StartWindowMinutes < MinStartWindowMinutes:
		return planInvalid(at("StartWindowMinutes"), "%s: StartWindowMinutes must be at least %d; got %d", rule, MinStartWindowMinutes, r.StartWindowMinutes)
	case r.StartWindowMinutes > MaxWindowMinutes:
		return planInvalid(at("StartWindowMinutes"), "%s: StartWindowMinutes must be at most %d (100 years); got %d", rule, MaxWindowMinutes, r.StartWindowMinutes)
	case r.CompletionWindowMinutes > MaxWindowMinutes:
		return planInvalid(at("CompletionWindowMinutes"), "%s: CompletionWindowMinutes must be at most %d (100 years); got %d", rule, MaxWindowMinutes, r.CompletionWindowMinutes)
	case r.CompletionWindowMinutes < r.StartWindowMinutes+MinCompletionAfterStartMinutes:
		return planInvalid(at("CompletionWindowMinutes"), "%s: CompletionWindowMinutes must be at least %d minutes longer than StartWindowMinutes (%d), so at least %d; got %d",
			rule, MinCompletionAfterStartMinutes, r.StartWindowMinutes, r.StartWindowMinutes+MinCompletionAfterStartMinutes, r.CompletionWindowMinutes)
	}
	if err := validateLifecycle(at("Lifecycle"), rule+": Lifecycle", r.Lifecycle); err != nil {
		return err
	}
	if err := validateTags(at("RecoveryPointTags"), rule+": RecoveryPointTags", r.RecoveryPointTags, MaxRecoveryPointTags); err != nil {
		return err
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

// validateTags checks tag keys and values as AWS does: keys 1 to 128
// characters, values at most 256, letters, digits, spaces and _ . : / = + - @
// only, no key starting with "aws:", at most max tags.
func validateTags(context, what string, tags map[string]string, max int) error {
	if len(tags) > max {
		return planInvalid(context, "%s: at most %d tags; got %d", what, max, len(tags))
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 {
			return planInvalid(context, "%s: tag key %q must be 1 to 128 characters long", what, k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return planInvalid(context, "%s: tag key %q: the prefix aws: is reserved for AWS", what, k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return planInvalid(context, "%s: the value of tag %q must be at most 256 characters long", what, k)
		}
		if !validTagText(k) || !validTagText(v) {
			return planInvalid(context, "%s: tag %q=%q may contain only letters, digits, spaces and _ . : / = + - @", what, k, v)
		}
	}
	return nil
}

func validTagText(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return utf8.ValidString(s)
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
