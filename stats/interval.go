package stats

import (
	"math"
	"strconv"
	"time"
)

// Unbounded is the Hi of an Interval that has no upper bound: the largest
// duration, so that comparing it with any limit gives the safe answer.
const Unbounded time.Duration = math.MaxInt64

// Interval is a distribution-free confidence interval for a percentile of a
// Latency, from binomial order statistics (see RankInterval).
//
// When Bounded, the true P-th percentile of the distribution the N samples
// were drawn from lies in [Lo, Hi] with probability at least Confidence, and
// Confidence >= Level. Lo is the lowest duration the histogram cannot tell
// from the sample of rank LoRank, Hi the highest one it cannot tell from the
// sample of rank HiRank: widening the ranks' values to whole buckets keeps
// the guarantee through the histogram's rounding. Lo <= Estimate <= Hi.
//
// When not Bounded, N is below MinSamples(P, Level) and one side is open: for
// P >= 50 the upper one (HiRank is N+1 and Hi is Unbounded), for P < 50 the
// lower one (LoRank is 0 and Lo is 0, a valid bound since durations are never
// negative); when even that cannot reach Level, both. The interval still holds
// with probability Confidence >= Level, so an open Hi with a Lo above a limit
// still shows that the percentile exceeds the limit. An empty distribution has
// LoRank 0, HiRank 1 and Confidence 1.
//
// The guarantee is about the durations as recorded: negative ones recorded as
// 0 and long ones clamped to MaxLatency take part as those values.
type Interval struct {
	Lo, Hi         time.Duration // bounds; Lo 0 when LoRank is 0, Hi Unbounded when HiRank is N+1
	LoRank, HiRank int64         // ranks of the bounds, 1..N; 0 and N+1 stand for an open side
	Confidence     float64       // the coverage actually achieved: >= Level, 1 when both sides are open
	Bounded        bool          // both sides are bounded (1 <= LoRank < HiRank <= N)

	N        int64         // number of samples (at most math.MaxInt64-1)
	P        float64       // the percentile, 0..100, as asked
	Level    float64       // the confidence asked for, 0..1
	Estimate time.Duration // the percentile itself, as Latency.Percentile(P) reports it
}

// String formats the bounds to 4 significant figures, Lo rounded down and Hi
// up so the printed interval still holds the true one: "585.6ms..594.1ms",
// ">= 585.6ms" without an upper bound, "<= 594.1ms" without a lower bound, and
// "unbounded" with neither.
func (iv Interval) String() string {
	f := func(d time.Duration, up bool) string {
		return time.Duration(math.Round(roundSignificant(float64(d), up))).String()
	}
	return formatBounds(iv.LoRank >= 1, iv.HiRank <= iv.N, f(iv.Lo, false), f(iv.Hi, true))
}

// ValuesInterval is the Interval of a Values percentile: the same ranks and
// guarantee, with float64 bounds. An open lower side has Lo 0 (values are
// never negative); an open upper side has Hi +Inf.
type ValuesInterval struct {
	Lo, Hi         float64 // bounds; Lo 0 when LoRank is 0, Hi +Inf when HiRank is N+1
	LoRank, HiRank int64   // ranks of the bounds, 1..N; 0 and N+1 stand for an open side
	Confidence     float64 // the coverage actually achieved: >= Level, 1 when both sides are open
	Bounded        bool    // both sides are bounded (1 <= LoRank < HiRank <= N)

	N        int64   // number of samples (at most math.MaxInt64-1)
	P        float64 // the percentile, 0..100, as asked
	Level    float64 // the confidence asked for, 0..1
	Estimate float64 // the percentile itself, as Values.Percentile(P) reports it
}

// String formats the bounds as Interval.String does: "12.49..14.76", ">=
// 12.49", "<= 14.76" or "unbounded".
func (iv ValuesInterval) String() string {
	f := func(x float64, up bool) string { return strconv.FormatFloat(roundSignificant(x, up), 'g', 4, 64) }
	return formatBounds(iv.LoRank >= 1, iv.HiRank <= iv.N, f(iv.Lo, false), f(iv.Hi, true))
}

// roundSignificant rounds a positive x down, or up, to 4 significant figures.
func roundSignificant(x float64, up bool) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return x
	}
	unit := math.Pow(10, math.Floor(math.Log10(x))-3)
	if up {
		return math.Ceil(x/unit) * unit
	}
	return math.Floor(x/unit) * unit
}

func formatBounds(hasLo, hasHi bool, lo, hi string) string {
	switch {
	case hasLo && hasHi:
		return lo + ".." + hi
	case hasLo:
		return ">= " + lo
	case hasHi:
		return "<= " + hi
	}
	return "unbounded"
}

