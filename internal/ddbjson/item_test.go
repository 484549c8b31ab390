package ddbjson

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestAppendNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0E+99", "0"}, {"00", "0"}, {"+0", "0"},
		{"1", "1"}, {"+1", "1"}, {"-1", "-1"}, {"1.50", "1.5"}, {"1.5", "1.5"}, {"15E-1", "1.5"},
		{"1E2", "100"}, {"1e2", "100"}, {"1E+2", "100"}, {"100.000", "100"}, {"0100", "100"},
		{".5", "0.5"}, {"5.", "5"}, {"-.5e1", "-5"}, {"0.001", "0.001"}, {"1E-3", "0.001"},
		{"123.456E1", "1234.56"}, {"123.456E3", "123456"}, {"123.456E-3", "0.123456"},
		{"1E+125", "1" + strings.Repeat("0", 125)},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"-9.9999999999999999999999999999999999999E+125", "-99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
		{"99999999999999999999999999999999999999", "99999999999999999999999999999999999999"},
		{"0.00000000000000000000000000000000000000000099999999999999999999999999999999999999", "0.00000000000000000000000000000000000000000099999999999999999999999999999999999999"},
		{"99999999999999999999999999999999999999000000E-6", "99999999999999999999999999999999999999"},
		{"1" + strings.Repeat("0", 200) + "E-200", "1"},
		{"10E-131", "0." + strings.Repeat("0", 129) + "1"},
	}
	for _, tt := range tests {
		got, err := AppendNumber(nil, []byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", "-", "+", ".", "e5", "1e", "1e+", "1..2", "1.2.3", " 1", "1 ", "0x10", "NaN", "Infinity",
		"1E+126", "10E+125", "1E-131", "0.1E-130", "999999999999999999999999999999999999999", // 39 digits
		"1.00000000000000000000000000000000000001", "1E99999999999999999999", "--1", "1e5.5", "١"}
	for _, in := range bad {
		if got, err := AppendNumber(nil, []byte(in)); err == nil {
			t.Errorf("AppendNumber(%q) = %q, want an error", in, got)
		}
	}
}

