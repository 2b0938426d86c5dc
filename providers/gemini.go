package providers

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// defaultGeminiBaseURL is the public Google AI Studio (Gemini API) endpoint.
const defaultGeminiBaseURL = "https://generativelanguage.googleapis.com/v1beta"

// defaultVertexLocation is the Vertex AI location used when none is set.
const defaultVertexLocation = "us-central1"

// Gemini is the codec of Google's Gemini API, in its two forms: the Google
// AI Studio API (generativelanguage.googleapis.com) and Vertex AI. Setting
// Project selects Vertex AI; otherwise it is AI Studio.
//
// AI Studio: POST {BaseURL}/models/{model}:streamGenerateContent?alt=sse
// (":generateContent" when not streaming), with the x-goog-api-key header.
//
// Vertex AI: POST {BaseURL}/projects/{Project}/locations/{Location}/publishers/google/models/{model}:streamGenerateContent?alt=sse
// (":generateContent" when not streaming), with "Authorization: Bearer
// {AccessToken}".
//
// Vertex AI express mode (an API key, no project) is not a mode of its own:
// with Project empty every request is an AI Studio request, key in the
// x-goog-api-key header. Express mode is reached by pointing BaseURL at
// Vertex's publisher path, as in
// BaseURL "https://aiplatform.googleapis.com/v1/publishers/google", which
// gives .../v1/publishers/google/models/{model}:streamGenerateContent.
//
// The model is Request.Model, with or without its "models/" prefix. The
// body has contents (the prompt as one user turn), systemInstruction and
// generationConfig (maxOutputTokens, temperature, topP, topK); a
// "generationConfig" in Request.Extra replaces the codec's whole.
//
// The decoder reads the "data:" events of the stream, CRLF or LF framed,
// to the end of the body (the API has no end marker, and the last event
// may lack its blank line). A chunk usually carries several tokens: its
// non-empty parts[].text is Text, or Reasoning for parts marked
// "thought":true; a functionCall's args (as JSON text) are ToolArgs.
// usageMetadata is a running total: promptTokenCount is InputTokens
// (cachedContentTokenCount, a part of it, is CachedTokens),
// candidatesTokenCount plus thoughtsTokenCount is OutputTokens
// (thoughtsTokenCount is ReasoningTokens); a count a chunk leaves out keeps
// its last value. finishReason is FinishReason, and a blocked prompt's
// promptFeedback.blockReason is FinishReason when no candidate has one. A
// {"error":{...}} event is an *APIError with InStream set (UNAVAILABLE is
// Overloaded, RESOURCE_EXHAUSTED RateLimited). A non-streaming answer is
// one GenerateContentResponse, or the JSON array of them that
// streamGenerateContent sends without alt=sse.
//
// Status errors take RetryAfter from the body's RetryInfo retryDelay when
// no header gives it, and Code from its ErrorInfo reason (such as
// "API_KEY_INVALID", for the 400 a bad key gets) when there is one.
//
// A Gemini is safe for concurrent use once configured.
type Gemini struct {
	// BaseURL is the API's base URL, version path included. Empty means
	// https://generativelanguage.googleapis.com/v1beta for AI Studio, and
	// https://{Location}-aiplatform.googleapis.com/v1 for Vertex AI
	// (https://aiplatform.googleapis.com/v1 for the "global" location).
	BaseURL string

	// APIKey is the AI Studio key, sent as x-goog-api-key. Empty means the
	// GEMINI_API_KEY environment variable, then GOOGLE_API_KEY, read by
	// each NewRequest. It is not sent to Vertex AI (Project set).
	APIKey string

	// Label names the provider in results and messages; empty means
	// "gemini", or "vertex" when Project is set.
	Label string

	// Project is the Google Cloud project of Vertex AI. Setting it selects
	// Vertex AI; empty means AI Studio.
	Project string

	// Location is the Vertex AI location ("us-central1", "europe-west4",
	// "global"). Empty means "us-central1". Unused for AI Studio.
	Location string

	// AccessToken is the OAuth 2 access token for Vertex AI, sent as
	// "Authorization: Bearer <AccessToken>" (as printed by
	// "gcloud auth print-access-token"; the codec does not refresh it).
	// Empty means the GOOGLE_ACCESS_TOKEN environment variable. Unused for
	// AI Studio.
	AccessToken string

	// Header holds extra headers sent with every request. They replace the
	// codec's own headers of the same name.
	Header http.Header
}

var (
	_ Provider    = (*Gemini)(nil)
	_ ModelLister = (*Gemini)(nil)
)

// Name returns Label, or "vertex" when Project is set, or "gemini".
func (p *Gemini) Name() string {
	if p.Label != "" {
		return p.Label
	}
	if p.vertex() {
		return "vertex"
	}
	return "gemini"
}