// PercentileInterval returns the confidence interval, at confidence conf (0
// to 1, e.g. 0.95), of the percentile p (0 to 100) of the distribution the
// recorded durations were drawn from. See Interval for what it means at the
// edges; for an empty or nil distribution it is open on both sides.
func (l *Latency) PercentileInterval(p, conf float64) Interval {
	d := l.hist()
	n := min(d.count(), maxRankCount)
	lo, hi, achieved, ok := RankInterval(n, p, conf)
	iv := Interval{
		Hi: Unbounded, LoRank: lo, HiRank: hi, Confidence: achieved, Bounded: ok,
		N: n, P: p, Level: conf, Estimate: l.Percentile(p),
	}
	if lo >= 1 {
		v, _ := d.lowAtRank(&latencyGeometry, lo)
		iv.Lo = time.Duration(v)
	}
	if hi <= n {
		v, _ := d.valueAtRank(&latencyGeometry, hi)
		iv.Hi = time.Duration(v)
	}
	return iv
}

// PercentileInterval returns the confidence interval, at confidence conf (0
// to 1), of the percentile p (0 to 100) of the distribution the recorded
// values were drawn from, as Latency.PercentileInterval does.
func (v *Values) PercentileInterval(p, conf float64) ValuesInterval {
	d := v.hist()
	n := min(d.count(), maxRankCount)
	lo, hi, achieved, ok := RankInterval(n, p, conf)
	iv := ValuesInterval{
		Hi: math.Inf(1), LoRank: lo, HiRank: hi, Confidence: achieved, Bounded: ok,
		N: n, P: p, Level: conf, Estimate: v.Percentile(p),
	}
	if lo >= 1 {
		u, _ := d.lowAtRank(&valuesGeometry, lo)
		iv.Lo = fromUnits(u)
	}
	if hi <= n {
		u, _ := d.valueAtRank(&valuesGeometry, hi)
		iv.Hi = fromUnits(u)
	}
	return iv
}

// RankInterval returns the ranks of a distribution-free confidence interval
// for the p-th percentile (p from 0 to 100) from n samples, at confidence
// conf (0 to 1; both are clamped to their range).
//
// With the samples sorted, X(1) <= ... <= X(n), ξ the true p-quantile of the
// distribution they were drawn from and B ~ Binomial(n, q), q = p/100 (for a
// continuous distribution, B is the number of samples below ξ), ξ lies in
// [X(lo), X(hi)] with probability at least P(lo <= B <= hi-1), for any
// distribution, continuous or not. Rank 0 stands for an open lower side (-∞)
// and rank n+1 for an open upper side (+∞), so the same formula gives the
// coverage of one-sided intervals. achieved is that coverage for the ranks
// returned.
//
// Choice: among the pairs 1 <= lo < hi <= n with lo <= r <= hi, where r is the
// rank Percentile reports (NearestRank(n, p)), and coverage >=
// conf, the narrowest (smallest hi-lo); among equally narrow pairs, the one
// whose tails P(B < lo) and P(B >= hi) are closest; then the lower. ok is
// true when such a pair exists, that is when n >= MinSamples(p, conf).
//
// Otherwise ok is false and one side is open: for p >= 50 the upper (hi = n+1,
// lo the largest rank <= r with P(B >= lo) >= conf), for p < 50 the lower (lo =
// 0, hi the smallest rank >= r with P(B < hi) >= conf); the other side when
// the preferred one cannot reach conf; (0, n+1) with achieved 1 when neither
// can. Hence (0, 1) for p = 0 (X(1) is never below the 0th percentile) and
// (n, n+1) for p = 100; (0, n+1) for conf >= 1, n <= 0 or a NaN argument. An n
// of math.MaxInt64 is taken as math.MaxInt64-1, so that n+1 is representable.
//
// Computation: the binomial probabilities are summed exactly, as ratios from
// the mode (no factorials, no overflow), over the ranks that hold all but
// about 1e-18 of the mass, whenever n*q*(1-q) <= 4e8 (so for every percentile
// up to n = 1.6e9); a call at n = 1e7 sums a few ten thousand terms. Beyond,
// it takes the equal-tailed normal approximation with continuity correction,
// which at that variance misstates the coverage by less than 1e-8.
func RankInterval(n int64, p, conf float64) (loRank, hiRank int64, achieved float64, ok bool) {
	if n <= 0 || math.IsNaN(p) || math.IsNaN(conf) {
		return 0, max(n, 0) + 1, 1, false
	}
	n = min(n, maxRankCount)
	p = min(max(p, 0), 100)
	conf = min(max(conf, 0), 1)
	bn := newBinomial(n, p)
	r := NearestRank(n, p)
	switch {
	case bn.q == 0: // B is always 0: ξ <= X(1), and nothing bounds it below.
		return 0, 1, 1, false
	case bn.qc == 0: // B is always n: ξ >= X(n), and nothing bounds it above.
		return n, n + 1, 1, false
	case conf >= 1:
		return 0, n + 1, 1, false
	}
	full := bn.fullCoverage()
	if n < 2 || full < conf {
		lo, hi, achieved := bn.oneSided(r, conf, p >= 50)
		return lo, hi, achieved, false
	}
	if float64(n)*bn.q*bn.qc > exactMaxVariance {
		lo, hi, achieved := bn.normal(r, conf)
		return lo, hi, achieved, true
	}
	if lo, hi, achieved, found := bn.narrowest(r, conf); found {
		return lo, hi, achieved, true
	}
	// The widest pair reaches conf (full >= conf) but the summation, a few
	// roundings away from it, did not see it.
	return 1, n, full, true
}