func TestValidateItem(t *testing.T) {
	valid := []string{
		`{"a":{"S":"x"}}`,
		` { "a" : { "S" : "" } , "b":{"N":"1"} } `,
		`{"a":{"B":""},"b":{"B":"AA=="},"c":{"B":"AAA="},"d":{"B":"AAAA"}}`,
		`{"a":{"SS":["x","y"]},"b":{"NS":["1","1.5"]},"c":{"BS":["AA==","AQ=="]}}`,
		`{"a":{"M":{}},"b":{"L":[]},"c":{"NULL":true},"d":{"BOOL":false},"e":{"BOOL":true}}`,
		`{"a":{"M":{"":{"S":"empty map key"}}}}`,
		`{"\u0061":{"\u0053":"\ud83d\ude00"}}`,
		`{"a":{"S":"\u2028\"\\\/\b\f\n\r\t"}}`,
		`{"a":{"SS":["\u0061","b"]}}`,
		`{"a":{"L":[{"S":"x"},{"S":"x"}]}}`,
		nest("M", MaxDepth), nest("L", MaxDepth),
	}
	for _, in := range valid {
		if err := ValidateItem([]byte(in)); err != nil {
			t.Errorf("ValidateItem(%.80s) = %v, want nil", in, err)
		}
	}
	invalid := []struct{ in, path, reason string }{
		{``, "", "not a JSON object"},
		{`[]`, "", "not a JSON object"},
		{`{}`, "", "no attributes"},
		{`{"a":{"S":"x"}} x`, "", "after item"},
		{`{"a":{"S":"x"}`, "", "expected"},
		{`{"":{"S":"x"}}`, "", "empty attribute name"},
		{`{"a":{"S":"x"},"a":{"S":"y"}}`, "a", "duplicate attribute name"},
		{`{"b":{"S":"x"},"a":{"N":"1"},"b":{"S":"y"}}`, "b", "duplicate attribute name"},
		{`{"a":{"M":{"x":{"S":"1"},"\u0078":{"S":"2"}}}}`, "a.x", "duplicate"},
		{`{"a":{}}`, "a", "no type descriptor"},
		{`{"a":{"S":"x","N":"1"}}`, "a", "more than one type descriptor"},
		{`{"a":{"X":"x"}}`, "a", "unknown type descriptor"},
		{`{"a":{"s":"x"}}`, "a", "unknown type descriptor"},
		{`{"a":{"S":1}}`, "a", "expected a string"},
		{"{\"a\":{\"S\":\"\x01\"}}", "a", "control character"},
		{"{\"a\":{\"S\":\"\xff\"}}", "a", "invalid UTF-8"},
		{`{"a":{"S":"\ud800"}}`, "a", "surrogate"},
		{`{"a":{"S":"\q"}}`, "a", "invalid escape"},
		{`{"a":{"N":"1E+126"}}`, "a", "larger"},
		{`{"a":{"N":"1E-131"}}`, "a", "smaller"},
		{`{"a":{"N":"1234567890123456789012345678901234567890"}}`, "a", "significant digits"},
		{`{"a":{"N":""}}`, "a", "not a number"},
		{`{"a":{"N":1}}`, "a", "expected a string"},
		{`{"a":{"B":"A"}}`, "a", "base64"},
		{`{"a":{"B":"AB=="}}`, "a", "base64"}, // non-zero padding bits
		{`{"a":{"B":"AA"}}`, "a", "base64"},
		{`{"a":{"B":"AA==\n"}}`, "a", "base64"},
		{`{"a":{"B":"AA\u003d="}}`, "", ""}, // escaped '=' is fine, checked below as valid
		{`{"a":{"B":"A\nA=="}}`, "a", "base64"},
		{`{"a":{"B":"-_=="}}`, "a", "base64"},
		{`{"a":{"SS":[]}}`, "a", "set is empty"},
		{`{"a":{"SS":["x","x"]}}`, "a", "duplicates"},
		{`{"a":{"SS":["x","\u0078"]}}`, "a", "duplicates"},
		{`{"a":{"NS":["1","1.0"]}}`, "a", "duplicates"},
		{`{"a":{"NS":["1","2","1E0"]}}`, "a", "duplicates"},
		{`{"a":{"BS":["AA==","AA=="]}}`, "a", "duplicates"},
		{`{"a":{"NS":["1","x"]}}`, "a[1]", "not a number"},
		{`{"a":{"SS":"x"}}`, "a", "not an array"},
		{`{"a":{"NULL":false}}`, "a", "NULL value is not true"},
		{`{"a":{"NULL":null}}`, "a", "NULL value is not true"},
		{`{"a":{"BOOL":"true"}}`, "a", "BOOL value"},
		{`{"a":{"BOOL":1}}`, "a", "BOOL value"},
		{`{"a":{"M":[]}}`, "a", "not an object"},
		{`{"a":{"L":{}}}`, "a", "not an array"},
		{`{"a":{"L":[{"S":"x"},{"N":"x"}]}}`, "a[1]", "not a number"},
		{`{"a":{"M":{"b":{"L":[{"M":{"c.d":{"BOOL":0}}}]}}}}`, `a.b[0]."c.d"`, "BOOL"},
		{nest("M", MaxDepth+1), "", "nested more than 32"},
		{nest("L", MaxDepth+1), "", "nested more than 32"},
	}
	for _, tt := range invalid {
		err := ValidateItem([]byte(tt.in))
		if tt.reason == "" {
			if err != nil {
				t.Errorf("ValidateItem(%s) = %v, want nil", tt.in, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateItem(%.80s) = %v, want an *Error", tt.in, err)
			continue
		}
		if !strings.Contains(e.Reason, tt.reason) || (tt.path != "" && e.Path != tt.path) {
			t.Errorf("ValidateItem(%.80s) = path %q reason %q; want path %q reason containing %q", tt.in, e.Path, e.Reason, tt.path, tt.reason)
		}
	}
}

// nest returns an item whose attribute "a" nests kind (M or L) depth levels.
func nest(kind string, depth int) string {
	v := `{"S":"x"}`
	for range depth {
		if kind == "M" {
			v = `{"M":{"k":` + v + `}}`
		} else {
			v = `{"L":[` + v + `]}`
		}
	}
	return `{"a":` + v + `}`
}

func TestAppendCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{` { "b" : { "N" : "1.50" } , "a":{"S":"x"} } `, `{"a":{"S":"x"},"b":{"N":"1.5"}}`},
		{`{"a":{"SS":["c","a","b"]}}`, `{"a":{"SS":["a","b","c"]}}`},
		{`{"a":{"NS":["10","9","-1","1E2"]}}`, `{"a":{"NS":["-1","10","100","9"]}}`},
		{`{"a":{"BS":["AQ==","AA=="]}}`, `{"a":{"BS":["AA==","AQ=="]}}`},
		{`{"a":{"M":{"z":{"NULL":true},"y":{"L":[{"N":"-0"},{"BOOL":false}]}}}}`,
			`{"a":{"M":{"y":{"L":[{"N":"0"},{"BOOL":false}]},"z":{"NULL":true}}}}`},
		{`{"a":{"S":"\u0041\/\u00e9\ud83d\ude00\u2028\u001f\u007f\"\\\b\f\n\r\t"}}`,
			"{\"a\":{\"S\":\"A/é😀\u2028\\u001f\x7f\\\"\\\\\\b\\f\\n\\r\\t\"}}"},
		{`{"\u0062":{"S":"1"},"a":{"S":"2"}}`, `{"a":{"S":"2"},"b":{"S":"1"}}`},
		{`{"a":{"B":"AA\u003d\u003d"}}`, `{"a":{"B":"AA=="}}`},
	}
	for _, tt := range tests {
		got, err := AppendCanonical(nil, []byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendCanonical(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
			continue
		}
		again, err := AppendCanonical([]byte("prefix"), got)
		if err != nil || string(again) != "prefix"+tt.want {
			t.Errorf("AppendCanonical(canonical %s) = %s, %v: not idempotent", got, again, err)
		}
	}
	// An error leaves dst as it was.
	dst := []byte("keep")
	if got, err := AppendCanonical(dst, []byte(`{"a":{"S":1}}`)); err == nil || string(got) != "keep" {
		t.Errorf("AppendCanonical(invalid) = %q, %v", got, err)
	}
}

func TestErrorMessage(t *testing.T) {
	err := ValidateItem([]byte(`{"orders":{"L":[{"M":{"price":{"N":"abc"}}}]}}`))
	want := `ddbjson: attribute orders[0].price: number "abc" is not a number (at byte 35)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestCorpusValid(t *testing.T) {
	for _, kt := range []string{TypeS, TypeN, TypeB} {
		items := HostileCorpusFor(kt)
		keys := map[string]bool{}
		for k, av := range items {
			raw, err := FromAttributeValues(av)
			if err != nil {
				t.Fatalf("%s item %d: %v", kt, k, err)
			}
			if size := itemSize(t, raw); size > CorpusMaxItemSize {
				t.Errorf("%s item %d: size %d > %d", kt, k, size, CorpusMaxItemSize)
			}
			key, err := FromAttributeValues(map[string]types.AttributeValue{CorpusKey: av[CorpusKey]})
			if err != nil {
				t.Fatal(err)
			}
			canon, _ := AppendCanonical(nil, key)
			if keys[string(canon)] {
				t.Errorf("%s item %d: duplicate key %s", kt, k, canon)
			}
			keys[string(canon)] = true
		}
	}
}

func TestOrderItems(t *testing.T) {
	items := OrderItems(rand.New(rand.NewPCG(1, 2)), 2000)
	again := OrderItems(rand.New(rand.NewPCG(1, 2)), 2000)
	keys := map[string]bool{}
	total := 0
	for k, it := range items {
		if err := ValidateItem(it); err != nil {
			t.Fatalf("item %d: %v\n%s", k, err, it)
		}
		if !bytes.Equal(it, again[k]) {
			t.Fatalf("item %d differs between two runs with the same seed", k)
		}
		pk := it[:bytes.IndexByte(it, ',')]
		if keys[string(pk)] {
			t.Fatalf("item %d: duplicate key %s", k, pk)
		}
		keys[string(pk)] = true
		total += len(it)
	}
	if avg := total / len(items); avg < 800 || avg > 1200 {
		t.Errorf("average item size %d bytes, want about 1 KB", avg)
	}
}
