package providers

import (
	"cmp"
	"context"
	"os"
	"testing"
)

// TestIntegrationAnthropic sends real requests to the Anthropic API. It
// runs only when ANTHROPIC_API_KEY is set (it spends a few tokens); the
// model is $LENS_TEST_ANTHROPIC_MODEL, or claude-haiku-4-5.
func TestIntegrationAnthropic(t *testing.T) {
	if os.Getenv("ANTHROPIC_API_KEY") == "" {
		t.Skip("set ANTHROPIC_API_KEY to run the Anthropic integration test")
	}
	model := cmp.Or(os.Getenv("LENS_TEST_ANTHROPIC_MODEL"), "claude-haiku-4-5")
	runLiveChecks(t, liveCase{
		p:      &Anthropic{},
		bad:    &Anthropic{APIKey: "sk-ant-api03-not-a-real-key-0123456789"},
		model:  model,
		finish: "end_turn|max_tokens",
	})
	if testing.Short() {
		return
	}
	// The anthropic-version header and max_tokens default reach the API.
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	got := liveDecode(t, ctx, &Anthropic{Version: "2023-06-01"}, &Request{Model: model, Prompt: "Say OK.", Stream: true})
	if got.Text == "" {
		t.Errorf("no text: %+v", got)
	}
}
