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

	"github.com/llm-latency-lens/lens"
)

// unitValue returns u's number in m, and false when m has no such
// distribution.
func unitValue(u lens.BenchUnit, m *Metrics) (float64, bool) {
	switch u.Unit {
	case "tokens/s":
		return m.TokenStats.MeanTokensPerSecond, true
	case "errors":
		return m.ErrorRate(), true
	}
	d := m.Distribution(u.Metric)
	if d == nil {
		return 0, false
	}
	ms, ok := map[float64]float64{50: d.Median, 90: d.P90, 95: d.P95, 99: d.P99, 99.9: d.P999}[u.Percentile]
	return math.Round(ms * 1e6), ok
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
// reports under testing.B: lens.BenchUnits, with their "Unit <unit>
// better=lower|higher" lines (latencies in nanoseconds, from the
// histograms). Spaces and slashes inside names become
// underscores, '=' in values a hyphen, so the name keys parse.
func WriteBenchfmt(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	if si := f.Metadata.SystemInfo; si.OS != "" {
		fmt.Fprintf(bw, "goos: %s\n", si.OS)
		fmt.Fprintf(bw, "goarch: %s\n", si.Arch)
	}
	for _, u := range lens.BenchUnits {
		fmt.Fprintf(bw, "Unit %s better=%s\n", u.Unit, u.Better)
	}
	// Each SLO gate is a metric of its own: 1 when it holds, 0 when not.
	seen := map[string]bool{}
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			for _, g := range r.Gates {
				if u := gateUnit(g); !seen[u] {
					seen[u] = true
					fmt.Fprintf(bw, "Unit %s better=higher\n", u)
				}
			}
		}
	}
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			fmt.Fprintf(bw, "%s %d", BenchmarkName(sc.Name, r.Provider, r.Model), r.Metrics.TotalRequests)
			for _, u := range lens.BenchUnits {
				v, ok := unitValue(u, &r.Metrics)
				if !ok {
					continue
				}
				fmt.Fprintf(bw, " %s %s", strconv.FormatFloat(v, 'f', -1, 64), u.Unit)
			}
			for _, g := range r.Gates {
				holds := 0
				if g.Holds {
					holds = 1
				}
				fmt.Fprintf(bw, " %d %s", holds, gateUnit(g))
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

// gateUnit is the benchmark unit of a gate: "gate-ttft_p95-holds".
func gateUnit(g Gate) string { return "gate-" + benchPart(g.Name) + "-holds" }
