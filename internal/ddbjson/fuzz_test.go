package ddbjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// seeds adds the hostile corpus and hand-written edge cases to f.
func seeds(f *testing.F) [][]byte {
	var all [][]byte
	for _, it := range corpusRaw(f) {
		if len(it) < 4096 {
			all = append(all, it)
		}
	}
	for _, s := range []string{
		`{"a":{"S":"x"}}`, `{"a":{"N":"-1.50E+3"}}`, `{"a":{"NS":["1","1.0"]}}`, `{"a":{"B":"AA=="}}`,
		`{"a":{"SS":["b","a"]},"\u0061b":{"NULL":true}}`, `{"a":{"M":{"b":{"L":[{"BOOL":true}]}}}}`,
		`{"a":{"S":"\ud83d\ude00\u2028"}}`, nest("M", MaxDepth), nest("L", MaxDepth+1), `{}`, `[`, `{"a":{"N":"1E-130"}}`,
	} {
		all = append(all, []byte(s))
	}
	return all
}

// checkCanonical checks the canonical-form properties of a valid item.
func checkCanonical(t *testing.T, item []byte) {
	canon, err := AppendCanonical(nil, item)
	if err != nil {
		t.Fatalf("valid item %q has no canonical form: %v", item, err)
	}
	if !json.Valid(canon) {
		t.Fatalf("canonical form %q is not JSON", canon)
	}
	again, err := AppendCanonical(nil, canon)
	if err != nil || !bytes.Equal(again, canon) {
		t.Fatalf("canonical form not idempotent:\n%q\n%q (%v)", canon, again, err)
	}
	// The SDK round trip keeps the value, so it keeps the canonical form.
	av, err := ToAttributeValues(item)
	if err != nil {
		t.Fatalf("ToAttributeValues(valid %q): %v", item, err)
	}
	raw, err := FromAttributeValues(av)
	if err != nil {
		t.Fatalf("FromAttributeValues(ToAttributeValues(%q)): %v", item, err)
	}
	if c2, err := AppendCanonical(nil, raw); err != nil || !bytes.Equal(c2, canon) {
		t.Fatalf("SDK round trip changed the value:\n%q\n%q", canon, c2)
	}
}

func FuzzValidateItem(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		if err := ValidateItem(item); err != nil {
			if _, cerr := AppendCanonical(nil, item); cerr == nil {
				t.Fatalf("ValidateItem fails (%v) but AppendCanonical succeeds", err)
			}
			return
		}
		if !json.Valid(item) {
			t.Fatalf("ValidateItem accepts invalid JSON %q", item)
		}
		checkCanonical(t, item)
	})
}

func FuzzCanonical(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		canon, err := AppendCanonical(nil, item)
		if err != nil {
			return
		}
		if err := ValidateItem(canon); err != nil {
			t.Fatalf("canonical form %q is invalid: %v", canon, err)
		}
		checkCanonical(t, item)
		var a, b Checksum
		if a.Add(item) != nil || b.Add(canon) != nil || a.Sum() != b.Sum() {
			t.Fatal("item and its canonical form have different checksums")
		}
	})
}

func FuzzParseScanResponse(f *testing.F) {
	f.Add([]byte(`{"Count":1,"Items":[{"pk":{"S":"a"}}],"ScannedCount":1,"LastEvaluatedKey":{"pk":{"S":"a"}},"ConsumedCapacity":{"CapacityUnits":0.5}}`))
	f.Add([]byte(`{"Items":[],"LastEvaluatedKey":null}`))
	for _, s := range seeds(f) {
		f.Add([]byte(`{"Items":[` + string(s) + `]}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseScanResponse(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, it := range r.Items {
			if len(it) == 0 || it[0] != '{' || !json.Valid(it) {
				t.Fatalf("item %q is not a JSON object", it)
			}
			if ValidateItem(it) == nil {
				checkCanonical(t, it)
			}
		}
		if r.LastEvaluatedKey != nil && !json.Valid(r.LastEvaluatedKey) {
			t.Fatalf("LastEvaluatedKey %q is not JSON", r.LastEvaluatedKey)
		}
	})
}

func FuzzParseBatchWriteResponse(f *testing.F) {
	f.Add([]byte(`{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}]},"ConsumedCapacity":[{"CapacityUnits":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		un, _, err := ParseBatchWriteResponse(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, it := range un {
			if it[0] != '{' || !json.Valid(it) {
				t.Fatalf("item %q is not a JSON object", it)
			}
		}
	})
}

func FuzzExportLine(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(AppendExportLine(nil, s))
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if item, err := ExportLineItem(line); err == nil {
			if err := ValidateItem(item); err != nil {
				t.Fatalf("ExportLineItem returned an invalid item %q: %v", item, err)
			}
			if !json.Valid(line) {
				t.Fatalf("accepted invalid JSON %q", line)
			}
		}
		// Any valid item survives a write and a read unchanged.
		if ValidateItem(line) == nil && !bytes.ContainsAny(line, "\n") {
			got, err := ExportLineItem(AppendExportLine(nil, line))
			if err != nil || !bytes.Equal(got, line) {
				t.Fatalf("export line round trip: %q, %v", got, err)
			}
		}
	})
}
