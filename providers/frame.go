package providers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// frame is the part of a decoder that every codec shares: the response, its
// framing (SSE events, NDJSON lines or one whole body), the sticky error, the
// count of delivered Deltas, and the facts errors carry (provider name,
// credentials to redact, request id headers). A codec embeds a frame, sets
// its configuration once in NewDecoder, and implements codec; its Reset
// resets its own state and calls start, its Next calls step.
type frame struct {
	// configuration, set by NewDecoder
	name      string
	sc        secrets
	requestID []string                       // header names of the request id
	details   func(body []byte, e *APIError) // reads more of an error body; nil for none
	sse       SSEReader
	cut       error // the cause of the DecodeError for a stream cut short; nil: the end of the body is a clean end

	// the response
	resp      *http.Response
	mode      frameMode
	lines     genericLineReader
	line      SSEEvent // the NDJSON line being decoded, as an event
	events    int      // events (or lines) read so far; the current one's 1-based index
	c         jsonCursor
	err       error  // sticky: the error Next returned
	delivered int    // Deltas Next has returned for this response
	bodyBuf   []byte // the whole body, when not streamed

	// the output of the event being decoded
	text      []byte
	reasoning []byte
	args      []byte
}

// frameMode is how a frame reads its body.
type frameMode uint8

const (
	frameSSE   frameMode = iota // SSE events
	frameLines                  // NDJSON lines
	frameBody                   // one JSON body, not yet read
	frameEnded                  // the body was read, or the last event delivered
)

// errEndMarker is what a codec's event returns for an end marker that is
// not its API's own: the stream's outcome is then the codec's end, as if
// the body had ended there.
var errEndMarker = errors.New("end marker")

// codec is what a decoder adds to its frame.
type codec interface {
	// event decodes one event (an SSE message or an NDJSON line) into out,
	// overwriting it, or returns io.EOF for the API's end marker (or
	// errEndMarker for another).
	event(ev *SSEEvent, out *Delta) error

	// body decodes a whole (non-streaming) body into out, whose At is
	// already set.
	body(data []byte, out *Delta) error

	// end is the outcome of a stream whose body ended without the API's
	// end marker. frame's end serves the codecs whose streams may end so.
	end() error
}

// attach starts reading resp: it forgets the previous response and keeps
// resp's request, whose credentials errors redact.
func (f *frame) attach(resp *http.Response) {
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	f.resp = resp
	f.sc.req = resp.Request
	f.err = nil
	f.delivered = 0
	f.events = 0
}

// fail makes err the sticky error and returns it.
func (f *frame) fail(err error) error {
	f.err = err
	return err
}

// status returns, and keeps, the *APIError of a response whose status is
// outside 2xx; nil for a 2xx response.
func (f *frame) status() error {
	resp := f.resp
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	if f.details != nil {
		return f.fail(statusErrorWith(f.name, resp, f.sc, f.requestID, f.details))
	}
	return f.fail(newStatusError(f.name, resp, f.sc, f.requestID...))
}

// start prepares f for resp, the response to r. A status outside 2xx gives
// an *APIError. A text/event-stream body (or one with no Content-Type, for
// a streaming request) is read as SSE; a JSON body as one object; any
// other content type gives a *DecodeError naming it, with the start of the
// body.
func (f *frame) start(resp *http.Response, r *Request) error {
	f.attach(resp)
	if err := f.status(); err != nil {
		return err
	}
	ct := resp.Header.Get("Content-Type")
	stream := r == nil || r.Stream
	switch {
	case isEventStream(ct) || ct == "" && stream:
		f.readSSE()
	case isJSONType(ct) || ct == "" && !stream:
		f.mode = frameBody
	default:
		return f.fail(contentTypeError(f.name, resp, ct, f.sc))
	}
	return nil
}

// readSSE makes f read the body as SSE.
func (f *frame) readSSE() {
	f.mode = frameSSE
	f.sse.Reset(f.resp.Body)
}

// readLines makes f read the body as NDJSON lines of at most max bytes.
func (f *frame) readLines(max int) {
	f.mode = frameLines
	f.lines.reset(f.resp.Body, max)
}

// step decodes the next event (or the body) with c into out: the Next of
// every decoder. See Decoder.
func (f *frame) step(out *Delta, c codec) error {
	if f.err != nil {
		return f.err
	}
	switch f.mode {
	case frameSSE, frameLines:
		f.err = f.nextEvent(out, c)
	case frameBody:
		f.err = f.readBody(out, c)
	default:
		f.err = io.EOF
	}
	if f.err == ErrPending {
		// Not final: the body has no input yet (see ErrPending).
		f.err = nil
		return ErrPending
	}
	if f.err == nil {
		f.delivered++
	}
	return f.err
}

// NeedsInput reports whether Next would return ErrPending without
// decoding anything: the body is a stream that has not ended and every
// byte read from it is decoded. A caller that pushes the body's bytes
// into the decoder (see ErrPending) may skip that call of Next. Every
// decoder of this package has it.
func (f *frame) NeedsInput() bool {
	if f.err != nil {
		return false
	}
	switch f.mode {
	case frameSSE:
		return f.sse.needsInput()
	case frameLines:
		return f.lines.needsInput()
	}
	return false
}

