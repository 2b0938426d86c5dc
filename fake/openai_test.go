package fake

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected bytes below are written from the fixtures of
// the API's documented wire format, not from the fake's own rendering code.
const (
	chunkFmt      = `data: {"id":%s,"object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":%s,"choices":[%s]%s}` + "\n\n"
	roleChoice    = `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`
	contentChoice = `{"index":0,"delta":{"content":%s},"logprobs":null,"finish_reason":null}`
	finishChoice  = `{"index":0,"delta":{},"logprobs":null,"finish_reason":%s}`
	usageChunkFmt = `data: {"id":%s,"object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":%s,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}` + "\n\n"
	completionFmt = `{"id":%s,"object":"chat.completion","created":%d,"model":%s,"choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":%s}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d},"service_tier":"default","system_fingerprint":%s}`
)

// token matches one token of the fake's text.
var token = regexp.MustCompile(`^ ?[A-Z]?[a-z]+\.?$`)

func TestChatCompletionsStreamBytes(t *testing.T) {
	const prompt = `"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello, how are you "},{"type":"text","text":"today?"}]}]`
	// 9 + 19 + 6 = 34 characters: 9 prompt tokens.
	tests := []struct {
		name     string
		cfg      Config
		body     string
		usage    bool
		chunks   []int // tokens per content chunk
		finish   string
		model    string
		wantText int // output tokens
	}{
		{
			name:   "include_usage",
			cfg:    Config{OutputTokens: 3, Seed: 7},
			body:   `{"model":"gpt-4o-mini",` + prompt + `,"stream":true,"stream_options":{"include_usage":true}}`,
			usage:  true,
			chunks: []int{1, 1, 1},
			finish: "stop",
			model:  "gpt-4o-mini",
		},
		{
			name:   "no stream_options",
			cfg:    Config{OutputTokens: 3, Seed: 7},
			body:   `{"model":"gpt-4o-mini",` + prompt + `,"stream":true}`,
			chunks: []int{1, 1, 1},
			finish: "stop",
			model:  "gpt-4o-mini",
		},
		{
			name:   "include_usage false",
			cfg:    Config{OutputTokens: 2, Seed: 8},
			body:   `{"model":"gpt-4o-mini",` + prompt + `,"stream":true,"stream_options":{"include_usage":false}}`,
			chunks: []int{1, 1},
			finish: "stop",
			model:  "gpt-4o-mini",
		},
		{
			name:   "tokens per chunk",
			cfg:    Config{OutputTokens: 5, TokensPerChunk: 2, Seed: 9},
			body:   `{"model":"m",` + prompt + `,"stream":true,"stream_options":{"include_usage":true}}`,
			usage:  true,
			chunks: []int{2, 2, 1},
			finish: "stop",
			model:  "m",
		},
		{
			name:   "max_completion_tokens",
			cfg:    Config{OutputTokens: 8, Seed: 10},
			body:   `{"model":"m",` + prompt + `,"max_completion_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`,
			usage:  true,
			chunks: []int{1, 1, 1},
			finish: "length",
			model:  "m",
		},
		{
			name:   "max_tokens",
			cfg:    Config{OutputTokens: 8, Seed: 10},
			body:   `{"model":"m",` + prompt + `,"max_tokens":2,"stream":true}`,
			chunks: []int{1, 1},
			finish: "length",
			model:  "m",
		},
		{
			name:   "model from Config",
			cfg:    Config{OutputTokens: 1, Model: "configured"},
			body:   `{` + prompt + `,"stream":true}`,
			chunks: []int{1},
			finish: "stop",
			model:  "configured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw, rec := streamed(t, tt.cfg, post, "/v1/chat/completions", tt.body, "text/event-stream; charset=utf-8")
			assert.Empty(t, resp.Header.Get("Content-Length"))
			events := readEvents(t, strings.NewReader(raw))
			require.NotEmpty(t, events)
			fp, _ := decode(t, events[0].Data)["system_fingerprint"].(string)
			assert.Regexp(t, `^fp_[0-9a-f]{10}$`, fp)

			n := sum(tt.chunks)
			words := Tokens(tt.cfg.Seed, 0, n)
			for _, w := range words {
				assert.Regexp(t, token, w)
			}
			usageNull := ""
			if tt.usage {
				usageNull = `,"usage":null`
			}
			id, created, model := quote(rec.ID), rec.Start.Unix(), quote(tt.model)
			var want strings.Builder
			fmt.Fprintf(&want, chunkFmt, id, created, model, quote(fp), roleChoice, usageNull)
			i := 0
			for _, c := range tt.chunks {
				text := strings.Join(words[i:i+c], "")
				i += c
				fmt.Fprintf(&want, chunkFmt, id, created, model, quote(fp), fmt.Sprintf(contentChoice, quote(text)), usageNull)
			}
			fmt.Fprintf(&want, chunkFmt, id, created, model, quote(fp), fmt.Sprintf(finishChoice, quote(tt.finish)), usageNull)
			if tt.usage {
				fmt.Fprintf(&want, usageChunkFmt, id, created, model, quote(fp), 9, n, 9+n)
			}
			want.WriteString("data: [DONE]\n\n")
			assert.Equal(t, want.String(), raw)

			assert.Regexp(t, `^chatcmpl-[0-9A-Za-z]{24}$`, rec.ID)
			assert.Equal(t, "req_"+strings.TrimPrefix(rec.ID, "chatcmpl-"), resp.Header.Get("X-Request-Id"))
			assert.Equal(t, strings.Join(words, ""), rec.Text)
			assert.Equal(t, n, rec.OutputTokens)
			assert.Equal(t, 9, rec.PromptTokens)
			assert.Equal(t, tt.finish, rec.FinishReason)
			assert.Equal(t, tt.model, rec.Model)
			assert.True(t, rec.Stream)
			assert.Equal(t, http.StatusOK, rec.Status)
			assert.Len(t, rec.Scheduled, len(tt.chunks))
			assert.Len(t, rec.Sent, len(tt.chunks))
			assert.NoError(t, rec.Err)
			for _, ev := range events {
				assert.NotContains(t, decodeOrNil(ev.Data), "error", "a top-level error key aborts openai-go")
			}
		})
	}
}

