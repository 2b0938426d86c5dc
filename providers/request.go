package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Request building shared by the codecs.

// chatMessage is one message of a chat request body, as the OpenAI,
// Anthropic and Cohere APIs take it.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatMessages returns r's messages in the common chat form: the system
// prompt first when withSystem is set and r has one, then the history,
// then the prompt as the last user message.
func chatMessages(r *Request, withSystem bool) []chatMessage {
	msgs := make([]chatMessage, 0, len(r.History)+2)
	if withSystem && r.System != "" {
		msgs = append(msgs, chatMessage{Role: "system", Content: r.System})
	}
	for _, m := range r.History {
		msgs = append(msgs, chatMessage{Role: m.Role, Content: m.Content})
	}
	return append(msgs, chatMessage{Role: RoleUser, Content: r.Prompt})
}

// marshalBody encodes v, a codec's request struct, as the JSON body, with
// extra merged in at the top level; keys in extra replace v's.
func marshalBody(v any, extra map[string]any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return body, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	for k, x := range extra {
		raw, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("extra field %q: %w", k, err)
		}
		fields[k] = raw
	}
	return json.Marshal(fields)
}

// errBaseURL is a BaseURL the codecs cannot send to.
var errBaseURL = errors.New(`BaseURL is not an absolute http or https URL (it includes the scheme and the version path, as in "http://127.0.0.1:8000/v1")`)

// endpoint joins a base URL (which includes the API version path, as in
// "https://api.openai.com/v1") and a path, checking that the result is an
// absolute http or https URL. Errors do not repeat the URL, which may hold
// credentials.
func endpoint(base, path string) (string, error) {
	u := strings.TrimRight(base, "/") + path
	if p, err := url.Parse(u); err != nil || p.Scheme != "http" && p.Scheme != "https" || p.Host == "" {
		return "", errBaseURL
	}
	return u, nil
}

// requestURL checks r and joins base and path as endpoint does: the start
// of a codec's NewRequest. Errors name the provider.
func requestURL(name string, r *Request, base, path string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("%s: build request: nil Request", name)
	}
	u, err := endpoint(base, path)
	if err != nil {
		return "", fmt.Errorf("%s: build request: %w", name, err)
	}
	return u, nil
}

// newPost builds the POST of body, a codec's request struct, with r.Extra
// merged in, to u, as newJSONRequest does, and lets auth set the codec's
// credentials and extra headers: the end of every codec's NewRequest.
// Errors name the provider.
func newPost(ctx context.Context, name, u string, body any, r *Request, auth func(*http.Request)) (*http.Request, error) {
	b, err := marshalBody(body, r.Extra)
	if err != nil {
		return nil, fmt.Errorf("%s: encode request body: %w", name, err)
	}
	req, err := newJSONRequest(ctx, u, b, r.Stream)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	auth(req)
	return req, nil
}

// newJSONRequest builds a POST of body to u with the headers every codec
// sends: JSON content type, the Accept the mode wants, and
// Accept-Encoding: identity, so that no compression layer sits between the
// server's writes and the timing of reads.
func newJSONRequest(ctx context.Context, u string, body []byte, stream bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}