// tookUsual counts an event that a codec's DecodeUsual decoded from n
// bytes, as next and step count the events they read and deliver, and
// returns n.
func (f *frame) tookUsual(n int) int {
	f.events++
	f.delivered++
	return n
}

// usualEvent returns the usual event (see SSEReader.usualIn) at the start
// of p, the next bytes of the body, when the stream has nothing pending,
// or a length of 0.
func (f *frame) usualEvent(p []byte) (typ, data []byte, n int) {
	if f.err != nil || f.mode != frameSSE || !f.sse.idle() {
		return nil, nil, 0
	}
	return f.sse.usualIn(p)
}

// nextEvent decodes the next event of the stream. A last event cut short
// (one the stream ended inside, which fails to decode) is discarded: the
// stream ends there.
func (f *frame) nextEvent(out *Delta, c codec) error {
	for {
		ev, err := f.next()
		if err == io.EOF {
			return c.end()
		}
		if err != nil {
			return err
		}
		switch ev.Kind {
		case SSEErrorLine:
			return f.streamError(ev.Data)
		case SSEMessage:
		default:
			continue
		}
		err = c.event(ev, out)
		if err == errEndMarker {
			return c.end()
		}
		if err != nil && ev.Unterminated {
			var de *DecodeError
			if errors.As(err, &de) {
				*out = Delta{}
				return c.end()
			}
		}
		return err
	}
}

// next returns the next event (an SSE message or error line, an NDJSON line
// as a message; comments only when the reader reports them). It returns
// io.EOF at the end of the stream, a *DecodeError for a line over the limit,
// and any other read error wrapped with the provider and the event it
// interrupted.
func (f *frame) next() (*SSEEvent, error) {
	if f.mode == frameLines {
		line, at, unterminated, err := f.lines.next()
		switch {
		case err == io.EOF, err == ErrPending:
			return nil, err
		case errors.Is(err, ErrLineTooLong):
			return nil, &DecodeError{Provider: f.name, Event: f.events + 1, Err: err}
		case err != nil:
			return nil, fmt.Errorf("%s: read line %d: %w", f.name, f.events+1, err)
		}
		f.events++
		f.line = SSEEvent{Data: line, FirstLineAt: at, DispatchAt: at, Unterminated: unterminated}
		return &f.line, nil
	}
	if !f.sse.Scan() {
		err := f.sse.Err()
		switch {
		case err == nil:
			return nil, io.EOF
		case err == ErrPending:
			return nil, err
		case errors.Is(err, ErrLineTooLong):
			return nil, &DecodeError{Provider: f.name, Event: f.events + 1, Err: err}
		default:
			return nil, fmt.Errorf("%s: read event %d: %w", f.name, f.events+1, err)
		}
	}
	ev := f.sse.Event()
	if ev.Kind != SSEComment {
		f.events++
	}
	return ev, nil
}

// end is the end of a stream body that the API may end without a marker: a
// clean end, unless nothing at all was decoded; with cut set, an end cut
// short.
func (f *frame) end() error {
	if f.delivered == 0 {
		return &DecodeError{Provider: f.name, Err: errEmptyStream}
	}
	if f.cut != nil {
		return &DecodeError{Provider: f.name, Event: f.events, Err: f.cut}
	}
	return io.EOF
}

// readBody reads the whole body and decodes it with c.
func (f *frame) readBody(out *Delta, c codec) error {
	f.mode = frameEnded
	body, at, err := readWholeBody(f.name, &f.bodyBuf, f.resp.Body, f.sc)
	if err != nil {
		return err
	}
	*out = Delta{At: at}
	return c.body(body, out)
}

// decodeError returns a *DecodeError for the current event (or body), with
// a redacted snippet of input.
func (f *frame) decodeError(err error, input []byte) *DecodeError {
	e := &DecodeError{Provider: f.name, Snippet: f.sc.snippet(input), Err: err}
	if f.mode == frameSSE || f.mode == frameLines {
		e.Event = f.events
	}
	return e
}

// notObject returns the *DecodeError for data, whose first value (at the
// cursor) is not a JSON object: the syntax error that value holds, if any,
// else one saying what the data is not.
func (f *frame) notObject(data []byte, what string) *DecodeError {
	f.c.skip()
	if err := f.c.done(); err != nil {
		return f.decodeError(err, data)
	}
	return f.decodeError(errors.New(what), data)
}

// streamError returns the *APIError for an error the server sent with a
// 2xx status: an error event or chunk, an error line, or a whole body.
func (f *frame) streamError(data []byte) *APIError {
	return newStreamError(f.name, f.resp, f.sc, data, f.requestID...)
}

// textOrThinking reads the value of the cursor's key into the output
// buffer it names, "text" into text and "thinking" into reasoning, and
// reports whether the key was one of them.
func (f *frame) textOrThinking() bool {
	switch string(f.c.key) {
	case "text":
		f.text, _ = f.c.str(f.text)
	case "thinking":
		f.reasoning, _ = f.c.str(f.reasoning)
	default:
		return false
	}
	return true
}

// setOutput points out's text fields at the output buffers that hold text.
func (f *frame) setOutput(out *Delta) {
	if len(f.text) > 0 {
		out.Text = f.text
	}
	if len(f.reasoning) > 0 {
		out.Reasoning = f.reasoning
	}
	if len(f.args) > 0 {
		out.ToolArgs = f.args
	}
}
