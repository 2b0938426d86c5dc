package providers

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestParseAPIError covers the error shapes of every API the codecs speak,
// since the codecs share this parser.
func TestParseAPIError(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
		want       APIError
	}{
		{"OpenAI", `{"error":{"message":"m","type":"t","param":"p","code":"c"}}`, true, APIError{Message: "m", Type: "t", Code: "c"}},
		{"integer code", `{"error":{"message":"m","type":"t","code":400}}`, true, APIError{Message: "m", Type: "t", Code: "400"}},
		{"null code", `{"error":{"message":"m","type":"t","code":null}}`, true, APIError{Message: "m", Type: "t"}},
		{"Gemini", `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[]}}`,
			true, APIError{Message: "Resource has been exhausted (e.g. check quota).", Type: "RESOURCE_EXHAUSTED", Code: "429"}},
		{"Anthropic", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011"}`,
			true, APIError{Message: "Overloaded", Type: "overloaded_error", RequestID: "req_011"}},
		{"vLLM top level", `{"object":"error","message":"m","type":"BadRequestError","param":null,"code":400}`,
			true, APIError{Message: "m", Type: "BadRequestError", Code: "400"}},
		{"llama.cpp error line", `{"code":500,"message":"m","type":"server_error"}`, true, APIError{Message: "m", Type: "server_error", Code: "500"}},
		{"Cohere", `{"message":"invalid api token"}`, true, APIError{Message: "invalid api token"}},
		{"error string", `{"error":"boom"}`, true, APIError{Message: "boom"}},
		{"escaped message", `{"error":{"message":"caf\u00e9 \"x\"\n"}}`, true, APIError{Message: "café \"x\"\n"}},
		{"nested wins over top level", `{"message":"top","error":{"message":"inner","type":"t"}}`, true, APIError{Message: "inner", Type: "t"}},
		{"not an error", `{"status":"ok"}`, false, APIError{}},
		{"array", `[1]`, false, APIError{}},
		{"truncated", `{"error":{"message":"m"`, false, APIError{}},
		{"text", `Internal Server Error`, false, APIError{}},
		{"empty", ``, false, APIError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c jsonCursor
			var got APIError
			ok := parseAPIError(&c, []byte(tc.body), &got)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("got %v %+v, want %v %+v", ok, got, tc.ok, tc.want)
			}
		})
	}
}

func TestReadCapped(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		truncated   bool
	}{
		{0, 10, false}, {10, 10, false}, {11, 10, true}, {5000, 10, true}, {5000, 4999, true}, {5000, 5000, false},
	} {
		body := bytes.Repeat([]byte("a"), tc.size)
		for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body)), iotest.DataErrReader(bytes.NewReader(body))} {
			got, truncated, err := readCapped(nil, r, tc.limit)
			if err != nil || truncated != tc.truncated || len(got) != min(tc.size, tc.limit) {
				t.Errorf("size %d limit %d: %d bytes, truncated %v, %v", tc.size, tc.limit, len(got), truncated, err)
			}
		}
	}
	boom := errors.New("boom")
	if _, _, err := readCapped(nil, iotest.ErrReader(boom), 10); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
	if _, _, err := readCapped(nil, zeroReader{}, 10); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("no progress: %v", err)
	}
}

func TestContentTypes(t *testing.T) {
	for ct, want := range map[string][2]bool{
		"text/event-stream":                {true, false},
		"Text/Event-Stream; charset=utf-8": {true, false},
		" text/event-stream ;x=y":          {true, false},
		"application/json":                 {false, true},
		"application/json; charset=utf-8":  {false, true},
		"application/problem+json":         {false, true},
		"APPLICATION/JSON":                 {false, true},
		"application/x-ndjson":             {false, false},
		"text/html":                        {false, false},
		"+json":                            {false, false},
		"":                                 {false, false},
	} {
		if got := [2]bool{isEventStream(ct), isJSONType(ct)}; got != want {
			t.Errorf("%q: event stream %v, JSON %v; want %v", ct, got[0], got[1], want)
		}
	}
}

func TestTextMessage(t *testing.T) {
	for body, want := range map[string]string{
		"plain  text\n\twith   space": "plain text with space",
		"<html><head><title>503 Service Temporarily Unavailable</title></head></html>": "503 Service Temporarily Unavailable",
		"<p>Fish &amp; chips &lt;3</p>":                                    "Fish & chips <3",
		"<script>var x = '<b>';</script><STYLE>b{}</STYLE><!-- c -->Shown": "Shown",
		"<b>unclosed":             "unclosed",
		"a <unclosed tag":         "a",
		"":                        "",
		strings.Repeat("ab", 200): strings.Repeat("ab", 100) + "...",
		strings.Repeat("€", 100):  strings.Repeat("€", 66) + "...",
	} {
		if got := textMessage([]byte(body)); got != want {
			t.Errorf("%.40q: got %q, want %q", body, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"20"}}, 20 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"20"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Second).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{}, 0},
	} {
		if got := RetryAfter(tc.h, now); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}
