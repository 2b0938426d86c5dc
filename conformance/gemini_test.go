package conformance

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"

	"github.com/llm-latency-lens/lens/fake"
)

// This file checks the fake's Gemini format, as the Gemini API (AI Studio)
// and as Vertex AI, with google.golang.org/genai.

const (
	geminiModel   = "gemini-2.0-flash"
	vertexProject = "my-proj"
	vertexRegion  = "us-central1"
)

// geminiBackend is one of genai's backends pointed at the fake.
type geminiBackend struct {
	name    string
	vertex  bool   // Vertex AI, else the Gemini API
	version string // the API version; empty for genai's default
	path    string // the path of a streamGenerateContent call
}

var geminiBackends = []geminiBackend{
	{name: "gemini", path: "/v1beta/models/" + geminiModel + ":streamGenerateContent"},
	{name: "vertex", vertex: true,
		path: "/v1beta1/projects/" + vertexProject + "/locations/" + vertexRegion + "/publishers/google/models/" + geminiModel + ":streamGenerateContent"},
	{name: "gemini-v1", version: "v1", path: "/v1/models/" + geminiModel + ":streamGenerateContent"},
	{name: "vertex-v1", vertex: true, version: "v1",
		path: "/v1/projects/" + vertexProject + "/locations/" + vertexRegion + "/publishers/google/models/" + geminiModel + ":streamGenerateContent"},
}

// cfg returns the genai configuration of b against srv: the test key for
// the Gemini API, a project, a location and a bearer token for Vertex AI.
func (b geminiBackend) cfg(srv *fake.Server) *genai.ClientConfig {
	opts := genai.HTTPOptions{BaseURL: srv.URL, APIVersion: b.version}
	if !b.vertex {
		return &genai.ClientConfig{Backend: genai.BackendGeminiAPI, APIKey: testKey, HTTPClient: srv.Client(), HTTPOptions: opts}
	}
	opts.Headers = http.Header{"Authorization": {"Bearer ya29.test-token"}}
	return &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: vertexProject, Location: vertexRegion,
		HTTPClient: srv.Client(), HTTPOptions: opts}
}

// newGenAI returns a genai client of srv for backend b. With retries above
// 0 it makes up to 1+retries attempts, 5 to 10 ms apart; genai makes one
// by default.
func newGenAI(t *testing.T, srv *fake.Server, b geminiBackend, retries int) *genai.Client {
	t.Helper()
	cfg := b.cfg(srv)
	if retries > 0 {
		attempts := int32(1 + retries)
		initial, most := 0.005, 0.01
		cfg.HTTPOptions.RetryOptions = &genai.HTTPRetryOptions{Attempts: &attempts, InitialDelay: &initial, MaxDelay: &most}
	}
	client, err := genai.NewClient(t.Context(), cfg)
	require.NoError(t, err)
	return client
}

func generateConfig(maxTokens int64) *genai.GenerateContentConfig {
	return &genai.GenerateContentConfig{MaxOutputTokens: int32(maxTokens)}
}

func TestGeminiGenerateContentStream(t *testing.T) {
	for _, b := range geminiBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const seed = 51
			runOutputCases(t, fake.Config{Seed: seed, ITL: fake.Fixed(time.Millisecond)}, func(t *testing.T, tc outputCase, srv *fake.Server) {
				client := newGenAI(t, srv, b, 0)

				var text strings.Builder
				var chunks int
				var last *genai.GenerateContentResponse
				for resp, err := range client.Models.GenerateContentStream(t.Context(), geminiModel, genai.Text(testPrompt), generateConfig(tc.maxTokens)) {
					require.NoError(t, err)
					chunks++
					text.WriteString(resp.Text())
					last = resp
				}

				rec := oneRecord(t, srv)
				want, tokens, cut := tc.want(seed, 0)
				finish := finishOf(cut, genai.FinishReasonStop, genai.FinishReasonMaxTokens)
				assert.Equal(t, b.path, rec.Path)
				checkStreamed(t, rec, want, text.String(), chunks, tc.chunks(4)) // 4 tokens a chunk by default
				require.NotNil(t, last)
				require.Len(t, last.Candidates, 1)
				require.NotNil(t, last.UsageMetadata)
				// The last chunk's running totals.
				checkAnswer(t, rec, finish, tokens, last.Candidates[0].FinishReason, last.UsageMetadata.CandidatesTokenCount,
					last.UsageMetadata.PromptTokenCount, last.ResponseID)
				assert.EqualValues(t, testPromptTokens+tokens, last.UsageMetadata.TotalTokenCount)
			})
		})
	}
}

