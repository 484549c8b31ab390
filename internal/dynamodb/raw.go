package dynamodb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/ddbjson"
)

const (
	targetScan           = "DynamoDB_20120810.Scan"
	targetBatchWriteItem = "DynamoDB_20120810.BatchWriteItem"
	contentType          = "application/x-amz-json-1.0"
	signingService       = "dynamodb"
)

// A page of Scan is at most 1 MB of item data; its JSON is somewhat larger.
// Buffers that grew past maxPooledBuffer are left to the garbage collector.
const (
	initialBuffer   = 64 << 10
	maxPooledBuffer = 8 << 20
)

// pageMem is the memory of one response: its body, and the item slices cut
// from it. Both are reused through memPool.
type pageMem struct {
	body []byte
	scan ddbjson.ScanResponse
}

var memPool = sync.Pool{New: func() any { return &pageMem{body: make([]byte, 0, initialBuffer)} }}

func getMem() *pageMem { return memPool.Get().(*pageMem) }

func putMem(m *pageMem) {
	if m == nil || cap(m.body) > maxPooledBuffer {
		return
	}
	m.body = m.body[:0]
	clear(m.scan.Items) // drop references into the old body
	m.scan.Items = m.scan.Items[:0]
	m.scan.LastEvaluatedKey = nil
	memPool.Put(m)
}

// post sends one JSON protocol request and reads a 2xx response's body into
// *out (resized, reusing its capacity). A non-2xx answer is returned as an
// *APIError; network failures are returned as they come from the HTTP client.
func (c *Client) post(ctx context.Context, target string, body []byte, out *[]byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h["Content-Type"] = []string{contentType}
	h["X-Amz-Target"] = []string{target}
	// Plain bodies: the CRC32 DynamoDB sends is of the bytes on the wire, and
	// the Go transport's transparent gzip would hide them.
	h["Accept-Encoding"] = []string{"identity"}
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return fmt.Errorf("retrieve credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingService, c.region, time.Now()); err != nil {
			return fmt.Errorf("sign request: %w", err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf, err := readAll(resp.Body, resp.ContentLength, (*out)[:0])
	*out = buf
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return parseErrorBody(resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), buf)
	}
	if v := resp.Header.Get("X-Amz-Crc32"); v != "" {
		want, perr := strconv.ParseUint(v, 10, 32)
		if perr == nil && uint32(want) != crc32.ChecksumIEEE(buf) {
			return errChecksum
		}
	}
	return nil
}

// readAll appends r's content to dst, growing it at most once when the
// length is known.
func readAll(r io.Reader, n int64, dst []byte) ([]byte, error) {
	if n > 0 && int64(cap(dst)-len(dst)) <= n { // room for n bytes and the EOF read
		nb := make([]byte, len(dst), len(dst)+int(n)+512)
		copy(nb, dst)
		dst = nb
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		if err == io.EOF {
			if n > 0 && int64(len(dst)) < n {
				return dst, io.ErrUnexpectedEOF
			}
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
