package policy

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Options are cairn's own settings of a policy, stored beside its document
// (see backup.PolicyOptions).
type Options = backup.PolicyOptions

// The values of Options.OnViolation.
const (
	OnViolationReport    = backup.OnViolationReport
	OnViolationRemediate = backup.OnViolationRemediate
)

// ResourceTypeDynamoDBTable is the enforced_for entry of DynamoDB tables.
const ResourceTypeDynamoDBTable = "dynamodb:table"

// TagRule is the effective rule of one tag key: what the tag policies
// stored in cairn say about it together.
type TagRule struct {
	// Policy is the name of the policy that set the rule (the last one, in
	// name order, of those that name the key).
	Policy string
	// Key is the tag key with the case the policy requires (tag_key; the
	// policy key in lower case when tag_key is left out).
	Key string
	// Values are the allowed values; a value may end in '*' (any value
	// with that prefix) or be '*'. Empty means any value is allowed.
	Values []string
	// EnforcedFor are the resource types (service:type, service:* or
	// service:ALL_SUPPORTED) for which the policy is enforced.
	EnforcedFor []string
	// ReportRequiredFor are the resource types that must carry the key
	// (report_required_tag_for).
	ReportRequiredFor []string
	// Options are the policy's own options.
	Options Options
}

// Allows reports whether value is one the rule allows.
func (r TagRule) Allows(value string) bool {
	if len(r.Values) == 0 {
		return true
	}
	for _, v := range r.Values {
		if p, ok := strings.CutSuffix(v, "*"); ok && strings.HasPrefix(value, p) || v == value {
			return true
		}
	}
	return false
}

// EnforcedOn reports whether the rule is enforced for resources of type t
// ("dynamodb:table").
func (r TagRule) EnforcedOn(t string) bool { return typeIn(r.EnforcedFor, t) }

// RequiredOn reports whether report_required_tag_for names type t.
func (r TagRule) RequiredOn(t string) bool { return typeIn(r.ReportRequiredFor, t) }

func typeIn(list []string, t string) bool {
	svc, _, _ := strings.Cut(t, ":")
	for _, e := range list {
		if e == t || e == svc+":*" || e == svc+":ALL_SUPPORTED" {
			return true
		}
	}
	return false
}

// tagKeySettings are the settings of one policy key in one document.
type tagKeySettings struct {
	policyKey string
	path      string
	tagKey    string // "" when tag_key is left out
	values    *setting
	enforced  *setting
	required  *setting
}

var resourceTypeRE = regexp.MustCompile(`^[a-z0-9-]+:([A-Za-z0-9-]+|\*|ALL_SUPPORTED)$`)

