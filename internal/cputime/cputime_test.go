//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/llm-latency-lens/lens/internal/cputime"
)

// TestProcessGrows: the process's CPU time grows over a busy loop. The
// loop spins for 50ms of wall time; on a machine busy with other processes
// it may get only a share of a core, but never none.
func TestProcessGrows(t *testing.T) {
	before := cputime.Process()
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
	}
	if after := cputime.Process(); after <= before {
		t.Fatalf("CPU time did not grow over a 50ms busy loop: %v then %v", before, after)
	}
}
