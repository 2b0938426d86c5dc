package report_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/stats"
)

// shard makes the result of one machine: n requests whose TTFT runs from
// base in steps of 1ms.
func shard(base time.Duration, n int) *lens.Result {
	r := &lens.Result{
		Scenario: "chat", Provider: "openai", Model: "gpt-4o-mini", Concurrency: 8,
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Elapsed: 10 * time.Second,
		TTFT: stats.NewLatency(), E2E: stats.NewLatency(),
	}
	for i := range n {
		r.TTFT.Record(base + time.Duration(i)*time.Millisecond)
		r.E2E.Record(base + 100*time.Millisecond)
	}
	r.Total, r.Succeeded, r.Attempts = int64(n), int64(n), int64(n)
	return r
}

// Two machines ran the same scenario as shards 0/2 and 1/2; their result
// files merge into the result of all the requests, percentiles recomputed
// from the merged histograms.
func ExampleMerge() {
	a, err := report.FromResults([]*lens.Result{shard(100*time.Millisecond, 100)}, report.Metadata{ShardCount: 2, ShardIndexes: []int{0}})
	if err != nil {
		log.Fatal(err)
	}
	b, err := report.FromResults([]*lens.Result{shard(200*time.Millisecond, 100)}, report.Metadata{ShardCount: 2, ShardIndexes: []int{1}})
	if err != nil {
		log.Fatal(err)
	}
	all, err := report.Merge(a, b)
	if err != nil {
		log.Fatal(err)
	}
	m := all.Scenarios[0].Results[0].Metrics
	fmt.Println("requests:", m.TotalRequests, "shards:", all.Metadata.Shards)
	fmt.Printf("TTFT p50 %.0fms, p99 %.0fms\n", m.Latency.TTFT.Median, m.Latency.TTFT.P99)
	// Output:
	// requests: 200 shards: 2
	// TTFT p50 199ms, p99 297ms
}

// The same scenario, 30% slower: Compare finds the regression.
func ExampleCompare() {
	old, _ := report.FromResults([]*lens.Result{shard(100*time.Millisecond, 400)}, report.Metadata{})
	slower := shard(130*time.Millisecond, 400)
	new, _ := report.FromResults([]*lens.Result{slower}, report.Metadata{})
	c := report.Compare(old, new, report.CompareOptions{})
	for _, d := range c.Regressions() {
		fmt.Println(d)
	}
	fmt.Println("regressed:", c.Regressed())
	// Output:
	// chat openai/gpt-4o-mini TTFT p50: 299.1ms → 329.3ms (+10.1%, p=0.035) REGRESSION
	// chat openai/gpt-4o-mini TTFT p95: 479.2ms → 509.1ms (+6.2%, p<0.001) REGRESSION
	// chat openai/gpt-4o-mini TTFT p99: 495.2ms → 525.1ms (+6.0%, p<0.001) REGRESSION
	// chat openai/gpt-4o-mini E2E p50: 200.0ms → 230.0ms (+15.0%, p<0.001) REGRESSION
	// chat openai/gpt-4o-mini E2E p95: 200.0ms → 230.0ms (+15.0%, p<0.001) REGRESSION
	// chat openai/gpt-4o-mini E2E p99: 200.0ms → 230.0ms (+15.0%, p<0.001) REGRESSION
	// regressed: true
}

// Result files as benchstat input: write both in the benchmark format and
// run benchstat old.txt new.txt.
func ExampleWriteBenchfmt() {
	f, _ := report.FromResults([]*lens.Result{shard(100*time.Millisecond, 10)}, report.Metadata{
		SystemInfo: report.SystemInfo{OS: "linux", Arch: "amd64"},
	})
	report.WriteBenchfmt(os.Stdout, f)
	// Output:
	// goos: linux
	// goarch: amd64
	// Unit ttft-p50-ns better=lower
	// Unit ttft-p90-ns better=lower
	// Unit ttft-p95-ns better=lower
	// Unit ttft-p99-ns better=lower
	// Unit itl-p50-ns better=lower
	// Unit itl-p99-ns better=lower
	// Unit tpot-p50-ns better=lower
	// Unit tpot-p99-ns better=lower
	// Unit e2e-p50-ns better=lower
	// Unit e2e-p95-ns better=lower
	// Unit e2e-p99-ns better=lower
	// Unit ttfb-p50-ns better=lower
	// Unit tokens/s better=higher
	// Unit errors better=lower
	// BenchmarkChat/provider=openai/model=gpt-4o-mini 10 104005631 ttft-p50-ns 108003327 ttft-p90-ns 109051903 ttft-p95-ns 109051903 ttft-p99-ns 0 itl-p50-ns 0 itl-p99-ns 0 tpot-p50-ns 0 tpot-p99-ns 200015871 e2e-p50-ns 200015871 e2e-p95-ns 200015871 e2e-p99-ns 0 ttfb-p50-ns 0 tokens/s 0 errors
}

// FromResults turns the engine's results into a result file, which
// WriteJSON writes and Decode reads back; WriteMinimal prints one line per
// result.
func ExampleFromResults() {
	f, err := report.FromResults([]*lens.Result{shard(100*time.Millisecond, 100)}, report.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, f, false); err != nil {
		log.Fatal(err)
	}
	back, err := report.Decode(&buf)
	if err != nil {
		log.Fatal(err)
	}
	r := back.Scenarios[0].Results[0]
	fmt.Printf("%s %s/%s: %d requests, TTFT p99 %.0fms\n", back.Scenarios[0].Name, r.Provider, r.Model,
		r.Metrics.TotalRequests, r.Metrics.Latency.TTFT.P99)
	if err := report.WriteMinimal(os.Stdout, back); err != nil {
		log.Fatal(err)
	}
	// Output:
	// chat openai/gpt-4o-mini: 100 requests, TTFT p99 198ms
	// chat openai/gpt-4o-mini: 100 requests, 0 failed; TTFT p50 149.0ms p95 194.1ms; E2E p50 200.0ms; 0.0 tokens/s
}
