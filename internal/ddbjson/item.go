package ddbjson

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"sort"
	"sync"
)

// MaxDepth is how deeply M and L values may nest: an M or L that is the value
// of a top-level attribute is at depth 1, an M or L inside it at depth 2, and
// so on up to 32 (DynamoDB's documented nesting limit).
const MaxDepth = 32

// DynamoDB's type descriptors.
const (
	TypeS    = "S"
	TypeN    = "N"
	TypeB    = "B"
	TypeSS   = "SS"
	TypeNS   = "NS"
	TypeBS   = "BS"
	TypeM    = "M"
	TypeL    = "L"
	TypeNULL = "NULL"
	TypeBOOL = "BOOL"
)

var strictBase64 = base64.StdEncoding.Strict()

// span is one member of an object or set in the output being built: the
// bytes out[start:end] (a "name":value pair or a set member) sorted by
// out[keyStart:keyEnd], with the references refs[refStart:refEnd] (see ref).
type span struct{ keyStart, keyEnd, start, end, refStart, refEnd int }

// ref stands for input bytes that belong in the canonical form but were not
// copied to out: the canonical form is out with in[start:end] inserted at
// out position pos (between the quotes it stands between; references are
// kept in order of pos). Only canon.refMin enables them, and only for S and
// B values, which are never sort keys, so out always holds every key.
type ref struct{ pos, start, end int }

// canon builds canonical forms. Its buffers are reused from item to item, so
// steady-state canonicalisation does not allocate. Not safe for concurrent use.
type canon struct {
	out   []byte
	spans []span // stack of members of the objects and sets being built
	// refMin, if not 0, is the length from which unescaped S and B values
	// are referenced in refs instead of copied to out (see ref).
	refMin  int
	refs    []ref
	tmpRefs []ref  // reordering scratch
	sortS   []span // the segment being sorted (sort.Interface)
	tmp     []byte // reordering scratch
	str     []byte // unescaped string scratch
	bin     []byte // decoded base64 scratch
}

var canonPool = sync.Pool{New: func() any { return new(canon) }}

// ValidateItem checks that item is one DynamoDB item in DynamoDB JSON: an
// object of one or more attributes, each value being an object with exactly
// one type descriptor (S, N, B, SS, NS, BS, M, L, NULL, BOOL), with
// DynamoDB's rules: N holds a number of at most 38 significant digits within
// 1E-130..9.99…E+125; B and BS members are standard padded base64; SS, NS and
// BS are non-empty and hold no duplicates (NS compared by value); NULL is
// true; BOOL is true or false; M and L nest at most MaxDepth deep; names are
// not repeated within an object; top-level names are not empty; all strings
// are valid UTF-8. Whitespace around tokens is allowed. Errors are *Error
// values wrapping ErrInvalid and name the attribute path.
//
// The 400 KB item size limit is not checked.
func ValidateItem(item []byte) error {
	c := canonPool.Get().(*canon)
	_, err := c.appendCanonical(c.out[:0], item)
	c.out = c.out[:0]
	canonPool.Put(c)
	return err
}

// AppendCanonical validates item as ValidateItem does and appends its
// canonical form (see the package documentation) to dst.
func AppendCanonical(dst, item []byte) ([]byte, error) {
	c := canonPool.Get().(*canon)
	c.out = dst
	out, err := c.appendCanonical(dst, item)
	c.out = nil
	canonPool.Put(c)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// appendCanonical appends the canonical form of the whole input item.
func (c *canon) appendCanonical(dst, item []byte) ([]byte, error) {
	c.out = dst
	c.refs = c.refs[:0]
	end, err := c.item(item, 0)
	if err != nil {
		return dst, err
	}
	if end = skipSpace(item, end); end != len(item) {
		return dst, syntaxErr(end, "unexpected data after item")
	}
	return c.out, nil
}

// item encodes the item object starting at b[i] (after optional whitespace)
// and returns the index just past it.
func (c *canon) item(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, syntaxErr(i, "item is not a JSON object")
	}
	end, n, err := c.object(b, i, 1)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, syntaxErr(i, "item has no attributes")
	}
	return end, nil
}

