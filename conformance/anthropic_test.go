package conformance

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
)

// This file checks the fake's Anthropic Messages format with
// anthropic-sdk-go.

// newAnthropic returns an anthropic-sdk-go client of srv, deaf to the
// environment, that makes at most 1+retries attempts per call.
func newAnthropic(srv *fake.Server, retries int, opts ...option.RequestOption) anthropic.Client {
	return anthropic.NewClient(append([]option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(srv.URL),
		option.WithAPIKey(testKey),
		option.WithHTTPClient(srv.Client()),
		option.WithMaxRetries(retries),
	}, opts...)...)
}

// anthropicMaxTokens is the max_tokens of requests with no limit of their
// own: the API requires one, so it is set above every case's output.
const anthropicMaxTokens = 1024

func messageParams(maxTokens int64) anthropic.MessageNewParams {
	if maxTokens == 0 {
		maxTokens = anthropicMaxTokens
	}
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: maxTokens,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(testPrompt))},
	}
}

func TestAnthropicMessagesStream(t *testing.T) {
	const seed = 41
	runOutputCases(t, fake.Config{Seed: seed, ITL: fake.Fixed(time.Millisecond)}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newAnthropic(srv, 0)

		stream := client.Messages.NewStreaming(t.Context(), messageParams(tc.maxTokens))
		var msg anthropic.Message
		var text strings.Builder
		var deltas int
		var types []string
		for stream.Next() {
			ev := stream.Current()
			require.NoError(t, msg.Accumulate(ev), "Accumulate(%s)", ev.Type)
			types = append(types, ev.Type)
			if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" {
				deltas++
				text.WriteString(ev.Delta.Text)
			}
		}
		require.NoError(t, stream.Err())
		require.NoError(t, stream.Close())

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		stop := finishOf(cut, anthropic.StopReasonEndTurn, anthropic.StopReasonMaxTokens)
		checkStreamed(t, rec, want, text.String(), deltas, tc.chunks(1))
		// The ping is skipped by the SDK (as the API documents it).
		wantTypes := []string{"message_start", "content_block_start"}
		for range deltas {
			wantTypes = append(wantTypes, "content_block_delta")
		}
		wantTypes = append(wantTypes, "content_block_stop", "message_delta", "message_stop")
		assert.Equal(t, wantTypes, types)

		require.Len(t, msg.Content, 1)
		assert.Equal(t, want, msg.Content[0].Text, "Message.Accumulate's text")
		checkAnswer(t, rec, stop, tokens, msg.StopReason, msg.Usage.OutputTokens, msg.Usage.InputTokens, msg.ID)
		assert.EqualValues(t, rec.PromptTokens, msg.Usage.InputTokens)
		assert.EqualValues(t, "claude-sonnet-4-5", msg.Model)
	})
}

func TestAnthropicMessages(t *testing.T) {
	const seed = 42
	runOutputCases(t, fake.Config{Seed: seed}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newAnthropic(srv, 0)

		msg, err := client.Messages.New(t.Context(), messageParams(tc.maxTokens))
		require.NoError(t, err)

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		stop := finishOf(cut, anthropic.StopReasonEndTurn, anthropic.StopReasonMaxTokens)
		require.Len(t, msg.Content, 1)
		assert.Equal(t, want, msg.Content[0].Text)
		assert.Equal(t, want, rec.Text)
		checkAnswer(t, rec, stop, tokens, msg.StopReason, msg.Usage.OutputTokens, msg.Usage.InputTokens, msg.ID)
	})
}

// anthropicErrorCase is one status fault and what anthropic-sdk-go must
// make of it.
type anthropicErrorCase struct {
	fault  fake.Fault
	status int
	typ    string
	retry  bool // the answer carries retry-after-ms
}

var anthropicErrorCases = []anthropicErrorCase{
	{fake.FaultRateLimit, http.StatusTooManyRequests, "rate_limit_error", true},
	{fake.FaultOverloaded, 529, "overloaded_error", true},
	{fake.FaultServerError, http.StatusInternalServerError, "api_error", false},
}

