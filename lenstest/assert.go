package lenstest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
	"github.com/llm-latency-lens/lens/verdict"
)

// DefaultConfidence is the confidence level of verdicts and of the
// intervals in assertion messages.
const DefaultConfidence = verdict.DefaultConfidence

// Verdict is the decision on one gate; see package verdict.
type Verdict = verdict.Verdict

// Outcome is what the evidence says about a gate: Pass, Fail or
// Inconclusive.
type Outcome = verdict.Outcome

// The outcomes of a Verdict.
const (
	Pass         = verdict.Pass
	Fail         = verdict.Fail
	Inconclusive = verdict.Inconclusive
)

// Result is a lens.Result bound to the test that produced it, like
// testify's assert.New(t): its Assert methods report to that test.
//
// Every Assert method calls tb.Helper, fails the test with Errorf (the test
// goes on) and returns whether the assertion held. Each decides through
// Verdict: with a request budget (lens.Scenario.MaxRequests) an
// inconclusive gate first runs more requests of the same scenario and
// merges them into the Result, so later assertions see every request.
type Result struct {
	*lens.Result

	// Confidence is the level of the verdicts' intervals (default 0.95).
	Confidence float64

	tb      testing.TB
	session *verdict.Session

	// verdicts are the latest verdict on each gate judged so far, in the
	// order the gates were first judged (for LENS_HISTORY).
	verdicts []Verdict
}

// newResult binds res to tb. more runs further requests of the same
// workload for the sequential verdicts (nil: no top-ups), within the
// plan's budget of measured requests in all.
func newResult(tb testing.TB, res *lens.Result, plan verdict.Plan, more verdict.More) *Result {
	r := &Result{Result: res, tb: tb, Confidence: DefaultConfidence}
	r.session = verdict.NewSession(res, plan, more)
	r.session.Logf = func(format string, args ...any) {
		tb.Helper()
		tb.Logf("lenstest: "+format, args...)
	}
	return r
}

// check judges g, topping up when the budget allows.
func (r *Result) check(g verdict.Gate) Verdict {
	r.tb.Helper()
	r.session.Plan.Confidence = r.conf()
	vs, err := r.session.Check(r.tb.Context(), g)
	if err != nil {
		if len(vs) == 0 {
			r.tb.Errorf("lenstest: %v", err)
			return Verdict{Gate: g, Confidence: r.conf()}
		}
		r.tb.Logf("lenstest: %v (the verdict uses what was measured)", err)
	}
	v := vs[0]
	r.tb.Attr("lens.verdict."+g.Name(), attrValue(v.String()))
	r.remember(v)
	return v
}

// remember keeps v as the latest verdict on its gate.
func (r *Result) remember(v Verdict) {
	for i := range r.verdicts {
		if r.verdicts[i].Gate == v.Gate {
			r.verdicts[i] = v
			return
		}
	}
	r.verdicts = append(r.verdicts, v)
}

// Verdict judges the gate "the p-th percentile (0..100) of metric m is
// below limit" without failing the test: its Outcome (Pass, Fail or
// Inconclusive), whether it Holds, the Estimate and its interval Lo..Hi, N
// (requests used, top-ups included) and its FlakeRisk, the probability that
// a fresh run of the same gate would decide the other way. With a budget
// (lens.Scenario.MaxRequests) an inconclusive gate runs more requests first;
// see package verdict.
func (r *Result) Verdict(m lens.Metric, p float64, limit time.Duration) Verdict {
	r.tb.Helper()
	return r.check(verdict.Gate{Metric: m, Percentile: p, Limit: limit})
}

// ErrorRateVerdict judges the gate "the share of failed requests is at
// most max (0..1)" as Verdict does, with an exact binomial interval.
func (r *Result) ErrorRateVerdict(max float64) Verdict {
	r.tb.Helper()
	return r.check(verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: max})
}

