package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Model listing and credential checks, used by the command line; and the
// response helpers that the Anthropic, Gemini and Cohere codecs share.

// ErrListModelsUnsupported is the cause of the error ListModels and
// ValidateCredentials return for a provider that is not a ModelLister.
var ErrListModelsUnsupported = errors.New("the provider cannot list models")

// maxModelsBody caps the body of a list-models response.
const maxModelsBody = 8 << 20

// ListModels sends p's list-models request with client (http.DefaultClient
// when nil) and returns the model names the server listed, in its order.
// Whatever client's own policy, no redirect is followed (see
// CheckRedirect): a 3xx answer is an error wrapping a *RedirectError.
// It returns an error wrapping ErrListModelsUnsupported when p is not a
// ModelLister, the *APIError of another status outside 2xx, a *DecodeError for a
// body that is not the API's list, and transport errors wrapped with the
// provider's name. Only the first page of a paginated list is read (the
// Anthropic, Gemini and Cohere listers ask for the largest page their APIs
// allow).
func ListModels(ctx context.Context, client *http.Client, p Provider) ([]string, error) {
	if p == nil {
		return nil, errors.New("providers: ListModels: nil Provider")
	}
	ml, ok := p.(ModelLister)
	if !ok {
		return nil, fmt.Errorf("%s: list models: %w", p.Name(), ErrListModelsUnsupported)
	}
	req, err := ml.NewListModelsRequest(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := noRedirects(client).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: list models: %w", p.Name(), err)
	}
	defer resp.Body.Close()
	if err := Redirected(resp); err != nil {
		return nil, fmt.Errorf("%s: list models: %w", p.Name(), err)
	}
	return ml.DecodeModels(resp)
}

// ValidateCredentials checks p's credentials by listing its models (see
// ListModels). It returns nil when the server accepted them; the server's
// *APIError, unwrapped, when it rejected them (401, 403, or a 400 whose
// code says the API key is invalid, as Gemini answers a bad key); and
// otherwise an error saying the credentials could not be checked, wrapping
// the cause (ErrListModelsUnsupported, a transport error, another
// *APIError such as a 429 or a 5xx). Credentials never appear in the error.
func ValidateCredentials(ctx context.Context, client *http.Client, p Provider) error {
	_, err := ListModels(ctx, client, p)
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) && credentialsRejected(ae) {
		return ae
	}
	name := "providers"
	if p != nil {
		name = p.Name()
	}
	return fmt.Errorf("%s: could not check the credentials: %w", name, err)
}

// credentialsRejected reports whether e says the server refused the
// credentials.
func credentialsRejected(e *APIError) bool {
	if e.InStream {
		return false
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusBadRequest:
		return e.Code == "API_KEY_INVALID"
	}
	return false
}

