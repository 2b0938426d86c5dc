package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// This file serves the OpenAI Chat Completions API (POST /v1/chat/completions),
// the model list (GET /v1/models) and OpenAI's error envelope.

// openAIError answers with OpenAI's error envelope,
// {"error":{"message":…,"type":…,"param":…,"code":…}}; an empty param or code
// is null.
func openAIError(status int, message, typ, param, code string) *reply {
	type detail struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	d := detail{Message: message, Type: typ}
	if param != "" {
		d.Param = &param
	}
	if code != "" {
		d.Code = &code
	}
	body, err := json.Marshal(struct {
		Error detail `json:"error"`
	}{d})
	if err != nil {
		panic(err) // unreachable: strings and pointers to strings always marshal
	}
	return bodyReply(status, "application/json", body, 0, -1)
}

// openAIAPI is the API of the OpenAI formats.
var openAIAPI = &api{
	requestIDHeader: "X-Request-Id",
	fail: func(_ *exchange, status int, message string) *reply {
		return openAIError(status, message, "invalid_request_error", "", "")
	},
	fault: openAIFault,
}

// Messages of OpenAI's server errors.
const (
	openAIServerError = "The server had an error while processing your request. Sorry about that!"
	openAIUnavailable = "The server is overloaded or not ready yet."
	openAIOverloaded  = "The engine is currently overloaded, please try again later"
)

// openAIFault answers a status fault as OpenAI does: a 429 of type
// "requests" with its x-ratelimit-* headers, or a server_error.
func openAIFault(_ *exchange, f Fault, retryAfter time.Duration) *reply {
	switch f {
	case FaultRateLimit:
		msg := fmt.Sprintf("Rate limit reached for requests in organization org-fake on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in %v. Visit https://platform.openai.com/account/rate-limits to learn more.", retryAfter)
		rep := openAIError(http.StatusTooManyRequests, msg, "requests", "", "rate_limit_exceeded")
		rep.header.Set("X-Ratelimit-Limit-Requests", "60")
		rep.header.Set("X-Ratelimit-Remaining-Requests", "0")
		rep.header.Set("X-Ratelimit-Reset-Requests", retryAfter.String())
		return rep
	case FaultUnavailable:
		return openAIError(http.StatusServiceUnavailable, openAIUnavailable, "server_error", "", "")
	case FaultOverloaded:
		return openAIError(http.StatusServiceUnavailable, openAIOverloaded, "server_error", "", "")
	}
	return openAIError(http.StatusInternalServerError, openAIServerError, "server_error", "", "")
}

// badRequest is a 400 invalid_request_error.
func badRequest(message, param, code string) *reply {
	return openAIError(http.StatusBadRequest, message, "invalid_request_error", param, code)
}

// errParseJSON is OpenAI's answer to a body that is not a JSON object.
const errParseJSON = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"

// decodeOpenAI decodes an OpenAI request body into v, or returns the 400
// OpenAI answers with.
func decodeOpenAI(body []byte, v any) *reply {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return badRequest(errParseJSON, "", "")
	}
	err := json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return badRequest(fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", typeErr.Field, jsonType(typeErr.Type), jsonValue(typeErr.Value)), typeErr.Field, "invalid_type")
	default:
		return badRequest(errParseJSON, "", "")
	}
}

// jsonType names the JSON type that decodes into t, as OpenAI's messages do.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonValue names the kind of JSON value encoding/json reports in an
// UnmarshalTypeError ("string", "number 1.5", ...).
func jsonValue(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	case strings.HasPrefix(v, "number"):
		if strings.ContainsAny(strings.TrimPrefix(v, "number"), ".eE") {
			return "a decimal"
		}
		return "an integer"
	}
	return v
}

