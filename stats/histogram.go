package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// geometry fixes the range and precision of one kind of distribution. Every
// histogram of a kind shares it, so merging two of them is lossless.
type geometry struct {
	name    string  // "latency" or "values", for error messages
	lowest  int64   // lowest discernible value, in histogram units
	highest int64   // highest trackable value; larger values are clamped to it
	digits  int     // significant decimal digits
	ratio   float64 // integer-to-double conversion ratio written in the encoding (0: the default, 1)

	// older, when set, is the geometry earlier versions encoded this kind
	// in; decode converts its histograms to this one.
	older *geometry

	emptyOnce sync.Once
	empty     []byte // the encoding of an empty histogram, built once
}

// newHistogram allocates an empty histogram of this geometry. The conversion
// ratio is set through Import, the only way the library takes it.
func (g *geometry) newHistogram() *hdrhistogram.Histogram {
	if g.ratio == 0 {
		return hdrhistogram.New(g.lowest, g.highest, g.digits)
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue:           g.lowest,
		HighestTrackableValue:          g.highest,
		SignificantFigures:             int64(g.digits),
		IntegerToDoubleConversionRatio: g.ratio,
	})
}

// hist is the part Latency and Values share: an HDR histogram in integer
// units, allocated on the first record so that a zero value is an empty
// distribution and an unused one costs no counts array. The histogram
// methods never return a value above g.highest: a bucket's highest
// equivalent value can lie past the tracked range, and values recorded
// there were clamped to g.highest.
type hist struct {
	h *hdrhistogram.Histogram
}

func (d *hist) record(g *geometry, v, n int64) {
	if d.h == nil {
		d.h = g.newHistogram()
	}
	// The only error left is a total count past MaxInt64 (v is in range and
	// n positive); such a count cannot be held, and is dropped.
	_ = d.h.RecordValues(v, n)
}

func (d *hist) count() int64 {
	if d == nil || d.h == nil {
		return 0
	}
	return d.h.TotalCount()
}

// min and max read the 0th and 100th percentiles, which are the library's
// Min and Max (the lowest equivalent value of the first bucket, the highest
// of the last) found by its fast prefix scan instead of a bucket-by-bucket
// walk.
func (d *hist) min(g *geometry) int64 {
	v, _ := d.percentile(g, 0)
	return v
}

func (d *hist) max(g *geometry) int64 {
	v, _ := d.percentile(g, 100)
	return v
}

func (d *hist) mean(g *geometry) float64 {
	if d.count() == 0 {
		return 0
	}
	return math.Min(d.h.Mean(), float64(g.highest))
}

func (d *hist) stddev() float64 {
	if d.count() == 0 {
		return 0
	}
	return d.h.StdDev()
}

// percentile returns the histogram's value at percentile p (0..100): the
// value of the nearest rank (see NearestRank), or, for p <= 0, the lowest
// equivalent value of the smallest one. It returns false for an empty
// histogram or a NaN p.
func (d *hist) percentile(g *geometry, p float64) (int64, bool) {
	n := d.count()
	if n == 0 || math.IsNaN(p) {
		return 0, false
	}
	if p <= 0 {
		return min(d.h.ValueAtPercentile(0), g.highest), true
	}
	return d.valueAtRank(g, NearestRank(n, p))
}

// percentiles returns the values at several percentiles in one pass, as
// percentile gives them one at a time (0 for a NaN p).
func (d *hist) percentiles(g *geometry, ps []float64) []int64 {
	out := make([]int64, len(ps))
	n := d.count()
	if n == 0 {
		return out
	}
	at := make([]float64, len(ps))
	for i, p := range ps {
		if p > 0 {
			at[i] = rankPercentile(NearestRank(n, p), n)
		}
	}
	for i, v := range d.h.ValueAtPercentilesSlice(at) {
		if !math.IsNaN(ps[i]) {
			out[i] = min(v, g.highest)
		}
	}
	return out
}

// valueAtRank returns the highest equivalent value of the bucket holding the
// k-th smallest value, k clamped to 1..count.
func (d *hist) valueAtRank(g *geometry, k int64) (int64, bool) {
	n := d.count()
	if n == 0 {
		return 0, false
	}
	k = max(1, min(k, n))
	return min(d.h.ValueAtPercentile(rankPercentile(k, n)), g.highest), true
}

