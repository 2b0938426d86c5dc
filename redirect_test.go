package lens_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// The credential and the custom header every provider of the redirect tests
// carries.
const (
	redirectKey    = "KEY-must-stay-home-0123456789"
	redirectCustom = "custom-header-must-stay-home"
)

// credentialed is one provider whose requests carry redirectKey in the
// API's own way, and redirectCustom in a custom header.
type credentialed struct {
	name   string
	header string // the header that carries the key
	new    func(base string) providers.Provider
}

// credentialedProviders returns every provider, each with its own auth
// header: OpenAI's and Cohere's Authorization, Anthropic's X-Api-Key,
// Gemini's X-Goog-Api-Key and Vertex's bearer, Azure's Api-Key and its
// Entra bearer, and the generic provider's configured header.
func credentialedProviders() []credentialed {
	custom := func() http.Header { return http.Header{"X-Custom-Secret": {redirectCustom}} }
	return []credentialed{
		{"openai", "Authorization", func(b string) providers.Provider {
			return &providers.OpenAI{BaseURL: b + "/v1", APIKey: redirectKey, Header: custom()}
		}},
		{"responses", "Authorization", func(b string) providers.Provider {
			return &providers.OpenAIResponses{BaseURL: b + "/v1", APIKey: redirectKey, Header: custom()}
		}},
		{"anthropic", "X-Api-Key", func(b string) providers.Provider {
			return &providers.Anthropic{BaseURL: b + "/v1", APIKey: redirectKey, Header: custom()}
		}},
		{"gemini", "X-Goog-Api-Key", func(b string) providers.Provider {
			return &providers.Gemini{BaseURL: b + "/v1beta", APIKey: redirectKey, Header: custom()}
		}},
		{"vertex", "Authorization", func(b string) providers.Provider {
			return &providers.Gemini{BaseURL: b + "/v1", Project: "p", AccessToken: redirectKey, Header: custom()}
		}},
		{"azure", "Api-Key", func(b string) providers.Provider {
			return &providers.Azure{BaseURL: b, APIKey: redirectKey, Header: custom()}
		}},
		{"azure-entra", "Authorization", func(b string) providers.Provider {
			return &providers.Azure{BaseURL: b, BearerToken: redirectKey, Header: custom()}
		}},
		{"cohere", "Authorization", func(b string) providers.Provider {
			return &providers.Cohere{BaseURL: b, APIKey: redirectKey, Header: custom()}
		}},
		{"generic", "X-Generic-Auth", func(b string) providers.Provider {
			return &providers.Generic{
				URL:      b + "/v1/chat/completions",
				Body:     `{"model":{{model}},"messages":{{messages}},"stream":{{stream}}}`,
				TextPath: "choices.0.delta.content",
				DoneData: "[DONE]",
				APIKey:   redirectKey,
				Header:   http.Header{"X-Generic-Auth": {"{{api_key}}"}, "X-Custom-Secret": {redirectCustom}},
			}
		}},
	}
}

// redirectPair is the two-server setup: From answers every request with a
// redirect to the same path on To (with a query, which must not show in
// errors); To is the fake, and records what reached it.
type redirectPair struct {
	From, To *httptest.Server

	mu       sync.Mutex
	atFrom   int
	atTo     []http.Header
	toMethod []string
}

func newRedirectPair(t *testing.T, status int, sameOrigin bool) *redirectPair {
	t.Helper()
	rp := &redirectPair{}
	f := fake.NewUnstartedServer(fake.Config{OutputTokens: 4})
	fh := f.Handler()
	rp.To = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.atTo = append(rp.atTo, r.Header.Clone())
		rp.toMethod = append(rp.toMethod, r.Method)
		rp.mu.Unlock()
		fh.ServeHTTP(w, r)
	}))
	rp.From = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.atFrom++
		rp.mu.Unlock()
		target := rp.To.URL
		if sameOrigin {
			target = rp.From.URL + "/moved"
		}
		w.Header().Set("Location", target+r.URL.Path+"?sig=query-must-not-show")
		w.WriteHeader(status)
	}))
	t.Cleanup(func() {
		rp.From.Close()
		rp.To.Close()
		f.Close()
	})
	return rp
}

