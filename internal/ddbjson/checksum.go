package ddbjson

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
}

// Add validates item and adds it. An invalid item leaves c unchanged.
func (c *Checksum) Add(item []byte) error {
	if c.c == nil {
		c.c = new(canon)
	}
	var err error
	c.buf, err = c.c.appendCanonical(c.buf[:0], item)
	if err != nil {
		return err
	}
	c.addDigest(sha256.Sum256(c.buf))
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
