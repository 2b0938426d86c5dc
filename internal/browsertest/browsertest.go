//go:build unix

// Package browsertest drives headless Chromium for tests that look at a
// page as a user would: a screenshot, or the page's DOM after its scripts
// ran, and the pixel colours of a screenshot.
package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Chromium is where Debian's chromium package installs the browser.
const Chromium = "/usr/bin/chromium"

// Require skips the test when Chromium is not installed or under -short.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("headless browser test skipped: %s not found (Debian: apt-get install -y chromium)", Chromium)
	}
	if testing.Short() {
		t.Skip("headless browser test skipped in -short mode")
	}
}

// Screenshot opens url in headless Chromium with a window of w×h pixels
// and returns the decoded screenshot, also written to shot. budget, when
// positive, is the virtual time the page's scripts get before the shot
// (network events such as Server-Sent Events still arrive in real time).
// profile is a fresh directory for the browser's profile.
func Screenshot(t testing.TB, url, shot, profile string, w, h int, budget time.Duration) image.Image {
	t.Helper()
	args := []string{"--screenshot=" + shot, "--window-size=" + itoa(w) + "," + itoa(h), "--hide-scrollbars", "--force-device-scale-factor=1"}
	run(t, url, profile, budget, args...)
	r, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	return img
}

// run runs Chromium on url and returns its standard output. The browser,
// and every process it starts, is killed if it has not finished within a
// minute.
func run(t testing.TB, url, profile string, budget time.Duration, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile}
	if budget > 0 {
		args = append(args, "--virtual-time-budget="+itoa(int(budget/time.Millisecond)))
	}
	args = append(append(args, extra...), url)
	cmd := exec.CommandContext(ctx, Chromium, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	// The browser's helper processes share its process group: end any
	// that outlived it.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, errs.Bytes())
	}
	return out.Bytes()
}

func itoa(n int) string { return strconv.Itoa(n) }

// Colors counts the distinct colours of img, the pixels near each of
// want (within 3 levels per channel) and the pixels that are not near
// white.
func Colors(img image.Image, want []color.RGBA) (distinct int, counts []int, nonWhite int) {
	seen := map[color.RGBA]bool{}
	counts = make([]int, len(want))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c.R < 245 || c.G < 245 || c.B < 245 {
				nonWhite++
			}
			for i, cc := range want {
				if near(c.R, cc.R) && near(c.G, cc.G) && near(c.B, cc.B) {
					counts[i]++
				}
			}
		}
	}
	return len(seen), counts, nonWhite
}

func near(a, b uint8) bool { return a-b <= 3 || b-a <= 3 }

// Color is a colour the charts draw with, named for messages.
type Color struct {
	Name string
	RGBA color.RGBA
}

// The colours of the charts of the HTML report and the live dashboard.
var (
	P50Blue       = Color{"p50 blue #4e79a7", color.RGBA{0x4e, 0x79, 0xa7, 0xff}}
	P95Orange     = Color{"p95 orange #f28e2b", color.RGBA{0xf2, 0x8e, 0x2b, 0xff}}
	P99Red        = Color{"p99 red #e15759", color.RGBA{0xe1, 0x57, 0x59, 0xff}}
	PerRequest    = Color{"per-request teal #76b7b2", color.RGBA{0x76, 0xb7, 0xb2, 0xff}}
	Aggregate     = Color{"aggregate purple #b07aa1", color.RGBA{0xb0, 0x7a, 0xa1, 0xff}}
	SucceededBars = Color{"succeeded green #59a14f", color.RGBA{0x59, 0xa1, 0x4f, 0xff}}
)

// Count returns the pixels of img near each of cs (see Colors), and the
// number of distinct colours.
func Count(img image.Image, cs ...Color) (distinct int, counts []int, nonWhite int) {
	want := make([]color.RGBA, len(cs))
	for i, c := range cs {
		want[i] = c.RGBA
	}
	return Colors(img, want)
}
