package providers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Generic is the codec of any other HTTP API, configured by data: where
// requests go, the JSON body to send (a template), how the response is
// framed, and where in each event the text, usage, finish reason, end and
// errors are found. Validate checks a whole configuration (a config
// loader should call it); NewRequest checks what it uses (URL, method,
// header and body templates), and a decoder its format and paths, which
// its Reset reports.
//
// # Body template
//
// Body is JSON with placeholders, {{name}}, replaced by the Request's
// values. A placeholder outside quotes becomes a JSON value: a string is
// inserted quoted and escaped ("hi \"you\""), a number bare (256, 0.7), a
// boolean as true or false. A placeholder inside a JSON string becomes
// text, escaped for the string: "{{prompt}}" is the same string as
// {{prompt}}, "Q: {{prompt}}" prefixes it, and "{{max_tokens}}" is the
// number as a string ("256"). So quotes say "string" and their absence
// says "the value as it is". The placeholders:
//
//	{{model}}        Request.Model, a string
//	{{prompt}}       Request.Prompt, a string
//	{{system}}       Request.System, a string ("" when unset)
//	{{messages}}     a chat message list: [{"role":"system","content":...}
//	                 (only when System is set), the History's messages
//	                 ({"role":"user"|"assistant","content":...}), then
//	                 {"role":"user","content":...} with the prompt. A body
//	                 without {{messages}} sends no History
//	{{max_tokens}}   Request.MaxTokens, a number (unset when 0)
//	{{temperature}}  Request.Temperature, a number (unset when nil)
//	{{top_p}}        Request.TopP, a number (unset when nil)
//	{{top_k}}        Request.TopK, a number (unset when nil)
//	{{stream}}       Request.Stream, true or false
//	{{api_key}}      the API key, a string (for APIs that take it in the body)
//
// An unset value that is the whole value of an object member removes the
// member ("temperature": {{temperature}} is left out, with its comma, when
// Request.Temperature is nil); anywhere else outside quotes it is null, and
// inside quotes it is empty. The rendered body, with Request.Extra merged
// into it at the top level, must be valid JSON: NewRequest says where it is
// not. "{{" begins a placeholder anywhere in the template, so the template
// cannot hold a literal "{{" followed by a name and "}}".
//
// # Response paths
//
// The *Path fields are dotted paths from the root of each event's JSON:
// "choices.0.delta.content", "message.content", "token.text". A segment is
// an object key, an array index (a key of digits also matches an array
// element, and an object key of the same digits), or "*", which matches
// every key of an object and every element of an array. Alternatives are
// separated by "|": "choices.0.delta.content|choices.0.message.content"
// reads streamed and whole answers alike. Keys holding "." or "|" cannot be
// addressed. Text found at several paths of one event is concatenated in
// document order; for counts, the last one found wins.
//
// # Ready-made examples
//
// Ollama's native chat API, streamed as NDJSON:
//
//	&providers.Generic{
//		Label:  "ollama-native",
//		URL:    "http://127.0.0.1:11434/api/chat",
//		Body:   `{"model":{{model}},"messages":{{messages}},"stream":{{stream}},` +
//			`"options":{"num_predict":{{max_tokens}},"temperature":{{temperature}}}}`,
//		Format:           "ndjson",
//		TextPath:         "message.content",
//		ReasoningPath:    "message.thinking",
//		InputTokensPath:  "prompt_eval_count",
//		OutputTokensPath: "eval_count",
//		FinishPath:       "done_reason",
//		DonePath:         "done",
//		ErrorPath:        "error",
//	}
//
// Hugging Face TGI's native /generate_stream, SSE without "[DONE]":
//
//	&providers.Generic{
//		Label:  "tgi-native",
//		URL:    "http://127.0.0.1:8080/generate_stream",
//		Body:   `{"inputs":{{prompt}},"parameters":{"max_new_tokens":{{max_tokens}},` +
//			`"temperature":{{temperature}},"details":true}}`,
//		TextPath:         "token.text",
//		SpecialPath:      "token.special",
//		OutputTokensPath: "details.generated_tokens",
//		FinishPath:       "details.finish_reason",
//		ErrorPath:        "error",
//	}
//
// A Generic is safe for concurrent use once configured.
type Generic struct {
	// Label names the provider in results and messages; empty means
	// "generic".
	Label string

	// URL is the absolute http or https URL requests go to. It may contain
	// {{model}} (inserted path-escaped) and {{api_key}} (query-escaped).
	URL string

	// Method is the HTTP method; empty means POST.
	Method string

	// Header holds request headers. Values may contain {{api_key}} and
	// {{model}}, inserted as they are: "Authorization": {"Bearer {{api_key}}"}.
	// Content-Type (application/json when there is a body), Accept and
	// Accept-Encoding: identity are set unless Header sets them.
	Header http.Header

	// APIKey is the key {{api_key}} stands for. Empty means the
	// environment variable named by APIKeyEnv, read by each NewRequest. A
	// template that uses {{api_key}} when both are empty is an error.
	APIKey string

	// APIKeyEnv names the environment variable that holds the key when
	// APIKey is empty ("MY_API_KEY").
	APIKeyEnv string

	// Body is the JSON body template (see "Body template"). Empty means a
	// request without a body.
	Body string

	// Format is how a 2xx response is framed: "sse" (the default; a body
	// of a JSON content type, or of none when the request did not stream,
	// is read as "json"), "ndjson" (one JSON value per line, CRLF or LF,
	// blank lines skipped; a non-streaming request's JSON body is read as
	// "json"), or "json" (one JSON body, one Delta). A body of content
	// type text/html is always an error.
	Format string

	// TextPath, ReasoningPath and ToolArgsPath locate an event's output
	// text, reasoning text and tool-call argument text, which must be
	// JSON strings. At least one of them is required: they are what
	// counts as output for TTFT and ITL.
	TextPath      string
	ReasoningPath string
	ToolArgsPath  string

	// SpecialPath locates a boolean that, when true, marks the event's
	// text as a special token (TGI's "token.special" on its end-of-text
	// token): that text is not output.
	SpecialPath string

	// InputTokensPath, OutputTokensPath, ReasoningTokensPath and
	// CachedTokensPath locate the usage counts ("prompt_eval_count",
	// "eval_count", "details.generated_tokens"): integers, or strings of
	// digits. An event that has any of them carries usage.
	InputTokensPath     string
	OutputTokensPath    string
	ReasoningTokensPath string
	CachedTokensPath    string

	// UsageIncrements says the counts in each event are increments, which
	// the decoder adds up, so that Delta.Usage is still the running
	// total. False (the default) says each count is a running total or
	// the final count: the last one wins.
	UsageIncrements bool

	// FinishPath locates the finish reason, a string.
	FinishPath string

	// DoneData is the event data that ends the stream without being
	// decoded: an SSE event's data or an NDJSON line, compared without
	// surrounding white space ("[DONE]").
	DoneData string

	// DonePath locates a value that marks the last event: the boolean
	// true, or, when DoneValue is set, a string equal to DoneValue. The
	// event is decoded and delivered; the next Next returns io.EOF.
	DonePath  string
	DoneValue string

	// ErrorPath locates an error: an event where it holds anything but
	// null, false, 0, "", {} or [] is an error the server sent, returned
	// as an *APIError with InStream set. A string is the message; an
	// object is read for "message", "type", "code" (and an "error" object
	// inside it).
	ErrorPath string

	// MaxLineBytes caps an SSE line, an SSE event's data and an NDJSON
	// line, in bytes; 0 means DefaultMaxLineBytes (32 MiB). A longer one
	// ends the response with a *DecodeError wrapping ErrLineTooLong.
	MaxLineBytes int
}

