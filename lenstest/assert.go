package lenstest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// DefaultConfidence is the confidence level of the intervals in assertion
// messages.
const DefaultConfidence = 0.95

// Result is a lens.Result bound to the test that produced it, like
// testify's assert.New(t): its Assert methods report to that test.
//
// Every Assert method calls tb.Helper, fails the test with Errorf (the test
// goes on) and returns whether the assertion held.
type Result struct {
	*lens.Result

	// Confidence is the level of the confidence intervals that assertion
	// messages give (default 0.95).
	Confidence float64

	tb testing.TB
}

// AssertPercentile fails the test when the p-th percentile (p in 0..100) of
// metric m is at or above limit. The message names the metric, the observed
// value, the limit and by how much it was broken, the sample count, the
// confidence interval of the percentile, and the scenario, provider and
// model.
//
// A percentile the sample cannot support — fewer samples than a bounded
// two-sided interval needs, such as p99 of 20 requests — fails with a
// message that says so and how many samples it needs. Under a benchmark it
// is only logged instead, since the testing package's first b.N == 1 probe
// run always has too few.
func (r *Result) AssertPercentile(m lens.Metric, p float64, limit time.Duration) bool {
	r.tb.Helper()
	l := r.Latency(m)
	if l == nil {
		r.tb.Errorf("lenstest: unknown metric %q", m)
		return false
	}
	name := fmt.Sprintf("p%s %s", fmtP(p), m)
	n := l.Count()
	if n == 0 {
		r.tb.Errorf("lenstest: %s: no samples (%d of %d requests succeeded%s)\n\t%s",
			name, r.Succeeded, r.Total, r.errorSummary(), r.where())
		return false
	}
	conf := r.conf()
	iv := l.PercentileInterval(p, conf)
	observed := l.Percentile(p)
	if !iv.Bounded {
		msg := fmt.Sprintf("lenstest: %s: %d samples are too few for a %s-confidence interval of p%s: it needs at least %d (observed %s = %v, limit %v)\n\t%s",
			name, n, fmtConf(conf), fmtP(p), stats.MinSamples(p, conf), name, round(observed), limit, r.where())
		if _, ok := r.tb.(*testing.B); ok {
			r.tb.Log(msg)
			return observed < limit
		}
		r.tb.Error(msg)
		return false
	}
	if observed < limit {
		return true
	}
	over := observed - limit
	var sure string
	switch {
	case iv.Lo >= limit:
		sure = "the whole interval is at or above the limit: broken with at least that confidence"
	default:
		sure = "the interval reaches below the limit: not conclusive at this confidence, more requests would tell"
	}
	r.tb.Errorf("lenstest: SLO broken: %s = %v, limit %v (over by %v, %+.1f%%)\n\t%s CI of p%s: %v .. %v (n=%d, ranks %d..%d): %s\n\t%s",
		name, round(observed), limit, round(over), 100*float64(over)/float64(limit),
		fmtConf(iv.Confidence), fmtP(p), round(iv.Lo), round(iv.Hi), n, iv.LoRank, iv.HiRank, sure, r.where())
	return false
}

// AssertErrorRate fails the test when the share of failed requests is above
// max (0..1). The message gives the failures by class with a sample error,
// and the Wilson confidence interval of the rate.
func (r *Result) AssertErrorRate(max float64) bool {
	r.tb.Helper()
	rate := r.ErrorRate()
	if rate <= max {
		return true
	}
	lo, hi := wilson(r.Failed, r.Total, r.conf())
	r.tb.Errorf("lenstest: error rate %.2f%% (%d of %d requests) exceeds %.2f%%\n\t%s CI of the rate: %.2f%% .. %.2f%%%s\n\t%s",
		100*rate, r.Failed, r.Total, 100*max, fmtConf(r.conf()), 100*lo, 100*hi, r.errorSummary(), r.where())
	return false
}

// AssertP50TTFT fails the test when the 50th percentile of the time to first token (TTFT)
// is at or above limit, as AssertPercentile(lens.MetricTTFT, 50, limit) does.
func (r *Result) AssertP50TTFT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTTFT, 50, limit)
}

// AssertP90TTFT fails the test when the 90th percentile of the time to first token (TTFT)
// is at or above limit, as AssertPercentile(lens.MetricTTFT, 90, limit) does.
func (r *Result) AssertP90TTFT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTTFT, 90, limit)
}

// AssertP95TTFT fails the test when the 95th percentile of the time to first token (TTFT)
// is at or above limit, as AssertPercentile(lens.MetricTTFT, 95, limit) does.
func (r *Result) AssertP95TTFT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTTFT, 95, limit)
}

