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

// The expected bytes below are written from the fixture of
// the API's documented wire format (anthropic.sse and the non-streaming
// message).
const (
	anthropicStartFmt = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":%s,\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":%s,\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":%d,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
	anthropicBlock    = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n"
	anthropicDeltaFmt = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":%s}}\n\n"
	anthropicEndFmt   = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":%s,\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	anthropicMessageFmt = `{"id":%s,"type":"message","role":"assistant","model":%s,"content":[{"type":"text","text":%s}],"stop_reason":%s,"stop_sequence":null,"usage":{"input_tokens":%d,"output_tokens":%d}}`
)

// postAnthropic sends body to /v1/messages with Anthropic's headers.
func postAnthropic(t testing.TB, client *http.Client, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", "sk-ant-test")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := client.Do(req)
	require.NoError(t, err)
	return resp
}

func TestAnthropicStream(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		body   string
		chunks []int
		stop   string
		model  string
		prompt int
	}{
		{
			name:   "fixture shape",
			cfg:    Config{OutputTokens: 2, Seed: 3},
			body:   `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello, how are you today? Tell me."}],"stream":true}`,
			chunks: []int{1, 1}, stop: "end_turn", model: "claude-sonnet-4-5", prompt: 9,
		},
		{
			name:   "max_tokens cuts the output",
			cfg:    Config{OutputTokens: 8, Seed: 3},
			body:   `{"model":"claude-sonnet-4-5","max_tokens":3,"messages":[{"role":"user","content":"hi"}],"stream":true}`,
			chunks: []int{1, 1, 1}, stop: "max_tokens", model: "claude-sonnet-4-5", prompt: 1,
		},
		{
			name:   "tokens per chunk, system and blocks",
			cfg:    Config{OutputTokens: 5, TokensPerChunk: 2, Seed: 4},
			body:   `{"model":"claude-haiku","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hello, how are you "}]},{"role":"assistant","content":"today?"}],"stream":true}`,
			chunks: []int{2, 2, 1}, stop: "end_turn", model: "claude-haiku", prompt: 9,
		},
		{
			name:   "model from Config",
			cfg:    Config{OutputTokens: 1, Model: "configured"},
			body:   `{"max_tokens":100,"messages":[{"role":"user","content":"hi"}],"stream":true}`,
			chunks: []int{1}, stop: "end_turn", model: "configured", prompt: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw, rec := streamed(t, tt.cfg, postAnthropic, "/v1/messages", tt.body, "text/event-stream; charset=utf-8")
			n := sum(tt.chunks)
			words := Tokens(tt.cfg.Seed, 0, n)
			var want strings.Builder
			fmt.Fprintf(&want, anthropicStartFmt, quote(rec.ID), quote(tt.model), tt.prompt)
			want.WriteString(anthropicBlock)
			i := 0
			for _, c := range tt.chunks {
				fmt.Fprintf(&want, anthropicDeltaFmt, quote(strings.Join(words[i:i+c], "")))
				i += c
			}
			fmt.Fprintf(&want, anthropicEndFmt, quote(tt.stop), n)
			assert.Equal(t, want.String(), raw)

			for _, ev := range readEvents(t, strings.NewReader(raw)) {
				assert.Equal(t, ev.Event, decode(t, ev.Data)["type"], "the event line names the data's type")
			}
			assert.Regexp(t, `^msg_[0-9A-Za-z]{24}$`, rec.ID)
			assert.Equal(t, "req_"+strings.TrimPrefix(rec.ID, "msg_"), resp.Header.Get("Request-Id"))
			assert.Equal(t, strings.Join(words, ""), rec.Text)
			assert.Equal(t, n, rec.OutputTokens)
			assert.Equal(t, tt.prompt, rec.PromptTokens)
			assert.Equal(t, tt.stop, rec.FinishReason)
			assert.Equal(t, tt.model, rec.Model)
			assert.True(t, rec.Stream)
			assert.Len(t, rec.Sent, len(tt.chunks))
			assert.Equal(t, 6+len(tt.chunks), rec.Events)
		})
	}
}