// leaks returns what reached To carrying the key or the custom header.
func (rp *redirectPair) leaks() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []string
	for i, h := range rp.atTo {
		for k, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, redirectKey) || strings.Contains(v, redirectCustom) {
					out = append(out, fmt.Sprintf("%s with %s", rp.toMethod[i], k))
				}
			}
		}
	}
	return out
}

func (rp *redirectPair) counts() (from, to int) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.atFrom, len(rp.atTo)
}

// TestRedirectsAreNotFollowed: whatever the provider, the redirect status
// and the client, Run sends nothing to where a redirect points: no
// credential and no custom header reach the other server, and every
// request fails as ClassRedirect, naming the Location without its query.
// A control first shows that a client following redirects does leak in
// this setup, so the check can fail.
func TestRedirectsAreNotFollowed(t *testing.T) {
	const n = 3
	for _, cp := range credentialedProviders() {
		t.Run(cp.name, func(t *testing.T) {
			t.Run("control", func(t *testing.T) {
				rp := newRedirectPair(t, http.StatusTemporaryRedirect, false)
				req, err := cp.new(rp.From.URL).NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", MaxTokens: 4, Stream: true})
				require.NoError(t, err)
				resp, err := (&http.Client{}).Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Contains(t, rp.leaks(), "POST with "+cp.header, "Go's own redirect policy sends the key on")
			})
			for _, status := range []int{301, 302, 303, 307, 308} {
				for _, client := range []string{"NewClient", "caller's client"} {
					for _, sameOrigin := range []bool{false, true} {
						name := fmt.Sprintf("%d/%s/same-origin=%v", status, client, sameOrigin)
						t.Run(name, func(t *testing.T) {
							rp := newRedirectPair(t, status, sameOrigin)
							sc := lens.Scenario{Provider: cp.new(rp.From.URL), Model: "m", Prompt: "hi", MaxTokens: 4, Requests: n}
							if client != "NewClient" {
								sc.Client = &http.Client{} // follows up to 10 redirects
							}
							var mu sync.Mutex
							var errs []error
							sc.OnRequest = func(m *lens.RequestMetrics) {
								mu.Lock()
								defer mu.Unlock()
								errs = append(errs, m.Err)
							}
							res, err := lens.Run(t.Context(), sc)
							require.NoError(t, err)
							assert.Empty(t, rp.leaks())
							from, to := rp.counts()
							assert.Equal(t, n, from, "one request each, no retry, no same-origin follow")
							assert.Zero(t, to, "nothing reaches the redirect's target")
							assert.EqualValues(t, 0, res.Succeeded)
							assert.EqualValues(t, n, res.Errors[lens.ClassRedirect], "%v", res.Errors)
							require.Len(t, errs, n)
							var re *providers.RedirectError
							require.ErrorAs(t, errs[0], &re)
							assert.Equal(t, status, re.StatusCode)
							msg := errs[0].Error()
							assert.Contains(t, msg, fmt.Sprintf("redirect not followed: %d", status))
							if sameOrigin {
								assert.Contains(t, msg, rp.From.URL+"/moved/")
							} else {
								assert.Contains(t, msg, rp.To.URL+"/")
							}
							assert.NotContains(t, msg, "query-must-not-show")
							assert.NotContains(t, msg, redirectKey)
						})
					}
				}
			}
		})
	}
}

// TestRedirectedRefusesFollowUps: a RoundTripper that wraps another and
// calls providers.Redirected on req.Response stops a client that follows
// redirects from sending the credentials on.
func TestRedirectedRefusesFollowUps(t *testing.T) {
	rp := newRedirectPair(t, http.StatusTemporaryRedirect, false)
	guard := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if err := providers.Redirected(req.Response); err != nil {
			return nil, err
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	p := &providers.Anthropic{BaseURL: rp.From.URL + "/v1", APIKey: redirectKey}
	req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", MaxTokens: 4})
	require.NoError(t, err)
	_, err = (&http.Client{Transport: guard}).Do(req)
	var re *providers.RedirectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusTemporaryRedirect, re.StatusCode)
	_, to := rp.counts()
	assert.Zero(t, to)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
