package backup

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits AWS Backup puts on one selection.
const (
	// MaxSelectionARNs is how many entries Resources (or NotResources) may
	// have when none has a wildcard.
	MaxSelectionARNs = 500
	// MaxSelectionWildcardARNs is how many entries Resources (or
	// NotResources) may have when any has a wildcard.
	MaxSelectionWildcardARNs = 30
	// MaxSelectionTagConditions is how many entries ListOfTags, and
	// Conditions altogether, may have.
	MaxSelectionTagConditions = 30
)

// Match reports whether the selection covers resource r, and why or why not
// in words meant for users ("tag backup=daily matches ListOfTags", "no tag
// backup (ListOfTags wants backup=daily)", "excluded by NotResources ARN").
// See SelectionMatcher for the rules; to match many resources, compile the
// selection once with NewSelectionMatcher.
func (s *BackupSelection) Match(r Resource) (bool, string) {
	return NewSelectionMatcher(s).Match(r)
}

// ValidateSelectionDocument checks a selection as AWS does: SelectionName
// and IamRoleArn are required; Resources and NotResources hold ARNs (with
// '*' and '?' wildcards) or "*"; ListOfTags entries are STRINGEQUALS tag
// conditions; Conditions keys are "aws:ResourceTag/KEY". A selection with
// neither Resources nor ListOfTags selects every resource (narrowed by
// Conditions and NotResources), as in AWS. On error the *Error names the
// field at fault in Context and says what to change.
func ValidateSelectionDocument(d *SelectionDocument) error {
	if d == nil {
		return selMissing("BackupSelection", "BackupSelection is required")
	}
	if d.SelectionName == "" {
		return selMissing("SelectionName", "SelectionName is required")
	}
	if !validName(d.SelectionName) {
		return selInvalid("SelectionName", "SelectionName %q must be 1 to 50 letters, digits, '-', '_' or '.'", d.SelectionName)
	}
	if d.IAMRoleARN == "" {
		return selMissing("IamRoleArn", "IamRoleArn is required (the role AWS Backup would use, for example arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole)")
	}
	if err := ValidateRoleARN(d.IAMRoleARN); err != nil {
		return selInvalid("IamRoleArn", "IamRoleArn: %s", errorMessage(err))
	}
	if err := validateARNPatterns("Resources", d.Resources); err != nil {
		return err
	}
	if err := validateARNPatterns("NotResources", d.NotResources); err != nil {
		return err
	}
	if len(d.ListOfTags) > MaxSelectionTagConditions {
		return selInvalid("ListOfTags", "ListOfTags may have at most %d entries; got %d (use another selection for more)", MaxSelectionTagConditions, len(d.ListOfTags))
	}
	for i, t := range d.ListOfTags {
		at := fmt.Sprintf("ListOfTags[%d]", i)
		if t.ConditionType != ConditionStringEquals {
			return selInvalid(at+".ConditionType", "%s.ConditionType must be %s (the only type ListOfTags has; use Conditions for others); got %q", at, ConditionStringEquals, t.ConditionType)
		}
		if err := validateConditionTag(at, tagKeyOf(t.ConditionKey), t.ConditionValue); err != nil {
			return err
		}
	}
	c := d.Conditions
	if n := len(c.StringEquals) + len(c.StringNotEquals) + len(c.StringLike) + len(c.StringNotLike); n > MaxSelectionTagConditions {
		return selInvalid("Conditions", "Conditions may have at most %d entries altogether; got %d", MaxSelectionTagConditions, n)
	}
	for _, group := range []struct {
		name string
		list []ConditionParameter
	}{{"StringEquals", c.StringEquals}, {"StringNotEquals", c.StringNotEquals}, {"StringLike", c.StringLike}, {"StringNotLike", c.StringNotLike}} {
		for i, p := range group.list {
			at := fmt.Sprintf("Conditions.%s[%d]", group.name, i)
			key, ok := strings.CutPrefix(p.ConditionKey, ResourceTagPrefix)
			if !ok {
				return selInvalid(at+".ConditionKey", "%s.ConditionKey must be %sKEY for the resource tag KEY; got %q", at, ResourceTagPrefix, p.ConditionKey)
			}
			if err := validateConditionTag(at, key, p.ConditionValue); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateConditionTag(at, key, value string) error {
	if n := utf8.RuneCountInString(key); n < 1 || n > 128 {
		return selInvalid(at+".ConditionKey", "%s: the tag key must be 1 to 128 characters long; got %q", at, key)
	}
	if utf8.RuneCountInString(value) > 256 {
		return selInvalid(at+".ConditionValue", "%s: the tag value must be at most 256 characters long", at)
	}
	if !utf8.ValidString(key) || !utf8.ValidString(value) {
		return selInvalid(at, "%s: tag keys and values must be valid UTF-8", at)
	}
	return nil
}

// validateARNPatterns checks Resources or NotResources: each entry "*" or
// an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) that may hold
// wildcards, at most MaxSelectionARNs of them, or MaxSelectionWildcardARNs
// if any has a wildcard.
func validateARNPatterns(field string, list []string) error {
	wild := 0
	for i, p := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		if strings.ContainsAny(p, "*?") {
			wild++
		}
		if p == "*" {
			continue
		}
		parts := strings.SplitN(p, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" || !utf8.ValidString(p) || len(p) > 1600 {
			return selInvalid(at, "%s %q must be an ARN such as arn:aws:dynamodb:us-east-1:123456789012:table/orders, optionally with * wildcards (arn:aws:dynamodb:*:*:table/orders-*), or * for all resources", at, p)
		}
	}
	if wild > 0 && len(list) > MaxSelectionWildcardARNs {
		return selInvalid(field, "%s may have at most %d entries when any has a wildcard; got %d", field, MaxSelectionWildcardARNs, len(list))
	}
	if len(list) > MaxSelectionARNs {
		return selInvalid(field, "%s may have at most %d entries; got %d (assign by tags instead)", field, MaxSelectionARNs, len(list))
	}
	return nil
}

func selMissing(context, format string, args ...any) *Error {
	return &Error{Code: ErrMissingParameter, Message: fmt.Sprintf(format, args...), Type: "BackupSelection", Context: context}
}

func selInvalid(context, format string, args ...any) *Error {
	return &Error{Code: ErrInvalidParameter, Message: fmt.Sprintf(format, args...), Type: "BackupSelection", Context: context}
}
