package lens_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// mocked returns a client whose every chat request gets the response
// respond makes.
func mocked(respond httpmock.Responder) *http.Client {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", respond)
	return &http.Client{Transport: mt}
}

// status answers with an OpenAI error of the given status.
func status(code int, header ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(code, `{"error":{"message":"status `+fmt.Sprint(code)+`","type":"x","code":null}}`)
		resp.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	}
}

// stream answers 200 with an SSE body.
func stream(body string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(http.StatusOK, body)
		resp.Header.Set("Content-Type", "text/event-stream")
		return resp, nil
	}
}

// customProvider is a Provider of the caller's whose request or decoder
// fails with an error of its own.
type customProvider struct {
	providers.Provider
	requestErr, decodeErr error
}

func (p customProvider) NewRequest(ctx context.Context, r *providers.Request) (*http.Request, error) {
	if p.requestErr != nil {
		return nil, p.requestErr
	}
	return p.Provider.NewRequest(ctx, r)
}

func (p customProvider) NewDecoder() providers.Decoder {
	return customDecoder{p.Provider.NewDecoder(), p.decodeErr}
}

type customDecoder struct {
	providers.Decoder
	err error
}

func (d customDecoder) Next(delta *providers.Delta) error {
	if d.err != nil {
		return d.err
	}
	return d.Decoder.Next(delta)
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// badChunkServer answers every request with a stream whose second chunk
// has an invalid size line, and returns its URL.
func badChunkServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if l, err := r.ReadString('\n'); err != nil || l == "\r\n" {
						break
					}
				}
				event := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\nzz\r\n", len(event), event)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestEveryErrorClass: each class the engine can produce, provoked the
// way a user meets it, ends one request in exactly that class; the list of
// classes is lens.ErrorClasses, and the README lists exactly those.
func TestEveryErrorClass(t *testing.T) {
	slow := fake.Config{TTFT: fake.Fixed(10 * time.Second), OutputTokens: 2}
	var provoked []lens.ErrorClass
	for _, tc := range []struct {
		class   lens.ErrorClass
		virtual bool // run in a synctest bubble
		setup   func(t *testing.T, sc *lens.Scenario)
	}{
		{lens.ClassRateLimited, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(status(429, "Retry-After", "1")) }},
		{lens.ClassOverloaded, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(status(529)) }},
		{lens.ClassTimeout, true, func(t *testing.T, sc *lens.Scenario) {
			sc.Client, sc.Timeout = &http.Client{Transport: fake.NewResponder(slow)}, time.Second
		}},
		{lens.ClassConnectTimeout, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Provider = openai("http://unreachable.test")
			sc.Client = &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
			}}}
		}},
		{lens.ClassFirstTokenTimeout, true, func(t *testing.T, sc *lens.Scenario) {
			sc.Client, sc.FirstTokenTimeout = &http.Client{Transport: fake.NewResponder(slow)}, time.Second
		}},
		{lens.ClassIdleTimeout, true, func(t *testing.T, sc *lens.Scenario) {
			r := fake.NewResponder(fake.Config{TTFT: fake.Fixed(time.Millisecond), ITL: fake.Fixed(10 * time.Second), OutputTokens: 3})
			sc.Client, sc.IdleTimeout = &http.Client{Transport: r}, time.Second
		}},
		{lens.ClassHTTP4xx, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(status(401)) }},
		{lens.ClassHTTP5xx, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(status(500)) }},
		{lens.ClassHTTPOther, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(status(600)) }},
		{lens.ClassRedirect, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Client = mocked(status(307, "Location", "http://elsewhere.test/v1/chat/completions"))
		}},
		{lens.ClassConnection, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Client = mocked(func(*http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
			})
		}},
		{lens.ClassConnection + " (bad chunk size)", false, func(t *testing.T, sc *lens.Scenario) {
			sc.Provider = openai(badChunkServer(t))
		}},
		{lens.ClassStream, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Client = mocked(stream("data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n"))
		}},
		{lens.ClassDecode, false, func(t *testing.T, sc *lens.Scenario) { sc.Client = mocked(stream("data: {not json}\n\n")) }},
		{lens.ClassRequest, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Provider = customProvider{Provider: sc.Provider, requestErr: errors.New("custom: no token for this tenant")}
		}},
		{lens.ClassCanceled, true, func(t *testing.T, sc *lens.Scenario) {
			sc.Client = &http.Client{Transport: fake.NewResponder(slow)}
		}},
		{lens.ClassOther, false, func(t *testing.T, sc *lens.Scenario) {
			sc.Client = &http.Client{Transport: fake.NewResponder(fake.Config{OutputTokens: 2})}
			sc.Provider = customProvider{Provider: sc.Provider, decodeErr: errors.New("custom: the answer is not allowed")}
		}},
	} {
		want, _, _ := strings.Cut(string(tc.class), " ")
		provoked = append(provoked, lens.ErrorClass(want))
		t.Run(string(tc.class), func(t *testing.T) {
			run := func(t *testing.T) {
				sc := lens.Scenario{Provider: openai("http://fake.test"), Model: "m", Prompt: "hi", Requests: 1}
				tc.setup(t, &sc)
				ctx := t.Context()
				if tc.class == lens.ClassCanceled {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					time.AfterFunc(time.Second, cancel)
				}
				res, err := lens.Run(ctx, sc)
				if tc.class == lens.ClassCanceled {
					require.ErrorIs(t, err, context.Canceled)
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, map[lens.ErrorClass]int64{lens.ErrorClass(want): 1}, res.Errors, "%v", res.ErrorSamples)
			}
			if tc.virtual {
				synctest.Test(t, run)
			} else {
				run(t)
			}
		})
	}

	assert.Subset(t, provoked, lens.ErrorClasses(), "every class is provoked")

	// The README lists exactly the classes there are.
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| error rate \\|.*$").Find(readme)
	require.NotNil(t, row, "the README's error rate row")
	var listed []lens.ErrorClass
	for _, m := range regexp.MustCompile("`([a-z0-9_]+)`").FindAllSubmatch(row, -1) {
		listed = append(listed, lens.ErrorClass(m[1]))
	}
	assert.ElementsMatch(t, lens.ErrorClasses(), listed, "the README's classes")
}
