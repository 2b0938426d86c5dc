package fake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// This file serves the OpenAI Responses API (POST /v1/responses).

type responsesRequest struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    string          `json:"instructions"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
	Stream          bool            `json:"stream"`
}

// inputText appends the text of a Responses input to b: a string, or an array
// of items whose content is a string or parts with "text", or whose output
// is a string. It reports false for any other shape.
func inputText(b *strings.Builder, input json.RawMessage) bool {
	input = bytes.TrimSpace(input)
	if len(input) > 0 && input[0] == '"' {
		return contentText(b, input)
	}
	var items []struct {
		Content json.RawMessage `json:"content"`
		Output  json.RawMessage `json:"output"`
	}
	if json.Unmarshal(input, &items) != nil || items == nil {
		return false
	}
	for _, it := range items {
		if !contentText(b, it.Content) {
			return false
		}
		if len(it.Output) > 0 && it.Output[0] == '"' {
			contentText(b, it.Output)
		}
	}
	return true
}

// serveResponses answers POST /v1/responses.
func serveResponses(x *exchange) *reply {
	var req responsesRequest
	if rep := decodeOpenAI(x.body, &req); rep != nil {
		return rep
	}
	model, rep := x.model(req.Model)
	if rep != nil {
		return rep
	}
	var prompt strings.Builder
	prompt.WriteString(req.Instructions)
	switch in := bytes.TrimSpace(req.Input); {
	case len(in) == 0 || string(in) == "null":
		return badRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
	case !inputText(&prompt, in):
		return badRequest("Invalid type for 'input': expected one of a string or array of input items.", "input", "invalid_type")
	}
	limit, rep := tokenLimit(map[string]*int{"max_output_tokens": req.MaxOutputTokens})
	if rep != nil {
		return rep
	}

	p := newPlan(x.cfg, x.seq, x.start, model, EstimateTokens(prompt.String()), limit)
	r := response{p: p, status: p.finish("completed", "incomplete")}
	return rendered(r, p, model, req.Stream, r.id(), r.status)
}

// response renders one Responses API response.
type response struct {
	p      *plan
	status string // final status: "completed" or "incomplete"
}

func (r response) id() string     { return "resp_" + r.p.id }
func (r response) itemID() string { return "msg_" + r.p.id }

// appendResponse appends the response object with the given status, in the
// shape of the reference fixture; an incomplete one adds
// incomplete_details. A final object carries the output message and the
// usage.
func (r response) appendResponse(dst []byte, status string, final bool) []byte {
	p := r.p
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, r.id())
	dst = append(dst, `,"object":"response","created_at":`...)
	dst = appendInt(dst, p.created)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, status)
	dst = append(dst, `,"error":null`...)
	if status == "incomplete" {
		dst = append(dst, `,"incomplete_details":{"reason":"max_output_tokens"}`...)
	}
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, p.model)
	if !final {
		return append(dst, `,"output":[],"usage":null}`...)
	}
	dst = append(dst, `,"output":[`...)
	dst = r.appendItem(dst, status)
	dst = append(dst, `],"usage":{"input_tokens":`...)
	in, out := int64(p.promptTokens), int64(len(p.tokens))
	dst = appendInt(dst, in)
	dst = append(dst, `,"input_tokens_details":{"cached_tokens":0},"output_tokens":`...)
	dst = appendInt(dst, out)
	dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":`...)
	dst = appendInt(dst, in+out)
	return append(dst, `}}`...)
}

// appendItem appends the output message item; an "in_progress" one has no
// content yet.
func (r response) appendItem(dst []byte, status string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, r.itemID())
	dst = append(dst, `,"type":"message","status":`...)
	dst = appendString(dst, status)
	dst = append(dst, `,"role":"assistant","content":[`...)
	if status != "in_progress" {
		dst = r.appendPart(dst, true)
	}
	return append(dst, `]}`...)
}

