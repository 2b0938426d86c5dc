package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/stats"
)

// samePercentiles checks that d decodes to a histogram with the count and
// every percentile (0 to 100 by 0.1) of want.
func samePercentiles(t *testing.T, what string, d *Distribution, want *stats.Latency) {
	t.Helper()
	got, err := d.Latency()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got.Count() != want.Count() || d.Count != want.Count() {
		t.Fatalf("%s: count %d (stated %d), want %d", what, got.Count(), d.Count, want.Count())
	}
	for i := 0; i <= 1000; i++ {
		p := float64(i) / 10
		if g, w := got.Percentile(p), want.Percentile(p); g != w {
			t.Fatalf("%s: p%g = %v, want %v", what, p, g, w)
		}
	}
	if got.Mean() != want.Mean() || got.Max() != want.Max() || got.Min() != want.Min() {
		t.Errorf("%s: min/mean/max %v/%v/%v, want %v/%v/%v", what, got.Min(), got.Mean(), got.Max(), want.Min(), want.Mean(), want.Max())
	}
}

func sameValues(t *testing.T, what string, d *Distribution, want *stats.Values) {
	t.Helper()
	got, err := d.Values()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got.Count() != want.Count() {
		t.Fatalf("%s: count %d, want %d", what, got.Count(), want.Count())
	}
	for i := 0; i <= 1000; i++ {
		p := float64(i) / 10
		if g, w := got.Percentile(p), want.Percentile(p); g != w {
			t.Fatalf("%s: p%g = %v, want %v", what, p, g, w)
		}
	}
}

// withErrors adds failed and retried requests to a synthetic result.
func withErrors(r *lens.Result) *lens.Result {
	r.Total += 3
	r.Failed += 3
	r.Errors[lens.ClassRateLimited] = 2
	r.Errors[lens.ClassTimeout] = 1
	r.ErrorSamples[lens.ClassRateLimited] = "openai: 429 Too Many Requests: slow down"
	r.RetriedBy[lens.ClassOverloaded] = 4
	r.Retried = 3
	r.Attempts += 7
	r.TokenMismatches = 5
	return r
}

