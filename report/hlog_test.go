package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// The log reads back with HdrHistogram's own log reader: one histogram per
// second, holding the TTFTs of the requests that ended in it.
func TestWriteHistogramLog(t *testing.T) {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var reqs []RawRequest
	want := map[int]*stats.Latency{}
	all := stats.NewLatency()
	for i := range 600 {
		ttft := time.Duration(10+i%97) * time.Millisecond
		send := base.Add(time.Duration(i) * 7 * time.Millisecond) // 0..4.2s
		e2e := ttft + 300*time.Millisecond
		ns := int64(ttft)
		reqs = append(reqs, RawRequest{Timestamp: send, Timing: RawTiming{TTFTNs: &ns, TotalDurationNs: int64(e2e)}})
		sec := int(send.Add(e2e).Sub(base) / time.Second)
		if want[sec] == nil {
			want[sec] = stats.NewLatency()
		}
		want[sec].Record(ttft)
		all.Record(ttft)
	}
	// Failed and warmup requests are not logged.
	ns := int64(time.Hour)
	reqs = append(reqs, RawRequest{Timestamp: base, Error: &RawError{Code: "timeout"}, Timing: RawTiming{TTFTNs: &ns}},
		RawRequest{Timestamp: base, Warmup: true, Timing: RawTiming{TTFTNs: &ns}})
	// Out of order is fine.
	reqs[0], reqs[599] = reqs[599], reqs[0]

	var b bytes.Buffer
	if err := WriteHistogramLog(&b, RawRequests(reqs), HistogramLogOptions{}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, h := range []string{"#[Histogram log format version 1.3]\n", "#[StartTime: 1740830400.000 (seconds since epoch), 2025-03-01T12:00:00Z]\n",
		"#[BaseTime: 1740830400.000 (seconds since epoch)]\n", "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"} {
		if !strings.Contains(text, h) {
			t.Errorf("log lacks %q", h)
		}
	}
	merged := stats.NewLatency()
	intervals := hlogIntervals(t, strings.NewReader(text))
	for n, h := range intervals {
		w := want[n]
		if w == nil {
			w = stats.NewLatency()
		}
		if h.TotalCount() != w.Count() {
			t.Errorf("interval %d: %d values, want %d", n, h.TotalCount(), w.Count())
		}
		if w.Count() > 0 && time.Duration(h.Max()) != w.Max() {
			t.Errorf("interval %d: max %v, want %v", n, time.Duration(h.Max()), w.Max())
		}
		if start, end := h.StartTimeMs(), h.EndTimeMs(); end-start != 1000 || start != 1740830400000+int64(n)*1000 {
			t.Errorf("interval %d: %d..%d ms", n, start, end)
		}
		enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		l, err := stats.DecodeLatency(enc)
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(l)
	}
	if len(intervals) != len(want) {
		t.Errorf("%d intervals, want %d", len(intervals), len(want))
	}
	for p := 0.0; p <= 100; p += 1 {
		if merged.Percentile(p) != all.Percentile(p) {
			t.Fatalf("p%g of the log %v, of the requests %v", p, merged.Percentile(p), all.Percentile(p))
		}
	}
	// Interval_Max is in milliseconds.
	line := strings.Split(strings.TrimSpace(text), "\n")[5]
	if f := strings.Split(line, ","); len(f) != 4 || f[0] != "0.000" || f[1] != "1.000" || !strings.HasPrefix(f[3], "HISTF") {
		t.Errorf("first interval line %q", line)
	}
}

func TestWriteHistogramLogOptions(t *testing.T) {
	base := time.Unix(1000, 0)
	tpot := int64(2 * time.Millisecond)
	reqs := []RawRequest{
		{Timestamp: base, Timing: RawTiming{TPOTNs: &tpot, TotalDurationNs: int64(50 * time.Millisecond), TokenLatenciesNs: []int64{1e6, 2e6, 3e6}}},
		{Timestamp: base.Add(5 * time.Second), Timing: RawTiming{TotalDurationNs: int64(time.Second), TokenLatenciesNs: []int64{4e6}}},
	}
	var b bytes.Buffer
	if err := WriteHistogramLog(&b, RawRequests(reqs), HistogramLogOptions{Metric: lens.MetricITL, Interval: 2 * time.Second, Tag: "itl"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var data []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Tag=itl,") {
			data = append(data, l)
		}
	}
	// Ends at 0.05s and 6s: intervals 0, 1 and 2 (empty) and 3, of 2s each;
	// maxima in ms, as the histogram resolves them (4ms is 4.002ms).
	if len(data) != 4 || !strings.HasPrefix(data[0], "Tag=itl,0.000,2.000,3.00") || !strings.HasPrefix(data[1], "Tag=itl,2.000,2.000,0.000,") ||
		!strings.HasPrefix(data[2], "Tag=itl,4.000,2.000,0.000,") || !strings.HasPrefix(data[3], "Tag=itl,6.000,2.000,4.00") {
		t.Errorf("interval lines:\n%s", strings.Join(data, "\n"))
	}
	if err := WriteHistogramLog(&b, RawRequests(reqs), HistogramLogOptions{Tag: "a b"}); err == nil {
		t.Error("tag with a space: no error")
	}
	if err := WriteHistogramLog(&b, RawRequests(reqs), HistogramLogOptions{Metric: "nope"}); err == nil {
		t.Error("unknown metric: no error")
	}
}

// hlogIntervals reads every interval histogram of the histogram log r.
func hlogIntervals(t *testing.T, r io.Reader) []*hdrhistogram.Histogram {
	t.Helper()
	lr := hdrhistogram.NewHistogramLogReader(r)
	var hs []*hdrhistogram.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			return hs
		}
		hs = append(hs, h)
	}
}