var _ Provider = (*Generic)(nil)

// Name returns Label, or "generic" when Label is empty.
func (p *Generic) Name() string { return cmp.Or(p.Label, "generic") }

// apiKey returns the key {{api_key}} stands for.
func (p *Generic) apiKey() string {
	if p.APIKey != "" || p.APIKeyEnv == "" {
		return p.APIKey
	}
	return os.Getenv(p.APIKeyEnv)
}

// format returns the response format, checked.
func (p *Generic) format() (string, error) {
	switch f := strings.ToLower(p.Format); f {
	case "", "sse":
		return "sse", nil
	case "ndjson", "json":
		return f, nil
	}
	return "", fmt.Errorf(`Format %q is none of "sse", "ndjson" and "json"`, p.Format)
}

// Validate checks the configuration without building a request: the
// format, the URL, the method, the header and body templates (the body
// rendered with sample values must be valid JSON) and the paths. Errors
// name the field and what is wrong, and never include the API key.
func (p *Generic) Validate() error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("%s: %w", p.Name(), err)
	}
	return nil
}

func (p *Generic) validate() error {
	if _, err := p.format(); err != nil {
		return err
	}
	if p.URL == "" {
		return errors.New("URL is required")
	}
	if _, err := parseGenericText(p.URL, "URL", "model", "api_key"); err != nil {
		return err
	}
	if _, err := genericURL(p.URL, "m", "k"); err != nil {
		return err
	}
	if _, err := p.method(); err != nil {
		return err
	}
	for k, vs := range p.Header {
		for _, v := range vs {
			if _, err := parseGenericText(v, "Header "+k, "model", "api_key"); err != nil {
				return err
			}
		}
	}
	if p.Body != "" {
		t, err := parseGenericTemplate(p.Body)
		if err != nil {
			return err
		}
		temp, topP, topK := 0.5, 0.9, 40
		sample := &Request{Model: "m", Prompt: "p", System: "s", MaxTokens: 16, Temperature: &temp, TopP: &topP, TopK: &topK, Stream: true}
		vals, err := genericValues(sample, "k")
		if err != nil {
			return err
		}
		if _, err := t.renderJSON(vals, nil); err != nil {
			return err
		}
	}
	_, err := compileGenericPaths(p)
	return err
}

// method returns the HTTP method, checked.
func (p *Generic) method() (string, error) {
	m := cmp.Or(p.Method, http.MethodPost)
	for _, ch := range m {
		if ch <= ' ' || ch >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, ch) {
			return "", fmt.Errorf("Method %q is not an HTTP method", p.Method)
		}
	}
	return m, nil
}

