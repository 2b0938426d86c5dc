package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
)

// Sweep is a capacity search (package capacity) as a result file holds it:
// the highest load at which every gate held, what bounded it, and the curve
// of every load tried. The Result that carries it holds the measurements
// at the found capacity (or, when no load held, at the lowest load tried).
type Sweep struct {
	// Mode is "rate" (open-loop arrivals, Unit "req/s") or "concurrency"
	// (closed-loop users, Unit "users").
	Mode string `json:"mode"`
	Unit string `json:"unit"`

	// Capacity is the highest load at which every gate held (0: none
	// did). Ceiling is the lowest load above it that did not hold (0:
	// none did, up to Max), and Limit what made it fail: "slo" (a latency
	// gate), "server_errors", "client_rate" (the client sent under
	// MinAchieved of the asked rate), or "max" (every load up to Max held).
	Capacity float64 `json:"capacity"`
	Ceiling  float64 `json:"ceiling,omitempty"`
	Limit    string  `json:"limit"`

	// Resolved says the search bracketed the capacity within Resolution
	// (Ceiling at most (1+Resolution)×Capacity, or one user above it).
	Resolved   bool    `json:"resolved"`
	Resolution float64 `json:"resolution"`

	// Min and Max are the bounds of the loads the search could try;
	// MinAchieved the share of an asked rate a step had to achieve.
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	MinAchieved float64 `json:"min_achieved"`

	// Requests is the measured requests of every step together.
	Requests int64 `json:"requests"`

	// Steps are the loads tried, in the order they ran.
	Steps []SweepStep `json:"steps"`

	// Summary is the search's outcome in one line.
	Summary string `json:"summary"`
}

// SweepStep is one load a capacity search tried.
type SweepStep struct {
	// Load is the rate (req/s) or the number of users.
	Load float64 `json:"load"`

	// Holds says every gate held; Outcome is "pass" or "fail" when that
	// was conclusive, "inconclusive" when a point estimate decided.
	// Limit says why a step that does not hold did not (see
	// Sweep.Limit), Detail in words.
	Holds   bool   `json:"holds"`
	Outcome string `json:"outcome"`
	Limit   string `json:"limit,omitempty"`
	Detail  string `json:"detail,omitempty"`

	// Requests is the measured requests of the step, top-ups included;
	// Failed how many failed, by class in Errors.
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	Errors   map[string]int64 `json:"errors,omitempty"`

	// AchievedRate is the rate at which its requests were sent (req/s);
	// GoodputRPS the requests per second that succeeded and met every
	// per-request limit (the scenario's SLO, or else the limits of its
	// TTFT, TPOT and E2E gates); OutputTokensPerSecond all output tokens
	// over the step's wall time.
	AchievedRate          float64 `json:"achieved_rate"`
	GoodputRPS            float64 `json:"goodput_rps"`
	OutputTokensPerSecond float64 `json:"output_tokens_per_second"`

	// TTFT and E2E are the step's distributions.
	TTFT *Distribution `json:"ttft"`
	E2E  *Distribution `json:"e2e"`

	// Gates are the verdicts, in the order of the search's gates.
	Gates []Gate `json:"gates"`
}

// SweepOf returns the result-file form of a capacity search.
func SweepOf(r *capacity.Result) (*Sweep, error) {
	s := &Sweep{
		Mode: r.Mode.String(), Unit: r.Mode.Unit(),
		Capacity: r.Capacity, Ceiling: r.Ceiling, Limit: string(r.Limit),
		Resolved: r.Resolved, Resolution: r.Search.Resolution,
		Min: r.Search.Min, Max: r.Search.Max, MinAchieved: r.Search.MinAchieved,
		Requests: r.Requests, Steps: []SweepStep{}, Summary: r.String(),
	}
	for _, st := range r.Steps {
		out := SweepStep{
			Load: st.Load, Holds: st.Holds, Limit: string(st.Limit), Detail: st.Detail,
			Requests: st.Requests, AchievedRate: st.AchievedRate, GoodputRPS: st.Goodput,
			OutputTokensPerSecond: st.TokensPerSecond,
		}
		switch {
		case !st.Conclusive:
			out.Outcome = "inconclusive"
		case st.Holds:
			out.Outcome = "pass"
		default:
			out.Outcome = "fail"
		}
		if res := st.Result; res != nil {
			out.Failed = res.Failed
			if len(res.Errors) > 0 {
				out.Errors = map[string]int64{}
				for c, n := range res.Errors {
					out.Errors[string(c)] = n
				}
			}
			var err error
			if out.TTFT, err = LatencyDistribution(res.TTFT); err != nil {
				return nil, err
			}
			if out.E2E, err = LatencyDistribution(res.E2E); err != nil {
				return nil, err
			}
		}
		for _, v := range st.Verdicts {
			out.Gates = append(out.Gates, GateOf(v))
		}
		s.Steps = append(s.Steps, out)
	}
	return s, nil
}

