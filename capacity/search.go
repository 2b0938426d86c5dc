// Package capacity finds the highest load at which every SLO gate holds: the
// arrival rate (open loop) or the number of users (closed loop) a deployment
// can take before it breaks its objectives.
//
// Find runs a bracketing search. It starts at a load, multiplies it by
// Growth while every gate holds, then bisects between the highest load that
// held and the lowest that did not until the two are within Resolution of
// each other. Each load is one step, judged by a sequential verdict (package
// verdict): a load far from the boundary is decided on its first batch of
// requests, one near it buys more requests, within a per-step budget, until
// its gates are conclusive. A step still inconclusive when its budget is
// spent is decided by the point estimate, and the curve says so.
//
// A step also ends at once, without more requests, when the server errors
// (an error-rate gate is broken or, with no error-rate gate, any request
// failed) or when the client cannot send at the asked rate (the achieved
// send rate is under MinAchieved of it): the search then goes no higher
// than that load, and the result says which of the two bounded it.
package capacity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/verdict"
)

// Mode is what a search varies.
type Mode int

// The modes. Auto is the zero value.
const (
	// Auto searches the rate when the scenario sets a Rate, else the
	// concurrency.
	Auto Mode = iota
	// Rate varies the open-loop arrival rate (lens.Scenario.Rate), in
	// requests per second. The scenario's Concurrency, if set, stays the
	// cap on requests in flight.
	Rate
	// Concurrency varies the closed-loop number of users
	// (lens.Scenario.Concurrency), each sending one request at a time.
	Concurrency
)

// String returns "auto", "rate" or "concurrency".
func (m Mode) String() string {
	switch m {
	case Rate:
		return "rate"
	case Concurrency:
		return "concurrency"
	}
	return "auto"
}

// Unit is the unit of the mode's loads: "req/s" or "users".
func (m Mode) Unit() string {
	if m == Rate {
		return "req/s"
	}
	return "users"
}

// ParseMode parses "rate", "concurrency" or "auto" (or "").
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "rate":
		return Rate, nil
	case "concurrency":
		return Concurrency, nil
	}
	return Auto, fmt.Errorf("capacity: mode %q: want rate, concurrency or auto", s)
}

// Search is how Find searches. The zero value searches with the defaults
// documented on each field.
type Search struct {
	// Mode is what varies (Auto: Rate when the scenario's Rate is set,
	// else Concurrency).
	Mode Mode

	// Start is the first load tried (0: the scenario's Rate or
	// Concurrency, else 1). Min and Max bound the loads tried (0: 1 user,
	// or Start/1024 req/s; and 4096 users, or Start×1024 req/s). A
	// concurrency is a whole number of users: loads are rounded.
	Start, Min, Max float64

	// Growth is the factor by which the load grows while every gate holds
	// (and shrinks while none has held), more than 1 (0: 2).
	Growth float64

	// Resolution is how close the search brackets the capacity: it stops
	// when the lowest load that failed is at most 1+Resolution times the
	// highest that held (or one user above it). 0..1, 0 means 0.05.
	Resolution float64

	// Requests is the number of measured requests of a step's first look
	// (0: the scenario's Requests, or its Duration when it sets no
	// Requests, else 100). Every batch of a step, the first and each
	// top-up, runs at least Requests and, in closed loop, at least two
	// requests per user, so that a top-up carries the step's whole load.
	// MaxRequests is a step's budget: the most requests its gates may
	// spend to become conclusive (0: the scenario's MaxRequests, else
	// 10×Requests; at least the first batch).
	Requests, MaxRequests int

	// Confidence is the level of every verdict, 0..1 (0: 0.95).
	Confidence float64

	// MinAchieved is the share of the asked rate the client must achieve
	// in open loop for a step to count, 0..1 (0: 0.9). A step below it
	// ends the search's growth: the load was the client's limit, not the
	// server's.
	MinAchieved float64

	// Logf, when set, receives a line per step: its load, decision,
	// requests and verdicts; and last a line saying what the search found.
	Logf func(format string, args ...any)
}

