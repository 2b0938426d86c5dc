package lens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// Transport is an http.RoundTripper that measures the LLM API calls made
// through it, by any SDK or code of the application's own: give an SDK an
// *http.Client whose Transport is a *Transport (see Client) and every call
// is timed as Run times its requests, into a Result that Result returns at
// any time.
//
// It measures passively. The application reads exactly the bytes it would
// have read, when it would have read them: the body is passed through as
// it arrives, with no buffering that delays it, and the events are decoded
// from the same bytes within the application's own reads, each stamped
// when the read that delivered it returned. DNS, connect and TLS come from
// net/http/httptrace (when Base is an *http.Transport), composed with any
// trace the request already carries.
//
// The API of a call is recognised from the request (a POST to a path that
// ends in /chat/completions, Azure's /openai/deployments/{name}/chat/completions,
// /responses, /v1/messages, :generateContent or :streamGenerateContent, or
// /v2/chat) unless Provider sets it. Any other request passes through
// untouched and unmeasured.
//
// Every measured call ends in exactly one outcome that the Result counts:
// a call that fails before a response (a dial error, a canceled context)
// with its class; a response whose body the application closes before its
// end with ClassCanceled (or the class of its context's error), never as a
// success with partial numbers; an error status with the provider's
// message. A retry made by the SDK is a call of its own. Calls are not
// retried or changed in any way, except that a redirect of a measured call
// is never followed: a measured call answered with a 3xx fails with a
// *providers.RedirectError instead of returning the response, whatever the
// client's redirect policy, so that the API key cannot reach another host.
//
// A Transport is safe for concurrent use and starts no goroutine. Set its
// fields before its first use; the zero value measures through
// http.DefaultTransport, recognising the API of each call.
type Transport struct {
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper

	// Provider, when set, is the codec of every POST through the
	// transport: all of them are measured as calls of that API. Nil
	// recognises the API of each request from its path.
	Provider providers.Provider

	// Name and Model label the Result (Result.Scenario, Result.Model).
	// An empty Model labels the Result with the model the measured calls
	// named (see providers.RequestModel: the path of a Gemini, Vertex AI
	// or Azure call, else the request body's "model", read from
	// GetBody's copy once the call ended, never from the body the SDK
	// sends): one model is its name; calls that named different ones
	// give their names joined by "+" in the order first seen, as
	// Provider does ("gpt-4o+gpt-4o-mini"), or "mixed (over 4 models)"
	// when they named more than four; a call whose model cannot be read
	// (no GetBody) adds nothing. The cost, though, needs Model or Price set: a model found
	// in the calls labels the Result but is not priced.
	Name, Model string

	// Price is the model's price; nil looks Provider and Model up in
	// DefaultPricing. A result with neither has no cost (absent, not
	// zero).
	Price *Price

	// SLO sets per-call limits for Result.Good (goodput).
	SLO SLO

	// OnRequest, when set, is called with every measured call once the
	// transport has decoded its end: a streamed response's reads are
	// decoded in batches (each event keeps the time of the read that
	// delivered it), at the latest when the application reads the body's
	// end, closes it, or reads the Result. It is called from the goroutine
	// that did so. The pointer and its slices are valid only during the
	// call.
	OnRequest func(*RequestMetrics)

	init  sync.Once
	mu    sync.Mutex
	res   *Result
	names []string // the APIs measured, in the order first seen
	// models are the models the calls named, in the order first seen, at
	// most maxModels+1 of them; only when Model is empty.
	models []string
	seq    atomic.Int64
	fixed  *api // Provider's codec
	// streams are the streamed responses not ended yet, whose held reads
	// Result decodes first.
	streams map[*meter]struct{}
}

// Client returns an *http.Client that sends through t, for an SDK's
// option (openai-go's option.WithHTTPClient, anthropic-sdk-go's, genai's
// HTTPClient, cohere-go's option.WithHTTPClient) or for code of the
// application's own.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// start readies t on its first use: the Result's Started is then.
func (t *Transport) start() {
	t.init.Do(func() {
		sc := Scenario{Name: t.Name, Provider: t.Provider, Model: t.Model, Price: t.Price}
		t.res = newResult(&sc)
		t.res.Concurrency = 0
		t.res.Started = time.Now()
		if t.Provider != nil {
			t.fixed = &api{p: t.Provider}
			t.names = []string{t.Provider.Name()}
		}
	})
}

