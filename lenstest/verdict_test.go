package lenstest_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
)

// quietRecorder is a recorder that also drops attributes, for tests that
// run many gates.
type quietRecorder struct{ recorder }

func (r *quietRecorder) Attr(key, value string) {}

// trialStats is what gateTrials measured over its gates.
type trialStats struct {
	fails int     // gates that failed
	meanN float64 // mean requests each gate used
	// predicted is the mean probability of failing that the verdicts
	// predicted for a fresh run: the flake risk of a holding gate, the
	// complement of a failing one's.
	predicted float64
	// passRisk is the mean flake risk of the holding gates alone: what
	// they predicted for the chance that a fresh run fails.
	passRisk float64
}

// gateTrials runs trials independent gates of AssertP95TTFT(limit), each
// against a fresh fake whose TTFT is Normal(mean, 7ms), seeded by its trial
// number, with Requests 100 and the given budget.
func gateTrials(t *testing.T, trials int, mean time.Duration, limit time.Duration, budget int) trialStats {
	t.Helper()
	var st trialStats
	var passes int
	for i := range trials {
		sc := mockScenario(fake.Config{
			TTFT: fake.Normal(mean, 7*time.Millisecond), ITL: fake.Fixed(time.Millisecond),
			OutputTokens: 2, Seed: uint64(1000*budget + i + 1),
		}, 100, 16)
		sc.MaxRequests = budget
		rec := &quietRecorder{recorder{TB: t}}
		res := lenstest.Bench(rec, sc)
		v := res.Verdict("ttft", 95, limit)
		held := res.AssertP95TTFT(limit)
		require.Equal(t, v.Holds, held, "the assertion decides as its verdict does")
		st.meanN += float64(v.N)
		if held {
			passes++
			st.passRisk += v.FlakeRisk
			st.predicted += v.FlakeRisk
		} else {
			st.fails++
			st.predicted += 1 - v.FlakeRisk
		}
	}
	st.meanN /= float64(trials)
	st.predicted /= float64(trials)
	if passes > 0 {
		st.passRisk /= float64(passes)
	}
	return st
}

// The three TTFT distributions of the operating characteristic, all with a
// standard deviation of 7ms and a 50ms limit on p95 (z(0.95) = 1.6449):
// p95 at 47.5ms (5% headroom), exactly at the limit, and at 60ms (20% over).
const (
	headroomMean = 36 * time.Millisecond                        // p95 = 47.51ms
	atLimitMean  = 50*time.Millisecond - 11514*time.Microsecond // p95 = 50.00ms
	overMean     = 60*time.Millisecond - 11514*time.Microsecond // p95 = 60.00ms
	limit        = 50 * time.Millisecond
)

// TestVerdictOperatingCharacteristic measures, in virtual time against the
// fake, what a gate with a budget promises a CI pipeline: with 5% of
// headroom it (almost) never fails, 20% over it (almost) always fails, and
// at the limit it is not biased towards passing; and what it costs.
func TestVerdictOperatingCharacteristic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		trials := 100
		if raceEnabled {
			t.Skip("the operating characteristic runs 130,000 requests: .ci/run runs it without the race detector, and verdict's TestOperatingCharacteristicExact computes it exactly")
		}
		st := gateTrials(t, trials, headroomMean, limit, 800)
		fails, n := st.fails, st.meanN
		t.Logf("5%% headroom, budget 800: %d of %d gates failed, %.0f requests per gate", fails, trials, n)
		assert.Less(t, fails, 1, "false-fail rate must be under 1%")
		assert.Less(t, n, 400.0, "mean requests at 5%% headroom")

		st = gateTrials(t, trials, overMean, limit, 800)
		fails, n = st.fails, st.meanN
		t.Logf("20%% over, budget 800: %d of %d gates failed, %.0f requests per gate", fails, trials, n)
		assert.Greater(t, fails, 95, "a regression of 20% must fail more than 95% of the time")
		assert.Less(t, n, 200.0, "mean requests at 20%% over")

		st = gateTrials(t, trials, atLimitMean, limit, 800)
		fails, n = st.fails, st.meanN
		t.Logf("at the limit, budget 800: %d of %d gates failed, %.0f requests per gate", fails, trials, n)
		assert.GreaterOrEqual(t, fails, 30, "a gate at its limit must not be biased to pass")
		assert.LessOrEqual(t, fails, 70, "a gate at its limit must not be biased to fail")
	})
}

