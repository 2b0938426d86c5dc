package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

var geminiFixtures = []codecFixture{
	{"gemini.sse", decoded{Text: "Hello world, how are you?", Usage: Usage{InputTokens: 5, OutputTokens: 7}, HasUsage: true,
		Finish: "STOP", Outputs: 2, Deltas: 2, Err: io.EOF}},
	{"gemini_crlf.sse", decoded{Text: "Hello world, how are you?", Usage: Usage{InputTokens: 5, OutputTokens: 7}, HasUsage: true,
		Finish: "STOP", Outputs: 2, Deltas: 2, Err: io.EOF}},
	// Thought parts (the flag before or after the text), a chunk with no
	// parts, early chunks without candidatesTokenCount, thoughts and cached
	// tokens.
	{"gemini_thinking.sse", decoded{Text: "Hi there! How can I help you today?",
		Reasoning: "**Planning** I should greet them. Keep it short.",
		Usage:     Usage{InputTokens: 9, OutputTokens: 41, ReasoningTokens: 30, CachedTokens: 4}, HasUsage: true,
		Finish: "STOP", Outputs: 3, Deltas: 4, Err: io.EOF}},
	{"gemini_error.sse", decoded{Text: "Once upon", Usage: Usage{InputTokens: 4}, HasUsage: true, Outputs: 1, Deltas: 1,
		Err: &APIError{Provider: "gemini", StatusCode: 200, InStream: true, Type: "UNAVAILABLE", Code: "503",
			Message: "The model is overloaded. Please try again later."}}},
	// A function call's args are tool arguments; the last event has no
	// blank line after it.
	{"gemini_function_call.sse", decoded{ToolArgs: `{"city": "Paris"}`, Usage: Usage{InputTokens: 20, OutputTokens: 6}, HasUsage: true,
		Finish: "STOP", Outputs: 1, Deltas: 2, Err: io.EOF}},
	{"gemini_blocked.sse", decoded{Usage: Usage{InputTokens: 8}, HasUsage: true, Finish: "PROHIBITED_CONTENT", Deltas: 1, Err: io.EOF}},
	{"vertex.sse", decoded{Text: "Bonjour le monde", Usage: Usage{InputTokens: 3, OutputTokens: 4}, HasUsage: true,
		Finish: "STOP", Outputs: 2, Deltas: 2, Err: io.EOF}},
}

func TestGeminiDecodeFixtures(t *testing.T) { checkCodecFixtures(t, &Gemini{}, geminiFixtures) }

func TestGeminiDecodeSplits(t *testing.T) { checkCodecSplits(t, &Gemini{}, geminiFixtures) }

