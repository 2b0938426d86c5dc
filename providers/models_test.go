package providers

// Tests of ListModels, ValidateCredentials and the model lists the
// Anthropic, Gemini and Cohere codecs share.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

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
