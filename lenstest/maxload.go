package lenstest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	resultfile "github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/verdict"
)

// Capacity is the outcome of MaxLoad: the capacity search's result, bound to
// the test for assertions.
type Capacity struct {
	*capacity.Result
	tb testing.TB
}

// MaxLoad finds the highest load of sc at which every gate holds: the
// arrival rate when sc sets a Rate (open loop), else the number of users
// (closed loop), from sc's Rate or Concurrency upward, with the defaults
// of capacity.Search (loads doubled while every gate holds, then bisected
// to 5%; each load judged by a sequential verdict on sc.Requests requests,
// or 100, within a budget of sc.MaxRequests, or ten times that). See
// package capacity for the search, and MaxLoadSearch to set it.
//
// It logs the curve (each load's verdicts, sent rate, goodput, tokens/s and
// requests) and records the capacity with t.Attr (lens.capacity,
// lens.capacity_unit, lens.capacity_limit, lens.capacity_requests); under a
// benchmark it reports the capacity with b.ReportMetric in "max-users" or
// "max-req/s". A search that cannot run (invalid gates or scenario, a step
// that fails to run) fails tb with Fatal. A low capacity does not fail the
// test by itself: assert on it with AssertAtLeast.
func MaxLoad(tb testing.TB, sc lens.Scenario, gates ...verdict.Gate) *Capacity {
	tb.Helper()
	return MaxLoadSearch(tb, sc, capacity.Search{}, gates...)
}

// MaxLoadSearch is MaxLoad with the search's settings: its mode, bounds,
// growth, resolution and per-load requests and budget.
func MaxLoadSearch(tb testing.TB, sc lens.Scenario, s capacity.Search, gates ...verdict.Gate) *Capacity {
	tb.Helper()
	r, err := capacity.Find(tb.Context(), sc, s, gates...)
	if err != nil {
		tb.Fatalf("lenstest: capacity search of scenario %s: %v", sc.Name, err)
		return nil
	}
	if sw, err := resultfile.SweepOf(r); err == nil {
		var b strings.Builder
		if err := resultfile.WriteSweepTable(&b, sw); err == nil {
			tb.Logf("lenstest: capacity search of scenario %s:\n%s", sc.Name, b.String())
		}
	}
	unit := r.Mode.Unit()
	tb.Attr("lens.capacity", strconv.FormatFloat(r.Capacity, 'g', 6, 64))
	tb.Attr("lens.capacity_unit", unit)
	tb.Attr("lens.capacity_limit", string(r.Limit))
	tb.Attr("lens.capacity_requests", strconv.FormatInt(r.Requests, 10))
	if b, ok := tb.(*testing.B); ok {
		b.ReportMetric(r.Capacity, "max-"+unit)
	}
	return &Capacity{Result: r, tb: tb}
}

// AssertAtLeast fails the test unless the capacity found is at least min
// (requests per second or users), saying what the search found and what
// bounded it. It returns whether the capacity is enough.
func (c *Capacity) AssertAtLeast(min float64) bool {
	c.tb.Helper()
	if c.Capacity >= min {
		return true
	}
	c.tb.Errorf("lenstest: capacity %s %s, want at least %s\n\t%s",
		strconv.FormatFloat(c.Capacity, 'g', 6, 64), c.Mode.Unit(), strconv.FormatFloat(min, 'g', 6, 64), c.String())
	return false
}
