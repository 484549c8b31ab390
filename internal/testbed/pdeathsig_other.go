//go:build !linux

package testbed

import "syscall"

// dieWithParent is a no-op where the kernel has no parent-death signal.
func dieWithParent(*syscall.SysProcAttr, syscall.Signal) {}
