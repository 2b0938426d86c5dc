package report

import (
	"fmt"
	"math"
	"strings"
)

// CompareOptions set the thresholds of Compare. The zero value gives the
// defaults.
type CompareOptions struct {
	// Alpha is the significance level of each test (default 0.05): the
	// chance that one metric of two runs of the same system is flagged
	// significant.
	Alpha float64

	// Threshold is the relative change beyond which a significant change
	// in the worse direction is a regression (default 0.05, 5%).
	Threshold float64

	// NoThreshold makes every significant change in the worse direction a
	// regression, however small: the threshold is 0, not the default.
	// Threshold must then be 0.
	NoThreshold bool

	// Partial leaves results found in one file only out of Incomparable
	// (they are still listed in OnlyOld and OnlyNew), as long as the files
	// have a result in common.
	Partial bool
}

// Validate reports an option out of range: Alpha must be 0 (the default)
// or within (0, 1), Threshold a finite number >= 0, and 0 when NoThreshold
// is set. Compare itself uses the defaults in place of invalid options;
// check them first where they come from a user.
func (o CompareOptions) Validate() error {
	switch {
	case !(o.Alpha >= 0 && o.Alpha < 1):
		return fmt.Errorf("report: compare: alpha %v: want a significance level within (0, 1)", o.Alpha)
	case !(o.Threshold >= 0) || math.IsInf(o.Threshold, 0):
		return fmt.Errorf("report: compare: threshold %v: want a relative change >= 0", o.Threshold)
	case o.NoThreshold && o.Threshold != 0:
		return fmt.Errorf("report: compare: threshold %v with NoThreshold", o.Threshold)
	}
	return nil
}

// Default comparison settings.
const (
	DefaultAlpha     = 0.05
	DefaultThreshold = 0.05
)

// Comparison is the result of Compare: one Delta per scenario, provider,
// model and metric found in both files, in the new file's order.
type Comparison struct {
	Alpha     float64
	Threshold float64
	Deltas    []Delta

	// OnlyOld and OnlyNew name the results ("scenario provider/model")
	// found in one file only; they are not compared.
	OnlyOld, OnlyNew []string

	// Incomparable says, one line each, what Compare could not compare:
	// results found in one file only, results that measured no request,
	// metrics with samples on one side only, histograms that do not
	// decode, and two files with nothing in common. A comparison that
	// leaves something out is no evidence of "no regression": see Err.
	Incomparable []string
}

// Err returns an error listing what could not be compared (Incomparable),
// or nil when everything in both files was compared.
func (c *Comparison) Err() error {
	if len(c.Incomparable) == 0 {
		return nil
	}
	return fmt.Errorf("report: cannot compare:\n\t%s", strings.Join(c.Incomparable, "\n\t"))
}

// Regressed reports whether any Delta is a regression.
func (c *Comparison) Regressed() bool {
	for i := range c.Deltas {
		if c.Deltas[i].Regression {
			return true
		}
	}
	return false
}

// Regressions returns the Deltas that are regressions.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Regression {
			out = append(out, d)
		}
	}
	return out
}

// Delta compares one metric of one result between two files.
type Delta struct {
	Scenario, Provider, Model string

	// Metric names the metric ("TTFT p95", "error rate"); Unit is its unit
	// ("ms", "tokens/s", "%" for rates, Old and New being fractions then);
	// LowerIsBetter its direction.
	Metric        string
	Unit          string
	LowerIsBetter bool

	// Old and New are the values; Change is (New − Old) / Old (±Inf when
	// Old is 0 and New is not, 0 when both are 0).
	Old, New float64
	Change   float64

	// P is the two-sided p-value of the test of no difference (1 when the
	// test could not be made); Significant is P < Alpha.
	P           float64
	Significant bool

	// Regression is a significant change in the worse direction by more
	// than the Threshold; Improvement one in the better direction by more
	// than the Threshold.
	Regression, Improvement bool

	// Note says why a test could not be made ("too few samples").
	Note string
}

// comparedMetric is one metric Compare looks at.
type comparedMetric struct {
	name   string
	unit   string
	lower  bool
	dist   func(*Metrics) *Distribution // percentile metrics
	p      float64
	counts func(*Metrics) (k, n int64) // proportion metrics
}

