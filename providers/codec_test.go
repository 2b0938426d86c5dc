package providers

// Test machinery shared by the tests of every codec: decoding a whole
// response, split Reads, fixtures, bad input, status errors, requests, key
// redaction, time stamps, fuzzing and benchmarks.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"
)

// ms is the unit of the tests' timings.
const ms = time.Millisecond

// decoded is what a test compares of a whole response.
type decoded struct {
	Text, Reasoning, ToolArgs string
	Usage                     Usage
	HasUsage                  bool
	Finish                    string
	Outputs                   int // events that carried output
	Deltas                    int
	Err                       error // what ended the response; io.EOF when clean
}

// add counts d into out.
func (out *decoded) add(d *Delta) {
	out.Deltas++
	out.Text += string(d.Text)
	out.Reasoning += string(d.Reasoning)
	out.ToolArgs += string(d.ToolArgs)
	if d.HasUsage {
		out.Usage, out.HasUsage = d.Usage, true
	}
	if d.FinishReason != "" {
		out.Finish = d.FinishReason
	}
	if d.HasOutput() {
		out.Outputs++
	}
}

// decodeAll decodes resp to its end.
func decodeAll(t testing.TB, dec Decoder, resp *http.Response, req *Request) decoded {
	t.Helper()
	var out decoded
	out.Err = decodeEach(t, dec, resp, req, func(d *Delta) {
		out.add(d)
		if d.At.IsZero() {
			t.Errorf("delta %d has no arrival time", out.Deltas)
		}
		if out.Deltas >= 100000 {
			t.Fatal("decoder did not end")
		}
	})
	return out
}

// decodeEach resets dec for resp and req and hands each Delta of the
// response to each until Next returns an error. It returns that error
// (io.EOF when the response ended cleanly), or Reset's, and fails t
// unless Next returns the same error again.
func decodeEach(t testing.TB, dec Decoder, resp *http.Response, req *Request, each func(d *Delta)) error {
	t.Helper()
	if err := dec.Reset(resp, req); err != nil {
		return err
	}
	var d Delta
	for {
		err := dec.Next(&d)
		if err != nil {
			if again := dec.Next(&d); again != err {
				t.Errorf("Next after %v returned %v", err, again)
			}
			return err
		}
		each(&d)
	}
}

// eachDelta is decodeEach for a response that must end cleanly: it fails
// t at any other end.
func eachDelta(t testing.TB, dec Decoder, resp *http.Response, req *Request, each func(d *Delta)) {
	t.Helper()
	if err := decodeEach(t, dec, resp, req, each); err != io.EOF {
		t.Fatal(err)
	}
}

// decodeFixture decodes the SSE stream fixture with dec, for a streaming
// request.
func decodeFixture(t testing.TB, dec Decoder, fixture string) decoded {
	t.Helper()
	return decodeAll(t, dec, sseResponse(bytes.NewReader(readFixture(t, fixture))), &Request{Stream: true})
}

// checkStatusError decodes a response of status with body, for a streaming
// request, with dec, and fails unless it ends in want (as sameError
// compares).
func checkStatusError(t *testing.T, dec Decoder, status int, body string, want *APIError) {
	t.Helper()
	if got := decodeAll(t, dec, recorded(status, nil, body), &Request{Stream: true}); !sameError(got.Err, want) {
		t.Fatalf("status error %v", got.Err)
	}
}

// checkWholeBody decodes the JSON fixture with dec, reused, for a
// non-streaming request, and fails unless it ends cleanly with text.
func checkWholeBody(t *testing.T, dec Decoder, fixture, text string) {
	t.Helper()
	got := decodeAll(t, dec, jsonBody(string(readFixture(t, fixture))), &Request{})
	if got.Text != text || got.Err != io.EOF {
		t.Fatalf("non-streaming %+v", got)
	}
}

// checkDecoded fails unless got is want, naming what was decoded.
func checkDecoded(t *testing.T, what string, got, want decoded) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %+v\nwant %+v", what, got, want)
	}
}

