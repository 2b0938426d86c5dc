package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
)

// The live dashboard draws its charts with the HTML report's geometry,
// colours and template, so that a run watched live and its report look
// alike. These are the entry points it uses.

// LatencySeries is one line of a latency-over-time chart.
type LatencySeries struct {
	// Percentile (50, 95 or 99) picks the line's colour, as in the HTML
	// report: blue, orange, red; other percentiles take the next colours.
	Percentile float64

	// Whole marks a percentile over the whole run so far, drawn dashed;
	// otherwise the line is over a sliding window, drawn solid.
	Whole bool

	// Label names the line in the legend ("p95, last 10s").
	Label string

	// Points are the line's values in time order: At is the time since
	// the run's start, Value the percentile then (a negative Value is a
	// gap: the window held no samples).
	Points []LatencyPoint
}

// LatencyPoint is one value of a LatencySeries.
type LatencyPoint struct {
	At, Value time.Duration
}

// LatencyChartOptions adjusts WriteLatencyChart.
type LatencyChartOptions struct {
	// ID is the figure's element id; Title its heading.
	ID, Title string

	// Metric names the y axis ("TTFT").
	Metric string

	// Limits are drawn as horizontal dashed lines, labelled: the
	// thresholds of alerts on this metric.
	Limits []ChartLimit
}

// ChartLimit is a threshold line of a latency chart.
type ChartLimit struct {
	Label string
	Value time.Duration
	// Crossed draws the line in the failure colour instead of grey.
	Crossed bool
}

// WriteLatencyChart writes, as the HTML report draws its charts, one
// <figure> with an inline SVG of latency percentiles over time: a line per
// series, on a linear time axis in seconds from the start and a linear
// duration axis. With no points at all it writes the figure with a note
// that there is no data yet. Every string is escaped.
func WriteLatencyChart(w io.Writer, opts LatencyChartOptions, series []LatencySeries) error {
	return writeChart(w, latencyChart(opts, series))
}

// WriteThroughputChart writes the HTML report's throughput chart (requests
// per second, succeeded and failed, and output tokens per second, one bar
// per TimelineStep) for the ticks of a run so far.
func WriteThroughputChart(w io.Writer, id, title string, ticks []lens.Tick) error {
	return writeChart(w, timelineChart(id, title, ticks))
}

// ChartCSS returns the HTML report's style sheet, for a page that shows its
// charts (the text between <style> and </style>; it styles the charts and
// the report's cards, tables and headings).
func ChartCSS() template.CSS {
	s := htmlSource[strings.Index(htmlSource, "<style>")+len("<style>"):]
	return template.CSS(s[:strings.Index(s, "</style>")])
}

// writeChart executes the report template's chart block for c.
func writeChart(w io.Writer, c svgChart) error {
	if err := htmlTemplate.ExecuteTemplate(w, "chart", c); err != nil {
		return fmt.Errorf("report: write chart: %w", err)
	}
	return nil
}

// percentileColor is the colour of a percentile's line.
func percentileColor(p float64) string {
	switch p {
	case 50:
		return colorP50
	case 95:
		return colorP95
	case 99:
		return colorP99
	}
	return seriesColor(3 + int(p)%5)
}

func latencyChart(opts LatencyChartOptions, series []LatencySeries) svgChart {
	c := newChart(opts.ID, opts.Title, chartW, chartH)
	var tMax, vMax float64
	n := 0
	for _, s := range series {
		for _, p := range s.Points {
			tMax = math.Max(tMax, p.At.Seconds())
			if p.Value >= 0 {
				vMax = math.Max(vMax, ms(p.Value))
				n++
			}
		}
	}
	if n == 0 {
		c.Empty = "No " + opts.Metric + " samples yet."
		return c
	}
	for _, l := range opts.Limits {
		vMax = math.Max(vMax, ms(l.Value))
	}
	p := plot{marginLeft, marginTop, chartW - marginRight, chartH - marginBottom}
	x0, x1, xt := linearTicks(0, math.Max(tMax, 1), 6, nil)
	xs := scale{lo: x0, hi: x1, a: p.left, b: p.right}
	ys, yt, yTitle := durationAxis(0, vMax*1.05, false, p.bottom, p.top, 5, opts.Metric)
	c.xAxis(p, xs, xt, "time since start (s)")
	c.yAxis(p, ys, yt, yTitle)
	for _, l := range opts.Limits {
		y := ys.pos(ms(l.Value))
		color := "#8c959f"
		if l.Crossed {
			color = colorFailed
		}
		c.Paths = append(c.Paths, svgPath{D: "M" + num(p.left) + "," + num(y) + "L" + num(p.right) + "," + num(y),
			Stroke: color, Fill: "none", Class: "ref", Title: l.Label + ": " + fmtMs(ms(l.Value))})
		c.Texts = append(c.Texts, svgText{X: p.right - 2, Y: y - 4, Anchor: "end", Class: "ref-label", Text: l.Label})
	}
	var desc []string
	for _, s := range series {
		color := percentileColor(s.Percentile)
		var b pathBuilder
		var last time.Duration = -1
		for _, pt := range s.Points {
			if pt.Value < 0 {
				if b.n > 0 {
					c.Paths = append(c.Paths, seriesPath(b.String(), color, s))
				}
				b = pathBuilder{}
				continue
			}
			b.to(xs.pos(pt.At.Seconds()), ys.pos(ms(pt.Value)))
			last = pt.Value
		}
		if b.n > 0 {
			c.Paths = append(c.Paths, seriesPath(b.String(), color, s))
		}
		kind := "line"
		c.Legend = append(c.Legend, legendItem{s.Label, color, kind})
		if last >= 0 {
			desc = append(desc, s.Label+" "+fmtMs(ms(last)))
		}
	}
	c.Desc = fmt.Sprintf("%s over %.0f s; latest: %s.", opts.Metric, tMax, strings.Join(desc, ", "))
	c.Note = "Solid: over the sliding window; dashed: over the whole run so far."
	return c
}

func seriesPath(d, color string, s LatencySeries) svgPath {
	class := "series"
	if s.Whole {
		class = "series whole"
	}
	return svgPath{D: d, Stroke: color, Fill: "none", Class: class, Title: s.Label}
}
