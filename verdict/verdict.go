// Package verdict decides latency and error-rate gates honestly: one engine
// behind lenstest's Assert methods, lens-report's configured gates and the
// JUnit output.
//
// A gate ("p95 TTFT below 500ms", "error rate at most 1%") reaches one of
// three outcomes from a distribution-free confidence interval: Pass when
// the whole interval is below the limit, Fail when the whole interval is at
// or above it, Inconclusive otherwise. A gate whose scenario has a request
// budget (lens.Scenario.MaxRequests) does not stop at Inconclusive: it runs
// more requests of the same scenario, in batches that grow by a quarter,
// merges them into the result losslessly and looks again, until it is
// conclusive or the budget is spent. The boundaries of those repeated looks
// come from an exact group-sequential design (alpha spending over binomial
// counts), so the error rates hold across all looks together: with the
// default confidence of 95%, a gate whose true percentile sits exactly at
// its limit passes conclusively at most 2.5% of the time, and fails
// conclusively at most 2.5% of the time, however many looks it takes.
//
// At the end of the budget a still-inconclusive gate is decided by its
// point estimate, as a plain comparison would, and says so, with the
// number of requests that would likely have decided it.
//
// Every verdict also carries its flake risk: the probability that a fresh
// run of the same gate would decide the other way. The count of samples on
// the gate's good side is binomial; the procedure's probability of
// deciding the other way is computed exactly for any proportion, and the
// flake risk is its bias-corrected bootstrap estimate at the observed
// proportion. A small risk is still over-estimated (a single run's own
// noise is as large as the fresh run's), so the number errs on the side of
// warning: at 100 requests and 5% of headroom on a p95, where a plain gate
// fails 2.7% of the time, the mean predicted risk is about 6%.
//
// The guarantees assume independent samples. TTFT, TPOT, E2E and TTFB have
// one sample per request and meet that; ITL pools every gap of every
// request, and the gaps of one request are not independent of each other,
// so ITL verdicts are more confident than the data warrant when one slow
// response stretches all of its gaps.
package verdict

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// ErrorRate is the metric of an error-rate gate: the share of measured
// requests that failed.
const ErrorRate lens.Metric = "error_rate"

// Gate is one service-level objective on a result.
//
// A latency gate (Metric one of lens.Metrics, or lens.MetricJourney) holds when the Percentile-th
// percentile of the metric is below Limit. An error-rate gate (Metric
// ErrorRate) holds when the share of failed requests is at most
// MaxErrorRate.
type Gate struct {
	Metric       lens.Metric
	Percentile   float64       // 0..100, latency gates
	Limit        time.Duration // latency gates: must be below it
	MaxErrorRate float64       // error-rate gates: 0..1, must be at most it
}

// Validate reports what is wrong with g, or nil.
func (g Gate) Validate() error {
	if g.Metric == ErrorRate {
		if !(g.MaxErrorRate >= 0 && g.MaxErrorRate <= 1) {
			return fmt.Errorf("verdict: error-rate gate: max error rate must be within 0..1, got %v", g.MaxErrorRate)
		}
		return nil
	}
	known := g.Metric == lens.MetricJourney // the journeys of a Scenario.Journey
	for _, m := range lens.Metrics {
		known = known || m == g.Metric
	}
	switch {
	case !known:
		return fmt.Errorf("verdict: unknown metric %q (want one of %s, or %s)", string(g.Metric), metricNames(), string(ErrorRate))
	case !(g.Percentile > 0 && g.Percentile < 100):
		return fmt.Errorf("verdict: %s gate: percentile must be within 0..100 (exclusive), got %v", string(g.Metric), g.Percentile)
	case g.Limit <= 0:
		return fmt.Errorf("verdict: %s gate: limit must be positive, got %v", string(g.Metric), g.Limit)
	}
	return nil
}

func metricNames() string {
	var s []string
	for _, m := range lens.Metrics {
		s = append(s, string(m))
	}
	s = append(s, string(lens.MetricJourney))
	return strings.Join(s, ", ")
}

