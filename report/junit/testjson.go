package junit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// TestEvent is one event of go test -json (see go doc test2json).
type TestEvent struct {
	Time    time.Time `json:",omitempty"`
	Action  string    // start, run, pause, cont, pass, bench, fail, skip, output, attr, artifacts, build-output, build-fail
	Package string    `json:",omitempty"`
	Test    string    `json:",omitempty"`
	Elapsed float64   `json:",omitempty"` // seconds
	Output  string    `json:",omitempty"`

	// FailedBuild names the package whose build failure caused a fail.
	FailedBuild string `json:",omitempty"`

	// Key and Value are a test attribute (action "attr", from t.Attr);
	// Path an artifact directory (action "artifacts").
	Key   string `json:",omitempty"`
	Value string `json:",omitempty"`
	Path  string `json:",omitempty"`

	// ImportPath is the package of a build-output or build-fail event.
	ImportPath string `json:",omitempty"`
}

// maxEventLine bounds one line of go test -json output. test2json splits
// test output into events of about 1 KB, so real lines are far shorter.
const maxEventLine = 16 << 20

// A TestEventReader reads the events of go test -json, one JSON object per
// line, in the manner of bufio.Scanner:
//
//	r := junit.NewTestEventReader(os.Stdin)
//	for r.Scan() {
//		ev := r.Event()
//		...
//	}
//	if err := r.Err(); err != nil { ... }
//
// Lines that do not start with '{' (text that go test printed outside the
// JSON stream, such as a build error in older Go versions) are skipped and
// counted by Skipped. A line that starts with '{' but is not an event stops
// the reading with an error naming the line.
type TestEventReader struct {
	s       *bufio.Scanner
	ev      TestEvent
	line    int
	skipped int
	err     error
}

// NewTestEventReader returns a TestEventReader reading from r.
func NewTestEventReader(r io.Reader) *TestEventReader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	return &TestEventReader{s: s}
}

// Scan advances to the next event, which Event then returns. It returns
// false at the end of the input or on an error (see Err).
func (r *TestEventReader) Scan() bool {
	if r.err != nil {
		return false
	}
	for r.s.Scan() {
		r.line++
		b := bytes.TrimSpace(r.s.Bytes())
		if len(b) == 0 {
			continue
		}
		if b[0] != '{' {
			r.skipped++
			continue
		}
		r.ev = TestEvent{}
		if err := json.Unmarshal(b, &r.ev); err != nil {
			r.err = fmt.Errorf("report: go test -json line %d: %w", r.line, err)
			return false
		}
		if r.ev.Action == "" {
			r.err = fmt.Errorf("report: go test -json line %d: event without an Action", r.line)
			return false
		}
		return true
	}
	if err := r.s.Err(); err != nil {
		r.err = fmt.Errorf("report: go test -json line %d: %w", r.line+1, err)
	}
	return false
}

// Event returns the event Scan read. It is overwritten by the next Scan.
func (r *TestEventReader) Event() *TestEvent { return &r.ev }

// Err returns the error that stopped Scan, or nil at the end of the input.
func (r *TestEventReader) Err() error { return r.err }

// Skipped returns the number of non-JSON lines skipped so far.
func (r *TestEventReader) Skipped() int { return r.skipped }

// ReadTestEvents reads every event from r.
func ReadTestEvents(r io.Reader) ([]TestEvent, error) {
	var out []TestEvent
	tr := NewTestEventReader(r)
	for tr.Scan() {
		out = append(out, *tr.Event())
	}
	return out, tr.Err()
}
