package providers

import (
	"testing"
)

// FuzzAzureDecoder decodes an arbitrary body under a content type and
// status picked by the fuzzer, once in one Read and once split into
// arbitrary Reads: see fuzzResponses.decode.

func FuzzAzureDecoder(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{5, 1, 31}, true) }, "azure*.sse", "openai_chat.sse", "openai_error_chunk.sse")
	addSeeds(f, func(b []byte) { f.Add(b, uint8(1), []byte{}, false) }, "azure*.json")
	f.Add([]byte(`{"error":{"code":"429","message":"Please retry after 3 seconds."}}`), uint8(1+3*8), []byte{}, true)
	f.Add([]byte(`{"error":{"code":"content_filter","message":"m","innererror":{"code":"ResponsibleAIPolicyViolation"}}}`), uint8(1+4*8), []byte{}, true)
	f.Add([]byte(`{"error":{"code":"DeploymentNotFound","message":"m"}}`), uint8(1+5*8), []byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, pick uint8, sizes []byte, stream bool) {
		dec := (&Azure{BaseURL: "https://r.openai.azure.com", APIKey: "azure-fuzz-0123456789"}).NewDecoder()
		famFuzz.decode(t, dec, body, pick, sizes, stream)
	})
}
