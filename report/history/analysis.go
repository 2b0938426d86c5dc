package history

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/stats"
)

// A Metric is one number of a result that trends and checks follow:
// a percentile of a distribution ("ttft.p95", "e2e.p99.9",
// "tokens_per_second.p50"), a rate ("error_rate", "goodput"), or the
// verdict on an SLO gate ("gate:ttft_p95", "gate:error_rate").
type Metric struct {
	// Dist names the distribution (as report.Metrics.Distributions names
	// them) and P the percentile, for a percentile metric; Rate is
	// "error_rate" or "goodput" for a rate; Gate names a gate (as
	// report.Gate.Name does) for a gate's verdict, whose value is the
	// verdict's estimate with its interval.
	Dist string
	P    float64
	Rate string
	Gate string
}

// ParseMetric parses "DIST.pP" (DIST a distribution name, P a percentile
// from 0 to 100), a rate name, error_rate or goodput, or "gate:NAME" (a
// gate's name: ttft_p95, e2e_p99.9, error_rate, ...).
func ParseMetric(s string) (Metric, error) {
	if s == "error_rate" || s == "goodput" {
		return Metric{Rate: s}, nil
	}
	if name, ok := strings.CutPrefix(s, "gate:"); ok {
		if name == "" {
			return Metric{}, fmt.Errorf("history: metric %q: want gate:NAME (gate:ttft_p95, gate:error_rate, ...)", s)
		}
		return Metric{Gate: name}, nil
	}
	i := strings.LastIndex(s, ".p")
	for i > 0 && strings.Contains(s[i+2:], ".") && !isNumber(s[i+2:]) {
		i = strings.LastIndex(s[:i], ".p")
	}
	if i <= 0 {
		return Metric{}, fmt.Errorf("history: metric %q: want DIST.pN (ttft.p95, e2e.p99.9, ...), error_rate, goodput or gate:NAME", s)
	}
	dist, pstr := s[:i], s[i+2:]
	if names := report.DistributionNames(); !slices.Contains(names, dist) {
		return Metric{}, fmt.Errorf("history: metric %q: unknown distribution %q (want one of %s)", s, dist, strings.Join(names, ", "))
	}
	p, err := strconv.ParseFloat(pstr, 64)
	if err != nil || !(p >= 0 && p <= 100) { // NaN too; p0 and p100 are the min and max
		return Metric{}, fmt.Errorf("history: metric %q: percentile %q is not a number from 0 to 100", s, pstr)
	}
	return Metric{Dist: dist, P: p}, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// String is the metric as ParseMetric reads it.
func (m Metric) String() string {
	if m.Gate != "" {
		return "gate:" + m.Gate
	}
	if m.Rate != "" {
		return m.Rate
	}
	return m.Dist + ".p" + strconv.FormatFloat(m.P, 'f', -1, 64)
}

// LowerIsBetter reports the metric's direction: false for goodput and
// tokens per second, true for the rest.
func (m Metric) LowerIsBetter() bool {
	return m.Rate != "goodput" && m.Dist != "tokens_per_second"
}

// Unit is the unit of the metric's values: "ms" for latencies, "%" for
// rates (values being fractions), else the distribution's unit.
func (m Metric) Unit() string {
	switch {
	case m.Gate != "":
		if m.Gate == "error_rate" {
			return "%"
		}
		return report.UnitMillis
	case m.Rate != "":
		return "%"
	case m.Dist == "tokens_per_second":
		return report.UnitTokensPerSec
	case m.Dist == "output_tokens":
		return report.UnitTokens
	}
	return report.UnitMillis
}

// intervalLevel is the confidence of the interval given with each point of
// a trend.
const intervalLevel = 0.95

// value computes the metric of one result with its 95% interval (lo 0
// and hi +Inf on a side the sample is too small to bound) and its sample
// size; ok is false when the result has no sample of it.
func (m Metric) value(r *report.Metrics, cache *decoded) (v, lo, hi float64, n int64, ok bool, err error) {
	if m.Rate != "" {
		k, total := r.FailedRequests, r.TotalRequests
		if m.Rate == "goodput" {
			k = r.GoodRequests
		}
		if total == 0 {
			return 0, 0, 0, 0, false, nil
		}
		v = float64(k) / float64(total)
		lo, hi = wilson(k, total, intervalLevel)
		return v, lo, hi, total, true, nil
	}
	d := r.DistributionNamed(m.Dist)
	if d == nil || d.Count == 0 {
		return 0, 0, 0, 0, false, nil
	}
	if d.IsLatency() {
		l, err := cache.latency(d)
		if err != nil {
			return 0, 0, 0, 0, false, err
		}
		iv := l.PercentileInterval(m.P, intervalLevel)
		msf := func(x time.Duration) float64 { return float64(x) / 1e6 }
		v, lo, hi = msf(iv.Estimate), msf(iv.Lo), msf(iv.Hi)
		if iv.HiRank > iv.N {
			hi = math.Inf(1)
		}
		return v, lo, hi, iv.N, true, nil
	}
	vals, err := cache.values(d)
	if err != nil {
		return 0, 0, 0, 0, false, err
	}
	iv := vals.PercentileInterval(m.P, intervalLevel)
	return iv.Estimate, iv.Lo, iv.Hi, iv.N, true, nil
}

// gateValue is the verdict on the gate m names among gates: its estimate
// and interval (hi +Inf when unbounded), the requests it used, and its
// outcome; ok is false when no gate has that name.
func (m Metric) gateValue(gates []report.Gate) (v, lo, hi float64, n int64, outcome string, ok bool) {
	for _, g := range gates {
		if g.Name != m.Gate {
			continue
		}
		if g.Metric == "error_rate" {
			return g.Rate, g.RateLo, g.RateHi, g.Requests, g.Outcome, true
		}
		hi = math.Inf(1)
		if g.HiMs != nil {
			hi = *g.HiMs
		}
		return g.EstimateMs, g.LoMs, hi, g.Requests, g.Outcome, true
	}
	return 0, 0, 0, 0, "", false
}

// decoded memoizes the histograms of distributions, which several
// metrics read. A nil *decoded decodes every time.
type decoded struct {
	lat map[*report.Distribution]*stats.Latency
	val map[*report.Distribution]*stats.Values
}

func newDecoded() *decoded {
	return &decoded{lat: map[*report.Distribution]*stats.Latency{}, val: map[*report.Distribution]*stats.Values{}}
}

func (c *decoded) latency(d *report.Distribution) (*stats.Latency, error) {
	if c == nil {
		return d.Latency()
	}
	return memo(c.lat, d, (*report.Distribution).Latency)
}

func (c *decoded) values(d *report.Distribution) (*stats.Values, error) {
	if c == nil {
		return d.Values()
	}
	return memo(c.val, d, (*report.Distribution).Values)
}

// memo returns the histogram of d kept in m, or reads it with decode and
// keeps it.
func memo[H any](m map[*report.Distribution]H, d *report.Distribution, decode func(*report.Distribution) (H, error)) (H, error) {
	if h, ok := m[d]; ok {
		return h, nil
	}
	h, err := decode(d)
	if err == nil {
		m[d] = h
	}
	return h, err
}

// wilson is the Wilson score interval of k successes in n at level.
func wilson(k, n int64, level float64) (lo, hi float64) {
	z := math.Sqrt2 * math.Erfinv(level)
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / den
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, c-h), math.Min(1, c+h)
}

