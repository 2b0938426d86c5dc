package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// The charts of the HTML report are computed here as plain geometry (lines,
// rectangles, paths, text with coordinates in SVG user units) and drawn by
// the page template, which escapes every string. Nothing here writes markup.

// Chart colours. Series take seriesColors in order; the rest have fixed
// meanings.
var seriesColors = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#ff9da7", "#e15759", "#bab0ac"}

const (
	colorP50       = "#4e79a7"
	colorP95       = "#f28e2b"
	colorP99       = "#e15759"
	colorPerReq    = "#76b7b2"
	colorAggregate = "#b07aa1"
	colorOK        = "#59a14f"
	colorFailed    = "#e15759"
	colorTokens    = "#4e79a7"
	colorCapacity  = "#1f2328"
)

// seriesColor returns the colour of the i-th series.
func seriesColor(i int) string { return seriesColors[i%len(seriesColors)] }

// svgChart is one chart: the template draws it as an inline <svg> of W×H
// user units, with Title as its accessible name.
type svgChart struct {
	ID     string
	Title  string
	Desc   string // the chart in words, for screen readers
	Note   string // shown under the chart
	Empty  string // when set, the chart has no data and this says why
	W, H   float64
	Grid   []svgLine
	Axes   []svgLine
	Rects  []svgRect
	Paths  []svgPath
	Marks  []svgMark
	Texts  []svgText
	Legend []legendItem
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type svgPath struct {
	D      string
	Stroke string
	Fill   string // "none" for a line
	Class  string
	Title  string
}

// svgMark is a small filled polygon (a failure marker).
type svgMark struct {
	Points string
	Fill   string
	Title  string
}

type svgText struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
	Rotate float64 // degrees around (X, Y); 0 for none
}

// legendItem is one entry of a chart's legend; Kind is "line" or "bar".
type legendItem struct {
	Label, Color, Kind string
}

// plot is the drawing area of a chart, inside its margins.
type plot struct {
	left, top, right, bottom float64
}

func (p plot) width() float64  { return p.right - p.left }
func (p plot) height() float64 { return p.bottom - p.top }

// scale maps a data interval [lo, hi] (hi > lo; lo > 0 when log) onto the
// pixel interval [a, b].
type scale struct {
	lo, hi float64
	log    bool
	a, b   float64
}

func (s scale) pos(v float64) float64 {
	var t float64
	if s.log {
		v = math.Max(v, s.lo)
		t = (math.Log10(v) - math.Log10(s.lo)) / (math.Log10(s.hi) - math.Log10(s.lo))
	} else {
		t = (v - s.lo) / (s.hi - s.lo)
	}
	return s.a + t*(s.b-s.a)
}

// tick is one labelled position on an axis.
type tick struct {
	v     float64
	label string
}

// niceStep returns a round step (1, 2, 2.5 or 5 times a power of ten) that
// cuts span (> 0) into about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 2.5:
		return 2.5 * mag
	case f <= 5:
		return 5 * mag
	}
	return 10 * mag
}

// stepDecimals is the number of decimals that print every multiple of step
// (a niceStep) exactly: 0 for 250, 1 for 2.5 or 0.5, 2 for 0.25.
func stepDecimals(step float64) int {
	d := 0
	for ; d < 12; d++ {
		v := step * math.Pow(10, float64(d))
		if math.Abs(v-math.Round(v)) < 1e-6*math.Max(1, v) {
			break
		}
	}
	return d
}

// span returns a usable data interval for values in [lo, hi]: widened when
// empty, and never with a non-finite bound.
func span(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) {
		lo = 0
	}
	if math.IsNaN(hi) || math.IsInf(hi, 0) || hi < lo {
		hi = lo
	}
	if hi > lo {
		return lo, hi
	}
	if lo == 0 {
		return 0, 1
	}
	d := math.Abs(lo) * 0.1
	return lo - d, lo + d
}

