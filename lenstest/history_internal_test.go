package lenstest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/report/history"
)

// Of a benchmark, whose rounds run with a growing b.N, only the last round
// is kept; a new -count repetition, starting again at b.N = 1, is a run of
// its own.
func TestHistoryKeepsLastBenchmarkRound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	run := func(n int) *lens.Result {
		return faketest.Run(t, fake.Config{TTFT: fake.Fixed(time.Microsecond), OutputTokens: 2},
			lens.Scenario{Name: "b", Model: "m", Prompt: "hi", Requests: n})
	}
	// Two repetitions of rounds 1, 7, 30.
	for range 2 {
		for _, n := range []int{1, 7, 30} {
			if err := appendTo(path, "BenchmarkChat", true, n, run(n), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), history.Filter{Test: "BenchmarkChat"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 (the last round of each repetition)", len(runs))
	}
	for _, r := range runs {
		f, err := st.File(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.Scenarios[0].Results[0].Metrics.TotalRequests; n != 30 {
			t.Errorf("run %d holds the round of %d requests, want the last, 30", r.ID, n)
		}
	}
}
