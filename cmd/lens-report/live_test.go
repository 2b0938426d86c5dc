package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/llm-latency-lens/lens/dashboard"
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

	var held dashboard.State
	var page string
	holdUntilInterrupted = func(url string) {
		resp, err := http.Get(url + "state")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&held))
		pr, err := http.Get(url)
		require.NoError(t, err)
		defer pr.Body.Close()
		b, _ := io.ReadAll(pr.Body)
		page = string(b)
	}
	t.Cleanup(func() { holdUntilInterrupted = nil })

	code, out, errOut := cli(t, "", "run", "-config", cfg, "-progress", "off", "-serve", "127.0.0.1:0", "-hold", "-o", filepath.Join(dir, "r.json"))
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Regexp(t, `dashboard: http://127\.0\.0\.1:\d+/`, errOut)
	assert.Contains(t, errOut, "dashboard: the run is over; still serving")
	assert.Regexp(t, `lens: ALERT fired at \d+s \(\d\d:\d\d:\d\d UTC\) scenario chat: p50 ttft >= 1ms: window value [0-9.]+ms, threshold 1ms`, errOut)
	assert.Contains(t, errOut, "tracing: a span per request, exported over OTLP/HTTP")

	require.True(t, held.Finished, "the held page shows the finished run")
	require.Len(t, held.Scenarios, 1)
	s := held.Scenarios[0]
	assert.Equal(t, int64(200), s.Sent)
	assert.Equal(t, int64(8), s.Warmup)
	assert.Equal(t, int64(200), s.Succeeded)
	require.Len(t, s.Alerts, 2)
	assert.True(t, s.Alerts[0].Firing)
	assert.False(t, s.Alerts[1].Firing)
	assert.Contains(t, page, "The run is over: this is its final state.")

	assert.Equal(t, int64(208), spans.Load(), "one span per request, warmup included")
}

// TestRunHoldNeedsServe: -hold without a dashboard is a usage error.
func TestRunHoldNeedsServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "", 5)
	code, _, errOut := cli(t, "", "run", "-config", cfg, "-hold")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-hold needs a dashboard to hold: add -serve ADDR (or dashboard.listen)")
}
