package fake

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A wireFormat describes one wire format for the tests that run over all of
// them. The bytes it holds (error events, separators) are written from
// the APIs' documented wire formats, not taken from the fake's code.
type wireFormat struct {
	name       string
	path       string            // the streaming route, with its query
	unaryPath  string            // the non-streaming route
	stream     string            // a streaming request body
	unary      string            // a non-streaming request body
	header     map[string]string // headers the API needs
	sep        string            // what ends each event: "\n\n", "\r\n\r\n", or "" for Gemini's JSON array
	first      int               // the events before the first content event
	idPrefix   string            // of Record.ID
	requestID  string            // the request id header
	errorEvent func(i int) string
	done       string // what follows the error event
}

const (
	openAIErrorEvent = `data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","code":null}}` + "\n\n"
	geminiErrorEvent = `data: {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}` + "\r\n\r\n"
	geminiAlt        = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
	vertexPrefix     = "/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.0-flash"
	geminiContents   = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
)

func constEvent(s string) func(int) string { return func(int) string { return s } }

var wireFormats = []wireFormat{
	{
		name: "chat", path: "/v1/chat/completions", unaryPath: "/v1/chat/completions",
		stream: `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		unary:  `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		sep:    "\n\n", first: 1, idPrefix: "chatcmpl-", requestID: "X-Request-Id",
		errorEvent: constEvent(openAIErrorEvent), done: "data: [DONE]\n\n",
	},
	{
		name: "responses", path: "/v1/responses", unaryPath: "/v1/responses",
		stream: `{"model":"m","input":"hi","stream":true}`,
		unary:  `{"model":"m","input":"hi"}`,
		sep:    "\n\n", first: 4, idPrefix: "resp_", requestID: "X-Request-Id",
		errorEvent: func(i int) string {
			return fmt.Sprintf("event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"The server had an error while processing your request. Sorry about that!\",\"param\":null,\"sequence_number\":%d}\n\n", i)
		},
	},
	{
		name: "anthropic", path: "/v1/messages", unaryPath: "/v1/messages",
		stream: `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}],"stream":true}`,
		unary:  `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}`,
		header: map[string]string{"X-Api-Key": "sk-ant-test", "Anthropic-Version": "2023-06-01"},
		sep:    "\n\n", first: 3, idPrefix: "msg_", requestID: "Request-Id",
		errorEvent: constEvent("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"),
	},
	{
		name: "gemini", path: geminiAlt, unaryPath: "/v1beta/models/gemini-2.0-flash:generateContent",
		stream: geminiContents, unary: geminiContents,
		header: map[string]string{"X-Goog-Api-Key": "AIza-test"},
		sep:    "\r\n\r\n", requestID: "X-Request-Id",
		errorEvent: constEvent(geminiErrorEvent),
	},
	{
		name: "gemini array", path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent", unaryPath: "/v1beta/models/gemini-2.0-flash:generateContent",
		stream: geminiContents, unary: geminiContents,
		requestID: "X-Request-Id",
		errorEvent: func(i int) string {
			open := ",\r\n"
			if i == 0 {
				open = "["
			}
			return open + "{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"The model is overloaded. Please try again later.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}]"
		},
	},
	{
		name: "vertex", path: "/v1" + vertexPrefix + ":streamGenerateContent?alt=sse", unaryPath: "/v1" + vertexPrefix + ":generateContent",
		stream: geminiContents, unary: geminiContents,
		header: map[string]string{"Authorization": "Bearer ya29.test"},
		sep:    "\r\n\r\n", requestID: "X-Request-Id",
		errorEvent: constEvent(geminiErrorEvent),
	},
	{
		name: "vertex v1beta1", path: "/v1beta1" + vertexPrefix + ":streamGenerateContent?alt=sse", unaryPath: "/v1beta1" + vertexPrefix + ":generateContent",
		stream: geminiContents, unary: geminiContents,
		sep: "\r\n\r\n", requestID: "X-Request-Id",
		errorEvent: constEvent(geminiErrorEvent),
	},
	{
		name: "azure", path: "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21", unaryPath: "/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
		stream: `{"messages":[{"role":"user","content":"hi"}],"stream":true}`,
		unary:  `{"messages":[{"role":"user","content":"hi"}]}`,
		header: map[string]string{"Api-Key": "azure-test"},
		sep:    "\n\n", first: 2, idPrefix: "chatcmpl-", requestID: "X-Request-Id",
		errorEvent: constEvent(openAIErrorEvent), done: "data: [DONE]\n\n",
	},
	{
		name: "azure v1", path: "/openai/v1/chat/completions", unaryPath: "/openai/v1/chat/completions",
		stream: `{"model":"my-deploy","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		unary:  `{"model":"my-deploy","messages":[{"role":"user","content":"hi"}]}`,
		sep:    "\n\n", first: 2, idPrefix: "chatcmpl-", requestID: "X-Request-Id",
		errorEvent: constEvent(openAIErrorEvent), done: "data: [DONE]\n\n",
	},
	{
		name: "cohere", path: "/v2/chat", unaryPath: "/v2/chat",
		stream: `{"model":"command-a-03-2025","messages":[{"role":"user","content":"hi"}],"stream":true}`,
		unary:  `{"model":"command-a-03-2025","messages":[{"role":"user","content":"hi"}]}`,
		header: map[string]string{"Authorization": "Bearer co-test", "Accept": "text/event-stream"},
		sep:    "\n\n", first: 2, requestID: "X-Request-Id",
		errorEvent: constEvent("event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\",\"error\":\"internal server error\"}}\n\n"),
		done:       "data: [DONE]\n\n",
	},
}

// request builds f's streaming or non-streaming request under base.
func (f wireFormat) request(t testing.TB, base string, stream bool) *http.Request {
	t.Helper()
	path, body := f.unaryPath, f.unary
	if stream {
		path, body = f.path, f.stream
	}
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range f.header {
		req.Header.Set(k, v)
	}
	return req
}

// events splits a stream of f into its events, each with its terminator.
// Gemini's JSON array splits before each ",\r\n" and before the closing
// bracket.
func (f wireFormat) events(raw string) []string {
	var out []string
	if f.sep == "" {
		for raw != "" {
			if raw == "]" {
				return append(out, raw)
			}
			i := strings.Index(raw[1:], ",\r\n{")
			if i < 0 {
				i = len(raw) - 2 // the last element, then "]"
			}
			out = append(out, raw[:i+1])
			raw = raw[i+1:]
		}
		return out
	}
	for raw != "" {
		i := strings.Index(raw, f.sep)
		if i < 0 {
			return append(out, raw)
		}
		out = append(out, raw[:i+len(f.sep)])
		raw = raw[i+len(f.sep):]
	}
	return out
}

// A player serves a Config: a Server, or a Responder as a client's
// transport.
type player struct {
	name  string
	start func(t *testing.T, cfg Config) (base string, client *http.Client, records func() []Record)
}

var players = []player{
	{"Server", func(t *testing.T, cfg Config) (string, *http.Client, func() []Record) {
		s := NewServer(cfg)
		t.Cleanup(s.Close)
		return s.URL, s.Client(), s.Records
	}},
	{"Responder", func(t *testing.T, cfg Config) (string, *http.Client, func() []Record) {
		r := NewResponder(cfg)
		return base, &http.Client{Transport: r}, r.Records
	}},
}

// exchangeRaw sends req and reads the whole body, returning the error that
// ended the read.
func exchangeRaw(t testing.TB, client *http.Client, req *http.Request) (*http.Response, string, error) {
	t.Helper()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// timeFields matches the fields that hold the time a response was made.
var timeFields = regexp.MustCompile(`"(created|created_at)":\d+|"createTime": "[^"]*"`)

