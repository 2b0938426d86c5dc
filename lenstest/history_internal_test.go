package lenstest

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report/history"
)

// Of a benchmark, whose rounds run with a growing b.N, only the last round
// is kept; a new -count repetition, starting again at b.N = 1, is a run of
// its own.
func TestHistoryKeepsLastBenchmarkRound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	run := func(n int) *lens.Result {
		res, err := lens.Run(context.Background(), lens.Scenario{
			Name: "b", Provider: &providers.OpenAI{BaseURL: "http://fake.invalid/v1", APIKey: "sk"}, Model: "m", Prompt: "hi",
			Requests: n, Client: &http.Client{Transport: fake.NewResponder(fake.Config{TTFT: fake.Fixed(time.Microsecond), OutputTokens: 2})},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
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
