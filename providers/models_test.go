package providers

// Test machinery shared by the Anthropic, Gemini and Cohere codec tests,
// and the tests of ListModels and ValidateCredentials.

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
			got := decodeAll(t, dec, sseResponse(bytes.NewReader(body)), &Request{Stream: true})
			if !sameError(got.Err, tc.want.Err) {
				t.Fatalf("ended with %v, want %v", got.Err, tc.want.Err)
			}
			got.Err = tc.want.Err
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// checkCodecSplits decodes each fixture with one byte per Read and split into
// two Reads at every byte, and expects what a single Read gives.
func checkCodecSplits(t *testing.T, p Provider, cases []codecFixture) {
	t.Helper()
	dec := p.NewDecoder()
	req := &Request{Stream: true}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body := readFixture(t, tc.file)
			want := decodeAll(t, dec, sseResponse(bytes.NewReader(body)), req)
			check := func(how string, got decoded) {
				t.Helper()
				if !sameError(got.Err, want.Err) {
					t.Fatalf("%s: ended with %v, want %v", how, got.Err, want.Err)
				}
				got.Err = want.Err
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n got %+v\nwant %+v", how, got, want)
				}
			}
			check("one byte per Read", decodeAll(t, dec, sseResponse(iotest.OneByteReader(bytes.NewReader(body))), req))
			for k := range len(body) + 1 {
				r := &partsReader{parts: [][]byte{bytes.Clone(body[:k]), bytes.Clone(body[k:])}}
				check("split at "+strconv.Itoa(k), decodeAll(t, dec, sseResponse(r), req))
			}
		})
	}
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
		dec := p.NewDecoder()
		if err := dec.Reset(sseResponse(body), &Request{Stream: true}); err != nil {
			t.Fatal(err)
		}
		var got []time.Duration
		var d Delta
		for {
			err := dec.Next(&d)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, d.At.Sub(start))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("At %v\nwant %v", got, tc.want)
		}
	})
}

// checkCodecBodyStamp checks that a whole body's Delta is stamped when
// the body was fully read.
func checkCodecBodyStamp(t *testing.T, p Provider, file string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		body := string(readFixture(t, file))
		start := time.Now()
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: newTimedBody([]timedWrite{{10 * time.Millisecond, body[:50]}, {75 * time.Millisecond, body[50:]}})}
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
// headers and body.
func checkCodecRequests(t *testing.T, cases []codecRequest) {
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
			if req.Method != http.MethodPost || req.URL.String() != tc.url {
				t.Errorf("%s %s\nwant POST %s", req.Method, req.URL, tc.url)
			}
			for k, v := range tc.headers {
				if got := req.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tc.noHeader {
				if _, ok := req.Header[http.CanonicalHeaderKey(k)]; ok {
					t.Errorf("header %s sent: %q", k, req.Header.Get(k))
				}
			}
			if req.GetBody == nil || req.ContentLength <= 0 {
				t.Error("the body cannot be replayed for a retry")
			}
			body, _ := io.ReadAll(req.Body)
			var got, want any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.body), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("body %s\nwant %s", body, tc.body)
			}
		})
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
			if msg := got.Err.Error(); strings.Contains(msg, secret[:10]) || !strings.Contains(msg, "[redacted") {
				t.Errorf("%s (request attached: %v): %q", name, withRequest, msg)
			}
		}
	}
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

// codecFuzzContentTypes are the Content-Type values the fuzz targets pick
// from.
var codecFuzzContentTypes = []string{"text/event-stream; charset=utf-8", "application/json", "", "text/html", "text/event-stream"}

// codecFuzzStatuses are the statuses the fuzz targets pick from.
var codecFuzzStatuses = []int{200, 200, 200, 429, 500, 529}

