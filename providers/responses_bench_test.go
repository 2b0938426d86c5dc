package providers

import (
	"bytes"
	"testing"
)

// responsesTextEvent is a text delta of a Responses stream, as the API
// frames it (event line and data).
const responsesTextEvent = "event: response.output_text.delta\n" +
	`data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":" world","logprobs":[]}` + "\n\n"

// BenchmarkResponsesDecodeStream decodes a Responses stream of 1000 text
// deltas between the fixture's first four and last five events; one op is
// one event.
func BenchmarkResponsesDecodeStream(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "responses.sse"), []byte("\n\n"))
	var body bytes.Buffer
	for _, e := range ev[:4] {
		body.Write(e)
	}
	for range 1000 {
		body.WriteString(responsesTextEvent)
	}
	for _, e := range ev[5:] {
		body.Write(e)
	}
	benchDecoder(b, (&OpenAIResponses{APIKey: "k"}).NewDecoder(), "text/event-stream", body.Bytes(), len(responsesTextEvent), 0)
}
