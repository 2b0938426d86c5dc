package fake

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected bytes below are written from the fixture cohere.sse of
// the API's documented wire format.
const (
	cohereStartFmt = "event: message-start\ndata: {\"id\":%s,\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}\n\n" +
		"event: content-start\ndata: {\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}\n\n"
	cohereDeltaFmt = "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":%s}}}}\n\n"
	cohereEndFmt   = "event: content-end\ndata: {\"type\":\"content-end\",\"index\":0}\n\n" +
		"event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":%s,\"usage\":{\"billed_units\":{\"input_tokens\":%d,\"output_tokens\":%d},\"tokens\":{\"input_tokens\":%d,\"output_tokens\":%d}}}}\n\n" +
		"data: [DONE]\n\n"
	cohereResponseFmt = `{"id":%s,"finish_reason":%s,"message":{"role":"assistant","content":[{"type":"text","text":%s}]},"usage":{"billed_units":{"input_tokens":%d,"output_tokens":%d},"tokens":{"input_tokens":%d,"output_tokens":%d}}}`
)

func TestCohereStream(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		body   string
		chunks []int
		finish string
		prompt int
	}{
		{"fixture shape with p and k", Config{OutputTokens: 2, Seed: 1}, `{"model":"command-a-03-2025","messages":[{"role":"user","content":"Hello, how are you today?"}],"stream":true,"temperature":0.3,"p":0.75,"k":40}`, []int{1, 1}, "COMPLETE", 7},
		{"max_tokens", Config{OutputTokens: 9, Seed: 1}, `{"model":"command-a-03-2025","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"max_tokens":3}`, []int{1, 1, 1}, "MAX_TOKENS", 3},
		{"tokens per chunk", Config{OutputTokens: 3, TokensPerChunk: 2, Seed: 2}, `{"model":"command-a-03-2025","messages":[{"role":"user","content":"hi"}],"stream":true}`, []int{2, 1}, "COMPLETE", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw, rec := streamed(t, tt.cfg, post, "/v2/chat", tt.body, "text/event-stream")
			n := sum(tt.chunks)
			words := Tokens(tt.cfg.Seed, 0, n)
			var want strings.Builder
			fmt.Fprintf(&want, cohereStartFmt, quote(rec.ID))
			i := 0
			for _, c := range tt.chunks {
				fmt.Fprintf(&want, cohereDeltaFmt, quote(strings.Join(words[i:i+c], "")))
				i += c
			}
			fmt.Fprintf(&want, cohereEndFmt, quote(tt.finish), tt.prompt, n, tt.prompt, n)
			assert.Equal(t, want.String(), raw)
			for _, line := range strings.Split(raw, "\n") {
				if strings.HasPrefix(line, "data") {
					assert.True(t, strings.HasPrefix(line, "data: "), "cohere-go needs the space: %q", line)
				}
			}
			assert.Regexp(t, `^[0-9A-Za-z]{24}$`, rec.ID)
			assert.Equal(t, "req_"+rec.ID, resp.Header.Get("X-Request-Id"))
			assert.Equal(t, tt.finish, rec.FinishReason)
			assert.Equal(t, tt.prompt, rec.PromptTokens)
			assert.Len(t, rec.Sent, len(tt.chunks))
		})
	}
}

func TestCohereResponse(t *testing.T) {
	s := NewServer(Config{OutputTokens: 4, Seed: 3, TTFT: Fixed(2 * time.Millisecond), Record: true})
	defer s.Close()
	resp := post(t, s.Client(), s.URL+"/v2/chat", `{"model":"command-a-03-2025","messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	rec := s.Records()[0]
	assert.Equal(t, fmt.Sprintf(cohereResponseFmt, quote(rec.ID), quote("COMPLETE"), quote(strings.Join(Tokens(3, 0, 4), "")), 7, 4, 7, 4), body)
	assert.Equal(t, []time.Duration{2 * time.Millisecond}, rec.Scheduled)
}

func TestCohereErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body, message string
	}{
		{"invalid JSON", `{"model":`, "invalid request: the body is not valid JSON"},
		{"not an object", `"hi"`, "invalid request: the body must be a JSON object"},
		{"missing model", `{` + msgs + `}`, "invalid request: model must be specified"},
		{"no messages", `{"model":"c"}`, "invalid request: messages must not be empty"},
		{"top_p", `{"model":"c",` + msgs + `,"top_p":0.9}`, "invalid request: unknown field: parameter top_p is not a valid field"},
		{"top_k", `{"model":"c",` + msgs + `,"top_k":5}`, "invalid request: unknown field: parameter top_k is not a valid field"},
		{"p too high", `{"model":"c",` + msgs + `,"p":1}`, "invalid request: p must be between 0.01 and 0.99"},
		{"k fractional", `{"model":"c",` + msgs + `,"k":2.5}`, "invalid request: k must be an integer between 0 and 500"},
		{"k too high", `{"model":"c",` + msgs + `,"k":501}`, "invalid request: k must be an integer between 0 and 500"},
		{"max_tokens 0", `{"model":"c",` + msgs + `,"max_tokens":0}`, "invalid request: max_tokens must be at least 1"},
		{"max_tokens type", `{"model":"c",` + msgs + `,"max_tokens":"5"}`, "invalid request: max_tokens must be integer"},
		{"bad role", `{"model":"c","messages":[{"role":"bot","content":"hi"}]}`, "invalid request: messages[0].role must be one of system, user, assistant, tool"},
	}
	s := NewServer(Config{})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := postRejected(t, s.Client(), s.URL+"/v2/chat", tt.body, "application/json")
			assert.Equal(t, `{"message":`+quote(tt.message)+`}`, body)
		})
	}
	// p and k at their bounds are fine.
	resp := post(t, s.Client(), s.URL+"/v2/chat", `{"model":"c",`+msgs+`,"p":0.01,"k":500}`)
	readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
