package fake

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// A Fault is a way a response fails. Its value is its name, as Record.Fault
// reports it.
//
// Status faults answer at once, in the wire format's error envelope, before
// any queue: FaultRateLimit (429), FaultServerError (500), FaultUnavailable
// (503) and FaultOverloaded (529 for Anthropic, 503 elsewhere). 429, 503 and
// 529 carry Retry-After (whole seconds, rounded up) and retry-after-ms
// (milliseconds, rounded up) from Faults.RetryAfter.
//
// Stream faults strike at content event k = n/2 of a response of n content
// events (0 for a non-streaming one), which Record.FaultAt reports:
// FaultDisconnect writes the first half of the bytes of event k when it is
// due, then cuts the connection without ending the response, so that the
// client reads an unexpected EOF; FaultStall delays content event k and
// everything after it by Faults.StallFor (a non-streaming body is written in
// two halves, StallFor apart); FaultMalformed sends, just before content
// event k, a copy of it whose JSON is cut in half (a non-streaming body is
// replaced by its first half); FaultStreamError sends the wire format's
// mid-stream error event in place of content event k and ends the stream
// there (a non-streaming request, which has no stream to carry it, gets the
// 500 of FaultServerError).
type Fault string

// The faults. NoFault is the zero value: the response is served whole.
const (
	NoFault          Fault = ""
	FaultRateLimit   Fault = "rate_limit"
	FaultServerError Fault = "server_error"
	FaultUnavailable Fault = "unavailable"
	FaultOverloaded  Fault = "overloaded"
	FaultDisconnect  Fault = "disconnect"
	FaultStall       Fault = "stall"
	FaultMalformed   Fault = "malformed"
	FaultStreamError Fault = "stream_error"
)

// Faults sets the rate of each Fault: the probability, in [0, 1], that a
// request fails that way. The rates must sum to at most 1; the rest of the
// requests are served whole. Only requests the fake would answer with a
// response (not 4xx answers nor model lists) draw a fault.
type Faults struct {
	RateLimit   float64 // FaultRateLimit: 429
	ServerError float64 // FaultServerError: 500
	Unavailable float64 // FaultUnavailable: 503
	Overloaded  float64 // FaultOverloaded: 529 (Anthropic) or 503
	Disconnect  float64 // FaultDisconnect: the connection is cut mid-response
	Stall       float64 // FaultStall: the response stops for StallFor mid-way
	Malformed   float64 // FaultMalformed: one event of invalid JSON
	StreamError float64 // FaultStreamError: the format's mid-stream error event

	// RetryAfter is the wait that 429, 503 and 529 answers ask for in their
	// Retry-After and retry-after-ms headers (0 means DefaultRetryAfter).
	RetryAfter time.Duration

	// StallFor is how long FaultStall stops a response (0 means
	// DefaultStallFor).
	StallFor time.Duration
}

// DefaultRetryAfter is the default Faults.RetryAfter: short, so that
// clients that retry as asked do not slow a test down (retry-after-ms: 10,
// Retry-After: 1).
const DefaultRetryAfter = 10 * time.Millisecond

// DefaultStallFor is the default Faults.StallFor: far longer than any idle
// timeout a test would set, yet bounded, so that a client with no timeout
// at all is slow rather than stuck.
const DefaultStallFor = time.Minute

// ErrDisconnected is the Record.Err of a response cut by FaultDisconnect.
var ErrDisconnected = errors.New("fake: connection cut by a Disconnect fault")

type faultRate struct {
	fault Fault
	field string
	p     float64
}

// rates lists the faults in the order a request draws them.
func (f *Faults) rates() [8]faultRate {
	return [8]faultRate{
		{FaultRateLimit, "RateLimit", f.RateLimit},
		{FaultServerError, "ServerError", f.ServerError},
		{FaultUnavailable, "Unavailable", f.Unavailable},
		{FaultOverloaded, "Overloaded", f.Overloaded},
		{FaultDisconnect, "Disconnect", f.Disconnect},
		{FaultStall, "Stall", f.Stall},
		{FaultMalformed, "Malformed", f.Malformed},
		{FaultStreamError, "StreamError", f.StreamError},
	}
}

// fault returns the fault of request seq: FaultFunc's choice, or one drawn
// with the configured rates from the request's own random stream.
func (c *core) fault(seq uint64) Fault {
	if c.cfg.FaultFunc != nil {
		f := c.cfg.FaultFunc(seq)
		if !f.valid() {
			panic(fmt.Sprintf("fake: Config.FaultFunc(%d) returned %q, which is not a Fault", seq, string(f)))
		}
		return f
	}
	if !c.faulty {
		return NoFault
	}
	u := newRand(c.cfg.Seed, seq, streamFault).Float64()
	for _, r := range c.cfg.Faults.rates() {
		if u < r.p {
			return r.fault
		}
		u -= r.p
	}
	return NoFault
}

func (f Fault) valid() bool {
	switch f {
	case NoFault, FaultRateLimit, FaultServerError, FaultUnavailable, FaultOverloaded,
		FaultDisconnect, FaultStall, FaultMalformed, FaultStreamError:
		return true
	}
	return false
}

// inject returns rep, a wire format's successful response, changed by fault
// f: replaced by an error answer, or with its script of events rewritten.
func (c *core) inject(x *exchange, rep *reply, f Fault) *reply {
	if f == NoFault {
		return rep
	}
	if f == FaultStreamError && rep.failEvent == nil {
		f = FaultServerError
	}
	switch f {
	case FaultRateLimit, FaultServerError, FaultUnavailable, FaultOverloaded:
		return c.statusFault(x, rep, f)
	}
	n := len(rep.rec.Scheduled)
	k := n / 2
	rep.rec.FaultAt = k
	switch {
	case f == FaultDisconnect:
		cutAt(rep, k)
	case f == FaultStall && rep.rec.Stream:
		stallAt(rep, k, c.cfg.Faults.StallFor)
	case f == FaultStall:
		stallBody(rep, c.cfg.Faults.StallFor)
	case f == FaultMalformed && rep.rec.Stream:
		malformedAt(rep, k)
	case f == FaultMalformed:
		malformedBody(rep)
	case f == FaultStreamError:
		streamErrorAt(rep, k)
	}
	return rep
}

