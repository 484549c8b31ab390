package governance

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/policy"
)

// Policies is where the worker finds the governance policies stored in the
// catalog (cairn policy apply, --governance superwerker). backup.Service
// implements it.
type Policies interface {
	ListPolicies(ctx context.Context, p backup.Page) ([]*backup.Policy, string, error)
}

// optOutValue is the allowed value that, by superwerker's convention, takes
// a table out of backups. AWS tag policies have no such notion.
const optOutValue = "none"

// PolicyRules turns the stored TAG_POLICY documents into the worker's rules:
// the effective rule of each tag key (policy.EffectiveTagRules) with its
// policy's options, for the keys whose policies enforce or require them on
// DynamoDB tables. A rule enforced for dynamodb:table tags and remediates;
// one only required there (report_required_tag_for) reports. An allowed
// value "none" is the opt-out value.
func PolicyRules(policies []*backup.Policy) ([]Rule, error) {
	trs, err := policy.EffectiveTagRules(policies)
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, tr := range trs {
		if !tr.EnforcedOn(ResourceTypeTable) && !tr.RequiredOn(ResourceTypeTable) {
			continue
		}
		r := Rule{Name: tr.Policy, Key: tr.Key, Allowed: tr.Values, Default: tr.Options.DefaultValue,
			Mode: Mode(tr.Options.OnViolation), DryRun: tr.Options.DryRun}
		if tr.EnforcedOn(ResourceTypeTable) {
			r.EnforcedFor = []string{ResourceTypeTable}
		}
		if r.allowed(optOutValue) && len(r.Allowed) > 0 {
			r.OptOut = optOutValue
		}
		for _, e := range tr.Options.Exclude {
			if src, ok := strings.CutPrefix(e, backup.ExcludeSourcePrefix); ok {
				r.ExcludeSources = append(r.ExcludeSources, src)
			} else {
				r.ExcludeTables = append(r.ExcludeTables, e)
			}
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("policy %s: %w", tr.Policy, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// listPolicies reads every stored policy.
func listPolicies(ctx context.Context, ps Policies) ([]*backup.Policy, error) {
	var all []*backup.Policy
	p := backup.Page{MaxResults: 1000}
	for {
		page, next, err := ps.ListPolicies(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("governance: list policies: %w", err)
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		p.NextToken = next
	}
}

// rules returns the rules of this pass: the configured ones, then those of
// the stored policies. Policies that cannot be read keep the last rules
// that could.
func (w *Worker) rules(ctx context.Context) []Rule {
	rules := w.cfg.Rules
	if w.cfg.Policies == nil {
		return rules
	}
	ps, err := listPolicies(ctx, w.cfg.Policies)
	var pr []Rule
	if err == nil {
		pr, err = PolicyRules(ps)
	}
	if err != nil {
		w.log.Warn("governance cannot read the stored tag policies; using the rules of the last pass", "err", err)
		return w.lastRules
	}
	rules = append(append([]Rule{}, rules...), pr...)
	w.lastRules = rules
	return rules
}
