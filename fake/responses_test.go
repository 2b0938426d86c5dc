package fake

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected events below are written from the fixture of
// the API's documented wire format (the response object, the delta and
// response.completed are the fixture's; the other events carry the fields
// the real API sends).
const (
	respObjectFmt  = `{"id":%s,"object":"response","created_at":%d,"status":%s,"error":null%s,"model":%s,"output":[%s],"usage":%s}`
	respItemFmt    = `{"id":%s,"type":"message","status":%s,"role":"assistant","content":[%s]}`
	respPartFmt    = `{"type":"output_text","text":%s,"annotations":[]}`
	respUsageFmt   = `{"input_tokens":%d,"input_tokens_details":{"cached_tokens":0},"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":%d}`
	respTextRefFmt = `"item_id":%s,"output_index":0,"content_index":0`
)

// wantResponses returns the expected Responses stream for rec.
func wantResponses(rec Record, words []string, promptTokens int, status string) []sseEvent {
	id := quote(rec.ID)
	item := quote("msg_" + strings.TrimPrefix(rec.ID, "resp_"))
	model := quote(rec.Model)
	created := rec.Start.Unix()
	text := quote(strings.Join(words, ""))
	incomplete := ""
	if status == "incomplete" {
		incomplete = `,"incomplete_details":{"reason":"max_output_tokens"}`
	}
	part := fmt.Sprintf(respPartFmt, text)
	final := fmt.Sprintf(respObjectFmt, id, created, quote(status), incomplete, model,
		fmt.Sprintf(respItemFmt, item, quote(status), part),
		fmt.Sprintf(respUsageFmt, promptTokens, len(words), promptTokens+len(words)))
	inProgress := fmt.Sprintf(respObjectFmt, id, created, quote("in_progress"), "", model, "", "null")
	ref := fmt.Sprintf(respTextRefFmt, item)

	var evs []sseEvent
	add := func(typ, fields string) {
		evs = append(evs, sseEvent{Event: typ, Data: fmt.Sprintf(`{"type":%s,"sequence_number":%d,%s}`, quote(typ), len(evs), fields)})
	}
	add("response.created", `"response":`+inProgress)
	add("response.in_progress", `"response":`+inProgress)
	add("response.output_item.added", `"output_index":0,"item":`+fmt.Sprintf(respItemFmt, item, quote("in_progress"), ""))
	add("response.content_part.added", ref+`,"part":`+fmt.Sprintf(respPartFmt, `""`))
	for _, w := range words {
		add("response.output_text.delta", ref+`,"delta":`+quote(w)+`,"logprobs":[]`)
	}
	add("response.output_text.done", ref+`,"text":`+text+`,"logprobs":[]`)
	add("response.content_part.done", ref+`,"part":`+part)
	add("response.output_item.done", `"output_index":0,"item":`+fmt.Sprintf(respItemFmt, item, quote(status), part))
	add("response."+status, `"response":`+final)
	return evs
}

func TestResponsesStream(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		body   string
		n      int
		prompt int
		status string
	}{
		{"fixture shape", Config{OutputTokens: 2, Seed: 5}, `{"model":"gpt-4o-mini","input":"Hello, how are you today?","stream":true}`, 2, 7, "completed"},
		{"instructions and items", Config{OutputTokens: 4, Seed: 6}, `{"model":"gpt-4o-mini","instructions":"Be brief.","input":[{"role":"user","content":"Hello, how are you "},{"type":"message","role":"user","content":[{"type":"input_text","text":"today?"}]}],"stream":true}`, 4, 9, "completed"},
		{"max_output_tokens", Config{OutputTokens: 6, Seed: 5}, `{"model":"gpt-4o-mini","input":"Hello, how are you today?","max_output_tokens":3,"stream":true}`, 3, 7, "incomplete"},
		{"model from Config", Config{OutputTokens: 1, Model: "configured"}, `{"input":"hi","stream":true}`, 1, 1, "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, raw, rec := streamed(t, tt.cfg, post, "/v1/responses", tt.body, "text/event-stream; charset=utf-8")
			assert.NotContains(t, raw, "[DONE]")
			got := readEvents(t, strings.NewReader(raw))
			assert.Regexp(t, `^resp_[0-9A-Za-z]{24}$`, rec.ID)
			words := Tokens(tt.cfg.Seed, 0, tt.n)
			want := wantResponses(rec, words, tt.prompt, tt.status)
			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i].Event, got[i].Event, "event %d", i)
				assert.Equal(t, want[i].Data, got[i].Data, "event %d", i)
				assert.Equal(t, got[i].Event, decode(t, got[i].Data)["type"], "event %d: event line and type differ", i)
			}
			assert.Equal(t, tt.status, rec.FinishReason)
			assert.Equal(t, tt.n, rec.OutputTokens)
			assert.Equal(t, tt.prompt, rec.PromptTokens)
			assert.Equal(t, strings.Join(words, ""), rec.Text)
			assert.Len(t, rec.Sent, tt.n)
		})
	}
}

func TestResponsesObject(t *testing.T) {
	s := NewServer(Config{OutputTokens: 3, Seed: 2, TTFT: Fixed(10 * time.Millisecond), Record: true})
	defer s.Close()
	resp := post(t, s.Client(), s.URL+"/v1/responses", `{"model":"gpt-4o-mini","input":"Hello, how are you today?"}`)
	body := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	rec := s.Records()[0]
	words := Tokens(2, 0, 3)
	evs := wantResponses(rec, words, 7, "completed")
	last := decode(t, evs[len(evs)-1].Data)["response"]
	assert.Equal(t, last, decode(t, body))
	assert.False(t, rec.Stream)
	assert.Equal(t, []time.Duration{10 * time.Millisecond}, rec.Scheduled)
	assert.False(t, rec.Sent[0].Before(rec.Start.Add(10*time.Millisecond)))
}

func TestResponsesBadRequest(t *testing.T) {
	tests := []struct {
		name, body  string
		param, code any
		inMessage   string
	}{
		{"invalid JSON", `{"input":`, nil, nil, "could not parse the JSON body"},
		{"missing model", `{"input":"hi"}`, nil, nil, "you must provide a model parameter"},
		{"missing input", `{"model":"m"}`, "input", "missing_required_parameter", "'input'"},
		{"null input", `{"model":"m","input":null}`, "input", "missing_required_parameter", "'input'"},
		{"input type", `{"model":"m","input":5}`, "input", "invalid_type", "'input'"},
		{"max_output_tokens 0", `{"model":"m","input":"hi","max_output_tokens":0}`, "max_output_tokens", "integer_below_min_value", "'max_output_tokens'"},
	}
	s := NewServer(Config{})
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := postRejected(t, s.Client(), s.URL+"/v1/responses", tt.body, "application/json")
			assertOpenAIError(t, body, "invalid_request_error", tt.param, tt.code, tt.inMessage)
		})
	}
}
