package fake

import (
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
// request counter, the routes and the records.
type core struct {
	cfg     Config // with defaults applied
	seq     atomic.Uint64
	records *recordStore
}

func newCore(cfg Config) *core { return &core{cfg: cfg.withDefaults(), records: newRecordStore()} }

// An exchange is one request as a wire format sees it.
type exchange struct {
	cfg    *Config
	seq    uint64
	start  time.Time
	req    *http.Request
	body   []byte
	params map[string]string // the route pattern's wildcards, by name
}

// A route serves one method and path pattern with one wire format.
type route struct {
	method  string
	pattern string // see match
	serve   func(x *exchange) *reply
}

// routes lists every path the fake serves. A wire format adds its routes
// here, each with a function that parses the request (answering errors in
// its own envelope), plans the response with newPlan and renders the plan
// as a reply; the players do the rest. Routes are tried in order.
var routes = []route{
	{http.MethodPost, "/v1/chat/completions", serveChatCompletions},
	{http.MethodPost, "/v1/responses", serveResponses},
	{http.MethodGet, "/v1/models", serveModels},
}

// maxBody bounds a request body.
const maxBody = 32 << 20

// respond numbers the request that arrived at start, routes it and returns
// the reply, with its Record's Seq, Path, Start and Status filled in.
func (c *core) respond(r *http.Request, start time.Time) *reply {
	seq := c.seq.Add(1) - 1
	rep := c.route(r, seq, start)
	rep.rec.Seq = seq
	rep.rec.Path = r.URL.Path
	rep.rec.Start = start
	rep.rec.Status = rep.status
	if c.cfg.Record {
		rep.rec.Sent = make([]time.Time, 0, len(rep.rec.Scheduled))
	}
	return rep
}

func (c *core) route(r *http.Request, seq uint64, start time.Time) *reply {
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
		var body []byte
		var err error
		if r.Body != nil {
			body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		}
		switch {
		case err != nil:
			return openAIError(http.StatusBadRequest, fmt.Sprintf("fake: reading the request body: %v", err), "invalid_request_error", "", "")
		case len(body) > maxBody:
			return openAIError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body exceeds the limit of %d bytes.", maxBody), "invalid_request_error", "", "")
		}
		return rt.serve(&exchange{cfg: &c.cfg, seq: seq, start: start, req: r, body: body, params: params})
	}
	if allow != nil {
		rep := openAIError(http.StatusMethodNotAllowed, fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "", "")
		rep.header.Set("Allow", strings.Join(slices.Compact(allow), ", "))
		return rep
	}
	return openAIError(http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "", "")
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

// finish completes rep's Record with how the response ended and keeps it
// when the configuration asks for records.
func (c *core) finish(rep *reply, end time.Time, err error) {
	if !c.cfg.Record {
		return
	}
	rec := rep.rec
	rec.Scheduled = slices.Clone(rec.Scheduled)
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
