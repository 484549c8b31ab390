package backup

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// PolicyType is the type of a governance policy, as AWS Organizations
// names it.
type PolicyType string

// The policy types cairn stores.
const (
	PolicyTypeTag    PolicyType = "TAG_POLICY"
	PolicyTypeBackup PolicyType = "BACKUP_POLICY"
)

// Valid reports whether t is a policy type cairn knows.
func (t PolicyType) Valid() bool { return t == PolicyTypeTag || t == PolicyTypeBackup }

// OnViolation says what governance does with a tag value a tag policy does
// not allow.
type OnViolation string

// The values of PolicyOptions.OnViolation.
const (
	// OnViolationReport records the violation and changes nothing (the
	// default).
	OnViolationReport OnViolation = "report"
	// OnViolationRemediate resets the tag to the policy's default value.
	OnViolationRemediate OnViolation = "remediate"
)

// PolicyOptions are cairn's own settings of one policy, for which AWS's
// policy syntax has no place: they are stored beside the document, never in
// it (cairn policy apply's flags). internal/policy calls them
// policy.Options.
type PolicyOptions struct {
	// DefaultValue is the value governance gives the policy's tag keys on
	// tables that lack them; empty means tables are not tagged, only
	// reported. It must be a value the policy allows.
	DefaultValue string `json:",omitempty"`
	// OnViolation is what to do with a value the policy does not allow;
	// empty means OnViolationReport.
	OnViolation OnViolation `json:",omitempty"`
	// Exclude lists tables out of the policy's scope: a pattern on the
	// table name ('*' and '?' wildcards, as path.Match), or "source:NAME"
	// for every table of a configured source (NAME may be a pattern too).
	Exclude []string `json:",omitempty"`
	// DryRun reports what governance would change and changes nothing.
	DryRun bool `json:",omitempty"`
}

// ExcludeSourcePrefix starts an Exclude entry that names a source.
const ExcludeSourcePrefix = "source:"

// Validate checks the options' form (not that DefaultValue is allowed: that
// needs the document, see internal/policy). Errors are ErrInvalidParameter
// *Error naming the option.
func (o PolicyOptions) Validate() error {
	switch o.OnViolation {
	case "", OnViolationReport, OnViolationRemediate:
	default:
		return &Error{Code: ErrInvalidParameter, Type: "Policy", Context: "OnViolation",
			Message: fmt.Sprintf("on-violation must be %q or %q; got %q", OnViolationReport, OnViolationRemediate, o.OnViolation)}
	}
	if o.OnViolation == OnViolationRemediate && o.DefaultValue == "" {
		return &Error{Code: ErrInvalidParameter, Type: "Policy", Context: "DefaultValue",
			Message: "on-violation remediate resets a tag to the default value: give one (--default-value)"}
	}
	for i, p := range o.Exclude {
		pat := strings.TrimPrefix(p, ExcludeSourcePrefix)
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			return &Error{Code: ErrInvalidParameter, Type: "Policy", Context: fmt.Sprintf("Exclude[%d]", i),
				Message: fmt.Sprintf("exclude %q must be a table name pattern (* and ? wildcards) or source:NAME", p)}
		}
	}
	return nil
}

// Effective returns OnViolation with its default filled in.
func (o PolicyOptions) Effective() OnViolation {
	if o.OnViolation == "" {
		return OnViolationReport
	}
	return o.OnViolation
}

// Excludes reports whether the options take the table of that name in that
// source out of the policy's scope.
func (o PolicyOptions) Excludes(source, table string) bool {
	for _, p := range o.Exclude {
		if s, ok := strings.CutPrefix(p, ExcludeSourcePrefix); ok {
			if m, _ := path.Match(s, source); m {
				return true
			}
			continue
		}
		if m, _ := path.Match(p, table); m {
			return true
		}
	}
	return false
}

// Policy is a governance policy as cairn stores it: an AWS Organizations
// TAG_POLICY or BACKUP_POLICY document, as given, and cairn's options.
type Policy struct {
	Name           string
	Type           PolicyType
	Document       string
	Options        PolicyOptions
	CreationDate   time.Time
	LastUpdateDate time.Time
}

// ValidatePolicyName checks a policy's name: 1 to 128 letters, digits and
// '-', '_', '.'.
func ValidatePolicyName(name string) error {
	ok := len(name) >= 1 && len(name) <= 128
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return &Error{Code: ErrInvalidParameter, Type: "Policy", Context: "Name",
			Message: fmt.Sprintf("policy name %q must be 1 to 128 letters, digits, '-', '_' or '.'", name)}
	}
	return nil
}