// Limit says what stopped a step from holding, or what bounded a search.
type Limit string

// The limits.
const (
	// LimitNone: the step held.
	LimitNone Limit = ""
	// LimitSLO: a latency gate was broken.
	LimitSLO Limit = "slo"
	// LimitServerErrors: the server errored, breaking an error-rate gate
	// (or, with none, failing any request).
	LimitServerErrors Limit = "server_errors"
	// LimitClientRate: the client sent at less than MinAchieved of the
	// asked rate.
	LimitClientRate Limit = "client_rate"
	// LimitMax: every load up to Search.Max held (a search's limit only).
	LimitMax Limit = "max"
)

// Step is one load tried and what it showed.
type Step struct {
	// Load is the rate (req/s) or the number of users, as Mode says.
	Load float64
	Mode Mode

	// Holds says every gate held; Conclusive that the decision did not
	// rest on a point estimate (every gate passed conclusively, or one
	// failed conclusively, or the step ended early). Limit says why a step
	// that does not hold did not, and Detail says it in words.
	Holds, Conclusive bool
	Limit             Limit
	Detail            string

	// Verdicts are the gates' verdicts, in the order of the gates.
	Verdicts []verdict.Verdict

	// Result holds every request the step measured, top-ups merged in.
	Result *lens.Result

	// Requests is the number of measured requests the step spent.
	Requests int64

	// AchievedRate is the rate at which the step's requests were sent,
	// in req/s: (requests − 1) / (last send − first send), summed over its
	// batches (each top-up is a batch of its own).
	AchievedRate float64

	// Goodput is the requests per second that succeeded and met every
	// per-request limit: those of the scenario's SLO, or, when it sets
	// none, the limits of the latency gates on TTFT, TPOT and E2E (a
	// request meets "p95 TTFT < 300ms" when its own TTFT is under 300ms).
	// Errors count as not good. It is Result.Good over the step's wall
	// time.
	Goodput float64

	// TokensPerSecond is the aggregate output tokens per second over the
	// step's wall time.
	TokensPerSecond float64
}

// Result is what a search found.
type Result struct {
	// Mode is what varied; Search the settings used, defaults applied;
	// Gates the gates every step was judged on.
	Mode   Mode
	Search Search
	Gates  []verdict.Gate

	// Capacity is the highest load at which every gate held (0: none
	// did, down to Search.Min). Ceiling is the lowest load above it that
	// did not hold (0: none did, up to Search.Max), and Limit what made it
	// fail (LimitMax when every load up to Max held).
	Capacity, Ceiling float64
	Limit             Limit

	// Resolved says the search bracketed the capacity within Resolution:
	// Ceiling is at most (1+Resolution)×Capacity, or one user above it.
	Resolved bool

	// Steps are the loads tried, in the order they ran; Curve sorts them
	// by load. Requests is the measured requests of every step together.
	Steps    []Step
	Requests int64
}

// At returns the step at the found capacity, or nil when no load held.
func (r *Result) At() *Step {
	for i := range r.Steps {
		if r.Steps[i].Load == r.Capacity && r.Steps[i].Holds {
			return &r.Steps[i]
		}
	}
	return nil
}

// Curve returns the steps sorted by load.
func (r *Result) Curve() []Step {
	c := slices.Clone(r.Steps)
	slices.SortStableFunc(c, func(a, b Step) int { return cmp.Compare(a.Load, b.Load) })
	return c
}

// Inconclusive counts the steps decided by a point estimate.
func (r *Result) Inconclusive() int {
	n := 0
	for _, s := range r.Steps {
		if !s.Conclusive {
			n++
		}
	}
	return n
}

