package ddbjson

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// digester computes the item digests of checksum algorithm v2 (see the
// package documentation) in one pass over the input: it validates the item
// as ValidateItem does, but never builds or sorts a canonical form. The
// members of an object are hashed one by one and their hashes added, so
// their order does not matter; nothing else is hashed except the item's
// final sum. Not safe for concurrent use; its buffers are reused.
type digester struct {
	// buf holds the encodings of the members being hashed: the member of
	// the outermost object first, the members of the objects nested in its
	// value after it (a stack: each is hashed and cut off when done).
	buf []byte
	// names holds every member name of the objects being digested (a
	// stack, like buf), for finding duplicates.
	names   []nameRef
	nameBuf []byte // decoded names that held escapes
	bin     []byte // decoded base64 scratch
	num     []byte // a number's text while it is canonicalised
	set     canon  // canonical forms of SS, NS and BS values
	slots   []dupSlot
	stamp   uint32
}

// nameRef is a decoded member name (in the input or in nameBuf: slices of
// an earlier nameBuf stay valid) and a cheap key of it: names with
// different keys differ, names with the same key are compared.
type nameRef struct {
	key  uint64
	name []byte
}

// nameKey mixes the first and last eight bytes and the length of name.
func nameKey(name []byte) uint64 {
	n := len(name)
	if n >= 8 {
		return binary.LittleEndian.Uint64(name) ^ binary.LittleEndian.Uint64(name[n-8:])*0x9e3779b97f4a7c15 ^ uint64(n)
	}
	var x uint64
	for k, c := range name {
		x |= uint64(c) << (8 * k)
	}
	return x ^ uint64(n)<<56
}

// errDigest stands for any invalid input: the caller reports it with the
// error ValidateItem gives for the same input, which says where and why.
var errDigest = errors.New("invalid item")

// Value codes of v2 encodings: the first byte of a value's encoding.
const (
	codeS    = 'S'
	codeN    = 'N'
	codeB    = 'B'
	codeSS   = 's'
	codeNS   = 'n'
	codeBS   = 'b'
	codeM    = 'M'
	codeL    = 'L'
	codeNULL = 'Z'
	codeBOOL = 'O'
)

// digestSeed separates item digests from any other use of XXH3.
const digestSeed = 0x636169726e2d7632 // "cairn-v2"

// item returns the v2 digest of the item b.
func (d *digester) item(b []byte) (xxh3.Uint128, error) {
	d.buf, d.names, d.nameBuf = d.buf[:0], d.names[:0], d.nameBuf[:0]
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return xxh3.Uint128{}, errDigest
	}
	end, n, err := d.object(b, i, 1)
	if err != nil {
		return xxh3.Uint128{}, err
	}
	if n == 0 || skipSpace(b, end) != len(b) {
		return xxh3.Uint128{}, errDigest
	}
	// object left its count and sum in buf.
	return xxh3.Hash128Seed(d.buf, digestSeed), nil
}

// object digests the object of attributes at b[i] == '{' whose values are at
// depth, appends its encoding (count, then the 128-bit sum of its member
// hashes, each little-endian) to buf, and returns the index past it and the
// count of members.
func (d *digester) object(b []byte, i, depth int) (int, int, error) {
	base := len(d.names)
	var lo, hi uint64
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		d.buf = binary.LittleEndian.AppendUint64(d.buf, 0)
		d.buf = append(d.buf, make([]byte, 16)...)
		return i + 1, 0, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, 0, errDigest
		}
		end, esc, err := scanString(b, i)
		if err != nil {
			return 0, 0, err
		}
		raw := b[i+1 : end-1]
		if len(raw) == 0 && depth == 1 {
			return 0, 0, errDigest
		}
		// The member's encoding: the name's length (4 bytes), the name
		// (decoded), the value's encoding.
		name := raw
		if esc {
			ns := len(d.nameBuf)
			if d.nameBuf, err = unescape(d.nameBuf, raw); err != nil {
				return 0, 0, err
			}
			name = d.nameBuf[ns:]
		}
		d.names = append(d.names, nameRef{key: nameKey(name), name: name})
		mark := len(d.buf)
		d.buf = binary.LittleEndian.AppendUint32(d.buf, uint32(len(name)))
		d.buf = append(d.buf, name...)
		if i, err = expect(b, end, ':'); err != nil {
			return 0, 0, err
		}
		if i, err = d.value(b, i, depth); err != nil {
			return 0, 0, err
		}
		h := xxh3.Hash128(d.buf[mark:])
		d.buf = d.buf[:mark]
		var c uint64
		lo, c = bits.Add64(lo, h.Lo, 0)
		hi += h.Hi + c
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			i++
			break
		}
		return 0, 0, errDigest
	}
	n := len(d.names) - base
	if d.hasDuplicate(d.names[base:]) {
		return 0, 0, errDigest
	}
	d.names = d.names[:base]
	d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(n))
	d.buf = binary.LittleEndian.AppendUint64(d.buf, lo)
	d.buf = binary.LittleEndian.AppendUint64(d.buf, hi)
	return i, n, nil
}

