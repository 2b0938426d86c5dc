package providers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// defaultAnthropicBaseURL is the public Anthropic endpoint.
const defaultAnthropicBaseURL = "https://api.anthropic.com/v1"

// defaultAnthropicVersion is the anthropic-version header sent by default.
const defaultAnthropicVersion = "2023-06-01"

// defaultAnthropicMaxTokens is the max_tokens sent when Request.MaxTokens
// is 0: the Messages API requires the field.
const defaultAnthropicMaxTokens = 1024

// Anthropic is the codec of the Anthropic Messages API, POST
// {BaseURL}/messages.
//
// Requests always carry max_tokens (1024 when Request.MaxTokens is 0),
// which the API requires. The decoder reads the stream by each event's JSON
// "type" (the SSE event name when the JSON has none), as the official SDK
// does: content_block_delta events carry the output (text_delta as Text,
// thinking_delta as Reasoning, input_json_delta as ToolArgs; a
// signature_delta is not output); message_start carries the input tokens,
// cache tokens included; message_delta carries the stop reason and the
// output tokens, a running total (the last one counts; input and cache
// tokens repeated there update the picture); ping, content_block_start,
// content_block_stop and unknown events are Deltas without output.
// message_stop ends the response with io.EOF. An "error" event becomes an
// *APIError with InStream set (overloaded_error: Overloaded and Retryable).
// A stream that ends without message_stop was cut short: Next returns a
// *DecodeError wrapping io.ErrUnexpectedEOF. A server that answers a
// streaming request with JSON is decoded as a non-streaming message.
//
// Usage.InputTokens is the whole prompt: input_tokens plus
// cache_creation_input_tokens plus cache_read_input_tokens (the API counts
// them apart); Usage.CachedTokens is cache_read_input_tokens.
//
// The zero value talks to api.anthropic.com with $ANTHROPIC_API_KEY. An
// Anthropic is safe for concurrent use once configured.
type Anthropic struct {
	// BaseURL is the API's base URL, version path included; requests go to
	// BaseURL + "/messages". Empty means https://api.anthropic.com/v1.
	BaseURL string

	// APIKey is sent as the x-api-key header. Empty means the
	// ANTHROPIC_API_KEY environment variable, read by each NewRequest;
	// when both are empty no x-api-key header is sent.
	APIKey string

	// Version is sent as the anthropic-version header. Empty means
	// "2023-06-01".
	Version string

	// Label names the provider in results and messages; empty means
	// "anthropic".
	Label string

	// Header holds extra headers sent with every request (anthropic-beta,
	// for one). They replace the codec's own headers of the same name.
	Header http.Header
}

var (
	_ Provider    = (*Anthropic)(nil)
	_ ModelLister = (*Anthropic)(nil)
)

// Name returns Label, or "anthropic" when Label is empty.
func (p *Anthropic) Name() string { return cmp.Or(p.Label, "anthropic") }

// apiKey returns the key requests carry.
func (p *Anthropic) apiKey() string { return cmp.Or(p.APIKey, os.Getenv("ANTHROPIC_API_KEY")) }

// anthropicRequestID is the header that carries the request id.
var anthropicRequestID = []string{"Request-Id"}

// chatMessagesRequest is the body of POST /messages.
type chatMessagesRequest struct {
	Model       string        `json:"model"`
	MaxTokens   int           `json:"max_tokens"`
	System      string        `json:"system,omitempty"`
	Messages    []chatMessage `json:"messages"`
	Temperature *float64      `json:"temperature,omitempty"`
	TopP        *float64      `json:"top_p,omitempty"`
	TopK        *int          `json:"top_k,omitempty"`
	Stream      bool          `json:"stream,omitempty"`
}

// NewRequest builds the POST to BaseURL + "/messages" for r. Its headers
// are x-api-key (when there is a key), anthropic-version, Content-Type,
// Accept, Accept-Encoding: identity, and Header. Request.Extra fields are
// merged into the body and replace the codec's own.
func (p *Anthropic) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	u, err := requestURL(name, r, cmp.Or(p.BaseURL, defaultAnthropicBaseURL), "/messages")
	if err != nil {
		return nil, err
	}
	body := chatMessagesRequest{
		Model:       r.Model,
		MaxTokens:   r.MaxTokens,
		System:      r.System,
		Messages:    chatMessages(r, false),
		Temperature: r.Temperature,
		TopP:        r.TopP,
		TopK:        r.TopK,
		Stream:      r.Stream,
	}
	if body.MaxTokens <= 0 {
		body.MaxTokens = defaultAnthropicMaxTokens
	}
	return newPost(ctx, name, u, body, r, p.auth)
}

// auth sets the key, version and extra headers of req.
func (p *Anthropic) auth(req *http.Request) {
	if key := p.apiKey(); key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	req.Header.Set("Anthropic-Version", cmp.Or(p.Version, defaultAnthropicVersion))
	setHeaders(req.Header, p.Header)
}

