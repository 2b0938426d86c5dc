package conformance

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicsse "github.com/anthropics/anthropic-sdk-go/packages/ssestream"
	"github.com/openai/openai-go/v3"
	openaisse "github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/llm-latency-lens/lens/providers"
)

// This file compares the stream decoders of package providers with the
// official SDKs' over the same bytes: a stream of benchChunks content
// events framed as the API frames them (the APIs' documented example streams). One
// benchmark op is one event of the stream, so ns/op and allocs/op are per
// event; ns/chunk says the same in the unit of the target in PERFORMANCE.md.
//
//	go test -run '^$' -bench Decode -count 10 | tee new.txt
//	benchstat -col /decoder new.txt
//
// prints the SDK/lens ratio with its confidence interval;
// TestDecoderSpeedup checks it from one run.

// benchChunks is the number of content events per stream.
const benchChunks = 1000

// The events of the OpenAI Chat Completions fixture (as the API documents it).
const (
	openAIRole    = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"
	openAIContent = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"
	openAIEnd     = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1000,"total_tokens":1009,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}` + "\n\n" +
		"data: [DONE]\n\n"
)

// The events of the Anthropic Messages fixture (as the API documents it).
const (
	anthropicStart = "event: message_start\n" +
		`data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}` + "\n\n" +
		"event: content_block_start\n" +
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n" +
		"event: ping\n" + `data: {"type": "ping"}` + "\n\n"
	anthropicContent = "event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}` + "\n\n"
	anthropicEnd = "event: content_block_stop\n" + `data: {"type":"content_block_stop","index":0}` + "\n\n" +
		"event: message_delta\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1000}}` + "\n\n" +
		"event: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"
)

// benchAPI is one API's stream and its two decoders.
type benchAPI struct {
	name   string
	body   []byte
	events int // SSE events in body
	lens   func() providers.Decoder
	sdk    func(resp *http.Response) sdkStream
}

// sdkStream is what both SDKs' ssestream.Stream have.
type sdkStream interface {
	Next() bool
	Err() error
}

// streamBody returns head, n copies of content, and tail.
func streamBody(head, content, tail string, n int) []byte {
	return []byte(head + strings.Repeat(content, n) + tail)
}

var benchAPIs = []benchAPI{
	{
		name:   "openai",
		body:   streamBody(openAIRole, openAIContent, openAIEnd, benchChunks),
		events: benchChunks + 3, // role, contents, finish, usage; [DONE] ends
		lens:   func() providers.Decoder { return (&providers.OpenAI{APIKey: testKey}).NewDecoder() },
		sdk: func(resp *http.Response) sdkStream {
			return &openAIStream{openaisse.NewStream[openai.ChatCompletionChunk](openaisse.NewDecoder(resp), nil)}
		},
	},
	{
		name:   "anthropic",
		body:   streamBody(anthropicStart, anthropicContent, anthropicEnd, benchChunks),
		events: benchChunks + 5, // start, block start, ping, contents, block stop, delta; message_stop ends
		lens:   func() providers.Decoder { return (&providers.Anthropic{APIKey: testKey}).NewDecoder() },
		sdk: func(resp *http.Response) sdkStream {
			return &anthropicStream{anthropicsse.NewStream[anthropic.MessageStreamEventUnion](anthropicsse.NewDecoder(resp), nil)}
		},
	},
}

// openAIStream reads every chunk's text, as a caller of the SDK does.
type openAIStream struct {
	s *openaisse.Stream[openai.ChatCompletionChunk]
}

func (s *openAIStream) Next() bool {
	if !s.s.Next() {
		return false
	}
	if c := s.s.Current(); len(c.Choices) > 0 {
		benchSink += len(c.Choices[0].Delta.Content)
	}
	return true
}

func (s *openAIStream) Err() error { return s.s.Err() }

// anthropicStream reads every event's text, as a caller of the SDK does.
type anthropicStream struct {
	s *anthropicsse.Stream[anthropic.MessageStreamEventUnion]
}

func (s *anthropicStream) Next() bool {
	if !s.s.Next() {
		return false
	}
	benchSink += len(s.s.Current().Delta.Text)
	return true
}

func (s *anthropicStream) Err() error { return s.s.Err() }

// benchSink keeps the benchmarks' reads of text from being optimized away.
var benchSink int

// newBenchResponse returns a 200 text/event-stream response whose body
// reads body through r.
func newBenchResponse(r *bytes.Reader, body []byte) *http.Response {
	r.Reset(body)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}},
		Body:       io.NopCloser(r),
	}
}

