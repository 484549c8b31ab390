package ddbjson

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// refSum is checksum algorithm v1 written out plainly: SHA-256 of
// AppendCanonical's output, read as big-endian integers, summed mod 2^256.
type refSum struct {
	sum big.Int
	n   int64
}

var mod256 = new(big.Int).Lsh(big.NewInt(1), 256)

func (r *refSum) add(item []byte) error {
	canon, err := AppendCanonical(nil, item)
	if err != nil {
		return err
	}
	d := sha256.Sum256(canon)
	r.sum.Add(&r.sum, new(big.Int).SetBytes(d[:]))
	r.sum.Mod(&r.sum, mod256)
	r.n++
	return nil
}

func (r *refSum) hex() string { return fmt.Sprintf("%064x", &r.sum) }

// checkAgainstRef adds every item to one Checksum and to the reference, item
// by item, and fails at the first difference. Invalid items must be refused
// by both and change neither.
func checkAgainstRef(t *testing.T, items [][]byte) {
	t.Helper()
	c, _ := NewChecksum(ChecksumV1)
	var r refSum
	for k, it := range items {
		cerr, rerr := c.Add(it), r.add(it)
		if (cerr == nil) != (rerr == nil) {
			t.Fatalf("item %d (%.200q): Add error %v, reference error %v", k, it, cerr, rerr)
		}
		if cerr != nil && cerr.Error() != rerr.Error() {
			t.Fatalf("item %d (%.200q): Add error %q, reference error %q", k, it, cerr, rerr)
		}
		if c.Sum() != r.hex() || c.Count() != r.n {
			t.Fatalf("item %d (%.200q): Sum %s/%d, reference %s/%d", k, it, c.Sum(), c.Count(), r.hex(), r.n)
		}
		// One item alone: the sum is its digest.
		if cerr == nil {
			one, _ := NewChecksum(ChecksumV1)
			canon, _ := AppendCanonical(nil, it)
			d := sha256.Sum256(canon)
			if err := one.Add(it); err != nil || one.Sum() != hex.EncodeToString(d[:]) {
				t.Fatalf("item %d (%.200q): lone Sum %s, want %x (%v)", k, it, one.Sum(), d, err)
			}
		}
	}
}

// refCorpus is the hostile corpus, respelled copies of it, random items of
// several sizes, and hand-made items with long values in every position
// (escaped or not, S and B, in sets, lists and maps, sorted or not), with
// invalid items between them.
func refCorpus(t testing.TB) [][]byte {
	items := corpusRaw(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, it := range corpusRaw(t) {
		items = append(items, scramble(t, rng, it))
	}
	for _, size := range []int{50, 200, 1000, 10000, 100000} {
		items = append(items, RandomItems(rng, 20, size)...)
	}
	long := strings.Repeat("abcdefgh", 40)
	b64 := strings.Repeat("QUJD", 60)
	for _, s := range []string{
		`{"z":{"S":"` + long + `"},"a":{"S":"` + long + `x"}}`,
		`{"z":{"S":"` + long + `\u0041"},"a":{"B":"` + b64 + `"},"m":{"S":"\/` + long + `"}}`,
		`{"z":{"B":"` + b64 + `"},"y":{"B":"` + b64 + `AA=="},"x":{"B":"\/` + b64[2:] + `"}}`,
		`{"z":{"SS":["` + long + `b","` + long + `a"]},"y":{"BS":["` + b64 + `","QUJD"]},"x":{"S":"` + long + `"}}`,
		`{"k":{"M":{"z":{"S":"` + long + `"},"a":{"L":[{"S":"` + long + `"},{"M":{"q":{"B":"` + b64 + `"},"b":{"S":"` + long + `"}}}]}}},"a":{"S":"` + long + `"}}`,
		`{"` + long + `b":{"S":"` + long + `"},"` + long + `a":{"S":"` + long + `"}}`,
		` { "b" : { "S" : "` + long + `" } , "a" : { "N" : "1.50E1" } } `,
		`{"b":{"S":"` + long + `"},"a":{"N":"x"}}`,
		`{"b":{"S":"` + long + `"},"b":{"S":"` + long + `"}}`,
		`{"b":{"S":"` + long + `"},"a":{"SS":["x","x"]}}`,
		`{"b":{"S":"` + long + `"}`,
		`{"b":{"S":"` + long + `\x"}}`,
		`{"b":{"B":"` + b64[1:] + `"}}`,
		`{"a":{"S":"` + long + `"}} x`,
	} {
		items = append(items, []byte(s))
	}
	// Items with 17 and more members take the other sorting path.
	var m strings.Builder
	m.WriteString(`{`)
	for k := 40; k > 0; k-- {
		if k < 40 {
			m.WriteString(`,`)
		}
		fmt.Fprintf(&m, `"a%02d":{"S":"%s%d"}`, k*7%41, long, k)
	}
	m.WriteString(`}`)
	items = append(items, []byte(m.String()))
	return items
}

func TestChecksumAddMatchesReference(t *testing.T) {
	checkAgainstRef(t, refCorpus(t))
}

func FuzzChecksumAdd(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range refCorpus(f) {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		checkAgainstRef(t, [][]byte{item, item, []byte(`{"a":{"S":"x"}}`), item})
	})
}

// refScanString is scanString one byte at a time, without the word skipping.
func refScanString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	for i++; ; {
		if i >= len(b) {
			return 0, false, syntaxErr(start, "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, syntaxErr(start, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, false, syntaxErr(i, `invalid \u escape in string`)
				}
				i += 6
			default:
				return 0, false, syntaxErr(i, "invalid escape in string")
			}
		case c < 0x20:
			return 0, false, syntaxErr(i, "control character in string")
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false, syntaxErr(i, "invalid UTF-8 in string")
			}
			i += size
		default:
			i++
		}
	}
}

func checkScanString(t *testing.T, b []byte) {
	t.Helper()
	end, esc, err := scanString(b, 0)
	rend, resc, rerr := refScanString(b, 0)
	if end != rend || esc != resc || fmt.Sprint(err) != fmt.Sprint(rerr) {
		t.Fatalf("scanString(%q) = %d, %v, %v; want %d, %v, %v", b, end, esc, err, rend, resc, rerr)
	}
}

// TestScanStringWords puts every kind of special byte at every position
// around the word and block boundaries of the fast loops, with and without
// more string after it.
func TestScanStringWords(t *testing.T) {
	specials := []string{`"`, `\"`, `\\`, `\/`, `\n`, `\u00e9`, `\ud83d\ude00`, `\x`, `\u12`, "\x00", "\x1f", "\x7f",
		"é", "\u2028", "\U0001F600", "\xff", "\xc3", "\xed\xa0\x80", " ", "~"}
	for n := range 80 {
		pre := strings.Repeat("a", n)
		for _, sp := range specials {
			for _, post := range []string{"", `"`, `bc"`, strings.Repeat("z", 40) + `"`, strings.Repeat("z", 40)} {
				checkScanString(t, []byte(`"`+pre+sp+post))
				checkScanString(t, []byte(`"`+pre+sp+post+`,"x":1}`))
			}
		}
	}
}

func FuzzScanString(f *testing.F) {
	f.Add([]byte(`"abc"`), 0)
	f.Add([]byte(`"0123456789abcdef0123456789abcdef0123456789\"x"`), 3)
	f.Fuzz(func(t *testing.T, s []byte, at int) {
		b := append([]byte{'"'}, s...)
		checkScanString(t, b)
		if at >= 0 && at < len(s) {
			b[1+at] = '"' // a shorter string inside the same bytes
			checkScanString(t, b)
		}
	})
}
