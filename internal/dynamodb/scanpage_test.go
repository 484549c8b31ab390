package dynamodb

import "testing"

// A page made by NewScanPage tells its source once that the consumer is
// done with it, however often Release is called.
func TestNewScanPageReleasesOnce(t *testing.T) {
	n := 0
	p := NewScanPage([][]byte{[]byte(`{"pk":{"S":"a"}}`)}, []byte(`{"pk":{"S":"a"}}`), func() { n++ })
	if len(p.Items) != 1 || p.Count != 1 || p.ScannedCount != 1 || string(p.LastEvaluatedKey) != `{"pk":{"S":"a"}}` {
		t.Fatalf("page %+v", p)
	}
	p.Release()
	p.Release()
	if n != 1 {
		t.Errorf("release called %d times, want 1", n)
	}
	NewScanPage(nil, nil, nil).Release()
	(*ScanPage)(nil).Release()
}
