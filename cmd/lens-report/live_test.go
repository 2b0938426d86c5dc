package main

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/fake"
)

// TestRunServeHoldAlertsAndTracing: run -serve -hold serves the dashboard
// during the run and after it, until interrupted; a configured alert is
// reported on stderr; and with OTEL_EXPORTER_OTLP_ENDPOINT set, every
// request, warmup included, arrives at the collector as a span.
func TestRunServeHoldAlertsAndTracing(t *testing.T) {
	var spans atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ex coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &ex); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range ex.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				spans.Add(int64(len(ss.GetSpans())))
			}
		}
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	dir := t.TempDir()
	cfg := writeConfig(t, dir, "ttft_ms: 20, itl_ms: 1, output_tokens: 8", 200)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`dashboard:
  window_secs: 5
  alerts:
    - {metric: ttft, percentile: 50, limit_ms: 1, min_samples: 10}
    - {metric: error_rate, max: 0.5}
`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	held := readHeldDashboard(t)

	code, out, errOut := cli(t, "", "run", "-config", cfg, "-progress", "off", "-serve", "127.0.0.1:0", "-hold", "-o", filepath.Join(dir, "r.json"))
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `dashboard: http://127\.0\.0\.1:\d+/`, errOut)
	assert.Contains(t, errOut, "dashboard: the run is over; still serving")
	assert.Regexp(t, `lens: ALERT fired at \d+s \(\d\d:\d\d:\d\d UTC\) scenario chat: p50 ttft >= 1ms: window value [0-9.]+ms, threshold 1ms`, errOut)
	assert.Contains(t, errOut, "tracing: a span per request, exported over OTLP/HTTP")

	require.True(t, held.State.Finished, "the held page shows the finished run")
	require.Len(t, held.State.Scenarios, 1)
	s := held.State.Scenarios[0]
	assert.Equal(t, int64(200), s.Sent)
	assert.Equal(t, int64(8), s.Warmup)
	assert.Equal(t, int64(200), s.Succeeded)
	require.Len(t, s.Alerts, 2)
	assert.True(t, s.Alerts[0].Firing)
	assert.False(t, s.Alerts[1].Firing)
	assert.Contains(t, held.Page, "The run is over: this is its final state.")

	assert.Equal(t, int64(208), spans.Load(), "one span per request, warmup included")
}

// heldDashboard is what a held dashboard served: its state and its page.
type heldDashboard struct {
	State dashboard.State
	Page  string
}

// readHeldDashboard makes the run's -hold read the dashboard's state and
// page instead of waiting for Ctrl-C, into what it returns.
func readHeldDashboard(t *testing.T) *heldDashboard {
	held := &heldDashboard{}
	holdUntilInterrupted = func(url string) {
		resp, err := http.Get(url + "state")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&held.State))
		pr, err := http.Get(url)
		require.NoError(t, err)
		defer pr.Body.Close()
		b, _ := io.ReadAll(pr.Body)
		held.Page = string(b)
	}
	t.Cleanup(func() { holdUntilInterrupted = nil })
	return held
}

// TestRunHoldNeedsServe: -hold without a dashboard is a usage error.
func TestRunHoldNeedsServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", 5)
	code, _, errOut := cli(t, "", "run", "-config", cfg, "-hold")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-hold needs a dashboard to hold: add -serve ADDR (or dashboard.listen)")
}

// TestRunServeGateAlerts: with -serve, each gate of a scenario is an alert
// on the dashboard. A server whose TTFT steps from 10ms up to 800ms at 2s
// and back at 4s crosses a p95 TTFT < 400ms gate: stderr says when it
// fired and when it cleared, with the window's value; the page lists the
// gate's alert and its events; and the gate, judged on the whole run,
// breaks (exit 1).
func TestRunServeGateAlerts(t *testing.T) {
	var mu sync.Mutex
	var start time.Time
	srv := fake.NewServer(fake.Config{
		TTFT: fake.LatencyFunc(func(*rand.Rand) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			if start.IsZero() {
				start = time.Now()
			}
			if el := time.Since(start); el >= 2*time.Second && el < 4*time.Second {
				return 800 * time.Millisecond
			}
			return 10 * time.Millisecond
		}),
		ITL:          fake.Fixed(time.Millisecond),
		OutputTokens: 4,
	})
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`version: "1.0"
providers:
  - name: staging
    type: openai
    endpoint: `+srv.URL+`/v1
    auth: {token: sk-test}
    models: [m]
workload:
  scenarios:
    - name: soak
      prompt: "Say hello"
      duration_secs: 10
      rate_limit: 40
      gates:
        - {metric: ttft, percentile: 95, limit_ms: 400}
        - {metric: error_rate, max: 0.05}
output:
  console: {format: minimal}
dashboard:
  window_secs: 1
`), 0o644))

	held := readHeldDashboard(t)

	code, out, errOut := cli(t, "", "run", "-config", cfg, "-progress", "off", "-serve", "127.0.0.1:0", "-hold")
	require.Equal(t, 1, code, "the gate breaks on the whole run\nstdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, errOut, "1 gate(s) broken")

	fired := regexp.MustCompile(`(?m)^lens: ALERT fired at (\d+)s \(\d\d:\d\d:\d\d UTC\) scenario soak: gate p95 TTFT < 400ms: window value (\S+), threshold 400ms .*$`).FindStringSubmatch(errOut)
	require.NotNil(t, fired, "stderr:\n%s", errOut)
	cleared := regexp.MustCompile(`(?m)^lens: alert cleared at (\d+)s \(\d\d:\d\d:\d\d UTC\) scenario soak: gate p95 TTFT < 400ms: window value (\S+), threshold 400ms .*$`).FindStringSubmatch(errOut)
	require.NotNil(t, cleared, "stderr:\n%s", errOut)
	t.Logf("%s\n%s", fired[0], cleared[0])
	firedAt, _ := strconv.Atoi(fired[1])
	clearedAt, _ := strconv.Atoi(cleared[1])
	firedValue, err := time.ParseDuration(fired[2])
	require.NoError(t, err)
	clearedValue, err := time.ParseDuration(cleared[2])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, firedAt, 2, "fired after the step up")
	assert.Greater(t, clearedAt, firedAt)
	assert.GreaterOrEqual(t, clearedAt, 4, "cleared after the step down")
	assert.GreaterOrEqual(t, firedValue, 400*time.Millisecond)
	assert.Less(t, clearedValue, 400*time.Millisecond)
	assert.NotContains(t, errOut, "gate error rate <= 5%: window", "no request failed")

	require.True(t, held.State.Finished)
	require.Len(t, held.State.Scenarios, 1)
	s := held.State.Scenarios[0]
	require.Len(t, s.Alerts, 2)
	assert.Equal(t, "gate p95 TTFT < 400ms", s.Alerts[0].Name)
	assert.Equal(t, "gate error rate <= 5%", s.Alerts[1].Name)
	assert.True(t, s.Alerts[0].Judged)
	assert.True(t, s.Alerts[1].Judged)
	assert.False(t, s.Alerts[1].Firing)
	var events []string
	for _, ev := range held.State.Events {
		events = append(events, ev.String())
		assert.Equal(t, "gate p95 TTFT < 400ms", ev.Alert)
	}
	assert.Contains(t, events, fired[0], "the page's event log holds the line stderr printed")
	assert.Contains(t, events, cleared[0])
	assert.Contains(t, held.Page, "gate p95 TTFT &lt; 400ms")
	assert.Contains(t, held.Page, "ALERT fired at "+fired[1]+"s")
}
