//go:build unix

package sqlite_test

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// killSelf ends the process as a crash would.
func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// killedBySignal reports whether the child ended by SIGKILL.
func killedBySignal(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