// parseTag validates a TAG_POLICY document and returns its keys' settings.
func parseTag(doc []byte) ([]tagKeySettings, error) {
	root, err := decode(doc)
	if err != nil {
		return nil, err
	}
	if err := section(root, "tags"); err != nil {
		return nil, err
	}
	tags := root.field("tags")
	if tags == nil {
		return nil, errorf("tags", "a tag policy needs \"tags\", with one element per tag key")
	}
	if err := section(tags); err != nil {
		return nil, err
	}
	var out []tagKeySettings
	seen := map[string]string{}
	for _, pk := range names(tags) {
		n := tags.obj[pk]
		if prev, dup := seen[strings.ToLower(pk)]; dup {
			return nil, errorf(n.path, "policy keys %q and %q differ only in case; a tag key is named once", prev, pk)
		}
		seen[strings.ToLower(pk)] = pk
		s, err := parseTagKey(pk, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseTagKey(pk string, n *node) (tagKeySettings, error) {
	s := tagKeySettings{policyKey: strings.ToLower(pk), path: n.path}
	if err := section(n, "tag_key", "tag_value", "enforced_for", "report_required_tag_for"); err != nil {
		return s, err
	}
	if err := backup.ValidateTagKey("", pk); err != nil {
		return s, errorf(n.path, "policy key: %s", errMessage(err))
	}
	if k := n.field("tag_key"); k != nil {
		set, err := leaf(k, false)
		if err != nil {
			return s, err
		}
		if s.tagKey, err = set.str(); err != nil {
			return s, err
		}
		if err := backup.ValidateTagKey("", s.tagKey); err != nil {
			return s, errorf(set.path, "%s", errMessage(err))
		}
		if !strings.EqualFold(s.tagKey, pk) {
			return s, errorf(set.path, "tag key %q must be the policy key %q up to case (it sets the case the key must have)", s.tagKey, pk)
		}
	}
	var err error
	if v := n.field("tag_value"); v != nil {
		if s.values, err = leaf(v, true); err != nil {
			return s, err
		}
		vals, err := s.values.strs()
		if err != nil {
			return s, err
		}
		for i, x := range vals {
			if err := backup.ValidateTag("", "k", strings.ReplaceAll(x, "*", "")); err != nil {
				return s, errorf(fmt.Sprintf("%s[%d]", s.values.path, i), "tag value %q: %s", x, strings.TrimPrefix(errMessage(err), "the value of tag \"k\" "))
			}
			if i := strings.IndexByte(x, '*'); i >= 0 && i != len(x)-1 {
				return s, errorf(s.values.path, "tag value %q: a wildcard * may only end a value (\"300*\") or be the whole value", x)
			}
		}
	}
	for _, f := range []struct {
		name string
		dst  **setting
	}{{"enforced_for", &s.enforced}, {"report_required_tag_for", &s.required}} {
		e := n.field(f.name)
		if e == nil {
			continue
		}
		if *f.dst, err = leaf(e, true); err != nil {
			return s, err
		}
		types, err := (*f.dst).strs()
		if err != nil {
			return s, err
		}
		for i, t := range types {
			if !resourceTypeRE.MatchString(t) {
				return s, errorf(fmt.Sprintf("%s[%d]", (*f.dst).path, i), "resource type %q must be service:type, service:* or service:ALL_SUPPORTED (for example %s)", t, ResourceTypeDynamoDBTable)
			}
		}
	}
	return s, nil
}

// ParseTagPolicy validates a TAG_POLICY document and returns the rules it
// sets on its own, as EffectiveTagRules would with it alone.
func ParseTagPolicy(name string, doc []byte, opts Options) ([]TagRule, error) {
	return EffectiveTagRules([]*backup.Policy{{Name: name, Type: backup.PolicyTypeTag, Document: string(doc), Options: opts}})
}

// EffectiveTagRules merges the TAG_POLICY documents among policies (others
// are ignored) into one rule per tag key, as AWS Organizations merges the
// policies of an account: in order of name, tag_key @@assign replaces the
// key's case, and tag_value, enforced_for and report_required_tag_for
// change the list so far by @@assign (replace), @@append (add) and
// @@remove (take out). Rules are returned by key.
func EffectiveTagRules(policies []*backup.Policy) ([]TagRule, error) {
	sorted := slices.Clone(policies)
	slices.SortFunc(sorted, func(a, b *backup.Policy) int { return cmp.Compare(a.Name, b.Name) })
	rules := map[string]*TagRule{}
	for _, p := range sorted {
		if p.Type != backup.PolicyTypeTag {
			continue
		}
		keys, err := parseTag([]byte(p.Document))
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			r := rules[k.policyKey]
			if r == nil {
				r = &TagRule{Key: k.policyKey}
				rules[k.policyKey] = r
			}
			r.Policy, r.Options = p.Name, p.Options
			if k.tagKey != "" {
				r.Key = k.tagKey
			}
			for _, f := range []struct {
				s   *setting
				dst *[]string
			}{{k.values, &r.Values}, {k.enforced, &r.EnforcedFor}, {k.required, &r.ReportRequiredFor}} {
				if f.s == nil {
					continue
				}
				if *f.dst, err = f.s.apply(*f.dst); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make([]TagRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b TagRule) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// ValidateOptions checks a policy's options against its document: their
// form (Options.Validate); for a tag policy, that DefaultValue is a value
// every key of the document allows (and no wildcard); a backup policy takes
// none of them.
func ValidateOptions(t backup.PolicyType, doc []byte, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if t == backup.PolicyTypeBackup {
		if opts.DefaultValue != "" || opts.OnViolation != "" || len(opts.Exclude) > 0 || opts.DryRun {
			return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "Options",
				Message: "the default value, on-violation, exclusions and dry run are options of a TAG_POLICY; a BACKUP_POLICY takes none"}
		}
		return nil
	}
	if opts.DefaultValue == "" {
		return nil
	}
	keys, err := parseTag(doc)
	if err != nil {
		return err
	}
	if strings.Contains(opts.DefaultValue, "*") {
		return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "DefaultValue",
			Message: fmt.Sprintf("default value %q is written on tables as it is: it cannot hold a wildcard", opts.DefaultValue)}
	}
	if err := backup.ValidateTag("DefaultValue", "k", opts.DefaultValue); err != nil {
		return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "DefaultValue",
			Message: fmt.Sprintf("default value %q is not a valid tag value", opts.DefaultValue)}
	}
	for _, k := range keys {
		r := TagRule{}
		if k.values != nil {
			r.Values, _ = k.values.apply(nil)
		}
		if !r.Allows(opts.DefaultValue) {
			return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: "DefaultValue",
				Message: fmt.Sprintf("default value %q is not allowed by %s (allowed: %s); choose one of them", opts.DefaultValue, k.path, strings.Join(r.Values, ", "))}
		}
	}
	return nil
}

// errMessage returns the user-facing message of a domain error.
func errMessage(err error) string {
	if e, ok := err.(*backup.Error); ok {
		return e.Message
	}
	return err.Error()
}