// object encodes a JSON object of attributes ("name":{descriptor}) at b[i]
// == '{', whose values are at depth. Top-level (depth 1) names must not be
// empty. It returns the end index and the number of members.
func (c *canon) object(b []byte, i, depth int) (int, int, error) {
	c.out = append(c.out, '{')
	contentStart := len(c.out)
	base, refBase := len(c.spans), len(c.refs)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		c.out = append(c.out, '}')
		return i + 1, 0, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, 0, syntaxErr(i, "expected attribute name")
		}
		end, esc, err := scanString(b, i)
		if err != nil {
			return 0, 0, err
		}
		rawName := b[i+1 : end-1]
		if len(rawName) == 0 && depth == 1 {
			return 0, 0, syntaxErr(i, "empty attribute name")
		}
		if len(c.spans) > base {
			c.out = append(c.out, ',')
		}
		// The member's span goes on the stack now (members nested in its
		// value go above it) and is finished once the value is encoded.
		k := len(c.spans)
		c.spans = append(c.spans, span{start: len(c.out), keyStart: len(c.out) + 1, refStart: len(c.refs)})
		if esc {
			if c.out, err = c.quoted(c.out, rawName); err != nil {
				return 0, 0, inAttr(withOffset(err, i), rawName)
			}
		} else {
			c.out = append(c.out, b[i:end]...)
		}
		c.spans[k].keyEnd = len(c.out) - 1
		c.out = append(c.out, ':')
		if i, err = expect(b, end, ':'); err != nil {
			return 0, 0, err
		}
		if i, err = c.value(b, i, depth); err != nil {
			return 0, 0, inAttr(err, rawName)
		}
		c.spans[k].end, c.spans[k].refEnd = len(c.out), len(c.refs)
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			i++
			break
		}
		return 0, 0, syntaxErr(i, "expected ',' or '}' after attribute")
	}
	n := len(c.spans) - base
	if dup := c.sortSpans(base, contentStart, refBase); dup >= 0 {
		s := c.spans[dup]
		name := append([]byte(nil), c.out[s.keyStart:s.keyEnd]...)
		c.spans = c.spans[:base]
		return 0, 0, inAttr(syntaxErr(-1, "duplicate attribute name"), name)
	}
	c.spans = c.spans[:base]
	c.out = append(c.out, '}')
	return i, n, nil
}

// quoted appends the canonical quoted form of the escaped JSON string body raw.
func (c *canon) quoted(dst, raw []byte) ([]byte, error) {
	var err error
	c.str, err = unescape(c.str[:0], raw)
	if err != nil {
		return dst, err
	}
	return appendQuoted(dst, c.str), nil
}

// sortSpans sorts the spans c.spans[base:] by key, rewrites the output from
// contentStart and the references from refBase accordingly (members
// separated by commas) and returns the index in c.spans of a member whose
// key equals another's, or -1.
func (c *canon) sortSpans(base, contentStart, refBase int) int {
	seg := c.spans[base:]
	if len(seg) > maxInsertionSort {
		return c.sortLongSpans(base, contentStart, refBase)
	}
	// Insertion sort of the members' indexes, comparing the first 8 key
	// bytes as one number and the rest only on a tie. Any two equal keys
	// meet in a comparison (the later one stops at the earlier or at its
	// equal).
	var ord [maxInsertionSort]uint8
	var pre [maxInsertionSort]uint64
	for k := range seg {
		ord[k] = uint8(k)
		pre[k] = keyPrefix(c.out[seg[k].keyStart:seg[k].keyEnd])
	}
	moved := false
	for k := 1; k < len(seg); k++ {
		for j := k; j > 0; j-- {
			a, b := ord[j-1], ord[j]
			if pre[a] < pre[b] {
				break
			}
			if pre[a] == pre[b] {
				cmp := bytes.Compare(c.out[seg[a].keyStart:seg[a].keyEnd], c.out[seg[b].keyStart:seg[b].keyEnd])
				if cmp == 0 {
					return base + int(b)
				}
				if cmp < 0 {
					break
				}
			}
			ord[j-1], ord[j] = b, a
			moved = true
		}
	}
	if moved {
		c.reorder(seg, ord[:len(seg)], contentStart, refBase)
	}
	return -1
}

