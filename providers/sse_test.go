package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"
)

// sseRec is what a test compares of an event.
type sseRec struct {
	Kind         SSEKind
	Type, Data   string
	ID           string
	Unterminated bool
}

func (e sseRec) String() string {
	return fmt.Sprintf("{%d %q %q id=%q u=%v}", e.Kind, e.Type, e.Data, e.ID, e.Unterminated)
}

// sseOpts configures a reader under test.
type sseOpts struct {
	max            int
	atEOF, errLine bool
	comments       bool
}

func (o sseOpts) reader(r io.Reader) *SSEReader {
	s := NewSSEReader(r)
	s.MaxLineBytes = o.max
	s.DispatchAtEOF = o.atEOF
	s.ErrorField = o.errLine
	s.ReportComments = o.comments
	return s
}

// readEvents reads every event of r.
func readEvents(s *SSEReader) ([]sseRec, error) {
	var out []sseRec
	for s.Scan() {
		ev := s.Event()
		out = append(out, sseRec{ev.Kind, string(ev.Type), string(ev.Data), string(ev.ID), ev.Unterminated})
	}
	return out, s.Err()
}

// partsReader returns its parts one per Read (splitting a part only when p
// is smaller).
type partsReader struct {
	parts [][]byte
}

func (r *partsReader) Read(p []byte) (int, error) {
	for len(r.parts) > 0 && len(r.parts[0]) == 0 {
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

func msg(data string) sseRec { return sseRec{Data: data} }

// sseCases cover each rule of server-sent events as the WHATWG HTML
// standard (section 9.2) states them, and the reader's lenient extensions.
var sseCases = []struct {
	name string
	in   string
	opts sseOpts
	want []sseRec
}{
	{"LF", "data: a\n\ndata: b\n\n", sseOpts{}, []sseRec{msg("a"), msg("b")}},
	{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", sseOpts{}, []sseRec{msg("a"), msg("b")}},
	{"CR only", "data: a\r\rdata: b\r\r", sseOpts{}, []sseRec{msg("a"), msg("b")}},
	{"mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", sseOpts{}, []sseRec{msg("a\nb\nc")}},
	{"CR then LF is one line end", "data: a\r\ndata: b\r\n\n", sseOpts{}, []sseRec{msg("a\nb")}},
	{"LF then CR is two line ends", "data: a\n\rdata: b\n\n", sseOpts{}, []sseRec{msg("a"), msg("b")}},
	{"BOM stripped", "\xEF\xBB\xBFdata: a\n\n", sseOpts{}, []sseRec{msg("a")}},
	{"only one BOM stripped", "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", sseOpts{}, []sseRec{msg("b")}},
	{"BOM only at the start", "data: a\n\n\xEF\xBB\xBFdata: b\n\n", sseOpts{}, []sseRec{msg("a")}},
	{"stream is a partial BOM", "\xEF\xBB", sseOpts{}, nil},
	{"comment ignored", ": keep-alive\ndata: a\n: more\n\n", sseOpts{}, []sseRec{msg("a")}},
	{"comment reported", ": keep-alive\n\n:\n", sseOpts{comments: true},
		[]sseRec{{Kind: SSEComment, Data: "keep-alive"}, {Kind: SSEComment}}},
	{"one space removed", "data:  a\n\n", sseOpts{}, []sseRec{msg(" a")}},
	{"no space", "data:a\n\n", sseOpts{}, []sseRec{msg("a")}},
	{"tab is not removed", "data:\ta\n\n", sseOpts{}, []sseRec{msg("\ta")}},
	{"value keeps colons", "data: a:b: c\n\n", sseOpts{}, []sseRec{msg("a:b: c")}},
	{"no colon is an empty value", "data\n\n", sseOpts{}, []sseRec{msg("")}},
	{"two bare data lines", "data\ndata\n\n", sseOpts{}, []sseRec{msg("\n")}},
	{"empty data value", "data:\n\n", sseOpts{}, []sseRec{msg("")}},
	{"multi-line data", "data: a\ndata: b\ndata: c\n\n", sseOpts{}, []sseRec{msg("a\nb\nc")}},
	{"field names are case-sensitive", "Data: a\n\n", sseOpts{}, nil},
	{"space before colon is part of the name", "data : a\n\n", sseOpts{}, nil},
	{"unknown field ignored", "foo: bar\ndata: a\nbaz\n\n", sseOpts{}, []sseRec{msg("a")}},
	{"event type", "event: x\ndata: a\n\n", sseOpts{}, []sseRec{{Type: "x", Data: "a"}}},
	{"last event type wins", "event: x\nevent: y\ndata: a\n\n", sseOpts{}, []sseRec{{Type: "y", Data: "a"}}},
	{"event type reset after dispatch", "event: x\ndata: a\n\ndata: b\n\n", sseOpts{},
		[]sseRec{{Type: "x", Data: "a"}, msg("b")}},
	{"event type reset without dispatch", "event: x\n\ndata: b\n\n", sseOpts{}, []sseRec{msg("b")}},
	{"id persists", "id: 1\ndata: a\n\ndata: b\n\n", sseOpts{},
		[]sseRec{{ID: "1", Data: "a"}, {ID: "1", Data: "b"}}},
	{"id set without dispatch persists", "id: 1\n\ndata: b\n\n", sseOpts{}, []sseRec{{ID: "1", Data: "b"}}},
	{"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n", sseOpts{},
		[]sseRec{{ID: "1", Data: "a"}, {ID: "", Data: "b"}}},
	{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", sseOpts{},
		[]sseRec{{ID: "1", Data: "a"}, {ID: "1", Data: "b"}}},
	{"empty data dispatches nothing", "event: x\n\n\n\nid: 2\n\n", sseOpts{}, nil},
	{"EOF discards pending event", "data: a\n\ndata: b\n", sseOpts{}, []sseRec{msg("a")}},
	{"EOF discards unterminated line", "data: a\n\ndata: b", sseOpts{}, []sseRec{msg("a")}},
	{"EOF after CR discards", "data: a\r", sseOpts{}, nil},
	{"lenient EOF dispatches pending", "data: a\n\ndata: [DONE]\n", sseOpts{atEOF: true},
		[]sseRec{msg("a"), {Data: "[DONE]", Unterminated: true}}},
	{"lenient EOF takes unterminated line", "data: a\n\ndata: [DONE]", sseOpts{atEOF: true},
		[]sseRec{msg("a"), {Data: "[DONE]", Unterminated: true}}},
	{"lenient EOF, nothing pending", "data: a\n\n", sseOpts{atEOF: true}, []sseRec{msg("a")}},
	{"error line ignored by default", "error: {\"code\":500}\n\ndata: [DONE]\n\n", sseOpts{}, []sseRec{msg("[DONE]")}},
	{"error line reported", "error: {\"code\":500}\n\ndata: [DONE]\n\n", sseOpts{errLine: true},
		[]sseRec{{Kind: SSEErrorLine, Data: `{"code":500}`}, msg("[DONE]")}},
	{"error line amid an event", "data: a\nerror: e\ndata: b\n\n", sseOpts{errLine: true},
		[]sseRec{{Kind: SSEErrorLine, Data: "e"}, msg("a\nb")}},
	{"lenient EOF with error line", "error: e", sseOpts{atEOF: true, errLine: true},
		[]sseRec{{Kind: SSEErrorLine, Data: "e"}}},
	{"NUL and invalid UTF-8 pass through", "data: a\x00\xff\n\n", sseOpts{}, []sseRec{msg("a\x00\xff")}},
	{"line at the cap", "data: 0123456789\n\n", sseOpts{max: 16}, []sseRec{msg("0123456789")}},
}

func TestSSEReaderRules(t *testing.T) {
	for _, tc := range sseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readEvents(tc.opts.reader(strings.NewReader(tc.in)))
			if err != nil {
				t.Fatalf("Err = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// sseFixtures are the SSE fixtures under testdata.
func sseFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.sse")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestSSEReaderSplits checks that every way of splitting the input into
// Reads gives the same events: one byte per Read, and every split into two
// Reads, for each rule case and each fixture.
func TestSSEReaderSplits(t *testing.T) {
	type input struct {
		name string
		in   []byte
		opts sseOpts
	}
	var inputs []input
	for _, tc := range sseCases {
		inputs = append(inputs, input{tc.name, []byte(tc.in), tc.opts})
	}
	for name, b := range sseFixtures(t) {
		inputs = append(inputs, input{name, b, sseOpts{atEOF: true, errLine: true, comments: true}})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			want, wantErr := readEvents(in.opts.reader(bytes.NewReader(in.in)))
			if wantErr != nil {
				t.Fatal(wantErr)
			}
			got, err := readEvents(in.opts.reader(iotest.OneByteReader(bytes.NewReader(in.in))))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("one byte per Read: %v, %v\nwant %v", got, err, want)
			}
			for k := 0; k <= len(in.in); k++ {
				r := &partsReader{parts: [][]byte{bytes.Clone(in.in[:k]), bytes.Clone(in.in[k:])}}
				got, err := readEvents(in.opts.reader(r))
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("split at %d: %v, %v\nwant %v", k, got, err, want)
				}
			}
		})
	}
}

// TestSSEReaderCRLFAcrossReads checks that a CR ending one Read and the LF
// starting the next are one line end: were they two, the LF would be a blank
// line that dispatches "a" on its own.
func TestSSEReaderCRLFAcrossReads(t *testing.T) {
	r := &partsReader{parts: [][]byte{[]byte("data: a\r"), []byte("\ndata: b\r"), []byte("\n\r"), []byte("\n")}}
	got, err := readEvents(NewSSEReader(r))
	if err != nil {
		t.Fatal(err)
	}
	if want := []sseRec{msg("a\nb")}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSSEReaderComments(t *testing.T) {
	s := NewSSEReader(strings.NewReader(": a\n: b\ndata: x\n\n:c\n"))
	got, err := readEvents(s)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	if s.Comments() != 3 {
		t.Errorf("Comments() = %d, want 3", s.Comments())
	}
}

func TestSSEReaderRetry(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"retry: 1500\n", 1500 * time.Millisecond, true},
		{"retry: 0\n", 0, true},
		{"retry: 15x\n", 0, false},
		{"retry: -1\n", 0, false},
		{"retry: 1.5\n", 0, false},
		{"retry:\n", 0, false},
		{"retry: 99999999999999999999999\n", time.Duration(1<<63 - 1).Truncate(time.Millisecond), true},
		{"retry: 100\nretry: x\n", 100 * time.Millisecond, true},
	} {
		s := NewSSEReader(strings.NewReader(tc.in))
		if _, err := readEvents(s); err != nil {
			t.Fatal(err)
		}
		if d, ok := s.Retry(); d != tc.want || ok != tc.ok {
			t.Errorf("%q: Retry() = %v, %v; want %v, %v", tc.in, d, ok, tc.want, tc.ok)
		}
	}
}

func TestSSEReaderLastEventID(t *testing.T) {
	s := NewSSEReader(strings.NewReader("id: 7\ndata: a\n\nid: 8\n"))
	if _, err := readEvents(s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.LastEventID()); got != "8" {
		t.Errorf("LastEventID() = %q, want 8", got)
	}
}

func TestSSEReaderLineTooLong(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []sseRec // events before the error
	}{
		{"complete line", "data: a\n\ndata: 0123456789abc\n\n", []sseRec{msg("a")}},
		{"unterminated line", "data: a\n\ndata: 0123456789abc", []sseRec{msg("a")}},
		{"comment", ": 0123456789abcdef\n", nil},
		{"data lines add up", "data: 0123456\ndata: 0123456\ndata: 0\n\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readEvents(sseOpts{max: 16, atEOF: true}.reader(r))
				if !errors.Is(err, ErrLineTooLong) {
					t.Fatalf("Err = %v, want ErrLineTooLong", err)
				}
				if !strings.Contains(err.Error(), "16 bytes") {
					t.Errorf("error %q does not name the limit", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("events %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// endless returns the same byte forever, counting what it returned.
type endless struct {
	b byte
	n int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n += len(p)
	return len(p), nil
}

// TestSSEReaderMemoryBounded feeds an endless line: the reader must stop
// with ErrLineTooLong after reading about the cap, not grow without bound.
func TestSSEReaderMemoryBounded(t *testing.T) {
	const max = 1 << 20
	src := &endless{b: 'a'}
	s := sseOpts{max: max}.reader(src)
	if s.Scan() {
		t.Fatal("Scan returned an event")
	}
	if !errors.Is(s.Err(), ErrLineTooLong) {
		t.Fatalf("Err = %v", s.Err())
	}
	if src.n > max+2*sseReadSize {
		t.Errorf("read %d bytes for a %d-byte cap", src.n, max)
	}
	if cap(s.buf) > max+sseReadSize {
		t.Errorf("buffer grew to %d bytes for a %d-byte cap", cap(s.buf), max)
	}
}

// TestSSEReaderCROnlyLinear reads a CR-only stream of many short lines in
// one buffer; it would take quadratic time (and time out) if each line
// rescanned the buffer for LF.
func TestSSEReaderCROnlyLinear(t *testing.T) {
	in := bytes.Repeat([]byte("data: x\r\r"), 1<<17) // 1.2 MB in 32 KiB Reads
	got, err := readEvents(NewSSEReader(bytes.NewReader(in)))
	if err != nil || len(got) != 1<<17 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	s := NewSSEReader(bytes.NewReader(in))
	s.Scan()
	before := s.lf
	s.Scan()
	if s.lf.upto < before.upto {
		t.Errorf("LF search frontier moved back: %+v -> %+v", before, s.lf)
	}
}

// zeroReader returns (0, nil) forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestSSEReaderNoProgress(t *testing.T) {
	s := NewSSEReader(zeroReader{})
	if s.Scan() || !errors.Is(s.Err(), io.ErrNoProgress) {
		t.Fatalf("Err = %v, want io.ErrNoProgress", s.Err())
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got, err := readEvents(sseOpts{atEOF: true}.reader(r))
	if !errors.Is(err, boom) {
		t.Fatalf("Err = %v, want %v", err, boom)
	}
	// The pending "b" is not dispatched: only a clean EOF does that.
	if want := []sseRec{msg("a")}; !reflect.DeepEqual(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// Data returned with the error is read first.
	r = iotest.DataErrReader(strings.NewReader("data: a\n\n"))
	got, err = readEvents(NewSSEReader(r))
	if err != nil || len(got) != 1 {
		t.Errorf("DataErrReader: %v, %v", got, err)
	}
	// Err stays; Scan stays false.
	s := NewSSEReader(iotest.ErrReader(boom))
	s.Scan()
	if s.Scan() || !errors.Is(s.Err(), boom) {
		t.Errorf("second Scan: Err = %v", s.Err())
	}
}

func TestSSEReaderReset(t *testing.T) {
	s := NewSSEReader(strings.NewReader("id: 1\nretry: 5\ndata: a\n\ndata: partial"))
	s.MaxLineBytes = 64
	if _, err := readEvents(s); err != nil {
		t.Fatal(err)
	}
	s.Reset(strings.NewReader("data: b\n\n"))
	got, err := readEvents(s)
	if err != nil || !reflect.DeepEqual(got, []sseRec{msg("b")}) {
		t.Fatalf("after Reset: %v, %v", got, err)
	}
	if _, ok := s.Retry(); ok || len(s.LastEventID()) != 0 || s.Comments() != 0 {
		t.Error("Reset kept the previous stream's state")
	}
	if s.MaxLineBytes != 64 {
		t.Error("Reset dropped the configuration")
	}
	var zero SSEReader
	zero.Reset(strings.NewReader("data: c\n\n"))
	if got, err := readEvents(&zero); err != nil || len(got) != 1 {
		t.Errorf("zero value: %v, %v", got, err)
	}
}

// timedWrite is a part of a body delivered at a virtual time.
type timedWrite struct {
	at   time.Duration // since the start
	data string
}

// timedBody delivers its writes at their virtual times through a channel,
// as a server's flushes would arrive; it must be created inside a synctest
// bubble.
type timedBody struct {
	ch   chan []byte
	rest []byte
}

func newTimedBody(writes []timedWrite) *timedBody {
	b := &timedBody{ch: make(chan []byte)}
	start := time.Now()
	go func() {
		for _, w := range writes {
			time.Sleep(time.Until(start.Add(w.at)))
			b.ch <- []byte(w.data)
		}
		close(b.ch)
	}()
	return b
}

func (b *timedBody) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		data, ok := <-b.ch
		if !ok {
			return 0, io.EOF
		}
		b.rest = data
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *timedBody) Close() error { return nil }

// TestSSEReaderStamps checks in virtual time that each event is stamped
// with the time of the Read that completed it, that FirstLineAt is the time
// of the Read that completed its first line, and that events coalesced in
// one Read share one stamp.
func TestSSEReaderStamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		start := time.Now()
		body := newTimedBody([]timedWrite{
			{0, "data: a\n\n"},
			{100 * ms, "data: b\n"},
			{150 * ms, "\n"},
			{300 * ms, "data: c\n\ndata: d\n\n"}, // coalesced
			{400 * ms, "data: e\r"},
			{450 * ms, "\n\r\n"},
			{500 * ms, "event: x\ndata: f"},
			{700 * ms, "\n\n"},
		})
		type stamp struct {
			data          string
			first, dispat time.Duration
		}
		want := []stamp{
			{"a", 0, 0},
			{"b", 100 * ms, 150 * ms},
			{"c", 300 * ms, 300 * ms},
			{"d", 300 * ms, 300 * ms},
			{"e", 400 * ms, 450 * ms},
			{"f", 500 * ms, 700 * ms}, // the "event:" line is the first line
		}
		s := NewSSEReader(body)
		var got []stamp
		for s.Scan() {
			ev := s.Event()
			got = append(got, stamp{string(ev.Data), ev.FirstLineAt.Sub(start), ev.DispatchAt.Sub(start)})
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stamps\n got %v\nwant %v", got, want)
		}
	})
}
