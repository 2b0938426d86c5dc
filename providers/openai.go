package providers

// Decoding chat completion chunks.
//
// Nearly every event of a stream is a content chunk of one shape:
// {"id":...,"object":"chat.completion.chunk","created":...,"model":...,
// "choices":[{"index":0,"delta":{"content":...},"finish_reason":null}],...}.
// decode reads a chunk in one of two ways.
//
// decodeFast is a walk specialized to that shape. It keeps its position in
// local variables and reads the top-level object, each choice and its delta
// (or message) itself, finding where keys, strings, numbers and literals end
// with the cursor's scanners (scanString, scanNumber) and checking the
// syntax of every byte, as the cursor does. Every other value (a usage or
// timings object, tool calls, content parts, any object or array it skips)
// is read by decodeCursor's own readers, with the cursor positioned at the
// value and its depth set: they do exactly what they do in decodeCursor.
// At anything else (a key with escapes, an error chunk, any fault of
// syntax, a chunk that is not an object) decodeFast gives up, and
// decodeCursor, the cursor's walk, reads the chunk from the start; so
// invalid input becomes the *DecodeError it always was, an error chunk the
// *APIError. FuzzOpenAIChunk checks that the two walks agree on every
// chunk.
//
// The cursor's walk makes a call per key and per value, each loading its
// position from the cursor and storing it back; for the 219-byte content
// chunk that cost more than the scanning itself. On the VM of json.go's
// table, decodeFast reads the chunk in 160-170 ns (the cursor's walk:
// 220-260 ns), and a whole stream event, SSE framing included, takes
// 200-230 ns (285-330 ns before).
//
// Tried and left out, for no measurable gain: Delta.Text as a view of the
// chunk rather than a copy (the escaped chunk got slower); telling known
// keys of up to 16 bytes apart as two loaded words, without a loop (slower:
// Go's code for it is longer than the loop's); scanning keys inline rather
// than calling scanString (3% on the chunk alone, nothing on the stream); a
// structural index of quotes in place of scanString (see json.go).

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// defaultOpenAIBaseURL is the public OpenAI endpoint.
const defaultOpenAIBaseURL = "https://api.openai.com/v1"

// OpenAI is the codec of the OpenAI Chat Completions API,
// POST {BaseURL}/chat/completions, and of the servers that copy it: vLLM,
// Ollama, llama.cpp's llama-server, Hugging Face TGI and others.
//
// Streaming requests ask for usage in the stream ("stream_options":
// {"include_usage":true}). The decoder accepts what these servers actually
// send: a role-only first chunk, content and reasoning ("reasoning_content"
// or "reasoning") chunks, tool-call argument chunks, usage in a separate
// "choices":[] chunk, on the finish chunk or in every chunk as a running
// total (vLLM), llama.cpp's "timings" when there is no usage, "data:" with or
// without the space, "[DONE]" with or without its blank line, and a stream
// that ends without "[DONE]". Errors sent inside a 200 stream, as a
// {"error":{...}} chunk, vLLM's {"object":"error",...} chunk or llama.cpp's
// "error:" line, become an *APIError with InStream set. A server that answers
// a streaming request with plain JSON is decoded as a non-streaming answer.
// A stream cut inside an event ends with io.EOF, the partial event
// discarded; but a stream that ends before anything could be decoded ends
// with a *DecodeError, so that an empty answer is never taken for success.
//
// OpenAI is also a ModelLister: GET {BaseURL}/models lists the models the
// key can use.
//
// The zero value talks to api.openai.com with $OPENAI_API_KEY. An OpenAI is
// safe for concurrent use once configured.
type OpenAI struct {
	// BaseURL is the API's base URL, version path included
	// ("http://127.0.0.1:8000/v1"); requests go to BaseURL +
	// "/chat/completions". Empty means https://api.openai.com/v1.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer <APIKey>". Empty means the
	// OPENAI_API_KEY environment variable, read by each NewRequest — but
	// only when BaseURL is OpenAI's own (empty, or host api.openai.com):
	// an OpenAI key is never sent to another server by default. Without a
	// key no Authorization header is sent (local servers need none).
	APIKey string

	// Label names the provider in results and messages ("vllm",
	// "ollama"); empty means "openai". It is Label, not Name, because Name
	// is the method of Provider that reports it.
	Label string

	// Organization and Project, when set, are sent as the
	// OpenAI-Organization and OpenAI-Project headers.
	Organization string
	Project      string

	// Header holds extra headers sent with every request. They replace
	// the codec's own headers of the same name.
	Header http.Header

	// MaxTokensField names the body field that carries Request.MaxTokens:
	// "max_completion_tokens" (OpenAI's current name, which its reasoning
	// models require) or "max_tokens" (the older name, which every
	// OpenAI-compatible server understands). Empty chooses by host:
	// max_completion_tokens for api.openai.com, max_tokens for any other
	// server, since some builds of vLLM, llama.cpp and TGI do not know
	// max_completion_tokens.
	MaxTokensField string

	// NoStreamUsage leaves "stream_options" out of streaming requests, for
	// servers that reject it. Output tokens are then known only from
	// counting events (or from usage the server sends unasked).
	NoStreamUsage bool
}