func TestFileRoundTrip(t *testing.T) {
	closed := faketest.Run(t, fakeConfig(1), lens.Scenario{Name: "closed", Requests: 60, Concurrency: 4})
	open := faketest.Run(t, fakeConfig(2), lens.Scenario{Name: "open", Requests: 40, Rate: 400})
	unpriced := faketest.Run(t, fakeConfig(3), lens.Scenario{Name: "closed", Model: "my-local-model", Requests: 20, Concurrency: 4})
	synth := withErrors(synthResult(4, 300, 1))
	results := []*lens.Result{closed, open, unpriced, synth}

	f, err := FromResults(results, Metadata{ConfigHash: "sha256:0123", Interrupted: true})
	if err != nil {
		t.Fatal(err)
	}
	g, path := roundTrip(t, f)

	// Everything the file holds survives.
	a, _ := json.Marshal(f)
	b, _ := json.Marshal(g)
	if !bytes.Equal(a, b) {
		t.Errorf("read back differs from written:\n%s\n%s", a, b)
	}
	if g.Format != Format || g.SchemaVersion != SchemaVersion || !g.Metadata.Interrupted || g.Metadata.ConfigHash != "sha256:0123" {
		t.Errorf("metadata: %+v", g.Metadata)
	}
	if got := len(g.Scenarios); got != 3 {
		t.Fatalf("%d scenarios, want 3 (closed, open, chat)", got)
	}
	if got := len(g.Scenarios[0].Results); got != 2 {
		t.Fatalf("scenario closed has %d results, want 2", got)
	}

	// Every histogram gives back the percentiles of the run.
	where := []struct{ sc, res int }{{0, 0}, {1, 0}, {0, 1}, {2, 0}}
	for i, r := range results {
		m := &g.Scenarios[where[i].sc].Results[where[i].res].Metrics
		if m.TotalRequests != r.Total || m.SuccessfulRequests != r.Succeeded || m.FailedRequests != r.Failed {
			t.Errorf("%s: counts %d/%d/%d, want %d/%d/%d", r.Scenario, m.TotalRequests, m.SuccessfulRequests, m.FailedRequests, r.Total, r.Succeeded, r.Failed)
		}
		for _, metric := range lens.Metrics {
			samePercentiles(t, r.Scenario+" "+string(metric), m.Distribution(metric), r.Latency(metric))
		}
		sameValues(t, r.Scenario+" tokens/s", m.Latency.Throughput, r.TokensPerSecond)
		sameValues(t, r.Scenario+" output tokens", m.TokenStats.OutputTokens, r.OutputTokens)
		if r.TTFTFromIntended != nil {
			samePercentiles(t, r.Scenario+" ttft from intended", m.Latency.TTFTFromIntended, r.TTFTFromIntended)
			samePercentiles(t, r.Scenario+" e2e from intended", m.Latency.E2EFromIntended, r.E2EFromIntended)
		} else if m.Latency.TTFTFromIntended != nil || m.Latency.E2EFromIntended != nil {
			t.Errorf("%s: closed loop has from-intended distributions", r.Scenario)
		}
		if m.Goodput != r.Goodput() || m.AchievedSendRate != r.AchievedRate() || m.Attempts != r.Attempts || m.RetriedRequests != r.Retried {
			t.Errorf("%s: goodput %v send rate %v attempts %d retried %d", r.Scenario, m.Goodput, m.AchievedSendRate, m.Attempts, m.RetriedRequests)
		}
		if len(m.Timeline) != len(r.Timeline) {
			t.Errorf("%s: timeline of %d ticks, want %d", r.Scenario, len(m.Timeline), len(r.Timeline))
		}
		if m.TokenStats.CountedFromUsage != r.TokensFromUsage || m.TokenStats.UsageMismatches != r.TokenMismatches ||
			m.TokenStats.CountedFromEvents != r.Succeeded-r.TokensFromUsage {
			t.Errorf("%s: token sources %+v", r.Scenario, m.TokenStats)
		}
	}
	open2 := g.Scenarios[1]
	if open2.Config.RateLimit == nil || *open2.Config.RateLimit != 400 {
		t.Errorf("open loop rate_limit = %v, want 400", open2.Config.RateLimit)
	}
	if g.Scenarios[0].Config.RateLimit != nil {
		t.Errorf("closed loop has a rate_limit")
	}
	synthM := g.Scenarios[2].Results[0].Metrics
	if synthM.Errors["rate_limited"] != 2 || synthM.Retries["overloaded"] != 4 || synthM.ErrorSamples["rate_limited"] == "" {
		t.Errorf("errors %v retries %v samples %v", synthM.Errors, synthM.Retries, synthM.ErrorSamples)
	}

	// A model without a price has a null cost, not zero.
	if c := g.Scenarios[0].Results[1].Metrics.CostStats; c != nil {
		t.Errorf("unpriced model has cost %+v", c)
	}
	if c := g.Scenarios[0].Results[0].Metrics.CostStats; c == nil || c.TotalCost <= 0 {
		t.Errorf("gpt-4o-mini cost = %+v, want > 0", c)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(`"cost_stats": null`)) {
		t.Errorf("the file has no \"cost_stats\": null")
	}
}

func TestDecodeRejects(t *testing.T) {
	newer := strings.Replace(mustJSON(t, synthFile(1, 10, 1)),
		fmt.Sprintf(`"schema_version":%d`, SchemaVersion), fmt.Sprintf(`"schema_version":%d`, SchemaVersion+1), 1)
	for _, tc := range []struct {
		name, in string
		notOurs  bool
		schema   int
	}{
		{"empty", "", true, 0},
		{"text", "hello", true, 0},
		{"array", "[1,2]", true, 0},
		{"other json", `{"metadata":{"version":"1.0"},"scenarios":[]}`, true, 0},
		{"other format", `{"format":"k6-summary","schema_version":1}`, true, 0},
		{"no version", `{"format":"lens-result"}`, true, 0},
		{"newer", newer, false, SchemaVersion + 1},
		{"zero version", `{"format":"lens-result","schema_version":0}`, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrNotResultFile); got != tc.notOurs {
				t.Errorf("errors.Is(%v, ErrNotResultFile) = %v", err, got)
			}
			var se *SchemaError
			if !tc.notOurs && (!errors.As(err, &se) || se.Version != tc.schema) {
				t.Errorf("error %v, want a SchemaError for version %d", err, tc.schema)
			}
		})
	}
}

