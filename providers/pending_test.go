package providers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// pushReader is a body that a test pushes bytes into: Read returns what
// was pushed and not yet read, then ErrPending until more is pushed, then
// io.EOF once the test ended it.
type pushReader struct {
	cur   []byte
	ended bool
}

func (r *pushReader) Close() error { return nil }

func (r *pushReader) Read(p []byte) (int, error) {
	if len(r.cur) == 0 {
		if r.ended {
			return 0, io.EOF
		}
		return 0, ErrPending
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// lendReader is a pushReader that lends its bytes (see lender), as
// lens.Transport's body does: the reader scans them where they are.
type lendReader struct{ pushReader }

func (r *lendReader) Lend(max int) ([]byte, time.Time, error) {
	if len(r.cur) == 0 {
		if r.ended {
			return nil, time.Time{}, io.EOF
		}
		return nil, time.Time{}, ErrPending
	}
	p := r.cur[:min(len(r.cur), max)]
	r.cur = r.cur[len(p):]
	return p, time.Now(), nil
}

// pusher is the body a test pushes pieces into: a pushReader, or a
// lendReader whose pieces are the test's own buffer, overwritten once
// pushed, as an application reuses its read buffer.
type pusher struct {
	lend bool
	r    io.ReadCloser
	push func(piece []byte) (done func())
	end  func()
}

func newPusher(lend bool) *pusher {
	p := &pusher{lend: lend}
	if !lend {
		r := &pushReader{}
		p.r, p.end = r, func() { r.ended = true }
		p.push = func(piece []byte) func() { r.cur = piece; return func() {} }
		return p
	}
	r := &lendReader{}
	p.r, p.end = r, func() { r.ended = true }
	p.push = func(piece []byte) func() {
		buf := append([]byte(nil), piece...)
		r.cur = buf
		return func() {
			for i := range buf {
				buf[i] = 0xAA
			}
		}
	}
	return p
}

// chunks splits data into pieces of 1..32 bytes, as sizes says (one byte
// each when sizes is empty).
func chunks(data, sizes []byte) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)]%32) + 1
		}
		n = min(n, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// usualIn reports whether body, a stream of the API name, has an event
// that DecodeUsual decodes.
func usualIn(name string, body []byte) bool {
	switch name {
	case "anthropic":
		return bytes.Contains(body, []byte("\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\""))
	case "openai":
		return bytes.Contains(body, []byte("\n\ndata: {\"id\""))
	}
	return false
}

// events splits an SSE stream after each blank line (LF LF), one event a
// piece, as a paced stream arrives.
func events(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := len(data)
		if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
			n = i + 2
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// FuzzSSEReaderPending: an SSE stream pushed into the reader piece by
// piece, with ErrPending between pieces, gives the same events and the
// same end as the stream read whole.
func FuzzSSEReaderPending(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, []byte{3, 200, 17}, uint8(0xff)) }, "*.sse")
	for _, tc := range sseCases {
		f.Add([]byte(tc.in), []byte{0}, uint8(0))
		f.Add([]byte(tc.in), []byte{7, 1}, uint8(16))
	}
	f.Fuzz(func(t *testing.T, data, sizes []byte, flags uint8) {
		opts := sseOpts{atEOF: flags&1 != 0, errLine: flags&2 != 0, comments: flags&4 != 0, max: 64}
		if flags&8 != 0 {
			opts.max = 4096
		}
		want, wantErr := readEvents(opts.reader(bytes.NewReader(data)))

		body := newPusher(flags&16 != 0)
		s := opts.reader(body.r)
		var got []sseRec
		scan := func() error {
			for s.Scan() {
				ev := s.Event()
				got = append(got, sseRec{ev.Kind, string(ev.Type), string(ev.Data), string(ev.ID), ev.Unterminated})
			}
			return s.Err()
		}
		var err error
		for _, c := range chunks(data, sizes) {
			done := body.push(c)
			err = scan()
			done()
			if err != ErrPending {
				break
			}
		}
		if err == ErrPending {
			body.end()
			err = scan()
		}
		if (err == nil) != (wantErr == nil) || !errors.Is(err, ErrLineTooLong) != !errors.Is(wantErr, ErrLineTooLong) {
			t.Fatalf("pushed pieces end with %v, one Read with %v", err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pushed pieces give\n%v\none Read gives\n%v", got, want)
		}
	})
}

// pushDecode decodes body as resp's stream, pushing it piece by piece:
// Next returns ErrPending whenever the pushed input is used up, and the
// result must be what a decoder pulling the whole body gets. With lend,
// the pieces are lent, each overwritten once pushed, the usual events
// are decoded with DecodeUsual where the decoder has it, and Next is not
// called when the decoder NeedsInput, as lens.Transport does.
func pushDecode(t *testing.T, dec Decoder, ct string, pieces [][]byte, req *Request, lend bool) (out decoded, usualEvents int) {
	t.Helper()
	in := newPusher(lend)
	var starved interface{ NeedsInput() bool }
	var usual interface {
		DecodeUsual(p []byte, at time.Time, out *Delta) int
	}
	if lend {
		starved = dec.(interface{ NeedsInput() bool })
		usual, _ = dec.(interface {
			DecodeUsual(p []byte, at time.Time, out *Delta) int
		})
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}}, Body: in.r}
	if err := dec.Reset(resp, req); err != nil {
		out.Err = err
		return out, 0
	}
	var d Delta
	step := func() bool {
		for {
			err := dec.Next(&d)
			if err == ErrPending {
				return true
			}
			if err != nil {
				out.Err = err
				return false
			}
			out.add(&d)
			if starved != nil && starved.NeedsInput() {
				return true
			}
		}
	}
	for _, c := range pieces {
		buf := append([]byte(nil), c...)
		if usual != nil {
			for len(buf) > 0 {
				n := usual.DecodeUsual(buf, time.Now(), &d)
				if n == 0 {
					break
				}
				usualEvents++
				buf = buf[n:]
				out.add(&d)
			}
			if len(buf) == 0 {
				continue
			}
		}
		done := in.push(buf)
		ok := step()
		done()
		if !ok {
			return out, usualEvents
		}
	}
	in.end()
	if step() {
		t.Fatal("Next returned ErrPending after the end of the body")
	}
	return out, usualEvents
}

