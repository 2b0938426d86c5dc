package conformance

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens/fake"
)

// This file checks the fake's Azure OpenAI format with openai-go's azure
// options.

const (
	azureAPIVersion = "2024-10-21"
	azureDeployment = "my-deploy"
	azurePath       = "/openai/deployments/" + azureDeployment + "/chat/completions"
)

// newAzure returns an openai-go client of srv configured for Azure, with
// an API key, that makes at most 1+retries attempts per call.
func newAzure(srv *fake.Server, retries int) openai.Client {
	return openai.NewClient(
		azure.WithEndpoint(srv.URL, azureAPIVersion),
		azure.WithAPIKey(testKey),
		azure.WithUnsafeAllowHTTP(),
		option.WithHTTPClient(srv.Client()),
		option.WithMaxRetries(retries),
	)
}

func TestAzureChatStream(t *testing.T) {
	for _, async := range []bool{false, true} {
		for _, tc := range outputCases {
			name := tc.name
			if async {
				name += "/async-filter"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				const seed = 31
				srv := newServer(t, fake.Config{Seed: seed, OutputTokens: tc.tokens, TokensPerChunk: tc.perChunk,
					ITL: fake.Fixed(time.Millisecond), Deployments: []string{azureDeployment}, AzureAsyncFilter: async})
				client := newAzure(srv, 0)
				params := chatParams(azureDeployment, tc.maxTokens)
				params.StreamOptions.IncludeUsage = openai.Bool(true)

				stream := client.Chat.Completions.NewStreaming(t.Context(), params)
				var acc openai.ChatCompletionAccumulator
				var text strings.Builder
				var chunks, promptFilters, rejected int
				for stream.Next() {
					chunk := stream.Current()
					chunks++
					if strings.Contains(chunk.RawJSON(), `"prompt_filter_results":[{`) && len(chunk.Choices) == 0 {
						promptFilters++
					}
					if !acc.AddChunk(chunk) {
						rejected++
						assert.Empty(t, chunk.ID, "only the filter's trailing chunk, id \"\", is rejected")
					}
					for _, c := range chunk.Choices {
						text.WriteString(c.Delta.Content)
					}
				}
				require.NoError(t, stream.Err())
				require.NoError(t, stream.Close())

				rec := oneRecord(t, srv)
				want, tokens, cut := tc.want(seed, 0)
				finish := finishOf(cut, "stop", "length")
				assert.Equal(t, azurePath, rec.Path)
				assert.Equal(t, want, rec.Text)
				assert.Equal(t, want, text.String(), "the deltas")
				// prompt filter, role, content chunks, finish, usage, and the
				// asynchronous filter's trailing chunk.
				wantChunks := 1 + 1 + tc.chunks(1) + 1 + 1
				wantRejected := 0
				if async {
					wantChunks++
					wantRejected = 1 // Azure's documented stream: the accumulator rejects the trailing id "" chunk
				}
				assert.Equal(t, wantChunks, chunks, "chunks")
				assert.Equal(t, 1, promptFilters, "prompt filter chunks")
				assert.Equal(t, wantRejected, rejected, "chunks the accumulator rejected")

				require.Len(t, acc.Choices, 1)
				assert.Equal(t, want, acc.Choices[0].Message.Content)
				checkAnswer(t, rec, finish, tokens, acc.Choices[0].FinishReason, acc.Usage.CompletionTokens, acc.Usage.PromptTokens, acc.ID)
			})
		}
	}
}

func TestAzureChat(t *testing.T) {
	const seed = 32
	runOutputCases(t, fake.Config{Seed: seed, Deployments: []string{azureDeployment}}, func(t *testing.T, tc outputCase, srv *fake.Server) {
		client := newAzure(srv, 0)

		resp, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, tc.maxTokens))
		require.NoError(t, err)

		rec := oneRecord(t, srv)
		want, tokens, cut := tc.want(seed, 0)
		finish := finishOf(cut, "stop", "length")
		assert.Equal(t, azurePath, rec.Path)
		require.Len(t, resp.Choices, 1)
		assert.Equal(t, want, resp.Choices[0].Message.Content)
		assert.Equal(t, want, rec.Text)
		checkAnswer(t, rec, finish, tokens, resp.Choices[0].FinishReason, resp.Usage.CompletionTokens, resp.Usage.PromptTokens, resp.ID)
	})
}

