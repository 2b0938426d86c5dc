package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var anthropicFixtures = []codecFixture{
	{"anthropic.sse", decoded{Text: "Hello world", Usage: Usage{InputTokens: 12, OutputTokens: 3}, HasUsage: true,
		Finish: "end_turn", Outputs: 2, Deltas: 7, Err: io.EOF}},
	// Thinking deltas are reasoning, a signature is not output, tool input
	// is tool arguments; pings anywhere; usage repeated in message_delta.
	{"anthropic_thinking_tool.sse", decoded{Text: "Let me check.", Reasoning: "The user wants the weather.",
		ToolArgs: `{"city": "Paris"}`, Usage: Usage{InputTokens: 2140, OutputTokens: 71, CachedTokens: 2000}, HasUsage: true,
		Finish: "tool_use", Outputs: 5, Deltas: 17, Err: io.EOF}},
	{"anthropic_error.sse", decoded{Text: "Hel", Usage: Usage{InputTokens: 12, OutputTokens: 1}, HasUsage: true,
		Outputs: 1, Deltas: 3, Err: &APIError{Provider: "anthropic", StatusCode: 200, InStream: true,
			Type: "overloaded_error", Message: "Overloaded"}}},
	// BOM, CRLF, comments, a ping first, "data:" without its space, escapes,
	// output_tokens sent twice (the last counts), no blank line at the end.
	{"anthropic_bom_comments.sse", decoded{Text: "café \"ok\"\n", Usage: Usage{InputTokens: 7, OutputTokens: 5}, HasUsage: true,
		Finish: "max_tokens", Outputs: 1, Deltas: 6, Err: io.EOF}},
	// No message_stop: the stream was cut.
	{"anthropic_cut.sse", decoded{Text: "Hello", Usage: Usage{InputTokens: 12, OutputTokens: 1}, HasUsage: true,
		Outputs: 1, Deltas: 4, Err: &DecodeError{Err: io.ErrUnexpectedEOF}}},
}

func TestAnthropicDecodeFixtures(t *testing.T) {
	checkCodecFixtures(t, &Anthropic{}, anthropicFixtures)
}

func TestAnthropicDecodeSplits(t *testing.T) { checkCodecSplits(t, &Anthropic{}, anthropicFixtures) }

func TestAnthropicDecodeCutMessage(t *testing.T) {
	got := decodeFixture(t, (&Anthropic{}).NewDecoder(), "anthropic_cut.sse")
	if !errors.Is(got.Err, io.ErrUnexpectedEOF) || !strings.Contains(got.Err.Error(), "anthropic: decode event 4: stream ended before message_stop") {
		t.Errorf("error %v", got.Err)
	}
}

func TestAnthropicDecodeNonStreaming(t *testing.T) {
	dec := (&Anthropic{}).NewDecoder()
	body := string(readFixture(t, "anthropic.json"))
	want := decoded{Text: "Hello world", Usage: Usage{InputTokens: 12, OutputTokens: 3}, HasUsage: true,
		Finish: "end_turn", Outputs: 1, Deltas: 1, Err: io.EOF}
	checkJSONBody(t, dec, body, want)
	// Thinking, text and tool use blocks; cache usage.
	msg := `{"id":"msg_5","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[` +
		`{"type":"thinking","thinking":"Hmm.","signature":"sig"},{"type":"redacted_thinking","data":"xyz"},` +
		`{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],` +
		`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":30}}`
	checkDecoded(t, "blocks", decodeAll(t, dec, jsonBody(msg), &Request{}), decoded{Text: "Checking.", Reasoning: "Hmm.",
		ToolArgs: `{"city":"Paris"}`, Usage: Usage{InputTokens: 115, OutputTokens: 30, CachedTokens: 100}, HasUsage: true,
		Finish: "tool_use", Outputs: 1, Deltas: 1, Err: io.EOF})
}

