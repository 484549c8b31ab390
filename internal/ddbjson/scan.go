package ddbjson

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of arrays and objects the generic skipper
// accepts. An item nested as deep as an out-of-spec item may be
// (MaxLaxDepth) is about 2*MaxLaxDepth+2 JSON levels deep, and the wire
// envelopes add a few more; the bound keeps hostile input from exhausting
// the stack.
const maxJSONDepth = 2*MaxLaxDepth + 16

// isSpace reports JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the index of the first non-whitespace byte at or after i.
// Compact JSON has none, so one comparison usually decides.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

const (
	lo7 = 0x0101010101010101
	hi7 = 0x8080808080808080
)

// specialBits is zero when no byte of the little-endian word w is '"',
// '\\', a control character (< 0x20) or non-ASCII (>= 0x80). A zero result
// is never wrong; a non-zero one only means "look closer".
func specialBits(w uint64) uint64 {
	q := w ^ (lo7 * '"')
	s := w ^ (lo7 * '\\')
	return ((q-lo7)&^q | (s-lo7)&^s | (w - lo7*0x20) | w) & hi7
}

// plainRunGo returns the index of the first 32-byte block at or after i in b
// that may hold a special byte (see specialBits), or of the last partial one:
// the bulk of a long string is skipped 32 bytes at a time. plainRun is this
// or, on amd64, the same done 16 bytes at a time with SSE2 (scan_amd64.s),
// which returns the index of the first special byte itself when it finds
// one in a whole 16-byte block; either way the caller goes on from an index
// at or before the first special byte, and past i only over plain bytes.
func plainRunGo(b []byte, i int) int {
	for i+32 <= len(b) {
		p := b[i : i+32 : i+32]
		if specialBits(binary.LittleEndian.Uint64(p[0:8]))|
			specialBits(binary.LittleEndian.Uint64(p[8:16]))|
			specialBits(binary.LittleEndian.Uint64(p[16:24]))|
			specialBits(binary.LittleEndian.Uint64(p[24:32])) != 0 {
			break
		}
		i += 32
	}
	return i
}

