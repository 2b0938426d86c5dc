package providers

// Reading Server-Sent Events.
//
// SSEReader implements the standard's parsing in full (line ends, the
// byte-order mark, comments, fields, dispatch). Scan first tries scanData,
// a path for the usual event when none is pending: an optional "event:"
// line, one "data:" line with a value and a blank line, all already in the
// buffer, each line ended by LF or CRLF. It finds line ends with the same
// byteSeeks as line, so nothing is searched twice, and dispatches the event
// exactly as the line-by-line path would (the same Type, Data, ID and
// times); for anything else it leaves the event to that path, forgetting
// what it learnt of lines past the first. It takes a stream event from
// 40-47 ns to 32-35 ns (BenchmarkSSEReader); streams of other shapes
// (comments, "id:" lines, data over several lines) read as fast as before.
// FuzzSSEReader checks the two paths against each other: its reads split
// at random take them in different places than one whole read.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// DefaultMaxLineBytes is the SSEReader's default cap on the length of one
// line and of one event's data: 32 MiB, the limit the official OpenAI and
// Anthropic SDKs use.
const DefaultMaxLineBytes = 32 << 20

// sseReadSize is the size of one Read from the body, and of a reader's
// buffer until a longer line makes it grow. LLM events are a few hundred
// bytes and net/http reads through a 4 KiB buffer, so larger reads buy
// nothing, while a thousand concurrent streams would each hold the
// larger buffer.
const sseReadSize = 4 << 10

// SSEKind tells what an SSEEvent is.
type SSEKind uint8

const (
	// SSEMessage is an event dispatched by a blank line (or, with
	// DispatchAtEOF, by the end of the stream): the only kind the
	// standard defines.
	SSEMessage SSEKind = iota

	// SSEComment is a comment line (": keep-alive"), reported only when
	// SSEReader.ReportComments is set. Its Data is the text after the
	// colon, one leading space removed.
	SSEComment

	// SSEErrorLine is a non-standard "error:" line, reported only when
	// SSEReader.ErrorField is set (older llama.cpp servers signal errors
	// inside a 200 stream this way). It is reported as soon as the line
	// ends, on its own; its Data is the line's value.
	SSEErrorLine
)

// SSEEvent is one event of a Server-Sent Events stream. Type, Data and ID
// are views into the reader's buffers, valid until the next call to Scan.
type SSEEvent struct {
	// Kind tells a dispatched event from a reported comment or error line.
	Kind SSEKind

	// Type is the value of the event's last "event:" field; empty means
	// "message".
	Type []byte

	// Data is the event's data: its "data:" values joined with "\n".
	Data []byte

	// ID is the last event ID in force when the event was dispatched (the
	// ID persists from event to event, as the standard says).
	ID []byte

	// FirstLineAt is when the event's first field line arrived: the time
	// the Read that completed that line returned. For comments and error
	// lines it equals DispatchAt.
	FirstLineAt time.Time

	// DispatchAt is when the event arrived: the time the Read that
	// completed it (delivered its blank line) returned. Events completed by
	// the same Read share the same DispatchAt.
	DispatchAt time.Time

	// Unterminated is set on an event dispatched by the end of the stream
	// rather than a blank line (DispatchAtEOF only): it may be a complete
	// event whose server left out the blank line, or a truncated one.
	Unterminated bool
}

