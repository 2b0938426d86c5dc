package providers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var azureFixtures = []codecFixture{
	// The prelude (choices:[], id "") and the trailing filter chunk are
	// Deltas without output.
	{"azure.sse", decoded{Text: "Hello", Finish: "stop", Outputs: 1, Deltas: 5, Err: io.EOF}},
	{"azure_filter_trailer.sse", decoded{Text: "Hello", Finish: "stop", Outputs: 2, Deltas: 7, Err: io.EOF}},
	{"azure_content_filter.sse", decoded{Text: "The duel", Finish: "content_filter", Outputs: 1, Deltas: 4, Err: io.EOF}},
	{"azure_usage.sse", decoded{Text: "Hi there", Usage: Usage{InputTokens: 12, OutputTokens: 2}, HasUsage: true,
		Finish: "length", Outputs: 2, Deltas: 6, Err: io.EOF}},
}

func TestAzureDecodeFixtures(t *testing.T) {
	checkFixtureSplits(t, &Azure{BaseURL: "https://r.openai.azure.com", APIKey: "k"}, ctResponse("text/event-stream"), azureFixtures)
}

// TestAzureFilterChunksAreNotOutput checks event by event that the filter
// prelude and trailer carry nothing that counts for TTFT.
func TestAzureFilterChunksAreNotOutput(t *testing.T) {
	dec := (&Azure{}).NewDecoder()
	body := readFixture(t, "azure_filter_trailer.sse")
	var got []string
	eachDelta(t, dec, famResponse("text/event-stream", bytes.NewReader(body)), &Request{Stream: true}, func(d *Delta) {
		got = append(got, string(d.Text)+"|"+d.FinishReason+"|"+map[bool]string{true: "out", false: "-"}[d.HasOutput()])
	})
	want := []string{"||-", "||-", "Hel||out", "lo||out", "||-", "|stop|-", "||-"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %q\nwant %q", got, want)
	}
}

func TestAzureDecodeNonStreaming(t *testing.T) {
	body := string(readFixture(t, "azure_chat.json"))
	got := decodeAll(t, (&Azure{}).NewDecoder(), jsonBody(body), &Request{})
	famCompare(t, got, decoded{Text: "Hello world", Usage: Usage{InputTokens: 9, OutputTokens: 2}, HasUsage: true,
		Finish: "stop", Outputs: 1, Deltas: 1, Err: io.EOF})
}

// TestAzureDecodeStamps checks in virtual time that each Delta is stamped
// with the time its event arrived, filter chunks included.
func TestAzureDecodeStamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := bytes.SplitAfter(readFixture(t, "azure_filter_trailer.sse"), []byte("\n\n"))
		start := time.Now()
		body := newTimedBody([]timedWrite{
			{15 * ms, string(ev[0])},                  // prompt filter results
			{40 * ms, string(ev[1])},                  // role
			{180 * ms, string(ev[2][:30])},            // "Hel", part
			{200 * ms, string(ev[2][30:])},            // rest of "Hel"
			{230 * ms, string(ev[3]) + string(ev[4])}, // "lo" and a filter chunk, one Read
			{260 * ms, string(ev[5])},                 // finish
			{900 * ms, string(ev[6]) + string(ev[7])}, // late filter chunk, [DONE]
		})
		at, output, end := deltaStamps(t, (&Azure{}).NewDecoder(), famResponse("text/event-stream", body), &Request{Stream: true}, start)
		if end != io.EOF {
			t.Fatalf("ended with %v", end)
		}
		wantAt := []time.Duration{15 * ms, 40 * ms, 200 * ms, 230 * ms, 230 * ms, 260 * ms, 900 * ms}
		wantOut := []bool{false, false, true, true, false, false, false}
		if !reflect.DeepEqual(at, wantAt) || !reflect.DeepEqual(output, wantOut) {
			t.Errorf("At %v output %v\nwant %v %v", at, output, wantAt, wantOut)
		}
	})
}

