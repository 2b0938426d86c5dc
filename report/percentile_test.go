package report

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/stats"
)

// One histogram, one answer: for every metric, the result file of a run and
// the HdrHistogram log of its raw records hold the same histogram, bucket for
// bucket, once the log's intervals are added into a default 1 ns, 3-digit
// histogram as log processors do; and every percentile the file states is
// within 0.1% above the exact nearest-rank order statistic of the raw
// records, queue delays of a few microseconds included.
func TestResultFileAndHistogramLogAgree(t *testing.T) {
	srv := fake.NewServer(fake.Config{
		TTFT:         fake.Uniform(2*time.Millisecond, 12*time.Millisecond),
		ITL:          fake.Uniform(100*time.Microsecond, 900*time.Microsecond),
		OutputTokens: 8,
		Seed:         5,
	})
	t.Cleanup(srv.Close)
	sc := lens.Scenario{
		Name: "chat", Model: "gpt-4o-mini", Prompt: "Say hello",
		Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-fake"},
		Requests: 300, Concurrency: 4, Seed: 5,
	}
	var raw bytes.Buffer
	rw := NewRawWriter(&raw)
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
	f, err := FromResults([]*lens.Result{res}, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	// Through the file's own encoding, as a reader sees it.
	var enc bytes.Buffer
	if err := WriteJSON(&enc, f, false); err != nil {
		t.Fatal(err)
	}
	if f, err = Decode(&enc); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRaw(&raw)
	if err != nil {
		t.Fatal(err)
	}
	lat := &f.Scenarios[0].Results[0].Metrics.Latency
	for _, c := range []struct {
		metric lens.Metric
		dist   *Distribution
	}{
		{lens.MetricTTFT, lat.TTFT}, {lens.MetricE2E, lat.TotalDuration}, {lens.MetricTTFB, lat.TTFB},
		{lens.MetricITL, lat.InterTokenLatency}, {lens.MetricTPOT, lat.TPOT}, {lens.MetricQueueDelay, lat.QueueDelay},
	} {
		t.Run(string(c.metric), func(t *testing.T) {
			if c.dist == nil || c.dist.Count == 0 {
				t.Fatal("the result file has no such distribution")
			}
			pick, _ := rawMetric(c.metric)
			var exact []int64
			for i := range recs {
				exact = append(exact, pick(&recs[i])...)
			}
			slices.Sort(exact)
			if int64(len(exact)) != c.dist.Count {
				t.Fatalf("%d raw values, the file counts %d", len(exact), c.dist.Count)
			}
			n := int64(len(exact))
			for _, p := range []struct {
				p   float64
				got float64 // ms
			}{{50, c.dist.Median}, {90, c.dist.P90}, {95, c.dist.P95}, {99, c.dist.P99}, {99.9, c.dist.P999}} {
				want := exact[stats.NearestRank(n, p.p)-1]
				got := int64(math.Round(p.got * 1e6))
				if got < want || float64(got-want) > 0.001*float64(want) {
					t.Errorf("p%v: the file says %d ns, the exact nearest-rank order statistic is %d ns (%+.3f%%)",
						p.p, got, want, 100*float64(got-want)/float64(want))
				}
			}

			var log bytes.Buffer
			if err := WriteHistogramLog(&log, RawRequests(recs), HistogramLogOptions{Metric: c.metric, Interval: 100 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			sum := hdrhistogram.New(1, 3_600_000_000_000, 3)
			for _, h := range hlogIntervals(t, &log) {
				if dropped := sum.Merge(h); dropped != 0 {
					t.Fatalf("%d values dropped", dropped)
				}
			}
			fromFile, err := hdrhistogram.Decode([]byte(c.dist.Histogram))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bars(sum), bars(fromFile); !slices.Equal(got, want) {
				t.Errorf("the log's buckets differ from the file's:\nlog  %v\nfile %v", got[:min(len(got), 8)], want[:min(len(want), 8)])
			}
		})
	}
}

// bars are h's non-empty buckets.
func bars(h *hdrhistogram.Histogram) []hdrhistogram.Bar {
	var out []hdrhistogram.Bar
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out = append(out, b)
		}
	}
	return out
}

// A result file written by schema version 1 (testdata/result-v1.json, from
// a run of examples/quickstart.yaml) loads, is upgraded to SchemaVersion,
// and keeps the value of every rank its version-1 histograms gave, while its
// stated percentiles follow the nearest-rank definition.
func TestReadSchemaVersion1(t *testing.T) {
	data, err := os.ReadFile("testdata/result-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var old File
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	if old.SchemaVersion != 1 {
		t.Fatalf("fixture has schema version %d", old.SchemaVersion)
	}
	f, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.SchemaVersion != SchemaVersion {
		t.Errorf("upgraded file has schema version %d, want %d", f.SchemaVersion, SchemaVersion)
	}
	checked := 0
	for i, sc := range f.Scenarios {
		for j, r := range sc.Results {
			olds := old.Scenarios[i].Results[j].Metrics.Distributions()
			news := r.Metrics.Distributions()
			if len(olds) != len(news) {
				t.Fatalf("%s: %d distributions, version 1 had %d", sc.Name, len(news), len(olds))
			}
			for k, nd := range news {
				od := olds[k].Dist
				v1, err := hdrhistogram.Decode([]byte(od.Histogram))
				if err != nil {
					t.Fatal(err)
				}
				if !nd.Dist.IsLatency() {
					if nd.Dist.Histogram != od.Histogram || nd.Dist.Count != od.Count {
						t.Errorf("%s %s: a values histogram changed", sc.Name, nd.Name)
					}
					continue
				}
				if v1.LowestTrackableValue() != 1000 {
					t.Fatalf("%s %s: the fixture's histogram tracks from %d, not version 1's 1000", sc.Name, nd.Name, v1.LowestTrackableValue())
				}
				l, err := nd.Dist.Latency()
				if err != nil {
					t.Fatal(err)
				}
				n := l.Count()
				if n != od.Count || nd.Dist.Count != n {
					t.Fatalf("%s %s: count %d (stated %d), version 1 had %d", sc.Name, nd.Name, n, nd.Dist.Count, od.Count)
				}
				// Every version-1 bucket's count sits at the value version 1
				// reported for it, its highest equivalent value: so every
				// rank reads as it did.
				up, err := hdrhistogram.Decode([]byte(nd.Dist.Histogram))
				if err != nil {
					t.Fatal(err)
				}
				got, want := bars(up), bars(v1)
				if len(got) != len(want) {
					t.Fatalf("%s %s: %d buckets, version 1 had %d", sc.Name, nd.Name, len(got), len(want))
				}
				for b := range got {
					if got[b].To != min(want[b].To, int64(stats.MaxLatency)) || got[b].Count != want[b].Count {
						t.Fatalf("%s %s: bucket %d is %+v, version 1 had %+v", sc.Name, nd.Name, b, got[b], want[b])
					}
				}
				if want := float64(l.Percentile(99.9)) / 1e6; nd.Dist.P999 != want {
					t.Errorf("%s %s: p999 %v, the histogram's nearest rank gives %v", sc.Name, nd.Name, nd.Dist.P999, want)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d latency distributions checked", checked)
	}
	// Upgraded shards merge.
	again, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again.Metadata.Timestamp = again.Metadata.Timestamp.Add(time.Minute) // another run of the same file's shape
	m, err := Merge(f, again)
	if err != nil {
		t.Fatalf("merge of two upgraded files: %v", err)
	}
	if got, want := m.Scenarios[0].Results[0].Metrics.Latency.TTFT.Count, 2*f.Scenarios[0].Results[0].Metrics.Latency.TTFT.Count; got != want {
		t.Errorf("merged TTFT count %d, want %d", got, want)
	}
}