// comparedMetrics are the metrics Compare reports, in order.
var comparedMetrics = []comparedMetric{
	{name: "TTFT p50", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TTFT }, p: 50},
	{name: "TTFT p95", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TTFT }, p: 95},
	{name: "TTFT p99", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TTFT }, p: 99},
	{name: "ITL p50", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }, p: 50},
	{name: "ITL p99", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }, p: 99},
	{name: "TPOT p50", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TPOT }, p: 50},
	{name: "E2E p50", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TotalDuration }, p: 50},
	{name: "E2E p95", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TotalDuration }, p: 95},
	{name: "E2E p99", unit: UnitMillis, lower: true, dist: func(m *Metrics) *Distribution { return m.Latency.TotalDuration }, p: 99},
	{name: "tokens/s p50", unit: UnitTokensPerSec, lower: false, dist: func(m *Metrics) *Distribution { return m.Latency.Throughput }, p: 50},
	{name: "error rate", unit: "%", lower: true, counts: func(m *Metrics) (int64, int64) { return m.FailedRequests, m.TotalRequests }},
	{name: "goodput", unit: "%", lower: false, counts: func(m *Metrics) (int64, int64) { return m.GoodRequests, m.TotalRequests }},
}

// Compare compares every result found in both old and new (matched by
// scenario name, provider and model) on TTFT p50, p95 and p99, ITL p50 and
// p99, TPOT p50, E2E p50, p95 and p99, per-request tokens/s p50, error rate
// and goodput. A metric without samples on both sides is left out (a
// scenario that does not stream has no ITL); everything else Compare could
// not compare is listed in Incomparable (see Err).
//
// # The test
//
// Percentiles are tested from the encoded histograms with a
// distribution-free test of the difference of two percentiles, in the
// manner of Price and Bonett's test for medians (2002): for each side, the
// order-statistic confidence interval of the percentile
// (stats.PercentileInterval, exact binomial ranks, nothing assumed about
// the distribution's shape) gives that side's standard error,
//
//	se = (half-width of the interval toward the other estimate) / z,
//
// z being the normal quantile of the interval's achieved coverage; the
// difference is significant when |new − old| / sqrt(se_old² + se_new²)
// exceeds the normal quantile of 1 − Alpha/2, with P the matching
// two-sided p-value.
//
// Why this test rather than Mann-Whitney U on the bucketed histograms: the
// question asked of a latency SLO is about one percentile ("did p99 TTFT
// get worse?"), and a rank test answers another (is one distribution
// stochastically larger?), blind to a tail that grows while the median
// holds. Why not simply the non-overlap of two confidence intervals: at
// 95% each, non-overlap is a test at about alpha 0.006, too timid; at the
// level that makes it alpha 0.05 for equal sample sizes (83%), it is
// anti-conservative when the sizes differ much. The standard errors
// combined in quadrature hold alpha for any sizes. The intervals are
// conservative (coverage at least the level) and widened to whole
// histogram buckets, so the test errs on the side of "not significant".
// When a side has too few samples for a bounded interval (a p99 needs a few
// hundred), the test is not made: P is 1 and Note says so.
//
// Error rate and goodput are proportions, tested with the two-proportion
// z-test (pooled), and not made when either side ran nothing.
//
// A Delta is a regression when it is significant and worse than old by
// more than Threshold (relative change); an improvement likewise in the
// better direction.
func Compare(old, new *File, opts CompareOptions) *Comparison {
	alpha, threshold := opts.Alpha, opts.Threshold
	if opts.Validate() != nil || alpha == 0 {
		alpha = DefaultAlpha
	}
	if opts.Validate() != nil || threshold == 0 && !opts.NoThreshold {
		threshold = DefaultThreshold
	}
	c := &Comparison{Alpha: alpha, Threshold: threshold}
	type key struct{ scenario, provider, model string }
	oldResults := map[key]*Metrics{}
	seen := map[key]bool{}
	for i := range old.Scenarios {
		sc := &old.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			oldResults[key{sc.Name, r.Provider, r.Model}] = &r.Metrics
		}
	}
	for i := range new.Scenarios {
		sc := &new.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			k := key{sc.Name, r.Provider, r.Model}
			om, ok := oldResults[k]
			if !ok {
				c.OnlyNew = append(c.OnlyNew, sc.Name+" "+r.Provider+"/"+r.Model)
				continue
			}
			seen[k] = true
			name := sc.Name + " " + r.Provider + "/" + r.Model
			if om.TotalRequests == 0 || r.Metrics.TotalRequests == 0 {
				c.Incomparable = append(c.Incomparable, fmt.Sprintf("%s: measured %d requests in the old file, %d in the new",
					name, om.TotalRequests, r.Metrics.TotalRequests))
				continue
			}
			for _, cm := range comparedMetrics {
				d, ok := compareMetric(cm, om, &r.Metrics, alpha, threshold)
				if d.Note == noteOneSided || d.Note == noteNoDecode {
					c.Incomparable = append(c.Incomparable, name+": "+cm.name+": "+d.Note)
					continue
				}
				if !ok {
					continue
				}
				d.Scenario, d.Provider, d.Model = sc.Name, r.Provider, r.Model
				c.Deltas = append(c.Deltas, d)
			}
		}
	}
	for i := range old.Scenarios {
		sc := &old.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			if !seen[key{sc.Name, r.Provider, r.Model}] {
				c.OnlyOld = append(c.OnlyOld, sc.Name+" "+r.Provider+"/"+r.Model)
			}
		}
	}
	if !opts.Partial || len(seen) == 0 {
		for _, n := range c.OnlyOld {
			c.Incomparable = append(c.Incomparable, n+": only in the old file")
		}
		for _, n := range c.OnlyNew {
			c.Incomparable = append(c.Incomparable, n+": only in the new file")
		}
	}
	if len(seen) == 0 {
		c.Incomparable = append(c.Incomparable, "the files have no scenario, provider and model in common")
	}
	return c
}