var _ Provider = (*OpenAI)(nil)

// Name returns Label, or "openai" when Label is empty.
func (p *OpenAI) Name() string { return cmp.Or(p.Label, "openai") }

// apiKey returns the key requests carry.
func (p *OpenAI) apiKey() string { return openAIKey(p.APIKey, p.BaseURL) }

// openAIKey returns key, or else $OPENAI_API_KEY when base is OpenAI's own
// API: an OpenAI key is never sent to another server by default.
func openAIKey(key, base string) string {
	if key != "" {
		return key
	}
	if !officialOpenAI(base) {
		return ""
	}
	return os.Getenv("OPENAI_API_KEY")
}

// officialOpenAI reports whether base is OpenAI's own API: empty, or on
// host api.openai.com.
func officialOpenAI(base string) bool {
	if base == "" {
		return true
	}
	u, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Hostname(), "api.openai.com")
}

// maxTokensField returns the field that carries the output token limit.
func (p *OpenAI) maxTokensField() (string, error) {
	switch p.MaxTokensField {
	case "max_tokens", "max_completion_tokens":
		return p.MaxTokensField, nil
	case "":
		if officialOpenAI(p.BaseURL) {
			return "max_completion_tokens", nil
		}
		return "max_tokens", nil
	}
	return "", fmt.Errorf("MaxTokensField %q is neither max_tokens nor max_completion_tokens", p.MaxTokensField)
}

// openAIChatRequest is the body of POST /chat/completions.
type openAIChatRequest struct {
	Model               string               `json:"model,omitempty"`
	Messages            []chatMessage        `json:"messages"`
	MaxCompletionTokens int                  `json:"max_completion_tokens,omitempty"`
	MaxTokens           int                  `json:"max_tokens,omitempty"`
	Temperature         *float64             `json:"temperature,omitempty"`
	TopP                *float64             `json:"top_p,omitempty"`
	TopK                *int                 `json:"top_k,omitempty"` // not OpenAI's; vLLM, llama.cpp and others take it
	Stream              bool                 `json:"stream,omitempty"`
	StreamOptions       *openAIStreamOptions `json:"stream_options,omitempty"`
}

type openAIStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// NewRequest builds the POST to BaseURL + "/chat/completions" for r. Its
// headers are Authorization (when there is a key), Content-Type, Accept,
// Accept-Encoding: identity (so that reads are timed without a
// decompression layer), OpenAI-Organization and OpenAI-Project when set,
// and Header. Request.Extra fields are merged into the body and replace the
// codec's own.
func (p *OpenAI) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	u, err := requestURL(name, r, cmp.Or(p.BaseURL, defaultOpenAIBaseURL), "/chat/completions")
	if err != nil {
		return nil, err
	}
	field, err := p.maxTokensField()
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	return newPost(ctx, name, u, newOpenAIChatBody(r, r.Model, field, !p.NoStreamUsage), r, p.auth)
}

// auth sets the key, organization, project and extra headers of req.
func (p *OpenAI) auth(req *http.Request) {
	setOpenAIHeaders(req, p.apiKey(), p.Organization, p.Project, p.Header)
}

