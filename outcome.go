package lens

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"

	"github.com/llm-latency-lens/lens/providers"
)

// ErrorClass names the way a request failed. Every failed request has
// exactly one class; results count failures per class.
type ErrorClass string

// The error classes. README.md lists them with the same words, and
// TestEveryErrorClass provokes each one.
const (
	ClassRateLimited       ErrorClass = "rate_limited"        // 429, or a rate-limit error inside a stream
	ClassOverloaded        ErrorClass = "overloaded"          // 529, or an overloaded error inside a stream
	ClassTimeout           ErrorClass = "timeout"             // the request's Timeout expired
	ClassConnectTimeout    ErrorClass = "connect_timeout"     // the connection was not open within the connect timeout
	ClassFirstTokenTimeout ErrorClass = "first_token_timeout" // no output within FirstTokenTimeout of sending
	ClassIdleTimeout       ErrorClass = "idle_timeout"        // no event for IdleTimeout in the middle of a response
	ClassHTTP4xx           ErrorClass = "http_4xx"            // any other 4xx status
	ClassHTTP5xx           ErrorClass = "http_5xx"            // any other 5xx status
	ClassHTTPOther         ErrorClass = "http_other"          // a status outside 2xx, 3xx, 4xx and 5xx
	ClassRedirect          ErrorClass = "redirect"            // a 3xx status: redirects are never followed
	ClassConnection        ErrorClass = "connection"          // dial, reset, EOF or broken HTTP framing (a bad chunk size) before or during the response
	ClassStream            ErrorClass = "stream_error"        // the server sent an error inside a 200 stream
	ClassDecode            ErrorClass = "decode_error"        // the response could not be decoded
	ClassRequest           ErrorClass = "request_error"       // the provider could not build the request
	ClassCanceled          ErrorClass = "canceled"            // the run was canceled while the request was in flight
	ClassOther             ErrorClass = "other"               // an error none of the above describes, such as a custom Provider's own
)

// ErrorClasses returns every ErrorClass, in the order of their
// documentation.
func ErrorClasses() []ErrorClass {
	return []ErrorClass{
		ClassRateLimited, ClassOverloaded, ClassTimeout, ClassConnectTimeout, ClassFirstTokenTimeout,
		ClassIdleTimeout, ClassHTTP4xx, ClassHTTP5xx, ClassHTTPOther, ClassRedirect, ClassConnection,
		ClassStream, ClassDecode, ClassRequest, ClassCanceled, ClassOther,
	}
}

// classify maps the error that ended a request to its class. ctx is the
// request's context, whose state tells a timeout from a cancellation.
func classify(ctx context.Context, err error) ErrorClass {
	var apiErr *providers.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.RateLimited():
			return ClassRateLimited
		case apiErr.StatusCode == 529 || (apiErr.InStream && apiErr.Overloaded()):
			return ClassOverloaded
		case apiErr.InStream:
			return ClassStream
		case apiErr.StatusCode >= 400 && apiErr.StatusCode < 500:
			return ClassHTTP4xx
		case apiErr.StatusCode >= 500 && apiErr.StatusCode < 600:
			return ClassHTTP5xx
		default:
			return ClassHTTPOther
		}
	}
	// A watchdog or deadline wins over whatever error the cut-off read
	// produced.
	switch context.Cause(ctx) {
	case errRequestTimeout:
		return ClassTimeout
	case errFirstTokenTimeout:
		return ClassFirstTokenTimeout
	case errIdleTimeout:
		return ClassIdleTimeout
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout() && ctx.Err() == nil {
		return ClassConnectTimeout
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
		return ClassTimeout
	}
	if errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	var decErr *providers.DecodeError
	if errors.As(err, &decErr) {
		return ClassDecode
	}
	var urlErr *url.Error
	if errors.As(err, &opErr) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, http.ErrServerClosed) || errors.As(err, &urlErr) {
		return ClassConnection
	}
	return ClassOther
}

// Watchdog causes: the request's context is canceled with one of these
// when a first-token or idle timeout fires.
var (
	errRequestTimeout    = errors.New("lens: the request timeout expired")
	errFirstTokenTimeout = errors.New("lens: no output within the first-token timeout")
	errIdleTimeout       = errors.New("lens: no event within the idle timeout")
)

// Status is the one-word outcome (as in the LLM-Latency-Lens schema) of a request: "success",
// "retried" (succeeded after more than one attempt), "timeout" (any
// timeout class), "rate_limited" or "failed".
func (m *RequestMetrics) Status() string {
	switch m.Class {
	case "":
		if m.Attempts > 1 {
			return "retried"
		}
		return "success"
	case ClassTimeout, ClassConnectTimeout, ClassFirstTokenTimeout, ClassIdleTimeout:
		return "timeout"
	case ClassRateLimited:
		return "rate_limited"
	}
	return "failed"
}
