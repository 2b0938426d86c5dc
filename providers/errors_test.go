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