// newOpenAIChatBody builds the chat completions body for r, with model as
// its "model" (empty leaves it out), the output token limit in the field
// named maxField, and, when streamUsage is set and r streams, a request for
// usage in the stream. OpenAI and Azure share it.
func newOpenAIChatBody(r *Request, model, maxField string, streamUsage bool) openAIChatRequest {
	body := openAIChatRequest{
		Model:       model,
		Temperature: r.Temperature,
		TopP:        r.TopP,
		TopK:        r.TopK,
		Stream:      r.Stream,
	}
	body.Messages = chatMessages(r, true)
	if r.MaxTokens > 0 {
		if maxField == "max_tokens" {
			body.MaxTokens = r.MaxTokens
		} else {
			body.MaxCompletionTokens = r.MaxTokens
		}
	}
	if r.Stream && streamUsage {
		body.StreamOptions = &openAIStreamOptions{IncludeUsage: true}
	}
	return body
}

// setOpenAIHeaders sets "Authorization: Bearer key", the
// OpenAI-Organization and OpenAI-Project headers when given, then the extra
// headers, which replace any of the same name.
func setOpenAIHeaders(req *http.Request, key, org, project string, extra http.Header) {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if org != "" {
		req.Header.Set("OpenAI-Organization", org)
	}
	if project != "" {
		req.Header.Set("OpenAI-Project", project)
	}
	setHeaders(req.Header, extra)
}

// NewDecoder returns a decoder of chat completion responses, streamed or
// not.
func (p *OpenAI) NewDecoder() Decoder {
	return newOpenAIDecoder(p.Name(), secrets{key: p.apiKey()}, openAIRequestID)
}

// newOpenAIDecoder returns a chat completions decoder that names itself
// name, redacts sc and takes the request id from the first of the
// requestID headers present. OpenAI and Azure share it.
func newOpenAIDecoder(name string, sc secrets, requestID []string) *openAIDecoder {
	d := &openAIDecoder{frame: frame{name: name, sc: sc, requestID: requestID}}
	d.sse.DispatchAtEOF = true // llama.cpp may end with "data: [DONE]" and no blank line
	d.sse.ErrorField = true    // llama.cpp's "error: {...}" line
	return d
}

// openAIRequestID is the header that carries the request id.
var openAIRequestID = []string{"X-Request-Id"}

// openAIDecoder decodes one chat completion response at a time.
type openAIDecoder struct {
	frame
	sawUsage bool // the response has sent usage: timings no longer count
}

// Reset prepares d for resp. A status outside 2xx gives an *APIError. A
// text/event-stream body (or one with no Content-Type, for a streaming
// request) is read as SSE; a JSON body as one completion (or error) object;
// any other content type gives a *DecodeError naming it, with the start of
// the body.
func (d *openAIDecoder) Reset(resp *http.Response, r *Request) error {
	d.sawUsage = false
	return d.start(resp, r)
}

// Next decodes the next event into out. See Decoder.
func (d *openAIDecoder) Next(out *Delta) error { return d.step(out, d) }

// DecodeUsual decodes the usual event of a chat completions stream, a
// chunk of the shape the API sends, from the start of p, the next bytes of
// a body pushed into the decoder (see ErrPending), where they are, as Next
// would decode them, the event arriving at at. It returns how many bytes
// of p the event took, or 0 for anything else, which Next then decodes.
// lens.Transport uses it to decode an application's reads.
func (d *openAIDecoder) DecodeUsual(p []byte, at time.Time, out *Delta) int {
	_, data, n := d.usualEvent(p)
	if n == 0 || data[0] != '{' {
		return 0
	}
	*out = Delta{At: at}
	d.c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	if !d.decodeFast(data, out) {
		return 0
	}
	return d.tookUsual(n)
}

// done is the data of the event that ends an OpenAI stream.
var done = []byte("[DONE]")

// event decodes one chunk of a stream; "[DONE]" ends it. A stream without
// "[DONE]" ends cleanly with its body, unless nothing at all was decoded.
func (d *openAIDecoder) event(ev *SSEEvent, out *Delta) error {
	if data := ev.Data; (len(data) == 0 || data[0] != '{') && bytes.HasPrefix(bytes.TrimLeft(data, " "), done) {
		return io.EOF
	}
	*out = Delta{At: ev.DispatchAt}
	return d.decode(ev.Data, out)
}

// body decodes a whole chat.completion (or error) body.
func (d *openAIDecoder) body(data []byte, out *Delta) error { return d.decode(data, out) }

