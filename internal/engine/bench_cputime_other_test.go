//go:build !unix

package engine_test

func processCPU() float64 { return 0 }
