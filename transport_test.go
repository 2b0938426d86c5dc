package lens_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// calls collects the calls a Transport measured, by the request id the
// fake sent.
type calls struct {
	mu   sync.Mutex
	byID map[string]lens.RequestMetrics
	all  []lens.RequestMetrics
}

func (c *calls) record(m *lens.RequestMetrics) {
	cp := *m
	cp.ITLs = slices.Clone(m.ITLs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]lens.RequestMetrics{}
	}
	c.byID[cp.RequestID] = cp
	c.all = append(c.all, cp)
}

// transportAPIs are the wire formats, as providers that build the
// requests an SDK would send.
var transportAPIs = []struct {
	name     string
	provider func(root string) providers.Provider
	perChunk int
}{
	{"openai", func(root string) providers.Provider {
		return &providers.OpenAI{BaseURL: root + "/v1", APIKey: "sk-transport-test"}
	}, 1},
	{"responses", func(root string) providers.Provider {
		return &providers.OpenAIResponses{BaseURL: root + "/v1", APIKey: "sk-transport-test"}
	}, 1},
	{"anthropic", func(root string) providers.Provider {
		return &providers.Anthropic{BaseURL: root + "/v1", APIKey: "sk-transport-test"}
	}, 1},
	{"gemini", func(root string) providers.Provider {
		return &providers.Gemini{BaseURL: root + "/v1beta", APIKey: "sk-transport-test"}
	}, 4},
	{"azure", func(root string) providers.Provider {
		return &providers.Azure{BaseURL: root, APIKey: "sk-transport-test"}
	}, 1},
	{"cohere", func(root string) providers.Provider {
		return &providers.Cohere{BaseURL: root + "/v2", APIKey: "sk-transport-test"}
	}, 1},
}

// call sends one request built by p through c and reads its body the way
// an SDK does, in small reads; it returns the bytes read.
func call(t *testing.T, c *http.Client, p providers.Provider, stream bool) []byte {
	t.Helper()
	req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "Say hello", Stream: stream})
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out bytes.Buffer
	buf := make([]byte, 97)
	for {
		n, err := resp.Body.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes()
		}
		require.NoError(t, err)
	}
}

// TestTransportVirtualTime: calls made through a Transport, in every wire
// format, streamed and not, measure exactly what the fake scheduled: TTFT,
// each ITL, E2E and tokens, as Run would; the application reads the same
// bytes as without the transport.
func TestTransportVirtualTime(t *testing.T) {
	for _, a := range transportAPIs {
		for _, stream := range []bool{true, false} {
			name := a.name
			if !stream {
				name += "/whole"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				cfg := fake.Config{
					Seed: 5, TTFT: fake.Uniform(50*time.Millisecond, 150*time.Millisecond),
					ITL: fake.Uniform(5*time.Millisecond, 20*time.Millisecond), OutputTokens: 9, Record: true,
				}
				const n = 4
				// The same calls without the transport, in a bubble of their
				// own (virtual time starts at the same instant in each):
				// the application must read the same bytes through it.
				var bare [][]byte
				synctest.Test(t, func(t *testing.T) {
					c := &http.Client{Transport: fake.NewResponder(cfg)}
					for range n {
						bare = append(bare, call(t, c, a.provider("http://fake.test"), stream))
					}
				})
				synctest.Test(t, func(t *testing.T) {
					r := fake.NewResponder(cfg)
					var got calls
					tr := &lens.Transport{Base: r, OnRequest: got.record}
					for i := range n {
						body := call(t, tr.Client(), a.provider("http://fake.test"), stream)
						assert.Equal(t, string(bare[i]), string(body), "body %d", i)
					}

					res := tr.Result()
					require.EqualValues(t, n, res.Succeeded, "errors: %v", res.ErrorSamples)
					recs := r.Records()
					require.Len(t, recs, n)
					for _, rec := range recs {
						m, ok := got.byID[rec.RequestID]
						require.True(t, ok, "no measurement of request %d", rec.Seq)
						s := rec.Scheduled
						assert.Equal(t, s[0], m.TTFT, "TTFT")
						if stream {
							assert.Len(t, s, (9+a.perChunk-1)/a.perChunk)
							assert.Equal(t, gaps(s), m.ITLs, "ITLs")
						} else {
							assert.Empty(t, m.ITLs)
						}
						assert.Equal(t, s[len(s)-1], m.E2E, "E2E")
						assert.Equal(t, rec.OutputTokens, m.OutputTokens, "output tokens")
						assert.True(t, m.TokensFromUsage)
						assert.Equal(t, rec.PromptTokens, m.InputTokens, "input tokens")
						assert.Equal(t, rec.FinishReason, m.FinishReason)
						assert.Equal(t, stream, m.Stream)
					}
					assert.Equal(t, a.provider("").Name(), res.Provider)
					assert.Equal(t, "m", res.Model, "the model the calls named")
					assert.EqualValues(t, n, res.TTFT.Count())
				})
			})
		}
	}
}

