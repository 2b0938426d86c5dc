package tracing_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/tracing"
)

// receiver is an OTLP/HTTP trace receiver: it decodes each export as the
// official OTLP protobuf and keeps its spans and request headers.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
	headers  []http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("receiver: %s %s (%s)", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
			http.Error(w, "not a trace export", http.StatusNotFound)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ex coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &ex); err != nil {
			t.Errorf("receiver: decode export: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		for _, rs := range ex.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					r.services = append(r.services, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				r.spans = append(r.spans, ss.GetSpans()...)
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

// runTraced runs 8 requests (one retried) against the fake with spans
// exported by a provider from opts, and returns the run's metrics by Seq.
func runTraced(t *testing.T, opts tracing.Options) map[int64]lens.RequestMetrics {
	srv := fake.NewServer(fake.Config{OutputTokens: 5, FaultFunc: func(seq uint64) fake.Fault {
		if seq == 0 {
			return fake.FaultUnavailable
		}
		return fake.NoFault
	}})
	defer srv.Close()
	tp, err := tracing.NewProvider(t.Context(), opts)
	require.NoError(t, err)
	got := &measured{reqs: map[int64]lens.RequestMetrics{}}
	sc := lens.Scenario{
		Name:      "otlp",
		Provider:  &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test"},
		Model:     "m",
		Requests:  8,
		Retry:     lens.Retry{MaxAttempts: 2, InitialBackoff: time.Millisecond},
		OnRequest: got.hook,
	}
	tracing.Instrument(&sc, tp)
	_, err = lens.Run(t.Context(), sc)
	require.NoError(t, err)
	require.NoError(t, tp.Shutdown(t.Context()), "shutdown exports what is buffered")
	return got.reqs
}

// checkArrived: the receiver holds one request span per request, with the
// engine's stamps as its times, and the retried request's two attempts.
func checkArrived(t *testing.T, r *receiver, reqs map[int64]lens.RequestMetrics, service string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.spans, 8+2, "8 request spans and the retried one's 2 attempts")
	assert.Contains(t, r.services, service)
	requests := 0
	for _, s := range r.spans {
		if len(s.GetParentSpanId()) != 0 {
			assert.Equal(t, tracing.SpanAttempt, s.GetName())
			continue
		}
		requests++
		var seq int64 = -1
		for _, kv := range s.GetAttributes() {
			if kv.GetKey() == "lens.seq" {
				seq = kv.GetValue().GetIntValue()
			}
		}
		m, ok := reqs[seq]
		require.True(t, ok, "span of unknown request %d", seq)
		assert.Equal(t, tracepb.Span_SPAN_KIND_CLIENT, s.GetKind())
		assert.Equal(t, uint64(m.Start.Add(m.E2E).UnixNano()), s.GetEndTimeUnixNano())
		for _, ev := range s.GetEvents() {
			if ev.GetName() == tracing.EventFirstToken {
				assert.Equal(t, uint64(m.Start.Add(m.TTFT).UnixNano()), ev.GetTimeUnixNano(), "request %d first token", seq)
			}
		}
	}
	assert.Equal(t, 8, requests)
}

// TestOTLPExportOptions: with an endpoint in Options, the spans arrive
// over OTLP/HTTP, decoded as the official protobuf, with the configured
// headers.
func TestOTLPExportOptions(t *testing.T) {
	r := newReceiver(t)
	reqs := runTraced(t, tracing.Options{Endpoint: r.URL, Headers: map[string]string{"x-honeycomb-team": "secret"}, ServiceName: "bench"})
	checkArrived(t, r, reqs, "bench")
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.headers)
	assert.Equal(t, "secret", r.headers[0].Get("X-Honeycomb-Team"))
}

// TestOTLPExportEnvironment: with only the standard environment variables,
// the spans arrive the same way.
func TestOTLPExportEnvironment(t *testing.T) {
	r := newReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20tok")
	t.Setenv("OTEL_SERVICE_NAME", "from-env")
	require.True(t, tracing.EnvConfigured())
	reqs := runTraced(t, tracing.Options{})
	checkArrived(t, r, reqs, "from-env")
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(t, "Bearer tok", r.headers[0].Get("Authorization"))
}

// TestEnvConfigured: only an endpoint variable turns tracing on, and
// OTEL_TRACES_EXPORTER=none turns it off.
func TestEnvConfigured(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	assert.False(t, tracing.EnvConfigured())
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")
	assert.True(t, tracing.EnvConfigured())
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	assert.False(t, tracing.EnvConfigured())
}

// TestNewProviderBadEndpoint: an endpoint that is not an HTTP URL is
// refused, and a password in it is not repeated.
func TestNewProviderBadEndpoint(t *testing.T) {
	for _, ep := range []string{"localhost:4318", "ftp://user:hunter2@host/", "http://"} {
		_, err := tracing.NewProvider(t.Context(), tracing.Options{Endpoint: ep})
		require.Error(t, err, ep)
		assert.NotContains(t, err.Error(), "hunter2")
	}
}
