package stats_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/stats"
)

// binomialCDF returns P(B <= k) for k = -1..n, B ~ Binomial(n, p/100), with
// p given in decimal, computed with 256-bit floats from exact binomial
// coefficients: cdf[k+1] = P(B <= k).
func binomialCDF(n int, p string) []float64 {
	const prec = 256
	q, ok := new(big.Float).SetPrec(prec).SetString(p)
	if !ok {
		panic("bad percentile " + p)
	}
	q.Quo(q, big.NewFloat(100))
	qc := new(big.Float).SetPrec(prec).Sub(big.NewFloat(1), q)
	qPow, qcPow := make([]*big.Float, n+1), make([]*big.Float, n+1)
	qPow[0], qcPow[0] = new(big.Float).SetPrec(prec).SetInt64(1), new(big.Float).SetPrec(prec).SetInt64(1)
	for k := 1; k <= n; k++ {
		qPow[k] = new(big.Float).SetPrec(prec).Mul(qPow[k-1], q)
		qcPow[k] = new(big.Float).SetPrec(prec).Mul(qcPow[k-1], qc)
	}
	cum := new(big.Float).SetPrec(prec)
	cdf := make([]float64, n+2)
	for k := 0; k <= n; k++ {
		term := new(big.Float).SetPrec(prec).SetInt(new(big.Int).Binomial(int64(n), int64(k)))
		term.Mul(term, qPow[k])
		term.Mul(term, qcPow[n-k])
		cum.Add(cum, term)
		cdf[k+1], _ = cum.Float64()
	}
	return cdf
}

type rankPair struct{ lo, hi int64 }

// bruteInterval applies RankInterval's documented rule by trying every pair.
// It returns the acceptable answers: the narrowest pairs whose tail balance
// is within 1e-9 of the best.
func bruteInterval(n int, p float64, cdf []float64, conf float64) (accept map[rankPair]float64, bounded bool) {
	F := func(k int) float64 { return cdf[k+1] } // P(B <= k)
	r := rankOf(n, p)
	best := math.MaxInt
	type cand struct {
		lo, hi  int
		balance float64
		cover   float64
	}
	var cands []cand
	for lo := 1; lo <= r; lo++ {
		for hi := max(lo+1, r); hi <= n; hi++ {
			cover := F(hi-1) - F(lo-1)
			if cover < conf {
				continue
			}
			width := hi - lo
			if width < best {
				best, cands = width, cands[:0]
			}
			if width == best {
				cands = append(cands, cand{lo, hi, math.Abs(F(lo-1) - (1 - F(hi-1))), cover})
			}
		}
	}
	accept = map[rankPair]float64{}
	if len(cands) > 0 {
		minBalance := math.Inf(1)
		for _, c := range cands {
			minBalance = math.Min(minBalance, c.balance)
		}
		for _, c := range cands {
			if c.balance <= minBalance+1e-9 {
				accept[rankPair{int64(c.lo), int64(c.hi)}] = c.cover
			}
		}
		return accept, true
	}
	// No bounded pair: one side open, by the documented preference.
	lo, loCover := 0, 1.0 // largest lo <= r with P(B >= lo) >= conf
	for l := 1; l <= r; l++ {
		cover := 1 - F(l-1)
		if cover >= conf {
			lo, loCover = l, cover
		}
	}
	hi, hiCover := n+1, 1.0 // smallest hi >= r with P(B < hi) >= conf
	for h := n; h >= r; h-- {
		cover := F(h - 1)
		if cover >= conf {
			hi, hiCover = h, cover
		}
	}
	switch {
	case lo >= 1 && (p >= 50 || hi > n):
		accept[rankPair{int64(lo), int64(n + 1)}] = loCover
	case hi <= n:
		accept[rankPair{0, int64(hi)}] = hiCover
	default:
		accept[rankPair{0, int64(n + 1)}] = 1
	}
	return accept, false
}

