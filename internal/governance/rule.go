package governance

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Mode says what a pass does with a value a rule does not allow.
type Mode string

// Modes.
const (
	// ModeReport records the violation and leaves the value (default).
	ModeReport Mode = "report"
	// ModeRemediate records the violation and resets the value to the
	// rule's default.
	ModeRemediate Mode = "remediate"
)

// ResourceTypeTable is the enforced_for name of DynamoDB tables in AWS
// Organizations tag policies.
const ResourceTypeTable = "dynamodb:table"

// Rule is one required tag: a tag policy's tag_key, tag_value and
// enforced_for, with cairn's options (default value, mode, exclusions,
// dry run).
type Rule struct {
	// Name identifies the rule in records and reports (a policy's name).
	Name string
	// Key is the tag key tables must carry.
	Key string
	// Allowed are the values the key may have; empty allows any, and a
	// value ending in '*' allows any value with that prefix.
	Allowed []string
	// Default is the value a table without the key gets; it must be
	// allowed. Empty: tables without the key are reported, not tagged.
	Default string
	// OptOut is the allowed value that takes a table out of backups
	// (superwerker's "none"); its tables are OPTED_OUT. Empty: none.
	OptOut string
	// EnforcedFor lists the resource types the rule tags and remediates
	// ("dynamodb:table", or "dynamodb:*"); tables of a rule not enforced
	// for them are judged but never written to.
	EnforcedFor []string
	// Mode is what to do with a value not allowed; default ModeReport.
	Mode Mode
	// ExcludeTables are table name patterns (path.Match syntax: *, ?,
	// [a-z]) the rule leaves alone; ExcludeSources are source name
	// patterns.
	ExcludeTables  []string
	ExcludeSources []string
	// DryRun reports what would be written and writes nothing.
	DryRun bool
}

// Superwerker is superwerker's tag policy for DynamoDB: key
// superwerker:backup, allowed none and daily, new tables get daily.
func Superwerker() Rule {
	return Rule{
		Name:        "superwerker",
		Key:         "superwerker:backup",
		Allowed:     []string{"none", "daily"},
		Default:     "daily",
		OptOut:      "none",
		EnforcedFor: []string{ResourceTypeTable},
		Mode:        ModeReport,
	}
}

// Validate checks the rule and names the field at fault.
func (r *Rule) Validate() error {
	switch {
	case r.Name == "":
		return errors.New("governance rule: name is required")
	case r.Key == "":
		return fmt.Errorf("governance rule %s: key is required", r.Name)
	case strings.HasPrefix(strings.ToLower(r.Key), "aws:"):
		return fmt.Errorf("governance rule %s: key %q: the aws: prefix is reserved by AWS", r.Name, r.Key)
	case r.Default == "" && r.Mode == ModeRemediate:
		return fmt.Errorf("governance rule %s: mode remediate needs a default value to reset to", r.Name)
	case strings.Contains(r.Default, "*"):
		return fmt.Errorf("governance rule %s: default %q: a default value cannot hold a wildcard", r.Name, r.Default)
	case r.Default != "" && !r.allowed(r.Default):
		return fmt.Errorf("governance rule %s: default %q is not one of the allowed values %v", r.Name, r.Default, r.Allowed)
	case r.OptOut != "" && !r.allowed(r.OptOut):
		return fmt.Errorf("governance rule %s: opt_out %q is not one of the allowed values %v", r.Name, r.OptOut, r.Allowed)
	case r.Mode != "" && r.Mode != ModeReport && r.Mode != ModeRemediate:
		return fmt.Errorf("governance rule %s: mode %q: use report or remediate", r.Name, r.Mode)
	}
	for _, p := range r.ExcludeTables {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("governance rule %s: exclude_tables pattern %q: %w", r.Name, p, err)
		}
	}
	return nil
}

// allowed reports whether v is an allowed value. As in AWS tag policies,
// an allowed value ending in '*' allows every value with that prefix.
func (r *Rule) allowed(v string) bool {
	if len(r.Allowed) == 0 {
		return true
	}
	for _, a := range r.Allowed {
		if p, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(v, p) || a == v {
			return true
		}
	}
	return false
}

// mode is r.Mode with its default.
func (r *Rule) mode() Mode {
	if r.Mode == "" {
		return ModeReport
	}
	return r.Mode
}

// enforced reports whether the rule writes tags on DynamoDB tables.
func (r *Rule) enforced() bool {
	return slices.Contains(r.EnforcedFor, ResourceTypeTable) || slices.Contains(r.EnforcedFor, "dynamodb:*") ||
		slices.Contains(r.EnforcedFor, "dynamodb:ALL_SUPPORTED")
}

// excluded says why the rule leaves table of source alone, or "".
func (r *Rule) excluded(source, table string) string {
	for _, p := range r.ExcludeSources {
		if ok, _ := path.Match(p, source); ok {
			return fmt.Sprintf("source %s excluded by rule %s", source, r.Name)
		}
	}
	for _, p := range r.ExcludeTables {
		if ok, _ := path.Match(p, table); ok {
			return fmt.Sprintf("table name matches exclusion %q of rule %s", p, r.Name)
		}
	}
	return ""
}
