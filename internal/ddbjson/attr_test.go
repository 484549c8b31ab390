package ddbjson

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemSize returns the DynamoDB size of a raw item: names plus values, with
// numbers counted as 1 + half their significant digits (an upper bound of
// DynamoDB's rule) and 3 + 1 per member for M and L.
func itemSize(t testing.TB, raw []byte) int {
	t.Helper()
	m, err := ToAttributeValues(raw)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for name, av := range m {
		size += len(name) + avSize(av)
	}
	return size
}

func avSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return 2 + len(v.Value)/2
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += 2 + len(s)/2
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range v.Value {
			n += 1 + len(name) + avSize(e)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + avSize(e)
		}
		return n
	}
	return 1
}

func TestAttributeValuesRoundTrip(t *testing.T) {
	for _, kt := range []string{TypeS, TypeN, TypeB} {
		for k, av := range HostileCorpusFor(kt) {
			raw, err := FromAttributeValues(av)
			if err != nil {
				t.Fatalf("%s item %d: FromAttributeValues: %v", kt, k, err)
			}
			back, err := ToAttributeValues(raw)
			if err != nil {
				t.Fatalf("%s item %d: ToAttributeValues: %v", kt, k, err)
			}
			if !reflect.DeepEqual(av, back) {
				t.Errorf("%s item %d: round trip changed the item:\n%.300s", kt, k, raw)
			}
			again, err := FromAttributeValues(back)
			if err != nil || string(again) != string(raw) {
				t.Errorf("%s item %d: second encoding differs", kt, k)
			}
		}
	}
}

func TestFromAttributeValuesErrors(t *testing.T) {
	tests := []map[string]types.AttributeValue{
		nil,
		{"a": nil},
		{"a": &types.AttributeValueMemberN{Value: "x"}},
		{"a": &types.AttributeValueMemberNULL{Value: false}},
		{"a": &types.AttributeValueMemberSS{}},
		{"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.UnknownUnionMember{Tag: "X"}}}},
		{"a": &types.AttributeValueMemberSS{Value: []string{"x", "x"}}},
		{"a": &types.AttributeValueMemberS{Value: "\xff"}}, // becomes U+FFFD: valid; see below
	}
	for k, in := range tests[:len(tests)-1] {
		if out, err := FromAttributeValues(in); err == nil {
			t.Errorf("case %d: FromAttributeValues = %s, want an error", k, out)
		}
	}
	out, err := FromAttributeValues(tests[len(tests)-1])
	if err != nil || string(out) != "{\"a\":{\"S\":\"\uFFFD\"}}" {
		t.Errorf("invalid UTF-8: %s, %v", out, err)
	}
}