// AssertPercentile fails the test when the p-th percentile (p in 0..100) of
// metric m is at or above limit. The message names the metric, the observed
// value, the limit and by how much it was broken, the sample count, the
// confidence interval of the percentile, whether the evidence was
// conclusive, and the scenario, provider and model.
//
// The decision is Verdict's: a conclusive Fail fails, a conclusive Pass
// passes, and an Inconclusive verdict (after any top-ups the budget allows)
// is decided by the point estimate, with a message that says so and about
// how many requests would have decided it. A pass whose flake risk is over
// 1% is logged, with the number of requests that would bring it under
// 0.1%.
//
// A percentile the sample cannot support — fewer samples than a bounded
// two-sided interval needs, such as p99 of 20 requests — fails with a
// message that says so and how many samples it needs. Under a benchmark it
// is only logged instead, since the testing package's first b.N == 1 probe
// run always has too few.
func (r *Result) AssertPercentile(m lens.Metric, p float64, limit time.Duration) bool {
	r.tb.Helper()
	g := verdict.Gate{Metric: m, Percentile: p, Limit: limit}
	if err := g.Validate(); err != nil {
		r.tb.Errorf("lenstest: %v", err)
		return false
	}
	v := r.check(g)
	name := fmt.Sprintf("p%s %s", fmtP(p), m)
	l := r.Latency(m)
	n := l.Count()
	if n == 0 {
		r.tb.Errorf("lenstest: %s: no samples (%d of %d requests succeeded%s)\n\t%s",
			name, r.Succeeded, r.Total, r.errorSummary(), r.where())
		return false
	}
	conf := r.conf()
	observed := v.Estimate
	if v.Outcome == Inconclusive && n < stats.MinSamples(p, conf) {
		msg := fmt.Sprintf("lenstest: %s: %d samples are too few for a %s-confidence interval of p%s: it needs at least %d (observed %s = %v, limit %v)\n\t%s",
			name, n, fmtConf(conf), fmtP(p), stats.MinSamples(p, conf), name, round(observed), limit, r.where())
		if _, ok := r.tb.(*testing.B); ok {
			// Not judged, only logged: report what the point estimate
			// says, as the benchmark's later, larger runs will judge.
			r.tb.Log(msg)
			return observed < limit
		}
		r.tb.Error(msg)
		return false
	}
	if v.Holds {
		if v.FlakeRisk > 0.01 {
			r.tb.Logf("lenstest: %s = %v holds below %v, but is flaky: a fresh run would fail with probability %.1f%%%s\n\t%s",
				name, round(observed), limit, 100*v.FlakeRisk, needed(v.Steady, "bring that under 0.1%"), v.Explain())
		}
		return true
	}
	over := observed - limit
	var sure string
	switch v.Outcome {
	case Fail:
		sure = "the whole interval is at or above the limit: broken with at least that confidence"
	default:
		sure = "the interval reaches below the limit: not conclusive at this confidence, decided by the point estimate" +
			needed(v.Needed, "likely have decided it")
		if v.Budget == 0 {
			sure += " (lens.Scenario.MaxRequests lets the gate run them)"
		}
	}
	r.tb.Errorf("lenstest: SLO broken: %s = %v, limit %v (over by %v, %+.1f%%)\n\t%s CI of p%s: %s (n=%d, %d requests): %s; flake risk %.1f%%\n\t%s%s",
		name, round(observed), limit, round(over), 100*float64(over)/float64(limit),
		fmtConf(v.Confidence), fmtP(p), interval(v.Lo, v.Hi), v.Samples, v.N, sure, 100*v.FlakeRisk, r.where(), looks(v))
	return false
}

// AssertErrorRate fails the test when the share of failed requests is above
// max (0..1). The message gives the failures by class with a sample error,
// and the exact binomial confidence interval of the rate. The decision is
// ErrorRateVerdict's, as AssertPercentile's is Verdict's.
func (r *Result) AssertErrorRate(max float64) bool {
	r.tb.Helper()
	g := verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: max}
	if err := g.Validate(); err != nil {
		r.tb.Errorf("lenstest: %v", err)
		return false
	}
	v := r.check(g)
	if v.Holds {
		return true
	}
	sure := "conclusive"
	if v.Outcome == Inconclusive {
		sure = "not conclusive, decided by the point estimate" + needed(v.Needed, "likely have decided it")
	}
	r.tb.Errorf("lenstest: error rate %.2f%% (%d of %d requests) exceeds %.2f%%\n\t%s CI of the rate: %.2f%% .. %.2f%% (%s)%s\n\t%s%s",
		100*v.Rate, r.Failed, r.Total, 100*max, fmtConf(v.Confidence), 100*v.RateLo, 100*v.RateHi, sure, r.errorSummary(), r.where(), looks(v))
	return false
}

// needed phrases a request count: "; about 420 requests would <what>".
func needed(n int64, what string) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("; about %d requests would %s", n, what)
}

// interval formats an interval whose upper side may be open.
func interval(lo, hi time.Duration) string {
	if hi == stats.Unbounded {
		return fmt.Sprintf(">= %v", round(lo))
	}
	return fmt.Sprintf("%v .. %v", round(lo), round(hi))
}

// looks lists a sequential verdict's looks, one per line.
func looks(v Verdict) string {
	if len(v.Looks) < 2 {
		return ""
	}
	e := v.Explain()
	if i := strings.Index(e, "\n"); i >= 0 {
		return e[i:]
	}
	return ""
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

func fmtP(p float64) string { return fmt.Sprintf("%g", p) }

func fmtConf(c float64) string { return fmt.Sprintf("%g%%", math.Round(c*1000)/10) }

// round shortens a duration for messages: µs precision below 10s.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
