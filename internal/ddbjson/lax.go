package ddbjson

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"

	"github.com/zeebo/xxh3"
)

// MaxLaxDepth is how deeply M and L values of an out-of-spec item may nest
// (counted as MaxDepth counts). Lax DynamoDB-compatible servers store items
// nested deeper than DynamoDB's 32 levels (dynalite takes a few hundred,
// and stops answering at about a thousand); deeper input is refused so that
// hostile JSON cannot exhaust the stack.
const MaxLaxDepth = 4096

// rawSeed separates the digests of items that are not DynamoDB items at all
// (see the package documentation, out-of-spec items) from every other use of
// XXH3.
const rawSeed = 0x636169726e2d7277 // "cairn-rw"

// errNotItem: the input is JSON, but no DynamoDB item even under the lax
// rules (unknown type descriptor, a value that is not a one-member object,
// a string that cannot be decoded...).
var errNotItem = errors.New("not a DynamoDB item")

// AddOutOfSpec adds an item that Add refused because it breaks one of
// DynamoDB's rules, as lax DynamoDB-compatible servers (moto, dynalite)
// store them: sets with duplicate members or members that differ only in
// number spelling, M and L nested deeper than MaxDepth, numbers with more
// than 38 digits or out of DynamoDB's range, and so on. Its digest follows
// the lax rules of the package documentation (out-of-spec items), so it is
// deterministic and independent of attribute order, set order and number
// spelling where those can be told; an item that is one JSON object but no
// DynamoDB item even under the lax rules is digested byte for byte.
//
// It fails, leaving c unchanged, for input that is not one JSON object, and
// for a ChecksumV1 checksum (v1 predates out-of-spec items).
func (c *Checksum) AddOutOfSpec(item []byte) error {
	if c.v1 {
		return fmt.Errorf("%w: checksum %s has no digest for out-of-spec items", ErrInvalid, ChecksumV1)
	}
	h, err := outOfSpecDigest(item)
	if err != nil {
		return err
	}
	var carry uint64
	c.sum[0], carry = bits.Add64(c.sum[0], h.Lo, 0)
	c.sum[1], _ = bits.Add64(c.sum[1], h.Hi, carry)
	c.n++
	return nil
}

// outOfSpecDigest returns the lax v2 digest of item, or its raw digest when
// it is no DynamoDB item under the lax rules.
func outOfSpecDigest(item []byte) (xxh3.Uint128, error) {
	i := skipSpace(item, 0)
	if i >= len(item) || item[i] != '{' {
		return xxh3.Uint128{}, syntaxErr(i, "item is not a JSON object")
	}
	end, err := skipValue(item, i, 0)
	if err != nil {
		return xxh3.Uint128{}, err
	}
	if end = skipSpace(item, end); end != len(item) {
		return xxh3.Uint128{}, syntaxErr(end, "unexpected data after item")
	}
	var e laxEncoder
	if h, err := e.item(item); err == nil {
		return h, nil
	}
	return xxh3.Hash128Seed(item, rawSeed), nil
}

// laxEncoder computes v2 digests under the lax rules. It is only used for
// the rare items the strict digester refuses, so it favours plainness over
// speed; for a valid item it gives the strict digest (tests hold it to
// that).
type laxEncoder struct {
	buf []byte // a stack of member encodings, as in digester
	str []byte // decoded string scratch
}

// item returns the lax digest of the JSON object item.
func (e *laxEncoder) item(b []byte) (xxh3.Uint128, error) {
	if _, err := e.object(b, skipSpace(b, 0), 1); err != nil {
		return xxh3.Uint128{}, err
	}
	return xxh3.Hash128Seed(e.buf, digestSeed), nil
}