// untimed zeroes the times in raw, so that two runs compare equal; JSON
// stays valid.
func untimed(raw string) string {
	return timeFields.ReplaceAllStringFunc(raw, func(m string) string {
		if strings.HasPrefix(m, `"createTime"`) {
			return `"createTime": "T"`
		}
		name, _, _ := strings.Cut(m, ":")
		return name + ":0"
	})
}

func TestRequestIDHeader(t *testing.T) {
	for _, p := range players {
		for _, f := range wireFormats {
			t.Run(p.name+"/"+f.name, func(t *testing.T) {
				base, client, records := p.start(t, Config{OutputTokens: 3, Seed: 4, Record: true})
				for _, stream := range []bool{true, false} {
					resp, _, err := exchangeRaw(t, client, f.request(t, base, stream))
					require.NoError(t, err)
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					id := resp.Header.Get(f.requestID)
					assert.Regexp(t, `^req_[0-9A-Za-z]{24}$`, id)
					if f.requestID != "X-Request-Id" {
						assert.Empty(t, resp.Header.Get("X-Request-Id"))
					}
					rec := records()[len(records())-1]
					assert.Equal(t, id, rec.RequestID)
					assert.Regexp(t, "^"+regexp.QuoteMeta(f.idPrefix)+`[0-9A-Za-z]{24}$`, rec.ID)
					assert.Equal(t, id, "req_"+rec.ID[len(rec.ID)-24:], "the documented relation of RequestID and ID")
				}
				// Errors carry one too.
				req, err := http.NewRequest(http.MethodPost, base+f.path, strings.NewReader(`{`))
				require.NoError(t, err)
				for k, v := range f.header {
					req.Header.Set(k, v)
				}
				resp, _, err := exchangeRaw(t, client, req)
				require.NoError(t, err)
				assert.GreaterOrEqual(t, resp.StatusCode, 400)
				rec := records()[len(records())-1]
				assert.Empty(t, rec.ID)
				assert.Equal(t, rec.RequestID, resp.Header.Get(f.requestID))
				assert.Regexp(t, `^req_[0-9A-Za-z]{24}$`, rec.RequestID)
			})
		}
	}
}