// hasDuplicate reports whether two of the names are equal. Few names are
// compared pairwise; more go through a small hash table of their keys.
func (d *digester) hasDuplicate(names []nameRef) bool {
	if len(names) <= 8 {
		for k := 1; k < len(names); k++ {
			for j := range k {
				if names[j].key == names[k].key && string(names[j].name) == string(names[k].name) {
					return true
				}
			}
		}
		return false
	}
	// Open addressing with at least twice the slots as names; a slot
	// holds a name's index + 1 and belongs to this call if its stamp is
	// the call's.
	size := 64
	for size < 2*len(names) {
		size *= 2
	}
	if len(d.slots) < size {
		d.slots = make([]dupSlot, size)
	}
	d.stamp++
	if d.stamp == 0 { // wrapped: forget every earlier call
		clear(d.slots)
		d.stamp = 1
	}
	slots, shift := d.slots[:size], 64-bits.TrailingZeros(uint(size))
	for k := range names {
		h := int((names[k].key * 0x9e3779b97f4a7c15) >> shift)
		for ; slots[h].stamp == d.stamp; h = (h + 1) & (size - 1) {
			j := slots[h].index
			if names[j].key == names[k].key && string(names[j].name) == string(names[k].name) {
				return true
			}
		}
		slots[h] = dupSlot{stamp: d.stamp, index: uint32(k)}
	}
	return false
}

// dupSlot is a slot of hasDuplicate's table.
type dupSlot struct{ stamp, index uint32 }

// value digests the attribute value object ({"T":v}) at b[i] holding a value
// at depth and appends its encoding to buf: a value code and the canonical
// bytes of a scalar (S decoded, N in AppendNumber's form, B as its base64
// text, BOOL 't' or 'f', NULL nothing), the canonical form of a set (as in
// the canonical item form), the encoding of an M object, or the framed
// encodings of the elements of an L.
func (d *digester) value(b []byte, i, depth int) (int, error) {
	if i+5 < len(b) && b[i] == '{' && b[i+1] == '"' && b[i+3] == '"' && b[i+4] == ':' {
		if end, ok, err := d.shortValue(b, i+5, b[i+2], depth); ok {
			return end, err
		}
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, errDigest
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return 0, errDigest
	}
	t, end, err := typeDescriptor(b, i, nil)
	if err != nil {
		return 0, err
	}
	if i, err = expect(b, end, ':'); err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	vpos := i
	switch string(t) {
	case TypeS:
		i, err = d.stringValue(b, i, codeS)
	case TypeN:
		i, err = d.numberValue(b, i)
	case TypeB:
		i, err = d.binaryValue(b, i)
	case TypeBOOL:
		if i, err = skipValue(b, i, 0); err == nil {
			switch string(b[vpos:i]) {
			case "true":
				d.buf = append(d.buf, codeBOOL, 't')
			case "false":
				d.buf = append(d.buf, codeBOOL, 'f')
			default:
				err = errDigest
			}
		}
	case TypeNULL:
		if i, err = skipValue(b, i, 0); err == nil {
			if string(b[vpos:i]) != "true" {
				err = errDigest
			}
			d.buf = append(d.buf, codeNULL)
		}
	case TypeSS:
		i, err = d.setValue(b, i, codeSS, (*canon).setString)
	case TypeNS:
		i, err = d.setValue(b, i, codeNS, (*canon).numberValue)
	case TypeBS:
		i, err = d.setValue(b, i, codeBS, (*canon).setBinary)
	case TypeM:
		if depth > MaxDepth || i >= len(b) || b[i] != '{' {
			return 0, errDigest
		}
		d.buf = append(d.buf, codeM)
		i, _, err = d.object(b, i, depth+1)
	case TypeL:
		if depth > MaxDepth {
			return 0, errDigest
		}
		i, err = d.list(b, i, depth+1)
	default:
		return 0, errDigest
	}
	if err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '}' {
		return 0, errDigest
	}
	return i + 1, nil
}

