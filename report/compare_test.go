package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens"
)

// statisticalTest skips a test of Compare's error rates under the race
// detector, saying why: they are single-goroutine arithmetic, in which the
// detector checks nothing, and it slows them tenfold. .ci/run runs them
// again without -race, at full strength: a shortened run would only loosen
// what they check.
func statisticalTest(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("statistical test of Compare: single-goroutine arithmetic, in which the race detector checks nothing; .ci/run runs it at full strength without -race")
	}
}

// Two samples of one distribution: each metric must be flagged significant
// in about Alpha of the trials or fewer.
func TestCompareFalsePositiveRate(t *testing.T) {
	statisticalTest(t)
	const trials = 300
	flagged := map[string]int{}
	tested := map[string]int{}
	for i := range trials {
		old := synthFile(uint64(2*i+1), 500, 1)
		new := synthFile(uint64(2*i+2), 500, 1)
		c := Compare(old, new, CompareOptions{})
		for _, d := range c.Deltas {
			if d.Note != "" {
				continue
			}
			tested[d.Metric]++
			if d.Significant {
				flagged[d.Metric]++
			}
			worse := d.Change
			if !d.LowerIsBetter {
				worse = -worse
			}
			if d.Regression && worse <= DefaultThreshold {
				t.Errorf("trial %d: %s is a regression at change %+.3f", i, d.Metric, d.Change)
			}
		}
	}
	for m, n := range tested {
		rate := float64(flagged[m]) / float64(n)
		t.Logf("%-12s false positives %3d/%d = %.3f", m, flagged[m], n, rate)
		// Alpha 0.05, and three standard errors of the estimate (0.0126
		// for 300 trials).
		if se := math.Sqrt(0.05 * 0.95 / float64(trials)); rate > 0.05+3*se {
			t.Errorf("%s: false-positive rate %.3f, want about 0.05 or less", m, rate)
		}
	}
	if len(tested) < 9 {
		t.Errorf("only %d metrics tested: %v", len(tested), tested)
	}
}

// The same distribution scaled by 1.2 (every latency +20%, tokens/s −17%):
// with 3000 requests a side every compared percentile is a significant
// regression nearly always.
func TestCompareDetectsRegression(t *testing.T) {
	statisticalTest(t)
	const trials = 100
	power := map[string]int{}
	for i := range trials {
		old := synthFile(uint64(1000+2*i), 3000, 1)
		new := synthFile(uint64(1001+2*i), 3000, 1.2)
		c := Compare(old, new, CompareOptions{})
		if !c.Regressed() {
			t.Errorf("trial %d: +20%% not flagged as a regression", i)
		}
		for _, d := range c.Deltas {
			if d.Regression {
				power[d.Metric]++
			}
		}
	}
	for _, m := range []string{"TTFT p50", "TTFT p95", "TTFT p99", "ITL p50", "ITL p99", "TPOT p50", "E2E p50", "E2E p95", "E2E p99", "tokens/s p50"} {
		t.Logf("%-12s power %3d/%d", m, power[m], trials)
		min := trials * 95 / 100
		if m == "TTFT p99" || m == "E2E p99" {
			min = trials * 80 / 100
		}
		if power[m] < min {
			t.Errorf("%s: regression flagged in %d/%d trials, want >= %d", m, power[m], trials, min)
		}
	}
	for _, m := range []string{"error rate", "goodput"} {
		if power[m] != 0 {
			t.Errorf("%s flagged as a regression %d times; it did not change", m, power[m])
		}
	}
}

// Only TTFT shifted by +20%: the TTFT percentiles are regressions, the
// rest (whose samples do not change) are not.
func TestCompareOneDistributionShifted(t *testing.T) {
	statisticalTest(t)
	const trials = 50
	flagged := map[string]int{}
	for i := range trials {
		oldR := synthResultScaled(uint64(5000+i), 3000, 1, 1)
		newR := synthResultScaled(uint64(7000+i), 3000, 1, 1)
		// Fresh TTFT samples for the new run: the same distribution, shifted.
		fresh := synthResultScaled(uint64(9000+i), 3000, 1.2, 1)
		newR.TTFT = fresh.TTFT
		old, _ := FromResults([]*lens.Result{oldR}, Metadata{})
		new, _ := FromResults([]*lens.Result{newR}, Metadata{})
		c := Compare(old, new, CompareOptions{})
		for _, d := range c.Regressions() {
			flagged[d.Metric]++
		}
	}
	for _, m := range []string{"TTFT p50", "TTFT p95", "TTFT p99"} {
		want := trials * 9 / 10
		if m == "TTFT p99" {
			want = trials * 7 / 10
		}
		if flagged[m] < want {
			t.Errorf("%s: regression flagged in %d/%d trials", m, flagged[m], trials)
		}
	}
	// The other metrics did not change: they may be flagged by chance
	// (at most alpha of the time, and then only beyond the threshold).
	for m, n := range flagged {
		if !strings.HasPrefix(m, "TTFT") && n > max(trials/10, 2) {
			t.Errorf("%s flagged in %d/%d trials; only TTFT changed", m, n, trials)
		}
	}
}

