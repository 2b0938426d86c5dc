package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

var cohereFixtures = []codecFixture{
	{"cohere.sse", decoded{Text: "Hello", Usage: Usage{InputTokens: 70, OutputTokens: 2}, HasUsage: true,
		Finish: "COMPLETE", Outputs: 1, Deltas: 5, Err: io.EOF}},
	{"cohere_thinking.sse", decoded{Text: "Hi!", Reasoning: "Simple greeting.", Usage: Usage{InputTokens: 500, OutputTokens: 9, CachedTokens: 128},
		HasUsage: true, Finish: "MAX_TOKENS", Outputs: 3, Deltas: 9, Err: io.EOF}},
	// The tool plan is reasoning; tool-call arguments; citations and debug
	// events carry no output.
	{"cohere_tools.sse", decoded{Reasoning: "I will look up the weather.", ToolArgs: `{"city":"Paris"}`,
		Usage: Usage{InputTokens: 915, OutputTokens: 70}, HasUsage: true, Finish: "TOOL_CALL", Outputs: 4, Deltas: 11, Err: io.EOF}},
	{"cohere_error.sse", decoded{Text: "Par", Outputs: 1, Deltas: 3, Err: &APIError{Provider: "cohere", StatusCode: 200, InStream: true,
		Type: "ERROR", Message: "internal server error, please try again later"}}},
	// No [DONE], "data:" without its space, usage only in billed_units.
	{"cohere_no_done.sse", decoded{Text: "Hello", Usage: Usage{InputTokens: 5, OutputTokens: 2}, HasUsage: true,
		Finish: "COMPLETE", Outputs: 1, Deltas: 5, Err: io.EOF}},
}

func TestCohereDecodeFixtures(t *testing.T) { checkCodecFixtures(t, &Cohere{}, cohereFixtures) }

func TestCohereDecodeSplits(t *testing.T) { checkCodecSplits(t, &Cohere{}, cohereFixtures) }

