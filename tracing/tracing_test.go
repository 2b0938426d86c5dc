package tracing_test

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// measured keeps a copy of every finished request's metrics, by Seq.
type measured struct {
	mu   sync.Mutex
	reqs map[int64]lens.RequestMetrics
}

func (c *measured) hook(m *lens.RequestMetrics) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *m
	cp.ITLs, cp.Retried = nil, slices.Clone(m.Retried)
	c.reqs[m.Seq] = cp
}

// attrs returns a span's attributes as a map.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value
	}
	return out
}

// localhost rewrites the fake's 127.0.0.1 URL to localhost, so that the
// client resolves a name and the trace has DNS phases.
func localhost(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.Host = "localhost:" + u.Port()
	return u.String()
}

// TestSpanPerRequest: every request of a run, warmup included, is one span
// whose phase events sit exactly at the engine's stamps, in order, with the
// scenario, provider, model, attempt and token counts as attributes.
func TestSpanPerRequest(t *testing.T) {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(3 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 6})
	defer srv.Close()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { require.NoError(t, tp.Shutdown(t.Context())) }()

	got := &measured{reqs: map[int64]lens.RequestMetrics{}}
	sc := lens.Scenario{
		Name:        "chat",
		Provider:    &providers.OpenAI{BaseURL: localhost(t, srv.URL) + "/v1", APIKey: "sk-test"},
		Model:       "gpt-4o-mini",
		Prompt:      "hi",
		Requests:    30,
		Warmup:      2,
		Concurrency: 3,
		HTTP:        lens.HTTPOptions{DisableKeepAlives: true}, // every request dials: DNS and connect phases
		OnRequest:   got.hook,
	}
	tracing.Instrument(&sc, tp)
	res, err := lens.Run(t.Context(), sc)
	require.NoError(t, err)
	require.Equal(t, int64(30), res.Succeeded)

	spans := sr.Ended()
	require.Len(t, spans, 32, "one span per request, warmup included")
	seen := map[int64]bool{}
	for _, s := range spans {
		a := attrs(s.Attributes())
		seq := a["lens.seq"].AsInt64()
		require.False(t, seen[seq], "request %d has two spans", seq)
		seen[seq] = true
		m, ok := got.reqs[seq]
		require.True(t, ok, "span for unknown request %d", seq)
		assert.Equal(t, "chat gpt-4o-mini", s.Name())
		assert.Equal(t, "chat", a["lens.scenario"].AsString())
		assert.Equal(t, "openai", a["gen_ai.provider.name"].AsString())
		assert.Equal(t, "gpt-4o-mini", a["gen_ai.request.model"].AsString())
		assert.Equal(t, int64(1), a["lens.attempts"].AsInt64())
		assert.Equal(t, int64(6), a["gen_ai.usage.output_tokens"].AsInt64())
		assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
		assert.Equal(t, m.Warmup, a["lens.warmup"].AsBool())
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.False(t, s.Parent().IsValid(), "a request span has no parent")

		want := []struct {
			name string
			at   time.Time
		}{
			{tracing.EventSend, m.Start},
			{tracing.EventDNSStart, m.Start.Add(m.DNSStart)},
			{tracing.EventDNSDone, m.Start.Add(m.DNSStart + m.DNS)},
			{tracing.EventConnectStart, m.Start.Add(m.ConnectStart)},
			{tracing.EventConnectDone, m.Start.Add(m.ConnectStart + m.Connect)},
			{tracing.EventRequestWritten, m.Start.Add(m.Wrote)},
			{tracing.EventFirstByte, m.Start.Add(m.TTFB)},
			{tracing.EventFirstToken, m.Start.Add(m.TTFT)},
			{tracing.EventEnd, m.Start.Add(m.E2E)},
		}
		require.True(t, m.DNS >= 0 && m.Connect >= 0, "request %d: no DNS or connect phase measured", seq)
		evs := s.Events()
		require.Len(t, evs, len(want), "request %d events: %v", seq, evs)
		for i, w := range want {
			assert.Equal(t, w.name, evs[i].Name, "request %d event %d", seq, i)
			assert.True(t, evs[i].Time.Equal(w.at), "request %d %s at %v, measured %v", seq, w.name, evs[i].Time, w.at)
			if i > 0 {
				assert.False(t, evs[i].Time.Before(evs[i-1].Time), "request %d: %s before %s", seq, w.name, evs[i-1].Name)
			}
		}
		assert.True(t, s.StartTime().Equal(m.Intended), "span starts at the intended send")
		assert.True(t, s.EndTime().Equal(m.Start.Add(m.E2E)), "span ends at the end of the response")
	}
}

