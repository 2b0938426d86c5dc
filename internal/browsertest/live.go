//go:build unix

package browsertest

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LiveCharts are the colours of the live dashboard's charts, as the HTML
// report draws them: the p50, p95 and p99 lines and the succeeded bars of
// the throughput chart.
var LiveCharts = []Color{P50Blue, P95Orange, P99Red, SucceededBars}

// MinLiveChartPixels is how many pixels of each of LiveCharts a
// screenshot of the live dashboard must hold once every line has several
// points: a few hundred pixels of 2-pixel lines.
const MinLiveChartPixels = 300

// Look is what a test saw of the live dashboard at one moment: the first
// scenario's "sent" counter, the path its TTFT chart draws, and a
// screenshot of the page.
type Look struct {
	At   time.Time
	Sent string
	TTFT string
	Img  image.Image
}

// SentCount is the number of the look's "sent" counter (its leading
// integer: the counter may add the warmup in parentheses), or -1 when it
// shows none.
func (l Look) SentCount() int {
	f := strings.Fields(l.Sent)
	if len(f) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return -1
	}
	return n
}

// LookAtDashboard waits for an update of the live dashboard that arrives
// after the call, then reads the page and takes a screenshot, written to
// shot. When LENS_LIVE_SCREENSHOT is set, the screenshot is also kept at
// that path prefix followed by shot's base name.
func (p *Page) LookAtDashboard(shot string) Look {
	p.t.Helper()
	n, _ := strconv.Atoi(p.Eval(`document.body.dataset.updates`))
	p.WaitFor(`document.body.dataset.updates > `+strconv.Itoa(n), 30*time.Second)
	l := Look{
		At:   time.Now(),
		Sent: p.Eval(`document.getElementById("sent-0").textContent`),
		TTFT: p.Eval(`document.querySelector("#chart-0-ttft path.series").getAttribute("d")`),
		Img:  p.Screenshot(shot),
	}
	if keep := os.Getenv("LENS_LIVE_SCREENSHOT"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(keep+filepath.Base(shot), b, 0o644)
		}
	}
	return l
}

// CheckLiveChange reports, as errors of t, what did not change between
// two looks at the live dashboard taken during a run, a the earlier: the
// "sent" counter must grow, the TTFT chart must be redrawn, thousands of
// pixels must differ, and each of LiveCharts must cover at least
// MinLiveChartPixels pixels of b's screenshot.
func CheckLiveChange(t testing.TB, a, b Look) {
	t.Helper()
	sentA, sentB := a.SentCount(), b.SentCount()
	t.Logf("sent: %q then %q, %v apart", a.Sent, b.Sent, b.At.Sub(a.At).Round(time.Millisecond))
	// A loaded machine renders late, so only growth is asserted.
	if sentA <= 0 {
		t.Errorf("the first look counted no request sent: %q", a.Sent)
	}
	if sentB <= sentA {
		t.Errorf("the sent counter did not grow: %q then %q", a.Sent, b.Sent)
	}
	if a.TTFT == b.TTFT {
		t.Errorf("the TTFT chart did not change: %q", a.TTFT)
	}
	// The colours, on the later screenshot: by then every line has
	// several points, whatever the load on the machine.
	distinct, counts, _ := Count(b.Img, LiveCharts...)
	if distinct <= 300 {
		t.Errorf("the page did not render: %d distinct colours", distinct)
	}
	for i, c := range LiveCharts {
		t.Logf("%s: %d pixels", c.Name, counts[i])
		if counts[i] < MinLiveChartPixels {
			t.Errorf("%s covers %d pixels, want at least %d: the chart is not drawn", c.Name, counts[i], MinLiveChartPixels)
		}
	}
	changed := DifferingPixels(a.Img, b.Img)
	t.Logf("%d pixels changed between the screenshots", changed)
	if changed <= 5000 {
		t.Errorf("only %d pixels differ between the screenshots: the counters and charts should have changed", changed)
	}
}

// DifferingPixels counts the pixels that differ between a and b, over
// the area both cover.
func DifferingPixels(a, b image.Image) int {
	n := 0
	r := a.Bounds().Intersect(b.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(a.At(x, y)) != color.RGBAModel.Convert(b.At(x, y)) {
				n++
			}
		}
	}
	return n
}
