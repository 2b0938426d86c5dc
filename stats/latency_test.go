package stats_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/stats"
)

// accuracyPercentiles are the percentiles the accuracy tests check.
var accuracyPercentiles = []float64{0, 1, 10, 50, 90, 95, 99, 99.9, 99.99, 100}

// rankOf is the order statistic a percentile reads: the nearest rank,
// NearestRank (checked on its own by TestNearestRank).
func rankOf(n int, p float64) int { return int(stats.NearestRank(int64(n), p)) }

// histogram is what the accuracy tests use of a Latency or a Values.
type histogram[T time.Duration | float64] interface {
	Record(T)
	Count() int64
	Percentile(p float64) T
}

// checkAccuracy records samples (of the distribution dist) in h and checks
// that every percentile of accuracyPercentiles is within 0.1% of the exact
// order statistic; with edges, also that it is the bucket edge a
// histogram reports: the lowest equivalent value at p0, the highest above.
// It sorts samples.
func checkAccuracy[T time.Duration | float64](t *testing.T, dist string, samples []T, h histogram[T], edges bool) {
	t.Helper()
	for _, x := range samples {
		h.Record(x)
	}
	slices.Sort(samples)
	n := len(samples)
	require.Equal(t, int64(n), h.Count())
	worst := 0.0
	for _, p := range accuracyPercentiles {
		exact := samples[rankOf(n, p)-1]
		got := h.Percentile(p)
		rel := math.Abs(float64(got)-float64(exact)) / float64(exact)
		worst = max(worst, rel)
		assert.LessOrEqualf(t, rel, 0.001, "p%v: histogram %v, exact order statistic %v", p, got, exact)
		if !edges {
			continue
		}
		if p == 0 {
			assert.LessOrEqualf(t, got, exact, "p%v", p)
		} else {
			assert.GreaterOrEqualf(t, got, exact, "p%v", p)
		}
	}
	t.Logf("%s: largest relative error %.5f%% over %d percentiles", dist, worst*100, len(accuracyPercentiles))
}

// latencySamples draws n durations from a named distribution. Every one of
// them is at least 1 ms, where the histogram keeps 3 significant figures.
func latencySamples(dist string, n int, rng *rand.Rand) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		var s float64 // seconds
		switch dist {
		case "uniform": // 1 ms .. 2 s
			s = 0.001 + rng.Float64()*1.999
		case "lognormal": // median 300 ms, heavy right tail
			s = 0.3 * math.Exp(0.8*rng.NormFloat64())
		case "bimodal": // cache hits near 40 ms, misses near 900 ms
			if rng.Float64() < 0.6 {
				s = 0.040 + 0.005*rng.NormFloat64()
			} else {
				s = 0.900 + 0.150*rng.NormFloat64()
			}
		default:
			panic("unknown distribution " + dist)
		}
		out[i] = time.Duration(max(s, 0.001) * float64(time.Second))
	}
	return out
}

func TestLatencyPercentileAccuracy(t *testing.T) {
	const n = 1_000_000
	for i, dist := range []string{"uniform", "lognormal", "bimodal"} {
		t.Run(dist, func(t *testing.T) {
			samples := latencySamples(dist, n, rand.New(rand.NewPCG(uint64(i), 1)))
			checkAccuracy(t, dist, samples, stats.NewLatency(), true)
		})
	}
}

// Below 2,048 ns every nanosecond has a bucket of its own: percentiles of
// such values are exact.
func TestLatencySmallValuesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 100_000
	samples := make([]time.Duration, n)
	l := stats.NewLatency()
	for i := range samples {
		samples[i] = time.Duration(rng.Int64N(2048))
		l.Record(samples[i])
	}
	slices.Sort(samples)
	for _, p := range accuracyPercentiles {
		exact := samples[rankOf(n, p)-1]
		assert.Equalf(t, exact, l.Percentile(p), "p%v", p)
	}
}

