package fake

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The expected bytes below are written from the fixture azure.sse of
// the API's documented wire format: Azure's keys in alphabetical order, the
// prompt filter chunk first, content_filter_results on every choice ({} on
// the role and finish chunks), and the asynchronous filter's trailing chunk.
// The fixture's content chunk shows only "hate"; Azure sends every
// category, as the prompt filter does.
const (
	azurePromptChunk  = `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}` + "\n\n"
	azureFilter       = `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	azureTailFmt      = `],"created":%d,"id":%s,"model":%s,"object":"chat.completion.chunk","system_fingerprint":%s}` + "\n\n"
	azureRoleChoice   = `data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}`
	azureContentFmt   = `data: {"choices":[{"content_filter_results":` + azureFilter + `,"delta":{"content":%s},"finish_reason":null,"index":0,"logprobs":null}`
	azureFinishFmt    = `data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":%s,"index":0,"logprobs":null}`
	azureUsageFmt     = `data: {"choices":[],"created":%d,"id":%s,"model":%s,"object":"chat.completion.chunk","system_fingerprint":%s,"usage":{"completion_tokens":%d,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":%d,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":%d}}` + "\n\n"
	azureAsyncFmt     = `data: {"id":"","object":"","created":0,"model":"","choices":[{"index":0,"finish_reason":null,"content_filter_results":` + azureFilter + `,"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":%d}}]}` + "\n\n"
	azureCompletionFm = `{"choices":[{"content_filter_results":` + azureFilter + `,"finish_reason":%s,"index":0,"logprobs":null,"message":{"annotations":[],"content":%s,"refusal":null,"role":"assistant"}}],"created":%d,"id":%s,"model":%s,"object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}],"system_fingerprint":%s,"usage":{"completion_tokens":%d,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":%d,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":%d}}`
	azureDeployment   = "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21"
)

func TestAzureStream(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"Hello, how are you today?"}]`
	tests := []struct {
		name   string
		cfg    Config
		path   string
		body   string
		usage  bool
		n      int
		finish string
		model  string
	}{
		{"deployment names the model", Config{OutputTokens: 2, Seed: 1}, azureDeployment, `{` + msgs + `,"stream":true}`, false, 2, "stop", "my-deploy"},
		{"include_usage", Config{OutputTokens: 3, Seed: 1}, azureDeployment, `{` + msgs + `,"stream":true,"stream_options":{"include_usage":true}}`, true, 3, "stop", "my-deploy"},
		{"async filter", Config{OutputTokens: 3, Seed: 2, AzureAsyncFilter: true}, azureDeployment, `{` + msgs + `,"stream":true,"stream_options":{"include_usage":true}}`, true, 3, "stop", "my-deploy"},
		{"body model and length", Config{OutputTokens: 9, Seed: 3, AzureAsyncFilter: true}, azureDeployment, `{"model":"gpt-4o-2024-08-06",` + msgs + `,"max_tokens":4,"stream":true}`, false, 4, "length", "gpt-4o-2024-08-06"},
		{"Config.Model", Config{OutputTokens: 1, Seed: 3, Model: "gpt-4o-2024-08-06"}, azureDeployment, `{` + msgs + `,"stream":true}`, false, 1, "stop", "gpt-4o-2024-08-06"},
		{"v1 route", Config{OutputTokens: 2, Seed: 4}, "/openai/v1/chat/completions", `{"model":"gpt-4o",` + msgs + `,"stream":true}`, false, 2, "stop", "gpt-4o"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw, rec := streamed(t, tt.cfg, post, tt.path, tt.body, "text/event-stream; charset=utf-8")
			fp, _ := decode(t, readEvents(t, strings.NewReader(raw))[1].Data)["system_fingerprint"].(string)
			assert.Regexp(t, `^fp_[0-9a-f]{10}$`, fp)

			words := Tokens(tt.cfg.Seed, 0, tt.n)
			tail := fmt.Sprintf(azureTailFmt, rec.Start.Unix(), quote(rec.ID), quote(tt.model), quote(fp))
			var want strings.Builder
			want.WriteString(azurePromptChunk)
			want.WriteString(azureRoleChoice + tail)
			for _, w := range words {
				fmt.Fprintf(&want, azureContentFmt+tail, quote(w))
			}
			fmt.Fprintf(&want, azureFinishFmt+tail, quote(tt.finish))
			if tt.usage {
				fmt.Fprintf(&want, azureUsageFmt, rec.Start.Unix(), quote(rec.ID), quote(tt.model), quote(fp), tt.n, 7, 7+tt.n)
			}
			if tt.cfg.AzureAsyncFilter {
				fmt.Fprintf(&want, azureAsyncFmt, len(strings.Join(words, "")))
			}
			want.WriteString("data: [DONE]\n\n")
			assert.Equal(t, want.String(), raw)

			assert.Regexp(t, `^chatcmpl-[0-9A-Za-z]{24}$`, rec.ID)
			assert.Equal(t, "req_"+strings.TrimPrefix(rec.ID, "chatcmpl-"), resp.Header.Get("X-Request-Id"))
			assert.Equal(t, tt.finish, rec.FinishReason)
			assert.Equal(t, tt.model, rec.Model)
			assert.Equal(t, strings.Join(words, ""), rec.Text)
			assert.Len(t, rec.Sent, tt.n)
		})
	}
}

func TestAzureCompletion(t *testing.T) {
	s := NewServer(Config{OutputTokens: 3, Seed: 9, Record: true})
	defer s.Close()
	resp := post(t, s.Client(), s.URL+azureDeployment, `{"messages":[{"role":"user","content":"Hello, how are you today?"}]}`)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	rec := s.Records()[0]
	fp, _ := decode(t, body)["system_fingerprint"].(string)
	want := fmt.Sprintf(azureCompletionFm, quote("stop"), quote(strings.Join(Tokens(9, 0, 3), "")), rec.Start.Unix(), quote(rec.ID), quote("my-deploy"), quote(fp), 3, 7, 10)
	assert.Equal(t, want, body)
}

func TestAzureErrors(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	const notFound = `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}`
	tests := []struct {
		name   string
		cfg    Config
		path   string
		body   string
		status int
		want   string // the body; an OpenAI envelope's message when it starts with "openai:"
	}{
		{"no api-version", Config{}, "/openai/deployments/my-deploy/chat/completions", `{` + msgs + `}`, 404, `{"error":{"code":"404","message":"Resource not found"}}`},
		{"empty api-version", Config{}, "/openai/deployments/my-deploy/chat/completions?api-version=", `{` + msgs + `}`, 404, `{"error":{"code":"404","message":"Resource not found"}}`},
		{"unknown deployment", Config{Deployments: []string{"gpt-4o"}}, azureDeployment, `{` + msgs + `}`, 404, notFound},
		{"unknown v1 deployment", Config{Deployments: []string{"gpt-4o"}}, "/openai/v1/chat/completions", `{"model":"my-deploy",` + msgs + `}`, 404, notFound},
		{"known deployment", Config{Deployments: []string{"gpt-4o", "my-deploy"}}, azureDeployment, `{` + msgs + `}`, 200, ""},
		{"v1 without a model", Config{}, "/openai/v1/chat/completions", `{` + msgs + `}`, 400, "openai:you must provide a model parameter"},
		{"invalid JSON", Config{}, azureDeployment, `{"messages":`, 400, "openai:could not parse the JSON body"},
		{"no messages", Config{}, azureDeployment, `{}`, 400, "openai:Missing required parameter: 'messages'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(tt.cfg)
			defer s.Close()
			resp := post(t, s.Client(), s.URL+tt.path, tt.body)
			body := readAll(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, `^req_[0-9A-Za-z]{24}$`, resp.Header.Get("X-Request-Id"))
			switch {
			case tt.status == 200:
			case strings.HasPrefix(tt.want, "openai:"):
				e := decode(t, body)["error"].(map[string]any)
				assert.Equal(t, "invalid_request_error", e["type"])
				assert.Contains(t, e["message"], strings.TrimPrefix(tt.want, "openai:"))
			default:
				assert.Equal(t, tt.want, body)
			}
		})
	}
}