// requireAnthropicError checks that err is anthropic-sdk-go's
// *anthropic.Error for the case, with the fake's request id.
func requireAnthropicError(t *testing.T, err error, tc anthropicErrorCase, rec fake.Record) {
	t.Helper()
	var apiErr *anthropic.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, tc.status, apiErr.StatusCode)
	assert.EqualValues(t, tc.typ, apiErr.Type())
	assert.Equal(t, rec.RequestID, apiErr.RequestID)
	if tc.retry {
		require.NotNil(t, apiErr.Response)
		assert.Equal(t, "40", apiErr.Response.Header.Get("Retry-After-Ms"))
		assert.Equal(t, "1", apiErr.Response.Header.Get("Retry-After"))
	}
}

// TestAnthropicErrors: with retries off, one attempt and the typed error;
// with retries on, three attempts (429, 529 and 500 are all retried), each
// after the retry-after-ms the fake asked for where it asked.
func TestAnthropicErrors(t *testing.T) {
	for _, tc := range anthropicErrorCases {
		for stream, name := range streamModes(string(tc.fault)) {
			runFault(t, name+"/no-retry", tc.fault, func(t *testing.T, srv *fake.Server) {
				err := anthropicCall(t, newAnthropic(srv, 0), stream)
				rec := oneRecord(t, srv)
				assert.Equal(t, tc.status, rec.Status)
				requireAnthropicError(t, err, tc, rec)
			})
			if !tc.retry {
				continue // backoff without retry-after is 0.5s, 1s: too slow here
			}
			runFault(t, name+"/retry", tc.fault, func(t *testing.T, srv *fake.Server) {
				err := anthropicCall(t, newAnthropic(srv, 2), stream)
				recs := srv.Records()
				requireRetriedAfter(t, recs, testRetryAfter, tc.status, tc.status, tc.status)
				requireAnthropicError(t, err, tc, recs[2])
			})
		}
	}
}

// anthropicCall makes one Messages call, streamed or not, and returns its
// error.
func anthropicCall(t *testing.T, client anthropic.Client, stream bool) error {
	t.Helper()
	if !stream {
		_, err := client.Messages.New(t.Context(), messageParams(0))
		return err
	}
	s := client.Messages.NewStreaming(t.Context(), messageParams(0))
	defer s.Close()
	for s.Next() {
		t.Errorf("unexpected event %s", s.Current().RawJSON())
	}
	return s.Err()
}

// TestAnthropicUnauthorized: a request without a key gets the fake's 401,
// which anthropic-sdk-go types as authentication_error and does not retry.
func TestAnthropicUnauthorized(t *testing.T) {
	srv := newServer(t, fake.Config{})
	client := newAnthropic(srv, 2, option.WithHeaderDel("X-Api-Key"))
	_, err := client.Messages.New(t.Context(), messageParams(0))
	rec := oneRecord(t, srv)
	assert.Equal(t, http.StatusUnauthorized, rec.Status)
	requireAnthropicError(t, err, anthropicErrorCase{status: http.StatusUnauthorized, typ: "authentication_error"}, rec)
}

// TestAnthropicStreamFaults: faults inside a 200 stream. The error event
// is an *anthropic.Error of status 200 and type overloaded_error
// (as the API documents it); a cut stream is an unexpected EOF. Either way the text
// before the fault is what the record holds.
func TestAnthropicStreamFaults(t *testing.T) {
	for _, tc := range []struct {
		fault fake.Fault
		check func(t *testing.T, err error, rec fake.Record)
	}{
		{fake.FaultStreamError, func(t *testing.T, err error, rec fake.Record) {
			var apiErr *anthropic.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusOK, apiErr.StatusCode)
			assert.EqualValues(t, "overloaded_error", apiErr.Type())
			assert.Equal(t, rec.RequestID, apiErr.RequestID)
		}},
		{fake.FaultDisconnect, func(t *testing.T, err error, _ fake.Record) {
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			const seed = 43
			srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 10, FaultFunc: always(tc.fault)})
			client := newAnthropic(srv, 2)
			stream := client.Messages.NewStreaming(t.Context(), messageParams(0))
			var msg anthropic.Message
			for stream.Next() {
				require.NoError(t, msg.Accumulate(stream.Current()))
			}
			err := stream.Err()
			require.Error(t, err)
			stream.Close()

			rec := oneRecord(t, srv)
			tc.check(t, err, rec)
			assert.Equal(t, 5, rec.FaultAt)
			require.Len(t, msg.Content, 1)
			assert.Equal(t, wantText(seed, 0, 5), msg.Content[0].Text)
			assert.Equal(t, rec.Text, msg.Content[0].Text)
		})
	}
}