// NewListModelsRequest builds GET BaseURL + "/models?limit=1000" (1000 is
// the API's largest page) with the same headers as NewRequest. Only the
// first page is read: accounts do not have 1000 models.
func (p *Anthropic) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	req, err := newGetRequest(ctx, cmp.Or(p.BaseURL, defaultAnthropicBaseURL), "/models?limit=1000")
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", p.Name(), err)
	}
	p.auth(req)
	return req, nil
}

// DecodeModels decodes the response to NewListModelsRequest,
// {"data":[{"id":"claude-…",…}],"has_more":…}, into the model ids.
func (p *Anthropic) DecodeModels(resp *http.Response) ([]string, error) {
	sc := secrets{req: resp.Request, key: p.apiKey()}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, anthropicStatusError(p.Name(), resp, sc)
	}
	return readModelNames(p.Name(), resp, "data", "id", sc)
}

// NewDecoder returns a decoder of Messages API responses, streamed or not.
func (p *Anthropic) NewDecoder() Decoder {
	d := &anthropicDecoder{frame: frame{name: p.Name(), sc: secrets{key: p.apiKey()},
		requestID: anthropicRequestID, details: anthropicErrorDetails}}
	// A last event without its blank line still counts (message_stop
	// especially); a cut one fails to decode and ends the stream as cut.
	d.sse.DispatchAtEOF = true
	return d
}

// anthropicStatusError builds the *APIError for a status outside 2xx. A
// spend-limit 429 carries error.details.error_code
// "enforced_spend_limit_reached", which becomes Code, so that
// QuotaExhausted reports it.
func anthropicStatusError(name string, resp *http.Response, sc secrets) *APIError {
	return statusErrorWith(name, resp, sc, anthropicRequestID, anthropicErrorDetails)
}

// anthropicErrorDetails fills e's Code from error.details.error_code of an
// error body when e has none.
func anthropicErrorDetails(body []byte, e *APIError) {
	if code := anthropicDetailsCode(body); code != "" && e.Code == "" {
		e.Code = code
	}
}

// anthropicDetailsCode returns error.details.error_code of an error body.
func anthropicDetailsCode(body []byte) string {
	var c jsonCursor
	c.reset(body)
	code := ""
	if !c.object() {
		return ""
	}
	for c.nextKey() {
		switch {
		case string(c.key) != "error":
			c.skip()
		case c.object():
			for c.nextKey() {
				switch {
				case string(c.key) != "details":
					c.skip()
				case c.object():
					for c.nextKey() {
						if string(c.key) != "error_code" {
							c.skip()
						} else if v, ok := c.strView(); ok {
							code = string(v)
						}
					}
				}
			}
		}
	}
	if c.done() != nil {
		return ""
	}
	return code
}

// anthropicEvent is the type of a Messages stream event.
type anthropicEvent uint8

const (
	anthropicOther anthropicEvent = iota
	chatMessageStart
	anthropicContentBlockDelta
	chatMessageDelta
	chatMessageStop
	chatMessageBody // a whole message: the non-streaming answer
	anthropicError
	anthropicPing
)

func anthropicEventOf(v []byte) anthropicEvent {
	switch string(v) {
	case "content_block_delta":
		return anthropicContentBlockDelta
	case "message_start":
		return chatMessageStart
	case "message_delta":
		return chatMessageDelta
	case "message_stop":
		return chatMessageStop
	case "message":
		return chatMessageBody
	case "error":
		return anthropicError
	case "ping":
		return anthropicPing
	}
	return anthropicOther
}

// anthropicStopReasons are the stop reasons the API sends.
var anthropicStopReasons = []string{"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn",
	"refusal", "model_context_window_exceeded"}

// chatMessageType is the type of a whole (non-streaming) message.
var chatMessageType = []byte("message")

// errAnthropicCut is the cause of the DecodeError for a stream that ended
// before message_stop.
var errAnthropicCut = fmt.Errorf("stream ended before message_stop: %w", io.ErrUnexpectedEOF)

// anthropicDecoder decodes one Messages API response at a time.
type anthropicDecoder struct {
	frame

	// The usage so far, merged from message_start and message_delta.
	input, cacheWrite, cacheRead, output int
	hasUsage                             bool
}

// Reset prepares d for resp. See Decoder. A status outside 2xx gives an
// *APIError; a text/event-stream body (or one with no Content-Type, for a
// streaming request) is read as SSE; a JSON body as one message (or error);
// any other content type gives a *DecodeError naming it.
func (d *anthropicDecoder) Reset(resp *http.Response, r *Request) error {
	d.input, d.cacheWrite, d.cacheRead, d.output, d.hasUsage = 0, 0, 0, 0, false
	return d.start(resp, r)
}