// withDefaults checks s against sc and fills in its defaults.
func (s Search) withDefaults(sc lens.Scenario) (Search, error) {
	if s.Mode == Auto {
		s.Mode = Concurrency
		if sc.Rate > 0 {
			s.Mode = Rate
		}
	}
	if s.Mode != Rate && s.Mode != Concurrency {
		return s, fmt.Errorf("capacity: Search.Mode = %d, want Auto, Rate or Concurrency", int(s.Mode))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Start", s.Start}, {"Min", s.Min}, {"Max", s.Max}, {"Growth", s.Growth}, {"Resolution", s.Resolution}, {"Confidence", s.Confidence}, {"MinAchieved", s.MinAchieved}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) { // also NaN
			return s, fmt.Errorf("capacity: Search.%s = %v, want a finite number >= 0", f.name, f.v)
		}
	}
	if s.Start == 0 {
		s.Start = 1
		if s.Mode == Rate && sc.Rate > 0 {
			s.Start = sc.Rate
		}
		if s.Mode == Concurrency && sc.Concurrency > 0 {
			s.Start = float64(sc.Concurrency)
		}
	}
	if s.Min == 0 {
		s.Min = 1
		if s.Mode == Rate {
			s.Min = s.Start / 1024
		}
	}
	if s.Max == 0 {
		s.Max = 4096
		if s.Mode == Rate {
			s.Max = s.Start * 1024
		}
	}
	if s.Mode == Concurrency {
		s.Start, s.Min, s.Max = math.Round(s.Start), math.Max(1, math.Round(s.Min)), math.Round(s.Max)
	}
	switch {
	case s.Min > s.Max:
		return s, fmt.Errorf("capacity: Search.Min = %v is above Search.Max = %v", s.Min, s.Max)
	case s.Start < s.Min || s.Start > s.Max:
		return s, fmt.Errorf("capacity: Search.Start = %v is outside Min..Max = %v..%v", s.Start, s.Min, s.Max)
	case s.Growth == 0:
		s.Growth = 2
	case s.Growth <= 1:
		return s, fmt.Errorf("capacity: Search.Growth = %v, want more than 1", s.Growth)
	}
	switch {
	case s.Resolution == 0:
		s.Resolution = 0.05
	case s.Resolution >= 1:
		return s, fmt.Errorf("capacity: Search.Resolution = %v, want within 0..1", s.Resolution)
	}
	if s.Confidence >= 1 {
		return s, fmt.Errorf("capacity: Search.Confidence = %v, want within 0..1", s.Confidence)
	}
	switch {
	case s.MinAchieved == 0:
		s.MinAchieved = 0.9
	case s.MinAchieved > 1:
		return s, fmt.Errorf("capacity: Search.MinAchieved = %v, want within 0..1", s.MinAchieved)
	}
	if s.Requests < 0 || s.MaxRequests < 0 {
		return s, fmt.Errorf("capacity: Search.Requests = %d and MaxRequests = %d, want 0 or more", s.Requests, s.MaxRequests)
	}
	if s.Requests == 0 {
		s.Requests = sc.Requests
		if s.Requests == 0 && sc.Duration == 0 {
			s.Requests = 100
		}
	}
	if s.MaxRequests == 0 {
		s.MaxRequests = sc.MaxRequests
		if s.MaxRequests == 0 {
			s.MaxRequests = 10 * s.Requests
		}
	}
	if s.Requests > 0 && s.MaxRequests < s.Requests {
		return s, fmt.Errorf("capacity: Search.MaxRequests = %d is below Requests = %d", s.MaxRequests, s.Requests)
	}
	return s, nil
}

// checkScenario refuses what a search cannot vary honestly.
func checkScenario(sc lens.Scenario, m Mode) error {
	switch {
	case len(sc.Trace) > 0:
		return errors.New("capacity: a trace replays its own timing: a search cannot vary its load (use TraceSpeed)")
	case sc.Shard.Sharded():
		return errors.New("capacity: a search runs on one machine: Shard must not be set")
	case !sc.StartAt.IsZero():
		return errors.New("capacity: a search runs its steps one after another: StartAt must not be set")
	case m == Rate && sc.Session.Turns > 0:
		return errors.New("capacity: sessions are closed loop: search the concurrency (users), not the rate")
	}
	return nil
}