// TestResponderMatchesServerEveryFormat checks that the two players write
// the same bytes for every format, streaming or not.
func TestResponderMatchesServerEveryFormat(t *testing.T) {
	cfg := Config{OutputTokens: 7, TokensPerChunk: 2, Seed: 12, AzureAsyncFilter: true}
	for _, f := range wireFormats {
		for _, stream := range []bool{true, false} {
			s := NewServer(cfg)
			_, fromServer, err := exchangeRaw(t, s.Client(), f.request(t, s.URL, stream))
			require.NoError(t, err)
			s.Close()
			_, fromResponder, err := exchangeRaw(t, &http.Client{Transport: NewResponder(cfg)}, f.request(t, base, stream))
			require.NoError(t, err)
			assert.Equal(t, untimed(fromServer), untimed(fromResponder), "%s, stream %v", f.name, stream)
			first := Tokens(12, 0, 2)
			if !stream {
				first = Tokens(12, 0, 7)
			}
			assert.Contains(t, fromServer, quote(strings.Join(first, "")), "%s, stream %v: the text", f.name, stream)
		}
	}
}

// TestEventFraming checks the framing rules of each API's documented wire format on every
// stream: each event ends with its format's terminator, no BOM, no bare CR,
// no empty data line; event: lines only where the format has them, and
// then naming the data's type.
func TestEventFraming(t *testing.T) {
	for _, f := range wireFormats {
		if f.sep == "" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			s := NewServer(Config{OutputTokens: 5, Seed: 2, AzureAsyncFilter: true})
			defer s.Close()
			resp, raw, err := exchangeRaw(t, s.Client(), f.request(t, s.URL, true))
			require.NoError(t, err)
			assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
			assert.Empty(t, resp.Header.Get("Content-Length"))
			assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"))
			assert.False(t, strings.HasPrefix(raw, "\ufeff"))
			var events []sseEvent
			if f.sep == "\r\n\r\n" {
				events = readEventsCRLF(t, strings.NewReader(raw))
			} else {
				events = readEvents(t, strings.NewReader(raw))
			}
			require.NotEmpty(t, events)
			for i, ev := range events {
				require.NotEmpty(t, ev.Data, "event %d", i)
				if ev.Data == "[DONE]" {
					assert.Equal(t, len(events)-1, i, "[DONE] is last")
					continue
				}
				m := decode(t, ev.Data)
				switch f.name {
				case "anthropic", "responses", "cohere":
					assert.Equal(t, ev.Event, m["type"], "event %d: the event line names the data's type", i)
				default:
					assert.Empty(t, ev.Event, "event %d: no event: lines in %s", i, f.name)
					assert.NotContains(t, m, "error", "a top-level error key in a normal chunk aborts the SDKs")
				}
			}
		})
	}
}