func TestCohereDecodeNonStreaming(t *testing.T) {
	dec := (&Cohere{}).NewDecoder()
	want := decoded{Text: "Hello world", Usage: Usage{InputTokens: 70, OutputTokens: 2}, HasUsage: true,
		Finish: "COMPLETE", Outputs: 1, Deltas: 1, Err: io.EOF}
	checkJSONBody(t, dec, string(readFixture(t, "cohere.json")), want)
	body := `{"id":"c2","finish_reason":"TOOL_CALL","message":{"role":"assistant","tool_plan":"I will check.",` +
		`"content":[{"type":"thinking","thinking":"Weather."},{"type":"text","text":"One moment."}],` +
		`"tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`"usage":{"billed_units":{"input_tokens":4,"output_tokens":20},"tokens":{"input_tokens":400}}}`
	checkDecoded(t, "tools", decodeAll(t, dec, jsonBody(body), &Request{}), decoded{Text: "One moment.", Reasoning: "I will check.Weather.",
		ToolArgs: `{"city":"Paris"}`, Usage: Usage{InputTokens: 400, OutputTokens: 20}, HasUsage: true, Finish: "TOOL_CALL", Outputs: 1, Deltas: 1, Err: io.EOF})
}

func TestCohereDecodeBadInput(t *testing.T) {
	checkDecodeCases(t, (&Cohere{}).NewDecoder(), &Request{Stream: true}, []decodeCase{
		{"empty stream", sseBody(""), decoded{Err: &DecodeError{Err: errEmptyStream}}, []string{"cohere: decode: stream ended before its first event"}},
		{"only [DONE]", sseBody("data: [DONE]\n\n"), decoded{Err: io.EOF}, nil},
		{"[DONE] without its blank line", sseBody(`data: {"type":"content-delta","delta":{"message":{"content":{"text":"a"}}}}` + "\n\ndata: [DONE]"),
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"[DONE] inside text does not end the stream", sseBody(`data: {"type":"content-delta","delta":{"message":{"content":{"text":"[DONE]"}}}}` + "\n\n" +
			`data: {"type":"content-delta","delta":{"message":{"content":{"text":"!"}}}}` + "\n\ndata: [DONE]\n\n"),
			decoded{Text: "[DONE]!", Outputs: 2, Deltas: 2, Err: io.EOF}, nil},
		{"events after [DONE] are not read", sseBody("data: [DONE]\n\n" + `data: {"type":"content-delta","delta":{"message":{"content":{"text":"late"}}}}` + "\n\n"),
			decoded{Err: io.EOF}, nil},
		{"finish ERROR without a message", sseBody(`data: {"type":"message-end","delta":{"finish_reason":"ERROR"}}` + "\n\n"),
			decoded{Err: &APIError{Provider: "cohere", StatusCode: 200, InStream: true, Type: "ERROR", Message: "the response ended with finish_reason ERROR"}}, nil},
		{"error object in delta", sseBody(`data: {"type":"message-end","delta":{"finish_reason":"TIMEOUT","error":{"code":"x"}}}` + "\n\n"),
			decoded{Err: &APIError{Provider: "cohere", StatusCode: 200, InStream: true, Type: "TIMEOUT", Message: `{"code":"x"}`}}, nil},
		{"zero usage is usage", sseBody(`data: {"type":"message-end","delta":{"usage":{"tokens":{"input_tokens":0,"output_tokens":0}}}}` + "\n\n"),
			decoded{HasUsage: true, Deltas: 1, Err: io.EOF}, nil},
		{"null error is no error", sseBody(`data: {"type":"message-end","delta":{"finish_reason":"COMPLETE","error":null}}` + "\n\n"),
			decoded{Finish: "COMPLETE", Deltas: 1, Err: io.EOF}, nil},
		{"error message in a stream", sseBody(`data: {"message":"too many tokens"}` + "\n\n"),
			decoded{Err: &APIError{Provider: "cohere", StatusCode: 200, InStream: true, Message: "too many tokens"}}, nil},
		{"invalid JSON", sseBody(`data: {"type":"content-delta","delta":{"message":{"content":{"text":"a"}}}}` + "\n\n" + `data: {"type":` + "\n\n"),
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &DecodeError{}}, []string{"cohere: decode event 2: unexpected end of JSON input"}},
		{"string event", sseBody(`data: "hi"` + "\n\n"), decoded{Err: &DecodeError{}}, []string{"event data is not a JSON object"}},
		{"error body for a stream", jsonBody(`{"message":"invalid request: model 'x' not found"}`),
			decoded{Err: &APIError{Provider: "cohere", StatusCode: 200, InStream: true, Message: "invalid request: model 'x' not found"}}, nil},
		{"html", recorded(200, http.Header{"Content-Type": {"text/html"}}, "<html><title>Maintenance</title></html>"),
			decoded{Err: &DecodeError{}}, []string{`unexpected content type "text/html"`, "Maintenance"}},
		{"empty JSON body", jsonBody(""), decoded{Err: &DecodeError{}}, []string{"empty response body"}},
	})
}

func TestCohereDecodeInStreamError(t *testing.T) {
	resp := sseResponse(bytes.NewReader(readFixture(t, "cohere_error.sse")))
	resp.Header.Set("X-Debug-Trace-Id", "trace-1")
	resp.Header.Del("X-Request-Id")
	got := decodeAll(t, (&Cohere{}).NewDecoder(), resp, &Request{Stream: true})
	var ae *APIError
	if !errors.As(got.Err, &ae) || ae.RequestID != "trace-1" {
		t.Fatalf("error %#v", got.Err)
	}
	if want := "cohere: error in stream (ERROR): internal server error, please try again later"; ae.Error() != want {
		t.Errorf("Error() = %q, want %q", ae.Error(), want)
	}
}

func TestCohereStatusErrors(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_c"}}
	msg := func(m string) string { return `{"id":"e1","message":"` + m + `"}` }
	checkCodecStatusErrors(t, &Cohere{}, []codecStatus{
		{name: "400", status: 400, header: h, body: msg("invalid request: message must be at least 1 token long"),
			want:      APIError{Message: "invalid request: message must be at least 1 token long", RequestID: "req_c"},
			errString: "cohere: 400 Bad Request: invalid request"},
		{name: "401", status: 401, header: h, body: msg("invalid api token"), want: APIError{Message: "invalid api token", RequestID: "req_c"}},
		{name: "403", status: 403, header: h, body: msg("Forbidden"), want: APIError{Message: "Forbidden", RequestID: "req_c"}},
		{name: "404", status: 404, header: h, body: msg("model 'x' not found"), want: APIError{Message: "model 'x' not found", RequestID: "req_c"}},
		{name: "422", status: 422, header: h, body: msg("unprocessable"), want: APIError{Message: "unprocessable", RequestID: "req_c"}},
		{name: "429", status: 429, header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"30"}},
			body:        msg("You are using a Trial key, which is limited to 10 API calls / minute."),
			want:        APIError{Message: "You are using a Trial key, which is limited to 10 API calls / minute.", RetryAfter: 30 * time.Second},
			rateLimited: true, retryable: true},
		{name: "498", status: 498, header: h, body: msg("invalid token"), want: APIError{Message: "invalid token", RequestID: "req_c"},
			errString: "cohere: 498: invalid token"},
		{name: "499", status: 499, header: h, body: msg("request cancelled"), want: APIError{Message: "request cancelled", RequestID: "req_c"}},
		{name: "500", status: 500, header: h, body: msg("internal server error"), want: APIError{Message: "internal server error", RequestID: "req_c"}, retryable: true},
		{name: "501", status: 501, header: h, body: msg("not implemented"), want: APIError{Message: "not implemented", RequestID: "req_c"}, retryable: true},
		{name: "503", status: 503, header: h, body: msg("service unavailable"), want: APIError{Message: "service unavailable", RequestID: "req_c"},
			overloaded: true, retryable: true},
		{name: "504", status: 504, header: h, body: msg("gateway timeout"), want: APIError{Message: "gateway timeout", RequestID: "req_c"}, retryable: true},
	})
}

func TestCohereNewRequest(t *testing.T) {
	temp, topP, topK := 0.3, 0.75, 10
	checkCodecRequests(t, true, []codecRequest{
		{name: "defaults, COHERE_API_KEY", env: map[string]string{"COHERE_API_KEY": "co-env-123456", "CO_API_KEY": "co-other-789"},
			p: &Cohere{}, r: &Request{Model: "command-a-03-2025", Prompt: "hi", System: "be brief", MaxTokens: 32,
				Temperature: &temp, TopP: &topP, TopK: &topK, Stream: true},
			url: "https://api.cohere.com/v2/chat",
			headers: map[string]string{"Authorization": "Bearer co-env-123456", "Content-Type": "application/json",
				"Accept": "text/event-stream", "Accept-Encoding": "identity"},
			body: `{"model":"command-a-03-2025","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],` +
				`"stream":true,"max_tokens":32,"temperature":0.3,"p":0.75,"k":10}`},
		{name: "CO_API_KEY", env: map[string]string{"COHERE_API_KEY": "", "CO_API_KEY": "co-other-789"},
			p: &Cohere{}, r: &Request{Model: "m", Prompt: "hi"}, url: "https://api.cohere.com/v2/chat",
			headers: map[string]string{"Authorization": "Bearer co-other-789", "Accept": "application/json"},
			body:    `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{name: "own key and base, extras", env: map[string]string{"COHERE_API_KEY": "co-env-123456"},
			p:       &Cohere{BaseURL: "http://127.0.0.1:7000/v2", APIKey: "co-mine-000", Header: http.Header{"X-Client-Name": {"lens"}}},
			r:       &Request{Model: "m", Prompt: "hi", Extra: map[string]any{"thinking": map[string]any{"type": "enabled"}, "seed": 1}},
			url:     "http://127.0.0.1:7000/v2/chat",
			headers: map[string]string{"Authorization": "Bearer co-mine-000", "X-Client-Name": "lens"},
			body:    `{"model":"m","messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled"},"seed":1}`},
		{name: "no key", env: map[string]string{"COHERE_API_KEY": "", "CO_API_KEY": ""},
			p: &Cohere{}, r: &Request{Model: "m", Prompt: "hi"}, url: "https://api.cohere.com/v2/chat",
			noHeader: []string{"Authorization"}, body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
	})
}

func TestCohereNewRequestErrors(t *testing.T) {
	checkRequestErrors(t, "", []requestError{
		{&Cohere{BaseURL: "api.cohere.com/v2"}, &Request{}, "cohere: build request: BaseURL is not an absolute"},
		{&Cohere{Label: "co"}, nil, "co: build request: nil Request"},
		{&Cohere{}, &Request{Extra: map[string]any{"f": func() {}}}, `cohere: encode request body: extra field "f"`},
	})
}

func TestCohereListModels(t *testing.T) {
	t.Setenv("COHERE_API_KEY", "co-env-list-123")
	for _, tc := range []struct{ base, url string }{
		{"", "https://api.cohere.com/v1/models?page_size=1000&endpoint=chat"},
		{"https://proxy.example/cohere/v2/", "https://proxy.example/cohere/v1/models?page_size=1000&endpoint=chat"},
		{"http://127.0.0.1:7000/v1", "http://127.0.0.1:7000/v1/models?page_size=1000&endpoint=chat"},
	} {
		checkListRequest(t, &Cohere{BaseURL: tc.base}, tc.url, map[string]string{"Authorization": "Bearer co-env-list-123"})
	}
	checkModelNames(t, &Cohere{}, `{"models":[{"name":"command-a-03-2025","endpoints":["generate","chat","summarize"],"finetuned":false,"context_length":256000},`+
		`{"name":"command-r7b-12-2024"}],"next_page_token":"x"}`, []string{"command-a-03-2025", "command-r7b-12-2024"})
	_, err := (&Cohere{}).DecodeModels(recorded(401, nil, `{"message":"invalid api token"}`))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Message != "invalid api token" {
		t.Errorf("status error %v", err)
	}
}

func TestCohereKeyNeverInErrors(t *testing.T) {
	const key = "co-S3CRETKEY0123456789abcdefghijkl"
	for _, p := range []*Cohere{{APIKey: key}, {}} {
		t.Setenv("COHERE_API_KEY", key)
		checkCodecKeyRedaction(t, p, key, map[string]string{
			"message-end error":    `data: {"type":"message-end","delta":{"finish_reason":"ERROR","error":"bad key ` + key + `"}}` + "\n\n",
			"error object":         `data: {"type":"message-end","delta":{"error":{"detail":"` + key + `"}}}` + "\n\n",
			"message string":       `data: {"message":"bad key ` + key + `"}` + "\n\n",
			"invalid content JSON": `data: {"type":"content-delta","delta":{"message":{"content":{"text":"` + key + `"` + "\n\n",
		})
	}
}

func TestCohereDecodeStamps(t *testing.T) {
	checkCodecStamps(t, &Cohere{}, "cohere.sse", "\n\n", codecStamps{
		writes: func(ev [][]byte) []timedWrite {
			return []timedWrite{
				{50 * ms, string(ev[0]) + string(ev[1])},  // message-start and content-start, coalesced
				{300 * ms, string(ev[2][:len(ev[2])-1])},  // content-delta but its blank line
				{333 * ms, string(ev[2][len(ev[2])-1:])},  // the blank line
				{340 * ms, string(ev[3]) + string(ev[4])}, // content-end, message-end
				{700 * ms, string(ev[5])},                 // [DONE]
			}
		},
		want: []time.Duration{50 * ms, 50 * ms, 333 * ms, 340 * ms, 340 * ms},
	})
}

func TestCohereDecodeNonStreamingStamp(t *testing.T) {
	checkCodecBodyStamp(t, &Cohere{}, "cohere.json", 50)
}

// TestCohereDecoderReuse runs one decoder over responses of every kind in
// turn, checking that nothing of one leaks into the next.
func TestCohereDecoderReuse(t *testing.T) {
	dec := (&Cohere{}).NewDecoder()
	for range 2 {
		if got := decodeFixture(t, dec, "cohere_error.sse"); got.Err == io.EOF {
			t.Fatal("no error")
		}
		if got := decodeFixture(t, dec, "cohere_thinking.sse"); got.Err != io.EOF ||
			got.Text != "Hi!" || got.Usage.CachedTokens != 128 {
			t.Fatalf("after an error: %+v", got)
		}
		if got := decodeFixture(t, dec, "cohere.sse"); got.Usage != (Usage{InputTokens: 70, OutputTokens: 2}) {
			t.Fatalf("usage %+v", got.Usage)
		}
		checkWholeBody(t, dec, "cohere.json", "Hello world")
	}
}

// FuzzCohereDecoder decodes arbitrary bodies under arbitrary content types
// and statuses, split into arbitrary Reads: see fuzzCodecDecoder.
func FuzzCohereDecoder(f *testing.F) {
	fuzzCodecDecoder(f, &Cohere{APIKey: "co-fuzz-0123456789"}, "cohere*.sse", "cohere.json", `{"message":"invalid api token"}`)
}

// cohereTextEvent is a content-delta as the API frames it: the shape of
// nearly every event of a Cohere stream.
const cohereTextEvent = "event: content-delta\n" +
	`data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" world"}}}}` + "\n\n"

// BenchmarkCohereDecodeStream decodes a 1000-delta Cohere stream read with
// 32 KiB reads; one op is one event (1000 of every 1004 carry text), so
// ns/op and allocs/op are per text event.
func BenchmarkCohereDecodeStream(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "cohere.sse"), []byte("\n\n"))
	head := string(bytes.Join(ev[:2], nil))
	tail := string(bytes.Join(ev[3:], nil))
	benchDecoder(b, (&Cohere{APIKey: "co-bench"}).NewDecoder(), "text/event-stream; charset=utf-8", benchStreamOf(head, cohereTextEvent, tail, 1000), len(cohereTextEvent), 0)
}
