package providers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// TestListModelsFollowsNoRedirect: ListModels, with its default client or
// with one that follows redirects, sends nothing to where a redirect
// points, and says where it pointed.
func TestListModelsFollowsNoRedirect(t *testing.T) {
	const key = "sk-ant-must-stay-home-0123"
	var reached atomic.Int32
	to := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"id":"m"}]}`))
	}))
	defer to.Close()
	from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.URL+r.URL.Path+"?token=q", http.StatusFound)
	}))
	defer from.Close()
	p := &Anthropic{BaseURL: from.URL + "/v1", APIKey: key}
	for _, c := range []*http.Client{nil, {}} {
		_, err := ListModels(t.Context(), c, p)
		var re *RedirectError
		if !errors.As(err, &re) || re.StatusCode != http.StatusFound || re.Location != to.URL+"/v1/models" {
			t.Fatalf("ListModels: %v (%#v), want a RedirectError 302 to %s/v1/models", err, re, to.URL)
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "token=q") {
			t.Errorf("error shows a credential or the query: %v", err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want none", n)
	}
}

// TestRedirected: only 3xx responses are redirects; the Location loses its
// user information, query and fragment, and any credential of the request.
func TestRedirected(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://api.example.com/v1/chat", nil)
	req.Header.Set("X-Api-Key", "secret-key-0123456789")
	resp := func(status int, loc string) *http.Response {
		h := http.Header{}
		if loc != "" {
			h.Set("Location", loc)
		}
		return &http.Response{StatusCode: status, Header: h, Request: req}
	}
	for _, tc := range []struct {
		resp *http.Response
		want string // the Location; "-" for no error
	}{
		{nil, "-"},
		{resp(200, ""), "-"},
		{resp(404, "https://x/"), "-"},
		{resp(307, "https://user:pw@other.example/v1/chat?key=1#frag"), "https://other.example/v1/chat"},
		{resp(301, "/v2/chat"), "https://api.example.com/v2/chat"},
		{resp(308, "https://other.example/secret-key-0123456789/chat"), "https://other.example/[redacted]/chat"},
		{resp(302, ""), ""},
		{resp(300, "%zz"), ""},
	} {
		err := Redirected(tc.resp)
		if tc.want == "-" {
			if err != nil {
				t.Errorf("Redirected(%v) = %v, want nil", tc.resp, err)
			}
			continue
		}
		var re *RedirectError
		if !errors.As(err, &re) || re.StatusCode != tc.resp.StatusCode || re.Location != tc.want {
			t.Errorf("Redirected(%d %q) = %#v, want Location %q", tc.resp.StatusCode, tc.resp.Header.Get("Location"), err, tc.want)
		}
	}
	if _, err := url.Parse("%zz"); err == nil {
		t.Fatal("the unparsable Location case parses")
	}
}