// checkJSONBody decodes body, a whole JSON answer, with dec under each
// content type a server may send one with: application/json, with a
// charset for a streaming request, none at all, and the content types in
// extra. It fails unless each gives want.
func checkJSONBody(t *testing.T, dec Decoder, body string, want decoded, extra ...string) {
	t.Helper()
	cases := []struct {
		name, ct string
		req      *Request
	}{
		{"json", "application/json", &Request{}},
		{"json for a stream request", "application/json; charset=utf-8", &Request{Stream: true}},
		{"no content type", "", &Request{}},
	}
	for _, ct := range extra {
		cases = append(cases, struct {
			name, ct string
			req      *Request
		}{ct, ct, &Request{}})
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.ct != "" {
			h.Set("Content-Type", tc.ct)
		}
		checkDecoded(t, tc.name, decodeAll(t, dec, recorded(200, h, body), tc.req), want)
	}
}

// checkFirstUsage resets dec, reused, for the SSE stream body and fails
// unless its first Delta carries want: the usage of an earlier response
// must not carry over.
func checkFirstUsage(t *testing.T, dec Decoder, body []byte, want Usage) {
	t.Helper()
	if err := dec.Reset(sseResponse(bytes.NewReader(body)), &Request{Stream: true}); err != nil {
		t.Fatal(err)
	}
	var d Delta
	if err := dec.Next(&d); err != nil || d.Usage != want {
		t.Fatalf("first usage %+v, %v", d.Usage, err)
	}
}

// sseResponse is a 200 text/event-stream response with body.
func sseResponse(body io.Reader) *http.Response {
	return &http.Response{
		StatusCode: 200,
		Header: http.Header{
			"Content-Type": {"text/event-stream; charset=utf-8"},
			"X-Request-Id": {"req_123"},
		},
		Body: io.NopCloser(body),
	}
}

// sseBody is a 200 text/event-stream response with body s.
func sseBody(s string) *http.Response { return sseResponse(strings.NewReader(s)) }

// jsonBody is a 200 application/json response with body s, as a handler
// writes it.
func jsonBody(s string) *http.Response {
	return recorded(200, http.Header{"Content-Type": {"application/json"}}, s)
}

// famResponse is a 200 response with content type ct and body.
func famResponse(ct string, body io.Reader) *http.Response {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(body)}
}

// recorded builds a response the way a handler would write it.
func recorded(status int, header http.Header, body string) *http.Response {
	rec := httptest.NewRecorder()
	for k, vs := range header {
		rec.Header()[k] = vs
	}
	rec.WriteHeader(status)
	rec.WriteString(body)
	return rec.Result()
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameError reports whether got matches want: the same sentinel, or an
// *APIError with the same fields that matter, or a *DecodeError.
func sameError(got, want error) bool {
	var wa *APIError
	if errors.As(want, &wa) {
		var ga *APIError
		return errors.As(got, &ga) && ga.InStream == wa.InStream && ga.StatusCode == wa.StatusCode &&
			ga.Type == wa.Type && ga.Code == wa.Code && ga.Message == wa.Message && ga.Provider == wa.Provider
	}
	var wd *DecodeError
	if errors.As(want, &wd) {
		var gd *DecodeError
		return errors.As(got, &gd) && (wd.Err == nil || errors.Is(gd.Err, wd.Err))
	}
	return got == want
}

// famCompare fails unless got is want (errors compared with sameError).
func famCompare(t *testing.T, got, want decoded) {
	t.Helper()
	if !sameError(got.Err, want.Err) {
		t.Fatalf("ended with %#v (%v), want %v", got.Err, got.Err, want.Err)
	}
	got.Err = want.Err
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n got %+v\nwant %+v", got, want)
	}
}