// FromSweeps returns the result file of capacity searches: for each, the
// measurements at the found capacity (or, when no load held, at the lowest
// load tried), with their gates' verdicts and the sweep. A search that ran
// no step is left out.
func FromSweeps(rs []*capacity.Result, meta Metadata) (*File, error) {
	var results []*lens.Result
	var picked []*capacity.Step
	var searches []*capacity.Result
	for _, r := range rs {
		st := r.At()
		if st == nil {
			for i := range r.Steps {
				if r.Steps[i].Result != nil && (st == nil || r.Steps[i].Load < st.Load) {
					st = &r.Steps[i]
				}
			}
		}
		if st == nil || st.Result == nil {
			continue
		}
		results = append(results, st.Result)
		picked = append(picked, st)
		searches = append(searches, r)
	}
	f, err := FromResults(results, meta)
	if err != nil {
		return nil, err
	}
	for i, st := range picked {
		sw, err := SweepOf(searches[i])
		if err != nil {
			return nil, err
		}
		res := findResult(f, st.Result.Scenario, st.Result.Provider, st.Result.Model)
		if res == nil {
			continue // FromResults keeps every result: cannot happen
		}
		res.Gates = res.Gates[:0]
		for _, v := range st.Verdicts {
			res.Gates = append(res.Gates, GateOf(v))
		}
		res.Sweep = sw
	}
	return f, nil
}

// FromSweep is FromSweeps of one search; it is an error when the search
// ran no step.
func FromSweep(r *capacity.Result, meta Metadata) (*File, error) {
	f, err := FromSweeps([]*capacity.Result{r}, meta)
	if err == nil && len(f.Scenarios) == 0 {
		err = fmt.Errorf("report: the capacity search ran no step")
	}
	return f, err
}

// findResult returns the result of scenario, provider and model in f, or
// nil.
func findResult(f *File, scenario, provider, model string) *Result {
	for i := range f.Scenarios {
		if f.Scenarios[i].Name != scenario {
			continue
		}
		for j := range f.Scenarios[i].Results {
			if r := &f.Scenarios[i].Results[j]; r.Provider == provider && r.Model == model {
				return r
			}
		}
	}
	return nil
}

// check checks a sweep read from a file.
func (s *Sweep) check() error {
	switch s.Mode {
	case "rate", "concurrency":
	default:
		return fmt.Errorf("sweep: mode %q (want rate or concurrency)", s.Mode)
	}
	switch s.Limit {
	case "slo", "server_errors", "client_rate", "max":
	default:
		return fmt.Errorf("sweep: limit %q (want slo, server_errors, client_rate or max)", s.Limit)
	}
	for _, x := range []float64{s.Capacity, s.Ceiling, s.Resolution, s.Min, s.Max, s.MinAchieved} {
		if !finite(x) || x < 0 {
			return fmt.Errorf("sweep: a value out of range (%v)", x)
		}
	}
	if s.Requests < 0 {
		return fmt.Errorf("sweep: requests %d", s.Requests)
	}
	for i := range s.Steps {
		st := &s.Steps[i]
		switch st.Outcome {
		case "pass", "fail", "inconclusive":
		default:
			return fmt.Errorf("sweep: step %d: outcome %q (want pass, fail or inconclusive)", i, st.Outcome)
		}
		if (st.Outcome == "pass" && !st.Holds) || (st.Outcome == "fail" && st.Holds) {
			return fmt.Errorf("sweep: step %d: outcome %s but holds %v", i, st.Outcome, st.Holds)
		}
		for _, x := range []float64{st.Load, st.AchievedRate, st.GoodputRPS, st.OutputTokensPerSecond} {
			if !finite(x) || x < 0 {
				return fmt.Errorf("sweep: step %d: a value out of range (%v)", i, x)
			}
		}
		if st.Requests < 0 || st.Failed < 0 || st.Failed > st.Requests {
			return fmt.Errorf("sweep: step %d: %d failed of %d requests", i, st.Failed, st.Requests)
		}
		for _, d := range []*Distribution{st.TTFT, st.E2E} {
			if d == nil {
				continue
			}
			if !d.IsLatency() {
				return fmt.Errorf("sweep: step %d: a latency in %q", i, d.Unit)
			}
			if err := d.check(); err != nil {
				return fmt.Errorf("sweep: step %d: %w", i, err)
			}
		}
		for k := range st.Gates {
			if err := st.Gates[k].check(); err != nil {
				return fmt.Errorf("sweep: step %d: %w", i, err)
			}
		}
	}
	return nil
}