// TestRetriedRequestHasAttemptChildren: a request retried after a 500 is
// one span with one child span per attempt; the first child is failed with
// its class, the last succeeded, and each carries its own stamps.
func TestRetriedRequestHasAttemptChildren(t *testing.T) {
	// Every other request the fake handles fails with a 500: the first
	// attempt of each request fails, its retry succeeds.
	srv := fake.NewServer(fake.Config{OutputTokens: 4, FaultFunc: func(seq uint64) fake.Fault {
		if seq%2 == 0 {
			return fake.FaultServerError
		}
		return fake.NoFault
	}})
	defer srv.Close()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { require.NoError(t, tp.Shutdown(t.Context())) }()

	var mu sync.Mutex
	attempts := map[int64][]lens.RequestMetrics{}
	sc := lens.Scenario{
		Name:     "retry",
		Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test"},
		Model:    "m",
		Requests: 5,
		Retry:    lens.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond},
		OnAttempt: func(m *lens.RequestMetrics) {
			mu.Lock()
			defer mu.Unlock()
			cp := *m
			cp.ITLs, cp.Retried = nil, nil
			attempts[m.Seq] = append(attempts[m.Seq], cp)
		},
	}
	tracing.Instrument(&sc, tp)
	res, err := lens.Run(t.Context(), sc)
	require.NoError(t, err)
	require.Equal(t, int64(5), res.Succeeded)

	spans := sr.Ended()
	var parents []sdktrace.ReadOnlySpan
	children := map[[8]byte][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.Parent().IsValid() {
			children[s.Parent().SpanID()] = append(children[s.Parent().SpanID()], s)
		} else {
			parents = append(parents, s)
		}
	}
	require.Len(t, parents, 5)
	require.Len(t, spans, 15, "5 request spans and 2 attempt spans each")
	for _, p := range parents {
		seq := attrs(p.Attributes())["lens.seq"].AsInt64()
		kids := children[p.SpanContext().SpanID()]
		require.Len(t, kids, 2, "request %d", seq)
		slices.SortFunc(kids, func(a, b sdktrace.ReadOnlySpan) int {
			return int(attrs(a.Attributes())["lens.attempt"].AsInt64() - attrs(b.Attributes())["lens.attempt"].AsInt64())
		})
		for i, k := range kids {
			m := attempts[seq][i]
			assert.Equal(t, tracing.SpanAttempt, k.Name())
			assert.Equal(t, p.SpanContext().TraceID(), k.SpanContext().TraceID())
			assert.Equal(t, int64(i+1), attrs(k.Attributes())["lens.attempt"].AsInt64())
			assert.True(t, k.StartTime().Equal(m.Start), "attempt %d starts at its t0", i+1)
			assert.True(t, k.EndTime().Equal(m.Start.Add(m.E2E)), "attempt %d ends at its end", i+1)
			assert.False(t, k.StartTime().Before(p.StartTime()), "attempt inside its request")
			assert.False(t, k.EndTime().After(p.EndTime()), "attempt inside its request")
		}
		assert.Equal(t, codes.Error, kids[0].Status().Code)
		assert.Equal(t, "http_5xx", attrs(kids[0].Attributes())["error.type"].AsString())
		assert.True(t, strings.HasPrefix(kids[0].Status().Description, "http_5xx"), kids[0].Status().Description)
		assert.Equal(t, codes.Unset, kids[1].Status().Code)
		assert.Equal(t, int64(2), attrs(p.Attributes())["lens.attempts"].AsInt64())
		assert.Equal(t, codes.Unset, p.Status().Code, "the request succeeded in the end")
		assert.True(t, kids[1].StartTime().After(kids[0].EndTime()), "the retry follows the failed attempt")
	}
}

// TestFailedRequestSpan: a request that fails without retry has status
// Error, its class as error.type, and no first-token event.
func TestFailedRequestSpan(t *testing.T) {
	srv := fake.NewServer(fake.Config{FaultFunc: func(uint64) fake.Fault { return fake.FaultRateLimit }})
	defer srv.Close()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer func() { require.NoError(t, tp.Shutdown(t.Context())) }()
	sc := lens.Scenario{Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-secret-key"}, Model: "m", Requests: 2}
	tracing.Instrument(&sc, tp)
	_, err := lens.Run(t.Context(), sc)
	require.NoError(t, err)
	spans := sr.Ended()
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.Equal(t, codes.Error, s.Status().Code)
		assert.Equal(t, "rate_limited", attrs(s.Attributes())["error.type"].AsString())
		for _, ev := range s.Events() {
			assert.NotEqual(t, tracing.EventFirstToken, ev.Name)
		}
		assert.NotContains(t, s.Status().Description, "sk-secret-key")
	}
}
