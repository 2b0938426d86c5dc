package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// core is what a Server and a Responder share: the configuration, the
// request counter, the routes, the queue and the records.
type core struct {
	cfg     Config // with defaults applied
	seq     atomic.Uint64
	records *recordStore
	gate    *gate // nil when Capacity is 0
	faulty  bool  // some fault rate is above 0
}

// newCore checks cfg, panicking when it is not valid, and returns the core
// that serves it.
func newCore(cfg Config) *core {
	cfg.check()
	c := &core{cfg: cfg.withDefaults(), records: newRecordStore()}
	if cfg.Capacity > 0 {
		c.gate = newGate(cfg.Capacity)
	}
	for _, r := range cfg.Faults.rates() {
		c.faulty = c.faulty || r.p > 0
	}
	return c
}

// An exchange is one request as a wire format sees it.
type exchange struct {
	cfg    *Config
	seq    uint64
	start  time.Time
	req    *http.Request
	body   []byte
	params map[string]string // the route pattern's wildcards, by name
	api    *api              // the API answering: its envelope and request id header
	rid    string            // the request id, once known; see requestID
}

// requestID returns the request id header's value: "req_" and the unique
// part of the response's id (see Record.RequestID). It is computed when
// first needed, as a successful response's comes from its plan for free.
func (x *exchange) requestID() string {
	if x.rid == "" {
		x.rid = "req_" + randomID(newRand(x.cfg.Seed, x.seq, streamID), idLength)
	}
	return x.rid
}

// An api is what the fake needs of a wire format outside its routes: where
// its request id goes and how it answers errors.
type api struct {
	// requestIDHeader names the header that carries the request id.
	requestIDHeader string
	// fail answers an error found outside the wire format's own parsing
	// (unknown path, wrong method, unreadable body), in its envelope.
	fail func(x *exchange, status int, message string) *reply
	// fault answers a status fault in its envelope. The caller adds
	// Retry-After and retry-after-ms.
	fault func(x *exchange, f Fault, retryAfter time.Duration) *reply
}

// A route serves one method and path pattern with one wire format.
type route struct {
	method  string
	pattern string // see match
	api     *api
	serve   func(x *exchange) *reply
}

// Path patterns of Gemini and Vertex AI.
const (
	geminiStream = "/models/{model}:streamGenerateContent"
	geminiUnary  = "/models/{model}:generateContent"
	vertexModels = "/projects/{project}/locations/{location}/publishers/google"
)

// routes lists every path the fake serves. A wire format adds its routes
// here, each with a function that parses the request (answering errors in
// its own envelope), plans the response with newPlan and renders the plan
// as a reply; the players do the rest. Routes are tried in order.
var routes = []route{
	{http.MethodPost, "/v1/chat/completions", openAIAPI, serveChatCompletions},
	{http.MethodPost, "/v1/responses", openAIAPI, serveResponses},
	{http.MethodGet, "/v1/models", openAIAPI, serveModels},
	{http.MethodPost, "/v1/messages", anthropicAPI, serveMessages},
	{http.MethodPost, "/v1beta" + geminiStream, geminiAPI, serveGemini},
	{http.MethodPost, "/v1beta" + geminiUnary, geminiAPI, serveGemini},
	{http.MethodGet, "/v1beta/models", geminiAPI, serveGeminiModels},
	{http.MethodPost, "/v1" + geminiStream, geminiAPI, serveGemini},
	{http.MethodPost, "/v1" + geminiUnary, geminiAPI, serveGemini},
	{http.MethodPost, "/v1" + vertexModels + geminiStream, geminiAPI, serveGemini},
	{http.MethodPost, "/v1" + vertexModels + geminiUnary, geminiAPI, serveGemini},
	{http.MethodPost, "/v1beta1" + vertexModels + geminiStream, geminiAPI, serveGemini},
	{http.MethodPost, "/v1beta1" + vertexModels + geminiUnary, geminiAPI, serveGemini},
	{http.MethodPost, "/openai/deployments/{deployment}/chat/completions", azureAPI, serveAzure},
	{http.MethodPost, "/openai/v1/chat/completions", azureAPI, serveAzure},
	{http.MethodPost, "/v2/chat", cohereAPI, serveCohere},
}

// maxBody bounds a request body.
const maxBody = 32 << 20

// respond numbers the request that arrived at start, routes it, draws its
// fault and returns the reply, with its Record's Seq, Path, Start, Status
// and RequestID filled in and its request id header set.
func (c *core) respond(r *http.Request, start time.Time) *reply {
	seq := c.seq.Add(1) - 1
	x := &exchange{cfg: &c.cfg, seq: seq, start: start, req: r}
	rep := c.route(x)
	if rep.plan != nil && x.rid == "" {
		x.rid = "req_" + rep.plan.id // what requestID would compute
	}
	if rep.plan != nil && rep.status == http.StatusOK {
		f := c.fault(seq)
		rep = c.inject(x, rep, f)
		rep.rec.Fault = f
	}
	id := x.requestID()
	rep.header.Set(x.api.requestIDHeader, id)
	rep.rec.Seq = seq
	rep.rec.Path = r.URL.Path
	rep.rec.Start = start
	rep.rec.Status = rep.status
	rep.rec.RequestID = id
	if c.cfg.Record {
		rep.rec.Sent = make([]time.Time, 0, len(rep.rec.Scheduled))
	}
	return rep
}

