//go:build unix

package engine_test

import "syscall"

// processCPU returns the CPU time (user + system) this process has used, in
// seconds, or 0 if unknown.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