// TestDecodersPending: every codec, given each stream fixture pushed in
// pieces of one byte and of 1..32 bytes, decodes exactly what it decodes
// from the whole body.
func TestDecodersPending(t *testing.T) {
	codecs := map[string]Provider{
		"openai": &OpenAI{}, "responses": &OpenAIResponses{}, "anthropic": &Anthropic{}, "gemini": &Gemini{},
		"azure": &Azure{BaseURL: "https://x.openai.azure.com"}, "cohere": &Cohere{},
		"generic": &Generic{URL: "http://x", TextPath: "choices.0.delta.content"},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	req := &Request{Stream: true}
	for _, file := range files {
		body := readFixture(t, filepath.Base(file))
		for name, p := range codecs {
			if !strings.HasPrefix(filepath.Base(file), name) && name != "openai" && name != "generic" {
				continue
			}
			want := decodeAll(t, p.NewDecoder(), sseResponse(bytes.NewReader(body)), req)
			splits := map[string][][]byte{"1": chunks(body, nil), "1..32": chunks(body, []byte{3, 200, 17, 31, 8}), "events": events(body)}
			for sizes, pieces := range splits {
				for _, lend := range []bool{false, true} {
					got, usual := pushDecode(t, p.NewDecoder(), "text/event-stream", pieces, req, lend)
					if lend && sizes == "events" && usualIn(name, body) && usual == 0 {
						t.Errorf("%s %s: no event was decoded where it is", name, file)
					}
					if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) {
						t.Errorf("%s %s sizes %v lend %v: ends with %v, whole with %v", name, file, sizes, lend, got.Err, want.Err)
					}
					w := want
					got.Err, w.Err = nil, nil
					if !reflect.DeepEqual(got, w) {
						t.Errorf("%s %s sizes %v lend %v: pushed\n%+v\nwhole\n%+v", name, file, sizes, lend, got, want)
					}
				}
			}
		}
	}
}

// TestNDJSONPending: the Generic codec's NDJSON lines, pushed in pieces,
// decode as the whole body does.
func TestNDJSONPending(t *testing.T) {
	p := &Generic{URL: "http://x", Format: "ndjson", TextPath: "message.content"}
	body := []byte("{\"message\":{\"content\":\"Hel\"}}\n\n{\"message\":{\"content\":\"lo\"}}\r\n{\"message\":{\"content\":\"!\"},\"done\":true}")
	req := &Request{Stream: true}
	want := decodeAll(t, p.NewDecoder(), famResponse("application/x-ndjson", bytes.NewReader(body)), req)
	if want.Text != "Hello!" {
		t.Fatalf("whole body: text %q", want.Text)
	}
	for _, sizes := range [][]byte{nil, {3, 9, 1}} {
		got, _ := pushDecode(t, p.NewDecoder(), "application/x-ndjson", chunks(body, sizes), req, true)
		if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) {
			t.Errorf("sizes %v: ends with %v, whole with %v", sizes, got.Err, want.Err)
		}
		w := want
		got.Err, w.Err = nil, nil
		if !reflect.DeepEqual(got, w) {
			t.Errorf("sizes %v: pushed\n%+v\nwhole\n%+v", sizes, got, want)
		}
	}
}

// FuzzDecodeUsual: a stream pushed into the Anthropic or OpenAI decoder
// as lens.Transport pushes an application's reads (pieces lent and then
// overwritten, the usual events decoded where they are with DecodeUsual,
// the rest by Next) decodes exactly as the whole body does, for pieces of
// one event each (split at blank lines) and of 1..32 bytes.
func FuzzDecodeUsual(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, []byte{}, false) }, "anthropic*.sse")
	addSeeds(f, func(b []byte) { f.Add(b, []byte{}, true) }, "openai*.sse")
	delta := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"%s\"}}\n\n"
	chunk := "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}],\"usage\":null}\n\n"
	for _, text := range []string{"hi", `a\nb`, `\u00e9`, "", `\ud800`, `x\"`} {
		f.Add([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n"+
			fmt.Sprintf(delta, text)+fmt.Sprintf(delta, text)+"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), []byte{7, 40}, false)
		f.Add([]byte(fmt.Sprintf(chunk, text)+fmt.Sprintf(chunk, text)+"data: [DONE]\n\n"), []byte{7, 40}, true)
	}
	req := &Request{Stream: true}
	f.Fuzz(func(t *testing.T, body, sizes []byte, openai bool) {
		var p Provider = &Anthropic{}
		if openai {
			p = &OpenAI{}
		}
		want := decodeAll(t, p.NewDecoder(), sseResponse(bytes.NewReader(body)), req)
		for _, pieces := range [][][]byte{events(body), chunks(body, sizes)} {
			got, _ := pushDecode(t, p.NewDecoder(), "text/event-stream", pieces, req, true)
			if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) {
				t.Fatalf("pushed: ends with %v, whole with %v", got.Err, want.Err)
			}
			w := want
			got.Err, w.Err = nil, nil
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("pushed\n%+v\nwhole\n%+v", got, w)
			}
		}
	})
}
