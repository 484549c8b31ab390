package cfn

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseShortTags(t *testing.T) {
	src := `
Resources:
  R:
    Type: AWS::SNS::Topic
    Properties:
      ref: !Ref P
      sub: !Sub 'x-${P}'
      sublist: !Sub ['${A}-${B}', {A: a, B: !Ref P}]
      getatt: !GetAtt Other.Arn
      getattlist: !GetAtt [Other, Arn]
      join: !Join [',', [a, !Ref P]]
      select: !Select [1, [a, b]]
      split: !Split [',', 'a,b']
      if: !If [C, yes, no]
      findinmap: !FindInMap [M, k1, k2]
      number: !Ref 123
  Other:
    Type: AWS::SNS::Topic
`
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Resources["R"].Properties
	want := map[string]any{
		"ref":        map[string]any{"Ref": "P"},
		"sub":        map[string]any{"Fn::Sub": "x-${P}"},
		"sublist":    map[string]any{"Fn::Sub": []any{"${A}-${B}", map[string]any{"A": "a", "B": map[string]any{"Ref": "P"}}}},
		"getatt":     map[string]any{"Fn::GetAtt": []any{"Other", "Arn"}},
		"getattlist": map[string]any{"Fn::GetAtt": []any{"Other", "Arn"}},
		"join":       map[string]any{"Fn::Join": []any{",", []any{"a", map[string]any{"Ref": "P"}}}},
		"select":     map[string]any{"Fn::Select": []any{1, []any{"a", "b"}}},
		"split":      map[string]any{"Fn::Split": []any{",", "a,b"}},
		"if":         map[string]any{"Fn::If": []any{"C", "yes", "no"}},
		"findinmap":  map[string]any{"Fn::FindInMap": []any{"M", "k1", "k2"}},
		"number":     map[string]any{"Ref": "123"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed properties:\n got %#v\nwant %#v", got, want)
	}
}

func TestParseJSONLongForm(t *testing.T) {
	// Indented with tabs, as JSON often is (YAML would refuse tabs outside
	// flow collections), with a \u escape.
	src := "{\n\t\"Parameters\": {\"P\": {\"Type\": \"String\", \"Default\": \"v\\u00e9\"}},\n" +
		"\t\"Resources\": {\n\t\t\"R\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"Name\": {\"Fn::Sub\": \"a-${P}\"}, " +
		"\"Other\": {\"Fn::GetAtt\": [\"S\", \"Arn\"]}}, \"DependsOn\": [\"S\"]},\n\t\t\"S\": {\"Type\": \"AWS::SNS::Topic\"}\n\t}\n}\n"
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if d := tmpl.Resources["R"].DependsOn; !reflect.DeepEqual(d, []string{"S"}) {
		t.Errorf("DependsOn = %v", d)
	}
	if got := tmpl.Resources["R"].Properties["Name"]; !reflect.DeepEqual(got, map[string]any{"Fn::Sub": "a-${P}"}) {
		t.Errorf("Name = %#v", got)
	}
	if *tmpl.Parameters["P"].Default != "v\u00e9" {
		t.Errorf("default = %q", *tmpl.Parameters["P"].Default)
	}
}

func TestParseErrors(t *testing.T) {
	res := "Resources:\n  R:\n    Type: AWS::SNS::Topic\n"
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "empty"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
		{"bad yaml", "Resources: [\n", "neither valid YAML nor JSON"},
		{"no resources", "Description: x\n", "no Resources"},
		{"unknown section", res + "Output: {}\n", `unknown top-level section "Output"`},
		{"transform", res + "Transform: AWS::Serverless-2016-10-31\n", "Transform"},
		{"bad logical id", "Resources:\n  my-res:\n    Type: AWS::SNS::Topic\n", `"my-res" may contain only letters and digits`},
		{"duplicate key", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n  R:\n    Type: AWS::SNS::Topic\n", `key "R" appears twice`},
		{"unknown tag", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: !Bogus x\n", "unknown tag !Bogus"},
		{"getatt without dot", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      A: !GetAtt Foo\n", "LogicalId.Attribute"},
		{"missing type", "Resources:\n  R:\n    Properties: {}\n", "resource R: Type is required"},
		{"bad type", "Resources:\n  R:\n    Type: Topic\n", "Type must be a resource type"},
		{"unknown resource attribute", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Propertes: {}\n", `unknown attribute "Propertes"`},
		{"dependson unknown", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    DependsOn: Nope\n", "DependsOn Nope: no such resource"},
		{"dependson itself", "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    DependsOn: R\n", "DependsOn names itself"},
		{"parameter without type", "Parameters:\n  P: {Default: x}\n" + res, "parameter P: Type is required"},
		{"parameter bad type", "Parameters:\n  P: {Type: Strin}\n" + res, `Type "Strin" is not a parameter type`},
		{"parameter bad pattern", "Parameters:\n  P: {Type: String, AllowedPattern: '('}\n" + res, "parameter P: AllowedPattern is not a valid regular expression"},
		{"parameter unknown attribute", "Parameters:\n  P: {Type: String, Defualt: x}\n" + res, "parameter P: Defualt is not a parameter attribute"},
		{"parameter clashes with resource", "Parameters:\n  R: {Type: String}\n" + res, "a parameter has the same name"},
		{"output without value", res + "Outputs:\n  O: {Description: x}\n", "output O: Value is required"},
		{"too deep", res + "Metadata: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", "nests deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: error %v, want one containing %q", err, tc.want)
			}
		})
	}
	big := make([]byte, MaxTemplateBytes+1)
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("oversized template: %v", err)
	}
}

// evalTemplate parses a template and returns an evaluator over it with the
// resolved parameters and fixed resource attributes.
func evalTemplate(t *testing.T, src string, params map[string]string) (*Template, *evaluator) {
	t.Helper()
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	values, err := tmpl.ResolveParameters(params)
	if err != nil {
		t.Fatal(err)
	}
	pseudo := map[string]any{"AWS::StackName": "st", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
	attrs := func(id, attr string) (string, error) {
		if id == "Role" {
			if attr == "Ref" {
				return "role-name", nil
			}
			return "arn:aws:iam::123456789012:role/" + attr, nil
		}
		return "", fmt.Errorf("no attribute %s", attr)
	}
	return tmpl, newEvaluator(tmpl, values, pseudo, attrs)
}

const evalSrc = `
Parameters:
  Name: {Type: String, Default: orders}
  Days: {Type: Number, Default: 7}
  List: {Type: CommaDelimitedList, Default: "a, b,c"}
  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}
Mappings:
  Regions:
    eu-west-1: {Short: euw1, Zones: [a, b]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [a, a]]
  Either: !Or [!Condition IsDev, !Equals [1, "1"]]
  Loop1: !Condition Loop2
  Loop2: !Condition Loop1
Resources:
  Role:
    Type: AWS::IAM::Role
`

func TestIntrinsics(t *testing.T) {
	_, ev := evalTemplate(t, evalSrc, nil)
	for _, tc := range []struct {
		name string
		expr string // YAML
		want any
	}{
		{"ref parameter", "!Ref Name", "orders"},
		{"ref number parameter", "!Ref Days", "7"},
		{"ref list parameter", "!Ref List", []any{"a", "b", "c"}},
		{"ref pseudo", "!Ref AWS::Region", "eu-west-1"},
		{"ref resource", "!Ref Role", "role-name"},
		{"sub", "!Sub '${AWS::StackName}-${Name}-${Days}'", "st-orders-7"},
		{"sub literal", "!Sub '${!Literal}-${Name}'", "${Literal}-orders"},
		{"sub attribute", "!Sub 'r=${Role.Arn}'", "r=arn:aws:iam::123456789012:role/Arn"},
		{"sub with variables", "!Sub ['${A}/${Name}', {A: !Ref AWS::AccountId}]", "123456789012/orders"},
		{"sub long form", "{'Fn::Sub': 'x${Name}'}", "xorders"},
		{"getatt dotted", "!GetAtt Role.Arn", "arn:aws:iam::123456789012:role/Arn"},
		{"getatt list", "!GetAtt [Role, RoleId]", "arn:aws:iam::123456789012:role/RoleId"},
		{"getatt long string", "{'Fn::GetAtt': 'Role.Arn'}", "arn:aws:iam::123456789012:role/Arn"},
		{"join", "!Join ['-', [a, !Ref Name, 3]]", "a-orders-3"},
		{"join list parameter", "!Join [':', !Ref List]", "a:b:c"},
		{"select", "!Select [1, !Ref List]", "b"},
		{"select string index", "!Select ['2', [x, y, z]]", "z"},
		{"split", "!Split ['/', 'a/b/c']", []any{"a", "b", "c"}},
		{"select split", "!Select [0, !Split [',', !Sub '${Name},x']]", "orders"},
		{"if true", "!If [IsProd, p, d]", "p"},
		{"if false", "!If [IsDev, p, d]", "d"},
		{"and", "!If [Both, yes, no]", "yes"},
		{"or", "!If [Either, yes, no]", "yes"},
		{"equals", "!Equals [!Ref Name, orders]", true},
		{"not", "!Not [!Equals [a, b]]", true},
		{"findinmap", "!FindInMap [Regions, !Ref AWS::Region, Short]", "euw1"},
		{"findinmap list", "!FindInMap [Regions, eu-west-1, Zones]", []any{"a", "b"}},
		{"novalue in mapping", "{a: 1, b: !Ref AWS::NoValue, c: !If [IsDev, x, !Ref AWS::NoValue]}", map[string]any{"a": 1}},
		{"novalue in list", "[1, !If [IsDev, 2, !Ref AWS::NoValue], 3]", []any{1, 3}},
		{"nested plain", "{a: [x, {b: !Ref Name}]}", map[string]any{"a": []any{"x", map[string]any{"b": "orders"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeDocument([]byte(tc.expr))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ev.eval(v, "X")
			if err != nil {
				t.Fatalf("eval %s: %v", tc.expr, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("eval %s = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestIntrinsicErrors(t *testing.T) {
	_, ev := evalTemplate(t, evalSrc, nil)
	for _, tc := range []struct{ expr, want string }{
		{"!Ref Nope", "Nope: no parameter or resource of that name"},
		{"!Ref [a]", "takes the name of a parameter or resource"},
		{"!Sub '${Nope}'", "Nope: no parameter or resource"},
		{"!Sub '${Nope.Arn}'", "no resource Nope"},
		{"!Sub 'a${Name'", "without a closing }"},
		{"!Sub '${List}'", "must be a string or number, not a list"},
		{"!GetAtt Nope.Arn", "no resource Nope"},
		{"!GetAtt [Role]", "takes a list of 2 arguments"},
		{"!Select [5, [a]]", "index 5 is out of range for a list of 1"},
		{"!Select [x, [a]]", "index must be a whole number"},
		{"!Select [0, notalist]", "expected a list"},
		{"!Join [',', notalist]", "expected a list"},
		{"!Join [',', [[a]]]", "element 0 must be a string or number"},
		{"!Split ['', a]", "delimiter must be a non-empty string"},
		{"!If [Nope, a, b]", "condition Nope is not declared"},
		{"!If [Loop1, a, b]", "refers to itself"},
		{"!Not [a]", "expected a condition"},
		{"!And [!Condition IsProd]", "2 to 10 conditions"},
		{"!FindInMap [Regions, us-east-1, Short]", "mapping Regions has no key us-east-1"},
		{"!FindInMap [Nope, a, b]", "no mapping Nope"},
		{"!Base64 abc", "Fn::Base64 is not supported by cairn"},
		{"{'Fn::ImportValue': x}", "Fn::ImportValue is not supported"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			v, err := decodeDocument([]byte(tc.expr))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ev.eval(v, "X")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("eval %s: error %v, want one containing %q", tc.expr, err, tc.want)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	src := `
Parameters:
  S: {Type: String, Default: abc, AllowedPattern: '[a-z]+', MinLength: 2, MaxLength: 5}
  N: {Type: Number, Default: 10, MinValue: 1, MaxValue: 100}
  E: {Type: String, Default: a, AllowedValues: [a, b], ConstraintDescription: choose a or b}
  L: {Type: CommaDelimitedList, Default: [x, y]}
  NL: {Type: List<Number>, Default: "1,2"}
  R: {Type: String}
  K: {Type: 'AWS::EC2::KeyPair::KeyName', Default: k, NoEcho: true}
Resources:
  X: {Type: AWS::SNS::Topic}
`
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.ResolveParameters(map[string]string{"R": "given", "N": "42"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"S": "abc", "N": "42", "E": "a", "L": "x,y", "NL": "1,2", "R": "given", "K": "k"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ResolveParameters = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		given map[string]string
		want  string
	}{
		{map[string]string{}, "parameter R: no value given and no Default; pass --parameter R=VALUE"},
		{map[string]string{"R": "r", "Bogus": "1"}, "parameter Bogus: the template declares no such parameter (it has E, K, L, N, NL, R, S)"},
		{map[string]string{"R": "r", "N": "ten"}, `parameter N: "ten" is not a number`},
		{map[string]string{"R": "r", "N": "0"}, "parameter N: 0 is less than MinValue 1"},
		{map[string]string{"R": "r", "N": "101"}, "parameter N: 101 is greater than MaxValue 100"},
		{map[string]string{"R": "r", "E": "c"}, `parameter E: "c" is not one of the AllowedValues a, b (choose a or b)`},
		{map[string]string{"R": "r", "S": "ABC"}, `parameter S: "ABC" does not match the AllowedPattern [a-z]+`},
		{map[string]string{"R": "r", "S": "a"}, `parameter S: "a" is shorter than MinLength 2`},
		{map[string]string{"R": "r", "S": "abcdef"}, `parameter S: "abcdef" is longer than MaxLength 5`},
		{map[string]string{"R": "r", "NL": "1,x"}, `parameter NL: "x" is not a number`},
	} {
		_, err := tmpl.ResolveParameters(tc.given)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ResolveParameters(%v): error %v, want %q", tc.given, err, tc.want)
		}
	}
}

func TestOrder(t *testing.T) {
	src := `
Resources:
  Sel:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: !Ref Plan
      BackupSelection: {SelectionName: s, IamRoleArn: !GetAtt Role.Arn}
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: !Sub '${Vault}-plan'
  Vault:
    Type: AWS::Backup::BackupVault
    DependsOn: [Alpha]
  Role:
    Type: AWS::IAM::Role
    Properties:
      Path: !If [C, !Ref Zeta, /]
  Alpha: {Type: AWS::SNS::Topic}
  Zeta: {Type: AWS::SNS::Topic}
`
	tmpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	order, err := tmpl.Order()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Alpha", "Vault", "Plan", "Zeta", "Role", "Sel"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("Order = %v, want %v", order, want)
	}
	deps := tmpl.Dependencies()
	if !reflect.DeepEqual(deps["Sel"], []string{"Plan", "Role"}) || !reflect.DeepEqual(deps["Role"], []string{"Zeta"}) {
		t.Errorf("Dependencies = %v", deps)
	}
}

func TestOrderCycles(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`
Resources:
  A: {Type: AWS::SNS::Topic, Properties: {X: !Ref B}}
  B: {Type: AWS::SNS::Topic, Properties: {X: !GetAtt C.Arn}}
  C: {Type: AWS::SNS::Topic, Properties: {X: !Sub '${A}'}}
`, "circular dependency between resources: A -> B -> C -> A"},
		{`
Resources:
  A: {Type: AWS::SNS::Topic, DependsOn: B}
  B: {Type: AWS::SNS::Topic, Properties: {X: !Ref A}}
`, "A -> B -> A"},
		{`
Resources:
  A: {Type: AWS::SNS::Topic, Properties: {X: !Ref A}}
`, "A -> A"},
	} {
		tmpl, err := Parse([]byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmpl.Order(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Order: error %v, want one containing %q", err, tc.want)
		}
	}
}
