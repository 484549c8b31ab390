//go:build !unix

package ddbjson

func processCPU() float64 { return 0 }
