package providers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRequestModel: the model comes from the path of Gemini, Vertex AI
// and Azure calls, else from the body's top-level "model", read through
// GetBody and leaving req.Body unread.
func TestRequestModel(t *testing.T) {
	for _, tc := range []struct {
		url, body string
		noGetBody bool
		want      string
	}{
		{"https://api.openai.com/v1/chat/completions", `{"messages":[{"role":"user","content":"model"}],"model":"gpt-4o-mini","stream":true}`, false, "gpt-4o-mini"},
		{"https://api.anthropic.com/v1/messages", `{"model":"claude-x","max_tokens":5}`, false, "claude-x"},
		{"https://api.openai.com/v1/responses", `{"input":{"model":"nested"},"model":"gpt-\u0035"}`, false, "gpt-5"},
		{"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[]}`, false, "gemini-2.5-flash"},
		{"https://l-aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models/gemini-pro:generateContent", ``, false, "gemini-pro"},
		{"https://r.openai.azure.com/openai/deployments/my-dep/chat/completions?api-version=1", `{"model":"other"}`, false, "my-dep"},
		{"https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o"}`, true, ""},
		{"https://api.openai.com/v1/chat/completions", `{"model":"gpt-4o"`, false, ""},
		{"https://api.openai.com/v1/chat/completions", `{"model":7}`, false, ""},
		{"https://api.openai.com/v1/chat/completions", `["model"]`, false, ""},
	} {
		req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.noGetBody {
			req.GetBody = nil
		}
		if got := RequestModel(req); got != tc.want {
			t.Errorf("%s %s: model %q, want %q", tc.url, tc.body, got, tc.want)
		}
		if n, _ := req.Body.Read(make([]byte, 1)); len(tc.body) > 0 && n != 1 {
			t.Errorf("%s %s: the request's body was read", tc.url, tc.body)
		}
	}
	if RequestModel(nil) != "" {
		t.Error("a nil request names a model")
	}
}

// FuzzBodyModel checks bodyModel against encoding/json: on a valid JSON
// object, the top-level "model" string (the last one, as encoding/json
// keeps it), and "" for anything else.
func FuzzBodyModel(f *testing.F) {
	for _, s := range []string{`{"model":"m"}`, `{"a":[1,{"model":"x"}],"model":"m\n\u00e9"}`, `{"model":"a","model":"b"}`, `{"model":null}`, `[]`, `{"model":"m"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := bodyModel(b)
		if !utf8.Valid(b) || bytes.ContainsFunc(b, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' && r != '\r' }) {
			// encoding/json would replace invalid bytes, and refuses raw
			// control characters in strings, which the scanner accepts.
			return
		}
		var obj map[string]json.RawMessage
		want := ""
		if json.Valid(b) && json.Unmarshal(b, &obj) == nil {
			var s string
			if raw, ok := obj["model"]; ok && bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) && json.Unmarshal(raw, &s) == nil {
				want = s
			}
		}
		if got != want {
			t.Fatalf("%q: model %q, encoding/json %q", b, got, want)
		}
	})
}