// newGetRequest builds a GET of base + path (joined and checked as endpoint
// does) that accepts JSON: the list-models request of every codec.
func newGetRequest(ctx context.Context, base, path string) (*http.Request, error) {
	u, err := endpoint(base, path)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// setHeaders copies extra headers into h, replacing those of the same name.
func setHeaders(h, extra http.Header) {
	for k, vs := range extra {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
}

// statusErrorWith is newStatusError for codecs that read more of an error
// body than parseAPIError does: it reads the (capped) body once, builds the
// *APIError from it, then lets more fill e from the redacted body.
func statusErrorWith(provider string, resp *http.Response, sc secrets, requestIDHeaders []string,
	more func(body []byte, e *APIError)) *APIError {
	var body []byte
	if resp.Body != nil {
		body, _, _ = readCapped(make([]byte, 0, 512), resp.Body, maxErrorBody)
	}
	r := *resp
	r.Body = io.NopCloser(bytes.NewReader(body))
	e := newStatusError(provider, &r, sc, requestIDHeaders...)
	if more != nil {
		more(sc.redactBytes(body), e)
		e.Message = sc.redact(e.Message)
		e.Code = sc.redact(e.Code)
	}
	return e
}

// readWholeBody reads a non-streaming response body, capped at maxBody,
// into *buf and returns it with the time the read ended. A read error is
// wrapped with the provider's name; a body over the cap or an empty body is
// a *DecodeError.
func readWholeBody(provider string, buf *[]byte, r io.Reader, sc secrets) ([]byte, time.Time, error) {
	body, truncated, err := readCapped(*buf, r, maxBody)
	at := time.Now()
	*buf = body
	switch {
	case err != nil:
		return nil, at, fmt.Errorf("%s: read body: %w", provider, err)
	case truncated:
		return nil, at, &DecodeError{Provider: provider, Snippet: sc.snippet(body),
			Err: fmt.Errorf("%w: the body is over %d bytes", ErrLineTooLong, maxBody)}
	case len(bytes.TrimSpace(body)) == 0:
		return nil, at, &DecodeError{Provider: provider, Err: errors.New("empty response body")}
	}
	return body, at, nil
}

// readModelsBody reads the body of a 2xx list-models response.
func readModelsBody(provider string, resp *http.Response, sc secrets) ([]byte, error) {
	if resp.Body == nil {
		return nil, &DecodeError{Provider: provider, Err: errors.New("empty response body")}
	}
	body, truncated, err := readCapped(make([]byte, 0, 4096), resp.Body, maxModelsBody)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: read model list: %w", provider, err)
	case truncated:
		return nil, &DecodeError{Provider: provider, Snippet: sc.snippet(body),
			Err: fmt.Errorf("%w: the model list is over %d bytes", ErrLineTooLong, maxModelsBody)}
	}
	return body, nil
}

// readModelNames reads the body of a 2xx list-models response and returns
// its names, as modelNames reads them.
func readModelNames(provider string, resp *http.Response, listKey, nameKey string, sc secrets) ([]string, error) {
	body, err := readModelsBody(provider, resp, sc)
	if err != nil {
		return nil, err
	}
	return modelNames(provider, body, listKey, nameKey, sc)
}

// modelNames reads the names of a list-models body: for each element of
// the top-level array listKey, its string field nameKey. A body that is not
// such JSON is a *DecodeError.
func modelNames(provider string, body []byte, listKey, nameKey string, sc secrets) ([]string, error) {
	var c jsonCursor
	c.reset(body)
	names := []string{}
	found := false
	if c.kind() != jsonObject {
		c.skip()
		if err := c.done(); err != nil {
			return nil, &DecodeError{Provider: provider, Snippet: sc.snippet(body), Err: err}
		}
		return nil, &DecodeError{Provider: provider, Snippet: sc.snippet(body), Err: errors.New("the model list is not a JSON object")}
	}
	c.object()
	for c.nextKey() {
		if string(c.key) != listKey {
			c.skip()
			continue
		}
		found = true
		if !c.array() {
			continue
		}
		for c.nextObject() {
			for c.nextKey() {
				if string(c.key) != nameKey {
					c.skip()
					continue
				}
				if v, ok := c.strView(); ok && len(v) > 0 {
					names = append(names, string(v))
				}
			}
		}
	}
	if err := c.done(); err != nil {
		return nil, &DecodeError{Provider: provider, Snippet: sc.snippet(body), Err: err}
	}
	if !found {
		return nil, &DecodeError{Provider: provider, Snippet: sc.snippet(body),
			Err: fmt.Errorf("the model list has no %q field", listKey)}
	}
	return names, nil
}

// maxTokenCount bounds the token counts codecs accept: a larger one is
// nonsense, and bounding them keeps sums of counts from overflowing.
const maxTokenCount = 1 << 40

// tokenCount reads a token count: a non-negative integer of at most
// maxTokenCount. It reports false for null, other kinds and out-of-range
// values, so that an absent count can be told from a zero.
func tokenCount(c *jsonCursor) (int, bool) {
	n, ok := c.int()
	if !ok || n < 0 || n > maxTokenCount {
		return 0, false
	}
	return int(n), true
}

// boolAt consumes the next value and reports whether it was true.
func boolAt(c *jsonCursor) bool {
	if c.kind() != jsonBool {
		c.skip()
		return false
	}
	v := c.b[c.i] == 't'
	c.skip()
	return v && c.err == nil
}

// rawValue consumes the next value and returns its JSON text, a view into
// the document.
func rawValue(c *jsonCursor) []byte {
	start := skipWS(c.b, c.i)
	c.skip()
	if c.err != nil || start > c.i {
		return nil
	}
	return c.b[start:c.i]
}

// internReason returns v as a string, without allocating when v is one of
// known.
func internReason(v []byte, known []string) string {
	for _, k := range known {
		if string(v) == k {
			return k
		}
	}
	return string(v)
}