func TestLatencyEdges(t *testing.T) {
	tests := []struct {
		name      string
		record    func(l *stats.Latency)
		count     int64
		min, max  time.Duration
		p50       time.Duration
		mean      time.Duration
		clamped   int64
		negative  int64
		rankOne   time.Duration // ValueAtRank(1)
		rankCount time.Duration // ValueAtRank(Count())
	}{
		{
			name:   "empty",
			record: func(*stats.Latency) {},
		},
		{
			name:   "zero or negative repeat count",
			record: func(l *stats.Latency) { l.RecordN(time.Second, 0); l.RecordN(time.Second, -3) },
		},
		{
			// 250 ms lies in a bucket 131072 ns wide: 249.954304 ms .. 250.085375 ms.
			name:      "single value",
			record:    func(l *stats.Latency) { l.Record(250 * time.Millisecond) },
			count:     1,
			min:       249954304,
			max:       250085375,
			p50:       250085375,
			mean:      250019840,
			rankOne:   250085375,
			rankCount: 250085375,
		},
		{
			name:      "zeros",
			record:    func(l *stats.Latency) { l.RecordN(0, 3) },
			count:     3,
			min:       0,
			max:       0,
			p50:       0,
			mean:      0,
			rankOne:   0,
			rankCount: 0,
		},
		{
			// Below 2,048 ns the resolution is 1 ns.
			name:      "below one microsecond",
			record:    func(l *stats.Latency) { l.Record(700); l.Record(1) },
			count:     2,
			min:       1,
			max:       700,
			p50:       1,
			mean:      351, // (1 + 700) / 2, rounded
			rankOne:   1,
			rankCount: 700,
		},
		{
			// Clamped to 10 min, whose bucket is 599.684808704 s .. 600.221679615 s
			// (mean at its middle); reads never go past 10 min.
			name:      "above ten minutes",
			record:    func(l *stats.Latency) { l.Record(time.Hour); l.Record(stats.MaxLatency + 1) },
			count:     2,
			min:       599684808704,
			max:       stats.MaxLatency,
			p50:       stats.MaxLatency,
			mean:      599953244160,
			clamped:   2,
			rankOne:   stats.MaxLatency,
			rankCount: stats.MaxLatency,
		},
		{
			name:      "exactly ten minutes is not clamped",
			record:    func(l *stats.Latency) { l.Record(stats.MaxLatency) },
			count:     1,
			min:       599684808704,
			max:       stats.MaxLatency,
			p50:       stats.MaxLatency,
			mean:      599953244160,
			rankOne:   stats.MaxLatency,
			rankCount: stats.MaxLatency,
		},
		{
			name:      "negative is recorded as zero",
			record:    func(l *stats.Latency) { l.Record(-5 * time.Millisecond); l.RecordN(math.MinInt64, 2) },
			count:     3,
			min:       0,
			max:       0,
			p50:       0,
			mean:      0,
			negative:  3,
			rankOne:   0,
			rankCount: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := stats.NewLatency()
			tt.record(l)
			assert.Equal(t, tt.count, l.Count(), "Count")
			assert.Equal(t, tt.min, l.Min(), "Min")
			assert.Equal(t, tt.max, l.Max(), "Max")
			assert.Equal(t, tt.p50, l.Percentile(50), "Percentile(50)")
			assert.Equal(t, tt.mean, l.Mean(), "Mean")
			assert.Equal(t, tt.clamped, l.Clamped(), "Clamped")
			assert.Equal(t, tt.negative, l.Negative(), "Negative")
			assert.Equal(t, tt.rankOne, l.ValueAtRank(1), "ValueAtRank(1)")
			assert.Equal(t, tt.rankCount, l.ValueAtRank(l.Count()), "ValueAtRank(Count)")
			assert.Equal(t, tt.min, l.Percentile(0), "Percentile(0) is Min")
			assert.Equal(t, tt.max, l.Percentile(100), "Percentile(100) is Max")
			if tt.count == 0 {
				assert.Equal(t, stats.Summary{}, l.Summary())
			}
		})
	}
}

