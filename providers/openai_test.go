package providers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// openAIHello is what openai_chat.sse decodes to, and so its variants in
// line ends, BOM, comments and end marker.
var openAIHello = decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true,
	Finish: "stop", Outputs: 2, Deltas: 5, Err: io.EOF}

var openAIFixtures = []codecFixture{
	{"openai_chat.sse", openAIHello},
	{"openai_chat_crlf.sse", openAIHello},
	{"openai_chat_cr.sse", openAIHello},
	{"openai_chat_bom.sse", openAIHello},
	{"keepalive_comments.sse", openAIHello},
	{"no_done.sse", openAIHello},
	{"eof_mid_event.sse", decoded{Text: "Hello world", Outputs: 2, Deltas: 3, Err: io.EOF}},
	// Usage in every chunk as a running total: the last one, not the sum.
	{"vllm_usage_every_chunk.sse", decoded{Text: "Hi there", Usage: Usage{InputTokens: 5, OutputTokens: 2}, HasUsage: true,
		Finish: "stop", Outputs: 1, Deltas: 3, Err: io.EOF}},
	{"tgi_nospace.sse", decoded{Text: "Hello", Finish: "stop", Outputs: 2, Deltas: 3, Err: io.EOF}},
	{"multiline_data.sse", decoded{Text: "Hello there", Finish: "length", Outputs: 2, Deltas: 3, Err: io.EOF}},
	// timings.predicted_n stands in for the missing usage.
	{"llamacpp_done_no_blank.sse", decoded{Text: "Answer", Reasoning: "Thinking.", Usage: Usage{InputTokens: 11, OutputTokens: 4},
		HasUsage: true, Finish: "stop", Outputs: 3, Deltas: 5, Err: io.EOF}},
	// Usage on the finish chunk wins over timings.
	{"llamacpp_usage_on_finish.sse", decoded{Text: "Hi", Usage: Usage{InputTokens: 6, OutputTokens: 1}, HasUsage: true,
		Finish: "stop", Outputs: 1, Deltas: 3, Err: io.EOF}},
	{"ollama_reasoning.sse", decoded{Text: "Yes", Reasoning: "Let me think.", Usage: Usage{InputTokens: 12, OutputTokens: 9},
		HasUsage: true, Finish: "stop", Outputs: 3, Deltas: 5, Err: io.EOF}},
	{"openai_tool_calls.sse", decoded{ToolArgs: `{"city":"Paris"}`, Usage: Usage{InputTokens: 80, OutputTokens: 17, CachedTokens: 64},
		HasUsage: true, Finish: "tool_calls", Outputs: 2, Deltas: 5, Err: io.EOF}},
	{"escapes.sse", decoded{Text: "line1\nline2 \"q\" café 😀 /\\\t", Usage: Usage{InputTokens: 3, OutputTokens: 5, ReasoningTokens: 2, CachedTokens: 1},
		HasUsage: true, Finish: "stop", Outputs: 3, Deltas: 3, Err: io.EOF}},
	{"azure.sse", decoded{Text: "Hello", Finish: "stop", Outputs: 1, Deltas: 5, Err: io.EOF}},
	{"openai_error_chunk.sse", decoded{Text: "Hello", Outputs: 1, Deltas: 2, Err: &APIError{Provider: "openai", StatusCode: 200,
		InStream: true, Type: "server_error", Message: "The server had an error while processing your request. Sorry about that!"}}},
	{"vllm_object_error.sse", decoded{Deltas: 1, Err: &APIError{Provider: "openai", StatusCode: 200, InStream: true,
		Type: "BadRequestError", Code: "400", Message: "This model's maximum context length is 4096 tokens."}}},
	{"llamacpp_error_line.sse", decoded{Text: "Par", Outputs: 1, Deltas: 2, Err: &APIError{Provider: "openai", StatusCode: 200,
		InStream: true, Type: "server_error", Code: "500", Message: "the context size was exceeded"}}},
}

