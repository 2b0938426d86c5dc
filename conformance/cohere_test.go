package conformance

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cohere "github.com/cohere-ai/cohere-go/v2"
	cohereclient "github.com/cohere-ai/cohere-go/v2/client"
	"github.com/cohere-ai/cohere-go/v2/core"
	"github.com/cohere-ai/cohere-go/v2/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
)

// This file checks the fake's Cohere v2 Chat format with cohere-go.

const cohereModel = "command-a-03-2025"

// newCohere returns a cohere-go client of srv that makes at most attempts
// attempts per call.
func newCohere(srv *fake.Server, attempts uint) *cohereclient.Client {
	return cohereclient.NewClient(
		option.WithBaseURL(srv.URL),
		option.WithToken(testKey),
		option.WithHTTPClient(srv.Client()),
		option.WithMaxAttempts(attempts),
	)
}

func cohereMessages() cohere.ChatMessages {
	return cohere.ChatMessages{{Role: "user", User: &cohere.UserMessageV2{Content: &cohere.UserMessageV2Content{String: testPrompt}}}}
}

func cohereStreamRequest(maxTokens int64) *cohere.V2ChatStreamRequest {
	return &cohere.V2ChatStreamRequest{Model: cohereModel, Messages: cohereMessages(), MaxTokens: cohereMaxTokens(maxTokens)}
}

func cohereRequest(maxTokens int64) *cohere.V2ChatRequest {
	return &cohere.V2ChatRequest{Model: cohereModel, Messages: cohereMessages(), MaxTokens: cohereMaxTokens(maxTokens)}
}

// cohereMaxTokens is a request's max_tokens: nil (left out) for 0.
func cohereMaxTokens(maxTokens int64) *int {
	if maxTokens <= 0 {
		return nil
	}
	n := int(maxTokens)
	return &n
}

func TestCohereChatStream(t *testing.T) {
	const seed = 61
	runOutputCases(t, fake.Config{Seed: seed, ITL: fake.Fixed(time.Millisecond)}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newCohere(srv, 1)

		stream, err := client.V2.ChatStream(t.Context(), cohereStreamRequest(tc.maxTokens))
		require.NoError(t, err)
		var text strings.Builder
		var deltas, blanks int
		var types []string
		var end *cohere.ChatMessageEndEvent
		var id string
		for {
			ev, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if isCohereBlankLine(err) {
				blanks++ // see TestCohereStreamReadBoundary
				continue
			}
			require.NoError(t, err)
			types = append(types, ev.Type)
			switch ev.Type {
			case "message-start":
				id = *ev.MessageStart.Id
			case "content-delta":
				deltas++
				text.WriteString(*ev.ContentDelta.Delta.Message.Content.Text)
			case "message-end":
				end = ev.MessageEnd
			}
		}
		require.NoError(t, stream.Close())
		if blanks > 0 {
			t.Logf("cohere-go failed %d Recv calls on a lone blank line and went on", blanks)
		}

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		finish := finishOf(cut, cohere.ChatFinishReasonComplete, cohere.ChatFinishReasonMaxTokens)
		checkStreamed(t, rec, want, text.String(), deltas, tc.chunks(1))
		wantTypes := []string{"message-start", "content-start"}
		for range deltas {
			wantTypes = append(wantTypes, "content-delta")
		}
		wantTypes = append(wantTypes, "content-end", "message-end")
		assert.Equal(t, wantTypes, types, "events before [DONE]")
		assert.Equal(t, rec.ID, id)

		require.NotNil(t, end)
		require.NotNil(t, end.Delta.FinishReason)
		assert.Equal(t, finish, *end.Delta.FinishReason)
		assert.Equal(t, rec.FinishReason, string(*end.Delta.FinishReason))
		require.NotNil(t, end.Delta.Usage)
		assert.EqualValues(t, tokens, *end.Delta.Usage.Tokens.OutputTokens)
		assert.EqualValues(t, rec.OutputTokens, *end.Delta.Usage.Tokens.OutputTokens)
		assert.EqualValues(t, testPromptTokens, *end.Delta.Usage.Tokens.InputTokens)
		assert.EqualValues(t, tokens, *end.Delta.Usage.BilledUnits.OutputTokens)
	})
}