func TestRankIntervalAgainstBruteForce(t *testing.T) {
	percentiles := []string{"1", "10", "25", "50", "75", "90", "95", "99", "99.9"}
	levels := []float64{0.25, 0.5, 0.8, 0.9, 0.95, 0.99}
	checked, skipped := 0, 0
	for _, ps := range percentiles {
		var p float64
		_, err := fmt.Sscan(ps, &p)
		require.NoError(t, err)
		for n := 1; n <= 200; n++ {
			cdf := binomialCDF(n, ps)
			for _, conf := range levels {
				// Where a coverage lies within 1e-10 of conf (exact ties
				// happen, e.g. at p50), float rounding may decide either way:
				// skip the configurations whose answer it changes.
				accept, bounded := bruteInterval(n, p, cdf, conf)
				below, _ := bruteInterval(n, p, cdf, conf-1e-10)
				above, _ := bruteInterval(n, p, cdf, conf+1e-10)
				if !sameKeys(below, above) {
					skipped++
					continue
				}
				checked++
				lo, hi, achieved, ok := stats.RankInterval(int64(n), p, conf)
				where := fmt.Sprintf("n=%d p=%s conf=%v: got %d..%d (%.6f, ok=%v), want one of %v", n, ps, conf, lo, hi, achieved, ok, accept)
				require.Equal(t, bounded, ok, where)
				cover, found := accept[rankPair{lo, hi}]
				require.True(t, found, where)
				require.InDelta(t, cover, achieved, 1e-9, where)
				require.GreaterOrEqual(t, achieved, conf-1e-12, where)
			}
		}
	}
	t.Logf("%d configurations checked, %d skipped as within 1e-10 of the level", checked, skipped)
	assert.Greater(t, checked, 10000)
}

func sameKeys(a, b map[rankPair]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func TestMinSamples(t *testing.T) {
	tests := []struct {
		p, conf float64
		want    int64
	}{
		{99, 0.95, 299}, // 0.99^299 = 0.0495
		{95, 0.95, 59},  // 0.95^59 = 0.0485, 0.95^58 = 0.0510
		{50, 0.95, 6},   // 2 * 0.5^6 = 0.03125, 2 * 0.5^5 = 0.0625
		{50, 0.99, 8},   // 2 * 0.5^8 = 0.0078, 2 * 0.5^7 = 0.0156
		{90, 0.9, 22},   // 0.9^22 + 0.1^22 = 0.0985, 0.9^21 = 0.1094
		{99.9, 0.95, 2995},
		{1, 0.95, 299}, // symmetric to p99
		{50, 0, 2},
		{50, -1, 2},
		{0, 0.95, math.MaxInt64},
		{100, 0.95, math.MaxInt64},
		{50, 1, math.MaxInt64},
		{math.NaN(), 0.95, math.MaxInt64},
		{50, math.NaN(), math.MaxInt64},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, stats.MinSamples(tt.p, tt.conf), "MinSamples(%v, %v)", tt.p, tt.conf)
	}
}

// MinSamples is exactly where RankInterval becomes bounded.
func TestMinSamplesMatchesRankInterval(t *testing.T) {
	for _, p := range []float64{0.01, 0.1, 1, 5, 10, 25, 50, 63.2, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999} {
		for _, conf := range []float64{0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.999999} {
			m := stats.MinSamples(p, conf)
			require.Less(t, m, int64(math.MaxInt64))
			_, _, _, ok := stats.RankInterval(m, p, conf)
			assert.Truef(t, ok, "p=%v conf=%v: RankInterval(MinSamples=%d) is not bounded", p, conf, m)
			if m > 2 {
				_, _, _, ok = stats.RankInterval(m-1, p, conf)
				assert.Falsef(t, ok, "p=%v conf=%v: RankInterval(MinSamples-1=%d) is bounded", p, conf, m-1)
			}
		}
	}
}

func TestRankIntervalEdges(t *testing.T) {
	tests := []struct {
		name     string
		n        int64
		p, conf  float64
		lo, hi   int64
		achieved float64
		ok       bool
	}{
		{"no samples", 0, 50, 0.95, 0, 1, 1, false},
		{"negative n", -4, 50, 0.95, 0, 1, 1, false},
		{"NaN percentile", 10, math.NaN(), 0.95, 0, 11, 1, false},
		{"NaN confidence", 10, 50, math.NaN(), 0, 11, 1, false},
		{"p0: the minimum bounds it above", 100, 0, 0.95, 0, 1, 1, false},
		{"p100: the maximum bounds it below", 100, 100, 0.95, 100, 101, 1, false},
		{"confidence 1", 1000, 50, 1, 0, 1001, 1, false},
		// P(B >= 1) = 0.99 for B ~ Binomial(1, 0.99): X(1) <= p99 with 99%.
		{"one sample, p99", 1, 99, 0.95, 1, 2, 0.99, false},
		// P(B <= 0) = 0.99 for B ~ Binomial(1, 0.01): X(1) >= p1 with 99%.
		{"one sample, p1", 1, 1, 0.95, 0, 1, 0.99, false},
		// P(B >= 19) = 0.99^20 + 20*0.99^19*0.01 = 0.98314 for n = 20.
		{"p99 of 20 samples", 20, 99, 0.95, 19, 21, 0.9831406623643483, false},
		// Neither side reaches 99%: P(B >= 1) = 1 - 0.01^20... wait, for p50 of 5:
		// P(B >= 1) = 31/32 < 0.99 and P(B <= 4) = 31/32 < 0.99.
		{"p50 of 5 at 99%", 5, 50, 0.99, 0, 6, 1, false},
		// P(B >= 1) = P(B <= 4) = 31/32 >= 0.95 on both sides; p >= 50 keeps Lo.
		{"p50 of 5 at 95%", 5, 50, 0.95, 1, 6, 0.96875, false},
		{"p49 of 5 at 95%", 5, 49, 0.95, 0, 5, 1 - math.Pow(0.49, 5), false},
		// n = 10, p50: ranks 2..9 cover 1 - 2*11/1024.
		{"p50 of 10", 10, 50, 0.95, 2, 9, 1 - 22.0/1024, true},
		{"confidence above 1 is 1", 100, 50, 1.5, 0, 101, 1, false},
		{"percentile above 100 is 100", 100, 150, 0.95, 100, 101, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, achieved, ok := stats.RankInterval(tt.n, tt.p, tt.conf)
			assert.Equal(t, tt.lo, lo, "lo")
			assert.Equal(t, tt.hi, hi, "hi")
			assert.InDelta(t, tt.achieved, achieved, 1e-12, "achieved")
			assert.Equal(t, tt.ok, ok, "ok")
		})
	}
}