// Notes of metrics that cannot be compared.
const (
	noteOneSided = "samples on one side only"
	noteNoDecode = "histogram does not decode"
)

// compareMetric makes one Delta; false when the metric has no data.
func compareMetric(cm comparedMetric, om, nm *Metrics, alpha, threshold float64) (Delta, bool) {
	d := Delta{Metric: cm.name, Unit: cm.unit, LowerIsBetter: cm.lower, P: 1}
	if cm.counts != nil {
		k0, n0 := cm.counts(om)
		k1, n1 := cm.counts(nm)
		if n0 <= 0 || n1 <= 0 {
			return d, false
		}
		d.Old, d.New = float64(k0)/float64(n0), float64(k1)/float64(n1)
		d.P = proportionTest(k0, n0, k1, n1)
	} else {
		od, nd := cm.dist(om), cm.dist(nm)
		oldHas, newHas := od != nil && od.Count > 0, nd != nil && nd.Count > 0
		if oldHas != newHas {
			d.Note = noteOneSided
		}
		if !oldHas || !newHas {
			return d, false
		}
		oe, err1 := estimate(od, cm.p)
		ne, err2 := estimate(nd, cm.p)
		if err1 != nil || err2 != nil {
			d.Note = noteNoDecode
			return d, false
		}
		d.Old, d.New = oe.est, ne.est
		d.P, d.Note = percentileTest(oe, ne)
	}
	d.Change = relChange(d.Old, d.New)
	d.Significant = d.P < alpha
	worse := d.Change > threshold
	better := d.Change < -threshold
	if !cm.lower {
		worse, better = better, worse
	}
	d.Regression = d.Significant && worse
	d.Improvement = d.Significant && better
	return d, true
}

func relChange(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Copysign(math.Inf(1), new-old)
	}
	return (new - old) / math.Abs(old)
}

// pctEstimate is a percentile with its confidence interval, in the
// distribution's unit.
type pctEstimate struct {
	est, lo, hi float64
	loOK, hiOK  bool    // the side is bounded
	coverage    float64 // the interval's achieved coverage
	n           int64
}

// estimateLevel is the confidence of the intervals standard errors are
// taken from: 0.9 keeps p99 testable from 230 samples (0.95 would need 299)
// while its half-width still reflects the tail.
const estimateLevel = 0.9

func estimate(d *Distribution, p float64) (pctEstimate, error) {
	if d.IsLatency() {
		l, err := d.Latency()
		if err != nil {
			return pctEstimate{}, err
		}
		iv := l.PercentileInterval(p, estimateLevel)
		ms := func(x float64) float64 { return x / 1e6 }
		return pctEstimate{
			est: ms(float64(iv.Estimate)), lo: ms(float64(iv.Lo)), hi: ms(float64(iv.Hi)),
			loOK: iv.LoRank >= 1, hiOK: iv.HiRank <= iv.N, coverage: iv.Confidence, n: iv.N,
		}, nil
	}
	v, err := d.Values()
	if err != nil {
		return pctEstimate{}, err
	}
	iv := v.PercentileInterval(p, estimateLevel)
	return pctEstimate{
		est: iv.Estimate, lo: iv.Lo, hi: iv.Hi,
		loOK: iv.LoRank >= 1, hiOK: iv.HiRank <= iv.N, coverage: iv.Confidence, n: iv.N,
	}, nil
}