func gaps(s []time.Duration) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(s); i++ {
		out = append(out, s[i]-s[i-1])
	}
	return out
}

// TestTransportOutcomes: every measured call ends in exactly one outcome:
// an error status with the provider's message, a body closed early as
// canceled (never a success with partial numbers), a call that fails
// before a response, and a request of no LLM API passes unmeasured.
func TestTransportOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-transport-secret-key"}
		r := fake.NewResponder(fake.Config{OutputTokens: 20, ITL: fake.Fixed(10 * time.Millisecond),
			FaultFunc: func(seq uint64) fake.Fault {
				if seq == 0 {
					return fake.FaultRateLimit
				}
				return fake.NoFault
			}})
		var got calls
		tr := &lens.Transport{Base: r, OnRequest: got.record}
		c := tr.Client()

		// A 429: the SDK reads the error body.
		req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()

		// A stream the application stops reading after its first bytes.
		req, _ = p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
		resp, err = c.Do(req)
		require.NoError(t, err)
		_, _ = resp.Body.Read(make([]byte, 64))
		resp.Body.Close()

		// A call canceled before its response.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, _ = p.NewRequest(ctx, &providers.Request{Model: "m", Prompt: "hi", Stream: true})
		_, err = c.Do(req)
		require.Error(t, err)

		// No LLM API: unmeasured.
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.test/v1/models", nil)
		resp, err = c.Do(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()

		res := tr.Result()
		assert.EqualValues(t, 3, res.Total)
		assert.EqualValues(t, 0, res.Succeeded)
		assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassRateLimited: 1, lens.ClassCanceled: 2}, res.Errors)
		assert.Contains(t, res.ErrorSamples[lens.ClassRateLimited], "429")
		for _, m := range got.all {
			assert.NotContains(t, fmt.Sprint(m.Err), "sk-transport-secret-key")
		}
		assert.EqualValues(t, 0, res.TTFT.Count(), "no partial numbers")
	})
}

// TestTransportRedirect: a measured call's redirect is not followed, so
// the API key never reaches the host the Location names, and the error the
// application gets names neither the key nor the Location's query, which a
// hostile endpoint may fill with it; whatever the client's redirect policy.
func TestTransportRedirect(t *testing.T) {
	const secret = "sk-ant-redirect-secret"
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store("key", r.Header.Get("Authorization")+r.Header.Get("X-Api-Key"))
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/messages?token="+r.Header.Get("X-Api-Key"), http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()

	for _, policy := range []struct {
		name  string
		check func(*http.Request, []*http.Request) error
	}{{"follows", nil}, {"follows none", providers.CheckRedirect}} {
		t.Run(policy.name, func(t *testing.T) {
			tr := &lens.Transport{}
			defer tr.CloseIdleConnections()
			client := tr.Client()
			client.CheckRedirect = policy.check
			p := &providers.Anthropic{BaseURL: redirecting.URL + "/v1", APIKey: secret}
			req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
			require.NoError(t, err)
			resp, err := client.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			var re *providers.RedirectError
			require.True(t, errors.As(err, &re), "error %v", err)
			assert.Equal(t, other.URL+"/v1/messages", re.Location)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "token=")
			_, reached := leaked.Load("key")
			assert.False(t, reached, "the redirect was followed")
			res := tr.Result()
			assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassRedirect: 1}, res.Errors)
			assert.NotContains(t, res.ErrorSamples[lens.ClassRedirect], secret)
		})
	}
}

