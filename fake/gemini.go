package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// This file serves the Gemini API (POST /v1beta/models/{model}:streamGenerateContent
// and :generateContent, and the same under /v1), Vertex AI's form of it
// (/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:…,
// and under /v1beta1), the model list (GET /v1beta/models) and Google's error
// envelope, as the API documents it.

// geminiAPI is the API of the Gemini and Vertex AI formats.
var geminiAPI = &api{
	requestIDHeader: "X-Request-Id",
	fail: func(_ *exchange, status int, message string) *reply {
		return geminiError(status, message, 0)
	},
	fault: geminiFault,
}

// geminiTokensPerChunk is the tokens per chunk of Gemini streams when
// Config.TokensPerChunk is 0: its chunks usually carry several tokens.
const geminiTokensPerChunk = 4

// geminiStatus names the google.rpc status Google sends with an HTTP
// status.
func geminiStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

// geminiError answers with Google's envelope, indented as Google sends it:
// {"error":{"code":…,"message":…,"status":…}}. A retryDelay above 0 adds
// the google.rpc.RetryInfo detail that quota errors carry.
func geminiError(status int, message string, retryDelay time.Duration) *reply {
	var b []byte
	b = append(b, `{"error":{"code":`...)
	b = appendInt(b, int64(status))
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `,"status":`...)
	b = appendString(b, geminiStatus(status))
	if retryDelay > 0 {
		b = append(b, `,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":`...)
		b = appendString(b, protoDuration(retryDelay))
		b = append(b, `}]`...)
	}
	b = append(b, `}}`...)
	return bodyReply(status, geminiJSON, indent(b), 0, -1)
}

// geminiJSON is the content type of Google's JSON answers.
const geminiJSON = "application/json; charset=UTF-8"

// protoDuration formats d as google.protobuf.Duration's JSON does: seconds
// with 0, 3, 6 or 9 decimals and an "s".
func protoDuration(d time.Duration) string {
	s, ns := int64(d/time.Second), int64(d%time.Second)
	switch {
	case ns == 0:
		return fmt.Sprintf("%ds", s)
	case ns%1e6 == 0:
		return fmt.Sprintf("%d.%03ds", s, ns/1e6)
	case ns%1e3 == 0:
		return fmt.Sprintf("%d.%06ds", s, ns/1e3)
	}
	return fmt.Sprintf("%d.%09ds", s, ns)
}

// indent returns the JSON in b indented by two spaces, as Google's JSON
// answers are.
func indent(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		panic(err) // unreachable: the fake's own JSON is valid
	}
	return out.Bytes()
}

// geminiFault answers a status fault as Google does; an overload is a 503
// with the message Gemini sends when the model is overloaded.
func geminiFault(_ *exchange, f Fault, retryAfter time.Duration) *reply {
	switch f {
	case FaultRateLimit:
		return geminiError(http.StatusTooManyRequests, "Resource has been exhausted (e.g. check quota).", retryAfter)
	case FaultUnavailable:
		return geminiError(http.StatusServiceUnavailable, "The service is currently unavailable.", 0)
	case FaultOverloaded:
		return geminiError(http.StatusServiceUnavailable, geminiOverloaded, 0)
	}
	return geminiError(http.StatusInternalServerError, "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", 0)
}

const geminiOverloaded = "The model is overloaded. Please try again later."

