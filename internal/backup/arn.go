package backup

import "strings"

// ResourceTypeDynamoDB is the ResourceType AWS Backup uses for DynamoDB tables.
const ResourceTypeDynamoDB = "DynamoDB"

// ARN is a parsed Amazon Resource Name:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// ParseARN parses s as an ARN. It returns an ErrInvalidParameter error for
// anything that is not one.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, Errorf(ErrInvalidParameter, "%q is not a valid ARN (expected arn:partition:service:region:account:resource)", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, nil
}

// TableARN returns the ARN of a DynamoDB table.
func TableARN(region, account, table string) string {
	return ARN{Partition: "aws", Service: "dynamodb", Region: region, AccountID: account, Resource: "table/" + table}.String()
}

// ParseTableARN parses a DynamoDB table ARN
// (arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME, with a region and a
// 12-digit account) and returns it with the table name.
func ParseTableARN(s string) (ARN, string, error) {
	a, err := ParseARN(s)
	if err != nil {
		return ARN{}, "", err
	}
	name, ok := strings.CutPrefix(a.Resource, "table/")
	if a.Service != "dynamodb" || !ok || name == "" || strings.Contains(name, "/") || ValidateTableName(name) != nil {
		return ARN{}, "", Errorf(ErrInvalidParameter, "%q is not a DynamoDB table ARN (expected arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)", s)
	}
	if !validRegion(a.Region) || !isAccountID(a.AccountID) {
		return ARN{}, "", Errorf(ErrInvalidParameter, "%q must name a region and a 12-digit account (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME, for example arn:aws:dynamodb:us-east-1:123456789012:table/%s)", s, name)
	}
	return a, name, nil
}

// validRegion reports whether s can be a region name: lower-case letters,
// digits and '-', starting with a letter, at most 50 long.
func validRegion(s string) bool {
	if len(s) < 1 || len(s) > 50 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// VaultARN returns the ARN of a backup vault.
func VaultARN(region, account, vault string) string {
	return ARN{Partition: "aws", Service: "backup", Region: region, AccountID: account, Resource: "backup-vault:" + vault}.String()
}

// RecoveryPointARN returns the ARN of a recovery point.
func RecoveryPointARN(region, account, id string) string {
	return ARN{Partition: "aws", Service: "backup", Region: region, AccountID: account, Resource: "recovery-point:" + id}.String()
}

// ParseRecoveryPointARN returns the id of a recovery point ARN.
func ParseRecoveryPointARN(s string) (string, error) {
	a, err := ParseARN(s)
	if err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(a.Resource, "recovery-point:")
	if a.Service != "backup" || !ok || id == "" {
		return "", Errorf(ErrInvalidParameter, "%q is not a recovery point ARN (expected arn:aws:backup:REGION:ACCOUNT:recovery-point:ID)", s)
	}
	return id, nil
}

// ValidateVaultName checks a backup vault name as AWS does: 2 to 50
// characters from letters, digits, '-' and '_' (AWS's pattern
// ^[a-zA-Z0-9\-\_]{2,50}$).
func ValidateVaultName(name string) error {
	if len(name) < 2 || len(name) > 50 {
		return Errorf(ErrInvalidParameter, "backup vault name %q must be 2 to 50 characters long", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Errorf(ErrInvalidParameter, "backup vault name %q may contain only letters, digits, '-' and '_'", name)
		}
	}
	return nil
}

// ValidateTableName checks a DynamoDB table name: 3 to 255 characters from
// letters, digits, '_', '-' and '.'.
func ValidateTableName(name string) error {
	if len(name) < 3 || len(name) > 255 {
		return Errorf(ErrInvalidParameter, "table name %q must be 3 to 255 characters long", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return Errorf(ErrInvalidParameter, "table name %q may contain only letters, digits, '_', '-' and '.'", name)
		}
	}
	return nil
}

// TableNameFromARN is a convenience for callers that already validated arn.
func TableNameFromARN(arn string) string {
	_, name, err := ParseTableARN(arn)
	if err != nil {
		return ""
	}
	return name
}