// Find searches for the highest load of sc at which every gate holds. It
// returns what it found with every step's curve point. An error (an invalid
// search or scenario, a step that could not run, a canceled ctx) returns
// the steps run so far with it.
func Find(ctx context.Context, sc lens.Scenario, s Search, gates ...verdict.Gate) (*Result, error) {
	if len(gates) == 0 {
		return nil, errors.New("capacity: no gates: a search needs at least one gate to hold")
	}
	for _, g := range gates {
		if err := g.Validate(); err != nil {
			return nil, err
		}
	}
	s, err := s.withDefaults(sc)
	if err != nil {
		return nil, err
	}
	if err := checkScenario(sc, s.Mode); err != nil {
		return nil, err
	}
	if sc.SLO == (lens.SLO{}) {
		sc.SLO = sloOf(gates)
	}
	f := &finder{sc: sc, s: s, gates: gates}
	r := &Result{Mode: s.Mode, Search: s, Gates: slices.Clone(gates)}
	err = f.search(ctx, r)
	return r, err
}

// sloOf is the per-request limits of gates: the lowest limit of the TTFT,
// TPOT and E2E gates.
func sloOf(gates []verdict.Gate) lens.SLO {
	var slo lens.SLO
	lower := func(cur *time.Duration, l time.Duration) {
		if *cur == 0 || l < *cur {
			*cur = l
		}
	}
	for _, g := range gates {
		switch g.Metric {
		case lens.MetricTTFT:
			lower(&slo.TTFT, g.Limit)
		case lens.MetricTPOT:
			lower(&slo.TPOT, g.Limit)
		case lens.MetricE2E:
			lower(&slo.E2E, g.Limit)
		}
	}
	return slo
}

type finder struct {
	sc    lens.Scenario
	s     Search
	gates []verdict.Gate
}

func (f *finder) logf(format string, args ...any) {
	if f.s.Logf != nil {
		f.s.Logf(format, args...)
	}
}

// search runs the steps: growth (or shrinking) until the capacity is
// bracketed, then bisection.
func (f *finder) search(ctx context.Context, r *Result) error {
	s := f.s
	var held, failed float64 // highest load that held; lowest that did not (0: none yet)
	var limit Limit
	load := s.Start
	for {
		st, err := f.step(ctx, load)
		if st != nil {
			r.Steps = append(r.Steps, *st)
			r.Requests += st.Requests
		}
		if err != nil {
			r.Capacity, r.Ceiling, r.Limit = held, failed, limit
			return err
		}
		if st.Holds {
			held = max(held, load)
		} else if failed == 0 || load < failed {
			failed, limit = load, st.Limit
		}
		next, done := f.next(held, failed, load)
		if done {
			break
		}
		load = next
	}
	r.Capacity, r.Ceiling, r.Limit = held, failed, limit
	if failed == 0 {
		r.Limit = LimitMax
	}
	r.Resolved = held > 0 && failed > 0 && f.resolved(held, failed)
	f.logf("capacity: %s", r.summary())
	return nil
}

// next returns the load after one at load, given the bracket so far, or
// done when the search is over.
func (f *finder) next(held, failed, load float64) (float64, bool) {
	s := f.s
	switch {
	case failed == 0: // every load so far held: grow
		if load >= s.Max {
			return 0, true
		}
		n := load * s.Growth
		if s.Mode == Concurrency {
			n = max(load+1, math.Round(n))
		}
		return min(n, s.Max), false
	case held == 0: // none has held: shrink
		if load <= s.Min {
			return 0, true
		}
		n := load / s.Growth
		if s.Mode == Concurrency {
			n = min(load-1, math.Round(n))
		}
		return max(n, s.Min), false
	case f.resolved(held, failed):
		return 0, true
	case s.Mode == Concurrency:
		return math.Floor((held + failed) / 2), false
	}
	return math.Sqrt(held * failed), false
}

