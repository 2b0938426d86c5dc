package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAPIErrorClassification(t *testing.T) {
	tests := []struct {
		name                                string
		err                                 APIError
		rateLimited, quota, over, retryable bool
	}{
		{"openai rate limit", APIError{StatusCode: 429, Type: "requests", Code: "rate_limit_exceeded"}, true, false, false, true},
		{"openai quota", APIError{StatusCode: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota"}, true, true, false, false},
		{"anthropic spend limit", APIError{StatusCode: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached"}, true, true, false, false},
		{"anthropic billing", APIError{StatusCode: 402, Type: "billing_error"}, false, true, false, false},
		{"gemini per-minute limit mentions billing", APIError{StatusCode: 429, Type: "RESOURCE_EXHAUSTED",
			Message: "You exceeded your current quota, please check your plan and billing details."}, true, false, false, true},
		{"anthropic overloaded", APIError{StatusCode: 529, Type: "overloaded_error"}, false, false, true, true},
		{"503", APIError{StatusCode: 503, Type: "server_error"}, false, false, true, true},
		{"400", APIError{StatusCode: 400, Type: "invalid_request_error"}, false, false, false, false},
		{"401", APIError{StatusCode: 401, Type: "invalid_request_error", Code: "invalid_api_key"}, false, false, false, false},
		{"408", APIError{StatusCode: 408}, false, false, false, true},
		{"in-stream overloaded", APIError{StatusCode: 200, InStream: true, Type: "overloaded_error"}, false, false, true, true},
		{"in-stream server error", APIError{StatusCode: 200, InStream: true, Type: "server_error"}, false, false, false, true},
		{"in-stream bad request", APIError{StatusCode: 200, InStream: true, Type: "invalid_request_error"}, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.rateLimited, tt.err.RateLimited(), "RateLimited")
			assert.Equal(t, tt.quota, tt.err.QuotaExhausted(), "QuotaExhausted")
			assert.Equal(t, tt.over, tt.err.Overloaded(), "Overloaded")
			assert.Equal(t, tt.retryable, tt.err.Retryable(), "Retryable")
		})
	}
}

// TestOpenAIKeyStaysWithOpenAI: the OPENAI_API_KEY fallback is sent to
// OpenAI's own API only, never to a self-hosted or third-party server.
func TestOpenAIKeyStaysWithOpenAI(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	for _, tt := range []struct {
		p    Provider
		want string
	}{
		{&OpenAI{}, "Bearer sk-from-the-environment"},
		{&OpenAI{BaseURL: "https://api.openai.com/v1"}, "Bearer sk-from-the-environment"},
		{&OpenAI{BaseURL: "http://localhost:8000/v1"}, ""},
		{&OpenAI{BaseURL: "http://localhost:8000/v1", APIKey: "local-key"}, "Bearer local-key"},
		{&OpenAIResponses{}, "Bearer sk-from-the-environment"},
		{&OpenAIResponses{BaseURL: "https://gateway.example.com/v1"}, ""},
	} {
		req, err := tt.p.NewRequest(t.Context(), &Request{Model: "m", Prompt: "hi", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("Authorization"); got != tt.want {
			t.Errorf("%T at %q: Authorization %q, want %q", tt.p, req.URL.Host, got, tt.want)
		}
	}
}
