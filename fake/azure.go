package fake

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file serves Azure OpenAI's Chat Completions
// (POST /openai/deployments/{deployment}/chat/completions?api-version=…, and
// POST /openai/v1/chat/completions) and Azure's error envelope, from
// the API's documented wire format.

// azureAPI is the API of the Azure format.
var azureAPI = &api{
	requestIDHeader: "X-Request-Id",
	fail: func(_ *exchange, status int, message string) *reply {
		if status == http.StatusNotFound {
			message = "Resource not found"
		}
		return azureError(status, strconv.Itoa(status), message)
	},
	fault: azureFault,
}

// azureError answers with the envelope of Azure's own errors, a string
// code and a message: {"error":{"code":…,"message":…}}. Errors of the
// request's content are OpenAI's (see openAIError), which Azure passes on.
func azureError(status int, code, message string) *reply {
	var b []byte
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `}}`...)
	return bodyReply(status, "application/json", b, 0, -1)
}

// azureFault answers a status fault as Azure does: a 429 whose message
// says when to retry, with x-ratelimit-remaining-* headers; an overload is
// a 503.
func azureFault(x *exchange, f Fault, retryAfter time.Duration) *reply {
	switch f {
	case FaultRateLimit:
		version := x.req.URL.Query().Get("api-version")
		if version == "" {
			version = "v1"
		}
		msg := fmt.Sprintf("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version %s have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after %d seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
			version, retrySeconds(retryAfter))
		rep := azureError(http.StatusTooManyRequests, "429", msg)
		rep.header.Set("X-Ratelimit-Remaining-Requests", "0")
		rep.header.Set("X-Ratelimit-Remaining-Tokens", "0")
		return rep
	case FaultUnavailable:
		return azureError(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unable to process your request. Please try again later.")
	case FaultOverloaded:
		return azureError(http.StatusServiceUnavailable, "ServiceUnavailable", openAIOverloaded)
	}
	return azureError(http.StatusInternalServerError, "InternalServerError", openAIServerError)
}

// azureDeploymentNotFound is Azure's answer for a deployment that does not
// exist.
func azureDeploymentNotFound() *reply {
	return azureError(http.StatusNotFound, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
}

// serveAzure answers Azure's Chat Completions routes. The deployment route
// needs an api-version query parameter (any value), and answers 404
// "Resource not found" without one, as Azure does; the v1 route takes none.
// The deployment is the path's, or, on the v1 route, the body's model; it
// must be one of Config.Deployments when that is set. A request with no
// model in its body is answered with Config.Model, else the deployment's
// name.
func serveAzure(x *exchange) *reply {
	deployment, ok := x.params["deployment"]
	if ok && x.req.URL.Query().Get("api-version") == "" {
		return x.api.fail(x, http.StatusNotFound, "")
	}
	call, rep := parseChat(x, deployment)
	if rep != nil {
		return rep
	}
	if !ok {
		deployment = call.model
	}
	if len(x.cfg.Deployments) > 0 && !slices.Contains(x.cfg.Deployments, deployment) {
		return azureDeploymentNotFound()
	}

	p := newPlan(x.cfg, x.seq, x.start, call.model, call.promptTokens, call.limit)
	finish := p.finish("stop", "length")
	c := azureChat{chat{p: p, finish: finish, fingerprint: fingerprint(x.cfg.Seed)}}
	if call.Stream {
		rep = c.stream(call.includeUsage(), x.cfg.AzureAsyncFilter)
	} else {
		rep = c.completion()
	}
	return rep.served(p, call.model, call.Stream, c.id(), finish)
}

// azureChat renders one Azure Chat Completions response: OpenAI's objects
// with Azure's keys in alphabetical order and its content filter results.
type azureChat struct{ chat }

// Azure's content filter verdicts on a prompt and on output.
const (
	azurePromptFilter = `[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]`
	azureOutputFilter = `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
)

// appendUsage appends the usage object with Azure's key order.
func (c azureChat) appendUsage(dst []byte) []byte {
	prompt, completion := int64(c.p.promptTokens), int64(len(c.p.tokens))
	dst = append(dst, `{"completion_tokens":`...)
	dst = appendInt(dst, completion)
	dst = append(dst, `,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens":`...)
	dst = appendInt(dst, prompt)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":`...)
	dst = appendInt(dst, prompt+completion)
	return append(dst, '}')
}

// stream renders the API's chunk sequence: the prompt filter
// chunk (choices [], id "", created 0) and the role chunk at once, each
// content chunk when due, then the finish chunk, the usage chunk when asked
// for, the asynchronous filter's trailing chunk when configured, and
// [DONE]. Every choice carries content_filter_results, {} on the role and
// finish chunks.
func (c azureChat) stream(includeUsage, asyncFilter bool) *reply {
	p := c.p
	var suffix []byte
	suffix = append(suffix, `],"created":`...)
	suffix = appendInt(suffix, p.created)
	suffix = append(suffix, `,"id":`...)
	suffix = appendString(suffix, c.id())
	suffix = append(suffix, `,"model":`...)
	suffix = appendString(suffix, p.model)
	suffix = append(suffix, `,"object":"chat.completion.chunk","system_fingerprint":`...)
	suffix = appendString(suffix, c.fingerprint)

	contents := len(p.ends)
	usage, filter := -1, -1 // event indexes, -1 for none
	events := contents + 4  // prompt filter, role, contents, finish, [DONE]
	if includeUsage {
		usage = events - 1
		events++
	}
	if asyncFilter {
		filter = events - 1
		events++
	}
	render := func(dst []byte, i int) event {
		ev := event{at: p.last(), content: -1}
		switch {
		case i == 0:
			ev.at = 0
			dst = append(dst, `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":`+azurePromptFilter+"}\n\n"...)
			ev.data = dst
			return ev
		case i == 1:
			ev.at = 0
			dst = append(dst, `data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}`...)
		case i < 2+contents:
			ev.content = i - 2
			ev.at = p.offsets[ev.content]
			dst = append(dst, `data: {"choices":[{"content_filter_results":`+azureOutputFilter+`,"delta":{"content":`...)
			dst = appendTokens(dst, p.chunk(ev.content))
			dst = append(dst, `},"finish_reason":null,"index":0,"logprobs":null}`...)
		case i == 2+contents:
			dst = append(dst, `data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":`...)
			dst = appendString(dst, c.finish)
			dst = append(dst, `,"index":0,"logprobs":null}`...)
		case i == usage:
			dst = append(dst, `data: {"choices":[`...)
			dst = append(dst, suffix...)
			dst = append(dst, `,"usage":`...)
			dst = c.appendUsage(dst)
			ev.data = append(dst, "}\n\n"...)
			return ev
		case i == filter:
			dst = append(dst, `data: {"id":"","object":"","created":0,"model":"","choices":[{"index":0,"finish_reason":null,"content_filter_results":`+azureOutputFilter+`,"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":`...)
			dst = appendInt(dst, int64(utf8.RuneCountInString(p.text())))
			ev.data = append(dst, "}}]}\n\n"...)
			return ev
		default:
			ev.data = append(dst, doneEvent...)
			return ev
		}
		dst = append(dst, suffix...)
		ev.data = append(dst, "}\n\n"...)
		return ev
	}
	rep := streamReply(p, eventStreamUTF8, events, 2, render, appendOpenAIStreamError)
	rep.done = []byte(doneEvent)
	return rep
}

// completion renders the non-streaming chat.completion object, sent when the
// stream's last content chunk would be.
func (c azureChat) completion() *reply {
	p := c.p
	var b []byte
	b = append(b, `{"choices":[{"content_filter_results":`+azureOutputFilter+`,"finish_reason":`...)
	b = appendString(b, c.finish)
	b = append(b, `,"index":0,"logprobs":null,"message":{"annotations":[],"content":`...)
	b = appendTokens(b, p.tokens)
	b = append(b, `,"refusal":null,"role":"assistant"}}],"created":`...)
	b = appendInt(b, p.created)
	b = append(b, `,"id":`...)
	b = appendString(b, c.id())
	b = append(b, `,"model":`...)
	b = appendString(b, p.model)
	b = append(b, `,"object":"chat.completion","prompt_filter_results":`+azurePromptFilter+`,"system_fingerprint":`...)
	b = appendString(b, c.fingerprint)
	b = append(b, `,"usage":`...)
	b = c.appendUsage(b)
	b = append(b, '}')
	rep := bodyReply(http.StatusOK, "application/json", b, p.last(), 0)
	rep.rec.Scheduled = []time.Duration{p.last()}
	return rep
}