func TestAnthropicDecodeBadInput(t *testing.T) {
	checkDecodeCases(t, (&Anthropic{}).NewDecoder(), &Request{Stream: true}, []decodeCase{
		{"empty stream", sseBody(""), decoded{Err: &DecodeError{Err: errEmptyStream}}, []string{"stream ended before its first event"}},
		{"only message_stop", sseBody("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), decoded{Err: io.EOF}, nil},
		{"no event lines: JSON type decides", sseBody(`data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}}` + "\n\n" +
			`data: {"type":"message_stop"}` + "\n\n"), decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"no JSON type: the event name decides", sseBody("event: content_block_delta\ndata: {\"delta\":{\"text\":\"a\"}}\n\n" +
			"event: message_stop\ndata: {}\n\n"), decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"text outside a content_block_delta is not output", sseBody(`event: content_block_start` + "\n" +
			`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":"x"},"delta":{"text":"y"}}` + "\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"), decoded{Deltas: 1, Err: io.EOF}, nil},
		{"ping data is not read", sseBody("event: ping\ndata: not json\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
			decoded{Deltas: 1, Err: io.EOF}, nil},
		{"unknown event", sseBody("event: future_event\ndata: {\"type\":\"future_event\",\"x\":[1]}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
			decoded{Deltas: 1, Err: io.EOF}, nil},
		{"invalid JSON", sseBody("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\n\n"),
			decoded{Err: &DecodeError{}}, []string{"anthropic: decode event 1: unexpected end of JSON input"}},
		{"array data", sseBody("event: message_start\ndata: [1]\n\n"), decoded{Err: &DecodeError{}}, []string{"event data is not a JSON object"}},
		{"error event with text", sseBody("event: error\ndata: upstream connect error\n\n"),
			decoded{Err: &APIError{Provider: "anthropic", StatusCode: 200, InStream: true, Message: "upstream connect error"}}, nil},
		{"error type without the event name", sseBody(`data: {"type":"error","error":{"type":"api_error","message":"Internal server error"}}` + "\n\n"),
			decoded{Err: &APIError{Provider: "anthropic", StatusCode: 200, InStream: true, Type: "api_error", Message: "Internal server error"}}, nil},
		{"html for a stream", recorded(200, http.Header{"Content-Type": {"text/html"}}, "<html><title>Login</title></html>"),
			decoded{Err: &DecodeError{}}, []string{`unexpected content type "text/html" in a 200 response`, "Login"}},
		{"error JSON for a stream", jsonBody(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
			decoded{Err: &APIError{Provider: "anthropic", StatusCode: 200, InStream: true, Type: "overloaded_error", Message: "Overloaded"}}, nil},
		{"a body without type is a message", jsonBody(`{"content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn"}`),
			decoded{Text: "hi", Finish: "end_turn", Outputs: 1, Deltas: 1, Err: io.EOF}, nil},
		{"message_stop as a body", jsonBody(`{"type":"message_stop"}`), decoded{Err: &DecodeError{}}, []string{"not a message"}},
		{"empty JSON body", jsonBody(""), decoded{Err: &DecodeError{}}, []string{"empty response body"}},
		{"line over the limit", sseResponse(io.MultiReader(strings.NewReader("data: \""), &io.LimitedReader{R: &endless{b: 'a'}, N: DefaultMaxLineBytes + 1})),
			decoded{Err: &DecodeError{Err: ErrLineTooLong}}, nil},
	})
}

// TestAnthropicDecodeInStreamError checks the error event's classification
// and request id.
func TestAnthropicDecodeInStreamError(t *testing.T) {
	resp := sseResponse(bytes.NewReader(readFixture(t, "anthropic_error.sse")))
	resp.Header.Set("Request-Id", "req_011CSHoEeqs5C35K2UUqR7Fy")
	got := decodeAll(t, (&Anthropic{}).NewDecoder(), resp, &Request{Stream: true})
	var ae *APIError
	if !errors.As(got.Err, &ae) {
		t.Fatalf("error %v", got.Err)
	}
	if !ae.InStream || !ae.Overloaded() || !ae.Retryable() || ae.RateLimited() || ae.RequestID != "req_011CSHoEeqs5C35K2UUqR7Fy" {
		t.Errorf("%+v: overloaded %v, retryable %v", *ae, ae.Overloaded(), ae.Retryable())
	}
	if want := "anthropic: error in stream (overloaded_error): Overloaded"; ae.Error() != want {
		t.Errorf("Error() = %q, want %q", ae.Error(), want)
	}
}

func TestAnthropicStatusErrors(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	body := func(typ, msg string) string {
		return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_body"}`
	}
	checkCodecStatusErrors(t, &Anthropic{}, []codecStatus{
		{name: "400", status: 400, header: h("Request-Id", "req_1"), body: body("invalid_request_error", "max_tokens: Field required"),
			want:      APIError{Type: "invalid_request_error", Message: "max_tokens: Field required", RequestID: "req_1"},
			errString: "anthropic: 400 Bad Request (invalid_request_error): max_tokens: Field required"},
		{name: "401", status: 401, header: h(), body: body("authentication_error", "invalid x-api-key"),
			want: APIError{Type: "authentication_error", Message: "invalid x-api-key", RequestID: "req_body"}},
		{name: "402", status: 402, header: h(), body: body("billing_error", "Your credit balance is too low to access the Anthropic API."),
			want:  APIError{Type: "billing_error", Message: "Your credit balance is too low to access the Anthropic API.", RequestID: "req_body"},
			quota: true},
		{name: "403", status: 403, header: h(), body: body("permission_error", "Your API key does not have permission to use the specified resource."),
			want: APIError{Type: "permission_error", Message: "Your API key does not have permission to use the specified resource.", RequestID: "req_body"}},
		{name: "404", status: 404, header: h(), body: body("not_found_error", "model: claude-x"),
			want: APIError{Type: "not_found_error", Message: "model: claude-x", RequestID: "req_body"}},
		{name: "413", status: 413, header: h(), body: body("request_too_large", "Request exceeds the maximum allowed number of bytes."),
			want: APIError{Type: "request_too_large", Message: "Request exceeds the maximum allowed number of bytes.", RequestID: "req_body"}},
		{name: "429", status: 429, header: h("Request-Id", "req_2", "Retry-After", "12", "Anthropic-Ratelimit-Requests-Remaining", "0"),
			body: body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
			want: APIError{Type: "rate_limit_error", Message: "Number of request tokens has exceeded your per-minute rate limit",
				RequestID: "req_2", RetryAfter: 12 * time.Second},
			rateLimited: true, retryable: true, errString: "[retry after 12s]"},
		{name: "429 spend limit", status: 429, header: h("Request-Id", "req_3"),
			body: `{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits. You will regain access on 2025-09-01 at 00:00 UTC.","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_3"}`,
			want: APIError{Type: "rate_limit_error", Code: "enforced_spend_limit_reached", RequestID: "req_3",
				Message: "You have reached your specified workspace API usage limits. You will regain access on 2025-09-01 at 00:00 UTC."},
			rateLimited: true, quota: true, errString: "(rate_limit_error/enforced_spend_limit_reached)"},
		{name: "500", status: 500, header: h(), body: body("api_error", "Internal server error"),
			want: APIError{Type: "api_error", Message: "Internal server error", RequestID: "req_body"}, retryable: true},
		{name: "504", status: 504, header: h(), body: body("timeout_error", "Request timed out"),
			want: APIError{Type: "timeout_error", Message: "Request timed out", RequestID: "req_body"}, retryable: true},
		{name: "529", status: 529, header: h("Retry-After", "1"), body: body("overloaded_error", "Overloaded"),
			want:       APIError{Type: "overloaded_error", Message: "Overloaded", RequestID: "req_body", RetryAfter: time.Second},
			overloaded: true, retryable: true, errString: "anthropic: 529 (overloaded_error): Overloaded"},
		{name: "HTML 502", status: 502, header: http.Header{"Content-Type": {"text/html"}},
			body: "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
			want: APIError{Message: "502 Bad Gateway cloudflare"}, retryable: true},
	})
}

func TestAnthropicNewRequest(t *testing.T) {
	temp, topP, topK := 0.2, 0.8, 5
	checkCodecRequests(t, true, []codecRequest{
		{name: "defaults, streaming", env: map[string]string{"ANTHROPIC_API_KEY": "sk-ant-env-123456789"}, p: &Anthropic{},
			r:   &Request{Model: "claude-sonnet-4-5", Prompt: "hi", Stream: true},
			url: "https://api.anthropic.com/v1/messages",
			headers: map[string]string{"X-Api-Key": "sk-ant-env-123456789", "Anthropic-Version": "2023-06-01",
				"Content-Type": "application/json", "Accept": "text/event-stream", "Accept-Encoding": "identity"},
			noHeader: []string{"Authorization"},
			body:     `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}],"stream":true}`},
		{name: "all fields, not streaming", env: map[string]string{"ANTHROPIC_API_KEY": "sk-ant-env-123456789"},
			p: &Anthropic{BaseURL: "http://127.0.0.1:9000/v1/", APIKey: "sk-ant-mine-123456789", Version: "2024-01-01",
				Header: http.Header{"anthropic-beta": {"interleaved-thinking-2025-05-14"}}},
			r: &Request{Model: "claude-haiku-4-5", Prompt: "hi", System: "be brief", MaxTokens: 16,
				Temperature: &temp, TopP: &topP, TopK: &topK},
			url: "http://127.0.0.1:9000/v1/messages",
			headers: map[string]string{"X-Api-Key": "sk-ant-mine-123456789", "Anthropic-Version": "2024-01-01",
				"Anthropic-Beta": "interleaved-thinking-2025-05-14", "Accept": "application/json"},
			body: `{"model":"claude-haiku-4-5","max_tokens":16,"system":"be brief","messages":[{"role":"user","content":"hi"}],` +
				`"temperature":0.2,"top_p":0.8,"top_k":5}`},
		{name: "no key, extras", env: map[string]string{"ANTHROPIC_API_KEY": ""},
			p: &Anthropic{Header: http.Header{"X-Api-Key": {"sk-ant-header-123456789"}}},
			r: &Request{Model: "m", Prompt: "p", Extra: map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 2048},
				"max_tokens": 4096}},
			url:     "https://api.anthropic.com/v1/messages",
			headers: map[string]string{"X-Api-Key": "sk-ant-header-123456789"},
			body: `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"p"}],` +
				`"thinking":{"type":"enabled","budget_tokens":2048}}`},
		{name: "no key at all", env: map[string]string{"ANTHROPIC_API_KEY": ""}, p: &Anthropic{},
			r: &Request{Model: "m", Prompt: "p", MaxTokens: -3}, url: "https://api.anthropic.com/v1/messages",
			noHeader: []string{"X-Api-Key"},
			body:     `{"model":"m","max_tokens":1024,"messages":[{"role":"user","content":"p"}]}`},
	})
}

func TestAnthropicNewRequestErrors(t *testing.T) {
	checkRequestErrors(t, "pass", []requestError{
		{&Anthropic{BaseURL: "api.anthropic.com/v1"}, &Request{}, "anthropic: build request: BaseURL is not an absolute http or https URL"},
		{&Anthropic{BaseURL: "http://user:pass@h/v1\x7f", Label: "claude"}, &Request{}, "claude: build request: BaseURL is not"},
		{&Anthropic{}, nil, "anthropic: build request: nil Request"},
		{&Anthropic{}, &Request{Extra: map[string]any{"f": func() {}}}, `anthropic: encode request body: extra field "f"`},
	})
}

func TestAnthropicListModels(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-env-LIST-123456789")
	p := &Anthropic{BaseURL: "https://proxy.example/anthropic/v1", Version: "2023-06-01", Header: http.Header{"X-Team": {"a"}}}
	checkListRequest(t, p, "https://proxy.example/anthropic/v1/models?limit=1000",
		map[string]string{"X-Api-Key": "sk-ant-env-LIST-123456789", "Anthropic-Version": "2023-06-01", "X-Team": "a"})
	checkModelNames(t, p, `{"data":[{"type":"model","id":"claude-opus-4-1","display_name":"Claude Opus 4.1","created_at":"2025-08-05T00:00:00Z"},`+
		`{"type":"model","id":"claude-sonnet-4-5"}],"has_more":true,"first_id":"claude-opus-4-1","last_id":"claude-sonnet-4-5"}`,
		[]string{"claude-opus-4-1", "claude-sonnet-4-5"})
	_, err := p.DecodeModels(recorded(401, http.Header{"Request-Id": {"req_9"}},
		`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Type != "authentication_error" || ae.RequestID != "req_9" {
		t.Errorf("status error %v", err)
	}
}

func TestAnthropicKeyNeverInErrors(t *testing.T) {
	const key = "sk-ant-api03-S3CRETKEY0123456789abcdef"
	for _, p := range []*Anthropic{{APIKey: key}, {}} {
		t.Setenv("ANTHROPIC_API_KEY", key)
		checkCodecKeyRedaction(t, p, key, map[string]string{
			"error event":    "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"key " + key + " revoked\"}}\n\n",
			"error as text":  "event: error\ndata: key " + key + "\n\n",
			"invalid delta":  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"" + key + "\"\n\n",
			"error in a 200": "data: {\"type\":\"error\",\"error\":{\"message\":\"" + key + "\"}}\n\n",
		})
	}
}

func TestAnthropicDecodeStamps(t *testing.T) {
	checkCodecStamps(t, &Anthropic{}, "anthropic.sse", "\n\n", codecStamps{
		writes: func(ev [][]byte) []timedWrite {
			return []timedWrite{
				{30 * ms, string(ev[0])},                                      // message_start
				{31 * ms, string(ev[1]) + string(ev[2])},                      // block start and ping, coalesced
				{400 * ms, string(ev[3][:50])},                                // "Hello", first part
				{420 * ms, string(ev[3][50:])},                                // the rest
				{445 * ms, string(ev[4]) + string(ev[5]) + string(ev[6][:9])}, // " world", block stop, part of message_delta
				{460 * ms, string(ev[6][9:]) + string(ev[7])},                 // message_delta, message_stop
			}
		},
		want: []time.Duration{30 * ms, 31 * ms, 31 * ms, 420 * ms, 445 * ms, 445 * ms, 460 * ms},
	})
}

func TestAnthropicDecodeNonStreamingStamp(t *testing.T) {
	checkCodecBodyStamp(t, &Anthropic{}, "anthropic.json", 50)
}

// TestAnthropicDecoderReuse runs one decoder over responses of every kind
// in turn, checking that nothing of one leaks into the next.
func TestAnthropicDecoderReuse(t *testing.T) {
	dec := (&Anthropic{}).NewDecoder()
	plain := readFixture(t, "anthropic.sse")
	for range 2 {
		if got := decodeFixture(t, dec, "anthropic_thinking_tool.sse"); got.Usage.CachedTokens != 2000 {
			t.Fatalf("usage %+v", got.Usage)
		}
		// The first usage of the next stream must not carry the last one's.
		checkFirstUsage(t, dec, plain, Usage{InputTokens: 12, OutputTokens: 1})
		checkStatusError(t, dec, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			&APIError{Provider: "anthropic", StatusCode: 529, Type: "overloaded_error", Message: "Overloaded"})
		checkWholeBody(t, dec, "anthropic.json", "Hello world")
	}
}

// FuzzAnthropicDecoder decodes arbitrary bodies under arbitrary content
// types and statuses, split into arbitrary Reads: see fuzzCodecDecoder.
func FuzzAnthropicDecoder(f *testing.F) {
	fuzzCodecDecoder(f, &Anthropic{APIKey: "sk-ant-fuzz-0123456789"}, "anthropic*.sse", "anthropic.json",
		`{"type":"error","error":{"type":"rate_limit_error","message":"x","details":{"error_code":"enforced_spend_limit_reached"}}}`)
}

// anthropicTextEvent is a text delta as the API frames it: the shape of
// nearly every event of a Messages stream.
const anthropicTextEvent = "event: content_block_delta\n" +
	`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}` + "\n\n"

// BenchmarkAnthropicDecodeStream decodes a 1000-delta Messages stream read
// with 32 KiB reads; one op is one event (1000 of every 1007 carry text),
// so ns/op and allocs/op are per text event.
func BenchmarkAnthropicDecodeStream(b *testing.B) {
	ev := bytes.SplitAfter(readFixture(b, "anthropic.sse"), []byte("\n\n"))
	head := string(bytes.Join(ev[:3], nil))
	tail := string(bytes.Join(ev[5:], nil))
	benchDecoder(b, (&Anthropic{APIKey: "sk-ant-bench"}).NewDecoder(), "text/event-stream; charset=utf-8", benchStreamOf(head, anthropicTextEvent, tail, 1000), len(anthropicTextEvent), 0)
}

// FuzzAnthropicDelta checks that the fast path for content deltas decodes
// every event it accepts exactly as the full walk does.
func FuzzAnthropicDelta(f *testing.F) {
	for _, s := range []string{
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}`,
		`{"type":"content_block_delta","index":12,"delta":{"type":"text_delta","text":"a\"b\\u00e9\ud83d\ude00"}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hmm"}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\x"}}`,
		`{"type":"content_block_delta","index":-1.5e3,"delta":{"type":"text_delta","text":"x"}} `,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","text":"y"}}`,
	} {
		f.Add([]byte(s))
	}
	p := &Anthropic{}
	fast, full := p.NewDecoder().(*anthropicDecoder), p.NewDecoder().(*anthropicDecoder)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want Delta
		if !fast.decodeDelta(data, &got) {
			return
		}
		if err := full.decode(data, []byte("content_block_delta"), &want); err != nil {
			t.Fatalf("the fast path accepted %q, the full walk failed: %v", data, err)
		}
		if !bytes.Equal(got.Text, want.Text) || !bytes.Equal(got.Reasoning, want.Reasoning) || !bytes.Equal(got.ToolArgs, want.ToolArgs) ||
			got.HasUsage != want.HasUsage || got.Usage != want.Usage || got.FinishReason != want.FinishReason ||
			(got.Text == nil) != (want.Text == nil) || (got.Reasoning == nil) != (want.Reasoning == nil) || (got.ToolArgs == nil) != (want.ToolArgs == nil) {
			t.Fatalf("%q: fast path %+v, full walk %+v", data, got, want)
		}
	})
}

// TestAnthropicDeltaFastPath checks that the API's usual deltas take the
// fast path, so that FuzzAnthropicDelta compares something.
func TestAnthropicDeltaFastPath(t *testing.T) {
	d := (&Anthropic{}).NewDecoder().(*anthropicDecoder)
	for data, want := range map[string]string{
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}`:               " world",
		`{"type":"content_block_delta","index":3,"delta":{"type":"thinking_delta","thinking":"a\nb"}}`:         "a\nb",
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"k\""}}`: `{"k"`,
	} {
		var out Delta
		if !d.decodeDelta([]byte(data), &out) {
			t.Fatalf("%s: not taken by the fast path", data)
		}
		if got := string(out.Text) + string(out.Reasoning) + string(out.ToolArgs); got != want {
			t.Fatalf("%s: decoded %q, want %q", data, got, want)
		}
	}
}
