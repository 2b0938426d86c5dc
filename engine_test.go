package lens_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

func TestMain(m *testing.M) {
	if os.Getenv("LENS_FAKE_CHILD") != "" {
		serveFakeChild()
		return
	}
	goleak.VerifyTestMain(m)
}

func openai(url string) providers.Provider {
	return &providers.OpenAI{BaseURL: url + "/v1", APIKey: "sk-test-secret-key"}
}

func TestRunValidation(t *testing.T) {
	_, err := lens.Run(context.Background(), lens.Scenario{Name: "bad", Requests: -1, Concurrency: -2, Timeout: -time.Second})
	require.Error(t, err)
	for _, want := range []string{"scenario bad", "Provider: required", "Model: required", "Requests: must be > 0 (or 0 with Duration set), got -1",
		"Concurrency: must be >= 0, got -2", "Timeout: must be >= 0"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = lens.Run(context.Background(), lens.Scenario{Provider: openai("http://x"), Model: "m"})
	require.ErrorContains(t, err, "Requests: must be > 0, or Duration set")
}

// TestValidateFieldErrors: Validate names every bad field of a scenario,
// one FieldError each, in the Scenario's own field names.
func TestValidateFieldErrors(t *testing.T) {
	temp := -0.5
	sc := lens.Scenario{Name: "bad", Provider: openai("http://x"), Model: "m", Requests: 10, Duration: time.Second,
		Arrivals: lens.ArrivalsPoisson, Temperature: &temp, SLO: lens.SLO{TTFT: -time.Millisecond},
		Retry:   lens.Retry{InitialBackoff: time.Second, MaxBackoff: time.Millisecond, Multiplier: 0.5, Jitter: 2},
		HTTP:    lens.HTTPOptions{PoolSize: -1},
		Prompts: []string{"a", ""}}
	err := sc.Validate()
	var se *lens.ScenarioError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "bad", se.Scenario)
	var fields []string
	for _, p := range se.Problems {
		fields = append(fields, p.Field)
	}
	assert.Equal(t, []string{"Duration", "Arrivals", "Temperature", "SLO.TTFT", "Retry.MaxBackoff", "Retry.Multiplier",
		"Retry.Jitter", "HTTP.PoolSize", "Prompts[1]"}, fields)
	assert.Contains(t, err.Error(), "lens: scenario bad: Duration: set Requests or Duration, not both\nArrivals: needs a Rate")
	sc = lens.Scenario{Provider: openai("http://x"), Model: "m", Requests: 1}
	assert.NoError(t, sc.Validate())
}

// TestRunAccounting: every started request ends in exactly one counted
// outcome, by class, whatever the server does.
func TestRunAccounting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		ok := fake.NewResponder(fake.Config{TTFT: fake.Fixed(5 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 4})
		var n atomic.Int64
		mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", func(r *http.Request) (*http.Response, error) {
			switch n.Add(1) % 8 {
			case 1:
				resp := httpmock.NewStringResponse(http.StatusTooManyRequests, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
				resp.Header.Set("Content-Type", "application/json")
				resp.Header.Set("Retry-After", "2")
				return resp, nil
			case 2:
				resp := httpmock.NewStringResponse(http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided: sk-te****","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
				resp.Header.Set("Content-Type", "application/json")
				return resp, nil
			case 3:
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
			case 4:
				resp := httpmock.NewStringResponse(http.StatusOK, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n")
				resp.Header.Set("Content-Type", "text/event-stream")
				return resp, nil
			case 5:
				resp := httpmock.NewStringResponse(http.StatusOK, "data: {not json}\n\n")
				resp.Header.Set("Content-Type", "text/event-stream")
				return resp, nil
			}
			return ok.Respond(r)
		})
		var outcomes sync.Map
		res, err := lens.Run(t.Context(), lens.Scenario{
			Name: "faults", Provider: openai("http://fake.test"), Model: "m", Prompt: "hi",
			Requests: 80, Concurrency: 4, Client: &http.Client{Transport: mt},
			OnRequest: func(m *lens.RequestMetrics) {
				_, dup := outcomes.LoadOrStore(m.Seq, m.Class)
				assert.False(t, dup, "request %d reported twice", m.Seq)
				assert.NotContains(t, fmt.Sprint(m.Err), "sk-test-secret-key")
			},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 80, res.Total)
		assert.EqualValues(t, 30, res.Succeeded)
		assert.EqualValues(t, 50, res.Failed)
		assert.Equal(t, map[lens.ErrorClass]int64{
			lens.ClassRateLimited: 10, lens.ClassHTTP4xx: 10, lens.ClassConnection: 10,
			lens.ClassStream: 10, lens.ClassDecode: 10,
		}, res.Errors)
		assert.Contains(t, res.ErrorSamples[lens.ClassRateLimited], "Rate limit reached")
		assert.Contains(t, res.ErrorSamples[lens.ClassStream], "The server had an error")
		var sum int64
		for _, v := range res.Errors {
			sum += v
		}
		assert.Equal(t, res.Failed, sum)
		assert.EqualValues(t, 30, res.TTFT.Count(), "latencies hold successful requests only")
	})
}

// TestRunTimeout: a stalled stream ends as a timeout at Timeout.
func TestRunTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		fake.NewResponder(fake.Config{TTFT: fake.Fixed(time.Hour), OutputTokens: 2}).Register(mt, "http://fake.test")
		var e2e []time.Duration
		var mu sync.Mutex
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 3, Timeout: 250 * time.Millisecond,
			Client: &http.Client{Transport: mt},
			OnRequest: func(m *lens.RequestMetrics) {
				mu.Lock()
				defer mu.Unlock()
				e2e = append(e2e, m.E2E)
			},
		})
		require.NoError(t, err)
		assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassTimeout: 3}, res.Errors)
		assert.Equal(t, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}, e2e)
	})
}

