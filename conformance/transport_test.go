package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/option"
	cohereclient "github.com/cohere-ai/cohere-go/v2/client"
	cohereoption "github.com/cohere-ai/cohere-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// This file checks lens.Transport under the official SDKs: what it
// measures of each call must be what the fake scheduled, and the SDK must
// get the same output with and without it.

// sdkCase is one SDK making one call of its API through a client.
type sdkCase struct {
	name     string
	perChunk int // the fake's tokens per content event by default
	// call makes one call through c against the fake at root (no /v1)
	// and returns the SDK's output: every streamed event, or the
	// response, as the SDK decoded it, in JSON.
	call func(ctx context.Context, c *http.Client, root string, stream bool) (string, error)
}

var sdkCases = []sdkCase{
	{"openai-go", 1, func(ctx context.Context, c *http.Client, root string, stream bool) (string, error) {
		client := openai.NewClient(option.WithBaseURL(root+"/v1"), option.WithAPIKey(testKey), option.WithHTTPClient(c), option.WithMaxRetries(0))
		params := chatParams("gpt-4o-mini", 0)
		if !stream {
			resp, err := client.Chat.Completions.New(ctx, params)
			if err != nil {
				return "", err
			}
			return resp.RawJSON(), nil
		}
		params.StreamOptions.IncludeUsage = openai.Bool(true)
		s := client.Chat.Completions.NewStreaming(ctx, params)
		var out strings.Builder
		for s.Next() {
			out.WriteString(s.Current().RawJSON() + "\n")
		}
		return out.String(), errors.Join(s.Err(), s.Close())
	}},
	{"anthropic-sdk-go", 1, func(ctx context.Context, c *http.Client, root string, stream bool) (string, error) {
		client := anthropic.NewClient(anthropicoption.WithoutEnvironmentDefaults(), anthropicoption.WithBaseURL(root),
			anthropicoption.WithAPIKey(testKey), anthropicoption.WithHTTPClient(c), anthropicoption.WithMaxRetries(0))
		if !stream {
			msg, err := client.Messages.New(ctx, messageParams(0))
			if err != nil {
				return "", err
			}
			return msg.RawJSON(), nil
		}
		s := client.Messages.NewStreaming(ctx, messageParams(0))
		var out strings.Builder
		for s.Next() {
			out.WriteString(s.Current().RawJSON() + "\n")
		}
		return out.String(), errors.Join(s.Err(), s.Close())
	}},
	{"genai", 4, func(ctx context.Context, c *http.Client, root string, stream bool) (string, error) {
		client, err := genai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendGeminiAPI, APIKey: testKey,
			HTTPClient: c, HTTPOptions: genai.HTTPOptions{BaseURL: root}})
		if err != nil {
			return "", err
		}
		if !stream {
			return sdkJSON(client.Models.GenerateContent(ctx, geminiModel, genai.Text(testPrompt), nil))
		}
		var out strings.Builder
		for resp, err := range client.Models.GenerateContentStream(ctx, geminiModel, genai.Text(testPrompt), nil) {
			if err == nil {
				err = writeJSONLine(&out, resp)
			}
			if err != nil {
				return "", err
			}
		}
		return out.String(), nil
	}},
	{"cohere-go", 1, func(ctx context.Context, c *http.Client, root string, stream bool) (string, error) {
		client := cohereclient.NewClient(cohereoption.WithBaseURL(root), cohereoption.WithToken(testKey),
			cohereoption.WithHTTPClient(c), cohereoption.WithMaxAttempts(1))
		if !stream {
			return sdkJSON(client.V2.Chat(ctx, cohereRequest(0)))
		}
		s, err := client.V2.ChatStream(ctx, cohereStreamRequest(0))
		if err != nil {
			return "", err
		}
		defer s.Close()
		var out strings.Builder
		for {
			ev, err := s.Recv()
			if errors.Is(err, io.EOF) {
				return out.String(), nil
			}
			if isCohereBlankLine(err) {
				continue // see TestCohereStreamReadBoundary
			}
			if err == nil {
				err = writeJSONLine(&out, ev)
			}
			if err != nil {
				return "", err
			}
		}
	}},
}

// sdkJSON returns v, a response an SDK decoded, in JSON, or err when the
// call that gave it failed.
func sdkJSON(v any, err error) (string, error) {
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// writeJSONLine writes v, an event an SDK decoded, to out in JSON, on a
// line of its own.
func writeJSONLine(out *strings.Builder, v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		out.Write(append(b, '\n'))
	}
	return err
}