// TestTransportNoGoroutine: measuring a call starts no goroutine: with a
// stream open through the transport, the process has as many goroutines
// as before the call.
func TestTransportNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &lens.Transport{Base: fake.NewResponder(fake.Config{OutputTokens: 50, ITL: fake.Fixed(time.Millisecond)})}
		p := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-test"}
		req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
		require.NoError(t, err)
		resp, err := tr.Client().Do(req)
		require.NoError(t, err)
		_, err = resp.Body.Read(make([]byte, 512))
		require.NoError(t, err)
		// Other tests' goroutines come and go (runtime.NumGoroutine
		// counts them): look for those that the transport or the codecs
		// started, by their creator. No test of this package runs in
		// parallel with this one.
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, pkg := range []string{"github.com/llm-latency-lens/lens.", "github.com/llm-latency-lens/lens/providers."} {
			assert.NotContains(t, stacks, "created by "+pkg, "a goroutine with a measured stream open")
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.EqualValues(t, 1, tr.Result().Succeeded)
	})
}

// TestTransportModel: with Model unset, a Transport's Result names the
// model its calls named, in the path or the body; calls of different
// models name them all, up to a limit; a set Model wins; a call whose
// body cannot be read again adds nothing, and the body sent is intact.
func TestTransportModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := fake.Config{Seed: 1, TTFT: fake.Fixed(time.Millisecond), OutputTokens: 2}
		send := func(tr *lens.Transport, p providers.Provider, model string, noGetBody bool) {
			req, err := p.NewRequest(t.Context(), &providers.Request{Model: model, Prompt: "hi", Stream: true})
			require.NoError(t, err)
			if noGetBody {
				req.GetBody = nil
			}
			resp, err := tr.Client().Do(req)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
		}
		openai := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-transport-test"}
		gemini := &providers.Gemini{BaseURL: "http://fake.test/v1beta", APIKey: "sk-transport-test"}

		tr := &lens.Transport{Base: fake.NewResponder(cfg)}
		assert.Empty(t, tr.Result().Model, "no call yet")
		send(tr, openai, "gpt-4o-mini", false)
		send(tr, openai, "gpt-4o-mini", false)
		assert.Equal(t, "gpt-4o-mini", tr.Result().Model)
		send(tr, gemini, "gemini-2.5-flash", false)
		send(tr, openai, "gpt-4o-mini", false)
		res := tr.Result()
		assert.Equal(t, "gpt-4o-mini+gemini-2.5-flash", res.Model)
		assert.EqualValues(t, 4, res.Succeeded, "errors: %v", res.ErrorSamples)
		for _, m := range []string{"a", "b", "c"} {
			send(tr, openai, m, false)
		}
		assert.Equal(t, "mixed (over 4 models)", tr.Result().Model)

		tr = &lens.Transport{Base: fake.NewResponder(cfg), Model: "my-label"}
		send(tr, openai, "gpt-4o-mini", false)
		assert.Equal(t, "my-label", tr.Result().Model)

		// Without GetBody the body is not read again: no model, and the
		// call is measured as usual (the fake decoded its body).
		tr = &lens.Transport{Base: fake.NewResponder(cfg)}
		send(tr, openai, "gpt-4o-mini", true)
		res = tr.Result()
		assert.Empty(t, res.Model)
		assert.EqualValues(t, 1, res.Succeeded, "errors: %v", res.ErrorSamples)
	})
}