// percentileTest returns the two-sided p-value of the difference of two
// percentile estimates (see Compare), or 1 and a note when a needed side of
// an interval is open.
func percentileTest(o, n pctEstimate) (float64, string) {
	if o.est == n.est {
		return 1, ""
	}
	// The half-widths that matter face the other estimate.
	var ho, hn float64
	var ok bool
	if n.est > o.est {
		ho, hn, ok = o.hi-o.est, n.est-n.lo, o.hiOK && n.loOK
	} else {
		ho, hn, ok = o.est-o.lo, n.hi-n.est, o.loOK && n.hiOK
	}
	if !ok || o.coverage >= 1 || n.coverage >= 1 {
		return 1, "too few samples"
	}
	seO := ho / normalQuantile((1+o.coverage)/2)
	seN := hn / normalQuantile((1+n.coverage)/2)
	se := math.Hypot(seO, seN)
	diff := math.Abs(n.est - o.est)
	if se == 0 {
		// Both intervals collapse on their estimates: every sample near
		// the percentile falls in one histogram bucket, and the estimates
		// lie in different buckets.
		return 0, ""
	}
	return 2 * normalSF(diff/se), ""
}

// proportionTest is the two-sided p-value of the pooled two-proportion
// z-test of k0/n0 against k1/n1 (1 when every request on both sides had
// the same outcome).
func proportionTest(k0, n0, k1, n1 int64) float64 {
	p := float64(k0+k1) / float64(n0+n1)
	if p <= 0 || p >= 1 {
		return 1
	}
	se := math.Sqrt(p * (1 - p) * (1/float64(n0) + 1/float64(n1)))
	z := math.Abs(float64(k1)/float64(n1)-float64(k0)/float64(n0)) / se
	return 2 * normalSF(z)
}

// normalQuantile is the standard normal quantile of q, 0 < q < 1.
func normalQuantile(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }

// normalSF is the standard normal survival function, P(Z > z).
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// String formats d in one line: "chat openai/gpt-4o TTFT p95: 120.0ms →
// 150.0ms (+25.0%, p=0.001) REGRESSION".
func (d Delta) String() string {
	s := fmt.Sprintf("%s %s/%s %s: %s → %s (%s, %s)", d.Scenario, d.Provider, d.Model, d.Metric,
		formatValue(d.Old, d.Unit), formatValue(d.New, d.Unit), formatChange(d.Change), formatP(d))
	switch {
	case d.Regression:
		s += " REGRESSION"
	case d.Improvement:
		s += " improvement"
	}
	return s
}

// formatValue formats a value of a Delta in its unit.
func formatValue(v float64, unit string) string {
	switch unit {
	case UnitMillis:
		return fmtFloat(v) + "ms"
	case "%":
		return fmtFloat(v*100) + "%"
	case UnitTokensPerSec:
		return fmtFloat(v) + " tok/s"
	}
	return fmtFloat(v) + " " + unit
}

// formatChange formats a relative change as a signed percentage.
func formatChange(c float64) string {
	switch {
	case math.IsInf(c, 1):
		return "+∞%"
	case math.IsInf(c, -1):
		return "−∞%"
	case c == 0:
		return "~"
	}
	return fmt.Sprintf("%+.1f%%", c*100)
}

func formatP(d Delta) string {
	if d.Note != "" {
		return d.Note
	}
	if d.P < 0.001 {
		return "p<0.001"
	}
	return fmt.Sprintf("p=%.3f", d.P)
}

// fmtFloat formats x with one decimal, or more for small values, so that
// tiny latencies do not print as 0.0.
func fmtFloat(x float64) string {
	ax := math.Abs(x)
	switch {
	case ax == 0:
		return "0"
	case ax >= 100:
		return fmt.Sprintf("%.1f", x)
	case ax >= 1:
		return fmt.Sprintf("%.2f", x)
	case ax >= 0.01:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2g", x)
}