// Next decodes the next event into out. See Decoder.
func (d *anthropicDecoder) Next(out *Delta) error { return d.step(out, d) }

// DecodeUsual decodes the usual event of a Messages stream, a content
// delta, from the start of p, the next bytes of a body pushed into the
// decoder (see ErrPending), where they are, as Next would decode them, the
// event arriving at at. It returns how many bytes of p the event took,
// or 0, having changed nothing, for anything else, which Next then
// decodes. lens.Transport uses it to decode an application's reads.
func (d *anthropicDecoder) DecodeUsual(p []byte, at time.Time, out *Delta) int {
	typ, data, n := d.usualEvent(p)
	if n == 0 || string(typ) != "content_block_delta" {
		return 0
	}
	*out = Delta{At: at}
	if !d.decodeDelta(data, out) {
		return 0
	}
	return d.tookUsual(n)
}

// event decodes one stream event by its type: pings are skipped unread, as
// the SDK does, and an error event is an *APIError.
func (d *anthropicDecoder) event(ev *SSEEvent, out *Delta) error {
	*out = Delta{At: ev.DispatchAt}
	switch anthropicEventOf(ev.Type) {
	case anthropicPing:
		return nil
	case anthropicError:
		return d.streamError(ev.Data)
	}
	if d.decodeDelta(ev.Data, out) {
		return nil
	}
	return d.decode(ev.Data, ev.Type, out)
}

// The fixed parts of a content_block_delta event as the API sends it,
// {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"..."}}
// (or a thinking_delta's "thinking", an input_json_delta's
// "partial_json"), which decodeDelta matches.
const (
	anthropicDeltaHead = `{"type":"content_block_delta","index":`
	anthropicDeltaMid  = `,"delta":{"type":"`
)

// decodeDelta decodes data as decode does when it is a content delta of
// the exact shape the API sends, byte for byte but for the index and the
// text: a match of fixed bytes and one scan of the text, instead of a walk
// of every key. It reports false at anything else (other keys, other
// order, white space, an invalid escape), which decode then reads. Nearly
// every event of a stream is such a delta, so this is the hot path of
// decoding a Messages stream; FuzzAnthropicDelta checks that the two
// agree.
func (d *anthropicDecoder) decodeDelta(b []byte, out *Delta) bool {
	if len(b) < len(anthropicDeltaHead) || string(b[:len(anthropicDeltaHead)]) != anthropicDeltaHead {
		return false
	}
	i, _, _ := scanNumber(b, len(anthropicDeltaHead))
	if i < 0 || len(b)-i < len(anthropicDeltaMid) || string(b[i:i+len(anthropicDeltaMid)]) != anthropicDeltaMid {
		return false
	}
	i += len(anthropicDeltaMid)
	rest := b[i:]
	var dst *[]byte
	switch {
	case bytes.HasPrefix(rest, anthropicTextDelta):
		dst, i = &d.text, i+len(anthropicTextDelta)
	case bytes.HasPrefix(rest, anthropicThinkingDelta):
		dst, i = &d.reasoning, i+len(anthropicThinkingDelta)
	case bytes.HasPrefix(rest, anthropicJSONDelta):
		dst, i = &d.args, i+len(anthropicJSONDelta)
	default:
		return false
	}
	end, escaped := scanString(b, i)
	if end < 0 || string(b[end:]) != "}}" {
		return false
	}
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	if raw := b[i : end-1]; !escaped {
		*dst = append(*dst, raw...)
	} else if v, err := appendUnescaped(*dst, raw); err == nil {
		*dst = v
	} else {
		return false
	}
	d.setOutput(out)
	return true
}

// The delta types decodeDelta reads, each with its text key.
var (
	anthropicTextDelta     = []byte(`text_delta","text":"`)
	anthropicThinkingDelta = []byte(`thinking_delta","thinking":"`)
	anthropicJSONDelta     = []byte(`input_json_delta","partial_json":"`)
)

// end is the end of a stream body before message_stop: a stream cut short.
func (d *anthropicDecoder) end() error {
	if d.delivered == 0 {
		return &DecodeError{Provider: d.name, Event: d.events, Err: errEmptyStream}
	}
	return &DecodeError{Provider: d.name, Event: d.events, Err: errAnthropicCut}
}

// body decodes a whole message (or error) body.
func (d *anthropicDecoder) body(data []byte, out *Delta) error {
	err := d.decode(data, chatMessageType, out) // a body without "type" is a message
	if err == io.EOF {                          // a lone message_stop is not an answer
		return &DecodeError{Provider: d.name, Snippet: d.sc.snippet(data), Err: errors.New("the body is a message_stop event, not a message")}
	}
	return err
}

