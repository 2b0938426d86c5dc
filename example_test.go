package lens_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/providers"
)

// Run a scenario against the built-in fake: 40 streamed requests, four at a
// time, against a server that answers its first token after 60ms and then
// one token every 5ms.
func Example() {
	srv := fake.NewServer(fake.Config{
		TTFT:         fake.Fixed(60 * time.Millisecond),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 10,
	})
	defer srv.Close()

	res, err := lens.Run(context.Background(), lens.Scenario{
		Name:        "quickstart",
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Requests:    40,
		Concurrency: 4,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests:", res.Total, "failed:", res.Failed)
	fmt.Printf("output tokens per request: %.0f\n", res.OutputTokens.Percentile(50))
	fmt.Println("ITL samples:", res.ITL.Count())
	// Real sockets: a busy machine only adds delay, so print what holds on
	// any machine rather than the exact numbers.
	fmt.Println("TTFT p50 at least 60ms:", res.TTFT.Percentile(50) >= 60*time.Millisecond)
	// Output:
	// requests: 40 failed: 0
	// output tokens per request: 10
	// ITL samples: 360
	// TTFT p50 at least 60ms: true
}

// The metrics of a Result are HDR histograms: any percentile, with count,
// min, max, mean and standard deviation.
func ExampleResult() {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(30 * time.Millisecond), OutputTokens: 1})
	defer srv.Close()

	res, err := lens.Run(context.Background(), lens.Scenario{
		Name:     "non-streaming",
		Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:    "gpt-4o-mini",
		Prompt:   "Say hello",
		NoStream: true,
		Requests: 5,
	})
	if err != nil {
		log.Fatal(err)
	}
	// A non-streamed response arrives in one piece: no ITL, TTFT = E2E.
	fmt.Println("TTFT samples:", res.TTFT.Count(), "ITL samples:", res.ITL.Count())
	fmt.Println("error rate:", res.ErrorRate())
	// Output:
	// TTFT samples: 5 ITL samples: 0
	// error rate: 0
}

// A latency SLO inside go test: run 200 requests, 8 at a time, and fail the
// test when p95 TTFT is a second or more, p99 ITL half a second or more, or
// more than 1% of requests fail. (The limits leave the fake's 40-120ms
// plenty of room: this test must hold on a busy CI machine.)
func TestChatSLO(t *testing.T) {
	srv := fake.NewServer(fake.Config{
		TTFT:         fake.Uniform(40*time.Millisecond, 120*time.Millisecond),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 16,
	})
	defer srv.Close()

	res := lenstest.Bench(t, lens.Scenario{
		Name:        "chat",
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Requests:    200,
		Concurrency: 8,
		Warmup:      8,
	})
	res.AssertP95TTFT(time.Second)
	res.AssertP99ITL(500 * time.Millisecond)
	res.AssertErrorRate(0.01)
}

// The same scenario as a benchmark: b.N requests, reported for benchstat.
//
//	go test -run '^$' -bench BenchmarkChat -benchtime 200x -count 10 > new.txt
//	benchstat old.txt new.txt
func BenchmarkChat(b *testing.B) {
	srv := fake.NewServer(fake.Config{
		TTFT:         fake.Normal(80*time.Millisecond, 10*time.Millisecond),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 16,
	})
	defer srv.Close()

	lenstest.Bench(b, lens.Scenario{
		Name:        "chat",
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Concurrency: 8,
		Warmup:      8,
	})
}

// Replay a recorded trace against the fake, eight times faster than it was
// recorded: each request at its time, with its prompt and output lengths.
func ExampleReadTraceFile() {
	trace, err := lens.ReadTraceFile("examples/trace-sample.csv")
	if err != nil {
		log.Fatal(err)
	}
	// The fake answers as many tokens as each request asks for (max_tokens).
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(5 * time.Millisecond), ITL: fake.Fixed(100 * time.Microsecond), OutputTokens: 100000})
	defer srv.Close()

	res, err := lens.Run(context.Background(), lens.Scenario{
		Name:       "replay",
		Provider:   &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:      "gpt-4o-mini",
		Trace:      trace[:50],
		TraceSpeed: 8,
	})
	if err != nil {
		log.Fatal(err)
	}
	var want int64
	for _, r := range trace[:50] {
		want += int64(r.OutputTokens)
	}
	fmt.Println("requests:", res.Total, "failed:", res.Failed)
	fmt.Println("output tokens as recorded:", res.OutputTokensTotal == want)
	// Output:
	// requests: 50 failed: 0
	// output tokens as recorded: true
}
