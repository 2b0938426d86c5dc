package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/report"
)

// gatesConfig writes a configuration against the in-process fake (TTFT
// uniform over 20..40ms) whose scenario has the given gates.
func gatesConfig(t *testing.T, dir, extra string, gates ...string) string {
	t.Helper()
	return fakeConfig(t, dir, "gates.yaml", `ttft_ms: "uniform(20, 40)", itl_ms: 1, output_tokens: 4`, `      requests: 100
      concurrency: 8
`+extra+`      gates:
        - `+strings.Join(gates, "\n        - ")+"\n", fmt.Sprintf(`execution:
  warmup_requests: 4
output:
  console: {format: table}
  export:
    - {format: json, path: %s}
    - {format: markdown, path: %s}
`, filepath.Join(dir, "out.json"), filepath.Join(dir, "out.md")))
}

// TestRunGates: a gate that holds and one that breaks: exit 1, both
// verdicts on the console, in the exports and as two JUnit test cases, one
// a failure. Both holding: exit 0.
func TestRunGates(t *testing.T) {
	dir := t.TempDir()
	junitPath := filepath.Join(dir, "gates.xml")
	// The fake's TTFT is at least 20ms, and far below 10s however busy the
	// machine: both verdicts are conclusive.
	cfg := gatesConfig(t, dir, "", "{metric: ttft, percentile: 90, limit_ms: 10000}", "{metric: ttft, percentile: 50, limit_ms: 10}")
	code, out, errOut := cli(t, "", "run", "-config", cfg, "-color", "off", "-junit", junitPath)
	require.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "1 gate(s) broken")
	assert.Contains(t, out, "Gates:")
	assert.Contains(t, out, "PASS pass: p90 TTFT < 10s")
	assert.Contains(t, out, "FAIL fail: p50 TTFT < 10ms")

	f, err := report.ReadFile(filepath.Join(dir, "out.json"))
	require.NoError(t, err)
	gates := f.Scenarios[0].Results[0].Gates
	require.Len(t, gates, 2)
	assert.Equal(t, "pass", gates[0].Outcome)
	assert.True(t, gates[0].Holds)
	assert.Equal(t, "fail", gates[1].Outcome)
	assert.False(t, gates[1].Holds)
	assert.Greater(t, gates[1].LoMs, 10.0, "a conclusive fail has its whole interval at or above the limit")
	md, err := os.ReadFile(filepath.Join(dir, "out.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| p50 TTFT &lt; 10ms | ❌ fail |")

	// The one-line formats carry every gate's decision, interval and
	// flake risk too.
	hiMs := strconv.FormatFloat(math.Round(*gates[1].HiMs*1e3)/1e3, 'f', -1, 64) + "ms"
	code, csv, errOut := cli(t, "", "show", "-format", "csv", filepath.Join(dir, "out.json"))
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `ttft_p90=pass [0-9.]+ms \[[0-9.]+ms\.\.[0-9.]+ms\] risk [0-9.e-]+%; ttft_p50=fail [0-9.]+ms \[[0-9.]+ms\.\.`+regexp.QuoteMeta(hiMs)+`\] risk `, csv)
	code, minimal, errOut := cli(t, "", "show", "-format", "minimal", filepath.Join(dir, "out.json"))
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^chat fake/fake-model gates: ttft_p90=pass .*; ttft_p50=fail .*\.\.`+regexp.QuoteMeta(hiMs)+`\] risk `, minimal)

	x, err := os.ReadFile(junitPath)
	require.NoError(t, err)
	xml := string(x)
	assert.Equal(t, 2, strings.Count(xml, "<testcase "), xml)
	assert.Equal(t, 1, strings.Count(xml, "<failure "), xml)
	assert.Contains(t, xml, `name="chat/fake/fake-model/ttft_p50"`)
	assert.Contains(t, xml, `name="outcome" value="fail"`)
	assert.Contains(t, xml, `name="hi_ms"`)

	cfg = gatesConfig(t, dir, "", "{metric: ttft, percentile: 95, limit_ms: 10000}", "{metric: error_rate, max: 0.01}")
	code, _, errOut = cli(t, "", "run", "-config", cfg, "-color", "off")
	require.Equal(t, 0, code, errOut)
}

// TestRunGatesBudget: with max_requests an inconclusive gate tops up, and
// every look is logged on stderr. The true median is at the limit, so the
// gate is almost always inconclusive; whatever it decides, it says how.
func TestRunGatesBudget(t *testing.T) {
	dir := t.TempDir()
	cfg := gatesConfig(t, dir, "      max_requests: 250\n", "{metric: ttft, percentile: 50, limit_ms: 30}")
	code, _, errOut := cli(t, "", "run", "-config", cfg, "-color", "off")
	require.Contains(t, []int{0, 1}, code, errOut)
	f, err := report.ReadFile(filepath.Join(dir, "out.json"))
	require.NoError(t, err)
	g := f.Scenarios[0].Results[0].Gates[0]
	m := f.Scenarios[0].Results[0].Metrics
	assert.Equal(t, m.TotalRequests, g.Requests, "the result holds every request the gate used")
	assert.EqualValues(t, 250, g.Budget)
	assert.Contains(t, errOut, "look 1:")
	if g.Outcome == "inconclusive" {
		assert.EqualValues(t, 250, g.Requests, "an inconclusive gate spends its budget")
		assert.Contains(t, errOut, "running")
	} else {
		assert.LessOrEqual(t, g.Requests, int64(250), "a conclusive gate stays within its budget")
	}
	assert.Equal(t, code == 0, g.Holds)
	md, err := os.ReadFile(filepath.Join(dir, "out.md"))
	require.NoError(t, err)
	// The scenario's heading says how many requests the top-ups added, or
	// nothing of them when the first look decided.
	want := "(100 requests, concurrency 8)"
	if m.TotalRequests > 100 {
		want = fmt.Sprintf("(100 requests, up to %d with the gates' top-ups, concurrency 8)", m.TotalRequests)
	}
	assert.Contains(t, string(md), want)
}

// TestRunExitCodes: a configuration error is 2, a run that fails is 3.
func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	cfg := gatesConfig(t, dir, "", "{metric: ttft, percentile: 101, limit_ms: 500}")
	code, _, errOut := cli(t, "", "run", "-config", cfg)
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "percentile must be within 0..100")

	cfg = gatesConfig(t, dir, "", "{metric: ttft, percentile: 95, limit_ms: 500}")
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	bad := strings.Replace(string(data), filepath.Join(dir, "out.json"), filepath.Join(dir, "out.json", "x", "y"), 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out.json"), []byte("a file, not a directory"), 0o644))
	require.NoError(t, os.WriteFile(cfg, []byte(bad), 0o644))
	code, _, errOut = cli(t, "", "run", "-config", cfg)
	assert.Equal(t, 3, code, errOut)
}

// Merge judges the shards' gates again on all their requests: the merged
// file holds verdicts on 100 requests, and a broken gate makes the exit
// status 1.
func TestMergeJudgesGates(t *testing.T) {
	dir := t.TempDir()
	cfg := gatesConfig(t, dir, "", "{metric: ttft, percentile: 90, limit_ms: 10000}", "{metric: ttft, percentile: 50, limit_ms: 10}")
	var shards []string
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("s%d.json", i))
		code, _, errOut := cli(t, "", "run", "-config", cfg, "-shard", fmt.Sprintf("%d/2", i), "-o", out, "-format", "minimal")
		require.Equal(t, 1, code, errOut)
		shards = append(shards, out)
	}
	merged := filepath.Join(dir, "merged.json")
	code, _, errOut := cli(t, "", append([]string{"merge", "-o", merged}, shards...)...)
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "1 gate(s) broken on the merged requests")
	assert.Contains(t, errOut, "chat fake/fake-model: fail: p50 TTFT < 10ms")
	f, err := report.ReadFile(merged)
	require.NoError(t, err)
	gates := f.Scenarios[0].Results[0].Gates
	require.Len(t, gates, 2)
	for i, want := range []string{"pass", "fail"} {
		assert.Equal(t, want, gates[i].Outcome)
		assert.EqualValues(t, 100, gates[i].Requests, "judged on both shards' requests")
	}
}