// Result returns what t measured so far: a copy, which later calls do not
// change. It counts every call whose end the application has read, even
// one whose body it has not closed. Elapsed is the time since t's first
// use. Provider names the APIs measured ("openai", or "openai+anthropic"
// when calls went to both); Concurrency is 0, since the application's
// code set it.
func (t *Transport) Result() *Result {
	t.start()
	t.flushStreams()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshot()
}

// flushStreams decodes what the streams not ended yet hold of the
// application's reads, so that Result counts every call whose end the
// application read, even one it never closes.
func (t *Transport) flushStreams() {
	t.mu.Lock()
	bs := make([]*meter, 0, len(t.streams))
	for b := range t.streams {
		bs = append(bs, b)
	}
	t.mu.Unlock()
	for _, b := range bs {
		b.mu.Lock()
		if !b.done {
			b.flush()
		}
		b.mu.Unlock()
	}
}

// snapshot copies t.res; t.mu is held.
func (t *Transport) snapshot() *Result {
	sc := Scenario{Name: t.Name, Provider: t.Provider, Model: t.Model, Price: t.Price}
	out := newResult(&sc)
	// Only an open-loop result into a closed-loop one fails to merge, and
	// neither is open loop.
	_ = out.merge(t.res)
	out.Concurrency = 0
	out.Started = t.res.Started
	out.Elapsed = time.Since(out.Started)
	out.Provider = strings.Join(t.names, "+")
	if t.Model == "" {
		out.Model = modelLabel(t.models)
	}
	return out
}

// maxModels is how many models a Transport's Result names before it says
// "mixed (N models)".
const maxModels = 4

// modelLabel labels a Result with the models its calls named.
func modelLabel(models []string) string {
	if len(models) > maxModels {
		return fmt.Sprintf("mixed (over %d models)", maxModels)
	}
	return strings.Join(models, "+")
}

// CloseIdleConnections closes the idle connections of Base, when it has
// a CloseIdleConnections method (http.Client.CloseIdleConnections calls
// this).
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// api is the codec of one API, with a pool of its decoders.
type api struct {
	p    providers.Provider
	pool sync.Pool
}

func (a *api) decoder() providers.Decoder {
	if d, ok := a.pool.Get().(providers.Decoder); ok {
		return d
	}
	return a.p.NewDecoder()
}

// The APIs Transport recognises. Their codecs take the credentials to
// redact from each response's request, and from the usual environment
// variables.
var (
	apiOpenAI    = &api{p: &providers.OpenAI{}}
	apiResponses = &api{p: &providers.OpenAIResponses{}}
	apiAnthropic = &api{p: &providers.Anthropic{}}
	apiGemini    = &api{p: &providers.Gemini{}}
	apiAzure     = &api{p: &providers.Azure{}}
	apiCohere    = &api{p: &providers.Cohere{}}
)

// detect returns the API of req, or nil for a request that is no LLM API
// call.
func detect(req *http.Request) *api {
	if req.Method != http.MethodPost || req.URL == nil {
		return nil
	}
	path := req.URL.Path
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		if strings.Contains(path, "/openai/deployments/") || strings.HasSuffix(req.URL.Hostname(), ".openai.azure.com") {
			return apiAzure
		}
		return apiOpenAI
	case strings.HasSuffix(path, "/responses"):
		return apiResponses
	case strings.HasSuffix(path, "/v1/messages"):
		return apiAnthropic
	case strings.HasSuffix(path, ":streamGenerateContent"), strings.HasSuffix(path, ":generateContent"):
		return apiGemini
	case strings.HasSuffix(path, "/v2/chat"):
		return apiCohere
	}
	return nil
}

// measured returns the codec t measures req with, or nil.
func (t *Transport) measured(req *http.Request) *api {
	if t.fixed != nil {
		if req.Method == http.MethodPost {
			return t.fixed
		}
		return nil
	}
	return detect(req)
}

