package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// This file checks the fake's OpenAI formats, Chat Completions and
// Responses, with openai-go.

// newOpenAI returns an openai-go client of srv that makes at most
// 1+retries attempts per call.
func newOpenAI(srv *fake.Server, retries int, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(srv.URL + "/v1"),
		option.WithAPIKey(testKey),
		option.WithHTTPClient(srv.Client()),
		option.WithMaxRetries(retries),
	}, opts...)...)
}

func chatParams(model string, maxTokens int64) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(testPrompt)},
	}
	if maxTokens > 0 {
		p.MaxCompletionTokens = openai.Int(maxTokens)
	}
	return p
}

// outputCase is one output shape the fake is asked for.
type outputCase struct {
	name      string
	tokens    int   // Config.OutputTokens
	perChunk  int   // Config.TokensPerChunk
	maxTokens int64 // the request's limit, 0 for none
}

// outputCases cover a response sent whole, one cut by the request's
// limit, and chunks of several tokens.
var outputCases = []outputCase{
	{name: "whole", tokens: 12},
	{name: "limit", tokens: 12, maxTokens: 5},
	{name: "chunks", tokens: 11, perChunk: 3},
}

// want returns the output the fake must send under seed for request seq:
// the text, its token count and whether the limit cut it.
func (c outputCase) want(seed, seq uint64) (text string, tokens int, cut bool) {
	n := c.tokens
	if c.maxTokens > 0 && int(c.maxTokens) < n {
		n, cut = int(c.maxTokens), true
	}
	return wantText(seed, seq, n), n, cut
}

// runOutputCases runs check as a parallel subtest for each output case,
// each with a fake server of its own: cfg, with the case's output tokens
// and tokens per chunk.
func runOutputCases(t *testing.T, cfg fake.Config, check func(t *testing.T, tc outputCase, srv *fake.Server)) {
	t.Helper()
	for _, tc := range outputCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := cfg
			cfg.OutputTokens, cfg.TokensPerChunk = tc.tokens, tc.perChunk
			check(t, tc, newServer(t, cfg))
		})
	}
}

// chunks returns the number of content events of the case's response.
func (c outputCase) chunks(defaultPerChunk int) int {
	_, n, _ := c.want(0, 0)
	k := c.perChunk
	if k == 0 {
		k = defaultPerChunk
	}
	return (n + k - 1) / k
}

func TestOpenAIChatStream(t *testing.T) {
	const seed = 11
	runOutputCases(t, fake.Config{Seed: seed, ITL: fake.Fixed(time.Millisecond)}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newOpenAI(srv, 0)
		params := chatParams("gpt-4o-mini", tc.maxTokens)
		params.StreamOptions.IncludeUsage = openai.Bool(true)

		stream := client.Chat.Completions.NewStreaming(t.Context(), params)
		var acc openai.ChatCompletionAccumulator
		var text strings.Builder
		var contentChunks, usageChunks int
		for stream.Next() {
			chunk := stream.Current()
			require.True(t, acc.AddChunk(chunk), "the accumulator took chunk %q", chunk.RawJSON())
			for _, c := range chunk.Choices {
				if c.Delta.Content != "" {
					contentChunks++
					text.WriteString(c.Delta.Content)
				}
			}
			if chunk.JSON.Usage.Valid() && chunk.Usage.CompletionTokens > 0 {
				usageChunks++
			}
		}
		require.NoError(t, stream.Err())
		require.NoError(t, stream.Close())

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		finish := finishOf(cut, "stop", "length")
		checkStreamed(t, rec, want, text.String(), contentChunks, tc.chunks(1))
		assert.Equal(t, 1, usageChunks, "usage chunks")

		require.Len(t, acc.Choices, 1)
		assert.Equal(t, want, acc.Choices[0].Message.Content, "accumulated content")
		checkAnswer(t, rec, finish, tokens, acc.Choices[0].FinishReason, acc.Usage.CompletionTokens, acc.Usage.PromptTokens, acc.ID)
		assert.EqualValues(t, rec.PromptTokens, acc.Usage.PromptTokens)
		assert.EqualValues(t, testPromptTokens+tokens, acc.Usage.TotalTokens)
		assert.Equal(t, "gpt-4o-mini", acc.Model)
		assert.True(t, rec.Stream)
		assert.NoError(t, rec.Err)
	})
}