// scanString scans the JSON string whose opening quote is at b[i]. It returns
// the index just past the closing quote and whether the string holds escape
// sequences. It checks the JSON grammar (no raw control characters, only the
// escapes JSON defines) and that the string is valid UTF-8.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++ // opening quote
	for {
		// Skip plain bytes a word at a time, and go straight to the first
		// special byte of the word that has one (the lowest flagged byte is
		// always a special one). Short strings (names, type descriptors) end
		// within a word or two; past two plain words, a long one is skipped
		// 32 bytes at a time.
		for k := 0; i+8 <= len(b); k++ {
			if m := specialBits(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
			if k == 1 {
				i = plainRun(b, i)
			}
		}
		if i >= len(b) {
			return 0, false, syntaxErr(start, "unterminated string")
		}
		c := b[i]
		switch {
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

// typeDescriptor reads the type descriptor (a JSON string) at b[i] == '"'
// and returns its decoded text (in scratch's array if it held escapes) and
// the index past it. Descriptors as DynamoDB writes them, a few capital
// letters, are taken without scanString; anything else goes through it.
func typeDescriptor(b []byte, i int, scratch []byte) ([]byte, int, error) {
	end := i + 1
	for end < len(b) && end-i <= 4 && b[end]-'A' < 26 {
		end++
	}
	if end < len(b) && b[end] == '"' && end > i+1 {
		return b[i+1 : end], end + 1, nil
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return nil, 0, err
	}
	t := b[i+1 : end-1]
	if esc {
		if t, err = unescape(scratch[:0], t); err != nil {
			return nil, 0, withOffset(err, i)
		}
	}
	return t, end, nil
}

func isHex4(h []byte) bool {
	for _, c := range h[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hex4(h []byte) rune {
	return rune(hexVal(h[0])<<12 | hexVal(h[1])<<8 | hexVal(h[2])<<4 | hexVal(h[3]))
}

// unescape appends the decoded content of a JSON string body s (without
// quotes) that scanString accepted. It rejects \u escapes that do not form
// valid Unicode scalar values (lone surrogates), which DynamoDB never sends.
func unescape(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if r >= 0xD800 && r < 0xDC00 {
				if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
					return dst, errorf("lone UTF-16 surrogate in string")
				}
				r2 := hex4(s[i+2:])
				if r2 < 0xDC00 || r2 > 0xDFFF {
					return dst, errorf("lone UTF-16 surrogate in string")
				}
				r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
				i += 6
			} else if r >= 0xDC00 && r <= 0xDFFF {
				return dst, errorf("lone UTF-16 surrogate in string")
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string in cairn's canonical escaping:
// '"' and '\\' are escaped, control characters below U+0020 become \b, \f,
// \n, \r, \t or \u00XX (lower-case hex), and every other byte is copied as
// is. s must be valid UTF-8.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	last := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[last:i]...)
		last = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}

// AppendString appends s as a JSON string, escaped as in the canonical form.
// Invalid UTF-8 is replaced by U+FFFD so that the result is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	return appendQuoted(dst, []byte(s))
}

// skipValue returns the index just past the JSON value starting at b[i]
// (whitespace before it is skipped). It checks the full JSON grammar.
func skipValue(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{':
		if depth >= maxJSONDepth {
			return 0, syntaxErr(i, "nesting too deep")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, syntaxErr(i, "expected object key")
			}
			end, _, err := scanString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, syntaxErr(i, "expected ':'")
			}
			if i, err = skipValue(b, i+1, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, nil
			}
			return 0, syntaxErr(i, "expected ',' or '}' in object")
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return 0, syntaxErr(i, "nesting too deep")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			return 0, syntaxErr(i, "expected ',' or ']' in array")
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	}
	return 0, syntaxErr(i, "unexpected character")
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, syntaxErr(i, "invalid literal")
	}
	return i + len(lit), nil
}

// skipNumber scans a JSON number (RFC 8259 grammar) at b[i].
func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, syntaxErr(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, syntaxErr(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, syntaxErr(start, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// expect skips whitespace and the byte c, or fails.
func expect(b []byte, i int, c byte) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != c {
		return 0, syntaxErr(i, "expected '"+string(c)+"'")
	}
	return i + 1, nil
}

// objectIter walks the members of a JSON object. Typical use:
//
//	it := objectIter{b: b, i: i}
//	for it.next() { key := it.key; ...; it.i = end of value }
//	if it.err != nil { ... }
type objectIter struct {
	b       []byte
	i       int    // position: before '{' at start, then after the last value
	key     []byte // the current key's raw body (without quotes)
	escaped bool   // key holds escapes
	err     error
	started bool
}

// next advances to the next member; on true, it.i is the start of the value
// (whitespace skipped).
func (it *objectIter) next() bool {
	if it.err != nil {
		return false
	}
	b, i := it.b, skipSpace(it.b, it.i)
	if !it.started {
		it.started = true
		if i >= len(b) || b[i] != '{' {
			it.err = syntaxErr(i, "expected '{'")
			return false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			it.i = i + 1
			return false
		}
	} else {
		if i < len(b) && b[i] == '}' {
			it.i = i + 1
			return false
		}
		if i >= len(b) || b[i] != ',' {
			it.err = syntaxErr(i, "expected ',' or '}' in object")
			return false
		}
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		it.err = syntaxErr(i, "expected object key")
		return false
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		it.err = err
		return false
	}
	it.key, it.escaped = b[i+1:end-1], esc
	if i, it.err = expect(b, end, ':'); it.err != nil {
		return false
	}
	it.i = skipSpace(b, i)
	return true
}

// keyIs reports whether the current key equals name.
func (it *objectIter) keyIs(name string) bool {
	if !it.escaped {
		return string(it.key) == name
	}
	var buf [64]byte
	k, err := unescape(buf[:0], it.key)
	return err == nil && string(k) == name
}