// RoundTrip sends req through Base and, when it is an LLM API call,
// measures it. See Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.start()
	if req.Response != nil && t.measured(req.Response.Request) != nil {
		// The client is following a redirect of a measured call.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, providers.Redirected(req.Response)
	}
	a := t.measured(req)
	ctx := req.Context()
	if a == nil || journeyWarmup(ctx) {
		return t.base().RoundTrip(req)
	}

	b := &meter{t: t, api: a, ctx: ctx, req: req}
	m := &b.m
	if p, ok := itlPool.Get().(*[]time.Duration); ok {
		m.ITLs = (*p)[:0]
	}
	m.resetAttempt()
	m.Seq = t.seq.Add(1) - 1
	m.Attempts = 1
	tr := &trace{}
	sent := req.WithContext(httptrace.WithClientTrace(ctx, tr.clientTrace()))
	t0 := time.Now()
	m.Start, m.Intended, m.QueueDelay = t0, t0, Absent
	resp, err := t.base().RoundTrip(sent)
	ph := tr.freeze()
	ph.connection(m, t0)
	if err != nil {
		m.E2E = time.Since(t0)
		m.Class, m.Err = classify(ctx, err), err
		t.record(a, m, req, nil)
		return nil, err
	}
	resp.Request = req
	m.StatusCode, m.Proto = resp.StatusCode, resp.Proto
	dropForeignDial(m)
	m.TTFB = span(t0, ph.firstByte)
	m.RequestID = requestID(resp.Header)
	if err := providers.Redirected(resp); err != nil {
		// Fail here rather than hand the 3xx on: a client that follows
		// redirects would send the credentials to the Location, and the
		// error of its refused follow-up would name the Location with its
		// query, which a hostile endpoint may fill with the key.
		m.E2E = time.Since(t0)
		m.Class, m.Err = ClassRedirect, err
		t.record(a, m, req, nil)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, err
	}

	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	b.live = ok && isStream(resp.Header.Get("Content-Type"))
	b.preq.Stream = b.live
	m.Stream = b.live
	b.f = fold{t0: t0, stream: b.live}
	b.status = resp.StatusCode
	b.length = resp.ContentLength
	b.body = resp.Body
	if b.body == nil {
		b.body = http.NoBody
	}
	b.dec = a.decoder()
	b.starved, _ = b.dec.(inputNeeder)
	b.usual, _ = b.dec.(usualDecoder)
	b.resp = *resp
	if b.live {
		b.resp.Body = &b.in
		t.mu.Lock()
		if t.streams == nil {
			t.streams = make(map[*meter]struct{})
		}
		t.streams[b] = struct{}{}
		t.mu.Unlock()
		if err := b.dec.Reset(&b.resp, &b.preq); err != nil {
			b.finish(time.Now(), err)
		}
	}
	resp.Body = b
	return resp, nil
}

// isStream reports whether a 2xx response of content type ct is decoded
// as it arrives: an event stream or lines of JSON (or no content type at
// all). Other bodies are decoded whole, at their end.
func isStream(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	switch ct {
	case "", "text/event-stream", "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		return true
	}
	return false
}

// record counts a finished call, the measurement m of req; m's decoder,
// if any, is back in its pool.
func (t *Transport) record(a *api, m *RequestMetrics, req *http.Request, b *meter) {
	model := ""
	if t.Model == "" {
		// Read now, once the call ended, so that the request is never
		// delayed.
		model = providers.RequestModel(req)
	}
	t.mu.Lock()
	if model != "" && len(t.models) <= maxModels && !slices.Contains(t.models, model) {
		t.models = append(t.models, model)
	}
	if t.fixed == nil {
		name := a.p.Name()
		found := false
		for _, n := range t.names {
			found = found || n == name
		}
		if !found {
			t.names = append(t.names, name)
		}
	}
	t.res.record(m, &t.SLO, false, t.res.Started)
	if b != nil {
		delete(t.streams, b)
	}
	t.mu.Unlock()
	if t.OnRequest != nil {
		t.OnRequest(m)
	}
}

// maxWholeBody caps what a meter keeps of a body it decodes whole: the
// codecs' own cap on a response body.
const maxWholeBody = providers.DefaultMaxLineBytes

// errClosedEarly is the error of a call whose body the application closed
// before the response ended.
var errClosedEarly = errors.New("lens: the application closed the response body before the response ended")

// meter is a measured response's body: it passes the application's reads
// through and decodes the same bytes. A streamed body is pushed into the
// decoder read by read (see providers.ErrPending); any other body is kept,
// up to maxWholeBody, and decoded at its end.
type meter struct {
	t    *Transport
	api  *api
	ctx  context.Context
	req  *http.Request // the application's request, until the call ends
	body io.ReadCloser

	mu     sync.Mutex // Close may come from another goroutine than Read
	done   bool
	live   bool
	status int
	length int64
	m      RequestMetrics
	f      fold
	dec    providers.Decoder
	resp   http.Response // what the decoder reads
	preq   providers.Request
	in     feed
	d      providers.Delta
	whole  []byte
	// starved is dec, when it tells that it needs input (every decoder
	// of package providers does): pump then stops without a call of Next
	// that would return ErrPending.
	starved inputNeeder
	// usual is dec, when it decodes its API's usual event where it is
	// (the decoders of package providers that have a fast path).
	usual usualDecoder

	// held, while the response streams, keeps the application's reads
	// that are not decoded yet (see hold).
	held     *heldReads
	flushing bool
}