func TestGeminiGenerateContent(t *testing.T) {
	for _, b := range geminiBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const seed = 52
			runOutputCases(t, fake.Config{Seed: seed}, func(t *testing.T, tc outputCase, srv *fake.Server) {
				client := newGenAI(t, srv, b, 0)

				resp, err := client.Models.GenerateContent(t.Context(), geminiModel, genai.Text(testPrompt), generateConfig(tc.maxTokens))
				require.NoError(t, err)

				rec := oneRecord(t, srv)
				want, tokens, cut := tc.want(seed, 0)
				finish := finishOf(cut, genai.FinishReasonStop, genai.FinishReasonMaxTokens)
				assert.Equal(t, strings.TrimSuffix(b.path, ":streamGenerateContent")+":generateContent", rec.Path)
				assert.Equal(t, want, resp.Text())
				assert.Equal(t, want, rec.Text)
				require.Len(t, resp.Candidates, 1)
				require.NotNil(t, resp.UsageMetadata)
				checkAnswer(t, rec, finish, tokens, resp.Candidates[0].FinishReason, resp.UsageMetadata.CandidatesTokenCount,
					resp.UsageMetadata.PromptTokenCount, resp.ResponseID)
			})
		})
	}
}

// geminiCall makes one generate call, streamed or not, and returns its
// error.
func geminiCall(t *testing.T, client *genai.Client, stream bool) error {
	t.Helper()
	if !stream {
		_, err := client.Models.GenerateContent(t.Context(), geminiModel, genai.Text(testPrompt), nil)
		return err
	}
	var last error
	for resp, err := range client.Models.GenerateContentStream(t.Context(), geminiModel, genai.Text(testPrompt), nil) {
		if err != nil {
			last = err
			continue
		}
		t.Errorf("unexpected chunk %q", resp.Text())
	}
	return last
}

// TestGeminiErrors: status faults become genai.APIError with Google's code
// and status. A 429 carries its retry delay in a RetryInfo detail, genai's
// only view of it (it reads no header). genai makes one attempt unless
// RetryOptions asks for more, and then retries 429 and 5xx.
func TestGeminiErrors(t *testing.T) {
	for _, b := range geminiBackends {
		for _, tc := range []struct {
			fault  fake.Fault
			code   int
			status string
		}{
			{fake.FaultRateLimit, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
			{fake.FaultServerError, http.StatusInternalServerError, "INTERNAL"},
			{fake.FaultOverloaded, http.StatusServiceUnavailable, "UNAVAILABLE"},
		} {
			for stream, name := range streamModes(b.name + "/" + string(tc.fault)) {
				for _, retries := range []int{0, 2} {
					sub := name
					if retries > 0 {
						sub += "/retry"
					}
					runFault(t, sub, tc.fault, func(t *testing.T, srv *fake.Server) {
						err := geminiCall(t, newGenAI(t, srv, b, retries), stream)
						recs := srv.Records()
						require.Len(t, recs, 1+retries, "attempts")
						for _, rec := range recs {
							assert.Equal(t, tc.code, rec.Status)
						}
						var apiErr genai.APIError
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, tc.code, apiErr.Code)
						assert.Equal(t, tc.status, apiErr.Status)
						assert.NotEmpty(t, apiErr.Message)
						if tc.fault == fake.FaultRateLimit {
							require.Len(t, apiErr.Details, 1)
							assert.Equal(t, "type.googleapis.com/google.rpc.RetryInfo", apiErr.Details[0]["@type"])
							assert.Equal(t, "0.040s", apiErr.Details[0]["retryDelay"])
						}
					})
				}
			}
		}
	}
}

// TestGeminiStreamError: the fake's mid-stream error, a data event holding
// {"error":{...}}, is a genai.APIError from the iterator, after the chunks
// sent before it.
func TestGeminiStreamError(t *testing.T) {
	for _, b := range geminiBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const seed = 53
			srv := newServer(t, fake.Config{Seed: seed, OutputTokens: 16, FaultFunc: always(fake.FaultStreamError)})
			client := newGenAI(t, srv, b, 0)
			var text strings.Builder
			var errs []error
			for resp, err := range client.Models.GenerateContentStream(t.Context(), geminiModel, genai.Text(testPrompt), nil) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				text.WriteString(resp.Text())
			}
			rec := oneRecord(t, srv)
			assert.Equal(t, 2, rec.FaultAt, "4 chunks of 4 tokens: the fault strikes the third")
			assert.Equal(t, wantText(seed, 0, 8), text.String())
			assert.Equal(t, rec.Text, text.String())
			require.Len(t, errs, 1)
			var apiErr genai.APIError
			require.ErrorAs(t, errs[0], &apiErr)
			assert.Equal(t, http.StatusServiceUnavailable, apiErr.Code)
			assert.Equal(t, "UNAVAILABLE", apiErr.Status)
		})
	}
}
