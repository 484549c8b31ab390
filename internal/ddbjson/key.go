package ddbjson

// AppendKey appends a JSON object of the top-level attributes of item
// called names (the key attributes of its table), in the order of names,
// each with its value as item holds it, whitespace between tokens left
// out: {"pk":{"S":"a"},"sk":{"N":"1"}}.
// It is how cairn names an item in messages, so it never fails: it reads
// what it can of an item that is not valid, leaves out names item lacks,
// and gives {} when it finds none.
func AppendKey(dst, item []byte, names ...string) []byte {
	var found [4][]byte // DynamoDB keys have one or two attributes
	vals := found[:0]
	if len(names) > len(found) {
		vals = make([][]byte, 0, len(names))
	}
	vals = vals[:len(names)]
	it := objectIter{b: item}
	var scratch [64]byte
	for it.next() {
		end, err := skipValue(item, it.i, 1)
		if err != nil {
			break
		}
		name := it.key
		if it.escaped {
			if name, err = unescape(scratch[:0], it.key); err != nil {
				it.i = end
				continue
			}
		}
		for k, n := range names {
			if vals[k] == nil && string(name) == n {
				vals[k] = item[it.i:end]
			}
		}
		it.i = end
	}
	dst = append(dst, '{')
	first := true
	for k, v := range vals {
		if v == nil {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, names[k])
		dst = append(dst, ':')
		dst = appendCompact(dst, v)
	}
	return append(dst, '}')
}

// appendCompact appends the JSON value v without the whitespace between its
// tokens.
func appendCompact(dst, v []byte) []byte {
	inString, escaped := false, false
	for _, c := range v {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case isSpace(c):
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
