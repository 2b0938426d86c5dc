package providers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// OpenAIResponses is the codec of the OpenAI Responses API,
// POST {BaseURL}/responses.
//
// The request body is {"model","input","instructions","max_output_tokens",
// "temperature","top_p","stream"}: the prompt is the input, the system
// prompt the instructions. Request.TopK is not sent (the API has no top_k).
// The API stores responses unless asked not to; add "store": false to
// Request.Extra to ask.
//
// The stream is SSE with "event:" lines and no "[DONE]"; the decoder reads
// each event's type from its data ("type"), falling back to the event line.
// Text deltas (response.output_text.delta, response.refusal.delta),
// reasoning deltas (response.reasoning_summary_text.delta,
// response.reasoning_text.delta) and tool-call argument deltas
// (response.function_call_arguments.delta and the custom-tool and MCP
// equivalents) are output; lifecycle events (response.created,
// response.in_progress, *.added, *.done, ...) are Deltas without output.
// The terminal events end the stream: response.completed and
// response.incomplete carry the usage (response.usage) and the finish
// reason (the response's status, "completed", or the
// incomplete_details.reason of an incomplete one, such as
// "max_output_tokens"), and the next Next returns io.EOF; response.failed
// and "error" events give an *APIError with InStream set. A stream that
// ends before a terminal event ends with a *DecodeError wrapping
// io.ErrUnexpectedEOF, since its output and usage are incomplete.
//
// A non-streaming answer is one response object: its text is the text of
// its output_text (and refusal) parts, its reasoning that of its reasoning
// summaries and reasoning text, its tool arguments those of its function
// calls.
//
// The zero value talks to api.openai.com with $OPENAI_API_KEY. An
// OpenAIResponses is safe for concurrent use once configured.
type OpenAIResponses struct {
	// BaseURL is the API's base URL, version path included
	// ("http://127.0.0.1:8000/v1"); requests go to BaseURL + "/responses".
	// Empty means https://api.openai.com/v1.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer <APIKey>". Empty means the
	// OPENAI_API_KEY environment variable, read by each NewRequest, but
	// only for OpenAI's own API (as for OpenAI.APIKey); without a key no
	// Authorization header is sent.
	APIKey string

	// Label names the provider in results and messages; empty means
	// "openai-responses".
	Label string

	// Organization and Project, when set, are sent as the
	// OpenAI-Organization and OpenAI-Project headers.
	Organization string
	Project      string

	// Header holds extra headers sent with every request. They replace
	// the codec's own headers of the same name.
	Header http.Header
}

var (
	_ Provider    = (*OpenAIResponses)(nil)
	_ ModelLister = (*OpenAIResponses)(nil)
)

// Name returns Label, or "openai-responses" when Label is empty.
func (p *OpenAIResponses) Name() string { return cmp.Or(p.Label, "openai-responses") }

// apiKey returns the key requests carry.
func (p *OpenAIResponses) apiKey() string { return openAIKey(p.APIKey, p.BaseURL) }

// responsesRequest is the body of POST /responses.
type responsesRequest struct {
	Model           string   `json:"model,omitempty"`
	Input           any      `json:"input"` // the prompt, or the messages when there is a history
	Instructions    string   `json:"instructions,omitempty"`
	MaxOutputTokens int      `json:"max_output_tokens,omitempty"`
	Temperature     *float64 `json:"temperature,omitempty"`
	TopP            *float64 `json:"top_p,omitempty"`
	Stream          bool     `json:"stream,omitempty"`
}

// NewRequest builds the POST to BaseURL + "/responses" for r. Its headers
// are Authorization (when there is a key), Content-Type, Accept,
// Accept-Encoding: identity, OpenAI-Organization and OpenAI-Project when
// set, and Header. Request.Extra fields are merged into the body and
// replace the codec's own.
func (p *OpenAIResponses) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	u, err := requestURL(name, r, cmp.Or(p.BaseURL, defaultOpenAIBaseURL), "/responses")
	if err != nil {
		return nil, err
	}
	body := responsesRequest{
		Model:           r.Model,
		Input:           r.Prompt,
		Instructions:    r.System,
		MaxOutputTokens: max(r.MaxTokens, 0),
		Temperature:     r.Temperature,
		TopP:            r.TopP,
		Stream:          r.Stream,
	}
	if len(r.History) > 0 {
		body.Input = chatMessages(r, false)
	}
	return newPost(ctx, name, u, body, r, p.auth)
}