// checkSplits decodes body, in responses that resp makes, whole, one byte
// per Read, and split into two Reads at every byte, and fails unless all
// give the same result: the same Deltas, and an error of the same type and
// text (an *APIError equal in every field). It returns the whole-body
// result.
func checkSplits(t *testing.T, dec Decoder, resp func(io.Reader) *http.Response, body []byte, req *Request) decoded {
	t.Helper()
	want := decodeAll(t, dec, resp(bytes.NewReader(body)), req)
	check := func(how string, got decoded) {
		t.Helper()
		if reflect.TypeOf(got.Err) != reflect.TypeOf(want.Err) || got.Err.Error() != want.Err.Error() {
			t.Fatalf("%s: ended with %v, want %v", how, got.Err, want.Err)
		}
		if ga, ok := got.Err.(*APIError); ok && *ga != *want.Err.(*APIError) {
			t.Fatalf("%s: ended with %+v, want %+v", how, *ga, *want.Err.(*APIError))
		}
		got.Err = want.Err
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", how, got, want)
		}
	}
	check("one byte per Read", decodeAll(t, dec, resp(iotest.OneByteReader(bytes.NewReader(body))), req))
	for k := range len(body) + 1 {
		r := &partsReader{parts: [][]byte{bytes.Clone(body[:k]), bytes.Clone(body[k:])}}
		check("split at "+strconv.Itoa(k), decodeAll(t, dec, resp(r), req))
	}
	return want
}

// famCheckSplits is checkSplits of 200 responses with content type ct.
func famCheckSplits(t *testing.T, dec Decoder, ct string, body []byte, req *Request) decoded {
	t.Helper()
	return checkSplits(t, dec, ctResponse(ct), body, req)
}

// ctResponse returns a maker of 200 responses with content type ct.
func ctResponse(ct string) func(io.Reader) *http.Response {
	return func(r io.Reader) *http.Response { return famResponse(ct, r) }
}

// codecFixture is a stream fixture and what it must decode to.
type codecFixture struct {
	file string
	want decoded
}

// checkCodecFixtures decodes each fixture with one decoder of p, reused across
// them, and compares the result.
func checkCodecFixtures(t *testing.T, p Provider, cases []codecFixture) {
	t.Helper()
	dec := p.NewDecoder()
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body := readFixture(t, tc.file)
			famCompare(t, decodeAll(t, dec, sseResponse(bytes.NewReader(body)), &Request{Stream: true}), tc.want)
		})
	}
}

// checkCodecSplits decodes each fixture with one byte per Read and split into
// two Reads at every byte, and expects what a single Read gives, and what
// the fixture must decode to.
func checkCodecSplits(t *testing.T, p Provider, cases []codecFixture) {
	t.Helper()
	checkFixtureSplits(t, p, sseResponse, cases)
}

// checkFixtureSplits is checkCodecSplits with responses that resp makes.
func checkFixtureSplits(t *testing.T, p Provider, resp func(io.Reader) *http.Response, cases []codecFixture) {
	t.Helper()
	dec := p.NewDecoder() // one decoder, reused across responses
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			famCompare(t, checkSplits(t, dec, resp, readFixture(t, tc.file), &Request{Stream: true}), tc.want)
		})
	}
}

// decodeCase is a response and what it must decode to; inError lists parts
// of the error's text.
type decodeCase struct {
	name    string
	resp    *http.Response
	want    decoded
	inError []string
}

// checkDecodeCases decodes each case's response with dec for req.
func checkDecodeCases(t *testing.T, dec Decoder, req *Request, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(t, dec, tc.resp, req)
			if !sameError(got.Err, tc.want.Err) {
				t.Fatalf("ended with %#v (%v), want %v", got.Err, got.Err, tc.want.Err)
			}
			for _, s := range tc.inError {
				if !strings.Contains(got.Err.Error(), s) {
					t.Errorf("error %q does not contain %q", got.Err, s)
				}
			}
			got.Err = tc.want.Err
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// deltaStamps decodes resp and returns each Delta's At relative to start,
// whether it carried output, and the error that ended the response.
func deltaStamps(t *testing.T, dec Decoder, resp *http.Response, req *Request, start time.Time) (at []time.Duration, output []bool, end error) {
	t.Helper()
	end = decodeEach(t, dec, resp, req, func(d *Delta) {
		at = append(at, d.At.Sub(start))
		output = append(output, d.HasOutput())
	})
	return at, output, end
}

// codecStamps delivers a fixture's events in timed writes and lists the
// virtual time each Delta must carry.
type codecStamps struct {
	writes func(ev [][]byte) []timedWrite // from the fixture's events
	want   []time.Duration
}

// checkCodecStamps checks in virtual time that each Delta's At is the time of
// the Read that completed its event, and that events delivered in one Read
// share it.
func checkCodecStamps(t *testing.T, p Provider, file string, sep string, tc codecStamps) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ev := bytes.SplitAfter(readFixture(t, file), []byte(sep))
		start := time.Now()
		body := newTimedBody(tc.writes(ev))
		got, _, end := deltaStamps(t, p.NewDecoder(), sseResponse(body), &Request{Stream: true}, start)
		if end != io.EOF {
			t.Fatal(end)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("At %v\nwant %v", got, tc.want)
		}
	})
}

