package policy

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readTestdata(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSuperwerkerTagPolicy(t *testing.T) {
	doc := readFixture(t, "superwerker-tag-policy.json")
	opts := Options{DefaultValue: "daily"}
	if err := ValidateOptions(backup.PolicyTypeTag, doc, opts); err != nil {
		t.Fatal(err)
	}
	rules, err := ParseTagPolicy("superwerker-tags", doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []TagRule{{
		Policy:      "superwerker-tags",
		Key:         "superwerker:backup",
		Values:      []string{"none", "daily"},
		EnforcedFor: []string{"dynamodb:table", "ec2:volume"},
		Options:     opts,
	}}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("rules = %+v\nwant %+v", rules, want)
	}
	r := rules[0]
	for v, ok := range map[string]bool{"daily": true, "none": true, "weekly": false, "": false, "Daily": false} {
		if r.Allows(v) != ok {
			t.Errorf("Allows(%q) = %v", v, !ok)
		}
	}
	if !r.EnforcedOn(ResourceTypeDynamoDBTable) || r.EnforcedOn("rds:db") {
		t.Error("EnforcedOn is wrong")
	}
}

func TestTagRuleWildcardsAndCase(t *testing.T) {
	rules, err := ParseTagPolicy("p", []byte(`{"tags":{"costcenter":{"tag_value":{"@@assign":["100","300*"]},
		"enforced_for":{"@@assign":["dynamodb:ALL_SUPPORTED"]}}}}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	if r.Key != "costcenter" {
		t.Errorf("a key without tag_key is the policy key in lower case; got %q", r.Key)
	}
	if !r.Allows("3001") || !r.Allows("100") || r.Allows("200") {
		t.Errorf("wildcard values wrong: %+v", r)
	}
	if !r.EnforcedOn("dynamodb:table") {
		t.Error("ALL_SUPPORTED covers dynamodb:table")
	}
	any, err := ParseTagPolicy("p", []byte(`{"tags":{"Owner":{"tag_key":{"@@assign":"Owner"}}}}`), Options{})
	if err != nil || !any[0].Allows("x") || any[0].EnforcedOn("dynamodb:table") {
		t.Fatalf("a key without tag_value allows any value and enforces nothing: %+v %v", any, err)
	}
}

func TestEffectiveTagRulesMerge(t *testing.T) {
	ps := []*backup.Policy{
		{Name: "b-child", Type: backup.PolicyTypeTag, Document: `{"tags":{"env":{"tag_value":{"@@append":["staging"]}}}}`},
		{Name: "a-base", Type: backup.PolicyTypeTag, Document: `{"tags":{"env":{"tag_key":{"@@assign":"Env"},"tag_value":{"@@assign":["prod","dev"]}}}}`},
		{Name: "c-trim", Type: backup.PolicyTypeTag, Document: `{"tags":{"env":{"tag_value":{"@@remove":["dev"]}}}}`},
		{Name: "d-backup", Type: backup.PolicyTypeBackup, Document: `not even json`},
	}
	rules, err := EffectiveTagRules(ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Key != "Env" || !reflect.DeepEqual(rules[0].Values, []string{"prod", "staging"}) || rules[0].Policy != "c-trim" {
		t.Fatalf("merged = %+v", rules)
	}
}

// Every invalid document names the path at fault, in Context and at the
// start of its message.
func TestTagPolicyErrorsNamePath(t *testing.T) {
	for _, tc := range []struct{ doc, path, says string }{
		{`[]`, "", "must be a JSON object"},
		{`{"tags":{}} {}`, "", "more after its end"},
		{`{"tags":`, "tags", "not valid JSON"},
		{`{}`, "tags", "needs \"tags\""},
		{`{"tag":{}}`, "tag", "unknown key"},
		{`{"tags":[]}`, "tags", "must be an object"},
		{`{"tags":{"a":{"tag_key":{"@@assign":"a"}},"a":{}}}`, "tags.a", "appears twice"},
		{`{"tags":{"a":{},"A":{}}}`, "tags.A", "differ only in case"},
		{`{"tags":{"a":{"tag_keys":{"@@assign":"a"}}}}`, "tags.a.tag_keys", "unknown key"},
		{`{"tags":{"a":{"@@assign":"a"}}}`, "tags.a.@@assign", "unknown operator"},
		{`{"tags":{"a":{"tag_key":{"@@asign":"a"}}}}`, "tags.a.tag_key.@@asign", "unknown operator"},
		{`{"tags":{"a":{"tag_key":{"@@append":"a"}}}}`, "tags.a.tag_key.@@append", "lists only"},
		{`{"tags":{"a":{"tag_key":{"@@assign":"b"}}}}`, "tags.a.tag_key", "must be the policy key"},
		{`{"tags":{"a":{"tag_key":{"@@assign":7}}}}`, "tags.a.tag_key", "must be a string"},
		{`{"tags":{"a":{"tag_key":{}}}}`, "tags.a.tag_key", "no value"},
		{`{"tags":{"a":{"tag_value":{"@@assign":["x",3]}}}}`, "tags.a.tag_value[1]", "must be a string"},
		{`{"tags":{"a":{"tag_value":{"@@assign":{"x":1}}}}}`, "tags.a.tag_value", "list of strings"},
		{`{"tags":{"a":{"tag_value":{"@@assign":["x"],"@@append":["y"]}}}}`, "tags.a.tag_value.@@append", "both set"},
		{`{"tags":{"a":{"tag_value":{"@@assign":["a*b"]}}}}`, "tags.a.tag_value", "wildcard"},
		{`{"tags":{"a":{"tag_value":{"@@assign":["` + strings.Repeat("v", 257) + `"]}}}}`, "tags.a.tag_value[0]", "256"},
		{`{"tags":{"a":{"enforced_for":{"@@assign":["dynamodb"]}}}}`, "tags.a.enforced_for[0]", "service:type"},
		{`{"tags":{"aws:x":{}}}`, "tags.aws:x", "reserved"},
		{`{"tags":{"a":{"tag_value":{"@@operators_allowed_for_child_policies":["@@nope"],"@@assign":["x"]}}}}`, "tags.a.tag_value.@@operators_allowed_for_child_policies[0]", "unknown operator"},
		{`{"tags":{"a":{"tag_value":{"@@operators_allowed_for_child_policies":["@@none","@@assign"],"@@assign":["x"]}}}}`, "tags.a.tag_value.@@operators_allowed_for_child_policies", "alone"},
		{`{"tags":{"a":{"tag_value":{"@@operators_allowed_for_child_policies":"@@none","@@assign":["x"]}}}}`, "tags.a.tag_value.@@operators_allowed_for_child_policies", "list of operators"},
	} {
		_, err := ParseTagPolicy("p", []byte(tc.doc), Options{})
		checkPathError(t, tc.doc, err, tc.path, tc.says)
	}
}

func checkPathError(t *testing.T, doc string, err error, path, says string) {
	t.Helper()
	e, ok := err.(*backup.Error)
	if !ok {
		t.Errorf("%s: err = %v, want a *backup.Error", doc, err)
		return
	}
	if e.Code != backup.ErrInvalidParameter || e.Context != path || !strings.Contains(e.Message, says) ||
		path != "" && !strings.HasPrefix(e.Message, path+": ") {
		t.Errorf("%s:\n got %s (context %q)\nwant path %q saying %q", doc, e.Message, e.Context, path, says)
	}
}

func TestValidateOptions(t *testing.T) {
	doc := readFixture(t, "superwerker-tag-policy.json")
	for _, tc := range []struct {
		typ     backup.PolicyType
		opts    Options
		context string
	}{
		{backup.PolicyTypeTag, Options{DefaultValue: "weekly"}, "DefaultValue"},
		{backup.PolicyTypeTag, Options{DefaultValue: "dai*"}, "DefaultValue"},
		{backup.PolicyTypeTag, Options{OnViolation: "fix"}, "OnViolation"},
		{backup.PolicyTypeTag, Options{OnViolation: OnViolationRemediate}, "DefaultValue"},
		{backup.PolicyTypeTag, Options{Exclude: []string{"[bad"}}, "Exclude[0]"},
		{backup.PolicyTypeBackup, Options{DryRun: true}, "Options"},
	} {
		err := ValidateOptions(tc.typ, doc, tc.opts)
		var e *backup.Error
		if err == nil || !asError(err, &e) || e.Context != tc.context {
			t.Errorf("%+v: err = %v, want one naming %s", tc.opts, err, tc.context)
		}
	}
	ok := Options{DefaultValue: "daily", OnViolation: OnViolationRemediate, Exclude: []string{"tmp-*", "source:staging"}, DryRun: true}
	if err := ValidateOptions(backup.PolicyTypeTag, doc, ok); err != nil {
		t.Fatal(err)
	}
	if !ok.Excludes("main", "tmp-1") || !ok.Excludes("staging", "orders") || ok.Excludes("main", "orders") {
		t.Error("Excludes is wrong")
	}
}

func asError(err error, e **backup.Error) bool {
	v, ok := err.(*backup.Error)
	*e = v
	return ok
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile("presets/" + name) }
