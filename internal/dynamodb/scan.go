package dynamodb

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/ddbjson"
)

// Scanner reads a table page by page. It is what a backup consumes;
// *Client implements it and the wrappers of this package decorate it.
type Scanner interface {
	// ScanPage reads the page of segment in.Segment of in.TotalSegments that
	// starts after in.ExclusiveStartKey (at the segment's start when nil). A
	// page without LastEvaluatedKey is the segment's last. Every item of the
	// table is returned by exactly one segment, once, when the table is not
	// written to meanwhile. ScanPage is safe for concurrent use; each call
	// returns a page the caller owns and must Release.
	ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error)
}

// ScanInput names one page of a (parallel) Scan.
type ScanInput struct {
	Table string
	// Segment and TotalSegments split the table for a parallel scan;
	// TotalSegments 0 or 1 scans it whole.
	Segment, TotalSegments int
	// Limit caps the items evaluated for the page; 0 leaves it to the server
	// (1 MB of data).
	Limit int
	// ExclusiveStartKey is the previous page's LastEvaluatedKey, raw JSON.
	ExclusiveStartKey []byte
}

// ScanPage is one page of a Scan.
//
// Ownership: Items point into a buffer the page owns. They are valid until
// Release, which hands the buffer back to a pool for the next page; copy
// what must outlive it. LastEvaluatedKey is the page's own copy and stays
// valid after Release.
type ScanPage struct {
	// Items are the raw items, each a DynamoDB JSON object
	// ({"pk":{"S":"a"},...}).
	Items [][]byte
	// LastEvaluatedKey is where the next page starts; nil on the last page.
	LastEvaluatedKey []byte
	// Count and ScannedCount are the server's counts.
	Count, ScannedCount int
	// ConsumedCapacity is the read capacity units the page cost, 0 when the
	// server did not say.
	ConsumedCapacity float64
	// Bytes is the size of the response body.
	Bytes int

	mem *pageMem
	// release is NewScanPage's.
	release func()
}

// NewScanPage returns a page of items for a Scanner other than Client (an
// in-memory source, a test): its first Release calls release (if not
// nil), so that the source knows when the consumer is done with the page.
func NewScanPage(items [][]byte, lastEvaluatedKey []byte, release func()) *ScanPage {
	return &ScanPage{Items: items, LastEvaluatedKey: lastEvaluatedKey, Count: len(items), ScannedCount: len(items), release: release}
}

// Release returns the page's buffer to the pool; Items become invalid. It
// may be called more than once and on a nil page.
func (p *ScanPage) Release() {
	if p == nil {
		return
	}
	if f := p.release; f != nil {
		p.release = nil
		f()
	}
	if p.mem == nil {
		return
	}
	putMem(p.mem)
	p.mem = nil
	p.Items = nil
}

// ScanPage implements Scanner with one signed Scan request whose response is
// cut into raw items without decoding them.
func (c *Client) ScanPage(ctx context.Context, in ScanInput) (*ScanPage, error) {
	total := in.TotalSegments
	if total <= 1 {
		total = 0
	}
	if total > 0 && (in.Segment < 0 || in.Segment >= total) {
		return nil, fmt.Errorf("scan %s: segment %d out of range [0,%d)", in.Table, in.Segment, total)
	}
	body := ddbjson.AppendScanRequest(make([]byte, 0, 128+len(in.Table)+len(in.ExclusiveStartKey)),
		in.Table, in.Segment, total, in.Limit, in.ExclusiveStartKey)
	m := getMem()
	if err := c.post(ctx, targetScan, body, &m.body); err != nil {
		putMem(m)
		return nil, fmt.Errorf("scan %s segment %d: %w", in.Table, in.Segment, err)
	}
	if err := ddbjson.ParseScanResponseInto(&m.scan, m.body); err != nil {
		putMem(m)
		return nil, fmt.Errorf("scan %s segment %d: parse response: %w", in.Table, in.Segment, err)
	}
	r := &m.scan
	p := &ScanPage{
		Items:            r.Items,
		Count:            int(r.Count),
		ScannedCount:     int(r.ScannedCount),
		ConsumedCapacity: r.ConsumedCapacity,
		Bytes:            len(m.body),
		mem:              m,
	}
	if len(r.LastEvaluatedKey) > 0 {
		p.LastEvaluatedKey = append([]byte(nil), r.LastEvaluatedKey...)
	}
	return p, nil
}