// vertex reports whether requests go to Vertex AI.
func (p *Gemini) vertex() bool { return p.Project != "" }

// apiKey returns the AI Studio key.
func (p *Gemini) apiKey() string {
	return cmp.Or(p.APIKey, os.Getenv("GEMINI_API_KEY"), os.Getenv("GOOGLE_API_KEY"))
}

// accessToken returns the Vertex AI token.
func (p *Gemini) accessToken() string { return cmp.Or(p.AccessToken, os.Getenv("GOOGLE_ACCESS_TOKEN")) }

// credential returns the secret requests carry in the current mode.
func (p *Gemini) credential() string {
	if p.vertex() {
		return p.accessToken()
	}
	return p.apiKey()
}

// location returns the Vertex AI location.
func (p *Gemini) location() string { return cmp.Or(p.Location, defaultVertexLocation) }

// baseURL returns the base URL of the current mode.
func (p *Gemini) baseURL() string {
	if p.BaseURL != "" {
		return p.BaseURL
	}
	if !p.vertex() {
		return defaultGeminiBaseURL
	}
	if loc := p.location(); loc != "global" {
		return "https://" + loc + "-aiplatform.googleapis.com/v1"
	}
	return "https://aiplatform.googleapis.com/v1"
}

// modelPath returns the path, from the base URL, of model's resource.
func (p *Gemini) modelPath(model string) string {
	model = url.PathEscape(strings.TrimPrefix(model, "models/"))
	if !p.vertex() {
		return "/models/" + model
	}
	return "/projects/" + url.PathEscape(p.Project) + "/locations/" + url.PathEscape(p.location()) +
		"/publishers/google/models/" + model
}

