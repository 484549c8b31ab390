package backup

import "fmt"

// ValidateWindows checks a job's start and completion windows in minutes as
// AWS checks a backup rule's, and returns them with AWS's defaults filled
// in; nil means the member was left out (DefaultStartWindowMinutes,
// DefaultCompletionWindowMinutes). The rules, the same for plan rules and
// on-demand jobs: the start window is MinStartWindowMinutes to
// MaxWindowMinutes (100 years), the completion window at most
// MaxWindowMinutes and at least MinCompletionAfterStartMinutes longer than
// the start window. startName and completionName are the members' names
// (StartWindowMinutes; CompletionWindowMinutes in a rule,
// CompleteWindowMinutes in StartBackupJob). An error is an
// ErrInvalidParameter *Error whose Context is the member at fault.
func ValidateWindows(startName string, start *int64, completionName string, completion *int64) (int64, int64, error) {
	s, c := int64(DefaultStartWindowMinutes), int64(DefaultCompletionWindowMinutes)
	if start != nil {
		s = *start
	}
	if completion != nil {
		c = *completion
	}
	bad := func(member, format string, args ...any) (int64, int64, error) {
		return 0, 0, &Error{Code: ErrInvalidParameter, Type: "Parameter", Context: member,
			Message: member + " " + fmt.Sprintf(format, args...)}
	}
	switch {
	case s < MinStartWindowMinutes:
		return bad(startName, "must be at least %d; got %d (minutes; leave it out for the default, %d)", MinStartWindowMinutes, s, DefaultStartWindowMinutes)
	case s > MaxWindowMinutes:
		return bad(startName, "must be at most %d (100 years); got %d", MaxWindowMinutes, s)
	case c > MaxWindowMinutes:
		return bad(completionName, "must be at most %d (100 years); got %d", MaxWindowMinutes, c)
	case c < s+MinCompletionAfterStartMinutes:
		return bad(completionName, "must be at least %d minutes longer than %s (%d), so at least %d; got %d",
			MinCompletionAfterStartMinutes, startName, s, s+MinCompletionAfterStartMinutes, c)
	}
	return s, c, nil
}

// given returns nil for 0, the stored form of a window left out, and &v
// otherwise.
func given(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// ValidateStartBackupJob checks an on-demand backup job's request with the
// rules a plan rule is checked with (ValidatePlanDocument): the vault name,
// a DynamoDB table ARN with a 12-digit account, an IAM role ARN, the start
// and completion windows (ValidateWindows; 0 means left out), the lifecycle
// (ValidateLifecycle) and the recovery point tags (ValidateTags). It changes
// nothing; errors are ErrMissingParameter or ErrInvalidParameter *Error
// naming the member at fault. The API layer checks before the service is
// called, and the service checks again for its other callers.
func ValidateStartBackupJob(in *StartBackupJobInput) error {
	switch {
	case in.VaultName == "":
		return &Error{Code: ErrMissingParameter, Message: "BackupVaultName is required", Type: "Parameter", Context: "BackupVaultName"}
	case in.ResourceARN == "":
		return &Error{Code: ErrMissingParameter, Message: "ResourceArn is required", Type: "Parameter", Context: "ResourceArn"}
	case in.IAMRoleARN == "":
		return &Error{Code: ErrMissingParameter, Message: "IamRoleArn is required", Type: "Parameter", Context: "IamRoleArn"}
	}
	if err := ValidateVaultName(in.VaultName); err != nil {
		return inParameter("BackupVaultName", err)
	}
	if _, _, err := ParseTableARN(in.ResourceARN); err != nil {
		return inParameter("ResourceArn", err)
	}
	if err := ValidateRoleARN(in.IAMRoleARN); err != nil {
		return inParameter("IamRoleArn", err)
	}
	if _, _, err := ValidateWindows("StartWindowMinutes", given(in.StartWindowMins), "CompleteWindowMinutes", given(in.CompleteWindowMin)); err != nil {
		return err
	}
	if err := validateLifecycle("Lifecycle", "Lifecycle", in.Lifecycle); err != nil {
		return err
	}
	return ValidateTags("RecoveryPointTags", in.RecoveryPointTags)
}

// inParameter returns err's message prefixed with the member it is about,
// as an ErrInvalidParameter *Error naming it.
func inParameter(member string, err error) *Error {
	return &Error{Code: ErrInvalidParameter, Message: member + ": " + errorMessage(err), Type: "Parameter", Context: member, Err: err}
}
