//go:build !linux

package file

import "os"

// startWriteback and dropCached are hints that only Linux gets.
func startWriteback(*os.File, int64, int64) {}
func dropCached(*os.File, int64, int64)     {}