func TestOpenAIChat(t *testing.T) {
	const seed = 12
	runOutputCases(t, fake.Config{Seed: seed}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newOpenAI(srv, 0)

		resp, err := client.Chat.Completions.New(t.Context(), chatParams("gpt-4o-mini", tc.maxTokens))
		require.NoError(t, err)

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		finish := finishOf(cut, "stop", "length")
		require.Len(t, resp.Choices, 1)
		assert.Equal(t, want, resp.Choices[0].Message.Content)
		assert.Equal(t, want, rec.Text)
		checkAnswer(t, rec, finish, tokens, resp.Choices[0].FinishReason, resp.Usage.CompletionTokens, resp.Usage.PromptTokens, resp.ID)
		assert.False(t, rec.Stream)
	})
}

// TestOpenAIAccumulatorSumsRepeatedUsage: openai-go's accumulator adds up
// the usage of every chunk, so a vLLM stream with continuous usage stats
// (a running total in every chunk) comes out inflated: 4 completion tokens
// for 2 (as the API documents it). lens keeps the last usage instead.
func TestOpenAIAccumulatorSumsRepeatedUsage(t *testing.T) {
	const vllm = `data: {"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":5,"completion_tokens":0}}

data: {"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi there","reasoning_content":null},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":7,"completion_tokens":2}}

data: {"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":7,"completion_tokens":2}}

data: [DONE]

`
	newResp := func() *http.Response {
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"text/event-stream"}},
			Body:       io.NopCloser(strings.NewReader(vllm)),
		}
	}
	stream := ssestream.NewStream[openai.ChatCompletionChunk](ssestream.NewDecoder(newResp()), nil)
	var acc openai.ChatCompletionAccumulator
	var last openai.CompletionUsage
	for stream.Next() {
		acc.AddChunk(stream.Current())
		last = stream.Current().Usage
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, "Hi there", acc.Choices[0].Message.Content)
	assert.EqualValues(t, 4, acc.Usage.CompletionTokens, "the accumulator's sum")
	assert.EqualValues(t, 15, acc.Usage.PromptTokens, "the accumulator's sum")
	assert.EqualValues(t, 2, last.CompletionTokens, "the last chunk's usage")

	dec := (&providers.OpenAI{}).NewDecoder()
	require.NoError(t, dec.Reset(newResp(), &providers.Request{Stream: true}))
	var d providers.Delta
	var usage providers.Usage
	for {
		err := dec.Next(&d)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if d.HasUsage {
			usage = d.Usage
		}
	}
	assert.Equal(t, 2, usage.OutputTokens, "lens's last usage")
	assert.Equal(t, 5, usage.InputTokens, "lens's last usage")
}

// openAIErrorCase is one status fault and what openai-go must make of it.
type openAIErrorCase struct {
	fault    fake.Fault
	status   int
	typ      string // error.type
	code     string // error.code
	retryAft bool   // the answer carries Retry-After
}

var openAIErrorCases = []openAIErrorCase{
	{fake.FaultRateLimit, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", true},
	{fake.FaultServerError, http.StatusInternalServerError, "server_error", "", false},
	{fake.FaultUnavailable, http.StatusServiceUnavailable, "server_error", "", true},
}

// requireOpenAIError checks that err is openai-go's *openai.Error for the
// case, with the fake's request id and Retry-After headers.
func requireOpenAIError(t *testing.T, err error, tc openAIErrorCase, rec fake.Record) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, tc.status, apiErr.StatusCode)
	assert.Equal(t, tc.typ, apiErr.Type)
	assert.Equal(t, tc.code, apiErr.Code)
	assert.NotEmpty(t, apiErr.Message)
	require.NotNil(t, apiErr.Response)
	assert.Equal(t, rec.RequestID, apiErr.Response.Header.Get("X-Request-Id"))
	if tc.retryAft {
		assert.Equal(t, "40", apiErr.Response.Header.Get("Retry-After-Ms"))
		assert.Equal(t, "1", apiErr.Response.Header.Get("Retry-After"))
	}
	return apiErr
}

// TestOpenAIErrors: with retries off, openai-go makes one attempt and
// returns the typed error; with retries on, it makes three, each after the
// Retry-After-Ms the fake asked for, and returns the last error.
func TestOpenAIErrors(t *testing.T) {
	for _, tc := range openAIErrorCases {
		for stream, name := range streamModes(string(tc.fault)) {
			runFault(t, name+"/no-retry", tc.fault, func(t *testing.T, srv *fake.Server) {
				client := newOpenAI(srv, 0)
				err := openAIChatCall(t, client, stream)
				rec := oneRecord(t, srv)
				assert.Equal(t, tc.status, rec.Status)
				requireOpenAIError(t, err, tc, rec)
			})
			if !tc.retryAft {
				// Without Retry-After, openai-go backs off 0.5s, 1s: cap it.
				runFault(t, name+"/retry", tc.fault, func(t *testing.T, srv *fake.Server) {
					client := newOpenAI(srv, 2, option.WithMaxRetryDelay(5*time.Millisecond))
					err := openAIChatCall(t, client, stream)
					recs := srv.Records()
					requireRetriedAfter(t, recs, 0, tc.status, tc.status, tc.status)
					requireOpenAIError(t, err, tc, recs[2])
				})
				continue
			}
			runFault(t, name+"/retry", tc.fault, func(t *testing.T, srv *fake.Server) {
				client := newOpenAI(srv, 2)
				err := openAIChatCall(t, client, stream)
				recs := srv.Records()
				requireRetriedAfter(t, recs, testRetryAfter, tc.status, tc.status, tc.status)
				requireOpenAIError(t, err, tc, recs[2])
			})
		}
	}
}