// geminiRequest is the body of generateContent and streamGenerateContent.
type geminiRequest struct {
	Contents          []geminiContent         `json:"contents"`
	SystemInstruction *geminiContent          `json:"systemInstruction,omitempty"`
	GenerationConfig  *geminiGenerationConfig `json:"generationConfig,omitempty"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text string `json:"text"`
}

type geminiGenerationConfig struct {
	MaxOutputTokens int      `json:"maxOutputTokens,omitempty"`
	Temperature     *float64 `json:"temperature,omitempty"`
	TopP            *float64 `json:"topP,omitempty"`
	TopK            *int     `json:"topK,omitempty"`
}

// NewRequest builds the POST to the model's :streamGenerateContent?alt=sse
// (or :generateContent when r.Stream is false) for r. Its headers are
// x-goog-api-key (AI Studio) or Authorization (Vertex AI) when there is a
// credential, Content-Type, Accept, Accept-Encoding: identity, and Header.
// Request.Extra fields are merged into the body and replace the codec's
// own. r.Model must be set: it is part of the URL.
func (p *Gemini) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	name := p.Name()
	if r == nil {
		return nil, fmt.Errorf("%s: build request: nil Request", name)
	}
	if strings.TrimPrefix(r.Model, "models/") == "" {
		return nil, fmt.Errorf("%s: build request: Request.Model is empty (the model is part of the URL)", name)
	}
	method := ":generateContent"
	if r.Stream {
		method = ":streamGenerateContent?alt=sse"
	}
	u, err := endpoint(p.baseURL(), p.modelPath(r.Model)+method)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", name, err)
	}
	body := geminiRequest{Contents: make([]geminiContent, 0, len(r.History)+1)}
	for _, m := range r.History {
		role := m.Role
		if role == RoleAssistant {
			role = "model"
		}
		body.Contents = append(body.Contents, geminiContent{Role: role, Parts: []geminiPart{{Text: m.Content}}})
	}
	body.Contents = append(body.Contents, geminiContent{Role: "user", Parts: []geminiPart{{Text: r.Prompt}}})
	if r.System != "" {
		body.SystemInstruction = &geminiContent{Parts: []geminiPart{{Text: r.System}}}
	}
	if r.MaxTokens > 0 || r.Temperature != nil || r.TopP != nil || r.TopK != nil {
		body.GenerationConfig = &geminiGenerationConfig{
			MaxOutputTokens: max(r.MaxTokens, 0),
			Temperature:     r.Temperature,
			TopP:            r.TopP,
			TopK:            r.TopK,
		}
	}
	return newPost(ctx, name, u, body, r, p.auth)
}

// auth sets the credential and extra headers of req.
func (p *Gemini) auth(req *http.Request) {
	if cred := p.credential(); cred != "" {
		if p.vertex() {
			req.Header.Set("Authorization", "Bearer "+cred)
		} else {
			req.Header.Set("X-Goog-Api-Key", cred)
		}
	}
	setHeaders(req.Header, p.Header)
}

// NewListModelsRequest builds the request that lists the models.
//
// AI Studio: GET {BaseURL}/models?pageSize=1000, whose answer is
// {"models":[{"name":"models/gemini-…",…}],"nextPageToken":…}.
//
// Vertex AI lists Google's publisher models only in its v1beta1 API: GET
// {BaseURL with a final "/v1" made "/v1beta1"}/publishers/google/models?pageSize=1000,
// with the x-goog-user-project header set to Project (assumed from the API
// reference, which this codec's tests do not reach), answered by
// {"publisherModels":[{"name":"publishers/google/models/gemini-…"}]}.
//
// Only the first page is read.
func (p *Gemini) NewListModelsRequest(ctx context.Context) (*http.Request, error) {
	base, path := p.baseURL(), "/models?pageSize=1000"
	if p.vertex() {
		base = strings.TrimRight(base, "/")
		if strings.HasSuffix(base, "/v1") {
			base += "beta1"
		}
		path = "/publishers/google/models?pageSize=1000"
	}
	req, err := newGetRequest(ctx, base, path)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", p.Name(), err)
	}
	if p.vertex() {
		req.Header.Set("X-Goog-User-Project", p.Project)
	}
	p.auth(req)
	return req, nil
}

// DecodeModels decodes the response to NewListModelsRequest into model
// names without their "models/" or "publishers/google/models/" prefix, as
// Request.Model takes them. Every listed model is returned, those that
// cannot generate content (embedding models) included.
func (p *Gemini) DecodeModels(resp *http.Response) ([]string, error) {
	name := p.Name()
	sc := secrets{req: resp.Request, key: p.credential()}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, geminiStatusError(name, resp, sc)
	}
	list, prefix := "models", "models/"
	if p.vertex() {
		list, prefix = "publisherModels", "publishers/google/models/"
	}
	names, err := readModelNames(name, resp, list, "name", sc)
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, prefix)
	}
	return names, err
}

// NewDecoder returns a decoder of generate-content responses, streamed or
// not.
func (p *Gemini) NewDecoder() Decoder {
	d := &geminiDecoder{frame: frame{name: p.Name(), sc: secrets{key: p.credential()}, details: geminiErrorDetails}}
	d.sse.DispatchAtEOF = true // genai processes a last event without its blank line
	return d
}

// geminiStatusError builds the *APIError for a status outside 2xx, with
// RetryInfo and ErrorInfo read from the body's details.
func geminiStatusError(name string, resp *http.Response, sc secrets) *APIError {
	return statusErrorWith(name, resp, sc, nil, geminiErrorDetails)
}

// geminiErrorDetails fills e from error.details of a Google error body:
// RetryAfter from a RetryInfo's retryDelay ("17s") when e has none, Code
// from an ErrorInfo's reason.
func geminiErrorDetails(body []byte, e *APIError) {
	var c jsonCursor
	c.reset(body)
	if !c.object() {
		return
	}
	var reason string
	var delay time.Duration
	for c.nextKey() {
		switch {
		case string(c.key) != "error":
			c.skip()
		case c.object():
			for c.nextKey() {
				switch {
				case string(c.key) != "details":
					c.skip()
				case c.array():
					for c.nextObject() {
						for c.nextKey() {
							switch string(c.key) {
							case "reason":
								if v, ok := c.strView(); ok && reason == "" {
									reason = string(v)
								}
							case "retryDelay":
								if v, ok := c.strView(); ok {
									if dd, err := time.ParseDuration(string(v)); err == nil && dd > 0 {
										delay = dd
									}
								}
							default:
								c.skip()
							}
						}
					}
				}
			}
		}
	}
	if c.done() != nil {
		return
	}
	if reason != "" {
		e.Code = reason
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = delay
	}
}

// geminiFinishReasons are the finish and block reasons the API sends.
var geminiFinishReasons = []string{"STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER",
	"BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY",
	"UNEXPECTED_TOOL_CALL", "FINISH_REASON_UNSPECIFIED", "BLOCK_REASON_UNSPECIFIED"}

// geminiDecoder decodes one generate-content response at a time.
type geminiDecoder struct {
	frame

	// The usage so far: every count is a running total, and a chunk that
	// leaves one out keeps its last value.
	prompt, candidates, thoughts, cached int
}

// Reset prepares d for resp. See Decoder. A status outside 2xx gives an
// *APIError; a text/event-stream body (or one with no Content-Type, for a
// streaming request) is read as SSE; a JSON body as one response, or an
// array of them; any other content type gives a *DecodeError naming it.
func (d *geminiDecoder) Reset(resp *http.Response, r *Request) error {
	d.prompt, d.candidates, d.thoughts, d.cached = 0, 0, 0, 0
	return d.start(resp, r)
}

// Next decodes the next event into out. See Decoder.
func (d *geminiDecoder) Next(out *Delta) error { return d.step(out, d) }

// event decodes one chunk of a stream. Gemini streams have no end marker:
// the end of the body ends them cleanly, unless nothing at all was decoded.
func (d *geminiDecoder) event(ev *SSEEvent, out *Delta) error {
	*out = Delta{At: ev.DispatchAt}
	return d.decode(ev.Data, out)
}

// body decodes a whole body: one response, or an array of them.
func (d *geminiDecoder) body(data []byte, out *Delta) error { return d.decode(data, out) }

// decode reads one GenerateContentResponse, or (for a whole body) a JSON
// array of them, into out, whose At is already set. It returns an
// *APIError for an error object and a *DecodeError for anything else that
// is not a JSON object.
func (d *geminiDecoder) decode(data []byte, out *Delta) error {
	c := &d.c
	c.reset(data)
	d.text, d.reasoning, d.args = d.text[:0], d.reasoning[:0], d.args[:0]
	var g geminiChunk
	switch c.kind() {
	case jsonObject:
		d.chunk(&g)
	case jsonArray:
		if d.mode == frameSSE { // a whole body may be an array of chunks
			return d.notObject(data, "event data is not a JSON object")
		}
		c.array()
		for c.nextElem() {
			d.chunk(&g)
		}
	default:
		return d.notObject(data, "event data is not a JSON object")
	}
	if err := c.done(); err != nil {
		return d.decodeError(err, data)
	}
	if g.isErr {
		return d.streamError(data)
	}
	d.setOutput(out)
	out.FinishReason = cmp.Or(g.finish, g.blocked)
	if g.hasUsage {
		out.Usage = Usage{
			InputTokens:     d.prompt,
			OutputTokens:    d.candidates + d.thoughts,
			ReasoningTokens: d.thoughts,
			CachedTokens:    d.cached,
		}
		out.HasUsage = true
	}
	return nil
}

// geminiChunk is what one chunk said besides its text.
type geminiChunk struct {
	finish, blocked string
	hasUsage, isErr bool
}

// chunk reads one GenerateContentResponse object (or, for a non-object
// element of an array, skips it).
func (d *geminiDecoder) chunk(g *geminiChunk) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "candidates":
			if c.array() {
				for c.nextElem() {
					d.candidate(g)
				}
			}
		case "usageMetadata":
			d.usage(g)
		case "promptFeedback":
			if c.object() {
				for c.nextKey() {
					if string(c.key) != "blockReason" {
						c.skip()
					} else if v, ok := c.strView(); ok && len(v) > 0 {
						g.blocked = internReason(v, geminiFinishReasons)
					}
				}
			}
		case "error":
			g.isErr = !c.null() || g.isErr
		default:
			c.skip()
		}
	}
}

// candidate reads one element of "candidates".
func (d *geminiDecoder) candidate(g *geminiChunk) {
	c := &d.c
	if !c.object() {
		return
	}
	for c.nextKey() {
		switch string(c.key) {
		case "content":
			if c.object() {
				for c.nextKey() {
					if string(c.key) == "parts" && c.array() {
						for c.nextElem() {
							d.part()
						}
					} else if string(c.key) != "parts" {
						c.skip()
					}
				}
			}
		case "finishReason":
			if v, ok := c.strView(); ok && len(v) > 0 {
				g.finish = internReason(v, geminiFinishReasons)
			}
		default:
			c.skip()
		}
	}
}

// part reads one element of "parts": its text goes to text, or to
// reasoning when the part is a thought (whichever order the keys come in);
// a functionCall's args go to args.
func (d *geminiDecoder) part() {
	c := &d.c
	if !c.object() {
		return
	}
	start := len(d.text)
	thought := false
	for c.nextKey() {
		switch string(c.key) {
		case "text":
			d.text, _ = c.str(d.text)
		case "thought":
			thought = boolAt(c)
		case "functionCall":
			if c.object() {
				for c.nextKey() {
					if string(c.key) == "args" {
						d.args = append(d.args, rawValue(c)...)
					} else {
						c.skip()
					}
				}
			}
		default:
			c.skip()
		}
	}
	if thought && len(d.text) > start {
		d.reasoning = append(d.reasoning, d.text[start:]...)
		d.text = d.text[:start]
	}
}

// usage reads "usageMetadata", updating the counts it carries.
func (d *geminiDecoder) usage(g *geminiChunk) {
	c := &d.c
	if !c.object() {
		return
	}
	g.hasUsage = true
	for c.nextKey() {
		var dst *int
		switch string(c.key) {
		case "promptTokenCount":
			dst = &d.prompt
		case "candidatesTokenCount":
			dst = &d.candidates
		case "thoughtsTokenCount":
			dst = &d.thoughts
		case "cachedContentTokenCount":
			dst = &d.cached
		default:
			c.skip()
			continue
		}
		if n, ok := tokenCount(c); ok {
			*dst = n
		}
	}
}
