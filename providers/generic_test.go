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

// genericOllama is the ready-made configuration of Ollama's native
// /api/chat (NDJSON), as Generic's doc comment shows it.
func genericOllama() *Generic {
	return &Generic{
		Label: "ollama-native",
		URL:   "http://127.0.0.1:11434/api/chat",
		Body: `{"model":{{model}},"messages":{{messages}},"stream":{{stream}},` +
			`"options":{"num_predict":{{max_tokens}},"temperature":{{temperature}}}}`,
		Format:           "ndjson",
		TextPath:         "message.content",
		ReasoningPath:    "message.thinking",
		InputTokensPath:  "prompt_eval_count",
		OutputTokensPath: "eval_count",
		FinishPath:       "done_reason",
		DonePath:         "done",
		ErrorPath:        "error",
	}
}

// genericTGI is the ready-made configuration of TGI's native
// /generate_stream (SSE), as Generic's doc comment shows it.
func genericTGI() *Generic {
	return &Generic{
		Label: "tgi-native",
		URL:   "http://127.0.0.1:8080/generate_stream",
		Body: `{"inputs":{{prompt}},"parameters":{"max_new_tokens":{{max_tokens}},` +
			`"temperature":{{temperature}},"details":true}}`,
		TextPath:         "token.text",
		SpecialPath:      "token.special",
		OutputTokensPath: "details.generated_tokens",
		FinishPath:       "details.finish_reason",
		ErrorPath:        "error",
	}
}

// genericSingle reads one JSON body of a made-up API.
func genericSingle() *Generic {
	return &Generic{
		URL:              "https://api.example.com/v1/generate",
		Body:             `{"prompt":{{prompt}}}`,
		Format:           "json",
		TextPath:         "result.outputs.0.text",
		ReasoningPath:    "result.outputs.*.reasoning",
		InputTokensPath:  "usage.in",
		OutputTokensPath: "usage.out",
		FinishPath:       "result.stop_reason",
	}
}

// genericOpenAI reads OpenAI's chat stream through Generic.
func genericOpenAI() *Generic {
	return &Generic{
		URL:              "http://127.0.0.1:8000/v1/chat/completions",
		TextPath:         "choices.0.delta.content|choices.0.message.content",
		ReasoningPath:    "choices.0.delta.reasoning_content|choices.0.delta.reasoning",
		InputTokensPath:  "usage.prompt_tokens",
		OutputTokensPath: "usage.completion_tokens",
		FinishPath:       "choices.0.finish_reason",
		DoneData:         "[DONE]",
		ErrorPath:        "error",
	}
}

var genericFixtures = []struct {
	name string
	p    func() *Generic
	file string
	ct   string
	want decoded
}{
	{"ollama", genericOllama, "ollama_chat.ndjson", "application/x-ndjson",
		decoded{Text: "Hello world", Usage: Usage{InputTokens: 26, OutputTokens: 3}, HasUsage: true, Finish: "stop", Outputs: 3, Deltas: 4, Err: io.EOF}},
	{"ollama CRLF", genericOllama, "ollama_chat_crlf.ndjson", "application/x-ndjson",
		decoded{Text: "Hello world", Usage: Usage{InputTokens: 26, OutputTokens: 3}, HasUsage: true, Finish: "stop", Outputs: 3, Deltas: 4, Err: io.EOF}},
	// A blank line, and a last line without its LF.
	{"ollama thinking", genericOllama, "ollama_thinking.ndjson", "application/x-ndjson",
		decoded{Text: "Yes", Reasoning: "Hmm. Easy.", Usage: Usage{InputTokens: 12, OutputTokens: 9}, HasUsage: true, Finish: "length", Outputs: 3, Deltas: 4, Err: io.EOF}},
	{"ollama error", genericOllama, "ollama_error.ndjson", "application/x-ndjson",
		decoded{Text: "Par", Outputs: 1, Deltas: 1, Err: &APIError{Provider: "ollama-native", StatusCode: 200, InStream: true,
			Message: "an error was encountered while running the model: unexpected EOF"}}},
	// The special end-of-text token is not output.
	{"TGI", genericTGI, "tgi_generate_stream.sse", "text/event-stream",
		decoded{Text: "Hello world", Usage: Usage{OutputTokens: 3}, HasUsage: true, Finish: "eos_token", Outputs: 2, Deltas: 3, Err: io.EOF}},
	{"TGI error", genericTGI, "tgi_error.sse", "text/event-stream",
		decoded{Text: "Hello", Outputs: 1, Deltas: 1, Err: &APIError{Provider: "tgi-native", StatusCode: 200, InStream: true,
			Message: "Request failed during generation: Server error: CUDA out of memory."}}},
	{"single JSON", genericSingle, "generic_single.json", "application/json",
		decoded{Text: "Hello world", Reasoning: "Greeting.", Usage: Usage{InputTokens: 5, OutputTokens: 2}, HasUsage: true, Finish: "end", Outputs: 1, Deltas: 1, Err: io.EOF}},
	{"OpenAI chat", genericOpenAI, "openai_chat.sse", "text/event-stream",
		decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true, Finish: "stop", Outputs: 2, Deltas: 5, Err: io.EOF}},
	{"OpenAI chat, usage in every chunk", genericOpenAI, "vllm_usage_every_chunk.sse", "text/event-stream",
		decoded{Text: "Hi there", Usage: Usage{InputTokens: 5, OutputTokens: 2}, HasUsage: true, Finish: "stop", Outputs: 1, Deltas: 3, Err: io.EOF}},
	{"OpenAI chat, non-streaming", genericOpenAI, "openai_chat.json", "application/json",
		decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true, Finish: "stop", Outputs: 1, Deltas: 1, Err: io.EOF}},
}

