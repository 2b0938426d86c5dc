package config_test

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// TestSeedConfigRuns runs the LLM-Latency-Lens example configuration
// (testdata/seed.yaml, verbatim) with its
// two providers pointed at the fake, in virtual time: the whole matrix of
// 2 scenarios × 2 providers × 2 models, each with the 5 warmup requests,
// the concurrency and the rate limit as written.
func TestSeedConfigRuns(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-seed-openai")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-seed")
	cfg, err := config.Load("testdata/seed.yaml")
	require.NoError(t, err)

	synctest.Test(t, func(t *testing.T) {
		responder := fake.NewResponder(fake.Config{
			TTFT: fake.Fixed(300 * time.Millisecond), ITL: fake.Fixed(20 * time.Millisecond), OutputTokens: 30, Record: true,
		})
		// The transport counts requests in flight per path, to check the
		// concurrency, then hands them to the fake.
		var inFlight, peak atomic.Int64
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			resp, err := responder.RoundTrip(r)
			if err == nil {
				resp.Body = &countingBody{ReadCloser: resp.Body, done: func() { inFlight.Add(-1) }}
			} else {
				inFlight.Add(-1)
			}
			return resp, err
		})
		client := &http.Client{Transport: mt}

		runs, err := cfg.Runs(func(pc config.Provider, model string) (providers.Provider, error) {
			// The seed's providers, their endpoints replaced by the fake's.
			pc.Endpoint = "http://fake.test/v1"
			return config.NewProvider(pc, model)
		})
		require.NoError(t, err)
		require.Len(t, runs, 8)

		var order []string
		for _, r := range runs {
			sc := r.Scenario
			sc.Client = client
			peak.Store(0)
			var warm, measured atomic.Int64
			var mu sync.Mutex
			var sends []time.Time
			sc.OnRequest = func(m *lens.RequestMetrics) {
				if m.Warmup {
					warm.Add(1)
					return
				}
				measured.Add(1)
				mu.Lock()
				sends = append(sends, m.Start)
				mu.Unlock()
			}
			res, err := lens.Run(t.Context(), sc)
			require.NoError(t, err)
			order = append(order, sc.Name+"/"+r.Provider.Name+"/"+r.Model)

			assert.EqualValues(t, 5, warm.Load(), "%s: warmup as written", sc.Name)
			assert.Zero(t, res.Failed, "%s: %v", sc.Name, res.ErrorSamples)
			switch sc.Name {
			case "short_prompt_high_concurrency":
				assert.EqualValues(t, 100, measured.Load())
				assert.EqualValues(t, 20, peak.Load(), "20 workers, all busy")
				assert.Zero(t, sc.Rate)
			case "long_prompt_streaming":
				assert.EqualValues(t, 50, measured.Load())
				assert.LessOrEqual(t, peak.Load(), int64(5))
				// 2 requests a second, in open loop: 49 gaps of 500ms.
				assert.InDelta(t, 2.0, res.AchievedRate(), 1e-9)
				assert.Equal(t, 24500*time.Millisecond, res.LastSend.Sub(res.FirstSend))
			}
			// Every request carries the example's parameters.
			assert.Equal(t, 500, sc.MaxTokens)
			assert.Equal(t, 30*time.Second, sc.Timeout)
			assert.Equal(t, 3, sc.Retry.MaxAttempts)
			assert.Equal(t, 100, sc.HTTP.PoolSize)
		}
		assert.Equal(t, config.SeedMatrix, order, "the matrix in the file's order")

		// The fake saw the example's requests: both wire formats, the
		// templates filled, the key of each provider.
		recs := responder.Records()
		assert.Len(t, recs, 2*2*(105)+2*2*(55))
		paths := map[string]int{}
		for _, r := range recs {
			paths[r.Path]++
			assert.Equal(t, 30, r.OutputTokens)
		}
		assert.Equal(t, map[string]int{"/v1/chat/completions": 320, "/v1/messages": 320}, paths)
	})
}

// countingBody calls done once, when the body is closed.
type countingBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *countingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