// decode reads one chat.completion.chunk (or one chat.completion) into out,
// which holds nothing but At. It returns an *APIError for an error object
// and a *DecodeError for anything that is not a JSON object.
//
// decodeFast reads the usual chunk; what it leaves, decodeCursor reads
// from the start.
func (d *openAIDecoder) decode(data []byte, out *Delta) error {
	d.c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	if d.decodeFast(data, out) {
		return nil
	}
	*out = Delta{At: out.At}
	return d.decodeCursor(data, out)
}

// decodeCursor is decode walking data with the cursor's readers alone.
func (d *openAIDecoder) decodeCursor(data []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	switch c.kind() {
	case jsonObject:
	case jsonNull: // openai-go accepts a null chunk; it carries nothing
		c.skip()
		if err := c.done(); err != nil {
			return d.decodeError(err, data)
		}
		return nil
	default:
		return d.notObject(data, "chunk is not a JSON object")
	}
	var isErr, hasTimings bool
	var timings Usage
	c.object()
	for c.nextKey() {
		switch string(c.key) {
		case "choices":
			d.choices(out)
		case "usage":
			d.usage(out)
		case "timings":
			timings, hasTimings = d.timings()
		case "error":
			isErr = !c.null() || isErr
		case "object":
			if v, _ := c.strView(); string(v) == "error" {
				isErr = true
			}
		default:
			c.skip()
		}
	}
	if err := c.done(); err != nil {
		return d.decodeError(err, data)
	}
	if isErr {
		return d.streamError(data)
	}
	if hasTimings && !out.HasUsage && !d.sawUsage {
		out.Usage, out.HasUsage = timings, true
	}
	d.setOutput(out)
	return nil
}

// decodeFast decodes data as decodeCursor does, with a walk that keeps its
// place in local variables instead of the cursor's calls. It reads the
// objects of the usual chunk itself (the top level, each choice and its
// delta or message), keys without escapes, and strings, numbers and
// literals; every other value is read by the cursor's own readers, the same
// ones decodeCursor calls, positioned at it. It reports false at anything
// else (an escaped key, an error object, any fault of syntax): decode then
// has decodeCursor read data from the start, so errors are its own.
func (d *openAIDecoder) decodeFast(b []byte, out *Delta) bool {
	i := jsonWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	var hasTimings bool
	var timings Usage
	if i = jsonWS(b, i+1); i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			key, j := fastKey(b, i)
			if j < 0 {
				return false
			}
			i = j
			switch string(key) {
			case "choices":
				i = d.fastChoices(b, i, out)
			case "usage":
				if hasLiteral(b, i, "null") {
					i += len("null")
				} else {
					d.at(i, 1).usage(out)
					i = d.resume()
				}
			case "object":
				if b[i] != '"' {
					i = d.fastSkip(b, i, 1)
					break
				}
				end, escaped := scanString(b, i+1)
				if escaped || end < 0 || string(b[i+1:end-1]) == "error" {
					return false // decodeCursor reads it
				}
				i = end
			case "timings":
				timings, hasTimings = d.at(i, 1).timings()
				i = d.resume()
			case "error":
				return false
			default:
				i = d.fastSkip(b, i, 1)
			}
			if i < 0 {
				return false
			}
			if i = jsonWS(b, i); i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return false
			}
			i = jsonWS(b, i+1)
		}
	}
	if jsonWS(b, i) != len(b) {
		return false
	}
	if hasTimings && !out.HasUsage && !d.sawUsage {
		out.Usage, out.HasUsage = timings, true
	}
	d.setOutput(out)
	return true
}

// at positions the cursor at the value at i, nested depth deep, for one
// of decodeCursor's readers to read it; resume then says where it stopped.
func (d *openAIDecoder) at(i, depth int) *openAIDecoder {
	d.c.i, d.c.depth = i, depth
	return d
}

// resume returns where the cursor stopped after reading a value for
// decodeFast, or -1 if it failed.
func (d *openAIDecoder) resume() int {
	if d.c.err != nil {
		return -1
	}
	return d.c.i
}

// jsonWS returns the index of the first byte at or after i that is not
// JSON white space.
func jsonWS(b []byte, i int) int {
	if i < len(b) && b[i] <= ' ' {
		return skipWS(b, i)
	}
	return i
}

// hasLiteral reports whether b holds word at i.
func hasLiteral(b []byte, i int, word string) bool {
	return len(b)-i >= len(word) && string(b[i:i+len(word)]) == word
}

