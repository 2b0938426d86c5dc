package stats

import (
	"math"
	"math/big"
	"strconv"
)

// NearestRank returns the rank, from 1 to n, of the p-th percentile (p from
// 0 to 100) of n values under the nearest-rank definition that every
// percentile of this package, and HdrHistogram's Java and JavaScript
// implementations, use: the smallest k such that at least p% of the values
// are at or below the k-th smallest, that is k = ceil(p/100 × n), at least 1.
// So the p99.9 of 1,000 values is the 999th and of 600 values the 600th.
//
// p is read as the shortest decimal that prints it (99.9, not the binary
// fraction nearest to it, which is slightly larger), so the rank is exact for
// every n. A p at or below 0, or NaN, gives 1; a p at or above 100 gives n.
// It returns 0 when n <= 0.
func NearestRank(n int64, p float64) int64 {
	switch {
	case n <= 0:
		return 0
	case !(p > 0):
		return 1
	case p >= 100:
		return n
	}
	x := p / 100 * float64(n)
	// The product is off by a few units in the last place at most: only when
	// it lies that close to an integer can its ceiling be wrong, and then the
	// rank is computed exactly.
	if math.Abs(x-math.Round(x)) <= 1e-9*max(x, 1) {
		return min(max(exactNearestRank(n, p), 1), n)
	}
	return clampRank(math.Ceil(x), 1, n)
}

// exactNearestRank is ceil(p/100 × n) in exact arithmetic, p read as its
// shortest decimal.
func exactNearestRank(n int64, p float64) int64 {
	q, ok := new(big.Rat).SetString(strconv.FormatFloat(p, 'g', -1, 64))
	if !ok { // cannot happen for a finite p
		return clampRank(math.Ceil(p/100*float64(n)), 1, n)
	}
	q.Mul(q, new(big.Rat).SetInt64(n))
	q.Quo(q, big.NewRat(100, 1))
	num, den := q.Num(), q.Denom()
	k, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() > 0 {
		k.Add(k, big.NewInt(1))
	}
	if !k.IsInt64() {
		return n
	}
	return k.Int64()
}
