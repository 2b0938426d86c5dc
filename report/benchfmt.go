package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// benchUnit is one metric of the benchmark format, as lenstest reports it
// under testing.B.
type benchUnit struct {
	unit   string
	better string // "lower" or "higher"
	value  func(*Metrics) (float64, bool)
}

func pctNs(dist func(*Metrics) *Distribution, pick func(*Distribution) float64) func(*Metrics) (float64, bool) {
	return func(m *Metrics) (float64, bool) {
		d := dist(m)
		if d == nil {
			return 0, false
		}
		return math.Round(pick(d) * 1e6), true
	}
}

var (
	ttftDist = func(m *Metrics) *Distribution { return m.Latency.TTFT }
	itlDist  = func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }
	tpotDist = func(m *Metrics) *Distribution { return m.Latency.TPOT }
	e2eDist  = func(m *Metrics) *Distribution { return m.Latency.TotalDuration }
	ttfbDist = func(m *Metrics) *Distribution { return m.Latency.TTFB }
	p50      = func(d *Distribution) float64 { return d.Median }
	p90      = func(d *Distribution) float64 { return d.P90 }
	p95      = func(d *Distribution) float64 { return d.P95 }
	p99      = func(d *Distribution) float64 { return d.P99 }
)

// benchUnits are the metrics of lenstest.Bench, in its order, with the same
// units, directions and definitions.
var benchUnits = []benchUnit{
	{"ttft-p50-ns", "lower", pctNs(ttftDist, p50)},
	{"ttft-p90-ns", "lower", pctNs(ttftDist, p90)},
	{"ttft-p95-ns", "lower", pctNs(ttftDist, p95)},
	{"ttft-p99-ns", "lower", pctNs(ttftDist, p99)},
	{"itl-p50-ns", "lower", pctNs(itlDist, p50)},
	{"itl-p99-ns", "lower", pctNs(itlDist, p99)},
	{"tpot-p50-ns", "lower", pctNs(tpotDist, p50)},
	{"tpot-p99-ns", "lower", pctNs(tpotDist, p99)},
	{"e2e-p50-ns", "lower", pctNs(e2eDist, p50)},
	{"e2e-p95-ns", "lower", pctNs(e2eDist, p95)},
	{"e2e-p99-ns", "lower", pctNs(e2eDist, p99)},
	{"ttfb-p50-ns", "lower", pctNs(ttfbDist, p50)},
	{"tokens/s", "higher", func(m *Metrics) (float64, bool) { return m.TokenStats.MeanTokensPerSecond, true }},
	{"errors", "lower", func(m *Metrics) (float64, bool) { return m.ErrorRate(), true }},
}

// WriteBenchfmt writes f in the Go benchmark format that benchstat reads,
// so that two result files compare as two benchmark runs:
//
//	goos: linux
//	goarch: amd64
//	Unit ttft-p50-ns better=lower
//	...
//	BenchmarkChat/provider=openai/model=gpt-4o-mini 200 79757311 ttft-p50-ns ... 105.04 tokens/s 0 errors
//
// There is one line per result: the name is "Benchmark" + the scenario name
// (first letter upper-cased) + "/provider=<p>/model=<m>", the iteration
// count is the number of requests, and the metrics are those lenstest.Bench
// reports under testing.B, with the same units and "Unit <unit>
// better=lower|higher" lines: ttft-p50/p90/p95/p99-ns, itl-p50/p99-ns,
// tpot-p50/p99-ns, e2e-p50/p95/p99-ns, ttfb-p50-ns (nanoseconds, from the
// histograms), tokens/s (mean per-request output tokens per second) and
// errors (the error rate, 0..1). Spaces and slashes inside names become
// underscores, '=' in values a hyphen, so the name keys parse.
func WriteBenchfmt(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	if si := f.Metadata.SystemInfo; si.OS != "" {
		fmt.Fprintf(bw, "goos: %s\n", si.OS)
		fmt.Fprintf(bw, "goarch: %s\n", si.Arch)
	}
	for _, u := range benchUnits {
		fmt.Fprintf(bw, "Unit %s better=%s\n", u.unit, u.better)
	}
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			fmt.Fprintf(bw, "%s %d", BenchmarkName(sc.Name, r.Provider, r.Model), r.Metrics.TotalRequests)
			for _, u := range benchUnits {
				v, ok := u.value(&r.Metrics)
				if !ok {
					continue
				}
				fmt.Fprintf(bw, " %s %s", strconv.FormatFloat(v, 'f', -1, 64), u.unit)
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}

// BenchmarkName is the benchmark name WriteBenchfmt gives a result:
// "Benchmark<Scenario>/provider=<provider>/model=<model>".
func BenchmarkName(scenario, provider, model string) string {
	s := benchPart(scenario)
	if r, n := utf8.DecodeRuneInString(s); n > 0 {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	return "Benchmark" + s + "/provider=" + benchValue(provider) + "/model=" + benchValue(model)
}

// benchPart makes s one part of a benchmark name: no spaces, no slashes.
func benchPart(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '/' || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, s)
}

func benchValue(s string) string { return strings.ReplaceAll(benchPart(s), "=", "-") }