func TestAnthropicMessage(t *testing.T) {
	s := NewServer(Config{OutputTokens: 4, Seed: 5, TTFT: Fixed(10 * time.Millisecond), ITL: Fixed(time.Millisecond), Record: true})
	defer s.Close()
	resp := postAnthropic(t, s.Client(), s.URL+"/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":3,"messages":[{"role":"user","content":"Hello, how are you today? Tell me."}]}`)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, int64(len(body)), resp.ContentLength)
	rec := s.Records()[0]
	want := fmt.Sprintf(anthropicMessageFmt, quote(rec.ID), quote("claude-sonnet-4-5"), quote(strings.Join(Tokens(5, 0, 3), "")), quote("max_tokens"), 9, 3)
	assert.Equal(t, want, body)
	assert.Equal(t, []time.Duration{12 * time.Millisecond}, rec.Scheduled)
	assert.False(t, rec.Stream)
}

func TestAnthropicErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name    string
		header  map[string]string
		body    string
		status  int
		typ     string
		message string
	}{
		{"no key", nil, `{"model":"m","max_tokens":5,` + msgs + `}`, 401, "authentication_error", "x-api-key header is required"},
		{"empty key", map[string]string{"X-Api-Key": ""}, `{"model":"m","max_tokens":5,` + msgs + `}`, 401, "authentication_error", "x-api-key header is required"},
		{"invalid JSON", nil, `{"model":`, 400, "invalid_request_error", "The request body is not valid JSON."},
		{"missing model", nil, `{"max_tokens":5,` + msgs + `}`, 400, "invalid_request_error", "model: Field required"},
		{"missing max_tokens", nil, `{"model":"m",` + msgs + `}`, 400, "invalid_request_error", "max_tokens: Field required"},
		{"max_tokens 0", nil, `{"model":"m","max_tokens":0,` + msgs + `}`, 400, "invalid_request_error", "max_tokens: Input should be greater than or equal to 1"},
		{"max_tokens type", nil, `{"model":"m","max_tokens":"5",` + msgs + `}`, 400, "invalid_request_error", "max_tokens: Input should be an integer"},
		{"missing messages", nil, `{"model":"m","max_tokens":5}`, 400, "invalid_request_error", "messages: Field required"},
		{"empty messages", nil, `{"model":"m","max_tokens":5,"messages":[]}`, 400, "invalid_request_error", "messages: at least one message is required"},
		{"system role", nil, `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, 400, "invalid_request_error", "messages.0.role: Input should be 'user' or 'assistant'"},
		{"content type", nil, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":5}]}`, 400, "invalid_request_error", "messages.0.content: Input should be a valid string or a list of content blocks"},
	}
	s := NewServer(Config{})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/messages", strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Anthropic-Version", "2023-06-01")
			if tt.header == nil && tt.status != 401 {
				req.Header.Set("X-Api-Key", "sk-ant-test")
			}
			for k, v := range tt.header {
				req.Header[k] = []string{v}
			}
			resp, body, err := exchangeRaw(t, s.Client(), req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			id := resp.Header.Get("Request-Id")
			assert.Regexp(t, `^req_[0-9A-Za-z]{24}$`, id)
			assert.Equal(t, fmt.Sprintf(`{"type":"error","error":{"type":%s,"message":%s},"request_id":%s}`, quote(tt.typ), quote(tt.message), quote(id)), body)
		})
	}

	// Authorization alone is a key too.
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/messages", strings.NewReader(`{"model":"m","max_tokens":5,`+msgs+`}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-ant-oat")
	resp, _, err := exchangeRaw(t, s.Client(), req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAnthropicModels(t *testing.T) {
	s := NewServer(Config{Model: "claude-sonnet-4-5"})
	defer s.Close()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/v1/models", nil)
	require.NoError(t, err)
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("X-Api-Key", "sk-ant-test")
	resp, body, err := exchangeRaw(t, s.Client(), req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Request-Id"))
	assert.JSONEq(t, `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"claude-sonnet-4-5","created_at":"2025-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}`, body)
}