// openAIChatCall makes one chat call, streamed or not, and returns its
// error.
func openAIChatCall(t *testing.T, client openai.Client, stream bool) error {
	t.Helper()
	params := chatParams("gpt-4o-mini", 0)
	if !stream {
		_, err := client.Chat.Completions.New(t.Context(), params)
		return err
	}
	s := client.Chat.Completions.NewStreaming(t.Context(), params)
	defer s.Close()
	for s.Next() {
		t.Errorf("unexpected chunk %s", s.Current().RawJSON())
	}
	return s.Err()
}

// TestOpenAIRetryAfterTooLong: openai-go does not retry when the server
// asks for a wait above two minutes (as the API documents it): one attempt, and the
// 429.
func TestOpenAIRetryAfterTooLong(t *testing.T) {
	srv := newServer(t, fake.Config{FaultFunc: always(fake.FaultRateLimit), Faults: fake.Faults{RetryAfter: 5 * time.Minute}})
	client := newOpenAI(srv, 2)
	_, err := client.Chat.Completions.New(t.Context(), chatParams("gpt-4o-mini", 0))
	rec := oneRecord(t, srv)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Equal(t, "300000", apiErr.Response.Header.Get("Retry-After-Ms"))
	assert.Equal(t, "300", apiErr.Response.Header.Get("Retry-After"))
	assert.Equal(t, rec.RequestID, apiErr.Response.Header.Get("X-Request-Id"))
}

// TestOpenAIRetryRecovers: a 429 then a whole response; openai-go waits
// the Retry-After and returns the second request's text.
func TestOpenAIRetryRecovers(t *testing.T) {
	const seed = 5
	srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 6, FaultFunc: firstThen(1, fake.FaultRateLimit)})
	client := newOpenAI(srv, 2)
	resp, err := client.Chat.Completions.New(t.Context(), chatParams("gpt-4o-mini", 0))
	require.NoError(t, err)
	recs := srv.Records()
	requireRetriedAfter(t, recs, testRetryAfter, http.StatusTooManyRequests, http.StatusOK)
	assert.Equal(t, wantText(seed, 1, 6), resp.Choices[0].Message.Content, "the text of request 1")
	assert.Equal(t, recs[1].Text, resp.Choices[0].Message.Content)
	assert.Equal(t, recs[1].ID, resp.ID)
}

// TestOpenAIStreamFaults: faults inside a 200 stream. openai-go is never
// retried once the stream began; it returns the text of the content events
// before the fault (Record.FaultAt) and an error. A stream cut or ended by
// an error event carries no more text, as its record says.
func TestOpenAIStreamFaults(t *testing.T) {
	for _, tc := range []struct {
		fault fake.Fault
		check func(t *testing.T, err error)
	}{
		{fake.FaultStreamError, func(t *testing.T, err error) {
			var se *ssestream.StreamError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, se.Error(), "The server had an error")
		}},
		{fake.FaultDisconnect, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		}},
		{fake.FaultMalformed, func(t *testing.T, err error) {
			var syntax *json.SyntaxError
			assert.ErrorAs(t, err, &syntax)
		}},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			const seed = 3
			srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 10, FaultFunc: always(tc.fault)})
			client := newOpenAI(srv, 2)
			params := chatParams("gpt-4o-mini", 0)
			stream := client.Chat.Completions.NewStreaming(t.Context(), params)
			var text strings.Builder
			for stream.Next() {
				for _, c := range stream.Current().Choices {
					text.WriteString(c.Delta.Content)
				}
			}
			err := stream.Err()
			require.Error(t, err)
			tc.check(t, err)
			stream.Close()

			rec := oneRecord(t, srv)
			assert.Equal(t, tc.fault, rec.Fault)
			assert.Equal(t, 5, rec.FaultAt)
			assert.Equal(t, wantText(seed, 0, 5), text.String(), "the text before the fault")
			if tc.fault != fake.FaultMalformed { // the rest was sent, but not read
				assert.Equal(t, rec.Text, text.String())
			}
		})
	}
}

