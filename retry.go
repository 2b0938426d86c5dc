package lens

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// Retry is the retry policy of a scenario. The zero value never retries.
//
// A failed attempt is retried when it is worth retrying — 408, 409, 429
// (but not an exhausted quota or spend limit), 5xx, 529, overloaded or
// server errors inside a stream, timeouts and connection errors — and only
// when no output token has arrived yet: a request that streamed output and
// then failed is a failure, never a silent second try.
type Retry struct {
	// MaxAttempts is the number of attempts in all, the first included
	// (0 or 1: no retry).
	MaxAttempts int

	// InitialBackoff is the wait before the first retry (default 500ms);
	// each later wait is Multiplier (default 2) times the one before, up to
	// MaxBackoff (default 30s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64

	// Jitter randomizes each wait by up to this fraction of it, downwards
	// (0..1, default 0.2), so that clients that failed together do not
	// retry together.
	Jitter float64

	// MaxRetryAfter caps the wait a server asks for with Retry-After or
	// retry-after-ms (default 60s). A server's delay replaces the backoff
	// for that retry.
	MaxRetryAfter time.Duration
}

func (r Retry) attempts() int { return max(1, r.MaxAttempts) }

// backoff is the wait before retry number n (1 for the first retry) after
// an attempt that failed with err.
func (r Retry) backoff(n int, err error, rng *rand.Rand) time.Duration {
	var apiErr *providers.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		capd := r.MaxRetryAfter
		if capd <= 0 {
			capd = 60 * time.Second
		}
		return min(apiErr.RetryAfter, capd)
	}
	initial, maxB, mult, jitter := r.InitialBackoff, r.MaxBackoff, r.Multiplier, r.Jitter
	if initial <= 0 {
		initial = 500 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 30 * time.Second
	}
	if mult < 1 {
		mult = 2
	}
	if jitter <= 0 || jitter > 1 {
		jitter = 0.2
	}
	d := float64(initial) * math.Pow(mult, float64(n-1))
	d = math.Min(d, float64(maxB))
	d -= d * jitter * rng.Float64()
	return time.Duration(d)
}

// retryable reports whether a failed attempt of class c (error err) that
// produced outputEvents text events may be retried.
func retryable(c ErrorClass, err error, outputEvents int) bool {
	if outputEvents > 0 {
		return false
	}
	var apiErr *providers.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	switch c {
	case ClassTimeout, ClassConnectTimeout, ClassFirstTokenTimeout, ClassIdleTimeout, ClassConnection:
		return true
	}
	return false
}
