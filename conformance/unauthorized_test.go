package conformance

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	cohere "github.com/cohere-ai/cohere-go/v2"
	cohereclient "github.com/cohere-ai/cohere-go/v2/client"
	cohereoption "github.com/cohere-ai/cohere-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"
)

// The fake checks no key for OpenAI, Azure, Gemini and Cohere (only
// Anthropic's 401 is the fake's, see TestAnthropicUnauthorized), so these
// tests answer with the 401 envelopes of the APIs' documented wire formats from a
// handler of their own, to check that each SDK types them and does not
// retry them.

// unauthorized starts a server that answers every request with status and
// body, and returns it with its count of requests.
func unauthorized(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestOpenAIUnauthorized(t *testing.T) {
	t.Parallel()
	srv, n := unauthorized(t, http.StatusUnauthorized,
		`{"error":{"message":"Incorrect API key provided: sk-te****","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey(testKey), option.WithHTTPClient(srv.Client()), option.WithMaxRetries(2))
	_, err := client.Chat.Completions.New(t.Context(), chatParams("gpt-4o-mini", 0))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "invalid_api_key", apiErr.Code)
	assert.Equal(t, "invalid_request_error", apiErr.Type)
	assert.EqualValues(t, 1, n.Load(), "a 401 is not retried")
}

func TestAzureUnauthorized(t *testing.T) {
	t.Parallel()
	srv, n := unauthorized(t, http.StatusUnauthorized,
		`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`)
	client := openai.NewClient(azure.WithEndpoint(srv.URL, azureAPIVersion), azure.WithAPIKey(testKey), azure.WithUnsafeAllowHTTP(),
		option.WithHTTPClient(srv.Client()), option.WithMaxRetries(2))
	_, err := client.Chat.Completions.New(t.Context(), chatParams(azureDeployment, 0))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "401", apiErr.Code)
	assert.Contains(t, apiErr.Message, "Access denied")
	assert.EqualValues(t, 1, n.Load(), "a 401 is not retried")
}

func TestGeminiUnauthorized(t *testing.T) {
	t.Parallel()
	srv, n := unauthorized(t, http.StatusUnauthorized,
		`{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","status":"UNAUTHENTICATED"}}`)
	attempts, initial := int32(3), 0.005
	client, err := genai.NewClient(t.Context(), &genai.ClientConfig{
		Backend: genai.BackendVertexAI, Project: vertexProject, Location: vertexRegion, HTTPClient: srv.Client(),
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL, RetryOptions: &genai.HTTPRetryOptions{Attempts: &attempts, InitialDelay: &initial}},
	})
	require.NoError(t, err)
	_, err = client.Models.GenerateContent(t.Context(), geminiModel, genai.Text(testPrompt), nil)
	var apiErr genai.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.Code)
	assert.Equal(t, "UNAUTHENTICATED", apiErr.Status)
	assert.EqualValues(t, 1, n.Load(), "a 401 is not retried")
}

func TestCohereUnauthorized(t *testing.T) {
	t.Parallel()
	srv, n := unauthorized(t, http.StatusUnauthorized, `{"message":"invalid api token"}`)
	client := cohereclient.NewClient(cohereoption.WithBaseURL(srv.URL), cohereoption.WithToken(testKey),
		cohereoption.WithHTTPClient(srv.Client()), cohereoption.WithMaxAttempts(2))
	_, err := client.V2.Chat(t.Context(), cohereRequest(0))
	var e *cohere.UnauthorizedError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.StatusCode)
	assert.EqualValues(t, 1, n.Load(), "a 401 is not retried")
}