// TestAzureErrors: Azure's envelope has a string code and no type
// (as the API documents it); openai-go makes an *openai.Error of it, retries 429 after
// the Retry-After-Ms asked for, and a missing deployment is a 404
// DeploymentNotFound, not retried.
func TestAzureErrors(t *testing.T) {
	runFault(t, "rate_limit/no-retry", fake.FaultRateLimit, func(t *testing.T, srv *fake.Server) {
		client := newAzure(srv, 0)
		_, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, 0))
		rec := oneRecord(t, srv)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
		assert.Equal(t, "429", apiErr.Code)
		assert.Contains(t, apiErr.Message, "Please retry after 1 seconds")
		assert.Equal(t, "40", apiErr.Response.Header.Get("Retry-After-Ms"))
		assert.Equal(t, "1", apiErr.Response.Header.Get("Retry-After"))
		assert.Equal(t, rec.RequestID, apiErr.Response.Header.Get("X-Request-Id"))
	})
	runFault(t, "rate_limit/retry", fake.FaultRateLimit, func(t *testing.T, srv *fake.Server) {
		client := newAzure(srv, 2)
		_, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, 0))
		requireRetriedAfter(t, srv.Records(), testRetryAfter, 429, 429, 429)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	})
	runFault(t, "server_error", fake.FaultServerError, func(t *testing.T, srv *fake.Server) {
		client := newAzure(srv, 0)
		_, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, 0))
		oneRecord(t, srv)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
		assert.Equal(t, "InternalServerError", apiErr.Code)
	})
	t.Run("deployment_not_found", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, fake.Config{Deployments: []string{"another"}})
		client := newAzure(srv, 2)
		_, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, 0))
		rec := oneRecord(t, srv)
		assert.Equal(t, http.StatusNotFound, rec.Status)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
		assert.Equal(t, "DeploymentNotFound", apiErr.Code)
		assert.Empty(t, apiErr.Type)
	})
}

// TestAzureV1Chat: Azure's v1 surface (/openai/v1/chat/completions, model
// in the body, no api-version) takes the plain OpenAI client with an
// api-key header; openai-go gets the fake's text, usage and finish reason,
// streamed and not.
func TestAzureV1Chat(t *testing.T) {
	for _, stream := range []bool{true, false} {
		name := "stream"
		if !stream {
			name = "no-stream"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const seed = 33
			srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 9, Deployments: []string{azureDeployment}})
			client := openai.NewClient(option.WithBaseURL(srv.URL+"/openai/v1"), option.WithHeader("Api-Key", testKey),
				option.WithHTTPClient(srv.Client()), option.WithMaxRetries(0))
			params := chatParams(azureDeployment, 0)
			var acc openai.ChatCompletionAccumulator
			if stream {
				params.StreamOptions.IncludeUsage = openai.Bool(true)
				s := client.Chat.Completions.NewStreaming(t.Context(), params)
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
			} else {
				resp, err := client.Chat.Completions.New(t.Context(), params)
				require.NoError(t, err)
				acc.ChatCompletion = *resp
			}
			rec := oneRecord(t, srv)
			assert.Equal(t, "/openai/v1/chat/completions", rec.Path)
			require.Len(t, acc.Choices, 1)
			assert.Equal(t, wantText(seed, 0, 9), acc.Choices[0].Message.Content)
			assert.Equal(t, rec.Text, acc.Choices[0].Message.Content)
			assert.Equal(t, "stop", acc.Choices[0].FinishReason)
			assert.EqualValues(t, 9, acc.Usage.CompletionTokens)
			assert.EqualValues(t, testPromptTokens, acc.Usage.PromptTokens)
			assert.Equal(t, rec.ID, acc.ID)
		})
	}
}
