package ddbjson

// AppendExportLine appends one line of DynamoDB's export-to-S3 format
// (DYNAMODB_JSON): {"Item":<item>} and a newline. item is pasted as is; it
// should be a valid item without newlines, as Scan returns it.
func AppendExportLine(dst, item []byte) []byte {
	dst = append(dst, `{"Item":`...)
	dst = append(dst, item...)
	return append(dst, '}', '\n')
}

// ExportLineItem returns the item of one export line, a sub-slice of line.
// Whitespace (including the trailing newline) is tolerated around every
// token; the object must have exactly one member, "Item", whose value is a
// valid item (see ValidateItem).
func ExportLineItem(line []byte) ([]byte, error) {
	it := objectIter{b: line}
	if !it.next() {
		if it.err != nil {
			return nil, it.err
		}
		return nil, syntaxErr(0, `export line has no "Item"`)
	}
	if !it.keyIs("Item") {
		return nil, syntaxErr(it.i, `export line has a member other than "Item"`)
	}
	start := it.i
	c := canonPool.Get().(*canon)
	c.out = c.out[:0]
	end, err := c.item(line, start)
	c.out = c.out[:0]
	canonPool.Put(c)
	if err != nil {
		return nil, err
	}
	it.i = end
	if it.next() {
		return nil, syntaxErr(it.i, `export line has a member other than "Item"`)
	}
	if it.err != nil {
		return nil, it.err
	}
	if rest := skipSpace(line, it.i); rest != len(line) {
		return nil, syntaxErr(rest, "unexpected data after export line")
	}
	return line[start:end], nil
}
