package lenstest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/providers"
)

// ask is "application code": one streamed chat call through c, read to
// its end. It returns the server's request id.
func ask(ctx context.Context, c *http.Client) (string, error) {
	p := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-app"}
	req, err := p.NewRequest(ctx, &providers.Request{Model: "gpt-4o-mini", Prompt: "Summarize", Stream: true})
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	return resp.Header.Get("X-Request-Id"), nil
}

// TestObserve: the calls a test's own code makes through the observer's
// client are measured exactly (virtual time), and the Result asserts on
// them like Bench's.
func TestObserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttft, itl, tokens = 80 * time.Millisecond, 4 * time.Millisecond, 6
		rec := &recorder{TB: t}
		obs := lenstest.Observe(rec)
		obs.Transport.Base = fake.NewResponder(fake.Config{TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens})
		obs.Transport.Model = "gpt-4o-mini"
		for range 60 {
			_, err := ask(t.Context(), obs.Client())
			require.NoError(t, err)
		}
		res := obs.Result()
		assert.EqualValues(t, 60, res.Succeeded)
		assert.Equal(t, "openai", res.Provider)
		assert.Equal(t, t.Name(), res.Scenario)
		assert.Equal(t, ttft, res.TTFT.Min().Round(time.Millisecond))
		assert.Equal(t, ttft+(tokens-1)*itl, res.E2E.Max().Round(time.Millisecond))
		assert.True(t, res.AssertP95TTFT(ttft+time.Millisecond))
		assert.Empty(t, rec.errors)
		assert.False(t, res.AssertP95TTFT(ttft-time.Millisecond), "an SLO below every TTFT must fail")
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "p95 TTFT")
		assert.Contains(t, rec.errors[0], "provider openai, model gpt-4o-mini")
	})
}

// TestBenchFuncTwoCalls: a journey that makes two model calls gives 2
// measured calls per journey, and each journey lasts at least the sum of
// its calls' E2E; the journey distribution is the journeys' own
// durations.
func TestBenchFuncTwoCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := fake.NewResponder(fake.Config{TTFT: fake.Uniform(30*time.Millisecond, 90*time.Millisecond),
			ITL: fake.Uniform(2*time.Millisecond, 6*time.Millisecond), OutputTokens: 8, Seed: 4})
		var mu sync.Mutex
		e2e := map[string]time.Duration{}    // request id → E2E
		journeys := map[int][]string{}       // journey → its calls' request ids
		durations := map[int]time.Duration{} // journey → its duration, by its own clock
		var next int
		sc := lens.Scenario{
			Name: "rag-answer", Requests: 24, Concurrency: 4, Warmup: 2,
			Client: &http.Client{Transport: r},
			OnRequest: func(m *lens.RequestMetrics) {
				mu.Lock()
				defer mu.Unlock()
				e2e[m.RequestID] = m.E2E
			},
		}
		rec := &recorder{TB: t}
		res := lenstest.BenchFunc(rec, sc, func(ctx context.Context, c *http.Client) error {
			start := time.Now()
			var ids []string
			for range 2 {
				id, err := ask(ctx, c)
				if err != nil {
					return err
				}
				ids = append(ids, id)
				time.Sleep(3 * time.Millisecond) // the application's own work
			}
			mu.Lock()
			defer mu.Unlock()
			journeys[next], durations[next] = ids, time.Since(start)
			next++
			return nil
		})
		require.Empty(t, rec.errors)
		assert.EqualValues(t, 24, res.Journeys)
		assert.EqualValues(t, 48, res.Total, "2 measured calls per journey")
		assert.EqualValues(t, 48, res.Succeeded)
		assert.True(t, res.AssertJourneyErrorRate(0))

		measured := 0
		for j, ids := range journeys {
			var sum time.Duration
			for _, id := range ids {
				d, ok := e2e[id]
				if !ok {
					continue // a warmup journey: its calls are not measured
				}
				sum += d
			}
			if _, ok := e2e[ids[0]]; !ok {
				continue
			}
			measured++
			assert.GreaterOrEqual(t, durations[j], sum, "journey %d lasts at least its calls' E2E", j)
			assert.Equal(t, sum+6*time.Millisecond, durations[j], "in virtual time, exactly the calls and the work")
		}
		assert.Equal(t, 24, measured)
		require.EqualValues(t, 24, res.Journey.Count())
		assert.True(t, res.AssertPercentile(lens.MetricJourney, 50, time.Second))
		assert.Empty(t, rec.errors)
	})
}

// TestBenchFuncErrors: failed journeys are counted and asserted on; a
// field that cannot apply to the caller's code is refused.
func TestBenchFuncErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{TB: t}
		n := 0
		res := lenstest.BenchFunc(rec, lens.Scenario{Requests: 10}, func(context.Context, *http.Client) error {
			n++
			if n%5 == 0 {
				return errors.New("no answer")
			}
			return nil
		})
		require.Empty(t, rec.errors)
		assert.EqualValues(t, 2, res.JourneysFailed)
		assert.True(t, res.AssertJourneyErrorRate(0.2))
		assert.False(t, res.AssertJourneyErrorRate(0.1))
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "2 of 10 journeys failed")
		assert.Contains(t, rec.errors[0], "no answer")
	})

	// The configuration error stops BenchFunc with Fatal (here on a
	// goroutine of its own, which FailNow ends).
	rec := &recorder{TB: goexitTB{t}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		lenstest.BenchFunc(rec, lens.Scenario{Requests: 1, Prompt: "hi"}, func(context.Context, *http.Client) error { return nil })
	}()
	<-done
	require.Len(t, rec.errors, 1)
	assert.Contains(t, rec.errors[0], "Prompt: does not apply with a Journey")
}

// goexitTB ends the calling goroutine on FailNow instead of failing the
// test, so that a test can check what made a helper give up.
type goexitTB struct{ testing.TB }

func (goexitTB) FailNow() { runtime.Goexit() }
