package backup

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ResourceTagPrefix starts the ConditionKey of every Conditions entry:
// "aws:ResourceTag/KEY" is the resource's tag KEY.
const ResourceTagPrefix = "aws:ResourceTag/"

// SelectionMatcher is a selection compiled for matching many resources:
// its ARN patterns and tag conditions are parsed once. It does not change
// and is safe for concurrent use.
//
// The semantics are AWS Backup's:
//
//  1. A resource is a candidate if its ARN matches one of Resources OR it
//     has one of the tags of ListOfTags (key and value equal). With neither
//     Resources nor ListOfTags, every resource is a candidate.
//  2. Every entry of Conditions must hold, on the resource's tags:
//     StringEquals and StringLike need the tag, with a value equal to or
//     like the given one; StringNotEquals and StringNotLike hold when the tag
//     is absent or its value differs from or is not like the given one (as
//     IAM's negated operators do). Comparisons are case-sensitive.
//  3. A resource whose ARN matches one of NotResources is excluded.
//
// In ARN patterns and StringLike values, '*' matches any run of characters
// (also none, also ':' and '/') and '?' exactly one; the pattern "*" alone
// matches every resource.
type SelectionMatcher struct {
	sel          *BackupSelection
	all          bool // neither Resources nor ListOfTags
	resources    []wildcard
	tags         []tagPair // ListOfTags
	equals       []tagPair
	notEquals    []tagPair
	like         []tagPattern
	notLike      []tagPattern
	notResources []wildcard
}

type tagPair struct{ key, value string }

type tagPattern struct {
	key string
	pat wildcard
}

// NewSelectionMatcher compiles s. The selection is expected to be valid
// (ValidateSelectionDocument); s must not change while the matcher is used.
func NewSelectionMatcher(s *BackupSelection) *SelectionMatcher {
	m := &SelectionMatcher{sel: s, all: len(s.Resources) == 0 && len(s.ListOfTags) == 0}
	for _, p := range s.Resources {
		m.resources = append(m.resources, compileWildcard(p))
	}
	for _, p := range s.NotResources {
		m.notResources = append(m.notResources, compileWildcard(p))
	}
	for _, t := range s.ListOfTags {
		m.tags = append(m.tags, tagPair{tagKeyOf(t.ConditionKey), t.ConditionValue})
	}
	for _, c := range s.Conditions.StringEquals {
		m.equals = append(m.equals, tagPair{tagKeyOf(c.ConditionKey), c.ConditionValue})
	}
	for _, c := range s.Conditions.StringNotEquals {
		m.notEquals = append(m.notEquals, tagPair{tagKeyOf(c.ConditionKey), c.ConditionValue})
	}
	for _, c := range s.Conditions.StringLike {
		m.like = append(m.like, tagPattern{tagKeyOf(c.ConditionKey), compileWildcard(c.ConditionValue)})
	}
	for _, c := range s.Conditions.StringNotLike {
		m.notLike = append(m.notLike, tagPattern{tagKeyOf(c.ConditionKey), compileWildcard(c.ConditionValue)})
	}
	return m
}

// tagKeyOf returns the tag key of a condition key: "aws:ResourceTag/KEY"
// or, in ListOfTags, also plain "KEY".
func tagKeyOf(conditionKey string) string {
	if k, ok := strings.CutPrefix(conditionKey, ResourceTagPrefix); ok {
		return k
	}
	return conditionKey
}

// Selection returns the selection the matcher was compiled from.
func (m *SelectionMatcher) Selection() *BackupSelection { return m.sel }

// Covers reports whether the selection covers r; it is Match without the
// reason, and allocates nothing.
func (m *SelectionMatcher) Covers(r *Resource) bool {
	if !m.all && !m.candidate(r) {
		return false
	}
	if m.failedCondition(r) >= 0 {
		return false
	}
	return m.excludedBy(r.ARN) < 0
}

// Match reports whether the selection covers r, and why or why not in
// words meant for users.
func (m *SelectionMatcher) Match(r Resource) (bool, string) {
	var why string
	switch {
	case m.all:
		why = "no Resources or ListOfTags: all resources"
	default:
		if i := m.matchingResource(r.ARN); i >= 0 {
			why = "ARN matches Resources " + m.resources[i].pattern
		} else if i := m.matchingTag(r.Tags); i >= 0 {
			why = fmt.Sprintf("tag %s=%s matches ListOfTags", m.tags[i].key, m.tags[i].value)
		} else {
			return false, m.whyNotCandidate(r)
		}
	}
	if i := m.failedCondition(&r); i >= 0 {
		return false, m.whyCondition(i, r.Tags)
	}
	if i := m.excludedBy(r.ARN); i >= 0 {
		return false, "excluded by NotResources " + m.notResources[i].pattern
	}
	if n := m.conditions(); n == 1 {
		why += " and its Condition holds"
	} else if n > 1 {
		why += fmt.Sprintf(" and all %d Conditions hold", n)
	}
	return true, why
}

func (m *SelectionMatcher) conditions() int {
	return len(m.equals) + len(m.notEquals) + len(m.like) + len(m.notLike)
}

func (m *SelectionMatcher) candidate(r *Resource) bool {
	return m.matchingResource(r.ARN) >= 0 || m.matchingTag(r.Tags) >= 0
}

func (m *SelectionMatcher) matchingResource(arn string) int {
	for i := range m.resources {
		if m.resources[i].match(arn) {
			return i
		}
	}
	return -1
}

