//go:build unix

package dashboard_test

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/browsertest"
	"github.com/llm-latency-lens/lens/providers"
)

// TestDashboardInBrowser runs about 12 s against the fake with the
// dashboard served, opens the page in headless Chromium, and takes two
// screenshots 3 s apart: the counters and the charts changed between
// them, and each chart colour covers enough pixels in the second. The fake's
// TTFT steps from 20ms up to 2s at 6 s, so a p95 ≥ 1s alert fires:
// the page shows it (red, and in its event log) and so does the alert log,
// in the same words, with the time it fired. Set LENS_LIVE_SCREENSHOT to a
// path prefix to keep the screenshots.
func TestDashboardInBrowser(t *testing.T) {
	browsertest.Require(t)
	log := &syncWriter{}
	m, err := dashboard.New(dashboard.Options{
		Window:   2 * time.Second,
		AlertLog: log,
		Alerts:   []dashboard.Alert{{Metric: "ttft", Percentile: 95, Limit: time.Second}},
	})
	require.NoError(t, err)
	defer m.Close()
	url, err := m.Serve("127.0.0.1:0")
	require.NoError(t, err)

	// The page is open and live before the run starts, so that a slow
	// browser start on a busy machine cannot eat the run.
	page := browsertest.Open(t, url, 1280, 2400, 3*time.Minute)
	page.WaitFor(`document.body.dataset.updates >= 1`, time.Minute)
	require.Contains(t, page.Eval(`document.getElementById("live").innerText`), "Waiting for the run to start.")

	var start time.Time
	var startMu sync.Mutex
	srv := fake.NewServer(fake.Config{
		TTFT: fake.LatencyFunc(func(*rand.Rand) time.Duration {
			startMu.Lock()
			defer startMu.Unlock()
			if !start.IsZero() && time.Since(start) >= 6*time.Second {
				return 2 * time.Second
			}
			return 20 * time.Millisecond
		}),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 8,
	})
	defer srv.Close()
	sc := lens.Scenario{
		Name: "chat", Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test"}, Model: "gpt-4o-mini",
		Rate: 30, Duration: 12 * time.Second,
	}
	m.Instrument(&sc)
	ran := make(chan *lens.Result, 1)
	startMu.Lock()
	start = time.Now()
	startMu.Unlock()
	go func() {
		res, err := lens.Run(context.Background(), sc)
		assert.NoError(t, err)
		m.Finish()
		ran <- res
	}()

	dir := t.TempDir()
	take := func(name string, at time.Duration) browsertest.Look {
		time.Sleep(time.Until(start.Add(at)))
		return page.LookAtDashboard(filepath.Join(dir, name+".png"))
	}
	a := take("a", 3*time.Second)
	b := take("b", a.At.Sub(start)+3*time.Second)
	browsertest.CheckLiveChange(t, a, b)

	// The alert, on the page and in the log.
	page.WaitFor(`document.getElementById("alert-events") !== null`, 30*time.Second)
	events := page.Eval(`document.getElementById("alert-events").innerText`)
	res := <-ran
	require.NotNil(t, res)
	// The last firing is the step's (a loaded machine may add an early
	// spike of its own, which then clears).
	evs := m.Events()
	var fired dashboard.AlertEvent
	for _, ev := range evs {
		if ev.Fired {
			fired = ev
		}
	}
	require.True(t, fired.Fired, "the alert never fired: %v", evs)
	assert.GreaterOrEqual(t, fired.Elapsed, 6*time.Second)
	assert.LessOrEqual(t, fired.Elapsed, 10*time.Second)
	assert.Contains(t, events, fired.String(), "the page shows the alert's line")
	assert.Contains(t, events, "ALERT fired at "+fired.Elapsed.Round(time.Second).String())
	assert.Contains(t, strings.Split(strings.TrimSpace(log.String()), "\n"), fired.String(), "stderr has the page's line")
	assert.Equal(t, "true", page.Eval(`document.querySelector("ul.alerts li.firing") !== null || document.body.innerText.includes("FIRING")`))
}

// TestViewersDoNotSlowTheRun: the same open-loop run (50 requests/s for
// 6 s against the fake) with no viewer and with 20 viewers, each loading
// the page and then reading the event stream, achieves the same send rate,
// within 2%. The runs alternate, three of each, so that a change in the
// machine's load falls on both alike, and the medians are compared: on a
// loaded machine one run of either kind may stall on its own.
func TestViewersDoNotSlowTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs of 20 s in all")
	}
	if raceEnabled {
		t.Skip("a 2% rate comparison in real time: the race detector's slowdown swamps it; .ci/run runs this test without -race")
	}
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), ITL: fake.Fixed(2 * time.Millisecond), OutputTokens: 8})
	defer srv.Close()
	run := func(viewers int) float64 {
		m, err := dashboard.New(dashboard.Options{})
		require.NoError(t, err)
		defer m.Close()
		url, err := m.Serve("127.0.0.1:0")
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		ready := make(chan struct{}, viewers)
		for range viewers {
			wg.Go(func() {
				n := watch(ctx, url, ready)
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		for range viewers {
			<-ready // every viewer is watching before the run starts
		}
		sc := lens.Scenario{Name: "rate", Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "k"}, Model: "m", Rate: 50, Duration: 6 * time.Second}
		m.Instrument(&sc)
		res, err := lens.Run(t.Context(), sc)
		require.NoError(t, err)
		cancel()
		wg.Wait()
		if viewers > 0 {
			assert.GreaterOrEqual(t, total, viewers*3, "the viewers received updates during the run")
		}
		t.Logf("%d viewers: achieved %.2f/s (asked 50/s), %d updates delivered", viewers, res.AchievedRate(), total)
		return res.AchievedRate()
	}
	var withouts, withs []float64
	for range 3 {
		withouts = append(withouts, run(0))
		withs = append(withs, run(20))
	}
	slices.Sort(withouts)
	slices.Sort(withs)
	without, with := withouts[1], withs[1]
	assert.InEpsilon(t, without, with, 0.02, "median achieved rate with 20 viewers %.2f/s, without %.2f/s", with, without)
}

// watch loads the page once, then reads the event stream until ctx ends,
// and returns the number of updates it received. It signals ready once it
// has the stream's first update (or failed).
func watch(ctx context.Context, url string, ready chan<- struct{}) int {
	signaled := false
	signal := func() {
		if !signaled {
			signaled = true
			ready <- struct{}{}
		}
	}
	defer signal()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	req, _ = http.NewRequestWithContext(ctx, "GET", url+"events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		if sc.Text() == "event: update" {
			n++
			signal()
		}
	}
	return n
}
