package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// splitReader returns data in Reads whose sizes come from sizes, cycling
// (1 to 32 bytes each).
type splitReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)]%32) + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func addFixtureSeeds(f *testing.F, add func(b []byte)) {
	files, err := filepath.Glob("testdata/*.sse")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzSSEReader reads arbitrary bytes split into arbitrary Reads. The
// reader must not panic, must end (at most one event per input byte, plus
// one), must give the same events and outcome as reading everything at
// once, and must keep its memory within the line cap.
func FuzzSSEReader(f *testing.F) {
	addFixtureSeeds(f, func(b []byte) { f.Add(b, []byte{3, 200, 17}, uint8(0xff)) })
	for _, tc := range sseCases {
		f.Add([]byte(tc.in), []byte{0}, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data, sizes []byte, flags uint8) {
		opts := sseOpts{
			atEOF:    flags&1 != 0,
			errLine:  flags&2 != 0,
			comments: flags&4 != 0,
			max:      64,
		}
		if flags&8 != 0 {
			opts.max = 4096
		}
		read := func(r io.Reader) ([]sseRec, error, *SSEReader) {
			s := opts.reader(r)
			var out []sseRec
			for s.Scan() {
				ev := s.Event()
				if len(ev.Data) > opts.max {
					t.Fatalf("event data of %d bytes past a %d-byte cap", len(ev.Data), opts.max)
				}
				out = append(out, sseRec{ev.Kind, string(ev.Type), string(ev.Data), string(ev.ID), ev.Unterminated})
				if len(out) > len(data)+1 {
					t.Fatalf("%d events from %d bytes", len(out), len(data))
				}
			}
			if cap(s.buf) > opts.max+sseReadSize || cap(s.data) > 2*opts.max+1024 {
				t.Fatalf("buffers grew to %d and %d bytes for a %d-byte cap", cap(s.buf), cap(s.data), opts.max)
			}
			return out, s.Err(), s
		}
		want, wantErr, _ := read(bytes.NewReader(data))
		if wantErr != nil && !errors.Is(wantErr, ErrLineTooLong) {
			t.Fatalf("Err = %v", wantErr)
		}
		got, err, _ := read(&splitReader{data: data, sizes: sizes})
		if !errors.Is(err, ErrLineTooLong) != !errors.Is(wantErr, ErrLineTooLong) || (err == nil) != (wantErr == nil) {
			t.Fatalf("split Reads end with %v, one Read with %v", err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split Reads give\n%v\none Read gives\n%v", got, want)
		}
	})
}

// fuzzContentTypes are the Content-Type values FuzzOpenAIDecoder picks from.
var fuzzContentTypes = []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html", "text/event-stream"}

// fuzzStatuses are the statuses FuzzOpenAIDecoder picks from.
var fuzzStatuses = []int{200, 200, 200, 429, 500}

// FuzzOpenAIDecoder decodes an arbitrary body under an arbitrary content
// type and status, split into arbitrary Reads. Every response must end in
// io.EOF, an *APIError or a *DecodeError, nothing else and no panic, within
// one Delta per input byte; and split Reads must decode as one Read does.
func FuzzOpenAIDecoder(f *testing.F) {
	addFixtureSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) })
	if b, err := os.ReadFile("testdata/openai_chat.json"); err == nil {
		f.Add(b, uint8(1), []byte{}, false)
	}
	f.Add([]byte(`{"error":{"message":"x","code":429}}`), uint8(3), []byte{}, true)
	f.Add([]byte("<html><title>502</title></html>"), uint8(3), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		ct := fuzzContentTypes[int(pick)%len(fuzzContentTypes)]
		status := fuzzStatuses[int(pick/8)%len(fuzzStatuses)]
		dec := (&OpenAI{APIKey: "sk-fuzz-0123456789"}).NewDecoder()
		run := func(r io.Reader) decoded {
			resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(r)}
			if ct != "" {
				resp.Header.Set("Content-Type", ct)
			}
			var out decoded
			if err := dec.Reset(resp, &Request{Stream: stream}); err != nil {
				out.Err = err
				return out
			}
			var d Delta
			for {
				err := dec.Next(&d)
				if err != nil {
					out.Err = err
					return out
				}
				out.Deltas++
				if out.Deltas > len(body)+1 {
					t.Fatalf("%d deltas from %d bytes", out.Deltas, len(body))
				}
				if len(d.Text)+len(d.Reasoning)+len(d.ToolArgs) > len(body) {
					t.Fatal("a delta carries more text than the body")
				}
				out.Text += string(d.Text)
				out.Reasoning += string(d.Reasoning)
				out.ToolArgs += string(d.ToolArgs)
				if d.HasUsage {
					out.Usage, out.HasUsage = d.Usage, true
				}
				out.Finish += d.FinishReason
			}
		}
		want := run(bytes.NewReader(body))
		var ae *APIError
		var de *DecodeError
		if want.Err != io.EOF && !errors.As(want.Err, &ae) && !errors.As(want.Err, &de) {
			t.Fatalf("ended with %T: %v", want.Err, want.Err)
		}
		got := run(&splitReader{data: body, sizes: sizes})
		if got.Err.Error() != want.Err.Error() {
			t.Fatalf("split Reads end with %v, one Read with %v", got.Err, want.Err)
		}
		got.Err = want.Err
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("split Reads give\n%+v\none Read gives\n%+v", got, want)
		}
	})
}