func TestCompareIdenticalAndUnmatched(t *testing.T) {
	a := synthFile(1, 400, 1)
	c := Compare(a, a, CompareOptions{})
	if c.Regressed() || len(c.Deltas) != 12 {
		t.Errorf("a file against itself: regressed %v, %d deltas (want 12)", c.Regressed(), len(c.Deltas))
	}
	for _, d := range c.Deltas {
		if d.Significant || d.Change != 0 || d.P != 1 {
			t.Errorf("%s against itself: %+v", d.Metric, d)
		}
	}
	other := synthResult(2, 400, 1)
	other.Model = "gpt-4o"
	b, _ := FromResults([]*lens.Result{other}, Metadata{})
	c = Compare(a, b, CompareOptions{})
	if len(c.Deltas) != 0 || len(c.OnlyOld) != 1 || len(c.OnlyNew) != 1 || c.OnlyNew[0] != "chat openai/gpt-4o" {
		t.Errorf("unmatched: %d deltas, only old %v, only new %v", len(c.Deltas), c.OnlyOld, c.OnlyNew)
	}
}

// A p99 of 50 samples has no bounded interval: no verdict, and the note
// says why.
func TestCompareTooFewSamples(t *testing.T) {
	c := Compare(synthFile(1, 50, 1), synthFile(2, 50, 3), CompareOptions{})
	var p99, p50 *Delta
	for i := range c.Deltas {
		switch c.Deltas[i].Metric {
		case "TTFT p99":
			p99 = &c.Deltas[i]
		case "TTFT p50":
			p50 = &c.Deltas[i]
		}
	}
	if p99 == nil || p99.Significant || p99.Note != "too few samples" {
		t.Errorf("TTFT p99 of 50 samples: %+v", p99)
	}
	if p50 == nil || !p50.Regression {
		t.Errorf("TTFT p50 tripled in 50 samples: %+v", p50)
	}
}

func TestCompareErrorRate(t *testing.T) {
	oldR := synthResult(1, 1000, 1)
	newR := synthResult(2, 1000, 1)
	newR.Total += 60
	newR.Failed += 60
	newR.Errors[lens.ClassHTTP5xx] = 60
	old, _ := FromResults([]*lens.Result{oldR}, Metadata{})
	new, _ := FromResults([]*lens.Result{newR}, Metadata{})
	c := Compare(old, new, CompareOptions{Threshold: 0.1})
	var er *Delta
	for i := range c.Deltas {
		if c.Deltas[i].Metric == "error rate" {
			er = &c.Deltas[i]
		}
	}
	if er == nil || !er.Regression || !math.IsInf(er.Change, 1) || er.P > 1e-6 {
		t.Errorf("error rate 0 → 5.7%%: %+v", er)
	}
	if c.Threshold != 0.1 || c.Alpha != DefaultAlpha {
		t.Errorf("options: alpha %v threshold %v", c.Alpha, c.Threshold)
	}
}

