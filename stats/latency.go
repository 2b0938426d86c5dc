package stats

import (
	"math"
	"time"
)

// MaxLatency is the largest duration a Latency tracks: 10 minutes. Longer
// durations are recorded as MaxLatency and counted by Clamped.
const MaxLatency = 10 * time.Minute

var latencyGeometry = geometry{
	name:    "latency",
	lowest:  1,
	highest: int64(MaxLatency),
	digits:  3,
	older:   &latencyGeometryV1,
}

// latencyGeometryV1 is the geometry of the latency histograms that earlier
// versions encoded: a lowest discernible value of 1µs, which resolves values
// below about 1 ms to only 512 ns. DecodeLatency reads them.
var latencyGeometryV1 = geometry{
	name:    "latency",
	lowest:  int64(time.Microsecond),
	highest: int64(MaxLatency),
	digits:  3,
}

// Latency is a distribution of durations on an HDR histogram in nanoseconds,
// with a lowest discernible value of 1 ns, a highest trackable value of 10
// minutes and 3 significant figures.
//
// Resolution: every duration is resolved to within 0.1%: up to 2,047 ns to
// the nanosecond, above that to 1/1024 of its power of two (a duration d is
// reported as at most d + d/1024, never below d). Values above MaxLatency (10
// minutes) are recorded as MaxLatency and counted by Clamped. Negative
// durations are recorded as 0 and counted by Negative. No read method reports
// a value above MaxLatency.
//
// The zero value is an empty distribution ready to use; its histogram (248
// KiB of counts: 31,744 buckets of 8 bytes) is allocated by the first Record. A nil *Latency behaves as
// an empty distribution for every read method. A Latency is not safe for
// concurrent use: record into one Latency per goroutine and Merge them at the
// end. Reads may run concurrently with each other but not with writes.
type Latency struct {
	d        hist
	clamped  int64
	negative int64
}

// NewLatency returns an empty Latency. It allocates no histogram until the
// first Record.
func NewLatency() *Latency { return &Latency{} }

// Record adds one duration to the distribution. Negative durations are
// recorded as 0 and counted by Negative; durations above MaxLatency are
// recorded as MaxLatency and counted by Clamped. Record does not allocate,
// except the first Record into an empty Latency, which allocates its
// histogram.
func (l *Latency) Record(d time.Duration) { l.RecordN(d, 1) }

// RecordN adds n occurrences of the duration d, as n calls to Record would.
// n <= 0 records nothing.
func (l *Latency) RecordN(d time.Duration, n int64) {
	if n <= 0 {
		return
	}
	v := int64(d)
	if v < 0 {
		l.negative += n
		v = 0
	} else if v > latencyGeometry.highest {
		l.clamped += n
		v = latencyGeometry.highest
	}
	l.d.record(&latencyGeometry, v, n)
}

func (l *Latency) hist() *hist {
	if l == nil {
		return nil
	}
	return &l.d
}

// Count returns the number of recorded durations, including the negative
// and clamped ones. It is 0 for an empty or nil distribution.
func (l *Latency) Count() int64 { return l.hist().count() }

// Clamped returns how many recorded durations were above MaxLatency and were
// recorded as MaxLatency. The encoded form does not carry this count.
func (l *Latency) Clamped() int64 {
	if l == nil {
		return 0
	}
	return l.clamped
}

// Negative returns how many recorded durations were negative and were
// recorded as 0. The encoded form does not carry this count.
func (l *Latency) Negative() int64 {
	if l == nil {
		return 0
	}
	return l.negative
}

// Percentile returns the duration at percentile p, with p from 0 to 100 (a
// p outside is clamped to that range), by the nearest-rank definition: the
// smallest recorded duration d such that at least p% of the recorded
// durations are <= d, the value of rank NearestRank(Count, p). It reports the
// highest duration the histogram cannot tell from d, at most 0.1% above it
// (see Latency). Percentile(0) is the lowest equivalent duration of the
// smallest value, as Min. It returns 0 for an empty distribution or a NaN p.
func (l *Latency) Percentile(p float64) time.Duration {
	v, _ := l.hist().percentile(&latencyGeometry, p)
	return time.Duration(v)
}

// ValueAtRank returns the k-th smallest recorded duration (k from 1 to Count;
// a k outside is clamped to that range) as the histogram resolves it: the
// highest duration equivalent to it, as Percentile reports. It is exact in
// rank for every count below 10^14, and 0 for an empty distribution.
func (l *Latency) ValueAtRank(k int64) time.Duration {
	v, _ := l.hist().valueAtRank(&latencyGeometry, k)
	return time.Duration(v)
}

// Min returns the smallest recorded duration, rounded down to the lowest
// duration the histogram cannot tell from it; 0 for an empty distribution.
func (l *Latency) Min() time.Duration { return time.Duration(l.hist().min(&latencyGeometry)) }

// Max returns the largest recorded duration, rounded up to the highest
// duration the histogram cannot tell from it (at most MaxLatency); 0 for an
// empty distribution.
func (l *Latency) Max() time.Duration { return time.Duration(l.hist().max(&latencyGeometry)) }

