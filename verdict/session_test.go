package verdict_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/verdict"
)

func scenario(cfg fake.Config, requests, budget int) lens.Scenario {
	mt := httpmock.NewMockTransport()
	fake.NewResponder(cfg).Register(mt, "http://fake.test")
	return lens.Scenario{
		Name: "gate", Provider: &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-test"},
		Model: "m", Prompt: "hi", Requests: requests, MaxRequests: budget, Concurrency: 8,
		Client: &http.Client{Transport: mt},
	}
}

// TestRunTopsUp: an inconclusive gate runs more requests, every look is
// kept, the result holds every request, and a clear gate stops at once.
func TestRunTopsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Normal(36*time.Millisecond, 7*time.Millisecond), OutputTokens: 2, Seed: 7}, 100, 800)
		res, vs, err := verdict.Run(t.Context(), sc,
			verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 50 * time.Millisecond},
			verdict.Gate{Metric: lens.MetricTTFT, Percentile: 50, Limit: time.Second},
			verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.05},
		)
		require.NoError(t, err)
		require.Len(t, vs, 3)
		v := vs[0]
		t.Log(v.Explain())
		assert.Equal(t, verdict.Pass, v.Outcome)
		assert.True(t, v.Holds)
		assert.Greater(t, v.N, int64(100), "5% headroom is not clear at 100 requests")
		assert.Equal(t, res.Total, res.TTFT.Count())
		assert.Equal(t, v.N, v.Looks[len(v.Looks)-1].Requests)
		assert.Less(t, v.Hi, 50*time.Millisecond, "a pass has its whole interval below the limit")
		assert.Equal(t, int64(800), v.Budget)
		for i := 1; i < len(v.Looks); i++ {
			assert.Greater(t, v.Looks[i].Requests, v.Looks[i-1].Requests)
			assert.Equal(t, verdict.Inconclusive, v.Looks[i-1].Outcome)
		}
		// The p50 gate was clear at the first look: it used 100 requests,
		// although the result went on to hold more.
		assert.Equal(t, verdict.Pass, vs[1].Outcome)
		assert.Equal(t, int64(100), vs[1].N)
		assert.Equal(t, verdict.Pass, vs[2].Outcome)
		assert.Equal(t, int64(100), vs[2].N)
		assert.Zero(t, vs[2].Rate)
	})
}

// TestTopUpLoadsLikeTheFirstRun: a closed loop's top-ups run at least as
// many requests as it has workers, so each batch loads the server as the
// first run did (2 more requests at 16 workers would run 2 at a time).
func TestTopUpLoadsLikeTheFirstRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Normal(36*time.Millisecond, 7*time.Millisecond), OutputTokens: 2, Seed: 7}, 20, 400)
		sc.Concurrency = 16
		_, vs, err := verdict.Run(t.Context(), sc, verdict.Gate{Metric: lens.MetricTTFT, Percentile: 90, Limit: 45 * time.Millisecond})
		require.NoError(t, err)
		v := vs[0]
		require.Greater(t, len(v.Looks), 2, "the gate tops up")
		for i := 1; i < len(v.Looks); i++ {
			assert.GreaterOrEqual(t, v.Looks[i].Requests-v.Looks[i-1].Requests, int64(16), "look %d", i+1)
		}
		assert.EqualValues(t, 16, verdict.MinBatch(sc))
		sc.Rate = 50
		assert.EqualValues(t, 1, verdict.MinBatch(sc), "an open loop's arrivals do not depend on the batch")
	})
}

// TestRunNoBudget: without MaxRequests a gate looks once, and an
// inconclusive one is decided by its point estimate.
func TestRunNoBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Normal(36*time.Millisecond, 7*time.Millisecond), OutputTokens: 2, Seed: 7}, 100, 0)
		res, vs, err := verdict.Run(t.Context(), sc, verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 50 * time.Millisecond})
		require.NoError(t, err)
		v := vs[0]
		assert.EqualValues(t, 100, res.Total)
		assert.Len(t, v.Looks, 1)
		assert.Equal(t, verdict.Inconclusive, v.Outcome)
		assert.Equal(t, res.TTFT.Percentile(95) < 50*time.Millisecond, v.Holds)
		assert.Positive(t, v.Needed)
		assert.Contains(t, v.Explain(), "would likely have decided it")
	})
}

// TestTooFewSamples: a percentile the sample cannot bound (p99 of 20
// requests needs 299 samples), and a metric with no samples at all, do not
// hold on their point estimates, and say why.
func TestTooFewSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Fixed(2 * time.Millisecond), OutputTokens: 2, Seed: 7}, 20, 0)
		_, vs, err := verdict.Run(t.Context(), sc,
			verdict.Gate{Metric: lens.MetricTTFT, Percentile: 99, Limit: time.Second},
			verdict.Gate{Metric: lens.MetricTTFT, Percentile: 50, Limit: time.Second},
			verdict.Gate{Metric: lens.MetricJourney, Percentile: 95, Limit: time.Second},
		)
		require.NoError(t, err)
		p99, p50, journey := vs[0], vs[1], vs[2]
		assert.Equal(t, verdict.Inconclusive, p99.Outcome)
		assert.False(t, p99.Holds, "p99 of 20 samples is their maximum: no evidence")
		assert.True(t, p99.Unsupported())
		assert.Contains(t, p99.String(), "20 samples are too few to bound p99 at 95% (it needs 299)")

		assert.Equal(t, verdict.Pass, p50.Outcome, "p50 of 20 samples of 2ms is bounded below 1s")
		assert.False(t, p50.Unsupported())

		assert.False(t, journey.Holds)
		assert.True(t, journey.Unsupported())
		assert.Contains(t, journey.String(), "no samples (n=20)")
		assert.NotContains(t, journey.String(), "0s")
	})
}

