//go:build unix

package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens/internal/browsertest"
	"github.com/llm-latency-lens/lens/report"
)

// The colours the report's charts draw with, as the screenshot must show
// them: the comparison bars (p50, p95, p99 TTFT; tokens per second per
// request and aggregate) and the timeline's succeeded bars.
var chartColors = []browsertest.Color{browsertest.P50Blue, browsertest.P95Orange, browsertest.P99Red, browsertest.PerRequest, browsertest.Aggregate}

// minColorPixels is how many pixels of each chart colour the screenshot
// must hold: a bar of 20×25 pixels.
const minColorPixels = 500

// TestHTMLInBrowser renders the report of a real run against the fake in
// headless Chromium and checks the screenshot is a drawn page: many
// distinct colours, and each chart colour over a bar's worth of pixels.
// Set LENS_HTML_SCREENSHOT to a path to keep the screenshot.
func TestHTMLInBrowser(t *testing.T) {
	browsertest.Require(t)
	f := realisticFile(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	doc := renderHTML(t, f, report.HTMLOptions{Title: "Chat latency: gpt-4o-mini vs gpt-4o"})
	if err := os.WriteFile(page, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	img := browsertest.Screenshot(t, "file://"+page, shot, filepath.Join(dir, "profile"), 1280, 2000, 0)
	if keep := os.Getenv("LENS_HTML_SCREENSHOT"); keep != "" {
		b, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(keep, b, 0o644)
		}
		if err == nil {
			err = os.WriteFile(keep+".html", doc, 0o644)
		}
		if err != nil {
			t.Errorf("keep the screenshot: %v", err)
		}
	}

	distinct, counts, nonWhite := browsertest.Count(img, chartColors...)
	b := img.Bounds()
	t.Logf("screenshot %dx%d: %d distinct colours, %.1f%% not white", b.Dx(), b.Dy(), distinct, 100*float64(nonWhite)/float64(b.Dx()*b.Dy()))
	if b.Dx() < 1000 || b.Dy() < 1500 {
		t.Errorf("screenshot is %dx%d, want the 1280x2000 window", b.Dx(), b.Dy())
	}
	if distinct < 500 {
		t.Errorf("screenshot has %d distinct colours, want at least 500: the page did not render", distinct)
	}
	for i, cc := range chartColors {
		t.Logf("%s: %d pixels", cc.Name, counts[i])
		if counts[i] < minColorPixels {
			t.Errorf("%s covers %d pixels, want at least %d: the chart is not drawn", cc.Name, counts[i], minColorPixels)
		}
	}
}

// TestSweepChartInBrowser renders the report of a capacity search in
// headless Chromium and checks that its chart is drawn: the TTFT p50 and
// p99 lines, and the goodput and sent-rate lines, each over a line's worth
// of pixels. (In this search the p95 equals the p99 at every load, and its
// line lies under the p99's.) Set LENS_SWEEP_SCREENSHOT to a path to keep the
// screenshot.
func TestSweepChartInBrowser(t *testing.T) {
	browsertest.Require(t)
	f := sweepFile(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "sweep.html")
	// The sweep's chart alone, so that the other charts' colours do not
	// count.
	html := string(renderHTML(t, f, report.HTMLOptions{Title: "Capacity"}))
	start := strings.Index(html, `<figure class="chart" id="s1-r1-sweep">`)
	end := strings.Index(html[start:], "</figure>")
	if start < 0 || end < 0 {
		t.Fatal("no sweep chart in the page")
	}
	head := html[:strings.Index(html, "<body")]
	doc := head + `<body style="background:#fff">` + html[start:start+end+len("</figure>")] + "</body></html>"
	if err := os.WriteFile(page, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "sweep.png")
	img := browsertest.Screenshot(t, "file://"+page, shot, filepath.Join(dir, "profile"), 800, 700, 0)
	if keep := os.Getenv("LENS_SWEEP_SCREENSHOT"); keep != "" {
		if b, err := os.ReadFile(shot); err != nil || os.WriteFile(keep, b, 0o644) != nil {
			t.Errorf("keep the screenshot: %v", err)
		}
	}
	colors := []browsertest.Color{browsertest.P50Blue, browsertest.P99Red, browsertest.SucceededBars, browsertest.Aggregate}
	_, counts, _ := browsertest.Count(img, colors...)
	for i, cc := range colors {
		t.Logf("%s: %d pixels", cc.Name, counts[i])
		if counts[i] < 150 {
			t.Errorf("%s covers %d pixels, want at least 150: its line is not drawn", cc.Name, counts[i])
		}
	}
}