func TestOpenAIDecodeFixtures(t *testing.T) { checkCodecFixtures(t, &OpenAI{}, openAIFixtures) }

// TestOpenAIDecodeSplits decodes each fixture with one byte per Read and
// split into two Reads at every byte, and expects what a single Read gives.
func TestOpenAIDecodeSplits(t *testing.T) { checkCodecSplits(t, &OpenAI{}, openAIFixtures) }

func TestOpenAIDecodeNonStreaming(t *testing.T) {
	body := string(readFixture(t, "openai_chat.json"))
	want := decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true,
		Finish: "stop", Outputs: 1, Deltas: 1, Err: io.EOF}
	dec := (&OpenAI{}).NewDecoder()
	checkJSONBody(t, dec, body, want, "application/vnd.example+json")
	// Reasoning and tool calls in a message; content as parts.
	msg := `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],` +
		`"reasoning_content":"r","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
	checkDecoded(t, "message", decodeAll(t, dec, jsonBody(msg), &Request{}),
		decoded{Text: "ab", Reasoning: "r", ToolArgs: "{}", Finish: "tool_calls", Outputs: 1, Deltas: 1, Err: io.EOF})
}

// TestOpenAIDecodeBadInput covers the inputs that must end in an error and
// the odd ones that must not.
func TestOpenAIDecodeBadInput(t *testing.T) {
	checkDecodeCases(t, (&OpenAI{}).NewDecoder(), &Request{Stream: true}, []decodeCase{
		{"empty stream", sseBody(""),
			decoded{Err: &DecodeError{Err: errEmptyStream}}, []string{"openai: decode: stream ended before its first event"}},
		{"only keep-alives", sseBody(": ping\n\n: ping\n\n"),
			decoded{Err: &DecodeError{Err: errEmptyStream}}, nil},
		{"cut inside the first event", sseBody(": ping\n\ndata: {\"choices\":[{\"del"),
			decoded{Err: &DecodeError{Err: errEmptyStream}}, nil},
		{"only [DONE]", sseBody("data: [DONE]\n\n"), decoded{Err: io.EOF}, nil},
		{"invalid JSON", sseBody("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[}\n\n"),
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &DecodeError{}},
			[]string{"openai: decode event 2: invalid character '}' looking for beginning of value at offset 12", `(in "{\"choices\":[}")`}},
		{"truncated JSON in a terminated event", sseBody("data: {\"choices\":[\n\n"),
			decoded{Err: &DecodeError{}}, []string{"event 1: unexpected end of JSON input"}},
		{"array chunk", sseBody("data: [1,2]\n\n"),
			decoded{Err: &DecodeError{}}, []string{"chunk is not a JSON object"}},
		{"empty data", sseBody("data:\n\n"),
			decoded{Err: &DecodeError{}}, []string{"unexpected end of JSON input"}},
		{"null chunk", sseBody("data: null\n\ndata: [DONE]\n\n"),
			decoded{Deltas: 1, Err: io.EOF}, nil},
		{"error null is not an error", sseBody(`data: {"error":null,"choices":[{"delta":{"content":"x"}}]}` + "\n\n"),
			decoded{Text: "x", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"error string chunk", sseBody(`data: {"error":"overloaded"}` + "\n\n"),
			decoded{Err: &APIError{Provider: "openai", StatusCode: 200, InStream: true, Message: "overloaded"}},
			[]string{"openai: error in stream: overloaded"}},
		{"[DONE] without space", sseBody("data:[DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n"),
			decoded{Err: io.EOF}, nil},
		{"line over the limit", sseResponse(io.MultiReader(strings.NewReader("data: \""), &io.LimitedReader{R: &endless{b: 'a'}, N: DefaultMaxLineBytes + 1})),
			decoded{Err: &DecodeError{Err: ErrLineTooLong}}, []string{"openai: decode event 1: sse: line exceeds the length limit"}},
		{"html for a stream", recorded(200, http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			"<!DOCTYPE html><html><head><title>Captive portal</title><style>p{}</style></head><body><p>Please log in</p></body></html>"),
			decoded{Err: &DecodeError{}}, []string{`unexpected content type "text/html; charset=utf-8" in a 200 response`, "Captive portal Please log in"}},
		{"text for a stream", recorded(200, http.Header{"Content-Type": {"text/plain"}}, "hello"),
			decoded{Err: &DecodeError{}}, []string{`"text/plain"`, `(in "hello")`}},
		{"error JSON for a stream", recorded(200, http.Header{"Content-Type": {"application/json"}},
			`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}`),
			decoded{Err: &APIError{Provider: "openai", StatusCode: 200, InStream: true, Type: "invalid_request_error", Message: "bad"}}, nil},
		{"empty JSON body", jsonBody(" "),
			decoded{Err: &DecodeError{}}, []string{"empty response body"}},
		{"no content type is SSE for a stream", recorded(200, http.Header{}, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"),
			decoded{Text: "x", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
	})
}

func TestOpenAIDecodeReadError(t *testing.T) {
	events := bytes.SplitAfter(readFixture(t, "openai_chat.sse"), []byte("\n\n"))
	body := io.MultiReader(bytes.NewReader(bytes.Join(events[:2], nil)), strings.NewReader("data: {\"ch"),
		iotest.ErrReader(io.ErrUnexpectedEOF))
	got := decodeAll(t, (&OpenAI{}).NewDecoder(), sseResponse(body), &Request{Stream: true})
	if !errors.Is(got.Err, io.ErrUnexpectedEOF) || got.Deltas != 2 {
		t.Fatalf("got %d deltas, %v", got.Deltas, got.Err)
	}
	if want := "openai: read event 3: unexpected EOF"; got.Err.Error() != want {
		t.Errorf("error %q, want %q", got.Err, want)
	}
}

func TestOpenAIStatusErrors(t *testing.T) {
	type hdr = http.Header
	json := hdr{"Content-Type": {"application/json"}, "X-Request-Id": {"req_abc"}}
	checkCodecStatusErrors(t, &OpenAI{}, []codecStatus{
		{name: "400 unsupported parameter", status: 400, header: json,
			body: `{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`,
			want: APIError{Type: "invalid_request_error", Code: "unsupported_parameter", RequestID: "req_abc",
				Message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."},
			errString: "openai: 400 Bad Request (invalid_request_error/unsupported_parameter): Unsupported parameter"},
		{name: "401 invalid key", status: 401, header: json,
			body: `{"error":{"message":"Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			want: APIError{Type: "invalid_request_error", Code: "invalid_api_key", RequestID: "req_abc",
				Message: "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."}},
		{name: "404 model not found", status: 404, header: json,
			body: "{\"error\":{\"message\":\"The model `x` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}",
			want: APIError{Type: "invalid_request_error", Code: "model_not_found", RequestID: "req_abc",
				Message: "The model `x` does not exist or you do not have access to it."}},
		{name: "429 rate limit", status: 429,
			header: hdr{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}, "Retry-After": {"20"}, "X-Ratelimit-Remaining-Requests": {"0"}},
			body:   `{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-1 on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			want: APIError{Type: "requests", Code: "rate_limit_exceeded", RequestID: "req_1", RetryAfter: 20 * time.Second,
				Message: "Rate limit reached for gpt-4o-mini in organization org-1 on requests per min (RPM): Limit 3, Used 3, Requested 1."},
			rateLimited: true, retryable: true, errString: "[retry after 20s]"},
		{name: "429 insufficient quota", status: 429, header: json,
			body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			want: APIError{Type: "insufficient_quota", Code: "insufficient_quota", RequestID: "req_abc",
				Message: "You exceeded your current quota, please check your plan and billing details."},
			rateLimited: true, quota: true, errString: "openai: 429 Too Many Requests (insufficient_quota): You exceeded"},
		{name: "500 server error", status: 500, header: json,
			body: `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`,
			want: APIError{Type: "server_error", RequestID: "req_abc",
				Message: "The server had an error while processing your request. Sorry about that!"},
			retryable: true},
		{name: "503 overloaded", status: 503,
			header:     hdr{"Content-Type": {"application/json"}, "Retry-After-Ms": {"1500"}},
			body:       `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`,
			want:       APIError{Type: "server_error", RetryAfter: 1500 * time.Millisecond, Message: "The engine is currently overloaded, please try again later"},
			overloaded: true, retryable: true},
		{name: "Azure 429", status: 429, header: hdr{"Content-Type": {"application/json"}, "Retry-After": {"3"}},
			body: `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 3 seconds."}}`,
			want: APIError{Code: "429", RetryAfter: 3 * time.Second,
				Message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 3 seconds."},
			rateLimited: true, retryable: true, errString: "openai: 429 Too Many Requests (429): Requests"},
		{name: "vLLM top-level error", status: 400, header: json,
			body: `{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":null,"code":400}`,
			want: APIError{Type: "BadRequestError", Code: "400", RequestID: "req_abc", Message: "max_tokens must be at least 1, got 0."}},
		{name: "vLLM integer code", status: 404, header: json,
			body: `{"error":{"message":"The model 'x' does not exist.","type":"NotFoundError","param":"model","code":404}}`,
			want: APIError{Type: "NotFoundError", Code: "404", RequestID: "req_abc", Message: "The model 'x' does not exist."}},
		{name: "Ollama not found", status: 404, header: json,
			body: `{"error":{"message":"model \"llama9\" not found, try pulling it first","type":"not_found_error","param":null,"code":null}}`,
			want: APIError{Type: "not_found_error", RequestID: "req_abc", Message: `model "llama9" not found, try pulling it first`}},
		{name: "FastAPI detail", status: 404, header: json, body: `{"detail":"Not Found"}`,
			want: APIError{RequestID: "req_abc", Message: "Not Found"}},
		{name: "FastAPI validation", status: 422, header: json,
			body: `{"detail":[{"loc":["body","model"],"msg":"field required","type":"value_error.missing"}]}`,
			want: APIError{RequestID: "req_abc", Message: `[{"loc":["body","model"],"msg":"field required","type":"value_error.missing"}]`}},
		{name: "error string", status: 500, header: json, body: `{"error":"something broke"}`,
			want: APIError{RequestID: "req_abc", Message: "something broke"}, retryable: true},
		{name: "HTML page", status: 502, header: hdr{"Content-Type": {"text/html"}},
			body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n",
			want: APIError{Message: "502 Bad Gateway 502 Bad Gateway nginx/1.25.3"}, retryable: true,
			errString: "openai: 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx/1.25.3"},
		{name: "empty body", status: 503, want: APIError{}, overloaded: true, retryable: true,
			errString: "openai: 503 Service Unavailable"},
		{name: "JSON that is not an error", status: 500, header: json, body: `{"status":"down"}`,
			want: APIError{RequestID: "req_abc", Message: `{"status":"down"}`}, retryable: true},
		{name: "long text", status: 500, body: strings.Repeat("é", 1<<20),
			want: APIError{Message: strings.Repeat("é", maxMessage/2) + "..."}, retryable: true},
	})
}