// resolved reports whether the bracket held..failed is within the
// resolution.
func (f *finder) resolved(held, failed float64) bool {
	if f.s.Mode == Concurrency && failed-held <= 1 {
		return true
	}
	return failed <= held*(1+f.s.Resolution)
}

// errDecided stops a step's top-ups once its outcome is known.
var errDecided = errors.New("capacity: step decided")

// sendSpan is one batch's send statistics.
type sendSpan struct {
	n    int64
	span time.Duration
}

func spanOf(r *lens.Result) sendSpan {
	return sendSpan{r.Total, r.LastSend.Sub(r.FirstSend)}
}

// step runs load and judges it.
func (f *finder) step(ctx context.Context, load float64) (*Step, error) {
	sc := f.sc
	s := f.s
	if s.Mode == Rate {
		sc.Rate = load
	} else {
		sc.Concurrency = int(load)
	}
	// Each batch, the first and every top-up, carries the step's whole
	// load: at least Requests, and in closed loop at least two requests
	// per user, so that no batch ends before every user has waited its
	// turn. (A top-up of a few requests at 34 users would be a lighter
	// load than the step's.)
	batch := s.Requests
	if batch > 0 {
		if s.Mode == Concurrency {
			batch = max(batch, 2*sc.Concurrency)
		}
		sc.Requests, sc.Duration = batch, 0
	}
	budget := max(s.MaxRequests, batch)
	sc.MaxRequests = budget
	if sc.Client == nil {
		client := lens.NewClient(sc)
		defer client.CloseIdleConnections()
		sc.Client = client
	}
	res, err := lens.Run(ctx, sc)
	if err != nil {
		if res == nil {
			return nil, fmt.Errorf("capacity: %v %s: %w", FormatLoad(load), s.Mode.Unit(), err)
		}
		return &Step{Load: load, Mode: s.Mode, Result: res, Requests: res.Total}, fmt.Errorf("capacity: %v %s: %w", FormatLoad(load), s.Mode.Unit(), err)
	}
	spans := []sendSpan{spanOf(res)}
	decided := false
	topUp := verdict.TopUp(sc)
	var sess *verdict.Session
	more := func(ctx context.Context, n int) (*lens.Result, error) {
		if decided {
			return nil, errDecided
		}
		n = int(min(int64(max(n, batch)), int64(budget)-sess.Requests()))
		b, err := topUp(ctx, n)
		if b != nil {
			spans = append(spans, spanOf(b))
		}
		return b, err
	}
	sess = verdict.NewSession(res, verdict.Plan{Confidence: s.Confidence, MaxRequests: int64(budget)}, more)
	st := &Step{Load: load, Mode: s.Mode}

	// The early ends: the client could not keep the rate, or the server
	// failed requests that no error-rate gate allows.
	hasErrorGate := false
	for _, g := range f.gates {
		hasErrorGate = hasErrorGate || g.Metric == verdict.ErrorRate
	}
	if s.Mode == Rate {
		if a := achieved(spans); a < s.MinAchieved*load {
			st.Limit = LimitClientRate
			st.Detail = fmt.Sprintf("the client sent %.4g req/s of the %.4g asked (under %g%%)", a, load, 100*s.MinAchieved)
		}
	}
	if st.Limit == LimitNone && !hasErrorGate && res.Failed > 0 {
		st.Limit = LimitServerErrors
		st.Detail = fmt.Sprintf("%d of %d requests failed (%s); add an error-rate gate to allow some", res.Failed, res.Total, errorSummary(res))
	}

	if st.Limit == LimitNone {
		// Gate by gate, error-rate gates first, so that a broken gate ends
		// the step without buying evidence for the others.
		order := slices.Clone(f.gates)
		slices.SortStableFunc(order, func(a, b verdict.Gate) int {
			ae, be := a.Metric == verdict.ErrorRate, b.Metric == verdict.ErrorRate
			switch {
			case ae && !be:
				return -1
			case be && !ae:
				return 1
			}
			return 0
		})
		for _, g := range order {
			vs, err := sess.Check(ctx, g)
			if err != nil {
				st.Result, st.Requests = sess.Result(), sess.Requests()
				return st, fmt.Errorf("capacity: %v %s: %w", FormatLoad(load), s.Mode.Unit(), err)
			}
			if !vs[0].Holds && vs[0].Outcome == verdict.Fail {
				break
			}
		}
	}
	// Every gate's verdict on the evidence there is, with no more requests.
	decided = true
	vs, err := sess.Check(ctx, f.gates...)
	if err != nil && !errors.Is(err, errDecided) {
		st.Result, st.Requests = sess.Result(), sess.Requests()
		return st, fmt.Errorf("capacity: %v %s: %w", FormatLoad(load), s.Mode.Unit(), err)
	}
	st.Verdicts = vs
	st.Result = sess.Result()
	st.Requests = st.Result.Total
	st.AchievedRate = achieved(spans)
	if el := st.Result.Elapsed.Seconds(); el > 0 {
		st.Goodput = float64(st.Result.Good) / el
	}
	st.TokensPerSecond = st.Result.OutputTokensPerSecond()
	f.decide(st)
	f.logf("capacity: %s", st)
	return st, nil
}