func TestLatencyNilAndZeroValue(t *testing.T) {
	for name, l := range map[string]*stats.Latency{"nil": nil, "zero value": {}} {
		t.Run(name, func(t *testing.T) {
			assert.Zero(t, l.Count())
			assert.Zero(t, l.Min())
			assert.Zero(t, l.Max())
			assert.Zero(t, l.Mean())
			assert.Zero(t, l.Stddev())
			assert.Zero(t, l.Percentile(99))
			assert.Zero(t, l.ValueAtRank(1))
			assert.Zero(t, l.Clamped())
			assert.Zero(t, l.Negative())
			assert.Equal(t, stats.Summary{}, l.Summary())
			iv := l.PercentileInterval(95, 0.95)
			assert.Equal(t, stats.Interval{Hi: stats.Unbounded, HiRank: 1, Confidence: 1, P: 95, Level: 0.95}, iv)
			assert.Equal(t, "unbounded", iv.String())
			l.Reset() // no panic on nil

			c := l.Clone()
			require.NotNil(t, c)
			c.Record(time.Second)
			assert.Zero(t, l.Count(), "the clone is independent")
			assert.Equal(t, int64(1), c.Count())

			b, err := l.Encode()
			require.NoError(t, err)
			d, err := stats.DecodeLatency(b)
			require.NoError(t, err)
			assert.Zero(t, d.Count())

			m := stats.NewLatency()
			require.NoError(t, m.Merge(l))
			assert.Zero(t, m.Count())
		})
	}
	var zero stats.Latency
	zero.Record(time.Millisecond)
	assert.Equal(t, int64(1), zero.Count(), "the zero value records")
}

func TestLatencyPercentileArgument(t *testing.T) {
	l := stats.NewLatency()
	for i := 1; i <= 100; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	assert.Equal(t, l.Percentile(100), l.Percentile(250), "above 100 is clamped")
	assert.Equal(t, l.Percentile(0), l.Percentile(-3), "below 0 is clamped")
	assert.Equal(t, l.Percentile(100), l.Percentile(math.Inf(1)))
	assert.Zero(t, l.Percentile(math.NaN()))
	assert.Equal(t, l.ValueAtRank(1), l.ValueAtRank(-5), "rank below 1 is clamped")
	assert.Equal(t, l.ValueAtRank(100), l.ValueAtRank(1000), "rank above Count is clamped")
}

// ValueAtRank is exact in rank: at every boundary between buckets, rank k
// reads one bucket and rank k+1 the next, with counts up to 10^12.
func TestLatencyValueAtRank(t *testing.T) {
	values := []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 100 * time.Millisecond, 3 * time.Second, stats.MaxLatency}
	counts := []int64{2, 1, 1_000_000, 3, 1_000_000_000_000, 7, 1}
	l := stats.NewLatency()
	want := make([]time.Duration, len(values)) // highest equivalent of each bucket
	for i, v := range values {
		l.RecordN(v, counts[i])
		one := stats.NewLatency()
		one.Record(v)
		want[i] = one.Max()
	}
	var cum int64
	for i := range values {
		first, last := cum+1, cum+counts[i]
		assert.Equalf(t, want[i], l.ValueAtRank(first), "rank %d (first of value %v)", first, values[i])
		assert.Equalf(t, want[i], l.ValueAtRank(last), "rank %d (last of value %v)", last, values[i])
		if i+1 < len(values) {
			assert.Equalf(t, want[i+1], l.ValueAtRank(last+1), "rank %d (first of value %v)", last+1, values[i+1])
		}
		cum = last
	}
	require.Equal(t, cum, l.Count())
}

func TestLatencySummary(t *testing.T) {
	l := stats.NewLatency()
	for _, d := range latencySamples("lognormal", 10_000, rand.New(rand.NewPCG(3, 4))) {
		l.Record(d)
	}
	assert.Equal(t, stats.Summary{
		Count:  l.Count(),
		Min:    l.Min(),
		Max:    l.Max(),
		Mean:   l.Mean(),
		Median: l.Percentile(50),
		StdDev: l.Stddev(),
		P90:    l.Percentile(90),
		P95:    l.Percentile(95),
		P99:    l.Percentile(99),
		P999:   l.Percentile(99.9),
	}, l.Summary())
}

func TestLatencyMeanStddev(t *testing.T) {
	// 1 s and 3 s, 500 times each: mean 2 s, population standard deviation 1 s,
	// both within the 0.1% the histogram's bucket middles allow.
	l := stats.NewLatency()
	l.RecordN(time.Second, 500)
	l.RecordN(3*time.Second, 500)
	assert.InEpsilon(t, float64(2*time.Second), float64(l.Mean()), 0.001)
	assert.InEpsilon(t, float64(time.Second), float64(l.Stddev()), 0.001)
}

