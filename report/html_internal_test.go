package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

func TestNiceStep(t *testing.T) {
	for _, c := range []struct {
		span float64
		n    int
		want float64
	}{
		{10, 5, 2}, {1, 5, 0.2}, {7, 6, 2}, {0.003, 4, 0.001}, {1000, 4, 250}, {3, 6, 0.5}, {90, 3, 50},
	} {
		if got := niceStep(c.span, c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("niceStep(%v, %d) = %v, want %v", c.span, c.n, got, c.want)
		}
	}
}

func TestStepDecimals(t *testing.T) {
	for step, want := range map[float64]int{250: 0, 2.5: 1, 0.25: 2, 0.001: 3, 5: 0, 0.5: 1, 1e-5: 5, 20: 0} {
		if got := stepDecimals(step); got != want {
			t.Errorf("stepDecimals(%v) = %d, want %d", step, got, want)
		}
	}
}

func TestLinearTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {0, 0}, {5, 5}, {60, 62}, {0.0004, 0.0009}, {0, 1767}, {3, 1e6}, {-1, math.NaN()}, {math.Inf(1), 1}} {
		lo, hi, ts := linearTicks(r[0], r[1], 5, nil)
		if !(hi > lo) || math.IsNaN(lo) || math.IsInf(hi, 0) {
			t.Errorf("linearTicks(%v, %v): interval [%v, %v]", r[0], r[1], lo, hi)
			continue
		}
		if len(ts) < 2 || len(ts) > 12 {
			t.Errorf("linearTicks(%v, %v): %d ticks", r[0], r[1], len(ts))
		}
		if ts[0].v != lo || math.Abs(ts[len(ts)-1].v-hi) > 1e-9*math.Max(1, hi) {
			t.Errorf("linearTicks(%v, %v): ticks %v do not span [%v, %v]", r[0], r[1], ts, lo, hi)
		}
		if !math.IsNaN(r[1]) && !math.IsInf(r[0], 0) && (lo > r[0] || hi < r[1]) {
			t.Errorf("linearTicks(%v, %v) = [%v, %v]: does not hold the data", r[0], r[1], lo, hi)
		}
		seen := map[string]bool{}
		for i, tk := range ts {
			if seen[tk.label] {
				t.Errorf("linearTicks(%v, %v): label %q twice in %v", r[0], r[1], tk.label, ts)
			}
			seen[tk.label] = true
			if i > 0 && tk.v <= ts[i-1].v {
				t.Errorf("linearTicks(%v, %v): ticks not increasing: %v", r[0], r[1], ts)
			}
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi   float64
		min, max int // tick count
	}{
		{0.15, 20000, 5, 7}, {2, 600, 6, 9}, {0.001, 1, 4, 10}, {3, 3.1, 2, 3},
	} {
		lo, hi, ts := logTicks(c.lo, c.hi, fmtTick)
		if lo > c.lo || hi < c.hi || lo <= 0 {
			t.Errorf("logTicks(%v, %v) = [%v, %v]: does not hold the data", c.lo, c.hi, lo, hi)
		}
		if len(ts) < c.min || len(ts) > c.max {
			t.Errorf("logTicks(%v, %v): %d ticks %v, want %d to %d", c.lo, c.hi, len(ts), ts, c.min, c.max)
		}
		for i := 1; i < len(ts); i++ {
			if ts[i].v <= ts[i-1].v {
				t.Errorf("logTicks(%v, %v): not increasing: %v", c.lo, c.hi, ts)
			}
		}
	}
	_, _, ts := logTicks(0.15, 20000, fmtTick)
	var labels []string
	for _, tk := range ts {
		labels = append(labels, tk.label)
	}
	if got, want := strings.Join(labels, ","), "100 µs,1 ms,10 ms,100 ms,1 s,10 s"; got != want {
		t.Errorf("labels of 0.15 ms to 20 s: %s, want %s", got, want)
	}
}

func TestFmtMs(t *testing.T) {
	for ms, want := range map[float64]string{
		0: "0", 0.85: "850 µs", 0.0012: "1.20 µs", 4.321: "4.32 ms", 43.21: "43.2 ms", 432.1: "432 ms",
		1234: "1.23 s", 98765: "98.8 s", math.NaN(): "–",
	} {
		if got := fmtMs(ms); got != want {
			t.Errorf("fmtMs(%v) = %q, want %q", ms, got, want)
		}
	}
	if got, want := thousands(1234567)+" "+thousands(-1234)+" "+thousands(999), "1,234,567 -1,234 999"; got != want {
		t.Errorf("thousands of 1234567, -1234 and 999: %q, want %q", got, want)
	}
}

