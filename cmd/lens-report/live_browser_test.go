//go:build unix

package main

import (
	"bufio"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/internal/browsertest"
)

// TestRunServeInBrowser: lens-report run -serve 127.0.0.1:0 runs 12 s at
// 10 requests/s against the built-in fake with its dashboard open in
// headless Chromium. Two looks at the page 3 s apart (the counters and the
// TTFT chart read, then a screenshot) show that the "sent" counter grew,
// the TTFT chart was redrawn and thousands of pixels changed, and each
// chart colour of the HTML report covers hundreds of pixels; the run then
// exits 0. The browser starts first, on a blank page, and loads the
// dashboard from the address the run prints on stderr, so that a slow
// browser start on a busy machine cannot eat the run. Set
// LENS_LIVE_SCREENSHOT to a path prefix to keep the screenshots.
func TestRunServeInBrowser(t *testing.T) {
	browsertest.Require(t)
	page := browsertest.Open(t, "about:blank", 1280, 1500, 3*time.Minute)
	// A first screenshot, of the blank page, waits out the browser's
	// start before the run starts.
	page.Screenshot(filepath.Join(t.TempDir(), "blank.png"))

	dir := t.TempDir()
	cfg := fakeConfig(t, dir, "config.yaml", `ttft_ms: "uniform(20, 120)", itl_ms: "uniform(2, 8)", output_tokens: 8`, `      duration_secs: 12
      rate_limit: 10
`, `output:
  console: {format: minimal}
dashboard:
  window_secs: 2
`)

	// The run's stderr goes through a pipe, read line by line as it comes,
	// to learn the dashboard's address while the run goes on.
	pr, pw := io.Pipe()
	urls := make(chan string, 1)
	var errOut strings.Builder
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			errOut.WriteString(sc.Text() + "\n")
			if u, ok := strings.CutPrefix(sc.Text(), "dashboard: "); ok && strings.HasPrefix(u, "http://") {
				select {
				case urls <- u:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var out bytes.Buffer
	code := -1
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		code = lensReport([]string{"run", "-config", cfg, "-progress", "off", "-serve", "127.0.0.1:0"}, strings.NewReader(""), &out, pw)
		_ = pw.Close()
	}()
	// However the test ends, the run ends before it does.
	t.Cleanup(func() { <-ran; <-read })

	var url string
	select {
	case url = <-urls:
	case <-ran:
		<-read
		t.Fatalf("the run ended without serving a dashboard (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	case <-time.After(time.Minute):
		t.Fatal("the run printed no dashboard address within a minute")
	}
	t.Logf("dashboard at %s", url)
	page.Navigate(url)
	// The first look waits for the page to show requests and a TTFT line,
	// however long a loaded machine takes to get there.
	page.WaitFor(`document.getElementById("sent-0") !== null && parseInt(document.getElementById("sent-0").textContent) > 0 &&
		document.querySelector("#chart-0-ttft path.series") !== null`, 30*time.Second)
	a := page.LookAtDashboard(filepath.Join(dir, "a.png"))
	time.Sleep(time.Until(a.At.Add(3 * time.Second)))
	b := page.LookAtDashboard(filepath.Join(dir, "b.png"))
	browsertest.CheckLiveChange(t, a, b)

	<-ran
	<-read
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Contains(t, errOut.String(), "dashboard: "+url+"\n")
}
