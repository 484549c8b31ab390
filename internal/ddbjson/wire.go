package ddbjson

import (
	"strconv"
)

// ScanResponse is the part of a DynamoDB Scan response (JSON 1.0 protocol)
// cairn uses. Items and LastEvaluatedKey are sub-slices of the body.
type ScanResponse struct {
	// Items are the raw item objects, well-formed JSON objects but not yet
	// validated as DynamoDB items (Checksum.Add and ValidateItem do that).
	Items [][]byte
	// LastEvaluatedKey is the raw key object, nil when the scan is complete.
	LastEvaluatedKey []byte
	Count            int64
	ScannedCount     int64
	// ConsumedCapacity is ConsumedCapacity.CapacityUnits, 0 if absent.
	ConsumedCapacity float64
}

// ParseScanResponse parses a Scan response body. Members it does not know
// are skipped; "LastEvaluatedKey": null counts as absent.
func ParseScanResponse(body []byte) (ScanResponse, error) {
	var r ScanResponse
	err := ParseScanResponseInto(&r, body)
	return r, err
}

// ParseScanResponseInto is ParseScanResponse reusing r (and the capacity of
// r.Items), so a scanner loop does not allocate per page.
func ParseScanResponseInto(r *ScanResponse, body []byte) error {
	*r = ScanResponse{Items: r.Items[:0]}
	it := objectIter{b: body}
	for it.next() {
		var err error
		start := it.i
		switch {
		case it.keyIs("Items"):
			r.Items, it.i, err = parseItems(r.Items, body, start)
		case it.keyIs("LastEvaluatedKey"):
			if it.i, err = skipValue(body, start, 1); err == nil {
				switch {
				case body[start] == '{':
					r.LastEvaluatedKey = body[start:it.i]
				case string(body[start:it.i]) != "null":
					err = syntaxErr(start, "LastEvaluatedKey is not an object")
				}
			}
		case it.keyIs("Count"):
			r.Count, it.i, err = parseInt(body, start)
		case it.keyIs("ScannedCount"):
			r.ScannedCount, it.i, err = parseInt(body, start)
		case it.keyIs("ConsumedCapacity"):
			r.ConsumedCapacity, it.i, err = parseCapacity(body, start)
		default:
			it.i, err = skipValue(body, start, 1)
		}
		if err != nil {
			return err
		}
	}
	if it.err != nil {
		return it.err
	}
	if end := skipSpace(body, it.i); end != len(body) {
		return syntaxErr(end, "unexpected data after response")
	}
	return nil
}

// parseItems appends the raw objects of the JSON array at b[i].
func parseItems(items [][]byte, b []byte, i int) ([][]byte, int, error) {
	if i >= len(b) || b[i] != '[' {
		return items, 0, syntaxErr(i, "Items is not an array")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return items, i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return items, 0, syntaxErr(i, "item is not a JSON object")
		}
		end, err := skipValue(b, i, 2)
		if err != nil {
			return items, 0, err
		}
		items = append(items, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return items, i + 1, nil
		}
		return items, 0, syntaxErr(i, "expected ',' or ']' in Items")
	}
}

func parseInt(b []byte, i int) (int64, int, error) {
	end, err := skipValue(b, i, 1)
	if err != nil {
		return 0, 0, err
	}
	n, perr := strconv.ParseInt(string(b[i:end]), 10, 64)
	if perr != nil {
		return 0, 0, syntaxErr(i, "expected an integer")
	}
	return n, end, nil
}

func parseFloat(b []byte, i int) (float64, int, error) {
	end, err := skipValue(b, i, 1)
	if err != nil {
		return 0, 0, err
	}
	f, perr := strconv.ParseFloat(string(b[i:end]), 64)
	if perr != nil {
		return 0, 0, syntaxErr(i, "expected a number")
	}
	return f, end, nil
}