// fastKey reads the object key at i, which must have no escapes, and its
// colon. It returns the key and the index of the value (which is within
// b), or -1.
func fastKey(b []byte, i int) ([]byte, int) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1
	}
	end, escaped := scanString(b, i+1)
	if end < 0 || escaped {
		return nil, -1
	}
	key := b[i+1 : end-1]
	if i = jsonWS(b, end); i >= len(b) || b[i] != ':' {
		return nil, -1
	}
	if i = jsonWS(b, i+1); i >= len(b) {
		return nil, -1
	}
	return key, i
}

// fastSkip skips the value at i (within b), at the given depth of
// nesting, and returns the index after it, or -1.
func (d *openAIDecoder) fastSkip(b []byte, i, depth int) int {
	switch ch := b[i]; {
	case ch == '"':
		end, _ := scanString(b, i+1)
		return end
	case ch == 'n' && hasLiteral(b, i, "null"):
		return i + len("null")
	case ch == 't' && hasLiteral(b, i, "true"):
		return i + len("true")
	case ch == 'f' && hasLiteral(b, i, "false"):
		return i + len("false")
	case ch == '-' || ch >= '0' && ch <= '9':
		end, _, _ := scanNumber(b, i)
		return end
	}
	d.at(i, depth).c.skip()
	return d.resume()
}

// fastStr appends the text of the string at i (within b) to dst, as the
// cursor's str does, and returns the index after the value, or -1.
func (d *openAIDecoder) fastStr(dst, b []byte, i, depth int) ([]byte, int) {
	switch {
	case b[i] == '"':
		end, escaped := scanString(b, i+1)
		if end < 0 {
			return dst, -1
		}
		raw := b[i+1 : end-1]
		if !escaped {
			return append(dst, raw...), end
		}
		out, err := appendUnescaped(dst, raw)
		if err != nil {
			return dst, -1
		}
		return out, end
	case hasLiteral(b, i, "null"):
		return dst, i + len("null")
	}
	dst, _ = d.at(i, depth).c.str(dst)
	return dst, d.resume()
}

// fastChoices reads the "choices" value at i (within b).
func (d *openAIDecoder) fastChoices(b []byte, i int, out *Delta) int {
	if b[i] != '[' {
		d.at(i, 1).choices(out)
		return d.resume()
	}
	if i = jsonWS(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i >= len(b) {
			return -1
		}
		if b[i] == '{' {
			i = d.fastChoice(b, i, out)
		} else {
			d.at(i, 2).choice(out)
			i = d.resume()
		}
		if i < 0 {
			return -1
		}
		if i = jsonWS(b, i); i >= len(b) {
			return -1
		}
		if b[i] == ']' {
			return i + 1
		}
		if b[i] != ',' {
			return -1
		}
		i = jsonWS(b, i+1)
	}
}

// fastChoice reads the choice object at i, as choice does.
func (d *openAIDecoder) fastChoice(b []byte, i int, out *Delta) int {
	if i = jsonWS(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		key, j := fastKey(b, i)
		if j < 0 {
			return -1
		}
		i = j
		switch string(key) {
		case "delta", "message":
			if b[i] == '{' {
				i = d.fastMessage(b, i)
			} else {
				d.at(i, 3).message()
				i = d.resume()
			}
		case "finish_reason":
			if hasLiteral(b, i, "null") {
				i += len("null")
			} else {
				d.at(i, 3).finish(out)
				i = d.resume()
			}
		default:
			i = d.fastSkip(b, i, 3)
		}
		if i < 0 {
			return -1
		}
		if i = jsonWS(b, i); i >= len(b) {
			return -1
		}
		if b[i] == '}' {
			return i + 1
		}
		if b[i] != ',' {
			return -1
		}
		i = jsonWS(b, i+1)
	}
}