// addCodecSeeds adds the fixtures matching pattern as seeds.
func addCodecSeeds(f *testing.F, pattern string, add func(b []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// fuzzCodec decodes body under a content type and status chosen by pick,
// split into Reads of sizes. Every response must end in io.EOF, an
// *APIError or a *DecodeError, nothing else and no panic, within one Delta
// per input byte; and split Reads must decode as one Read does.
func fuzzCodec(t *testing.T, p Provider, body []byte, pick uint8, sizes []byte, stream bool) {
	ct := codecFuzzContentTypes[int(pick)%len(codecFuzzContentTypes)]
	status := codecFuzzStatuses[int(pick/8)%len(codecFuzzStatuses)]
	dec := p.NewDecoder()
	run := func(r io.Reader) decoded {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(r)}
		if ct != "" {
			resp.Header.Set("Content-Type", ct)
		}
		var out decoded
		if err := dec.Reset(resp, &Request{Stream: stream}); err != nil {
			out.Err = err
			return out
		}
		var d Delta
		for {
			err := dec.Next(&d)
			if err != nil {
				out.Err = err
				if again := dec.Next(&d); again != err {
					t.Fatalf("Next after %v returned %v", err, again)
				}
				return out
			}
			out.Deltas++
			if out.Deltas > len(body)+1 {
				t.Fatalf("%d deltas from %d bytes", out.Deltas, len(body))
			}
			if len(d.Text)+len(d.Reasoning)+len(d.ToolArgs) > len(body) {
				t.Fatal("a delta carries more text than the body")
			}
			if d.Usage.InputTokens < 0 || d.Usage.OutputTokens < 0 || d.Usage.CachedTokens < 0 || d.Usage.ReasoningTokens < 0 {
				t.Fatalf("negative usage %+v", d.Usage)
			}
			out.Text += string(d.Text)
			out.Reasoning += string(d.Reasoning)
			out.ToolArgs += string(d.ToolArgs)
			if d.HasUsage {
				out.Usage, out.HasUsage = d.Usage, true
			}
			out.Finish += d.FinishReason
		}
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

// codecBenchStream builds a stream of n copies of the text event textEvent
// between head and tail.
func codecBenchStream(head, textEvent, tail string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for range n {
		b.WriteString(textEvent)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// benchCodecStream decodes stream (n text events between a few others)
// over and over; one op is one event, so ns/op and allocs/op are per text
// event, nearly.
func benchCodecStream(b *testing.B, p Provider, stream []byte, eventBytes int) {
	br := bytes.NewReader(stream)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}}, Body: io.NopCloser(br)}
	req := &Request{Stream: true}
	dec := p.NewDecoder()
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
			br.Reset(stream)
			if err := dec.Reset(resp, req); err != nil {
				b.Fatal(err)
			}
			err = dec.Next(&d)
		}
		if err != nil {
			b.Fatal(err)
		}
		if d.HasOutput() {
			text++
		}
	}
	b.StopTimer()
	if b.N > 10 && text < b.N*9/10 {
		b.Fatalf("only %d of %d events carried text", text, b.N)
	}
}

// notModelLister is a Provider that cannot list models.
type notModelLister struct{}

func (notModelLister) Name() string { return "plain" }
func (notModelLister) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	return nil, errors.New("unused")
}
func (notModelLister) NewDecoder() Decoder { return nil }

func TestListModels(t *testing.T) {
	const key = "sk-ant-LISTKEY-0123456789"
	var gotPath, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotKey = r.URL.RequestURI(), r.Header.Get("X-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"},{"type":"model","id":"claude-haiku-4-5"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-haiku-4-5"}`)
	}))
	defer srv.Close()
	got, err := ListModels(context.Background(), srv.Client(), &Anthropic{BaseURL: srv.URL + "/v1", APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"claude-sonnet-4-5", "claude-haiku-4-5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("models %q, want %q", got, want)
	}
	if gotPath != "/v1/models?limit=1000" || gotKey != key {
		t.Errorf("request %s with key %q", gotPath, gotKey)
	}

	_, err = ListModels(context.Background(), nil, notModelLister{})
	if !errors.Is(err, ErrListModelsUnsupported) || !strings.HasPrefix(err.Error(), "plain: list models:") {
		t.Errorf("not a lister: %v", err)
	}
	if _, err := ListModels(context.Background(), nil, nil); err == nil {
		t.Error("nil provider: no error")
	}

	// A transport error names the provider and keeps its cause.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ListModels(ctx, srv.Client(), &Cohere{BaseURL: srv.URL + "/v2", APIKey: "k"})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "cohere: list models:") {
		t.Errorf("canceled: %v", err)
	}
}