// maxInsertionSort is the most members sortSpans sorts by insertion.
const maxInsertionSort = 16

// keyPrefix returns the first 8 bytes of key as a big-endian number, short
// keys padded with zeros: where two prefixes differ they order the keys as
// bytes.Compare does.
func keyPrefix(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var x uint64
	for _, b := range key {
		x = x<<8 | uint64(b)
	}
	return x << (8 * (8 - len(key)))
}

// sortLongSpans is sortSpans for more than maxInsertionSort members.
func (c *canon) sortLongSpans(base, contentStart, refBase int) int {
	seg := c.spans[base:]
	c.sortS = seg
	moved := false
	if !sort.IsSorted(c) {
		sort.Sort(c)
		moved = true
	}
	c.sortS = nil
	for k := 1; k < len(seg); k++ {
		if c.compare(&seg[k-1], &seg[k]) == 0 {
			return base + k
		}
	}
	if moved {
		c.reorder(seg, nil, contentStart, refBase)
	}
	return -1
}

// reorder rewrites the output from contentStart, and the references from
// refBase, with the members seg in the order ord (nil: seg's own order),
// separated by commas.
func (c *canon) reorder(seg []span, ord []uint8, contentStart, refBase int) {
	at := func(k int) *span {
		if ord == nil {
			return &seg[k]
		}
		return &seg[ord[k]]
	}
	if len(c.refs) > refBase {
		c.tmpRefs = c.tmpRefs[:0]
		pos := contentStart
		for k := range seg {
			s := at(k)
			if k > 0 {
				pos++
			}
			for _, r := range c.refs[s.refStart:s.refEnd] {
				r.pos += pos - s.start
				c.tmpRefs = append(c.tmpRefs, r)
			}
			pos += s.end - s.start
		}
		copy(c.refs[refBase:], c.tmpRefs)
	}
	c.tmp = c.tmp[:0]
	for k := range seg {
		s := at(k)
		if k > 0 {
			c.tmp = append(c.tmp, ',')
		}
		c.tmp = append(c.tmp, c.out[s.start:s.end]...)
	}
	copy(c.out[contentStart:], c.tmp)
}