func TestGenericDecodeFixtures(t *testing.T) {
	for _, tc := range genericFixtures {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p()
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			got := famCheckSplits(t, p.NewDecoder(), tc.ct, readFixture(t, tc.file), &Request{Stream: true})
			famCompare(t, got, tc.want)
		})
	}
}

func TestGenericDecodeQuirks(t *testing.T) {
	done := "[DONE]"
	for _, tc := range []struct {
		name string
		p    *Generic
		ct   string
		body string
		req  *Request
		want decoded
	}{
		{name: "per-event usage increments are summed",
			p:    &Generic{URL: "http://h", TextPath: "t", OutputTokensPath: "n", InputTokensPath: "in", UsageIncrements: true},
			ct:   "text/event-stream",
			body: "data: {\"t\":\"a\",\"n\":1,\"in\":4}\n\ndata: {\"t\":\"bc\",\"n\":2}\n\ndata: {\"t\":\"d\",\"n\":\"1\"}\n\n",
			want: decoded{Text: "abcd", Usage: Usage{InputTokens: 4, OutputTokens: 4}, HasUsage: true, Outputs: 3, Deltas: 3, Err: io.EOF}},
		{name: "cumulative usage: the last one wins",
			p:    &Generic{URL: "http://h", TextPath: "t", OutputTokensPath: "n"},
			ct:   "text/event-stream",
			body: "data: {\"t\":\"a\",\"n\":1}\n\ndata: {\"t\":\"b\",\"n\":2}\n\ndata: {\"n\":2}\n\n",
			want: decoded{Text: "ab", Usage: Usage{OutputTokens: 2}, HasUsage: true, Outputs: 2, Deltas: 3, Err: io.EOF}},
		{name: "done value ends the stream; nothing after it is read",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "text", DonePath: "type", DoneValue: "end", FinishPath: "reason"},
			ct:   "application/x-ndjson",
			body: "{\"type\":\"delta\",\"text\":\"a\"}\n{\"type\":\"end\",\"reason\":\"stop\"}\n{\"type\":\"delta\",\"text\":\"late\"}\nnot json\n",
			want: decoded{Text: "a", Finish: "stop", Outputs: 1, Deltas: 2, Err: io.EOF}},
		{name: "done marker in NDJSON",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t", DoneData: done},
			ct:   "application/x-ndjson",
			body: "{\"t\":\"a\"}\n  [DONE]  \n{\"t\":\"late\"}\n",
			want: decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{name: "wildcards over arrays and objects, keys of digits",
			p:    &Generic{URL: "http://h", TextPath: "choices.*.delta.content", ReasoningPath: "parts.*.r|byid.0.r"},
			ct:   "text/event-stream",
			body: `data: {"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}],"parts":{"x":{"r":"1"},"y":{"r":"2"}},"byid":{"0":{"r":"3"}}}` + "\n\n",
			want: decoded{Text: "ab", Reasoning: "123", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{name: "a path through a value of another kind finds nothing",
			p:    &Generic{URL: "http://h", TextPath: "a.b.c", OutputTokensPath: "n"},
			ct:   "text/event-stream",
			body: "data: {\"a\":\"str\",\"n\":\"x\"}\n\ndata: {\"a\":[{\"b\":1}],\"n\":null}\n\ndata: 7\n\ndata: {\"a\":{\"b\":{\"c\":5}}}\n\n",
			want: decoded{Deltas: 4, Err: io.EOF}},
		{name: "error values that are not errors",
			p:  &Generic{URL: "http://h", TextPath: "t", ErrorPath: "error"},
			ct: "text/event-stream",
			body: "data: {\"t\":\"a\",\"error\":null}\n\ndata: {\"t\":\"b\",\"error\":false}\n\ndata: {\"t\":\"c\",\"error\":\"\"}\n\n" +
				"data: {\"t\":\"d\",\"error\":{}}\n\ndata: {\"t\":\"e\",\"error\":[ ]}\n\ndata: {\"t\":\"f\",\"error\":0}\n\n",
			want: decoded{Text: "abcdef", Outputs: 6, Deltas: 6, Err: io.EOF}},
		{name: "error object",
			p:    &Generic{Label: "g", URL: "http://h", TextPath: "t", ErrorPath: "error"},
			ct:   "text/event-stream",
			body: `data: {"error":{"message":"Overloaded","type":"overloaded_error","code":529}}` + "\n\n",
			want: decoded{Err: &APIError{Provider: "g", StatusCode: 200, InStream: true, Type: "overloaded_error", Code: "529", Message: "Overloaded"}}},
		{name: "error object without a message",
			p:    &Generic{Label: "g", URL: "http://h", TextPath: "t", ErrorPath: "err"},
			ct:   "text/event-stream",
			body: `data: {"err":{"type":"bad","detail_code":1}}` + "\n\n",
			want: decoded{Err: &APIError{Provider: "g", StatusCode: 200, InStream: true, Type: "bad", Message: `{"type":"bad","detail_code":1}`}}},
		{name: "error flag",
			p:    &Generic{Label: "g", URL: "http://h", TextPath: "t", ErrorPath: "failed|status_code"},
			ct:   "text/event-stream",
			body: `data: {"t":"a","status_code":0}` + "\n\n" + `data: {"failed":true,"why":"busy"}` + "\n\n",
			want: decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &APIError{Provider: "g", StatusCode: 200, InStream: true, Message: `{"failed":true,"why":"busy"}`}}},
		{name: "SSE format, JSON answer",
			p:    &Generic{URL: "http://h", TextPath: "choices.0.message.content"},
			ct:   "application/json",
			body: `{"choices":[{"message":{"content":"whole"}}]}`,
			want: decoded{Text: "whole", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{name: "NDJSON format, non-streaming request, JSON body",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "message.content"},
			ct:   "application/json",
			body: "{\n  \"message\": {\"content\": \"pretty\"}\n}\n",
			req:  &Request{},
			want: decoded{Text: "pretty", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{name: "NDJSON with a BOM and text/plain",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "text/plain",
			body: "\xEF\xBB\xBF{\"t\":\"a\"}\n{\"t\":\"b\"}\n",
			want: decoded{Text: "ab", Outputs: 2, Deltas: 2, Err: io.EOF}},
		{name: "NDJSON cut inside the last line",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "application/x-ndjson",
			body: "{\"t\":\"a\"}\n{\"t\":\"b",
			want: decoded{Text: "a", Outputs: 1, Deltas: 1, Err: io.EOF}},
		{name: "invalid NDJSON line",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "application/x-ndjson",
			body: "{\"t\":\"a\"}\n{\"t\" \"b\"}\n",
			want: decoded{Text: "a", Outputs: 1, Deltas: 1, Err: &DecodeError{}}},
		{name: "two values on one NDJSON line",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "application/x-ndjson",
			body: "{\"t\":\"a\"} {\"t\":\"b\"}\n",
			want: decoded{Err: &DecodeError{}}},
		{name: "empty NDJSON stream",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "application/x-ndjson",
			body: "\n \r\n\n",
			want: decoded{Err: &DecodeError{Err: errEmptyStream}}},
		{name: "empty SSE stream",
			p:    &Generic{URL: "http://h", TextPath: "t"},
			ct:   "text/event-stream",
			body: ": ping\n\n",
			want: decoded{Err: &DecodeError{Err: errEmptyStream}}},
		{name: "non-JSON SSE data",
			p:    &Generic{URL: "http://h", TextPath: "t"},
			ct:   "text/event-stream",
			body: "data: [DONE]\n\n",
			want: decoded{Err: &DecodeError{}}},
		{name: "HTML page",
			p:    &Generic{URL: "http://h", Format: "ndjson", TextPath: "t"},
			ct:   "text/html; charset=utf-8",
			body: "<html><body>Login</body></html>",
			want: decoded{Err: &DecodeError{}}},
		{name: "empty JSON body",
			p:    &Generic{URL: "http://h", Format: "json", TextPath: "t"},
			ct:   "application/json",
			body: "  ",
			want: decoded{Err: &DecodeError{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req == nil {
				req = &Request{Stream: true}
			}
			got := famCheckSplits(t, tc.p.NewDecoder(), tc.ct, []byte(tc.body), req)
			famCompare(t, got, tc.want)
		})
	}
}

// TestGenericLineTooLong checks an NDJSON line over the cap, whatever the
// Reads, with a small cap and with the default one.
func TestGenericLineTooLong(t *testing.T) {
	p := &Generic{URL: "http://h", Format: "ndjson", TextPath: "t", MaxLineBytes: 64}
	ok := `{"t":"` + strings.Repeat("a", 56) + `"}` // 64 bytes: at the cap
	for _, body := range []string{
		"{\"t\":\"x\"}\n" + `{"t":"` + strings.Repeat("a", 57) + "\"}\n",
		"{\"t\":\"x\"}\n" + `{"t":"` + strings.Repeat("a", 57) + "\"}\r\n",
		"{\"t\":\"x\"}\n" + `{"t":"` + strings.Repeat("a", 57) + "\"}",
		"{\"t\":\"x\"}\n" + `{"t":"` + strings.Repeat("a", 500),
	} {
		got := famCheckSplits(t, p.NewDecoder(), "application/x-ndjson", []byte(body), &Request{Stream: true})
		famCompare(t, got, decoded{Text: "x", Outputs: 1, Deltas: 1, Err: &DecodeError{Err: ErrLineTooLong}})
		if want := "generic: decode event 2: ndjson: line exceeds the length limit: a line is over 64 bytes"; got.Err.Error() != want {
			t.Errorf("error %q, want %q", got.Err, want)
		}
	}
	for _, body := range []string{ok + "\n", ok + "\r\n", ok} {
		got := famCheckSplits(t, p.NewDecoder(), "application/x-ndjson", []byte(body), &Request{Stream: true})
		famCompare(t, got, decoded{Text: strings.Repeat("a", 56), Outputs: 1, Deltas: 1, Err: io.EOF})
	}
	// The default cap, 32 MiB, with a line that never ends.
	src := &endless{b: 'a'}
	body := io.MultiReader(strings.NewReader("{\"t\":\"x\"}\n{\"t\":\""), src)
	got := decodeAll(t, (&Generic{URL: "http://h", Format: "ndjson", TextPath: "t"}).NewDecoder(), famResponse("application/x-ndjson", body), &Request{Stream: true})
	famCompare(t, got, decoded{Text: "x", Outputs: 1, Deltas: 1, Err: &DecodeError{Err: ErrLineTooLong}})
	if src.n > DefaultMaxLineBytes+2*sseReadSize {
		t.Errorf("read %d bytes of a line capped at %d", src.n, DefaultMaxLineBytes)
	}
}

func TestGenericDecodeReadError(t *testing.T) {
	body := io.MultiReader(strings.NewReader("{\"message\":{\"content\":\"a\"}}\n{\"mess"), errReader{io.ErrUnexpectedEOF})
	got := decodeAll(t, genericOllama().NewDecoder(), famResponse("application/x-ndjson", body), &Request{Stream: true})
	if !errors.Is(got.Err, io.ErrUnexpectedEOF) || got.Deltas != 1 {
		t.Fatalf("got %d deltas, %v", got.Deltas, got.Err)
	}
	if want := "ollama-native: read line 2: unexpected EOF"; got.Err.Error() != want {
		t.Errorf("error %q, want %q", got.Err, want)
	}
}

// errReader returns err on every Read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestGenericStatusErrors(t *testing.T) {
	resp := recorded(404, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}, `{"error":"model \"x\" not found, try pulling it first"}`)
	err := genericOllama().NewDecoder().Reset(resp, &Request{Stream: true})
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("Reset: %v", err)
	}
	want := APIError{Provider: "ollama-native", StatusCode: 404, RequestID: "r1", Message: `model "x" not found, try pulling it first`}
	if *ae != want {
		t.Errorf("got  %+v\nwant %+v", *ae, want)
	}
	resp = recorded(503, http.Header{"Retry-After": {"4"}}, `<html><body>Service Unavailable</body></html>`)
	err = genericTGI().NewDecoder().Reset(resp, &Request{Stream: true})
	if !errors.As(err, &ae) || ae.RetryAfter != 4*time.Second || ae.Message != "Service Unavailable" || !ae.Retryable() {
		t.Errorf("503: %+v", err)
	}
}

// TestGenericDecodeStamps checks in virtual time that NDJSON lines and SSE
// events are stamped with the time the Read that completed them returned,
// and that the decoder stops at the done line.
func TestGenericDecodeStamps(t *testing.T) {
	t.Run("NDJSON", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lines := bytes.SplitAfter(readFixture(t, "ollama_chat.ndjson"), []byte("\n"))
			start := time.Now()
			body := newTimedBody([]timedWrite{
				{120 * ms, string(lines[0][:20])},
				{150 * ms, string(lines[0][20:])},
				{170 * ms, string(lines[1]) + string(lines[2][:len(lines[2])-1])}, // "lo", and " world" without its LF
				{195 * ms, "\n"},
				{240 * ms, string(lines[3])},
				{5000 * ms, "{\"message\":{\"content\":\"never read\"}}\n"},
			})
			at, output, end := deltaStamps(t, genericOllama().NewDecoder(), famResponse("application/x-ndjson", body), &Request{Stream: true}, start)
			if end != io.EOF {
				t.Fatalf("ended with %v", end)
			}
			if now := time.Since(start); now != 240*ms {
				t.Errorf("the decoder waited until %v, after the done line at 240ms", now)
			}
			io.Copy(io.Discard, body)
			wantAt := []time.Duration{150 * ms, 170 * ms, 195 * ms, 240 * ms}
			wantOut := []bool{true, true, true, false}
			if !reflect.DeepEqual(at, wantAt) || !reflect.DeepEqual(output, wantOut) {
				t.Errorf("At %v output %v\nwant %v %v", at, output, wantAt, wantOut)
			}
		})
	})
	t.Run("SSE", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ev := bytes.SplitAfter(readFixture(t, "tgi_generate_stream.sse"), []byte("\n\n"))
			start := time.Now()
			body := newTimedBody([]timedWrite{
				{90 * ms, string(ev[0])},
				{110 * ms, string(ev[1][:len(ev[1])-1])},
				{130 * ms, "\n" + string(ev[2])},
			})
			at, output, end := deltaStamps(t, genericTGI().NewDecoder(), famResponse("text/event-stream", body), &Request{Stream: true}, start)
			if end != io.EOF {
				t.Fatalf("ended with %v", end)
			}
			wantAt := []time.Duration{90 * ms, 130 * ms, 130 * ms}
			wantOut := []bool{true, true, false}
			if !reflect.DeepEqual(at, wantAt) || !reflect.DeepEqual(output, wantOut) {
				t.Errorf("At %v output %v\nwant %v %v", at, output, wantAt, wantOut)
			}
		})
	})
}