// TestTransportSDKsVirtualTime: each SDK, streaming and not, calls a
// fake.Responder through lens.Transport in virtual time, where every
// event arrives exactly when the fake scheduled it: each call's measured
// TTFT, ITLs, E2E and token counts equal the fake's Record of it, and the
// SDK's output is byte-identical to what it gets without the transport.
func TestTransportSDKsVirtualTime(t *testing.T) {
	for _, sdk := range sdkCases {
		for _, stream := range []bool{true, false} {
			name := sdk.name + "/stream"
			if !stream {
				name = sdk.name + "/whole"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				cfg := fake.Config{Seed: 21, TTFT: fake.Uniform(40*time.Millisecond, 200*time.Millisecond),
					ITL: fake.Uniform(3*time.Millisecond, 25*time.Millisecond), OutputTokens: 10, Record: true}
				const calls = 5
				// Without the transport, in a bubble of its own: virtual
				// time starts at the same instant in each bubble, so the
				// two runs see the same bytes at the same times.
				var bare []string
				synctest.Test(t, func(t *testing.T) {
					c := &http.Client{Transport: fake.NewResponder(cfg)}
					for range calls {
						out, err := sdk.call(t.Context(), c, "http://fake.test", stream)
						require.NoError(t, err)
						bare = append(bare, out)
					}
				})
				synctest.Test(t, func(t *testing.T) {
					r := fake.NewResponder(cfg)
					ms := newMeasured()
					tr := &lens.Transport{Base: r, OnRequest: ms.record}
					for i := range calls {
						out, err := sdk.call(t.Context(), tr.Client(), "http://fake.test", stream)
						require.NoError(t, err)
						assert.Equal(t, bare[i], out, "the SDK's output of call %d", i)
					}
					res := tr.Result()
					require.EqualValues(t, calls, res.Succeeded, "errors: %v", res.ErrorSamples)
					recs := r.Records()
					require.Len(t, recs, calls)
					// The SDK named the model, in the path or the body.
					assert.Equal(t, recs[0].Model, res.Model, "the result's model")
					assert.NotEmpty(t, res.Model)
					for _, rec := range recs {
						m, ok := ms.byID[rec.RequestID]
						require.True(t, ok, "no measurement of request %d (%s)", rec.Seq, rec.RequestID)
						s := rec.Scheduled
						if stream {
							require.Len(t, s, (10+sdk.perChunk-1)/sdk.perChunk, "content events")
							assert.Equal(t, gaps(s), nilIfEmpty(m.ITLs), "ITLs of call %d", rec.Seq)
							assert.Equal(t, tpot(m.E2E, m.TTFT, rec.OutputTokens), m.TPOT, "TPOT of call %d", rec.Seq)
						} else {
							require.Len(t, s, 1, "a body is one content event")
							assert.Empty(t, m.ITLs)
							assert.Equal(t, lens.Absent, m.TPOT)
						}
						assert.Equal(t, s[0], m.TTFT, "TTFT of call %d", rec.Seq)
						assert.Equal(t, s[len(s)-1], m.E2E, "E2E of call %d", rec.Seq)
						assert.Equal(t, rec.OutputTokens, m.OutputTokens, "output tokens of call %d", rec.Seq)
						assert.True(t, m.TokensFromUsage)
						assert.Equal(t, rec.PromptTokens, m.InputTokens, "input tokens of call %d", rec.Seq)
						assert.Equal(t, rec.FinishReason, m.FinishReason)
						assert.Equal(t, stream, m.Stream)
					}
				})
			})
		}
	}
}

// TestTransportSDKRetry: openai-go retries a 429 by default; through
// lens.Transport the retry is two measured calls, the first classed
// rate_limited with the provider's message, the second a success.
func TestTransportSDKRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := fake.NewResponder(fake.Config{OutputTokens: 6, Record: true, FaultFunc: firstThen(1, fake.FaultRateLimit),
			Faults: fake.Faults{RetryAfter: testRetryAfter}})
		ms := newMeasured()
		tr := &lens.Transport{Base: r, OnRequest: ms.record}
		client := openai.NewClient(option.WithBaseURL("http://fake.test/v1"), option.WithAPIKey(testKey), option.WithHTTPClient(tr.Client()))
		resp, err := client.Chat.Completions.New(t.Context(), chatParams("gpt-4o-mini", 0))
		require.NoError(t, err)
		require.Len(t, resp.Choices, 1)

		res := tr.Result()
		assert.EqualValues(t, 2, res.Total, "two attempts, two measured calls")
		assert.EqualValues(t, 1, res.Succeeded)
		assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassRateLimited: 1}, res.Errors)
		assert.NotEmpty(t, res.ErrorSamples[lens.ClassRateLimited])
		assert.NotContains(t, res.ErrorSamples[lens.ClassRateLimited], testKey)
		recs := r.Records()
		require.Len(t, recs, 2)
		first, second := ms.byID[recs[0].RequestID], ms.byID[recs[1].RequestID]
		assert.Equal(t, lens.ClassRateLimited, first.Class)
		assert.Equal(t, http.StatusTooManyRequests, first.StatusCode)
		assert.True(t, second.OK())
		assert.True(t, second.Start.After(first.Start), "the retry came after the 429")
	})
}
