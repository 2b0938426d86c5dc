package tracing_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/cputime"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/tracing"
)

// benchRequests is the number of requests of each run of
// BenchmarkTracingOverhead.
const benchRequests = 1000

// BenchmarkTracingOverhead measures, within one run, what tracing costs
// the engine's path, on and off. One op is one round of three runs of
// benchRequests requests each, one worker, against an in-process fake that
// answers at once (no sockets, no waiting: the engine's own work is most
// of what is measured):
//
//   - off: the Scenario as lens-report runs it without tracing, no hooks;
//   - hooks: OnSend, OnAttempt and OnRequest set to empty functions,
//     strictly more work than off's nil checks: what a hook point costs;
//   - on: tracing.Instrument with the SDK's batching span processor and an
//     exporter that drops the spans, from the provider's start to its
//     shutdown.
//
// The order of the three rotates from round to round, and a garbage
// collection precedes each run, so that the machine's load and the heap
// fall on each alike. It reports, per request and for each variant, the
// wall time (ns/req), the process's CPU time (cpu-ns/req, Unix only),
// which the load of other processes moves far less, and the allocations
// (allocs/req, which no load moves); and the median over the rounds of
// each round's CPU-time ratios hooks/off and on/off.
func BenchmarkTracingOverhead(b *testing.B) {
	base := lens.Scenario{
		Provider: &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "k"}, Model: "m", Prompt: "hi",
		Concurrency: 1, Requests: benchRequests,
		Client: &http.Client{Transport: fake.NewResponder(fake.Config{OutputTokens: 16})},
	}
	nop := func(*lens.RequestMetrics) {}
	variants := []struct {
		name string
		run  func() error
	}{
		{"off", func() error { return runChecked(base) }},
		{"hooks", func() error {
			sc := base
			sc.OnSend, sc.OnAttempt, sc.OnRequest = nop, nop, nop
			return runChecked(sc)
		}},
		{"on", func() error {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			sc := base
			tracing.Instrument(&sc, tp)
			err := runChecked(sc)
			if serr := tp.Shutdown(context.Background()); err == nil {
				err = serr
			}
			return err
		}},
	}
	// Warm the client's and the runtime's caches before measuring.
	for _, v := range variants {
		if err := v.run(); err != nil {
			b.Fatal(err)
		}
	}

	type total struct {
		wall, cpu time.Duration
		allocs    uint64
	}
	totals := make([]total, len(variants))
	var hooksRatio, onRatio []float64
	var ms runtime.MemStats
	b.ResetTimer()
	for round := range b.N {
		cpu := make([]time.Duration, len(variants))
		for k := range variants {
			i := (round + k) % len(variants)
			runtime.GC()
			runtime.ReadMemStats(&ms)
			allocs0, cpu0, wall0 := ms.Mallocs, cputime.Process(), time.Now()
			if err := variants[i].run(); err != nil {
				b.Fatalf("%s: %v", variants[i].name, err)
			}
			wall, c := time.Since(wall0), cputime.Process()-cpu0
			runtime.ReadMemStats(&ms)
			totals[i].wall += wall
			totals[i].cpu += c
			totals[i].allocs += ms.Mallocs - allocs0
			cpu[i] = c
		}
		if cpu[0] > 0 {
			hooksRatio = append(hooksRatio, float64(cpu[1])/float64(cpu[0]))
			onRatio = append(onRatio, float64(cpu[2])/float64(cpu[0]))
		}
	}
	b.StopTimer()
	n := float64(b.N * benchRequests)
	for i, v := range variants {
		b.ReportMetric(float64(totals[i].wall.Nanoseconds())/n, v.name+"-ns/req")
		b.ReportMetric(float64(totals[i].allocs)/n, v.name+"-allocs/req")
		if totals[i].cpu > 0 {
			b.ReportMetric(float64(totals[i].cpu.Nanoseconds())/n, v.name+"-cpu-ns/req")
		}
	}
	if len(onRatio) > 0 {
		b.ReportMetric(median(hooksRatio), "hooks/off")
		b.ReportMetric(median(onRatio), "on/off")
	}
}

// runChecked runs sc and fails when a request failed.
func runChecked(sc lens.Scenario) error {
	res, err := lens.Run(context.Background(), sc)
	if err == nil && res.Failed > 0 {
		err = fmt.Errorf("%d of %d requests failed", res.Failed, res.Total)
	}
	return err
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
