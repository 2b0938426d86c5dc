package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/verdict"
)

const gatesConfig = `
providers:
  - name: fake
    models: [fake-model]
workload:
  scenarios:
    - name: chat
      prompt: "Say hello"
      requests: 100
      max_requests: 800
      gates:
        - {metric: ttft, percentile: 95, limit_ms: 500}
        - {metric: error_rate, max: 0.01}
`

func TestGatesConfig(t *testing.T) {
	runs := runsOf(t, gatesConfig, "gates.yaml")
	require.Len(t, runs, 1)
	assert.Equal(t, 800, runs[0].Scenario.MaxRequests)
	assert.Equal(t, []verdict.Gate{
		{Metric: lens.MetricTTFT, Percentile: 95, Limit: 500 * time.Millisecond},
		{Metric: verdict.ErrorRate, MaxErrorRate: 0.01},
	}, runs[0].Gates)
}

// TestGatesConfigProblems: every broken gate is reported at once, with its
// path and line.
func TestGatesConfigProblems(t *testing.T) {
	bad := strings.NewReplacer(
		"max_requests: 800", "max_requests: 50",
		"{metric: ttft, percentile: 95, limit_ms: 500}", "{metric: ttft, percentile: 100, limit_ms: 500}\n        - {metric: latency, percentile: 95, limit_ms: 5}\n        - {metric: e2e, percentile: 95}\n        - {metric: ttft, percentile: 95, limit_ms: 5, max: 0.1}\n        - {metric: ttft, percentile: 95, limit_ms: 5, limit: 3}",
		"{metric: error_rate, max: 0.01}", "{metric: error_rate, max: 2}\n        - {metric: error_rate}\n        - {metric: e2e, percentile: 95, limit_ms: 9}\n        - {metric: journey, percentile: 95, limit_ms: 9}",
	).Replace(gatesConfig)
	assertProblems(t, bad, "gates.yaml",
		"workload.scenarios[0].max_requests", "at least requests (100)",
		"workload.scenarios[0].gates[0]", "percentile must be within 0..100",
		"gates[1]", `unknown metric "latency"`,
		"gates[2]", "limit must be positive",
		"gates[3].max", "only an error_rate gate takes max",
		"gates[4]", "limit",
		"gates[5]", "max error rate must be within 0..1",
		"gates[6].max", "required for an error_rate gate",
		"gates[7]", "a second e2e_p95 gate (also gates[2])",
		"gates[8].metric", "journey is measured only for a Go journey",
		"gates.yaml:",
	)
	assertProblems(t, strings.Replace(gatesConfig, "      gates:\n        - {metric: ttft, percentile: 95, limit_ms: 500}\n        - {metric: error_rate, max: 0.01}\n", "", 1), "gates.yaml",
		"budget of the scenario's gates, and it has none")
}

// runsOf parses src, a configuration named name, and returns its runs,
// built with a config.Builder closed when the test ends.
func runsOf(t *testing.T, src, name string) []config.Run {
	t.Helper()
	c, err := config.Parse([]byte(src), name)
	require.NoError(t, err)
	var b config.Builder
	t.Cleanup(func() { b.Close() })
	runs, err := c.Runs(b.Build)
	require.NoError(t, err)
	return runs
}

// assertProblems parses src, a broken configuration named name, and checks
// that its error reports each of want.
func assertProblems(t *testing.T, src, name string, want ...string) {
	t.Helper()
	_, err := config.Parse([]byte(src), name)
	if !assert.Error(t, err, "want %q", want) {
		return
	}
	t.Log(err)
	for _, w := range want {
		assert.Contains(t, err.Error(), w)
	}
}
