package fake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLatency(t *testing.T) {
	const n = 20000
	tests := []struct {
		name     string
		l        Latency
		min, max time.Duration
		mean     time.Duration
		tol      time.Duration // on the mean
		str      string
	}{
		{"fixed", Fixed(7 * time.Millisecond), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 0, "fixed(7ms)"},
		{"fixed zero", Fixed(0), 0, 0, 0, 0, "fixed(0s)"},
		{"uniform", Uniform(10*time.Millisecond, 30*time.Millisecond), 10 * time.Millisecond, 30 * time.Millisecond, 20 * time.Millisecond, 300 * time.Microsecond, "uniform(10ms, 30ms)"},
		{"uniform degenerate", Uniform(time.Second, time.Second), time.Second, time.Second, time.Second, 0, "uniform(1s, 1s)"},
		{"normal", Normal(50*time.Millisecond, 5*time.Millisecond), 0, time.Hour, 50 * time.Millisecond, 300 * time.Microsecond, "normal(50ms, 5ms)"},
		{"normal clamped", Normal(0, 10*time.Millisecond), 0, time.Hour, 4 * time.Millisecond, 300 * time.Microsecond, "normal(0s, 10ms)"}, // E[max(X,0)] = σ/√(2π) ≈ 3.99ms
		// The median of a log-normal is its parameter; its mean is median·e^(σ²/2).
		{"lognormal", LogNormal(40*time.Millisecond, 0.3), 0, time.Hour, time.Duration(40e6 * math.Exp(0.045)), 400 * time.Microsecond, "lognormal(40ms, 0.3)"},
		{"func", LatencyFunc(func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(2)) * time.Second }), 0, time.Second, 500 * time.Millisecond, 20 * time.Millisecond, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var sum float64
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			for range n {
				d := tt.l.Sample(r)
				lo, hi = min(lo, d), max(hi, d)
				sum += float64(d)
			}
			assert.GreaterOrEqual(t, lo, tt.min)
			assert.LessOrEqual(t, hi, tt.max)
			assert.InDelta(t, float64(tt.mean), sum/n, float64(tt.tol))
			if tt.str != "" {
				assert.Equal(t, tt.str, fmt.Sprint(tt.l))
			}
		})
	}
	// A uniform distribution reaches both ends.
	r := rand.New(rand.NewPCG(3, 4))
	u := Uniform(0, 3)
	seen := map[time.Duration]bool{}
	for range 1000 {
		seen[u.Sample(r)] = true
	}
	assert.Len(t, seen, 4)
}

func TestLatencyPanics(t *testing.T) {
	assert.Panics(t, func() { Fixed(-1) })
	assert.Panics(t, func() { LogNormal(0, 1) })
	assert.Panics(t, func() { LogNormal(time.Millisecond, -1) })
	assert.Panics(t, func() { Uniform(-1, 1) })
	assert.Panics(t, func() { Uniform(2, 1) })
	assert.Panics(t, func() { Normal(-1, 1) })
	assert.Panics(t, func() { Normal(1, -1) })
}

func TestNegativeSamplesAreZero(t *testing.T) {
	neg := LatencyFunc(func(*rand.Rand) time.Duration { return -time.Second })
	p := newPlan(&Config{TTFT: neg, ITL: neg, OutputTokens: 3, TokensPerChunk: 1}, 0, time.Now(), "m", 1, 0)
	assert.Equal(t, []time.Duration{0, 0, 0}, p.offsets)
}

func TestEstimateTokens(t *testing.T) {
	for s, want := range map[string]int{"": 1, "a": 1, "abcd": 1, "abcde": 2, "héllo wörld!": 3, "日本語のテキスト": 2} {
		assert.Equal(t, want, EstimateTokens(s), "%q", s)
	}
}

func TestTokens(t *testing.T) {
	a := Tokens(1, 0, 50)
	assert.Len(t, a, 50)
	assert.Equal(t, a[:10], Tokens(1, 0, 10), "a shorter response is a prefix")
	assert.NotEqual(t, a, Tokens(1, 1, 50), "requests differ")
	assert.NotEqual(t, a, Tokens(2, 0, 50), "seeds differ")
	assert.Regexp(t, `^[A-Z]`, a[0])
	for i, w := range a {
		assert.Regexp(t, token, w)
		if i > 0 {
			assert.Regexp(t, `^ `, w)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"plain", `quote " and \ backslash`, "new\nline\ttab\r", "\x00\x1f", "é 日本 😀", "\u2028\u2029", "bad \xff utf8", "<&>"} {
		got := string(appendString(nil, s))
		var back string
		assert.NoError(t, jsonUnmarshal(got, &back), "%q", got)
		want := s
		if s == "bad \xff utf8" {
			want = "bad \ufffd utf8"
		}
		assert.Equal(t, want, back)
	}
	assert.Equal(t, `"a\"b\\c\n\u0001\u2028"`, string(appendString(nil, "a\"b\\c\n\x01\u2028")))
	assert.Equal(t, `"ab\"c"`, string(appendTokens(nil, []string{"a", "b\"", "c"})))
}
