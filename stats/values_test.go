package stats_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/stats"
)

// valueSamples draws n values from a named distribution, every one at least
// 1, where the histogram keeps 3 significant figures.
func valueSamples(dist string, n int, rng *rand.Rand) []float64 {
	out := make([]float64, n)
	for i := range out {
		switch dist {
		case "tokens/s uniform": // 5 .. 250 tokens/s
			out[i] = 5 + rng.Float64()*245
		case "output tokens lognormal": // whole tokens, median 300
			out[i] = max(1, math.Round(300*math.Exp(0.9*rng.NormFloat64())))
		case "prompt cost bimodal": // cents: short and long prompts
			if rng.Float64() < 0.7 {
				out[i] = 2 + 0.3*rng.NormFloat64()
			} else {
				out[i] = 45 + 8*rng.NormFloat64()
			}
			out[i] = max(out[i], 1)
		default:
			panic("unknown distribution " + dist)
		}
	}
	return out
}

func TestValuesPercentileAccuracy(t *testing.T) {
	const n = 1_000_000
	for i, dist := range []string{"tokens/s uniform", "output tokens lognormal", "prompt cost bimodal"} {
		t.Run(dist, func(t *testing.T) {
			samples := valueSamples(dist, n, rand.New(rand.NewPCG(uint64(i), 2)))
			checkAccuracy(t, dist, samples, stats.NewValues(), false)
		})
	}
}

func TestValuesEdges(t *testing.T) {
	tests := []struct {
		name     string
		record   []float64
		count    int64
		min, max float64
		p50      float64
		clamped  int64
		rejected int64
	}{
		{name: "empty"},
		{name: "NaN and negatives are rejected", record: []float64{math.NaN(), -1, math.Inf(-1), -1e-300}, rejected: 4},
		{name: "zero", record: []float64{0, 0}, count: 2, min: 0, max: 0.000511, p50: 0.000511},
		{name: "negative zero is zero", record: []float64{math.Copysign(0, -1)}, count: 1, min: 0, max: 0.000511, p50: 0.000511},
		// Below MinValue the resolution is 0.000512.
		{name: "below MinValue", record: []float64{0.0007, 0.0001}, count: 2, min: 0, max: 0.001023, p50: 0.000511},
		// 12 lies in a bucket of width 0.008192: 11.993088 .. 12.001279.
		{name: "single value", record: []float64{12}, count: 1, min: 11.993088, max: 12.001279, p50: 12.001279},
		{name: "above MaxValue is clamped", record: []float64{2e9, math.Inf(1), 1e9}, count: 3, min: 999_456_069.648384, max: stats.MaxValue, p50: stats.MaxValue, clamped: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := stats.NewValues()
			for _, x := range tt.record {
				v.Record(x)
			}
			assert.Equal(t, tt.count, v.Count(), "Count")
			assert.InDelta(t, tt.min, v.Min(), 1e-9, "Min")
			assert.InDelta(t, tt.max, v.Max(), 1e-9, "Max")
			assert.InDelta(t, tt.p50, v.Percentile(50), 1e-9, "Percentile(50)")
			assert.Equal(t, tt.clamped, v.Clamped(), "Clamped")
			assert.Equal(t, tt.rejected, v.Rejected(), "Rejected")
			assert.Equal(t, v.Min(), v.Percentile(0), "Percentile(0) is Min")
			assert.Equal(t, v.Max(), v.Percentile(100), "Percentile(100) is Max")
			assert.Equal(t, v.Max(), v.ValueAtRank(v.Count()), "ValueAtRank(Count) is Max")
			assert.LessOrEqual(t, v.Max(), stats.MaxValue)
			assert.LessOrEqual(t, v.Mean(), stats.MaxValue)
			if tt.count == 0 {
				assert.Equal(t, stats.ValuesSummary{}, v.Summary())
				assert.Zero(t, v.Mean())
			}
		})
	}
}

