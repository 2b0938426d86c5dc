package verdict

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-latency-lens/lens/stats"
)

// schedule returns the boundaries of the full schedule from first to
// budget requests (one sample per request), for percentile p at confidence
// conf.
func schedule(first, budget int64, p, conf float64, minBatch int64) ([]bound, func(int64) int64) {
	rank := func(n int64) int64 { return stats.NearestRank(n, p) }
	d := newDesign(p/100, (1-conf)/2, rank)
	plan := Plan{MaxRequests: budget, MinBatch: minBatch}
	var bs []bound
	for reqs := first; ; reqs = plan.next(reqs) {
		t := 1.0
		if budget > first {
			t = float64(reqs) / float64(budget)
		}
		bs = append(bs, d.look(reqs, t))
		if reqs >= budget {
			break
		}
	}
	return bs, rank
}

// TestOperatingCharacteristicExact computes, exactly, what the sequential
// p95 gate at 100 requests with a budget of 800 does for three truths: a
// TTFT of Normal(36ms, 7ms) against 50ms (p95 = 47.5ms: 5% of headroom;
// each sample below the limit with probability Φ(2)), a p95 exactly at the
// limit, and a p95 20% over it (Normal(48.5ms, 7ms)).
func TestOperatingCharacteristicExact(t *testing.T) {
	bs, rank := schedule(100, 800, 95, 0.95, 16) // 16 workers, as lenstest's test
	headroom := operating(bs, rank, 0.5*math.Erfc(-2/math.Sqrt2))
	atLimit := operating(bs, rank, 0.95)
	over := operating(bs, rank, 0.5*math.Erfc(-(50-48.486)/7/math.Sqrt2))
	for name, o := range map[string]oc{"5% headroom": headroom, "at the limit": atLimit, "20% over": over} {
		t.Logf("%s: P(fail) %.5f, conclusive pass %.4f, conclusive fail %.4f, mean requests %.0f", name, 1-o.hold, o.pass, o.fail, o.samples)
	}
	assert.Less(t, 1-headroom.hold, 0.01)
	assert.Less(t, headroom.samples, 400.0)
	assert.Greater(t, 1-over.hold, 0.95)
	assert.Less(t, over.samples, 200.0)
	assert.InDelta(t, 0.5, 1-atLimit.hold, 0.2)
	assert.LessOrEqual(t, atLimit.pass, 0.025, "a wrong conclusive pass is held to 2.5% across all looks")
	assert.LessOrEqual(t, atLimit.fail, 0.025, "a wrong conclusive fail is held to 2.5% across all looks")
}

// TestDesignHoldsErrorRates: across percentiles, confidences, first runs
// and budgets, the chance of a conclusive verdict on the wrong side, at
// the boundary, summed over every look, never exceeds its share of
// 1-confidence; and a naive design that looks at a fixed 95% at every look
// would exceed it (so the test can tell).
func TestDesignHoldsErrorRates(t *testing.T) {
	for _, p := range []float64{50, 90, 95, 99, 99.9} {
		for _, conf := range []float64{0.9, 0.95, 0.99} {
			for _, c := range [][2]int64{{20, 200}, {100, 800}, {300, 5000}, {1000, 1000}} {
				for _, minBatch := range []int64{0, 64} {
					bs, rank := schedule(c[0], c[1], p, conf, minBatch)
					o := operating(bs, rank, p/100)
					alpha := (1 - conf) / 2
					assert.LessOrEqual(t, o.pass, alpha*(1+1e-9), "p%g conf %g %v batch %d: conclusive pass", p, conf, c, minBatch)
					assert.LessOrEqual(t, o.fail, alpha*(1+1e-9), "p%g conf %g %v batch %d: conclusive fail", p, conf, c, minBatch)
				}
			}
		}
	}
	// Looking again and again at a fixed level inflates the error.
	rank := func(n int64) int64 { return stats.NearestRank(n, 95) }
	var naive []bound
	plan := Plan{MaxRequests: 800}
	for reqs := int64(100); ; reqs = plan.next(reqs) {
		d := newDesign(0.95, 0.025, rank)
		naive = append(naive, d.look(reqs, 1))
		if reqs >= 800 {
			break
		}
	}
	o := operating(naive, rank, 0.95)
	t.Logf("fixed 95%% at each of %d looks: conclusive pass %.3f, fail %.3f", len(naive), o.pass, o.fail)
	assert.Greater(t, o.pass+o.fail, 0.1)
}

// TestBinom: the truncated binomial sums to 1 and has the right mean.
func TestBinom(t *testing.T) {
	for _, c := range []struct {
		n int64
		q float64
	}{{1, 0.5}, {10, 0.95}, {800, 0.95}, {100000, 0.5}, {5, 0}, {5, 1}} {
		d := binom(c.n, c.q)
		var mean float64
		for i, p := range d.p {
			mean += p * float64(d.lo+int64(i))
		}
		assert.InDelta(t, 1, d.mass(), 1e-12, "%v", c)
		assert.InDelta(t, float64(c.n)*c.q, mean, 1e-6*float64(c.n)+1e-9, "%v", c)
	}
}