func TestAzureNewRequest(t *testing.T) {
	temp, topK := 0.2, 5
	t.Setenv("AZURE_OPENAI_API_KEY", "env-azure-key-123")
	checkCodecRequests(t, false, []codecRequest{
		{name: "deployments, api-key", p: &Azure{BaseURL: "https://res.openai.azure.com", APIKey: "azure-key-456"},
			r:   &Request{Model: "my-deploy", Prompt: "hi", System: "be brief", MaxTokens: 16, Stream: true},
			url: "https://res.openai.azure.com/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
			headers: map[string]string{"Api-Key": "azure-key-456", "Content-Type": "application/json",
				"Accept": "text/event-stream", "Accept-Encoding": "identity"},
			noHeader: []string{"Authorization"},
			body: `{"max_completion_tokens":16,"messages":[{"content":"be brief","role":"system"},{"content":"hi","role":"user"}],` +
				`"stream":true,"stream_options":{"include_usage":true}}`},
		{name: "deployments, key from the environment", p: &Azure{BaseURL: "https://res.openai.azure.com/"},
			r:        &Request{Model: "gpt 4o/x", Prompt: "hi", Temperature: &temp, TopK: &topK},
			url:      "https://res.openai.azure.com/openai/deployments/gpt%204o%2Fx/chat/completions?api-version=2024-10-21",
			headers:  map[string]string{"Api-Key": "env-azure-key-123", "Accept": "application/json"},
			noHeader: []string{"Authorization"},
			body:     `{"messages":[{"content":"hi","role":"user"}],"temperature":0.2}`},
		{name: "deployments, Entra ID, own api-version", p: &Azure{BaseURL: "https://res.openai.azure.com/openai",
			BearerToken: "eyJ0eXAiOiJKV1QiLCJhbGciOi", APIVersion: "2025-04-01-preview", MaxTokensField: "max_tokens"},
			r:        &Request{Model: "d", Prompt: "hi", MaxTokens: 3},
			url:      "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-04-01-preview",
			headers:  map[string]string{"Authorization": "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi"},
			noHeader: []string{"Api-Key"},
			body:     `{"max_tokens":3,"messages":[{"content":"hi","role":"user"}]}`},
		{name: "v1, api-key", p: &Azure{BaseURL: "https://res.openai.azure.com", APIKey: "azure-key-456", V1: true,
			APIVersion: "ignored-on-v1"},
			r:        &Request{Model: "gpt-4o-mini", Prompt: "hi", MaxTokens: 8, Stream: true},
			url:      "https://res.openai.azure.com/openai/v1/chat/completions",
			headers:  map[string]string{"Api-Key": "azure-key-456"},
			noHeader: []string{"Authorization"},
			body: `{"model":"gpt-4o-mini","max_completion_tokens":8,"messages":[{"content":"hi","role":"user"}],` +
				`"stream":true,"stream_options":{"include_usage":true}}`},
		{name: "v1, Entra ID, endpoint written with /openai/v1, no usage, extras", p: &Azure{BaseURL: "https://res.openai.azure.com/openai/v1/",
			BearerToken: "entra-token-789", V1: true, NoStreamUsage: true, Header: http.Header{"x-ms-useragent": {"lens"}}},
			r:        &Request{Model: "o4-mini", Prompt: "hi", Stream: true, Extra: map[string]any{"reasoning_effort": "low"}},
			url:      "https://res.openai.azure.com/openai/v1/chat/completions",
			headers:  map[string]string{"Authorization": "Bearer entra-token-789", "X-Ms-Useragent": "lens"},
			noHeader: []string{"Api-Key"},
			body:     `{"model":"o4-mini","messages":[{"content":"hi","role":"user"}],"stream":true,"reasoning_effort":"low"}`},
	})
}

