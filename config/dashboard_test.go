package config

import (
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens/dashboard"
)

const liveBase = `
providers:
  - name: fake
    models: [m]
workload:
  scenarios:
    - name: chat
      prompt: hi
      requests: 10
`

// TestDashboardAndTracingLoad: the dashboard section and output.tracing
// load into their types, and an alert converts to the dashboard's.
func TestDashboardAndTracingLoad(t *testing.T) {
	c, err := Parse([]byte(liveBase+`
output:
  tracing:
    enabled: true
    endpoint: http://collector:4318
    headers: {x-api-key: hunter2}
    service_name: bench
dashboard:
  listen: 127.0.0.1:0
  hold: true
  window_secs: 5
  alerts:
    - {metric: ttft, percentile: 95, limit_ms: 500}
    - {name: errors, metric: error_rate, max: 0.01, min_samples: 50}
`), "live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Output.Tracing
	if !tr.Enabled || tr.Endpoint != "http://collector:4318" || tr.ServiceName != "bench" || tr.Headers["x-api-key"].Value() != "hunter2" {
		t.Errorf("tracing: %+v", tr)
	}
	d := c.Dashboard
	if d.Listen != "127.0.0.1:0" || !d.Hold || d.WindowSecs != 5 || len(d.Alerts) != 2 {
		t.Fatalf("dashboard: %+v", d)
	}
	if got, want := d.Alerts[0].DashboardAlert(), (dashboard.Alert{Metric: "ttft", Percentile: 95, Limit: 500 * time.Millisecond}); got != want {
		t.Errorf("alert 0: %+v, want %+v", got, want)
	}
	if got, want := d.Alerts[1].DashboardAlert(), (dashboard.Alert{Name: "errors", Metric: "error_rate", Max: 0.01, MinSamples: 50}); got != want {
		t.Errorf("alert 1: %+v, want %+v", got, want)
	}
}

// TestDashboardAndTracingProblems: every problem of the two sections is
// reported at once, with its path and line.
func TestDashboardAndTracingProblems(t *testing.T) {
	_, err := Parse([]byte(liveBase+`output:
  tracing:
    endpoint: "ftp://user:secret@x"
dashboard:
  listen: nope
  window_secs: -1
  alerts:
    - metric: ttft
      percentile: 95
    - metric: latency
    - {metric: error_rate, max: 0.1, percentile: 90}
    - {metric: ttft, percentile: 101, limit_ms: 5}
    - {}
`), "live.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`live.yaml:12: output.tracing.endpoint: not a valid URL: scheme "ftp"`,
		`live.yaml:14: dashboard.listen: want host:port`,
		`live.yaml:15: dashboard.window_secs: must be >= 1, got -1`,
		`live.yaml:17: dashboard.alerts[0].limit_ms: must be > 0 (milliseconds)`,
		`live.yaml:19: dashboard.alerts[1].metric: "latency" is not one of ttft, itl, tpot, e2e, ttfb, dns, connect, tls, queue, error_rate`,
		`live.yaml:20: dashboard.alerts[2]: percentile and limit: not for metric error_rate (it takes max)`,
		`live.yaml:21: dashboard.alerts[3].percentile: must be within (0, 100], got 101`,
		`live.yaml:22: dashboard.alerts[4].metric: required`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("the endpoint's password is repeated:\n%s", msg)
	}
}
