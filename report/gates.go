package report

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	gates "github.com/llm-latency-lens/lens/verdict"
)

// Gate is the verdict on one SLO gate of a result, as a result file holds
// it: what was asked, what the evidence said, and on how many requests.
// Latencies are in milliseconds, rates and risks in 0..1.
type Gate struct {
	// Name identifies the gate ("ttft_p95", "error_rate"); Description
	// says it in words ("p95 TTFT < 500ms").
	Name        string `json:"name"`
	Description string `json:"description"`

	// Metric is a latency metric (ttft, itl, tpot, e2e, ttfb, ...) with
	// Percentile and LimitMs, or error_rate with MaxErrorRate.
	Metric       string   `json:"metric"`
	Percentile   float64  `json:"percentile,omitempty"`
	LimitMs      float64  `json:"limit_ms,omitempty"`
	MaxErrorRate *float64 `json:"max_error_rate,omitempty"`

	// Outcome is "pass" or "fail" when the evidence was conclusive, else
	// "inconclusive"; Holds is the decision (the point estimate decides
	// an inconclusive gate).
	Outcome string `json:"outcome"`
	Holds   bool   `json:"holds"`

	// EstimateMs, LoMs and HiMs are the percentile and its interval (HiMs
	// null when the interval has no upper bound); Rate, RateLo and RateHi
	// the error rate and its interval.
	EstimateMs float64  `json:"estimate_ms,omitempty"`
	LoMs       float64  `json:"lo_ms,omitempty"`
	HiMs       *float64 `json:"hi_ms,omitempty"`
	Rate       float64  `json:"rate,omitempty"`
	RateLo     float64  `json:"rate_lo,omitempty"`
	RateHi     float64  `json:"rate_hi,omitempty"`

	// Confidence is the interval's level; Requests the measured requests
	// the verdict used (top-ups included), Samples the metric's samples
	// among them; Budget the request budget (0: none); Looks how many
	// times the evidence was looked at.
	Confidence float64 `json:"confidence"`
	Requests   int64   `json:"requests"`
	Samples    int64   `json:"samples"`
	Budget     int64   `json:"budget,omitempty"`
	Looks      int     `json:"looks"`

	// FlakeRisk is the estimated probability that a fresh run of the gate
	// decides the other way; Needed about how many requests would have
	// decided an inconclusive gate, Steady about how many would bring a
	// flaky one's risk under 0.1% (0 when it does not apply or none would).
	FlakeRisk float64 `json:"flake_risk"`
	Needed    int64   `json:"needed,omitempty"`
	Steady    int64   `json:"steady,omitempty"`

	// Summary is the verdict in one line, as the console shows it.
	Summary string `json:"summary"`
}