// tokenLimit checks the optional token limits of a request and returns the
// lowest (0 for none).
func tokenLimit(limits map[string]*int) (int, *reply) {
	limit := 0
	for _, name := range []string{"max_tokens", "max_completion_tokens", "max_output_tokens"} {
		v, ok := limits[name]
		if !ok || v == nil {
			continue
		}
		if *v < 1 {
			return 0, badRequest(fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.", name, *v), name, "integer_below_min_value")
		}
		if limit == 0 || *v < limit {
			limit = *v
		}
	}
	return limit, nil
}

// model returns the request's model, the configured one when it names none,
// or the 400 OpenAI answers with.
func (x *exchange) model(requested string) (string, *reply) {
	switch {
	case requested != "":
		return requested, nil
	case x.cfg.Model != "":
		return x.cfg.Model, nil
	}
	return "", badRequest("you must provide a model parameter", "", "")
}

// contentText appends the text of a message's content to b: a string, an
// array of parts with "text" fields, or null. It reports false for any other
// JSON value.
func contentText(b *strings.Builder, content json.RawMessage) bool {
	content = bytes.TrimSpace(content)
	if len(content) == 0 || string(content) == "null" {
		return true
	}
	switch content[0] {
	case '"':
		var s string
		if json.Unmarshal(content, &s) != nil {
			return false
		}
		b.WriteString(s)
		return true
	case '[':
		var parts []struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(content, &parts) != nil {
			return false
		}
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return true
	}
	return false
}

// chatMessage is one message of a chat request's "messages" (Chat
// Completions, Azure, Cohere and Anthropic alike): its content, a string or
// an array of parts, is read by each format's rules.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatRequest struct {
	Model               string        `json:"model"`
	Messages            []chatMessage `json:"messages"`
	MaxTokens           *int          `json:"max_tokens"`
	MaxCompletionTokens *int          `json:"max_completion_tokens"`
	Stream              bool          `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// A chatCall is a valid Chat Completions request, as OpenAI and Azure check
// it.
type chatCall struct {
	chatRequest
	model        string
	promptTokens int
	limit        int
}

// includeUsage reports whether the request asks for a usage chunk.
func (c chatCall) includeUsage() bool { return c.StreamOptions != nil && c.StreamOptions.IncludeUsage }

// parseChat parses and checks a Chat Completions request, or returns the 400
// OpenAI answers with. A request with no model gets Config.Model, then
// fallback.
func parseChat(x *exchange, fallback string) (chatCall, *reply) {
	var c chatCall
	req := &c.chatRequest
	if rep := decodeOpenAI(x.body, req); rep != nil {
		return c, rep
	}
	if req.Model == "" && x.cfg.Model == "" && fallback != "" {
		req.Model = fallback
	}
	model, rep := x.model(req.Model)
	if rep != nil {
		return c, rep
	}
	switch {
	case req.Messages == nil:
		return c, badRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
	case len(req.Messages) == 0:
		return c, badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array")
	case req.StreamOptions != nil && !req.Stream:
		return c, badRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "")
	}
	var prompt strings.Builder
	for i, m := range req.Messages {
		if m.Role == "" {
			return c, badRequest(fmt.Sprintf("Missing required parameter: 'messages[%d].role'.", i), fmt.Sprintf("messages[%d].role", i), "missing_required_parameter")
		}
		if !contentText(&prompt, m.Content) {
			return c, badRequest(fmt.Sprintf("Invalid type for 'messages[%d].content': expected one of a string or array of objects.", i), fmt.Sprintf("messages[%d].content", i), "invalid_type")
		}
	}
	limit, rep := tokenLimit(map[string]*int{"max_tokens": req.MaxTokens, "max_completion_tokens": req.MaxCompletionTokens})
	if rep != nil {
		return c, rep
	}
	c.model, c.promptTokens, c.limit = model, EstimateTokens(prompt.String()), limit
	return c, nil
}

// serveChatCompletions answers POST /v1/chat/completions.
func serveChatCompletions(x *exchange) *reply {
	call, rep := parseChat(x, "")
	if rep != nil {
		return rep
	}
	p := newPlan(x.cfg, x.seq, x.start, call.model, call.promptTokens, call.limit)
	finish := p.finish("stop", "length")
	c := chat{p: p, finish: finish, fingerprint: fingerprint(x.cfg.Seed)}
	if call.Stream {
		rep = c.stream(call.includeUsage())
	} else {
		rep = c.completion()
	}
	return rep.served(p, call.model, call.Stream, c.id(), finish)
}

// fingerprint is the system_fingerprint of every response under seed.
func fingerprint(seed uint64) string { return fmt.Sprintf("fp_%010x", mix64(seed)>>24) }

// chat renders one Chat Completions response.
type chat struct {
	p           *plan
	finish      string
	fingerprint string
}

func (c chat) id() string { return "chatcmpl-" + c.p.id }

// appendUsage appends the usage object; details adds the *_details objects
// a stream's usage chunk carries.
func (c chat) appendUsage(dst []byte, details bool) []byte {
	prompt, completion := int64(c.p.promptTokens), int64(len(c.p.tokens))
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, prompt)
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, completion)
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, prompt+completion)
	if details {
		dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}`...)
	}
	return append(dst, '}')
}

