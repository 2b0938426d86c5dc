package fake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// A Latency is a distribution of durations. Those of Fixed, Uniform,
// Normal and LogNormal print as the configuration and the lens-report
// fake flags write them: "uniform(40ms, 120ms)".
//
// The server samples it with a random number generator seeded from
// [Config.Seed] and the request's number, so the same seed gives the same
// schedules. A negative sample counts as 0.
// Sample may be called from many goroutines at once, each with its own
// generator.
type Latency interface {
	Sample(r *rand.Rand) time.Duration
}

// LatencyFunc adapts a function to the [Latency] interface.
type LatencyFunc func(r *rand.Rand) time.Duration

// Sample calls f(r).
func (f LatencyFunc) Sample(r *rand.Rand) time.Duration { return f(r) }

// Fixed returns a Latency that is always d. It panics if d is negative.
func Fixed(d time.Duration) Latency {
	if d < 0 {
		panic(fmt.Sprintf("fake: Fixed(%v): negative duration", d))
	}
	return fixed(d)
}

type fixed time.Duration

func (f fixed) Sample(*rand.Rand) time.Duration { return time.Duration(f) }
func (f fixed) String() string                  { return fmt.Sprintf("fixed(%v)", time.Duration(f)) }

// Uniform returns a Latency drawn uniformly from [lo, hi]. It panics if lo is
// negative or hi is below lo; Uniform(d, d) is Fixed(d).
func Uniform(lo, hi time.Duration) Latency {
	if lo < 0 || hi < lo {
		panic(fmt.Sprintf("fake: Uniform(%v, %v): want 0 <= lo <= hi", lo, hi))
	}
	return uniform{lo, hi}
}

type uniform struct{ lo, hi time.Duration }

func (u uniform) Sample(r *rand.Rand) time.Duration {
	return u.lo + time.Duration(r.Int64N(int64(u.hi-u.lo)+1))
}
func (u uniform) String() string { return fmt.Sprintf("uniform(%v, %v)", u.lo, u.hi) }

// Normal returns a normally distributed Latency with the given mean and
// standard deviation. Samples below 0 are clamped to 0, so a mean less than
// about three standard deviations puts visible weight on 0. It panics if mean
// or stddev is negative.
func Normal(mean, stddev time.Duration) Latency {
	if mean < 0 || stddev < 0 {
		panic(fmt.Sprintf("fake: Normal(%v, %v): negative parameter", mean, stddev))
	}
	return normal{mean, stddev}
}

type normal struct{ mean, stddev time.Duration }

func (n normal) Sample(r *rand.Rand) time.Duration {
	d := time.Duration(float64(n.mean) + r.NormFloat64()*float64(n.stddev))
	return max(d, 0)
}
func (n normal) String() string { return fmt.Sprintf("normal(%v, %v)", n.mean, n.stddev) }

// LogNormal returns a log-normally distributed Latency with the given
// median and shape sigma: the long right tail of real servers. It panics if
// median is not positive or sigma is negative.
func LogNormal(median time.Duration, sigma float64) Latency {
	if median <= 0 || sigma < 0 || math.IsNaN(sigma) || math.IsInf(sigma, 0) {
		panic(fmt.Sprintf("fake: LogNormal(%v, %v): want median > 0 and sigma >= 0", median, sigma))
	}
	return logNormal{median, sigma}
}

type logNormal struct {
	median time.Duration
	sigma  float64
}

func (l logNormal) Sample(r *rand.Rand) time.Duration {
	return time.Duration(float64(l.median) * math.Exp(l.sigma*r.NormFloat64()))
}
func (l logNormal) String() string { return fmt.Sprintf("lognormal(%v, %v)", l.median, l.sigma) }