// object appends the map encoding of the object at b[i] (count, then the sum
// of its member hashes) and returns the index past it. Names may be empty
// or repeated: every member is hashed and added.
func (e *laxEncoder) object(b []byte, i, depth int) (int, error) {
	var lo, hi uint64
	n := 0
	it := objectIter{b: b, i: i}
	for it.next() {
		name := it.key
		if it.escaped {
			var err error
			if e.str, err = unescape(e.str[:0], it.key); err != nil {
				return 0, errNotItem
			}
			name = e.str
		}
		mark := len(e.buf)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(name)))
		e.buf = append(e.buf, name...)
		end, err := e.value(b, it.i, depth)
		if err != nil {
			return 0, err
		}
		h := xxh3.Hash128(e.buf[mark:])
		e.buf = e.buf[:mark]
		var c uint64
		lo, c = bits.Add64(lo, h.Lo, 0)
		hi += h.Hi + c
		n++
		it.i = end
	}
	if it.err != nil {
		return 0, errNotItem
	}
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(n))
	e.buf = binary.LittleEndian.AppendUint64(e.buf, lo)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, hi)
	return it.i, nil
}

// value appends the encoding of the value object ({"T":v}) at b[i], a value
// at depth, and returns the index past it.
func (e *laxEncoder) value(b []byte, i, depth int) (int, error) {
	it := objectIter{b: b, i: i}
	if !it.next() {
		return 0, errNotItem // no type descriptor, or not an object
	}
	t := string(it.key)
	if it.escaped {
		d, err := unescape(nil, it.key)
		if err != nil {
			return 0, errNotItem
		}
		t = string(d)
	}
	v := it.i
	var end int
	var err error
	switch t {
	case TypeS:
		end, err = e.scalar(b, v, codeS, false)
	case TypeN:
		end, err = e.scalar(b, v, codeN, true)
	case TypeB:
		end, err = e.scalar(b, v, codeB, false)
	case TypeBOOL, TypeNULL:
		if end, err = skipValue(b, v, 0); err != nil {
			return 0, errNotItem
		}
		switch lit := b[v:end]; {
		case t == TypeNULL:
			e.buf = append(e.buf, codeNULL)
			if string(lit) != "true" {
				e.buf = append(e.buf, lit...)
			}
		case string(lit) == "true":
			e.buf = append(e.buf, codeBOOL, 't')
		case string(lit) == "false":
			e.buf = append(e.buf, codeBOOL, 'f')
		default:
			e.buf = append(e.buf, codeBOOL)
			e.buf = append(e.buf, lit...)
		}
	case TypeSS:
		end, err = e.set(b, v, codeSS)
	case TypeNS:
		end, err = e.set(b, v, codeNS)
	case TypeBS:
		end, err = e.set(b, v, codeBS)
	case TypeM:
		if depth > MaxLaxDepth || v >= len(b) || b[v] != '{' {
			return 0, errNotItem
		}
		e.buf = append(e.buf, codeM)
		end, err = e.object(b, v, depth+1)
	case TypeL:
		if depth > MaxLaxDepth {
			return 0, errNotItem
		}
		end, err = e.list(b, v, depth+1)
	default:
		return 0, errNotItem
	}
	if err != nil {
		return 0, err
	}
	it.i = end
	if it.next() || it.err != nil {
		return 0, errNotItem // more than one type descriptor
	}
	return it.i, nil
}

// string returns the decoded content of the JSON string at b[i] (in e.str's
// array when it held escapes) and the index past it.
func (e *laxEncoder) string(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, errNotItem
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return nil, 0, errNotItem
	}
	s := b[i+1 : end-1]
	if esc {
		if e.str, err = unescape(e.str[:0], s); err != nil {
			return nil, 0, errNotItem
		}
		s = e.str
	}
	return s, end, nil
}

// scalar appends code and the decoded string at b[i], as a lax number if
// number is set.
func (e *laxEncoder) scalar(b []byte, i int, code byte, number bool) (int, error) {
	s, end, err := e.string(b, i)
	if err != nil {
		return 0, err
	}
	e.buf = append(e.buf, code)
	if number {
		e.buf = appendLaxNumber(e.buf, s)
	} else {
		e.buf = append(e.buf, s...)
	}
	return end, nil
}

