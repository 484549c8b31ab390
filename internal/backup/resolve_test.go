package backup

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func table(name string, kv ...string) Resource {
	tags := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		tags[kv[i]] = kv[i+1]
	}
	return Resource{ARN: TableARN("us-east-1", "123456789012", name), Type: ResourceTypeDynamoDB, Name: name, Tags: tags}
}

func sel(id string, d SelectionDocument) *BackupSelection {
	d.SelectionName, d.IAMRoleARN = id, roleARN
	return &BackupSelection{SelectionDocument: d, SelectionID: id}
}

func plan(id string, rules ...string) *BackupPlan {
	p := &BackupPlan{ID: id, ARN: PlanARN("us-east-1", "123456789012", id), VersionID: "v-" + id}
	p.BackupPlanName = "plan-" + id
	for _, r := range rules {
		p.Rules = append(p.Rules, BackupRule{RuleID: r, RuleName: r, TargetBackupVaultName: "Default"})
	}
	return p
}

// naiveResolve is the plain double loop over Match that Resolve must agree
// with.
func naiveResolve(plans []PlanSelections, resources []Resource) []Assignment {
	var out []Assignment
	for _, p := range plans {
		if !p.Plan.DeletionDate.IsZero() {
			continue
		}
		for _, r := range resources {
			for _, s := range p.Selections {
				if ok, _ := s.Match(r); ok {
					out = append(out, Assignment{Plan: p.Plan, Selection: s, Resource: r})
					break
				}
			}
		}
	}
	return out
}

func describe(as []Assignment) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Plan.ID+"/"+a.Selection.SelectionID+"/"+a.Resource.Name)
	}
	return out
}

func TestResolve(t *testing.T) {
	daily := PlanSelections{Plan: plan("daily", "r1"), Selections: []*BackupSelection{
		sel("by-tag", SelectionDocument{ListOfTags: tagsOf("backup", "daily")}),
		sel("by-name", SelectionDocument{Resources: []string{"arn:aws:dynamodb:*:*:table/orders*"}}),
	}}
	prod := PlanSelections{Plan: plan("prod", "r2"), Selections: []*BackupSelection{
		sel("prod-not-tmp", SelectionDocument{Conditions: Conditions{StringEquals: conds("env", "prod")}, NotResources: []string{"arn:aws:dynamodb:*:*:table/tmp-*"}}),
	}}
	gone := PlanSelections{Plan: plan("gone"), Selections: []*BackupSelection{sel("all", SelectionDocument{})}}
	gone.Plan.DeletionDate = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	resources := []Resource{
		table("orders", "backup", "daily", "env", "prod"), // both selections of daily: the first one counts
		table("orders-archive"),                           // by name only
		table("users", "backup", "daily"),
		table("tmp-prod", "env", "prod"), // excluded from prod
		table("sessions", "env", "dev"),
		table("payments", "env", "prod"),
	}
	got := describe(Resolve([]PlanSelections{daily, gone, prod}, resources))
	want := []string{
		"daily/by-tag/orders", "daily/by-name/orders-archive", "daily/by-tag/users",
		"prod/prod-not-tmp/orders", "prod/prod-not-tmp/payments",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Resolve:\n got %v\nwant %v", got, want)
	}
	if got := Resolve(nil, resources); len(got) != 0 {
		t.Errorf("no plans: %v", got)
	}
	if got := Resolve([]PlanSelections{daily}, nil); len(got) != 0 {
		t.Errorf("no resources: %v", got)
	}
}