// SSEReader reads a stream of Server-Sent Events as the WHATWG HTML
// standard (section 9.2, server-sent events) defines them: one leading byte-order mark is removed; lines
// end at CRLF, LF or CR (also when a CR ends one Read and its LF begins the
// next); comments are skipped; "field:value" has exactly one leading space
// removed from the value, and a line without a colon is a field with an
// empty value; "data" lines are joined with "\n"; "id" persists and is
// ignored when it contains NUL; "retry" counts only when all ASCII digits; a
// blank line dispatches the event, unless its data is empty; at the end of
// the stream an event without its blank line is discarded.
//
// It is modelled on bufio.Scanner: call Scan until it returns false, read
// each event with Event, and then check Err. Bytes are not checked as UTF-8;
// they are passed through as they came.
//
// Every event is stamped with the time of the Read that completed it, taken
// right after that Read returned; the reader never reads further than it
// needs to complete the next event. Reads are of up to 4 KiB.
//
// A reader is reused across streams with Reset, so that reading allocates
// nothing in steady state. Memory is bounded by MaxLineBytes: a line, or an
// event's data, longer than that ends the stream with an error wrapping
// ErrLineTooLong. A reader belongs to one goroutine at a time.
//
// The exported fields configure the reader; set them before the first Scan
// after NewSSEReader or Reset. The zero value, after Reset, reads by the
// standard with the default cap.
type SSEReader struct {
	// MaxLineBytes caps the length of one line (without its line end) and
	// of one event's data, in bytes. 0 means DefaultMaxLineBytes.
	MaxLineBytes int

	// DispatchAtEOF, a lenient extension, dispatches the event pending at
	// the end of the stream (and processes an unterminated last line)
	// instead of discarding it. Such an event has Unterminated set. Some
	// llama.cpp builds end with "data: [DONE]" and no blank line.
	DispatchAtEOF bool

	// ErrorField, a non-standard extension, reports an "error:" line as an
	// event of kind SSEErrorLine instead of ignoring it as an unknown field.
	ErrorField bool

	// ReportComments reports comment lines as events of kind SSEComment,
	// so that callers can see keep-alives arrive. Comments are counted by
	// Comments either way.
	ReportComments bool

	r     io.Reader
	buf   []byte // buf[start:end] is read but not yet consumed
	start int
	end   int
	lf    byteSeek // next '\n' in buf[start:end]
	cr    byteSeek // next '\r' in buf[start:end]

	lender lender // r, when it lends its bytes
	lent   bool   // buf is lent by lender, until the next fill
	own    []byte // the reader's own buffer, while buf is lent

	now       time.Time // when the last Read with n > 0 returned
	clock     readClock // stamps the Reads
	rerr      error     // the Read error that ended the input (io.EOF included)
	err       error     // the error Err reports
	stopped   bool      // Scan has returned false for good
	bomDone   bool      // the leading byte-order mark was looked for
	skipLF    bool      // the last line ended with CR: skip one LF
	noReads   int       // consecutive Reads that returned (0, nil)
	pending   bool      // the last Read returned ErrPending
	eofPassed bool      // the unterminated tail was handled

	data     []byte // data buffer: each value followed by '\n'
	view     []byte // the only data value so far, still in buf (not in data)
	inView   bool   // the pending event's data is view
	typ      []byte // event type buffer
	id       []byte // last event ID
	started  bool   // the pending event has a field line
	firstAt  time.Time
	retry    time.Duration
	hasRetry bool
	comments int

	ev SSEEvent
}

// byteSeek remembers where the next occurrence of one byte in the unconsumed
// input is, so that finding line ends never rescans the same bytes: without
// it, a CR-only stream (or a long line arriving in many Reads) would cost
// time quadratic in the buffer size.
type byteSeek struct {
	pos  int // index in buf of the next occurrence, or -1
	upto int // when pos < 0: buf[..upto] has no occurrence past start
}

// find returns the index in buf of the first c in buf[from:end], or -1.
func (f *byteSeek) find(buf []byte, from, end int, c byte) int {
	if f.pos >= from {
		return f.pos
	}
	lo := max(from, f.upto)
	if lo < end {
		if i := bytes.IndexByte(buf[lo:end], c); i >= 0 {
			f.pos = lo + i
			f.upto = f.pos + 1
			return f.pos
		}
	}
	f.pos = -1
	f.upto = max(lo, end)
	return -1
}

// shift moves the remembered positions after the buffer was compacted by n.
func (f *byteSeek) shift(n int) {
	if f.pos >= 0 {
		f.pos -= n
	}
	f.upto = max(f.upto-n, 0)
}

// NewSSEReader returns a reader of the stream r.
func NewSSEReader(r io.Reader) *SSEReader {
	s := &SSEReader{}
	s.Reset(r)
	return s
}

// Reset makes s read a new stream from r, keeping its configuration and its
// buffers (so that steady-state reading allocates nothing) and forgetting
// everything about the previous stream, last event ID and reconnection time
// included.
func (s *SSEReader) Reset(r io.Reader) {
	s.r = r
	s.lender, _ = r.(lender)
	if s.lent {
		s.buf, s.own, s.lent = s.own, nil, false
	}
	s.start, s.end = 0, 0
	s.lf = byteSeek{pos: -1}
	s.cr = byteSeek{pos: -1}
	s.now, s.clock = time.Time{}, readClock{}
	s.rerr, s.err = nil, nil
	s.stopped, s.bomDone, s.skipLF, s.eofPassed = false, false, false, false
	s.noReads = 0
	s.pending = false
	s.data, s.typ, s.id = s.data[:0], s.typ[:0], s.id[:0]
	s.view, s.inView = nil, false
	s.started = false
	s.firstAt = time.Time{}
	s.retry, s.hasRetry = 0, false
	s.comments = 0
	s.ev = SSEEvent{}
}

