package ddbjson

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// corpusRaw returns the hostile corpus (all three key types), some order-like
// items and some random items as raw JSON.
func corpusRaw(t testing.TB) [][]byte {
	t.Helper()
	var raw [][]byte
	for _, kt := range []string{TypeS, TypeN, TypeB} {
		for _, av := range HostileCorpusFor(kt) {
			b, err := FromAttributeValues(av)
			if err != nil {
				t.Fatal(err)
			}
			raw = append(raw, b)
		}
	}
	raw = append(raw, OrderItems(rand.New(rand.NewPCG(5, 6)), 50)...)
	return append(raw, RandomItems(rand.New(rand.NewPCG(3, 4)), 50, 300)...)
}

// sumOf returns the checksum of items with algorithm alg.
func sumOf(t testing.TB, alg string, items [][]byte) *Checksum {
	t.Helper()
	c, err := NewChecksum(alg)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := c.Add(it); err != nil {
			t.Fatalf("Add(%.100s): %v", it, err)
		}
	}
	return &c
}

// algorithms are the checksum algorithms every property test covers.
var algorithms = []string{ChecksumV2, ChecksumV1}

func TestChecksumOrderIndependent(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) { testChecksumOrderIndependent(t, alg) })
	}
}

func testChecksumOrderIndependent(t *testing.T, alg string) {
	items := corpusRaw(t)
	want := sumOf(t, alg, items)
	if want.Count() != int64(len(items)) {
		t.Fatalf("Count = %d, want %d", want.Count(), len(items))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 5 {
		// Another scan: other item order, every item spelled differently.
		scrambled := make([][]byte, len(items))
		for k, it := range items {
			scrambled[k] = scramble(t, rng, it)
		}
		rng.Shuffle(len(scrambled), func(i, j int) { scrambled[i], scrambled[j] = scrambled[j], scrambled[i] })
		// In parallel segments, merged.
		total, _ := NewChecksum(alg)
		for seg := range 3 {
			var segs [][]byte
			for k := seg; k < len(scrambled); k += 3 {
				segs = append(segs, scrambled[k])
			}
			total.Merge(sumOf(t, alg, segs))
		}
		if total.Sum() != want.Sum() || total.Count() != want.Count() || !total.Equal(want) {
			t.Fatalf("round %d: Sum %s/%d, want %s/%d", round, total.Sum(), total.Count(), want.Sum(), want.Count())
		}
	}
}

func TestChecksumSensitive(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) { testChecksumSensitive(t, alg) })
	}
}

func testChecksumSensitive(t *testing.T, alg string) {
	base := `{"pk":{"S":"k1"},"s":{"S":"hello"},"n":{"N":"12.5"},"b":{"B":"AAEC"},"t":{"BOOL":true},` +
		`"z":{"NULL":true},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["AA==","AQ=="]},` +
		`"m":{"M":{"x":{"S":"y"},"e":{"S":""}}},"l":{"L":[{"N":"1"},{"S":"2"}]}}`
	mutations := []struct{ from, to string }{
		{`"hello"`, `"hellp"`}, {`"hello"`, `"Hello"`}, {`"hello"`, `"hello "`}, {`"hello"`, `"hell"`},
		{`"12.5"`, `"12.6"`}, {`"12.5"`, `"-12.5"`}, {`"12.5"`, `"125"`}, {`"12.5"`, `"12.50001"`},
		{`"AAEC"`, `"AAED"`}, {`"AAEC"`, `"AAE="`}, {`"BOOL":true`, `"BOOL":false`},
		{`"z":{"NULL":true}`, `"z":{"BOOL":true}`}, {`"s":{"S":"hello"}`, `"s":{"SS":["hello"]}`},
		{`"n":{"N":"12.5"}`, `"n":{"S":"12.5"}`}, {`"ss":{"SS":["a","b"]}`, `"ss":{"SS":["a","c"]}`},
		{`"ss":{"SS":["a","b"]}`, `"ss":{"SS":["a"]}`}, {`["1","2"]`, `["1","3"]`},
		{`"ns":{"NS":["1","2"]}`, `"ns":{"SS":["1","2"]}`}, {`["AA==","AQ=="]`, `["AA==","Ag=="]`},
		{`"e":{"S":""}`, `"e":{"B":""}`}, {`"e":{"S":""}`, `"f":{"S":""}`}, {`"x":{"S":"y"}`, `"x":{"S":"y\u0000"}`},
		{`[{"N":"1"},{"S":"2"}]`, `[{"S":"2"},{"N":"1"}]`}, {`[{"N":"1"},{"S":"2"}]`, `[{"N":"1"}]`},
		{`"l":{"L":`, `"L":{"L":`}, {`"pk":{"S":"k1"}`, `"pk":{"S":"k2"}`}, {`"m":{"M":{"x":{"S":"y"},`, `"m":{"M":{"x":{"M":{}},`},
		{`{"pk"`, `{"extra":{"NULL":true},"pk"`},
		// Values moved between places that a sum of parts could confuse.
		{`"x":{"S":"y"},"e":{"S":""}`, `"x":{"S":""},"e":{"S":"y"}`},
		{`"m":{"M":{"x":{"S":"y"},"e":{"S":""}}}`, `"m":{"M":{"x":{"S":"y"}}},"e":{"S":""}`},
		{`"l":{"L":[{"N":"1"},{"S":"2"}]}`, `"l":{"L":[{"L":[{"N":"1"}]},{"S":"2"}]}`},
		{`"m":{"M":{"x":{"S":"y"},"e":{"S":""}}}`, `"m":{"L":[{"M":{"x":{"S":"y"},"e":{"S":""}}}]}`},
		{`"s":{"S":"hello"}`, `"s":{"S":"hello\u0000"}`},
	}
	orig := sumOf(t, alg, [][]byte{[]byte(base)}).Sum()
	seen := map[string]string{orig: "base"}
	for _, m := range mutations {
		mutated := strings.Replace(base, m.from, m.to, 1)
		if mutated == base {
			t.Fatalf("mutation %s -> %s does not apply", m.from, m.to)
		}
		sum := sumOf(t, alg, [][]byte{[]byte(mutated)}).Sum()
		if prev, ok := seen[sum]; ok {
			t.Errorf("mutation %s -> %s gives the same sum as %s", m.from, m.to, prev)
		}
		seen[sum] = m.from + " -> " + m.to
	}
	// A duplicated item counts twice: the checksum is of a multiset.
	one := sumOf(t, alg, [][]byte{[]byte(base)})
	two := sumOf(t, alg, [][]byte{[]byte(base), []byte(base)})
	if one.Sum() == two.Sum() {
		t.Error("adding an item twice does not change the sum")
	}
	// Attributes swapped between two items change the sum of the two.
	a, b := `{"pk":{"S":"1"},"v":{"N":"1"}}`, `{"pk":{"S":"2"},"v":{"N":"2"}}`
	c, d := `{"pk":{"S":"1"},"v":{"N":"2"}}`, `{"pk":{"S":"2"},"v":{"N":"1"}}`
	if sumOf(t, alg, [][]byte{[]byte(a), []byte(b)}).Sum() == sumOf(t, alg, [][]byte{[]byte(c), []byte(d)}).Sum() {
		t.Error("swapping attribute values between items does not change the sum")
	}
}

