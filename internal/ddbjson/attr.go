package ddbjson

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FromAttributeValues encodes an item of the AWS SDK's types as DynamoDB
// JSON. Map members are written sorted by name; set members and numbers are
// written as given (not canonicalised), so that ToAttributeValues returns an
// equal value. The result is validated (see ValidateItem).
func FromAttributeValues(item map[string]types.AttributeValue) ([]byte, error) {
	out, err := appendAVMap(nil, item)
	if err != nil {
		return nil, err
	}
	if err := ValidateItem(out); err != nil {
		return nil, err
	}
	return out, nil
}

func appendAVMap(dst []byte, m map[string]types.AttributeValue) ([]byte, error) {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for k, name := range names {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, name)
		dst = append(dst, ':')
		var err error
		if dst, err = appendAV(dst, m[name]); err != nil {
			return dst, prefixPath(err, pathName(name))
		}
	}
	return append(dst, '}'), nil
}

func appendAV(dst []byte, av types.AttributeValue) ([]byte, error) {
	var err error
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		dst = append(dst, `{"S":`...)
		dst = AppendString(dst, v.Value)
	case *types.AttributeValueMemberN:
		dst = append(dst, `{"N":`...)
		dst = AppendString(dst, v.Value)
	case *types.AttributeValueMemberB:
		dst = append(dst, `{"B":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Value)
		dst = append(dst, '"')
	case *types.AttributeValueMemberBOOL:
		dst = append(dst, `{"BOOL":`...)
		dst = fmt.Append(dst, v.Value)
	case *types.AttributeValueMemberNULL:
		dst = append(dst, `{"NULL":`...)
		dst = fmt.Append(dst, v.Value)
	case *types.AttributeValueMemberSS:
		dst = append(dst, `{"SS":[`...)
		for k, s := range v.Value {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberNS:
		dst = append(dst, `{"NS":[`...)
		for k, s := range v.Value {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberBS:
		dst = append(dst, `{"BS":[`...)
		for k, s := range v.Value {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, s)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	case *types.AttributeValueMemberM:
		dst = append(dst, `{"M":`...)
		if dst, err = appendAVMap(dst, v.Value); err != nil {
			return dst, err
		}
	case *types.AttributeValueMemberL:
		dst = append(dst, `{"L":[`...)
		for k, e := range v.Value {
			if k > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendAV(dst, e); err != nil {
				return dst, inIndex(err, k)
			}
		}
		dst = append(dst, ']')
	case nil:
		return dst, errorf("nil attribute value")
	default:
		return dst, errorf("unsupported attribute value type %T", av)
	}
	return append(dst, '}'), nil
}

// ToAttributeValues decodes a valid DynamoDB JSON item (see ValidateItem)
// into the AWS SDK's types. Numbers keep their text; empty binaries become
// non-nil empty slices.
func ToAttributeValues(item []byte) (map[string]types.AttributeValue, error) {
	if err := ValidateItem(item); err != nil {
		return nil, err
	}
	m, _, err := decodeAVMap(item, skipSpace(item, 0))
	return m, err
}

// decodeAVMap decodes an object of attribute values at b[i]. The input is
// known to be valid, so errors here are only defensive.
func decodeAVMap(b []byte, i int) (map[string]types.AttributeValue, int, error) {
	m := make(map[string]types.AttributeValue)
	it := objectIter{b: b, i: i}
	for it.next() {
		name, err := unescape(nil, it.key)
		if err != nil {
			return nil, 0, err
		}
		var av types.AttributeValue
		if av, it.i, err = decodeAV(b, it.i); err != nil {
			return nil, 0, err
		}
		m[string(name)] = av
	}
	return m, it.i, it.err
}

func decodeString(b []byte, i int) (string, int, error) {
	i = skipSpace(b, i)
	end, _, err := scanString(b, i)
	if err != nil {
		return "", 0, err
	}
	s, err := unescape(nil, b[i+1:end-1])
	return string(s), end, err
}

func decodeBinary(b []byte, i int) ([]byte, int, error) {
	s, end, err := decodeString(b, i)
	if err != nil {
		return nil, 0, err
	}
	v, err := base64.StdEncoding.DecodeString(s)
	if v == nil {
		v = []byte{}
	}
	return v, end, err
}

// decodeArray calls each for every element of the JSON array at b[i].
func decodeArray(b []byte, i int, each func(i int) (int, error)) (int, error) {
	i, err := expect(b, i, '[')
	if err != nil {
		return 0, err
	}
	if j := skipSpace(b, i); j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for {
		if i, err = each(i); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		return expect(b, i, ']')
	}
}

func decodeAV(b []byte, i int) (types.AttributeValue, int, error) {
	it := objectIter{b: b, i: i}
	if !it.next() {
		return nil, 0, errorf("attribute value has no type descriptor")
	}
	t, err := unescape(nil, it.key)
	if err != nil {
		return nil, 0, err
	}
	var av types.AttributeValue
	j := it.i
	switch string(t) {
	case TypeS:
		var s string
		s, j, err = decodeString(b, j)
		av = &types.AttributeValueMemberS{Value: s}
	case TypeN:
		var s string
		s, j, err = decodeString(b, j)
		av = &types.AttributeValueMemberN{Value: s}
	case TypeB:
		var v []byte
		v, j, err = decodeBinary(b, j)
		av = &types.AttributeValueMemberB{Value: v}
	case TypeBOOL, TypeNULL:
		var end int
		if end, err = skipValue(b, j, 0); err == nil {
			v := string(b[j:end]) == "true"
			j = end
			if string(t) == TypeBOOL {
				av = &types.AttributeValueMemberBOOL{Value: v}
			} else {
				av = &types.AttributeValueMemberNULL{Value: v}
			}
		}
	case TypeSS, TypeNS:
		var ss []string
		j, err = decodeArray(b, j, func(i int) (int, error) {
			s, end, err := decodeString(b, i)
			ss = append(ss, s)
			return end, err
		})
		if string(t) == TypeSS {
			av = &types.AttributeValueMemberSS{Value: ss}
		} else {
			av = &types.AttributeValueMemberNS{Value: ss}
		}
	case TypeBS:
		var bs [][]byte
		j, err = decodeArray(b, j, func(i int) (int, error) {
			v, end, err := decodeBinary(b, i)
			bs = append(bs, v)
			return end, err
		})
		av = &types.AttributeValueMemberBS{Value: bs}
	case TypeM:
		var m map[string]types.AttributeValue
		m, j, err = decodeAVMap(b, j)
		av = &types.AttributeValueMemberM{Value: m}
	case TypeL:
		l := []types.AttributeValue{}
		j, err = decodeArray(b, j, func(i int) (int, error) {
			e, end, err := decodeAV(b, i)
			l = append(l, e)
			return end, err
		})
		av = &types.AttributeValueMemberL{Value: l}
	default:
		return nil, 0, errorf("unknown type descriptor %s", strings.ToValidUTF8(string(t), "?"))
	}
	if err != nil {
		return nil, 0, err
	}
	it.i = j
	if it.next() || it.err != nil {
		return nil, 0, errorf("attribute value has more than one type descriptor")
	}
	return av, it.i, nil
}
