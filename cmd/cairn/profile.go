//go:build cairnprof

// The profiling build of cairn (go build -tags cairnprof ./cmd/cairn), used
// by bench/ to profile a running `cairn server` during one job. Ordinary
// builds do not contain this file.
//
// With CAIRN_CPUPROFILE=FILE in the environment, the first SIGUSR1 starts a
// CPU profile and the second stops it and writes FILE (through FILE.tmp, so
// FILE appears complete or not at all); the next pair writes FILE again.
// FILE.allocs-start and FILE.allocs are the allocation profiles at the two
// signals (go tool pprof -sample_index=alloc_space -diff_base
// FILE.allocs-start FILE.allocs shows what was allocated in between);
// they are written before FILE.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("CAIRN_CPUPROFILE")
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			writeAllocs(path + ".allocs-start")
			f, err := os.Create(path + ".tmp")
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "cairn: cpu profile:", err)
				continue
			}
			<-sig
			pprof.StopCPUProfile()
			writeAllocs(path + ".allocs")
			if err := f.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "cairn: cpu profile:", err)
				continue
			}
			if err := os.Rename(path+".tmp", path); err != nil {
				fmt.Fprintln(os.Stderr, "cairn: cpu profile:", err)
			}
		}
	}()
}

func writeAllocs(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn: allocation profile:", err)
	}
}