func TestCohereChat(t *testing.T) {
	const seed = 62
	runOutputCases(t, fake.Config{Seed: seed}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newCohere(srv, 1)

		resp, err := client.V2.Chat(t.Context(), cohereRequest(tc.maxTokens))
		require.NoError(t, err)

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		finish := finishOf(cut, cohere.ChatFinishReasonComplete, cohere.ChatFinishReasonMaxTokens)
		require.NotNil(t, resp.Message)
		require.Len(t, resp.Message.Content, 1)
		require.NotNil(t, resp.Message.Content[0].Text)
		assert.Equal(t, want, resp.Message.Content[0].Text.Text)
		assert.Equal(t, want, rec.Text)
		require.NotNil(t, resp.Usage)
		checkAnswer(t, rec, finish, tokens, resp.FinishReason, *resp.Usage.Tokens.OutputTokens, *resp.Usage.Tokens.InputTokens, resp.Id)
	})
}

// cohereCall makes one chat call, streamed or not, and returns its error.
func cohereCall(t *testing.T, client *cohereclient.Client, stream bool) error {
	t.Helper()
	if !stream {
		_, err := client.V2.Chat(t.Context(), cohereRequest(0))
		return err
	}
	s, err := client.V2.ChatStream(t.Context(), cohereStreamRequest(0))
	if err == nil {
		s.Close()
		t.Error("the stream started")
	}
	return err
}

// TestCohereErrors: status faults become cohere-go's typed errors, with
// the status. cohere-go reads no Retry-After: it waits its own backoff
// (0.5 s and more) after every failed attempt, the last one included, so
// these tests are slower than the others. WithMaxAttempts(1) means one
// attempt.
func TestCohereErrors(t *testing.T) {
	for _, tc := range []struct {
		fault  fake.Fault
		status int
		typed  func(err error) bool
	}{
		{fake.FaultRateLimit, http.StatusTooManyRequests, func(err error) bool {
			var e *cohere.TooManyRequestsError
			return errors.As(err, &e)
		}},
		{fake.FaultServerError, http.StatusInternalServerError, func(err error) bool {
			var e *cohere.InternalServerError
			return errors.As(err, &e)
		}},
		{fake.FaultUnavailable, http.StatusServiceUnavailable, func(err error) bool {
			var e *cohere.ServiceUnavailableError
			return errors.As(err, &e)
		}},
	} {
		for stream, name := range streamModes(string(tc.fault)) {
			runFault(t, name, tc.fault, func(t *testing.T, srv *fake.Server) {
				err := cohereCall(t, newCohere(srv, 1), stream)
				rec := oneRecord(t, srv)
				assert.Equal(t, tc.status, rec.Status)
				require.Error(t, err)
				assert.True(t, tc.typed(err), "typed error, got %T: %v", err, err)
				var apiErr *core.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
			})
		}
	}
	runFault(t, "rate_limit/retry", fake.FaultRateLimit, func(t *testing.T, srv *fake.Server) {
		err := cohereCall(t, newCohere(srv, 2), false)
		recs := srv.Records()
		requireRetriedAfter(t, recs, 500*time.Millisecond, 429, 429)
		var e *cohere.TooManyRequestsError
		require.ErrorAs(t, err, &e)
		assert.Equal(t, http.StatusTooManyRequests, e.StatusCode)
	})
}

