package fake

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const base = "http://fake.test"

// mockClient returns a client whose transport is an httpmock transport with
// r registered under base.
func mockClient(r *Responder) *http.Client {
	mt := httpmock.NewMockTransport()
	r.Register(mt, base)
	return &http.Client{Transport: mt}
}

func TestResponderStreamTiming(t *testing.T) {
	const (
		ttft = 200 * time.Millisecond
		itl  = 30 * time.Millisecond
		n    = 6
	)
	for _, path := range []string{"/v1/chat/completions", "/v1/responses"} {
		t.Run(path, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := NewResponder(Config{TTFT: Fixed(ttft), ITL: Fixed(itl), OutputTokens: n, Record: true})
				client := mockClient(r)
				body := chatStream
				if path == "/v1/responses" {
					body = `{"model":"m","input":"hi","stream":true}`
				}
				start := time.Now()
				resp := post(t, client, base+path, body)
				assert.Equal(t, start, time.Now(), "a stream's headers come at once")
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
				events := readEvents(t, resp.Body)
				resp.Body.Close()

				var k int
				for _, ev := range events {
					switch {
					case strings.Contains(ev.Data, `"delta":{"content":`), ev.Event == "response.output_text.delta":
						assert.Equal(t, ttft+time.Duration(k)*itl, ev.At.Sub(start), "content event %d", k)
						k++
					case k == 0:
						assert.Equal(t, start, ev.At, "event before the first content: %s", ev.Data)
					default:
						assert.Equal(t, ttft+(n-1)*itl, ev.At.Sub(start), "event after the last content: %s", ev.Data)
					}
				}
				assert.Equal(t, n, k)

				recs := r.Records()
				require.Len(t, recs, 1)
				rec := recs[0]
				assert.Equal(t, start, rec.Start)
				assert.NoError(t, rec.Err)
				require.Len(t, rec.Sent, n)
				for j := range n {
					assert.Equal(t, start.Add(ttft+time.Duration(j)*itl), rec.Sent[j])
					assert.Equal(t, ttft+time.Duration(j)*itl, rec.Scheduled[j])
				}
				assert.Equal(t, start.Add(ttft+(n-1)*itl), rec.End)
			})
		})
	}
}

func TestResponderNonStreamTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{TTFT: Fixed(100 * time.Millisecond), ITL: Fixed(10 * time.Millisecond), OutputTokens: 5, Record: true})
		start := time.Now()
		resp := post(t, mockClient(r), base+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		assert.Equal(t, 140*time.Millisecond, time.Since(start), "the response comes when its last token would")
		body := readAll(t, resp)
		assert.Equal(t, int64(len(body)), resp.ContentLength)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, strings.Join(Tokens(0, 0, 5), ""), decode(t, body)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"])
		assert.Equal(t, []time.Time{start.Add(140 * time.Millisecond)}, r.Records()[0].Sent)
	})
}

// TestResponderMatchesServer checks that the two players write the same
// bytes for the same configuration and request number.
func TestResponderMatchesServer(t *testing.T) {
	cfg := Config{TTFT: Fixed(time.Millisecond), ITL: Uniform(0, time.Millisecond), OutputTokens: 5, TokensPerChunk: 2, Seed: 11}
	bodies := map[string]string{
		"/v1/chat/completions": `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		"/v1/responses":        `{"model":"m","input":"hi","stream":true}`,
	}
	created := regexp.MustCompile(`"(created|created_at)":\d+`)
	for path, body := range bodies {
		s := NewServer(cfg)
		fromServer := readAll(t, post(t, s.Client(), s.URL+path, body))
		s.Close()
		fromResponder := readAll(t, post(t, &http.Client{Transport: NewResponder(cfg)}, base+path, body))
		assert.Equal(t, created.ReplaceAllString(fromServer, "$1"), created.ReplaceAllString(fromResponder, "$1"), path)
	}
}

func TestResponderContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{TTFT: Fixed(50 * time.Millisecond), ITL: Fixed(time.Second), OutputTokens: 4, Record: true})
		client := mockClient(r)
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(chatStream))
		resp, err := client.Do(req)
		require.NoError(t, err)
		buf := make([]byte, 64<<10)
		_, err = resp.Body.Read(buf) // role chunk
		require.NoError(t, err)
		_, err = resp.Body.Read(buf) // first content chunk, at 50ms
		require.NoError(t, err)

		go func() {
			time.Sleep(300 * time.Millisecond)
			cancel()
		}()
		start := time.Now()
		_, err = resp.Body.Read(buf)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 300*time.Millisecond, time.Since(start))
		resp.Body.Close()

		rec := r.Records()[0]
		assert.ErrorIs(t, rec.Err, context.Canceled)
		assert.Len(t, rec.Sent, 1)
	})
}

func TestResponderContextDeadlineBeforeHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{TTFT: Fixed(time.Hour), Record: true})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		start := time.Now()
		_, err := mockClient(r).Do(req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start))
		synctest.Wait() // the responder's goroutine (httpmock's) has returned
		rec := r.Records()[0]
		assert.ErrorIs(t, rec.Err, context.DeadlineExceeded)
		assert.Empty(t, rec.Sent)
	})
}

func TestResponderBodyClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{ITL: Fixed(time.Second), OutputTokens: 3, Record: true})
		resp := post(t, &http.Client{Transport: r}, base+"/v1/chat/completions", chatStream)
		buf := make([]byte, 64<<10)
		_, err := resp.Body.Read(buf)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		_, err = resp.Body.Read(buf)
		assert.ErrorIs(t, err, ErrBodyClosed)
		assert.ErrorIs(t, r.Records()[0].Err, ErrBodyClosed)

		// A body closed after its last byte was read is a complete response.
		resp = post(t, &http.Client{Transport: r}, base+"/v1/chat/completions", chatStream)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(string(raw), "data: [DONE]\n\n"))
		require.NoError(t, resp.Body.Close())
		assert.NoError(t, r.Records()[1].Err)
	})
}

func TestResponderRegister(t *testing.T) {
	r := NewResponder(Config{OutputTokens: 2, Record: true})
	mt := httpmock.NewMockTransport()
	r.Register(mt, "http://fake.test/api/")
	client := &http.Client{Transport: mt}

	resp := post(t, client, "http://fake.test/api/v1/chat/completions", chatStream)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasSuffix(readAll(t, resp), "data: [DONE]\n\n"))

	resp, err := client.Get("http://fake.test/api/v1/models?limit=1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	readAll(t, resp)

	resp = post(t, client, "http://fake.test/api/v1/nope", `{}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assertOpenAIError(t, readAll(t, resp), "invalid_request_error", nil, nil, "(POST /v1/nope)")

	_, err = client.Post("http://fake.test/apix/v1/chat/completions", "application/json", strings.NewReader(chatStream))
	assert.Error(t, err, "a URL outside the base is not the fake's")
	_, err = client.Post("http://other.test/api/v1/chat/completions", "application/json", strings.NewReader(chatStream))
	assert.Error(t, err)

	recs := r.Records()
	require.Len(t, recs, 3)
	assert.Equal(t, "/v1/chat/completions", recs[0].Path)
	assert.Equal(t, "/v1/nope", recs[2].Path)
}

func TestResponderDefaultTransport(t *testing.T) {
	httpmock.Activate(t)
	NewResponder(Config{OutputTokens: 1}).Register(nil, base)
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(chatStream))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(readAll(t, resp), "data: [DONE]\n\n"))
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
}
