package stats

// Range of a Values distribution. MinValue is its lowest discernible value:
// values below it are recorded and counted at the histogram's resolution of
// 0.000512, 0 to 0.000511 sharing the lowest bucket. Values above MaxValue are
// recorded as MaxValue and counted by Clamped.
const (
	MinValue = 0.001
	MaxValue = 1e9
)

// valuesScale is the number of histogram units per unit of value: a Values
// histogram counts millionths, and its encoding says so in its
// integer-to-double conversion ratio.
const valuesScale = 1e6

var valuesGeometry = geometry{
	name:    "values",
	lowest:  int64(MinValue * valuesScale),
	highest: int64(MaxValue * valuesScale),
	digits:  3,
	ratio:   1 / valuesScale,
}

// Values is a distribution of non-negative real quantities that are not
// durations (tokens per second, output tokens, cost), on an HDR histogram
// tracking MinValue (0.001) to MaxValue (1e9) with 3 significant figures. It is
// a Latency for float64: the same methods, the same guarantees, and the same
// concurrency contract (one Values per goroutine, Merge at the end).
//
// Values are stored in millionths, rounded to the nearest. A value of about
// 0.52 or more is resolved to within 0.1% (3 significant figures); a smaller
// one to within 0.000512. Record of NaN or of a negative value records
// nothing and is counted by Rejected; values above MaxValue, +Inf included,
// are recorded as MaxValue and counted by Clamped. No read method reports a
// value above MaxValue.
//
// The zero value is an empty distribution ready to use; its histogram (about
// 256 KB of counts) is allocated by the first Record. A nil *Values behaves as
// an empty distribution for every read method.
type Values struct {
	d        hist
	clamped  int64
	rejected int64
}

// NewValues returns an empty Values. It allocates no histogram until the
// first Record.
func NewValues() *Values { return &Values{} }

// Record adds one value to the distribution. NaN and negative values are not
// recorded and are counted by Rejected; values above MaxValue are recorded as
// MaxValue and counted by Clamped. Record does not allocate, except the first
// Record into an empty Values, which allocates its histogram.
func (v *Values) Record(x float64) { v.RecordN(x, 1) }

// RecordN adds n occurrences of x, as n calls to Record would. n <= 0
// records nothing.
func (v *Values) RecordN(x float64, n int64) {
	if n <= 0 {
		return
	}
	if !(x >= 0) { // NaN or negative
		v.rejected += n
		return
	}
	if x > MaxValue {
		v.clamped += n
		x = MaxValue
	}
	v.d.record(&valuesGeometry, int64(x*valuesScale+0.5), n)
}

func (v *Values) hist() *hist {
	if v == nil {
		return nil
	}
	return &v.d
}

func fromUnits(u int64) float64 { return float64(u) / valuesScale }

// Count returns the number of recorded values, including the clamped ones
// and not the rejected ones. It is 0 for an empty or nil distribution.
func (v *Values) Count() int64 { return v.hist().count() }

// Clamped returns how many recorded values were above MaxValue and were
// recorded as MaxValue. The encoded form does not carry this count.
func (v *Values) Clamped() int64 {
	if v == nil {
		return 0
	}
	return v.clamped
}

// Rejected returns how many values given to Record were NaN or negative and
// were not recorded. The encoded form does not carry this count.
func (v *Values) Rejected() int64 {
	if v == nil {
		return 0
	}
	return v.rejected
}

// Percentile returns the value at percentile p, with p from 0 to 100 (a p
// outside is clamped to that range), by the rule of Latency.Percentile. It
// returns 0 for an empty distribution or a NaN p.
func (v *Values) Percentile(p float64) float64 {
	u, _ := v.hist().percentile(&valuesGeometry, p)
	return fromUnits(u)
}

// ValueAtRank returns the k-th smallest recorded value (k from 1 to Count; a
// k outside is clamped to that range) as the histogram resolves it, by the
// rule of Latency.ValueAtRank; 0 for an empty distribution.
func (v *Values) ValueAtRank(k int64) float64 {
	u, _ := v.hist().valueAtRank(&valuesGeometry, k)
	return fromUnits(u)
}

// Min returns the smallest recorded value, rounded down to the lowest value
// the histogram cannot tell from it; 0 for an empty distribution.
func (v *Values) Min() float64 { return fromUnits(v.hist().min(&valuesGeometry)) }

