package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/stats"
)

// hdrJS is what hdrjs/read.js reports of one histogram.
type hdrJS struct {
	Intervals int     `json:"intervals"`
	Count     int64   `json:"count"`
	Min       int64   `json:"min"`
	Max       int64   `json:"max"`
	Values    []int64 `json:"values"`
}

// readWithHdrJS hands logs (.hlog texts) and encoded histograms to
// hdr-histogram-js and returns what it read, by "log:NAME" and
// "encoded:NAME". It skips the test where node or the package is missing,
// except under CI (which installs both: .ci/run).
func readWithHdrJS(t *testing.T, percentiles []float64, logs, encoded map[string]string) map[string]hdrJS {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("hdrjs", "node_modules", "hdr-histogram-js", "package.json"))
	}
	if err != nil {
		msg := "hdr-histogram-js is not installed (needs node and npm: npm ci --prefix hdrjs): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	in, err := json.Marshal(map[string]any{"percentiles": percentiles, "logs": logs, "encoded": encoded})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("hdrjs", "read.js"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hdr-histogram-js: %v\n%s", err, stderr.String())
	}
	got := map[string]hdrJS{}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("hdr-histogram-js output: %v\n%s", err, out)
	}
	return got
}

// hdr-histogram-js, an HdrHistogram implementation of its own, reads the
// HdrHistogram log of a run's raw records and the histograms of its result
// file, and finds for every metric the count and the very percentiles the
// result file states, p99.9 included: one histogram, one definition of a
// percentile, whoever reads it.
func TestHdrHistogramJSAgreesWithResultFile(t *testing.T) {
	srv := newServer(t, fake.Config{
		TTFT:         fake.Uniform(2*time.Millisecond, 12*time.Millisecond),
		ITL:          fake.Uniform(100*time.Microsecond, 900*time.Microsecond),
		OutputTokens: 8,
		Seed:         7,
	})
	sc := lens.Scenario{
		Name: "chat", Model: "gpt-4o-mini", Prompt: testPrompt,
		Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: testKey},
		Requests: 300, Concurrency: 4, Seed: 7,
	}
	var raw bytes.Buffer
	rw := report.NewRawWriter(&raw)
	sc.OnRequest = rw.OnRequest(&sc)
	res, err := lens.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 {
		t.Fatalf("%d requests failed: %v", res.Failed, res.ErrorSamples)
	}
	f, err := report.FromResults([]*lens.Result{res}, report.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	// The result file as a reader sees it, through its JSON.
	var enc bytes.Buffer
	if err := report.WriteJSON(&enc, f, false); err != nil {
		t.Fatal(err)
	}
	if f, err = report.Decode(&enc); err != nil {
		t.Fatal(err)
	}
	recs, err := report.ReadRaw(&raw)
	if err != nil {
		t.Fatal(err)
	}

	lat := &f.Scenarios[0].Results[0].Metrics.Latency
	metrics := []struct {
		metric lens.Metric
		dist   *report.Distribution
	}{
		{lens.MetricTTFT, lat.TTFT}, {lens.MetricE2E, lat.TotalDuration}, {lens.MetricTTFB, lat.TTFB},
		{lens.MetricITL, lat.InterTokenLatency}, {lens.MetricTPOT, lat.TPOT}, {lens.MetricQueueDelay, lat.QueueDelay},
	}
	logs, encoded := map[string]string{}, map[string]string{}
	for _, m := range metrics {
		if m.dist == nil || m.dist.Count == 0 {
			t.Fatalf("%s: the result file has no such distribution", m.metric)
		}
		var log bytes.Buffer
		if err := report.WriteHistogramLog(&log, report.RawRequests(recs), report.HistogramLogOptions{Metric: m.metric, Interval: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		logs[string(m.metric)] = log.String()
		encoded[string(m.metric)] = m.dist.Histogram
	}
	percentiles := []float64{50, 90, 95, 99, 99.9}
	js := readWithHdrJS(t, percentiles, logs, encoded)

	for _, m := range metrics {
		d := m.dist
		want := []int64{ns(d.Median), ns(d.P90), ns(d.P95), ns(d.P99), ns(d.P999)}
		for _, src := range []string{"log:", "encoded:"} {
			got, ok := js[src+string(m.metric)]
			if !ok {
				t.Errorf("%s%s: hdr-histogram-js reported nothing", src, m.metric)
				continue
			}
			if src == "log:" && got.Intervals < 2 {
				t.Errorf("%s: hdr-histogram-js read %d intervals of the log, want several", m.metric, got.Intervals)
			}
			if got.Count != d.Count {
				t.Errorf("%s%s: hdr-histogram-js counts %d values, the result file %d", src, m.metric, got.Count, d.Count)
			}
			if got.Max != ns(d.Max) {
				t.Errorf("%s%s: hdr-histogram-js max %d ns, the result file %d ns", src, m.metric, got.Max, ns(d.Max))
			}
			for i, p := range percentiles {
				if got.Values[i] != want[i] {
					t.Errorf("%s%s p%v: hdr-histogram-js %d ns, the result file %d ns (n = %d)", src, m.metric, p, got.Values[i], want[i], d.Count)
				}
			}
		}
		t.Logf("%s: n = %d, p99.9 %d ns in the result file and in hdr-histogram-js", m.metric, d.Count, want[4])
	}
}

// ns converts a result file's milliseconds (to the nanosecond) to ns.
func ns(ms float64) int64 { return int64(math.Round(ms * 1e6)) }

// At the counts where a decimal percentile lands exactly on a rank (p99.9
// of 1,000 or 18,600 values) and where it does not (600, 18,601), and from
// 1 ns up, hdr-histogram-js reads the same rank, and so the same value, as
// stats.Latency.Percentile.
func TestHdrHistogramJSReadsTheNearestRank(t *testing.T) {
	percentiles := []float64{0.1, 10, 50, 90, 99, 99.9, 99.99, 100}
	encoded := map[string]string{}
	want := map[string][]int64{}
	for _, c := range []struct {
		name  string
		n     int
		value func(i int) time.Duration // the i-th of n, i from 1
	}{
		{"600 of 1ns..600ns", 600, func(i int) time.Duration { return time.Duration(i) }},
		{"1000 of 1ns..1000ns", 1000, func(i int) time.Duration { return time.Duration(i) }},
		{"1000 of 1µs..1s", 1000, func(i int) time.Duration { return time.Duration(1e3 * math.Pow(1e6, float64(i-1)/999)) }},
		{"18600 of 3µs steps", 18600, func(i int) time.Duration { return time.Duration(i) * 3 * time.Microsecond }},
		{"18601 of 3µs steps", 18601, func(i int) time.Duration { return time.Duration(i) * 3 * time.Microsecond }},
	} {
		l := stats.NewLatency()
		for i := c.n; i >= 1; i-- {
			l.Record(c.value(i))
		}
		b, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		encoded[c.name] = string(b)
		for _, p := range percentiles {
			want[c.name] = append(want[c.name], int64(l.Percentile(p)))
		}
	}
	js := readWithHdrJS(t, percentiles, nil, encoded)
	for name, w := range want {
		got := js["encoded:"+name]
		for i, p := range percentiles {
			if i >= len(got.Values) || got.Values[i] != w[i] {
				t.Errorf("%s p%v: hdr-histogram-js %v ns, stats.Latency %d ns", name, p, got.Values, w[i])
			}
		}
	}
}
