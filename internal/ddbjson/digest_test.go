package ddbjson

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/zeebo/xxh3"
)

// refV2 is checksum algorithm v2 written out plainly from the package
// documentation, on the SDK's attribute values instead of raw JSON, with
// big-integer sums: an implementation independent of the digester.
type refV2 struct {
	sum big.Int
	n   int64
}

var mod128 = new(big.Int).Lsh(big.NewInt(1), 128)

func (r *refV2) add(item []byte) error {
	if err := ValidateItem(item); err != nil {
		return err
	}
	av, err := ToAttributeValues(item)
	if err != nil {
		return err
	}
	d := xxh3.Hash128Seed(refMapEncoding(av), digestSeed).Bytes()
	r.sum.Add(&r.sum, new(big.Int).SetBytes(d[:]))
	r.sum.Mod(&r.sum, mod128)
	r.n++
	return nil
}

func (r *refV2) text() string { return fmt.Sprintf("xxh3-128:%032x", &r.sum) }

// refMapEncoding is the count of members (8 bytes), then the sum modulo
// 2^128 of XXH3-128(name length (4 bytes), name, value encoding) over the
// members (low and high halves, 8 bytes each), all little-endian.
func refMapEncoding(m map[string]types.AttributeValue) []byte {
	sum := new(big.Int)
	for name, v := range m {
		var member []byte
		member = binary.LittleEndian.AppendUint32(member, uint32(len(name)))
		member = append(member, name...)
		member = append(member, refValueEncoding(v)...)
		h := xxh3.Hash128(member).Bytes()
		sum.Add(sum, new(big.Int).SetBytes(h[:]))
	}
	sum.Mod(sum, mod128)
	var le [16]byte
	sum.FillBytes(le[:]) // big-endian
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(m)))
	out = binary.LittleEndian.AppendUint64(out, binary.BigEndian.Uint64(le[8:]))
	return binary.LittleEndian.AppendUint64(out, binary.BigEndian.Uint64(le[:8]))
}

func refValueEncoding(av types.AttributeValue) []byte {
	set := func(code byte, tag string) []byte {
		// The set's canonical form, as AppendCanonical writes it.
		item, err := FromAttributeValues(map[string]types.AttributeValue{"x": av})
		if err != nil {
			panic(err)
		}
		canon, err := AppendCanonical(nil, item)
		if err != nil {
			panic(err)
		}
		prefix := `{"x":{"` + tag + `":`
		return append([]byte{code}, bytes.TrimSuffix(bytes.TrimPrefix(canon, []byte(prefix)), []byte("}}"))...)
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return append([]byte{'S'}, v.Value...)
	case *types.AttributeValueMemberN:
		n, err := AppendNumber(nil, []byte(v.Value))
		if err != nil {
			panic(err)
		}
		return append([]byte{'N'}, n...)
	case *types.AttributeValueMemberB:
		return append([]byte{'B'}, strictBase64.EncodeToString(v.Value)...)
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			return []byte("Ot")
		}
		return []byte("Of")
	case *types.AttributeValueMemberNULL:
		return []byte("Z")
	case *types.AttributeValueMemberSS:
		return set('s', "SS")
	case *types.AttributeValueMemberNS:
		return set('n', "NS")
	case *types.AttributeValueMemberBS:
		return set('b', "BS")
	case *types.AttributeValueMemberM:
		return append([]byte{'M'}, refMapEncoding(v.Value)...)
	case *types.AttributeValueMemberL:
		out := []byte{'L'}
		for _, e := range v.Value {
			enc := refValueEncoding(e)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(enc)))
			out = append(out, enc...)
		}
		return out
	}
	panic(fmt.Sprintf("unknown attribute value %T", av))
}

// checkAgainstRefV2 adds every item to a v2 Checksum and to the reference
// and fails at the first difference. Invalid items must get ValidateItem's
// error and change nothing.
func checkAgainstRefV2(t *testing.T, items [][]byte) {
	t.Helper()
	var c Checksum
	var r refV2
	for k, it := range items {
		cerr, rerr := c.Add(it), r.add(it)
		if (cerr == nil) != (rerr == nil) || cerr != nil && cerr.Error() != rerr.Error() {
			t.Fatalf("item %d (%.200q): Add error %v, reference error %v", k, it, cerr, rerr)
		}
		if c.Sum() != r.text() || c.Count() != r.n {
			t.Fatalf("item %d (%.200q): Sum %s/%d, reference %s/%d", k, it, c.Sum(), c.Count(), r.text(), r.n)
		}
	}
}

func TestChecksumV2MatchesReference(t *testing.T) {
	items := refCorpus(t)
	// Duplicate names, spelled alike or not, among few and many members
	// (the digester finds them in two ways), and names alike in their
	// first and last eight bytes.
	for _, n := range []int{3, 24, 25, 60} {
		for _, dup := range []string{"", `"a07"`, `"a07"`, `"a07"`} {
			var m strings.Builder
			m.WriteString(`{`)
			for k := range n {
				fmt.Fprintf(&m, `"a%02d":{"M":{"prefix-xxxxxxxxxxxx-%d-xxxxxxxxxxxx-suffix":{"N":"%d"}}},`, k, k%10, k)
			}
			if dup != "" {
				m.WriteString(dup + `:{"S":"again"},`)
			}
			m.WriteString(`"end":{"NULL":true}}`)
			items = append(items, []byte(m.String()))
		}
	}
	checkAgainstRefV2(t, items)
}