type geminiContent struct {
	Role  string `json:"role"`
	Parts []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

type geminiGenerationConfig struct {
	MaxOutputTokens      *int `json:"maxOutputTokens"`
	MaxOutputTokensSnake *int `json:"max_output_tokens"`
}

type geminiRequest struct {
	Contents               []geminiContent         `json:"contents"`
	SystemInstruction      *geminiContent          `json:"systemInstruction"`
	SystemInstructionSnake *geminiContent          `json:"system_instruction"`
	GenerationConfig       *geminiGenerationConfig `json:"generationConfig"`
	GenerationConfigSnake  *geminiGenerationConfig `json:"generation_config"`
}

// geminiFields are the fields of a GenerateContentRequest, in both the JSON
// and the proto spelling, which Google's servers both accept. Any other
// top-level field is a 400, as there.
var geminiFields = map[string]bool{
	"model": true, "contents": true, "tools": true, "toolConfig": true, "tool_config": true,
	"safetySettings": true, "safety_settings": true, "systemInstruction": true, "system_instruction": true,
	"generationConfig": true, "generation_config": true, "cachedContent": true, "cached_content": true,
	"labels": true, "modelArmorConfig": true, "model_armor_config": true,
}

// serveGemini answers the generateContent and streamGenerateContent routes
// of Gemini and Vertex AI. A stream is SSE with alt=sse, with events ended
// by CRLF CRLF, and otherwise one JSON array sent element by element.
func serveGemini(x *exchange) *reply {
	body := bytes.TrimSpace(x.body)
	var fields map[string]json.RawMessage
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &fields) != nil {
		return geminiError(http.StatusBadRequest, "Invalid JSON payload received. Unexpected token.", 0)
	}
	for name := range fields {
		if !geminiFields[name] {
			return geminiError(http.StatusBadRequest, fmt.Sprintf("Invalid JSON payload received. Unknown name %q: Cannot find field.", name), 0)
		}
	}
	var req geminiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return geminiError(http.StatusBadRequest, fmt.Sprintf("Invalid JSON payload received. %v", err), 0)
	}
	sys, gen := req.SystemInstruction, req.GenerationConfig
	if sys == nil {
		sys = req.SystemInstructionSnake
	}
	if gen == nil {
		gen = req.GenerationConfigSnake
	}
	if len(req.Contents) == 0 {
		return geminiError(http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified\n", 0)
	}
	var prompt strings.Builder
	if sys != nil {
		for _, part := range sys.Parts {
			prompt.WriteString(part.Text)
		}
	}
	for i, c := range req.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" {
			return geminiError(http.StatusBadRequest, "Please use a valid role: user, model.", 0)
		}
		if len(c.Parts) == 0 {
			return geminiError(http.StatusBadRequest, fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i), 0)
		}
		for _, part := range c.Parts {
			prompt.WriteString(part.Text)
		}
	}
	limit := 0
	if gen != nil {
		m := gen.MaxOutputTokens
		if m == nil {
			m = gen.MaxOutputTokensSnake
		}
		if m != nil && *m < 0 {
			return geminiError(http.StatusBadRequest, "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.\n", 0)
		}
		if m != nil {
			limit = *m
		}
	}

	cfg := *x.cfg
	if cfg.TokensPerChunk == 0 {
		cfg.TokensPerChunk = geminiTokensPerChunk
	}
	model := x.params["model"]
	p := newPlan(&cfg, x.seq, x.start, model, EstimateTokens(prompt.String()), limit)
	g := generation{p: p, finish: p.finish("STOP", "MAX_TOKENS"), vertex: x.params["project"] != ""}
	stream := strings.HasSuffix(x.req.URL.Path, ":streamGenerateContent")
	var rep *reply
	switch {
	case stream && x.req.URL.Query().Get("alt") == "sse":
		rep = g.sse()
	case stream:
		rep = g.array()
	default:
		rep = g.object()
	}
	return rep.served(p, model, stream, p.id, g.finish)
}

// generation renders one GenerateContentResponse stream or object.
type generation struct {
	p      *plan
	finish string // "STOP" or "MAX_TOKENS"
	vertex bool   // Vertex AI adds trafficType and createTime
}

// appendChunk appends the GenerateContentResponse that carries tokens,
// with the cumulative usage after them and, when last, the finish reason,
// in the compact form of the reference fixture (a space after each colon).
func (g generation) appendChunk(dst []byte, tokens []string, cumulative int, last bool) []byte {
	p := g.p
	dst = append(dst, `{"candidates": [{"content": {"parts": [{"text": `...)
	dst = appendTokens(dst, tokens)
	dst = append(dst, `}],"role": "model"}`...)
	if last {
		dst = append(dst, `,"finishReason": `...)
		dst = appendString(dst, g.finish)
	}
	dst = append(dst, `,"index": 0}],"usageMetadata": {"promptTokenCount": `...)
	dst = appendInt(dst, int64(p.promptTokens))
	dst = append(dst, `,"candidatesTokenCount": `...)
	dst = appendInt(dst, int64(cumulative))
	dst = append(dst, `,"totalTokenCount": `...)
	dst = appendInt(dst, int64(p.promptTokens+cumulative))
	if g.vertex {
		dst = append(dst, `,"trafficType": "ON_DEMAND"`...)
	}
	dst = append(dst, `},"modelVersion": `...)
	dst = appendString(dst, p.model)
	if g.vertex {
		dst = append(dst, `,"createTime": `...)
		dst = appendString(dst, p.start.UTC().Format("2006-01-02T15:04:05.000000Z"))
	}
	dst = append(dst, `,"responseId": `...)
	dst = appendString(dst, p.id)
	return append(dst, '}')
}

