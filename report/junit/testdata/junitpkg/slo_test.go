// Package junitpkg holds tests whose go test -json output the report
// package's JUnit tests read: an SLO that holds, one that is broken on
// purpose, a skipped test and a benchmark. It lives under testdata, so
// go test ./... does not run it.
package junitpkg

import (
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/providers"
)

func scenario(srv *fake.Server, name string) lens.Scenario {
	return lens.Scenario{
		Name:        name,
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Requests:    80,
		Concurrency: 4,
	}
}

func newServer() *fake.Server {
	return fake.NewServer(fake.Config{
		TTFT:         fake.Fixed(20 * time.Millisecond),
		ITL:          fake.Fixed(time.Millisecond),
		OutputTokens: 8,
	})
}

// TestSLOHolds passes: p95 TTFT is about 20ms, the limit 5s.
func TestSLOHolds(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	res := lenstest.Bench(t, scenario(srv, "holds"))
	res.AssertP95TTFT(5 * time.Second)
}

// TestSLOBroken fails on purpose: p95 TTFT is about 20ms, the limit 1ms.
func TestSLOBroken(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	res := lenstest.Bench(t, scenario(srv, "broken"))
	res.AssertP95TTFT(time.Millisecond)
}

// TestSkipped is skipped.
func TestSkipped(t *testing.T) {
	t.Skip("no endpoint configured")
}

// BenchmarkChat reports the lens metrics to the benchmark format.
func BenchmarkChat(b *testing.B) {
	srv := newServer()
	defer srv.Close()
	lenstest.Bench(b, scenario(srv, "bench"))
}