// Scan advances to the next event, which Event then returns. It returns
// false at the end of the stream or on an error; Err tells which.
func (s *SSEReader) Scan() bool {
	if s.stopped {
		return false
	}
	if s.err == ErrPending {
		s.err = nil
	}
	if s.usual() && s.scanData() {
		return true
	}
	for {
		line, ok := s.line()
		if s.err != nil {
			s.stopped = true
			return false
		}
		if ok {
			if s.process(line) {
				return true
			}
			if s.err != nil {
				s.stopped = true
				return false
			}
			continue
		}
		if s.rerr != nil {
			if s.atEnd() {
				return true
			}
			s.stopped = true
			if s.rerr != io.EOF {
				s.err = s.rerr
			}
			return false
		}
		s.fill()
		if s.pending {
			// No input yet: stop here, keeping the partial event; the
			// next Scan goes on.
			s.pending = false
			s.err = ErrPending
			return false
		}
		// A stream read one event per Read (a paced stream, or a reader
		// fed by the application's reads) has its events start right
		// after a fill.
		if s.usual() && s.scanData() {
			return true
		}
	}
}

// needsInput reports whether Scan would return false with ErrPending
// before reading: the input has not ended and nothing read is left.
func (s *SSEReader) needsInput() bool {
	if !s.drained() {
		return false
	}
	if s.lent {
		s.giveBack() // the lender's bytes are about to go
	}
	return true
}

// usual reports whether the buffer may start with the usual event, for
// scanData: no event is pending, no LF is to be skipped, the byte-order
// mark was handled, and the next line starts as "data:" or "event:" do.
// (The checks, inlined, cost less than a call of scanData.)
func (s *SSEReader) usual() bool {
	return !s.started && s.bomDone && !s.skipLF && s.start < s.end && (s.buf[s.start] == 'd' || s.buf[s.start] == 'e')
}

// scanData is Scan's path for the usual event when no other is pending (no
// field line read, no LF to skip, the byte-order mark handled): an
// optional "event:" line, one "data:" line with a value and a blank line,
// all already in the buffer, each line ended by LF or CRLF. It dispatches
// the event as Scan would, or reports false, having changed nothing but
// what the byteSeeks know of the first line, for anything else.
func (s *SSEReader) scanData() bool {
	// Finding the first line's end is work line would do; what the
	// byteSeeks learn of lines after it must be forgotten if Scan is to
	// read them.
	line, next := s.fastLine(s.start)
	if next < 0 {
		return false
	}
	lf, cr := s.lf, s.cr
	if s.scanEvent(line, next) {
		return true
	}
	s.lf, s.cr = lf, cr
	return false
}

// scanEvent does scanData's work from its first line, which ends before
// next.
func (s *SSEReader) scanEvent(line []byte, next int) bool {
	var typ []byte
	if len(line) >= len("event:") && binary.LittleEndian.Uint32(line) == 'e'|'v'<<8|'e'<<16|'n'<<24 &&
		line[4] == 't' && line[5] == ':' {
		typ = trimOneSpace(line[len("event:"):])
		if line, next = s.fastLine(next); next < 0 {
			return false
		}
	}
	if len(line) < len("data:") || binary.LittleEndian.Uint32(line) != 'd'|'a'<<8|'t'<<16|'a'<<24 || line[4] != ':' {
		return false
	}
	value := trimOneSpace(line[len("data:"):])
	switch {
	case len(value) == 0:
		return false
	case next < s.end && s.buf[next] == '\n':
		next++
	case next+1 < s.end && s.buf[next] == '\r' && s.buf[next+1] == '\n':
		next += 2
	default:
		return false
	}
	if typ == nil {
		typ = s.typ
	}
	s.start = next
	s.ev = SSEEvent{
		Kind:        SSEMessage,
		Type:        typ,
		Data:        value,
		ID:          s.id,
		FirstLineAt: s.now,
		DispatchAt:  s.now,
	}
	return true
}

