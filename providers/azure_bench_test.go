package providers

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// famBenchDecode decodes body, a stream of which nearly every event
// carries text, over and over with one decoder; one op is one event, so
// ns/op and allocs/op are per text event. Reads are of up to 32 KiB.
func famBenchDecode(b *testing.B, dec Decoder, ct string, body []byte, eventBytes int) {
	br := bytes.NewReader(body)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(br)}
	req := &Request{Stream: true}
	if err := dec.Reset(resp, req); err != nil {
		b.Fatal(err)
	}
	var d Delta
	text := 0
	b.SetBytes(int64(eventBytes))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		err := dec.Next(&d)
		if err == io.EOF {
			br.Reset(body)
			if err := dec.Reset(resp, req); err != nil {
				b.Fatal(err)
			}
			err = dec.Next(&d)
		}
		if err != nil {
			b.Fatal(err)
		}
		if d.HasOutput() {
			text++
		}
	}
	b.StopTimer()
	if b.N > 10 && text < b.N*9/10 {
		b.Fatalf("only %d of %d events carried text", text, b.N)
	}
}

// azureContentEvent is a content event of an Azure stream, with the
// content_filter_results Azure puts on every choice.
const azureContentEvent = `data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":" world"},"finish_reason":null,"index":0,"logprobs":null}],"created":1727000000,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_a"}` + "\n\n"

// BenchmarkAzureDecodeStream decodes an Azure stream of 1000 content
// events between the fixture's filter prelude and role chunk and its
// finish, filter trailer and [DONE]; one op is one event.
func BenchmarkAzureDecodeStream(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "azure.sse"), []byte("\n\n"))
	var body bytes.Buffer
	body.Write(ev[0])
	body.Write(ev[1])
	for range 1000 {
		body.WriteString(azureContentEvent)
	}
	for _, e := range ev[3:] {
		body.Write(e)
	}
	famBenchDecode(b, (&Azure{APIKey: "k"}).NewDecoder(), "text/event-stream", body.Bytes(), len(azureContentEvent))
}
