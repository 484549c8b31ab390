package ddbjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestParseScanResponse(t *testing.T) {
	body := []byte(` {"ConsumedCapacity":{"CapacityUnits":12.5,"TableName":"t","Table":{"CapacityUnits":12.5}},` +
		`"Count":2,"Items":[{"pk":{"S":"a"}} , {"pk":{"S":"b"},"m":{"M":{"x":{"L":[]}}}}],` +
		`"LastEvaluatedKey":{"pk":{"S":"b"}},"ScannedCount":3,"Future":[1,{"a":null}]} `)
	r, err := ParseScanResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Items) != 2 || string(r.Items[0]) != `{"pk":{"S":"a"}}` || string(r.Items[1]) != `{"pk":{"S":"b"},"m":{"M":{"x":{"L":[]}}}}` {
		t.Errorf("Items = %q", r.Items)
	}
	if string(r.LastEvaluatedKey) != `{"pk":{"S":"b"}}` || r.Count != 2 || r.ScannedCount != 3 || r.ConsumedCapacity != 12.5 {
		t.Errorf("response = %+v", r)
	}
	// Sub-slices of the body, not copies.
	if &r.Items[0][0] != &body[bytes.Index(body, []byte(`{"pk":{"S":"a"}}`))] {
		t.Error("Items[0] is not a sub-slice of body")
	}

	r, err = ParseScanResponse([]byte(`{"Count":0,"Items":[],"ScannedCount":0,"LastEvaluatedKey":null}`))
	if err != nil || len(r.Items) != 0 || r.LastEvaluatedKey != nil {
		t.Errorf("empty page: %+v, %v", r, err)
	}

	// The deepest items DynamoDB allows pass the structural check.
	for _, deep := range []string{nest("M", MaxDepth), nest("L", MaxDepth)} {
		r, err := ParseScanResponse([]byte(`{"Items":[` + deep + `],"LastEvaluatedKey":` + deep + `}`))
		if err != nil || len(r.Items) != 1 || ValidateItem(r.Items[0]) != nil {
			t.Errorf("deep item: %v", err)
		}
		un, _, err := ParseBatchWriteResponse([]byte(`{"UnprocessedItems":{"t":[{"PutRequest":{"Item":` + deep + `}}]}}`))
		if err != nil || len(un) != 1 {
			t.Errorf("deep unprocessed item: %v", err)
		}
	}

	// Reuse keeps the slice.
	r.Items = make([][]byte, 0, 10)
	if err := ParseScanResponseInto(&r, body); err != nil || cap(r.Items) != 10 {
		t.Errorf("ParseScanResponseInto: cap %d, %v", cap(r.Items), err)
	}

	for _, bad := range []string{``, `[]`, `{"Items":{}}`, `{"Items":[1]}`, `{"Items":[{"a":}]}`, `{"Count":"1"}`,
		`{"Count":1.5}`, `{"LastEvaluatedKey":"x"}`, `{"ConsumedCapacity":{"CapacityUnits":"x"}}`, `{} {}`, `{"Items":[{}]`} {
		if _, err := ParseScanResponse([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseScanResponse(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestAppendScanRequest(t *testing.T) {
	tests := []struct {
		table                 string
		segment, total, limit int
		esk                   string
		want                  string
	}{
		{"t1", 0, 1, 0, "", `{"TableName":"t1","ReturnConsumedCapacity":"TOTAL"}`},
		{"t1", 3, 8, 500, `{"pk":{"S":"x"}}`, `{"TableName":"t1","Limit":500,"Segment":3,"TotalSegments":8,"ExclusiveStartKey":{"pk":{"S":"x"}},"ReturnConsumedCapacity":"TOTAL"}`},
		{`we"ird\`, 0, 0, 1, "", `{"TableName":"we\"ird\\","Limit":1,"ReturnConsumedCapacity":"TOTAL"}`},
	}
	for _, tt := range tests {
		got := AppendScanRequest(nil, tt.table, tt.segment, tt.total, tt.limit, []byte(tt.esk))
		if string(got) != tt.want || !json.Valid(got) {
			t.Errorf("AppendScanRequest = %s\nwant %s", got, tt.want)
		}
	}
}

func TestBatchWrite(t *testing.T) {
	items := [][]byte{[]byte(`{"pk":{"S":"a"}}`), []byte(`{"pk":{"S":"b"}}`)}
	got := AppendBatchWriteRequest([]byte("x"), "tab\u2028\"le", items)
	want := "x" + `{"RequestItems":{"tab` + "\u2028" + `\"le":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}},{"PutRequest":{"Item":{"pk":{"S":"b"}}}}]},"ReturnConsumedCapacity":"TOTAL"}`
	if string(got) != want || !json.Valid(got[1:]) {
		t.Errorf("AppendBatchWriteRequest = %s\nwant %s", got, want)
	}

	body := `{"UnprocessedItems":{"t1":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"z"}}}}],` +
		`"t2":[],"t3":[ {"PutRequest": {"Item" : {"pk":{"N":"1"}}}} ]},` +
		`"ConsumedCapacity":[{"TableName":"t1","CapacityUnits":3.0},{"TableName":"t3","CapacityUnits":1.5}],"ItemCollectionMetrics":{}}`
	un, consumed, err := ParseBatchWriteResponse([]byte(body))
	if err != nil || len(un) != 2 || string(un[0]) != `{"pk":{"S":"a"}}` || string(un[1]) != `{"pk":{"N":"1"}}` || consumed != 4.5 {
		t.Errorf("ParseBatchWriteResponse = %q, %v, %v", un, consumed, err)
	}
	un, consumed, err = ParseBatchWriteResponse([]byte(`{"UnprocessedItems":{}}`))
	if err != nil || un != nil || consumed != 0 {
		t.Errorf("empty response: %q, %v, %v", un, consumed, err)
	}
	for _, bad := range []string{`{"UnprocessedItems":[]}`, `{"UnprocessedItems":{"t":{}}}`, `{"UnprocessedItems":{"t":[{"PutRequest":{"Item":1}}]}}`,
		`{"ConsumedCapacity":[{"CapacityUnits":true}]}`, `{`} {
		if _, _, err := ParseBatchWriteResponse([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseBatchWriteResponse(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestExportLine(t *testing.T) {
	item := []byte(`{"pk":{"S":"a\u2028"},"n":{"N":"1"}}`)
	line := AppendExportLine([]byte("prev\n"), item)
	if want := "prev\n" + `{"Item":{"pk":{"S":"a\u2028"},"n":{"N":"1"}}}` + "\n"; string(line) != want {
		t.Fatalf("AppendExportLine = %q", line)
	}
	got, err := ExportLineItem(line[5:])
	if err != nil || !bytes.Equal(got, item) {
		t.Errorf("ExportLineItem = %s, %v", got, err)
	}
	got, err = ExportLineItem([]byte(" {\r\n \"Item\" :\t" + string(item) + " }\r\n"))
	if err != nil || !bytes.Equal(got, item) {
		t.Errorf("ExportLineItem with whitespace = %s, %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `{"Item":{}}`, `{"Items":{"pk":{"S":"a"}}}`, `{"Item":{"pk":{"S":"a"}},"Item":{"pk":{"S":"a"}}}`,
		`{"Item":{"pk":{"S":"a"}}} x`, `{"Item":{"pk":{"N":"a"}}}`, `{"Item":[]}`, `{"Item":{"pk":{"S":"a"}}`} {
		if _, err := ExportLineItem([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ExportLineItem(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}
