package fake

import (
	"fmt"
	"math"
	"time"
)

// Config describes how the fake answers. The zero value is usable: every
// response has 16 output tokens, one per content event (four for Gemini),
// all sent at once, with no queue and no faults.
type Config struct {
	// TTFT is the time from the request's arrival (the handler's start, or
	// the end of its wait in the queue, see Capacity) to its first content
	// event, not counting prefill (see PrefillPerToken). Nil means Fixed(0).
	TTFT Latency

	// ITL is the time between consecutive content events. Nil means Fixed(0).
	ITL Latency

	// OutputTokens is the number of tokens generated per response (0 means
	// 16). A request's token limit (max_tokens, max_completion_tokens,
	// max_output_tokens, maxOutputTokens) lowers it, and then the response
	// ends for length ("length" in Chat Completions, "incomplete" in
	// Responses, "max_tokens" in Anthropic, "MAX_TOKENS" in Gemini and
	// Cohere).
	OutputTokens int

	// TokensPerChunk is the number of tokens per content event. The last
	// event carries what remains. 0 means each wire format's usual size: 1,
	// except Gemini, whose chunks carry several tokens: 4.
	TokensPerChunk int

	// Seed seeds every random choice. The n-th request a Server or
	// Responder handles (counting from 0) gets the same schedule, text, id
	// and fault for the same Seed and Config.
	Seed uint64

	// Model is echoed when a request names no model. When it is empty, a
	// request without a model is a 400, as with the real API. It is also the
	// one model that the model lists show (DefaultModel when empty).
	// Gemini takes its model from the path, and Azure from the deployment
	// when the body names none.
	Model string

	// Deployments lists the Azure deployments that exist; a request to any
	// other gets Azure's 404 DeploymentNotFound. Empty means that every
	// deployment name exists.
	Deployments []string

	// AzureAsyncFilter makes Azure streams end, just before [DONE], with the
	// trailing chunk of Azure's asynchronous content filter (id "",
	// content_filter_offsets), as Azure sends in that mode.
	AzureAsyncFilter bool

	// Capacity is the number of responses served at once at full speed; 0
	// means no limit. A request that finds every place taken waits in a FIFO
	// queue, and its whole response, headers included, is then sent as if
	// it had arrived when it left the queue: its TTFT grows by the wait,
	// which Record.Queued reports. A response holds its place from the end of
	// its wait until its last event is written (for a Responder, until the
	// body's Read reaches its last event, which is then due, or the body
	// ends), so a client that stops reading keeps its place, as on a real
	// server. Error answers, status faults and model lists take no place.
	Capacity int

	// PrefillPerToken is the prefill time per prompt token: the first
	// content event is due TTFT + prompt tokens × PrefillPerToken after the
	// request's start (see EstimateTokens), and every later one as much
	// later.
	PrefillPerToken time.Duration

	// Faults sets how often responses fail, and how. Each request draws at
	// most one fault, from its own stream seeded with Seed, so the same Seed
	// fails the same requests in the same way.
	Faults Faults

	// FaultFunc, when set, chooses the fault of request seq (counting from
	// 0) instead of Faults' rates; NoFault means none. Faults.RetryAfter and
	// Faults.StallFor still apply. It must return one of the Fault
	// constants, and may be called from many goroutines at once.
	FaultFunc func(seq uint64) Fault

	// Record keeps a Record of every request for Records.
	Record bool
}

// DefaultModel is the model the model lists show when Config.Model is
// empty.
const DefaultModel = "fake-model"

const (
	defaultOutputTokens = 16
	maxOutputTokens     = 1 << 20
)

// withDefaults returns c with the zero values replaced by their defaults.
// TokensPerChunk stays 0 when unset: each wire format picks its own size.
func (c Config) withDefaults() Config {
	if c.TTFT == nil {
		c.TTFT = fixed(0)
	}
	if c.ITL == nil {
		c.ITL = fixed(0)
	}
	if c.OutputTokens <= 0 {
		c.OutputTokens = defaultOutputTokens
	}
	c.OutputTokens = min(c.OutputTokens, maxOutputTokens)
	c.TokensPerChunk = max(c.TokensPerChunk, 0)
	if c.Faults.RetryAfter == 0 {
		c.Faults.RetryAfter = DefaultRetryAfter
	}
	if c.Faults.StallFor == 0 {
		c.Faults.StallFor = DefaultStallFor
	}
	return c
}

// check panics with a message naming the field when c is not valid, as
// httptest panics on a setup it cannot honour.
func (c *Config) check() {
	if c.Capacity < 0 {
		panic(fmt.Sprintf("fake: Config.Capacity = %d, want 0 (no limit) or more", c.Capacity))
	}
	if c.PrefillPerToken < 0 {
		panic(fmt.Sprintf("fake: Config.PrefillPerToken = %v, want 0 or more", c.PrefillPerToken))
	}
	f := &c.Faults
	if f.RetryAfter < 0 {
		panic(fmt.Sprintf("fake: Config.Faults.RetryAfter = %v, want 0 (the default) or more", f.RetryAfter))
	}
	if f.StallFor < 0 {
		panic(fmt.Sprintf("fake: Config.Faults.StallFor = %v, want 0 (the default) or more", f.StallFor))
	}
	sum := 0.0
	for _, r := range f.rates() {
		if !(r.p >= 0 && r.p <= 1) { // also catches NaN
			panic(fmt.Sprintf("fake: Config.Faults.%s = %v, want a probability in [0, 1]", r.field, r.p))
		}
		sum += r.p
	}
	if sum > 1+1e-9 || math.IsInf(sum, 0) {
		panic(fmt.Sprintf("fake: Config.Faults: the rates sum to %v, want at most 1 (each request draws at most one fault)", sum))
	}
}