// fastLine returns the line at i of the buffer, if it is complete, ended by
// LF or CRLF, and within the length cap, and the index after its end; else
// -1.
func (s *SSEReader) fastLine(i int) ([]byte, int) {
	lf := s.lf.find(s.buf, i, s.end, '\n')
	if lf < 0 {
		return nil, -1
	}
	end := lf
	// Looking for CR up to the end of the buffer, not of the line, lets
	// the next lines of a stream without CR find none at once.
	if cr := s.cr.find(s.buf, i, s.end, '\r'); cr >= 0 && cr < lf {
		if cr != lf-1 {
			return nil, -1
		}
		end = cr
	}
	if end-i > s.maxLine() {
		return nil, -1
	}
	return s.buf[i:end], lf + 1
}

// Event returns the event Scan found. It and the slices in it are valid
// until the next call to Scan or Reset.
func (s *SSEReader) Event() *SSEEvent { return &s.ev }

// Err returns the error that stopped Scan: nil at a clean end of the stream,
// the Read error as returned (io.ErrUnexpectedEOF, context.Canceled, ...),
// io.ErrNoProgress when the reader kept returning no data and no error, or
// an error wrapping ErrLineTooLong. ErrPending is not final: it says the
// stream's Read had no input yet, and the next Scan goes on.
func (s *SSEReader) Err() error { return s.err }

// Comments returns the number of comment lines (keep-alives) read so far in
// this stream.
func (s *SSEReader) Comments() int { return s.comments }

// LastEventID returns the last event ID the stream set, valid until the next
// call to Scan or Reset.
func (s *SSEReader) LastEventID() []byte { return s.id }

// Retry returns the reconnection time the stream last set with a "retry"
// field, and whether it set one.
func (s *SSEReader) Retry() (time.Duration, bool) { return s.retry, s.hasRetry }