// TestGenericStampIsArrival checks that an event is stamped when it
// arrived, not when a slow caller got round to decoding it: events that
// came in one Read share that Read's time.
func TestGenericStampIsArrival(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Generic
		ct   string
		body string
	}{
		{"NDJSON", genericOllama(), "application/x-ndjson", "{\"message\":{\"content\":\"a\"}}\n{\"message\":{\"content\":\"b\"}}\n"},
		{"SSE", genericTGI(), "text/event-stream", "data:{\"token\":{\"text\":\"a\"}}\n\ndata:{\"token\":{\"text\":\"b\"}}\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				body := newTimedBody([]timedWrite{{40 * ms, tc.body}})
				dec := tc.p.NewDecoder()
				var at []time.Duration
				eachDelta(t, dec, famResponse(tc.ct, body), &Request{Stream: true}, func(d *Delta) {
					at = append(at, d.At.Sub(start))
					time.Sleep(25 * ms) // a slow caller
				})
				if want := []time.Duration{40 * ms, 40 * ms}; !reflect.DeepEqual(at, want) {
					t.Errorf("At %v, want %v", at, want)
				}
			})
		})
	}
}

func TestGenericTemplates(t *testing.T) {
	temp, topP, topK := 0.7, 0.95, 40
	full := &Request{Model: "llama3.2", Prompt: "say \"hi\"\n<b>", System: "be brief", MaxTokens: 16,
		Temperature: &temp, TopP: &topP, TopK: &topK, Stream: true}
	bare := &Request{Model: "llama3.2", Prompt: "hi"}
	for _, tc := range []struct {
		name, tmpl string
		r          *Request
		want       string
	}{
		{"Ollama, all set", genericOllama().Body, full,
			`{"model":"llama3.2","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"say \"hi\"\n\u003cb\u003e"}],"stream":true,"options":{"num_predict":16,"temperature":0.7}}`},
		{"Ollama, unset options removed", genericOllama().Body, bare,
			`{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{}}`},
		{"quotes make strings", `{"inputs":"Q: {{prompt}} A:","n":"{{max_tokens}}","m":"{{model}}","t":"{{temperature}}"}`, full,
			`{"inputs":"Q: say \"hi\"\n\u003cb\u003e A:","n":"16","m":"llama3.2","t":"0.7"}`},
		{"unset inside quotes is empty", `{"t":"<{{temperature}}>","s":"{{system}}"}`, bare, `{"t":"<>","s":""}`},
		{"unset that is not a member value is null", `{"a":[{{temperature}}, {{top_k}}],"b":{{max_tokens}}}`, bare, `{"a":[null, null]}`},
		{"removal keeps the commas right", `{ "a" : {{temperature}} , "b":1, "c": {{top_p}},"d":{{top_k}} , "e": 2, "f":{{max_tokens}} }`, bare,
			`{   "b":1,   "e": 2  }`},
		{"all members removed", `{"a":{{temperature}},"b":{{top_p}}}`, bare, `{}`},
		{"spaces in placeholders, all numbers", `{"k":{{ top_k }},"p":{{top_p}},"s":{{stream}}}`, full, `{"k":40,"p":0.95,"s":true}`},
		{"commas inside strings are left alone", `{"a":",{","t":{{temperature}},"b":"}, ]"}`, bare, `{"a":",{","b":"}, ]"}`},
		{"escaped quotes in literals", `{"a":"x\"{{model}}\"","b":{{model}}}`, bare, `{"a":"x\"llama3.2\"","b":"llama3.2"}`},
		{"top-level array", `[{{prompt}},{{max_tokens}}]`, bare, `["hi",null]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := parseGenericTemplate(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := genericValues(tc.r, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.renderJSON(vals, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("rendered\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestGenericNewRequest(t *testing.T) {
	temp := 0.5
	t.Setenv("MY_LLM_KEY", "env-generic-key-123")
	for _, tc := range []struct {
		name     string
		p        *Generic
		r        *Request
		method   string
		url      string
		headers  map[string]string
		noHeader []string
		body     string // "" means no body
	}{
		{name: "Ollama", p: genericOllama(), r: &Request{Model: "llama3.2", Prompt: "hi", MaxTokens: 8, Stream: true},
			method: "POST", url: "http://127.0.0.1:11434/api/chat",
			headers:  map[string]string{"Content-Type": "application/json", "Accept": "application/x-ndjson", "Accept-Encoding": "identity"},
			noHeader: []string{"Authorization"},
			body:     `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"options":{"num_predict":8}}`},
		{name: "TGI", p: genericTGI(), r: &Request{Prompt: "hi", Temperature: &temp, Stream: true},
			method: "POST", url: "http://127.0.0.1:8080/generate_stream",
			headers: map[string]string{"Accept": "text/event-stream"},
			body:    `{"inputs":"hi","parameters":{"temperature":0.5,"details":true}}`},
		{name: "key from the environment in a header and the URL, model in the path, extras",
			p: &Generic{URL: "https://llm.example.com/v2/models/{{model}}:generate?key={{api_key}}", APIKeyEnv: "MY_LLM_KEY",
				Header: http.Header{"authorization": {"Bearer {{api_key}}"}, "X-Model": {"{{model}}"}, "Accept": {"application/json"}},
				Body:   `{"prompt":{{prompt}}}`, TextPath: "text"},
			r:      &Request{Model: "m 1/x", Prompt: "hi", Stream: true, Extra: map[string]any{"seed": 3}},
			method: "POST", url: "https://llm.example.com/v2/models/m%201%2Fx:generate?key=env-generic-key-123",
			headers: map[string]string{"Authorization": "Bearer env-generic-key-123", "X-Model": "m 1/x", "Accept": "application/json"},
			body:    `{"prompt":"hi","seed":3}`},
		{name: "APIKey wins over the environment; GET without a body",
			p: &Generic{URL: "http://h/gen", Method: "GET", APIKey: "own-key-456", APIKeyEnv: "MY_LLM_KEY",
				Header: http.Header{"X-Key": {"{{api_key}}"}}, Format: "json", TextPath: "text"},
			r:      &Request{Prompt: "hi"},
			method: "GET", url: "http://h/gen",
			headers:  map[string]string{"X-Key": "own-key-456", "Accept": "application/json"},
			noHeader: []string{"Content-Type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); err != nil {
				t.Fatal(err)
			}
			req, err := tc.p.NewRequest(context.Background(), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, req, tc.method, tc.url, tc.headers, tc.noHeader, tc.body, false)
		})
	}
}

// TestGenericConfigErrors checks that every configuration error is clear:
// it names the field and says what is wrong.
func TestGenericConfigErrors(t *testing.T) {
	t.Setenv("MY_LLM_KEY", "")
	ok := func() *Generic { return &Generic{URL: "http://h/x", Body: `{"p":{{prompt}}}`, TextPath: "t"} }
	with := func(f func(*Generic)) *Generic { p := ok(); f(p); return p }
	for _, tc := range []struct {
		name string
		p    *Generic
		want string
	}{
		{"no text path", with(func(p *Generic) { p.TextPath = "" }), "generic: TextPath is required (or ReasoningPath or ToolArgsPath)"},
		{"empty segment", with(func(p *Generic) { p.TextPath = "choices..text" }), `generic: TextPath: "choices..text" has an empty segment`},
		{"trailing dot", with(func(p *Generic) { p.FinishPath = "done." }), `generic: FinishPath: "done." has an empty segment`},
		{"empty alternative", with(func(p *Generic) { p.ErrorPath = "error|" }), `generic: ErrorPath: "error|" has an empty alternative`},
		{"done value without path", with(func(p *Generic) { p.DoneValue = "end" }), `generic: DoneValue "end" needs DonePath`},
		{"format", with(func(p *Generic) { p.Format = "xml"; p.Label = "x" }), `x: Format "xml" is none of "sse", "ndjson" and "json"`},
		{"no URL", with(func(p *Generic) { p.URL = "" }), "generic: URL is required"},
		{"relative URL", with(func(p *Generic) { p.URL = "127.0.0.1:8080/gen" }), "generic: URL is not an absolute http or https URL"},
		{"URL placeholder", with(func(p *Generic) { p.URL = "http://h/{{deployment}}" }), "generic: URL: unknown placeholder {{deployment}} (it may use {{model}}, {{api_key}})"},
		{"header placeholder", with(func(p *Generic) { p.Header = http.Header{"X-K": {"{{key}}"}} }), "generic: Header X-K: unknown placeholder {{key}}"},
		{"method", with(func(p *Generic) { p.Method = "GE T" }), `generic: Method "GE T" is not an HTTP method`},
		{"unknown placeholder", with(func(p *Generic) { p.Body = `{"p":{{input}}}` }), "generic: Body: unknown placeholder {{input}} at byte 5 (the placeholders are {{model}}, {{prompt}}"},
		{"unclosed placeholder", with(func(p *Generic) { p.Body = `{"p":{{prompt}` }), `generic: Body: "{{" at byte 5 has no closing "}}"`},
		{"braces that are not a placeholder", with(func(p *Generic) { p.Body = `{"p":"{{","q":{"r":1}}` }), `generic: Body: "{{" at byte 6 does not begin a placeholder such as {{prompt}}`},
		{"invalid JSON", with(func(p *Generic) { p.Body = `{"p":{{prompt}} "n":{{max_tokens}}}` }),
			`generic: Body: the rendered template is not valid JSON: invalid character '"' after object key:value pair at byte 9, after "{\"p\":\"p\" "`},
		{"invalid literal JSON", with(func(p *Generic) { p.Body = `{p:{{prompt}}}` }),
			`generic: Body: the rendered template is not valid JSON: invalid character 'p' looking for beginning of object key string at byte 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Validate: %v\nwant prefix %q", err, tc.want)
			}
			// NewRequest refuses it too (the paths are the decoder's), and
			// the decoder says why it cannot decode.
			_, rerr := tc.p.NewRequest(context.Background(), &Request{Prompt: "p"})
			derr := tc.p.NewDecoder().Reset(famResponse("text/event-stream", strings.NewReader("data: {}\n\n")), &Request{Stream: true})
			if rerr == nil && derr == nil {
				t.Errorf("NewRequest and Reset accept it")
			}
			var de *DecodeError
			if derr != nil && !errors.As(derr, &de) {
				t.Errorf("Reset: %T %v", derr, derr)
			}
		})
	}
	if err := ok().Validate(); err != nil {
		t.Errorf("valid configuration: %v", err)
	}
	// Request errors.
	for _, tc := range []struct {
		p    *Generic
		r    *Request
		want string
	}{
		{with(func(p *Generic) { p.APIKeyEnv = "MY_LLM_KEY"; p.Header = http.Header{"X-Key": {"{{api_key}}"}} }), &Request{},
			"generic: build request: the request uses {{api_key}}, but APIKey and $MY_LLM_KEY are empty"},
		{with(func(p *Generic) { p.URL = "http://h/?k={{api_key}}" }), &Request{}, "generic: build request: the request uses {{api_key}}, but APIKey is empty"},
		{with(func(p *Generic) { p.Body = `[{{prompt}}]` }), &Request{Extra: map[string]any{"a": 1}}, "generic: build request: Body: Request.Extra needs the body to be a JSON object"},
		{with(func(p *Generic) { p.Body = "" }), &Request{Extra: map[string]any{"a": 1}}, "generic: build request: Request.Extra needs a Body template"},
		{ok(), &Request{Temperature: new(float64)}, ""},
		{ok(), nil, "generic: build request: nil Request"},
	} {
		_, err := tc.p.NewRequest(context.Background(), tc.r)
		if tc.want == "" {
			if err != nil {
				t.Errorf("NewRequest: %v", err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("NewRequest: %v\nwant prefix %q", err, tc.want)
		}
	}
}

// TestGenericKeyNeverInErrors makes the key appear in every place an error
// message or snippet comes from.
func TestGenericKeyNeverInErrors(t *testing.T) {
	const key = "generic-S3CRET-key-0123456789"
	p := genericOllama()
	p.APIKey = key
	p.Header = http.Header{"Authorization": {"Bearer {{api_key}}"}}
	req, err := p.NewRequest(context.Background(), &Request{Model: "m", Prompt: "hi", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	nd := http.Header{"Content-Type": {"application/x-ndjson"}}
	checkRedacted(t, p, req, map[string]*http.Response{
		"status":       recorded(401, http.Header{"Content-Type": {"application/json"}}, `{"error":"bad key `+key+`"}`),
		"error string": recorded(200, nd, `{"error":"key `+key+` revoked"}`+"\n"),
		"error object": recorded(200, nd, `{"error":{"message":"key `+key+`","type":"`+key+`"}}`+"\n"),
		"error flag":   recorded(200, nd, `{"error":true,"why":"`+key+`"}`+"\n"),
		"invalid line": recorded(200, nd, `{"echo":"`+key+`"`+"\n"),
	}, key, 14)
	// A body template that puts the key in the body, rendered invalid.
	bad := &Generic{URL: "http://h", APIKey: key, Body: `{"key":{{api_key}} "p":{{prompt}}}`, TextPath: "t"}
	_, err = bad.NewRequest(context.Background(), &Request{})
	if err == nil || strings.Contains(err.Error(), key[:14]) {
		t.Errorf("template error: %v", err)
	}
	// A URL with the key that cannot be parsed.
	_, err = (&Generic{URL: "http://h\x7f/?k={{api_key}}", APIKey: key, TextPath: "t"}).NewRequest(context.Background(), &Request{})
	if err == nil || strings.Contains(err.Error(), key[:14]) {
		t.Errorf("URL error: %v", err)
	}
}

// TestGenericUsageIncrementsSaturate: increments of absurd size cannot
// overflow the running usage.
func TestGenericUsageIncrementsSaturate(t *testing.T) {
	p := &Generic{URL: "http://h", Format: "ndjson", TextPath: "t", OutputTokensPath: "n", UsageIncrements: true}
	body := "{\"t\":\"a\",\"n\":9223372036854775807}\n{\"t\":\"b\",\"n\":1099511627776}\n{\"t\":\"c\",\"n\":1099511627776}\n{\"t\":\"d\",\"n\":3}\n"
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-ndjson"}}, Body: io.NopCloser(strings.NewReader(body))}
	dec := p.NewDecoder()
	var last Usage
	eachDelta(t, dec, resp, &Request{Stream: true}, func(d *Delta) {
		if d.HasUsage {
			last = d.Usage
			if last.OutputTokens < 0 {
				t.Fatalf("usage overflowed: %+v", last)
			}
		}
	})
	if last.OutputTokens != maxTokenCount {
		t.Errorf("output tokens %d, want the cap %d (the nonsense count reads as 0, the sum saturates)", last.OutputTokens, maxTokenCount)
	}
}
