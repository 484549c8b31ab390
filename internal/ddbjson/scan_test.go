package ddbjson

import (
	"math/rand/v2"
	"testing"
)

// isSpecial is what specialBits flags, byte by byte.
func isSpecial(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }

// checkPlainRun checks the contract of plainRun (see plainRunGo): from i it
// moves only over plain bytes, and stops within 32 bytes of the first
// special byte or of the end.
func checkPlainRun(t *testing.T, name string, f func([]byte, int) int, b []byte, i int) {
	t.Helper()
	first := i
	for first < len(b) && !isSpecial(b[first]) {
		first++
	}
	r := f(b, i)
	if r < i || r > first || (first-r >= 32 && len(b)-r >= 32) {
		t.Fatalf("%s(%q, %d) = %d; the first special byte is at %d", name, b, i, r, first)
	}
}

func TestPlainRun(t *testing.T) {
	impls := map[string]func([]byte, int) int{"plainRun": plainRun, "plainRunGo": plainRunGo}
	// Every byte value at every position of a plain 80-byte run, from
	// every start.
	plain := make([]byte, 80)
	for k := range plain {
		plain[k] = 'a' + byte(k%26)
	}
	for name, f := range impls {
		for c := range 256 {
			for pos := range len(plain) {
				b := append([]byte(nil), plain...)
				b[pos] = byte(c)
				for i := range pos + 1 {
					checkPlainRun(t, name, f, b, i)
				}
			}
		}
		for n := range 70 { // all plain, every length and start
			for i := range n + 1 {
				checkPlainRun(t, name, f, plain[:n], i)
			}
		}
	}
	// Random runs with rare specials, and long ones.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(300))
		for k := range b {
			b[k] = ' ' + byte(rng.IntN(95))
			if rng.IntN(64) == 0 {
				b[k] = byte(rng.IntN(256))
			}
		}
		i := 0
		if len(b) > 0 {
			i = rng.IntN(len(b) + 1)
		}
		for name, f := range impls {
			checkPlainRun(t, name, f, b, i)
		}
	}
}

func FuzzPlainRun(f *testing.F) {
	f.Add([]byte(`"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP\"`), 1)
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef\x7f\x80"), 3)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		checkPlainRun(t, "plainRun", plainRun, b, i)
		checkPlainRun(t, "plainRunGo", plainRunGo, b, i)
	})
}
