package dashboard_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/verdict"
)

// TestAlertFromGate: a verdict gate on any request metric becomes the
// alert that watches it live, named for the gate; a gate the dashboard
// cannot watch, or an invalid one, is refused.
func TestAlertFromGate(t *testing.T) {
	a, err := dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 500 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, dashboard.Alert{Name: "gate p95 TTFT < 500ms", Metric: "ttft", Percentile: 95, Limit: 500 * time.Millisecond}, a)
	a, err = dashboard.AlertFromGate(verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.01})
	require.NoError(t, err)
	assert.Equal(t, dashboard.Alert{Name: "gate error rate <= 1%", Metric: "error_rate", Max: 0.01}, a)
	for _, m := range lens.Metrics {
		a, err := dashboard.AlertFromGate(verdict.Gate{Metric: m, Percentile: 99, Limit: time.Millisecond})
		require.NoError(t, err, "metric %s", m)
		assert.Equal(t, string(m), a.Metric)
	}

	_, err = dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricJourney, Percentile: 95, Limit: time.Second})
	require.ErrorContains(t, err, `dashboard: gate p95 JOURNEY < 1s: metric: "journey" is not one of ttft, itl, tpot, e2e, ttfb, dns, connect, tls, queue, error_rate`)
	_, err = dashboard.AlertFromGate(verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 1})
	require.ErrorContains(t, err, "max: must be within [0, 1), got 1")
	_, err = dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95})
	require.ErrorContains(t, err, "limit must be positive")
}
