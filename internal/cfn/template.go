package cfn

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Resource types cairn creates; every other type is accepted and reported
// not applicable.
const (
	TypeBackupVault     = "AWS::Backup::BackupVault"
	TypeBackupPlan      = "AWS::Backup::BackupPlan"
	TypeBackupSelection = "AWS::Backup::BackupSelection"
)

// Template is a parsed CloudFormation template. Values are plain decoded
// YAML/JSON (string, int, float64, bool, nil, []any, map[string]any) in
// which intrinsic functions are one-key maps in their long form
// ({"Ref": "X"}, {"Fn::Sub": ...}).
type Template struct {
	Description string
	Parameters  map[string]*Parameter
	Mappings    map[string]any
	Conditions  map[string]any
	Resources   map[string]*Resource
	Outputs     map[string]*Output
}

// Parameter is one entry of a template's Parameters section.
type Parameter struct {
	Name           string
	Type           string // String, Number, List<Number> or CommaDelimitedList
	Default        *string
	AllowedValues  []string
	AllowedPattern string
	MinLength      *int
	MaxLength      *int
	MinValue       *float64
	MaxValue       *float64
	Description    string
	// ConstraintDescription replaces the generic text of a violated
	// constraint in error messages, as CloudFormation does.
	ConstraintDescription string
}

// Resource is one entry of a template's Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	DependsOn  []string
	Condition  string
}

// Output is one entry of a template's Outputs section.
type Output struct {
	Name        string
	Description string
	Value       any
	Condition   string
}

var logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)

// Parse parses a template in YAML (with the short intrinsic tags such as
// !Ref and !Sub) or JSON, and checks its structure: sections, parameter
// declarations and resource entries. References are checked when the
// template is resolved.
func Parse(src []byte) (*Template, error) {
	doc, err := decodeDocument(src)
	if err != nil {
		return nil, err
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template must be a mapping with a Resources section")
	}
	t := &Template{Parameters: map[string]*Parameter{}, Mappings: map[string]any{}, Conditions: map[string]any{},
		Resources: map[string]*Resource{}, Outputs: map[string]*Output{}}
	for _, k := range sortedKeys(top) {
		v := top[k]
		switch k {
		case "AWSTemplateFormatVersion", "Metadata", "Rules":
		case "Description":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("the Description section must be a string")
			}
			t.Description = s
		case "Transform":
			return nil, fmt.Errorf("the Transform section (macros such as AWS::Serverless) is not supported by cairn; remove it")
		case "Parameters":
			if err := t.parseParameters(v); err != nil {
				return nil, err
			}
		case "Mappings":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the Mappings section must be a mapping of map names to mappings")
			}
			t.Mappings = m
		case "Conditions":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the Conditions section must be a mapping of condition names to conditions")
			}
			t.Conditions = m
		case "Resources":
			if err := t.parseResources(v); err != nil {
				return nil, err
			}
		case "Outputs":
			if err := t.parseOutputs(v); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown top-level section %q (valid: AWSTemplateFormatVersion, Description, Metadata, Parameters, Rules, Mappings, Conditions, Resources, Outputs)", k)
		}
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("the template has no Resources; declare at least one")
	}
	return t, nil
}

func (t *Template) parseParameters(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("the Parameters section must be a mapping of parameter names to declarations")
	}
	for _, name := range sortedKeys(m) {
		if !logicalIDPattern.MatchString(name) {
			return fmt.Errorf("parameter name %q may contain only letters and digits", name)
		}
		if isPseudo(name) {
			return fmt.Errorf("parameter %s: the name is a pseudo parameter", name)
		}
		decl, ok := m[name].(map[string]any)
		if !ok {
			return fmt.Errorf("parameter %s: the declaration must be a mapping with at least Type", name)
		}
		p := &Parameter{Name: name}
		for _, k := range sortedKeys(decl) {
			val := decl[k]
			var err error
			switch k {
			case "Type":
				p.Type, err = scalarString(val)
			case "Default":
				var s string
				if l, ok := val.([]any); ok { // a list default for a list type
					parts := make([]string, len(l))
					for i, e := range l {
						if parts[i], err = scalarString(e); err != nil {
							break
						}
					}
					s = strings.Join(parts, ",")
				} else {
					s, err = scalarString(val)
				}
				p.Default = &s
			case "AllowedValues":
				l, ok := val.([]any)
				if !ok {
					err = fmt.Errorf("must be a list")
				}
				for _, e := range l {
					s, e2 := scalarString(e)
					if e2 != nil {
						err = e2
						break
					}
					p.AllowedValues = append(p.AllowedValues, s)
				}
			case "AllowedPattern":
				p.AllowedPattern, err = scalarString(val)
				if err == nil {
					if _, e2 := regexp.Compile("^(?:" + p.AllowedPattern + ")$"); e2 != nil {
						err = fmt.Errorf("is not a valid regular expression: %v", e2)
					}
				}
			case "MinLength", "MaxLength":
				var n float64
				n, err = scalarNumber(val)
				if err == nil {
					i := int(n)
					if k == "MinLength" {
						p.MinLength = &i
					} else {
						p.MaxLength = &i
					}
				}
			case "MinValue", "MaxValue":
				var n float64
				n, err = scalarNumber(val)
				if err == nil {
					if k == "MinValue" {
						p.MinValue = &n
					} else {
						p.MaxValue = &n
					}
				}
			case "Description":
				p.Description, err = scalarString(val)
			case "ConstraintDescription":
				p.ConstraintDescription, err = scalarString(val)
			case "NoEcho":
			default:
				err = fmt.Errorf("is not a parameter attribute (valid: Type, Default, AllowedValues, AllowedPattern, MinLength, MaxLength, MinValue, MaxValue, Description, ConstraintDescription, NoEcho)")
			}
			if err != nil {
				return fmt.Errorf("parameter %s: %s %v", name, k, err)
			}
		}
		switch p.Type {
		case "String", "Number", "List<Number>", "CommaDelimitedList":
		case "":
			return fmt.Errorf("parameter %s: Type is required (String, Number, List<Number> or CommaDelimitedList)", name)
		default:
			if !strings.HasPrefix(p.Type, "AWS::") && !strings.HasPrefix(p.Type, "List<AWS::") {
				return fmt.Errorf("parameter %s: Type %q is not a parameter type (use String, Number, List<Number> or CommaDelimitedList)", name, p.Type)
			}
			// AWS-specific types (AWS::EC2::KeyPair::KeyName, ...) are
			// taken as strings: cairn cannot look them up.
		}
		t.Parameters[name] = p
	}
	return nil
}

