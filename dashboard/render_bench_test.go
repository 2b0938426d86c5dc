package dashboard

import (
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/providers"
)

// BenchmarkRender measures one update of the page: the snapshot of a
// scenario with a minute of samples, its charts, and the SSE message.
func BenchmarkRender(b *testing.B) {
	m, err := New(Options{Alerts: []Alert{{Metric: "ttft", Percentile: 95, Limit: time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	sc := lens.Scenario{Name: "s", Provider: &providers.OpenAI{}, Model: "m", Rate: 50}
	m.Instrument(&sc)
	t0 := time.Now()
	tr := m.tracks[0]
	for i := range 3000 {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		r := &lens.RequestMetrics{TTFT: time.Duration(20+i%50) * time.Millisecond, E2E: 80 * time.Millisecond, OutputTokens: 8,
			ITLs: []time.Duration{2 * time.Millisecond, 3 * time.Millisecond}}
		tr.mu.Lock()
		tr.inFlight++
		tr.mu.Unlock()
		tr.doneAt(r, at)
		if i%50 == 0 {
			tr.tick(at)
		}
	}
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		m.render(now)
	}
}
