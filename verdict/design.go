package verdict

import "math"

// The sequential test behind every gate.
//
// A gate reduces to a count: k of n samples lie on its good side (latency
// samples below the limit; requests that did not fail), and the gate holds
// when the point estimate does (k >= rank(n)). At the boundary of the gate
// (the true percentile exactly at the limit, the true error rate exactly at
// the maximum) each sample is on the good side with probability q0 (p/100,
// or 1 - max error rate), so k ~ Binomial(n, q0), whatever the
// distribution; any true value on the passing side makes k stochastically
// larger, any on the failing side smaller. A conclusive pass (k at or above
// an upper boundary) therefore has probability at most alpha when the gate
// should not pass, and a conclusive fail (k at or below a lower boundary) at
// most alpha when it should not fail, across every look together.
//
// The boundaries are found look by look, by alpha spending (Lan and
// DeMets): each side may have spent, by the time a fraction t of the
// request budget is used, alpha*spend(t) of its error. The probability of
// crossing is computed exactly, by convolving the binomial increments of
// the looks over the paths that have not crossed yet, so the error held is
// the exact one (each side is computed as if the other did not stop the
// test, which only makes it conservative).

// dist is a probability mass function over the integers lo, lo+1, ...
type dist struct {
	lo int64
	p  []float64
}

func (d dist) hi() int64 { return d.lo + int64(len(d.p)) - 1 }

// tailEps is the mass, relative to the mode, left out of a binomial's
// support on each side.
const tailEps = 1e-17

// binom returns Binomial(n, q) over all but a negligible part of its mass.
func binom(n int64, q float64) dist {
	switch {
	case n <= 0:
		return dist{0, []float64{1}}
	case q <= 0:
		return dist{0, []float64{1}}
	case q >= 1:
		return dist{n, []float64{1}}
	}
	mode := int64(math.Floor(float64(n+1) * q))
	mode = min(max(mode, 0), n)
	lq, lqc := math.Log(q), math.Log1p(-q)
	lg := func(x int64) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	ln := lg(n)
	logp := func(k int64) float64 { return ln - lg(k) - lg(n-k) + float64(k)*lq + float64(n-k)*lqc }
	lm := logp(mode)
	cut := lm + math.Log(tailEps)
	// Walk out from the mode by ratios, as far as the mass matters.
	lo := mode
	for lo > 0 && logp(lo-1) > cut {
		lo--
	}
	hi := mode
	for hi < n && logp(hi+1) > cut {
		hi++
	}
	p := make([]float64, hi-lo+1)
	var sum float64
	for k := lo; k <= hi; k++ {
		v := math.Exp(logp(k))
		p[k-lo] = v
		sum += v
	}
	for i := range p {
		p[i] /= sum
	}
	return dist{lo, p}
}

// conv is the distribution of the sum of independent d and e (d may be
// sub-stochastic: the mass of paths still running).
func (d dist) conv(e dist) dist {
	if len(d.p) == 0 {
		return d
	}
	out := make([]float64, len(d.p)+len(e.p)-1)
	for i, a := range d.p {
		if a == 0 {
			continue
		}
		for j, b := range e.p {
			out[i+j] += a * b
		}
	}
	return dist{d.lo + e.lo, out}
}

// mass returns the total mass of d.
func (d dist) mass() float64 {
	var s float64
	for _, v := range d.p {
		s += v
	}
	return s
}

// upper returns the smallest a such that the mass at k >= a is at most
// budget, with that mass. a may be hi+1 (nothing stops).
func (d dist) upper(budget float64) (a int64, m float64) {
	a = d.hi() + 1
	for i := len(d.p) - 1; i >= 0; i-- {
		if m+d.p[i] > budget {
			break
		}
		m += d.p[i]
		a = d.lo + int64(i)
	}
	return a, m
}

// lower returns the largest b such that the mass at k <= b is at most
// budget, with that mass. b may be lo-1 (nothing stops).
func (d dist) lower(budget float64) (b int64, m float64) {
	b = d.lo - 1
	for i := range d.p {
		if m+d.p[i] > budget {
			break
		}
		m += d.p[i]
		b = d.lo + int64(i)
	}
	return b, m
}

// cutFrom zeroes the mass at k >= a; cutTo the mass at k <= b.
func (d *dist) cutFrom(a int64) {
	for i := max(a-d.lo, 0); i < int64(len(d.p)); i++ {
		d.p[i] = 0
	}
	d.trim()
}