// TestBudgetSpentByDuration: a Duration run that already made more
// requests than the budget runs no top-up, and its verdict says so rather
// than showing no budget.
func TestBudgetSpentByDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Fixed(2 * time.Millisecond), OutputTokens: 2, Seed: 7}, 0, 50)
		sc.Duration = 300 * time.Millisecond
		res, vs, err := verdict.Run(t.Context(), sc, verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: time.Second})
		require.NoError(t, err)
		v := vs[0]
		assert.Greater(t, res.Total, int64(50))
		assert.Equal(t, res.Total, v.N)
		assert.EqualValues(t, 50, v.Budget)
		assert.Len(t, v.Looks, 1)
		assert.Contains(t, v.Explain(), fmt.Sprintf("no top-up: the first run's %d requests already spent the budget of 50", res.Total))
	})
}

// TestErrorRateGate: the exact binomial verdict on failures.
func TestErrorRateGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 2,
			FaultFunc: func(seq uint64) fake.Fault {
				if seq%5 == 0 {
					return fake.FaultServerError
				}
				return fake.NoFault
			}}
		sc := scenario(cfg, 200, 0)
		_, vs, err := verdict.Run(t.Context(), sc,
			verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.05},
			verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.5},
			verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.2},
		)
		require.NoError(t, err)
		assert.Equal(t, verdict.Fail, vs[0].Outcome)
		assert.InDelta(t, 0.2, vs[0].Rate, 1e-9)
		assert.Greater(t, vs[0].RateLo, 0.05)
		assert.Equal(t, verdict.Pass, vs[1].Outcome)
		assert.Less(t, vs[1].RateHi, 0.5)
		assert.Equal(t, verdict.Inconclusive, vs[2].Outcome)
		assert.True(t, vs[2].Holds, "20% of failures is at most 20%")
		t.Log(vs[0].Explain())
	})
}

// TestErrorRateIntervalBounded: 0 failures of 100 cannot show a rate under
// 0.1%; the interval's upper end is then the exact bound of the data (3.6%
// at 95%), not 100%, and an interval always straddles the limit of an
// inconclusive gate and lies on its side of a conclusive one.
func TestErrorRateIntervalBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 2}, 100, 0)
		var gs []verdict.Gate
		for _, max := range []float64{0.001, 0.01, 0.05, 0.5} {
			gs = append(gs, verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: max})
		}
		_, vs, err := verdict.Run(t.Context(), sc, gs...)
		require.NoError(t, err)
		for _, v := range vs {
			t.Log(v)
			assert.Zero(t, v.RateLo)
			assert.Less(t, v.RateHi, 0.04, "the exact upper bound of 0 in 100 is 3.6%% at 95%%")
			switch v.Outcome {
			case verdict.Pass:
				assert.LessOrEqual(t, v.RateHi, v.Gate.MaxErrorRate)
			case verdict.Inconclusive:
				assert.Greater(t, v.RateHi, v.Gate.MaxErrorRate)
			default:
				t.Errorf("0 failures cannot fail a gate: %v", v)
			}
		}
		assert.InDelta(t, 0.0362, vs[0].RateHi, 0.0005, "one look: the two-sided 95%% Clopper-Pearson bound")
		assert.Equal(t, verdict.Pass, vs[2].Outcome)
	})
}

// TestSessionTopUpError: a top-up that fails ends the looks; the verdict
// uses what was measured and the error is returned.
func TestSessionTopUpError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := scenario(fake.Config{TTFT: fake.Normal(36*time.Millisecond, 7*time.Millisecond), OutputTokens: 2, Seed: 7}, 100, 800)
		res, err := lens.Run(t.Context(), sc)
		require.NoError(t, err)
		boom := errors.New("boom")
		s := verdict.NewSession(res, verdict.Plan{MaxRequests: 800}, func(ctx context.Context, n int) (*lens.Result, error) { return nil, boom })
		vs, err := s.Check(t.Context(), verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 50 * time.Millisecond})
		require.ErrorIs(t, err, boom)
		require.Len(t, vs, 1)
		assert.EqualValues(t, 100, vs[0].N)
		assert.Equal(t, verdict.Inconclusive, vs[0].Outcome)
	})
}

func TestGateValidate(t *testing.T) {
	for _, g := range []verdict.Gate{
		{Metric: "latency", Percentile: 95, Limit: time.Second},
		{Metric: lens.MetricTTFT, Percentile: 100, Limit: time.Second},
		{Metric: lens.MetricTTFT, Percentile: 95},
		{Metric: verdict.ErrorRate, MaxErrorRate: 1.5},
	} {
		assert.Error(t, g.Validate(), "%+v", g)
	}
	assert.NoError(t, verdict.Gate{Metric: lens.MetricITL, Percentile: 99.9, Limit: time.Millisecond}.Validate())
	assert.Equal(t, "p95 TTFT < 500ms", verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 500 * time.Millisecond}.String())
	assert.Equal(t, "error rate <= 1%", verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.01}.String())
}