// shortValue is value for the common spelling {"T":v} of the one-letter
// types S, N and M (t), with v at b[i]; ok is false for the other types,
// which value handles in full.
func (d *digester) shortValue(b []byte, i int, t byte, depth int) (end int, ok bool, err error) {
	i = skipSpace(b, i)
	switch t {
	case 'S':
		end, err = d.stringValue(b, i, codeS)
	case 'N':
		end, err = d.numberValue(b, i)
	case 'M':
		if depth > MaxDepth || i >= len(b) || b[i] != '{' {
			return 0, true, errDigest
		}
		d.buf = append(d.buf, codeM)
		end, _, err = d.object(b, i, depth+1)
	default:
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	if end = skipSpace(b, end); end >= len(b) || b[end] != '}' {
		return 0, true, errDigest
	}
	return end + 1, true, nil
}

// stringValue appends code and the decoded content of the JSON string at b[i].
func (d *digester) stringValue(b []byte, i int, code byte) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errDigest
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	d.buf = append(d.buf, code)
	if !esc {
		d.buf = append(d.buf, b[i+1:end-1]...)
		return end, nil
	}
	if d.buf, err = unescape(d.buf, b[i+1:end-1]); err != nil {
		return 0, err
	}
	return end, nil
}

// numberValue appends codeN and the canonical form of the N string at b[i].
func (d *digester) numberValue(b []byte, i int) (int, error) {
	mark := len(d.buf)
	end, err := d.stringValue(b, i, codeN)
	if err != nil {
		return 0, err
	}
	// The number's text sits at buf[mark+1:]; canonicalise it in place
	// (through num) unless it is canonical already.
	if isCanonicalShortNumber(d.buf[mark+1:]) {
		return end, nil
	}
	d.num = append(d.num[:0], d.buf[mark+1:]...)
	if d.buf, err = AppendNumber(d.buf[:mark+1], d.num); err != nil {
		return 0, err
	}
	return end, nil
}

// binaryValue appends codeB and the base64 text at b[i] after checking that
// it is strict standard base64 (which is canonical already).
func (d *digester) binaryValue(b []byte, i int) (int, error) {
	mark := len(d.buf)
	end, err := d.stringValue(b, i, codeB)
	if err != nil {
		return 0, err
	}
	s := d.buf[mark+1:]
	if n := strictBase64.DecodedLen(len(s)); cap(d.bin) < n {
		d.bin = make([]byte, n)
	}
	if _, err := strictBase64.Decode(d.bin[:cap(d.bin)], s); err != nil {
		return 0, errDigest
	}
	for _, c := range s {
		if c == '\r' || c == '\n' {
			return 0, errDigest
		}
	}
	return end, nil
}

// setValue appends code and the canonical form of the set at b[i].
func (d *digester) setValue(b []byte, i int, code byte, each func(*canon, []byte, int) (int, error)) (int, error) {
	d.set.out, d.set.refs, d.set.spans = d.set.out[:0], d.set.refs[:0], d.set.spans[:0]
	end, err := d.set.set(b, i, each)
	if err != nil {
		return 0, err
	}
	d.buf = append(d.buf, code)
	d.buf = append(d.buf, d.set.out...)
	return end, nil
}

// list appends codeL and, for every element of the L array at b[i] (whose
// elements are at depth), the length of its encoding (4 bytes) and the
// encoding.
func (d *digester) list(b []byte, i, depth int) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errDigest
	}
	d.buf = append(d.buf, codeL)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		mark := len(d.buf)
		d.buf = append(d.buf, 0, 0, 0, 0)
		var err error
		if i, err = d.value(b, i, depth); err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint32(d.buf[mark:], uint32(len(d.buf)-mark-4))
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return 0, errDigest
	}
}

// isCanonicalShortNumber reports whether s, of at most 38 bytes, is a number
// in AppendNumber's form: then AppendNumber would accept it and return it
// unchanged (38 bytes hold at most 38 digits, of a magnitude far inside
// DynamoDB's limits). It is false for every longer s.
func isCanonicalShortNumber(s []byte) bool {
	if len(s) == 0 || len(s) > MaxDigits {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	switch {
	case i == start:
		return false // no integer digits
	case s[start] == '0' && i > start+1:
		return false // leading zero
	}
	if i == len(s) {
		return !(s[start] == '0' && start > 0) // "-0" is "0"
	}
	if s[i] != '.' {
		return false
	}
	i++
	frac := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i == len(s) && i > frac && s[i-1] != '0'
}