// MinSamples returns the smallest n for which RankInterval(n, p, conf) is
// bounded: the smallest n >= 2 with 1 - q^n - (1-q)^n >= conf, q = p/100,
// which is the coverage of [X(1), X(n)], the widest bounded interval. For
// example MinSamples(99, 0.95) is 299 (0.99^299 = 0.0495 <= 0.05, while
// 0.99^298 = 0.0500 > 0.05), MinSamples(95, 0.95) is 59 and MinSamples(50,
// 0.95) is 6. It returns math.MaxInt64 when no n suffices: p <= 0, p >= 100,
// conf >= 1, or a NaN argument. conf <= 0 gives 2.
func MinSamples(p, conf float64) int64 {
	if math.IsNaN(p) || math.IsNaN(conf) || p <= 0 || p >= 100 || conf >= 1 {
		return math.MaxInt64
	}
	conf = max(conf, 0)
	b := newBinomial(2, p)
	// fullCoverage rises with n. q^n + (1-q)^n lies between m^n and 2m^n,
	// m = max(q, 1-q), which brackets the answer within log(2)/-log(m) + 2.
	logM := math.Log(max(b.q, b.qc))
	lo := max(2, clampRank(math.Floor(math.Log1p(-conf)/logM)-1, 2, math.MaxInt64/2))
	hi := max(lo, clampRank(math.Ceil(math.Log((1-conf)/2)/logM)+1, 2, math.MaxInt64/2))
	for lo < hi {
		b.n = lo + (hi-lo)/2
		if b.fullCoverage() >= conf {
			hi = b.n
		} else {
			lo = b.n + 1
		}
	}
	return lo
}

// maxRankCount is the largest sample count RankInterval works with, so that
// the open upper rank n+1 is representable; larger counts are taken as it.
const maxRankCount = math.MaxInt64 - 1

// exactMaxVariance is the largest n*q*(1-q) summed exactly.
const exactMaxVariance = 4e8

// tailMass is the probability mass, relative to the mode's, left out of the
// summation on each side.
const tailMass = 1e-18

// binomial is Binomial(n, q), q = p/100, with q and qc = 1-q both computed
// from p so that neither loses the other's precision.
type binomial struct {
	n     int64
	q, qc float64
	rho   float64 // q / qc
}

func newBinomial(n int64, p float64) binomial {
	q, qc := p/100, (100-p)/100
	return binomial{n: n, q: q, qc: qc, rho: q / qc}
}

// fullCoverage is P(1 <= B <= n-1), the coverage of [X(1), X(n)].
func (b binomial) fullCoverage() float64 {
	if b.n < 2 {
		return 0
	}
	n := float64(b.n)
	return 1 - math.Pow(b.q, n) - math.Pow(b.qc, n)
}

// clampRank converts x to an integer rank in lo..hi without overflowing.
func clampRank(x float64, lo, hi int64) int64 {
	if !(x >= float64(lo)) {
		return lo
	}
	if x >= float64(hi) {
		return hi
	}
	return max(lo, min(int64(x), hi))
}

// pmf walks the binomial probabilities upward, relative to the mode's: v is
// P(B = k) / P(B = mode).
type pmf struct {
	b binomial
	k int64
	v float64
}

func (w *pmf) next() {
	w.v *= float64(w.b.n-w.k) / float64(w.k+1) * w.b.rho
	w.k++
}

// window returns the ranks a..b that hold all but about 2*tailMass of the
// relative mass, widened to hold rank r, with the relative probability at a
// and the total relative mass of a..b. Beyond the mode the ratio of
// successive probabilities shrinks (the binomial is log-concave), so the mass
// past a point with ratio s < 1 is at most v*s/(1-s).
func (b binomial) window(r int64) (start pmf, last int64, total float64) {
	mode := clampRank(math.Floor(float64(b.n+1)*b.q), 0, b.n)
	k, v := mode, 1.0
	inv := 1 / b.rho
	for k > 0 {
		s := float64(k) / float64(b.n-k+1) * inv
		// The bound is only worth testing once the terms are small.
		if v < 1e3*tailMass && k <= r && s < 1 && v*s/(1-s) < tailMass {
			break
		}
		v *= s
		k--
	}
	start = pmf{b: b, k: k, v: v}
	w := start
	for {
		total += w.v
		if w.k == b.n {
			break
		}
		if w.v < 1e3*tailMass && w.k >= mode && w.k >= r {
			if t := float64(b.n-w.k) / float64(w.k+1) * b.rho; t < 1 && w.v*t/(1-t) < tailMass {
				break
			}
		}
		w.next()
	}
	return start, w.k, total
}