// TestCohereStreamError: the fake's mid-stream error, a message-end with
// finish_reason ERROR and delta.error, comes to cohere-go as an ordinary
// event after the text sent before it.
func TestCohereStreamError(t *testing.T) {
	const seed = 63
	srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 10, FaultFunc: always(fake.FaultStreamError)})
	stream, err := newCohere(srv, 1).V2.ChatStream(t.Context(), cohereStreamRequest(0))
	require.NoError(t, err)
	defer stream.Close()
	var text strings.Builder
	var end *cohere.ChatMessageEndEvent
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if isCohereBlankLine(err) {
			continue // see TestCohereStreamReadBoundary
		}
		require.NoError(t, err)
		switch ev.Type {
		case "content-delta":
			text.WriteString(*ev.ContentDelta.Delta.Message.Content.Text)
		case "message-end":
			end = ev.MessageEnd
		}
	}
	rec := oneRecord(t, srv)
	assert.Equal(t, wantText(seed, 0, 5), text.String())
	assert.Equal(t, rec.Text, text.String())
	require.NotNil(t, end)
	assert.Equal(t, cohere.ChatFinishReasonError, *end.Delta.FinishReason)
	assert.Equal(t, rec.FinishReason, string(*end.Delta.FinishReason))
	require.NotNil(t, end.Delta.Error)
	assert.NotEmpty(t, *end.Delta.Error)
}

// isCohereBlankLine reports whether err is the error cohere-go's Recv
// returns for a lone blank line (see TestCohereStreamReadBoundary). The
// fake's streams here carry no malformed JSON, so no other event fails
// this way.
func isCohereBlankLine(err error) bool {
	var syntax *json.SyntaxError
	return errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input" && syntax.Offset == 1
}

// cohereFixture is the API's documented example stream.
const cohereFixture = `event: message-start
data: {"id":"5c1f","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}

event: content-start
data: {"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}

event: content-delta
data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}}}

event: content-end
data: {"type":"content-end","index":0}

event: message-end
data: {"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":2},"tokens":{"input_tokens":70,"output_tokens":2}}}}

data: [DONE]

`

// eventReader returns one SSE event (through its blank line) per Read, as
// a client that keeps up with a server flushing each event reads them.
type eventReader struct{ rest string }

func (r *eventReader) Read(p []byte) (int, error) {
	if r.rest == "" {
		return 0, io.EOF
	}
	ev := r.rest
	if i := strings.Index(ev, "\n\n"); i >= 0 {
		ev = ev[:i+2]
	}
	n := copy(p, ev)
	r.rest = r.rest[n:]
	return n, nil
}

// TestCohereStreamReadBoundary pins a behaviour of cohere-go's stream
// reader (core/stream.go) that the fake's paced streams expose: it cuts
// tokens at "\n" after skipping to the next "data: ", so when a read ends
// at an event's end, the blank line left in its buffer becomes a token of
// its own, and Recv fails on it with "unexpected end of JSON input"; the
// next Recv goes on. Read whole, the same bytes decode cleanly. Any server
// that flushes each event (the real API does) can trigger it whenever the
// client keeps up.
func TestCohereStreamReadBoundary(t *testing.T) {
	recv := func(body io.Reader) (types []string, blanks int) {
		resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(body)}
		stream := core.NewStream[cohere.V2ChatStreamResponse](resp, core.WithPrefix("data: "), core.WithTerminator("[DONE]"))
		for {
			ev, err := stream.Recv()
			switch {
			case errors.Is(err, io.EOF):
				return types, blanks
			case isCohereBlankLine(err):
				blanks++
			case err != nil:
				t.Fatalf("Recv: %v", err)
			default:
				types = append(types, ev.Type)
			}
		}
	}
	want := []string{"message-start", "content-start", "content-delta", "content-end", "message-end"}

	types, blanks := recv(strings.NewReader(cohereFixture))
	assert.Equal(t, want, types, "read whole")
	assert.Zero(t, blanks, "read whole")

	types, blanks = recv(&eventReader{rest: cohereFixture})
	assert.Equal(t, want, types, "read event by event")
	assert.Equal(t, len(want), blanks, "read event by event: one failed Recv per event")
}
