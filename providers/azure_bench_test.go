package providers

import (
	"bytes"
	"testing"
)

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
	benchDecoder(b, (&Azure{APIKey: "k"}).NewDecoder(), "text/event-stream", body.Bytes(), len(azureContentEvent), 0)
}
