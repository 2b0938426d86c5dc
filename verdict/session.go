package verdict

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// DefaultConfidence is the confidence level of verdicts when a Plan sets
// none: each side's error is held at (1-0.95)/2 = 2.5%.
const DefaultConfidence = 0.95

// Plan is how gates are judged.
type Plan struct {
	// Confidence is the level of the intervals, 0..1 (0: 0.95). Each side
	// (a wrong pass, a wrong fail) is held to half of 1-Confidence across
	// all looks together.
	Confidence float64

	// MaxRequests is the request budget (lens.Scenario.MaxRequests): the
	// most measured requests the gates may spend, the first run included.
	// 0, or no more than the first run measured, means a single look.
	MaxRequests int64

	// MinBatch is the fewest requests a top-up runs (0: one), unless the
	// budget has fewer left. A closed
	// loop of c workers loads the server as its first run did only when
	// a batch has at least c requests: Run and lenstest set it to the
	// scenario's concurrency when it has no arrival rate.
	MinBatch int64
}

// MinBatch returns the smallest top-up that loads the server as sc's first
// run did: its concurrency in a closed loop, one request in an open loop
// (whose arrival rate does not depend on the batch).
func MinBatch(sc lens.Scenario) int64 {
	if sc.Rate > 0 || sc.Concurrency <= 1 {
		return 1
	}
	return int64(sc.Concurrency)
}

func (p Plan) confidence() float64 {
	if p.Confidence > 0 && p.Confidence < 1 {
		return p.Confidence
	}
	return DefaultConfidence
}

// growth is the factor by which each look's request count exceeds the
// previous one's. Doubling would overshoot a gate that needed only a few
// more requests; a quarter more per look costs little extra error to
// spend (the design accounts for every look exactly) and stops close to
// where the evidence became clear.
const growth = 1.1

// next returns the request count of the look after one at reqs.
func (p Plan) next(reqs int64) int64 {
	mb := max(1, p.MinBatch)
	next := max(reqs+mb, int64(math.Ceil(float64(reqs)*growth)))
	if p.MaxRequests-next < mb {
		// The budget's remainder joins this batch rather than make a
		// last one smaller than MinBatch.
		next = p.MaxRequests
	}
	return min(p.MaxRequests, next)
}

// More runs n more measured requests of the same workload (same scenario,
// same client, no warmup) and returns what they measured.
type More func(ctx context.Context, n int) (*lens.Result, error)

// Session judges gates on a result that may grow: it keeps each batch of
// requests apart, so that every gate, whenever it is checked, replays the
// same sequence of looks.
type Session struct {
	// Plan is how gates are judged; its budget is fixed by NewSession, its
	// Confidence may change between checks.
	Plan Plan

	res     *lens.Result
	batches []*lens.Result
	reqs    []int64 // cumulative requests at each look
	more    More

	// Logf, when set, receives each look and each top-up.
	Logf func(format string, args ...any)
}

// NewSession starts judging res, the result of a first run. more runs
// further batches (nil: no top-up, whatever the budget). Top-ups are
// appended to res itself (lens.Result.Append), so res always holds every
// measured request.
func NewSession(res *lens.Result, plan Plan, more More) *Session {
	return &Session{Plan: plan, res: res, batches: []*lens.Result{res}, reqs: []int64{res.Total}, more: more}
}

// Result returns the merged result of every batch so far.
func (s *Session) Result() *lens.Result { return s.res }

// Requests returns the measured requests so far.
func (s *Session) Requests() int64 { return s.res.Total }

func (s *Session) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// budgetLeft reports whether another batch may run.
func (s *Session) budgetLeft() bool {
	return s.more != nil && s.res.Total < s.Plan.MaxRequests && s.res.Total > 0
}

// Run runs sc, then judges gates on it with the budget sc.MaxRequests,
// topping up with more requests of sc (on the same client) while any gate
// is inconclusive. It returns the merged result and one verdict per gate.
// An error from the first run returns what it measured and no verdicts.
func Run(ctx context.Context, sc lens.Scenario, gates ...Gate) (*lens.Result, []Verdict, error) {
	for _, g := range gates {
		if err := g.Validate(); err != nil {
			return nil, nil, err
		}
	}
	if sc.Client == nil {
		sc.Client = lens.NewClient(sc)
		defer sc.Client.CloseIdleConnections()
	}
	res, err := lens.Run(ctx, sc)
	if err != nil {
		return res, nil, err
	}
	s := NewSession(res, Plan{MaxRequests: int64(sc.MaxRequests), MinBatch: MinBatch(sc)}, TopUp(sc))
	vs, err := s.Check(ctx, gates...)
	return s.Result(), vs, err
}

