package providers

import (
	"bytes"
	"testing"
)

// Benchmarks of the Generic decoder on the ready-made configurations; one
// op is one event, 1000 of every 1001 (or 1003) carrying text.

const (
	ollamaTextLine = `{"model":"llama3.2","created_at":"2024-07-22T20:33:28.223648Z","message":{"role":"assistant","content":" world"},"done":false}` + "\n"
	tgiTextEvent   = `data:{"index":2,"token":{"id":3186,"text":" world","logprob":-0.21,"special":false},"generated_text":null,"details":null}` + "\n\n"
)

// BenchmarkGenericDecodeOllama decodes Ollama's native NDJSON stream.
func BenchmarkGenericDecodeOllama(b *testing.B) {
	lines := bytes.SplitAfter(readFixture(b, "ollama_chat.ndjson"), []byte("\n"))
	var body bytes.Buffer
	for range 1000 {
		body.WriteString(ollamaTextLine)
	}
	body.Write(lines[3]) // done
	benchDecoder(b, genericOllama().NewDecoder(), "application/x-ndjson", body.Bytes(), len(ollamaTextLine), 0)
}

// BenchmarkGenericDecodeTGI decodes TGI's native SSE stream.
func BenchmarkGenericDecodeTGI(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "tgi_generate_stream.sse"), []byte("\n\n"))
	var body bytes.Buffer
	for range 1000 {
		body.WriteString(tgiTextEvent)
	}
	body.Write(ev[2])
	benchDecoder(b, genericTGI().NewDecoder(), "text/event-stream", body.Bytes(), len(tgiTextEvent), 0)
}

// BenchmarkGenericDecodeOpenAIChat decodes the stream of
// BenchmarkOpenAIDecodeStream with Generic paths instead of the OpenAI
// codec, for comparison.
func BenchmarkGenericDecodeOpenAIChat(b *testing.B) {
	benchDecoder(b, genericOpenAI().NewDecoder(), "text/event-stream", benchStream(b, 1000), len(contentChunk)+len("data: \n\n"), 0)
}
