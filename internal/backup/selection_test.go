package backup

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	ordersARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders-2024"
	roleARN   = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
)

func ordersTable() Resource {
	return Resource{ARN: ordersARN, Type: ResourceTypeDynamoDB, Name: "orders-2024",
		Tags: map[string]string{"backup": "daily", "env": "prod", "team": "core"}}
}

func tagsOf(kv ...string) []TagCondition {
	var out []TagCondition
	for i := 0; i < len(kv); i += 2 {
		out = append(out, TagCondition{ConditionType: ConditionStringEquals, ConditionKey: kv[i], ConditionValue: kv[i+1]})
	}
	return out
}

func conds(kv ...string) []ConditionParameter {
	var out []ConditionParameter
	for i := 0; i < len(kv); i += 2 {
		out = append(out, ConditionParameter{ConditionKey: ResourceTagPrefix + kv[i], ConditionValue: kv[i+1]})
	}
	return out
}

func TestSelectionMatch(t *testing.T) {
	tests := []struct {
		name string
		doc  SelectionDocument
		want bool
		why  string
	}{
		{"ListOfTags matches", SelectionDocument{ListOfTags: tagsOf("backup", "daily")}, true, "tag backup=daily matches ListOfTags"},
		{"ListOfTags other value", SelectionDocument{ListOfTags: tagsOf("backup", "weekly")}, false, "tag backup=daily (ListOfTags wants backup=weekly)"},
		{"ListOfTags absent tag", SelectionDocument{ListOfTags: tagsOf("tier", "gold")}, false, "no tag tier (ListOfTags wants tier=gold)"},
		{"ListOfTags is OR", SelectionDocument{ListOfTags: tagsOf("backup", "weekly", "team", "core")}, true, "tag team=core matches ListOfTags"},
		{"ListOfTags none of several", SelectionDocument{ListOfTags: tagsOf("backup", "weekly", "tier", "gold", "backup", "hourly")}, false,
			"tag backup=daily, no tag tier (ListOfTags wants backup=weekly or tier=gold or backup=hourly)"},
		{"ListOfTags with the aws:ResourceTag/ prefix", SelectionDocument{ListOfTags: tagsOf("aws:ResourceTag/backup", "daily")}, true, "tag backup=daily matches ListOfTags"},
		{"tags are case-sensitive", SelectionDocument{ListOfTags: tagsOf("backup", "Daily")}, false, "tag backup=daily (ListOfTags wants backup=Daily)"},
		{"tag keys are case-sensitive", SelectionDocument{ListOfTags: tagsOf("Backup", "daily")}, false, "no tag Backup"},
		{"Resources *", SelectionDocument{Resources: []string{"*"}}, true, "ARN matches Resources *"},
		{"Resources wildcard", SelectionDocument{Resources: []string{"arn:aws:dynamodb:*:*:table/orders-*"}}, true, "ARN matches Resources arn:aws:dynamodb:*:*:table/orders-*"},
		{"Resources ? wildcard", SelectionDocument{Resources: []string{"arn:aws:dynamodb:us-east-?:*:table/orders-202?"}}, true, "ARN matches Resources"},
		{"Resources exact", SelectionDocument{Resources: []string{ordersARN}}, true, "ARN matches Resources " + ordersARN},
		{"Resources exact, other table", SelectionDocument{Resources: []string{ordersARN + "x"}}, false, "ARN matches none of Resources"},
		{"Resources of another type", SelectionDocument{Resources: []string{"arn:aws:ec2:*:*:volume/*"}}, false, "ARN matches none of Resources (arn:aws:ec2:*:*:volume/*)"},
		{"Resources listed in the reason, at most 3", SelectionDocument{Resources: []string{"arn:a:b:c:d:1", "arn:a:b:c:d:2", "arn:a:b:c:d:3", "arn:a:b:c:d:4", "arn:a:b:c:d:5"}}, false,
			"ARN matches none of Resources (arn:a:b:c:d:1, arn:a:b:c:d:2, arn:a:b:c:d:3, and 2 more)"},
		{"Resources OR ListOfTags", SelectionDocument{Resources: []string{"arn:aws:dynamodb:*:*:table/users-*"}, ListOfTags: tagsOf("backup", "daily")}, true, "tag backup=daily matches ListOfTags"},
		{"neither Resources nor ListOfTags", SelectionDocument{Resources: []string{"arn:aws:dynamodb:*:*:table/users-*"}, ListOfTags: tagsOf("backup", "weekly")}, false,
			"ARN matches none of Resources (arn:aws:dynamodb:*:*:table/users-*); tag backup=daily (ListOfTags wants backup=weekly)"},
		{"empty selection: all resources", SelectionDocument{}, true, "no Resources or ListOfTags: all resources"},
		{"Conditions alone", SelectionDocument{Conditions: Conditions{StringEquals: conds("env", "prod")}}, true, "all resources and its Condition holds"},
		{"Conditions are AND", SelectionDocument{Resources: []string{"*"}, Conditions: Conditions{StringEquals: conds("env", "prod"), StringLike: conds("team", "c*")}}, true,
			"ARN matches Resources * and all 2 Conditions hold"},
		{"StringEquals fails", SelectionDocument{Resources: []string{"*"}, Conditions: Conditions{StringEquals: conds("env", "dev")}}, false, "tag env=prod (Conditions StringEquals wants env=dev)"},
		{"StringEquals on an absent tag", SelectionDocument{Conditions: Conditions{StringEquals: conds("owner", "x")}}, false, "no tag owner (Conditions StringEquals wants owner=x)"},
		{"StringNotEquals holds", SelectionDocument{Conditions: Conditions{StringNotEquals: conds("env", "dev")}}, true, "all resources"},
		{"StringNotEquals fails", SelectionDocument{Conditions: Conditions{StringNotEquals: conds("env", "prod")}}, false, "tag env=prod (Conditions StringNotEquals excludes env=prod)"},
		{"StringNotEquals holds on an absent tag", SelectionDocument{Conditions: Conditions{StringNotEquals: conds("owner", "x")}}, true, "all resources"},
		{"StringLike *", SelectionDocument{Conditions: Conditions{StringLike: conds("team", "c*")}}, true, "all resources"},
		{"StringLike ?", SelectionDocument{Conditions: Conditions{StringLike: conds("team", "co?e")}}, true, "all resources"},
		{"StringLike fails", SelectionDocument{Conditions: Conditions{StringLike: conds("team", "x*")}}, false, "tag team=core (Conditions StringLike wants team like x*)"},
		{"StringLike on an absent tag", SelectionDocument{Conditions: Conditions{StringLike: conds("owner", "*")}}, false, "no tag owner (Conditions StringLike wants owner like *)"},
		{"StringNotLike fails", SelectionDocument{Conditions: Conditions{StringNotLike: conds("env", "pr*")}}, false, "tag env=prod (Conditions StringNotLike excludes env like pr*)"},
		{"StringNotLike holds on an absent tag", SelectionDocument{Conditions: Conditions{StringNotLike: conds("owner", "*")}}, true, "all resources"},
		{"ListOfTags matches but a Condition fails", SelectionDocument{ListOfTags: tagsOf("backup", "daily"), Conditions: Conditions{StringNotEquals: conds("team", "core")}}, false,
			"tag team=core (Conditions StringNotEquals excludes team=core)"},
		{"the first failing Condition is named", SelectionDocument{Conditions: Conditions{StringEquals: conds("env", "prod"), StringNotLike: conds("team", "*")}}, false, "StringNotLike excludes team like *"},
		{"NotResources excludes", SelectionDocument{Resources: []string{"*"}, NotResources: []string{"arn:aws:dynamodb:*:*:table/orders-*"}}, false,
			"excluded by NotResources arn:aws:dynamodb:*:*:table/orders-*"},
		{"NotResources excludes a tagged table", SelectionDocument{ListOfTags: tagsOf("backup", "daily"), NotResources: []string{ordersARN}}, false, "excluded by NotResources " + ordersARN},
		{"NotResources of other tables", SelectionDocument{ListOfTags: tagsOf("backup", "daily"), NotResources: []string{"arn:aws:dynamodb:*:*:table/users"}}, true, "tag backup=daily matches ListOfTags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.doc.SelectionName, tt.doc.IAMRoleARN = "s", roleARN
			if err := ValidateSelectionDocument(&tt.doc); err != nil {
				t.Fatalf("test selection is invalid: %v", err)
			}
			s := &BackupSelection{SelectionDocument: tt.doc}
			got, why := s.Match(ordersTable())
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("Match = %v %q, want %v and a reason containing %q", got, why, tt.want, tt.why)
			}
			r := ordersTable()
			if covers := NewSelectionMatcher(s).Covers(&r); covers != tt.want {
				t.Errorf("Covers = %v, Match = %v", covers, tt.want)
			}
		})
	}
}

