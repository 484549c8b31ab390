//go:build !unix

package datadir

import (
	"fmt"
	"os"
	"runtime"
)

func tryLock(*os.File) (bool, error) {
	return false, fmt.Errorf("locking a data dir is not supported on %s", runtime.GOOS)
}