// statusFault answers a status fault in the format's envelope, keeping what
// the record knows of the request.
func (c *core) statusFault(x *exchange, rep *reply, f Fault) *reply {
	out := x.api.fault(x, f, c.cfg.Faults.RetryAfter)
	switch out.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, statusOverloaded:
		ra := c.cfg.Faults.RetryAfter
		out.header.Set("Retry-After", strconv.FormatInt(retrySeconds(ra), 10))
		out.header.Set("Retry-After-Ms", strconv.FormatInt(int64((ra+time.Millisecond-1)/time.Millisecond), 10))
	}
	out.rec = Record{Model: rep.rec.Model, Stream: rep.rec.Stream, PromptTokens: rep.rec.PromptTokens}
	return out
}

// statusOverloaded is Anthropic's 529, which net/http has no name for.
const statusOverloaded = 529

// retrySeconds is d in whole seconds, rounded up.
func retrySeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// received sets the record's Text and OutputTokens to those of the first k
// content events, the ones a response cut before event k carries, and
// trims Scheduled to them.
func received(rep *reply, k int) {
	p := rep.plan
	rep.rec.Scheduled = rep.rec.Scheduled[:k:k]
	rep.rec.FinishReason = rep.errFinish
	if !rep.rec.Stream { // the body is all or nothing
		rep.rec.Text, rep.rec.OutputTokens = "", 0
		return
	}
	end := 0
	if k > 0 {
		end = p.ends[k-1]
	}
	rep.rec.OutputTokens = end
	rep.rec.Text = (&plan{tokens: p.tokens[:end]}).text()
}

// cutAt makes rep write the first half of content event k when it is due,
// then cut the connection.
func cutAt(rep *reply, k int) {
	orig, cut := rep.render, rep.first+k
	rep.events = cut + 1
	rep.render = func(dst []byte, i int) event {
		ev := orig(dst, i)
		if i == cut {
			ev.data = ev.data[:len(ev.data)/2]
			ev.content, ev.cut = -1, true
		}
		return ev
	}
	received(rep, k)
	rep.rec.FinishReason = ""
}

// stallAt delays content event k of a stream, and every event after it, by
// d.
func stallAt(rep *reply, k int, d time.Duration) {
	orig, from := rep.render, rep.first+k
	rep.render = func(dst []byte, i int) event {
		ev := orig(dst, i)
		if i >= from {
			ev.at += d
		}
		return ev
	}
	s := slices.Clone(rep.rec.Scheduled)
	for j := k; j < len(s); j++ {
		s[j] += d
	}
	rep.rec.Scheduled = s
}

// stallBody writes a non-streaming body in two halves, d apart.
func stallBody(rep *reply, d time.Duration) {
	orig := rep.render
	rep.events = 2
	rep.render = func(dst []byte, i int) event {
		ev := orig(dst, 0)
		half := len(ev.data) / 2
		if i == 0 {
			ev.data, ev.content = ev.data[:half], -1
			return ev
		}
		n := copy(ev.data, ev.data[half:])
		ev.data = ev.data[:n]
		ev.at += d
		return ev
	}
	rep.rec.Scheduled = []time.Duration{rep.rec.Scheduled[0] + d}
}

// malformedAt sends, just before content event k, a copy of it whose JSON
// is cut in half.
func malformedAt(rep *reply, k int) {
	orig, ins := rep.render, rep.first+k
	rep.events++
	rep.render = func(dst []byte, i int) event {
		switch {
		case i < ins:
			return orig(dst, i)
		case i == ins:
			ev := orig(dst, i)
			ev.data = halveJSON(ev.data)
			ev.content = -1
			return ev
		}
		return orig(dst, i-1)
	}
}

// malformedBody replaces a non-streaming body by its JSON cut in half.
func malformedBody(rep *reply) {
	ev := rep.render(nil, 0)
	body := halveJSON(ev.data)
	rep.header.Set("Content-Length", strconv.Itoa(len(body)))
	rep.render = func(dst []byte, _ int) event {
		return event{at: ev.at, content: ev.content, data: append(dst, body...)}
	}
}

// halveJSON cuts the JSON object in an event (from its first '{' to its
// last '}') to half its length, keeping the framing around it. A proper
// prefix of a JSON object is never valid JSON.
func halveJSON(data []byte) []byte {
	lo, hi := bytes.IndexByte(data, '{'), bytes.LastIndexByte(data, '}')+1
	if lo < 0 || hi <= lo {
		return data
	}
	cut := lo + (hi-lo)/2
	return append(data[:cut], data[hi:]...)
}

// streamErrorAt sends the format's mid-stream error event in place of
// content event k, then the format's end of stream, if it has one, and
// nothing more.
func streamErrorAt(rep *reply, k int) {
	orig, at := rep.render, rep.first+k
	due := rep.rec.Scheduled[k]
	rep.events = at + 1
	if rep.done != nil {
		rep.events++
	}
	rep.render = func(dst []byte, i int) event {
		switch {
		case i < at:
			return orig(dst, i)
		case i == at:
			return event{at: due, content: -1, data: rep.failEvent(dst, i)}
		}
		return event{at: due, content: -1, data: append(dst, rep.done...)}
	}
	received(rep, k)
}