// TestOpenAIStatusErrorBodyCapped checks that an error body is read only up
// to the cap, whatever its size.
func TestOpenAIStatusErrorBodyCapped(t *testing.T) {
	src := &endless{b: 'x'}
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(src)}
	err := (&OpenAI{}).NewDecoder().Reset(resp, &Request{})
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Message) > maxMessage+3 {
		t.Fatalf("Reset: %v", err)
	}
	if src.n > maxErrorBody+1 {
		t.Errorf("read %d bytes of an error body, cap %d", src.n, maxErrorBody)
	}
}

// TestOpenAIKeyNeverInErrors makes servers echo the API key in every place
// a message or snippet comes from, and checks that no error shows it.
func TestOpenAIKeyNeverInErrors(t *testing.T) {
	const key = "sk-proj-S3CRETKEY0123456789abcdef"
	const envKey = "sk-env-ANOTHERSECRET987654321"
	t.Setenv("OPENAI_API_KEY", envKey)
	for _, p := range []*OpenAI{{APIKey: key}, {}} {
		secret := p.APIKey
		if secret == "" {
			secret = envKey
		}
		req, err := p.NewRequest(context.Background(), &Request{Model: "m", Prompt: "hi", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		if req.Header.Get("Authorization") != "Bearer "+secret {
			t.Fatalf("Authorization header %q", req.Header.Get("Authorization"))
		}
		sse := http.Header{"Content-Type": {"text/event-stream"}}
		checkRedacted(t, p, req, map[string]*http.Response{
			"JSON status error": recorded(401, http.Header{"Content-Type": {"application/json"}},
				`{"error":{"message":"Incorrect API key provided: `+secret+`.","type":"invalid_request_error","code":"invalid_api_key"}}`),
			"HTML status error": recorded(403, nil, "<html><body>Forbidden for "+secret+"</body></html>"),
			"text status error": recorded(500, nil, "bad key "+secret),
			"error chunk":       recorded(200, sse, `data: {"error":{"message":"key `+secret+` revoked"}}`+"\n\n"),
			"error line":        recorded(200, sse, `error: {"code":401,"message":"key `+secret+`"}`+"\n\n"),
			"vLLM error chunk":  recorded(200, sse, `data: {"object":"error","message":"`+secret+`"}`+"\n\n"),
			"invalid chunk":     recorded(200, sse, `data: {"echo":"`+secret+`"`+"\n\n"),
			"wrong content type": recorded(200, http.Header{"Content-Type": {"text/html"}},
				"<html>"+secret+"</html>"),
			"non-JSON 200 body": jsonBody("oops " + secret),
			// The key straddles where a snippet (120 bytes) or a message
			// (200 bytes) is cut: redaction must come before the cut.
			"key across the snippet cut": recorded(200, sse,
				`data: {"pad":"`+strings.Repeat("x", 95)+`","k":"`+secret+`"`+"\n\n"),
			"key across the message cut": recorded(500, http.Header{"Content-Type": {"text/html"}},
				"<html><body>"+strings.Repeat("y", 190)+" "+secret+"</body></html>"),
			"key across the detail cut": recorded(422, http.Header{"Content-Type": {"application/json"}},
				`{"detail":[{"msg":"`+strings.Repeat("z", 180)+secret+`"}]}`),
		}, secret, 9)
	}
}

func TestOpenAINewRequest(t *testing.T) {
	temp, topP, topK := 0.5, 0.9, 40
	checkCodecRequests(t, false, []codecRequest{
		{name: "OpenAI streaming", p: &OpenAI{APIKey: "sk-test-123456789"},
			r:   &Request{Model: "gpt-4o-mini", Prompt: "hi", System: "be brief", MaxTokens: 16, Stream: true},
			url: "https://api.openai.com/v1/chat/completions",
			headers: map[string]string{"Authorization": "Bearer sk-test-123456789", "Content-Type": "application/json",
				"Accept": "text/event-stream", "Accept-Encoding": "identity"},
			body: `{"max_completion_tokens":16,"messages":[{"content":"be brief","role":"system"},{"content":"hi","role":"user"}],` +
				`"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`},
		{name: "local server, no key, not streaming", p: &OpenAI{BaseURL: "http://127.0.0.1:8080/v1/"},
			r:   &Request{Model: "m", Prompt: "hi", MaxTokens: 8, Temperature: &temp, TopP: &topP, TopK: &topK},
			url: "http://127.0.0.1:8080/v1/chat/completions", headers: map[string]string{"Accept": "application/json"},
			body:     `{"max_tokens":8,"messages":[{"content":"hi","role":"user"}],"model":"m","temperature":0.5,"top_k":40,"top_p":0.9}`,
			noHeader: []string{"Authorization", "OpenAI-Organization"}},
		{name: "explicit OpenAI host", p: &OpenAI{BaseURL: "https://API.openai.com/v1", APIKey: "k"},
			r: &Request{Model: "o3", Prompt: "hi", MaxTokens: 5}, url: "https://API.openai.com/v1/chat/completions",
			body: `{"max_completion_tokens":5,"messages":[{"content":"hi","role":"user"}],"model":"o3"}`},
		{name: "override field, no usage, extras", p: &OpenAI{BaseURL: "http://h:1/v1", MaxTokensField: "max_completion_tokens",
			NoStreamUsage: true, Organization: "org-1", Project: "proj-1",
			Header: http.Header{"x-custom": {"a", "b"}, "Accept-Encoding": {"gzip"}}},
			r: &Request{Prompt: "hi", MaxTokens: 3, Stream: true,
				Extra: map[string]any{"stream_options": map[string]any{"include_usage": false}, "seed": 7, "stream": true}},
			url: "http://h:1/v1/chat/completions",
			headers: map[string]string{"OpenAI-Organization": "org-1", "OpenAI-Project": "proj-1", "X-Custom": "a",
				"Accept-Encoding": "gzip"},
			body: `{"max_completion_tokens":3,"messages":[{"content":"hi","role":"user"}],"seed":7,"stream":true,"stream_options":{"include_usage":false}}`},
		{name: "max_tokens forced for OpenAI", p: &OpenAI{MaxTokensField: "max_tokens", APIKey: "k"},
			r: &Request{Model: "gpt-4o", Prompt: "hi", MaxTokens: 2}, url: "https://api.openai.com/v1/chat/completions",
			body: `{"max_tokens":2,"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o"}`},
	})
}

func TestOpenAINewRequestErrors(t *testing.T) {
	checkRequestErrors(t, "pass", []requestError{
		{&OpenAI{BaseURL: "127.0.0.1:8080/v1"}, &Request{}, "openai: build request: BaseURL is not an absolute http or https URL"},
		{&OpenAI{BaseURL: "ftp://h/v1"}, &Request{}, "openai: build request: BaseURL is not an absolute http or https URL"},
		{&OpenAI{BaseURL: "/v1"}, &Request{}, "openai: build request: BaseURL is not an absolute http or https URL"},
		{&OpenAI{BaseURL: "http://user:pass@h/v1\x7f"}, &Request{}, "openai: build request: BaseURL is not an absolute http or https URL"},
		{&OpenAI{MaxTokensField: "max_output_tokens", Label: "vllm"}, &Request{}, `vllm: build request: MaxTokensField "max_output_tokens"`},
		{&OpenAI{}, nil, "openai: build request: nil Request"},
		{&OpenAI{}, &Request{Extra: map[string]any{"f": func() {}}}, `openai: encode request body: extra field "f"`},
	})
}

// TestOpenAIDecodeStamps checks in virtual time that each Delta's At is the
// time of the Read that completed its event, and that events delivered in
// one Read share it.
func TestOpenAIDecodeStamps(t *testing.T) {
	checkCodecStamps(t, &OpenAI{}, "openai_chat.sse", "\n\n", codecStamps{
		writes: func(ev [][]byte) []timedWrite {
			return []timedWrite{
				{20 * ms, string(ev[0])},                       // role
				{250 * ms, string(ev[1])},                      // "Hello"
				{265 * ms, string(ev[2][:40])},                 // " world", first part
				{290 * ms, string(ev[2][40:]) + string(ev[3])}, // rest of " world" and the finish chunk
				{300 * ms, string(ev[4]) + string(ev[5])},      // usage and [DONE]
			}
		},
		want: []time.Duration{20 * ms, 250 * ms, 290 * ms, 290 * ms, 300 * ms},
	})
}

// TestOpenAIDecodeNonStreamingStamp checks that a whole body's Delta is
// stamped when the body was fully read.
func TestOpenAIDecodeNonStreamingStamp(t *testing.T) {
	checkCodecBodyStamp(t, &OpenAI{}, "openai_chat.json", 100)
}

// TestOpenAIDecoderReuse runs one decoder over responses of every kind in
// turn, checking that nothing of one leaks into the next.
func TestOpenAIDecoderReuse(t *testing.T) {
	dec := (&OpenAI{}).NewDecoder()
	for range 2 {
		if got := decodeFixture(t, dec, "llamacpp_usage_on_finish.sse"); got.Usage.OutputTokens != 1 {
			t.Fatalf("llama usage %+v", got.Usage)
		}
		// The previous response's usage must not hide this one's timings.
		if got := decodeFixture(t, dec, "llamacpp_done_no_blank.sse"); got.Usage.OutputTokens != 4 {
			t.Fatalf("timings usage %+v", got.Usage)
		}
		checkStatusError(t, dec, 429, `{"error":{"message":"slow down"}}`,
			&APIError{Provider: "openai", StatusCode: 429, Message: "slow down"})
		checkWholeBody(t, dec, "openai_chat.json", "Hello world")
	}
}

// FuzzOpenAIChunk checks decode, which walks the usual chunk with
// decodeFast, against decodeCursor, the cursor's walk alone: for any chunk,
// after any other (usage seen earlier changes what timings count for), both
// must give the same Delta, the same error (type and text) and the same
// state.
func FuzzOpenAIChunk(f *testing.F) {
	addSeeds(f, func(b []byte) {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				f.Add([]byte(nil), bytes.TrimSpace(data))
			}
		}
	}, "openai*.sse", "vllm*.sse", "llamacpp*.sse", "azure*.sse", "ollama_reasoning.sse", "tgi*.sse")
	addSeeds(f, func(b []byte) { f.Add([]byte(nil), b) }, "openai_chat.json", "azure_chat.json")
	for _, chunk := range openAIFastCases {
		f.Add([]byte(nil), []byte(chunk))
	}
	f.Add([]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`), []byte(`{"timings":{"prompt_n":3,"predicted_n":4}}`))
	f.Fuzz(func(t *testing.T, prev, chunk []byte) {
		fast := newOpenAIDecoder("openai", secrets{}, openAIRequestID)
		slow := newOpenAIDecoder("openai", secrets{}, openAIRequestID)
		at := time.Unix(1700000000, 0)
		for _, d := range []*openAIDecoder{fast, slow} {
			d.resp = &http.Response{StatusCode: 200, Header: http.Header{}}
		}
		for _, doc := range [][]byte{prev, chunk} {
			got, want := Delta{At: at}, Delta{At: at}
			err := fast.decode(doc, &got)
			wantErr := slow.decodeCursor(doc, &want)
			if (err == nil) != (wantErr == nil) || err != nil && (reflect.TypeOf(err) != reflect.TypeOf(wantErr) || err.Error() != wantErr.Error()) {
				t.Fatalf("%q: error %v, want %v", doc, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\n got %+v\nwant %+v", doc, got, want)
			}
			if fast.sawUsage != slow.sawUsage {
				t.Fatalf("%q: sawUsage %v, want %v", doc, fast.sawUsage, slow.sawUsage)
			}
		}
	})
}

// openAIFastCases are chunks at the edges of what decodeFast reads itself.
var openAIFastCases = []string{
	contentChunk,
	` { "id" : "x" , "choices" : [ { "delta" : { "content" : "a\nb" } } ] } `,
	`{"choices":[{"delta":{"content":"a","refusal":"b","reasoning_content":"r","reasoning":"s"}}]}`,
	`{"choices":[{"delta":{"reasoning":"","reasoning_content":"r"},"finish_reason":"length"}]}`,
	`{"choices":[{"delta":{"content":[{"type":"text","text":"p"}]}},{"message":{"content":"q"}},7,null]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}}]}`,
	`{"choices":[{"delta":{"function_call":{"name":"f","arguments":"x"}}}]}`,
	`{"choices":[{"delta":null,"finish_reason":"st\u006fp"}],"usage":{"prompt_tokens":9,"completion_tokens":2}}`,
	`{"choices":{},"usage":7,"timings":{"prompt_n":1,"predicted_n":2},"x":[1,{"y":[true,false,null]},-0.5e3]}`,
	`{"object":"error","message":"bad"}`,
	`{"object":"err\u006fr","message":"bad"}`,
	`{"object":7}`,
	`{"error":null,"choices":[]}`,
	`{"error":{"message":"x"}}`,
	`{"k\u0065y":1}`,
	`{}`, `{"choices":[{}]}`, `{"choices":[{"delta":{}}]}`, `null`, `[]`, `"x"`,
	`{"choices":[{"delta":{"content":"a"}}]} x`, `{"choices":[{"delta":{"content":"a"}}]`, `{"choices":[{"delta":{"content":"\x"}}]}`,
	`{"choices":[{"delta":{"content":"a"},}]}`, `{"choices":[{"delta":{"content":"a"}},]}`, `{"a":1,}`, `{"a" 1}`, `{"a":tru}`, `{"a":01}`,
	`{"a":` + strings.Repeat("[", jsonMaxDepth) + strings.Repeat("]", jsonMaxDepth) + `}`,
	`{"choices":[{"delta":{"x":` + strings.Repeat("[", jsonMaxDepth-4) + strings.Repeat("]", jsonMaxDepth-4) + `}}]}`,
	`{"choices":[{"delta":{"x":` + strings.Repeat("[", jsonMaxDepth-3) + strings.Repeat("]", jsonMaxDepth-3) + `}}]}`,
}

// TestOpenAIChunkCases runs FuzzOpenAIChunk's check on openAIFastCases, so
// that plain go test covers them.
func TestOpenAIChunkCases(t *testing.T) {
	for _, chunk := range openAIFastCases {
		fast := newOpenAIDecoder("openai", secrets{}, openAIRequestID)
		slow := newOpenAIDecoder("openai", secrets{}, openAIRequestID)
		fast.resp = &http.Response{StatusCode: 200, Header: http.Header{}}
		slow.resp = fast.resp
		got, want := Delta{At: time.Unix(1, 0)}, Delta{At: time.Unix(1, 0)}
		err, wantErr := fast.decode([]byte(chunk), &got), slow.decodeCursor([]byte(chunk), &want)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v, %v\nwant %+v, %v", chunk, got, err, want, wantErr)
		}
	}
}

// TestOpenAIDecodeFastReads checks that decodeFast reads the usual chunks
// itself, leaving to decodeCursor only what it must.
func TestOpenAIDecodeFastReads(t *testing.T) {
	for chunk, want := range map[string]bool{
		contentChunk: true,
		strings.Replace(contentChunk, `" world"`, `" caf\u00e9\n"`, 1): true,
		openAIFastCases[1]:                   true,
		openAIFastCases[7]:                   true, // usage object, escaped finish reason
		`{"object":"error","message":"bad"}`: false,
		`{"error":{"message":"x"}}`:          false,
		`{"k\u0065y":1}`:                     false,
		`{"a":1,}`:                           false,
	} {
		d := newOpenAIDecoder("openai", secrets{}, openAIRequestID)
		d.c.reset([]byte(chunk))
		var out Delta
		if got := d.decodeFast([]byte(chunk), &out); got != want {
			t.Errorf("%s: decodeFast = %v, want %v", chunk, got, want)
		}
	}
}
