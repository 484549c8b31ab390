package testbed

import "syscall"

// dieWithParent has the kernel send sig to the child when the test process
// dies (a timeout's panic, a kill), so that a server the test's cleanup
// never stopped does not live on.
func dieWithParent(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }
