package history

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// chartPoint is a point of a trend chart in SVG coordinates.
type chartPoint struct {
	X, Y, Lo, Hi float64
	OpenHi       bool
	Title        string
}

type chart struct {
	Title            string
	Width, Height    float64
	Points           []chartPoint
	Path             string
	YTicks           []chartTick
	XFirst, XLast    string
	Left, Right, Top float64
	Bottom           float64
}

type chartTick struct {
	Y     float64
	Label string
}

var trendPage = template.Must(template.New("trend").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
svg{background:#fff;border:1px solid #ddd;margin:0 0 2em}
.axis{stroke:#999}.grid{stroke:#eee}.ci{stroke:#7aa7d8;stroke-width:2}
.line{fill:none;stroke:#1f5fa8;stroke-width:1.5}.pt{fill:#1f5fa8}
text{font-size:12px;fill:#444}
</style></head><body>
<h1>{{.Title}}</h1>
<p>Each point is one run's value; the bar is its 95% confidence interval (an arrow: no upper bound from that sample).</p>
{{range .Charts}}
<h2>{{.Title}}</h2>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
{{range .YTicks}}<line class="grid" x1="{{$.Left}}" x2="{{$.GridRight}}" y1="{{.Y}}" y2="{{.Y}}"/><text x="{{$.LabelX}}" y="{{.Y}}" text-anchor="end" dominant-baseline="middle">{{.Label}}</text>
{{end}}<line class="axis" x1="{{.Left}}" x2="{{.Left}}" y1="{{.Top}}" y2="{{.Bottom}}"/>
<line class="axis" x1="{{.Left}}" x2="{{.Right}}" y1="{{.Bottom}}" y2="{{.Bottom}}"/>
<text x="{{.Left}}" y="{{$.XLabelY}}">{{.XFirst}}</text><text x="{{.Right}}" y="{{$.XLabelY}}" text-anchor="end">{{.XLast}}</text>
{{range .Points}}<line class="ci" x1="{{.X}}" x2="{{.X}}" y1="{{.Lo}}" y2="{{.Hi}}"/>{{if .OpenHi}}<path class="pt" d="M{{.X}} {{.Hi}} l-4 6 h8 z"/>{{end}}
{{end}}<path class="line" d="{{.Path}}"/>
{{range .Points}}<circle class="pt" cx="{{.X}}" cy="{{.Y}}" r="3"><title>{{.Title}}</title></circle>
{{end}}</svg>
{{end}}
</body></html>
`))

// WriteTrendHTML writes series as a single-file HTML page: one SVG chart
// per series, the metric over runs with each point's 95% interval.
func WriteTrendHTML(w io.Writer, title string, series []Series) error {
	const width, height, left, right, top, bottom = 900.0, 320.0, 80.0, 880.0, 20.0, 280.0
	var charts []chart
	for _, s := range series {
		c := chart{Title: s.Key() + ": " + s.Metric.String(), Width: width, Height: height, Left: left, Right: right, Top: top, Bottom: bottom}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range s.Points {
			lo = math.Min(lo, math.Min(p.Lo, p.Value))
			top := p.Hi
			if math.IsInf(top, 1) {
				top = p.Value
			}
			hi = math.Max(hi, math.Max(top, p.Value))
		}
		if len(s.Points) == 0 {
			continue
		}
		if hi <= lo {
			hi = lo + 1
		}
		pad := (hi - lo) * 0.05
		lo, hi = math.Max(0, lo-pad), hi+pad
		y := func(v float64) float64 { return bottom - (v-lo)/(hi-lo)*(bottom-top) }
		n := len(s.Points)
		for i, p := range s.Points {
			x := left + 10
			if n > 1 {
				x = left + 10 + float64(i)/float64(n-1)*(right-left-20)
			}
			cp := chartPoint{X: x, Y: y(p.Value), Lo: y(p.Lo), Hi: y(p.Hi), OpenHi: math.IsInf(p.Hi, 1)}
			if cp.OpenHi {
				cp.Hi = top
			}
			cp.Title = fmt.Sprintf("run %d, %s, %s: %s (95%% CI %s .. %s, n=%d)", p.Run, p.Time.UTC().Format(time.RFC3339), dash(short(p.Commit)),
				formatMetric(s.Metric, p.Value), formatMetric(s.Metric, p.Lo), formatMetric(s.Metric, p.Hi), p.N)
			if p.Outcome != "" {
				cp.Title = strings.Replace(cp.Title, "95% CI", "CI", 1) + ": " + p.Outcome
			}
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			c.Path += fmt.Sprintf("%s%.1f %.1f ", cmd, cp.X, cp.Y)
			c.Points = append(c.Points, cp)
		}
		for k := 0; k <= 4; k++ {
			v := lo + float64(k)/4*(hi-lo)
			c.YTicks = append(c.YTicks, chartTick{Y: y(v), Label: formatMetric(s.Metric, v)})
		}
		c.XFirst = fmt.Sprintf("run %d", s.Points[0].Run)
		c.XLast = fmt.Sprintf("run %d", s.Points[n-1].Run)
		charts = append(charts, c)
	}
	return trendPage.Execute(w, struct {
		Title                   string
		Charts                  []chart
		Left, GridRight, LabelX float64
		XLabelY                 float64
	}{title, charts, left, right, left - 6, bottom + 20})
}