// decode reads one event's data (or a whole message) into out, whose At is
// already set. evType is the SSE event name, used when the JSON has no
// "type". It returns io.EOF for message_stop, an *APIError for an error
// object and a *DecodeError for anything that is not a JSON object.
func (d *anthropicDecoder) decode(data, evType []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	if c.kind() != jsonObject {
		return d.notObject(data, "event data is not a JSON object")
	}
	typ, hasType := anthropicOther, false
	hasError := false
	finish := ""
	var u anthropicUsage
	c.object()
	for c.nextKey() {
		switch string(c.key) {
		case "type":
			if v, ok := c.strView(); ok {
				typ, hasType = anthropicEventOf(v), true
			}
		case "delta":
			d.delta(&u, &finish)
		case "usage":
			d.usage(&u)
		case "message":
			d.message(&u, &finish)
		case "content":
			d.content()
		case "stop_reason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				finish = internReason(v, anthropicStopReasons)
			}
		case "error":
			hasError = !c.null() || hasError
		default:
			c.skip()
		}
	}
	if err := c.done(); err != nil {
		return d.decodeError(err, data)
	}
	if !hasType {
		typ = anthropicEventOf(evType)
	}
	switch typ {
	case anthropicError:
		return d.streamError(data)
	case chatMessageStop:
		return io.EOF
	case anthropicContentBlockDelta, chatMessageBody:
		d.setOutput(out)
	}
	if hasError && typ == anthropicOther {
		return d.streamError(data)
	}
	switch typ {
	case chatMessageStart, chatMessageDelta, chatMessageBody:
		out.FinishReason = finish
		if u.any() {
			d.merge(&u)
			out.Usage, out.HasUsage = d.picture(), true
		}
	}
	return nil
}

// anthropicUsage is one usage object as sent, each count with whether it
// was present.
type anthropicUsage struct {
	input, cacheWrite, cacheRead, output          int
	hasInput, hasCacheWrite, hasCacheRead, hasOut bool
}

func (u *anthropicUsage) any() bool {
	return u.hasInput || u.hasCacheWrite || u.hasCacheRead || u.hasOut
}

// merge updates the response's usage with the counts u carried: every
// count is a total as of its event, so the latest replaces the earlier.
func (d *anthropicDecoder) merge(u *anthropicUsage) {
	if u.hasInput {
		d.input = u.input
	}
	if u.hasCacheWrite {
		d.cacheWrite = u.cacheWrite
	}
	if u.hasCacheRead {
		d.cacheRead = u.cacheRead
	}
	if u.hasOut {
		d.output = u.output
	}
	d.hasUsage = true
}

// picture returns the response's usage so far.
func (d *anthropicDecoder) picture() Usage {
	return Usage{
		InputTokens:  d.input + d.cacheWrite + d.cacheRead,
		OutputTokens: d.output,
		CachedTokens: d.cacheRead,
	}
}

// usage reads a "usage" object into u.
func (d *anthropicDecoder) usage(u *anthropicUsage) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "input_tokens":
			u.input, u.hasInput = tokenCount(c)
		case "cache_creation_input_tokens":
			u.cacheWrite, u.hasCacheWrite = tokenCount(c)
		case "cache_read_input_tokens":
			u.cacheRead, u.hasCacheRead = tokenCount(c)
		case "output_tokens":
			u.output, u.hasOut = tokenCount(c)
		default:
			c.skip()
		}
	}
}

// delta reads the "delta" of content_block_delta (text, thinking,
// partial_json; a signature is not output) or of message_delta
// (stop_reason; some servers put usage here).
func (d *anthropicDecoder) delta(u *anthropicUsage, finish *string) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		if d.textOrThinking() {
			continue
		}
		switch string(c.key) {
		case "partial_json":
			d.args, _ = c.str(d.args)
		case "stop_reason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				*finish = internReason(v, anthropicStopReasons)
			}
		case "usage":
			d.usage(u)
		default:
			c.skip()
		}
	}
}

// message reads the "message" of message_start: its usage, stop reason
// and (always empty in practice) content.
func (d *anthropicDecoder) message(u *anthropicUsage, finish *string) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "usage":
			d.usage(u)
		case "content":
			d.content()
		case "stop_reason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				*finish = internReason(v, anthropicStopReasons)
			}
		default:
			c.skip()
		}
	}
}

// content reads a message's content blocks: text blocks into text,
// thinking blocks into reasoning, tool_use inputs (as JSON text) into args.
// Signatures and redacted thinking are not output.
func (d *anthropicDecoder) content() {
	c := &d.c
	if !c.array() {
		return
	}
	for c.nextObject() {
		for c.nextKey() {
			if d.textOrThinking() {
				continue
			}
			switch string(c.key) {
			case "input":
				if raw := rawValue(c); len(raw) > 0 && string(raw) != "{}" && string(raw) != "null" {
					d.args = append(d.args, raw...)
				}
			default:
				c.skip()
			}
		}
	}
}