// compare orders spans by key bytes, deciding on the first byte inline when
// it can.
func (c *canon) compare(a, b *span) int {
	if a.keyStart < a.keyEnd && b.keyStart < b.keyEnd {
		if x, y := c.out[a.keyStart], c.out[b.keyStart]; x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return bytes.Compare(c.out[a.keyStart:a.keyEnd], c.out[b.keyStart:b.keyEnd])
}

func (c *canon) Len() int           { return len(c.sortS) }
func (c *canon) Swap(i, j int)      { c.sortS[i], c.sortS[j] = c.sortS[j], c.sortS[i] }
func (c *canon) Less(i, j int) bool { return c.compare(&c.sortS[i], &c.sortS[j]) < 0 }

// value encodes the attribute value object ({"T":v}) at b[i] holding a value
// at depth.
func (c *canon) value(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return 0, syntaxErr(i, "attribute value is not an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return 0, syntaxErr(i, "attribute value has no type descriptor")
	}
	if i >= len(b) || b[i] != '"' {
		return 0, syntaxErr(i, "expected type descriptor")
	}
	t, end, err := typeDescriptor(b, i, c.str)
	if err != nil {
		return 0, err
	}
	tpos := i
	if i, err = expect(b, end, ':'); err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	vpos := i
	switch string(t) {
	case TypeS:
		c.out = append(c.out, `{"S":`...)
		i, err = c.stringValue(b, i, true)
	case TypeN:
		c.out = append(c.out, `{"N":`...)
		i, err = c.numberValue(b, i)
	case TypeB:
		c.out = append(c.out, `{"B":`...)
		i, err = c.binaryValue(b, i, true)
	case TypeBOOL:
		c.out = append(c.out, `{"BOOL":`...)
		if i, err = skipValue(b, i, 0); err == nil {
			switch lit := string(b[vpos:i]); lit {
			case "true", "false":
				c.out = append(c.out, lit...)
			default:
				err = syntaxErr(vpos, "BOOL value is not true or false")
			}
		}
	case TypeNULL:
		c.out = append(c.out, `{"NULL":`...)
		if i, err = skipValue(b, i, 0); err == nil {
			if string(b[vpos:i]) != "true" {
				err = syntaxErr(vpos, "NULL value is not true")
			}
			c.out = append(c.out, "true"...)
		}
	case TypeSS:
		c.out = append(c.out, `{"SS":`...)
		i, err = c.set(b, i, (*canon).setString)
	case TypeNS:
		c.out = append(c.out, `{"NS":`...)
		i, err = c.set(b, i, (*canon).numberValue)
	case TypeBS:
		c.out = append(c.out, `{"BS":`...)
		i, err = c.set(b, i, (*canon).setBinary)
	case TypeM:
		if depth > MaxDepth {
			return 0, syntaxErr(vpos, "M nested more than 32 levels deep")
		}
		if i >= len(b) || b[i] != '{' {
			return 0, syntaxErr(i, "M value is not an object")
		}
		c.out = append(c.out, `{"M":`...)
		i, _, err = c.object(b, i, depth+1)
	case TypeL:
		if depth > MaxDepth {
			return 0, syntaxErr(vpos, "L nested more than 32 levels deep")
		}
		c.out = append(c.out, `{"L":`...)
		i, err = c.list(b, i, depth+1)
	default:
		return 0, syntaxErr(tpos, "unknown type descriptor "+quoteForError(t))
	}
	if err != nil {
		return 0, err
	}
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ',' {
		return 0, syntaxErr(i, "attribute value has more than one type descriptor")
	}
	if i >= len(b) || b[i] != '}' {
		return 0, syntaxErr(i, "expected '}' after attribute value")
	}
	c.out = append(c.out, '}')
	return i + 1, nil
}

func quoteForError(t []byte) string {
	if len(t) > 20 {
		t = t[:20]
	}
	return string(AppendString(nil, string(t)))
}

// setString and setBinary encode a member of SS or BS: members are sort
// keys, so they are always copied to out.
func (c *canon) setString(b []byte, i int) (int, error) { return c.stringValue(b, i, false) }
func (c *canon) setBinary(b []byte, i int) (int, error) { return c.binaryValue(b, i, false) }

// addRef appends '"', a reference to b[start:end] and '"' to the output if
// references are enabled and the span is long enough, and reports whether it
// did.
func (c *canon) addRef(start, end int) bool {
	if c.refMin == 0 || end-start < c.refMin {
		return false
	}
	c.out = append(c.out, '"')
	c.refs = append(c.refs, ref{pos: len(c.out), start: start, end: end})
	c.out = append(c.out, '"')
	return true
}

// stringValue encodes the JSON string at b[i] canonically; mayRef allows a
// reference (see ref) in place of a copy.
func (c *canon) stringValue(b []byte, i int, mayRef bool) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, syntaxErr(i, "expected a string")
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	if !esc {
		if !mayRef || !c.addRef(i+1, end-1) {
			c.out = append(c.out, b[i:end]...)
		}
		return end, nil
	}
	if c.out, err = c.quoted(c.out, b[i+1:end-1]); err != nil {
		return 0, withOffset(err, i)
	}
	return end, nil
}