// TestVerdictFlakeRisk: for the plain gate (no budget) at 100 requests
// with 5% of headroom, the flake risk that holding gates report — their
// estimate of the chance that a fresh run fails — agrees with the rate at
// which fresh runs do fail within a factor of 2. Both the observed rates and
// the estimator's exact expectations are reported.
func TestVerdictFlakeRisk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		trials := 1000
		if raceEnabled {
			trials = 50
		}
		st := gateTrials(t, trials, headroomMean, limit, 0)
		observed := float64(st.fails) / float64(trials)
		// Exactly: a gate fails when fewer than 95 of its 100 samples are
		// below 50ms, each with probability q = Φ(2).
		const n, r = 100, 95
		q := 0.5 * math.Erfc(-2/math.Sqrt2)
		fail := func(q float64) float64 { // P(Binomial(n, q) < r)
			var s float64
			for k := range r {
				s += binomPMF(n, k, q)
			}
			return s
		}
		exact := fail(q)
		// The estimator's exact expectation: flip(k) = fail(k/n) for a
		// holding gate, its complement for a failing one; flake risk =
		// 2 flip(k/n) - E*[flip(K*/n)], K* ~ Binomial(n, k/n), clamped.
		var expected, passRisk, passProb float64
		for k := 0; k <= n; k++ {
			holds := k >= r
			flip := func(p float64) float64 {
				if holds {
					return fail(p)
				}
				return 1 - fail(p)
			}
			p := float64(k) / n
			var boot float64
			for j := 0; j <= n; j++ {
				boot += binomPMF(n, j, p) * flip(float64(j)/n)
			}
			risk := min(max(2*flip(p)-boot, 0), 1)
			w := binomPMF(n, k, q)
			if holds {
				passRisk += w * risk
				passProb += w
			} else {
				risk = 1 - risk
			}
			expected += w * risk
		}
		passRisk /= passProb
		t.Logf("plain gate, 100 requests, 5%% headroom: %d of %d failed (%.2f%%, exact %.2f%%)",
			st.fails, trials, 100*observed, 100*exact)
		t.Logf("flake risk of the holding gates (their predicted chance that a fresh run fails): mean %.2f%% (exact expectation %.2f%%): %.2fx the observed false-fail rate (%.2fx exactly)",
			100*st.passRisk, 100*passRisk, st.passRisk/observed, passRisk/exact)
		t.Logf("over every gate, failing ones by their complement: mean predicted fail %.2f%% (exact expectation %.2f%%): %.2fx the observed (%.2fx exactly)",
			100*st.predicted, 100*expected, st.predicted/observed, expected/exact)
		if raceEnabled {
			return // too few trials under the race detector to compare rates
		}
		assert.InDelta(t, exact, observed, 0.015, "the harness reproduces the exact false-fail rate")
		assert.InDelta(t, passRisk, st.passRisk, 0.01, "the flake risk is the bias-corrected bootstrap")
		assert.InDelta(t, expected, st.predicted, 0.01, "the flake risk is the bias-corrected bootstrap")
		assert.Less(t, passRisk/exact, 2.0, "the holding gates' flake risk predicts the false-fail rate within 2x (exactly)")
		assert.Less(t, st.passRisk/observed, 2.0, "the holding gates' flake risk predicts the false-fail rate within 2x (observed)")
		assert.Greater(t, st.passRisk, observed, "the flake risk errs on the side of warning")
	})
}

func binomPMF(n, k int, q float64) float64 {
	switch {
	case q <= 0:
		return map[bool]float64{true: 1}[k == 0]
	case q >= 1:
		return map[bool]float64{true: 1}[k == n]
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(q) + float64(n-k)*math.Log1p(-q))
}

// TestFlakyPassLogged: a pass whose flake risk is over 1% is logged, with
// the requests that would steady it; and Verdict, not failing, says the
// same.
func TestFlakyPassLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for seed := uint64(1); seed <= 200; seed++ {
			sc := mockScenario(fake.Config{TTFT: fake.Normal(headroomMean, 7*time.Millisecond), OutputTokens: 2, Seed: seed}, 100, 16)
			rec := &quietRecorder{recorder{TB: t}}
			res := lenstest.Bench(rec, sc)
			v := res.Verdict("ttft", 95, limit)
			if !v.Holds || v.FlakeRisk <= 0.01 {
				continue
			}
			require.True(t, res.AssertP95TTFT(limit))
			require.Empty(t, rec.errors)
			var logged string
			for _, l := range rec.logs {
				if strings.Contains(l, "is flaky") {
					logged = l
				}
			}
			require.NotEmpty(t, logged, "seed %d: flake risk %.3f, logs %q", seed, v.FlakeRisk, rec.logs)
			assert.Contains(t, logged, "requests would bring that under 0.1%")
			assert.Positive(t, v.Steady)
			assert.Contains(t, logged, fmt.Sprintf("about %d requests would bring", v.Steady))
			t.Log(logged)
			return
		}
		t.Fatal("no seed gave a flaky pass")
	})
}

// TestVerdictAgreesWithAssertOnTooFew: p99 of 20 requests cannot be
// bounded; the assertion fails saying so, and Verdict, which decides it,
// does not hold either.
func TestVerdictAgreesWithAssertOnTooFew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := mockScenario(fake.Config{TTFT: fake.Fixed(2 * time.Millisecond), OutputTokens: 2, Seed: 1}, 20, 4)
		rec := &recorder{TB: t}
		res := lenstest.Bench(rec, sc)
		v := res.Verdict("ttft", 99, time.Second)
		assert.False(t, v.Holds)
		assert.True(t, v.Unsupported())
		assert.False(t, res.AssertP99TTFT(time.Second))
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "20 samples are too few")
	})
}
