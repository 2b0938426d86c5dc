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

// This file serves Cohere's v2 Chat API (POST /v2/chat) and its error
// envelope, as the API documents it.

// cohereAPI is the API of the Cohere format.
var cohereAPI = &api{
	requestIDHeader: "X-Request-Id",
	fail: func(_ *exchange, status int, message string) *reply {
		return cohereError(status, message)
	},
	fault: cohereFault,
}

// cohereError answers with Cohere's envelope, {"message":…}.
func cohereError(status int, message string) *reply {
	var b []byte
	b = append(b, `{"message":`...)
	b = appendString(b, message)
	b = append(b, '}')
	return bodyReply(status, "application/json", b, 0, -1)
}

// cohereFault answers a status fault as Cohere does; an overload is a 503.
func cohereFault(_ *exchange, f Fault, _ time.Duration) *reply {
	switch f {
	case FaultRateLimit:
		return cohereError(http.StatusTooManyRequests, "You are past the rate limit of your API key. Please try again later.")
	case FaultUnavailable:
		return cohereError(http.StatusServiceUnavailable, "service unavailable")
	case FaultOverloaded:
		return cohereError(http.StatusServiceUnavailable, "the model is overloaded, please try again later")
	}
	return cohereError(http.StatusInternalServerError, "internal server error")
}