// TestResolveAgreesWithMatch generates random plans, selections and tables
// and checks that the indexed resolution finds exactly what the double loop
// over Match finds.
func TestResolveAgreesWithMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	keys := []string{"backup", "env", "team"}
	vals := []string{"a", "b", "ab", ""}
	patterns := []string{"*", "arn:aws:dynamodb:*:*:table/t1*", "arn:aws:dynamodb:us-east-1:123456789012:table/t3", "arn:aws:dynamodb:*:*:table/t?", "arn:aws:ec2:*:*:volume/*"}
	for round := 0; round < 300; round++ {
		var plans []PlanSelections
		for p := 0; p < 1+rng.IntN(5); p++ {
			ps := PlanSelections{Plan: plan(fmt.Sprint("p", p))}
			if rng.IntN(8) == 0 {
				ps.Plan.DeletionDate = time.Unix(1, 0)
			}
			for s := 0; s < 1+rng.IntN(3); s++ {
				var d SelectionDocument
				for i := rng.IntN(3); i > 0; i-- {
					d.Resources = append(d.Resources, pick(patterns...))
				}
				for i := rng.IntN(3); i > 0; i-- {
					d.ListOfTags = append(d.ListOfTags, tagsOf(pick(keys...), pick(vals...))...)
				}
				for i := rng.IntN(3); i > 0; i-- {
					c := conds(pick(keys...), pick(vals...))
					switch rng.IntN(4) {
					case 0:
						d.Conditions.StringEquals = append(d.Conditions.StringEquals, c...)
					case 1:
						d.Conditions.StringNotEquals = append(d.Conditions.StringNotEquals, c...)
					case 2:
						c[0].ConditionValue = pick("a*", "*b", "?", "*")
						d.Conditions.StringLike = append(d.Conditions.StringLike, c...)
					default:
						c[0].ConditionValue = pick("a*", "*b", "?", "*")
						d.Conditions.StringNotLike = append(d.Conditions.StringNotLike, c...)
					}
				}
				if rng.IntN(4) == 0 {
					d.NotResources = append(d.NotResources, pick(patterns...))
				}
				ps.Selections = append(ps.Selections, sel(fmt.Sprint("p", p, "s", s), d))
			}
			plans = append(plans, ps)
		}
		var resources []Resource
		for i := 0; i < 12; i++ {
			var kv []string
			for _, k := range keys {
				if rng.IntN(2) == 0 {
					kv = append(kv, k, pick(vals...))
				}
			}
			resources = append(resources, table(fmt.Sprint("t", rng.IntN(15)), kv...))
		}
		got, want := describe(Resolve(plans, resources)), describe(naiveResolve(plans, resources))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("round %d:\nResolve %v\n  naive %v", round, got, want)
		}
	}
}

func TestExplain(t *testing.T) {
	daily := PlanSelections{Plan: plan("daily", "r1", "r2"), Selections: []*BackupSelection{
		sel("by-tag", SelectionDocument{ListOfTags: tagsOf("backup", "daily")}),
		sel("tmp", SelectionDocument{Resources: []string{"arn:aws:dynamodb:*:*:table/tmp-*"}}),
	}}
	weekly := PlanSelections{Plan: plan("weekly", "w"), Selections: []*BackupSelection{
		sel("weekly", SelectionDocument{ListOfTags: tagsOf("backup", "weekly")}),
	}}
	gone := PlanSelections{Plan: plan("gone"), Selections: []*BackupSelection{sel("all", SelectionDocument{})}}
	gone.Plan.DeletionDate = time.Unix(1, 0)
	vs := Explain([]PlanSelections{daily, gone, weekly}, table("orders", "backup", "daily"))
	if len(vs) != 3 {
		t.Fatalf("%d verdicts, want 3 (none for the deleted plan): %+v", len(vs), vs)
	}
	want := []struct {
		plan, sel string
		covered   bool
		reason    string
		rules     int
	}{
		{"daily", "by-tag", true, "tag backup=daily matches ListOfTags", 2},
		{"daily", "tmp", false, "ARN matches none of Resources (arn:aws:dynamodb:*:*:table/tmp-*)", 0},
		{"weekly", "weekly", false, "tag backup=daily (ListOfTags wants backup=weekly)", 0},
	}
	for i, w := range want {
		v := vs[i]
		if v.BackupPlanID != w.plan || v.SelectionID != w.sel || v.SelectionName != w.sel || v.Covered != w.covered || v.Reason != w.reason || len(v.Rules) != w.rules {
			t.Errorf("verdict %d = %+v, want %+v", i, v, w)
		}
		if v.BackupPlanName != "plan-"+w.plan || v.BackupPlanARN != PlanARN("us-east-1", "123456789012", w.plan) || v.VersionID != "v-"+w.plan {
			t.Errorf("verdict %d does not name its plan: %+v", i, v)
		}
	}
	e := Explanation{Verdicts: vs}
	if !e.Covered() {
		t.Error("Explanation.Covered = false")
	}
	if e := (Explanation{Verdicts: Explain([]PlanSelections{weekly}, table("orders"))}); e.Covered() {
		t.Error("an untagged table is covered by the weekly plan")
	}
}

