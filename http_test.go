package lens_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// tlsFake serves the fake over TLS, with HTTP/2 offered, and returns its
// URL and a TLS configuration that trusts it.
func tlsFake(t *testing.T, cfg fake.Config) (string, *tls.Config) {
	t.Helper()
	f := fake.NewUnstartedServer(cfg)
	ts := httptest.NewUnstartedServer(f.Handler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		f.Close()
	})
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	return ts.URL, &tls.Config{RootCAs: roots}
}

// TestHTTPOptions: HTTP/2 is used where the server offers it unless
// disabled; the TLS handshake is timed for the attempt that made the
// connection and absent on a reused one. (Over HTTP/2 two attempts that
// start together may share the connection one of them dialed: the other
// then has no handshake of its own to report.)
func TestHTTPOptions(t *testing.T) {
	url, tlsConfig := tlsFake(t, fake.Config{TTFT: fake.Fixed(5 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 4})
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableHTTP2=%v", disable), func(t *testing.T) {
			var mu sync.Mutex
			protos := map[string]int{}
			var timed, reused int
			res, err := lens.Run(t.Context(), lens.Scenario{
				Provider: openai(url), Model: "m", Requests: 20, Concurrency: 2,
				HTTP: lens.HTTPOptions{TLSConfig: tlsConfig, DisableHTTP2: disable},
				OnRequest: func(m *lens.RequestMetrics) {
					mu.Lock()
					defer mu.Unlock()
					protos[m.Proto]++
					if m.Reused {
						reused++
						if disable {
							assert.Equal(t, lens.Absent, m.TLS)
						}
					}
					if m.TLS != lens.Absent {
						timed++
						assert.Greater(t, m.TLS, time.Duration(0))
						assert.Greater(t, m.Connect, time.Duration(0), "a timed handshake comes with its connect")
					}
				},
			})
			require.NoError(t, err)
			require.EqualValues(t, 20, res.Succeeded, "%v", res.ErrorSamples)
			want := "HTTP/2.0"
			if disable {
				want = "HTTP/1.1"
			}
			assert.Equal(t, map[string]int{want: 20}, protos)
			if disable {
				// At most one connection per worker: on a busy machine a
				// worker may start only after the other's request ended,
				// and reuse its idle connection.
				assert.Contains(t, []int{1, 2}, timed, "HTTP/1.1: at most one connection per worker")
			} else {
				assert.Contains(t, []int{1, 2}, timed, "HTTP/2: one or two dials, one connection shared")
			}
			assert.GreaterOrEqual(t, reused, 20-2)
			assert.EqualValues(t, timed, res.TLS.Count())
		})
	}

	// Without the certificate's root the handshake fails: a connection
	// error, counted.
	res, err := lens.Run(t.Context(), lens.Scenario{Provider: openai(url), Model: "m", Requests: 2})
	require.NoError(t, err)
	assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassConnection: 2}, res.Errors, "%v", res.ErrorSamples)
}

// TestConnectTimeout: a server whose accept queue is full never completes
// the handshake; the connect timeout ends the attempt as connect_timeout,
// and a retry policy retries it.
func TestConnectTimeout(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux's handling of a full accept queue")
	}
	// A listener with a backlog of 0, whose one queue place is taken:
	// further SYNs are dropped and dials hang until their timeout.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	defer syscall.Close(filler)
	require.NoError(t, syscall.Connect(filler, sa))

	var attempts []int
	var e2e []time.Duration
	var mu sync.Mutex
	res, err := lens.Run(t.Context(), lens.Scenario{
		Provider: openai("http://" + addr), Model: "m", Requests: 2, Timeout: 10 * time.Second,
		HTTP:  lens.HTTPOptions{ConnectTimeout: 200 * time.Millisecond},
		Retry: lens.Retry{MaxAttempts: 2, InitialBackoff: time.Millisecond},
		OnRequest: func(m *lens.RequestMetrics) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, m.Attempts)
			e2e = append(e2e, m.E2E)
		},
	})
	require.NoError(t, err)
	assert.Equal(t, map[lens.ErrorClass]int64{lens.ClassConnectTimeout: 2}, res.Errors, "%v", res.ErrorSamples)
	assert.Equal(t, []int{2, 2}, attempts, "connect timeouts are retried")
	assert.EqualValues(t, 2, res.RetriedBy[lens.ClassConnectTimeout])
	for _, d := range e2e {
		// At the connect timeout (a busy machine may fire it late), far
		// from the 10s request timeout.
		assert.GreaterOrEqual(t, d, 200*time.Millisecond, "the attempt lasts its connect timeout")
		assert.Less(t, d, 3*time.Second, "the attempt ends at the connect timeout, not the request timeout")
	}
}