// auth sets the key, organization, project and extra headers of req.
func (p *OpenAIResponses) auth(req *http.Request) {
	setOpenAIHeaders(req, p.apiKey(), p.Organization, p.Project, p.Header)
}

// NewListModelsRequest builds GET {BaseURL}/models, as OpenAI's does: the
// Responses API shares the models endpoint.
func (p *OpenAIResponses) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	req, err := newGetRequest(ctx, cmp.Or(p.BaseURL, defaultOpenAIBaseURL), "/models")
	if err != nil {
		return nil, fmt.Errorf("%s: build list-models request: %w", p.Name(), err)
	}
	p.auth(req)
	return req, nil
}

// DecodeModels decodes the answer to NewListModelsRequest: the "id" of
// every element of "data", in the server's order.
func (p *OpenAIResponses) DecodeModels(resp *http.Response) ([]string, error) {
	return decodeOpenAIModels(p.Name(), resp, secrets{key: p.apiKey(), req: resp.Request}, openAIRequestID)
}

// NewDecoder returns a decoder of Responses API responses, streamed or not.
func (p *OpenAIResponses) NewDecoder() Decoder {
	d := &responsesDecoder{frame: frame{name: p.Name(), sc: secrets{key: p.apiKey()}, requestID: openAIRequestID,
		cut: errResponsesTruncated}}
	d.sse.DispatchAtEOF = true // a last event without its blank line is still decoded
	return d
}

// errResponsesTruncated is the cause of the DecodeError for a stream that
// ended before its terminal event.
var errResponsesTruncated = fmt.Errorf("%w: the stream ended before response.completed, response.incomplete or response.failed", io.ErrUnexpectedEOF)

// responsesEvent is the kind of a stream event, from its type.
type responsesEvent uint8

const (
	responsesOther          responsesEvent = iota // lifecycle and unknown events
	responsesTextDelta                            // output text
	responsesReasoningDelta                       // reasoning summary or reasoning text
	responsesArgsDelta                            // tool-call arguments
	responsesCompleted                            // terminal, usage
	responsesIncomplete                           // terminal, usage, incomplete_details
	responsesFailed                               // terminal, response.error
	responsesError                                // an error event
)

// classifyResponsesEvent maps an event type to its kind.
func classifyResponsesEvent(t []byte) responsesEvent {
	switch string(t) {
	case "response.output_text.delta", "response.refusal.delta":
		return responsesTextDelta
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		return responsesReasoningDelta
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta",
		"response.mcp_call_arguments.delta":
		return responsesArgsDelta
	case "response.completed":
		return responsesCompleted
	case "response.incomplete":
		return responsesIncomplete
	case "response.failed":
		return responsesFailed
	case "error":
		return responsesError
	}
	return responsesOther
}

// responsesDecoder decodes one Responses API response at a time. A stream
// that ends before its terminal event (response.completed,
// response.incomplete or response.failed) was cut short.
type responsesDecoder struct {
	frame
	part   []byte // the text of the output part being read
	status []byte // the status of the response object read last
	reason []byte // its incomplete_details.reason
}

// Reset prepares d for resp. A status outside 2xx gives an *APIError. A
// text/event-stream body (or one with no Content-Type, for a streaming
// request) is read as SSE; a JSON body as one response (or error) object;
// any other content type gives a *DecodeError naming it.
func (d *responsesDecoder) Reset(resp *http.Response, r *Request) error { return d.start(resp, r) }

// Next decodes the next event into out. See Decoder.
func (d *responsesDecoder) Next(out *Delta) error { return d.step(out, d) }

