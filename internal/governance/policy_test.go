package governance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/policy"
)

// storePolicies stores policies in the env's catalog, as cairn policy apply
// does (without the plans a backup policy makes: the env has its own).
func storePolicies(t *testing.T, e *env, in ...backup.ApplyPolicyInput) {
	t.Helper()
	for _, p := range in {
		if err := e.cat.ApplyPolicy(t.Context(), &backup.Policy{Name: p.Name, Type: p.Type, Document: p.Document,
			Options: p.Options, CreationDate: t0, LastUpdateDate: t0}, backup.PolicyChanges{}); err != nil {
			t.Fatal(err)
		}
	}
}

func superwerkerTagPolicy(t *testing.T) backup.ApplyPolicyInput {
	t.Helper()
	ps, err := policy.Preset(policy.PresetSuperwerker, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Type == backup.PolicyTypeTag {
			return p
		}
	}
	t.Fatal("the superwerker preset has no tag policy")
	return backup.ApplyPolicyInput{}
}

// superwerker's tag policy, stored as cairn policy apply stores it, is the
// worker's rule: key superwerker:backup, none and daily, default daily,
// none opts out, enforced for tables.
func TestPolicyRulesSuperwerker(t *testing.T) {
	p := superwerkerTagPolicy(t)
	rules, err := governance.PolicyRules([]*backup.Policy{{Name: p.Name, Type: p.Type, Document: p.Document, Options: p.Options}})
	if err != nil {
		t.Fatal(err)
	}
	want := governance.Superwerker()
	if len(rules) != 1 {
		t.Fatalf("rules = %+v", rules)
	}
	r := rules[0]
	if r.Name != "superwerker-backup-tags" || r.Key != want.Key || strings.Join(r.Allowed, ",") != "none,daily" ||
		r.Default != "daily" || r.OptOut != "none" || r.Mode != "" || len(r.EnforcedFor) != 1 || r.EnforcedFor[0] != "dynamodb:table" {
		t.Fatalf("rule = %+v", r)
	}
}

// Options: exclusions by pattern and source, remediate, dry run; a policy
// that is not for DynamoDB tables gives no rule; one only required
// there reports.
func TestPolicyRulesOptions(t *testing.T) {
	docFor := func(types string) string {
		return `{"tags":{"backup":{"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["daily","hourly"]},` + types + `}}}`
	}
	rules, err := governance.PolicyRules([]*backup.Policy{
		{Name: "a", Type: backup.PolicyTypeTag, Document: docFor(`"enforced_for":{"@@assign":["dynamodb:table"]}`),
			Options: backup.PolicyOptions{DefaultValue: "daily", OnViolation: backup.OnViolationRemediate,
				Exclude: []string{"tmp-*", "source:stag*"}, DryRun: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	if r.Mode != governance.ModeRemediate || !r.DryRun || r.OptOut != "" || strings.Join(r.ExcludeTables, ",") != "tmp-*" ||
		strings.Join(r.ExcludeSources, ",") != "stag*" {
		t.Fatalf("rule = %+v", r)
	}
	rules, err = governance.PolicyRules([]*backup.Policy{
		{Name: "ec2", Type: backup.PolicyTypeTag, Document: docFor(`"enforced_for":{"@@assign":["ec2:volume"]}`)},
	})
	if err != nil || len(rules) != 0 {
		t.Fatalf("a policy for ec2 only: %+v, %v", rules, err)
	}
	rules, err = governance.PolicyRules([]*backup.Policy{
		{Name: "req", Type: backup.PolicyTypeTag, Document: docFor(`"report_required_tag_for":{"@@assign":["dynamodb:table"]}`)},
	})
	if err != nil || len(rules) != 1 || len(rules[0].EnforcedFor) != 0 {
		t.Fatalf("a policy that only requires the key: %+v, %v", rules, err)
	}
}

// The worker reads the stored tag policies at every pass: nothing before
// one is stored, tagging once it is, nothing again once it is deleted.
func TestWorkerFollowsStoredPolicies(t *testing.T) {
	e := newEnv(t, func(c *governance.Config) { c.Rules, c.Policies = nil, c.Backups.(governance.Policies) })
	arn := e.createTable("follow", map[string]string{"team": "t"})
	e.pass()
	r, err := e.w.Compliance(t.Context(), "")
	if err != nil || r.Enabled || len(r.Resources) != 0 || e.fault.Calls() != 0 {
		t.Fatalf("without policies: %+v, %v, %d writes", r, err, e.fault.Calls())
	}
	storePolicies(t, e, superwerkerTagPolicy(t))
	e.pass()
	wantTags(t, e.tags(arn), map[string]string{"team": "t", "superwerker:backup": "daily"})
	if v := e.verdict("follow"); v.Verdict != backup.VerdictCompliant || v.Rule != "superwerker-backup-tags" {
		t.Fatalf("verdict = %+v", v)
	}
	if _, err := e.cat.GetPolicy(t.Context(), "superwerker-backup-tags"); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.DeletePolicy(t.Context(), "superwerker-backup-tags", backup.PolicyChanges{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	e.pass()
	if r, _ := e.w.Compliance(context.Background(), ""); r.Enabled {
		t.Fatalf("after the policy's deletion: %+v", r)
	}
}