// benchLens decodes api's stream with the lens decoder, one event per op,
// starting over at its end.
func benchLens(b *testing.B, api benchAPI) {
	var r bytes.Reader
	req := &providers.Request{Stream: true}
	dec := api.lens()
	if err := dec.Reset(newBenchResponse(&r, api.body), req); err != nil {
		b.Fatal(err)
	}
	var d providers.Delta
	text := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		err := dec.Next(&d)
		if err == io.EOF {
			if err := dec.Reset(newBenchResponse(&r, api.body), req); err != nil {
				b.Fatal(err)
			}
			err = dec.Next(&d)
		}
		if err != nil {
			b.Fatal(err)
		}
		text += len(d.Text)
	}
	b.StopTimer()
	benchSink += text
	reportPerChunk(b)
	if b.N >= api.events && text < b.N/2*len(" world") {
		b.Fatalf("%d bytes of text in %d events", text, b.N)
	}
}

// benchSDK decodes api's stream with the SDK's decoder, one event per op,
// starting over at its end.
func benchSDK(b *testing.B, api benchAPI) {
	var r bytes.Reader
	s := api.sdk(newBenchResponse(&r, api.body))
	start := benchSink
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !s.Next() {
			if err := s.Err(); err != nil {
				b.Fatal(err)
			}
			s = api.sdk(newBenchResponse(&r, api.body))
			if !s.Next() {
				b.Fatalf("empty stream: %v", s.Err())
			}
		}
	}
	b.StopTimer()
	reportPerChunk(b)
	if b.N >= api.events && benchSink-start < b.N/2*len(" world") {
		b.Fatalf("%d bytes of text in %d events", benchSink-start, b.N)
	}
}

// reportPerChunk reports the time per op, one event, as ns/chunk.
func reportPerChunk(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/chunk")
}

// BenchmarkDecode decodes each API's stream with the lens decoder and with
// the official SDK's stream decoder (ssestream.Stream Next and Current).
func BenchmarkDecode(b *testing.B) {
	for _, api := range benchAPIs {
		b.Run(fmt.Sprintf("api=%s/decoder=lens", api.name), func(b *testing.B) { benchLens(b, api) })
		b.Run(fmt.Sprintf("api=%s/decoder=sdk", api.name), func(b *testing.B) { benchSDK(b, api) })
	}
}

// TestDecodeSameEvents: both decoders of each API see every event of the
// benchmark's stream, and the same text, so that the benchmark compares
// like with like.
func TestDecodeSameEvents(t *testing.T) {
	for _, api := range benchAPIs {
		t.Run(api.name, func(t *testing.T) {
			var r bytes.Reader
			dec := api.lens()
			if err := dec.Reset(newBenchResponse(&r, api.body), &providers.Request{Stream: true}); err != nil {
				t.Fatal(err)
			}
			var d providers.Delta
			events, text := 0, 0
			for {
				err := dec.Next(&d)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				events++
				text += len(d.Text)
			}
			if events != api.events || text != benchChunks*len(" world") {
				t.Errorf("lens: %d events, %d bytes of text; want %d, %d", events, text, api.events, benchChunks*len(" world"))
			}

			s := api.sdk(newBenchResponse(&r, api.body))
			start := benchSink
			events = 0
			for s.Next() {
				events++
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			// anthropic-sdk-go skips the ping but yields message_stop.
			if events != api.events || benchSink-start != benchChunks*len(" world") {
				t.Errorf("sdk: %d events, %d bytes of text; want %d, %d", events, benchSink-start, api.events, benchChunks*len(" world"))
			}
		})
	}
}

// TestDecoderSpeedup checks the target in PERFORMANCE.md: per chunk, the
// lens decoder is at least 5x faster than the SDK's, measured in one run,
// interleaved, the best of three rounds of each (measured ratios are 26x
// for Anthropic and 45x for OpenAI, so 5x leaves a wide margin for a busy
// machine). Under the race detector the timings say nothing about the
// product, so the test skips there, saying so; .ci/run runs it again
// without -race, where it always asserts.
func TestDecoderSpeedup(t *testing.T) {
	if raceEnabled {
		t.Skip("timing comparison: meaningless under the race detector; .ci/run runs it without -race")
	}
	if testing.Short() {
		t.Skip("timing comparison: skipped with -short")
	}
	const want = 5.0
	for _, api := range benchAPIs {
		l, s := math.Inf(1), math.Inf(1)
		var la, sa float64
		for range 3 {
			lens := testing.Benchmark(func(b *testing.B) { benchLens(b, api) })
			sdk := testing.Benchmark(func(b *testing.B) { benchSDK(b, api) })
			l = min(l, float64(lens.T.Nanoseconds())/float64(lens.N))
			s = min(s, float64(sdk.T.Nanoseconds())/float64(sdk.N))
			la, sa = float64(lens.MemAllocs)/float64(lens.N), float64(sdk.MemAllocs)/float64(sdk.N)
		}
		t.Logf("%-9s lens %7.1f ns/chunk %5.2f allocs/chunk | sdk %7.1f ns/chunk %5.2f allocs/chunk | sdk/lens %.1fx",
			api.name, l, la, s, sa, s/l)
		if s/l < want {
			t.Errorf("%s: the SDK's decoder takes %.1fx the lens decoder's time per chunk, want at least %gx", api.name, s/l, want)
		}
	}
}
