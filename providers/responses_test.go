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
	"testing/synctest"
	"time"
)

var responsesFixtures = []codecFixture{
	// The full 10-event stream of the wire reference: 8 lifecycle events,
	// 2 text deltas; usage and status from response.completed.
	{"responses.sse", decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true,
		Finish: "completed", Outputs: 2, Deltas: 10, Err: io.EOF}},
	{"responses_reasoning.sse", decoded{Text: "4", Reasoning: "Checking the sum. 2+2=4.",
		Usage: Usage{InputTokens: 14, OutputTokens: 85, ReasoningTokens: 64, CachedTokens: 8}, HasUsage: true,
		Finish: "completed", Outputs: 3, Deltas: 16, Err: io.EOF}},
	{"responses_function_call.sse", decoded{ToolArgs: `{"city":"Paris"}`, Usage: Usage{InputTokens: 57, OutputTokens: 18}, HasUsage: true,
		Finish: "completed", Outputs: 2, Deltas: 8, Err: io.EOF}},
	{"responses_incomplete.sse", decoded{Text: "Once upon a", Usage: Usage{InputTokens: 11, OutputTokens: 3}, HasUsage: true,
		Finish: "max_output_tokens", Outputs: 2, Deltas: 10, Err: io.EOF}},
	{"responses_failed.sse", decoded{Deltas: 2, Err: &APIError{Provider: "openai-responses", StatusCode: 200, InStream: true,
		Code: "server_error", Message: "The model failed to generate a response."}}},
	{"responses_error.sse", decoded{Text: "Hi", Outputs: 1, Deltas: 2, Err: &APIError{Provider: "openai-responses", StatusCode: 200,
		InStream: true, Code: "rate_limit_exceeded", Message: "Rate limit reached for gpt-4o-mini on tokens per min (TPM)."}}},
}

func TestResponsesDecodeFixtures(t *testing.T) {
	checkFixtureSplits(t, &OpenAIResponses{APIKey: "k"}, ctResponse("text/event-stream; charset=utf-8"), responsesFixtures)
}

// TestResponsesErrorClasses checks that in-stream errors classify for the
// engine's retry logic.
func TestResponsesErrorClasses(t *testing.T) {
	dec := (&OpenAIResponses{}).NewDecoder()
	var ae *APIError
	got := decodeAll(t, dec, famResponse("text/event-stream", bytes.NewReader(readFixture(t, "responses_failed.sse"))), &Request{Stream: true})
	if !errors.As(got.Err, &ae) || !ae.Retryable() || ae.RateLimited() {
		t.Errorf("failed: %v, retryable %v", got.Err, ae != nil && ae.Retryable())
	}
	got = decodeAll(t, dec, famResponse("text/event-stream", bytes.NewReader(readFixture(t, "responses_error.sse"))), &Request{Stream: true})
	if !errors.As(got.Err, &ae) || !ae.RateLimited() {
		t.Errorf("error event: %v, rate limited %v", got.Err, ae != nil && ae.RateLimited())
	}
	if want := "openai-responses: error in stream (rate_limit_exceeded): Rate limit reached"; !strings.HasPrefix(got.Err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", got.Err, want)
	}
}

