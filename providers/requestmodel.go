package providers

import (
	"io"
	"net/http"
	"strings"
)

// maxModelBody caps the bytes of a request body RequestModel reads.
const maxModelBody = 16 << 20

// RequestModel returns the model an LLM API request names, or "" when it
// names none that can be read without touching the request: the model
// in the path of a Gemini or Vertex AI call (.../models/{model}:generateContent),
// the deployment of an Azure OpenAI call (.../openai/deployments/{name}/...),
// and otherwise the top-level "model" string of the JSON body (OpenAI,
// Responses, Anthropic, Cohere), read from a copy that req.GetBody
// returns, never from req.Body. A request without GetBody, with a body
// over 16 MiB or with no "model" string gives "".
func RequestModel(req *http.Request) string {
	if req == nil || req.URL == nil {
		return ""
	}
	path := req.URL.Path
	if i := strings.LastIndex(path, "/models/"); i >= 0 {
		m := path[i+len("/models/"):]
		if j := strings.IndexByte(m, ':'); j > 0 && !strings.Contains(m[:j], "/") {
			return m[:j]
		}
	}
	if i := strings.Index(path, "/openai/deployments/"); i >= 0 {
		m := path[i+len("/openai/deployments/"):]
		if j := strings.IndexByte(m, '/'); j > 0 {
			return m[:j]
		}
	}
	if req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil || body == nil {
		return ""
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxModelBody+1))
	if err != nil || len(b) > maxModelBody {
		return ""
	}
	return bodyModel(b)
}

// bodyModel returns the top-level "model" string of the JSON object b, or
// "" when b is not a valid JSON object or has none.
func bodyModel(b []byte) string {
	var c jsonCursor
	c.reset(b)
	if !c.object() {
		return ""
	}
	model := ""
	for c.nextKey() {
		if string(c.key) != "model" {
			c.skip()
		} else if v, ok := c.strView(); ok {
			model = string(v)
		}
	}
	if c.done() != nil {
		return ""
	}
	return model
}
