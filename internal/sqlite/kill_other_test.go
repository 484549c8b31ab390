//go:build !unix

package sqlite_test

import (
	"errors"
	"os"
	"os/exec"
)

// killSelf ends the process at once, without deferred calls or Close.
func killSelf() { os.Exit(137) }

func killedBySignal(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 137
}
