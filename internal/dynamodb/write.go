package dynamodb

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/ddbjson"
)

// MaxBatchItems is BatchWriteItem's limit of items per request.
const MaxBatchItems = 25

// Writer writes items into a table. It is what a restore consumes; *Client
// implements it and the wrappers of this package decorate it.
type Writer interface {
	// BatchWrite puts at most MaxBatchItems raw items (DynamoDB JSON objects)
	// into table with one BatchWriteItem request. Items the server did not
	// process are returned, in memory the caller owns, to be sent again;
	// consumed is the write capacity units used (0 when the server did not
	// say). A put replaces an item with the same key, so sending an item
	// twice is harmless. BatchWrite is safe for concurrent use and does not
	// keep or modify items after it returns.
	BatchWrite(ctx context.Context, table string, items [][]byte) (unprocessed [][]byte, consumed float64, err error)
}

// BatchWrite implements Writer with one signed BatchWriteItem request.
func (c *Client) BatchWrite(ctx context.Context, table string, items [][]byte) ([][]byte, float64, error) {
	if len(items) == 0 {
		return nil, 0, nil
	}
	if len(items) > MaxBatchItems {
		return nil, 0, fmt.Errorf("batch write %s: %d items, at most %d per request", table, len(items), MaxBatchItems)
	}
	n := 64 + len(table)
	for _, it := range items {
		n += len(it) + 32
	}
	body := ddbjson.AppendBatchWriteRequest(make([]byte, 0, n), table, items)
	m := getMem()
	defer putMem(m)
	if err := c.post(ctx, targetBatchWriteItem, body, &m.body); err != nil {
		return nil, 0, fmt.Errorf("batch write %s: %w", table, err)
	}
	unprocessed, consumed, err := ddbjson.ParseBatchWriteResponse(m.body)
	if err != nil {
		return nil, 0, fmt.Errorf("batch write %s: parse response: %w", table, err)
	}
	// The unprocessed items point into m.body, which goes back to the pool.
	for i, it := range unprocessed {
		unprocessed[i] = append([]byte(nil), it...)
	}
	return unprocessed, consumed, nil
}
