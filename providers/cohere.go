package providers

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// defaultCohereBaseURL is the public Cohere v2 endpoint.
const defaultCohereBaseURL = "https://api.cohere.com/v2"

// Cohere is the codec of the Cohere v2 Chat API, POST {BaseURL}/chat.
//
// The body carries the prompt as messages (a system message first when
// Request.System is set), max_tokens, temperature, and top_p and top_k
// under Cohere's names, "p" and "k".
//
// The decoder reads what each event carries, whatever its type or SSE event
// name: content-delta carries the output
// (delta.message.content.text as Text, .thinking as Reasoning);
// tool-plan-delta's tool_plan counts as output too, as Reasoning, since it
// is the model's plan in prose; tool-call-start and tool-call-delta carry
// function arguments, as ToolArgs; message-start, content-start,
// content-end, tool-call-end, citation-start, citation-end, debug and
// unknown events are Deltas without output. message-end carries
// delta.finish_reason and delta.usage, whose tokens (falling back to
// billed_units for a count tokens lacks) give the Usage. A message-end
// with finish_reason ERROR or a delta.error is an *APIError with InStream
// set, Type the finish reason and Message the error. "data: [DONE]" ends
// the response with io.EOF; a stream whose body ends without it (after at
// least one event) ends with io.EOF as well, as if it had been sent,
// although the official SDK would fail it. A server that answers a
// streaming request with JSON is decoded as a non-streaming answer, and a
// {"message":"…"} object, Cohere's error shape, is an *APIError wherever it
// comes.
//
// The zero value talks to api.cohere.com with $COHERE_API_KEY (then
// $CO_API_KEY). A Cohere is safe for concurrent use once configured.
type Cohere struct {
	// BaseURL is the API's base URL, version path included; requests go to
	// BaseURL + "/chat". Empty means https://api.cohere.com/v2.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer <APIKey>". Empty means the
	// COHERE_API_KEY environment variable, then CO_API_KEY, read by each
	// NewRequest; when all are empty no Authorization header is sent.
	APIKey string

	// Label names the provider in results and messages; empty means
	// "cohere".
	Label string

	// Header holds extra headers sent with every request. They replace the
	// codec's own headers of the same name.
	Header http.Header
}

var (
	_ Provider    = (*Cohere)(nil)
	_ ModelLister = (*Cohere)(nil)
)

// Name returns Label, or "cohere" when Label is empty.
func (p *Cohere) Name() string { return cmp.Or(p.Label, "cohere") }

// apiKey returns the key requests carry.
func (p *Cohere) apiKey() string {
	return cmp.Or(p.APIKey, os.Getenv("COHERE_API_KEY"), os.Getenv("CO_API_KEY"))
}

// cohereRequestID are the headers that may carry the request id. Cohere
// does not document one; these are the names seen in its answers.
var cohereRequestID = []string{"X-Request-Id", "X-Debug-Trace-Id"}

// cohereChatRequest is the body of POST /v2/chat.
type cohereChatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	MaxTokens   int           `json:"max_tokens,omitempty"`
	Temperature *float64      `json:"temperature,omitempty"`
	P           *float64      `json:"p,omitempty"`
	K           *int          `json:"k,omitempty"`
	Stream      bool          `json:"stream,omitempty"`
}

// NewRequest builds the POST to BaseURL + "/chat" for r. Its headers are
// Authorization (when there is a key), Content-Type, Accept,
// Accept-Encoding: identity, and Header. Request.Extra fields are merged
// into the body and replace the codec's own.
func (p *Cohere) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	u, err := requestURL(name, r, cmp.Or(p.BaseURL, defaultCohereBaseURL), "/chat")
	if err != nil {
		return nil, err
	}
	body := cohereChatRequest{
		Model:       r.Model,
		MaxTokens:   max(r.MaxTokens, 0),
		Temperature: r.Temperature,
		P:           r.TopP,
		K:           r.TopK,
		Stream:      r.Stream,
	}
	body.Messages = chatMessages(r, true)
	return newPost(ctx, name, u, body, r, p.auth)
}

// auth sets the key and extra headers of req.
func (p *Cohere) auth(req *http.Request) {
	if key := p.apiKey(); key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	setHeaders(req.Header, p.Header)
}