// benchFixture builds nPlans plans with tag, condition and name selections
// and nTables tables with a few tags each, like a large account.
func benchFixture(nTables, nPlans int) ([]PlanSelections, []Resource) {
	var plans []PlanSelections
	for i := 0; i < nPlans; i++ {
		ps := PlanSelections{Plan: plan(fmt.Sprint("plan-", i), "daily")}
		ps.Selections = append(ps.Selections,
			sel("by-tag", SelectionDocument{ListOfTags: tagsOf("backup", fmt.Sprint("plan-", i), "team", fmt.Sprint("team-", i))}),
			sel("by-conditions", SelectionDocument{Conditions: Conditions{
				StringEquals:    conds("app", fmt.Sprint("app-", i)),
				StringNotEquals: conds("env", "dev"),
				StringLike:      conds("owner", "group-*"),
			}}),
		)
		if i%10 == 0 {
			ps.Selections = append(ps.Selections, sel("by-name", SelectionDocument{
				Resources:    []string{fmt.Sprintf("arn:aws:dynamodb:us-east-1:123456789012:table/orders-%d-*", i)},
				NotResources: []string{"arn:aws:dynamodb:*:*:table/*-tmp"},
			}))
		}
		plans = append(plans, ps)
	}
	resources := make([]Resource, nTables)
	for j := range resources {
		env := "prod"
		if j%3 == 0 {
			env = "dev"
		}
		resources[j] = table(fmt.Sprintf("orders-%d-%d", j%nPlans, j),
			"backup", fmt.Sprint("plan-", j%(nPlans+50)), "team", fmt.Sprint("team-", j%200),
			"app", fmt.Sprint("app-", (j*7)%(nPlans*2)), "env", env, "owner", fmt.Sprint("group-", j%5),
			"cost-center", fmt.Sprint(j%37))
	}
	return plans, resources
}

func TestBenchFixtureAgrees(t *testing.T) {
	plans, resources := benchFixture(600, 30)
	got, want := Resolve(plans, resources), naiveResolve(plans, resources)
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("Resolve found %d assignments, the naive loop %d", len(got), len(want))
	}
	if strings.Join(describe(got), " ") != strings.Join(describe(want), " ") {
		t.Fatal("Resolve and the naive loop disagree on the benchmark fixture")
	}
}

func BenchmarkResolve10kTables100Plans(b *testing.B) {
	plans, resources := benchFixture(10_000, 100)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		n = len(Resolve(plans, resources))
	}
	b.ReportMetric(float64(n), "assignments")
}

func BenchmarkResolveNaive10kTables100Plans(b *testing.B) {
	plans, resources := benchFixture(10_000, 100)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		n = len(naiveResolve(plans, resources))
	}
	b.ReportMetric(float64(n), "assignments")
}

// BenchmarkResolveCompiledLoop10kTables100Plans is the double loop over
// compiled matchers without the index: what the index alone saves.
func BenchmarkResolveCompiledLoop10kTables100Plans(b *testing.B) {
	plans, resources := benchFixture(10_000, 100)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		var out []Assignment
		for _, p := range plans {
			ms := make([]*SelectionMatcher, len(p.Selections))
			for j, s := range p.Selections {
				ms[j] = NewSelectionMatcher(s)
			}
			for ri := range resources {
				for _, m := range ms {
					if m.Covers(&resources[ri]) {
						out = append(out, Assignment{Plan: p.Plan, Selection: m.Selection(), Resource: resources[ri]})
						break
					}
				}
			}
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "assignments")
}
