package lens

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/time/rate"
)

// Limiter is a provider's rate limit: requests per second and tokens per
// minute, both token buckets from golang.org/x/time/rate. One Limiter is
// shared by every scenario that uses the provider, so together they stay
// under the limit. It is safe for concurrent use; a nil *Limiter limits
// nothing.
type Limiter struct {
	requests *rate.Limiter // nil: no request limit
	tokens   *rate.Limiter // nil: no token limit
	tpm      int
}

// NewLimiter returns a limiter of requestsPerSecond (burst 1: requests are
// spread evenly) and tokensPerMinute (burst: one minute's worth). Zero
// means no limit of that kind.
func NewLimiter(requestsPerSecond float64, tokensPerMinute int) *Limiter {
	l := &Limiter{tpm: tokensPerMinute}
	if requestsPerSecond > 0 {
		l.requests = rate.NewLimiter(rate.Limit(requestsPerSecond), 1)
	}
	if tokensPerMinute > 0 {
		l.tokens = rate.NewLimiter(rate.Limit(float64(tokensPerMinute)/60), tokensPerMinute)
	}
	return l
}

// Wait blocks until one request of about tokens tokens (prompt plus the
// most it may generate) may be sent, or ctx ends. A request larger than a
// minute's budget waits for the whole budget.
func (l *Limiter) Wait(ctx context.Context, tokens int) error {
	if l == nil {
		return nil
	}
	if l.requests != nil {
		if err := l.requests.Wait(ctx); err != nil {
			return fmt.Errorf("lens: rate limit: %w", err)
		}
	}
	if l.tokens != nil && tokens > 0 {
		if err := l.tokens.WaitN(ctx, min(tokens, l.tpm)); err != nil {
			return fmt.Errorf("lens: token limit: %w", err)
		}
	}
	return nil
}

// String describes the limits.
func (l *Limiter) String() string {
	if l == nil {
		return "none"
	}
	rps := "unlimited"
	if l.requests != nil {
		rps = fmt.Sprintf("%g", float64(l.requests.Limit()))
	}
	tpm := "unlimited"
	if l.tokens != nil {
		tpm = fmt.Sprint(l.tpm)
	}
	return fmt.Sprintf("%s requests/s, %s tokens/min", rps, tpm)
}

// Gate caps the requests in flight across every scenario that shares it
// (the configuration's global max concurrency). It is safe for concurrent
// use; a nil *Gate lets everything through.
type Gate struct{ slots chan struct{} }

// NewGate returns a gate of n slots (n <= 0: unlimited, a nil gate).
func NewGate(n int) *Gate {
	if n <= 0 {
		return nil
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Acquire takes a slot, waiting until one is free or ctx ends.
func (g *Gate) Acquire(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a slot taken by Acquire.
func (g *Gate) Release() {
	if g != nil {
		<-g.slots
	}
}

// Cap is the gate's number of slots (MaxInt for a nil gate).
func (g *Gate) Cap() int {
	if g == nil {
		return math.MaxInt
	}
	return cap(g.slots)
}
