package lenstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// logRecorder is a testing.TB that keeps its logs, around a real one.
type logRecorder struct {
	testing.TB
	logs []string
}

func (r *logRecorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, strings.TrimSpace(fmt.Sprintf(format, args...)))
	r.TB.Logf(format, args...)
}

// TestLiveFromEnv: with LENS_SERVE=127.0.0.1:0, Bench serves the live
// dashboard, logs its URL, and the page's state holds the scenario's
// requests; without it, Bench serves nothing.
func TestLiveFromEnv(t *testing.T) {
	defer closeLive()
	srv := fake.NewServer(fake.Config{OutputTokens: 4})
	defer srv.Close()
	sc := lens.Scenario{Name: "live-env", Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "k"}, Model: "m", Requests: 20, Concurrency: 2}

	t.Setenv(EnvServe, "")
	rec := &logRecorder{TB: t}
	Bench(rec, sc)
	for _, l := range rec.logs {
		if strings.Contains(l, "live dashboard") {
			t.Errorf("a dashboard without LENS_SERVE: %s", l)
		}
	}

	t.Setenv(EnvServe, "127.0.0.1:0")
	rec = &logRecorder{TB: t}
	Bench(rec, sc)
	var url string
	re := regexp.MustCompile(`live dashboard of scenario live-env at (http://127\.0\.0\.1:\d+/)`)
	for _, l := range rec.logs {
		if m := re.FindStringSubmatch(l); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no dashboard URL in the logs: %q", rec.logs)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url + "state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st dashboard.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Scenarios) != 1 || st.Scenarios[0].Name != "live-env" || st.Scenarios[0].Sent != 20 || st.Scenarios[0].Succeeded != 20 {
		t.Errorf("state: %+v", st)
	}
}
