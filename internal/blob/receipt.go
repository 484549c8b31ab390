package blob

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Receipt is what a store reports of an object it has just stored.
type Receipt struct {
	// Size is the object's size in bytes.
	Size int64
	// MD5 is the hex MD5 of the object's bytes.
	MD5 string
	// ETag is the object's entity tag without its quotes: what a GET or
	// HEAD of the object answers, and what a reader sends in If-Match. For
	// an S3 store it is the ETag the server returned for the upload (the
	// hex MD5 for an object sent in one PutObject, "HEX-N" for one sent in
	// N parts). Stores that serve no ETags report the one S3 gives the
	// same bytes sent in one PutObject: the hex MD5.
	ETag string
}

// ReceiptPutter is the optional capability of stores that report what they
// stored; file, s3 and mem have it. Callers use PutWithReceipt, which works
// with any store.
type ReceiptPutter interface {
	// PutReceipt is Store.Put, with the same guarantees, that also returns
	// the stored object's Receipt. It reads r once: the store hashes the
	// bytes as they pass, so no caller needs to hash them again.
	PutReceipt(ctx context.Context, key string, r io.Reader) (Receipt, error)
}

// PutWithReceipt stores what r yields under key in s and returns the
// object's Receipt: the store's own if s is a ReceiptPutter, else one
// computed from the bytes Put read (ETag then the hex MD5, as for stores
// that serve no ETags).
func PutWithReceipt(ctx context.Context, s Store, key string, r io.Reader) (Receipt, error) {
	if rp, ok := s.(ReceiptPutter); ok {
		return rp.PutReceipt(ctx, key, r)
	}
	h := NewHashingReader(r)
	if err := s.Put(ctx, key, h); err != nil {
		return Receipt{}, err
	}
	return h.Receipt(), nil
}

// HashingReader passes a reader's bytes through, counting them and
// computing their MD5, for stores that report a Receipt.
type HashingReader struct {
	r   io.Reader
	md5 hash.Hash
	n   int64
}

// NewHashingReader returns a HashingReader over r.
func NewHashingReader(r io.Reader) *HashingReader {
	return &HashingReader{r: r, md5: md5.New()}
}

// Read implements io.Reader.
func (h *HashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.md5.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// Receipt returns the Receipt of the bytes read so far, with the ETag S3
// gives them sent in one PutObject.
func (h *HashingReader) Receipt() Receipt {
	sum := hex.EncodeToString(h.md5.Sum(nil))
	return Receipt{Size: h.n, MD5: sum, ETag: sum}
}

// MultipartETag returns the ETag S3 gives an object uploaded in parts whose
// MD5s, in part order, are partMD5s: the hex MD5 of the concatenated
// binary MD5s, "-", and the number of parts.
func MultipartETag(partMD5s [][]byte) string {
	h := md5.New()
	for _, p := range partMD5s {
		h.Write(p)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(partMD5s))
}

// CleanETag removes the quotes around an ETag as HTTP sends it.
func CleanETag(etag string) string {
	return strings.Trim(etag, `"`)
}

// Location is where a store keeps its objects, for readers outside cairn
// that address them by bucket and full key.
type Location struct {
	// Bucket is the S3 bucket; empty for stores that are not in one.
	Bucket string
	// Prefix is what the store puts before every key, without a trailing
	// '/'; empty for the bucket's root.
	Prefix string
}

// Key returns the full key, in the bucket, of the store's key key.
func (l Location) Key(key string) string {
	if l.Prefix == "" {
		return key
	}
	return l.Prefix + "/" + key
}

// Locator is the optional capability of stores whose objects are read by
// bucket and full key from outside cairn (S3). Wrappers forward it.
type Locator interface {
	// Location returns where the store keeps its objects. It is fixed for
	// the store's life.
	Location() Location
}

// LocationOf returns s's Location, or the zero Location (no bucket, no
// prefix: keys are the store's own) if s is not a Locator.
func LocationOf(s Store) Location {
	if l, ok := s.(Locator); ok {
		return l.Location()
	}
	return Location{}
}
