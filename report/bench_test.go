package report

import (
	"io"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/providers"
)

// BenchmarkRawWriter is the cost per request of keeping raw records: a
// 64-token streamed response, from many goroutines at once.
func BenchmarkRawWriter(b *testing.B) {
	rw := NewRawWriter(io.Discard)
	on := rw.OnRequest(&lens.Scenario{Name: "chat", Model: "gpt-4o-mini", Provider: &providers.OpenAI{}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		m := &lens.RequestMetrics{Start: time.Now(), Intended: time.Now(), TTFT: 80 * time.Millisecond,
			E2E: 400 * time.Millisecond, TPOT: 5 * time.Millisecond, DNS: lens.Absent, Connect: lens.Absent, TLS: lens.Absent,
			OutputTokens: 64, OutputEvents: 64, InputTokens: 12, Attempts: 1, ITLs: make([]time.Duration, 63)}
		for i := range m.ITLs {
			m.ITLs[i] = 5 * time.Millisecond
		}
		for pb.Next() {
			on(m)
		}
	})
}

// BenchmarkMerge merges two result files of one scenario.
func BenchmarkMerge(b *testing.B) {
	x, y := synthFile(1, 1000, 1), synthFile(2, 1000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Merge(x, y); err != nil {
			b.Fatal(err)
		}
	}
}