// narrowest finds the bounded pair RankInterval describes, by two pointers
// over the window: for each lo the smallest hi reaching conf, which never
// decreases as lo grows.
func (b binomial) narrowest(r int64, conf float64) (lo, hi int64, achieved float64, found bool) {
	start, last, total := b.window(r)
	need := conf * total
	tie := 1e-12 * total
	lw := start // at rank lo
	low := 0.0  // P(B < lo), relative
	for lw.k < 1 {
		low += lw.v
		lw.next()
	}
	hw := lw  // at rank j+1, the next to join lo..j
	in := 0.0 // P(lo <= B <= j), relative
	lMax := min(r, b.n-1)
	jMax := min(b.n-1, last)
	bestWidth, bestBalance := int64(-1), 0.0
	for ; lw.k <= lMax && low <= total-need; lw.next() {
		l := lw.k
		for hw.k <= jMax && (hw.k <= l || hw.k < r || in < need) {
			in += hw.v
			hw.next()
		}
		j := hw.k - 1
		if j < l || j+1 < r || in < need {
			break
		}
		width := j + 1 - l
		balance := math.Abs(low - (total - low - in))
		if bestWidth < 0 || width < bestWidth || (width == bestWidth && balance < bestBalance-tie) {
			bestWidth, bestBalance = width, balance
			lo, hi, achieved = l, j+1, min(in/total, 1)
		}
		in -= lw.v
		low += lw.v
	}
	return lo, hi, achieved, bestWidth >= 0
}

// oneSided finds the one-sided pair RankInterval describes, preferring an
// open upper side when keepLo.
func (b binomial) oneSided(r int64, conf float64, keepLo bool) (lo, hi int64, achieved float64) {
	start, last, total := b.window(r)
	need := conf * total

	// Open upper side: the largest lo <= r with P(B >= lo) >= conf. Below the
	// window that probability is 1.
	var loRank int64
	loAchieved := 1.0
	if start.k >= 1 {
		loRank = start.k
	}
	cum := 0.0 // P(B <= k), relative
	for w := start; w.k <= last; w.next() {
		cum += w.v
		if w.k+1 > r || total-cum < need {
			break
		}
		loRank, loAchieved = w.k+1, (total-cum)/total
	}

	// Open lower side: the smallest hi >= r with P(B < hi) >= conf, if <= n.
	hiRank, hiAchieved := b.n+1, 1.0
	if need <= 0 && r-1 < start.k {
		hiRank, hiAchieved = r, 0
	} else {
		cum = 0
		for w := start; w.k <= last; w.next() {
			cum += w.v
			if w.k+1 >= r && cum >= need {
				if w.k+1 <= b.n {
					hiRank, hiAchieved = w.k+1, min(cum/total, 1)
				}
				break
			}
		}
	}

	hasLo, hasHi := loRank >= 1, hiRank <= b.n
	switch {
	case hasLo && (keepLo || !hasHi):
		return loRank, b.n + 1, loAchieved
	case hasHi:
		return 0, hiRank, hiAchieved
	}
	return 0, b.n + 1, 1
}

// normal is the equal-tailed pair of the normal approximation with
// continuity correction, P(B <= k) ≈ Φ((k + 0.5 - nq) / sqrt(nq(1-q))).
func (b binomial) normal(r int64, conf float64) (lo, hi int64, achieved float64) {
	n := float64(b.n)
	mu, sd := n*b.q, math.Sqrt(n*b.q*b.qc)
	z := math.Sqrt2 * math.Erfinv(conf)
	coverage := func(lo, hi int64) float64 {
		zlo := (float64(lo) - 0.5 - mu) / sd
		zhi := (float64(hi) - 0.5 - mu) / sd
		return 1 - 0.5*math.Erfc(zhi/math.Sqrt2) - 0.5*math.Erfc(-zlo/math.Sqrt2)
	}
	lo = clampRank(math.Floor(mu+0.5-z*sd), 1, r)
	hi = clampRank(math.Ceil(mu+0.5+z*sd), min(max(r, lo+1), b.n), b.n)
	achieved = coverage(lo, hi)
	for achieved < conf && (lo > 1 || hi < b.n) {
		lo, hi = max(1, lo-1), min(b.n, hi+1)
		achieved = coverage(lo, hi)
	}
	return lo, hi, achieved
}
