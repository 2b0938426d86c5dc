package lens_test

import (
	"bytes"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// mock returns an httpmock transport serving the fake for cfg at
// http://fake.test, and the responder (for its Records).
func mock(cfg fake.Config) (*httpmock.MockTransport, *fake.Responder) {
	mt := httpmock.NewMockTransport()
	r := fake.NewResponder(cfg)
	r.Register(mt, "http://fake.test")
	return mt, r
}

// collect gathers copies of every measured request's metrics.
type collect struct {
	mu sync.Mutex
	ms []lens.RequestMetrics
}

func (c *collect) on(m *lens.RequestMetrics) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *m
	cp.ITLs = append([]time.Duration(nil), m.ITLs...)
	cp.Retried = append([]lens.ErrorClass(nil), m.Retried...)
	c.ms = append(c.ms, cp)
}

func (c *collect) sorted() []lens.RequestMetrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := append([]lens.RequestMetrics(nil), c.ms...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Seq < ms[j].Seq })
	return ms
}

func TestOpenLoopConstantRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The server is far slower than the arrivals: 500ms per request at
		// 100 requests/s. The open loop must keep the rate anyway.
		mt, _ := mock(fake.Config{TTFT: fake.Fixed(400 * time.Millisecond), ITL: fake.Fixed(25 * time.Millisecond), OutputTokens: 5})
		var c collect
		start := time.Now()
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Rate: 100, Requests: 200,
			Client: &http.Client{Transport: mt}, OnRequest: c.on,
		})
		require.NoError(t, err)
		assert.EqualValues(t, 200, res.Succeeded)
		ms := c.sorted()
		for i, m := range ms {
			assert.Equal(t, time.Duration(i)*10*time.Millisecond, m.Intended.Sub(start), "arrival %d", i)
			assert.Zero(t, m.QueueDelay)
		}
		assert.InDelta(t, 100, res.AchievedRate(), 1e-9)
		// 1.99s of arrivals, the last one ending 500ms later.
		assert.Equal(t, 2490*time.Millisecond, res.Elapsed)
		assert.Equal(t, res.E2E.Percentile(50), res.E2EFromIntended.Percentile(50), "no queueing: from-intended equals actual")
	})
}

func TestOpenLoopCapQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 100 arrivals/s, 10 in flight at most, 500ms each: the server
		// side can take only 20/s, so arrivals queue and the queue grows.
		mt, _ := mock(fake.Config{TTFT: fake.Fixed(500 * time.Millisecond), OutputTokens: 1})
		var c collect
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Rate: 100, Concurrency: 10, Requests: 40,
			Client: &http.Client{Transport: mt}, OnRequest: c.on,
		})
		require.NoError(t, err)
		ms := c.sorted()
		require.Len(t, ms, 40)
		for i, m := range ms {
			// Request i is sent when request i-10 ends, 500ms after that
			// one was sent: at 10ms·(i%10) + 500ms·(i/10), while it was due
			// at 10ms·i. The queue grows by 400ms every ten requests.
			assert.Equal(t, time.Duration(i/10)*400*time.Millisecond, m.QueueDelay, "request %d", i)
			assert.Equal(t, 500*time.Millisecond, m.TTFT)
		}
		assert.InDelta(t, float64(500*time.Millisecond+ms[39].QueueDelay), float64(res.TTFTFromIntended.Max()), float64(2*time.Millisecond))
		assert.Greater(t, res.QueueDelay.Percentile(99), time.Second)
	})
}

func TestOpenLoopPoissonSeeded(t *testing.T) {
	run := func(seed uint64) []time.Duration {
		var out []time.Duration
		synctest.Test(t, func(t *testing.T) {
			mt, _ := mock(fake.Config{OutputTokens: 1})
			var c collect
			start := time.Now()
			_, err := lens.Run(t.Context(), lens.Scenario{
				Provider: openai("http://fake.test"), Model: "m", Rate: 50, Arrivals: lens.ArrivalsPoisson, Requests: 2000, Seed: seed,
				Client: &http.Client{Transport: mt}, OnRequest: c.on,
			})
			require.NoError(t, err)
			for _, m := range c.sorted() {
				out = append(out, m.Intended.Sub(start))
			}
		})
		return out
	}
	a, b, other := run(1), run(1), run(2)
	assert.Equal(t, a, b, "same seed, same arrivals")
	assert.NotEqual(t, a, other)
	// Exponential gaps: mean 1/rate, and the standard deviation equals the
	// mean (coefficient of variation 1), unlike constant spacing.
	var sum, sq float64
	for i := 1; i < len(a); i++ {
		g := (a[i] - a[i-1]).Seconds()
		sum += g
		sq += g * g
	}
	n := float64(len(a) - 1)
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	assert.InDelta(t, 0.02, mean, 0.002)
	assert.InDelta(t, 1.0, sd/mean, 0.1)
}

func TestOpenLoopRampUpAndDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, _ := mock(fake.Config{OutputTokens: 1})
		var c collect
		start := time.Now()
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Rate: 100, RampUp: time.Second, Duration: 3 * time.Second,
			Client: &http.Client{Transport: mt}, OnRequest: c.on,
		})
		require.NoError(t, err)
		// Λ(t) = 100·t²/2 during the 1s ramp (50 arrivals), then 100/s for
		// 2s: Λ(3s) = 250, and the 250th arrival is due at exactly 3s, the
		// end of the run, so 249 arrive within it.
		assert.EqualValues(t, 249, res.Total)
		ms := c.sorted()
		var inRamp int
		for _, m := range ms {
			if m.Intended.Sub(start) <= time.Second {
				inRamp++
			}
		}
		assert.Equal(t, 50, inRamp)
		assert.InDelta(t, math.Sqrt(2.0/100), ms[0].Intended.Sub(start).Seconds(), 1e-6, "first arrival at Λ⁻¹(1)")
	})
}

// flaky wraps the fake: the first failures answers of each request are
// errors built by fail.
func flaky(ok *fake.Responder, failures int, fail func() *http.Response) httpmock.Responder {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(r *http.Request) (*http.Response, error) {
		// Every attempt of one request sends the same body; the body tells
		// requests apart because the scenario's prompts differ.
		body, _ := r.GetBody()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(body)
		key := buf.String()
		mu.Lock()
		seen[key]++
		n := seen[key]
		mu.Unlock()
		if n <= failures {
			return fail(), nil
		}
		return ok.Respond(r)
	}
}

func jsonResponse(status int, body string, header ...string) *http.Response {
	resp := httpmock.NewStringResponse(status, body)
	resp.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		resp.Header.Set(header[i], header[i+1])
	}
	return resp
}

