package lenstest_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/report/history"
)

// With LENS_HISTORY set, every Bench result is appended to that history,
// tagged with the test's name.
func TestBenchAppendsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	t.Setenv(lenstest.HistoryEnv, path)
	cfg := fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 3}
	t.Run("chat", func(t *testing.T) {
		lenstest.Bench(t, mockScenario(cfg, 12, 2))
	})
	t.Run("again", func(t *testing.T) {
		lenstest.Bench(t, mockScenario(cfg, 5, 1))
	})

	st, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs in the history, want 2", len(runs))
	}
	for i, want := range []struct {
		test     string
		requests int64
	}{{"TestBenchAppendsHistory/chat", 12}, {"TestBenchAppendsHistory/again", 5}} {
		r := runs[i]
		if r.Source != "go test" || r.Tests[0] != want.test {
			t.Errorf("run %d: source %q, test %q; want go test, %q", i, r.Source, r.Tests[0], want.test)
		}
		f, err := st.File(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.Scenarios[0].Results[0].Metrics.TotalRequests; n != want.requests {
			t.Errorf("run %d: %d requests, want %d", i, n, want.requests)
		}
	}
}

// With LENS_HISTORY set, a test's result is appended when the test ends:
// with the requests its assertions' verdicts topped up, and the latest
// verdict on each gate they judged.
func TestBenchHistoryAfterTopUps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	t.Setenv(lenstest.HistoryEnv, path)
	const limit = 50 * time.Millisecond
	var total int64
	var p95, errRate lenstest.Verdict
	t.Run("gated", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// p95 TTFT at 47.5ms, 5% under the limit: 100 requests cannot
			// tell, so the gate tops up.
			sc := mockScenario(fake.Config{
				TTFT: fake.Normal(36*time.Millisecond, 7*time.Millisecond), ITL: fake.Fixed(time.Millisecond),
				OutputTokens: 2, Seed: 3,
			}, 100, 16)
			sc.MaxRequests = 800
			res := lenstest.Bench(t, sc)
			res.AssertP95TTFT(limit)
			res.AssertErrorRate(0.5)
			p95, errRate = res.Verdict(lens.MetricTTFT, 95, limit), res.ErrorRateVerdict(0.5)
			total = res.Total
		})
	})
	require.Greater(t, total, int64(100), "the gate must have topped up for this test to show anything")

	st, err := history.Open(path)
	require.NoError(t, err)
	defer st.Close()
	ctx := context.Background()
	runs, err := st.Runs(ctx, history.Filter{})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	f, err := st.File(ctx, runs[0].ID)
	require.NoError(t, err)
	r := f.Scenarios[0].Results[0]
	assert.Equal(t, total, r.Metrics.TotalRequests, "the history holds every request, top-ups included")
	require.Len(t, r.Gates, 2)
	for i, want := range []lenstest.Verdict{p95, errRate} {
		g := r.Gates[i]
		assert.Equal(t, want.Gate.Name(), g.Name)
		assert.Equal(t, want.Outcome.String(), g.Outcome)
		assert.Equal(t, want.N, g.Requests, "%+v", g)
	}
	assert.Equal(t, total, r.Gates[0].Requests, "the p95 gate decided on every request, top-ups included")
	assert.Equal(t, float64(p95.Estimate)/1e6, r.Gates[0].EstimateMs)
	assert.Equal(t, "TestBenchHistoryAfterTopUps/gated", runs[0].Tests[0])
}