func TestRankAtMost(t *testing.T) {
	l := stats.NewLatency()
	l.RecordN(time.Millisecond, 100)
	l.RecordN(2*time.Millisecond, 300)
	l.RecordN(3*time.Millisecond, 600)
	for v, want := range map[time.Duration]int64{
		500 * time.Microsecond: 0, 1500 * time.Microsecond: 100, 2500 * time.Microsecond: 400, 3500 * time.Microsecond: 1000,
	} {
		if got := rankAtMost(l, int64(v), 0); got != want {
			t.Errorf("rankAtMost(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestHistogramChart(t *testing.T) {
	l := stats.NewLatency()
	l.RecordN(time.Millisecond, 100)
	l.RecordN(2*time.Millisecond, 300)
	l.RecordN(3*time.Millisecond, 600)
	c := histogramChart("h", "ITL", "ITL", "gaps", l, "#000", "empty")
	if c.Empty != "" || len(c.Rects) != 3 {
		t.Fatalf("%d bars (empty %q), want 3", len(c.Rects), c.Empty)
	}
	// Heights are proportional to the counts, 1:3:6.
	h := []float64{c.Rects[0].H, c.Rects[1].H, c.Rects[2].H}
	if math.Abs(h[1]/h[0]-3) > 0.01 || math.Abs(h[2]/h[0]-6) > 0.01 {
		t.Errorf("bar heights %v, want in the ratio 1:3:6", h)
	}
	for i, want := range []string{"100 gaps (10.0%)", "300 gaps (30.0%)", "600 gaps (60.0%)"} {
		if !strings.Contains(c.Rects[i].Title, want) {
			t.Errorf("bar %d: %q, want %q", i, c.Rects[i].Title, want)
		}
	}

	// A long tail is cut at p99.5, and the note counts what is beyond.
	l.RecordN(500*time.Millisecond, 2)
	c = histogramChart("h", "ITL", "ITL", "gaps", l, "#000", "empty")
	if !strings.Contains(c.Note, "2 gaps above") {
		t.Errorf("note %q, want it to count the 2 gaps beyond the axis", c.Note)
	}

	if c := histogramChart("h", "ITL", "ITL", "gaps", stats.NewLatency(), "#000", "nothing here"); c.Empty != "nothing here" {
		t.Errorf("empty distribution: Empty = %q", c.Empty)
	}
}

func TestCDFPoints(t *testing.T) {
	small := stats.NewLatency()
	for i := range 10 {
		small.Record(time.Duration(i+1) * time.Millisecond)
	}
	large := stats.NewLatency()
	for i := range 5000 {
		large.Record(time.Duration(i%977+1) * time.Millisecond)
	}
	for name, c := range map[string]struct {
		l    *stats.Latency
		want int
	}{"small": {small, 20}, "large": {large, len(cdfPercentiles)}} {
		pts := cdfPoints(c.l)
		if len(pts) != c.want {
			t.Errorf("%s: %d points, want %d", name, len(pts), c.want)
			continue
		}
		if pts[len(pts)-1][1] != 1 || pts[0][1] != 0 {
			t.Errorf("%s: CDF from %v to %v, want 0 to 1", name, pts[0][1], pts[len(pts)-1][1])
		}
		for i := 1; i < len(pts); i++ {
			if pts[i][0] < pts[i-1][0] || pts[i][1] < pts[i-1][1] {
				t.Errorf("%s: CDF decreases at point %d: %v then %v", name, i, pts[i-1], pts[i])
			}
		}
	}
	if pts := cdfPoints(stats.NewLatency()); len(pts) != 0 {
		t.Errorf("empty distribution: %d points", len(pts))
	}
}

func TestCDFChartLogScale(t *testing.T) {
	narrow, wide := stats.NewLatency(), stats.NewLatency()
	for i := range 100 {
		narrow.Record(time.Duration(100+i) * time.Millisecond)
		wide.Record(time.Duration(1+i*i*5) * time.Millisecond)
	}
	if c := cdfChart("c", "TTFT", "TTFT", []cdfSeries{{"a", "#000", narrow}}); strings.Contains(c.Note, "logarithmic") {
		t.Errorf("100 to 199 ms is drawn on a log axis")
	}
	c := cdfChart("c", "TTFT", "TTFT", []cdfSeries{{"a", "#000", narrow}, {"b", "#111", wide}})
	if !strings.Contains(c.Note, "logarithmic") {
		t.Errorf("1 ms to 49 s is drawn on a linear axis")
	}
	if len(c.Paths) != 2 || len(c.Legend) != 2 {
		t.Errorf("%d lines, %d legend entries; want 2 and 2", len(c.Paths), len(c.Legend))
	}
}

func TestTimelineChart(t *testing.T) {
	c := timelineChart("t", "Throughput", []lens.Tick{{Requests: 10, Failed: 2, OutputTokens: 160}, {}, {Requests: 5, OutputTokens: 80}})
	// Second 0: succeeded and failed; second 1: nothing; second 2: succeeded.
	if len(c.Rects) != 3 || len(c.Marks) != 1 {
		t.Fatalf("%d bars and %d failure marks, want 3 and 1", len(c.Rects), len(c.Marks))
	}
	if !strings.Contains(c.Rects[0].Title, "8 succeeded (8.00/s)") || !strings.Contains(c.Rects[1].Title, "2 failed (2.00/s)") {
		t.Errorf("bar titles %q, %q", c.Rects[0].Title, c.Rects[1].Title)
	}
	long := make([]lens.Tick, 1000)
	for i := range long {
		long[i] = lens.Tick{Requests: 3, OutputTokens: 30}
	}
	c = timelineChart("t", "Throughput", long)
	if len(c.Rects) > maxTimelineBars || !strings.Contains(c.Note, "9 s wide") {
		t.Errorf("1000 s: %d bars, note %q; want at most %d, 9 s each", len(c.Rects), c.Note, maxTimelineBars)
	}
	if !strings.Contains(c.Rects[0].Title, "(3.00/s)") {
		t.Errorf("a 9 s bar of 3 requests a second says %q", c.Rects[0].Title)
	}
}