func TestValuesNil(t *testing.T) {
	var v *stats.Values
	assert.Zero(t, v.Count())
	assert.Zero(t, v.Percentile(50))
	assert.Zero(t, v.Min())
	assert.Zero(t, v.Max())
	assert.Zero(t, v.Mean())
	assert.Zero(t, v.Stddev())
	assert.Zero(t, v.ValueAtRank(3))
	assert.Zero(t, v.Clamped())
	assert.Zero(t, v.Rejected())
	assert.Equal(t, stats.ValuesSummary{}, v.Summary())
	iv := v.PercentileInterval(50, 0.9)
	assert.False(t, iv.Bounded)
	assert.True(t, math.IsInf(iv.Hi, 1))
	assert.Equal(t, "unbounded", iv.String())
	v.Reset()
	require.NotNil(t, v.Clone())
	b, err := v.Encode()
	require.NoError(t, err)
	d, err := stats.DecodeValues(b)
	require.NoError(t, err)
	assert.Zero(t, d.Count())
}

func TestValuesRecordN(t *testing.T) {
	v := stats.NewValues()
	v.RecordN(3, 5)
	v.RecordN(3, 0)
	v.RecordN(math.NaN(), 4)
	v.RecordN(1e12, 2)
	assert.Equal(t, int64(7), v.Count())
	assert.Equal(t, int64(4), v.Rejected())
	assert.Equal(t, int64(2), v.Clamped())
}

func TestValuesSummaryAndMoments(t *testing.T) {
	v := stats.NewValues()
	v.RecordN(10, 500)
	v.RecordN(30, 500)
	assert.InEpsilon(t, 20, v.Mean(), 0.001)
	assert.InEpsilon(t, 10, v.Stddev(), 0.001)
	assert.Equal(t, stats.ValuesSummary{
		Count: 1000, Min: v.Min(), Max: v.Max(), Mean: v.Mean(), Median: v.Percentile(50), StdDev: v.Stddev(),
		P90: v.Percentile(90), P95: v.Percentile(95), P99: v.Percentile(99), P999: v.Percentile(99.9),
	}, v.Summary())
}

func TestValuesMergeIsLossless(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, all := stats.NewValues(), stats.NewValues(), stats.NewValues()
	for _, x := range valueSamples("tokens/s uniform", 40_000, rng) {
		a.Record(x)
		all.Record(x)
	}
	for _, x := range valueSamples("output tokens lognormal", 60_000, rng) {
		b.Record(x)
		all.Record(x)
	}
	for _, x := range []float64{math.NaN(), -2, 0, 1e10} {
		a.Record(x)
		b.Record(x)
		all.RecordN(x, 2)
	}
	merged := a.Clone()
	require.NoError(t, merged.Merge(b))
	require.NoError(t, merged.Merge(nil))

	assert.Equal(t, all.Count(), merged.Count())
	assert.Equal(t, all.Summary(), merged.Summary())
	assert.Equal(t, all.Clamped(), merged.Clamped())
	assert.Equal(t, all.Rejected(), merged.Rejected())
	for p := 0.0; p <= 100; p += 0.05 {
		if all.Percentile(p) != merged.Percentile(p) {
			assert.Equalf(t, all.Percentile(p), merged.Percentile(p), "Percentile(%v)", p)
			break
		}
	}
	wb, err := all.Encode()
	require.NoError(t, err)
	gb, err := merged.Encode()
	require.NoError(t, err)
	assert.Equal(t, string(wb), string(gb))

	self := all.Clone()
	require.NoError(t, self.Merge(self))
	assert.Equal(t, 2*all.Count(), self.Count())
	assert.Equal(t, 2*all.Rejected(), self.Rejected())
	assert.Equal(t, all.Percentile(37), self.Percentile(37))

	all.Reset()
	assert.Zero(t, all.Count())
	assert.Zero(t, all.Rejected())
	assert.Equal(t, 2*(a.Count()+b.Count()), self.Count(), "clones are independent")
}
