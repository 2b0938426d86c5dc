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

// Fuzzing of the Azure, Responses and Generic decoders (FuzzAzureDecoder
// here, FuzzResponsesDecoder and FuzzGenericDecoder beside their codecs).
// Each target decodes an arbitrary body under a content type and status
// picked by the fuzzer, once in one Read and once split into arbitrary
// Reads, and requires: no panic; an end within one Delta per input byte
// (no hang); an outcome that is io.EOF, an *APIError or a *DecodeError,
// nothing else; no Delta carrying more text than the body; and the same
// result however the body was split.

// famFuzzContentTypes are the Content-Type values the fuzz targets pick
// from.
var famFuzzContentTypes = []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html",
	"application/x-ndjson", "text/plain"}

// famFuzzStatuses are the statuses the fuzz targets pick from.
var famFuzzStatuses = []int{200, 200, 200, 429, 400, 500}

// famFuzzSeeds adds the files of testdata matching the patterns.
func famFuzzSeeds(f *testing.F, add func(b []byte), patterns ...string) {
	for _, pat := range patterns {
		files, err := filepath.Glob(filepath.Join("testdata", pat))
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
}

// famFuzzDecode runs the checks described above on dec.
func famFuzzDecode(t *testing.T, dec Decoder, body []byte, pick uint8, sizes []byte, stream bool) {
	ct := famFuzzContentTypes[int(pick)%len(famFuzzContentTypes)]
	status := famFuzzStatuses[int(pick/8)%len(famFuzzStatuses)]
	run := func(r io.Reader) decoded {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After-Ms": {"5"}}, Body: io.NopCloser(r)}
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
				if again := dec.Next(&d); again != err {
					t.Fatalf("Next after %v returned %v", err, again)
				}
				return out
			}
			out.Deltas++
			if out.Deltas > len(body)+1 {
				t.Fatalf("%d deltas from %d bytes", out.Deltas, len(body))
			}
			if len(d.Text)+len(d.Reasoning)+len(d.ToolArgs) > len(body) {
				t.Fatal("a delta carries more text than the body")
			}
			if d.At.IsZero() {
				t.Fatal("a delta without its arrival time")
			}
			out.Text += string(d.Text)
			out.Reasoning += string(d.Reasoning)
			out.ToolArgs += string(d.ToolArgs)
			if d.HasUsage {
				out.Usage, out.HasUsage = d.Usage, true
			}
			out.Finish += d.FinishReason
			if d.HasOutput() {
				out.Outputs++
			}
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
}

func FuzzAzureDecoder(f *testing.F) {
	famFuzzSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) }, "azure*.sse", "openai_chat.sse", "openai_error_chunk.sse")
	famFuzzSeeds(f, func(b []byte) { f.Add(b, uint8(1), []byte{}, false) }, "azure*.json")
	f.Add([]byte(`{"error":{"code":"429","message":"Please retry after 3 seconds."}}`), uint8(1+3*8), []byte{}, true)
	f.Add([]byte(`{"error":{"code":"content_filter","message":"m","innererror":{"code":"ResponsibleAIPolicyViolation"}}}`), uint8(1+4*8), []byte{}, true)
	f.Add([]byte(`{"error":{"code":"DeploymentNotFound","message":"m"}}`), uint8(1+5*8), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		dec := (&Azure{BaseURL: "https://r.openai.azure.com", APIKey: "azure-fuzz-0123456789"}).NewDecoder()
		famFuzzDecode(t, dec, body, pick, sizes, stream)
	})
}
