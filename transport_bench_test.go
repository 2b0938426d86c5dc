package lens_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llm-latency-lens/lens"
)

// chunkReader returns one SSE event per Read, as a paced stream arrives.
type chunkReader struct{ rest string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.rest == "" {
		return 0, io.EOF
	}
	n := len(r.rest)
	if i := strings.Index(r.rest, "\n\n"); i >= 0 {
		n = i + 2
	}
	n = copy(p, r.rest[:n])
	r.rest = r.rest[n:]
	return n, nil
}

// sseBase answers every request with a 200 event stream of body.
type sseBase struct{ body string }

func (s sseBase) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(&chunkReader{rest: s.body}), ContentLength: -1, Request: req}, nil
}

// BenchmarkTransportRead is what lens.Transport adds to an application's
// reads of a stream of 1,000 chunks of an API (OpenAI chat chunks,
// Anthropic text deltas), one per read: compare each API's transport
// sub-benchmark with its bare one, the same reads without the transport;
// ns/chunk and allocs/op of the difference are the transport's own.
func BenchmarkTransportRead(b *testing.B) {
	const chunks = 1000
	for _, api := range []struct{ name, path, chunk, head, end string }{
		{"openai", "/v1/chat/completions",
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n",
			"", "data: [DONE]\n\n"},
		{"anthropic", "/v1/messages",
			"event: content_block_delta\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}` + "\n\n",
			"event: message_start\n" + `data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":12,"output_tokens":1}}}` + "\n\n",
			"event: message_delta\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1000}}` + "\n\nevent: message_stop\n" + `data: {"type":"message_stop"}` + "\n\n"},
	} {
		body := api.head + strings.Repeat(api.chunk, chunks) + api.end
		for _, bare := range []bool{true, false} {
			name := api.name + "/transport"
			var c *http.Client
			tr := &lens.Transport{Base: sseBase{body}}
			if bare {
				name, c = api.name+"/bare", &http.Client{Transport: sseBase{body}}
			} else {
				c = tr.Client()
			}
			b.Run(name, func(b *testing.B) {
				buf := make([]byte, 4096)
				b.ReportAllocs()
				for range b.N {
					resp, err := c.Post("http://mem.test"+api.path, "application/json", nil)
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := resp.Body.Read(buf); err != nil {
							break
						}
					}
					resp.Body.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunks), "ns/chunk")
				// The transport measures every call of every round of the
				// benchmark, each with its 1,000 tokens.
				if res := tr.Result(); !bare && (res.Succeeded < int64(b.N) || res.Failed > 0 || res.OutputTokensTotal != res.Succeeded*chunks) {
					b.Fatalf("measured %d calls (%v) and %d tokens, want at least %d, %d tokens each", res.Succeeded, res.ErrorSamples, res.OutputTokensTotal, b.N, chunks)
				}
			})
		}
	}
}
