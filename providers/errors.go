package providers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an error the server reported: a non-2xx response, or an error
// event inside a 200 stream (InStream). It carries what a caller needs to
// classify and retry it without re-reading the response.
type APIError struct {
	Provider   string        // provider name ("openai")
	StatusCode int           // HTTP status; the stream's status (200) when InStream
	Type       string        // the API's error type ("rate_limit_error", "server_error", "RESOURCE_EXHAUSTED")
	Code       string        // the API's error code ("rate_limit_exceeded", "insufficient_quota"), if any
	Message    string        // the server's message, or a prefix of the body when it was not the API's JSON
	RetryAfter time.Duration // from retry-after-ms or Retry-After (seconds or HTTP date); 0 when absent
	RequestID  string        // the server's request id header, if any
	InStream   bool          // the error arrived inside a 200 response
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.InStream {
		b.WriteString("error in stream")
	} else {
		b.WriteString(strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" ")
			b.WriteString(t)
		}
	}
	if e.Type != "" || e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		if e.Type != "" && e.Code != "" && e.Code != e.Type {
			b.WriteString("/")
			b.WriteString(e.Code)
		} else if e.Type == "" {
			b.WriteString(e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " [retry after %v]", e.RetryAfter)
	}
	return b.String()
}

// RateLimited reports whether the server refused for a rate limit (429, or
// an in-stream error of a rate-limit type), quota exhaustion included.
func (e *APIError) RateLimited() bool {
	if e.StatusCode == http.StatusTooManyRequests {
		return true
	}
	t := strings.ToLower(e.Type + " " + e.Code)
	return strings.Contains(t, "rate_limit") || strings.Contains(t, "resource_exhausted")
}

// QuotaExhausted reports whether the error is a spent quota or spend limit,
// which waiting does not fix and which must not be retried.
//
// It reads the API's error type and code only, never the free-text
// message: Gemini's per-minute 429 says "check your plan and billing
// details" and is worth retrying.
func (e *APIError) QuotaExhausted() bool {
	t := strings.ToLower(e.Type + " " + e.Code)
	return strings.Contains(t, "insufficient_quota") ||
		strings.Contains(t, "enforced_spend_limit") ||
		strings.Contains(t, "billing_error")
}

// Overloaded reports whether the server said it is overloaded (529, 503, or
// an overloaded error inside a stream).
func (e *APIError) Overloaded() bool {
	if e.StatusCode == 529 || e.StatusCode == http.StatusServiceUnavailable {
		return true
	}
	t := strings.ToLower(e.Type + " " + e.Code)
	return strings.Contains(t, "overloaded") || strings.Contains(t, "unavailable")
}

// Retryable reports whether sending the same request again may succeed:
// 408, 409, 429 (but not an exhausted quota), 5xx and 529, and overloaded or
// server errors inside a stream. Callers must not retry once output arrived.
func (e *APIError) Retryable() bool {
	if e.QuotaExhausted() {
		return false
	}
	switch {
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusConflict,
		e.StatusCode == http.StatusTooManyRequests, e.StatusCode >= 500:
		return true
	case e.InStream:
		t := strings.ToLower(e.Type + " " + e.Code)
		return e.RateLimited() || e.Overloaded() || strings.Contains(t, "server_error") ||
			strings.Contains(t, "api_error") || strings.Contains(t, "internal")
	}
	return false
}

// DecodeError is a response the codec could not decode: malformed SSE, JSON
// that is not the API's shape, a line over the reader's limit, or a body of
// the wrong content type.
type DecodeError struct {
	Provider string // provider name
	Event    int    // 1-based index of the event in the response; 0 when not tied to one
	Snippet  string // up to 120 bytes of the offending input, for the message
	Err      error  // the cause
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": decode")
	if e.Event > 0 {
		fmt.Fprintf(&b, " event %d", e.Event)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Snippet != "" {
		fmt.Fprintf(&b, " (in %q)", e.Snippet)
	}
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrLineTooLong is the cause of a DecodeError for input over a size limit:
// an SSE line or an SSE event's data longer than the reader's limit, or a
// whole (non-streaming) response body over the codec's limit.
var ErrLineTooLong = errors.New("line exceeds the length limit")

// ErrPending is what a response body's Read returns, with no bytes, to say
// that no input has arrived yet although the body has not ended. It lets a
// caller push a streamed response into a Decoder as the bytes arrive
// (lens.Transport does, as the application reads them) instead of the
// decoder pulling them: once Reset has returned, a Decoder reading an SSE
// or NDJSON stream returns ErrPending from Next, keeping its place and its
// partial event, and the next call to Next goes on from there when more
// input is available. An SSEReader likewise stops Scan, with Err returning
// ErrPending until the next Scan. Only a streamed body is read this way:
// Reset, and the decoding of a whole (non-streamed) body or of an error
// body, take ErrPending as the read error it otherwise is.
var ErrPending = errors.New("providers: no input yet")

// snippet returns at most 120 bytes of b as a string for error messages.
func snippet(b []byte) string {
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// RetryAfter reads the server's requested delay from h: retry-after-ms
// (milliseconds) first, then Retry-After in seconds or as an HTTP date
// (relative to now). It returns 0 when neither is present or parseable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