// decodeOrNil decodes a JSON object, or returns nil for anything else
// ([DONE]).
func decodeOrNil(s string) map[string]any {
	if !strings.HasPrefix(s, "{") {
		return nil
	}
	var m map[string]any
	if err := jsonUnmarshal(s, &m); err != nil {
		return nil
	}
	return m
}

func TestChatCompletionsNonStream(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		body   string
		n      int
		finish string
	}{
		{"stop", Config{OutputTokens: 4, Seed: 3}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, 4, "stop"},
		{"stream false", Config{OutputTokens: 4, Seed: 3}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false}`, 4, "stop"},
		{"max_tokens", Config{OutputTokens: 4, Seed: 3}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`, 2, "length"},
		{"max_tokens above", Config{OutputTokens: 4, Seed: 3}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":40}`, 4, "stop"},
		{"both limits", Config{OutputTokens: 9, Seed: 3}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"max_completion_tokens":3}`, 3, "length"},
		{"default OutputTokens", Config{}, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, 16, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Record = true
			tt.cfg.TTFT = Fixed(20 * time.Millisecond)
			tt.cfg.ITL = Fixed(2 * time.Millisecond)
			s := NewServer(tt.cfg)
			defer s.Close()

			resp := post(t, s.Client(), s.URL+"/v1/chat/completions", tt.body)
			body := readAll(t, resp)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, int64(len(body)), resp.ContentLength)

			rec := s.Records()[0]
			text := strings.Join(Tokens(tt.cfg.Seed, 0, tt.n), "")
			fp, _ := decode(t, body)["system_fingerprint"].(string)
			want := fmt.Sprintf(completionFmt, quote(rec.ID), rec.Start.Unix(), quote("gpt-4o-mini"), quote(text), quote(tt.finish), 1, tt.n, 1+tt.n, quote(fp))
			assert.Equal(t, want, body)

			assert.False(t, rec.Stream)
			assert.Equal(t, tt.n, rec.OutputTokens)
			assert.Equal(t, tt.finish, rec.FinishReason)
			// The body goes out when the stream's last content chunk would.
			last := 20*time.Millisecond + time.Duration(tt.n-1)*2*time.Millisecond
			require.Equal(t, []time.Duration{last}, rec.Scheduled)
			require.Len(t, rec.Sent, 1)
			assert.False(t, rec.Sent[0].Before(rec.Start.Add(last)), "body sent %v before it was due", rec.Start.Add(last).Sub(rec.Sent[0]))
		})
	}
}

func TestChatCompletionsBadRequest(t *testing.T) {
	tests := []struct {
		name, body   string
		param, code  any // nil for JSON null
		wantInMesage string
	}{
		{"invalid JSON", `{"model":`, nil, nil, "could not parse the JSON body"},
		{"empty body", ``, nil, nil, "could not parse the JSON body"},
		{"array", `[{"model":"m"}]`, nil, nil, "could not parse the JSON body"},
		{"null", `null`, nil, nil, "could not parse the JSON body"},
		{"missing model", `{"messages":[{"role":"user","content":"hi"}]}`, nil, nil, "you must provide a model parameter"},
		{"missing messages", `{"model":"m"}`, "messages", "missing_required_parameter", "'messages'"},
		{"empty messages", `{"model":"m","messages":[]}`, "messages", "empty_array", "empty array"},
		{"missing role", `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role", "missing_required_parameter", "messages[0].role"},
		{"content type", `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content", "invalid_type", "messages[0].content"},
		{"model type", `{"model":5,"messages":[{"role":"user","content":"hi"}]}`, "model", "invalid_type", "Invalid type for 'model': expected a string, but got an integer instead."},
		{"messages type", `{"model":"m","messages":"hi"}`, "messages", "invalid_type", "Invalid type for 'messages': expected an array, but got a string instead."},
		{"max_tokens type", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}`, "max_tokens", "invalid_type", "expected an integer, but got a decimal instead."},
		{"max_tokens 0", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}`, "max_tokens", "integer_below_min_value", "'max_tokens'"},
		{"max_completion_tokens -1", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":-1}`, "max_completion_tokens", "integer_below_min_value", "got -1"},
		{"stream_options without stream", `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`, "stream_options", nil, "only allowed when 'stream' is enabled"},
	}
	s := NewServer(Config{Record: true})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := postRejected(t, s.Client(), s.URL+"/v1/chat/completions", tt.body, "application/json")
			assertOpenAIError(t, body, "invalid_request_error", tt.param, tt.code, tt.wantInMesage)
		})
	}
	for _, rec := range s.Records() {
		assert.Equal(t, http.StatusBadRequest, rec.Status)
		assert.Empty(t, rec.Scheduled)
		assert.Empty(t, rec.ID)
	}
}