// Invariants over a wide sweep, large n included.
func TestRankIntervalInvariants(t *testing.T) {
	ns := []int64{1, 2, 3, 7, 20, 59, 100, 299, 1000, 12345, 1e5, 1e6, 1e7, 1e8, 2e9, 1e12, 1e15, math.MaxInt64 / 2}
	ps := []float64{0, 0.001, 1, 10, 50, 90, 95, 99, 99.9, 99.99, 99.9999, 100}
	confs := []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999999, 1}
	for _, n := range ns {
		for _, p := range ps {
			for _, conf := range confs {
				lo, hi, achieved, ok := stats.RankInterval(n, p, conf)
				where := fmt.Sprintf("n=%d p=%v conf=%v: %d..%d (%v, ok=%v)", n, p, conf, lo, hi, achieved, ok)
				require.NoError(t, checkRanks(n, p, lo, hi, ok), where)
				require.GreaterOrEqual(t, achieved, conf-1e-12, where)
				require.LessOrEqual(t, achieved, 1.0, where)
				require.Equal(t, n >= stats.MinSamples(p, conf), ok, where)
			}
		}
	}
}

// checkRanks checks RankInterval's rules on ranks: a bounded pair within
// 1..n around the point rank r; an open pair with 0 or n+1 on one side.
func checkRanks(n int64, p float64, lo, hi int64, ok bool) error {
	r := int64(rankOf(int(n), p))
	switch {
	case ok && !(1 <= lo && lo < hi && hi <= n):
		return fmt.Errorf("bounded ranks %d..%d outside 1..%d", lo, hi, n)
	case ok && !(lo <= r && r <= hi):
		return fmt.Errorf("bounded ranks %d..%d do not hold the point rank %d", lo, hi, r)
	case !ok && !(0 <= lo && lo < hi && hi <= n+1 && (lo == 0 || hi == n+1)):
		return fmt.Errorf("open ranks %d..%d with n=%d", lo, hi, n)
	}
	return nil
}

// At n = 10^7 the exact summation is quick and its ranks sit where the
// normal approximation puts them: nq ± z*sqrt(nq(1-q)).
func TestRankIntervalLargeN(t *testing.T) {
	const n = 10_000_000
	for _, p := range []float64{1, 50, 95, 99, 99.9, 99.99} {
		lo, hi, achieved, ok := stats.RankInterval(n, p, 0.95)
		require.True(t, ok)
		q := p / 100
		mu, sd := n*q, math.Sqrt(n*q*(1-q))
		assert.InDeltaf(t, mu-1.959964*sd, float64(lo), 2+0.01*sd, "p%v lo", p)
		assert.InDeltaf(t, mu+1.959964*sd, float64(hi), 2+0.01*sd, "p%v hi", p)
		assert.GreaterOrEqual(t, achieved, 0.95)
		assert.Less(t, achieved, 0.95+0.5/sd, "tight: within a rank's probability of the level")
	}
}