// parseCapacity returns CapacityUnits of a ConsumedCapacity object, or their
// sum over an array of them (as BatchWriteItem returns), and the end index.
func parseCapacity(b []byte, i int) (float64, int, error) {
	if i < len(b) && b[i] == '[' {
		total := 0.0
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return 0, i + 1, nil
		}
		for {
			units, end, err := parseCapacity(b, i)
			if err != nil {
				return 0, 0, err
			}
			total += units
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return total, i + 1, nil
			}
			return 0, 0, syntaxErr(i, "expected ',' or ']' in ConsumedCapacity")
		}
	}
	if i+4 <= len(b) && string(b[i:i+4]) == "null" {
		return 0, i + 4, nil
	}
	units := 0.0
	it := objectIter{b: b, i: i}
	for it.next() {
		var err error
		if it.keyIs("CapacityUnits") {
			units, it.i, err = parseFloat(b, it.i)
		} else {
			it.i, err = skipValue(b, it.i, 2)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if it.err != nil {
		return 0, 0, it.err
	}
	return units, it.i, nil
}

// AppendScanRequest appends the body of a Scan request: the table, Limit when
// limit > 0, Segment and TotalSegments when total > 1, ExclusiveStartKey when
// exclusiveStartKey is not empty (pasted raw), and ReturnConsumedCapacity
// TOTAL.
func AppendScanRequest(dst []byte, table string, segment, total, limit int, exclusiveStartKey []byte) []byte {
	dst = append(dst, `{"TableName":`...)
	dst = AppendString(dst, table)
	if limit > 0 {
		dst = append(dst, `,"Limit":`...)
		dst = strconv.AppendInt(dst, int64(limit), 10)
	}
	if total > 1 {
		dst = append(dst, `,"Segment":`...)
		dst = strconv.AppendInt(dst, int64(segment), 10)
		dst = append(dst, `,"TotalSegments":`...)
		dst = strconv.AppendInt(dst, int64(total), 10)
	}
	if len(exclusiveStartKey) > 0 {
		dst = append(dst, `,"ExclusiveStartKey":`...)
		dst = append(dst, exclusiveStartKey...)
	}
	return append(dst, `,"ReturnConsumedCapacity":"TOTAL"}`...)
}

// AppendBatchWriteRequest appends the body of a BatchWriteItem request that
// puts items (raw item objects, pasted as is) into table:
// {"RequestItems":{"<table>":[{"PutRequest":{"Item":<item>}},...]},"ReturnConsumedCapacity":"TOTAL"}.
// DynamoDB accepts at most 25 items per request; that is the caller's limit.
func AppendBatchWriteRequest(dst []byte, table string, items [][]byte) []byte {
	dst = append(dst, `{"RequestItems":{`...)
	dst = AppendString(dst, table)
	dst = append(dst, ":["...)
	for k, item := range items {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"PutRequest":{"Item":`...)
		dst = append(dst, item...)
		dst = append(dst, "}}"...)
	}
	return append(dst, `]},"ReturnConsumedCapacity":"TOTAL"}`...)
}

// ParseBatchWriteResponse parses a BatchWriteItem response body. It returns
// the raw items of the unprocessed PutRequests of every table (sub-slices of
// body; unprocessed DeleteRequests are skipped, cairn sends none) and the sum
// of ConsumedCapacity[].CapacityUnits.
func ParseBatchWriteResponse(body []byte) (unprocessed [][]byte, consumed float64, err error) {
	it := objectIter{b: body}
	for it.next() {
		start := it.i
		switch {
		case it.keyIs("UnprocessedItems"):
			unprocessed, it.i, err = parseUnprocessed(unprocessed, body, start)
		case it.keyIs("ConsumedCapacity"):
			consumed, it.i, err = parseCapacity(body, start)
		default:
			it.i, err = skipValue(body, start, 1)
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if it.err != nil {
		return nil, 0, it.err
	}
	if end := skipSpace(body, it.i); end != len(body) {
		return nil, 0, syntaxErr(end, "unexpected data after response")
	}
	return unprocessed, consumed, nil
}

// parseUnprocessed walks {"table":[{"PutRequest":{"Item":{...}}}, ...], ...}.
func parseUnprocessed(items [][]byte, b []byte, i int) ([][]byte, int, error) {
	if i+4 <= len(b) && string(b[i:i+4]) == "null" {
		return items, i + 4, nil
	}
	tables := objectIter{b: b, i: i}
	for tables.next() {
		j := tables.i
		if j >= len(b) || b[j] != '[' {
			return items, 0, syntaxErr(j, "unprocessed requests are not an array")
		}
		j = skipSpace(b, j+1)
		if j < len(b) && b[j] == ']' {
			tables.i = j + 1
			continue
		}
		for {
			req := objectIter{b: b, i: j}
			for req.next() {
				var err error
				if req.keyIs("PutRequest") {
					put := objectIter{b: b, i: req.i}
					for put.next() {
						s := put.i
						if put.i, err = skipValue(b, s, 4); err != nil {
							return items, 0, err
						}
						if put.keyIs("Item") {
							if b[s] != '{' {
								return items, 0, syntaxErr(s, "item is not a JSON object")
							}
							items = append(items, b[s:put.i])
						}
					}
					if put.err != nil {
						return items, 0, put.err
					}
					req.i = put.i
				} else if req.i, err = skipValue(b, req.i, 3); err != nil {
					return items, 0, err
				}
			}
			if req.err != nil {
				return items, 0, req.err
			}
			j = skipSpace(b, req.i)
			if j < len(b) && b[j] == ',' {
				j = skipSpace(b, j+1)
				continue
			}
			if j < len(b) && b[j] == ']' {
				tables.i = j + 1
				break
			}
			return items, 0, syntaxErr(j, "expected ',' or ']' in unprocessed requests")
		}
	}
	return items, tables.i, tables.err
}