func TestAzureNewRequestErrors(t *testing.T) {
	t.Setenv("AZURE_OPENAI_API_KEY", "")
	checkRequestErrors(t, "secretpass", []requestError{
		{&Azure{}, &Request{Model: "d"}, "azure: build request: BaseURL is required"},
		{&Azure{BaseURL: "res.openai.azure.com"}, &Request{Model: "d"}, "azure: build request: BaseURL is not an absolute http or https URL"},
		{&Azure{BaseURL: "https://u:secretpass@res.openai.azure.com\x7f"}, &Request{Model: "d"}, "azure: build request: BaseURL is not"},
		{&Azure{BaseURL: "https://res.openai.azure.com"}, &Request{}, "azure: build request: the Model of a Request is the deployment name, and it is empty"},
		{&Azure{BaseURL: "https://res.openai.azure.com", MaxTokensField: "max_output_tokens", Label: "az"}, &Request{Model: "d"}, `az: build request: MaxTokensField "max_output_tokens"`},
		{&Azure{BaseURL: "https://res.openai.azure.com"}, nil, "azure: build request: nil Request"},
	})
	// No key anywhere: no auth header (the server will say 401).
	req, err := (&Azure{BaseURL: "https://res.openai.azure.com"}).NewRequest(context.Background(), &Request{Model: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Api-Key") != "" || req.Header.Get("Authorization") != "" {
		t.Errorf("auth headers %v", req.Header)
	}
}

func TestAzureStatusErrors(t *testing.T) {
	type hdr = http.Header
	json := hdr{"Content-Type": {"application/json"}, "Apim-Request-Id": {"apim-1"}, "X-Request-Id": {"xr-1"}}
	checkCodecStatusErrors(t, &Azure{}, []codecStatus{
		{name: "401", status: 401, header: json,
			body: `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`,
			want: APIError{Code: "401", RequestID: "apim-1", Message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}},
		{name: "404 deployment", status: 404, header: json,
			body: `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}`,
			want: APIError{Code: "DeploymentNotFound", RequestID: "apim-1", Message: "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}},
		{name: "429 retry-after", status: 429,
			header: hdr{"Content-Type": {"application/json"}, "Retry-After": {"7"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Request-Id": {"xr-2"}},
			body:   `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."}}`,
			want: APIError{Code: "429", RetryAfter: 7 * time.Second, RequestID: "xr-2",
				Message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."},
			rateLimited: true, retryable: true},
		{name: "429 retry-after-ms wins", status: 429,
			header:      hdr{"Content-Type": {"application/json"}, "Retry-After": {"7"}, "Retry-After-Ms": {"6500"}},
			body:        `{"error":{"code":"429","message":"Please retry after 7 seconds."}}`,
			want:        APIError{Code: "429", RetryAfter: 6500 * time.Millisecond, Message: "Please retry after 7 seconds."},
			rateLimited: true, retryable: true},
		{name: "429 delay only in the message", status: 429, header: hdr{"Content-Type": {"application/json"}},
			body: `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after 12 seconds."}}`,
			want: APIError{Code: "429", RetryAfter: 12 * time.Second,
				Message: "Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after 12 seconds."},
			rateLimited: true, retryable: true},
		{name: "400 prompt filtered", status: 400, header: json,
			body: `{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,` +
				`"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":true,"detected":true},"violence":{"filtered":false,"severity":"safe"}}}}}`,
			want: APIError{Code: "content_filter", Type: "ResponsibleAIPolicyViolation", RequestID: "apim-1",
				Message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}},
		{name: "500 text", status: 500, body: "upstream connect error",
			want: APIError{Message: "upstream connect error"}, retryable: true},
	})
}

// TestAzureStreamErrors checks errors sent inside a 200 stream.
func TestAzureStreamErrors(t *testing.T) {
	prelude := bytes.SplitAfter(readFixture(t, "azure.sse"), []byte("\n\n"))[0]
	body := string(prelude) + `data: {"error":{"code":"content_filter","message":"The response was filtered.","status":400}}` + "\n\n"
	got := decodeAll(t, (&Azure{}).NewDecoder(), famResponse("text/event-stream", strings.NewReader(body)), &Request{Stream: true})
	famCompare(t, got, decoded{Deltas: 1, Err: &APIError{Provider: "azure", StatusCode: 200, InStream: true,
		Code: "content_filter", Message: "The response was filtered."}})
}

func TestRetryAfterInMessage(t *testing.T) {
	for msg, want := range map[string]time.Duration{
		"Please retry after 3 seconds.":   3 * time.Second,
		"please RETRY AFTER 1 second":     time.Second,
		"Retry after 60 seconds":          time.Minute,
		"retry after seconds":             0,
		"retry after 5 minutes":           0,
		"retry after 9999999999 seconds":  0,
		"no delay here":                   0,
		"Please retry after 2":            0,
		"Please retry after 4 seconds, 5": 4 * time.Second,
	} {
		if got := retryAfterInMessage(msg); got != want {
			t.Errorf("%q: %v, want %v", msg, got, want)
		}
	}
}

// TestAzureKeyNeverInErrors makes servers echo the credential everywhere
// a message or snippet comes from, for both auths.
func TestAzureKeyNeverInErrors(t *testing.T) {
	const envKey = "azure-env-key-0123456789abcdef"
	t.Setenv("AZURE_OPENAI_API_KEY", envKey)
	for _, p := range []*Azure{
		{BaseURL: "https://res.openai.azure.com", APIKey: "azure-key-S3CRET-0123456789"},
		{BaseURL: "https://res.openai.azure.com"},
		{BaseURL: "https://res.openai.azure.com", BearerToken: "eyJ-entra-S3CRET-token-0123456789", V1: true},
	} {
		secret := p.secret()
		if secret == "" {
			t.Fatal("no credential")
		}
		req, err := p.NewRequest(context.Background(), &Request{Model: "d", Prompt: "hi", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		sse := http.Header{"Content-Type": {"text/event-stream"}}
		checkRedacted(t, p, req, map[string]*http.Response{
			"401":               recorded(401, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"401","message":"Access denied for `+secret+`"}}`),
			"innererror":        recorded(400, http.Header{"Content-Type": {"application/json"}}, `{"error":{"code":"content_filter","message":"m","innererror":{"code":"`+secret+`"}}}`),
			"HTML":              recorded(403, nil, "<html><body>Forbidden "+secret+"</body></html>"),
			"error chunk":       recorded(200, sse, `data: {"error":{"message":"key `+secret+` revoked"}}`+"\n\n"),
			"invalid chunk":     recorded(200, sse, `data: {"echo":"`+secret+`"`+"\n\n"),
			"non-JSON 200 body": jsonBody("oops " + secret),
		}, secret, 12)
		// Models too.
		lreq, err := p.NewListModelsRequest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp := recorded(401, nil, `{"error":{"code":"401","message":"bad `+secret+`"}}`)
		resp.Request = lreq
		if _, err := p.DecodeModels(resp); err == nil || strings.Contains(err.Error(), secret[:12]) {
			t.Errorf("models error %v", err)
		}
	}
}

func TestAzureListModels(t *testing.T) {
	for _, tc := range []struct {
		p       *Azure
		url     string
		headers map[string]string
	}{
		{&Azure{BaseURL: "https://res.openai.azure.com/", APIKey: "azure-key-456"},
			"https://res.openai.azure.com/openai/models?api-version=2024-10-21", map[string]string{"Api-Key": "azure-key-456"}},
		{&Azure{BaseURL: "https://res.openai.azure.com", APIKey: "azure-key-456", APIVersion: "2024-06-01"},
			"https://res.openai.azure.com/openai/models?api-version=2024-06-01", map[string]string{"Api-Key": "azure-key-456"}},
		{&Azure{BaseURL: "https://res.openai.azure.com/openai/v1", BearerToken: "tok-123456789", V1: true},
			"https://res.openai.azure.com/openai/v1/models", map[string]string{"Authorization": "Bearer tok-123456789"}},
	} {
		checkListRequest(t, tc.p, tc.url, tc.headers)
	}
	if _, err := (&Azure{}).NewListModelsRequest(context.Background()); err == nil || !strings.Contains(err.Error(), "BaseURL is required") {
		t.Errorf("no BaseURL: %v", err)
	}
	p := &Azure{BaseURL: "https://res.openai.azure.com"}
	checkModelNames(t, p, `{"data":[{"status":"succeeded","capabilities":{"chat_completion":true},"id":"gpt-4o-2024-08-06","object":"model"},`+
		`{"id":"text-embedding-3-small","object":"model"}],"object":"list"}`, []string{"gpt-4o-2024-08-06", "text-embedding-3-small"})
	_, err := p.DecodeModels(recorded(429, http.Header{"Content-Type": {"application/json"}},
		`{"error":{"code":"429","message":"Please retry after 2 seconds."}}`))
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != 2*time.Second || ae.Provider != "azure" {
		t.Errorf("status error %#v", err)
	}
}