// errGenericURL is a URL the codec cannot send to. It does not repeat the
// URL, which may hold credentials.
var errGenericURL = errors.New(`URL is not an absolute http or https URL (as in "http://127.0.0.1:11434/api/chat")`)

// genericURL renders the URL template with model and key and checks it.
func genericURL(tmpl, model, key string) (string, error) {
	s, err := parseGenericText(tmpl, "URL", "model", "api_key")
	if err != nil {
		return "", err
	}
	u := s.render(map[string]string{"model": url.PathEscape(model), "api_key": url.QueryEscape(key)})
	if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" && pu.Scheme != "https" || pu.Host == "" {
		return "", errGenericURL
	}
	return u, nil
}

// NewRequest builds the request for r: Method to URL, with Header and the
// rendered Body (see Generic). Request.Extra fields are merged into the
// body's top-level object and replace the template's. Errors name the
// field at fault and never include the API key.
func (p *Generic) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	if r == nil {
		return nil, fmt.Errorf("%s: build request: nil Request", name)
	}
	format, err := p.format()
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	method, err := p.method()
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	key := p.apiKey()
	sc := secrets{key: key}
	if key == "" && p.usesKey() {
		what := "APIKey is empty"
		if p.APIKeyEnv != "" {
			what = "APIKey and $" + p.APIKeyEnv + " are empty"
		}
		return nil, fmt.Errorf("%s: build request: the request uses {{api_key}}, but %s", name, what)
	}
	u, err := genericURL(p.URL, r.Model, key)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	var body []byte
	if p.Body != "" {
		t, err := parseGenericTemplate(p.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: build request: %w", name, err)
		}
		vals, err := genericValues(r, key)
		if err != nil {
			return nil, fmt.Errorf("%s: build request: %w", name, err)
		}
		if body, err = t.renderJSON(vals, r.Extra); err != nil {
			return nil, fmt.Errorf("%s: build request: %s", name, sc.redact(err.Error()))
		}
	} else if len(r.Extra) > 0 {
		return nil, fmt.Errorf("%s: build request: Request.Extra needs a Body template to merge into", name)
	}
	var req *http.Request
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %s", name, sc.redact(err.Error()))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case format == "ndjson":
		req.Header.Set("Accept", "application/x-ndjson")
	case format == "sse" && r.Stream:
		req.Header.Set("Accept", "text/event-stream")
	default:
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("Accept-Encoding", "identity")
	vals := map[string]string{"model": r.Model, "api_key": key}
	for k, vs := range p.Header {
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			s, err := parseGenericText(v, "Header "+k, "model", "api_key")
			if err != nil {
				return nil, fmt.Errorf("%s: build request: %w", name, err)
			}
			out = append(out, s.render(vals))
		}
		req.Header[http.CanonicalHeaderKey(k)] = out
	}
	return req, nil
}

// usesKey reports whether the URL, a header or the body uses {{api_key}}.
func (p *Generic) usesKey() bool {
	has := func(s string) bool {
		t, err := parseGenericText(s, "", "model", "api_key")
		return err == nil && t.uses("api_key")
	}
	if has(p.URL) {
		return true
	}
	for _, vs := range p.Header {
		for _, v := range vs {
			if has(v) {
				return true
			}
		}
	}
	if t, err := parseGenericTemplate(p.Body); err == nil {
		return t.uses("api_key")
	}
	return false
}

// genericValues returns the placeholder values of r (and key).
func genericValues(r *Request, key string) (map[string]genericValue, error) {
	str := func(s string) genericValue {
		b, _ := json.Marshal(s) // a string always encodes
		return genericValue{set: true, json: b, text: s}
	}
	num := func(name string, v any) (genericValue, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return genericValue{}, fmt.Errorf("{{%s}}: %w", name, err)
		}
		return genericValue{set: true, json: b, text: string(b)}, nil
	}
	vals := map[string]genericValue{
		"model":   str(r.Model),
		"prompt":  str(r.Prompt),
		"system":  str(r.System),
		"api_key": str(key),
		"stream":  {set: true, json: []byte(fmt.Sprint(r.Stream)), text: fmt.Sprint(r.Stream)},
	}
	b, err := json.Marshal(chatMessages(r, true))
	if err != nil {
		return nil, err
	}
	vals["messages"] = genericValue{set: true, json: b, text: string(b)}
	var v genericValue
	if r.MaxTokens > 0 {
		if v, err = num("max_tokens", r.MaxTokens); err != nil {
			return nil, err
		}
		vals["max_tokens"] = v
	}
	if r.Temperature != nil {
		if v, err = num("temperature", *r.Temperature); err != nil {
			return nil, err
		}
		vals["temperature"] = v
	}
	if r.TopP != nil {
		if v, err = num("top_p", *r.TopP); err != nil {
			return nil, err
		}
		vals["top_p"] = v
	}
	if r.TopK != nil {
		if v, err = num("top_k", *r.TopK); err != nil {
			return nil, err
		}
		vals["top_k"] = v
	}
	return vals, nil
}