// heldReads is what a meter keeps of the application's recent reads: their
// bytes, copied, and where each ends with the time it returned.
type heldReads struct {
	b     []byte
	reads []heldRead
}

type heldRead struct {
	end int
	at  time.Time
}

// A meter decodes the application's reads in batches of up to
// maxHeldReads reads or heldBytes bytes: decoding many events in a row
// keeps the decoder's code and state in the CPU's caches, which the
// application's own work between two reads evicts. Each event is still
// stamped with the time of the read that delivered it.
const (
	maxHeldReads = 32
	heldBytes    = 8 << 10
)

var heldPool = sync.Pool{New: func() any {
	return &heldReads{b: make([]byte, 0, heldBytes), reads: make([]heldRead, 0, maxHeldReads)}
}}

// hold keeps p, read at at, to be decoded with the reads that follow it.
func (b *meter) hold(p []byte, at time.Time) {
	if b.held == nil {
		b.held = heldPool.Get().(*heldReads)
	}
	h := b.held
	if len(h.reads) == cap(h.reads) || len(h.b)+len(p) > cap(h.b) {
		b.flush()
		if b.done {
			return
		}
		h = b.held
	}
	if len(p) > cap(h.b) {
		b.push(p, at, nil)
		return
	}
	h.b = append(h.b, p...)
	h.reads = append(h.reads, heldRead{len(h.b), at})
}

// flush decodes the held reads, each stamped with the time it returned.
func (b *meter) flush() {
	h := b.held
	if h == nil {
		return
	}
	b.flushing = true
	start := 0
	for _, r := range h.reads {
		if b.done {
			break
		}
		b.push(h.b[start:r.end], r.at, nil)
		start = r.end
	}
	b.flushing = false
	h.b, h.reads = h.b[:0], h.reads[:0]
	if b.done {
		b.releaseHeld()
	}
}

// releaseHeld gives the held reads' buffers back to their pool.
func (b *meter) releaseHeld() {
	if b.held != nil {
		b.held.b, b.held.reads = b.held.b[:0], b.held.reads[:0]
		heldPool.Put(b.held)
		b.held = nil
	}
}

// usualDecoder is a providers.Decoder that decodes its API's usual event
// from bytes pushed into it without taking them in.
type usualDecoder interface {
	DecodeUsual(p []byte, at time.Time, out *providers.Delta) int
}

// inputNeeder is a providers.Decoder that tells when its Next would
// return providers.ErrPending.
type inputNeeder interface{ NeedsInput() bool }

// Read reads the body for the application and decodes what it read.
func (b *meter) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	var at time.Time
	if b.live && (n > 0 || err != nil) {
		// One read of the monotonic clock, from the attempt's send, taken
		// before a Close on another goroutine can hold the meter.
		at = b.f.t0.Add(time.Since(b.f.t0))
	}
	b.mu.Lock()
	if !b.done {
		if b.live {
			if n > 0 {
				b.hold(p[:n], at)
			}
			if err != nil {
				b.flush()
				if !b.done {
					b.push(nil, at, err)
				}
			}
		} else {
			b.keep(p[:n], err)
		}
	}
	b.mu.Unlock()
	return n, err
}

// push decodes p, the bytes one read returned at the time at, and err,
// its error: the usual events where they are, with DecodeUsual, the rest
// through the decoder's Next.
func (b *meter) push(p []byte, at time.Time, err error) {
	if len(p) > 0 {
		if b.usual != nil {
			for len(p) > 0 && !b.done {
				n := b.usual.DecodeUsual(p, at, &b.d)
				if n == 0 {
					break
				}
				p = p[n:]
				b.f.event(&b.m, &b.d)
			}
		}
		if len(p) > 0 {
			b.in.cur, b.in.at = p, at
			b.pump()
			b.in.cur = nil
		}
	}
	if err != nil && !b.done {
		b.in.err, b.in.at = err, at
		b.pump()
	}
}

