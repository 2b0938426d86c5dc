package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/report"
)

// sweepConfigFile writes a configuration whose scenario is searched from 1
// user up to 4, against the in-process fake with settings, judged by gates
// (YAML flow mappings), with extra lines in the sweep section.
func sweepConfigFile(t *testing.T, dir, settings, gates, sweep string) string {
	t.Helper()
	return fakeConfig(t, dir, "sweep.yaml", settings, `      requests: 80
      max_requests: 200
      concurrency: 1
      gates: [`+gates+`]
      sweep:
        max: 4
`+sweep+`
output:
  console:
    format: table
`, "")
}

// TestSweepCommand: lens-report sweep against the built-in fake prints the
// curve with the capacity marked, writes it to the result file, and exits
// with the documented codes: 0 when the capacity is found and enough, 1
// when it is below sweep.require or no load holds (saying what stopped the
// search), 2 for a configuration it cannot search.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	loose := "{metric: ttft, percentile: 95, limit_ms: 5000}"

	// Every load up to max holds: capacity 4 users, bounded by max.
	out := filepath.Join(dir, "out.json")
	code, stdout, stderr := cli(t, "", "sweep", "-config", sweepConfigFile(t, dir, "ttft_ms: 1, output_tokens: 2", loose, ""), "-o", out)
	t.Log(stdout, stderr)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Capacity search: the highest number of users at which every gate holds")
	assert.Contains(t, stdout, "<- capacity")
	assert.Contains(t, stdout, "capacity 4 users: every load up to the maximum, 4 users, held")
	assert.Contains(t, stderr, "chat fake/fake-model: capacity: 1 users: holds")
	f, err := report.ReadFile(out)
	require.NoError(t, err)
	sw := f.Scenarios[0].Results[0].Sweep
	require.NotNil(t, sw)
	assert.Equal(t, 4.0, sw.Capacity)
	assert.Equal(t, "max", sw.Limit)
	var loads []float64
	for _, st := range sw.Steps {
		loads = append(loads, st.Load)
	}
	assert.Equal(t, []float64{1, 2, 4}, loads, "doubling from concurrency 1 up to max 4")
	assert.Equal(t, 4, f.Scenarios[0].Config.Concurrency, "the file's measurements are at the capacity")

	// Below sweep.require: exit 1, saying by how much.
	code, _, stderr = cli(t, "", "sweep", "-config", sweepConfigFile(t, dir, "ttft_ms: 1, output_tokens: 2", loose, "        require: 8"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "lens-report sweep: chat fake/fake-model: capacity 4 users, sweep.require 8")

	// No load holds: exit 1.
	code, stdout, stderr = cli(t, "", "sweep", "-config", sweepConfigFile(t, dir, "ttft_ms: 20, output_tokens: 2", "{metric: ttft, percentile: 95, limit_ms: 1}", ""))
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "no load held, down to 1 users")
	assert.Contains(t, stderr, "lens-report sweep: chat fake/fake-model: no load held")

	// A server that fails every request: the search stops at once and
	// says that the server errored.
	code, stdout, _ = cli(t, "", "sweep", "-config", sweepConfigFile(t, dir, "ttft_ms: 1, output_tokens: 2, faults: {server_error: 1}", loose, ""))
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "the server errored at 1 users")
	assert.Contains(t, stdout, "server_errors")

	// What cannot be searched: exit 2 before any request.
	for _, tc := range []struct{ extra, want string }{
		{"        growht: 3", "growht"},
		{"        resolution: 2", "sweep.yaml:16: workload.scenarios[0].sweep.resolution: must be within 0..1"},
	} {
		code, _, stderr := cli(t, "", "sweep", "-config", sweepConfigFile(t, dir, "ttft_ms: 1", loose, tc.extra))
		assert.Equal(t, 2, code, tc.want)
		assert.Contains(t, stderr, tc.want)
	}
	noGates := filepath.Join(dir, "nogates.yaml")
	require.NoError(t, os.WriteFile(noGates, []byte("providers:\n  - name: fake\n    models: [m]\nworkload:\n  scenarios:\n    - {name: chat, prompt: hi, requests: 10}\n"), 0o644))
	code, _, stderr = cli(t, "", "sweep", "-config", noGates)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "sweep: scenario chat has no gates: nothing to search, skipped")
	assert.Contains(t, stderr, "no scenario has gates")

	sharded := filepath.Join(dir, "sharded.yaml")
	data, err := os.ReadFile(sweepConfigFile(t, dir, "ttft_ms: 1", loose, ""))
	require.NoError(t, err)
	data = []byte(strings.Replace(string(data), "concurrency: 1", "concurrency: 2", 1) + "execution:\n  shard: 0/2\n")
	require.NoError(t, os.WriteFile(sharded, data, 0o644))
	code, _, stderr = cli(t, "", "sweep", "-config", sharded)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "a sweep runs its loads one after another on one machine")

	code, _, _ = cli(t, "", "sweep")
	assert.Equal(t, 2, code, "no -config is a usage error")

	// run, given a scenario with a sweep section, runs it at its own load
	// and says so.
	code, _, stderr = cli(t, "", "run", "-config", sweepConfigFile(t, dir, "ttft_ms: 1, output_tokens: 2", loose, ""), "-progress", "off")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "workload.scenarios[0].sweep: run runs scenario chat at its own load; lens-report sweep searches its capacity")
}
