package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// This file serves the Anthropic Messages API (POST /v1/messages), its model
// list (GET /v1/models with an anthropic-version header) and its error
// envelope, as the API documents it.

// anthropicAPI is the API of the Anthropic format.
var anthropicAPI = &api{
	requestIDHeader: "Request-Id",
	fail: func(x *exchange, status int, message string) *reply {
		return anthropicError(x, status, message)
	},
	fault: anthropicFault,
}

// anthropicErrorType names the error.type Anthropic sends with a status.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusPaymentRequired:
		return "billing_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	case statusOverloaded:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// anthropicError answers with Anthropic's envelope,
// {"type":"error","error":{"type":…,"message":…},"request_id":…}.
func anthropicError(x *exchange, status int, message string) *reply {
	var b []byte
	b = append(b, `{"type":"error","error":{"type":`...)
	b = appendString(b, anthropicErrorType(status))
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `},"request_id":`...)
	b = appendString(b, x.requestID())
	b = append(b, '}')
	return bodyReply(status, "application/json", b, 0, -1)
}

// anthropicFault answers a status fault as Anthropic does; an overload is
// its 529.
func anthropicFault(x *exchange, f Fault, retryAfter time.Duration) *reply {
	switch f {
	case FaultRateLimit:
		rep := anthropicError(x, http.StatusTooManyRequests, "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.")
		rep.header.Set("Anthropic-Ratelimit-Requests-Limit", "50")
		rep.header.Set("Anthropic-Ratelimit-Requests-Remaining", "0")
		rep.header.Set("Anthropic-Ratelimit-Requests-Reset", x.start.Add(retryAfter).UTC().Format(time.RFC3339))
		return rep
	case FaultUnavailable:
		return anthropicError(x, http.StatusServiceUnavailable, "Service unavailable")
	case FaultOverloaded:
		return anthropicError(x, statusOverloaded, "Overloaded")
	}
	return anthropicError(x, http.StatusInternalServerError, "Internal server error")
}

type messagesRequest struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	Messages  []chatMessage   `json:"messages"`
	System    json.RawMessage `json:"system"`
	Stream    bool            `json:"stream"`
}

// serveMessages answers POST /v1/messages. The request must carry a key,
// x-api-key or Authorization, whose value is not checked; without one it
// gets Anthropic's 401.
func serveMessages(x *exchange) *reply {
	if x.req.Header.Get("X-Api-Key") == "" && x.req.Header.Get("Authorization") == "" {
		return anthropicError(x, http.StatusUnauthorized, "x-api-key header is required")
	}
	var req messagesRequest
	body := bytes.TrimSpace(x.body)
	if len(body) == 0 || body[0] != '{' {
		return anthropicError(x, http.StatusBadRequest, "The request body is not valid JSON.")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return anthropicError(x, http.StatusBadRequest, fmt.Sprintf("%s: Input should be %s", typeErr.Field, jsonType(typeErr.Type)))
		}
		return anthropicError(x, http.StatusBadRequest, "The request body is not valid JSON.")
	}
	model := req.Model
	if model == "" {
		model = x.cfg.Model
	}
	switch {
	case model == "":
		return anthropicError(x, http.StatusBadRequest, "model: Field required")
	case req.MaxTokens == nil:
		return anthropicError(x, http.StatusBadRequest, "max_tokens: Field required")
	case *req.MaxTokens < 1:
		return anthropicError(x, http.StatusBadRequest, "max_tokens: Input should be greater than or equal to 1")
	case req.Messages == nil:
		return anthropicError(x, http.StatusBadRequest, "messages: Field required")
	case len(req.Messages) == 0:
		return anthropicError(x, http.StatusBadRequest, "messages: at least one message is required")
	}
	var prompt strings.Builder
	if !contentText(&prompt, req.System) {
		return anthropicError(x, http.StatusBadRequest, "system: Input should be a valid string or a list of text blocks")
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return anthropicError(x, http.StatusBadRequest, fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
		}
		if !contentText(&prompt, m.Content) {
			return anthropicError(x, http.StatusBadRequest, fmt.Sprintf("messages.%d.content: Input should be a valid string or a list of content blocks", i))
		}
	}

	p := newPlan(x.cfg, x.seq, x.start, model, EstimateTokens(prompt.String()), *req.MaxTokens)
	m := message{p: p, stop: p.finish("end_turn", "max_tokens")}
	return rendered(m, p, model, req.Stream, m.id(), m.stop)
}

