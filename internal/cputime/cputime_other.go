//go:build !unix

// Package cputime reads the CPU time the process has used, which the load
// of other processes on a shared machine moves far less than wall time:
// benchmarks report it beside wall time.
package cputime

import "time"

// Process returns 0: the process's CPU time is read on Unix systems only.
func Process() time.Duration { return 0 }
