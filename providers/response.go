package providers

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Response handling shared by the codecs: status errors, content types,
// size-capped body reads and redaction of credentials. frame.go holds the
// decoder core that every codec embeds.

const (
	// maxErrorBody caps how much of an error response is read.
	maxErrorBody = 64 << 10

	// maxBody caps a whole (non-streaming) response body.
	maxBody = DefaultMaxLineBytes

	// maxMessage caps an error message taken from a body that is not the
	// API's JSON (an HTML error page, a proxy's text).
	maxMessage = 200
)

// errEmptyStream is the cause of a DecodeError for a stream that ended
// before its first event.
var errEmptyStream = errors.New("stream ended before its first event")

// mediaTypeIs reports whether the Content-Type ct has the media type want
// (lower case), ignoring parameters and case. It does not allocate.
func mediaTypeIs(ct, want string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.EqualFold(strings.TrimSpace(ct), want)
}

// isEventStream reports whether ct is text/event-stream.
func isEventStream(ct string) bool { return mediaTypeIs(ct, "text/event-stream") }

// isJSONType reports whether ct is application/json or a +json type.
func isJSONType(ct string) bool {
	if mediaTypeIs(ct, "application/json") {
		return true
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return len(ct) > 5 && strings.EqualFold(ct[len(ct)-5:], "+json")
}

// readCapped reads r to its end into buf[:0], but at most limit bytes. It
// reports whether the body was longer than that (the rest is left unread).
func readCapped(buf []byte, r io.Reader, limit int) ([]byte, bool, error) {
	buf = buf[:0]
	empty := 0
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, cap(buf)))
		}
		// One byte past the limit tells a body of exactly limit bytes from
		// a longer one.
		n, err := r.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > limit:
			return buf[:limit], true, nil
		case err == io.EOF:
			return buf, false, nil
		case err != nil:
			return buf, false, err
		case n == 0:
			if empty++; empty >= 100 {
				return buf, false, io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
}

// secrets is what must never appear in an error: the credentials of the
// request a response answers, and the key a provider was configured with.
type secrets struct {
	req *http.Request
	key string
}

// minSecret is the shortest credential that is redacted. Shorter values are
// placeholders ("EMPTY", "x") that local servers accept, and replacing them
// everywhere would mangle messages.
const minSecret = 8

// list returns the credentials to redact.
func (sc secrets) list() []string {
	var out []string
	add := func(v string) {
		if len(v) >= minSecret {
			out = append(out, v)
		}
	}
	add(sc.key)
	if sc.req == nil {
		return out
	}
	for _, h := range []string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"} {
		for _, v := range sc.req.Header.Values(h) {
			if i := strings.IndexByte(v, ' '); i >= 0 && strings.HasSuffix(h, "Authorization") {
				v = strings.TrimSpace(v[i+1:]) // the credentials after the scheme
			}
			add(v)
		}
	}
	if sc.req.URL != nil {
		for _, v := range sc.req.URL.Query()["key"] {
			add(v)
		}
	}
	return out
}

// redacted is what replaces a credential.
const redacted = "[redacted]"