func TestValidateCredentials(t *testing.T) {
	type answer struct {
		status int
		body   string
	}
	var next answer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(next.status)
		io.WriteString(w, next.body)
	}))
	defer srv.Close()
	const secret = "AIzaSyVALIDATE-0123456789abcdef"
	gemini := &Gemini{BaseURL: srv.URL + "/v1beta", APIKey: secret}
	anthropic := &Anthropic{BaseURL: srv.URL + "/v1", APIKey: "sk-ant-VALIDATE-0123456789"}
	cohere := &Cohere{BaseURL: srv.URL + "/v2", APIKey: "co-VALIDATE-0123456789"}
	for _, tc := range []struct {
		name     string
		p        Provider
		answer   answer
		accepted bool
		rejected bool   // the error is the *APIError itself
		inError  string // a part of the error
	}{
		{"accepted", anthropic, answer{200, `{"data":[{"id":"claude-x"}],"has_more":false}`}, true, false, ""},
		{"empty list still accepts", cohere, answer{200, `{"models":[]}`}, true, false, ""},
		{"401", anthropic, answer{401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`},
			false, true, "anthropic: 401 Unauthorized (authentication_error): invalid x-api-key"},
		{"403", cohere, answer{403, `{"message":"Forbidden"}`}, false, true, "cohere: 403 Forbidden: Forbidden"},
		{"Gemini bad key is a 400", gemini, answer{400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`},
			false, true, "gemini: 400 Bad Request (INVALID_ARGUMENT/API_KEY_INVALID): API key not valid"},
		{"another 400 is not a rejection", gemini, answer{400, `{"error":{"code":400,"message":"Bad page size","status":"INVALID_ARGUMENT"}}`},
			false, false, "gemini: could not check the credentials: gemini: 400 Bad Request"},
		{"429", anthropic, answer{429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
			false, false, "anthropic: could not check the credentials: anthropic: 429 Too Many Requests"},
		{"500", cohere, answer{500, `{"message":"internal"}`}, false, false, "cohere: could not check the credentials: cohere: 500"},
		{"not a model list", anthropic, answer{200, `<html>hi</html>`}, false, false, "anthropic: could not check the credentials: anthropic: decode"},
		{"not a lister", notModelLister{}, answer{}, false, false, "plain: could not check the credentials: plain: list models: the provider cannot list models"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next = tc.answer
			err := ValidateCredentials(context.Background(), srv.Client(), tc.p)
			if tc.accepted {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			_, isAPI := err.(*APIError)
			if isAPI != tc.rejected {
				t.Errorf("error %T %v: *APIError itself %v, want %v", err, err, isAPI, tc.rejected)
			}
			if !strings.Contains(err.Error(), tc.inError) {
				t.Errorf("error %q, want it to contain %q", err, tc.inError)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
}

// TestModelNames covers the list decoding the three ModelListers share.
func TestModelNames(t *testing.T) {
	for _, tc := range []struct {
		body    string
		want    []string
		inError string
	}{
		{`{"models":[{"name":"a"},{"name":"b","x":[1]},{"other":1},{"name":""},"junk"],"next_page_token":"t"}`, []string{"a", "b"}, ""},
		{`{"models":[]}`, []string{}, ""},
		{`{"models":null}`, []string{}, ""},
		{`{"data":[{"id":"a"}]}`, nil, `the model list has no "models" field`},
		{`[1]`, nil, "the model list is not a JSON object"},
		{`{"models":[{"name":"a"}]`, nil, "unexpected end of JSON input"},
		{``, nil, "unexpected end of JSON input"},
	} {
		got, err := modelNames("p", []byte(tc.body), "models", "name", secrets{})
		if tc.inError != "" {
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.inError) {
				t.Errorf("%s: error %v, want a *DecodeError with %q", tc.body, err, tc.inError)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.body, got, err, tc.want)
		}
	}
}