// fastMessage reads the delta or message object at i, as message does.
func (d *openAIDecoder) fastMessage(b []byte, i int) int {
	reasoned := false
	if i = jsonWS(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		key, j := fastKey(b, i)
		if j < 0 {
			return -1
		}
		i = j
		switch string(key) {
		case "content", "refusal":
			if b[i] == '[' {
				d.text = d.at(i, 4).content(d.text)
				i = d.resume()
			} else {
				d.text, i = d.fastStr(d.text, b, i, 4)
			}
		case "reasoning_content", "reasoning":
			if reasoned {
				i = d.fastSkip(b, i, 4)
				break
			}
			n := len(d.reasoning)
			d.reasoning, i = d.fastStr(d.reasoning, b, i, 4)
			reasoned = len(d.reasoning) > n
		case "tool_calls":
			d.at(i, 4).toolCalls()
			i = d.resume()
		case "function_call":
			d.at(i, 4).function()
			i = d.resume()
		default:
			i = d.fastSkip(b, i, 4)
		}
		if i < 0 {
			return -1
		}
		if i = jsonWS(b, i); i >= len(b) {
			return -1
		}
		if b[i] == '}' {
			return i + 1
		}
		if b[i] != ',' {
			return -1
		}
		i = jsonWS(b, i+1)
	}
}

// choice reads one element of "choices".
func (d *openAIDecoder) choice(out *Delta) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "delta", "message":
			d.message()
		case "finish_reason":
			d.finish(out)
		default:
			c.skip()
		}
	}
}

// message reads a choice's "delta" (streaming) or "message" (not).
func (d *openAIDecoder) message() {
	c := &d.c
	if !c.object() {
		return
	}
	reasoned := false
	for c.nextKey() {
		switch string(c.key) {
		case "content", "refusal":
			d.text = d.content(d.text)
		case "reasoning_content", "reasoning":
			// Servers that renamed the field may send both with the same
			// text: take the first that has some.
			if reasoned {
				c.skip()
				continue
			}
			n := len(d.reasoning)
			d.reasoning, _ = c.str(d.reasoning)
			reasoned = len(d.reasoning) > n
		case "tool_calls":
			d.toolCalls()
		case "function_call": // the deprecated single-function form
			d.function()
		default:
			c.skip()
		}
	}
}

// choices reads the "choices" array.
func (d *openAIDecoder) choices(out *Delta) {
	c := &d.c
	if c.array() {
		for c.nextElem() {
			d.choice(out)
		}
	}
}

// finish reads a choice's "finish_reason".
func (d *openAIDecoder) finish(out *Delta) {
	if v, ok := d.c.strView(); ok && len(v) > 0 {
		out.FinishReason = finishReason(v)
	}
}

// toolCalls reads a message's "tool_calls" array, appending the arguments
// of each call's function.
func (d *openAIDecoder) toolCalls() {
	c := &d.c
	if c.array() {
		for c.nextElem() {
			if c.object() {
				for c.nextKey() {
					if string(c.key) == "function" {
						d.function()
					} else {
						c.skip()
					}
				}
			}
		}
	}
}

// content reads a content value, a string or an array of {"text":...}
// parts, appending its text to dst.
func (d *openAIDecoder) content(dst []byte) []byte {
	c := &d.c
	if c.kind() != jsonArray {
		dst, _ = c.str(dst)
		return dst
	}
	c.array()
	for c.nextElem() {
		if c.object() {
			for c.nextKey() {
				if string(c.key) == "text" {
					dst, _ = c.str(dst)
				} else {
					c.skip()
				}
			}
		}
	}
	return dst
}

// function reads a {"name","arguments"} function object, appending the
// arguments text.
func (d *openAIDecoder) function() {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		if string(c.key) == "arguments" {
			d.args, _ = c.str(d.args)
		} else {
			c.skip()
		}
	}
}

// usage reads a "usage" object (null is no usage).
func (d *openAIDecoder) usage(out *Delta) {
	if u, ok := d.c.openAIUsage("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details"); ok {
		out.Usage, out.HasUsage = u, true
		d.sawUsage = true
	}
}

// openAIUsage reads an OpenAI usage object (null, or any other value, is
// no usage, reported as false): the input and output counts under the keys
// in and out, cached_tokens under inDetails and reasoning_tokens under
// outDetails. Chat Completions and Responses name the keys differently.
func (c *jsonCursor) openAIUsage(in, out, inDetails, outDetails string) (Usage, bool) {
	if !c.object() {
		return Usage{}, false
	}
	var u Usage
	for c.nextKey() {
		switch string(c.key) {
		case in:
			u.InputTokens = c.count()
		case out:
			u.OutputTokens = c.count()
		case inDetails:
			c.countIn("cached_tokens", &u.CachedTokens)
		case outDetails:
			c.countIn("reasoning_tokens", &u.ReasoningTokens)
		default:
			c.skip()
		}
	}
	return u, true
}