// pump decodes events until the input runs out or the response ends.
func (b *meter) pump() {
	for !b.done {
		err := b.dec.Next(&b.d)
		if err == providers.ErrPending {
			return
		}
		if err != nil {
			// The response ended, or failed, with the read being decoded.
			b.finish(b.in.at, err)
			return
		}
		b.f.event(&b.m, &b.d)
		if b.starved != nil && len(b.in.cur) == 0 && b.in.err == nil && b.starved.NeedsInput() {
			return // the next Next would only say so
		}
	}
}

// keep adds p to a body decoded whole, and decodes it at its end.
func (b *meter) keep(p []byte, err error) {
	if room := maxWholeBody + 1 - len(b.whole); room > 0 {
		b.whole = append(b.whole, p[:min(len(p), room)]...)
	}
	switch {
	case err == io.EOF:
		b.decodeWhole()
	case err != nil && b.status >= 200 && b.status <= 299:
		b.finish(time.Now(), err)
	case err != nil:
		// An error status is what counts; its message is what arrived.
		b.decodeWhole()
	}
}

// decodeWhole decodes the kept body.
func (b *meter) decodeWhole() {
	b.resp.Body = io.NopCloser(bytes.NewReader(b.whole))
	if err := b.dec.Reset(&b.resp, &b.preq); err != nil {
		b.finish(time.Now(), err)
		return
	}
	for !b.done {
		err := b.dec.Next(&b.d)
		if err != nil {
			b.finish(time.Now(), err)
			return
		}
		b.f.event(&b.m, &b.d)
	}
}

// finish ends the measurement at end; err ended the decoding (io.EOF: a
// clean end).
func (b *meter) finish(end time.Time, err error) {
	b.done = true
	b.f.end(&b.m, end)
	if !errors.Is(err, io.EOF) {
		b.m.Class, b.m.Err = classify(b.ctx, err), err
		if err == errClosedEarly {
			b.m.Class = ClassCanceled
		}
	}
	b.api.pool.Put(b.dec)
	b.dec, b.starved, b.usual, b.whole, b.resp = nil, nil, nil, nil, http.Response{}
	req := b.req
	b.req = nil
	if !b.flushing {
		b.releaseHeld()
	}
	b.t.record(b.api, &b.m, req, b)
	if cap(b.m.ITLs) > 0 && cap(b.m.ITLs) <= maxPooledITLs {
		itls := b.m.ITLs[:0]
		b.m.ITLs = nil
		itlPool.Put(&itls)
	}
}

// itlPool holds the ITL slices of measured calls that ended, for the next
// calls: a stream of a thousand chunks would otherwise grow a new one
// each time. Slices of more than maxPooledITLs gaps are left to the
// collector.
var itlPool sync.Pool

const maxPooledITLs = 1 << 16

// Close closes the body. A response that had not ended counts as
// canceled, unless it is an error status or a whole body already read to
// its announced length, which are decoded as they are.
func (b *meter) Close() error {
	b.mu.Lock()
	b.flush()
	if !b.done {
		switch {
		case !b.live && (b.status < 200 || b.status > 299 || b.length >= 0 && int64(len(b.whole)) == b.length):
			b.decodeWhole()
		default:
			err := context.Cause(b.ctx)
			if err == nil {
				err = errClosedEarly
			}
			b.finish(time.Now(), err)
		}
	}
	b.mu.Unlock()
	return b.body.Close()
}

// feed is what a meter's decoder reads: the bytes of the application's
// current read, then providers.ErrPending until the next read, or the
// read's error. The decoder's SSE reader borrows the bytes (Lend) instead
// of copying them.
type feed struct {
	cur []byte
	at  time.Time // when the read of cur returned
	err error
}

// Lend returns at most max bytes of the current read, to be scanned where
// they are, and when the read returned, or no bytes and the error Read
// would return.
func (f *feed) Lend(max int) ([]byte, time.Time, error) {
	if len(f.cur) == 0 {
		if f.err != nil {
			return nil, time.Time{}, f.err
		}
		return nil, time.Time{}, providers.ErrPending
	}
	p := f.cur[:min(len(f.cur), max)]
	f.cur = f.cur[len(p):]
	return p, f.at, nil
}

// Close does nothing: the meter closes the body.
func (f *feed) Close() error { return nil }

func (f *feed) Read(p []byte) (int, error) {
	if len(f.cur) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		return 0, providers.ErrPending
	}
	n := copy(p, f.cur)
	f.cur = f.cur[n:]
	return n, nil
}
