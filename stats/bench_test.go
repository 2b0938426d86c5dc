package stats_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/llm-latency-lens/lens/stats"
)

// benchLatency returns a Latency holding n lognormal durations.
func benchLatency(n int, seed uint64) *stats.Latency {
	l := stats.NewLatency()
	for _, d := range latencySamples("lognormal", n, rand.New(rand.NewPCG(seed, seed))) {
		l.Record(d)
	}
	return l
}

func BenchmarkLatencyRecord(b *testing.B) {
	ds := latencySamples("lognormal", 1<<12, rand.New(rand.NewPCG(1, 1)))
	l := stats.NewLatency()
	l.Record(0) // allocate the histogram outside the loop
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Record(ds[i&(len(ds)-1)])
		i++
	}
}

func BenchmarkValuesRecord(b *testing.B) {
	xs := valueSamples("tokens/s uniform", 1<<12, rand.New(rand.NewPCG(1, 1)))
	v := stats.NewValues()
	v.Record(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v.Record(xs[i&(len(xs)-1)])
		i++
	}
}

func BenchmarkLatencyPercentile(b *testing.B) {
	l := benchLatency(1_000_000, 2)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Percentile(99)
	}
}

func BenchmarkLatencySummary(b *testing.B) {
	l := benchLatency(1_000_000, 2)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Summary()
	}
}

// Merging one worker's histogram into the total: the cost of the end of a
// run, per worker.
func BenchmarkLatencyMerge(b *testing.B) {
	src := benchLatency(100_000, 3)
	dst := benchLatency(100_000, 4)
	b.ReportAllocs()
	for b.Loop() {
		if err := dst.Merge(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLatencyEncode(b *testing.B) {
	l := benchLatency(1_000_000, 5)
	enc, err := l.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Encode(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "encoded-bytes")
}

func BenchmarkDecodeLatency(b *testing.B) {
	enc, err := benchLatency(1_000_000, 5).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stats.DecodeLatency(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRankInterval(b *testing.B) {
	for _, n := range []int64{10, 1000, 10_000_000, 1e12} {
		for _, p := range []float64{50, 99, 99.9} {
			b.Run(fmt.Sprintf("n=%d/p%v", n, p), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					stats.RankInterval(n, p, 0.95)
				}
			})
		}
	}
}

func BenchmarkLatencyPercentileInterval(b *testing.B) {
	l := benchLatency(1_000_000, 6)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.PercentileInterval(95, 0.95)
	}
}

func BenchmarkMinSamples(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		stats.MinSamples(99.9, 0.95)
	}
}
