package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected bytes below are written from the fixture gemini.sse of
// the API's documented wire format: one data line per chunk, a space after
// each colon, events ended by CRLF CRLF, Vertex AI adding trafficType and
// createTime.
const geminiChunkFmt = `{"candidates": [{"content": {"parts": [{"text": %s}],"role": "model"}%s,"index": 0}],"usageMetadata": {"promptTokenCount": %d,"candidatesTokenCount": %d,"totalTokenCount": %d%s},"modelVersion": %s%s,"responseId": %s}`

// wantGeminiChunk returns the chunk that carries text, with the cumulative
// count, the finish reason when not empty, and Vertex's fields when
// createTime is not empty.
func wantGeminiChunk(text string, prompt, cumulative int, finish, model, id, createTime string) string {
	fin, traffic, created := "", "", ""
	if finish != "" {
		fin = `,"finishReason": ` + quote(finish)
	}
	if createTime != "" {
		traffic = `,"trafficType": "ON_DEMAND"`
		created = `,"createTime": ` + quote(createTime)
	}
	return fmt.Sprintf(geminiChunkFmt, quote(text), fin, prompt, cumulative, prompt+cumulative, traffic, quote(model), created, quote(id))
}

func TestGeminiStream(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		path   string
		body   string
		chunks []int
		finish string
		prompt int
		vertex bool
	}{
		{
			name:   "four tokens per chunk by default",
			cfg:    Config{OutputTokens: 7, Seed: 2},
			path:   geminiAlt,
			body:   `{"contents":[{"role":"user","parts":[{"text":"Hello, how are you today?"}]}]}`,
			chunks: []int{4, 3}, finish: "STOP", prompt: 7,
		},
		{
			name:   "TokensPerChunk",
			cfg:    Config{OutputTokens: 3, TokensPerChunk: 1, Seed: 2},
			path:   geminiAlt,
			body:   `{"contents":[{"role":"user","parts":[{"text":"Hello, "},{"text":"how are you today?"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]}}`,
			chunks: []int{1, 1, 1}, finish: "STOP", prompt: 9,
		},
		{
			name:   "maxOutputTokens",
			cfg:    Config{OutputTokens: 20, Seed: 3},
			path:   geminiAlt,
			body:   `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":6,"temperature":0.7,"topP":0.95}}`,
			chunks: []int{4, 2}, finish: "MAX_TOKENS", prompt: 1,
		},
		{
			name:   "snake_case fields",
			cfg:    Config{OutputTokens: 20, Seed: 3},
			path:   geminiAlt,
			body:   `{"contents":[{"parts":[{"text":"hi"}]}],"system_instruction":{"parts":[{"text":"Be brief."}]},"generation_config":{"max_output_tokens":2}}`,
			chunks: []int{2}, finish: "MAX_TOKENS", prompt: 3,
		},
		{
			name:   "Vertex AI v1",
			cfg:    Config{OutputTokens: 5, Seed: 4},
			path:   "/v1" + vertexPrefix + ":streamGenerateContent?alt=sse",
			body:   `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			chunks: []int{4, 1}, finish: "STOP", prompt: 1, vertex: true,
		},
		{
			name:   "Vertex AI v1beta1",
			cfg:    Config{OutputTokens: 5, Seed: 4},
			path:   "/v1beta1" + vertexPrefix + ":streamGenerateContent?alt=sse",
			body:   `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			chunks: []int{4, 1}, finish: "STOP", prompt: 1, vertex: true,
		},
		{
			name:   "Gemini v1",
			cfg:    Config{OutputTokens: 2, Seed: 4},
			path:   "/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
			body:   `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			chunks: []int{2}, finish: "STOP", prompt: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, raw, rec := streamed(t, tt.cfg, post, tt.path, tt.body, "text/event-stream")
			n := sum(tt.chunks)
			words := Tokens(tt.cfg.Seed, 0, n)
			createTime := ""
			if tt.vertex {
				createTime = rec.Start.UTC().Format("2006-01-02T15:04:05.000000Z")
			}
			var want strings.Builder
			i := 0
			for j, c := range tt.chunks {
				finish := ""
				if j == len(tt.chunks)-1 {
					finish = tt.finish
				}
				want.WriteString("data: " + wantGeminiChunk(strings.Join(words[i:i+c], ""), tt.prompt, i+c, finish, "gemini-2.0-flash", rec.ID, createTime) + "\r\n\r\n")
				i += c
			}
			assert.Equal(t, want.String(), raw)
			assert.NotContains(t, raw, "[DONE]")
			assert.Len(t, readEventsCRLF(t, strings.NewReader(raw)), len(tt.chunks))

			assert.Regexp(t, `^[0-9A-Za-z]{24}$`, rec.ID)
			assert.Equal(t, "req_"+rec.ID, resp.Header.Get("X-Request-Id"))
			assert.Equal(t, "gemini-2.0-flash", rec.Model)
			assert.Equal(t, tt.finish, rec.FinishReason)
			assert.Equal(t, n, rec.OutputTokens)
			assert.Equal(t, tt.prompt, rec.PromptTokens)
			assert.Equal(t, strings.Join(words, ""), rec.Text)
			assert.Len(t, rec.Sent, len(tt.chunks))
		})
	}
}

// TestGeminiArrayStream checks the stream without alt=sse: one JSON array
// whose elements are the SSE stream's chunks, indented, sent one by one.
func TestGeminiArrayStream(t *testing.T) {
	cfg := Config{OutputTokens: 10, Seed: 6, TTFT: Fixed(5 * time.Millisecond), ITL: Fixed(2 * time.Millisecond)}
	s := NewServer(cfg)
	defer s.Close()
	resp := post(t, s.Client(), s.URL+geminiAlt, geminiContents)
	sse := readEventsCRLF(t, resp.Body)
	resp.Body.Close()
	s.Close()

	cfg.Record = true
	s = NewServer(cfg)
	defer s.Close()
	resp = post(t, s.Client(), s.URL+"/v1beta/models/gemini-2.0-flash:streamGenerateContent", geminiContents)
	raw := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json; charset=UTF-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, int64(-1), resp.ContentLength)

	var elems []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(raw), &elems), raw)
	require.Len(t, elems, len(sse))
	parts := strings.Split(raw, ",\r\n")
	require.Len(t, parts, len(sse), "elements are separated by ,CRLF")
	for i, ev := range sse {
		// The two servers' chunks are those of the same seed and request
		// number.
		assert.Equal(t, decode(t, ev.Data), decode(t, string(elems[i])), "element %d", i)
		var pretty bytes.Buffer
		require.NoError(t, json.Indent(&pretty, []byte(ev.Data), "", "  "))
		assert.Contains(t, parts[i], pretty.String(), "element %d is indented", i)
	}
	assert.True(t, strings.HasPrefix(raw, "[{\n  \"candidates\": ["))
	assert.True(t, strings.HasSuffix(raw, "\n}]"))
	rec := s.Records()[0]
	assert.Equal(t, len(sse), len(rec.Sent))
	assert.Equal(t, len(sse)+1, rec.Events, "the elements and the closing bracket")
}

func TestGeminiGenerateContent(t *testing.T) {
	for _, path := range []string{
		"/v1beta/models/gemini-2.0-flash:generateContent",
		"/v1beta1" + vertexPrefix + ":generateContent",
	} {
		s := NewServer(Config{OutputTokens: 6, Seed: 8, TTFT: Fixed(3 * time.Millisecond), ITL: Fixed(time.Millisecond), Record: true})
		resp := post(t, s.Client(), s.URL+path, `{"contents":[{"parts":[{"text":"Hello, how are you today?"}]}],"generationConfig":{"maxOutputTokens":5}}`)
		body := readAll(t, resp)
		rec := s.Records()[0]
		s.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json; charset=UTF-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, int64(len(body)), resp.ContentLength)
		createTime := ""
		if strings.Contains(path, "projects") {
			createTime = rec.Start.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		var want bytes.Buffer
		require.NoError(t, json.Indent(&want, []byte(wantGeminiChunk(strings.Join(Tokens(8, 0, 5), ""), 7, 5, "MAX_TOKENS", "gemini-2.0-flash", rec.ID, createTime)), "", "  "))
		assert.Equal(t, want.String(), body, path)
		// Five tokens in chunks of four: the stream's last chunk would be due
		// at 3ms + 1ms.
		assert.Equal(t, []time.Duration{4 * time.Millisecond}, rec.Scheduled)
		assert.False(t, rec.Stream)
	}
}

func TestGeminiErrors(t *testing.T) {
	tests := []struct {
		name, body, message string
	}{
		{"invalid JSON", `{"contents":`, "Invalid JSON payload received. Unexpected token."},
		{"not an object", `[]`, "Invalid JSON payload received. Unexpected token."},
		{"no contents", `{}`, "* GenerateContentRequest.contents: contents is not specified\n"},
		{"empty contents", `{"contents":[]}`, "* GenerateContentRequest.contents: contents is not specified\n"},
		{"empty parts", `{"contents":[{"role":"user","parts":[]}]}`, "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"},
		{"bad role", `{"contents":[{"role":"assistant","parts":[{"text":"hi"}]}]}`, "Please use a valid role: user, model."},
		{"unknown field", `{"contents":[{"parts":[{"text":"hi"}]}],"max_tokens":5}`, `Invalid JSON payload received. Unknown name "max_tokens": Cannot find field.`},
		{"negative maxOutputTokens", `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":-1}}`, "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.\n"},
	}
	s := NewServer(Config{})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := postRejected(t, s.Client(), s.URL+geminiAlt, tt.body, "application/json; charset=UTF-8")
			want := fmt.Sprintf("{\n  \"error\": {\n    \"code\": 400,\n    \"message\": %s,\n    \"status\": \"INVALID_ARGUMENT\"\n  }\n}", quote(tt.message))
			assert.Equal(t, want, body)
		})
	}
}

func TestGeminiModels(t *testing.T) {
	s := NewServer(Config{Model: "gemini-2.0-flash"})
	defer s.Close()
	resp, err := s.Client().Get(s.URL + "/v1beta/models")
	require.NoError(t, err)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"models":[{"name":"models/gemini-2.0-flash","version":"001","displayName":"gemini-2.0-flash","description":"The fake's model.","inputTokenLimit":1048576,"outputTokenLimit":8192,"supportedGenerationMethods":["generateContent","countTokens"]}]}`, body)
}

func TestProtoDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1s", 10 * time.Millisecond: "0.010s", 1500 * time.Millisecond: "1.500s",
		time.Microsecond: "0.000001s", 3*time.Second + 1: "3.000000001s",
	} {
		assert.Equal(t, want, protoDuration(d))
	}
}
