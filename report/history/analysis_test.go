package history

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/report"
)

// fakeRun runs n requests against the in-process fake with the given TTFT
// in virtual time and returns the result file, stamped at.
func fakeRun(t *testing.T, ttft fake.Latency, seed uint64, n int, at time.Time) *report.File {
	t.Helper()
	var f *report.File
	synctest.Test(t, func(t *testing.T) {
		res := faketest.Run(t, fake.Config{TTFT: ttft, ITL: fake.Fixed(5 * time.Millisecond), OutputTokens: 4, Seed: seed},
			lens.Scenario{MaxTokens: 8, Requests: n, Concurrency: 8})
		var err error
		f, err = report.FromResults([]*lens.Result{res}, report.Metadata{ConfigHash: "cfg1", Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
	})
	f.Metadata.Timestamp = at
	return f
}

// A TTFT 20% slower than a history of 20 runs is a regression; one more
// run of the same setup is not, and neither drifts.
func TestCheckRegression(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ttft := func(scale float64) fake.Latency {
		return fake.Uniform(time.Duration(80e6*scale), time.Duration(120e6*scale))
	}
	for i := range 20 {
		if _, err := s.Append(ctx, fakeRun(t, ttft(1), uint64(i), 100, t0.Add(time.Duration(i)*time.Hour)), RunInfo{Branch: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	slowID, err := s.Append(ctx, fakeRun(t, ttft(1.2), 100, 100, t0.Add(20*time.Hour)), RunInfo{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Check(ctx, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewRun != slowID || len(res.Baseline) != 20 {
		t.Fatalf("checked run %d against %d runs, want run %d against 20", res.NewRun, len(res.Baseline), slowID)
	}
	if !res.Regressed() || !hasRegression(res, "TTFT p50") || !hasRegression(res, "TTFT p95") {
		t.Errorf("TTFT 20%% slower is not a regression:\n%s", describeCheck(res))
	}

	sameID, err := s.Append(ctx, fakeRun(t, ttft(1), 101, 100, t0.Add(21*time.Hour)), RunInfo{Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	res, err = s.Check(ctx, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewRun != sameID || res.Regressed() {
		t.Errorf("one more run of the same setup fails the check:\n%s", describeCheck(res))
	}

	// A pinned baseline, and a result file given from outside the history.
	if err := s.Pin(ctx, "v1", 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	res, err = s.Check(ctx, CheckOptions{New: fakeRun(t, ttft(1.2), 102, 100, t0), Baseline: Filter{Baseline: "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Baseline) != 3 || !res.Regressed() {
		t.Errorf("against the pinned baseline: %v runs, regressed %v", res.Baseline, res.Regressed())
	}
	if _, err := s.Check(ctx, CheckOptions{Baseline: Filter{Branch: "nope"}}); err == nil || !strings.Contains(err.Error(), "no run to check") {
		t.Errorf("check with nothing selected: %v", err)
	}
	if _, err := s.Check(ctx, CheckOptions{Baseline: Filter{Baseline: "missing"}}); err == nil || !strings.Contains(err.Error(), `no baseline runs (none with baseline "missing"`) {
		t.Errorf("check against a missing baseline: %v", err)
	}
}

func hasRegression(res *CheckResult, metric string) bool {
	for _, d := range res.Comparison.Regressions() {
		if d.Metric == metric {
			return true
		}
	}
	return false
}

func describeCheck(res *CheckResult) string {
	var b strings.Builder
	for _, d := range res.Comparison.Deltas {
		b.WriteString(d.String() + "\n")
	}
	for _, d := range res.Drifts {
		if d.Significant {
			b.WriteString("drift " + d.Metric.String() + "\n")
		}
	}
	return b.String()
}

// A TTFT that grows 2% per run over 15 runs (32% in all) is flagged by the
// trend test, while no comparison of one run with the next is significant:
// each of the 14 consecutive pairs, compared as lens-report compare does
// (report.Compare, alpha 0.05, threshold 5%), finds no significant change
// in any metric, let alone a regression.
//
// Each run is 100 requests whose TTFT is normal with a standard deviation
// of 30% of its mean, in virtual time with a fixed seed, so the 15 runs
// are the same at every test run. The smallest p-value of the 140 pairwise
// tests is 0.061, and the trend test's p-values are near 1e-5. With other
// seeds a pairwise test now and then falls under 0.05 by chance (140 tests
// at alpha 0.05 will), never a regression: the drift itself hides under
// each run's noise, and only the trend over many runs shows it.
func TestCheckDrift(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var files []*report.File
	for i := range 15 {
		scale := math.Pow(1.02, float64(i))
		ttft := fake.Normal(time.Duration(100e6*scale), time.Duration(30e6*scale))
		f := fakeRun(t, ttft, uint64(i), 100, t0.Add(time.Duration(i)*time.Hour))
		files = append(files, f)
		if _, err := s.Append(ctx, f, RunInfo{Branch: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	tests, minP, minMetric := 0, 1.0, ""
	for i := 1; i < len(files); i++ {
		c := report.Compare(files[i-1], files[i], report.CompareOptions{Alpha: report.DefaultAlpha, Threshold: report.DefaultThreshold})
		if err := c.Err(); err != nil {
			t.Fatalf("run %d against run %d: %v", i+1, i, err)
		}
		for _, d := range c.Deltas {
			if d.Significant || d.Regression {
				t.Errorf("run %d against run %d: %s is significant (p %.3g): a pairwise comparison sees the drift", i+1, i, d.Metric, d.P)
			}
			if d.Note == "" {
				tests++
			}
			if d.P < minP {
				minP, minMetric = d.P, fmt.Sprintf("%s, run %d against run %d", d.Metric, i+1, i)
			}
		}
	}
	t.Logf("14 consecutive pairwise compares: %d tests made, none significant; the smallest p-value %.3f (%s)", tests, minP, minMetric)
	res, err := s.Check(ctx, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]Drift{}
	for _, d := range res.Drifts {
		if d.Worse {
			flagged[d.Metric.String()] = d
		}
		if d.Runs != 15 {
			t.Errorf("%s: drift over %d runs, want 15", d.Metric, d.Runs)
		}
	}
	for _, m := range []string{"ttft.p50", "ttft.p95", "e2e.p50"} {
		d, ok := flagged[m]
		if !ok {
			t.Errorf("%s: drift not flagged", m)
			continue
		}
		t.Logf("%s: S=%d Z=%.2f p=%.2g, Sen's slope %+.2f ms/run, %+.0f%% over the window", m, d.S, d.Z, d.P, d.Slope, 100*d.Change)
	}
	if !res.Regressed() {
		t.Error("the check passes a drifting metric")
	}
	for m := range flagged {
		if !strings.HasPrefix(m, "ttft.") && !strings.HasPrefix(m, "e2e.") && m != "tokens_per_second.p50" {
			t.Errorf("%s flagged, but only TTFT (and so E2E and tokens/s) drift", m)
		}
	}
}

// Mann–Kendall on known series: a strictly rising series of 10 has S =
// 45 and a p-value below 0.001; a constant one no trend; short ones are
// not tested.
func TestMannKendall(t *testing.T) {
	up := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	d := mannKendall(up)
	// Var(S) = 10·9·25/18 = 125; Z = 44/sqrt(125) = 3.935.
	if d.S != 45 || math.Abs(d.Z-44/math.Sqrt(125)) > 1e-12 || d.P > 0.001 || d.Slope != 1 {
		t.Errorf("rising: %+v", d)
	}
	if math.Abs(d.Change-9.0/5.5) > 1e-12 {
		t.Errorf("change %v, want 9/5.5", d.Change)
	}
	flat := mannKendall([]float64{3, 3, 3, 3, 3, 3, 3, 3, 3})
	if flat.S != 0 || flat.P != 1 {
		t.Errorf("flat: %+v", flat)
	}
	short := mannKendall([]float64{1, 2, 3})
	if short.P != 1 || short.S != 3 {
		t.Errorf("short: %+v", short)
	}
}

// Trend gives one point per run with its interval; metrics parse and
// refuse.
func TestTrend(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []float64
	for i := range 3 {
		f := synthFile(t0.Add(time.Duration(i)*time.Hour), uint64(i), 300, 1+float64(i)/10)
		want = append(want, f.Scenarios[0].Results[0].Metrics.Latency.TTFT.P95)
		if _, err := s.Append(ctx, f, RunInfo{Commit: "c" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ParseMetric("ttft.p95")
	if err != nil {
		t.Fatal(err)
	}
	series, err := s.Trend(ctx, m, Filter{Scenario: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || len(series[0].Points) != 3 {
		t.Fatalf("series %+v", series)
	}
	for i, p := range series[0].Points {
		if p.Value != want[i] || !(p.Lo < p.Value && p.Value < p.Hi) || p.N != 300 || p.Commit != "c"+string(rune('0'+i)) {
			t.Errorf("point %d = %+v, want value %v inside its interval", i, p, want[i])
		}
	}
	for _, tc := range []struct {
		in   string
		want Metric
	}{
		{"e2e.p99.9", Metric{Dist: "e2e", P: 99.9}},
		{"tokens_per_second.p50", Metric{Dist: "tokens_per_second", P: 50}},
		{"goodput", Metric{Rate: "goodput"}},
	} {
		got, err := ParseMetric(tc.in)
		if err != nil || got != tc.want || got.String() != tc.in {
			t.Errorf("ParseMetric(%q) = %+v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{"ttft", "ttft.p101", "nope.p50", "ttft.pxx", "ttft.pNaN", "ttft.p-1", "ttft.pInf", ""} {
		if _, err := ParseMetric(bad); err == nil {
			t.Errorf("ParseMetric(%q) accepted", bad)
		}
	}
	er, _ := ParseMetric("error_rate")
	series, err = s.Trend(ctx, er, Filter{})
	if err != nil || len(series) != 1 {
		t.Fatal(series, err)
	}
	if p := series[0].Points[0]; math.Abs(p.Value-2.0/302) > 1e-12 || !(p.Lo < p.Value && p.Value < p.Hi) {
		t.Errorf("error rate point %+v", p)
	}
}