// Mean returns the arithmetic mean of the recorded durations, each taken at
// the middle of its histogram bucket, rounded to the nanosecond; 0 for an
// empty distribution.
func (l *Latency) Mean() time.Duration {
	return time.Duration(math.Round(l.hist().mean(&latencyGeometry)))
}

// Stddev returns the population standard deviation of the recorded
// durations, each taken at the middle of its histogram bucket, rounded to the
// nanosecond; 0 for an empty distribution.
func (l *Latency) Stddev() time.Duration {
	return time.Duration(math.Round(l.hist().stddev()))
}

// Summary is the usual digest of a latency distribution. Every field is 0
// for an empty distribution. Median and the P fields are Percentile(50),
// Percentile(90) and so on; P999 is the 99.9th percentile.
type Summary struct {
	Count  int64
	Min    time.Duration
	Max    time.Duration
	Mean   time.Duration
	Median time.Duration
	StdDev time.Duration
	P90    time.Duration
	P95    time.Duration
	P99    time.Duration
	P999   time.Duration
}

// summaryPercentiles are the percentiles of Summary and ValuesSummary, in
// the order Median, P90, P95, P99, P999.
var summaryPercentiles = [...]float64{50, 90, 95, 99, 99.9}

// Summary returns the count, extremes, moments and usual percentiles in one
// call. It is the zero Summary for an empty distribution.
func (l *Latency) Summary() Summary {
	if l.Count() == 0 {
		return Summary{}
	}
	ps := l.d.percentiles(&latencyGeometry, summaryPercentiles[:])
	return Summary{
		Count:  l.Count(),
		Min:    l.Min(),
		Max:    l.Max(),
		Mean:   l.Mean(),
		Median: time.Duration(ps[0]),
		StdDev: l.Stddev(),
		P90:    time.Duration(ps[1]),
		P95:    time.Duration(ps[2]),
		P99:    time.Duration(ps[3]),
		P999:   time.Duration(ps[4]),
	}
}

// Merge adds every duration recorded in o to l, losslessly: the result is
// the histogram that recording both sets into one Latency gives, with the
// Clamped and Negative counts added. A nil or empty o is a no-op; l.Merge(l)
// doubles every count. The only error is a total count past MaxInt64, and
// then the counts that could not be held are dropped.
func (l *Latency) Merge(o *Latency) error {
	if o == nil {
		return nil
	}
	clamped, negative := o.clamped, o.negative
	if err := l.d.merge(&latencyGeometry, &o.d); err != nil {
		return err
	}
	l.clamped += clamped
	l.negative += negative
	return nil
}

// Reset empties the distribution and keeps its histogram for reuse. A nil l
// is a no-op.
func (l *Latency) Reset() {
	if l == nil {
		return
	}
	l.d.reset()
	l.clamped, l.negative = 0, 0
}

// Clone returns an independent copy of l. The clone of a nil *Latency is an
// empty, non-nil Latency.
func (l *Latency) Clone() *Latency {
	if l == nil {
		return NewLatency()
	}
	return &Latency{d: l.d.clone(), clamped: l.clamped, negative: l.negative}
}

// Encode returns the histogram in the standard HdrHistogram V2 compressed
// encoding, as base64 text, the form other HdrHistogram implementations read:
// values in nanoseconds, lowest discernible value 1, highest trackable value
// 600000000000, 3 significant figures (the bucket edges of hdr-histogram-js's
// and HdrHistogram's default histograms, so adding it to one of them loses
// nothing). The Clamped and Negative counts
// are not part of the format and are not carried. An empty or nil
// distribution encodes as an empty histogram.
func (l *Latency) Encode() ([]byte, error) { return l.hist().encode(&latencyGeometry) }

// DecodeLatency returns the distribution that Encode wrote into b. It returns
// an error, never panics, on empty, truncated or corrupt input, and on a valid
// HdrHistogram of any other range or precision (which could not merge
// losslessly with a Latency). The decoded Clamped and Negative counts are 0.
//
// It also reads the encoding of earlier versions of this package (lowest
// discernible value 1000, which resolved durations below about 1 ms to 512
// ns): each value is taken at the top of its bucket, the value those versions
// reported for it, so every percentile decodes as they reported it (though
// now by the nearest-rank definition).
func DecodeLatency(b []byte) (*Latency, error) {
	d, err := latencyGeometry.decode(b)
	if err != nil {
		return nil, err
	}
	return &Latency{d: d}, nil
}

// MarshalJSON encodes l as a JSON string holding Encode's base64 text. Use
// a *Latency in structs that are marshalled, so that this method is found.
func (l *Latency) MarshalJSON() ([]byte, error) { return encodedJSON(l.Encode()) }

// UnmarshalJSON replaces l with the distribution encoded in a JSON string,
// as MarshalJSON writes it, and resets Clamped and Negative to 0. JSON null
// leaves l unchanged. On error l is unchanged.
func (l *Latency) UnmarshalJSON(data []byte) error {
	b, ok, err := jsonString(latencyGeometry.name, data)
	if !ok || err != nil {
		return err
	}
	d, err := latencyGeometry.decode(b)
	if err != nil {
		return err
	}
	*l = Latency{d: d}
	return nil
}