func TestRetries(t *testing.T) {
	rateLimited := func() *http.Response {
		return jsonResponse(429, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "retry-after-ms", "150")
	}
	quota := func() *http.Response {
		return jsonResponse(429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`)
	}
	overloaded := func() *http.Response {
		return jsonResponse(503, `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`)
	}
	longRetryAfter := func() *http.Response {
		return jsonResponse(429, `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`, "Retry-After", "300")
	}
	tests := []struct {
		name      string
		failures  int
		fail      func() *http.Response
		retry     lens.Retry
		class     lens.ErrorClass
		status    string
		attempts  int
		retryWait time.Duration
	}{
		{"429 retried with retry-after-ms", 2, rateLimited, lens.Retry{MaxAttempts: 3}, "", "retried", 3, 300 * time.Millisecond},
		{"429 out of attempts", 3, rateLimited, lens.Retry{MaxAttempts: 3}, lens.ClassRateLimited, "rate_limited", 3, 300 * time.Millisecond},
		{"quota is never retried", 1, quota, lens.Retry{MaxAttempts: 3}, lens.ClassRateLimited, "rate_limited", 1, 0},
		{"503 backs off exponentially", 2, overloaded, lens.Retry{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, Multiplier: 3, Jitter: 1e-9}, "", "retried", 3, 400 * time.Millisecond},
		{"Retry-After capped", 1, longRetryAfter, lens.Retry{MaxAttempts: 2, MaxRetryAfter: 2 * time.Second}, "", "retried", 2, 2 * time.Second},
		{"no retry policy", 1, rateLimited, lens.Retry{}, lens.ClassRateLimited, "rate_limited", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mt := httpmock.NewMockTransport()
				ok := fake.NewResponder(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), OutputTokens: 2})
				mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", flaky(ok, tt.failures, tt.fail))
				var c collect
				res, err := lens.Run(t.Context(), lens.Scenario{
					Provider: openai("http://fake.test"), Model: "m", Requests: 4, Concurrency: 2,
					Prompts: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"}, Seed: 1,
					Retry: tt.retry, Client: &http.Client{Transport: mt}, OnRequest: c.on,
				})
				require.NoError(t, err)
				assert.EqualValues(t, 4, res.Total)
				for _, m := range c.sorted() {
					assert.Equal(t, tt.class, m.Class, "request %d: %v", m.Seq, m.Err)
					assert.Equal(t, tt.status, m.Status())
					assert.Equal(t, tt.attempts, m.Attempts)
					assert.Len(t, m.Retried, tt.attempts-1)
					assert.InDelta(t, float64(tt.retryWait), float64(m.RetryWait), float64(time.Millisecond), "retry wait")
				}
				assert.EqualValues(t, 4*tt.attempts, res.Attempts)
				if tt.attempts > 1 {
					assert.EqualValues(t, 4, res.Retried)
				}
			})
		})
	}
}

// TestNoRetryAfterFirstToken: a stream that fails after output arrived is a
// failure, not a silent second attempt.
func TestNoRetryAfterFirstToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		var calls atomic.Int64
		mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			resp := httpmock.NewStringResponse(200, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"server_error\",\"code\":null}}\n\n")
			resp.Header.Set("Content-Type", "text/event-stream")
			return resp, nil
		})
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 3, Retry: lens.Retry{MaxAttempts: 5},
			Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 3, calls.Load())
		assert.EqualValues(t, 3, res.Failed)
		assert.EqualValues(t, 3, res.Attempts)
	})
}

func TestTimeoutClasses(t *testing.T) {
	tests := []struct {
		name  string
		cfg   fake.Config
		sc    lens.Scenario
		class lens.ErrorClass
		e2e   time.Duration
	}{
		{"first token", fake.Config{TTFT: fake.Fixed(time.Second), OutputTokens: 3},
			lens.Scenario{FirstTokenTimeout: 200 * time.Millisecond, IdleTimeout: 5 * time.Second}, lens.ClassFirstTokenTimeout, 200 * time.Millisecond},
		{"idle between tokens", fake.Config{TTFT: fake.Fixed(50 * time.Millisecond), ITL: fake.Fixed(time.Second), OutputTokens: 3},
			lens.Scenario{FirstTokenTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}, lens.ClassIdleTimeout, 350 * time.Millisecond},
		{"idle before the first token", fake.Config{TTFT: fake.Fixed(time.Second), OutputTokens: 3},
			lens.Scenario{IdleTimeout: 300 * time.Millisecond}, lens.ClassIdleTimeout, 300 * time.Millisecond},
		{"whole request", fake.Config{TTFT: fake.Fixed(50 * time.Millisecond), ITL: fake.Fixed(100 * time.Millisecond), OutputTokens: 10},
			lens.Scenario{IdleTimeout: 150 * time.Millisecond, Timeout: 400 * time.Millisecond}, lens.ClassTimeout, 400 * time.Millisecond},
		{"within every limit", fake.Config{TTFT: fake.Fixed(50 * time.Millisecond), ITL: fake.Fixed(100 * time.Millisecond), OutputTokens: 3},
			lens.Scenario{FirstTokenTimeout: 60 * time.Millisecond, IdleTimeout: 110 * time.Millisecond, Timeout: time.Second}, "", 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mt, _ := mock(tt.cfg)
				var c collect
				sc := tt.sc
				sc.Provider, sc.Model, sc.Requests, sc.Client, sc.OnRequest = openai("http://fake.test"), "m", 2, &http.Client{Transport: mt}, c.on
				res, err := lens.Run(t.Context(), sc)
				require.NoError(t, err)
				for _, m := range c.sorted() {
					assert.Equal(t, tt.class, m.Class, "%v", m.Err)
					assert.Equal(t, tt.e2e, m.E2E)
				}
				if tt.class != "" {
					assert.Equal(t, map[lens.ErrorClass]int64{tt.class: 2}, res.Errors)
				}
			})
		})
	}
}

func TestLimiterAndGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, _ := mock(fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 1})
		// 10 requests/s shared by two scenarios that run at once, each
		// wanting to go as fast as it can with 4 workers, while a gate of 3
		// caps them together.
		lim := lens.NewLimiter(10, 0)
		gate := lens.NewGate(3)
		var inFlight, peak atomic.Int64
		counting := httpmock.NewMockTransport()
		counting.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			defer inFlight.Add(-1)
			time.Sleep(50 * time.Millisecond)
			return mt.RoundTrip(r)
		})
		start := time.Now()
		var wg sync.WaitGroup
		results := make([]*lens.Result, 2)
		for i := range results {
			wg.Go(func() {
				res, err := lens.Run(t.Context(), lens.Scenario{
					Provider: openai("http://fake.test"), Model: "m", Requests: 10, Concurrency: 4,
					Limiter: lim, Gate: gate, Client: &http.Client{Transport: counting},
				})
				assert.NoError(t, err)
				results[i] = res
			})
		}
		wg.Wait()
		// 20 requests at 10/s with burst 1: the last one is sent at 1.9s.
		assert.GreaterOrEqual(t, time.Since(start), 1900*time.Millisecond)
		assert.LessOrEqual(t, peak.Load(), int64(3))
		for _, r := range results {
			assert.EqualValues(t, 10, r.Succeeded)
			assert.Greater(t, r.QueueDelay.Max(), 500*time.Millisecond, "waiting on the limiter is queue delay")
		}
	})
}

func TestTokenLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, _ := mock(fake.Config{OutputTokens: 1})
		// Each request counts 1 + 99 = 100 tokens (a 0-character prompt and
		// MaxTokens 99): 6000 tokens/min is 1 request/s after the first
		// minute's burst of 60.
		start := time.Now()
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", MaxTokens: 99, Requests: 65,
			Limiter: lens.NewLimiter(0, 6000), Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 65, res.Succeeded)
		assert.Equal(t, 5*time.Second, time.Since(start).Round(time.Second))
	})
}

func TestPromptsAndLengths(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, fr := mock(fake.Config{OutputTokens: 50, Record: true})
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 200, Seed: 42,
			PromptTokens: lens.UniformDist(100, 300), MaxTokensDist: lens.FixedDist(7),
			Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 200, res.Succeeded)
		assert.EqualValues(t, 7*200, res.OutputTokensTotal, "max tokens from the distribution")
		lo, hi := math.MaxInt, 0
		for _, r := range fr.Records() {
			lo, hi = min(lo, r.PromptTokens), max(hi, r.PromptTokens)
			assert.Equal(t, "length", r.FinishReason)
		}
		// A synthetic prompt of n tokens is 4n characters: exactly n at the
		// fake's 4 characters per token, so the counts stay within the
		// distribution's 100..300 and cover it.
		assert.GreaterOrEqual(t, lo, 100)
		assert.Less(t, lo, 110)
		assert.LessOrEqual(t, hi, 300)
		assert.Greater(t, hi, 290)

		mt2, fr2 := mock(fake.Config{OutputTokens: 1, Record: true})
		_, err = lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 300, Seed: 1,
			Prompts: []string{"short", "a medium sized prompt", "a prompt that is quite a bit longer than the others"},
			Client:  &http.Client{Transport: mt2},
		})
		require.NoError(t, err)
		counts := map[int]int{}
		for _, r := range fr2.Records() {
			counts[r.PromptTokens]++
		}
		require.Len(t, counts, 3)
		for k, n := range counts {
			assert.InDelta(t, 100, n, 35, "prompt of %d tokens", k)
		}
	})
}

func TestDebugLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		ok := fake.NewResponder(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), OutputTokens: 2})
		mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions",
			flaky(ok, 1, func() *http.Response {
				return jsonResponse(500, `{"error":{"message":"boom","type":"server_error"}}`)
			}))
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		_, err := lens.Run(t.Context(), lens.Scenario{
			Name: "logged", Provider: openai("http://fake.test"), Model: "m", Requests: 1,
			Retry: lens.Retry{MaxAttempts: 2, InitialBackoff: time.Millisecond}, Logger: logger,
			Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		out := buf.String()
		for _, want := range []string{"request scheduled", "request sent", "request retried", "class=http_5xx", "first token", "request done", "scenario=logged", "attempts=2"} {
			assert.Contains(t, out, want)
		}
		assert.NotContains(t, out, "sk-test-secret-key")

		// Off by default, and silent above debug.
		buf.Reset()
		quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		_, err = lens.Run(t.Context(), lens.Scenario{Provider: openai("http://fake.test"), Model: "m", Requests: 2, Logger: quiet, Client: &http.Client{Transport: mt}})
		require.NoError(t, err)
		assert.Empty(t, buf.String())
	})
}

func TestGoodput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, _ := mock(fake.Config{TTFT: fake.Uniform(0, 200*time.Millisecond), OutputTokens: 2, Seed: 5})
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 1000, Concurrency: 10,
			SLO: lens.SLO{TTFT: 100 * time.Millisecond}, Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		assert.InDelta(t, 0.5, res.Goodput(), 0.05)
		assert.Less(t, res.Good, res.Succeeded)
	})
}
