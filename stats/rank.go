package stats

import "math"

// NearestRank returns the rank, from 1 to n, of the p-th percentile (p from
// 0 to 100) of n values under the nearest-rank definition that every
// percentile of this package uses, as HdrHistogram does: the smallest k such
// that at least p% of the values are at or below the k-th smallest, that is
// the smallest k with 100 × k/n >= p, k = ceil(p/100 × n). So the p99.9 of
// 1,000 values is the 999th and of 600 values the 600th.
//
// 100 × k/n is compared with p as float64 numbers, correctly rounded: a p
// that is 100 × k/n up to the rounding of a decimal literal (99.9 for 999 of
// 1,000; 100.0/3 for 1 of 3) selects k, where ceil(p/100*n) in floating
// point could give k+1. This is exact for every n below 2^53/100 (about 9 ×
// 10^13). A p at or below 0, or NaN, gives 1; a p at or above 100 gives n.
// It returns 1 when n <= 0: no count of good samples reaches the rank of an
// empty set, so a gate on no samples never holds.
//
// It is the rank that Percentile reports, that RankInterval's interval is
// built around and that every verdict compares with: Percentile(p) < d
// exactly when the count of samples certainly below d (CountBelow) is at
// least NearestRank(Count(), p).
func NearestRank(n int64, p float64) int64 {
	switch {
	case n <= 0, !(p > 0):
		return 1
	case p >= 100:
		return n
	}
	nf := float64(n)
	at := func(k int64) float64 { return 100 * float64(k) / nf }
	// The floating-point ceiling is within a rank of the answer: step to it.
	k := clampRank(math.Ceil(p/100*nf), 1, n)
	for k > 1 && at(k-1) >= p {
		k--
	}
	for k < n && at(k) < p {
		k++
	}
	return k
}