// Curve returns the steps sorted by load.
func (s *Sweep) Curve() []SweepStep {
	c := append([]SweepStep(nil), s.Steps...)
	for i := 1; i < len(c); i++ { // insertion sort: a handful of steps, stable
		for j := i; j > 0 && c[j].Load < c[j-1].Load; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// WriteSweepTable writes a sweep as the console shows it: a row per load
// tried, from the lowest, with each gate's verdict and interval, the
// achieved rate, goodput, output tokens per second and requests, and a line
// saying what the search found.
func WriteSweepTable(w io.Writer, s *Sweep) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var gates []string
	if len(s.Steps) > 0 {
		for _, g := range s.Steps[0].Gates {
			gates = append(gates, g.Description)
		}
	}
	head := []string{s.Unit, "verdict"}
	head = append(head, gates...)
	head = append(head, "ttft p50/p95/p99 ms", "sent req/s", "goodput req/s", "tokens/s", "requests", "")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, st := range s.Curve() {
		verdict := "holds"
		if !st.Holds {
			verdict = "breaks"
		}
		if st.Outcome == "inconclusive" {
			verdict += "?"
		}
		row := []string{capacity.FormatLoad(st.Load), verdict}
		for _, g := range st.Gates {
			row = append(row, gateCell(g))
		}
		for len(row) < 2+len(gates) {
			row = append(row, "-")
		}
		ttft := "-"
		if d := st.TTFT; d != nil && d.Count > 0 {
			ttft = fmt.Sprintf("%s/%s/%s", sig3(d.Median), sig3(d.P95), sig3(d.P99))
		}
		note := ""
		switch {
		case st.Load == s.Capacity && st.Holds:
			note = "<- capacity"
		case st.Limit == "server_errors" || st.Limit == "client_rate":
			note = st.Limit
		}
		row = append(row, ttft, fmtRate(st.AchievedRate), fmtRate(st.GoodputRPS), fmtRate(st.OutputTokensPerSecond), thousands(st.Requests), note)
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", s.Summary); err != nil {
		return err
	}
	for _, st := range s.Curve() {
		if st.Outcome == "inconclusive" {
			fmt.Fprintln(w, "? inconclusive: decided by the point estimate when the step's budget was spent")
			break
		}
	}
	return nil
}

// gateCell is a gate's verdict in a table cell: "pass 100 [99.9..100]",
// "fail 350 [350..∞]", "pass 0.5% [0..1.2%]".
func gateCell(g Gate) string {
	out := g.Outcome
	if out == "inconclusive" {
		out = "?"
		if g.Holds {
			out += "pass"
		} else {
			out += "fail"
		}
	}
	if g.MaxErrorRate != nil {
		return fmt.Sprintf("%s %s [%s..%s]", out, pctCell(g.Rate), pctCell(g.RateLo), pctCell(g.RateHi))
	}
	hi := "∞"
	if g.HiMs != nil {
		hi = sig3(*g.HiMs)
	}
	return fmt.Sprintf("%s %s [%s..%s]", out, sig3(g.EstimateMs), sig3(g.LoMs), hi)
}

// sweepChart draws a capacity search against load: TTFT p50, p95 and p99
// of each load tried in the top panel, with the limit of each TTFT gate;
// goodput and the achieved send rate in requests per second in the bottom
// panel; a marker under each load that did not hold, and the capacity as a
// vertical line across both. The load axis is logarithmic when the loads
// span more than 1.5 decades.
func sweepChart(id string, s *Sweep) svgChart {
	const h = 420
	c := newChart(id, "Capacity search", chartW, h)
	var curve []SweepStep
	for _, st := range s.Curve() {
		if st.Load > 0 {
			curve = append(curve, st)
		}
	}
	if len(curve) == 0 {
		c.Empty = "The search tried no load."
		return c
	}
	top := plot{marginLeft, marginTop, chartW - marginRight - 26, 218}
	bot := plot{marginLeft, 246, chartW - marginRight - 26, h - marginBottom}

	// The load axis.
	lo, hi := curve[0].Load, curve[len(curve)-1].Load
	log := wideRange(lo, hi)
	var xs scale
	var xt []tick
	format := capacity.FormatLoad
	if log {
		l, h, ts := logTicks(lo, hi, format)
		xs, xt = scale{lo: l, hi: h, log: true, a: top.left, b: top.right}, ts
	} else {
		l, h, ts := linearTicks(0, hi, 6, nil)
		xs, xt = scale{lo: l, hi: h, a: top.left, b: top.right}, ts
	}
	xTitle := "load (" + s.Unit + ")"
	if log {
		xTitle += ", log scale"
	}

	// Top panel: TTFT percentiles.
	var topMs float64
	for _, st := range curve {
		if st.TTFT != nil && st.TTFT.Count > 0 {
			topMs = math.Max(topMs, st.TTFT.P99)
		}
	}
	var limits []float64
	for _, g := range s.Steps[0].Gates {
		if g.Metric == "ttft" && g.LimitMs > 0 {
			limits = append(limits, g.LimitMs)
			topMs = math.Max(topMs, g.LimitMs)
		}
	}
	ys, yt, yTitle := durationAxis(0, math.Max(topMs, 1e-3), false, top.bottom, top.top, 4, "TTFT")
	c.yAxis(top, ys, yt, yTitle)
	c.Axes = append(c.Axes, svgLine{top.left, top.bottom, top.right, top.bottom, "axis"})
	for _, t := range xt {
		x := xs.pos(t.v)
		c.Grid = append(c.Grid, svgLine{x, top.top, x, top.bottom, "grid"})
	}
	for _, l := range limits {
		y := ys.pos(l)
		c.Grid = append(c.Grid, svgLine{top.left, y, top.right, y, "ref"})
		c.Texts = append(c.Texts, svgText{X: top.right + 3, Y: y + 4, Anchor: "start", Class: "ref-label", Text: "limit"})
	}
	for _, q := range []struct {
		label string
		color string
		v     func(*Distribution) float64
	}{
		{"TTFT p50", colorP50, func(d *Distribution) float64 { return d.Median }},
		{"TTFT p95", colorP95, func(d *Distribution) float64 { return d.P95 }},
		{"TTFT p99", colorP99, func(d *Distribution) float64 { return d.P99 }},
	} {
		var pb pathBuilder
		var pts []string
		for _, st := range curve {
			if st.TTFT == nil || st.TTFT.Count == 0 {
				continue
			}
			v := q.v(st.TTFT)
			pb.to(xs.pos(st.Load), ys.pos(v))
			pts = append(pts, fmt.Sprintf("%s %s: %s", capacity.FormatLoad(st.Load), s.Unit, fmtMs(v)))
		}
		c.Paths = append(c.Paths, svgPath{D: pb.String(), Stroke: q.color, Fill: "none", Class: "series", Title: q.label + ": " + strings.Join(pts, ", ")})
		c.Legend = append(c.Legend, legendItem{q.label, q.color, "line"})
	}

	// Bottom panel: goodput and the achieved send rate.
	var topRate float64
	for _, st := range curve {
		topRate = math.Max(topRate, math.Max(st.GoodputRPS, st.AchievedRate))
	}
	r0, r1, rt := linearTicks(0, math.Max(topRate, 1e-3), 4, nil)
	yb := scale{lo: r0, hi: r1, a: bot.bottom, b: bot.top}
	xb := xs
	xb.a, xb.b = bot.left, bot.right
	c.xAxis(bot, xb, xt, xTitle)
	c.yAxis(bot, yb, rt, "requests/s")
	for _, q := range []struct {
		label string
		color string
		v     func(SweepStep) float64
	}{
		{"goodput (req/s)", colorOK, func(st SweepStep) float64 { return st.GoodputRPS }},
		{"sent (req/s)", colorAggregate, func(st SweepStep) float64 { return st.AchievedRate }},
	} {
		var pb pathBuilder
		var pts []string
		for _, st := range curve {
			pb.to(xb.pos(st.Load), yb.pos(q.v(st)))
			pts = append(pts, fmt.Sprintf("%s %s: %s", capacity.FormatLoad(st.Load), s.Unit, fmtRate(q.v(st))))
		}
		c.Paths = append(c.Paths, svgPath{D: pb.String(), Stroke: q.color, Fill: "none", Class: "series", Title: q.label + ": " + strings.Join(pts, ", ")})
		c.Legend = append(c.Legend, legendItem{q.label, q.color, "line"})
	}

	// Loads that did not hold: a marker under the top panel's axis.
	var broken []string
	for _, st := range curve {
		if st.Holds {
			continue
		}
		mx, my := xs.pos(st.Load), top.bottom+3
		why := st.Detail
		if why == "" {
			why = "a gate broke"
		}
		c.Marks = append(c.Marks, svgMark{
			Points: num(mx) + "," + num(my) + " " + num(mx-4) + "," + num(my+7) + " " + num(mx+4) + "," + num(my+7),
			Fill:   colorFailed, Title: fmt.Sprintf("%s %s: %s", capacity.FormatLoad(st.Load), s.Unit, why)})
		broken = append(broken, capacity.FormatLoad(st.Load))
	}

	// The capacity, across both panels.
	if s.Capacity > 0 {
		x := xs.pos(s.Capacity)
		c.Axes = append(c.Axes, svgLine{x, top.top, x, bot.bottom, "capacity"})
		anchor, dx := "start", 4.0
		if x > (top.left+top.right)/2 {
			anchor, dx = "end", -4
		}
		c.Texts = append(c.Texts, svgText{X: x + dx, Y: top.top + 10, Anchor: anchor, Class: "capacity-label",
			Text: fmt.Sprintf("capacity %s %s", capacity.FormatLoad(s.Capacity), s.Unit)})
		c.Legend = append(c.Legend, legendItem{"capacity", colorCapacity, "line"})
	}
	c.Desc = s.Summary
	var notes []string
	if len(broken) > 0 {
		notes = append(notes, fmt.Sprintf("Red markers: loads at which a gate broke (%s %s).", strings.Join(broken, ", "), s.Unit))
	}
	notes = append(notes, "Goodput: requests per second that succeeded and met every per-request limit.")
	c.Note = strings.Join(notes, " ")
	return c
}

// sweepRow is one load of a sweep in the HTML report's table.
type sweepRow struct {
	Load, Verdict, Gates            string
	P50, P95, P99                   string
	Sent, Goodput, Tokens, Requests string
	Holds, Capacity                 bool
}

// sweepRows is the HTML table of a sweep, from the lowest load.
func sweepRows(s *Sweep) []sweepRow {
	var rows []sweepRow
	for _, st := range s.Curve() {
		r := sweepRow{
			Load: capacity.FormatLoad(st.Load) + " " + s.Unit, Holds: st.Holds, Capacity: st.Holds && st.Load == s.Capacity,
			P50: "–", P95: "–", P99: "–",
			Sent: fmtRate(st.AchievedRate), Goodput: fmtRate(st.GoodputRPS), Tokens: fmtRate(st.OutputTokensPerSecond),
			Requests: thousands(st.Requests),
		}
		r.Verdict = "holds"
		if !st.Holds {
			r.Verdict = "breaks"
			if st.Limit == "server_errors" || st.Limit == "client_rate" {
				r.Verdict += ": " + strings.ReplaceAll(st.Limit, "_", " ")
			}
		}
		if st.Outcome == "inconclusive" {
			r.Verdict += " (inconclusive)"
		}
		if r.Capacity {
			r.Verdict += " · capacity"
		}
		var gs []string
		for _, g := range st.Gates {
			gs = append(gs, g.Description+": "+gateCell(g))
		}
		if st.Detail != "" && !st.Holds {
			gs = append(gs, st.Detail)
		}
		r.Gates = strings.Join(gs, "; ")
		if d := st.TTFT; d != nil && d.Count > 0 {
			r.P50, r.P95, r.P99 = fmtMs(d.Median), fmtMs(d.P95), fmtMs(d.P99)
		}
		rows = append(rows, r)
	}
	return rows
}