// linearTicks returns a rounded-out interval holding [lo, hi] and its ticks,
// about n intervals apart, labelled by format (nil: the number).
func linearTicks(lo, hi float64, n int, format func(v float64, decimals int) string) (float64, float64, []tick) {
	lo, hi = span(lo, hi)
	step := niceStep(hi-lo, n)
	if !(step > 0) || math.IsInf(step, 0) { // hi - lo is beyond float64
		lo, hi, step = 0, 1, niceStep(1, n)
	}
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Ceil(hi/step-1e-9) * step
	if hi <= lo {
		hi = lo + step
	}
	dec := stepDecimals(step)
	if format == nil {
		format = func(v float64, d int) string { return strconv.FormatFloat(v, 'f', d, 64) }
	}
	var ts []tick
	for i := 0; i <= 4*max(n, 1)+2; i++ {
		v := lo + float64(i)*step
		if v > hi+step*1e-6 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, tick{v, format(v, dec)})
	}
	return lo, hi, ts
}

// logTicks returns an interval holding [lo, hi] (0 < lo < hi) rounded out to
// 1, 2 or 5 times a power of ten, and its ticks: each power of ten, and the
// 2s and 5s as well when it spans at most three decades.
func logTicks(lo, hi float64, format func(v float64) string) (float64, float64, []tick) {
	if !(lo > 0) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) {
		lo, hi = 1, 10 // not a log range; callers check wideRange first
	}
	down := func(v float64) float64 {
		p := math.Pow(10, math.Floor(math.Log10(v)+1e-9))
		for _, m := range []float64{5, 2, 1} {
			if m*p <= v*(1+1e-9) {
				return m * p
			}
		}
		return p
	}
	up := func(v float64) float64 {
		p := math.Pow(10, math.Floor(math.Log10(v)-1e-9))
		for _, m := range []float64{1, 2, 5, 10} {
			if m*p >= v*(1-1e-9) {
				return m * p
			}
		}
		return 10 * p
	}
	lo, hi = down(lo), up(hi)
	if hi <= lo {
		hi = up(lo * 1.01)
	}
	decades := math.Log10(hi / lo)
	mults := []float64{1}
	if decades <= 3 {
		mults = []float64{1, 2, 5}
	}
	var ts []tick
	for k := math.Floor(math.Log10(lo)) - 1; k <= math.Ceil(math.Log10(hi)); k++ {
		p := math.Pow(10, k)
		for _, m := range mults {
			v := m * p
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ts = append(ts, tick{v, format(v)})
			}
		}
	}
	return lo, hi, ts
}

// durationUnit picks the unit of a linear duration axis whose values (in
// milliseconds) reach top: it returns the factor from milliseconds and the
// unit's name.
func durationUnit(top float64) (float64, string) {
	switch {
	case top < 1:
		return 1000, "µs"
	case top >= 10000:
		return 0.001, "s"
	}
	return 1, "ms"
}

// fmtMs formats a duration in milliseconds with three significant figures
// in the unit that suits it: "850 µs", "43.2 ms", "1.23 s".
func fmtMs(ms float64) string {
	switch {
	case ms == 0:
		return "0"
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "–"
	}
	return inUnit(ms, sig3)
}

// fmtTick formats a tick value of a log axis in milliseconds, with no more
// digits than it needs: "500 µs", "2 ms", "10 s".
func fmtTick(ms float64) string {
	return inUnit(ms, func(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) })
}

// inUnit formats a duration of ms milliseconds in µs, ms or s, the unit
// that puts it below 1000 (µs below 1 ms), its number formatted by num.
func inUnit(ms float64, num func(float64) string) string {
	switch {
	case ms < 1:
		return num(ms*1000) + " µs"
	case ms < 1000:
		return num(ms) + " ms"
	}
	return num(ms/1000) + " s"
}

// sig3 formats v (>= 0) with three significant figures and no exponent.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// fmtKnown formats a count that may be unknown (nil).
func fmtKnown(n *int64) string {
	if n == nil {
		return "unknown"
	}
	return thousands(*n)
}

// fmtRate formats a non-negative rate with three significant figures.
func fmtRate(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return sig3(v)
}

