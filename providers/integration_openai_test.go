package providers

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Integration tests against the real OpenAI API. They run only when
// OPENAI_API_KEY is set (OPENAI_MODEL picks the model, gpt-4o-mini by
// default), and cost a few hundred tokens.

// famHTTPClient sends without a compression layer, as the engine does.
var famHTTPClient = &http.Client{Transport: &http.Transport{DisableCompression: true, ForceAttemptHTTP2: true}}

// famSend sends p's request for r and decodes the answer to its
// end.
func famSend(t *testing.T, p Provider, r *Request) decoded {
	t.Helper()
	var got decoded
	famDo(t, 90*time.Second, func(ctx context.Context) (*http.Request, error) { return p.NewRequest(ctx, r) },
		func(resp *http.Response) { got = decodeAll(t, p.NewDecoder(), resp, r) })
	return got
}

// famListModels sends ml's list-models request.
func famListModels(t *testing.T, ml ModelLister) (ids []string, err error) {
	t.Helper()
	famDo(t, 60*time.Second, ml.NewListModelsRequest, func(resp *http.Response) { ids, err = ml.DecodeModels(resp) })
	return ids, err
}

// famDo sends the request that build makes, within timeout, and hands
// the response to read; the body is closed after.
func famDo(t *testing.T, timeout time.Duration, build func(context.Context) (*http.Request, error), read func(*http.Response)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := famHTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	read(resp)
}

// famCheckAnswer fails unless got is a clean answer with text, usage and
// one of the finish reasons.
func famCheckAnswer(t *testing.T, got decoded, stream bool, finish ...string) {
	t.Helper()
	if got.Err != io.EOF {
		t.Fatalf("ended with %v", got.Err)
	}
	if got.Text == "" || got.Outputs == 0 {
		t.Errorf("no text: %+v", got)
	}
	if !got.HasUsage || got.Usage.InputTokens == 0 || got.Usage.OutputTokens == 0 {
		t.Errorf("no usage: %+v", got)
	}
	if stream && got.Deltas < 2 {
		t.Errorf("a stream of %d events", got.Deltas)
	}
	ok := false
	for _, f := range finish {
		ok = ok || got.Finish == f
	}
	if !ok {
		t.Errorf("finish %q, want one of %q", got.Finish, finish)
	}
	t.Logf("%q: %d events, %d with output, usage %+v, finish %q", got.Text, got.Deltas, got.Outputs, got.Usage, got.Finish)
}

// famBadKey checks that a wrong key gives a 401 *APIError that
// does not show the key.
func famBadKey(t *testing.T, p Provider, r *Request, key string) {
	t.Helper()
	got := famSend(t, p, r)
	var ae *APIError
	if !errors.As(got.Err, &ae) || ae.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %v", got.Err)
	}
	if strings.Contains(got.Err.Error(), key[:12]) {
		t.Errorf("the error shows the key: %v", got.Err)
	}
}

func TestIntegrationOpenAI(t *testing.T) {
	if os.Getenv("OPENAI_API_KEY") == "" {
		t.Skip("set OPENAI_API_KEY to run the OpenAI integration tests (chat completions, Responses API, list models); OPENAI_MODEL picks the model")
	}
	model := cmp.Or(os.Getenv("OPENAI_MODEL"), "gpt-4o-mini")
	prompt := "Count from 1 to 5, separated by spaces."
	t.Run("chat stream", func(t *testing.T) {
		got := famSend(t, &OpenAI{}, &Request{Model: model, Prompt: prompt, MaxTokens: 64, Stream: true})
		famCheckAnswer(t, got, true, "stop", "length")
	})
	t.Run("chat", func(t *testing.T) {
		got := famSend(t, &OpenAI{}, &Request{Model: model, Prompt: prompt, MaxTokens: 64})
		famCheckAnswer(t, got, false, "stop", "length")
	})
	t.Run("responses stream", func(t *testing.T) {
		got := famSend(t, &OpenAIResponses{}, &Request{Model: model, Prompt: prompt, System: "Answer tersely.",
			MaxTokens: 64, Stream: true, Extra: map[string]any{"store": false}})
		famCheckAnswer(t, got, true, "completed", "max_output_tokens")
	})
	t.Run("responses", func(t *testing.T) {
		got := famSend(t, &OpenAIResponses{}, &Request{Model: model, Prompt: prompt, MaxTokens: 64,
			Extra: map[string]any{"store": false}})
		famCheckAnswer(t, got, false, "completed", "max_output_tokens")
	})
	t.Run("responses max_output_tokens", func(t *testing.T) {
		got := famSend(t, &OpenAIResponses{}, &Request{Model: model, Prompt: "Write a long poem about the sea.",
			MaxTokens: 16, Stream: true, Extra: map[string]any{"store": false}})
		famCheckAnswer(t, got, true, "max_output_tokens")
	})
	t.Run("list models", func(t *testing.T) {
		for _, ml := range []ModelLister{&OpenAI{}, &OpenAIResponses{}} {
			ids, err := famListModels(t, ml)
			if err != nil || len(ids) == 0 {
				t.Fatalf("%T: %d models, %v", ml, len(ids), err)
			}
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		const bad = "sk-lens-integration-wrong-key-0000"
		famBadKey(t, &OpenAI{APIKey: bad}, &Request{Model: model, Prompt: "hi", MaxTokens: 8, Stream: true}, bad)
		famBadKey(t, &OpenAIResponses{APIKey: bad}, &Request{Model: model, Prompt: "hi", MaxTokens: 16, Stream: true}, bad)
	})
}
