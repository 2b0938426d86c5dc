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

// TestAlertFromGate: a verdict gate becomes the alert that watches it
// live; a gate the dashboard cannot watch is refused.
func TestAlertFromGate(t *testing.T) {
	a, err := dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 500 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, dashboard.Alert{Metric: "ttft", Percentile: 95, Limit: 500 * time.Millisecond}, a)
	a, err = dashboard.AlertFromGate(verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.01})
	require.NoError(t, err)
	assert.Equal(t, dashboard.Alert{Metric: "error_rate", Max: 0.01}, a)
	_, err = dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricDNS, Percentile: 95, Limit: time.Millisecond})
	require.ErrorContains(t, err, `dashboard: gate on dns: metric: "dns" is not one of`)
	_, err = dashboard.AlertFromGate(verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95})
	require.Error(t, err)
	m, err := dashboard.New(dashboard.Options{Alerts: []dashboard.Alert{a}})
	require.NoError(t, err)
	m.Close()
}