// countIn reads an object's count under key into *dst; any other value
// leaves *dst as it was.
func (c *jsonCursor) countIn(key string, dst *int) {
	if !c.object() {
		return
	}
	for c.nextKey() {
		if string(c.key) == key {
			*dst = c.count()
		} else {
			c.skip()
		}
	}
}

// timings reads llama.cpp's "timings" object into a Usage (prompt_n and
// predicted_n), reporting whether it had predicted_n.
func (d *openAIDecoder) timings() (Usage, bool) {
	c := &d.c
	var u Usage
	ok := false
	if c.object() {
		for c.nextKey() {
			switch string(c.key) {
			case "prompt_n":
				u.InputTokens = c.count()
			case "predicted_n":
				u.OutputTokens = c.count()
				ok = true
			default:
				c.skip()
			}
		}
	}
	return u, ok
}

// count reads a token count: a non-negative integer that fits an int (else
// 0).
func (c *jsonCursor) count() int {
	n, ok := c.int()
	if !ok || n < 0 || int64(int(n)) != n {
		return 0
	}
	return int(n)
}

// finishReason returns v as a string, without allocating for the reasons
// OpenAI-compatible servers send.
func finishReason(v []byte) string {
	switch string(v) {
	case "stop":
		return "stop"
	case "length":
		return "length"
	case "tool_calls":
		return "tool_calls"
	case "content_filter":
		return "content_filter"
	case "function_call":
		return "function_call"
	case "eos":
		return "eos"
	case "abort":
		return "abort"
	}
	return string(v)
}

var _ ModelLister = (*OpenAI)(nil)

// NewListModelsRequest builds GET {BaseURL}/models, with the auth and
// extra headers NewRequest sends.
func (p *OpenAI) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	req, err := newGetRequest(ctx, cmp.Or(p.BaseURL, defaultOpenAIBaseURL), "/models")
	if err != nil {
		return nil, fmt.Errorf("%s: build list-models request: %w", p.Name(), err)
	}
	p.auth(req)
	return req, nil
}

// DecodeModels decodes the answer to NewListModelsRequest: the "id" of
// every element of "data", in the server's order.
func (p *OpenAI) DecodeModels(resp *http.Response) ([]string, error) {
	return decodeOpenAIModels(p.Name(), resp, secrets{key: p.apiKey(), req: resp.Request}, openAIRequestID)
}

// maxOpenAIModelsBody caps the body of a list of models.
const maxOpenAIModelsBody = 8 << 20

// decodeOpenAIModels decodes an OpenAI-style list of models,
// {"object":"list","data":[{"id":"gpt-4o",...},...]}, into the ids. A
// status outside 2xx gives the *APIError; a 2xx body that is an error object
// gives it too, with InStream set; any other body without a "data" list
// gives a *DecodeError. OpenAI, OpenAIResponses and Azure share it.
func decodeOpenAIModels(name string, resp *http.Response, sc secrets, requestID []string) ([]string, error) {
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newStatusError(name, resp, sc, requestID...)
	}
	body, truncated, err := readCapped(nil, resp.Body, maxOpenAIModelsBody)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: read list of models: %w", name, err)
	case truncated:
		return nil, &DecodeError{Provider: name, Snippet: sc.snippet(body),
			Err: fmt.Errorf("%w: the list of models is over %d bytes", ErrLineTooLong, maxOpenAIModelsBody)}
	}
	var c jsonCursor
	c.reset(body)
	var ids []string
	found := false
	if c.object() {
		for c.nextKey() {
			if string(c.key) != "data" || !c.array() {
				c.skip()
				continue
			}
			found = true
			for c.nextObject() {
				for c.nextKey() {
					if string(c.key) != "id" {
						c.skip()
					} else if v, ok := c.strView(); ok && len(v) > 0 {
						ids = append(ids, string(v))
					}
				}
			}
		}
	}
	if err := c.done(); err != nil {
		return nil, &DecodeError{Provider: name, Snippet: sc.snippet(body), Err: fmt.Errorf("list of models: %w", err)}
	}
	if !found {
		var e APIError
		if parseAPIError(&c, body, &e) {
			return nil, newStreamError(name, resp, sc, body, requestID...)
		}
		return nil, &DecodeError{Provider: name, Snippet: sc.snippet(body), Err: errors.New(`list of models: no "data" list`)}
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}
