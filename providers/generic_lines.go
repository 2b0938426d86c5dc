package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// genericLineReader reads a stream of lines (NDJSON) as the Generic codec
// needs them: lines end at LF, a CR before the LF is dropped, lines of only
// white space are skipped, one leading byte-order mark is removed, and each
// line is stamped with the time of the Read that completed it. Like
// SSEReader it never reads further than it needs to complete the next line,
// reads up to 32 KiB at a time, reuses its buffer across streams, and fails
// a line longer than its cap with an error wrapping ErrLineTooLong, whatever
// the Reads. A last line without its LF is returned too, marked
// unterminated.
type genericLineReader struct {
	r     io.Reader
	max   int    // the line cap
	buf   []byte // buf[start:end] is read but not yet consumed
	start int
	end   int
	scan  int // buf[start:scan] holds no LF

	now     time.Time // when the last Read with n > 0 returned
	clock   readClock // stamps the Reads
	lender  lender    // r, when it lends its bytes (and their time)
	rerr    error     // the Read error that ended the input (io.EOF included)
	noReads int       // consecutive Reads that returned (0, nil)
	pending bool      // the last Read returned ErrPending with no bytes
	bomDone bool
}

// reset starts reading r with lines of at most max bytes.
func (l *genericLineReader) reset(r io.Reader, max int) {
	l.r, l.max = r, max
	l.lender, _ = r.(lender)
	l.start, l.end, l.scan = 0, 0, 0
	l.now, l.clock = time.Time{}, readClock{}
	l.rerr = nil
	l.noReads = 0
	l.pending = false
	l.bomDone = false
}

// needsInput reports whether next would return ErrPending before
// reading: the input has not ended and nothing read is left.
func (l *genericLineReader) needsInput() bool {
	return l.rerr == nil && l.start == l.end
}

// errLineTooLong is the error for a line over the cap.
func (l *genericLineReader) errLineTooLong() error {
	return fmt.Errorf("ndjson: %w: a line is over %d bytes", ErrLineTooLong, l.max)
}

// next returns the next line that is not blank, without its line end, and
// the time it arrived. The line is valid until the next call. It returns
// io.EOF at the end of the input, an error wrapping ErrLineTooLong for a
// line over the cap, and the Read error that ended the input otherwise.
func (l *genericLineReader) next() (line []byte, at time.Time, unterminated bool, err error) {
	for {
		if !l.bomDone {
			b := l.buf[l.start:l.end]
			n := min(len(b), len(utf8BOM))
			switch {
			case string(b[:n]) != utf8BOM[:n]:
				l.bomDone = true
			case n == len(utf8BOM):
				l.start += n
				l.scan = l.start
				l.bomDone = true
			case l.rerr != nil:
				l.bomDone = true
			}
		}
		found := false
		if l.bomDone {
			if i := bytes.IndexByte(l.buf[l.scan:l.end], '\n'); i >= 0 {
				lf := l.scan + i
				line = l.buf[l.start:lf]
				l.start, l.scan = lf+1, lf+1
				found = true
			} else {
				l.scan = l.end
				if l.end-l.start > l.max+1 { // +1: the CR of a CRLF
					return nil, time.Time{}, false, l.errLineTooLong()
				}
			}
		}
		if !found && l.rerr != nil {
			if l.rerr != io.EOF || l.start >= l.end {
				return nil, time.Time{}, false, l.rerr
			}
			// The last line, without its line end.
			line = l.buf[l.start:l.end]
			l.start, l.scan = l.end, l.end
			found, unterminated = true, true
		}
		if found {
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if len(line) > l.max {
				return nil, time.Time{}, false, l.errLineTooLong()
			}
			if len(bytes.TrimSpace(line)) == 0 {
				unterminated = false
				continue
			}
			return line, l.now, unterminated, nil
		}
		l.fill()
		if l.pending {
			l.pending = false
			return nil, time.Time{}, false, ErrPending
		}
	}
}

// fill reads more of the input into the buffer.
func (l *genericLineReader) fill() {
	if l.start > 0 {
		n := copy(l.buf, l.buf[l.start:l.end])
		l.scan -= l.start
		l.start, l.end = 0, n
	}
	if l.end == len(l.buf) {
		// The buffer holds one partial line (next checked its length):
		// grow, up to what a line of the maximum length plus one Read needs.
		size := max(2*len(l.buf), sseReadSize)
		size = min(size, l.max+sseReadSize)
		nb := make([]byte, size)
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	n, at, err := l.clock.read(l.r, l.lender, l.buf[l.end:min(len(l.buf), l.end+sseReadSize)])
	if n < 0 || n > min(len(l.buf)-l.end, sseReadSize) {
		l.rerr = errors.New("ndjson: reader returned an invalid count")
		return
	}
	if n > 0 {
		l.now = at
		l.end += n
		l.noReads = 0
	}
	switch {
	case err == ErrPending:
		l.pending = n == 0
	case err != nil:
		l.rerr = err
	case n == 0:
		l.noReads++
		if l.noReads >= 100 {
			l.rerr = io.ErrNoProgress
		}
	}
}
