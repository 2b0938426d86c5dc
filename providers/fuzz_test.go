package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"testing"
)

// FuzzSSEReader reads arbitrary bytes split into arbitrary Reads. The
// reader must not panic, must end (at most one event per input byte, plus
// one), must give the same events and outcome as reading everything at
// once, and must keep its memory within the line cap.
func FuzzSSEReader(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, []byte{3, 200, 17}, uint8(0xff)) }, "*.sse")
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

// The responses the decoder fuzz targets pick from: openAIFuzz for
// FuzzOpenAIDecoder, codecFuzz for the Anthropic, Gemini and Cohere
// targets, famFuzz for the Azure, Responses and Generic ones.
var (
	openAIFuzz = fuzzResponses{
		contentTypes: []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html", "text/event-stream"},
		statuses:     []int{200, 200, 200, 429, 500},
		checkUsage:   true,
	}
	codecFuzz = fuzzResponses{
		contentTypes: []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html", "text/event-stream"},
		statuses:     []int{200, 200, 200, 429, 500, 529},
		checkUsage:   true,
	}
	famFuzz = fuzzResponses{
		contentTypes: []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html",
			"application/x-ndjson", "text/plain"},
		statuses:   []int{200, 200, 200, 429, 400, 500},
		header:     http.Header{"Retry-After-Ms": {"5"}},
		checkUsage: true,
	}
	genericFuzz = famFuzz
)

// fuzzCodecDecoder is the body of the Anthropic, Gemini and Cohere decoder
// targets: it seeds f with the stream fixtures that match glob, the
// non-streaming fixture whole and errBody as a 429 error body, and decodes
// with a new decoder of p each time, its responses picked by codecFuzz.
func fuzzCodecDecoder(f *testing.F, p Provider, glob, whole, errBody string) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) }, glob)
	if b, err := os.ReadFile("testdata/" + whole); err == nil {
		f.Add(b, uint8(1), []byte{}, false)
	}
	f.Add([]byte(errBody), uint8(3*8+1), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		codecFuzz.decode(t, p.NewDecoder(), body, pick, sizes, stream)
	})
}

// FuzzOpenAIDecoder decodes an arbitrary body under an arbitrary content
// type and status, split into arbitrary Reads: see fuzzResponses.decode.
func FuzzOpenAIDecoder(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) }, "*.sse")
	if b, err := os.ReadFile("testdata/openai_chat.json"); err == nil {
		f.Add(b, uint8(1), []byte{}, false)
	}
	f.Add([]byte(`{"error":{"message":"x","code":429}}`), uint8(3), []byte{}, true)
	f.Add([]byte("<html><title>502</title></html>"), uint8(3), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		openAIFuzz.decode(t, (&OpenAI{APIKey: "sk-fuzz-0123456789"}).NewDecoder(), body, pick, sizes, stream)
	})
}