func (m *SelectionMatcher) matchingTag(tags map[string]string) int {
	for i, t := range m.tags {
		if v, ok := tags[t.key]; ok && v == t.value {
			return i
		}
	}
	return -1
}

func (m *SelectionMatcher) excludedBy(arn string) int {
	for i := range m.notResources {
		if m.notResources[i].match(arn) {
			return i
		}
	}
	return -1
}

// failedCondition returns the index of the first Conditions entry that does
// not hold (counting StringEquals, StringNotEquals, StringLike, StringNotLike
// in that order), or -1.
func (m *SelectionMatcher) failedCondition(r *Resource) int {
	i := 0
	for _, c := range m.equals {
		if v, ok := r.Tags[c.key]; !ok || v != c.value {
			return i
		}
		i++
	}
	for _, c := range m.notEquals {
		if v, ok := r.Tags[c.key]; ok && v == c.value {
			return i
		}
		i++
	}
	for _, c := range m.like {
		if v, ok := r.Tags[c.key]; !ok || !c.pat.match(v) {
			return i
		}
		i++
	}
	for _, c := range m.notLike {
		if v, ok := r.Tags[c.key]; ok && c.pat.match(v) {
			return i
		}
		i++
	}
	return -1
}

func (m *SelectionMatcher) whyCondition(i int, tags map[string]string) string {
	has := func(key string) string {
		if v, ok := tags[key]; ok {
			return fmt.Sprintf("tag %s=%s", key, v)
		}
		return "no tag " + key
	}
	if i < len(m.equals) {
		c := m.equals[i]
		return fmt.Sprintf("%s (Conditions StringEquals wants %s=%s)", has(c.key), c.key, c.value)
	}
	if i -= len(m.equals); i < len(m.notEquals) {
		c := m.notEquals[i]
		return fmt.Sprintf("%s (Conditions StringNotEquals excludes %s=%s)", has(c.key), c.key, c.value)
	}
	if i -= len(m.notEquals); i < len(m.like) {
		c := m.like[i]
		return fmt.Sprintf("%s (Conditions StringLike wants %s like %s)", has(c.key), c.key, c.pat.pattern)
	}
	c := m.notLike[i-len(m.like)]
	return fmt.Sprintf("%s (Conditions StringNotLike excludes %s like %s)", has(c.key), c.key, c.pat.pattern)
}

func (m *SelectionMatcher) whyNotCandidate(r Resource) string {
	has := func(key string) string {
		if v, ok := r.Tags[key]; ok {
			return fmt.Sprintf("tag %s=%s", key, v)
		}
		return "no tag " + key
	}
	var parts []string
	if len(m.resources) > 0 {
		var pats []string
		for i, w := range m.resources {
			if i == 3 {
				pats = append(pats, fmt.Sprintf("and %d more", len(m.resources)-3))
				break
			}
			pats = append(pats, w.pattern)
		}
		parts = append(parts, "ARN matches none of Resources ("+strings.Join(pats, ", ")+")")
	}
	switch len(m.tags) {
	case 0:
	case 1:
		t := m.tags[0]
		parts = append(parts, fmt.Sprintf("%s (ListOfTags wants %s=%s)", has(t.key), t.key, t.value))
	default:
		var wants, got []string
		seen := map[string]bool{}
		for _, t := range m.tags {
			wants = append(wants, t.key+"="+t.value)
			if !seen[t.key] {
				seen[t.key] = true
				got = append(got, has(t.key))
			}
		}
		parts = append(parts, fmt.Sprintf("%s (ListOfTags wants %s)", strings.Join(got, ", "), strings.Join(wants, " or ")))
	}
	return strings.Join(parts, "; ")
}

// wildcard is a compiled pattern in which '*' matches any run of characters
// and '?' exactly one.
type wildcard struct {
	pattern string
	kind    uint8
	lit     string // the literal part for wcPrefix and wcSuffix
}

const (
	wcExact uint8 = iota
	wcAny
	wcPrefix // "lit*"
	wcSuffix // "*lit"
	wcGlob
)

func compileWildcard(p string) wildcard {
	w := wildcard{pattern: p}
	switch stars, qs := strings.Count(p, "*"), strings.Count(p, "?"); {
	case stars == 0 && qs == 0:
		w.kind = wcExact
	case qs == 0 && strings.Trim(p, "*") == "":
		w.kind = wcAny
	case qs == 0 && stars == 1 && strings.HasSuffix(p, "*"):
		w.kind, w.lit = wcPrefix, strings.TrimSuffix(p, "*")
	case qs == 0 && stars == 1 && strings.HasPrefix(p, "*"):
		w.kind, w.lit = wcSuffix, strings.TrimPrefix(p, "*")
	default:
		w.kind = wcGlob
	}
	return w
}

func (w *wildcard) match(s string) bool {
	switch w.kind {
	case wcExact:
		return s == w.pattern
	case wcAny:
		return true
	case wcPrefix:
		return strings.HasPrefix(s, w.lit)
	case wcSuffix:
		return strings.HasSuffix(s, w.lit)
	}
	return globMatch(w.pattern, s)
}

// globMatch matches s against p, in which '*' matches any run of characters
// and '?' one character; it runs in O(len(p)*len(s)) at worst and without
// allocating.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				starP, starS = pi, si
				pi++
				continue
			case c == '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi++
				si += n
				continue
			case c == s[si]:
				pi++
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star absorb one more character and retry.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
