package ddbjson

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/bits"
	"strings"
)

// The content checksum algorithms (see the package documentation). The
// algorithm of a checksum can be told from its Sum (ChecksumAlgorithmOf), so
// recovery points made with an earlier one can still be validated.
const (
	// ChecksumV1 sums SHA-256 digests of canonical forms. Its Sum is 64
	// hex digits.
	ChecksumV1 = "cairn-ddbjson-sha256-sum-v1"
	// ChecksumV2 sums XXH3-128 digests computed in one pass without a
	// canonical form. Its Sum is "xxh3-128:" and 32 hex digits.
	ChecksumV2 = "cairn-ddbjson-xxh3-sum-v2"
)

// ChecksumAlgorithm is the algorithm of the zero Checksum, the one new
// recovery points use.
const ChecksumAlgorithm = ChecksumV2

// v2Prefix starts every ChecksumV2 Sum.
const v2Prefix = "xxh3-128:"

// ChecksumAlgorithmOf returns the algorithm that made sum (a Checksum's Sum).
func ChecksumAlgorithmOf(sum string) (string, error) {
	isHex := func(s string, n int) bool {
		if len(s) != n {
			return false
		}
		_, err := hex.DecodeString(s)
		return err == nil && strings.ToLower(s) == s
	}
	switch {
	case isHex(sum, 64):
		return ChecksumV1, nil
	case strings.HasPrefix(sum, v2Prefix) && isHex(sum[len(v2Prefix):], 32):
		return ChecksumV2, nil
	}
	return "", fmt.Errorf("%q is not a content checksum of a known algorithm (%s or %s)", sum, ChecksumV1, ChecksumV2)
}

// Checksum is an order-independent checksum of a multiset of items: the sum
// of one digest per item (see the package documentation). The zero value is
// an empty checksum of ChecksumAlgorithm ready to use; NewChecksum makes one
// of another algorithm. A Checksum is not safe for concurrent use; give each
// scanner its own and Merge them.
type Checksum struct {
	v1  bool      // ChecksumV1 instead of ChecksumV2
	sum [4]uint64 // the sum, least significant limb first (v2 uses two)
	n   int64
	dg  *digester // v2
	// v1:
	c   *canon
	buf []byte
	h   hash.Hash // SHA-256, reused from item to item
	d   [32]byte  // digest scratch (a local would escape through h)
}

// NewChecksum returns an empty checksum of algorithm (ChecksumV1 or
// ChecksumV2; "" is ChecksumAlgorithm).
func NewChecksum(algorithm string) (Checksum, error) {
	switch algorithm {
	case "", ChecksumV2:
		return Checksum{}, nil
	case ChecksumV1:
		return Checksum{v1: true}, nil
	}
	return Checksum{}, fmt.Errorf("unknown content checksum algorithm %q", algorithm)
}

// Algorithm returns c's algorithm.
func (c *Checksum) Algorithm() string {
	if c.v1 {
		return ChecksumV1
	}
	return ChecksumV2
}

// checksumRefMin is the length from which Add hashes an S or B value
// straight from the input instead of copying it into the canonical form
// (see ref): long values are then read once by the scanner and once by
// SHA-256, and never copied or moved when members are sorted.
const checksumRefMin = 256

// Add validates item and adds it. An invalid item leaves c unchanged and
// gets the error ValidateItem gives.
func (c *Checksum) Add(item []byte) error {
	if c.v1 {
		return c.addV1(item)
	}
	if c.dg == nil {
		c.dg = new(digester)
	}
	h, err := c.dg.item(item)
	if err != nil {
		if verr := ValidateItem(item); verr != nil {
			return verr
		}
		return fmt.Errorf("%w: the v2 checksum rejects an item the validator accepts (a bug in cairn): %v", ErrInvalid, err)
	}
	var carry uint64
	c.sum[0], carry = bits.Add64(c.sum[0], h.Lo, 0)
	c.sum[1], _ = bits.Add64(c.sum[1], h.Hi, carry)
	c.n++
	return nil
}

func (c *Checksum) addV1(item []byte) error {
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

// Merge adds every item of other to c. Both must be of the same algorithm.
func (c *Checksum) Merge(other *Checksum) {
	if c.v1 != other.v1 {
		panic("ddbjson: Merge of checksums of different algorithms")
	}
	var carry uint64
	for k := range 4 {
		c.sum[k], carry = bits.Add64(c.sum[k], other.sum[k], carry)
	}
	if !c.v1 {
		c.sum[2], c.sum[3] = 0, 0 // v2 sums are modulo 2^128
	}
	c.n += other.n
}

// Count returns the number of items added (including those merged).
func (c *Checksum) Count() int64 { return c.n }

// Sum returns the checksum as text that names its algorithm: for ChecksumV2
// "xxh3-128:" and the 128-bit sum as 32 lower-case hex digits; for
// ChecksumV1 the 256-bit sum as 64 lower-case hex digits. Both are
// big-endian, and an empty checksum is all zeros. The count is not part of
// Sum; store Count beside it.
func (c *Checksum) Sum() string {
	var b [32]byte
	for k := range 4 {
		binary.BigEndian.PutUint64(b[24-8*k:], c.sum[k])
	}
	if c.v1 {
		return hex.EncodeToString(b[:])
	}
	return v2Prefix + hex.EncodeToString(b[16:])
}

// Equal reports whether c and other are of the same algorithm and hold the
// same sum and count.
func (c *Checksum) Equal(other *Checksum) bool {
	return c.v1 == other.v1 && c.sum == other.sum && c.n == other.n
}

// ChecksumOf returns the Checksum whose Sum is sum and whose Count is n: a
// checksum's partial state, as a checkpoint records it (Sum and Count), made
// whole again, so that more items can be added to it and other checksums
// merged into it. The algorithm is the one sum names (ChecksumAlgorithmOf).
func ChecksumOf(sum string, n int64) (Checksum, error) {
	alg, err := ChecksumAlgorithmOf(sum)
	if err != nil {
		return Checksum{}, err
	}
	if n < 0 {
		return Checksum{}, fmt.Errorf("checksum count %d is negative", n)
	}
	c, _ := NewChecksum(alg)
	hexText := strings.TrimPrefix(sum, v2Prefix)
	b, _ := hex.DecodeString(hexText) // checked by ChecksumAlgorithmOf
	var full [32]byte
	copy(full[32-len(b):], b)
	for k := range 4 {
		c.sum[k] = binary.BigEndian.Uint64(full[24-8*k:])
	}
	c.n = n
	return c, nil
}