type cohereRequest struct {
	Model     string          `json:"model"`
	Messages  []chatMessage   `json:"messages"`
	MaxTokens *int            `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	P         *float64        `json:"p"`
	K         *float64        `json:"k"`
	TopP      json.RawMessage `json:"top_p"`
	TopK      json.RawMessage `json:"top_k"`
}

// serveCohere answers POST /v2/chat. Its sampling parameters are p (0.01 to
// 0.99) and k (0 to 500); OpenAI's top_p and top_k are unknown fields there,
// and a 400.
func serveCohere(x *exchange) *reply {
	var req cohereRequest
	body := bytes.TrimSpace(x.body)
	if len(body) == 0 || body[0] != '{' {
		return cohereError(http.StatusBadRequest, "invalid request: the body must be a JSON object")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return cohereError(http.StatusBadRequest, fmt.Sprintf("invalid request: %s must be %s", typeErr.Field, strings.TrimPrefix(strings.TrimPrefix(jsonType(typeErr.Type), "an "), "a ")))
		}
		return cohereError(http.StatusBadRequest, "invalid request: the body is not valid JSON")
	}
	model := req.Model
	if model == "" {
		model = x.cfg.Model
	}
	switch {
	case req.TopP != nil:
		return cohereError(http.StatusBadRequest, "invalid request: unknown field: parameter top_p is not a valid field")
	case req.TopK != nil:
		return cohereError(http.StatusBadRequest, "invalid request: unknown field: parameter top_k is not a valid field")
	case model == "":
		return cohereError(http.StatusBadRequest, "invalid request: model must be specified")
	case len(req.Messages) == 0:
		return cohereError(http.StatusBadRequest, "invalid request: messages must not be empty")
	case req.MaxTokens != nil && *req.MaxTokens < 1:
		return cohereError(http.StatusBadRequest, "invalid request: max_tokens must be at least 1")
	case req.P != nil && (*req.P < 0.01 || *req.P > 0.99):
		return cohereError(http.StatusBadRequest, "invalid request: p must be between 0.01 and 0.99")
	case req.K != nil && (*req.K < 0 || *req.K > 500 || *req.K != float64(int(*req.K))):
		return cohereError(http.StatusBadRequest, "invalid request: k must be an integer between 0 and 500")
	}
	var prompt strings.Builder
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			return cohereError(http.StatusBadRequest, fmt.Sprintf("invalid request: messages[%d].role must be one of system, user, assistant, tool", i))
		}
		if !contentText(&prompt, m.Content) {
			return cohereError(http.StatusBadRequest, fmt.Sprintf("invalid request: messages[%d].content must be a string or a list of content blocks", i))
		}
	}
	limit := 0
	if req.MaxTokens != nil {
		limit = *req.MaxTokens
	}

	p := newPlan(x.cfg, x.seq, x.start, model, EstimateTokens(prompt.String()), limit)
	c := cohereChat{p: p, finish: p.finish("COMPLETE", "MAX_TOKENS")}
	return rendered(c, p, model, req.Stream, p.id, c.finish)
}

// cohereChat renders one v2 Chat response.
type cohereChat struct {
	p      *plan
	finish string // "COMPLETE" or "MAX_TOKENS"
}

// appendUsage appends the usage object. The fake bills every prompt token,
// so billed_units and tokens agree.
func (c cohereChat) appendUsage(dst []byte) []byte {
	in, out := int64(c.p.promptTokens), int64(len(c.p.tokens))
	for _, name := range []string{`{"billed_units":`, `,"tokens":`} {
		dst = append(dst, name...)
		dst = append(dst, `{"input_tokens":`...)
		dst = appendInt(dst, in)
		dst = append(dst, `,"output_tokens":`...)
		dst = appendInt(dst, out)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// stream renders the API's event sequence: message-start and
// content-start at once; one content-delta per content event when due;
// then content-end, message-end (finish_reason and usage) and data: [DONE].
// Each event but [DONE] has an event: line naming its type, and a data line
// with "data: " and its space.
func (c cohereChat) stream() *reply {
	p := c.p
	contents := len(p.ends)
	events := contents + 5
	render := func(dst []byte, i int) event {
		ev := event{at: p.last(), content: -1}
		switch {
		case i == 0:
			ev.at = 0
			dst = append(dst, "event: message-start\ndata: {\"id\":"...)
			dst = appendString(dst, p.id)
			dst = append(dst, `,"type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`...)
		case i == 1:
			ev.at = 0
			dst = append(dst, "event: content-start\ndata: {\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}"...)
		case i < 2+contents:
			ev.content = i - 2
			ev.at = p.offsets[ev.content]
			dst = append(dst, "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":"...)
			dst = appendTokens(dst, p.chunk(ev.content))
			dst = append(dst, `}}}}`...)
		case i == 2+contents:
			dst = append(dst, "event: content-end\ndata: {\"type\":\"content-end\",\"index\":0}"...)
		case i == 3+contents:
			dst = append(dst, "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":"...)
			dst = appendString(dst, c.finish)
			dst = append(dst, `,"usage":`...)
			dst = c.appendUsage(dst)
			dst = append(dst, `}}`...)
		default:
			ev.data = append(dst, doneEvent...)
			return ev
		}
		ev.data = append(dst, "\n\n"...)
		return ev
	}
	rep := streamReply(p, eventStream, events, 2, render, appendCohereStreamError)
	rep.done = []byte(doneEvent)
	rep.errFinish = "ERROR"
	return rep
}

// appendCohereStreamError appends Cohere's mid-stream error (as the API
// documents it): a message-end whose finish_reason is ERROR, with delta.error.
func appendCohereStreamError(dst []byte, _ int) []byte {
	return append(dst, "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\",\"error\":\"internal server error\"}}\n\n"...)
}

// object renders the non-streaming response, sent when the stream's last
// delta would be.
func (c cohereChat) object() *reply {
	p := c.p
	var b []byte
	b = append(b, `{"id":`...)
	b = appendString(b, p.id)
	b = append(b, `,"finish_reason":`...)
	b = appendString(b, c.finish)
	b = append(b, `,"message":{"role":"assistant","content":[{"type":"text","text":`...)
	b = appendTokens(b, p.tokens)
	b = append(b, `}]},"usage":`...)
	b = c.appendUsage(b)
	b = append(b, '}')
	rep := bodyReply(http.StatusOK, "application/json", b, p.last(), 0)
	rep.rec.Scheduled = []time.Duration{p.last()}
	return rep
}