// num formats a coordinate with one decimal, as the template writes them.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return s
}

// pathBuilder accumulates an SVG path, skipping points that would not move
// the pen by a tenth of a unit.
type pathBuilder struct {
	b      strings.Builder
	lx, ly float64
	n      int
}

func (p *pathBuilder) to(x, y float64) {
	if p.n > 0 && math.Abs(x-p.lx) < 0.05 && math.Abs(y-p.ly) < 0.05 {
		return
	}
	if p.n == 0 {
		p.b.WriteByte('M')
	} else {
		p.b.WriteByte('L')
	}
	p.b.WriteString(num(x))
	p.b.WriteByte(',')
	p.b.WriteString(num(y))
	p.lx, p.ly = x, y
	p.n++
}

func (p *pathBuilder) String() string { return p.b.String() }

// chart layout, in SVG user units.
const (
	chartW       = 560
	chartH       = 300
	marginLeft   = 64
	marginRight  = 20
	marginTop    = 14
	marginBottom = 46
)

func newChart(id, title string, w, h float64) svgChart {
	return svgChart{ID: id, Title: title, W: w, H: h}
}

// xAxis draws the horizontal axis of p at its bottom: the axis line, a tick
// and a vertical grid line per tick, and the axis title.
func (c *svgChart) xAxis(p plot, s scale, ts []tick, title string) {
	c.Axes = append(c.Axes, svgLine{p.left, p.bottom, p.right, p.bottom, "axis"})
	for _, t := range ts {
		x := s.pos(t.v)
		c.Grid = append(c.Grid, svgLine{x, p.top, x, p.bottom, "grid"})
		c.Axes = append(c.Axes, svgLine{x, p.bottom, x, p.bottom + 5, "axis"})
		c.Texts = append(c.Texts, svgText{X: x, Y: p.bottom + 17, Anchor: "middle", Class: "tick", Text: t.label})
	}
	if title != "" {
		c.Texts = append(c.Texts, svgText{X: (p.left + p.right) / 2, Y: p.bottom + 37, Anchor: "middle", Class: "axis-title", Text: title})
	}
}

// yAxis draws the vertical axis of p at its left: the axis line, ticks,
// horizontal grid lines, and the axis title, rotated.
func (c *svgChart) yAxis(p plot, s scale, ts []tick, title string) {
	c.Axes = append(c.Axes, svgLine{p.left, p.top, p.left, p.bottom, "axis"})
	for _, t := range ts {
		y := s.pos(t.v)
		c.Grid = append(c.Grid, svgLine{p.left, y, p.right, y, "grid"})
		c.Axes = append(c.Axes, svgLine{p.left - 5, y, p.left, y, "axis"})
		c.Texts = append(c.Texts, svgText{X: p.left - 8, Y: y + 4, Anchor: "end", Class: "tick", Text: t.label})
	}
	if title != "" {
		x, y := p.left-48, (p.top+p.bottom)/2
		c.Texts = append(c.Texts, svgText{X: x, Y: y, Anchor: "middle", Class: "axis-title", Text: title, Rotate: -90})
	}
}

// durationAxis returns the scale and ticks of a duration axis over [lo, hi]
// milliseconds onto pixels [a, b]: logarithmic when log is set (lo > 0),
// else linear in the unit that suits hi. The title names the unit.
func durationAxis(lo, hi float64, log bool, a, b float64, n int, name string) (scale, []tick, string) {
	if log {
		lo, hi, ts := logTicks(lo, hi, fmtTick)
		return scale{lo: lo, hi: hi, log: true, a: a, b: b}, ts, name + " (log scale)"
	}
	lo, hi = span(lo, hi)
	f, unit := durationUnit(hi)
	lo, hi, ts := linearTicks(lo*f, hi*f, n, nil)
	for i := range ts {
		ts[i].v /= f
	}
	return scale{lo: lo / f, hi: hi / f, a: a, b: b}, ts, name + " (" + unit + ")"
}

