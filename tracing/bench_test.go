package tracing_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/tracing"
)

// BenchmarkTracingOverhead measures, in one run, the engine's request rate
// against a loopback fake without tracing (off) and with every request
// traced through the SDK's batching processor (on), alternating 2,000-
// request runs of each so that the machine's load falls on both alike.
// It reports both rates and on/off, their ratio. Tracing off is the
// engine with its hooks unset: two nil checks per request.
func BenchmarkTracingOverhead(b *testing.B) {
	srv := fake.NewServer(fake.Config{OutputTokens: 16})
	defer srv.Close()
	base := lens.Scenario{Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "k"}, Model: "m", Prompt: "hi", Concurrency: 16, Requests: 2000, Warmup: 32}
	base.Client = lens.NewClient(base)
	defer base.Client.CloseIdleConnections()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	var off, on time.Duration
	var n int64
	b.ReportAllocs()
	for range b.N {
		for _, traced := range []bool{false, true} {
			sc := base
			if traced {
				tracing.Instrument(&sc, tp)
			}
			start := time.Now()
			res, err := lens.Run(context.Background(), sc)
			if err != nil || res.Failed > 0 {
				b.Fatalf("run: %v, %d failed", err, res.Failed)
			}
			if traced {
				on += time.Since(start)
			} else {
				off += time.Since(start)
			}
		}
		n += 2000
	}
	b.ReportMetric(float64(n)/off.Seconds(), "off-req/s")
	b.ReportMetric(float64(n)/on.Seconds(), "on-req/s")
	b.ReportMetric(off.Seconds()/on.Seconds(), "on/off")
}