// appendPart appends the output_text part, with the whole text or empty.
func (r response) appendPart(dst []byte, full bool) []byte {
	dst = append(dst, `{"type":"output_text","text":`...)
	if full {
		dst = appendTokens(dst, r.p.tokens)
	} else {
		dst = append(dst, `""`...)
	}
	return append(dst, `,"annotations":[]}`...)
}

// appendTextRef appends the fields that locate the text part in an event.
func (r response) appendTextRef(dst []byte) []byte {
	dst = append(dst, `,"item_id":`...)
	dst = appendString(dst, r.itemID())
	return append(dst, `,"output_index":0,"content_index":0`...)
}

// stream renders the event sequence: response.created, response.in_progress,
// response.output_item.added and response.content_part.added at once; one
// response.output_text.delta per content event when due; then
// response.output_text.done, response.content_part.done,
// response.output_item.done and response.completed (response.incomplete when
// a token limit cut the output short), whose response carries the usage.
func (r response) stream() *reply {
	p := r.p
	contents := len(p.ends)
	events := contents + 8
	render := func(dst []byte, i int) event {
		ev := event{at: p.last(), content: -1}
		var typ string
		switch {
		case i == 0:
			typ = "response.created"
		case i == 1:
			typ = "response.in_progress"
		case i == 2:
			typ = "response.output_item.added"
		case i == 3:
			typ = "response.content_part.added"
		case i < 4+contents:
			typ = "response.output_text.delta"
			ev.content = i - 4
			ev.at = p.offsets[ev.content]
		case i == 4+contents:
			typ = "response.output_text.done"
		case i == 5+contents:
			typ = "response.content_part.done"
		case i == 6+contents:
			typ = "response.output_item.done"
		case r.status == "incomplete":
			typ = "response.incomplete"
		default:
			typ = "response.completed"
		}
		if i < 4 {
			ev.at = 0
		}
		dst = append(dst, "event: "...)
		dst = append(dst, typ...)
		dst = append(dst, "\ndata: {\"type\":"...)
		dst = appendString(dst, typ)
		dst = append(dst, `,"sequence_number":`...)
		dst = appendInt(dst, int64(i))
		switch typ {
		case "response.created", "response.in_progress":
			dst = append(dst, `,"response":`...)
			dst = r.appendResponse(dst, "in_progress", false)
		case "response.output_item.added", "response.output_item.done":
			status := "in_progress"
			if typ == "response.output_item.done" {
				status = r.status
			}
			dst = append(dst, `,"output_index":0,"item":`...)
			dst = r.appendItem(dst, status)
		case "response.content_part.added", "response.content_part.done":
			dst = r.appendTextRef(dst)
			dst = append(dst, `,"part":`...)
			dst = r.appendPart(dst, typ == "response.content_part.done")
		case "response.output_text.delta":
			dst = r.appendTextRef(dst)
			dst = append(dst, `,"delta":`...)
			dst = appendTokens(dst, p.chunk(ev.content))
			dst = append(dst, `,"logprobs":[]`...)
		case "response.output_text.done":
			dst = r.appendTextRef(dst)
			dst = append(dst, `,"text":`...)
			dst = appendTokens(dst, p.tokens)
			dst = append(dst, `,"logprobs":[]`...)
		default: // response.completed, response.incomplete
			dst = append(dst, `,"response":`...)
			dst = r.appendResponse(dst, r.status, true)
		}
		ev.data = append(dst, "}\n\n"...)
		return ev
	}
	return streamReply(p, eventStreamUTF8, events, 4, render, appendResponsesError)
}

// appendResponsesError appends the Responses API's error event, as event
// (and sequence number) i.
func appendResponsesError(dst []byte, i int) []byte {
	dst = append(dst, "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\""+openAIServerError+"\",\"param\":null,\"sequence_number\":"...)
	dst = appendInt(dst, int64(i))
	return append(dst, "}\n\n"...)
}

// object renders the non-streaming response object, sent when the stream's
// last delta would be.
func (r response) object() *reply {
	rep := bodyReply(http.StatusOK, "application/json", r.appendResponse(nil, r.status, true), r.p.last(), 0)
	rep.rec.Scheduled = []time.Duration{r.p.last()}
	return rep
}
