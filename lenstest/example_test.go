package lenstest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/providers"
)

// A benchmark that measures a chat scenario against the fake server and
// holds it to its SLOs. In a _test.go file it is
//
//	func BenchmarkChat(b *testing.B) {
//		res := lenstest.Bench(b, sc)
//		res.AssertP95TTFT(500 * time.Millisecond)
//		res.AssertErrorRate(0.01)
//	}
//
// and go test -bench Chat -benchtime 200x runs 200 requests; here
// testing.Benchmark stands in for go test -bench. Before the first
// benchmark line Bench prints the direction of each unit, for benchstat.
func ExampleBench() {
	srv := fake.NewServer(fake.Config{
		TTFT:         fake.Fixed(2 * time.Millisecond),
		ITL:          fake.Fixed(100 * time.Microsecond),
		OutputTokens: 8,
	})
	defer srv.Close()
	sc := lens.Scenario{
		Name:     "chat",
		Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "test-key"},
		Model:    "gpt-4o-mini",
		Prompt:   "Say hello.",
	}
	met := true
	testing.Benchmark(func(b *testing.B) {
		res := lenstest.Bench(b, sc)
		met = met && res.AssertP95TTFT(500*time.Millisecond) && res.AssertErrorRate(0.01)
	})
	fmt.Println("SLOs met:", met)
	// Output:
	// Unit ttft-p50-ns better=lower
	// Unit ttft-p90-ns better=lower
	// Unit ttft-p95-ns better=lower
	// Unit ttft-p99-ns better=lower
	// Unit itl-p50-ns better=lower
	// Unit itl-p99-ns better=lower
	// Unit tpot-p50-ns better=lower
	// Unit tpot-p99-ns better=lower
	// Unit e2e-p50-ns better=lower
	// Unit e2e-p95-ns better=lower
	// Unit e2e-p99-ns better=lower
	// Unit ttfb-p50-ns better=lower
	// Unit tokens/s better=higher
	// Unit errors better=lower
	// SLOs met: true
}
