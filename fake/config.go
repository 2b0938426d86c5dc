package fake

// Config describes how the fake answers. The zero value is usable: every
// response has 16 output tokens, one per content event, all sent at once.
type Config struct {
	// TTFT is the time from the request's arrival (the handler's start) to
	// its first content event. Nil means Fixed(0).
	TTFT Latency

	// ITL is the time between consecutive content events. Nil means Fixed(0).
	ITL Latency

	// OutputTokens is the number of tokens generated per response (0 means
	// 16). A request's max_tokens, max_completion_tokens or
	// max_output_tokens lowers it, and then the response ends for length
	// ("length" in Chat Completions, "incomplete" in Responses).
	OutputTokens int

	// TokensPerChunk is the number of tokens per content event (0 means 1).
	// The last event carries what remains.
	TokensPerChunk int

	// Seed seeds every random choice. The n-th request a Server or
	// Responder handles (counting from 0) gets the same schedule, text and
	// id for the same Seed and Config.
	Seed uint64

	// Model is echoed when a request names no model. When it is empty, a
	// request without a model is a 400, as with the real API. It is also the
	// one model that /v1/models lists (DefaultModel when empty).
	Model string

	// Record keeps a Record of every request for Records.
	Record bool
}

// DefaultModel is the model /v1/models lists when Config.Model is empty.
const DefaultModel = "fake-model"

const (
	defaultOutputTokens = 16
	maxOutputTokens     = 1 << 20
)

// withDefaults returns c with the zero values replaced by their defaults.
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
	if c.TokensPerChunk <= 0 {
		c.TokensPerChunk = 1
	}
	return c
}