// checkCodecBodyStamp checks that a whole body's Delta is stamped when
// the body was fully read, the first cut bytes at 10ms and the rest at 75ms.
func checkCodecBodyStamp(t *testing.T, p Provider, file string, cut int) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		body := string(readFixture(t, file))
		start := time.Now()
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: newTimedBody([]timedWrite{{10 * time.Millisecond, body[:cut]}, {75 * time.Millisecond, body[cut:]}})}
		dec := p.NewDecoder()
		if err := dec.Reset(resp, &Request{}); err != nil {
			t.Fatal(err)
		}
		var d Delta
		if err := dec.Next(&d); err != nil {
			t.Fatal(err)
		}
		if at := d.At.Sub(start); at != 75*time.Millisecond {
			t.Errorf("At %v, want 75ms", at)
		}
		if !d.HasOutput() {
			t.Error("the body's Delta carries no output")
		}
		if err := dec.Next(&d); err != io.EOF {
			t.Errorf("second Next: %v, want io.EOF", err)
		}
	})
}

// codecStatus is an error response and the *APIError it must give.
type codecStatus struct {
	name   string
	status int
	header http.Header
	body   string
	want   APIError // Provider and StatusCode are filled in

	rateLimited, quota, overloaded, retryable bool
	errString                                 string // a part of Error()
}

// checkCodecStatusErrors runs each case through Reset of a streaming request.
func checkCodecStatusErrors(t *testing.T, p Provider, cases []codecStatus) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := recorded(tc.status, tc.header, tc.body)
			err := p.NewDecoder().Reset(resp, &Request{Stream: true})
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("Reset returned %v, want an *APIError", err)
			}
			want := tc.want
			want.Provider, want.StatusCode = p.Name(), tc.status
			if *got != want {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
			if got.RateLimited() != tc.rateLimited || got.QuotaExhausted() != tc.quota ||
				got.Overloaded() != tc.overloaded || got.Retryable() != tc.retryable {
				t.Errorf("classified rate limited %v, quota %v, overloaded %v, retryable %v; want %v, %v, %v, %v",
					got.RateLimited(), got.QuotaExhausted(), got.Overloaded(), got.Retryable(),
					tc.rateLimited, tc.quota, tc.overloaded, tc.retryable)
			}
			if !strings.Contains(got.Error(), tc.errString) {
				t.Errorf("Error() = %q, want it to contain %q", got.Error(), tc.errString)
			}
		})
	}
}

// checkListRequest fails unless ml's list-models request is a GET of url,
// without a body, that carries headers.
func checkListRequest(t *testing.T, ml ModelLister, url string, headers map[string]string) {
	t.Helper()
	req, err := ml.NewListModelsRequest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodGet || req.URL.String() != url || req.Body != nil {
		t.Errorf("%s %s, want GET %s", req.Method, req.URL, url)
	}
	for k, v := range headers {
		if got := req.Header.Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", url, k, got, v)
		}
	}
}

// checkModelNames fails unless ml decodes a 200 application/json answer
// with body to the model names want.
func checkModelNames(t *testing.T, ml ModelLister, body string, want []string) {
	t.Helper()
	if names, err := ml.DecodeModels(jsonBody(body)); err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("%T: names %q, %v; want %q", ml, names, err, want)
	}
}

// requestError is a request NewRequest must refuse, and the start of the
// error it must give.
type requestError struct {
	p    Provider
	r    *Request
	want string
}