func TestUnknownPathEnvelopes(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	tests := []struct {
		method, path string
		header       map[string]string
		status       int
		want         string // the body, or a regexp when it starts with ^
	}{
		{http.MethodPost, "/v1beta/models/m:countTokens", nil, 404, "{\n  \"error\": {\n    \"code\": 404,\n    \"message\": \"Invalid URL (POST /v1beta/models/m:countTokens)\",\n    \"status\": \"NOT_FOUND\"\n  }\n}"},
		{http.MethodGet, "/v1beta/models/m:generateContent", nil, 405, "{\n  \"error\": {\n    \"code\": 405,\n    \"message\": \"Invalid method for URL (GET /v1beta/models/m:generateContent)\",\n    \"status\": \"UNIMPLEMENTED\"\n  }\n}"},
		{http.MethodPost, "/openai/deployments/d/completions", nil, 404, `{"error":{"code":"404","message":"Resource not found"}}`},
		{http.MethodPost, "/v2/embed", nil, 404, `{"message":"Invalid URL (POST /v2/embed)"}`},
		{http.MethodPost, "/v1/complete", map[string]string{"Anthropic-Version": "2023-06-01"}, 404, `^\{"type":"error","error":\{"type":"not_found_error","message":"Invalid URL \(POST /v1/complete\)"\},"request_id":"req_[0-9A-Za-z]{24}"\}$`},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(`{}`))
		require.NoError(t, err)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, body, err := exchangeRaw(t, s.Client(), req)
		require.NoError(t, err)
		assert.Equal(t, tt.status, resp.StatusCode, tt.path)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), tt.path)
		if strings.HasPrefix(tt.want, "^") {
			assert.Regexp(t, tt.want, body, tt.path)
		} else {
			assert.Equal(t, tt.want, body, tt.path)
		}
	}
}

// TestRequestIDSameForErrors checks that request n gets the same request
// id whether it is answered or refused: the id depends on the random seed and the
// request's number only.
func TestRequestIDSameForErrors(t *testing.T) {
	for _, f := range wireFormats {
		ok := NewResponder(Config{Seed: 77})
		resp, _, err := exchangeRaw(t, &http.Client{Transport: ok}, f.request(t, base, true))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)

		refused := NewResponder(Config{Seed: 77})
		req := f.request(t, base, true)
		req.Body = io.NopCloser(strings.NewReader(`{"model":`))
		bad, body, err := exchangeRaw(t, &http.Client{Transport: refused}, req)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, bad.StatusCode)
		assert.Equal(t, resp.Header.Get(f.requestID), bad.Header.Get(f.requestID), f.name)
		if f.name == "anthropic" {
			assert.Contains(t, body, `"request_id":"`+resp.Header.Get(f.requestID)+`"`)
		}
	}
}
