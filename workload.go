package lens

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Dist is a distribution of non-negative numbers, used for prompt lengths
// and output token limits. Sample draws one value with r.
type Dist interface {
	Sample(r *rand.Rand) float64
	String() string
}

// FixedDist is the distribution that is always v.
func FixedDist(v float64) Dist { return fixedDist(v) }

// UniformDist is uniform on [lo, hi].
func UniformDist(lo, hi float64) Dist { return uniformDist{lo, hi} }

// NormalDist is normal with the given mean and standard deviation, truncated
// at 0.
func NormalDist(mean, stddev float64) Dist { return normalDist{mean, stddev} }

// LogNormalDist is log-normal with the given median and shape sigma: the
// long-tailed shape of real prompt and answer lengths.
func LogNormalDist(median, sigma float64) Dist { return logNormalDist{median, sigma} }

type fixedDist float64

func (d fixedDist) Sample(*rand.Rand) float64 { return float64(d) }
func (d fixedDist) String() string            { return fmt.Sprintf("fixed(%g)", float64(d)) }

type uniformDist struct{ lo, hi float64 }

func (d uniformDist) Sample(r *rand.Rand) float64 { return d.lo + r.Float64()*(d.hi-d.lo) }
func (d uniformDist) String() string              { return fmt.Sprintf("uniform(%g, %g)", d.lo, d.hi) }

type normalDist struct{ mean, sd float64 }

func (d normalDist) Sample(r *rand.Rand) float64 { return math.Max(0, d.mean+d.sd*r.NormFloat64()) }
func (d normalDist) String() string              { return fmt.Sprintf("normal(%g, %g)", d.mean, d.sd) }

type logNormalDist struct{ median, sigma float64 }

func (d logNormalDist) Sample(r *rand.Rand) float64 {
	return d.median * math.Exp(d.sigma*r.NormFloat64())
}
func (d logNormalDist) String() string { return fmt.Sprintf("lognormal(%g, %g)", d.median, d.sigma) }

// sampleInt draws a whole number of at least min from d.
func sampleInt(d Dist, r *rand.Rand, min int) int {
	v := int(math.Round(d.Sample(r)))
	if v < min {
		return min
	}
	return v
}

// Arrivals is the open-loop arrival process.
type Arrivals int

const (
	// ArrivalsConstant spaces arrivals evenly: one every 1/Rate.
	ArrivalsConstant Arrivals = iota
	// ArrivalsPoisson draws exponential gaps with mean 1/Rate: the arrivals
	// of many independent users.
	ArrivalsPoisson
)

func (a Arrivals) String() string {
	if a == ArrivalsPoisson {
		return "poisson"
	}
	return "constant"
}

// schedule produces the intended send times of an open-loop run as offsets
// from its start. With a ramp-up the rate grows linearly from 0 to rate
// over ramp, so the expected number of arrivals by time t is
// Λ(t) = rate·t²/(2·ramp) during the ramp and rate·(t − ramp/2) after it;
// arrival k is at Λ⁻¹ of the k-th point of a unit-rate process (evenly
// spaced or Poisson), which keeps both processes exact under the ramp.
type schedule struct {
	rate    float64
	ramp    float64 // seconds
	poisson bool
	rng     *rand.Rand
	mass    float64 // Λ at the last arrival
	k       int64
}

// next returns the offset of the next arrival.
func (s *schedule) next() time.Duration {
	if s.poisson {
		s.mass += s.rng.ExpFloat64()
	} else if s.k > 0 || s.ramp > 0 {
		s.mass++
	}
	s.k++
	return time.Duration(s.inverse(s.mass) * float64(time.Second))
}

// inverse is Λ⁻¹(m) in seconds.
func (s *schedule) inverse(m float64) float64 {
	if s.ramp <= 0 {
		return m / s.rate
	}
	if rampMass := s.rate * s.ramp / 2; m <= rampMass {
		return math.Sqrt(2 * m * s.ramp / s.rate)
	}
	return m/s.rate + s.ramp/2
}

// promptWords is the vocabulary of synthetic prompts: common three-letter
// English words, each one token in the tokenizers of the major APIs.
var promptWords = strings.Fields(`the and for are but not you all any can had her was one our out day get
has him his how man new now old see two way who boy did its let put say she too use big end far few
got own run set try ask men off yet ago air box car cut eye job law low may oil pay red sit top war`)

// syntheticPrompt returns a prompt of n tokens (n >= 1): "Tell" and then
// n−1 words drawn from promptWords, each with its leading space. Every
// token is four characters, so a server that counts a token per four
// characters (as the fake does) counts exactly n, and a real tokenizer
// about n.
func syntheticPrompt(n int, r *rand.Rand) string {
	var b strings.Builder
	b.Grow(4 * n)
	b.WriteString("Tell")
	for i := 1; i < n; i++ {
		b.WriteByte(' ')
		b.WriteString(promptWords[r.IntN(len(promptWords))])
	}
	return b.String()
}
