package cfn

import (
	"fmt"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue evaluates to: the enclosing property or
// list element is dropped.
type noValueT struct{}

var noValue = noValueT{}

// attrFunc returns what Ref (attr "Ref") or Fn::GetAtt returns for a
// resource of the template.
type attrFunc func(logicalID, attr string) (string, error)

// evaluator resolves intrinsic functions against parameters, pseudo
// parameters, conditions and the attributes of resources.
type evaluator struct {
	t      *Template
	params map[string]string
	pseudo map[string]any
	attrs  attrFunc

	conds      map[string]bool
	evaluating map[string]bool
	depth      int
}

func newEvaluator(t *Template, params map[string]string, pseudo map[string]any, attrs attrFunc) *evaluator {
	return &evaluator{t: t, params: params, pseudo: pseudo, attrs: attrs, conds: map[string]bool{}, evaluating: map[string]bool{}}
}

// condition evaluates a named condition of the Conditions section.
func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	def, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not declared in Conditions", name)
	}
	if e.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	e.evaluating[name] = true
	defer delete(e.evaluating, name)
	v, err := e.eval(def, "Conditions."+name)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s: must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not %s", name, describe(def))
	}
	e.conds[name] = b
	return b, nil
}

// eval resolves every intrinsic function in v. path names the place in
// the template for error messages.
func (e *evaluator) eval(v any, path string) (any, error) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > 4*maxDepth {
		return nil, fmt.Errorf("%s: functions nest too deeply", path)
	}
	switch x := v.(type) {
	case map[string]any:
		if fn, ok := intrinsicName(x); ok {
			return e.call(fn, x[fn], path)
		}
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			r, err := e.eval(x[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, el := range x {
			r, err := e.eval(el, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if r != noValue {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) call(fn string, arg any, path string) (any, error) {
	at := path + ": " + fn
	args := func(n int) ([]any, error) {
		l, ok := arg.([]any)
		if !ok || len(l) != n {
			return nil, fmt.Errorf("%s takes a list of %d arguments", at, n)
		}
		return l, nil
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s takes the name of a parameter or resource, not %s", at, describe(arg))
		}
		return e.ref(name, at)

	case "Fn::GetAtt":
		l, err := args(2)
		if err != nil {
			if s, ok := arg.(string); ok { // "Res.Attr" in JSON
				if res, attr, found := strings.Cut(s, "."); found {
					l, err = []any{res, attr}, nil
				}
			}
			if err != nil {
				return nil, err
			}
		}
		res, ok := l[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: the logical ID must be a string", at)
		}
		attrV, err := e.eval(l[1], at)
		if err != nil {
			return nil, err
		}
		attr, ok := attrV.(string)
		if !ok {
			return nil, fmt.Errorf("%s: the attribute name must be a string", at)
		}
		if _, ok := e.t.Resources[res]; !ok {
			return nil, fmt.Errorf("%s %s.%s: no resource %s in the template", at, res, attr, res)
		}
		s, err := e.attrs(res, attr)
		if err != nil {
			return nil, fmt.Errorf("%s %s.%s: %v", at, res, attr, err)
		}
		return s, nil

	case "Fn::Sub":
		tmpl, vars := arg, map[string]any(nil)
		if l, ok := arg.([]any); ok {
			if len(l) != 2 {
				return nil, fmt.Errorf("%s takes a string, or a list of a string and a mapping of variables", at)
			}
			tmpl = l[0]
			m, ok := l[1].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: the second argument must be a mapping of variables", at)
			}
			vars = map[string]any{}
			for _, k := range sortedKeys(m) {
				r, err := e.eval(m[k], at+"."+k)
				if err != nil {
					return nil, err
				}
				vars[k] = r
			}
		}
		s, ok := tmpl.(string)
		if !ok {
			return nil, fmt.Errorf("%s: the template must be a string, not %s", at, describe(tmpl))
		}
		return e.sub(s, vars, at)

	case "Fn::Join":
		l, err := args(2)
		if err != nil {
			return nil, err
		}
		delim, ok := l[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: the delimiter must be a string", at)
		}
		list, err := e.list(l[1], at)
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, el := range list {
			if parts[i], err = scalarString(el); err != nil {
				return nil, fmt.Errorf("%s: element %d %v", at, i, err)
			}
		}
		return strings.Join(parts, delim), nil

	case "Fn::Select":
		l, err := args(2)
		if err != nil {
			return nil, err
		}
		iv, err := e.eval(l[0], at)
		if err != nil {
			return nil, err
		}
		n, err := scalarNumber(iv)
		if err != nil || n != float64(int(n)) || n < 0 {
			return nil, fmt.Errorf("%s: the index must be a whole number, not %s", at, describe(iv))
		}
		list, err := e.list(l[1], at)
		if err != nil {
			return nil, err
		}
		if int(n) >= len(list) {
			return nil, fmt.Errorf("%s: index %d is out of range for a list of %d", at, int(n), len(list))
		}
		return list[int(n)], nil

	case "Fn::Split":
		l, err := args(2)
		if err != nil {
			return nil, err
		}
		delim, ok := l[0].(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("%s: the delimiter must be a non-empty string", at)
		}
		sv, err := e.eval(l[1], at)
		if err != nil {
			return nil, err
		}
		s, err := scalarString(sv)
		if err != nil {
			return nil, fmt.Errorf("%s: the source %v", at, err)
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil

	case "Fn::If":
		l, err := args(3)
		if err != nil {
			return nil, err
		}
		name, ok := l[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: the first argument must be a condition name", at)
		}
		b, err := e.condition(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", at, err)
		}
		if b {
			return e.eval(l[1], at+"[true]")
		}
		return e.eval(l[2], at+"[false]")

	case "Fn::Equals":
		l, err := args(2)
		if err != nil {
			return nil, err
		}
		var s [2]string
		for i := range 2 {
			v, err := e.eval(l[i], at)
			if err != nil {
				return nil, err
			}
			if s[i], err = scalarString(v); err != nil {
				return nil, fmt.Errorf("%s: argument %d %v", at, i+1, err)
			}
		}
		return s[0] == s[1], nil

	case "Fn::Not":
		l, err := args(1)
		if err != nil {
			return nil, err
		}
		b, err := e.boolean(l[0], at)
		return !b, err

	case "Fn::And", "Fn::Or":
		l, ok := arg.([]any)
		if !ok || len(l) < 2 || len(l) > 10 {
			return nil, fmt.Errorf("%s takes a list of 2 to 10 conditions", at)
		}
		and := fn == "Fn::And"
		result := and
		for _, c := range l {
			b, err := e.boolean(c, at)
			if err != nil {
				return nil, err
			}
			if and {
				result = result && b
			} else {
				result = result || b
			}
		}
		return result, nil

	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s takes a condition name", at)
		}
		return e.condition(name)

	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || len(l) < 3 {
			return nil, fmt.Errorf("%s takes [MapName, TopLevelKey, SecondLevelKey]", at)
		}
		var keys [3]string
		for i := range 3 {
			v, err := e.eval(l[i], at)
			if err != nil {
				return nil, err
			}
			if keys[i], err = scalarString(v); err != nil {
				return nil, fmt.Errorf("%s: key %d %v", at, i+1, err)
			}
		}
		m, ok := e.t.Mappings[keys[0]].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: no mapping %s in Mappings", at, keys[0])
		}
		top, ok := m[keys[1]].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: mapping %s has no key %s", at, keys[0], keys[1])
		}
		v, ok := top[keys[2]]
		if !ok {
			return nil, fmt.Errorf("%s: mapping %s.%s has no key %s", at, keys[0], keys[1], keys[2])
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s is not supported by cairn (supported: Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::FindInMap, Condition)", at)
}

func (e *evaluator) boolean(v any, at string) (bool, error) {
	r, err := e.eval(v, at)
	if err != nil {
		return false, err
	}
	b, ok := r.(bool)
	if !ok {
		return false, fmt.Errorf("%s: expected a condition, not %s", at, describe(v))
	}
	return b, nil
}

// list evaluates v and requires a list.
func (e *evaluator) list(v any, at string) ([]any, error) {
	r, err := e.eval(v, at)
	if err != nil {
		return nil, err
	}
	l, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a list, not %s", at, describe(r))
	}
	return l, nil
}

func (e *evaluator) ref(name, at string) (any, error) {
	if v, ok := e.params[name]; ok {
		if p := e.t.Parameters[name]; p != nil && p.isList() {
			out := []any{}
			for _, s := range splitList(v) {
				out = append(out, s)
			}
			return out, nil
		}
		return v, nil
	}
	if isPseudo(name) {
		if name == "AWS::NoValue" {
			return noValue, nil
		}
		return e.pseudo[name], nil
	}
	if _, ok := e.t.Resources[name]; ok {
		s, err := e.attrs(name, "Ref")
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", at, name, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s %s: no parameter or resource of that name in the template", at, name)
}

// sub renders a Fn::Sub template: ${Name} is a variable, parameter, pseudo
// parameter or resource Ref, ${Res.Attr} a resource attribute, ${!Text}
// the literal ${Text}.
func (e *evaluator) sub(s string, vars map[string]any, at string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%s: %q has a ${ without a closing }", at, s)
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		var v any
		if x, ok := vars[name]; ok {
			v = x
		} else if res, attr, ok := strings.Cut(name, "."); ok && !isPseudo(name) {
			if _, exists := e.t.Resources[res]; !exists {
				return "", fmt.Errorf("%s: ${%s}: no resource %s in the template", at, name, res)
			}
			str, err := e.attrs(res, attr)
			if err != nil {
				return "", fmt.Errorf("%s: ${%s}: %v", at, name, err)
			}
			v = str
		} else {
			r, err := e.ref(name, at)
			if err != nil {
				return "", err
			}
			v = r
		}
		if v == noValue {
			continue
		}
		str, err := scalarString(v)
		if err != nil {
			return "", fmt.Errorf("%s: ${%s} %v", at, name, err)
		}
		b.WriteString(str)
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// references returns the logical IDs of the resources v refers to through
// Ref, Fn::GetAtt and Fn::Sub; both branches of Fn::If count.
func (t *Template) references(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if fn, ok := intrinsicName(x); ok {
			arg := x[fn]
			switch fn {
			case "Ref":
				if s, ok := arg.(string); ok && t.Resources[s] != nil {
					into[s] = true
				}
				return
			case "Fn::GetAtt":
				switch a := arg.(type) {
				case []any:
					if len(a) > 0 {
						if s, ok := a[0].(string); ok && t.Resources[s] != nil {
							into[s] = true
						}
					}
				case string:
					res, _, _ := strings.Cut(a, ".")
					if t.Resources[res] != nil {
						into[res] = true
					}
				}
				return
			case "Fn::Sub":
				tmpl, vars := arg, map[string]any(nil)
				if l, ok := arg.([]any); ok && len(l) == 2 {
					tmpl = l[0]
					vars, _ = l[1].(map[string]any)
					t.references(l[1], into)
				}
				if s, ok := tmpl.(string); ok {
					for _, name := range subNames(s) {
						if _, local := vars[name]; local {
							continue
						}
						res, _, _ := strings.Cut(name, ".")
						if t.Resources[res] != nil {
							into[res] = true
						}
					}
				}
				return
			}
			t.references(arg, into)
			return
		}
		for _, el := range x {
			t.references(el, into)
		}
	case []any:
		for _, el := range x {
			t.references(el, into)
		}
	}
}

// subNames returns the variable names of a Fn::Sub template.
func subNames(s string) []string {
	var names []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return names
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return names
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		if !strings.HasPrefix(name, "!") {
			names = append(names, name)
		}
		s = s[i+j+1:]
	}
}
