package stats

import "time"

// CountBelow returns how many recorded durations lie below d. The
// histogram resolves values to buckets, so the answer is a range: certain
// counts the values whose whole bucket lies below d, possible adds those
// in the bucket that straddles d. certain >= k exactly when ValueAtRank(k)
// < d, so Percentile(p) < d exactly when certain >= NearestRank(Count(), p).
func (l *Latency) CountBelow(d time.Duration) (certain, possible int64) {
	h := l.hist()
	n := h.count()
	if n == 0 || d <= 0 {
		return 0, 0
	}
	// The rank functions are monotone in k: bisect for the largest rank
	// whose bucket ends below d, and the largest whose bucket starts below
	// d.
	certain = lastRank(n, func(k int64) bool {
		v, _ := h.valueAtRank(&latencyGeometry, k)
		return v < int64(d)
	})
	possible = lastRank(n, func(k int64) bool {
		v, _ := h.lowAtRank(&latencyGeometry, k)
		return v < int64(d)
	})
	return certain, max(certain, possible)
}

// LowAtRank returns the lowest duration the histogram cannot tell from the
// k-th smallest recorded one (k clamped to 1..Count): every value of that
// bucket is at least this large. ValueAtRank is the other end of the
// bucket. It is 0 for an empty distribution.
func (l *Latency) LowAtRank(k int64) time.Duration {
	v, _ := l.hist().lowAtRank(&latencyGeometry, k)
	return time.Duration(v)
}

// lastRank returns the largest k in 1..n with ok(k), or 0 when ok(1) is
// false; ok must be true up to some rank and false after it.
func lastRank(n int64, ok func(int64) bool) int64 {
	lo, hi := int64(0), n
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