// TestRunCanceled: canceling mid-run returns what was measured, and the
// requests in flight are counted as canceled.
func TestRunCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		fake.NewResponder(fake.Config{TTFT: fake.Fixed(100 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond), OutputTokens: 10}).Register(mt, "http://fake.test")
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1050*time.Millisecond, cancel) // each request takes 190ms: 5 done per worker, the 6th in flight
		res, err := lens.Run(ctx, lens.Scenario{
			Name: "interrupted", Provider: openai("http://fake.test"), Model: "m", Requests: 1000, Concurrency: 4,
			Client: &http.Client{Transport: mt},
		})
		require.ErrorIs(t, err, context.Canceled)
		require.NotNil(t, res)
		assert.Contains(t, err.Error(), "interrupted after 24 requests")
		assert.EqualValues(t, 24, res.Total)
		assert.EqualValues(t, 20, res.Succeeded)
		assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassCanceled: 4}, res.Errors)
	})
}

// TestRunDuration: a Duration-bounded run starts no request after the
// deadline and counts the ones in flight.
func TestRunDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		fake.NewResponder(fake.Config{TTFT: fake.Fixed(30 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond), OutputTokens: 3}).Register(mt, "http://fake.test")
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Duration: time.Second, Concurrency: 2, Warmup: 3,
			Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		// 50ms per request: 20 per worker start before 1s, the last ends at 1s.
		assert.EqualValues(t, 40, res.Total)
		assert.Equal(t, time.Second, res.Elapsed)
		assert.InDelta(t, 40, res.RequestsPerSecond(), 1e-9)
	})
}

// TestRunPhasesOnLoopback: a real connection reports connect time and
// TTFB; pooled connections are reused (no connect time) afterwards.
func TestRunPhasesOnLoopback(t *testing.T) {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), ITL: fake.Fixed(2 * time.Millisecond), OutputTokens: 5})
	defer srv.Close()
	var reused, fresh atomic.Int64
	res, err := lens.Run(t.Context(), lens.Scenario{
		Provider: openai(srv.URL), Model: "m", Requests: 20, Concurrency: 2,
		OnRequest: func(m *lens.RequestMetrics) {
			if m.Reused {
				reused.Add(1)
				assert.Equal(t, lens.Absent, m.Connect)
			} else {
				fresh.Add(1)
				assert.Greater(t, m.Connect, time.Duration(0))
			}
			assert.Greater(t, m.TTFB, time.Duration(0))
			assert.Less(t, m.TTFB, m.TTFT, "the role chunk comes with the headers, the first token 20ms later")
			assert.GreaterOrEqual(t, m.TTFT, 20*time.Millisecond)
		},
	})
	require.NoError(t, err)
	assert.EqualValues(t, 20, res.Succeeded)
	assert.EqualValues(t, 2, fresh.Load(), "one connection per worker")
	assert.EqualValues(t, 18, reused.Load())
	assert.EqualValues(t, 2, res.Connect.Count())
	assert.Zero(t, res.DNS.Count(), "no DNS for an IP literal")
}

// TestRunConnectionErrors: refused connections and a server that drops the
// stream mid-way are connection errors, counted.
func TestRunConnectionErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	res, err := lens.Run(t.Context(), lens.Scenario{Provider: openai("http://" + addr), Model: "m", Requests: 3})
	require.NoError(t, err)
	assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassConnection: 3}, res.Errors)

	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	defer drop.Close()
	res, err = lens.Run(t.Context(), lens.Scenario{Provider: openai(drop.URL), Model: "m", Requests: 3})
	require.NoError(t, err)
	assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassConnection: 3}, res.Errors, "%v", res.ErrorSamples)
}

// TestRunHTMLErrorPage: a proxy's HTML page instead of the API's JSON is a
// decode error with the content type in the message.
func TestRunHTMLErrorPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to nginx</body></html>"))
	}))
	defer srv.Close()
	res, err := lens.Run(t.Context(), lens.Scenario{Provider: openai(srv.URL), Model: "m", Requests: 2})
	require.NoError(t, err)
	assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassDecode: 2}, res.Errors)
	assert.Contains(t, strings.ToLower(res.ErrorSamples[lens.ClassDecode]), "text/html")
}

// BenchmarkRun measures the engine itself against the fake with no
// latency: requests per second and allocations per request, streaming 16
// tokens each.
func BenchmarkRun(b *testing.B) {
	for _, stream := range []bool{true, false} {
		name := "stream"
		if !stream {
			name = "nostream"
		}
		b.Run(name, func(b *testing.B) {
			srv := fake.NewServer(fake.Config{OutputTokens: 16})
			defer srv.Close()
			sc := lens.Scenario{Provider: openai(srv.URL), Model: "m", Prompt: "hi", Concurrency: 16, NoStream: !stream, Warmup: 32}
			sc.Client = lens.NewClient(sc)
			defer sc.Client.CloseIdleConnections()
			b.ReportAllocs()
			b.ResetTimer()
			sc.Requests = b.N
			res, err := lens.Run(context.Background(), sc)
			if err != nil {
				b.Fatal(err)
			}
			if res.Failed > 0 {
				b.Fatalf("%d failed: %v", res.Failed, res.ErrorSamples)
			}
			b.ReportMetric(res.RequestsPerSecond(), "req/s")
		})
	}
}