// redact replaces every credential in s with "[redacted]".
func (sc secrets) redact(s string) string {
	if s == "" {
		return s
	}
	for _, v := range sc.list() {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// redactBytes is redact for bytes; it returns b itself when b holds no
// credential. Redacting JSON text keeps it valid JSON: "[redacted]" needs no
// escaping.
func (sc secrets) redactBytes(b []byte) []byte {
	for _, v := range sc.list() {
		if bytes.Contains(b, []byte(v)) {
			b = bytes.ReplaceAll(b, []byte(v), []byte(redacted))
		}
	}
	return b
}

// snippet returns a redacted snippet of b. It redacts before it cuts, so
// that a credential straddling the cut cannot leave its prefix behind.
func (sc secrets) snippet(b []byte) string {
	window := 120
	for _, v := range sc.list() {
		window = max(window, 120+len(v))
	}
	if len(b) > window {
		b = b[:window]
	}
	return snippet(sc.redactBytes(b))
}

// newStatusError builds the *APIError for a response whose status is outside
// 2xx: it reads up to maxErrorBody of the body, takes the message, type and
// code from the API's JSON (any shape parseAPIError knows) or, for a body
// that is not JSON, a short prefix of its text, and fills Retry-After and the
// request id from the first of requestIDHeaders present.
func newStatusError(provider string, resp *http.Response, sc secrets, requestIDHeaders ...string) *APIError {
	e := &APIError{
		Provider:   provider,
		StatusCode: resp.StatusCode,
		RetryAfter: RetryAfter(resp.Header, time.Now()),
		RequestID:  headerOf(resp.Header, requestIDHeaders),
	}
	var body []byte
	if resp.Body != nil {
		// A read error leaves what was read: the status says enough.
		body, _, _ = readCapped(make([]byte, 0, 512), resp.Body, maxErrorBody)
	}
	body = sc.redactBytes(body) // before a message is cut from it
	var c jsonCursor
	if !parseAPIError(&c, body, e) {
		e.Message = textMessage(body)
	}
	e.Message = sc.redact(e.Message)
	return e
}

// headerOf returns the value of the first of names present in h.
func headerOf(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// parseAPIError fills e's Message, Type and Code from an error body in any
// of the shapes LLM servers use, and reports whether body was such JSON:
//
//	{"error":{"message":"…","type":"…","param":…,"code":"…"|400|null}}  OpenAI, Azure, Ollama, vLLM >= 0.10.1
//	{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED"}}   Gemini (status becomes Type)
//	{"type":"error","error":{"type":"…","message":"…"}}                  Anthropic
//	{"object":"error","message":"…","type":"…","code":400}              vLLM before 0.10.1
//	{"code":500,"message":"…","type":"server_error"}                    llama.cpp error lines
//	{"error":"…"}, {"message":"…"}, {"detail":"…"}                       others (FastAPI, Cohere)
//
// A request_id in the body fills RequestID when no header did.
func parseAPIError(c *jsonCursor, body []byte, e *APIError) bool {
	c.reset(body)
	if c.kind() != jsonObject {
		return false
	}
	c.object()
	var top APIError // top-level fields; the nested error object wins
	var nested, found bool
	for c.nextKey() {
		switch string(c.key) {
		case "error":
			switch c.kind() {
			case jsonObject:
				nested = readErrorObject(c, e) || nested
				found = true
			case jsonString:
				v, _ := c.strView()
				top.Message = string(v)
				found = true
			default:
				c.skip()
			}
		case "message", "detail":
			if c.kind() == jsonString {
				v, _ := c.strView()
				if top.Message == "" {
					top.Message = string(v)
				}
				found = true
			} else {
				// FastAPI validation errors: a list of objects.
				start := c.i
				c.skip()
				if c.err == nil && top.Message == "" {
					top.Message = truncateText(string(bytes.TrimSpace(c.b[start:c.i])), maxMessage)
					found = true
				}
			}
		case "type":
			v, _ := c.strView()
			top.Type = string(v)
		case "code":
			top.Code = c.code()
		case "request_id":
			if v, ok := c.strView(); ok && e.RequestID == "" {
				e.RequestID = string(v)
			}
		default:
			c.skip()
		}
	}
	if c.done() != nil || !found {
		return false
	}
	if !nested {
		e.Message, e.Code = top.Message, top.Code
		if top.Type != "error" { // Anthropic's envelope type says nothing
			e.Type = top.Type
		}
	}
	if e.Message == "" {
		e.Message = top.Message
	}
	return true
}

// readErrorObject reads an {"message","type","code","param","status"} error
// object at the cursor into e, and reports whether it had any of them.
func readErrorObject(c *jsonCursor, e *APIError) bool {
	ok := false
	var status string
	if c.object() {
		for c.nextKey() {
			switch string(c.key) {
			case "message":
				if v, isStr := c.strView(); isStr {
					e.Message = string(v)
					ok = true
				}
			case "type":
				if v, isStr := c.strView(); isStr {
					e.Type = string(v)
					ok = true
				}
			case "code":
				if e.Code = c.code(); e.Code != "" {
					ok = true
				}
			case "status":
				if v, isStr := c.strView(); isStr {
					status = string(v)
					ok = true
				}
			default:
				c.skip()
			}
		}
	}
	if e.Type == "" {
		e.Type = status
	}
	return ok
}

// code reads an error code, which APIs send as a string, an integer or
// null, as a string ("" for null).
func (c *jsonCursor) code() string {
	switch c.kind() {
	case jsonString:
		v, _ := c.strView()
		return string(v)
	case jsonNumber:
		v, ok := c.number()
		if !ok {
			return ""
		}
		if n, ok := parseIntLoose(v); ok {
			return strconv.FormatInt(n, 10)
		}
		return string(v)
	}
	c.skip()
	return ""
}

// textMessage makes a short, readable message of a body that is not the
// API's JSON: for an HTML page, its text without tags (scripts and styles
// dropped) and entities decoded; white space collapsed; at most maxMessage
// bytes, cut at a rune boundary.
func textMessage(body []byte) string {
	s := string(body)
	if strings.Contains(s, "<") {
		s = htmlText(s)
	}
	return truncateText(strings.Join(strings.Fields(s), " "), maxMessage)
}

// htmlText returns the text of an HTML document, roughly: tags, comments,
// scripts and styles removed, entities decoded.
func htmlText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		lower := strings.ToLower(s[:min(len(s), 8)])
		var end string
		switch {
		case strings.HasPrefix(lower, "<!--"):
			end = "-->"
		case strings.HasPrefix(lower, "<script"):
			end = "</script>"
		case strings.HasPrefix(lower, "<style"):
			end = "</style>"
		default:
			end = ">"
		}
		j := indexFold(s, end)
		if j < 0 {
			break
		}
		s = s[j+len(end):]
	}
	return html.UnescapeString(b.String())
}

// indexFold is strings.Index, ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// truncateText cuts s to at most n bytes at a rune boundary, marking the cut
// with "...".
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// contentTypeError reads the start of a 200 body of a content type the codec
// cannot decode and returns the *DecodeError that names both.
func contentTypeError(provider string, resp *http.Response, ct string, sc secrets) *DecodeError {
	head, _, _ := readCapped(make([]byte, 0, 512), resp.Body, 4096)
	head = sc.redactBytes(head)
	snip := snippet(head)
	if mediaTypeIs(ct, "text/html") || bytes.Contains(head, []byte("<html")) {
		snip = snippet([]byte(textMessage(head)))
	}
	return &DecodeError{
		Provider: provider,
		Snippet:  snip,
		Err:      fmt.Errorf("unexpected content type %q in a %d response", ct, resp.StatusCode),
	}
}

// newStreamError returns the *APIError for an error the server sent with a
// 2xx status (an error event, an error chunk, a whole error body): data is
// parsed as parseAPIError says, or taken as text when it is not JSON.
func newStreamError(provider string, resp *http.Response, sc secrets, data []byte, requestIDHeaders ...string) *APIError {
	e := &APIError{
		Provider:   provider,
		StatusCode: resp.StatusCode,
		InStream:   true,
		RequestID:  headerOf(resp.Header, requestIDHeaders),
	}
	data = sc.redactBytes(data) // before a message is cut from it
	var c jsonCursor
	if !parseAPIError(&c, data, e) {
		e.Message = textMessage(data)
	}
	e.Message = sc.redact(e.Message) // in case the JSON escaped it
	return e
}
