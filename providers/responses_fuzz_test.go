package providers

import "testing"

func FuzzResponsesDecoder(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) }, "responses*.sse")
	addSeeds(f, func(b []byte) { f.Add(b, uint8(1), []byte{}, false) }, "responses*.json")
	f.Add([]byte(`data: {"delta":"x","type":"response.output_text.delta"}`+"\n\n"), uint8(0), []byte{2}, true)
	f.Add([]byte(`{"error":{"message":"x","code":"rate_limit_exceeded"}}`), uint8(1+3*8), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		dec := (&OpenAIResponses{APIKey: "sk-fuzz-0123456789"}).NewDecoder()
		famFuzz.decode(t, dec, body, pick, sizes, stream)
	})
}