// stringContent returns the decoded content of the JSON string at b[i], the
// index past it and whether it held escapes (if not, the content is b[i+1:end-1]).
func (c *canon) stringContent(b []byte, i int) ([]byte, int, bool, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false, syntaxErr(i, "expected a string")
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return nil, 0, false, err
	}
	s := b[i+1 : end-1]
	if esc {
		if c.str, err = unescape(c.str[:0], s); err != nil {
			return nil, 0, false, withOffset(err, i)
		}
		s = c.str
	}
	return s, end, esc, nil
}

// numberValue encodes the N string at b[i] in canonical number form.
func (c *canon) numberValue(b []byte, i int) (int, error) {
	s, end, _, err := c.stringContent(b, i)
	if err != nil {
		return 0, err
	}
	c.out = append(c.out, '"')
	if c.out, err = AppendNumber(c.out, s); err != nil {
		return 0, withOffset(err, i)
	}
	c.out = append(c.out, '"')
	return end, nil
}

// binaryValue checks that the string at b[i] is strict standard base64 and
// encodes it (strict base64 is already canonical); mayRef allows a reference
// (see ref) in place of a copy.
func (c *canon) binaryValue(b []byte, i int, mayRef bool) (int, error) {
	s, end, esc, err := c.stringContent(b, i)
	if err != nil {
		return 0, err
	}
	if n := strictBase64.DecodedLen(len(s)); cap(c.bin) < n {
		c.bin = make([]byte, n)
	}
	if _, err := strictBase64.Decode(c.bin[:cap(c.bin)], s); err != nil || bytes.ContainsAny(s, "\r\n") {
		return 0, syntaxErr(i, "binary value is not standard padded base64")
	}
	if !esc && mayRef && c.addRef(i+1, end-1) {
		return end, nil
	}
	c.out = append(c.out, '"')
	c.out = append(c.out, s...)
	c.out = append(c.out, '"')
	return end, nil
}

// set encodes a SS, NS or BS array at b[i] with member encoding each, sorted
// by the canonical member bytes, rejecting empty sets and duplicates.
func (c *canon) set(b []byte, i int, each func(*canon, []byte, int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, syntaxErr(i, "set value is not an array")
	}
	start := i
	c.out = append(c.out, '[')
	contentStart := len(c.out)
	base, refBase := len(c.spans), len(c.refs)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, syntaxErr(start, "set is empty")
	}
	for k := 0; ; k++ {
		if k > 0 {
			c.out = append(c.out, ',')
		}
		s := span{start: len(c.out), refStart: len(c.refs)}
		var err error
		if i, err = each(c, b, i); err != nil {
			c.spans = c.spans[:base]
			return 0, inIndex(err, k)
		}
		s.end, s.refEnd = len(c.out), len(c.refs)
		s.keyStart, s.keyEnd = s.start+1, s.end-1
		c.spans = append(c.spans, s)
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			i++
			break
		}
		c.spans = c.spans[:base]
		return 0, syntaxErr(i, "expected ',' or ']' in set")
	}
	dup := c.sortSpans(base, contentStart, refBase)
	c.spans = c.spans[:base]
	if dup >= 0 {
		return 0, syntaxErr(start, "set contains duplicates")
	}
	c.out = append(c.out, ']')
	return i, nil
}

// list encodes an L array at b[i] whose elements are at depth.
func (c *canon) list(b []byte, i, depth int) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, syntaxErr(i, "L value is not an array")
	}
	c.out = append(c.out, '[')
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		c.out = append(c.out, ']')
		return i + 1, nil
	}
	for k := 0; ; k++ {
		if k > 0 {
			c.out = append(c.out, ',')
		}
		var err error
		if i, err = c.value(b, i, depth); err != nil {
			return 0, inIndex(err, k)
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			c.out = append(c.out, ']')
			return i + 1, nil
		}
		return 0, syntaxErr(i, "expected ',' or ']' in list")
	}
}