func FuzzChecksumV2(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range refCorpus(f) {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		checkAgainstRefV2(t, [][]byte{item, item, []byte(`{"a":{"S":"x"}}`), item})
		// The same value spelled otherwise has the same digest.
		if ValidateItem(item) == nil {
			canon, _ := AppendCanonical(nil, item)
			var a, b Checksum
			if a.Add(item) != nil || b.Add(canon) != nil || a.Sum() != b.Sum() {
				t.Fatalf("%q and its canonical form have different v2 checksums", item)
			}
		}
	})
}

func TestChecksumV2Stable(t *testing.T) {
	// Stored in recovery points: these values must never change. want
	// was computed by refV2 (above) and checked against the digester.
	var c Checksum
	if got := c.Sum(); got != "xxh3-128:"+strings.Repeat("0", 32) {
		t.Errorf("empty Sum = %s", got)
	}
	items := []string{`{"pk":{"S":"a"}}`, `{"pk":{"N":"1.50"},"x":{"SS":["b","a"]}}`,
		`{"pk":{"B":"AA=="},"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"NS":["2","1"]}]}}}}`}
	for _, it := range items {
		if err := c.Add([]byte(it)); err != nil {
			t.Fatal(err)
		}
	}
	var r refV2
	for _, it := range items {
		if err := r.add([]byte(it)); err != nil {
			t.Fatal(err)
		}
	}
	const want = "xxh3-128:edfc5fa9591eee747d64ad24e0dfbce8"
	if got := c.Sum(); got != want || r.text() != want {
		t.Errorf("Sum = %s, reference %s, want %s", got, r.text(), want)
	}
	if err := c.Add([]byte(`{"pk":{"N":"x"}}`)); err == nil || c.Count() != 3 || c.Sum() != want {
		t.Errorf("an invalid item changed the checksum (err %v)", err)
	}
}

func TestChecksumAlgorithmOf(t *testing.T) {
	v1, _ := NewChecksum(ChecksumV1)
	v2, _ := NewChecksum(ChecksumV2)
	for _, c := range []*Checksum{&v1, &v2} {
		if err := c.Add([]byte(`{"pk":{"S":"a"}}`)); err != nil {
			t.Fatal(err)
		}
		got, err := ChecksumAlgorithmOf(c.Sum())
		if err != nil || got != c.Algorithm() {
			t.Errorf("ChecksumAlgorithmOf(%s) = %q, %v; want %q", c.Sum(), got, err, c.Algorithm())
		}
	}
	for _, bad := range []string{"", "xxh3-128:", "sha256:ffff", strings.Repeat("A", 64), strings.Repeat("0", 63),
		"xxh3-128:" + strings.Repeat("0", 64), "xxh3-128:" + strings.Repeat("g", 32)} {
		if alg, err := ChecksumAlgorithmOf(bad); err == nil {
			t.Errorf("ChecksumAlgorithmOf(%q) = %q, want an error", bad, alg)
		}
	}
	if _, err := NewChecksum("md5"); err == nil {
		t.Error("NewChecksum of an unknown algorithm succeeded")
	}
	defer func() {
		if recover() == nil {
			t.Error("Merge of a v1 and a v2 checksum did not panic")
		}
	}()
	v1.Merge(&v2)
}

// TestIsCanonicalShortNumber checks the digester's shortcut against
// AppendNumber: every number it takes as canonical is, and every canonical
// number of up to 38 bytes is taken.
func TestIsCanonicalShortNumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []string{"0", "-0", "00", "0.0", "0.5", "-0.5", ".5", "5.", "-", "", "1", "10", "1.10", "+1",
		"1e2", "12345678901234567890123456789012345678", "1234567890123456789012345678901234567.8",
		"123456789012345678901234567890123456789", "0.0000000000000000000000000000000000001", "1-", "1.2.3", "- 1"}
	for range 20000 {
		n := rng.IntN(45)
		b := make([]byte, n)
		for k := range b {
			b[k] = "0123456789.-0e"[rng.IntN(14)]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		checkShortNumber(t, []byte(s))
	}
}

func checkShortNumber(t *testing.T, s []byte) {
	canon, err := AppendNumber(nil, s)
	isCanon := err == nil && bytes.Equal(canon, s)
	if got := isCanonicalShortNumber(s); got != (isCanon && len(s) <= MaxDigits) {
		t.Fatalf("isCanonicalShortNumber(%q) = %v; AppendNumber gives %q, %v", s, got, canon, err)
	}
}

func FuzzIsCanonicalShortNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "1.10", "12345678901234567890123456789012345678"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkShortNumber)
}
