package report

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/stats"
	gates "github.com/llm-latency-lens/lens/verdict"
)

// recorder keeps every measured request's latencies, across runs, as one
// machine running them all would.
type recorder struct {
	mu                  sync.Mutex
	ttft, e2e, itl, tpo *stats.Latency
	n                   int64
}

func newRecorder() *recorder {
	return &recorder{ttft: stats.NewLatency(), e2e: stats.NewLatency(), itl: stats.NewLatency(), tpo: stats.NewLatency()}
}

func (r *recorder) on(m *lens.RequestMetrics) {
	if m.Warmup || !m.OK() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.ttft.Record(m.TTFT)
	r.e2e.Record(m.E2E)
	if m.TPOT >= 0 {
		r.tpo.Record(m.TPOT)
	}
	for _, d := range m.ITLs {
		r.itl.Record(d)
	}
}

// Two shards, run for real against fakes of different latencies, merge
// into exactly what one histogram of every request gives.
func TestMergeShardsEqualsOneRun(t *testing.T) {
	rec := newRecorder()
	sc := lens.Scenario{Name: "chat", Requests: 120, Concurrency: 4, OnRequest: rec.on}
	a := faketest.Run(t, fakeConfig(11), sc)
	cfgB := fakeConfig(12)
	cfgB.TTFT = fakeUniformMs(8, 30) // a slower machine's view
	b := faketest.Run(t, cfgB, sc)

	fa, err := FromResults([]*lens.Result{a}, Metadata{ConfigHash: "h", SystemInfo: SystemInfo{OS: "linux", Hostname: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := FromResults([]*lens.Result{b}, Metadata{ConfigHash: "h", SystemInfo: SystemInfo{OS: "linux", Hostname: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(fa, fb)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("merged file: %v", err)
	}
	got := m.Scenarios[0].Results[0].Metrics
	if got.TotalRequests != a.Total+b.Total || got.SuccessfulRequests != rec.n {
		t.Errorf("merged %d requests (%d ok), want %d (%d ok)", got.TotalRequests, got.SuccessfulRequests, a.Total+b.Total, rec.n)
	}
	samePercentiles(t, "ttft", got.Latency.TTFT, rec.ttft)
	samePercentiles(t, "e2e", got.Latency.TotalDuration, rec.e2e)
	samePercentiles(t, "itl", got.Latency.InterTokenLatency, rec.itl)
	samePercentiles(t, "tpot", got.Latency.TPOT, rec.tpo)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	if got.Latency.TTFT.P99 != ms(rec.ttft.Percentile(99)) || got.Latency.TTFT.Median != ms(rec.ttft.Percentile(50)) {
		t.Errorf("stated p50/p99 %v/%v, want %v/%v", got.Latency.TTFT.Median, got.Latency.TTFT.P99, ms(rec.ttft.Percentile(50)), ms(rec.ttft.Percentile(99)))
	}
	if got.TokenStats.TotalCompletionTokens != a.OutputTokensTotal+b.OutputTokensTotal {
		t.Errorf("completion tokens %d", got.TokenStats.TotalCompletionTokens)
	}
	if c := got.CostStats; c == nil || !near(c.TotalCost, a.TotalCost()+b.TotalCost()) ||
		!near(c.MeanCostPerRequest, (a.TotalCost()+b.TotalCost())/float64(a.Total+b.Total)) {
		t.Errorf("cost %+v", got.CostStats)
	}
	if m.Metadata.Shards != 2 || m.Scenarios[0].Config.Shards != 2 || m.Scenarios[0].Config.Requests != 240 || m.Scenarios[0].Config.Concurrency != 4 {
		t.Errorf("shards %d/%d, config %+v", m.Metadata.Shards, m.Scenarios[0].Config.Shards, m.Scenarios[0].Config)
	}
	// Rates over the merged wall span.
	start := a.Started
	end := a.Started.Add(a.Elapsed)
	if b.Started.Before(start) {
		start = b.Started
	}
	if e := b.Started.Add(b.Elapsed); e.After(end) {
		end = e
	}
	// (Wall clock: the file has no monotonic readings.)
	span := end.Round(0).Sub(start.Round(0)).Seconds()
	if abs(got.ExecutionDurationSecs-span) > 1e-6 || abs(got.ActualRPS-240/span) > 1e-3 {
		t.Errorf("duration %v rps %v, want %v and %v", got.ExecutionDurationSecs, got.ActualRPS, span, 240/span)
	}
	var ticks int64
	for _, tk := range got.Timeline {
		ticks += tk.Requests
	}
	if ticks != 240 {
		t.Errorf("timeline counts %d requests, want 240", ticks)
	}
	// The inputs are untouched.
	if fa.Scenarios[0].Results[0].Metrics.TotalRequests != a.Total {
		t.Error("Merge modified its input")
	}
}

func abs(x float64) float64 { return max(x, -x) }

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(1, a, b, -a, -b)
}

func TestMergeSynthetic(t *testing.T) {
	ra := withErrors(synthResult(1, 200, 1))
	rb := synthResult(2, 300, 1.1)
	rb.Started = ra.Started.Add(3 * time.Second)
	rb.FirstSend, rb.LastSend = rb.Started, rb.Started.Add(9*time.Second)
	fa, _ := FromResults([]*lens.Result{ra}, Metadata{})
	// A scenario that only the second shard ran is carried over.
	extra := synthResult(3, 10, 1)
	extra.Scenario = "other"
	fb2, _ := FromResults([]*lens.Result{rb, extra}, Metadata{})
	m, err := Merge(fa, fb2)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Scenarios) != 2 || m.Scenarios[1].Name != "other" {
		t.Fatalf("scenarios %d", len(m.Scenarios))
	}
	got := m.Scenarios[0].Results[0].Metrics
	if got.Errors["rate_limited"] != 2 || got.Retries["overloaded"] != 4 || got.Attempts != ra.Attempts+rb.Attempts || got.GoodRequests != ra.Good+rb.Good {
		t.Errorf("counts: errors %v retries %v attempts %d good %d", got.Errors, got.Retries, got.Attempts, got.GoodRequests)
	}
	if !near(got.Goodput, float64(ra.Good+rb.Good)/float64(ra.Total+rb.Total)) {
		t.Errorf("goodput %v", got.Goodput)
	}
	// Send rate over the union of the send spans: 0s..12s.
	if want := float64(ra.Total+rb.Total-1) / 12; !near(got.AchievedSendRate, want) {
		t.Errorf("achieved send rate %v, want %v", got.AchievedSendRate, want)
	}
	// The second shard's timeline moves 3 buckets right.
	if len(ra.Timeline) != 1 || len(rb.Timeline) != 1 {
		t.Fatalf("synthetic timelines of %d and %d ticks, want 1", len(ra.Timeline), len(rb.Timeline))
	}
	if len(got.Timeline) != 4 || got.Timeline[0] != ra.Timeline[0] || got.Timeline[3] != rb.Timeline[0] || got.Timeline[1].Requests != 0 {
		t.Errorf("timeline %v", got.Timeline)
	}
	if got.ExecutionDurationSecs != 13 {
		t.Errorf("duration %v, want 13 (0s..13s)", got.ExecutionDurationSecs)
	}
	// Merging is associative: (a+b)+a == a+(b+a).
	x, _ := Merge(m, fa)
	y1, _ := Merge(fb2, fa)
	y, _ := Merge(fa, y1)
	if mustJSON(t, x) != mustJSON(t, y) {
		t.Error("merge is not associative")
	}
}

func TestMergeRejects(t *testing.T) {
	base := func() *File { return synthFile(1, 20, 1) }
	for _, tc := range []struct {
		name   string
		change func(*File)
		want   string
	}{
		{"config hash", func(f *File) { f.Metadata.ConfigHash = "sha256:other" }, "configuration"},
		{"concurrency", func(f *File) { f.Scenarios[0].Config.Concurrency = 8 }, "concurrency"},
		{"rate", func(f *File) { r := 5.0; f.Scenarios[0].Config.RateLimit = &r }, "rate"},
		{"unpriced", func(f *File) { f.Scenarios[0].Results[0].Metrics.CostStats = nil }, "priced"},
		{"price", func(f *File) { f.Scenarios[0].Results[0].Metrics.CostStats.Price.Input = 9 }, "priced at"},
		{"schema", func(f *File) { f.SchemaVersion = 0 }, "schema"},
		{"format", func(f *File) { f.Format = "x" }, "not a lens result"},
		{"unit", func(f *File) { f.Scenarios[0].Results[0].Metrics.Latency.TTFT.Unit = UnitTokens }, "ttft: report: decode tokens histogram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			f.Metadata.Timestamp = f.Metadata.Timestamp.Add(time.Minute) // another run
			tc.change(f)
			_, err := Merge(base(), f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge(): no error")
	}
}

// Merge refuses files that would count the same requests twice (a shard
// given twice, a merged file with a shard it holds), and says which shards
// a merged file still lacks.
func TestMergeCountsEachShardOnce(t *testing.T) {
	shard := func(i int) *File {
		f := synthFile(uint64(i+1), 20, 1)
		f.Metadata.Timestamp = f.Metadata.Timestamp.Add(time.Duration(i) * time.Millisecond)
		f.Metadata.ShardCount, f.Metadata.ShardIndexes = 3, []int{i}
		return f
	}
	s0, s1, s2 := shard(0), shard(1), shard(2)
	m01, err := Merge(s0, s1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m01.Metadata.MissingShards(), []int{2}; !slices.Equal(got, want) {
		t.Errorf("MissingShards of 0+1 of 3 = %v, want %v", got, want)
	}
	all, err := Merge(m01, s2)
	if err != nil {
		t.Fatal(err)
	}
	if all.Metadata.ShardCount != 3 || !slices.Equal(all.Metadata.ShardIndexes, []int{0, 1, 2}) || len(all.Metadata.MissingShards()) != 0 {
		t.Errorf("merged shards %d %v, missing %v", all.Metadata.ShardCount, all.Metadata.ShardIndexes, all.Metadata.MissingShards())
	}
	if got := all.Scenarios[0].Results[0].Metrics.TotalRequests; got != 60 {
		t.Errorf("merged requests %d, want 60", got)
	}

	other := shard(1)
	other.Metadata.ShardCount = 4
	for _, tc := range []struct {
		name  string
		files []*File
		want  string
	}{
		{"shard twice", []*File{s0, s0, s0}, "shard 0/3 is in file 1 and in file 2"},
		{"index twice", []*File{s1, func() *File { f := shard(1); f.Metadata.Timestamp = time.Time{}; return f }()}, "shard 1/3 is in file 1 and in file 2"},
		{"merged and its shard", []*File{m01, s1}, "shard 1/3 is in file 1 and in file 2"},
		{"different counts", []*File{s0, other}, "file 2 holds shards of 4, file 1 of 3"},
	} {
		_, err := Merge(tc.files...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
		if tc.name != "different counts" && !errors.Is(err, ErrDuplicateShard) {
			t.Errorf("%s: error %v is not ErrDuplicateShard", tc.name, err)
		}
	}

	// A file's shard record is checked when it is read.
	bad := shard(0)
	bad.Metadata.ShardIndexes = []int{3}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "shard_indexes") {
		t.Errorf("index 3 of 3: Validate = %v", err)
	}
}

// Merge judges the shards' gates again on the merged histograms: each
// merged verdict is the one judged on all the requests together, not a
// shard's.
func TestMergeRejudgesGates(t *testing.T) {
	ttft := gates.Gate{Metric: lens.MetricTTFT, Percentile: 90, Limit: 0}
	errRate := gates.Gate{Metric: gates.ErrorRate, MaxErrorRate: 0.01}
	a, b := synthResult(1, 60, 1), synthResult(2, 60, 1)
	b.Started = b.Started.Add(time.Minute)
	// A limit near the union's p90, so that shards and union may differ.
	union := a.Clone()
	if err := union.Append(b); err != nil {
		t.Fatal(err)
	}
	ttft.Limit = union.TTFT.Percentile(90) + time.Millisecond
	judge := func(r *lens.Result) []Gate {
		vs, err := gates.NewSession(r, gates.Plan{}, nil).Check(t.Context(), ttft, errRate)
		if err != nil {
			t.Fatal(err)
		}
		return []Gate{GateOf(vs[0]), GateOf(vs[1])}
	}
	file := func(r *lens.Result, shard int) *File {
		f, err := FromResults([]*lens.Result{r}, Metadata{ConfigHash: "h", ShardCount: 2, ShardIndexes: []int{shard}})
		if err != nil {
			t.Fatal(err)
		}
		f.Scenarios[0].Results[0].Gates = judge(r)
		return f
	}
	fa, fb := file(a, 0), file(b, 1)
	m, err := Merge(fa, fb)
	if err != nil {
		t.Fatal(err)
	}
	got, want := m.Scenarios[0].Results[0].Gates, judge(union)
	if len(got) != 2 {
		t.Fatalf("merged gates %+v, want 2", got)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Outcome != want[i].Outcome || got[i].Holds != want[i].Holds ||
			got[i].Requests != 120 || got[i].Requests != want[i].Requests || got[i].EstimateMs != want[i].EstimateMs || got[i].LoMs != want[i].LoMs {
			t.Errorf("merged gate %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if fa.Scenarios[0].Results[0].Gates[0].Requests != 60 {
		t.Error("Merge changed its input's gates")
	}
}