// Coverage by simulation: draw samples from an exponential distribution,
// whose quantiles are known, and count how often the interval holds the true
// quantile. For a continuous distribution the coverage is exactly the
// achieved confidence; the histogram's widening to whole buckets may only add
// a little.
func TestPercentileIntervalCoverage(t *testing.T) {
	const trials = 2000
	const mean = 100 * time.Millisecond
	tests := []struct {
		p, conf float64
		n       int
		bounded bool
	}{
		{50, 0.95, 25, true},
		{95, 0.95, 400, true},
		{99, 0.90, 1000, true},
		{10, 0.95, 60, true},
		{99, 0.95, 150, false}, // too few: only a lower bound
	}
	rng := rand.New(rand.NewPCG(2024, 1))
	l := stats.NewLatency()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("p%v n=%d conf=%v", tt.p, tt.n, tt.conf), func(t *testing.T) {
			truth := time.Duration(-math.Log(1-tt.p/100) * float64(mean))
			covered := 0
			var achieved float64
			for range trials {
				l.Reset()
				for range tt.n {
					l.Record(time.Duration(rng.ExpFloat64() * float64(mean)))
				}
				iv := l.PercentileInterval(tt.p, tt.conf)
				require.Equal(t, tt.bounded, iv.Bounded)
				require.LessOrEqual(t, iv.Lo, iv.Estimate)
				require.LessOrEqual(t, iv.Estimate, iv.Hi)
				achieved = iv.Confidence
				if iv.Lo <= truth && truth <= iv.Hi {
					covered++
				}
			}
			got := float64(covered) / trials
			sd := math.Sqrt(achieved * (1 - achieved) / trials)
			t.Logf("coverage %.4f, achieved confidence %.4f, requested %v", got, achieved, tt.conf)
			assert.GreaterOrEqual(t, got, achieved-4*sd, "the interval misses the true quantile too often")
			assert.LessOrEqual(t, got, achieved+4*sd+0.01, "the interval is wider than its confidence says")
		})
	}
}

func TestLatencyPercentileInterval(t *testing.T) {
	l := stats.NewLatency()
	for i := 1; i <= 400; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	iv := l.PercentileInterval(95, 0.95)
	lo, hi, achieved, ok := stats.RankInterval(400, 95, 0.95)
	require.True(t, ok)
	assert.True(t, iv.Bounded)
	assert.Equal(t, lo, iv.LoRank)
	assert.Equal(t, hi, iv.HiRank)
	assert.Equal(t, achieved, iv.Confidence)
	assert.Equal(t, int64(400), iv.N)
	assert.Equal(t, 95.0, iv.P)
	assert.Equal(t, 0.95, iv.Level)
	assert.Equal(t, l.Percentile(95), iv.Estimate)
	// The samples are lo ms and hi ms: the bounds are their buckets' edges.
	assert.Equal(t, l.ValueAtRank(hi), iv.Hi)
	assert.LessOrEqual(t, iv.Lo, time.Duration(lo)*time.Millisecond)
	assert.Greater(t, iv.Lo, time.Duration(lo)*time.Millisecond-time.Duration(lo)*time.Millisecond/1000)
	assert.GreaterOrEqual(t, iv.Hi, time.Duration(hi)*time.Millisecond)
	// Printed to 4 significant figures, outward: 371.982336ms and 389.021695ms.
	assert.Equal(t, 371982336*time.Nanosecond, iv.Lo)
	assert.Equal(t, 389021695*time.Nanosecond, iv.Hi)
	assert.Equal(t, "371.9ms..389.1ms", iv.String())

	// Too few for a bounded p99.9: a lower bound only.
	open := l.PercentileInterval(99.9, 0.95)
	assert.False(t, open.Bounded)
	assert.Equal(t, int64(401), open.HiRank)
	assert.Equal(t, stats.Unbounded, open.Hi)
	assert.Equal(t, ">= 397.9ms", open.String())
	assert.Less(t, open.N, stats.MinSamples(99.9, 0.95))

	// Too few for a bounded p0.1: an upper bound only, and Lo is 0.
	low := l.PercentileInterval(0.1, 0.95)
	assert.False(t, low.Bounded)
	assert.Equal(t, int64(0), low.LoRank)
	assert.Zero(t, low.Lo)
	assert.Equal(t, "<= 3.001ms", low.String())
}

func TestValuesPercentileInterval(t *testing.T) {
	v := stats.NewValues()
	for i := 1; i <= 400; i++ {
		v.Record(float64(i))
	}
	iv := v.PercentileInterval(50, 0.95)
	assert.True(t, iv.Bounded)
	assert.LessOrEqual(t, iv.Lo, float64(iv.LoRank))
	assert.GreaterOrEqual(t, iv.Hi, float64(iv.HiRank))
	assert.InDelta(t, float64(iv.HiRank), iv.Hi, float64(iv.HiRank)/1000)
	assert.LessOrEqual(t, iv.Lo, iv.Estimate)
	assert.LessOrEqual(t, iv.Estimate, iv.Hi)
	assert.Regexp(t, `^\d+(\.\d+)?\.\.\d+(\.\d+)?$`, iv.String())

	open := v.PercentileInterval(99.9, 0.95)
	assert.False(t, open.Bounded)
	assert.True(t, math.IsInf(open.Hi, 1))
	assert.Regexp(t, `^>= \d`, open.String())
}
