//go:build !amd64

package ddbjson

// plainRun: see plainRunGo.
func plainRun(b []byte, i int) int { return plainRunGo(b, i) }