// event decodes one stream event. "[DONE]" is not the API's, but some
// compatible servers add it: it ends the stream, cut short unless a
// terminal event came first.
func (d *responsesDecoder) event(ev *SSEEvent, out *Delta) error {
	if bytes.HasPrefix(bytes.TrimLeft(ev.Data, " "), done) {
		return errEndMarker
	}
	*out = Delta{At: ev.DispatchAt}
	return d.decodeEvent(ev.Data, ev.Type, out)
}

// decodeEvent decodes one stream event (its data, and its type from the
// "event:" line) into out, whose At is already set.
func (d *responsesDecoder) decodeEvent(data, evType []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	if c.kind() != jsonObject {
		c.skip()
		if err := c.done(); err != nil {
			return d.decodeError(err, data)
		}
		return d.decodeError(errors.New("event is not a JSON object"), data)
	}
	kind := classifyResponsesEvent(evType)
	typed := false
	deltaStart, deltaEnd := -1, -1 // the "delta" value, when it came before "type"
	respStart, respEnd := -1, -1   // the "response" value, when it may be needed
	c.object()
	for c.nextKey() {
		switch string(c.key) {
		case "type":
			if v, ok := c.strView(); ok {
				kind, typed = classifyResponsesEvent(v), true
			}
		case "delta":
			if !typed {
				c.kind()
				deltaStart = c.i
				c.skip()
				deltaEnd = c.i
				continue
			}
			d.delta(kind)
		case "response":
			if typed && kind < responsesCompleted {
				c.skip()
				continue
			}
			c.kind()
			respStart = c.i
			c.skip()
			respEnd = c.i
		default:
			c.skip()
		}
	}
	if err := c.done(); err != nil {
		return d.decodeError(err, data)
	}
	if deltaStart >= 0 {
		c.reset(data[deltaStart:deltaEnd])
		d.delta(kind)
	}
	switch kind {
	case responsesTextDelta, responsesReasoningDelta, responsesArgsDelta:
		d.setOutput(out)
	case responsesCompleted, responsesIncomplete:
		d.mode = frameEnded // the next Next returns io.EOF
		if respStart >= 0 {
			var errSpan []byte
			d.response(data[respStart:respEnd], out, false, &errSpan)
		}
		if out.FinishReason == "" {
			if kind == responsesCompleted {
				out.FinishReason = "completed"
			} else {
				out.FinishReason = "incomplete"
			}
		}
	case responsesFailed:
		var errSpan []byte
		if respStart >= 0 {
			d.response(data[respStart:respEnd], out, false, &errSpan)
		}
		return d.failed(errSpan)
	case responsesError:
		return d.streamError(data)
	}
	return nil
}

// delta reads a "delta" value into the buffer of kind (a delta of any
// other kind is skipped).
func (d *responsesDecoder) delta(kind responsesEvent) {
	c := &d.c
	switch kind {
	case responsesTextDelta:
		d.text, _ = c.str(d.text)
	case responsesReasoningDelta:
		d.reasoning, _ = c.str(d.reasoning)
	case responsesArgsDelta:
		d.args, _ = c.str(d.args)
	default:
		c.skip()
	}
}

// failed returns the *APIError of a response.failed event (or a failed
// response object) whose "error" value is errObj (nil when it had none).
func (d *responsesDecoder) failed(errObj []byte) *APIError {
	if len(errObj) == 0 {
		return &APIError{Provider: d.name, StatusCode: d.resp.StatusCode, InStream: true,
			RequestID: headerOf(d.resp.Header, openAIRequestID), Message: "the response failed"}
	}
	return d.streamError(errObj)
}

