package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
)

// summarize is "application code": it streams a summary from an
// OpenAI-compatible API with openai-go and returns its text.
func summarize(ctx context.Context, client openai.Client, text string) (string, error) {
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Summarize: " + text)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		return "", err
	}
	return acc.Choices[0].Message.Content, stream.Close()
}

// TestSummarizerSLO is the README's example, as written there: a test
// that holds the p95 TTFT of an openai-go call made by application code
// to an SLO, through lenstest.Observe.
func TestSummarizerSLO(t *testing.T) {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 8})
	defer srv.Close()

	obs := lenstest.Observe(t)
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("sk-test"), option.WithHTTPClient(obs.Client()))
	for range 60 {
		_, err := summarize(t.Context(), client, "the quarterly report")
		require.NoError(t, err)
	}
	res := obs.Result()
	res.AssertP95TTFT(500 * time.Millisecond)

	// What the example relies on: every call measured, none failed.
	assert.EqualValues(t, 60, res.Succeeded)
	assert.Equal(t, "gpt-4o-mini", res.Model, "the model the calls named")
	assert.EqualValues(t, 60, res.TTFT.Count())
	assert.GreaterOrEqual(t, res.TTFT.Min(), 10*time.Millisecond-10*time.Microsecond)
}