// TestGeminiDecodeRunningUsage checks the usage of every chunk: counts a
// chunk leaves out keep their last value.
func TestGeminiDecodeRunningUsage(t *testing.T) {
	dec := (&Gemini{}).NewDecoder()
	if err := dec.Reset(sseResponse(bytes.NewReader(readFixture(t, "gemini_thinking.sse"))), &Request{Stream: true}); err != nil {
		t.Fatal(err)
	}
	var got []Usage
	var d Delta
	for dec.Next(&d) == nil {
		if !d.HasUsage {
			t.Fatal("a chunk with usageMetadata has no usage")
		}
		got = append(got, d.Usage)
	}
	want := []Usage{
		{InputTokens: 9, CachedTokens: 4},
		{InputTokens: 9, CachedTokens: 4},
		{InputTokens: 9, OutputTokens: 30, ReasoningTokens: 30, CachedTokens: 4}, // cachedContentTokenCount left out
		{InputTokens: 9, OutputTokens: 41, ReasoningTokens: 30, CachedTokens: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("usages %+v\nwant %+v", got, want)
	}
}

func TestGeminiDecodeNonStreaming(t *testing.T) {
	dec := (&Gemini{}).NewDecoder()
	jsonCT := http.Header{"Content-Type": {"application/json; charset=UTF-8"}}
	want := decoded{Text: "Hello world, how are you?", Usage: Usage{InputTokens: 5, OutputTokens: 7}, HasUsage: true,
		Finish: "STOP", Outputs: 1, Deltas: 1, Err: io.EOF}
	checkDecoded(t, "generateContent", decodeAll(t, dec, recorded(200, jsonCT, string(readFixture(t, "gemini.json"))), &Request{}), want)
	// streamGenerateContent without alt=sse: a JSON array of chunks.
	var arr bytes.Buffer
	arr.WriteString("[")
	for i, line := range bytes.Split(bytes.TrimSpace(readFixture(t, "gemini_crlf.sse")), []byte("\r\n\r\n")) {
		if i > 0 {
			arr.WriteString(",\r\n")
		}
		arr.Write(bytes.TrimPrefix(line, []byte("data: ")))
	}
	arr.WriteString("]")
	checkDecoded(t, "JSON array", decodeAll(t, dec, recorded(200, jsonCT, arr.String()), &Request{Stream: true}), want)
	// Thought parts in a whole answer.
	body := `{"candidates":[{"content":{"parts":[{"text":"Plan.","thought":true},{"text":"Answer."}],"role":"model"},"finishReason":"MAX_TOKENS"}],` +
		`"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":10,"totalTokenCount":15}}`
	checkDecoded(t, "thoughts", decodeAll(t, dec, recorded(200, jsonCT, body), &Request{}), decoded{Text: "Answer.", Reasoning: "Plan.",
		Usage: Usage{InputTokens: 3, OutputTokens: 12, ReasoningTokens: 10}, HasUsage: true, Finish: "MAX_TOKENS", Outputs: 1, Deltas: 1, Err: io.EOF})
}

func TestGeminiDecodeBadInput(t *testing.T) {
	checkDecodeCases(t, (&Gemini{}).NewDecoder(), &Request{Stream: true}, []decodeCase{
		{"empty stream", sseBody(""), decoded{Err: &DecodeError{Err: errEmptyStream}}, []string{"gemini: decode: stream ended before its first event"}},
		{"cut inside the only event", sseBody(`data: {"candidates": [{"content": {"par`), decoded{Err: &DecodeError{Err: errEmptyStream}}, nil},
		{"cut inside the last event is its end", sseBody(`data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}]}` + "\r\n\r\n" + `data: {"candid`),
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"[DONE] is not Gemini's", sseBody("data: [DONE]\n\n"), decoded{Err: &DecodeError{}}, []string{"gemini: decode event 1: invalid character"}},
		{"array event", sseBody("data: [{}]\n\n"), decoded{Err: &DecodeError{}}, []string{"event data is not a JSON object"}},
		{"invalid JSON in a terminated event", sseBody(`data: {"candidates":[}` + "\n\n"), decoded{Err: &DecodeError{}},
			[]string{"gemini: decode event 1: invalid character '}' looking for beginning of value"}},
		{"error null is not an error", sseBody(`data: {"error":null,"candidates":[{"content":{"parts":[{"text":"x"}]}}]}` + "\n\n"),
			decoded{Text: "x", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"thought false is text", sseBody(`data: {"candidates":[{"content":{"parts":[{"text":"x","thought":false}]}}]}` + "\n\n"),
			decoded{Text: "x", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"a null count keeps the last one", sseBody(`data: {"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2}}` + "\n\n" +
			`data: {"usageMetadata":{"promptTokenCount":null,"candidatesTokenCount":"n/a"}}` + "\n\n"),
			decoded{Usage: Usage{InputTokens: 4, OutputTokens: 2}, HasUsage: true, Deltas: 2, Err: io.EOF}, nil},
		{"negative and odd counts are ignored", sseBody(`data: {"usageMetadata":{"promptTokenCount":-4,"candidatesTokenCount":"x","thoughtsTokenCount":1e30}}` + "\n\n"),
			decoded{HasUsage: true, Deltas: 1, Err: io.EOF}, nil},
		{"error body for a stream", jsonBody(`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`),
			decoded{Err: &APIError{Provider: "gemini", StatusCode: 200, InStream: true, Type: "RESOURCE_EXHAUSTED", Code: "429",
				Message: "Resource has been exhausted (e.g. check quota)."}}, nil},
		{"html", recorded(200, http.Header{"Content-Type": {"text/html"}}, "<html><title>Sign in</title></html>"),
			decoded{Err: &DecodeError{}}, []string{`unexpected content type "text/html"`, "Sign in"}},
		{"empty JSON body", jsonBody("\r\n"), decoded{Err: &DecodeError{}}, []string{"empty response body"}},
		{"JSON string body", jsonBody(`"hello"`), decoded{Err: &DecodeError{}}, []string{"event data is not a JSON object"}},
	})
}

func TestGeminiDecodeInStreamError(t *testing.T) {
	got := decodeAll(t, (&Gemini{Project: "p"}).NewDecoder(), sseResponse(bytes.NewReader(readFixture(t, "gemini_error.sse"))), &Request{Stream: true})
	var ae *APIError
	if !errors.As(got.Err, &ae) || !ae.InStream || !ae.Overloaded() || !ae.Retryable() || ae.Provider != "vertex" {
		t.Fatalf("error %#v", got.Err)
	}
	if want := "vertex: error in stream (UNAVAILABLE/503): The model is overloaded. Please try again later."; ae.Error() != want {
		t.Errorf("Error() = %q, want %q", ae.Error(), want)
	}
}

func TestGeminiStatusErrors(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/json; charset=UTF-8"}}
	body := func(code, status, msg string) string {
		return `{"error":{"code":` + code + `,"message":"` + msg + `","status":"` + status + `"}}`
	}
	checkCodecStatusErrors(t, &Gemini{}, []codecStatus{
		{name: "400", status: 400, header: jsonCT, body: body("400", "INVALID_ARGUMENT", "Invalid JSON payload received."),
			want: APIError{Type: "INVALID_ARGUMENT", Code: "400", Message: "Invalid JSON payload received."}},
		{name: "400 bad key", status: 400, header: jsonCT,
			body:      `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid."}]}}`,
			want:      APIError{Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID", Message: "API key not valid. Please pass a valid API key."},
			errString: "gemini: 400 Bad Request (INVALID_ARGUMENT/API_KEY_INVALID): API key not valid."},
		{name: "403", status: 403, header: jsonCT, body: body("403", "PERMISSION_DENIED", "Permission denied on resource project p."),
			want: APIError{Type: "PERMISSION_DENIED", Code: "403", Message: "Permission denied on resource project p."}},
		{name: "404", status: 404, header: jsonCT, body: body("404", "NOT_FOUND", "models/gemini-9 is not found for API version v1beta"),
			want: APIError{Type: "NOT_FOUND", Code: "404", Message: "models/gemini-9 is not found for API version v1beta"}},
		{name: "429", status: 429, header: jsonCT,
			body:        `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}`,
			want:        APIError{Type: "RESOURCE_EXHAUSTED", Code: "429", Message: "Resource has been exhausted (e.g. check quota).", RetryAfter: 17 * time.Second},
			rateLimited: true, retryable: true, errString: "[retry after 17s]"},
		{name: "429 Retry-After header wins", status: 429, header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}},
			body:        `{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"40.5s"}]}}`,
			want:        APIError{Type: "RESOURCE_EXHAUSTED", Code: "429", Message: "Quota exceeded.", RetryAfter: 3 * time.Second},
			rateLimited: true, retryable: true},
		{name: "500", status: 500, header: jsonCT, body: body("500", "INTERNAL", "An internal error has occurred."),
			want: APIError{Type: "INTERNAL", Code: "500", Message: "An internal error has occurred."}, retryable: true},
		{name: "503", status: 503, header: jsonCT, body: body("503", "UNAVAILABLE", "The model is overloaded. Please try again later."),
			want:       APIError{Type: "UNAVAILABLE", Code: "503", Message: "The model is overloaded. Please try again later."},
			overloaded: true, retryable: true},
		{name: "504", status: 504, header: jsonCT, body: body("504", "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
			want: APIError{Type: "DEADLINE_EXCEEDED", Code: "504", Message: "Deadline expired before operation could complete."}, retryable: true},
		{name: "bad details are ignored", status: 429, header: jsonCT,
			body:        `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED","details":[1,{"retryDelay":"soon"},{"reason":7}]}}`,
			want:        APIError{Type: "RESOURCE_EXHAUSTED", Code: "429", Message: "m"},
			rateLimited: true, retryable: true},
	})
}

func TestGeminiNewRequest(t *testing.T) {
	temp, topP, topK := 0.7, 0.95, 40
	noEnv := map[string]string{"GEMINI_API_KEY": "", "GOOGLE_API_KEY": "", "GOOGLE_ACCESS_TOKEN": ""}
	env := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range noEnv {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	checkCodecRequests(t, true, []codecRequest{
		{name: "AI Studio streaming, GEMINI_API_KEY", env: env("GEMINI_API_KEY", "AIza-gemini-env-123", "GOOGLE_API_KEY", "AIza-google-env-456"),
			p: &Gemini{}, r: &Request{Model: "gemini-2.0-flash", Prompt: "hi", System: "be brief", MaxTokens: 64,
				Temperature: &temp, TopP: &topP, TopK: &topK, Stream: true},
			url: "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
			headers: map[string]string{"X-Goog-Api-Key": "AIza-gemini-env-123", "Content-Type": "application/json",
				"Accept": "text/event-stream", "Accept-Encoding": "identity"},
			noHeader: []string{"Authorization"},
			body: `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"be brief"}]},` +
				`"generationConfig":{"maxOutputTokens":64,"temperature":0.7,"topP":0.95,"topK":40}}`},
		{name: "AI Studio not streaming, GOOGLE_API_KEY, models/ prefix", env: env("GOOGLE_API_KEY", "AIza-google-env-456"),
			p: &Gemini{}, r: &Request{Model: "models/gemini-2.5-pro", Prompt: "hi"},
			url:     "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
			headers: map[string]string{"X-Goog-Api-Key": "AIza-google-env-456", "Accept": "application/json"},
			body:    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "AI Studio own key and base, extras", env: env("GEMINI_API_KEY", "AIza-gemini-env-123"),
			p: &Gemini{BaseURL: "http://127.0.0.1:8080/v1beta/", APIKey: "AIza-mine-789", Header: http.Header{"x-goog-user-project": {"billing-proj"}}},
			r: &Request{Model: "gemini-2.5-flash", Prompt: "hi", Stream: true,
				Extra: map[string]any{"generationConfig": map[string]any{"thinkingConfig": map[string]any{"includeThoughts": true}}}},
			url:     "http://127.0.0.1:8080/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			headers: map[string]string{"X-Goog-Api-Key": "AIza-mine-789", "X-Goog-User-Project": "billing-proj"},
			body:    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`},
		{name: "AI Studio without a key", env: env(), p: &Gemini{}, r: &Request{Model: "m", Prompt: "hi"},
			url: "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent", noHeader: []string{"X-Goog-Api-Key", "Authorization"},
			body: `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "Vertex default location, token from the environment",
			env: env("GOOGLE_ACCESS_TOKEN", "ya29.env-token-123", "GEMINI_API_KEY", "AIza-not-for-vertex"),
			p:   &Gemini{Project: "my-proj"}, r: &Request{Model: "gemini-2.0-flash", Prompt: "hi", MaxTokens: 8, Stream: true},
			url:      "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
			headers:  map[string]string{"Authorization": "Bearer ya29.env-token-123", "Accept": "text/event-stream"},
			noHeader: []string{"X-Goog-Api-Key"},
			body:     `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":8}}`},
		{name: "Vertex regional", env: env("GOOGLE_ACCESS_TOKEN", "ya29.env-token-123"),
			p:        &Gemini{Project: "my-proj", Location: "europe-west4", AccessToken: "ya29.mine-456", APIKey: "AIza-ignored"},
			r:        &Request{Model: "gemini-2.5-pro", Prompt: "hi"},
			url:      "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent",
			headers:  map[string]string{"Authorization": "Bearer ya29.mine-456"},
			noHeader: []string{"X-Goog-Api-Key"},
			body:     `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "Vertex global", env: env(), p: &Gemini{Project: "my-proj", Location: "global", AccessToken: "ya29.mine-456"},
			r:       &Request{Model: "gemini-2.5-flash", Prompt: "hi", Stream: true},
			url:     "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			headers: map[string]string{"Authorization": "Bearer ya29.mine-456"},
			body:    `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "Vertex own base URL", env: env(), p: &Gemini{Project: "my-proj", BaseURL: "https://us-east5-aiplatform.googleapis.com/v1beta1", AccessToken: "t"},
			r:    &Request{Model: "gemini-2.0-flash", Prompt: "hi", Stream: true},
			url:  "https://us-east5-aiplatform.googleapis.com/v1beta1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
			body: `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "Vertex express mode through BaseURL", env: env(),
			p:        &Gemini{BaseURL: "https://aiplatform.googleapis.com/v1/publishers/google", APIKey: "AQ.express-key-123"},
			r:        &Request{Model: "gemini-2.5-flash", Prompt: "hi", Stream: true},
			url:      "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			headers:  map[string]string{"X-Goog-Api-Key": "AQ.express-key-123"},
			noHeader: []string{"Authorization"},
			body:     `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
		{name: "model name escaped", env: env(), p: &Gemini{APIKey: "k"}, r: &Request{Model: "a/b?c", Prompt: "hi"},
			url:  "https://generativelanguage.googleapis.com/v1beta/models/a%2Fb%3Fc:generateContent",
			body: `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
	})
}

func TestGeminiNewRequestErrors(t *testing.T) {
	checkRequestErrors(t, "", []requestError{
		{&Gemini{}, &Request{Prompt: "hi"}, "gemini: build request: Request.Model is empty"},
		{&Gemini{Project: "p"}, &Request{Model: "models/"}, "vertex: build request: Request.Model is empty"},
		{&Gemini{BaseURL: "generativelanguage.googleapis.com"}, &Request{Model: "m"}, "gemini: build request: BaseURL is not an absolute"},
		{&Gemini{Project: "p", Location: "bad host/"}, &Request{Model: "m"}, "vertex: build request: BaseURL is not an absolute"},
		{&Gemini{}, nil, "gemini: build request: nil Request"},
		{&Gemini{}, &Request{Model: "m", Extra: map[string]any{"f": func() {}}}, `gemini: encode request body: extra field "f"`},
	})
}

func TestGeminiListModels(t *testing.T) {
	t.Setenv("GEMINI_API_KEY", "AIza-env-list-123")
	t.Setenv("GOOGLE_ACCESS_TOKEN", "ya29.env-list-456")
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name    string
		p       *Gemini
		url     string
		headers map[string]string
		body    string
		want    []string
	}{
		{"AI Studio", &Gemini{}, "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000",
			map[string]string{"X-Goog-Api-Key": "AIza-env-list-123"},
			`{"models":[{"name":"models/gemini-2.0-flash","version":"2.0","supportedGenerationMethods":["generateContent","countTokens"]},{"name":"models/text-embedding-004"}],"nextPageToken":"abc"}`,
			[]string{"gemini-2.0-flash", "text-embedding-004"}},
		{"Vertex regional", &Gemini{Project: "my-proj", Location: "europe-west4"},
			"https://europe-west4-aiplatform.googleapis.com/v1beta1/publishers/google/models?pageSize=1000",
			map[string]string{"Authorization": "Bearer ya29.env-list-456", "X-Goog-User-Project": "my-proj"},
			`{"publisherModels":[{"name":"publishers/google/models/gemini-2.5-pro","versionId":"001"}]}`,
			[]string{"gemini-2.5-pro"}},
		{"Vertex global", &Gemini{Project: "my-proj", Location: "global"},
			"https://aiplatform.googleapis.com/v1beta1/publishers/google/models?pageSize=1000",
			map[string]string{"Authorization": "Bearer ya29.env-list-456"}, `{"publisherModels":[]}`, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkListRequest(t, tc.p, tc.url, tc.headers)
			checkModelNames(t, tc.p, tc.body, tc.want)
		})
	}
	_, err := (&Gemini{}).DecodeModels(recorded(403, jsonCT, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Type != "PERMISSION_DENIED" {
		t.Errorf("status error %v", err)
	}
}

func TestGeminiKeyNeverInErrors(t *testing.T) {
	const key = "AIzaSyS3CRETKEY0123456789abcdefghij"
	const token = "ya29.a0S3CRETTOKEN0123456789abcdef"
	streamErrors := func(secret string) map[string]string {
		return map[string]string{
			"error chunk":   `data: {"error":{"code":400,"message":"key ` + secret + ` rejected","status":"INVALID_ARGUMENT"}}` + "\n\n",
			"invalid chunk": `data: {"candidates":[{"content":{"parts":[{"text":"` + secret + `"` + "\n\n",
		}
	}
	t.Setenv("GEMINI_API_KEY", key)
	t.Setenv("GOOGLE_ACCESS_TOKEN", token)
	for _, p := range []*Gemini{{APIKey: key}, {}} {
		checkCodecKeyRedaction(t, p, key, streamErrors(key))
	}
	for _, p := range []*Gemini{{Project: "p", AccessToken: token}, {Project: "p"}} {
		checkCodecKeyRedaction(t, p, token, streamErrors(token))
	}
	// The ErrorInfo reason is redacted too.
	err := (&Gemini{APIKey: key}).NewDecoder().Reset(recorded(400, nil,
		`{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT","details":[{"reason":"`+key+`"}]}}`), &Request{})
	if err == nil || strings.Contains(err.Error(), key[:10]) {
		t.Errorf("error %v", err)
	}
}

func TestGeminiDecodeStamps(t *testing.T) {
	stamps := codecStamps{
		writes: func(ev [][]byte) []timedWrite {
			return []timedWrite{
				{120 * ms, string(ev[0][:30])}, // first chunk, first part
				{150 * ms, string(ev[0][30:])},
				{400 * ms, string(ev[1][:len(ev[1])-2])}, // all but the blank line's end
				{401 * ms, string(ev[1][len(ev[1])-2:])},
			}
		},
		want: []time.Duration{150 * ms, 401 * ms},
	}
	checkCodecStamps(t, &Gemini{}, "gemini_crlf.sse", "\r\n\r\n", stamps)
	checkCodecStamps(t, &Gemini{}, "gemini.sse", "\n\n", stamps)
	// Chunks coalesced in one read share its stamp.
	checkCodecStamps(t, &Gemini{}, "gemini_thinking.sse", "\r\n\r\n", codecStamps{
		writes: func(ev [][]byte) []timedWrite {
			return []timedWrite{{90 * ms, string(ev[0]) + string(ev[1])}, {95 * ms, string(ev[2]) + string(ev[3])}}
		},
		want: []time.Duration{90 * ms, 90 * ms, 95 * ms, 95 * ms},
	})
}

func TestGeminiDecodeNonStreamingStamp(t *testing.T) {
	checkCodecBodyStamp(t, &Gemini{}, "gemini.json", 50)
}

// TestGeminiDecoderReuse runs one decoder over responses of every kind in
// turn, checking that nothing of one leaks into the next.
func TestGeminiDecoderReuse(t *testing.T) {
	dec := (&Gemini{}).NewDecoder()
	plain := readFixture(t, "gemini.sse")
	for range 2 {
		if got := decodeFixture(t, dec, "gemini_thinking.sse"); got.Usage.ReasoningTokens != 30 {
			t.Fatalf("usage %+v", got.Usage)
		}
		// The running usage starts again from nothing.
		checkFirstUsage(t, dec, plain, Usage{InputTokens: 5})
		checkStatusError(t, dec, 503, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`,
			&APIError{Provider: "gemini", StatusCode: 503, Type: "UNAVAILABLE", Code: "503", Message: "busy"})
		checkWholeBody(t, dec, "gemini.json", "Hello world, how are you?")
	}
}

// FuzzGeminiDecoder decodes arbitrary bodies under arbitrary content types
// and statuses, split into arbitrary Reads: see fuzzCodecDecoder.
func FuzzGeminiDecoder(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0), []byte{2}, true) }, "vertex*.sse")
	fuzzCodecDecoder(f, &Gemini{APIKey: "AIza-fuzz-0123456789"}, "gemini*.sse", "gemini.json",
		`{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"2s"}]}}`)
}

// geminiTextEvent is a mid-stream chunk as the API frames it (CRLF, a few
// tokens of text, usage without candidatesTokenCount).
const geminiTextEvent = `data: {"candidates": [{"content": {"parts": [{"text": " world, how"}],"role": "model"},"index": 0}],` +
	`"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5},"modelVersion": "gemini-2.0-flash","responseId": "abc"}` + "\r\n\r\n"

// BenchmarkGeminiDecodeStream decodes a 1000-chunk Gemini stream read with
// 32 KiB reads; one op is one event (1000 of every 1002 carry text, each
// a few tokens), so ns/op and allocs/op are per text event.
func BenchmarkGeminiDecodeStream(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "gemini_crlf.sse"), []byte("\r\n\r\n"))
	benchDecoder(b, (&Gemini{APIKey: "AIza-bench"}).NewDecoder(), "text/event-stream; charset=utf-8", benchStreamOf(string(ev[0]), geminiTextEvent, string(ev[1]), 1000), len(geminiTextEvent), 0)
}
