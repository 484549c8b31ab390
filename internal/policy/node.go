package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// The inheritance operators of AWS Organizations' management policies.
const (
	opAssign         = "@@assign"
	opAppend         = "@@append"
	opRemove         = "@@remove"
	opAllowedForKids = "@@operators_allowed_for_child_policies"
	opAll            = "@@all"
	opNone           = "@@none"
)

// MaxDocumentSize is the largest document accepted: AWS Organizations'
// limit for a policy document is 5,120 characters for tag and backup
// policies; cairn is more generous but bounded.
const MaxDocumentSize = 1 << 20

type kind int

const (
	kObject kind = iota
	kArray
	kString
	kNumber
	kBool
	kNull
)

func (k kind) String() string {
	return [...]string{"an object", "a list", "a string", "a number", "true or false", "null"}[k]
}

// node is one JSON value of a document with the path that leads to it.
type node struct {
	path string
	kind kind
	keys []string // object keys in document order
	obj  map[string]*node
	arr  []*node
	text string // string value, or number text
}

// errorf returns the error of the element at path.
func errorf(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &backup.Error{Code: backup.ErrInvalidParameter, Type: "Policy", Context: path, Message: msg}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode parses a JSON document into nodes. Duplicate keys are refused, as
// AWS refuses them.
func decode(doc []byte) (*node, error) {
	if len(doc) > MaxDocumentSize {
		return nil, errorf("", "the document is %d bytes; at most %d are accepted", len(doc), MaxDocumentSize)
	}
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	n, err := decodeValue(d, "")
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("", "the document must be one JSON object; found more after its end")
	}
	if n.kind != kObject {
		return nil, errorf("", "the document must be a JSON object; got %s", n.kind)
	}
	return n, nil
}

func decodeValue(d *json.Decoder, path string) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, errorf(path, "not valid JSON at byte %d: %v", se.Offset, err)
		}
		return nil, errorf(path, "not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{path: path, kind: kObject, obj: map[string]*node{}}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, errorf(path, "not valid JSON: %v", err)
				}
				k := kt.(string)
				if _, dup := n.obj[k]; dup {
					return nil, errorf(join(path, k), "the key %q appears twice; JSON policies must not repeat keys", k)
				}
				v, err := decodeValue(d, join(path, k))
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.obj[k] = v
			}
			if _, err := d.Token(); err != nil {
				return nil, errorf(path, "not valid JSON: %v", err)
			}
			return n, nil
		case '[':
			n := &node{path: path, kind: kArray}
			for i := 0; d.More(); i++ {
				v, err := decodeValue(d, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, errorf(path, "not valid JSON: %v", err)
			}
			return n, nil
		}
	case string:
		return &node{path: path, kind: kString, text: t}, nil
	case json.Number:
		return &node{path: path, kind: kNumber, text: t.String()}, nil
	case bool:
		return &node{path: path, kind: kBool, text: strconv.FormatBool(t)}, nil
	case nil:
		return &node{path: path, kind: kNull}, nil
	}
	return nil, errorf(path, "unexpected JSON token %v", tok)
}