// checkRequestErrors fails unless NewRequest refuses each case with its
// error, and, when secret is not empty, an error that does not repeat
// secret (the password of a case's BaseURL).
func checkRequestErrors(t *testing.T, secret string, cases []requestError) {
	t.Helper()
	for _, tc := range cases {
		_, err := tc.p.NewRequest(context.Background(), tc.r)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want prefix %q", err, tc.want)
		}
		if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q repeats the URL's credentials", err)
		}
	}
}

// codecRequest is a request a provider must build.
type codecRequest struct {
	name     string
	env      map[string]string
	p        Provider
	r        *Request
	url      string
	headers  map[string]string
	noHeader []string
	body     string // JSON, compared as values
}

// checkCodecRequests builds each case's request and compares method, URL,
// headers (with once, each sent exactly once) and body.
func checkCodecRequests(t *testing.T, once bool, cases []codecRequest) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			req, err := tc.p.NewRequest(context.Background(), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, req, http.MethodPost, tc.url, tc.headers, tc.noHeader, tc.body, once)
		})
	}
}

// checkRequest compares a built request with the one it must be: its
// method and URL, the headers it must have (with once, each sent exactly
// once; else its first value) and must not have, and its body, JSON
// compared as values ("": no body).
func checkRequest(t *testing.T, req *http.Request, method, url string, headers map[string]string, noHeader []string, body string, once bool) {
	t.Helper()
	if req.Method != method || req.URL.String() != url {
		t.Errorf("%s %s\nwant %s %s", req.Method, req.URL, method, url)
	}
	for k, v := range headers {
		if got := req.Header.Values(k); len(got) == 0 || got[0] != v || once && len(got) != 1 {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range noHeader {
		if _, ok := req.Header[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("header %s sent: %q", k, req.Header.Get(k))
		}
	}
	if body == "" {
		if req.Body != nil && req.Body != http.NoBody {
			t.Error("a body was sent")
		}
		return
	}
	famRequestBody(t, req, body)
}

// famRequestBody reads req's body as JSON and compares it with want.
func famRequestBody(t *testing.T, req *http.Request, want string) {
	t.Helper()
	if req.Body == nil {
		t.Fatalf("no body, want %s", want)
	}
	if req.GetBody == nil || req.ContentLength <= 0 {
		t.Error("the body cannot be replayed for a retry")
	}
	body, _ := io.ReadAll(req.Body)
	var got, w any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("body %s\nwant %s", body, want)
	}
}

// checkRedacted decodes each response (which must echo secret) for a
// streaming request, once with req attached and once without, and fails
// when the error, its Type and Code included, shows the first n bytes of
// secret or shows no "[redacted".
func checkRedacted(t *testing.T, p Provider, req *http.Request, responses map[string]*http.Response, secret string, n int) {
	t.Helper()
	for name, resp := range responses {
		body, _ := io.ReadAll(resp.Body)
		if !bytes.Contains(body, []byte(secret)) {
			t.Fatalf("%s: the body does not carry the key", name)
		}
		for _, withRequest := range []bool{true, false} {
			resp.Request = nil
			if withRequest {
				resp.Request = req
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			got := decodeAll(t, p.NewDecoder(), resp, &Request{Stream: true})
			if got.Err == nil || got.Err == io.EOF {
				t.Fatalf("%s: no error", name)
			}
			msg := got.Err.Error()
			var ae *APIError
			if errors.As(got.Err, &ae) {
				msg += ae.Type + ae.Code
			}
			if strings.Contains(msg, secret[:n]) || !strings.Contains(msg, "[redacted") {
				t.Errorf("%s (request attached: %v): %q", name, withRequest, msg)
			}
		}
	}
}

// checkCodecKeyRedaction makes servers echo the credential in every place a
// message or snippet comes from, and checks that no error shows it. p must
// carry secret (directly or from the environment).
func checkCodecKeyRedaction(t *testing.T, p Provider, secret string, streamErrors map[string]string) {
	t.Helper()
	req, err := p.NewRequest(context.Background(), &Request{Model: "m", Prompt: "hi", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	sse := http.Header{"Content-Type": {"text/event-stream"}}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	responses := map[string]*http.Response{
		"JSON status error":  recorded(401, jsonCT, `{"error":{"message":"bad key `+secret+`","type":"authentication_error"},"message":"bad key `+secret+`"}`),
		"HTML status error":  recorded(403, nil, "<html><body>Forbidden for "+secret+"</body></html>"),
		"text status error":  recorded(500, nil, "bad key "+secret),
		"invalid chunk":      recorded(200, sse, `data: {"echo":"`+secret+`"`+"\n\n"),
		"wrong content type": recorded(200, http.Header{"Content-Type": {"text/html"}}, "<html>"+secret+"</html>"),
		"non-JSON 200 body":  recorded(200, jsonCT, "oops "+secret),
		"key across the snippet cut": recorded(200, sse,
			`data: {"pad":"`+strings.Repeat("x", 95)+`","k":"`+secret+`"`+"\n\n"),
		"key across the message cut": recorded(500, http.Header{"Content-Type": {"text/html"}},
			"<html><body>"+strings.Repeat("y", 190)+" "+secret+"</body></html>"),
	}
	for name, body := range streamErrors {
		responses[name] = recorded(200, sse, body)
	}
	checkRedacted(t, p, req, responses, secret, 10)
	// The model list's errors too.
	if ml, ok := p.(ModelLister); ok {
		for name, resp := range map[string]*http.Response{
			"models status error": recorded(401, jsonCT, `{"error":{"message":"bad key `+secret+`"},"message":"bad key `+secret+`"}`),
			"models bad body":     recorded(200, jsonCT, `{"models":"`+secret+`"`),
		} {
			resp.Request = req
			_, err := ml.DecodeModels(resp)
			if err == nil || strings.Contains(err.Error(), secret[:10]) {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// addSeeds adds each file of testdata matching the patterns as a seed,
// through add; a pattern that matches nothing fails.
func addSeeds(f *testing.F, add func(b []byte), patterns ...string) {
	for _, pat := range patterns {
		files, err := filepath.Glob(filepath.Join("testdata", pat))
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds for %s: %v", pat, err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			add(b)
		}
	}
}

// splitReader returns data in Reads whose sizes come from sizes, cycling
// (1 to 32 bytes each).
type splitReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)]%32) + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// fuzzResponses is what the fuzz targets of one codec pick their responses
// from: content types, statuses and the headers every response has.
type fuzzResponses struct {
	contentTypes []string
	statuses     []int
	header       http.Header

	// checkUsage requires usage counts that are not negative.
	checkUsage bool
}

// decode decodes body with dec under a content type and status picked by
// pick, once in one Read and once split into Reads of sizes, and requires:
// no panic; an end within one Delta per input byte (no hang); an outcome
// that is io.EOF, an *APIError or a *DecodeError, nothing else, and that
// Next then returns again; every Delta stamped with its arrival time and
// carrying no more text than the body; and the same result however the
// body was split.
func (fr fuzzResponses) decode(t *testing.T, dec Decoder, body []byte, pick uint8, sizes []byte, stream bool) {
	ct := fr.contentTypes[int(pick)%len(fr.contentTypes)]
	status := fr.statuses[int(pick/8)%len(fr.statuses)]
	run := func(r io.Reader) decoded {
		resp := &http.Response{StatusCode: status, Header: fr.header.Clone(), Body: io.NopCloser(r)}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		if ct != "" {
			resp.Header.Set("Content-Type", ct)
		}
		var out decoded
		out.Err = decodeEach(t, dec, resp, &Request{Stream: stream}, func(d *Delta) {
			out.Deltas++
			if out.Deltas > len(body)+1 {
				t.Fatalf("%d deltas from %d bytes", out.Deltas, len(body))
			}
			if len(d.Text)+len(d.Reasoning)+len(d.ToolArgs) > len(body) {
				t.Fatal("a delta carries more text than the body")
			}
			if d.At.IsZero() {
				t.Fatal("a delta without its arrival time")
			}
			if u := d.Usage; fr.checkUsage && (u.InputTokens < 0 || u.OutputTokens < 0 || u.CachedTokens < 0 || u.ReasoningTokens < 0) {
				t.Fatalf("negative usage %+v", d.Usage)
			}
			out.Text += string(d.Text)
			out.Reasoning += string(d.Reasoning)
			out.ToolArgs += string(d.ToolArgs)
			if d.HasUsage {
				out.Usage, out.HasUsage = d.Usage, true
			}
			out.Finish += d.FinishReason
			if d.HasOutput() {
				out.Outputs++
			}
		})
		return out
	}
	want := run(bytes.NewReader(body))
	var ae *APIError
	var de *DecodeError
	if want.Err != io.EOF && !errors.As(want.Err, &ae) && !errors.As(want.Err, &de) {
		t.Fatalf("ended with %T: %v", want.Err, want.Err)
	}
	got := run(&splitReader{data: body, sizes: sizes})
	if got.Err.Error() != want.Err.Error() {
		t.Fatalf("split Reads end with %v, one Read with %v", got.Err, want.Err)
	}
	got.Err = want.Err
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("split Reads give\n%+v\none Read gives\n%+v", got, want)
	}
}

// benchStreamOf builds a stream of n copies of the text event textEvent
// between head and tail.
func benchStreamOf(head, textEvent, tail string, n int) []byte {
	return []byte(head + strings.Repeat(textEvent, n) + tail)
}

// benchDecoder decodes body, a stream of which nearly every event carries
// text, over and over with one decoder, reading at most readSize bytes a
// Read (0: as much as the decoder asks for); one op is one event, so ns/op
// and allocs/op are per text event.
func benchDecoder(b *testing.B, dec Decoder, ct string, body []byte, eventBytes, readSize int) {
	br := bytes.NewReader(body)
	var rd io.Reader = br
	if readSize > 0 {
		rd = &smallReader{r: br, n: readSize}
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}}, Body: io.NopCloser(rd)}
	req := &Request{Stream: true}
	if err := dec.Reset(resp, req); err != nil {
		b.Fatal(err)
	}
	var d Delta
	text := 0
	b.SetBytes(int64(eventBytes))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		err := dec.Next(&d)
		if err == io.EOF {
			br.Reset(body)
			if err := dec.Reset(resp, req); err != nil {
				b.Fatal(err)
			}
			err = dec.Next(&d)
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Text) > 0 {
			text++
		}
	}
	b.StopTimer()
	if b.N > 10 && text < b.N*9/10 {
		b.Fatalf("only %d of %d events carried text", text, b.N)
	}
}

