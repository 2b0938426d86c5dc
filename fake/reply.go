package fake

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// An event is one write of a response: bytes that go out together, with one
// Write and one Flush, no earlier than at after the request's start (and
// its wait in the queue).
type event struct {
	at      time.Duration
	content int // index in Record.Scheduled of the content event it carries, or -1
	data    []byte
	cut     bool // after writing data, cut the connection without ending the response
}

// A reply is a wire format's answer to one request: a status, headers, and a
// script of events that a player writes at their times. The real server plays
// it with its pacer, the Responder with a body that sleeps; neither knows the
// wire format, and no wire format knows the clock.
//
// The headers go out with the first event, so a stream's headers are sent at
// once with an event due at 0, and a non-streaming body's headers with the
// body.
type reply struct {
	status int
	header http.Header
	events int                           // number of events, at least 1
	render func(dst []byte, i int) event // appends event i to dst[:0]; i counts up from 0
	rec    Record                        // ground truth filled by the wire format: Model, Stream, ID, tokens, FinishReason, Text, Scheduled
	ending bool                          // the player has called core.ending

	// A successful response also sets what capacity and faults need.
	plan      *plan                          // the plan it renders; nil for other answers
	first     int                            // the index of the event that carries content event 0
	failEvent func(dst []byte, i int) []byte // appends the format's mid-stream error event, as event i; nil when not a stream
	done      []byte                         // the event that ends a stream after an error event ("data: [DONE]\n\n"), or nil
	errFinish string                         // the finish reason the error event reports, if any
	slot      atomic.Bool                    // the response holds a place of Config.Capacity
}

// A rendering renders one successful response of a wire format whose
// streamed and whole responses need nothing more than the plan.
type rendering interface {
	stream() *reply // the response as a stream of events
	object() *reply // the response as one object
}

// rendered renders r as the request asked, streamed or whole, and returns
// the reply served (see served).
func rendered[R rendering](r R, p *plan, model string, stream bool, id, finish string) *reply {
	var rep *reply
	if stream {
		rep = r.stream()
	} else {
		rep = r.object()
	}
	return rep.served(p, model, stream, id, finish)
}

// served completes the reply of a successful response rendered from p:
// it keeps the plan, for capacity and faults, and fills the ground truth
// every wire format records alike. It returns rep.
func (rep *reply) served(p *plan, model string, stream bool, id, finish string) *reply {
	rep.plan = p
	rep.rec.Model = model
	rep.rec.Stream = stream
	rep.rec.ID = id
	rep.rec.PromptTokens = p.promptTokens
	rep.rec.OutputTokens = len(p.tokens)
	rep.rec.FinishReason = finish
	rep.rec.Text = p.text()
	return rep
}

// streamReply answers 200 with a stream of events rendered by render from
// p, in the given content type; content event 0 is event first, and
// failEvent appends the format's mid-stream error event.
func streamReply(p *plan, contentType string, events, first int, render func(dst []byte, i int) event,
	failEvent func(dst []byte, i int) []byte) *reply {
	return &reply{
		status:    http.StatusOK,
		header:    streamHeader(contentType),
		events:    events,
		render:    render,
		rec:       Record{Scheduled: p.offsets},
		first:     first,
		failEvent: failEvent,
	}
}

// bodyReply answers with one body of the given content type, written at at.
// content is the content-event index of the body (0 for a non-streaming
// completion), or -1.
func bodyReply(status int, contentType string, body []byte, at time.Duration, content int) *reply {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &reply{
		status: status,
		header: h,
		events: 1,
		render: func(dst []byte, _ int) event {
			return event{at: at, content: content, data: append(dst, body...)}
		},
	}
}

// streamHeader returns the headers of a server-sent event stream with the
// given content type.
func streamHeader(contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	return h
}

// Content types of streams.
const (
	eventStreamUTF8 = "text/event-stream; charset=utf-8"
	eventStream     = "text/event-stream"
)
