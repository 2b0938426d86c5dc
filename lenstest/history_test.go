package lenstest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/report/history"
)

// With LENS_HISTORY set, every Bench result is appended to that history,
// tagged with the test's name.
func TestBenchAppendsHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	t.Setenv(lenstest.HistoryEnv, path)
	cfg := fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 3}
	t.Run("chat", func(t *testing.T) {
		lenstest.Bench(t, mockScenario(cfg, 12, 2))
	})
	t.Run("again", func(t *testing.T) {
		lenstest.Bench(t, mockScenario(cfg, 5, 1))
	})

	st, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs in the history, want 2", len(runs))
	}
	for i, want := range []struct {
		test     string
		requests int64
	}{{"TestBenchAppendsHistory/chat", 12}, {"TestBenchAppendsHistory/again", 5}} {
		r := runs[i]
		if r.Source != "go test" || r.Tests[0] != want.test {
			t.Errorf("run %d: source %q, test %q; want go test, %q", i, r.Source, r.Tests[0], want.test)
		}
		f, err := st.File(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.Scenarios[0].Results[0].Metrics.TotalRequests; n != want.requests {
			t.Errorf("run %d: %d requests, want %d", i, n, want.requests)
		}
	}
}