// decide sets st's Holds, Conclusive, Limit and Detail from its verdicts
// (an early end has set Limit already).
func (f *finder) decide(st *Step) {
	if st.Limit != LimitNone {
		st.Conclusive = true
		return
	}
	st.Holds, st.Conclusive = true, true
	for _, v := range st.Verdicts {
		st.Holds = st.Holds && v.Holds
		if v.Outcome == verdict.Inconclusive {
			st.Conclusive = false
		}
	}
	var broken []verdict.Verdict
	for _, v := range st.Verdicts {
		if !v.Holds {
			broken = append(broken, v)
		}
		if v.Outcome == verdict.Fail {
			st.Conclusive = true // one conclusive failure decides the step
		}
	}
	if st.Holds {
		return
	}
	st.Limit = LimitSLO
	for _, v := range broken {
		if v.Gate.Metric == verdict.ErrorRate {
			st.Limit = LimitServerErrors
		}
	}
	var names []string
	for _, v := range broken {
		names = append(names, v.Gate.String())
	}
	st.Detail = "broken: " + strings.Join(names, ", ")
	if st.Limit == LimitServerErrors {
		st.Detail = fmt.Sprintf("the server failed %d of %d requests (%s)", st.Result.Failed, st.Result.Total, errorSummary(st.Result))
	}
}

// achieved is the send rate over batches: their requests after the first
// of each, over their send spans together.
func achieved(spans []sendSpan) float64 {
	var n int64
	var d time.Duration
	for _, s := range spans {
		if s.n >= 2 && s.span > 0 {
			n += s.n - 1
			d += s.span
		}
	}
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// errorSummary lists a result's failures by class: "http_5xx 12, timeout 1".
func errorSummary(r *lens.Result) string {
	var parts []string
	for _, c := range r.ErrorClasses() {
		parts = append(parts, fmt.Sprintf("%s %d", c, r.Errors[c]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// FormatLoad formats a load for people: a whole number as such ("33"), any
// other to 4 significant figures ("128.8").
func FormatLoad(l float64) string {
	if l == math.Trunc(l) && l < 1e9 {
		return fmt.Sprintf("%.0f", l)
	}
	return fmt.Sprintf("%.4g", l)
}