// String describes the gate: "p95 TTFT < 500ms", "error rate <= 1%".
func (g Gate) String() string {
	if g.Metric == ErrorRate {
		return fmt.Sprintf("error rate <= %s", pct(g.MaxErrorRate))
	}
	return fmt.Sprintf("p%g %s < %v", g.Percentile, g.Metric, g.Limit)
}

// Name is a short identifier of the gate for file formats: "ttft_p95",
// "error_rate".
func (g Gate) Name() string {
	if g.Metric == ErrorRate {
		return string(ErrorRate)
	}
	return fmt.Sprintf("%s_p%g", string(g.Metric), g.Percentile)
}

// Outcome is what the evidence says about a gate.
type Outcome int

// The outcomes. Inconclusive is the zero value.
const (
	// Inconclusive: the interval straddles the limit.
	Inconclusive Outcome = iota
	// Pass: the whole interval is below the limit.
	Pass
	// Fail: the whole interval is at or above the limit.
	Fail
)

// String returns "pass", "fail" or "inconclusive".
func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "inconclusive"
}

// Look is one look of a sequential verdict at the evidence so far.
type Look struct {
	Requests int64 // measured requests up to this look
	N        int64 // samples of the metric (requests, for an error rate)

	// Estimate, Lo and Hi are the latency percentile and its interval at
	// this look's confidence (the boundaries of the sequential design: a
	// look passes when Hi < limit and fails when Lo >= limit). Hi is
	// stats.Unbounded when the look cannot pass yet.
	Estimate, Lo, Hi time.Duration

	// Rate, RateLo and RateHi are the same for an error rate.
	Rate, RateLo, RateHi float64

	Outcome Outcome
}

// Verdict is the decision on one gate.
type Verdict struct {
	Gate Gate

	// Outcome is Pass or Fail when the evidence was conclusive, else
	// Inconclusive. Holds is the decision: the outcome when conclusive,
	// the point estimate against the limit when not.
	Outcome Outcome
	Holds   bool

	// Estimate, Lo and Hi are the percentile and its confidence interval
	// (latency gates); Rate, RateLo and RateHi the error rate and its
	// interval (error-rate gates). With a budget, the interval is the one
	// the sequential design used at the deciding look.
	Estimate, Lo, Hi     time.Duration
	Rate, RateLo, RateHi float64

	// N is the number of measured requests the verdict used, top-ups
	// included; Samples the number of samples of the metric among them.
	N, Samples int64

	// Confidence is the level of the interval (default 0.95). Budget is
	// the request budget (0: none, or no way to run more); a first run of
	// a Duration may already have spent it, and Explain then says so.
	Confidence float64
	Budget     int64

	// FlakeRisk is the probability that a fresh run of the same gate, on
	// the same budget, would decide the other way, estimated from this
	// sample.
	FlakeRisk float64

	// Needed is, for an inconclusive verdict, about how many requests
	// would have decided it (80% of the time); Steady, for a holding
	// verdict whose FlakeRisk is over 1%, about how many would bring a
	// fresh run's risk of failing under 0.1%. Each is 0 when it does not
	// apply or no number of requests would (the estimate sits at the
	// limit).
	Needed, Steady int64

	// Looks lists every look, the deciding one last.
	Looks []Look
}

// tooFew reports whether a latency gate has fewer samples than a bounded
// two-sided interval of its percentile needs at confidence conf (none at
// all included); stats.MinSamples gives the number.
func (v Verdict) tooFew(conf float64) bool {
	return v.Gate.Metric != ErrorRate && v.Samples < stats.MinSamples(v.Gate.Percentile, conf)
}

// Unsupported reports whether the verdict is inconclusive because its
// latency metric has no samples, or fewer than a bounded two-sided interval
// of the percentile needs (stats.MinSamples: 59 for p95, 299 for p99 at
// 95%). Such a gate does not hold: its point estimate is no evidence.
func (v Verdict) Unsupported() bool {
	return v.Outcome == Inconclusive && v.tooFew(v.Confidence)
}

