package ddbjson

// plainRunSSE2 is plainRun in assembly (scan_amd64.s): it compares 32 bytes
// at a time with '"', '\\' and (signed) 0x20, which flags control
// characters and every byte >= 0x80 at once, and returns the index of the
// first flagged byte, or the index of the first 16-byte block that does not
// fit in b.
//
//go:noescape
func plainRunSSE2(b []byte, i int) int

// plainRun: see plainRunGo.
func plainRun(b []byte, i int) int { return plainRunSSE2(b, i) }