// NewListModelsRequest builds GET {v1}/models?page_size=1000&endpoint=chat,
// where {v1} is BaseURL with a final "/v2" made "/v1" (Cohere lists models
// only in its v1 API; a BaseURL not ending in "/v2" is used as it is). It
// asks for the models that serve the chat endpoint, the only one this
// codec speaks, in the API's largest page; only that page is read.
func (p *Cohere) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	base := strings.TrimRight(cmp.Or(p.BaseURL, defaultCohereBaseURL), "/")
	if b, ok := strings.CutSuffix(base, "/v2"); ok {
		base = b + "/v1"
	}
	req, err := newGetRequest(ctx, base, "/models?page_size=1000&endpoint=chat")
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", p.Name(), err)
	}
	p.auth(req)
	return req, nil
}

// DecodeModels decodes the response to NewListModelsRequest,
// {"models":[{"name":"command-a-03-2025",…}],"next_page_token":…}, into
// the model names.
func (p *Cohere) DecodeModels(resp *http.Response) ([]string, error) {
	sc := secrets{req: resp.Request, key: p.apiKey()}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newStatusError(p.Name(), resp, sc, cohereRequestID...)
	}
	return readModelNames(p.Name(), resp, "models", "name", sc)
}

// NewDecoder returns a decoder of chat responses, streamed or not.
func (p *Cohere) NewDecoder() Decoder {
	d := &cohereDecoder{frame: frame{name: p.Name(), sc: secrets{key: p.apiKey()}, requestID: cohereRequestID}}
	d.sse.DispatchAtEOF = true // "data: [DONE]" may lack its blank line
	return d
}

// cohereFinishReasons are the finish reasons the API sends.
var cohereFinishReasons = []string{"COMPLETE", "MAX_TOKENS", "STOP_SEQUENCE", "TOOL_CALL", "ERROR", "TIMEOUT"}

// cohereDecoder decodes one chat response at a time.
type cohereDecoder struct {
	frame
	errText []byte // delta.error of message-end
}

// Reset prepares d for resp. See Decoder. A status outside 2xx gives an
// *APIError; a text/event-stream body (or one with no Content-Type, for a
// streaming request) is read as SSE; a JSON body as one chat response (or
// error); any other content type gives a *DecodeError naming it.
func (d *cohereDecoder) Reset(resp *http.Response, r *Request) error { return d.start(resp, r) }

// Next decodes the next event into out. See Decoder.
func (d *cohereDecoder) Next(out *Delta) error { return d.step(out, d) }

// event decodes one stream event; "data: [DONE]" ends the stream. A stream
// without it ends cleanly with its body, unless nothing at all was decoded.
func (d *cohereDecoder) event(ev *SSEEvent, out *Delta) error {
	if string(bytes.TrimSpace(ev.Data)) == "[DONE]" {
		return io.EOF
	}
	*out = Delta{At: ev.DispatchAt}
	return d.decode(ev.Data, out)
}

// body decodes a whole chat response (or error) body.
func (d *cohereDecoder) body(data []byte, out *Delta) error { return d.decode(data, out) }

// cohereEvent is what one event said besides its text.
type cohereEvent struct {
	finish    string
	usage     cohereUsage
	errorBody bool // a top-level "message" string: Cohere's error shape
	hasErrKey bool // delta.error was present
}

// decode reads one stream event (or a whole chat response) into out, whose
// At is already set. It reads the fields events carry rather than their
// type, which says nothing more. It returns an *APIError for an error and a *DecodeError for
// anything that is not a JSON object.
func (d *cohereDecoder) decode(data []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args, d.errText = d.text[:0], d.reasoning[:0], d.args[:0], d.errText[:0]
	if c.kind() != jsonObject {
		return d.notObject(data, "event data is not a JSON object")
	}
	var k cohereEvent
	c.object()
	for c.nextKey() {
		switch string(c.key) {
		case "delta":
			d.delta(&k)
		case "message":
			if c.kind() == jsonString {
				c.skip()
				k.errorBody = true
			} else {
				d.message()
			}
		case "finish_reason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				k.finish = internReason(v, cohereFinishReasons)
			}
		case "usage":
			d.usage(&k.usage)
		default: // "type" and "id" among them: the fields say what the event is
			c.skip()
		}
	}
	if err := c.done(); err != nil {
		return d.decodeError(err, data)
	}
	if k.errorBody {
		return d.streamError(data)
	}
	if len(d.errText) > 0 || k.finish == "ERROR" {
		return d.finishError(&k)
	}
	d.setOutput(out)
	out.FinishReason = k.finish
	if u, ok := k.usage.picture(); ok {
		out.Usage, out.HasUsage = u, true
	}
	return nil
}