// rankPercentile is the percentile at which hdrhistogram-go reads the k-th of
// n values. The library answers ranks only through percentiles, at rank
// floor(p/100*n + 0.5): p = 100k/n comes back as k(1±4ε) + 0.5, which
// truncates to k for every k below about 10^14.
func rankPercentile(k, n int64) float64 { return 100 * float64(k) / float64(n) }

// lowAtRank returns the lowest equivalent value of the bucket holding the
// k-th smallest value: every value the histogram cannot tell from it is at
// least this large.
func (d *hist) lowAtRank(g *geometry, k int64) (int64, bool) {
	v, ok := d.valueAtRank(g, k)
	if !ok {
		return 0, false
	}
	// Buckets are contiguous ranges, so the smallest value equivalent to v is
	// found by bisection on the library's own equivalence test.
	lo, hi := int64(0), v
	for lo < hi {
		mid := lo + (hi-lo)/2
		if d.h.ValuesAreEquivalent(mid, v) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, true
}

// merge adds o's counts to d. Both share g, so no value is out of range; the
// only loss possible is a total count past MaxInt64, reported as an error.
func (d *hist) merge(g *geometry, o *hist) error {
	if o.count() == 0 {
		return nil
	}
	if d.h == nil {
		d.h = o.h.Clone()
		return nil
	}
	src := o.h
	if src == d.h {
		src = src.Clone()
	}
	if dropped := d.h.Merge(src); dropped != 0 {
		return fmt.Errorf("stats: merge %s: %d values dropped: the total count would pass %d", g.name, dropped, int64(math.MaxInt64))
	}
	return nil
}

func (d *hist) reset() {
	if d.h != nil {
		d.h.Reset()
	}
}

func (d *hist) clone() hist {
	if d == nil || d.h == nil {
		return hist{}
	}
	return hist{h: d.h.Clone()}
}

// encode returns the HdrHistogram V2 compressed encoding, base64 text.
func (d *hist) encode(g *geometry) ([]byte, error) {
	if d.count() == 0 {
		g.emptyOnce.Do(func() {
			g.empty, _ = g.newHistogram().Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		})
		if g.empty == nil {
			return nil, fmt.Errorf("stats: encode %s: empty histogram could not be encoded", g.name)
		}
		return append([]byte(nil), g.empty...), nil
	}
	b, err := d.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("stats: encode %s: %w", g.name, err)
	}
	return b, nil
}

// decode reads an encoding made by encode. It accepts only histograms of
// geometry g, so that everything decoded merges losslessly.
func (g *geometry) decode(b []byte) (hist, error) {
	if len(b) == 0 {
		return hist{}, fmt.Errorf("stats: decode %s: empty input", g.name)
	}
	h, err := hdrhistogram.Decode(b)
	if err != nil {
		return hist{}, fmt.Errorf("stats: decode %s: %w", g.name, err)
	}
	if o := g.older; o != nil && o.matches(h) {
		return g.convert(h), nil
	}
	if !g.matches(h) {
		return hist{}, fmt.Errorf("stats: decode %s: histogram tracks %d..%d with %d significant figures, want %d..%d with %d",
			g.name, h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), g.lowest, g.highest, g.digits)
	}
	return hist{h: h}, nil
}

func (g *geometry) matches(h *hdrhistogram.Histogram) bool {
	return h.LowestTrackableValue() == g.lowest && h.HighestTrackableValue() == g.highest && h.SignificantFigures() == int64(g.digits)
}

// convert returns the histogram of geometry g holding the counts of h, an
// older geometry's, each at the highest value equivalent to its bucket: the
// value that h reported for every rank in it. g's buckets are no wider than
// h's and share their edges, so every percentile of the result is what h
// gave.
func (g *geometry) convert(h *hdrhistogram.Histogram) hist {
	d := hist{}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			d.record(g, min(b.To, g.highest), b.Count)
		}
	}
	return d
}

// encodedJSON returns the encoding as a JSON string. The encoding is base64
// text, which needs no escaping.
func encodedJSON(b []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+2)
	out = append(out, '"')
	out = append(out, b...)
	return append(out, '"'), nil
}

// jsonString returns the contents of a JSON string holding an encoding;
// false for JSON null, which leaves the receiver unchanged.
func jsonString(name string, data []byte) ([]byte, bool, error) {
	if string(data) == "null" {
		return nil, false, nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false, fmt.Errorf("stats: decode %s: want the encoding as a JSON string: %w", name, err)
	}
	return []byte(s), true, nil
}