// TestCompareFailsOnWhatItCannotCompare: a result missing from a file, a
// result whose metrics are null, and a metric measured on one side only
// are not "no regression": Compare lists them and Err reports them.
// Partial lets results found in one file only go, but not the rest.
func TestCompareFailsOnWhatItCannotCompare(t *testing.T) {
	a := synthFile(1, 400, 1)
	if err := Compare(a, a, CompareOptions{}).Err(); err != nil {
		t.Fatalf("a file against itself: %v", err)
	}
	decode := func(s string) *File {
		t.Helper()
		f, err := Decode(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	noScenario := decode(strings.Replace(mustJSON(t, a), `"name":"chat"`, `"name":"renamed"`, 1))
	// A result that measured nothing (a file cannot say so with null
	// metrics: TestDecodeRefusesNullMetrics).
	nullMetrics := decode(mustJSON(t, a))
	nullMetrics.Scenarios[0].Results[0].Metrics = Metrics{}
	noTTFT := synthFile(2, 400, 1)
	noTTFT.Scenarios[0].Results[0].Metrics.Latency.TTFT = nil
	for _, tc := range []struct {
		name       string
		new        *File
		partial    bool
		want       string // in Err; "" for none
		comparable bool
	}{
		{"scenario missing", noScenario, false, `chat openai/gpt-4o-mini: only in the old file`, false},
		{"scenario missing, nothing in common, partial", noScenario, true, "no scenario, provider and model in common", false},
		{"nothing measured", nullMetrics, false, "measured 400 requests in the old file, 0 in the new", false},
		{"nothing measured, partial", nullMetrics, true, "measured 400 requests in the old file, 0 in the new", false},
		{"TTFT on one side", noTTFT, false, "TTFT p50: samples on one side only", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(a, tc.new, CompareOptions{Partial: tc.partial})
			err := c.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err() = %v, want one containing %q", err, tc.want)
			}
			var b bytes.Buffer
			if err := WriteCompare(&b, c, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "no regression (") || !strings.Contains(b.String(), "not comparable") {
				t.Errorf("the table claims no regression:\n%s", b.String())
			}
		})
	}
	// With Partial, a result found in one file only is left out as long as
	// another one is compared.
	two := synthFile(3, 400, 1)
	extra := synthResult(4, 400, 1)
	extra.Model = "gpt-4o"
	withExtra, err := FromResults([]*lens.Result{synthResult(3, 400, 1), extra}, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Compare(two, withExtra, CompareOptions{}).Err(); err == nil || !strings.Contains(err.Error(), "chat openai/gpt-4o: only in the new file") {
		t.Errorf("an added result: %v", err)
	}
	c := Compare(two, withExtra, CompareOptions{Partial: true})
	if err := c.Err(); err != nil || len(c.OnlyNew) != 1 || len(c.Deltas) == 0 {
		t.Errorf("partial: err %v, only new %v, %d deltas", err, c.OnlyNew, len(c.Deltas))
	}
}

// Out-of-range options are reported by Validate, and NoThreshold counts a
// significant change however small, where the default 5% does not.
func TestCompareOptionsThresholdAndValidate(t *testing.T) {
	for _, o := range []CompareOptions{
		{Alpha: math.NaN()}, {Alpha: 1.5}, {Alpha: 1}, {Alpha: -0.1},
		{Threshold: math.NaN()}, {Threshold: -0.01}, {Threshold: math.Inf(1)}, {NoThreshold: true, Threshold: 0.1},
	} {
		if o.Validate() == nil {
			t.Errorf("%+v: Validate accepted it", o)
		}
	}
	for _, o := range []CompareOptions{{}, {Alpha: 0.01, Threshold: 0.2}, {NoThreshold: true}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	old := synthFile(3, 5000, 1)
	neu := synthFile(3, 5000, 1.03) // the same draws, 3% slower
	if c := Compare(old, neu, CompareOptions{}); c.Regressed() {
		t.Errorf("3%% slower is a regression at the default 5%% threshold: %v", c.Regressions())
	}
	c := Compare(old, neu, CompareOptions{NoThreshold: true})
	if c.Threshold != 0 || !c.Regressed() {
		t.Errorf("NoThreshold: threshold %v, regressions %v; want 0 and some", c.Threshold, c.Regressions())
	}
}

// TestDecodeRefusesNullMetrics: a result whose metrics are null or missing
// does not load (it read as a result of no requests, beside its gates).
func TestDecodeRefusesNullMetrics(t *testing.T) {
	a := synthFile(1, 400, 1)
	for name, mutate := range map[string]func(map[string]any){
		"null":    func(r map[string]any) { r["metrics"] = nil },
		"missing": func(r map[string]any) { delete(r, "metrics") },
	} {
		_, err := Decode(strings.NewReader(mutatedResult(t, a, mutate)))
		if err == nil || !strings.Contains(err.Error(), "no metrics (missing or null)") {
			t.Errorf("%s metrics: %v", name, err)
		}
	}
}
