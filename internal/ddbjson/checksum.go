package ddbjson

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/bits"
)

// ChecksumAlgorithm names the algorithm of Checksum.Sum. It is stored with
// recovery points so that a future algorithm can be told apart.
const ChecksumAlgorithm = "cairn-ddbjson-sha256-sum-v1"

// Checksum is an order-independent checksum of a multiset of items: the sum
// modulo 2^256 of SHA-256(canonical form) over the items added (see the
// package documentation). The zero value is an empty checksum ready to use.
// A Checksum is not safe for concurrent use; give each scanner its own and
// Merge them.
type Checksum struct {
	sum [4]uint64 // the 256-bit sum, least significant limb first
	n   int64
	c   *canon
	buf []byte
	h   hash.Hash // SHA-256, reused from item to item
	d   [32]byte  // digest scratch (a local would escape through h)
}

// checksumRefMin is the length from which Add hashes an S or B value
// straight from the input instead of copying it into the canonical form
// (see ref): long values are then read once by the scanner and once by
// SHA-256, and never copied or moved when members are sorted.
const checksumRefMin = 256

// Add validates item and adds it. An invalid item leaves c unchanged.
func (c *Checksum) Add(item []byte) error {
	if c.c == nil {
		c.c = &canon{refMin: checksumRefMin}
	}
	var err error
	c.buf, err = c.c.appendCanonical(c.buf[:0], item)
	if err != nil {
		return err
	}
	refs := c.c.refs
	if len(refs) == 0 {
		c.addDigest(sha256.Sum256(c.buf))
		return nil
	}
	// The canonical form is c.buf with the referenced input spliced in.
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Reset()
	prev := 0
	for _, r := range refs {
		c.h.Write(c.buf[prev:r.pos])
		c.h.Write(item[r.start:r.end])
		prev = r.pos
	}
	c.h.Write(c.buf[prev:])
	c.h.Sum(c.d[:0])
	c.addDigest(c.d)
	return nil
}

func (c *Checksum) addDigest(d [32]byte) {
	var carry uint64
	for k := range 4 { // digest is big-endian: its last 8 bytes are limb 0
		v := binary.BigEndian.Uint64(d[24-8*k:])
		c.sum[k], carry = bits.Add64(c.sum[k], v, carry)
	}
	c.n++
}

// Merge adds every item of other to c.
func (c *Checksum) Merge(other *Checksum) {
	var carry uint64
	for k := range 4 {
		c.sum[k], carry = bits.Add64(c.sum[k], other.sum[k], carry)
	}
	c.n += other.n
}

// Count returns the number of items added (including those merged).
func (c *Checksum) Count() int64 { return c.n }

// Sum returns the checksum as 64 lower-case hex digits: the 256-bit sum,
// big-endian. An empty checksum is 64 zeros. The count is not part of Sum;
// store Count beside it.
func (c *Checksum) Sum() string {
	var b [32]byte
	for k := range 4 {
		binary.BigEndian.PutUint64(b[24-8*k:], c.sum[k])
	}
	return hex.EncodeToString(b[:])
}

// Equal reports whether c and other hold the same sum and count.
func (c *Checksum) Equal(other *Checksum) bool { return c.sum == other.sum && c.n == other.n }
