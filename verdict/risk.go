package verdict

import "math"

// riskGrid is the most points at which the bootstrap distribution is
// evaluated.
const riskGrid = 64

// node is a point of a quadrature: value x with weight w.
type node struct{ x, w float64 }

// quadrature reduces d to at most size points: consecutive values are
// grouped, each group evaluated at its weighted mean.
func quadrature(d dist, size int) []node {
	group := (len(d.p) + size - 1) / size
	var out []node
	for i := 0; i < len(d.p); i += group {
		var w, xw float64
		for j := i; j < min(i+group, len(d.p)); j++ {
			w += d.p[j]
			xw += d.p[j] * float64(d.lo+int64(j))
		}
		if w > 0 {
			out = append(out, node{xw / w, w})
		}
	}
	return out
}

// risk sets v.FlakeRisk and v.Needed. bounds are the boundaries of the
// looks judged so far, d the design after them, cum the counts at the
// deciding look.
func (v *judged) risk(s *Session, bounds []bound, cum counts, m gateModel, d *design) {
	if cum.n == 0 {
		return
	}
	// A fresh run looks where this one did, then on along the schedule,
	// with as many samples per request as this run had.
	bs := append([]bound(nil), bounds...)
	if v.Budget > 0 && v.Outcome != Inconclusive {
		last := len(bounds) - 1
		perReq := float64(cum.n) / float64(s.reqs[last])
		reqs := s.reqs[last]
		for reqs < v.Budget {
			reqs = s.Plan.next(reqs)
			n := max(d.n, int64(math.Round(perReq*float64(reqs))))
			bs = append(bs, d.look(n, float64(reqs)/float64(v.Budget)))
		}
	}
	k := float64(cum.certain+cum.possible) / 2
	n := float64(cum.n)
	flip := func(q float64) float64 {
		h := operating(bs, m.rank, q).hold
		if v.Holds {
			return 1 - h
		}
		return h
	}
	// The bootstrap estimate of the flip probability is its value at the
	// observed proportion resampled: E*[flip(K*/n)], K* ~ Binomial(n,
	// k/n), which over-estimates a small risk (flip is convex there, and
	// the resampling adds the sample's own noise to the fresh run's). The
	// bias-corrected bootstrap, 2 flip(k/n) - E*[flip(K*/n)], removes the
	// first-order part of that bias; it is clamped to 0..1.
	phat := k / n
	g0 := flip(phat)
	var boot float64
	for _, c := range quadrature(binom(cum.n, phat), riskGrid) {
		boot += c.w * flip(c.x/n)
	}
	v.FlakeRisk = min(max(2*g0-boot, 0), 1)

	// How many requests would have decided it (or made it steady), from
	// the estimated proportion, by the usual sample-size formula.
	p := (k + 0.5) / (n + 1)
	perReq := n / float64(v.N)
	gap := p - m.q0
	if m.q0 <= 0 || m.q0 >= 1 || math.Abs(gap) < 1e-12 || perReq <= 0 {
		return
	}
	if v.Outcome == Inconclusive {
		za := normalQuantile(1 - (1-v.Confidence)/2)
		zb := normalQuantile(0.8)
		samples := math.Pow((za*math.Sqrt(m.q0*(1-m.q0))+zb*math.Sqrt(p*(1-p)))/gap, 2)
		v.Needed = int64(math.Ceil(samples / perReq))
	}
	if v.Holds && v.FlakeRisk > 0.01 && gap > 0 {
		samples := math.Pow(normalQuantile(0.999)*math.Sqrt(p*(1-p))/gap, 2)
		v.Steady = int64(math.Ceil(samples / perReq))
	}
}

// normalQuantile is the inverse of the standard normal CDF.
func normalQuantile(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }

// cpUpper is the exact (Clopper-Pearson) upper bound on a failure rate
// after f failures in n trials, at one-sided level gamma: the rate e with
// P(Binomial(n, e) <= f) = gamma.
func cpUpper(n, f int64, gamma float64) float64 {
	if gamma <= 0 || f >= n {
		return 1
	}
	return bisect(float64(f)/float64(n), 1, func(e float64) bool {
		return tailTo(binom(n, e), f) > gamma
	})
}

// cpLower is the exact lower bound: the rate e with P(Binomial(n, e) >= f)
// = gamma.
func cpLower(n, f int64, gamma float64) float64 {
	if gamma <= 0 || f <= 0 {
		return 0
	}
	return 1 - bisect(1-float64(f)/float64(n), 1, func(e float64) bool {
		// e is the success rate here: P(successes <= n-f) > gamma.
		return tailTo(binom(n, e), n-f) > gamma
	})
}

// bisect returns the boundary in [lo, hi] between where below is true (at
// lo) and false (at hi).
func bisect(lo, hi float64, below func(float64) bool) float64 {
	for range 60 {
		mid := (lo + hi) / 2
		if below(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