func (t *Template) parseResources(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("the Resources section must be a mapping of logical IDs to resources")
	}
	for _, id := range sortedKeys(m) {
		if !logicalIDPattern.MatchString(id) {
			return fmt.Errorf("resource logical ID %q may contain only letters and digits", id)
		}
		if _, clash := t.Parameters[id]; clash {
			return fmt.Errorf("resource %s: a parameter has the same name; rename one of them", id)
		}
		body, ok := m[id].(map[string]any)
		if !ok {
			return fmt.Errorf("resource %s: must be a mapping with Type and Properties", id)
		}
		r := &Resource{LogicalID: id, Properties: map[string]any{}}
		for _, k := range sortedKeys(body) {
			val := body[k]
			switch k {
			case "Type":
				s, ok := val.(string)
				if !ok || !strings.Contains(s, "::") {
					return fmt.Errorf("resource %s: Type must be a resource type such as %s", id, TypeBackupPlan)
				}
				r.Type = s
			case "Properties":
				if val == nil {
					continue
				}
				p, ok := val.(map[string]any)
				if !ok {
					return fmt.Errorf("resource %s: Properties must be a mapping", id)
				}
				r.Properties = p
			case "DependsOn":
				switch d := val.(type) {
				case string:
					r.DependsOn = []string{d}
				case []any:
					for _, e := range d {
						s, ok := e.(string)
						if !ok {
							return fmt.Errorf("resource %s: DependsOn must list logical IDs", id)
						}
						r.DependsOn = append(r.DependsOn, s)
					}
				default:
					return fmt.Errorf("resource %s: DependsOn must be a logical ID or a list of them", id)
				}
			case "Condition":
				s, ok := val.(string)
				if !ok {
					return fmt.Errorf("resource %s: Condition must be a condition name", id)
				}
				r.Condition = s
			case "DeletionPolicy", "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy", "Version":
			default:
				return fmt.Errorf("resource %s: unknown attribute %q (valid: Type, Properties, DependsOn, Condition, DeletionPolicy, UpdateReplacePolicy, Metadata, CreationPolicy, UpdatePolicy)", id, k)
			}
		}
		if r.Type == "" {
			return fmt.Errorf("resource %s: Type is required", id)
		}
		for _, d := range r.DependsOn {
			if _, ok := m[d]; !ok {
				return fmt.Errorf("resource %s: DependsOn %s: no such resource in the template", id, d)
			}
			if d == id {
				return fmt.Errorf("resource %s: DependsOn names itself", id)
			}
		}
		t.Resources[id] = r
	}
	return nil
}

func (t *Template) parseOutputs(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("the Outputs section must be a mapping of output names to outputs")
	}
	for _, name := range sortedKeys(m) {
		body, ok := m[name].(map[string]any)
		if !ok {
			return fmt.Errorf("output %s: must be a mapping with a Value", name)
		}
		o := &Output{Name: name}
		hasValue := false
		for _, k := range sortedKeys(body) {
			switch k {
			case "Value":
				o.Value, hasValue = body[k], true
			case "Description":
				o.Description, _ = body[k].(string)
			case "Condition":
				o.Condition, _ = body[k].(string)
			case "Export":
			default:
				return fmt.Errorf("output %s: unknown attribute %q (valid: Value, Description, Condition, Export)", name, k)
			}
		}
		if !hasValue {
			return fmt.Errorf("output %s: Value is required", name)
		}
		t.Outputs[name] = o
	}
	return nil
}

// scalarString returns the text of a scalar value.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return fmt.Sprint(x), nil
	case float64:
		return formatFloat(x), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("must be a string or number, not %s", describe(v))
}

func scalarNumber(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		var f float64
		if _, err := fmt.Sscan(x, &f); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("must be a number, not %s", describe(v))
}

// describe names the kind of a value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case int, float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return "a list"
	case map[string]any:
		if fn, ok := intrinsicName(x); ok {
			return "the function " + fn
		}
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// intrinsicName returns the function name if m is an intrinsic function
// call: a one-key map whose key is Ref, Condition or Fn::*.
func intrinsicName(m map[string]any) (string, bool) {
	if len(m) != 1 {
		return "", false
	}
	for k := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, true
		}
	}
	return "", false
}

var pseudoParameters = []string{"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}

func isPseudo(name string) bool { return slices.Contains(pseudoParameters, name) }
