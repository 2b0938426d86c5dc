package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/report"
)

// fakeProcess serves the fake in a process of its own and returns its
// OpenAI base URL; the process ends with the test.
func fakeProcess(t *testing.T, args ...string) string {
	t.Helper()
	cmd, errb := child(t, append([]string{"fake", "-addr", "127.0.0.1:0"}, args...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "fake: %s", errb)
	m := regexp.MustCompile(`OpenAI base URL (http://\S+/v1)`).FindStringSubmatch(line)
	require.NotNil(t, m, "fake said %q", line)
	return m[1]
}

// TestFourShardProcesses runs one open-loop schedule (constant arrivals at
// 100 requests/s, 400 requests) twice against a fake in its own process:
// once in one process, once as four shard processes (-shard 0/4 .. 3/4,
// one -start-at) whose result files lens-report merge joins. The merged run
// has exactly the requests asked, its achieved send rate is within 2% of the
// asked rate, and its TTFT percentiles lie inside the single process's 95%
// confidence intervals.
//
// The percentiles and the send rate are judged only on a machine quiet
// enough to keep time (see the test's comment); the counts always.
//
// Each run gets a fresh fake with the same seed, so that both see the same
// server: the fake's n-th request gets the same TTFT draw in both, and the
// runs differ only in how the client side was split.
func TestFourShardProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five processes; skipped with -short")
	}
	const rate, requests = 100, 400
	dir := t.TempDir()
	config := func(url string) string {
		path := filepath.Join(dir, fmt.Sprintf("config-%d.yaml", time.Now().UnixNano()))
		require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(`version: "1.0"
providers:
  - name: server
    type: openai_compatible
    endpoint: %s
    models: [fake-model]
workload:
  scenarios:
    - name: open
      prompt: "Say hello"
      requests: %d
      rate_limit: %d
  request_params:
    max_tokens: 8
output:
  console:
    enabled: false
`, url, requests, rate)), 0o644))
		return path
	}
	fakeArgs := []string{"-ttft", "uniform(20ms, 220ms)", "-itl", "2ms", "-tokens", "8", "-seed", "7"}

	// One process.
	single := filepath.Join(dir, "single.json")
	cmd, errb := child(t, "run", "-config", config(fakeProcess(t, fakeArgs...)), "-o", single, "-progress", "off")
	require.NoError(t, cmd.Run(), "single run: %s", errb)

	// Four shard processes, with a start time that leaves them all room to
	// start, even under -race on a busy machine: a shard that reaches its
	// measured phase more than 1s after it is refused.
	cfg := config(fakeProcess(t, fakeArgs...))
	startAt := time.Now().Add(10 * time.Second).UTC().Format(time.RFC3339Nano)
	var shards []string
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		shards = append(shards, out)
		cmd, errb := child(t, "run", "-config", cfg, "-shard", fmt.Sprintf("%d/4", i), "-start-at", startAt, "-o", out, "-progress", "off")
		require.NoError(t, cmd.Start())
		cmds, errs = append(cmds, cmd), append(errs, errb)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "shard %d: %s", i, errs[i])
	}
	merged := filepath.Join(dir, "merged.json")
	code, _, stderr := cli(t, "", append([]string{"merge", "-o", merged}, shards...)...)
	require.Equal(t, 0, code, stderr)

	one, err := report.ReadFile(single)
	require.NoError(t, err)
	all, err := report.ReadFile(merged)
	require.NoError(t, err)
	assert.Equal(t, 4, all.Metadata.Shards)
	m, s := all.Scenarios[0].Results[0].Metrics, one.Scenarios[0].Results[0].Metrics
	assert.EqualValues(t, requests, all.Scenarios[0].Config.Requests, "the shards' shares add up to the run")
	assert.EqualValues(t, requests, m.TotalRequests, "exactly the requests asked")
	assert.EqualValues(t, requests, m.SuccessfulRequests)
	t.Logf("achieved send rate: shards merged %.2f/s, one process %.2f/s (asked %d/s)", m.AchievedSendRate, s.AchievedSendRate, rate)

	mt, err := m.Latency.TTFT.Latency()
	require.NoError(t, err)
	st, err := s.Latency.TTFT.Latency()
	require.NoError(t, err)
	// The fake's TTFT is uniform on 20..220ms: a machine that keeps time
	// measures its median near 120ms (seed 7's draws give about 112ms)
	// and its p99 at most a millisecond above the schedule's top, 220ms
	// (judged: p50 within 95..145ms, p99 at most 221ms). One too busy for
	// that (under -race, beside other jobs) measures its own starvation,
	// which differs from run to run and from process to process: a p99
	// 2ms late in the four shards lies outside the single run's narrow
	// interval there, so such a machine cannot judge the split; CI runs
	// this test again without -race.
	for _, r := range []struct {
		name string
		l    interface{ Percentile(float64) time.Duration }
	}{{"one process", st}, {"shards merged", mt}} {
		if p50, p99 := r.l.Percentile(50), r.l.Percentile(99); p50 < 95*time.Millisecond || p50 > 145*time.Millisecond || p99 > 221*time.Millisecond {
			t.Skipf("machine too busy to compare latencies: %s measured TTFT p50 %v, p99 %v of a server whose TTFT is uniform on 20..220ms", r.name, p50, p99)
		}
	}
	// A machine that keeps time sends on time too (one too busy for it
	// sends late, the single run as well as the shards).
	assert.InEpsilon(t, rate, m.AchievedSendRate, 0.02, "the four shards together send at the asked rate")
	// The interval is the sampling noise of the server's draws; each of
	// the two real-time runs also carries its own timing noise, up to the
	// millisecond allowed above (the p99 sits at the schedule's top, where
	// the interval is under 3ms wide): the merged value must lie within
	// the interval widened by that much.
	const clock = time.Millisecond
	for _, p := range []float64{50, 90, 95, 99} {
		iv := st.PercentileInterval(p, 0.95)
		got := mt.Percentile(p)
		t.Logf("TTFT p%v: shards merged %v, one process %v (95%% CI %v .. %v)", p, got, iv.Estimate, iv.Lo, iv.Hi)
		assert.True(t, iv.Bounded && got >= iv.Lo-clock && got <= iv.Hi+clock, "TTFT p%v: merged %v outside the single run's interval %v (widened by %v)", p, got, iv, clock)
	}
}