func TestResponsesDecodeQuirks(t *testing.T) {
	dec := (&OpenAIResponses{}).NewDecoder()
	stream := &Request{Stream: true}
	completed := `data: {"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":1,"output_tokens":1}}}` + "\n\n"
	for _, tc := range []struct {
		name string
		body string
		want decoded
	}{
		{"no event lines, type last", `data: {"delta":"Hi","type":"response.output_text.delta"}` + "\n\n" + completed,
			decoded{Text: "Hi", Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 2, Err: io.EOF}},
		{"type from the event line when data has none", "event: response.output_text.delta\ndata: {\"delta\":\"Hi\"}\n\n" + completed,
			decoded{Text: "Hi", Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 2, Err: io.EOF}},
		{"response before type in the terminal event",
			`data: {"response":{"status":"incomplete","incomplete_details":{"reason":"content_filter"},"usage":null},"type":"response.incomplete"}` + "\n\n",
			decoded{Finish: "content_filter", Deltas: 1, Err: io.EOF}},
		{"reasoning text and refusal deltas",
			`data: {"type":"response.reasoning_text.delta","delta":"think"}` + "\n\n" + `data: {"type":"response.refusal.delta","delta":"No."}` + "\n\n" + completed,
			decoded{Text: "No.", Reasoning: "think", Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Outputs: 2, Deltas: 3, Err: io.EOF}},
		{"escaped delta", `data: {"type":"response.output_text.delta","delta":"caf\u00e9\n\"q\""}` + "\n\n" + completed,
			decoded{Text: "café\n\"q\"", Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 2, Err: io.EOF}},
		{"nothing read after the terminal event", completed + `data: {"type":"response.output_text.delta","delta":"late"}` + "\n\ndata: {broken\n\n",
			decoded{Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Deltas: 1, Err: io.EOF}},
		{"keep-alive comments", ": keep-alive\n\n" + `data: {"type":"response.output_text.delta","delta":"a"}` + "\n\n: ping\n\n" + completed,
			decoded{Text: "a", Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 2, Err: io.EOF}},
		{"terminal event without its blank line", strings.TrimSuffix(completed, "\n\n"),
			decoded{Usage: Usage{InputTokens: 1, OutputTokens: 1}, HasUsage: true, Finish: "completed", Deltas: 1, Err: io.EOF}},
		{"completed without a response object", `data: {"type":"response.completed"}` + "\n\n",
			decoded{Finish: "completed", Deltas: 1, Err: io.EOF}},
		{"incomplete without a status", `event: response.incomplete` + "\n" + `data: {"response":{"usage":{"output_tokens":4}}}` + "\n\n",
			decoded{Usage: Usage{OutputTokens: 4}, HasUsage: true, Finish: "incomplete", Deltas: 1, Err: io.EOF}},
		{"failed without an error object", `data: {"type":"response.failed","response":{"status":"failed","error":null}}` + "\n\n",
			decoded{Err: &APIError{Provider: "openai-responses", StatusCode: 200, InStream: true, Message: "the response failed"}}},
		{"nested error event", `data: {"type":"error","error":{"type":"server_error","code":"server_error","message":"boom"}}` + "\n\n",
			decoded{Err: &APIError{Provider: "openai-responses", StatusCode: 200, InStream: true, Type: "server_error", Code: "server_error", Message: "boom"}}},
		{"cut before the terminal event", `data: {"type":"response.output_text.delta","delta":"a"}` + "\n\n" + `data: {"type":"response.compl`,
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &DecodeError{Err: io.ErrUnexpectedEOF}}},
		{"[DONE] before the terminal event", `data: {"type":"response.output_text.delta","delta":"a"}` + "\n\ndata: [DONE]\n\n",
			decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &DecodeError{Err: io.ErrUnexpectedEOF}}},
		{"empty stream", "", decoded{Err: &DecodeError{Err: errEmptyStream}}},
		{"invalid JSON", `data: {"type":"response.output_text.delta","delta":"a"` + "\n\n", decoded{Err: &DecodeError{}}},
		{"not an object", "data: [1]\n\n", decoded{Err: &DecodeError{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := famCheckSplits(t, dec, "text/event-stream", []byte(tc.body), stream)
			famCompare(t, got, tc.want)
		})
	}
}

