package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
)

// TestWriteLatencyChart: a live latency chart is the report's figure: one
// path per stretch of a series (a negative value cuts the line), the
// percentile's colour, whole-run series marked for dashing, limit lines
// red when crossed, and every label escaped.
func TestWriteLatencyChart(t *testing.T) {
	var b bytes.Buffer
	pts := func(vs ...time.Duration) []report.LatencyPoint {
		var out []report.LatencyPoint
		for i, v := range vs {
			out = append(out, report.LatencyPoint{At: time.Duration(i+1) * time.Second, Value: v})
		}
		return out
	}
	err := report.WriteLatencyChart(&b, report.LatencyChartOptions{
		ID: "c1", Title: "TTFT <live>", Metric: "TTFT",
		Limits: []report.ChartLimit{{Label: "p95 < 200ms", Value: 200 * time.Millisecond, Crossed: true}},
	}, []report.LatencySeries{
		{Percentile: 95, Label: "p95 <window>", Points: pts(100*time.Millisecond, -1, 150*time.Millisecond, 250*time.Millisecond)},
		{Percentile: 50, Whole: true, Label: "p50, run", Points: pts(50*time.Millisecond, 60*time.Millisecond, 70*time.Millisecond, 80*time.Millisecond)},
	})
	require.NoError(t, err)
	s := b.String()
	assert.True(t, strings.HasPrefix(s, `<figure class="chart" id="c1">`), s[:60])
	assert.Contains(t, s, "TTFT &lt;live&gt;")
	assert.NotContains(t, s, "<live>")
	assert.Equal(t, 2, strings.Count(s, `class="series" `), "the gap cuts the p95 line in two")
	assert.Equal(t, 3, strings.Count(s, `stroke="#f28e2b"`), "p95 is orange, as in the report: two stretches and the legend")
	assert.Contains(t, s, `class="series whole" d="M`)
	assert.Contains(t, s, `class="ref" d="M64,`)
	assert.Contains(t, s, `stroke="#e15759" fill="none"><title>p95 &lt; 200ms: 200 ms</title>`)

	b.Reset()
	require.NoError(t, report.WriteLatencyChart(&b, report.LatencyChartOptions{ID: "c2", Title: "ITL", Metric: "ITL"}, nil))
	assert.Contains(t, b.String(), "No ITL samples yet.")

	b.Reset()
	require.NoError(t, report.WriteThroughputChart(&b, "c3", "Throughput", []lens.Tick{{Requests: 10, Failed: 2, OutputTokens: 80}}))
	assert.Contains(t, b.String(), `fill="#59a14f"`)
	assert.Contains(t, b.String(), `fill="#e15759"`)

	css := string(report.ChartCSS())
	assert.Contains(t, css, "svg path.series{")
	assert.NotContains(t, css, "<style>")
	assert.NotContains(t, css, "</style>")
}