// Max returns the largest recorded value, rounded up to the highest value the
// histogram cannot tell from it (at most MaxValue); 0 for an empty
// distribution.
func (v *Values) Max() float64 { return fromUnits(v.hist().max(&valuesGeometry)) }

// Mean returns the arithmetic mean of the recorded values, each taken at the
// middle of its histogram bucket; 0 for an empty distribution.
func (v *Values) Mean() float64 { return v.hist().mean(&valuesGeometry) / valuesScale }

// Stddev returns the population standard deviation of the recorded values,
// each taken at the middle of its histogram bucket; 0 for an empty
// distribution.
func (v *Values) Stddev() float64 { return v.hist().stddev() / valuesScale }

// ValuesSummary is the usual digest of a Values distribution, as Summary is
// for a Latency. Every field is 0 for an empty distribution.
type ValuesSummary struct {
	Count  int64
	Min    float64
	Max    float64
	Mean   float64
	Median float64
	StdDev float64
	P90    float64
	P95    float64
	P99    float64
	P999   float64
}

// Summary returns the count, extremes, moments and usual percentiles in one
// call. It is the zero ValuesSummary for an empty distribution.
func (v *Values) Summary() ValuesSummary {
	if v.Count() == 0 {
		return ValuesSummary{}
	}
	ps := v.d.percentiles(&valuesGeometry, summaryPercentiles[:])
	return ValuesSummary{
		Count:  v.Count(),
		Min:    v.Min(),
		Max:    v.Max(),
		Mean:   v.Mean(),
		Median: fromUnits(ps[0]),
		StdDev: v.Stddev(),
		P90:    fromUnits(ps[1]),
		P95:    fromUnits(ps[2]),
		P99:    fromUnits(ps[3]),
		P999:   fromUnits(ps[4]),
	}
}

// Merge adds every value recorded in o to v, losslessly, with the Clamped and
// Rejected counts added. A nil or empty o is a no-op; v.Merge(v) doubles every
// count. The only error is a total count past MaxInt64, and then the counts
// that could not be held are dropped.
func (v *Values) Merge(o *Values) error {
	if o == nil {
		return nil
	}
	clamped, rejected := o.clamped, o.rejected
	if err := v.d.merge(&valuesGeometry, &o.d); err != nil {
		return err
	}
	v.clamped += clamped
	v.rejected += rejected
	return nil
}

// Reset empties the distribution and keeps its histogram for reuse. A nil v
// is a no-op.
func (v *Values) Reset() {
	if v == nil {
		return
	}
	v.d.reset()
	v.clamped, v.rejected = 0, 0
}

// Clone returns an independent copy of v. The clone of a nil *Values is an
// empty, non-nil Values.
func (v *Values) Clone() *Values {
	if v == nil {
		return NewValues()
	}
	return &Values{d: v.d.clone(), clamped: v.clamped, rejected: v.rejected}
}

// Encode returns the histogram in the HdrHistogram V2 compressed encoding, as
// base64 text: values in millionths (integer-to-double conversion ratio 1e-6),
// lowest discernible value 1000, highest trackable value 1e15, 3 significant
// figures. The Clamped and Rejected counts are not carried. An empty or nil
// distribution encodes as an empty histogram.
func (v *Values) Encode() ([]byte, error) { return v.hist().encode(&valuesGeometry) }

// DecodeValues returns the distribution that Values.Encode wrote into b. It
// returns an error, never panics, on empty, truncated or corrupt input, and on
// a valid HdrHistogram of any other range or precision (a Latency's
// included). The decoded Clamped and Rejected counts are 0.
func DecodeValues(b []byte) (*Values, error) {
	d, err := valuesGeometry.decode(b)
	if err != nil {
		return nil, err
	}
	return &Values{d: d}, nil
}

// MarshalJSON encodes v as a JSON string holding Encode's base64 text.
func (v *Values) MarshalJSON() ([]byte, error) { return encodedJSON(v.Encode()) }

// UnmarshalJSON replaces v with the distribution encoded in a JSON string, as
// MarshalJSON writes it, and resets Clamped and Rejected to 0. JSON null
// leaves v unchanged. On error v is unchanged.
func (v *Values) UnmarshalJSON(data []byte) error {
	b, ok, err := jsonString(valuesGeometry.name, data)
	if !ok || err != nil {
		return err
	}
	d, err := valuesGeometry.decode(b)
	if err != nil {
		return err
	}
	*v = Values{d: d}
	return nil
}