// wideRange reports whether a distribution from lo to hi (> 0) is better
// drawn on a logarithmic axis: more than 1.5 decades apart.
func wideRange(lo, hi float64) bool {
	return lo > 0 && hi > 0 && hi/lo >= 30
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// cdfSeries is one distribution of a CDF chart.
type cdfSeries struct {
	Label string
	Color string
	L     *stats.Latency
}

// exactCDFLimit is the largest sample count whose CDF is drawn step by step,
// one step per sample; larger ones are drawn through cdfPercentiles.
const exactCDFLimit = 400

// cdfPercentiles are the percentiles a large distribution's CDF is drawn
// through: every quarter percent, and the tail in finer steps.
var cdfPercentiles = func() []float64 {
	var ps []float64
	for p := 0.0; p < 99.5; p += 0.25 {
		ps = append(ps, p)
	}
	return append(ps, 99.5, 99.6, 99.7, 99.8, 99.9, 99.95, 99.99, 100)
}()

// cdfPoints returns the empirical CDF of l as (milliseconds, fraction)
// points: a step per sample for a small distribution, the percentile walk
// for a large one. It is empty for an empty distribution.
func cdfPoints(l *stats.Latency) [][2]float64 {
	n := l.Count()
	if n == 0 {
		return nil
	}
	var pts [][2]float64
	if n <= exactCDFLimit {
		prev := 0.0
		for k := int64(1); k <= n; k++ {
			x := ms(l.ValueAtRank(k))
			pts = append(pts, [2]float64{x, prev}, [2]float64{x, float64(k) / float64(n)})
			prev = float64(k) / float64(n)
		}
		return pts
	}
	for _, p := range cdfPercentiles {
		pts = append(pts, [2]float64{ms(l.Percentile(p)), p / 100})
	}
	return pts
}

// cdfChart draws the CDFs of several distributions of one metric, one line
// each, on a shared axis: logarithmic when they span more than 1.5 decades.
func cdfChart(id, title, metric string, series []cdfSeries) svgChart {
	c := newChart(id, title, chartW, chartH)
	p := plot{marginLeft, marginTop, chartW - marginRight - 26, chartH - marginBottom}
	type line struct {
		s   cdfSeries
		pts [][2]float64
	}
	var lines []line
	lo, hi, loPos := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, s := range series {
		pts := cdfPoints(s.L)
		if len(pts) == 0 {
			continue
		}
		lines = append(lines, line{s, pts})
		lo = math.Min(lo, pts[0][0])
		hi = math.Max(hi, pts[len(pts)-1][0])
		for _, pt := range pts {
			if pt[0] > 0 {
				loPos = math.Min(loPos, pt[0])
				break
			}
		}
	}
	if len(lines) == 0 {
		c.Empty = "No successful requests: no " + metric + " to draw."
		return c
	}
	log := wideRange(loPos, hi)
	if !log && lo < 0.25*hi {
		lo = 0
	} else if log {
		lo = loPos
	}
	xs, xt, xTitle := durationAxis(lo, hi, log, p.left, p.right, 6, metric)
	ys := scale{lo: 0, hi: 1, a: p.bottom, b: p.top}
	var yt []tick
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		yt = append(yt, tick{v, strconv.Itoa(int(v*100)) + "%"})
	}
	c.xAxis(p, xs, xt, xTitle)
	c.yAxis(p, ys, yt, "share of requests ≤ x")
	for _, q := range []struct {
		v     float64
		label string
	}{{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}} {
		y := ys.pos(q.v)
		c.Grid = append(c.Grid, svgLine{p.left, y, p.right, y, "ref"})
		c.Texts = append(c.Texts, svgText{X: p.right + 3, Y: y + 4, Anchor: "start", Class: "ref-label", Text: q.label})
	}
	var desc []string
	for _, ln := range lines {
		var pb pathBuilder
		for _, pt := range ln.pts {
			pb.to(xs.pos(pt[0]), ys.pos(pt[1]))
		}
		// A single value is a vertical step; extend it to the right edge so
		// that it reads as a CDF.
		pb.to(p.right, ys.pos(1))
		sum := fmt.Sprintf("%s: p50 %s, p95 %s, p99 %s (%s requests)", ln.s.Label,
			fmtMs(ms(ln.s.L.Percentile(50))), fmtMs(ms(ln.s.L.Percentile(95))), fmtMs(ms(ln.s.L.Percentile(99))), thousands(ln.s.L.Count()))
		c.Paths = append(c.Paths, svgPath{D: pb.String(), Stroke: ln.s.Color, Fill: "none", Class: "series", Title: sum})
		c.Legend = append(c.Legend, legendItem{ln.s.Label, ln.s.Color, "line"})
		desc = append(desc, sum)
	}
	c.Desc = "Cumulative distribution of " + metric + ". " + strings.Join(desc, "; ")
	if log {
		c.Note = "The time axis is logarithmic: the values span more than 1.5 decades."
	}
	return c
}

