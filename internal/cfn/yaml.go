package cfn

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep a hostile template from exhausting memory or the stack.
const (
	// MaxTemplateBytes is the largest template accepted (CloudFormation's
	// limit for a template in S3).
	MaxTemplateBytes = 1 << 20
	maxDepth         = 64
	maxNodes         = 200_000
)

// shortTags maps the YAML short form of each intrinsic function to its
// long (JSON) name.
var shortTags = map[string]string{
	"!Ref":       "Ref",
	"!Sub":       "Fn::Sub",
	"!GetAtt":    "Fn::GetAtt",
	"!Join":      "Fn::Join",
	"!Select":    "Fn::Select",
	"!Split":     "Fn::Split",
	"!If":        "Fn::If",
	"!Equals":    "Fn::Equals",
	"!Not":       "Fn::Not",
	"!And":       "Fn::And",
	"!Or":        "Fn::Or",
	"!FindInMap": "Fn::FindInMap",
	"!Condition": "Condition",
	// Known to CloudFormation but not supported by cairn: parsed, so the
	// error when one is evaluated names the function.
	"!Base64":       "Fn::Base64",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Cidr":         "Fn::Cidr",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// decodeDocument parses a YAML or JSON document into plain values: string,
// int, float64, bool, nil, []any and map[string]any. Short intrinsic tags
// become their long form: !Ref X is map[string]any{"Ref": "X"}.
func decodeDocument(src []byte) (any, error) {
	if len(src) > MaxTemplateBytes {
		return nil, fmt.Errorf("the template is %d bytes; at most %d are accepted", len(src), MaxTemplateBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("the template is neither valid YAML nor JSON: %v", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("the template is empty")
	}
	c := &converter{}
	return c.convert(doc.Content[0], 0)
}

type converter struct {
	nodes int
}

func (c *converter) convert(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, fmt.Errorf("the template has more than %d values", maxNodes)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: the template nests deeper than %d levels", n.Line, maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", n.Line)
		}
		return c.convert(n.Alias, depth+1)
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], depth+1)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Tag != "!" {
		name, ok := shortTags[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s (intrinsic functions are !Ref, !Sub, !GetAtt, !Join, !Select, !Split, !If, !Equals, !Not, !And, !Or, !FindInMap, !Condition)", n.Line, n.Tag)
		}
		inner := *n
		inner.Tag = ""
		if n.Kind == yaml.ScalarNode {
			inner.Tag = "!!str" // !Ref 123 names "123"; a tagged scalar is a string
		}
		v, err := c.convert(&inner, depth+1)
		if err != nil {
			return nil, err
		}
		if name == "Fn::GetAtt" {
			if s, ok := v.(string); ok {
				res, attr, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %s: expected LogicalId.Attribute", n.Line, s)
				}
				v = []any{res, attr}
			}
		}
		return map[string]any{name: v}, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		switch x := v.(type) {
		case nil, string, bool, int, float64:
			return x, nil
		case int64:
			return int(x), nil
		case uint64:
			return float64(x), nil
		default:
			// Timestamps, binary and the like: CloudFormation sees text.
			return n.Value, nil
		}
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn := n.Content[i]
			if kn.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain string", kn.Line)
			}
			if _, dup := out[kn.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q appears twice", kn.Line, kn.Value)
			}
			v, err := c.convert(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out[kn.Value] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}
