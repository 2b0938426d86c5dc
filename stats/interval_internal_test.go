package stats

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBinomialPMF is log P(B = k), B ~ Binomial(n, q), by Loader's saddle
// point expansion (as R's dbinom computes it): an independent computation,
// accurate to about 1e-14 relative even at n = 1e12, where a log-gamma
// difference would lose four digits.
func logBinomialPMF(n, k int64, q float64) float64 {
	nf, kf := float64(n), float64(k)
	switch k {
	case 0:
		return nf * math.Log1p(-q)
	case n:
		return nf * math.Log(q)
	}
	lc := stirlingError(nf) - stirlingError(kf) - stirlingError(nf-kf) - deviance(kf, nf*q) - deviance(nf-kf, nf*(1-q))
	return lc + 0.5*math.Log(nf/(2*math.Pi*kf*(nf-kf)))
}

// stirlingError is log(x!) - log(sqrt(2πx) (x/e)^x).
func stirlingError(x float64) float64 {
	if x <= 15 {
		lg, _ := math.Lgamma(x + 1)
		return lg - (x+0.5)*math.Log(x) + x - 0.5*math.Log(2*math.Pi)
	}
	const s0, s1, s2, s3, s4 = 1.0 / 12, 1.0 / 360, 1.0 / 1260, 1.0 / 1680, 1.0 / 1188
	xx := x * x
	return (s0 - (s1-(s2-(s3-s4/xx)/xx)/xx)/xx) / x
}

// deviance is x log(x/m) + m - x, without cancellation when x is near m.
func deviance(x, m float64) float64 {
	if math.Abs(x-m) >= 0.1*(x+m) {
		return x*math.Log(x/m) + m - x
	}
	v := (x - m) / (x + m)
	s := (x - m) * v
	ej := 2 * x * v
	for j := 1; j < 1000; j++ {
		ej *= v * v
		next := s + ej/float64(2*j+1)
		if next == s {
			break
		}
		s = next
	}
	return s
}

// tail sums P(B = k) from k = from, stepping by step, until the terms
// vanish.
func tail(n, from, step int64, q float64) float64 {
	sum := 0.0
	for k := from; k >= 0 && k <= n; k += step {
		term := math.Exp(logBinomialPMF(n, k, q))
		sum += term
		if term < 1e-22 && k != from {
			break
		}
	}
	return sum
}

// exactCoverage is P(lo <= B <= hi-1) from the two tails.
func exactCoverage(n, lo, hi int64, q float64) float64 {
	return 1 - tail(n, lo-1, -1, q) - tail(n, hi, 1, q)
}

// Beyond n*q*(1-q) = 4e8 the ranks come from the normal approximation; their
// true coverage, summed term by term, still reaches the level and matches
// the one reported.
func TestNormalApproximationCoverage(t *testing.T) {
	tests := []struct {
		n    int64
		p    float64
		conf float64
	}{
		{2e9, 50, 0.95},
		{1e10, 95, 0.95},
		{5e9, 10, 0.99},
		{1e11, 99, 0.9},
		{401_000_000_000, 99.9, 0.95},
		{1_700_000_000, 50, 0.5},
		{1_700_000_000, 50, 0.999},
		{1e13, 99.99, 0.95},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d p%v", tt.n, tt.p), func(t *testing.T) {
			q := tt.p / 100
			require.Greater(t, float64(tt.n)*q*(1-q), exactMaxVariance, "the test must reach the normal path")
			lo, hi, achieved, ok := RankInterval(tt.n, tt.p, tt.conf)
			require.True(t, ok)
			exact := exactCoverage(tt.n, lo, hi, q)
			t.Logf("ranks %d..%d, reported coverage %.12f, summed %.12f", lo, hi, achieved, exact)
			assert.GreaterOrEqual(t, exact, tt.conf-1e-8)
			assert.InDelta(t, exact, achieved, 1e-8)
		})
	}
}

// Where both apply, the exact summation and the normal approximation agree
// to a rank or two, and the summed coverage is right by the independent
// log-gamma computation.
func TestExactSummationMatchesNormalAtLargeN(t *testing.T) {
	for _, p := range []float64{1, 50, 90, 99, 99.9} {
		for _, n := range []int64{100_000, 10_000_000} {
			b := newBinomial(n, p)
			r := NearestRank(n, p)
			lo, hi, achieved, ok := b.narrowest(r, 0.95)
			require.True(t, ok)
			nlo, nhi, _ := b.normal(r, 0.95)
			assert.InDeltaf(t, nlo, lo, 2, "n=%d p%v lo", n, p)
			assert.InDeltaf(t, nhi, hi, 2, "n=%d p%v hi", n, p)
			assert.InDeltaf(t, exactCoverage(n, lo, hi, p/100), achieved, 1e-7, "n=%d p%v coverage", n, p)
		}
	}
}

// The window left out of the summation holds a negligible mass.
func TestWindowHoldsTheMass(t *testing.T) {
	for _, tt := range []struct {
		n int64
		p float64
	}{{10, 50}, {1000, 99.9}, {1e7, 50}, {1e7, 99.99}, {1e9, 0.0001}, {1e15, 1e-13}} {
		b := newBinomial(tt.n, tt.p)
		start, last, _ := b.window(NearestRank(tt.n, tt.p))
		q := tt.p / 100
		outside := tail(tt.n, start.k-1, -1, q) + tail(tt.n, last+1, 1, q)
		assert.Lessf(t, outside, 1e-15, "n=%d p%v: window %d..%d", tt.n, tt.p, start.k, last)
		assert.Lessf(t, float64(last-start.k), 20*math.Sqrt(float64(tt.n)*q*(1-q))+50, "n=%d p%v: window %d..%d is too wide", tt.n, tt.p, start.k, last)
	}
}