func (d *dist) cutTo(b int64) {
	for i := int64(0); i <= b-d.lo && i < int64(len(d.p)); i++ {
		d.p[i] = 0
	}
	d.trim()
}

// trim drops zero mass at both ends (keeping at least one cell).
func (d *dist) trim() {
	i, j := 0, len(d.p)
	for i < j-1 && d.p[i] == 0 {
		i++
	}
	for j > i+1 && d.p[j-1] == 0 {
		j--
	}
	d.lo += int64(i)
	d.p = d.p[i:j]
}

// spend is the share of each side's alpha that may be spent by the time a
// fraction t of the budget is used: t^spendPower. A power of 1 (close to
// Pocock's boundary) spends evenly and stops early when the truth is clear;
// larger powers keep more for the last look. 1 was chosen because most
// gates sit far from their limit, and spending early is what makes them
// cheap (see the operating characteristic test).
func spend(t float64) float64 {
	if t >= 1 {
		return 1
	}
	if t <= 0 {
		return 0
	}
	return math.Pow(t, spendPower)
}

const spendPower = 0.5

// bound is one look's boundaries: conclusive pass at k >= pass, conclusive
// fail at k <= fail. pass > n means no pass is possible at that look, fail
// < 0 no fail.
type bound struct {
	n          int64 // samples at the look
	pass, fail int64
}

// design computes the boundaries of a sequence of looks for one gate.
type design struct {
	q0, alpha            float64
	passH0, failH0       dist // H0 mass of the paths that have not crossed each side
	spentPass, spentFail float64
	n                    int64
	rank                 func(n int64) int64
}

func newDesign(q0, alpha float64, rank func(int64) int64) *design {
	d0 := dist{0, []float64{1}}
	return &design{q0: q0, alpha: alpha, passH0: d0, failH0: dist{0, []float64{1}}, rank: rank}
}

// look adds the samples up to n (cumulative) and returns the look's
// boundaries, spending up to alpha*spend(t) on each side.
func (d *design) look(n int64, t float64) bound {
	if n > d.n {
		inc := binom(n-d.n, d.q0)
		d.passH0 = d.passH0.conv(inc)
		d.failH0 = d.failH0.conv(inc)
		d.n = n
	}
	target := d.alpha * spend(t)
	a, ma := d.passH0.upper(target - d.spentPass)
	b, mb := d.failH0.lower(target - d.spentFail)
	// A conclusive verdict never contradicts the point estimate.
	r := d.rank(n)
	if a < r {
		a = r
		ma = tailFrom(d.passH0, a)
	}
	if b >= r {
		b = r - 1
		mb = tailTo(d.failH0, b)
	}
	a = min(a, n+1)
	b = max(b, -1)
	d.spentPass += ma
	d.spentFail += mb
	d.passH0.cutFrom(a)
	d.failH0.cutTo(b)
	return bound{n: n, pass: a, fail: b}
}

func tailFrom(d dist, a int64) float64 {
	var m float64
	for i := max(a-d.lo, 0); i < int64(len(d.p)); i++ {
		m += d.p[i]
	}
	return m
}

func tailTo(d dist, b int64) float64 {
	var m float64
	for i := int64(0); i <= b-d.lo && i < int64(len(d.p)); i++ {
		m += d.p[i]
	}
	return m
}

// oc is the operating characteristic of a sequence of looks: the
// probabilities that the procedure ends holding (a conclusive pass, or the
// point estimate at the last look), conclusively passes, conclusively
// fails, and its expected number of samples, when each sample is on the
// good side with probability q.
type oc struct {
	hold, pass, fail, samples float64
}

func operating(bs []bound, rank func(int64) int64, q float64) oc {
	var res oc
	cur := dist{0, []float64{1}}
	var n int64
	for i, b := range bs {
		cur = cur.conv(binom(b.n-n, q))
		n = b.n
		pm := tailFrom(cur, b.pass)
		fm := tailTo(cur, b.fail)
		res.pass += pm
		res.fail += fm
		res.hold += pm
		res.samples += (pm + fm) * float64(n)
		cur.cutFrom(b.pass)
		cur.cutTo(b.fail)
		if i == len(bs)-1 {
			rest := cur.mass()
			res.hold += tailFrom(cur, rank(n))
			res.samples += rest * float64(n)
		}
	}
	return res
}