func TestChecksumStable(t *testing.T) {
	// The algorithm is stored in recovery points: these values must never
	// change. want was computed independently with Python (hashlib, int sum).
	c, _ := NewChecksum(ChecksumV1)
	if got := c.Sum(); got != strings.Repeat("0", 64) {
		t.Errorf("empty Sum = %s", got)
	}
	for _, it := range []string{`{"pk":{"S":"a"}}`, `{"pk":{"N":"1.50"},"x":{"SS":["b","a"]}}`} {
		if err := c.Add([]byte(it)); err != nil {
			t.Fatal(err)
		}
	}
	const want = "dfc99d2705c5711f49fb9983931e3d0f174a53c3dbacb2d573bade90f0b3a1a4"
	if got := c.Sum(); got != want {
		t.Errorf("Sum = %s, want %s", got, want)
	}
	if err := c.Add([]byte(`{"pk":{"N":"x"}}`)); err == nil || c.Count() != 2 || c.Sum() != want {
		t.Errorf("an invalid item changed the checksum (err %v)", err)
	}
}

// scramble re-encodes a valid item as an equal one spelled differently:
// other member and set orders, numbers respelled, strings with needless
// escapes, random whitespace.
func scramble(t testing.TB, rng *rand.Rand, item []byte) []byte {
	t.Helper()
	m, err := ToAttributeValues(item)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	scrambleMap(&b, rng, m)
	return b.Bytes()
}

func ws(b *bytes.Buffer, rng *rand.Rand) {
	if rng.IntN(4) == 0 {
		b.WriteString([]string{" ", "\n", "\t", "\r\n  "}[rng.IntN(4)])
	}
}

func scrambleMap(b *bytes.Buffer, rng *rand.Rand, m map[string]types.AttributeValue) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	b.WriteByte('{')
	for k, n := range names {
		if k > 0 {
			b.WriteByte(',')
		}
		ws(b, rng)
		scrambleString(b, rng, n)
		ws(b, rng)
		b.WriteByte(':')
		ws(b, rng)
		scrambleAV(b, rng, m[n])
		ws(b, rng)
	}
	b.WriteByte('}')
}

