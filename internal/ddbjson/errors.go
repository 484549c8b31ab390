package ddbjson

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error this package returns for input that is
// not valid JSON, not a valid DynamoDB item or not the expected wire shape.
var ErrInvalid = errors.New("invalid DynamoDB JSON")

// Error describes invalid input: where (an attribute path within an item and
// the byte offset where known) and what.
type Error struct {
	// Path is the attribute path within the item, for example
	// `orders[3].price` or `"odd.name"` (names that are not plain
	// identifiers are quoted). Empty when the fault is not inside an attribute.
	Path string
	// Offset is the byte offset in the input where the fault was seen, or -1.
	Offset int
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ddbjson: ")
	if e.Path != "" {
		b.WriteString("attribute ")
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (at byte %d)", e.Offset)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errorf(format string, args ...any) *Error {
	return &Error{Offset: -1, Reason: fmt.Sprintf(format, args...)}
}

func syntaxErr(offset int, reason string) *Error {
	return &Error{Offset: offset, Reason: reason}
}

// withOffset sets the offset of err if it has none.
func withOffset(err error, offset int) error {
	var e *Error
	if errors.As(err, &e) && e.Offset < 0 {
		e.Offset = offset
	}
	return err
}

// inAttr prefixes the path of err with the attribute name (raw JSON string
// body, possibly escaped).
func inAttr(err error, rawName []byte) error {
	name, uerr := unescape(nil, rawName)
	if uerr != nil {
		name = rawName
	}
	return prefixPath(err, pathName(string(name)))
}

// inIndex prefixes the path of err with a list or set index.
func inIndex(err error, i int) error {
	return prefixPath(err, "["+strconv.Itoa(i)+"]")
}

func prefixPath(err error, seg string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Path == "":
		e.Path = seg
	case e.Path[0] == '[':
		e.Path = seg + e.Path
	default:
		e.Path = seg + "." + e.Path
	}
	return err
}

// pathName quotes an attribute name unless it is a plain identifier.
func pathName(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(s)
		}
	}
	return s
}