func TestValidateSelectionDocument(t *testing.T) {
	valid := func() SelectionDocument {
		return SelectionDocument{SelectionName: "TagBasedBackupSelection", IAMRoleARN: roleARN, ListOfTags: tagsOf("backup", "daily")}
	}
	many := func(n int, p string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strings.Replace(p, "N", strings.Repeat("x", i+1), 1)
		}
		return out
	}
	tests := []struct {
		name    string
		edit    func(d *SelectionDocument)
		code    Code
		context string
		want    string
	}{
		{"no name", func(d *SelectionDocument) { d.SelectionName = "" }, ErrMissingParameter, "SelectionName", "SelectionName is required"},
		{"bad name", func(d *SelectionDocument) { d.SelectionName = "tag based" }, ErrInvalidParameter, "SelectionName", "1 to 50 letters"},
		{"no role", func(d *SelectionDocument) { d.IAMRoleARN = "" }, ErrMissingParameter, "IamRoleArn", "IamRoleArn is required"},
		{"not a role", func(d *SelectionDocument) { d.IAMRoleARN = "arn:aws:iam::123456789012:user/bob" }, ErrInvalidParameter, "IamRoleArn", "is not an IAM role ARN"},
		{"bad resource", func(d *SelectionDocument) { d.Resources = []string{"orders"} }, ErrInvalidParameter, "Resources[0]", `Resources[0] "orders" must be an ARN`},
		{"empty resource", func(d *SelectionDocument) { d.Resources = []string{"*", ""} }, ErrInvalidParameter, "Resources[1]", "must be an ARN"},
		{"bad not-resource", func(d *SelectionDocument) { d.NotResources = []string{"arn:aws:dynamodb"} }, ErrInvalidParameter, "NotResources[0]", "must be an ARN"},
		{"501 ARNs", func(d *SelectionDocument) { d.Resources = many(501, "arn:aws:dynamodb:us-east-1:123456789012:table/N") }, ErrInvalidParameter, "Resources", "at most 500 entries; got 501"},
		{"31 with a wildcard", func(d *SelectionDocument) {
			d.Resources = append(many(30, "arn:aws:dynamodb:us-east-1:123456789012:table/N"), "arn:aws:dynamodb:*:*:table/x-*")
		}, ErrInvalidParameter, "Resources", "at most 30 entries when any has a wildcard; got 31"},
		{"ListOfTags type", func(d *SelectionDocument) { d.ListOfTags[0].ConditionType = "STRINGLIKE" }, ErrInvalidParameter, "ListOfTags[0].ConditionType", "must be STRINGEQUALS"},
		{"ListOfTags empty key", func(d *SelectionDocument) { d.ListOfTags[0].ConditionKey = "" }, ErrInvalidParameter, "ListOfTags[0].ConditionKey", "1 to 128 characters"},
		{"ListOfTags long value", func(d *SelectionDocument) { d.ListOfTags[0].ConditionValue = strings.Repeat("v", 257) }, ErrInvalidParameter, "ListOfTags[0].ConditionValue", "at most 256"},
		{"too many ListOfTags", func(d *SelectionDocument) {
			for i := 0; i < 30; i++ {
				d.ListOfTags = append(d.ListOfTags, d.ListOfTags[0])
			}
		}, ErrInvalidParameter, "ListOfTags", "at most 30 entries; got 31"},
		{"condition key without prefix", func(d *SelectionDocument) {
			d.Conditions.StringLike = []ConditionParameter{{ConditionKey: "backup", ConditionValue: "d*"}}
		}, ErrInvalidParameter, "Conditions.StringLike[0].ConditionKey", `must be aws:ResourceTag/KEY for the resource tag KEY; got "backup"`},
		{"condition key with an empty tag", func(d *SelectionDocument) {
			d.Conditions.StringNotEquals = []ConditionParameter{{ConditionKey: ResourceTagPrefix, ConditionValue: "x"}}
		}, ErrInvalidParameter, "Conditions.StringNotEquals[0].ConditionKey", "1 to 128 characters"},
		{"too many conditions", func(d *SelectionDocument) {
			for i := 0; i < 16; i++ {
				d.Conditions.StringEquals = append(d.Conditions.StringEquals, conds("a", "b")...)
				d.Conditions.StringNotLike = append(d.Conditions.StringNotLike, conds("a", "b")...)
			}
		}, ErrInvalidParameter, "Conditions", "at most 30 entries altogether; got 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.edit(&d)
			err := ValidateSelectionDocument(&d)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Context != tt.context || e.Type != "BackupSelection" {
				t.Errorf("got %s %q %q, want %s %q", e.Code, e.Context, e.Type, tt.code, tt.context)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not say %q", e.Message, tt.want)
			}
		})
	}
	// What AWS accepts.
	for _, d := range []SelectionDocument{
		valid(),
		{SelectionName: "all", IAMRoleARN: roleARN},
		{SelectionName: "a.b_c-1", IAMRoleARN: roleARN, Resources: []string{"*"}, NotResources: []string{"arn:aws:dynamodb:*:*:table/tmp-*"},
			Conditions: Conditions{StringEquals: conds("env", "prod"), StringLike: conds("team", "*"), StringNotEquals: conds("x", ""), StringNotLike: conds("y", "?")}},
		{SelectionName: "arns", IAMRoleARN: roleARN, Resources: many(500, "arn:aws:dynamodb:us-east-1:123456789012:table/N")},
	} {
		if err := ValidateSelectionDocument(&d); err != nil {
			t.Errorf("%s: %v", d.SelectionName, err)
		}
	}
	if ErrorCode(ValidateSelectionDocument(nil)) != ErrMissingParameter {
		t.Error("nil selection accepted")
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "anything:/at all", true}, {"**", "x", true},
		{"abc", "abc", true}, {"abc", "abd", false}, {"abc", "abcd", false},
		{"ab*", "abcd", true}, {"ab*", "a", false}, {"*cd", "abcd", true}, {"*cd", "abc", false},
		{"a*c", "ac", true}, {"a*c", "abbbc", true}, {"a*c", "abbbd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"a?c", "aéc", true}, {"??", "é", false},
		{"*a*b*c*", "xxaxxbxxcxx", true}, {"*a*b*c*", "xxaxxcxxbxx", false},
		{"a*b?c", "aXXbYc", true}, {"a*b?c", "aXbXbYc", true}, {"*?", "", false}, {"*?", "x", true},
		{"arn:aws:dynamodb:*:*:table/orders-*", ordersARN, true},
		{"arn:aws:dynamodb:*:*:table/orders", ordersARN, false},
		{"arn:aws:dynamodb:us-east-1:*:table/*-2024", ordersARN, true},
	}
	for _, tt := range tests {
		w := compileWildcard(tt.pat)
		if got := w.match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
		if got := globMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// FuzzWildcard checks the wildcard matcher against a regular expression.
func FuzzWildcard(f *testing.F) {
	f.Add("arn:aws:dynamodb:*:*:table/orders-*", ordersARN)
	f.Add("a?c*", "abcde")
	f.Add("*é?", "xxéé")
	f.Add("**a*", "bab")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if !utf8.ValidString(pat) || !utf8.ValidString(s) || len(pat) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pat {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		w := compileWildcard(pat)
		if got := w.match(s); got != want {
			t.Fatalf("%q matches %q = %v, regexp says %v", pat, s, got, want)
		}
	})
}