// set appends code and the set at b[i] in the canonical set form, keeping
// duplicates (members that are equal once canonical sort next to each
// other) and allowing an empty set.
func (e *laxEncoder) set(b []byte, i int, code byte) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errNotItem
	}
	var members [][]byte
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			s, end, err := e.string(b, i)
			if err != nil {
				return 0, err
			}
			var m []byte
			if code == codeNS {
				m = append(appendLaxNumber(append(m, '"'), s), '"')
			} else {
				m = appendQuoted(m, s)
			}
			members = append(members, m)
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return 0, errNotItem
		}
	}
	// Sort by the bytes between the quotes, as the canonical form does.
	slices.SortFunc(members, func(x, y []byte) int { return bytes.Compare(x[1:len(x)-1], y[1:len(y)-1]) })
	e.buf = append(e.buf, code, '[')
	for k, m := range members {
		if k > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, m...)
	}
	e.buf = append(e.buf, ']')
	return i, nil
}

// list appends codeL and the framed encodings of the elements of the L at
// b[i], whose elements are at depth.
func (e *laxEncoder) list(b []byte, i, depth int) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errNotItem
	}
	e.buf = append(e.buf, codeL)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		mark := len(e.buf)
		e.buf = append(e.buf, 0, 0, 0, 0)
		end, err := e.value(b, i, depth)
		if err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint32(e.buf[mark:], uint32(len(e.buf)-mark-4))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return 0, errNotItem
	}
}

// appendLaxNumber appends the lax canonical form of the number text s: the
// form AppendNumber gives when DynamoDB would take s; for a number with
// more than 38 significant digits within DynamoDB's range, the same plain
// decimal form without that limit; for a number out of DynamoDB's range,
// its significant digits in scientific notation (the first digit, then a
// point and the others if any, then 'E' and the decimal exponent: "-1.5E200");
// for anything else (not a number, or an exponent beyond nine digits) s as
// is. The forms cannot be mistaken for one another: only the out-of-range
// form holds an 'E', only the long plain form has more than 38 digits, and
// text that is no number cannot look like a number.
func appendLaxNumber(dst, s []byte) []byte {
	if out, err := AppendNumber(dst, s); err == nil {
		return out
	}
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var digits []byte
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		digits = append(digits, s[i])
		i++
	}
	nInt := i - intStart
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			digits = append(digits, s[i])
			i++
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			expNeg = s[i] == '-'
			i++
		}
		start := i
		for i < len(s) && isDigit(s[i]) {
			exp = exp*10 + int(s[i]-'0')
			i++
		}
		if i == start || i-start > 9 {
			return append(dst, s...) // no exponent digits, or too many to hold
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) || len(digits) == 0 {
		return append(dst, s...) // not a number
	}
	first := 0
	for first < len(digits) && digits[first] == '0' {
		first++
	}
	if first == len(digits) {
		return append(dst, '0') // AppendNumber takes every zero; kept for completeness
	}
	last := len(digits) - 1
	for digits[last] == '0' {
		last--
	}
	sig := digits[first : last+1]
	adj := nInt - first - 1 + exp // the exponent of the first significant digit
	if neg {
		dst = append(dst, '-')
	}
	if adj > MaxExponent || adj < MinExponent {
		dst = append(dst, sig[0])
		if len(sig) > 1 {
			dst = append(dst, '.')
			dst = append(dst, sig[1:]...)
		}
		dst = append(dst, 'E')
		return strconv.AppendInt(dst, int64(adj), 10)
	}
	switch point := adj + 1; {
	case point >= len(sig): // an integer
		dst = append(dst, sig...)
		for k := len(sig); k < point; k++ {
			dst = append(dst, '0')
		}
	case point > 0:
		dst = append(dst, sig[:point]...)
		dst = append(dst, '.')
		dst = append(dst, sig[point:]...)
	default:
		dst = append(dst, '0', '.')
		for k := point; k < 0; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, sig...)
	}
	return dst
}