// finishError returns the *APIError for a message-end that reports an
// error.
func (d *cohereDecoder) finishError(k *cohereEvent) *APIError {
	msg := string(d.errText)
	if msg == "" {
		msg = "the response ended with finish_reason " + k.finish
	}
	return &APIError{
		Provider:   d.name,
		StatusCode: d.resp.StatusCode,
		Type:       k.finish,
		Message:    d.sc.redact(textMessage([]byte(msg))),
		RequestID:  headerOf(d.resp.Header, cohereRequestID),
		InStream:   true,
	}
}

// delta reads an event's "delta": message (content, tool_plan,
// tool_calls), finish_reason, usage and error.
func (d *cohereDecoder) delta(k *cohereEvent) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "message":
			d.message()
		case "finish_reason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				k.finish = internReason(v, cohereFinishReasons)
			}
		case "usage":
			d.usage(&k.usage)
		case "error":
			switch c.kind() {
			case jsonString:
				d.errText, _ = c.str(d.errText)
			case jsonNull:
				c.skip()
			default: // an error object: keep its JSON as the message
				d.errText = append(d.errText, rawValue(c)...)
			}
		default:
			c.skip()
		}
	}
}

// message reads a message: delta.message of a stream event or the message
// of a whole response. content is an object (stream) or an array of parts
// (whole response), each with "text" or "thinking"; tool_plan is
// reasoning; tool_calls, an object or an array, carry function.arguments.
func (d *cohereDecoder) message() {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "content":
			if c.kind() == jsonArray {
				c.array()
				for c.nextElem() {
					d.contentPart()
				}
			} else {
				d.contentPart()
			}
		case "tool_plan":
			d.reasoning, _ = c.str(d.reasoning)
		case "tool_calls":
			if c.kind() == jsonArray {
				c.array()
				for c.nextElem() {
					d.toolCall()
				}
			} else {
				d.toolCall()
			}
		default:
			c.skip()
		}
	}
}

// contentPart reads one content object: text into text, thinking into
// reasoning.
func (d *cohereDecoder) contentPart() {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		if !d.textOrThinking() {
			c.skip()
		}
	}
}

// toolCall reads one tool call object, appending function.arguments.
func (d *cohereDecoder) toolCall() {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch {
		case string(c.key) != "function":
			c.skip()
		case c.object():
			for c.nextKey() {
				if string(c.key) == "arguments" {
					d.args, _ = c.str(d.args)
				} else {
					c.skip()
				}
			}
		}
	}
}

// cohereUsage is a usage object as sent: tokens and billed_units, each
// count with whether it was present.
type cohereUsage struct {
	tokensIn, tokensOut, billedIn, billedOut, cached             int
	hasTokensIn, hasTokensOut, hasBilledIn, hasBilledOut, hasAny bool
}

// picture returns the Usage u gives (tokens, else billed_units, count by
// count) and whether it gave any count.
func (u *cohereUsage) picture() (Usage, bool) {
	var out Usage
	ok := false
	switch {
	case u.hasTokensIn:
		out.InputTokens, ok = u.tokensIn, true
	case u.hasBilledIn:
		out.InputTokens, ok = u.billedIn, true
	}
	switch {
	case u.hasTokensOut:
		out.OutputTokens, ok = u.tokensOut, true
	case u.hasBilledOut:
		out.OutputTokens, ok = u.billedOut, true
	}
	out.CachedTokens = u.cached
	return out, ok || u.hasAny
}

// usage reads a "usage" object into u.
func (d *cohereDecoder) usage(u *cohereUsage) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "tokens":
			cohereTokens(c, &u.tokensIn, &u.tokensOut, &u.hasTokensIn, &u.hasTokensOut)
		case "billed_units":
			cohereTokens(c, &u.billedIn, &u.billedOut, &u.hasBilledIn, &u.hasBilledOut)
		case "cached_tokens":
			var ok bool
			if u.cached, ok = tokenCount(c); ok {
				u.hasAny = true
			}
		default:
			c.skip()
		}
	}
}

// cohereTokens reads a {"input_tokens","output_tokens"} object (tokens or
// billed_units), each count with whether it was present.
func cohereTokens(c *jsonCursor, in, out *int, hasIn, hasOut *bool) {
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "input_tokens":
			*in, *hasIn = tokenCount(c)
		case "output_tokens":
			*out, *hasOut = tokenCount(c)
		default:
			c.skip()
		}
	}
}