// response reads a response object (obj, already checked as JSON) into out:
// usage, and the finish reason from its status and incomplete_details;
// with withOutput, also the text of its output. It stores the raw value of
// a non-null "error" in *errObj and returns the status.
func (d *responsesDecoder) response(obj []byte, out *Delta, withOutput bool, errObj *[]byte) (status []byte) {
	c := &d.c
	c.reset(obj)
	d.status, d.reason = d.status[:0], d.reason[:0]
	if !c.object() {
		return nil
	}
	for c.nextKey() {
		switch string(c.key) {
		case "status":
			if v, ok := c.strView(); ok {
				d.status = append(d.status[:0], v...) // strView's buffer is reused
			}
		case "usage":
			d.usage(out)
		case "incomplete_details":
			if c.object() {
				for c.nextKey() {
					if string(c.key) == "reason" {
						if v, ok := c.strView(); ok {
							d.reason = append(d.reason[:0], v...)
						}
					} else {
						c.skip()
					}
				}
			}
		case "error":
			if c.kind() == jsonObject {
				s := c.i
				c.skip()
				*errObj = obj[s:c.i]
			} else {
				c.skip()
			}
		case "output":
			if withOutput {
				d.output()
			} else {
				c.skip()
			}
		default:
			c.skip()
		}
	}
	switch {
	case len(d.reason) > 0:
		out.FinishReason = string(d.reason)
	case len(d.status) > 0:
		out.FinishReason = responsesStatus(d.status)
	}
	return d.status
}

// responsesStatus returns a response status as a string, without
// allocating for the usual ones.
func responsesStatus(v []byte) string {
	switch string(v) {
	case "completed":
		return "completed"
	case "incomplete":
		return "incomplete"
	case "failed":
		return "failed"
	case "in_progress":
		return "in_progress"
	}
	return string(v)
}

// usage reads a response's "usage" object (null is no usage).
func (d *responsesDecoder) usage(out *Delta) {
	if u, ok := d.c.openAIUsage("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details"); ok {
		out.Usage, out.HasUsage = u, true
	}
}

// output reads a response's "output" items: the text of message parts,
// the reasoning of reasoning items and the arguments of function calls.
func (d *responsesDecoder) output() {
	c := &d.c
	if !c.array() {
		return
	}
	for c.nextObject() {
		for c.nextKey() {
			switch string(c.key) {
			case "content":
				d.parts(false)
			case "summary":
				d.parts(true)
			case "arguments":
				d.args, _ = c.str(d.args)
			default:
				c.skip()
			}
		}
	}
}

// parts reads an item's array of parts ("content" or, with summary,
// "summary"), appending each part's text where its type says: output_text
// and refusal parts to the text, reasoning_text and summary parts to the
// reasoning. A part's type may follow its text, so the text is held until
// the part ends.
func (d *responsesDecoder) parts(summary bool) {
	c := &d.c
	if !c.array() {
		return
	}
	for c.nextObject() {
		d.part = d.part[:0]
		dest := &d.text
		if summary {
			dest = &d.reasoning
		}
		keep := true
		for c.nextKey() {
			switch string(c.key) {
			case "type":
				v, _ := c.strView()
				switch {
				case summary:
				case string(v) == "output_text", string(v) == "refusal":
					dest = &d.text
				case string(v) == "reasoning_text":
					dest = &d.reasoning
				default:
					keep = false
				}
			case "text", "refusal":
				d.part, _ = c.str(d.part)
			default:
				c.skip()
			}
		}
		if keep {
			*dest = append(*dest, d.part...)
		}
	}
}

// body decodes a whole response (or error) body: its output, usage and
// finish reason.
func (d *responsesDecoder) body(body []byte, out *Delta) error {
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	c := &d.c
	c.reset(body)
	if c.kind() != jsonObject {
		c.skip()
		if err := c.done(); err != nil {
			return d.decodeError(err, body)
		}
		return d.decodeError(errors.New("body is not a JSON object"), body)
	}
	var errObj []byte
	status := d.response(body, out, true, &errObj)
	if err := c.done(); err != nil {
		*out = Delta{}
		return d.decodeError(err, body)
	}
	if string(status) == "failed" || len(status) == 0 && errObj != nil {
		*out = Delta{}
		return d.failed(errObj)
	}
	if len(status) == 0 && !out.HasUsage && len(d.text)+len(d.reasoning)+len(d.args) == 0 {
		// Not a response object: an error in some other shape, or nothing.
		var e APIError
		if parseAPIError(&d.c, body, &e) {
			*out = Delta{}
			return d.streamError(body)
		}
	}
	d.setOutput(out)
	return nil
}