func (s *SSEReader) maxLine() int {
	if s.MaxLineBytes > 0 {
		return s.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

// utf8BOM is the byte-order mark the standard strips from the stream start.
const utf8BOM = "\xEF\xBB\xBF"

// line returns the next complete line in the buffer, without its line end,
// or false when the buffer holds none (or s.err was set).
func (s *SSEReader) line() ([]byte, bool) {
	if !s.bomDone {
		b := s.buf[s.start:s.end]
		n := min(len(b), len(utf8BOM))
		switch {
		case string(b[:n]) != utf8BOM[:n]:
			s.bomDone = true
		case n == len(utf8BOM):
			s.start += n
			s.bomDone = true
		case s.rerr != nil:
			s.bomDone = true // the stream ended inside a would-be BOM
		default:
			return nil, false // need more bytes to decide
		}
	}
	if s.skipLF {
		if s.start == s.end {
			return nil, false
		}
		if s.buf[s.start] == '\n' {
			s.start++
		}
		s.skipLF = false
	}
	if s.start == s.end {
		return nil, false
	}
	if s.buf[s.start] == '\n' { // a blank line, most often
		s.start++
		return s.buf[s.start:s.start], true
	}
	lf := s.lf.find(s.buf, s.start, s.end, '\n')
	stop := s.end
	if lf >= 0 {
		stop = lf
	}
	cr := s.cr.find(s.buf, s.start, stop, '\r')
	if cr >= 0 && cr < stop {
		line := s.buf[s.start:cr]
		if cr+1 < s.end {
			if s.buf[cr+1] == '\n' {
				s.start = cr + 2
			} else {
				s.start = cr + 1
			}
		} else {
			s.start = cr + 1
			s.skipLF = true // the LF of a CRLF may begin the next Read
		}
		return s.checkLen(line)
	}
	if lf >= 0 {
		line := s.buf[s.start:lf]
		s.start = lf + 1
		return s.checkLen(line)
	}
	// A partial line: fail now if it is already too long, so that memory
	// stays bounded and the outcome does not depend on how Reads split.
	if s.end-s.start > s.maxLine() {
		s.err = fmt.Errorf("sse: %w: a line is over %d bytes", ErrLineTooLong, s.maxLine())
	}
	return nil, false
}

func (s *SSEReader) checkLen(line []byte) ([]byte, bool) {
	if len(line) > s.maxLine() {
		s.err = fmt.Errorf("sse: %w: a line is over %d bytes", ErrLineTooLong, s.maxLine())
		return nil, false
	}
	return line, true
}

// fill reads more of the stream into the buffer.
func (s *SSEReader) fill() {
	s.materialize() // buf is about to move
	if s.lent {
		s.giveBack()
	} else if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.lf.shift(s.start)
		s.cr.shift(s.start)
		s.start, s.end = 0, n
	}
	var n int
	var err error
	var at time.Time
	if s.lender != nil && s.end == 0 {
		// Nothing is kept: scan the lender's bytes where they are.
		var p []byte
		p, at, err = s.lender.Lend(sseReadSize)
		if n = len(p); n > 0 {
			s.own, s.buf, s.lent = s.buf, p, true
			s.lf, s.cr = byteSeek{pos: -1}, byteSeek{pos: -1}
		}
	} else {
		if s.end == len(s.buf) {
			// The buffer holds one partial line (line checked its length):
			// grow, up to what a line of the maximum length plus one Read needs.
			size := max(2*len(s.buf), sseReadSize)
			size = min(size, s.maxLine()+sseReadSize)
			nb := make([]byte, size)
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
		n, at, err = s.clock.read(s.r, s.lender, s.buf[s.end:min(len(s.buf), s.end+sseReadSize)])
		if n < 0 || n > min(len(s.buf)-s.end, sseReadSize) {
			s.rerr = errors.New("sse: reader returned an invalid count")
			return
		}
	}
	if n > 0 {
		s.now = at
		s.end += n
		s.noReads = 0
	}
	switch {
	case err == ErrPending:
		s.pending = n == 0
	case err != nil:
		s.rerr = err
	case n == 0:
		s.noReads++
		if s.noReads >= 100 {
			s.rerr = io.ErrNoProgress
		}
	}
}

// process handles one line and reports whether it produced an event.
func (s *SSEReader) process(line []byte) bool {
	if len(line) == 0 {
		return s.dispatch(false)
	}
	if line[0] == ':' {
		s.comments++
		if !s.ReportComments {
			return false
		}
		s.ev = SSEEvent{Kind: SSEComment, Data: trimOneSpace(line[1:]), ID: s.id,
			FirstLineAt: s.now, DispatchAt: s.now}
		return true
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], trimOneSpace(line[i+1:])
	}
	if s.ErrorField && string(name) == "error" {
		s.ev = SSEEvent{Kind: SSEErrorLine, Data: value, ID: s.id,
			FirstLineAt: s.now, DispatchAt: s.now}
		return true
	}
	if !s.started {
		s.started = true
		s.firstAt = s.now
	}
	switch string(name) {
	case "data":
		if len(s.data) == 0 && !s.inView {
			// The common one-line event: keep a view of the value in buf
			// rather than copying it, until buf moves or more data comes.
			s.view, s.inView = value, true
			break
		}
		s.materialize()
		if len(s.data)+len(value) >= s.maxLine()+1 {
			s.err = fmt.Errorf("sse: %w: an event's data is over %d bytes", ErrLineTooLong, s.maxLine())
			return false
		}
		s.data = append(s.data, value...)
		s.data = append(s.data, '\n')
	case "event":
		s.typ = append(s.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			s.id = append(s.id[:0], value...)
		}
	case "retry":
		if ms, ok := parseRetry(value); ok {
			s.retry, s.hasRetry = ms, true
		}
	}
	return false
}

// A lender is a reader that can lend the bytes of its next Read instead
// of copying them (the body lens.Transport pushes into a decoder, whose
// bytes are the application's own read): Lend returns at most max of
// them, valid until the reader's caller returns, with the time the read
// that delivered them returned, or no bytes and the error Read would
// return.
type lender interface {
	Lend(max int) ([]byte, time.Time, error)
}

// idle reports whether nothing of the stream is pending: no byte read
// and not yet scanned, no event begun, no LF to skip, the byte-order mark
// handled, and the input not ended. The next event then starts at the
// next byte of the input.
func (s *SSEReader) idle() bool {
	return s.drained() && !s.started && !s.skipLF && s.bomDone
}

// drained reports whether every byte read is scanned and the input has
// not ended (nor has Scan stopped for good).
func (s *SSEReader) drained() bool {
	return s.start == s.end && !s.stopped && s.rerr == nil && (s.err == nil || s.err == ErrPending)
}

// usualIn finds the usual event at the start of p, bytes of the input
// that come after everything the reader has read, when it is idle: an
// optional "event:" line, one "data:" line with a value and a blank line,
// each line ended by LF, none over the length cap. It returns the event's
// type and data (views of p) and its length in p, or a length of 0 for
// anything else. The event is as Scan would dispatch it; the reader is
// not changed.
func (s *SSEReader) usualIn(p []byte) (typ, data []byte, n int) {
	lf := bytes.IndexByte(p, '\n')
	if lf < 0 {
		return nil, nil, 0
	}
	line, next := p[:lf], lf+1
	if len(line) >= len("event:") && string(line[:len("event:")]) == "event:" {
		if len(line) > s.maxLine() {
			return nil, nil, 0
		}
		typ = trimOneSpace(line[len("event:"):])
		lf = bytes.IndexByte(p[next:], '\n')
		if lf < 0 {
			return nil, nil, 0
		}
		line, next = p[next:next+lf], next+lf+1
	}
	if len(line) < len("data:") || string(line[:len("data:")]) != "data:" || next >= len(p) || p[next] != '\n' ||
		len(line) > s.maxLine() {
		return nil, nil, 0
	}
	if bytes.IndexByte(p[:next], '\r') >= 0 {
		return nil, nil, 0 // CR ends lines too
	}
	if data = trimOneSpace(line[len("data:"):]); len(data) == 0 {
		return nil, nil, 0
	}
	if typ == nil {
		typ = s.typ
	}
	return typ, data, next + 1
}

// giveBack ends a loan: what is left of the lent bytes moves into the
// reader's own buffer, the data value kept as a view of them first.
func (s *SSEReader) giveBack() {
	s.materialize()
	rest := s.buf[s.start:s.end]
	s.buf, s.own, s.lent = s.own, nil, false
	if len(s.buf) < len(rest)+sseReadSize {
		s.buf = make([]byte, max(2*len(rest), len(rest)+sseReadSize))
	}
	n := copy(s.buf, rest)
	s.lf.shift(s.start)
	s.cr.shift(s.start)
	s.start, s.end = 0, n
}

// materialize moves a data value kept as a view of buf into the data
// buffer.
func (s *SSEReader) materialize() {
	if s.inView {
		s.data = append(s.data[:0], s.view...)
		s.data = append(s.data, '\n')
		s.view, s.inView = nil, false
	}
}

// dispatch ends the pending event and reports whether it produced one.
func (s *SSEReader) dispatch(unterminated bool) bool {
	s.started = false
	var data []byte
	switch {
	case s.inView:
		data = s.view
	case len(s.data) > 0:
		data = s.data[:len(s.data)-1]
	default:
		s.typ = s.typ[:0]
		return false
	}
	// The views stay valid until the next Scan: nothing writes to these
	// buffers, or moves buf, before then.
	s.ev = SSEEvent{
		Kind:         SSEMessage,
		Type:         s.typ,
		Data:         data,
		ID:           s.id,
		FirstLineAt:  s.firstAt,
		DispatchAt:   s.now,
		Unterminated: unterminated,
	}
	s.data = s.data[:0]
	s.view, s.inView = nil, false
	s.typ = s.typ[:0]
	return true
}

// atEnd handles the end of the input (after the last complete line) and
// reports whether it produced an event. By the standard, a pending event
// and an unterminated last line are discarded; with DispatchAtEOF at a
// clean end they are processed.
func (s *SSEReader) atEnd() bool {
	if !s.DispatchAtEOF || s.rerr != io.EOF || s.eofPassed {
		return false
	}
	if s.start < s.end {
		line := s.buf[s.start:s.end]
		s.start = s.end
		if s.process(line) {
			return true
		}
		if s.err != nil {
			return false
		}
	}
	s.eofPassed = true
	return s.dispatch(true)
}

// trimOneSpace removes exactly one leading U+0020, as the standard says.
func trimOneSpace(v []byte) []byte {
	if len(v) > 0 && v[0] == ' ' {
		return v[1:]
	}
	return v
}

// parseRetry parses a retry field: milliseconds, ASCII digits only.
// Values beyond what a Duration holds saturate.
func parseRetry(v []byte) (time.Duration, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const maxMS = math.MaxInt64 / int64(time.Millisecond)
	var ms int64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if ms <= maxMS {
			ms = ms*10 + int64(ch-'0')
		}
	}
	ms = min(ms, maxMS)
	return time.Duration(ms) * time.Millisecond, true
}
