package stats_test

import (
	"fmt"
	"time"

	"github.com/llm-latency-lens/lens/stats"
)

func ExampleLatency() {
	// One Latency per worker, merged at the end.
	workers := []*stats.Latency{stats.NewLatency(), stats.NewLatency()}
	for i := 1; i <= 1000; i++ {
		workers[i%2].Record(time.Duration(i) * time.Millisecond)
	}
	ttft := stats.NewLatency()
	for _, w := range workers {
		if err := ttft.Merge(w); err != nil {
			panic(err)
		}
	}
	s := ttft.Summary()
	fmt.Println("n:", s.Count)
	fmt.Println("p50:", s.Median.Round(time.Millisecond))
	fmt.Println("p99:", s.P99.Round(time.Millisecond))
	// Output:
	// n: 1000
	// p50: 500ms
	// p99: 990ms
}

func ExampleLatency_PercentileInterval() {
	ttft := stats.NewLatency()
	for i := 1; i <= 400; i++ {
		ttft.Record(time.Duration(400+i/2) * time.Millisecond)
	}
	const limit = 500 * time.Millisecond
	for _, p := range []float64{95, 99.9} {
		iv := ttft.PercentileInterval(p, 0.95)
		switch {
		case !iv.Bounded:
			fmt.Printf("n=%d is too few for a bounded p%v; needs at least %d (95%% CI %v)\n",
				iv.N, p, stats.MinSamples(p, 0.95), iv.String())
		case iv.Estimate >= limit:
			fmt.Printf("p%v TTFT %v (95%% CI %v, n=%d) exceeds %v\n",
				p, iv.Estimate.Round(time.Millisecond), iv.String(), iv.N, limit)
		}
	}
	// Output:
	// p95 TTFT 590ms (95% CI 585.6ms..594.1ms, n=400) exceeds 500ms
	// n=400 is too few for a bounded p99.9; needs at least 2995 (95% CI >= 598.7ms)
}

func ExampleMinSamples() {
	for _, p := range []float64{50, 90, 95, 99, 99.9} {
		fmt.Printf("p%v: %d\n", p, stats.MinSamples(p, 0.95))
	}
	// Output:
	// p50: 6
	// p90: 29
	// p95: 59
	// p99: 299
	// p99.9: 2995
}

func ExampleRankInterval() {
	lo, hi, achieved, ok := stats.RankInterval(10, 50, 0.95)
	fmt.Printf("the median of 10 samples lies between the %d-th and the %d-th smallest with probability %.4f (bounded: %v)\n", lo, hi, achieved, ok)
	// Output:
	// the median of 10 samples lies between the 2-th and the 9-th smallest with probability 0.9785 (bounded: true)
}
