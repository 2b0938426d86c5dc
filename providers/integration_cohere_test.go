package providers

import (
	"cmp"
	"os"
	"testing"
)

// TestIntegrationCohere sends real requests to the Cohere API. It runs only
// when COHERE_API_KEY is set (it spends a few tokens); the model is
// $LENS_TEST_COHERE_MODEL, or command-r7b-12-2024.
func TestIntegrationCohere(t *testing.T) {
	if os.Getenv("COHERE_API_KEY") == "" {
		t.Skip("set COHERE_API_KEY to run the Cohere integration test")
	}
	runLiveChecks(t, liveCase{
		p:      &Cohere{},
		bad:    &Cohere{APIKey: "co-not-a-real-key-0123456789abcdef"},
		model:  cmp.Or(os.Getenv("LENS_TEST_COHERE_MODEL"), "command-r7b-12-2024"),
		finish: "COMPLETE|MAX_TOKENS",
	})
}