// Point is a metric's value in one run.
type Point struct {
	Run    int64
	Time   time.Time
	Commit string

	// Value is the metric; Lo and Hi its 95% confidence interval (the
	// percentile's distribution-free interval, the Wilson interval of a
	// rate), Lo 0 and Hi +Inf on a side the sample is too small to bound;
	// N the sample size (for a gate: the requests its verdict used).
	Value, Lo, Hi float64
	N             int64

	// Outcome is a gate's verdict, pass, fail or inconclusive; empty for
	// other metrics.
	Outcome string
}

// Series is one result's metric over runs, oldest first.
type Series struct {
	Scenario, Provider, Model string
	Metric                    Metric
	Points                    []Point
}

// Key names the series' result: "scenario provider/model".
func (s *Series) Key() string { return s.Scenario + " " + s.Provider + "/" + s.Model }

// Trend returns metric over the runs that f selects, one Series per
// result (scenario, provider and model) that has it, in order of first
// appearance. With f.Scenario set, only that scenario's results.
func (s *Store) Trend(ctx context.Context, metric Metric, f Filter) ([]Series, error) {
	runs, err := s.Runs(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []Series
	index := map[string]int{}
	for _, run := range runs {
		file, err := s.File(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		for i := range file.Scenarios {
			sc := &file.Scenarios[i]
			if f.Scenario != "" && sc.Name != f.Scenario {
				continue
			}
			for j := range sc.Results {
				r := &sc.Results[j]
				var (
					v, lo, hi float64
					n         int64
					outcome   string
					ok        bool
				)
				if metric.Gate != "" {
					v, lo, hi, n, outcome, ok = metric.gateValue(r.Gates)
				} else {
					v, lo, hi, n, ok, err = metric.value(&r.Metrics, nil)
					if err != nil {
						return nil, fmt.Errorf("history: run %d, %s %s/%s: %w", run.ID, sc.Name, r.Provider, r.Model, err)
					}
				}
				if !ok {
					continue
				}
				key := sc.Name + " " + r.Provider + "/" + r.Model
				k, seen := index[key]
				if !seen {
					k = len(out)
					index[key] = k
					out = append(out, Series{Scenario: sc.Name, Provider: r.Provider, Model: r.Model, Metric: metric})
				}
				out[k].Points = append(out[k].Points, Point{Run: run.ID, Time: run.Time, Commit: run.Commit, Value: v, Lo: lo, Hi: hi, N: n, Outcome: outcome})
			}
		}
	}
	return out, nil
}

// CheckMetrics are the metrics Check tests for drift: those that
// report.Compare compares.
var CheckMetrics = []Metric{
	{Dist: "ttft", P: 50}, {Dist: "ttft", P: 95}, {Dist: "ttft", P: 99},
	{Dist: "itl", P: 50}, {Dist: "itl", P: 99},
	{Dist: "tpot", P: 50},
	{Dist: "e2e", P: 50}, {Dist: "e2e", P: 95}, {Dist: "e2e", P: 99},
	{Dist: "tokens_per_second", P: 50},
	{Rate: "error_rate"}, {Rate: "goodput"},
}

// Defaults of CheckOptions.
const (
	DefaultBaselineRuns = 20
	DefaultDriftAlpha   = 0.01
	MinDriftRuns        = 8
)

// CheckOptions say what to check against what.
type CheckOptions struct {
	// New is the run to check: a result file, or (when nil) the run NewID
	// of the history, or (when 0) its newest run that Baseline.Filter
	// selects.
	New   *report.File
	NewID int64

	// Baseline selects the baseline runs: the runs pinned under
	// Baseline.Baseline, or the newest Baseline.Last (default 20) runs
	// before the new one that the rest of the filter selects. Its Branch
	// defaults to the new run's branch. Only runs of the new run's
	// configuration (config hash) are taken, when it has one.
	Baseline Filter

	// Alpha, Threshold and NoThreshold are report.Compare's (defaults
	// 0.05 and 5%; NoThreshold: every significant change for the worse
	// counts).
	Alpha, Threshold float64
	NoThreshold      bool

	// DriftAlpha is the significance level of the trend test (default
	// 0.01: it runs on a dozen metrics at every check).
	DriftAlpha float64
}

// CheckResult is the outcome of Check.
type CheckResult struct {
	// NewRun is the checked run's id (0 for a result file not in the
	// history); Baseline the ids of the baseline runs, oldest first.
	NewRun   int64
	Baseline []int64

	// Comparison is report.Compare of the baseline, all its runs merged
	// into one, against the new run.
	Comparison *report.Comparison

	// Drifts are the trend tests of every CheckMetric of every result over
	// the baseline runs and the new one, in that order.
	Drifts []Drift
}

// Regressed reports whether the check fails: a significant regression
// against the baseline, or a drift in the worse direction.
func (c *CheckResult) Regressed() bool {
	if c.Comparison.Regressed() {
		return true
	}
	for _, d := range c.Drifts {
		if d.Worse {
			return true
		}
	}
	return false
}

// Drift is the trend test of one metric of one result over a window of
// runs.
//
// The test is Mann–Kendall's: S counts the pairs of runs (i < j) whose
// value rose minus those whose value fell; under no trend S is centred on
// 0 with a known variance (corrected for ties), and |S| large is a
// monotone trend. It was chosen for a slow drift because it looks at every
// pair of runs, not at neighbours: many small steps in one direction add
// up, though each is lost in the noise of a single comparison, and it
// assumes nothing about the shape of the distribution of the values, and
// one outlying run moves S by at most n − 1. A change-point test (Pettitt)
// would look for one step, which the comparison with the baseline already
// catches. The size of the drift is Sen's slope (the median of the slopes
// of all pairs), a robust estimate that goes with the test.
type Drift struct {
	Scenario, Provider, Model string
	Metric                    Metric

	// Runs is the number of runs in the window; Values the metric in each,
	// oldest first.
	Runs   int
	Values []float64

	// S and Z are the Mann–Kendall statistic and its normal score, P the
	// two-sided p-value (1 when the test was not made: fewer than
	// MinDriftRuns runs).
	S    int
	Z, P float64

	// Slope is Sen's slope in the metric's unit per run; Change the
	// relative change it makes over the window, Slope × (Runs − 1) over
	// the median value.
	Slope, Change float64

	// Significant is P < DriftAlpha; Worse a significant drift in the
	// worse direction by more than the Threshold over the window.
	Significant, Worse bool
}

// ErrNoBaseline is the error, wrapped, of Check when the history holds no
// baseline run for the new one.
var ErrNoBaseline = errors.New("no baseline runs")

// Check compares a run with a baseline built from the history, and tests
// every CheckMetric for a slow drift over the baseline runs and the new
// run (see Drift).
//
// The baseline's runs are merged into one result (report.Merge): every
// percentile is that of all their requests together, tested against the
// new run's with report.Compare's test. That test sees the sampling noise
// of the runs, not the differences between them (a machine that is busier
// on one day): set the threshold above the run-to-run variation that is
// not worth a failure.
func (s *Store) Check(ctx context.Context, o CheckOptions) (*CheckResult, error) {
	res := &CheckResult{}
	newFile := o.New
	var newRun *Run
	if newFile == nil {
		id := o.NewID
		if id == 0 {
			f := o.Baseline
			f.Last, f.Baseline, f.Before = 1, "", 0
			runs, err := s.Runs(ctx, f)
			if err != nil {
				return nil, err
			}
			if len(runs) == 0 {
				return nil, fmt.Errorf("history: %s: check: no run to check", s.path)
			}
			id = runs[0].ID
		}
		runs, err := s.runsByID(ctx, id)
		if err != nil {
			return nil, err
		}
		newRun = &runs[0]
		if newFile, err = s.File(ctx, id); err != nil {
			return nil, err
		}
		res.NewRun = id
	}
	bf := o.Baseline
	if bf.Baseline == "" {
		if bf.Last <= 0 {
			bf.Last = DefaultBaselineRuns
		}
		if newRun != nil {
			bf.Before = newRun.ID
			if bf.Branch == "" {
				bf.Branch = newRun.Branch
			}
		}
	} else {
		bf.Last = 0
	}
	bf.ConfigHash = newFile.Metadata.ConfigHash
	runs, err := s.Runs(ctx, bf)
	if err != nil {
		return nil, err
	}
	if newRun != nil {
		kept := runs[:0]
		for _, r := range runs {
			if r.ID != newRun.ID {
				kept = append(kept, r)
			}
		}
		runs = kept
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("history: %s: check: %w (%s)", s.path, ErrNoBaseline, describe(bf))
	}
	files := make([]*report.File, len(runs))
	for i, r := range runs {
		f, err := s.File(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		f.Metadata.ConfigHash = "" // merged as shards of one baseline
		files[i] = f
		res.Baseline = append(res.Baseline, r.ID)
	}
	base, err := report.MergeOptions{Pool: true}.Merge(files...)
	if err != nil {
		return nil, fmt.Errorf("history: %s: check: merge the baseline runs %v: %w", s.path, res.Baseline, err)
	}
	res.Comparison = report.Compare(base, newFile, report.CompareOptions{Alpha: o.Alpha, Threshold: o.Threshold, NoThreshold: o.NoThreshold})

	alpha := o.DriftAlpha
	if alpha <= 0 || alpha >= 1 {
		alpha = DefaultDriftAlpha
	}
	threshold := res.Comparison.Threshold
	window := append(files, newFile)
	cache := newDecoded()
	for i := range newFile.Scenarios {
		sc := &newFile.Scenarios[i]
		for j := range sc.Results {
			r := &sc.Results[j]
			for _, m := range CheckMetrics {
				var xs []float64
				for _, f := range window {
					rm := findResult(f, sc.Name, r.Provider, r.Model)
					if rm == nil {
						continue
					}
					v, _, _, _, ok, err := m.value(rm, cache)
					if err != nil {
						return nil, err
					}
					if ok {
						xs = append(xs, v)
					}
				}
				if len(xs) == 0 {
					continue
				}
				d := mannKendall(xs)
				d.Scenario, d.Provider, d.Model, d.Metric = sc.Name, r.Provider, r.Model, m
				d.Significant = d.P < alpha
				worse := d.Change > threshold
				if !m.LowerIsBetter() {
					worse = d.Change < -threshold
				}
				d.Worse = d.Significant && worse
				res.Drifts = append(res.Drifts, d)
			}
		}
	}
	return res, nil
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func describe(f Filter) string {
	var parts []string
	if f.Baseline != "" {
		parts = append(parts, "baseline "+strconv.Quote(f.Baseline))
	}
	if f.Branch != "" {
		parts = append(parts, "branch "+strconv.Quote(f.Branch))
	}
	if f.ConfigHash != "" {
		parts = append(parts, "config "+f.ConfigHash)
	}
	if f.Scenario != "" {
		parts = append(parts, "scenario "+strconv.Quote(f.Scenario))
	}
	for k, v := range f.Labels {
		parts = append(parts, "label "+k+"="+v)
	}
	if f.Before > 0 {
		parts = append(parts, fmt.Sprintf("before run %d", f.Before))
	}
	if len(parts) == 0 {
		return "the history is empty"
	}
	return "none with " + strings.Join(parts, ", ")
}

func (s *Store) runsByID(ctx context.Context, id int64) ([]Run, error) {
	runs, err := s.Runs(ctx, Filter{Before: id + 1, Last: 1})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 || runs[0].ID != id {
		return nil, fmt.Errorf("history: %s: run %d: %w", s.path, id, ErrNoRun)
	}
	return runs, nil
}

func findResult(f *report.File, scenario, provider, model string) *report.Metrics {
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		if sc.Name != scenario {
			continue
		}
		for j := range sc.Results {
			r := &sc.Results[j]
			if r.Provider == provider && r.Model == model {
				return &r.Metrics
			}
		}
	}
	return nil
}

// mannKendall tests xs (in order) for a monotone trend: S, its normal
// score with the tie correction and continuity correction, the two-sided
// p-value, Sen's slope and the relative change over the window.
func mannKendall(xs []float64) Drift {
	n := len(xs)
	d := Drift{Runs: n, Values: xs, P: 1}
	if n < 2 {
		return d
	}
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d.S += sign(xs[j] - xs[i])
			slopes = append(slopes, (xs[j]-xs[i])/float64(j-i))
		}
	}
	d.Slope = median(slopes)
	if m := median(append([]float64(nil), xs...)); m != 0 {
		d.Change = d.Slope * float64(n-1) / math.Abs(m)
	}
	if n < MinDriftRuns {
		return d
	}
	// Variance of S under no trend, with groups of tied values.
	ties := map[float64]int{}
	for _, x := range xs {
		ties[x]++
	}
	nf := float64(n)
	v := nf * (nf - 1) * (2*nf + 5)
	for _, t := range ties {
		tf := float64(t)
		v -= tf * (tf - 1) * (2*tf + 5)
	}
	v /= 18
	if v <= 0 {
		return d
	}
	switch {
	case d.S > 0:
		d.Z = float64(d.S-1) / math.Sqrt(v)
	case d.S < 0:
		d.Z = float64(d.S+1) / math.Sqrt(v)
	}
	d.P = math.Erfc(math.Abs(d.Z) / math.Sqrt2)
	return d
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