func TestDecodeChecksContent(t *testing.T) {
	good := mustJSON(t, synthFile(1, 10, 1))
	if _, err := Decode(strings.NewReader(good)); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"count", `"total_requests":10`, `"total_requests":11`, "total_requests"},
		{"histogram", `"histogram":"HISTF`, `"histogram":"XISTF`, "ttft"},
		{"histogram count", `"count":10,"unit":"ms"`, `"count":9,"unit":"ms"`, "histogram holds 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(good, tc.old, tc.new, 1)
			if in == good {
				t.Fatalf("%q not found in the file", tc.old)
			}
			_, err := Decode(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func mustJSON(t *testing.T, f *File) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, f, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, synthFile(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after the write, want only result.json", len(entries))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("replaced file: %v", err)
	}

	// A file that cannot be encoded leaves the old one, and no temporary.
	bad := synthFile(1, 10, 1)
	bad.Scenarios[0].Config.RateLimit = new(float64)
	*bad.Scenarios[0].Config.RateLimit = 1 / zero()
	if err := WriteFile(path, bad); err == nil {
		t.Fatal("WriteFile of +Inf: no error")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("failed write left %d entries", len(entries))
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("old file after a failed write: %v", err)
	}

	// A missing directory is created (export paths like results/x.json).
	nested := filepath.Join(dir, "missing", "result.json")
	if err := WriteFile(nested, synthFile(1, 10, 1)); err != nil {
		t.Errorf("write into a missing directory: %v", err)
	} else if _, err := ReadFile(nested); err != nil {
		t.Errorf("read back from the created directory: %v", err)
	}
	// A path under a file cannot be written.
	if err := WriteFile(filepath.Join(path, "result.json"), synthFile(1, 10, 1)); err == nil {
		t.Error("write under a file: no error")
	}
}

func zero() float64 { return 0 }

// An interrupted run writes what it measured: the partial result of a run
// cut short by its context, with nil entries for scenarios that never ran.
func TestInterruptedRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sc := faketest.Scenario(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), OutputTokens: 4},
		lens.Scenario{Name: "cut", Prompt: "hi", Requests: 100000, Concurrency: 2})
	res, runErr := lens.Run(ctx, sc)
	if res == nil {
		t.Fatalf("lens.Run returned no partial result: %v", runErr)
	}
	f, err := FromResults([]*lens.Result{res, nil}, Metadata{Interrupted: true})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := roundTrip(t, f)
	m := g.Scenarios[0].Results[0].Metrics
	if !g.Metadata.Interrupted || m.TotalRequests == 0 || m.TotalRequests >= 100000 || m.TotalRequests != res.Total {
		t.Errorf("interrupted %v, %d requests (run counted %d)", g.Metadata.Interrupted, m.TotalRequests, res.Total)
	}
}

// Every name DistributionNames gives is a field of Metrics that
// SetDistribution sets, DistributionNamed reads and Distributions lists
// under that name, each its own; another name is refused and changes
// nothing.
func TestDistributionNames(t *testing.T) {
	var m Metrics
	names := DistributionNames()
	if len(names) != 14 {
		t.Fatalf("%d names: %v", len(names), names)
	}
	for i, name := range names {
		if !m.SetDistribution(name, &Distribution{Count: int64(i + 1)}) {
			t.Fatalf("%s: not set", name)
		}
	}
	got := m.Distributions()
	if len(got) != len(names) {
		t.Fatalf("Distributions lists %d of %d", len(got), len(names))
	}
	for i, nd := range got {
		if nd.Name != names[i] || nd.Dist.Count != int64(i+1) || m.DistributionNamed(nd.Name) != nd.Dist {
			t.Errorf("%d: %s (count %d), want %s (count %d)", i, nd.Name, nd.Dist.Count, names[i], i+1)
		}
	}
	if m.SetDistribution("latency", &Distribution{}) || m.DistributionNamed("latency") != nil {
		t.Error("an unknown name is taken")
	}
	m.SetDistribution("ttft", nil)
	if m.Latency.TTFT != nil || m.Distribution(lens.MetricTTFT) != nil || len(m.Distributions()) != len(names)-1 {
		t.Error("ttft is not removed")
	}
	if m.Distribution(lens.MetricQueueDelay) != m.Latency.QueueDelay || m.Distribution(lens.MetricJourney) != nil {
		t.Error("Distribution reads the wrong field")
	}
}