// assertOpenAIError checks OpenAI's error envelope: exactly
// {"error":{"message","type","param","code"}}.
func assertOpenAIError(t *testing.T, body, typ string, param, code any, inMessage string) {
	t.Helper()
	m := decode(t, body)
	require.Len(t, m, 1, body)
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, body)
	assert.Len(t, e, 4, body)
	assert.Contains(t, e["message"], inMessage)
	assert.Equal(t, typ, e["type"])
	assert.Contains(t, e, "param")
	assert.Contains(t, e, "code")
	assert.Equal(t, param, e["param"])
	assert.Equal(t, code, e["code"])
}

func TestModels(t *testing.T) {
	for _, tt := range []struct{ model, want string }{{"", DefaultModel}, {"gpt-4o-mini", "gpt-4o-mini"}} {
		s := NewServer(Config{Model: tt.model})
		resp, err := s.Client().Get(s.URL + "/v1/models")
		require.NoError(t, err)
		body := readAll(t, resp)
		s.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.JSONEq(t, fmt.Sprintf(`{"object":"list","data":[{"id":%s,"object":"model","created":1700000000,"owned_by":"fake"}]}`, quote(tt.want)), body)
	}
}

func TestUnknownPath(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPost, "/v1/nope", http.StatusNotFound, ""},
		{http.MethodGet, "/", http.StatusNotFound, ""},
		{http.MethodPost, "/v1/chat/completions/", http.StatusNotFound, ""},
		{http.MethodGet, "/v1/chat/completions", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/v1/models", http.StatusMethodNotAllowed, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(`{}`))
			require.NoError(t, err)
			resp, err := s.Client().Do(req)
			require.NoError(t, err)
			body := readAll(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, tt.allow, resp.Header.Get("Allow"))
			assertOpenAIError(t, body, "invalid_request_error", nil, nil, fmt.Sprintf("(%s %s)", tt.method, tt.path))
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		ok            bool
		params        map[string]string
	}{
		{"/v1/chat/completions", "/v1/chat/completions", true, nil},
		{"/v1/chat/completions", "/v1/chat/completions/", false, nil},
		{"/v1/chat/completions", "/v1/chat", false, nil},
		{"/v1/chat/completions", "v1/chat/completions", false, nil},
		{"/v1/models", "/v1/models/x", false, nil},
		{"/openai/deployments/{deployment}/chat/completions", "/openai/deployments/gpt4o/chat/completions", true, map[string]string{"deployment": "gpt4o"}},
		{"/openai/deployments/{deployment}/chat/completions", "/openai/deployments//chat/completions", false, nil},
		{"/v1beta/models/{model}:streamGenerateContent", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", true, map[string]string{"model": "gemini-2.0-flash"}},
		{"/v1beta/models/{model}:streamGenerateContent", "/v1beta/models/gemini-2.0-flash:generateContent", false, nil},
		{"/v1beta/models/{model}:streamGenerateContent", "/v1beta/models/:streamGenerateContent", false, nil},
		{"/a/x{id}y/b", "/a/x1y/b", true, map[string]string{"id": "1"}},
	}
	for _, tt := range tests {
		params, ok := match(tt.pattern, tt.path)
		assert.Equal(t, tt.ok, ok, "%s %s", tt.pattern, tt.path)
		assert.Equal(t, tt.params, params, "%s %s", tt.pattern, tt.path)
	}
}