// TopUp returns the More that runs n more requests of sc: no warmup, no
// duration, the same client (set sc.Client so that connections are
// reused).
func TopUp(sc lens.Scenario) More {
	return func(ctx context.Context, n int) (*lens.Result, error) {
		b := sc
		b.Requests, b.Duration, b.Warmup = n, 0, 0
		b.StartAt = time.Time{} // a top-up starts now, not at the first run's origin
		b.MaxRequests = 0
		return lens.Run(ctx, b)
	}
}

// Check judges every gate, running more batches while any is inconclusive
// and the budget allows. Verdicts come back in the order of gates. A batch
// that fails to run (a cancelled context, say) ends the top-ups: the
// verdicts are then decided on what was measured, and the error returned
// with them.
func (s *Session) Check(ctx context.Context, gates ...Gate) ([]Verdict, error) {
	for _, g := range gates {
		if err := g.Validate(); err != nil {
			return nil, err
		}
	}
	var runErr error
	for {
		open := false
		budget := runErr == nil && s.budgetLeft()
		for _, g := range gates {
			if v := s.judge(g, budget, false); !v.final {
				open = true
			}
		}
		if !open || !budget {
			break
		}
		runErr = s.topUp(ctx)
	}
	out := make([]Verdict, len(gates))
	for i, g := range gates {
		v := s.judge(g, false, true)
		for j, l := range v.Looks {
			s.logf("verdict: %s: look %d: %s", g, j+1, l.format(g))
		}
		out[i] = v.Verdict
	}
	return out, runErr
}

func (s *Session) topUp(ctx context.Context) error {
	cur := s.res.Total
	target := s.Plan.next(cur)
	n := target - cur
	s.logf("verdict: inconclusive after %d requests: running %d more (budget %d)", cur, n, s.Plan.MaxRequests)
	b, err := s.more(ctx, int(n))
	if b != nil && b.Total > 0 {
		if len(s.batches) == 1 {
			s.batches[0] = s.res.Clone()
		}
		if aerr := s.res.Append(b); aerr != nil {
			return aerr
		}
		s.batches = append(s.batches, b)
		s.reqs = append(s.reqs, s.res.Total)
	}
	if err != nil {
		return fmt.Errorf("verdict: top-up of %d requests: %w", n, err)
	}
	if b == nil || b.Total == 0 {
		return fmt.Errorf("verdict: top-up of %d requests measured nothing", n)
	}
	return nil
}

// counts is a gate's evidence in one batch: n samples, of which certain lie
// on the good side for sure and possible at most.
type counts struct{ n, certain, possible int64 }

func (s *Session) counts(g Gate, r *lens.Result) counts {
	if g.Metric == ErrorRate {
		ok := r.Total - r.Failed
		return counts{r.Total, ok, ok}
	}
	l := r.Latency(g.Metric)
	c, p := l.CountBelow(g.Limit)
	return counts{l.Count(), c, p}
}

// gateModel is what the design needs of a gate.
type gateModel struct {
	q0   float64
	rank func(n int64) int64 // smallest good-side count at which the point estimate holds
}

func model(g Gate) gateModel {
	if g.Metric == ErrorRate {
		max := g.MaxErrorRate
		return gateModel{q0: 1 - max, rank: func(n int64) int64 { return n - maxFailures(n, max) }}
	}
	p := g.Percentile
	return gateModel{q0: p / 100, rank: func(n int64) int64 { return stats.NearestRank(n, p) }}
}

// maxFailures is the largest f with f/n <= max, as Result.ErrorRate
// compares.
func maxFailures(n int64, max float64) int64 {
	if n <= 0 {
		return 0
	}
	f := int64(math.Floor(max * float64(n)))
	f = min(f, n)
	for f < n && float64(f+1)/float64(n) <= max {
		f++
	}
	for f >= 0 && float64(f)/float64(n) > max {
		f--
	}
	return f
}

type judged struct {
	Verdict
	final bool // decided, or nothing more may run
}

