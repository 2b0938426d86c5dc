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
// reads of a stream of 1,000 OpenAI chunks, one per read: the op is the
// whole call through the transport minus the same reads without it, so
// that ns/chunk and allocs/op are the transport's own.
func BenchmarkTransportRead(b *testing.B) {
	const chunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n"
	const chunks = 1000
	body := strings.Repeat(chunk, chunks) + "data: [DONE]\n\n"
	for _, bare := range []bool{true, false} {
		name := "transport"
		var c *http.Client
		tr := &lens.Transport{Base: sseBase{body}}
		if bare {
			name, c = "bare", &http.Client{Transport: sseBase{body}}
		} else {
			c = tr.Client()
		}
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 4096)
			b.ReportAllocs()
			for range b.N {
				resp, err := c.Post("http://mem.test/v1/chat/completions", "application/json", nil)
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
			if !bare && tr.Result().Succeeded == 0 {
				b.Fatal("nothing measured")
			}
		})
	}
}
