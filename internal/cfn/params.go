package cfn

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ResolveParameters returns the value of every parameter of t: the given
// value, else the default. It rejects keys the template does not declare,
// missing values and values that break a constraint, naming the parameter.
// List parameters are returned as their comma-separated text.
func (t *Template) ResolveParameters(given map[string]string) (map[string]string, error) {
	for k := range given {
		if _, ok := t.Parameters[k]; !ok {
			names := sortedKeys(t.Parameters)
			if len(names) == 0 {
				return nil, fmt.Errorf("parameter %s: the template declares no parameters", k)
			}
			return nil, fmt.Errorf("parameter %s: the template declares no such parameter (it has %s)", k, strings.Join(names, ", "))
		}
	}
	out := make(map[string]string, len(t.Parameters))
	for _, name := range sortedKeys(t.Parameters) {
		p := t.Parameters[name]
		v, ok := given[name]
		if !ok {
			if p.Default == nil {
				return nil, fmt.Errorf("parameter %s: no value given and no Default; pass --parameter %s=VALUE", name, name)
			}
			v = *p.Default
		}
		if err := p.check(v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// check validates one value against the parameter's type and constraints.
func (p *Parameter) check(v string) error {
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if p.ConstraintDescription != "" {
			msg += " (" + p.ConstraintDescription + ")"
		}
		return fmt.Errorf("parameter %s: %s", p.Name, msg)
	}
	values := []string{v}
	if p.isList() {
		values = splitList(v)
	}
	for _, x := range values {
		if p.Type == "Number" || p.Type == "List<Number>" {
			n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return fail("%q is not a number", x)
			}
			if p.MinValue != nil && n < *p.MinValue {
				return fail("%s is less than MinValue %s", x, formatFloat(*p.MinValue))
			}
			if p.MaxValue != nil && n > *p.MaxValue {
				return fail("%s is greater than MaxValue %s", x, formatFloat(*p.MaxValue))
			}
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, x) {
			return fail("%q is not one of the AllowedValues %s", x, strings.Join(p.AllowedValues, ", "))
		}
		if p.AllowedPattern != "" {
			re := regexp.MustCompile("^(?:" + p.AllowedPattern + ")$") // compiled once in Parse already
			if !re.MatchString(x) {
				return fail("%q does not match the AllowedPattern %s", x, p.AllowedPattern)
			}
		}
		if p.MinLength != nil && len(x) < *p.MinLength {
			return fail("%q is shorter than MinLength %d", x, *p.MinLength)
		}
		if p.MaxLength != nil && len(x) > *p.MaxLength {
			return fail("%q is longer than MaxLength %d", x, *p.MaxLength)
		}
	}
	return nil
}

func (p *Parameter) isList() bool {
	return p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<")
}

func splitList(v string) []string {
	if v == "" {
		return []string{}
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