// rankAtMost returns how many values of l are at most v nanoseconds, as the
// histogram resolves them (bisection on ValueAtRank), searching ranks in
// [from, n].
func rankAtMost(l *stats.Latency, v int64, from int64) int64 {
	lo, hi := from, l.Count()
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if int64(l.ValueAtRank(mid)) <= v {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// histogramChart draws the distribution of l as bars: the share of values
// in each bin. The bins cover the minimum to the maximum, or to the 99.5th
// percentile when the tail is long (the note says how many are beyond);
// they are logarithmic when the range spans more than 1.5 decades.
// An empty distribution draws no chart but says empty.
func histogramChart(id, title, metric, unitName string, l *stats.Latency, color, empty string) svgChart {
	c := newChart(id, title, chartW, chartH)
	p := plot{marginLeft, marginTop, chartW - marginRight, chartH - marginBottom}
	n := l.Count()
	if n == 0 {
		c.Empty = empty
		return c
	}
	lo, hi := ms(l.Min()), ms(l.Max())
	var beyond int64
	if p995 := ms(l.Percentile(99.5)); hi > 3*p995 && p995 > lo {
		hi = p995
	}
	log := wideRange(lo, hi)
	nb := int(math.Min(40, math.Max(8, math.Sqrt(float64(n)))))
	var xs scale
	var xt []tick
	var xTitle string
	var edges []float64 // bin edges in milliseconds
	if log {
		xs, xt, xTitle = durationAxis(lo, hi, true, p.left, p.right, 6, metric)
		a, b := math.Log10(xs.lo), math.Log10(xs.hi)
		for i := 0; i <= nb; i++ {
			edges = append(edges, math.Pow(10, a+(b-a)*float64(i)/float64(nb)))
		}
	} else {
		xs, xt, xTitle = durationAxis(lo, hi, false, p.left, p.right, 6, metric)
		// Bins split each tick interval evenly, so that their edges meet the
		// ticks.
		per := max(1, int(math.Round(float64(nb)/float64(max(len(xt)-1, 1)))))
		nb = max(len(xt)-1, 1) * per
		for i := 0; i <= nb; i++ {
			edges = append(edges, xs.lo+(xs.hi-xs.lo)*float64(i)/float64(nb))
		}
	}
	counts := make([]int64, len(edges)-1)
	var prev int64
	// Values below the first edge fall into the first bin.
	for i := 1; i < len(edges); i++ {
		k := rankAtMost(l, int64(math.Round(edges[i]*1e6)), prev)
		counts[i-1] = k - prev
		prev = k
	}
	beyond = n - prev
	var top float64
	for _, k := range counts {
		top = math.Max(top, float64(k)/float64(n)*100)
	}
	y0, y1, yt := linearTicks(0, top, 5, func(v float64, d int) string { return strconv.FormatFloat(v, 'f', d, 64) + "%" })
	ys := scale{lo: y0, hi: y1, a: p.bottom, b: p.top}
	c.xAxis(p, xs, xt, xTitle)
	c.yAxis(p, ys, yt, "share of "+unitName)
	for i, k := range counts {
		if k == 0 {
			continue
		}
		x0, x1 := xs.pos(edges[i]), xs.pos(edges[i+1])
		w := math.Max(x1-x0-1, 0.5)
		y := ys.pos(float64(k) / float64(n) * 100)
		c.Rects = append(c.Rects, svgRect{X: x0 + 0.5, Y: y, W: w, H: p.bottom - y, Fill: color,
			Title: fmt.Sprintf("%s – %s: %s %s (%.1f%%)", fmtMs(edges[i]), fmtMs(edges[i+1]), thousands(k), unitName, float64(k)/float64(n)*100)})
	}
	c.Legend = []legendItem{{metric, color, "bar"}}
	c.Desc = fmt.Sprintf("Histogram of %s %s %s: p50 %s, p99 %s, max %s.", thousands(n), metric, unitName,
		fmtMs(ms(l.Percentile(50))), fmtMs(ms(l.Percentile(99))), fmtMs(ms(l.Max())))
	var notes []string
	if beyond > 0 {
		notes = append(notes, fmt.Sprintf("%s %s above %s (up to %s) are not drawn.", thousands(beyond), unitName, fmtMs(edges[len(edges)-1]), fmtMs(ms(l.Max()))))
	}
	if log {
		notes = append(notes, "The time axis is logarithmic.")
	}
	c.Note = strings.Join(notes, " ")
	return c
}

// barGroup is one category of a grouped bar chart: one value per series;
// a NaN value is missing and drawn as "n/a". Label names it in tooltips;
// Lines (Label when empty) are written under its bars, one per line.
type barGroup struct {
	Label  string
	Lines  []string
	Values []float64
}

// groupedBars draws one group of bars per category, one bar per series. A
// duration chart (values in milliseconds) labels its axis in the unit that
// suits it; format labels the values in tooltips.
func groupedBars(id, title, yName string, series []legendItem, groups []barGroup, durations bool, format func(float64) string) svgChart {
	n := len(groups)
	rotate := n > 4
	bottom := float64(marginBottom)
	if rotate {
		bottom = 110
	}
	w := math.Max(chartW, marginLeft+marginRight+float64(n)*(float64(len(series))*16+28))
	c := newChart(id, title, w, chartH+bottom-marginBottom)
	p := plot{marginLeft, marginTop, w - marginRight, c.H - bottom}
	c.Legend = series
	if n == 0 {
		c.Empty = "No results."
		return c
	}
	var top float64
	for _, g := range groups {
		for _, v := range g.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = math.Max(top, v)
			}
		}
	}
	var ys scale
	var yt []tick
	yTitle := yName
	short := func(v float64) string { return fmtRate(v) } // a value over its bar
	if durations {
		var t string
		ys, yt, t = durationAxis(0, top, false, p.bottom, p.top, 5, yName)
		yTitle = t
		f, _ := durationUnit(ys.hi)
		short = func(v float64) string { return fmtRate(v * f) }
	} else {
		lo, hi, ts := linearTicks(0, top, 5, nil)
		ys, yt = scale{lo: lo, hi: hi, a: p.bottom, b: p.top}, ts
	}
	c.yAxis(p, ys, yt, yTitle)
	c.Axes = append(c.Axes, svgLine{p.left, p.bottom, p.right, p.bottom, "axis"})
	gw := p.width() / float64(n)
	bw := math.Min(28, (gw-16)/float64(len(series)))
	maxChars := int(gw / 6.2)
	if rotate {
		maxChars = 24
	}
	var desc []string
	for i, g := range groups {
		x0 := p.left + gw*float64(i) + (gw-bw*float64(len(series)))/2
		var parts []string
		for j, v := range g.Values {
			x := x0 + bw*float64(j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				c.Texts = append(c.Texts, svgText{X: x + bw/2, Y: p.bottom - 4, Anchor: "middle", Class: "na", Text: "n/a"})
				parts = append(parts, series[j].Label+" n/a")
				continue
			}
			y := ys.pos(v)
			c.Rects = append(c.Rects, svgRect{X: x + 1, Y: y, W: math.Max(bw-2, 1), H: p.bottom - y, Fill: series[j].Color,
				Title: g.Label + " — " + series[j].Label + ": " + format(v)})
			if bw >= 20 {
				c.Texts = append(c.Texts, svgText{X: x + bw/2, Y: y - 4, Anchor: "middle", Class: "value", Text: short(v)})
			}
			parts = append(parts, series[j].Label+" "+format(v))
		}
		cx := p.left + gw*(float64(i)+0.5)
		lines := g.Lines
		if len(lines) == 0 {
			lines = []string{g.Label}
		}
		for k, line := range lines {
			class := "tick"
			if k > 0 {
				class = "tick sub"
			}
			if rotate {
				// Rotated by -35°, each next line moves 12 units down the
				// text's own vertical: (sin 35°, cos 35°).
				dx, dy := 12*0.574*float64(k), 12*0.819*float64(k)
				c.Texts = append(c.Texts, svgText{X: cx + 4 + dx, Y: p.bottom + 14 + dy, Anchor: "end", Class: class, Text: truncate(line, maxChars), Rotate: -35})
			} else {
				c.Texts = append(c.Texts, svgText{X: cx, Y: p.bottom + 17 + 14*float64(k), Anchor: "middle", Class: class, Text: truncate(line, maxChars)})
			}
		}
		desc = append(desc, g.Label+": "+strings.Join(parts, ", "))
	}
	c.Desc = title + ". " + strings.Join(desc, "; ")
	return c
}