// smallReader returns at most n bytes per Read.
type smallReader struct {
	r io.Reader
	n int
}

func (s *smallReader) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

// TestProviderNames checks each codec's default name and Label, and that a
// decoder's errors carry the name.
func TestProviderNames(t *testing.T) {
	for _, tc := range []struct {
		p       Provider
		want    string
		inError bool // check that a status error carries the name
	}{
		{&Anthropic{}, "anthropic", false},
		{&Anthropic{Label: "claude"}, "claude", true},
		{&Cohere{}, "cohere", false},
		{&Cohere{Label: "command"}, "command", true},
		{&Gemini{}, "gemini", true},
		{&Gemini{Project: "p"}, "vertex", true},
		{&Gemini{Project: "p", Label: "g"}, "g", true},
		{&Gemini{Label: "studio"}, "studio", true},
		{&OpenAI{}, "openai", false},
		{&OpenAI{Label: "vllm"}, "vllm", true},
		{&Azure{}, "azure", false},
		{&Azure{Label: "az-east"}, "az-east", true},
		{&OpenAIResponses{}, "openai-responses", false},
		{&OpenAIResponses{Label: "r"}, "r", false},
		{&Generic{}, "generic", false},
		{genericOllama(), "ollama-native", false},
	} {
		if got := tc.p.Name(); got != tc.want {
			t.Errorf("%+v: Name %q, want %q", tc.p, got, tc.want)
		}
		if !tc.inError {
			continue
		}
		err := tc.p.NewDecoder().Reset(recorded(500, nil, "x"), &Request{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+": 500") {
			t.Errorf("%s: error %v does not carry the name", tc.want, err)
		}
	}
}