// AssertP99TTFT fails the test when the 99th percentile of the time to first token (TTFT)
// is at or above limit, as AssertPercentile(lens.MetricTTFT, 99, limit) does.
func (r *Result) AssertP99TTFT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTTFT, 99, limit)
}

// AssertP50ITL fails the test when the 50th percentile of the inter-token latency (ITL)
// is at or above limit, as AssertPercentile(lens.MetricITL, 50, limit) does.
func (r *Result) AssertP50ITL(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricITL, 50, limit)
}

// AssertP90ITL fails the test when the 90th percentile of the inter-token latency (ITL)
// is at or above limit, as AssertPercentile(lens.MetricITL, 90, limit) does.
func (r *Result) AssertP90ITL(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricITL, 90, limit)
}

// AssertP95ITL fails the test when the 95th percentile of the inter-token latency (ITL)
// is at or above limit, as AssertPercentile(lens.MetricITL, 95, limit) does.
func (r *Result) AssertP95ITL(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricITL, 95, limit)
}

// AssertP99ITL fails the test when the 99th percentile of the inter-token latency (ITL)
// is at or above limit, as AssertPercentile(lens.MetricITL, 99, limit) does.
func (r *Result) AssertP99ITL(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricITL, 99, limit)
}

// AssertP50TPOT fails the test when the 50th percentile of the time per output token (TPOT)
// is at or above limit, as AssertPercentile(lens.MetricTPOT, 50, limit) does.
func (r *Result) AssertP50TPOT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTPOT, 50, limit)
}

// AssertP90TPOT fails the test when the 90th percentile of the time per output token (TPOT)
// is at or above limit, as AssertPercentile(lens.MetricTPOT, 90, limit) does.
func (r *Result) AssertP90TPOT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTPOT, 90, limit)
}

// AssertP95TPOT fails the test when the 95th percentile of the time per output token (TPOT)
// is at or above limit, as AssertPercentile(lens.MetricTPOT, 95, limit) does.
func (r *Result) AssertP95TPOT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTPOT, 95, limit)
}

// AssertP99TPOT fails the test when the 99th percentile of the time per output token (TPOT)
// is at or above limit, as AssertPercentile(lens.MetricTPOT, 99, limit) does.
func (r *Result) AssertP99TPOT(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricTPOT, 99, limit)
}

// AssertP50E2E fails the test when the 50th percentile of the end-to-end latency (E2E)
// is at or above limit, as AssertPercentile(lens.MetricE2E, 50, limit) does.
func (r *Result) AssertP50E2E(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricE2E, 50, limit)
}

// AssertP90E2E fails the test when the 90th percentile of the end-to-end latency (E2E)
// is at or above limit, as AssertPercentile(lens.MetricE2E, 90, limit) does.
func (r *Result) AssertP90E2E(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricE2E, 90, limit)
}

// AssertP95E2E fails the test when the 95th percentile of the end-to-end latency (E2E)
// is at or above limit, as AssertPercentile(lens.MetricE2E, 95, limit) does.
func (r *Result) AssertP95E2E(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricE2E, 95, limit)
}

// AssertP99E2E fails the test when the 99th percentile of the end-to-end latency (E2E)
// is at or above limit, as AssertPercentile(lens.MetricE2E, 99, limit) does.
func (r *Result) AssertP99E2E(limit time.Duration) bool {
	r.tb.Helper()
	return r.AssertPercentile(lens.MetricE2E, 99, limit)
}

func (r *Result) conf() float64 {
	if r.Confidence > 0 && r.Confidence < 1 {
		return r.Confidence
	}
	return DefaultConfidence
}

// where names the scenario, provider and model.
func (r *Result) where() string {
	return fmt.Sprintf("scenario %q, provider %s, model %s", r.Scenario, r.Provider, r.Model)
}

// errorSummary lists failures by class with the first message of the most
// frequent class, or "" when nothing failed.
func (r *Result) errorSummary() string {
	if r.Failed == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("; failures: ")
	classes := r.ErrorClasses()
	for i, c := range classes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", c, r.Errors[c])
	}
	if s := r.ErrorSamples[classes[0]]; s != "" {
		fmt.Fprintf(&b, " (first %s: %s)", classes[0], s)
	}
	return b.String()
}

// wilson is the Wilson score interval of k successes in n trials.
func wilson(k, n int64, conf float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	z := normalQuantile(1 - (1-conf)/2)
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// normalQuantile is the inverse of the standard normal CDF.
func normalQuantile(q float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*q-1)
}

func fmtP(p float64) string { return fmt.Sprintf("%g", p) }

func fmtConf(c float64) string { return fmt.Sprintf("%g%%", math.Round(c*1000)/10) }

// round shortens a duration for messages: µs precision below 10s.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
