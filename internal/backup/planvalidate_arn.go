package backup

import "strings"

// ParseVaultARN parses a backup vault ARN
// (arn:PARTITION:backup:REGION:ACCOUNT:backup-vault:NAME) and returns it
// with the vault name. Anything else is an ErrInvalidParameter error.
func ParseVaultARN(s string) (ARN, string, error) {
	bad := func() (ARN, string, error) {
		return ARN{}, "", Errorf(ErrInvalidParameter, "%q is not a backup vault ARN (expected arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME with a 12-digit account)", s)
	}
	a, err := ParseARN(s)
	if err != nil {
		return bad()
	}
	name, ok := strings.CutPrefix(a.Resource, "backup-vault:")
	if a.Service != "backup" || !ok || a.Region == "" || !isAccountID(a.AccountID) {
		return bad()
	}
	if err := ValidateVaultName(name); err != nil {
		return ARN{}, "", Errorf(ErrInvalidParameter, "%q: %s", s, errorMessage(err))
	}
	return a, name, nil
}

// ValidateRoleARN checks that s is an IAM role ARN
// (arn:PARTITION:iam::ACCOUNT:role/NAME, the role name possibly after a
// path).
func ValidateRoleARN(s string) error {
	a, err := ParseARN(s)
	name, ok := strings.CutPrefix(a.Resource, "role/")
	if err != nil || a.Service != "iam" || !ok || name == "" || strings.HasSuffix(name, "/") {
		return Errorf(ErrInvalidParameter, "%q is not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME)", s)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