// responsesParams returns a Responses request with the test prompt and, if
// maxTokens is above 0, that limit.
func responsesParams(model string, maxTokens int64) responses.ResponseNewParams {
	p := responses.ResponseNewParams{
		Model: model,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(testPrompt)},
	}
	if maxTokens > 0 {
		p.MaxOutputTokens = openai.Int(maxTokens)
	}
	return p
}

func TestOpenAIResponsesStream(t *testing.T) {
	const seed = 21
	runOutputCases(t, fake.Config{Seed: seed, ITL: fake.Fixed(time.Millisecond)}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newOpenAI(srv, 0)

		stream := client.Responses.NewStreaming(t.Context(), responsesParams("gpt-4o-mini", tc.maxTokens))
		var text strings.Builder
		var deltas, seq int
		var final responses.Response
		var terminal string
		for stream.Next() {
			ev := stream.Current()
			assert.EqualValues(t, seq, ev.SequenceNumber, "sequence_number")
			seq++
			switch ev.Type {
			case "response.output_text.delta":
				deltas++
				text.WriteString(ev.Delta)
			case "response.completed", "response.incomplete":
				terminal = ev.Type
				final = ev.Response
			}
		}
		require.NoError(t, stream.Err())
		require.NoError(t, stream.Close())

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		status, wantTerminal := "completed", "response.completed"
		if cut {
			status, wantTerminal = "incomplete", "response.incomplete"
		}
		checkStreamed(t, rec, want, text.String(), deltas, tc.chunks(1))
		assert.Equal(t, want, final.OutputText(), "the final response's text")
		assert.Equal(t, wantTerminal, terminal)
		checkAnswer(t, rec, responses.ResponseStatus(status), tokens, final.Status, final.Usage.OutputTokens, final.Usage.InputTokens, final.ID)
		assert.EqualValues(t, testPromptTokens+tokens, final.Usage.TotalTokens)
		if cut {
			assert.Equal(t, "max_output_tokens", final.IncompleteDetails.Reason)
		}
	})
}

func TestOpenAIResponses(t *testing.T) {
	const seed = 22
	runOutputCases(t, fake.Config{Seed: seed}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newOpenAI(srv, 0)

		resp, err := client.Responses.New(t.Context(), responsesParams("gpt-4o-mini", tc.maxTokens))
		require.NoError(t, err)

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		status := finishOf(cut, "completed", "incomplete")
		assert.Equal(t, want, resp.OutputText())
		assert.Equal(t, want, rec.Text)
		checkAnswer(t, rec, responses.ResponseStatus(status), tokens, resp.Status, resp.Usage.OutputTokens, resp.Usage.InputTokens, resp.ID)
	})
}

// TestOpenAIResponsesErrors: the Responses API's status faults are the same
// typed errors, and its mid-stream error is an "error" event delivered as
// an ordinary event (as the API documents it), after the text sent before it.
func TestOpenAIResponsesErrors(t *testing.T) {
	runFault(t, "rate_limit", fake.FaultRateLimit, func(t *testing.T, srv *fake.Server) {
		client := newOpenAI(srv, 1)
		_, err := client.Responses.New(t.Context(), responsesParams("gpt-4o-mini", 0))
		recs := srv.Records()
		requireRetriedAfter(t, recs, testRetryAfter, http.StatusTooManyRequests, http.StatusTooManyRequests)
		requireOpenAIError(t, err, openAIErrorCases[0], recs[1])
	})
	t.Run("stream_error", func(t *testing.T) {
		t.Parallel()
		const seed = 4
		srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 8, FaultFunc: always(fake.FaultStreamError)})
		client := newOpenAI(srv, 0)
		stream := client.Responses.NewStreaming(t.Context(), responsesParams("gpt-4o-mini", 0))
		var text strings.Builder
		var errEvent responses.ResponseStreamEventUnion
		for stream.Next() {
			ev := stream.Current()
			switch ev.Type {
			case "response.output_text.delta":
				text.WriteString(ev.Delta)
			case "error":
				errEvent = ev
			}
		}
		require.NoError(t, stream.Err(), "an error event is an ordinary event")
		rec := oneRecord(t, srv)
		assert.Equal(t, "error", errEvent.Type)
		assert.Equal(t, "server_error", errEvent.Code)
		assert.Contains(t, errEvent.Message, "The server had an error")
		assert.Equal(t, wantText(seed, 0, 4), text.String())
		assert.Equal(t, rec.Text, text.String())
	})
}