// judge replays the looks so far for g. budget says whether more batches
// may follow the last look; detail fills in each look's estimate and
// interval and the verdict's flake risk (not needed to know whether to go
// on).
func (s *Session) judge(g Gate, budget, detail bool) judged {
	conf := s.Plan.confidence()
	alpha := (1 - conf) / 2
	m := model(g)
	d := newDesign(m.q0, alpha, m.rank)
	sequential := s.Plan.MaxRequests > s.reqs[0] && s.more != nil
	v := judged{Verdict: Verdict{Gate: g, Confidence: conf}}
	if s.Plan.MaxRequests > 0 && s.more != nil {
		// Kept even when the first run already spent it (a Duration
		// run), so that the verdict says so.
		v.Budget = s.Plan.MaxRequests
	}
	var cum counts
	var bounds []bound
	var tPrev float64
	var lat *stats.Latency // the metric over the batches so far, when detail
	for j, b := range s.batches {
		c := s.counts(g, b)
		cum.n += c.n
		cum.certain += c.certain
		cum.possible += c.possible
		last := j == len(s.batches)-1
		t := 1.0
		if sequential {
			t = float64(s.reqs[j]) / float64(s.Plan.MaxRequests)
		}
		if last && !budget {
			t = 1 // the final look spends what is left
		}
		bd := d.look(cum.n, t)
		level := alpha * (spend(t) - spend(tPrev)) // what this look may spend per side
		tPrev = t
		bounds = append(bounds, bd)
		look := Look{Requests: s.reqs[j], N: cum.n}
		switch {
		case cum.n > 0 && cum.certain >= bd.pass:
			look.Outcome = Pass
		case cum.n > 0 && cum.possible <= bd.fail:
			look.Outcome = Fail
		}
		if detail {
			if g.Metric != ErrorRate {
				switch {
				case len(s.batches) == 1:
					lat = s.res.Latency(g.Metric)
				case j == 0:
					lat = b.Latency(g.Metric).Clone()
				default:
					_ = lat.Merge(b.Latency(g.Metric)) // same geometry: cannot fail
				}
			}
			s.describe(g, &look, cum, bd, lat, level)
		}
		v.Looks = append(v.Looks, look)
		if look.Outcome != Inconclusive || last {
			v.fill(look, cum, s.reqs[j], m, conf)
			// A gate at percentile 0 or 100, or an error rate of exactly
			// 0 or 1, can never be shown on one side: more requests
			// would not help.
			v.final = look.Outcome != Inconclusive || !budget || m.q0 <= 0 || m.q0 >= 1
			break
		}
	}
	if detail {
		v.risk(s, bounds, cum, m, d)
	}
	return v
}

// describe fills in look l's estimate and interval: cum are the
// cumulative counts, bd its boundaries, lat the metric's distribution up
// to it (latency gates), level what the look may spend on each side.
func (s *Session) describe(g Gate, l *Look, cum counts, bd bound, lat *stats.Latency, level float64) {
	if g.Metric == ErrorRate {
		n := cum.n
		f := n - cum.certain
		if n > 0 {
			l.Rate = float64(f) / float64(n)
		}
		// The exact (Clopper-Pearson) interval at the level this look may
		// spend on each side: with one look, the two-sided interval at the
		// confidence; with more, a wider one at each look, so that they
		// hold together. It does not depend on the limit. The decision
		// comes from the design's exact boundaries, which spend the same
		// levels; where their discreteness and this interval disagree
		// (rarely, at a later look), the interval is widened to the limit
		// so that it never contradicts the outcome.
		l.RateLo, l.RateHi = cpLower(n, f, level), cpUpper(n, f, level)
		limit := g.MaxErrorRate
		switch {
		case cum.n > 0 && cum.certain >= bd.pass: // pass: at most the limit
			l.RateHi = min(l.RateHi, limit)
		case cum.n > 0 && cum.possible <= bd.fail: // fail: above it
			l.RateLo = max(l.RateLo, math.Nextafter(limit, 1))
		default: // inconclusive: the interval reaches the limit
			l.RateHi = max(l.RateHi, limit)
			l.RateLo = min(l.RateLo, limit)
		}
		return
	}
	l.Estimate = lat.Percentile(g.Percentile)
	l.Hi = stats.Unbounded
	if bd.pass <= cum.n {
		l.Hi = lat.ValueAtRank(bd.pass)
	}
	if bd.fail >= 0 && bd.fail+1 <= cum.n {
		l.Lo = lat.LowAtRank(bd.fail + 1)
	}
}

// fill sets v's decision from its deciding look.
func (v *judged) fill(l Look, cum counts, reqs int64, m gateModel, conf float64) {
	v.Outcome = l.Outcome
	v.N, v.Samples = reqs, cum.n
	v.Estimate, v.Lo, v.Hi = l.Estimate, l.Lo, l.Hi
	v.Rate, v.RateLo, v.RateHi = l.Rate, l.RateLo, l.RateHi
	switch l.Outcome {
	case Pass:
		v.Holds = true
	case Fail:
		v.Holds = false
	default:
		// A percentile that the sample cannot bound does not hold on
		// its point estimate: p99 of 20 samples is their maximum.
		v.Holds = cum.n > 0 && cum.certain >= m.rank(cum.n) && !v.tooFew(conf)
	}
}
