package ddbjson

import (
	"errors"
	"strings"
	"testing"
)

// laxSum returns the checksum of items added with AddOutOfSpec.
func laxSum(t testing.TB, items ...string) *Checksum {
	t.Helper()
	var c Checksum
	for _, it := range items {
		if err := c.AddOutOfSpec([]byte(it)); err != nil {
			t.Fatalf("AddOutOfSpec(%.100s): %v", it, err)
		}
	}
	return &c
}

// The lax digest of a valid item is its strict digest: the lax rules only
// lift limits, so existing recovery points keep validating.
func TestOutOfSpecDigestOfValidItemIsStrict(t *testing.T) {
	for _, it := range corpusRaw(t) {
		checkLaxMatchesStrict(t, it)
	}
}

func checkLaxMatchesStrict(t *testing.T, item []byte) {
	t.Helper()
	var strict, lax Checksum
	if err := strict.Add(item); err != nil {
		return // not valid: nothing to compare
	}
	if err := lax.AddOutOfSpec(item); err != nil {
		t.Fatalf("AddOutOfSpec(valid %.200q): %v", item, err)
	}
	if !strict.Equal(&lax) {
		t.Fatalf("valid item %.200q: lax digest %s, strict %s", item, lax.Sum(), strict.Sum())
	}
}

func FuzzOutOfSpecDigest(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range outOfSpecItems {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		checkLaxMatchesStrict(t, item)
		var a, b Checksum
		errA, errB := a.AddOutOfSpec(item), b.AddOutOfSpec(item)
		if (errA == nil) != (errB == nil) || !a.Equal(&b) {
			t.Fatalf("%q: AddOutOfSpec is not deterministic", item)
		}
		if errA != nil && !errors.Is(errA, ErrInvalid) {
			t.Fatalf("%q: error %v does not wrap ErrInvalid", item, errA)
		}
	})
}

// Items lax servers hold (moto, dynalite) that DynamoDB refuses.
var outOfSpecItems = []string{
	`{"pk":{"S":"a"},"ns":{"NS":["1","1.0"]}}`,
	`{"pk":{"S":"b"},"ss":{"SS":["x","x"]}}`,
	`{"pk":{"S":"c"},"bs":{"BS":["AA==","AA=="]}}`,
	`{"pk":{"S":"d"},"n":{"N":"1234567890123456789012345678901234567890"}}`,
	`{"pk":{"S":"e"},"n":{"NS":["abc","1"]}}`,
	`{"pk":{"S":"f"},"b":{"BOOL":"yes"}}`,
	`{"pk":{"S":"g"},"z":{"NULL":false}}`,
	`{"pk":{"S":"h"},"":{"S":"empty name"}}`,
	`{"pk":{"S":"i"},"e":{"SS":[]}}`,
	`{"pk":{"S":"j"},"n":{"N":"1E200"}}`,
	`{"pk":{"S":"k"},"b":{"B":"!!"}}`,
	nest("M", MaxDepth+1),
	nest("L", 300),
}

func TestOutOfSpecItems(t *testing.T) {
	for _, it := range outOfSpecItems {
		if err := ValidateItem([]byte(it)); err == nil {
			t.Errorf("%.60s is valid; the test wants out-of-spec items", it)
		}
		var c Checksum
		if err := c.Add([]byte(it)); err == nil {
			t.Errorf("Add(%.60s) took an out-of-spec item", it)
		}
		if err := c.AddOutOfSpec([]byte(it)); err != nil || c.Count() != 1 {
			t.Errorf("AddOutOfSpec(%.60s): %v, count %d", it, err, c.Count())
		}
	}
	// Every one has its own digest.
	seen := map[string]string{}
	for _, it := range outOfSpecItems {
		s := laxSum(t, it).Sum()
		if prev, ok := seen[s]; ok {
			t.Errorf("%.60s and %.60s have the same digest", it, prev)
		}
		seen[s] = it
	}
}

// Spelling, attribute order, set order and whitespace do not change an
// out-of-spec item's digest where DynamoDB's canonical form can tell; the
// values themselves do.
func TestOutOfSpecDigestIsCanonical(t *testing.T) {
	deep := func(n int, leaf string) string {
		s := leaf
		for range n {
			s = `{"M":{"a":` + s + `}}`
		}
		return `{"pk":{"S":"d"},"d":` + s + `}`
	}
	for _, tc := range []struct {
		name      string
		same      []string
		different []string
	}{
		{"number set spellings",
			[]string{`{"pk":{"S":"a"},"ns":{"NS":["1","1.0"]}}`, `{"ns":{"NS":["1.0","1"]},"pk":{"S":"a"}}`,
				`{ "pk" : {"S":"a"}, "ns" : {"NS" : ["1E0", "10E-1"]} }`, `{"pk":{"S":"a"},"ns":{"NS":["1","1"]}}`},
			[]string{`{"pk":{"S":"a"},"ns":{"NS":["1","2"]}}`, `{"pk":{"S":"a"},"ns":{"NS":["1","1","1"]}}`}},
		{"string set duplicates",
			[]string{`{"pk":{"S":"b"},"ss":{"SS":["x","y","x"]}}`, `{"pk":{"S":"b"},"ss":{"SS":["x","x","y"]}}`,
				`{"pk":{"S":"b"},"ss":{"SS":["\u0078","y","x"]}}`},
			[]string{`{"pk":{"S":"b"},"ss":{"SS":["x","y"]}}`, `{"pk":{"S":"b"},"ss":{"SS":["x","y","y"]}}`}},
		{"deep nesting",
			[]string{deep(40, `{"N":"1.50"}`), deep(40, `{"N":"1.5"}`)},
			[]string{deep(40, `{"N":"2"}`), deep(41, `{"N":"1.5"}`)}},
		{"long numbers",
			[]string{`{"pk":{"S":"n"},"n":{"N":"1234567890123456789012345678901234567890"}}`,
				`{"pk":{"S":"n"},"n":{"N":"1234567890123456789012345678901234567890.000"}}`,
				`{"pk":{"S":"n"},"n":{"N":"1.234567890123456789012345678901234567890E39"}}`},
			[]string{`{"pk":{"S":"n"},"n":{"N":"1234567890123456789012345678901234567891"}}`}},
		{"numbers out of range",
			[]string{`{"pk":{"S":"n"},"n":{"N":"1E200"}}`, `{"pk":{"S":"n"},"n":{"N":"10E199"}}`, `{"pk":{"S":"n"},"n":{"N":"0.01e202"}}`},
			[]string{`{"pk":{"S":"n"},"n":{"N":"1E201"}}`, `{"pk":{"S":"n"},"n":{"N":"-1E200"}}`}},
	} {
		want := laxSum(t, tc.same[0]).Sum()
		for _, it := range tc.same[1:] {
			if got := laxSum(t, it).Sum(); got != want {
				t.Errorf("%s: %s has digest %s, %s has %s", tc.name, it, got, tc.same[0], want)
			}
		}
		for _, it := range tc.different {
			if got := laxSum(t, it).Sum(); got == want {
				t.Errorf("%s: %s has the digest of %s", tc.name, it, tc.same[0])
			}
		}
	}
}