// stream renders the chunk sequence: the role chunk at once, each content
// chunk when due, then the finish chunk, the usage chunk when asked for, and
// [DONE].
func (c chat) stream(includeUsage bool) *reply {
	p := c.p
	var prefix []byte
	prefix = append(prefix, `data: {"id":`...)
	prefix = appendString(prefix, c.id())
	prefix = append(prefix, `,"object":"chat.completion.chunk","created":`...)
	prefix = appendInt(prefix, p.created)
	prefix = append(prefix, `,"model":`...)
	prefix = appendString(prefix, p.model)
	prefix = append(prefix, `,"system_fingerprint":`...)
	prefix = appendString(prefix, c.fingerprint)
	prefix = append(prefix, `,"choices":[`...)
	suffix := "]}\n\n"
	if includeUsage {
		suffix = `],"usage":null}` + "\n\n"
	}

	contents := len(p.ends)
	events := contents + 3 // role, contents, finish, [DONE]
	if includeUsage {
		events++
	}
	render := func(dst []byte, i int) event {
		switch {
		case i == 0:
			dst = append(dst, prefix...)
			dst = append(dst, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`...)
			return event{at: 0, content: -1, data: append(dst, suffix...)}
		case i <= contents:
			j := i - 1
			dst = append(dst, prefix...)
			dst = append(dst, `{"index":0,"delta":{"content":`...)
			dst = appendTokens(dst, p.chunk(j))
			dst = append(dst, `},"logprobs":null,"finish_reason":null}`...)
			return event{at: p.offsets[j], content: j, data: append(dst, suffix...)}
		case i == contents+1:
			dst = append(dst, prefix...)
			dst = append(dst, `{"index":0,"delta":{},"logprobs":null,"finish_reason":`...)
			dst = appendString(dst, c.finish)
			dst = append(dst, '}')
			return event{at: p.last(), content: -1, data: append(dst, suffix...)}
		case includeUsage && i == contents+2:
			dst = append(dst, prefix...)
			dst = append(dst, `],"usage":`...)
			dst = c.appendUsage(dst, true)
			return event{at: p.last(), content: -1, data: append(dst, "}\n\n"...)}
		default:
			return event{at: p.last(), content: -1, data: append(dst, doneEvent...)}
		}
	}
	rep := streamReply(p, eventStreamUTF8, events, 1, render, appendOpenAIStreamError)
	rep.done = []byte(doneEvent)
	return rep
}

// doneEvent ends an OpenAI-style stream.
const doneEvent = "data: [DONE]\n\n"

// appendOpenAIStreamError appends the mid-stream error chunk of Chat
// Completions, a top-level "error" key that makes clients
// stop.
func appendOpenAIStreamError(dst []byte, _ int) []byte {
	return append(dst, `data: {"error":{"message":"`+openAIServerError+`","type":"server_error","code":null}}`+"\n\n"...)
}

// completion renders the non-streaming chat.completion object, sent when the
// stream's last content chunk would be.
func (c chat) completion() *reply {
	p := c.p
	var b []byte
	b = append(b, `{"id":`...)
	b = appendString(b, c.id())
	b = append(b, `,"object":"chat.completion","created":`...)
	b = appendInt(b, p.created)
	b = append(b, `,"model":`...)
	b = appendString(b, p.model)
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	b = appendTokens(b, p.tokens)
	b = append(b, `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":`...)
	b = appendString(b, c.finish)
	b = append(b, `}],"usage":`...)
	b = c.appendUsage(b, false)
	b = append(b, `,"service_tier":"default","system_fingerprint":`...)
	b = appendString(b, c.fingerprint)
	b = append(b, '}')
	rep := bodyReply(http.StatusOK, "application/json", b, p.last(), 0)
	rep.rec.Scheduled = []time.Duration{p.last()}
	return rep
}

// listedModel is the one model the model lists show.
func (x *exchange) listedModel() string {
	if x.cfg.Model != "" {
		return x.cfg.Model
	}
	return DefaultModel
}

// serveModels answers GET /v1/models with the one configured model, in
// Anthropic's shape when the request carries anthropic-version (both APIs
// list models at this path), else in OpenAI's.
func serveModels(x *exchange) *reply {
	if x.req.Header.Get("Anthropic-Version") != "" {
		return serveAnthropicModels(x)
	}
	model := x.listedModel()
	var b []byte
	b = append(b, `{"object":"list","data":[{"id":`...)
	b = appendString(b, model)
	b = append(b, `,"object":"model","created":1700000000,"owned_by":"fake"}]}`...)
	return bodyReply(http.StatusOK, "application/json", b, 0, -1)
}