// message renders one Messages API response.
type message struct {
	p    *plan
	stop string // stop_reason: "end_turn" or "max_tokens"
}

func (m message) id() string { return "msg_" + m.p.id }

// appendAnthropicEvent appends "event: typ\ndata: " and returns dst.
func appendAnthropicEvent(dst []byte, typ string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	return append(dst, "\ndata: "...)
}

// stream renders the API's event sequence: message_start,
// content_block_start and ping at once; one content_block_delta per content
// event when due; then content_block_stop, message_delta (stop_reason and
// the cumulative output_tokens) and message_stop. Every event has an event:
// line naming its type.
func (m message) stream() *reply {
	p := m.p
	contents := len(p.ends)
	events := contents + 6
	render := func(dst []byte, i int) event {
		ev := event{at: p.last(), content: -1}
		switch {
		case i == 0:
			ev.at = 0
			dst = appendAnthropicEvent(dst, "message_start")
			dst = append(dst, `{"type":"message_start","message":{"id":`...)
			dst = appendString(dst, m.id())
			dst = append(dst, `,"type":"message","role":"assistant","content":[],"model":`...)
			dst = appendString(dst, p.model)
			dst = append(dst, `,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
			dst = appendInt(dst, int64(p.promptTokens))
			dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`...)
		case i == 1:
			ev.at = 0
			dst = appendAnthropicEvent(dst, "content_block_start")
			dst = append(dst, `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`...)
		case i == 2:
			ev.at = 0
			dst = appendAnthropicEvent(dst, "ping")
			dst = append(dst, `{"type": "ping"}`...)
		case i < 3+contents:
			ev.content = i - 3
			ev.at = p.offsets[ev.content]
			dst = appendAnthropicEvent(dst, "content_block_delta")
			dst = append(dst, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`...)
			dst = appendTokens(dst, p.chunk(ev.content))
			dst = append(dst, `}}`...)
		case i == 3+contents:
			dst = appendAnthropicEvent(dst, "content_block_stop")
			dst = append(dst, `{"type":"content_block_stop","index":0}`...)
		case i == 4+contents:
			dst = appendAnthropicEvent(dst, "message_delta")
			dst = append(dst, `{"type":"message_delta","delta":{"stop_reason":`...)
			dst = appendString(dst, m.stop)
			dst = append(dst, `,"stop_sequence":null},"usage":{"output_tokens":`...)
			dst = appendInt(dst, int64(len(p.tokens)))
			dst = append(dst, `}}`...)
		default:
			dst = appendAnthropicEvent(dst, "message_stop")
			dst = append(dst, `{"type":"message_stop"}`...)
		}
		ev.data = append(dst, "\n\n"...)
		return ev
	}
	return streamReply(p, eventStreamUTF8, events, 3, render, appendAnthropicStreamError)
}

// appendAnthropicStreamError appends Anthropic's mid-stream error event.
func appendAnthropicStreamError(dst []byte, _ int) []byte {
	return append(dst, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"...)
}

// object renders the non-streaming message, sent when the stream's last
// delta would be.
func (m message) object() *reply {
	p := m.p
	var b []byte
	b = append(b, `{"id":`...)
	b = appendString(b, m.id())
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = appendString(b, p.model)
	b = append(b, `,"content":[{"type":"text","text":`...)
	b = appendTokens(b, p.tokens)
	b = append(b, `}],"stop_reason":`...)
	b = appendString(b, m.stop)
	b = append(b, `,"stop_sequence":null,"usage":{"input_tokens":`...)
	b = appendInt(b, int64(p.promptTokens))
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, int64(len(p.tokens)))
	b = append(b, `}}`...)
	rep := bodyReply(http.StatusOK, "application/json", b, p.last(), 0)
	rep.rec.Scheduled = []time.Duration{p.last()}
	return rep
}

// serveAnthropicModels answers GET /v1/models in Anthropic's shape, with the
// one configured model.
func serveAnthropicModels(x *exchange) *reply {
	x.api = anthropicAPI
	model := x.listedModel()
	var b []byte
	b = append(b, `{"data":[{"type":"model","id":`...)
	b = appendString(b, model)
	b = append(b, `,"display_name":`...)
	b = appendString(b, model)
	b = append(b, `,"created_at":"2025-01-01T00:00:00Z"}],"has_more":false,"first_id":`...)
	b = appendString(b, model)
	b = append(b, `,"last_id":`...)
	b = appendString(b, model)
	b = append(b, '}')
	return bodyReply(http.StatusOK, "application/json", b, 0, -1)
}