func (c *core) route(x *exchange) *reply {
	r := x.req
	var allow []string
	for _, rt := range routes {
		params, ok := match(rt.pattern, r.URL.Path)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allow = append(allow, rt.method)
			continue
		}
		x.api, x.params = rt.api, params
		var err error
		if r.Body != nil {
			x.body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		}
		switch {
		case err != nil:
			return x.api.fail(x, http.StatusBadRequest, fmt.Sprintf("fake: reading the request body: %v", err))
		case len(x.body) > maxBody:
			return x.api.fail(x, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body exceeds the limit of %d bytes.", maxBody))
		}
		return rt.serve(x)
	}
	x.api = family(r)
	if allow != nil {
		rep := x.api.fail(x, http.StatusMethodNotAllowed, fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path))
		rep.header.Set("Allow", strings.Join(slices.Compact(allow), ", "))
		return rep
	}
	return x.api.fail(x, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
}

// family guesses the API a request for no route was meant for, to answer in
// its envelope: by the path's prefix, then by Anthropic's version header;
// OpenAI's by default.
func family(r *http.Request) *api {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v1beta/"), strings.HasPrefix(p, "/v1beta1/"), strings.HasPrefix(p, "/v1/projects/"),
		strings.HasPrefix(p, "/v1/models/") && strings.Contains(p, ":"):
		return geminiAPI
	case strings.HasPrefix(p, "/openai/"):
		return azureAPI
	case strings.HasPrefix(p, "/v2/"):
		return cohereAPI
	case r.Header.Get("Anthropic-Version") != "":
		return anthropicAPI
	}
	return openAIAPI
}

// match reports whether path matches pattern, and the values of its
// wildcards. A pattern is a path whose segments are literal or hold one
// wildcard, {name}, with an optional literal prefix and suffix in the same
// segment: "/v1/chat/completions", "/openai/deployments/{deployment}/chat/completions",
// "/v1beta/models/{model}:streamGenerateContent". A wildcard matches a
// non-empty segment part.
func match(pattern, path string) (map[string]string, bool) {
	var params map[string]string
	for {
		pseg, prest, pmore := strings.Cut(strings.TrimPrefix(pattern, "/"), "/")
		seg, rest, more := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if pmore != more || !strings.HasPrefix(pattern, "/") || !strings.HasPrefix(path, "/") {
			return nil, false
		}
		lb, rb := strings.IndexByte(pseg, '{'), strings.IndexByte(pseg, '}')
		if lb < 0 || rb < lb {
			if pseg != seg {
				return nil, false
			}
		} else {
			prefix, name, suffix := pseg[:lb], pseg[lb+1:rb], pseg[rb+1:]
			if len(seg) <= len(prefix)+len(suffix) || !strings.HasPrefix(seg, prefix) || !strings.HasSuffix(seg, suffix) {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[name] = seg[len(prefix) : len(seg)-len(suffix)]
		}
		if !more {
			return params, true
		}
		pattern, path = "/"+prest, "/"+rest
	}
}

// admit waits, when Config.Capacity is set and rep is a response that
// takes a place, until a place is free, and records the wait in
// rep.rec.Queued: the response's schedule then starts when the wait ends.
// It returns ctx's error, having taken no place, when ctx is done first.
func (c *core) admit(ctx context.Context, rep *reply) error {
	if c.gate == nil || rep.plan == nil || rep.status != http.StatusOK {
		return nil
	}
	waited, err := c.gate.acquire(ctx)
	if waited {
		rep.rec.Queued = time.Since(rep.rec.Start)
	}
	if err != nil {
		return err
	}
	rep.slot.Store(true)
	return nil
}

// release frees rep's place, if it holds one. It may be called more than
// once, from any goroutine.
func (c *core) release(rep *reply) {
	if rep.slot.CompareAndSwap(true, false) {
		c.gate.release()
	}
}

// finish releases rep's place and completes its Record with how the
// response ended, keeping it when the configuration asks for records. The
// players call it exactly once per reply.
func (c *core) finish(rep *reply, end time.Time, err error) {
	c.release(rep)
	if !c.cfg.Record {
		return
	}
	rec := rep.rec
	rec.Scheduled = slices.Clone(rec.Scheduled)
	if rec.Queued > 0 {
		for j := range rec.Scheduled {
			rec.Scheduled[j] += rec.Queued
		}
	}
	rec.End = end
	rec.Err = err
	c.records.add(rec, rep.ending)
}

// ending is called before the last event of rep is written: from then on,
// Records waits for rep's record.
func (c *core) ending(rep *reply) {
	if c.cfg.Record && !rep.ending {
		rep.ending = true
		c.records.begin()
	}
}

// ErrServerClosed is the Record.Err of a response cut short because its
// Server was closed.
var ErrServerClosed = errors.New("fake: server closed")

// ErrBodyClosed is the Record.Err of a Responder's response whose body was
// closed before its end.
var ErrBodyClosed = errors.New("fake: response body closed before the end")
