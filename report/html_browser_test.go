//go:build unix

package report_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens/report"
)

// chromium is where Debian's chromium package installs the browser.
const chromium = "/usr/bin/chromium"

// The colours the report's charts draw with, as the screenshot must show
// them: the comparison bars (p50, p95, p99 TTFT; tokens per second per
// request and aggregate) and the timeline's succeeded bars.
var chartColors = []struct {
	name string
	c    color.RGBA
}{
	{"p50 blue #4e79a7", color.RGBA{0x4e, 0x79, 0xa7, 0xff}},
	{"p95 orange #f28e2b", color.RGBA{0xf2, 0x8e, 0x2b, 0xff}},
	{"p99 red #e15759", color.RGBA{0xe1, 0x57, 0x59, 0xff}},
	{"per-request teal #76b7b2", color.RGBA{0x76, 0xb7, 0xb2, 0xff}},
	{"aggregate purple #b07aa1", color.RGBA{0xb0, 0x7a, 0xa1, 0xff}},
}

// minColorPixels is how many pixels of each chart colour the screenshot
// must hold: a bar of 20×25 pixels.
const minColorPixels = 500

// TestHTMLInBrowser renders the report of a real run against the fake in
// headless Chromium and checks the screenshot is a drawn page: many
// distinct colours, and each chart colour over a bar's worth of pixels.
// Set LENS_HTML_SCREENSHOT to a path to keep the screenshot.
func TestHTMLInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("headless browser test skipped: %s not found (Debian: apt-get install -y chromium)", chromium)
	}
	if testing.Short() {
		t.Skip("headless browser test skipped in -short mode")
	}
	f := realisticFile(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, f, report.HTMLOptions{Title: "Chat latency: gpt-4o-mini vs gpt-4o"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	screenshot(t, page, shot, filepath.Join(dir, "profile"))
	if keep := os.Getenv("LENS_HTML_SCREENSHOT"); keep != "" {
		b, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(keep, b, 0o644)
		}
		if err == nil {
			err = os.WriteFile(keep+".html", buf.Bytes(), 0o644)
		}
		if err != nil {
			t.Errorf("keep the screenshot: %v", err)
		}
	}

	r, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	distinct, counts, nonWhite := colorStats(img)
	b := img.Bounds()
	t.Logf("screenshot %dx%d: %d distinct colours, %.1f%% not white", b.Dx(), b.Dy(), distinct, 100*float64(nonWhite)/float64(b.Dx()*b.Dy()))
	if b.Dx() < 1000 || b.Dy() < 1500 {
		t.Errorf("screenshot is %dx%d, want the 1280x2000 window", b.Dx(), b.Dy())
	}
	if distinct < 500 {
		t.Errorf("screenshot has %d distinct colours, want at least 500: the page did not render", distinct)
	}
	for i, cc := range chartColors {
		t.Logf("%s: %d pixels", cc.name, counts[i])
		if counts[i] < minColorPixels {
			t.Errorf("%s covers %d pixels, want at least %d: the chart is not drawn", cc.name, counts[i], minColorPixels)
		}
	}
}

// colorStats counts the distinct colours of img, the pixels of each of
// chartColors (within 3 levels per channel) and the pixels that are not
// near white.
func colorStats(img image.Image) (distinct int, counts []int, nonWhite int) {
	seen := map[color.RGBA]bool{}
	counts = make([]int, len(chartColors))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c.R < 245 || c.G < 245 || c.B < 245 {
				nonWhite++
			}
			for i, cc := range chartColors {
				if near(c.R, cc.c.R) && near(c.G, cc.c.G) && near(c.B, cc.c.B) {
					counts[i]++
				}
			}
		}
	}
	return len(seen), counts, nonWhite
}

func near(a, b uint8) bool { return a-b <= 3 || b-a <= 3 }

// screenshot opens page in headless Chromium and writes a screenshot of a
// 1280×2000 window to shot. The browser, and every process it starts, is
// killed if it has not finished within a minute.
func screenshot(t *testing.T, page, shot, profile string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--force-device-scale-factor=1",
		"--user-data-dir="+profile, "--screenshot="+shot, "--window-size=1280,2000",
		"file://"+page)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// The browser's helper processes share its process group: end any
	// that outlived it.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out.Bytes())
	}
	if _, err := os.Stat(shot); err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, out.Bytes())
	}
}