// appendContent appends content event j's chunk.
func (g generation) appendContent(dst []byte, j int) []byte {
	return g.appendChunk(dst, g.p.chunk(j), g.p.ends[j], j == len(g.p.ends)-1)
}

// sse renders the stream of alt=sse: one "data: " line per chunk, each
// event ended by CRLF CRLF, no event: lines, no [DONE]; the last chunk
// carries the finish reason.
func (g generation) sse() *reply {
	p := g.p
	render := func(dst []byte, j int) event {
		dst = append(dst, "data: "...)
		dst = g.appendContent(dst, j)
		return event{at: p.offsets[j], content: j, data: append(dst, "\r\n\r\n"...)}
	}
	return streamReply(p, eventStream, len(p.ends), 0, render, appendGeminiStreamError)
}

// appendGeminiStreamError appends Gemini's mid-stream error event.
func appendGeminiStreamError(dst []byte, _ int) []byte {
	return append(dst, `data: {"error":{"code":503,"message":"`+geminiOverloaded+`","status":"UNAVAILABLE"}}`+"\r\n\r\n"...)
}

// array renders the stream without alt=sse: one JSON array whose elements,
// indented chunks, go out one by one ("[" before the first, ",\r\n" before
// each next one), and whose closing bracket follows the last.
func (g generation) array() *reply {
	p := g.p
	contents := len(p.ends)
	render := func(dst []byte, i int) event {
		if i == contents {
			return event{at: p.last(), content: -1, data: append(dst, ']')}
		}
		dst = appendArraySeparator(dst, i)
		return event{at: p.offsets[i], content: i, data: append(dst, indent(g.appendContent(nil, i))...)}
	}
	return &reply{
		status: http.StatusOK,
		header: streamHeader(geminiJSON),
		events: contents + 1,
		render: render,
		rec:    Record{Scheduled: p.offsets},
		failEvent: func(dst []byte, i int) []byte {
			dst = appendArraySeparator(dst, i)
			dst = append(dst, indent([]byte(`{"error":{"code":503,"message":"`+geminiOverloaded+`","status":"UNAVAILABLE"}}`))...)
			return append(dst, ']')
		},
	}
}

// appendArraySeparator appends what goes before element i of a streamed
// JSON array.
func appendArraySeparator(dst []byte, i int) []byte {
	if i == 0 {
		return append(dst, '[')
	}
	return append(dst, ",\r\n"...)
}

// object renders the generateContent response, indented, sent when the
// stream's last chunk would be.
func (g generation) object() *reply {
	p := g.p
	b := indent(g.appendChunk(nil, p.tokens, len(p.tokens), true))
	rep := bodyReply(http.StatusOK, geminiJSON, b, p.last(), 0)
	rep.rec.Scheduled = []time.Duration{p.last()}
	return rep
}

// serveGeminiModels answers GET /v1beta/models with the one configured
// model.
func serveGeminiModels(x *exchange) *reply {
	model := x.listedModel()
	var b []byte
	b = append(b, `{"models":[{"name":`...)
	b = appendString(b, "models/"+model)
	b = append(b, `,"version":"001","displayName":`...)
	b = appendString(b, model)
	b = append(b, `,"description":"The fake's model.","inputTokenLimit":1048576,"outputTokenLimit":8192,"supportedGenerationMethods":["generateContent","countTokens"]}]}`...)
	return bodyReply(http.StatusOK, geminiJSON, indent(b), 0, -1)
}