func scrambleString(b *bytes.Buffer, rng *rand.Rand, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || rng.IntN(8) == 0:
			if r > 0xFFFF {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04X\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		case r == '/' && rng.IntN(2) == 0:
			b.WriteString(`\/`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func respell(rng *rand.Rand, n string) string {
	canon, err := AppendNumber(nil, []byte(n))
	if err != nil {
		panic(err)
	}
	c := string(canon)
	switch rng.IntN(5) {
	case 0:
		if c == "0" {
			return "-0.000"
		}
		if !strings.Contains(c, ".") {
			return c + ".000"
		}
		return c + "000"
	case 1:
		return c + "E0"
	case 2: // shift the point: multiply the digits by 10, exponent -1
		if !strings.Contains(c, ".") {
			return c + "0E-1"
		}
		return c + "0e+0"
	case 3:
		if strings.HasPrefix(c, "-") {
			return "-00" + c[1:]
		}
		return "+00" + c
	}
	return n
}

func scrambleAV(b *bytes.Buffer, rng *rand.Rand, av types.AttributeValue) {
	b.WriteByte('{')
	ws(b, rng)
	tag := func(tag string) {
		scrambleString(b, rng, tag)
		ws(b, rng)
		b.WriteByte(':')
		ws(b, rng)
	}
	list := func(n int, each func(k int)) {
		order := rng.Perm(n)
		b.WriteByte('[')
		for k, i := range order {
			if k > 0 {
				b.WriteByte(',')
			}
			ws(b, rng)
			each(i)
		}
		b.WriteByte(']')
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		tag("S")
		scrambleString(b, rng, v.Value)
	case *types.AttributeValueMemberN:
		tag("N")
		scrambleString(b, rng, respell(rng, v.Value))
	case *types.AttributeValueMemberB:
		tag("B")
		b.Write(appendB64(nil, v.Value))
	case *types.AttributeValueMemberBOOL:
		tag("BOOL")
		fmt.Fprint(b, v.Value)
	case *types.AttributeValueMemberNULL:
		tag("NULL")
		fmt.Fprint(b, v.Value)
	case *types.AttributeValueMemberSS:
		tag("SS")
		list(len(v.Value), func(k int) { scrambleString(b, rng, v.Value[k]) })
	case *types.AttributeValueMemberNS:
		tag("NS")
		list(len(v.Value), func(k int) { scrambleString(b, rng, respell(rng, v.Value[k])) })
	case *types.AttributeValueMemberBS:
		tag("BS")
		list(len(v.Value), func(k int) { b.Write(appendB64(nil, v.Value[k])) })
	case *types.AttributeValueMemberM:
		tag("M")
		scrambleMap(b, rng, v.Value)
	case *types.AttributeValueMemberL:
		tag("L")
		b.WriteByte('[')
		for k, e := range v.Value {
			if k > 0 {
				b.WriteByte(',')
			}
			scrambleAV(b, rng, e)
		}
		b.WriteByte(']')
	}
	ws(b, rng)
	b.WriteByte('}')
}

func appendB64(dst, v []byte) []byte {
	dst = append(dst, '"')
	dst = strictBase64.AppendEncode(dst, v)
	return append(dst, '"')
}

// A checksum's partial state (Sum and Count) made whole by ChecksumOf goes
// on as the original would: the resumed backup's checksum is the clean one.
func TestChecksumOfResumes(t *testing.T) {
	items := [][]byte{
		[]byte(`{"pk":{"S":"a"},"n":{"N":"1"}}`),
		[]byte(`{"pk":{"S":"b"},"l":{"L":[{"S":"x"},{"BOOL":true}]}}`),
		[]byte(`{"pk":{"S":"c"},"m":{"M":{"k":{"NULL":true}}}}`),
		[]byte(`{"pk":{"S":"d"},"b":{"B":"AAEC"}}`),
	}
	for _, alg := range []string{ChecksumV1, ChecksumV2} {
		whole, _ := NewChecksum(alg)
		half, _ := NewChecksum(alg)
		for i, it := range items {
			if err := whole.Add(it); err != nil {
				t.Fatal(err)
			}
			if i < 2 {
				if err := half.Add(it); err != nil {
					t.Fatal(err)
				}
			}
		}
		resumed, err := ChecksumOf(half.Sum(), half.Count())
		if err != nil {
			t.Fatalf("%s: ChecksumOf(%q): %v", alg, half.Sum(), err)
		}
		if !resumed.Equal(&half) || resumed.Algorithm() != alg {
			t.Fatalf("%s: ChecksumOf gives %s/%d, want %s/%d", alg, resumed.Sum(), resumed.Count(), half.Sum(), half.Count())
		}
		for _, it := range items[2:] {
			if err := resumed.Add(it); err != nil {
				t.Fatal(err)
			}
		}
		if !resumed.Equal(&whole) {
			t.Fatalf("%s: resumed %s, clean %s", alg, resumed.Sum(), whole.Sum())
		}
	}
	for _, bad := range []string{"", "xxh3-128:zz", "abc"} {
		if _, err := ChecksumOf(bad, 1); err == nil {
			t.Errorf("ChecksumOf(%q) accepted", bad)
		}
	}
	if _, err := ChecksumOf("xxh3-128:00000000000000000000000000000000", -1); err == nil {
		t.Error("ChecksumOf with a negative count accepted")
	}
}