func TestResponsesDecodeNonStreaming(t *testing.T) {
	dec := (&OpenAIResponses{}).NewDecoder()
	for _, tc := range []struct {
		name, ct, body string
		req            *Request
		want           decoded
	}{
		{"object", "application/json", string(readFixture(t, "responses.json")), &Request{},
			decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"object for a stream request", "application/json", string(readFixture(t, "responses.json")), &Request{Stream: true},
			decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"no content type", "", string(readFixture(t, "responses.json")), &Request{},
			decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true, Finish: "completed", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"reasoning, refusal and a function call", "application/json", string(readFixture(t, "responses_mixed.json")), &Request{},
			decoded{Text: "It is I can't say.", Reasoning: "Checking the sum. 2+2=4.", ToolArgs: `{"city":"Paris"}`,
				Usage: Usage{InputTokens: 30, OutputTokens: 90, ReasoningTokens: 64, CachedTokens: 16}, HasUsage: true,
				Finish: "completed", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"type after text, unknown parts skipped", "application/json",
			`{"output":[{"content":[{"text":"a","type":"output_text"},{"text":"secret","type":"input_text"},{"type":"reasoning_text","text":"r"}]}],"status":"completed"}`, &Request{},
			decoded{Text: "a", Reasoning: "r", Finish: "completed", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"incomplete", "application/json",
			`{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"Once"}]}],"usage":{"input_tokens":3,"output_tokens":1}}`, &Request{},
			decoded{Text: "Once", Usage: Usage{InputTokens: 3, OutputTokens: 1}, HasUsage: true, Finish: "max_output_tokens", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{"failed", "application/json", `{"status":"failed","error":{"code":"server_error","message":"m"},"output":[]}`, &Request{},
			decoded{Err: &APIError{Provider: "openai-responses", StatusCode: 200, InStream: true, Code: "server_error", Message: "m"}}},
		{"error object with a 200", "application/json", `{"error":{"message":"bad","type":"invalid_request_error","code":null}}`, &Request{},
			decoded{Err: &APIError{Provider: "openai-responses", StatusCode: 200, InStream: true, Type: "invalid_request_error", Message: "bad"}}},
		{"empty", "application/json", " ", &Request{}, decoded{Err: &DecodeError{}}},
		{"truncated", "application/json", `{"status":"completed","output":[`, &Request{}, decoded{Err: &DecodeError{}}},
		{"html", "text/html", "<html><title>Bad gateway</title></html>", &Request{}, decoded{Err: &DecodeError{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.ct != "" {
				h.Set("Content-Type", tc.ct)
			}
			famCompare(t, decodeAll(t, dec, recorded(200, h, tc.body), tc.req), tc.want)
		})
	}
}

func TestResponsesDecodeStamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := bytes.SplitAfter(readFixture(t, "responses.sse"), []byte("\n\n"))
		start := time.Now()
		body := newTimedBody([]timedWrite{
			{30 * ms, string(ev[0]) + string(ev[1])},                                  // created, in_progress
			{35 * ms, string(ev[2]) + string(ev[3])},                                  // item and part added
			{310 * ms, string(ev[4][:25])},                                            // "Hello", its event line
			{320 * ms, string(ev[4][25:])},                                            // "Hello", its data
			{345 * ms, string(ev[5])},                                                 // " world"
			{350 * ms, string(ev[6]) + string(ev[7]) + string(ev[8]) + string(ev[9])}, // done events and completed
			{2000 * ms, "event: response.output_text.delta\ndata: {}\n\n"},            // never read
		})
		at, output, end := deltaStamps(t, (&OpenAIResponses{}).NewDecoder(), famResponse("text/event-stream", body), &Request{Stream: true}, start)
		if end != io.EOF {
			t.Fatalf("ended with %v", end)
		}
		if now := time.Since(start); now != 350*ms {
			t.Errorf("the decoder waited until %v, after the terminal event at 350ms", now)
		}
		io.Copy(io.Discard, body) // let the writer finish
		wantAt := []time.Duration{30 * ms, 30 * ms, 35 * ms, 35 * ms, 320 * ms, 345 * ms, 350 * ms, 350 * ms, 350 * ms, 350 * ms}
		wantOut := []bool{false, false, false, false, true, true, false, false, false, false}
		if !reflect.DeepEqual(at, wantAt) || !reflect.DeepEqual(output, wantOut) {
			t.Errorf("At %v output %v\nwant %v %v", at, output, wantAt, wantOut)
		}
	})
}

func TestResponsesNewRequest(t *testing.T) {
	temp, topP, topK := 0.3, 0.8, 7
	t.Setenv("OPENAI_API_KEY", "sk-env-responses-123")
	checkCodecRequests(t, false, []codecRequest{
		{name: "defaults from the environment, streaming", p: &OpenAIResponses{},
			r:   &Request{Model: "gpt-4o-mini", Prompt: "hi", System: "be brief", MaxTokens: 16, Temperature: &temp, TopP: &topP, TopK: &topK, Stream: true},
			url: "https://api.openai.com/v1/responses",
			headers: map[string]string{"Authorization": "Bearer sk-env-responses-123", "Content-Type": "application/json",
				"Accept": "text/event-stream", "Accept-Encoding": "identity"},
			body: `{"model":"gpt-4o-mini","input":"hi","instructions":"be brief","max_output_tokens":16,"temperature":0.3,"top_p":0.8,"stream":true}`},
		{name: "own server and key, not streaming, extras", p: &OpenAIResponses{BaseURL: "http://127.0.0.1:8000/v1/", APIKey: "sk-own-456",
			Organization: "org-1", Project: "proj-1", Header: http.Header{"x-trace": {"t"}}},
			r:       &Request{Model: "m", Prompt: "hi", Extra: map[string]any{"store": false, "reasoning": map[string]any{"effort": "low"}}},
			url:     "http://127.0.0.1:8000/v1/responses",
			headers: map[string]string{"Authorization": "Bearer sk-own-456", "Accept": "application/json", "OpenAI-Organization": "org-1", "OpenAI-Project": "proj-1", "X-Trace": "t"},
			body:    `{"model":"m","input":"hi","store":false,"reasoning":{"effort":"low"}}`},
	})
	t.Setenv("OPENAI_API_KEY", "")
	req, err := (&OpenAIResponses{BaseURL: "http://h/v1"}).NewRequest(context.Background(), &Request{Prompt: "x"})
	if err != nil || req.Header.Get("Authorization") != "" {
		t.Errorf("no key: %v, Authorization %q", err, req.Header.Get("Authorization"))
	}
	for _, tc := range []struct {
		p    *OpenAIResponses
		r    *Request
		want string
	}{
		{&OpenAIResponses{BaseURL: "h/v1"}, &Request{}, "openai-responses: build request: BaseURL is not an absolute"},
		{&OpenAIResponses{Label: "resp"}, nil, "resp: build request: nil Request"},
		{&OpenAIResponses{}, &Request{Extra: map[string]any{"f": func() {}}}, `openai-responses: encode request body: extra field "f"`},
	} {
		if _, err := tc.p.NewRequest(context.Background(), tc.r); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want prefix %q", err, tc.want)
		}
	}
}

func TestResponsesStatusErrors(t *testing.T) {
	resp := recorded(429, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_9"}, "Retry-After": {"2"}},
		`{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	err := (&OpenAIResponses{}).NewDecoder().Reset(resp, &Request{Stream: true})
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("Reset: %v", err)
	}
	want := APIError{Provider: "openai-responses", StatusCode: 429, Type: "requests", Code: "rate_limit_exceeded",
		Message: "Rate limit reached", RetryAfter: 2 * time.Second, RequestID: "req_9"}
	if *ae != want {
		t.Errorf("got  %+v\nwant %+v", *ae, want)
	}
}

func TestResponsesKeyNeverInErrors(t *testing.T) {
	const key = "sk-proj-RESPONSES-S3CRET-0123456789"
	p := &OpenAIResponses{APIKey: key}
	req, err := p.NewRequest(context.Background(), &Request{Model: "m", Prompt: "hi", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	sse := http.Header{"Content-Type": {"text/event-stream"}}
	checkRedacted(t, p, req, map[string]*http.Response{
		"401":         recorded(401, http.Header{"Content-Type": {"application/json"}}, `{"error":{"message":"Incorrect API key provided: `+key+`"}}`),
		"error event": recorded(200, sse, `data: {"type":"error","code":"x","message":"`+key+`"}`+"\n\n"),
		"failed":      recorded(200, sse, `data: {"type":"response.failed","response":{"error":{"code":"c","message":"`+key+`"}}}`+"\n\n"),
		"invalid":     recorded(200, sse, `data: {"type":"`+key+`"`+"\n\n"),
		"body":        jsonBody(`{"status":"failed","error":{"message":"` + key + `"}}`),
	}, key, 12)
}

// TestOpenAIFamilyListModels covers the ModelLister of OpenAI and
// OpenAIResponses, which share GET {BaseURL}/models.
func TestOpenAIFamilyListModels(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-env-models-123")
	for _, tc := range []struct {
		ml      ModelLister
		url     string
		headers map[string]string
	}{
		{&OpenAI{}, "https://api.openai.com/v1/models", map[string]string{"Authorization": "Bearer sk-env-models-123", "Accept": "application/json"}},
		{&OpenAI{BaseURL: "http://127.0.0.1:8000/v1/", APIKey: "EMPTY", Organization: "org-2", Header: http.Header{"X-A": {"b"}}},
			"http://127.0.0.1:8000/v1/models", map[string]string{"Authorization": "Bearer EMPTY", "OpenAI-Organization": "org-2", "X-A": "b"}},
		{&OpenAIResponses{}, "https://api.openai.com/v1/models", map[string]string{"Authorization": "Bearer sk-env-models-123"}},
		{&OpenAIResponses{BaseURL: "https://proxy.example/v1", APIKey: "sk-own", Project: "p"},
			"https://proxy.example/v1/models", map[string]string{"Authorization": "Bearer sk-own", "OpenAI-Project": "p"}},
	} {
		checkListRequest(t, tc.ml, tc.url, tc.headers)
	}
	if _, err := (&OpenAI{BaseURL: "nope"}).NewListModelsRequest(context.Background()); err == nil {
		t.Error("bad BaseURL accepted")
	}
	list := `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},{"id":"o3","object":"model"},{"object":"model"}]}`
	for _, ml := range []ModelLister{&OpenAI{}, &OpenAIResponses{}} {
		checkModelNames(t, ml, list, []string{"gpt-4o-mini", "o3"})
	}
	for name, tc := range map[string]struct {
		status int
		body   string
		check  func(error) bool
	}{
		"401": {401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`,
			func(err error) bool {
				var ae *APIError
				return errors.As(err, &ae) && ae.StatusCode == 401 && ae.Code == "invalid_api_key" && !ae.InStream
			}},
		"error with 200": {200, `{"error":{"message":"m"}}`, func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.InStream && ae.Message == "m"
		}},
		"no data":    {200, `{"object":"list"}`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
		"not JSON":   {200, `<html>`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
		"empty list": {200, `{"data":[]}`, func(err error) bool { return err == nil }},
	} {
		ids, err := (&OpenAI{}).DecodeModels(recorded(tc.status, http.Header{"Content-Type": {"application/json"}}, tc.body))
		if !tc.check(err) {
			t.Errorf("%s: %q, %v", name, ids, err)
		}
		if err == nil && ids == nil {
			t.Errorf("%s: nil list", name)
		}
	}
}