// TestTransportHeldReads: the transport decodes the application's reads in
// batches, yet every event keeps the time of the read that delivered it,
// whatever the reads' sizes (one byte to many events, more reads and more
// bytes than one batch holds); a Result read in the middle of a stream
// does not end it; and a call whose end the application read, but whose
// body it neither read to EOF nor closed, is counted by the next Result,
// with its E2E at the read of its last event.
func TestTransportHeldReads(t *testing.T) {
	for _, size := range []int{1, 7, 97, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := fake.NewResponder(fake.Config{Seed: 9, OutputTokens: 300,
					ITL: fake.Uniform(time.Millisecond, 3*time.Millisecond), Record: true})
				var got calls
				tr := &lens.Transport{Base: r, OnRequest: got.record}
				p := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-held"}
				req, err := p.NewRequest(t.Context(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
				require.NoError(t, err)
				resp, err := tr.Client().Do(req)
				require.NoError(t, err)
				var body []byte
				buf := make([]byte, size)
				for !bytes.Contains(body, []byte("data: [DONE]\n\n")) {
					n, err := resp.Body.Read(buf)
					body = append(body, buf[:n]...)
					require.NoError(t, err)
					if len(body) > 2000 && len(body)-n <= 2000 {
						mid := tr.Result()
						assert.EqualValues(t, 0, mid.Total, "a Result in the middle of the stream")
					}
				}
				// The body is neither read to its end nor closed, and the
				// Result is read a second later.
				time.Sleep(time.Second)
				res := tr.Result()
				require.EqualValues(t, 1, res.Succeeded, "errors: %v", res.ErrorSamples)
				recs := r.Records()
				require.Len(t, recs, 1)
				m := got.all[0]
				s := recs[0].Scheduled
				assert.Equal(t, s[0], m.TTFT, "TTFT")
				assert.Equal(t, gaps(s), m.ITLs, "ITLs")
				assert.Equal(t, s[len(s)-1], m.E2E, "E2E")
				assert.Equal(t, 300, m.OutputTokens)
				time.Sleep(time.Second)
				resp.Body.Close()
				res = tr.Result()
				assert.EqualValues(t, 1, res.Total, "closing the body adds nothing")
				assert.Len(t, got.all, 1)
			})
		})
	}
}

// TestTransportResultWhileStreaming: Results read while many calls stream
// (and the transport holds their reads) race with nothing, and the calls
// all count once their bodies end.
func TestTransportResultWhileStreaming(t *testing.T) {
	tr := &lens.Transport{Base: fake.NewResponder(fake.Config{OutputTokens: 200})}
	p := &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-held"}
	const callers, each = 4, 5
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				tr.Result()
			}
		}
	}()
	errs := make(chan error, callers*each)
	for range callers {
		wg.Go(func() {
			for range each {
				errs <- readCall(tr.Client(), p)
			}
		})
	}
	wg.Wait()
	close(done)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	res := tr.Result()
	assert.EqualValues(t, callers*each, res.Succeeded, "errors: %v", res.ErrorSamples)
	assert.EqualValues(t, callers*each*199, res.ITL.Count())
}

// readCall makes a streamed call of p through c and reads its body to the
// end in small reads.
func readCall(c *http.Client, p providers.Provider) error {
	req, err := p.NewRequest(context.Background(), &providers.Request{Model: "m", Prompt: "hi", Stream: true})
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 61)
	for {
		if _, err := resp.Body.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// ndjsonBase answers every request with an NDJSON stream, as Ollama's
// native chat API does: one line a token, the first after ttft, the others
// itl apart, then the done line.
type ndjsonBase struct {
	tokens    int
	ttft, itl time.Duration
}

func (s ndjsonBase) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	go func() {
		time.Sleep(s.ttft)
		for i := range s.tokens {
			if i > 0 {
				time.Sleep(s.itl)
			}
			fmt.Fprintf(pw, `{"message":{"content":"t%d "},"done":false}`+"\n", i)
		}
		fmt.Fprintf(pw, `{"message":{"content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":%d}`+"\n", s.tokens)
		pw.Close()
	}()
	return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-ndjson"}}, Body: pr, Request: req}, nil
}

// TestTransportNDJSON: a stream of NDJSON lines, decoded in batches like
// every stream, stamps each line with the read that delivered it.
func TestTransportNDJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &providers.Generic{Label: "ollama-native", URL: "http://ollama.test/api/chat",
			Body:   `{"model":{{model}},"messages":{{messages}},"stream":{{stream}}}`,
			Format: "ndjson", TextPath: "message.content", InputTokensPath: "prompt_eval_count",
			OutputTokensPath: "eval_count", FinishPath: "done_reason", DonePath: "done"}
		var got calls
		tr := &lens.Transport{Base: ndjsonBase{tokens: 50, ttft: 40 * time.Millisecond, itl: 7 * time.Millisecond},
			Provider: p, OnRequest: got.record}
		call(t, tr.Client(), p, true)
		res := tr.Result()
		require.EqualValues(t, 1, res.Succeeded, "errors: %v", res.ErrorSamples)
		m := got.all[0]
		assert.Equal(t, 40*time.Millisecond, m.TTFT, "TTFT")
		require.Len(t, m.ITLs, 49)
		for i, d := range m.ITLs {
			assert.Equal(t, 7*time.Millisecond, d, "ITL %d", i)
		}
		assert.Equal(t, 50, m.OutputTokens)
	})
}
