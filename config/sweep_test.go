package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/capacity"
)

const sweepConfig = gatesConfig + `      concurrency: 2
      sweep:
        mode: concurrency
        start: 2
        min: 1
        max: 64
        growth: 1.5
        resolution: 0.1
        min_achieved: 0.8
        require: 8
`

// TestSweepConfig: a scenario's sweep section reaches the run as the search
// it describes, and a scenario without one has none.
func TestSweepConfig(t *testing.T) {
	runs := runsOf(t, sweepConfig, "sweep.yaml")
	require.Len(t, runs, 1)
	require.NotNil(t, runs[0].Sweep)
	assert.Equal(t, capacity.Search{Mode: capacity.Concurrency, Start: 2, Min: 1, Max: 64, Growth: 1.5, Resolution: 0.1, MinAchieved: 0.8},
		runs[0].Sweep.Search())
	assert.Equal(t, 8.0, runs[0].Sweep.Require)

	runs = runsOf(t, gatesConfig, "gates.yaml")
	assert.Nil(t, runs[0].Sweep)
	assert.Equal(t, capacity.Search{}, runs[0].Sweep.Search(), "no section: the defaults")
}

// TestSweepConfigProblems: every bad value of a sweep section is reported
// at once, with its path and line; an unknown key is refused.
func TestSweepConfigProblems(t *testing.T) {
	bad := strings.NewReplacer(
		"mode: concurrency", "mode: users",
		"start: 2", "start: 100",
		"min: 1", "min: 80",
		"growth: 1.5", "growth: 1",
		"resolution: 0.1", "resolution: 1.5",
		"min_achieved: 0.8", "min_achieved: 2",
		"require: 8", "require: 7.5",
	).Replace(sweepConfig)
	assertProblems(t, bad, "sweep.yaml",
		`sweep.yaml:16: workload.scenarios[0].sweep.mode: unknown mode "users"`,
		"sweep.min: is above max (80 > 64)",
		"sweep.growth: must be more than 1",
		"sweep.resolution: must be within 0..1",
		"sweep.min_achieved: must be within 0..1",
	)

	for _, tc := range []struct{ from, to, want string }{
		{"start: 2", "start: 2.5", "sweep.start: a number of users is whole, got 2.5"},
		{"require: 8", "require: -1", "sweep.require: must be >= 0"},
		{"start: 2", "start: 100", "sweep.start: is outside min..max"},
		{"growth: 1.5", "growht: 1.5", "growht"},
		{"mode: concurrency", "mode: rate", "sessions are closed loop"},
	} {
		cfg := strings.Replace(sweepConfig, tc.from, tc.to, 1)
		if tc.to == "mode: rate" {
			cfg = strings.Replace(cfg, "      concurrency: 2\n", "      concurrency: 2\n      session: {turns: 3}\n", 1)
		}
		assertProblems(t, cfg, "sweep.yaml", tc.want)
	}

	noGates := strings.Replace(sweepConfig, "      max_requests: 800\n      gates:\n        - {metric: ttft, percentile: 95, limit_ms: 500}\n        - {metric: error_rate, max: 0.01}\n", "", 1)
	assertProblems(t, noGates, "sweep.yaml", "sweep: a sweep searches the highest load at which the scenario's gates hold, and it has none")
}