// section is an object node that holds named elements (not a setting):
// it checks that its keys are among the allowed ones and that the only
// operator it carries is @@operators_allowed_for_child_policies.
func section(n *node, allowed ...string) error {
	if n.kind != kObject {
		return errorf(n.path, "must be an object; got %s", n.kind)
	}
	for _, k := range n.keys {
		if k == opAllowedForKids {
			if err := checkAllowedOps(n.obj[k]); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(k, "@@") {
			return errorf(join(n.path, k), "unknown operator %q here; this element takes %s only (its values are set inside its elements)", k, opAllowedForKids)
		}
		if allowed != nil && !slices.Contains(allowed, k) {
			return errorf(join(n.path, k), "unknown key %q; expected one of %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// names returns the keys of a section that are not operators.
func names(n *node) []string {
	var out []string
	for _, k := range n.keys {
		if !strings.HasPrefix(k, "@@") {
			out = append(out, k)
		}
	}
	return out
}

func checkAllowedOps(n *node) error {
	if n.kind != kArray {
		return errorf(n.path, "must be a list of operators such as [\"@@none\"]; got %s", n.kind)
	}
	for _, e := range n.arr {
		if e.kind != kString {
			return errorf(e.path, "must be an operator name; got %s", e.kind)
		}
		switch e.text {
		case opAll, opNone, opAssign, opAppend, opRemove:
		default:
			return errorf(e.path, "unknown operator %q; expected %s, %s, %s, %s or %s", e.text, opAll, opNone, opAssign, opAppend, opRemove)
		}
		if (e.text == opAll || e.text == opNone) && len(n.arr) > 1 {
			return errorf(n.path, "%s must be alone in the list", e.text)
		}
	}
	return nil
}

// setting is one value-setting element: the operator and its value.
type setting struct {
	path string
	op   string
	val  *node
}

// leaf reads a setting element: an object holding one value-setting
// operator (and optionally @@operators_allowed_for_child_policies). A bare
// value is read as @@assign. list says whether @@append and @@remove are
// allowed (they apply to lists only).
func leaf(n *node, list bool) (*setting, error) {
	if n.kind != kObject {
		return &setting{path: n.path, op: opAssign, val: n}, nil
	}
	var s *setting
	for _, k := range n.keys {
		v := n.obj[k]
		switch k {
		case opAllowedForKids:
			if err := checkAllowedOps(v); err != nil {
				return nil, err
			}
			continue
		case opAssign:
		case opAppend, opRemove:
			if !list {
				return nil, errorf(join(n.path, k), "%s applies to lists only; use %s to set this value", k, opAssign)
			}
		default:
			if strings.HasPrefix(k, "@@") {
				return nil, errorf(join(n.path, k), "unknown operator %q; expected %s, %s, %s or %s", k, opAssign, opAppend, opRemove, opAllowedForKids)
			}
			return nil, errorf(join(n.path, k), "unknown key %q; a value is set with {\"%s\": ...}", k, opAssign)
		}
		if s != nil {
			return nil, errorf(join(n.path, k), "%s and %s both set this value; use one operator", s.op, k)
		}
		s = &setting{path: n.path, op: k, val: v}
	}
	if s == nil {
		return nil, errorf(n.path, "no value: set it with {\"%s\": ...}", opAssign)
	}
	return s, nil
}

// str reads a setting whose value is a string.
func (s *setting) str() (string, error) {
	if s.val.kind != kString {
		return "", errorf(s.path, "must be a string; got %s", s.val.kind)
	}
	return s.val.text, nil
}

// strs reads a setting whose value is a list of strings (a single
// string counts as a list of one).
func (s *setting) strs() ([]string, error) {
	if s.val.kind == kString {
		return []string{s.val.text}, nil
	}
	if s.val.kind != kArray {
		return nil, errorf(s.path, "must be a list of strings; got %s", s.val.kind)
	}
	out := make([]string, 0, len(s.val.arr))
	for i, e := range s.val.arr {
		if e.kind != kString {
			return nil, errorf(fmt.Sprintf("%s[%d]", s.path, i), "must be a string; got %s", e.kind)
		}
		out = append(out, e.text)
	}
	return out, nil
}

// apply applies a list setting to the current value: @@assign replaces
// it, @@append adds what is not in it, @@remove takes values out.
func (s *setting) apply(cur []string) ([]string, error) {
	v, err := s.strs()
	if err != nil {
		return nil, err
	}
	switch s.op {
	case opAppend:
		out := slices.Clone(cur)
		for _, x := range v {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out, nil
	case opRemove:
		return slices.DeleteFunc(slices.Clone(cur), func(x string) bool { return slices.Contains(v, x) }), nil
	}
	return dedup(v), nil
}

func dedup(v []string) []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// field returns the element k of a section, or nil.
func (n *node) field(k string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	return n.obj[k]
}
