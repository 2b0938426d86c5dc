// Package providers holds the wire codecs of the LLM APIs that lens measures:
// the SSE reader and one Provider per API. Providers are pure codecs: they
// build requests and decode responses, with no clock, client or retry of
// their own; timing, retries and concurrency live once, in package lens.
package providers

import (
	"context"
	"net/http"
	"time"
)

// Provider is the codec of one API. Implementations are structs of plain
// fields (BaseURL, APIKey, ...) and are safe for concurrent use once
// configured: NewRequest and NewDecoder may be called from many goroutines.
type Provider interface {
	// Name is the provider's short name in results and messages ("openai").
	Name() string

	// NewRequest builds the HTTP request for one completion. The request
	// carries ctx, its URL, auth headers and JSON body. It never performs I/O.
	NewRequest(ctx context.Context, r *Request) (*http.Request, error)

	// NewDecoder returns a decoder for responses to requests this provider
	// built. A decoder belongs to one goroutine at a time and is reused
	// across responses with Reset, so that steady-state decoding does not
	// allocate.
	NewDecoder() Decoder
}

// Decoder turns one HTTP response of a provider into Deltas.
//
// Use: Reset(resp, req), then Next until it returns a non-nil error. io.EOF
// means the response ended cleanly; any other error ends the response too.
// The decoder does not close resp.Body.
type Decoder interface {
	// Reset prepares the decoder for resp, the response to r. For a status
	// outside 2xx it reads the (size-capped) body and returns an *APIError
	// with the status, the provider's message and Retry-After; the decoder
	// then has nothing to decode. For a 2xx response it cannot decode at all
	// (a content type of no format the API uses, such as an HTML page) it
	// returns a *DecodeError naming the content type. Next then returns the
	// same error.
	Reset(resp *http.Response, r *Request) error

	// Next decodes the next event of the response into d, overwriting it.
	// d.Text, d.Reasoning and d.ToolArgs alias the decoder's buffers and are
	// valid until the next call. Next returns io.EOF at the clean end of the
	// response (for SSE: the API's end marker, or EOF where the API has
	// none), an *APIError for an error the server sent inside a 200
	// response, and a *DecodeError for bytes it cannot decode. An error
	// reading the body (io.ErrUnexpectedEOF, a deadline) is returned
	// wrapped with the provider and the event it interrupted, so that
	// errors.Is still finds it. Once Next returned an error it returns the
	// same error again.
	Next(d *Delta) error
}

// Delta is what one event of a response carried. Events that carry nothing
// of interest (a role-only chunk, a ping, a lifecycle event) still produce a
// Delta, with no text, so that callers can see the event's arrival time.
type Delta struct {
	// At is when the event arrived: the time the read that completed it
	// returned. For a non-streaming response it is when the body was read.
	At time.Time

	// Text is the output text (content) the event carried, and Reasoning
	// the reasoning or thinking text. Both count as output for TTFT and ITL.
	// They alias decoder buffers, valid until the next Next.
	Text      []byte
	Reasoning []byte

	// ToolArgs is tool-call argument text the event carried (it counts as
	// output too).
	ToolArgs []byte

	// Usage is the server's token accounting as of this event, valid when
	// HasUsage is set. Codecs merge the partial and cumulative forms of their
	// API, so Usage is always the latest whole picture: keep the last one,
	// never add them up.
	Usage    Usage
	HasUsage bool

	// FinishReason is the API's own finish reason ("stop", "length",
	// "end_turn", "MAX_TOKENS", "COMPLETE", ...) when the event carried one.
	FinishReason string
}

// HasOutput reports whether the event carried output text of any kind: the
// events that count for TTFT and ITL.
func (d *Delta) HasOutput() bool {
	return len(d.Text) > 0 || len(d.Reasoning) > 0 || len(d.ToolArgs) > 0
}

// Usage is a server's token accounting for one response.
type Usage struct {
	InputTokens     int // prompt tokens
	OutputTokens    int // completion tokens, reasoning included
	ReasoningTokens int // the part of OutputTokens spent on reasoning, when reported
	CachedTokens    int // the part of InputTokens served from a prompt cache, when reported
}

// Request is one completion request in API-neutral form.
type Request struct {
	Model  string
	Prompt string // the user message
	System string // optional system prompt

	// History is the conversation before Prompt, oldest first: earlier
	// user messages and the assistant's answers to them. Each codec sends
	// it as its API's earlier messages (Gemini names the assistant
	// "model"), then Prompt as the last user message. Nil: Prompt alone.
	History []Message

	MaxTokens int // output token limit; 0 leaves the API's default (codecs whose API requires it send 1024)

	// Sampling parameters; nil leaves the API's default.
	Temperature *float64
	TopP        *float64
	TopK        *int

	// Stream asks for a streamed (SSE) response. Streaming codecs also ask
	// for usage in the stream where the API needs asking.
	Stream bool

	// Extra holds additional top-level body fields, merged into the JSON
	// body as given (provider-specific options).
	Extra map[string]any
}

// Message is one message of a conversation's history.
type Message struct {
	// Role is RoleUser or RoleAssistant.
	Role string

	// Content is the message's text.
	Content string
}

// The roles of a Message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ModelLister is implemented by providers whose API lists the models a
// key can use. It is a codec like the rest: it builds the request and
// decodes the response, and ListModels sends it.
type ModelLister interface {
	// NewListModelsRequest builds the request that lists the models.
	NewListModelsRequest(ctx context.Context) (*http.Request, error)

	// DecodeModels decodes the response to it: the model names, or an
	// *APIError for a status outside 2xx.
	DecodeModels(resp *http.Response) ([]string, error)
}