func TestLatencyMergeIsLossless(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	a, b, all := stats.NewLatency(), stats.NewLatency(), stats.NewLatency()
	for _, d := range latencySamples("bimodal", 50_000, rng) {
		a.Record(d)
		all.Record(d)
	}
	for _, d := range latencySamples("lognormal", 70_000, rng) {
		b.Record(d)
		all.Record(d)
	}
	// Edge values on both sides, so the counters merge too.
	for _, d := range []time.Duration{-time.Second, 0, 300, 2 * time.Hour} {
		a.Record(d)
		b.Record(d)
		all.RecordN(d, 2)
	}

	merged := a.Clone()
	require.NoError(t, merged.Merge(b))
	assertSameLatency(t, all, merged)

	// Merging the other way round gives the same distribution.
	other := b.Clone()
	require.NoError(t, other.Merge(a))
	assertSameLatency(t, all, other)

	// The sources are untouched.
	assert.Equal(t, int64(50_004), a.Count())
	assert.Equal(t, int64(70_004), b.Count())

	// Into an empty or zero Latency, and with nil or empty sources.
	var into stats.Latency
	require.NoError(t, into.Merge(nil))
	require.NoError(t, into.Merge(stats.NewLatency()))
	require.NoError(t, into.Merge(all))
	assertSameLatency(t, all, &into)

	// Merging with itself doubles every count.
	doubled := all.Clone()
	require.NoError(t, doubled.Merge(doubled))
	twice := all.Clone()
	require.NoError(t, twice.Merge(all))
	assertSameLatency(t, twice, doubled)
	assert.Equal(t, 2*all.Count(), doubled.Count())
	assert.Equal(t, 2*all.Clamped(), doubled.Clamped())
}

// assertSameLatency checks that two distributions are identical: counts,
// every percentile on a fine grid, ranks, moments and the encoding.
func assertSameLatency(t *testing.T, want, got *stats.Latency) {
	t.Helper()
	require.Equal(t, want.Count(), got.Count(), "Count")
	assert.Equal(t, want.Min(), got.Min(), "Min")
	assert.Equal(t, want.Max(), got.Max(), "Max")
	assert.Equal(t, want.Mean(), got.Mean(), "Mean")
	assert.Equal(t, want.Stddev(), got.Stddev(), "Stddev")
	assert.Equal(t, want.Clamped(), got.Clamped(), "Clamped")
	assert.Equal(t, want.Negative(), got.Negative(), "Negative")
	assert.Equal(t, want.Summary(), got.Summary(), "Summary")
	for p := 0.0; p <= 100; p += 0.05 {
		if want.Percentile(p) != got.Percentile(p) {
			assert.Equalf(t, want.Percentile(p), got.Percentile(p), "Percentile(%v)", p)
			break
		}
	}
	for k := int64(1); k <= want.Count(); k += 997 {
		if want.ValueAtRank(k) != got.ValueAtRank(k) {
			assert.Equalf(t, want.ValueAtRank(k), got.ValueAtRank(k), "ValueAtRank(%d)", k)
			break
		}
	}
	wb, err := want.Encode()
	require.NoError(t, err)
	gb, err := got.Encode()
	require.NoError(t, err)
	assert.Equal(t, string(wb), string(gb), "Encode")
}

func TestLatencyResetAndClone(t *testing.T) {
	l := stats.NewLatency()
	l.Record(time.Second)
	l.Record(-time.Second)
	l.Record(time.Hour)
	c := l.Clone()
	l.Reset()
	assert.Zero(t, l.Count())
	assert.Zero(t, l.Clamped())
	assert.Zero(t, l.Negative())
	assert.Zero(t, l.Max())
	assert.Equal(t, int64(3), c.Count(), "the clone keeps its counts")
	assert.Equal(t, int64(1), c.Clamped())
	assert.Equal(t, int64(1), c.Negative())

	l.Record(2 * time.Millisecond)
	assert.Equal(t, int64(1), l.Count(), "a reset Latency records again")
	assert.Equal(t, int64(3), c.Count())
}