// GateOf returns the result-file form of a verdict.
func GateOf(v gates.Verdict) Gate {
	g := Gate{
		Name: v.Gate.Name(), Description: v.Gate.String(), Metric: string(v.Gate.Metric),
		Outcome: v.Outcome.String(), Holds: v.Holds, Confidence: v.Confidence,
		Requests: v.N, Samples: v.Samples, Budget: v.Budget, Looks: len(v.Looks),
		FlakeRisk: v.FlakeRisk, Needed: v.Needed, Steady: v.Steady, Summary: v.String(),
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	if v.Gate.Metric == gates.ErrorRate {
		max := v.Gate.MaxErrorRate
		g.MaxErrorRate = &max
		g.Rate, g.RateLo, g.RateHi = v.Rate, v.RateLo, v.RateHi
		return g
	}
	g.Percentile, g.LimitMs = v.Gate.Percentile, ms(v.Gate.Limit)
	g.EstimateMs, g.LoMs = ms(v.Estimate), ms(v.Lo)
	if v.Hi != math.MaxInt64 {
		hi := ms(v.Hi)
		g.HiMs = &hi
	}
	return g
}

// gate returns the definition of the gate g holds the verdict on.
func (g *Gate) gate() gates.Gate {
	d := gates.Gate{Metric: lens.Metric(g.Metric), Percentile: g.Percentile, Limit: time.Duration(math.Round(g.LimitMs * 1e6))}
	if g.MaxErrorRate != nil {
		d.MaxErrorRate = *g.MaxErrorRate
	}
	return d
}

// Rejudge decides r's gates again on r's metrics as they are now, after a
// merge: each at its own confidence, on every request the result holds,
// with no top-up (the verdict's Budget and Looks are those of one look).
// A gate whose metric r holds no distribution of is an error.
func (r *Result) Rejudge() error {
	for i := range r.Gates {
		g := &r.Gates[i]
		res := &lens.Result{Provider: r.Provider, Model: r.Model,
			Total: r.Metrics.TotalRequests, Succeeded: r.Metrics.SuccessfulRequests, Failed: r.Metrics.FailedRequests}
		def := g.gate()
		if def.Metric != gates.ErrorRate {
			d := r.Metrics.Distribution(def.Metric)
			if d == nil {
				return fmt.Errorf("gate %s: the result holds no %s distribution to judge it on", g.Name, g.Metric)
			}
			l, err := d.Latency()
			if err != nil {
				return fmt.Errorf("gate %s: %w", g.Name, err)
			}
			// The session reads the gate's metric alone: every latency
			// field may hold it.
			res.TTFT, res.ITL, res.TPOT, res.E2E, res.TTFB, res.DNS, res.Connect, res.TLS, res.QueueDelay = l, l, l, l, l, l, l, l, l
		}
		vs, err := gates.NewSession(res, gates.Plan{Confidence: g.Confidence}, nil).Check(context.Background(), def)
		if err != nil {
			return fmt.Errorf("gate %s: %w", g.Name, err)
		}
		*g = GateOf(vs[0])
	}
	return nil
}

// check checks a gate read from a file.
func (g *Gate) check() error {
	switch g.Outcome {
	case "pass", "fail", "inconclusive":
	default:
		return fmt.Errorf("gate %q: outcome %q (want pass, fail or inconclusive)", g.Name, g.Outcome)
	}
	if (g.Outcome == "pass" && !g.Holds) || (g.Outcome == "fail" && g.Holds) {
		return fmt.Errorf("gate %q: outcome %s but holds %v", g.Name, g.Outcome, g.Holds)
	}
	for _, x := range []float64{g.Percentile, g.LimitMs, g.EstimateMs, g.LoMs, g.Rate, g.RateLo, g.RateHi, g.FlakeRisk, g.Confidence} {
		if !finite(x) || x < 0 {
			return fmt.Errorf("gate %q: a value out of range (%v)", g.Name, x)
		}
	}
	if g.FlakeRisk > 1 || g.Confidence > 1 || g.Requests < 0 || g.Samples < 0 {
		return fmt.Errorf("gate %q: a value out of range", g.Name)
	}
	return nil
}

// GatesHold reports whether every gate of every result in f holds (true
// when there are none), and how many do not.
func GatesHold(f *File) (ok bool, broken int) {
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			for _, g := range r.Gates {
				if !g.Holds {
					broken++
				}
			}
		}
	}
	return broken == 0, broken
}

// gatesCell is a compact form of a result's gates for a single cell or
// line, each with its decision, estimate, interval and flake risk:
// "ttft_p95=pass 47.1ms [45.2ms..48.9ms] risk 0.3%; error_rate=pass 0% [0%..1.8%] risk 0%".
func gatesCell(gs []Gate) string {
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		s := g.Name + "=" + g.Outcome
		if g.Outcome == "inconclusive" {
			if g.Holds {
				s += "(holds)"
			} else {
				s += "(broken)"
			}
		}
		switch {
		case g.MaxErrorRate != nil:
			s += fmt.Sprintf(" %s [%s..%s]", pctCell(g.Rate), pctCell(g.RateLo), pctCell(g.RateHi))
		case g.Samples == 0:
			s += " no samples"
		default:
			hi := "∞"
			if g.HiMs != nil {
				hi = msCell(*g.HiMs)
			}
			s += fmt.Sprintf(" %s [%s..%s]", msCell(g.EstimateMs), msCell(g.LoMs), hi)
		}
		s += " risk " + pctCell(g.FlakeRisk)
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// msCell rounds to the microsecond.
func msCell(ms float64) string {
	return strconv.FormatFloat(math.Round(ms*1e3)/1e3, 'f', -1, 64) + "ms"
}

func pctCell(x float64) string { return strconv.FormatFloat(100*x, 'g', 3, 64) + "%" }
