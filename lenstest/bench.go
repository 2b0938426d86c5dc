// Package lenstest runs lens scenarios inside go test: Bench runs a scenario
// under a *testing.T or *testing.B, reports its numbers (b.ReportMetric for
// benchstat, t.Attr for JUnit properties) and returns a Result whose Assert
// methods fail the test when a percentile breaks its SLO.
package lenstest

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/verdict"
)

// Bench runs sc under tb and returns its result, bound to tb for assertions.
//
// Under *testing.B it runs b.N measured requests (so -benchtime=200x means
// 200 requests and -count=10 gives benchstat ten samples), with Warmup
// requests first and outside the benchmark timer, and reports with
// b.ReportMetric in units ending in -ns (ttft-p50-ns, ttft-p95-ns,
// itl-p99-ns, e2e-p95-ns, ...), plus tokens/s (mean per-request output
// tokens per second) and errors (the error rate, 0..1). Before the first
// benchmark line it prints "Unit <name> better=lower|higher" lines so that
// benchstat knows each metric's direction.
//
// Under *testing.T it runs sc.Requests (or sc.Duration) and records the
// headline numbers with t.Attr (lens.ttft.p95_ms=..., visible in -json
// output and in gotestsum's JUnit properties).
//
// A scenario that cannot run at all (invalid configuration) fails tb with
// Fatal. Failed requests do not fail the test by themselves: assert on them
// with AssertErrorRate.
func Bench(tb testing.TB, sc lens.Scenario) *Result {
	tb.Helper()
	ctx := tb.Context()
	b, isBench := tb.(*testing.B)
	// One client for the run and every top-up, so connections are reused.
	if sc.Client == nil {
		client := lens.NewClient(sc)
		tb.Cleanup(client.CloseIdleConnections)
		sc.Client = client
	}
	if isBench {
		printUnits()
		b.StopTimer()
		if sc.Warmup > 0 {
			warm := sc
			warm.Requests, warm.Duration, warm.Warmup = sc.Warmup, 0, 0
			warm.OnRequest = nil
			if _, err := lens.Run(ctx, warm); err != nil {
				tb.Fatalf("lenstest: warmup of scenario %s: %v", sc.Name, err)
			}
			sc.Warmup = 0
		}
		sc.Requests, sc.Duration = b.N, 0
		b.StartTimer()
	}
	defer watchLive(tb, &sc)()
	res, err := lens.Run(ctx, sc)
	if isBench {
		b.StopTimer()
	}
	if res == nil {
		tb.Fatalf("lenstest: %v", err)
		return nil
	}
	if err != nil {
		tb.Errorf("lenstest: %v", err)
	}
	// Under a benchmark b.N fixes the request count: no top-ups.
	var more verdict.More
	budget := int64(sc.MaxRequests)
	if !isBench && err == nil {
		more = verdict.TopUp(sc)
	} else {
		budget = 0
	}
	r := newResult(tb, res, verdict.Plan{MaxRequests: budget, MinBatch: verdict.MinBatch(sc)}, more)
	appendHistory(tb, r)
	if isBench {
		reportMetrics(b, res)
	} else {
		recordAttrs(tb, res)
		tb.Logf("lenstest: %s", res)
	}
	return r
}

var unitsOnce sync.Once

// printUnits writes the benchfmt unit metadata lines once per process. The
// first call happens in a benchmark's first (b.N == 1) run, before the
// testing package prints that benchmark's name, so the lines stand alone.
func printUnits() {
	unitsOnce.Do(func() {
		for _, u := range lens.BenchUnits {
			fmt.Fprintf(os.Stdout, "Unit %s better=%s\n", u.Unit, u.Better)
		}
	})
}

func reportMetrics(b *testing.B, r *lens.Result) {
	for _, u := range lens.BenchUnits {
		b.ReportMetric(u.Value(r), u.Unit)
	}
}

// recordAttrs records the headline numbers of r as test attributes.
func recordAttrs(tb testing.TB, r *lens.Result) {
	a := tb
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	a.Attr("lens.scenario", attrValue(r.Scenario))
	a.Attr("lens.provider", attrValue(r.Provider))
	a.Attr("lens.model", attrValue(r.Model))
	a.Attr("lens.requests", strconv.FormatInt(r.Total, 10))
	a.Attr("lens.failed", strconv.FormatInt(r.Failed, 10))
	a.Attr("lens.error_rate", strconv.FormatFloat(r.ErrorRate(), 'f', 4, 64))
	for _, m := range []lens.Metric{lens.MetricTTFT, lens.MetricITL, lens.MetricTPOT, lens.MetricE2E} {
		l := r.Latency(m)
		if l.Count() == 0 {
			continue
		}
		for _, p := range []float64{50, 95, 99} {
			a.Attr(fmt.Sprintf("lens.%s.p%g_ms", string(m), p), ms(l.Percentile(p)))
		}
	}
	a.Attr("lens.tokens_per_s", strconv.FormatFloat(r.TokensPerSecond.Mean(), 'f', 2, 64))
	a.Attr("lens.rps", strconv.FormatFloat(r.RequestsPerSecond(), 'f', 2, 64))
}

// attrValue makes s a legal attribute value (no newlines, not empty).
func attrValue(s string) string {
	if s == "" {
		return "-"
	}
	out := []rune(s)
	for i, c := range out {
		if c == '\n' || c == '\r' {
			out[i] = ' '
		}
	}
	return string(out)
}