// truncate shortens s to at most n runes, ending it with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if n < 2 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// maxTimelineBars is the most bars a timeline draws; longer runs are drawn
// in wider buckets.
const maxTimelineBars = 120

// timelineChart draws throughput over time from a timeline of one-second
// ticks: requests per second as stacked bars (succeeded, failed), output
// tokens per second as a line below, and a marker under each bucket with
// failures.
func timelineChart(id, title string, ticks []lens.Tick) svgChart {
	const h = 380
	c := newChart(id, title, chartW, h)
	if len(ticks) == 0 {
		c.Empty = "No requests ended in the measured phase: no throughput to draw."
		return c
	}
	step := int(math.Ceil(float64(len(ticks)) / maxTimelineBars))
	secs := float64(lens.TimelineStep) / float64(time.Second) * float64(step)
	type bucket struct {
		t0, t1       float64 // seconds since start
		ok, failed   float64 // per second
		tokens       float64 // per second
		nReq, nFail  int64
		outputTokens int64
	}
	var bs []bucket
	for i := 0; i < len(ticks); i += step {
		var b bucket
		j := min(i+step, len(ticks))
		for _, t := range ticks[i:j] {
			b.nReq += t.Requests
			b.nFail += t.Failed
			b.outputTokens += t.OutputTokens
		}
		b.t0 = float64(i) * secs / float64(step)
		b.t1 = float64(j) * secs / float64(step)
		d := b.t1 - b.t0
		b.ok = float64(b.nReq-b.nFail) / d
		b.failed = float64(b.nFail) / d
		b.tokens = float64(b.outputTokens) / d
		bs = append(bs, b)
	}
	top := plot{marginLeft, marginTop, chartW - marginRight, 178}
	bot := plot{marginLeft, 206, chartW - marginRight, h - marginBottom}
	x0, x1, xt := linearTicks(0, bs[len(bs)-1].t1, 6, nil)
	xsTop := scale{lo: x0, hi: x1, a: top.left, b: top.right}
	var maxReq, maxTok float64
	var failures int64
	for _, b := range bs {
		maxReq = math.Max(maxReq, b.ok+b.failed)
		maxTok = math.Max(maxTok, b.tokens)
		failures += b.nFail
	}
	r0, r1, rt := linearTicks(0, maxReq, 4, nil)
	ysTop := scale{lo: r0, hi: r1, a: top.bottom, b: top.top}
	t0, t1, tt := linearTicks(0, maxTok, 3, nil)
	ysBot := scale{lo: t0, hi: t1, a: bot.bottom, b: bot.top}

	// Top panel: requests per second.
	c.yAxis(top, ysTop, rt, "requests/s")
	c.Axes = append(c.Axes, svgLine{top.left, top.bottom, top.right, top.bottom, "axis"})
	for _, x := range xt {
		px := xsTop.pos(x.v)
		c.Grid = append(c.Grid, svgLine{px, top.top, px, top.bottom, "grid"})
	}
	for _, b := range bs {
		xa, xb := xsTop.pos(b.t0), xsTop.pos(b.t1)
		gap := 0.0 // between bars wide enough to show one
		if xb-xa > 5 {
			gap = 1
		}
		w := math.Max(xb-xa-gap, 0.5)
		when := fmt.Sprintf("%s–%s s", strconv.FormatFloat(b.t0, 'f', -1, 64), strconv.FormatFloat(b.t1, 'f', -1, 64))
		yOK := ysTop.pos(b.ok)
		if b.ok > 0 {
			c.Rects = append(c.Rects, svgRect{X: xa + gap/2, Y: yOK, W: w, H: top.bottom - yOK, Fill: colorOK,
				Title: fmt.Sprintf("%s: %s succeeded (%s/s)", when, thousands(b.nReq-b.nFail), fmtRate(b.ok))})
		}
		if b.failed > 0 {
			yF := ysTop.pos(b.ok + b.failed)
			c.Rects = append(c.Rects, svgRect{X: xa + gap/2, Y: yF, W: w, H: yOK - yF, Fill: colorFailed,
				Title: fmt.Sprintf("%s: %s failed (%s/s)", when, thousands(b.nFail), fmtRate(b.failed))})
			// A marker under the axis, visible however small the share.
			mx := (xa + xb) / 2
			my := top.bottom + 3
			c.Marks = append(c.Marks, svgMark{
				Points: num(mx) + "," + num(my) + " " + num(mx-4) + "," + num(my+7) + " " + num(mx+4) + "," + num(my+7),
				Fill:   colorFailed, Title: fmt.Sprintf("%s: %s failed", when, thousands(b.nFail))})
		}
	}

	// Bottom panel: output tokens per second.
	xsBot := scale{lo: x0, hi: x1, a: bot.left, b: bot.right}
	c.xAxis(bot, xsBot, xt, "time since start (s)")
	c.yAxis(bot, ysBot, tt, "output tokens/s")
	var line, area pathBuilder
	area.to(xsBot.pos(bs[0].t0), bot.bottom)
	for _, b := range bs {
		y := ysBot.pos(b.tokens)
		for _, x := range []float64{xsBot.pos(b.t0), xsBot.pos(b.t1)} {
			line.to(x, y)
			area.to(x, y)
		}
	}
	area.to(xsBot.pos(bs[len(bs)-1].t1), bot.bottom)
	c.Paths = append(c.Paths,
		svgPath{D: area.String() + "Z", Stroke: "none", Fill: colorTokens, Class: "area"},
		svgPath{D: line.String(), Stroke: colorTokens, Fill: "none", Class: "series", Title: "output tokens per second"})
	c.Legend = []legendItem{{"succeeded", colorOK, "bar"}, {"failed", colorFailed, "bar"}, {"output tokens/s", colorTokens, "line"}}
	c.Desc = fmt.Sprintf("Throughput over %s s: peak %s requests/s, peak %s output tokens/s, %s failed requests.",
		strconv.FormatFloat(bs[len(bs)-1].t1, 'f', -1, 64), fmtRate(maxReq), fmtRate(maxTok), thousands(failures))
	var notes []string
	if step > 1 {
		notes = append(notes, fmt.Sprintf("Each bar is %d s wide.", step))
	}
	if failures > 0 {
		notes = append(notes, "Red bars and markers: failed requests.")
	}
	c.Note = strings.Join(notes, " ")
	return c
}