// String is a one-line summary: "pass: p95 TTFT < 50ms: 47.1ms (95% CI
// 45.2ms..48.9ms, n=200, flake risk 0.3%)".
func (v Verdict) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: ", v.Outcome, v.Gate)
	if v.Gate.Metric != ErrorRate && v.Samples == 0 {
		fmt.Fprintf(&b, "no samples (n=%d", v.N)
		if v.Budget > 0 {
			fmt.Fprintf(&b, " of budget %d", v.Budget)
		}
		b.WriteString("); broken: there is nothing to judge")
		return b.String()
	}
	if v.Gate.Metric == ErrorRate {
		fmt.Fprintf(&b, "%s (%s CI %s..%s", pct(v.Rate), pct(v.Confidence), pct(v.RateLo), pct(v.RateHi))
	} else {
		fmt.Fprintf(&b, "%v (%s CI %s", round(v.Estimate), pct(v.Confidence), fmtInterval(v.Lo, v.Hi))
	}
	fmt.Fprintf(&b, ", n=%d", v.N)
	if v.Budget > 0 {
		fmt.Fprintf(&b, " of budget %d", v.Budget)
	}
	fmt.Fprintf(&b, ", flake risk %s)", pct(v.FlakeRisk))
	switch {
	case v.Unsupported():
		fmt.Fprintf(&b, "; broken: %d samples are too few to bound p%g at %s (it needs %d)",
			v.Samples, v.Gate.Percentile, pct(v.Confidence), stats.MinSamples(v.Gate.Percentile, v.Confidence))
	case v.Outcome == Inconclusive:
		if v.Holds {
			b.WriteString("; held on the point estimate")
		} else {
			b.WriteString("; broken on the point estimate")
		}
	}
	return b.String()
}

// Explain is a multi-line account: the verdict, what it means, and each
// look.
func (v Verdict) Explain() string {
	var b strings.Builder
	b.WriteString(v.String())
	switch {
	case v.Unsupported():
	case v.Outcome == Inconclusive && v.Needed > 0:
		fmt.Fprintf(&b, "\n\tinconclusive: the interval straddles the limit; about %d requests would likely have decided it", v.Needed)
	case v.Outcome == Inconclusive:
		b.WriteString("\n\tinconclusive: the interval straddles the limit, and the estimate sits at it: no number of requests would decide it")
	}
	if len(v.Looks) > 0 && v.Budget > 0 && v.Looks[0].Requests >= v.Budget {
		fmt.Fprintf(&b, "\n\tno top-up: the first run's %d requests already spent the budget of %d", v.Looks[0].Requests, v.Budget)
	}
	if v.Holds && v.FlakeRisk > 0.01 && v.Steady > 0 {
		fmt.Fprintf(&b, "\n\tflaky: a fresh run would fail with probability %s; about %d requests would bring that under 0.1%%", pct(v.FlakeRisk), v.Steady)
	}
	if len(v.Looks) > 1 {
		for i, l := range v.Looks {
			fmt.Fprintf(&b, "\n\tlook %d: %s", i+1, l.format(v.Gate))
		}
	}
	return b.String()
}

func (l Look) format(g Gate) string {
	if g.Metric == ErrorRate {
		return fmt.Sprintf("n=%d rate=%s interval %s..%s: %s", l.N, pct(l.Rate), pct(l.RateLo), pct(l.RateHi), l.Outcome)
	}
	if l.N == 0 {
		return fmt.Sprintf("requests=%d samples=0: %s", l.Requests, l.Outcome)
	}
	return fmt.Sprintf("requests=%d samples=%d p%g=%v interval %s: %s", l.Requests, l.N, g.Percentile, round(l.Estimate), fmtInterval(l.Lo, l.Hi), l.Outcome)
}

func fmtInterval(lo, hi time.Duration) string {
	h := "∞"
	if hi != stats.Unbounded {
		h = round(hi).String()
	}
	return round(lo).String() + ".." + h
}

// pct formats a share as a percentage with up to 3 significant figures.
func pct(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return fmt.Sprintf("%.3g%%", 100*x)
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