func TestAppendLaxNumber(t *testing.T) {
	for in, want := range map[string]string{
		"1.50": "1.5", // DynamoDB's own form
		"-0":   "0",
		"1234567890123456789012345678901234567890.0":  "1234567890123456789012345678901234567890",
		"0.00001234567890123456789012345678901234567": "0.00001234567890123456789012345678901234567",
		"1E200":        "1E200",
		"-12.5E-200":   "-1.25E-199",
		"abc":          "abc",
		"":             "",
		"1E":           "1E",
		"1E1234567890": "1E1234567890", // exponent too long to read: as is
	} {
		if got := string(appendLaxNumber(nil, []byte(in))); got != want {
			t.Errorf("appendLaxNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

// An item that is JSON but no DynamoDB item even under the lax rules is
// digested byte for byte; what is not one JSON object is refused.
func TestOutOfSpecRaw(t *testing.T) {
	a := laxSum(t, `{"pk":{"X":"1"}}`).Sum()
	if b := laxSum(t, `{"pk":{"X":"1"}}`).Sum(); a != b {
		t.Errorf("raw digest not deterministic: %s %s", a, b)
	}
	if b := laxSum(t, `{"pk": {"X":"1"}}`).Sum(); a == b {
		t.Errorf("raw digest ignores the bytes")
	}
	laxSum(t, `{"pk":1}`, `{"pk":{"S":"a","N":"1"}}`, `{"pk":{}}`, `{}`)
	for _, bad := range []string{``, `[]`, `{"a":`, `{"a":{"S":"x"}} x`, `"s"`, strings.Repeat(`{"a":`, 10000)} {
		var c Checksum
		if err := c.AddOutOfSpec([]byte(bad)); err == nil || !errors.Is(err, ErrInvalid) || c.Count() != 0 {
			t.Errorf("AddOutOfSpec(%.40q) = %v, count %d; want an ErrInvalid", bad, err, c.Count())
		}
	}
	v1, _ := NewChecksum(ChecksumV1)
	if err := v1.AddOutOfSpec([]byte(outOfSpecItems[0])); err == nil {
		t.Error("a v1 checksum took an out-of-spec item")
	}
}

func TestOutOfSpecStable(t *testing.T) {
	// Stored in recovery points: these values must never change.
	c := laxSum(t, outOfSpecItems...)
	const want = "xxh3-128:e146fc208f835960e23fa0a5de01fa56"
	if got := c.Sum(); got != want {
		t.Errorf("Sum = %s, want %s", got, want)
	}
}

func TestAppendKey(t *testing.T) {
	for _, tc := range []struct {
		item  string
		names []string
		want  string
	}{
		{`{"pk":{"S":"a"},"x":{"N":"1"},"sk":{"N":"2"}}`, []string{"pk", "sk"}, `{"pk":{"S":"a"},"sk":{"N":"2"}}`},
		{`{"sk":{"N":"2"},"pk":{"S":"a"}}`, []string{"pk", "sk"}, `{"pk":{"S":"a"},"sk":{"N":"2"}}`},
		{`{"p\u006b":{"S":"a"}}`, []string{"pk"}, `{"pk":{"S":"a"}}`},
		{`{"x":{"S":"a"}}`, []string{"pk"}, `{}`},
		{`{"pk": { "S" : "a b\" c" } }`, []string{"pk"}, `{"pk":{"S":"a b\" c"}}`},
		{`{"pk":{"S":"a"},"x":`, []string{"pk"}, `{"pk":{"S":"a"}}`},
		{`not json`, []string{"pk"}, `{}`},
		{`{"a":{"S":"1"},"b":{"S":"2"},"c":{"S":"3"},"d":{"S":"4"},"e":{"S":"5"}}`, []string{"e", "d", "c", "b", "a"},
			`{"e":{"S":"5"},"d":{"S":"4"},"c":{"S":"3"},"b":{"S":"2"},"a":{"S":"1"}}`},
	} {
		if got := string(AppendKey(nil, []byte(tc.item), tc.names...)); got != tc.want {
			t.Errorf("AppendKey(%s, %v) = %s, want %s", tc.item, tc.names, got, tc.want)
		}
	}
}
