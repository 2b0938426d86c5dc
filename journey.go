package lens

import "context"

// journeyKey keys the context of a journey's calls.
type journeyKey struct{}

// journeyInfo is what a journey's context tells the Transport.
type journeyInfo struct {
	warmup bool // the journey is a warmup: its calls are not measured
}

// journeyWarmup reports whether ctx is a warmup journey's.
func journeyWarmup(ctx context.Context) bool {
	j, ok := ctx.Value(journeyKey{}).(*journeyInfo)
	return ok && j.warmup
}
