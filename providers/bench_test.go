package providers

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
)

// contentChunk is a content chunk of testdata/openai_chat.sse, 219 bytes of
// JSON: the shape of nearly every event of an OpenAI stream.
const contentChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`

// benchStream builds an OpenAI stream of n content chunks framed as the
// real API frames them, between a role chunk and the finish, usage and
// [DONE] events of testdata/openai_chat.sse.
func benchStream(tb testing.TB, n int) []byte {
	tb.Helper()
	fixture, err := os.ReadFile("testdata/openai_chat.sse")
	if err != nil {
		tb.Fatal(err)
	}
	events := bytes.SplitAfter(fixture, []byte("\n\n"))
	var b bytes.Buffer
	b.Write(events[0]) // role
	for range n {
		b.WriteString("data: " + contentChunk + "\n\n")
	}
	for _, ev := range events[3:] { // finish, usage, [DONE]
		b.Write(ev)
	}
	return b.Bytes()
}

// BenchmarkSSEReader reads the events of a 1000-chunk stream; one op is one
// event.
func BenchmarkSSEReader(b *testing.B) {
	body := benchStream(b, 1000)
	br := bytes.NewReader(body)
	r := NewSSEReader(br)
	b.SetBytes(int64(len(body) / 1003))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !r.Scan() {
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
			br.Reset(body)
			r.Reset(br)
			if !r.Scan() {
				b.Fatal("empty stream")
			}
		}
	}
}

// benchDecode decodes the stream of benchStream with the OpenAI codec,
// readSize bytes a Read at most (0: as many as asked for).
func benchDecode(b *testing.B, readSize int) {
	benchDecoder(b, (&OpenAI{APIKey: "sk-bench"}).NewDecoder(), "text/event-stream; charset=utf-8", benchStream(b, 1000),
		len(contentChunk)+len("data: \n\n"), readSize)
}

// BenchmarkOpenAIDecodeStream decodes a 1000-chunk OpenAI stream read with
// 32 KiB reads; one op is one event (1000 of every 1003 carry text), so
// ns/op and allocs/op are per text event.
func BenchmarkOpenAIDecodeStream(b *testing.B) { benchDecode(b, 0) }

// BenchmarkOpenAIDecodeStreamSplit is BenchmarkOpenAIDecodeStream with the
// body delivered 7 bytes per Read: the worst case of a server that flushes
// tiny writes, where every event takes dozens of Reads.
func BenchmarkOpenAIDecodeStreamSplit(b *testing.B) { benchDecode(b, 7) }

// BenchmarkOpenAIDecodeChunk decodes one content chunk (JSON only, no SSE
// framing): the JSON cursor's share of a text event. "escaped" has escapes
// in its text (\u00e9, \n, \").
func BenchmarkOpenAIDecodeChunk(b *testing.B) {
	for _, tc := range []struct{ name, chunk string }{
		{"plain", contentChunk},
		{"escaped", strings.Replace(contentChunk, `" world"`, `" caf\u00e9\n\"x\""`, 1)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dec := (&OpenAI{}).NewDecoder().(*openAIDecoder)
			dec.resp = &http.Response{StatusCode: 200}
			chunk := []byte(tc.chunk)
			var d Delta
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			for range b.N {
				if err := dec.decode(chunk, &d); err != nil || len(dec.text) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
