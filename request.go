package lens

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// RequestMetrics is the measurement of one request. Durations that a
// request did not have are negative (Absent): DNS, Connect and TLS on a
// reused connection, TTFT of a request that produced no output, TPOT of a
// request that was not a stream of at least two text events and two output
// tokens. Counts the server did not report are UnknownTokens.
type RequestMetrics struct {
	// Seq numbers the requests of a run from 0, in the order they started
	// (warmup first).
	Seq int64

	// Warmup marks warmup requests (not measured).
	Warmup bool

	// Stream says whether the request asked for a streamed response. A
	// response that is not streamed arrives whole, so it has no ITLs and no
	// TPOT (one body says nothing about the time between tokens), and its
	// usage is not compared with its number of text events.
	Stream bool

	// Intended is when the scheduler meant the request to be sent, Start
	// when it was (t0). They differ in open loop when the client lags.
	Intended time.Time
	Start    time.Time

	// QueueDelay is Start − Intended.
	QueueDelay time.Duration

	// DNS, Connect and TLS are the connection phases the attempt waited
	// for (Absent when it took a pooled connection). Reused says whether
	// the transport called its connection reused.
	DNS, Connect, TLS time.Duration
	Reused            bool

	// DNSStart, ConnectStart and TLSStart are t0 to the start of each of
	// those phases (Absent with the phase), so that a trace can place
	// them in time.
	DNSStart, ConnectStart, TLSStart time.Duration

	// Wrote is t0 to the request being fully written; TTFB t0 to the first
	// byte of the response headers (Absent when the transport does not
	// report it).
	Wrote, TTFB time.Duration

	// TTFT is t0 to the first text-bearing event (for a response that is
	// not streamed, the body that carries the text); E2E is t0 to the end
	// of the response. TPOT is (E2E − TTFT) / (OutputTokens − 1), for a
	// streamed response with at least two text events and two output
	// tokens, else Absent: when all the text came in one event, E2E − TTFT
	// is not the time the tokens took.
	TTFT, E2E, TPOT time.Duration

	// OutputTokens is the server's usage count when it sent one
	// (TokensFromUsage), else the number of text-bearing events.
	// OutputEvents is the number of text-bearing events either way.
	// InputTokens is the prompt's token count from the server's usage, or
	// UnknownTokens when the server reported none (no usage, or a usage
	// without it): unknown, not zero.
	OutputTokens    int
	OutputEvents    int
	TokensFromUsage bool
	InputTokens     int

	// Session and Turn place a request of a multi-turn conversation
	// (Scenario.Session): the conversation's number in the run, from 0,
	// and the request's turn in it, from 1. Turn is 0 outside sessions.
	Session int64
	Turn    int

	// ITLs are the gaps between consecutive text-bearing events. The slice
	// is reused: it is valid only during OnRequest.
	ITLs []time.Duration

	// FinishReason is the API's finish reason, if it sent one.
	FinishReason string

	// StatusCode is the HTTP status (0 when no response arrived), Proto
	// the response's protocol ("HTTP/1.1", "HTTP/2.0").
	StatusCode int
	Proto      string

	// RequestID is the server's id for the request, from the response's
	// x-request-id or request-id header, for finding a slow request in the
	// provider's logs.
	RequestID string

	// Class is the outcome: "" for success, else an ErrorClass. Err is the
	// error behind it. Both describe the last attempt.
	Class ErrorClass
	Err   error

	// Attempts is the number of attempts made (1 without retries);
	// Retried the classes of the attempts that failed and were retried
	// (reused like ITLs); RetryWait the time from the first attempt's send
	// to the last one's. Every timing above is of the last attempt.
	Attempts  int
	Retried   []ErrorClass
	RetryWait time.Duration
}

// resetAttempt clears what one attempt measures, keeping the request's
// identity and buffers.
func (m *RequestMetrics) resetAttempt() {
	m.Start = time.Time{}
	m.DNS, m.Connect, m.TLS = Absent, Absent, Absent
	m.DNSStart, m.ConnectStart, m.TLSStart = Absent, Absent, Absent
	m.Reused = false
	m.Wrote, m.TTFB, m.TTFT, m.E2E, m.TPOT = Absent, Absent, Absent, 0, Absent
	m.OutputTokens, m.OutputEvents, m.TokensFromUsage, m.InputTokens = 0, 0, false, UnknownTokens
	m.ITLs = m.ITLs[:0]
	m.FinishReason, m.StatusCode, m.Proto, m.RequestID, m.Class, m.Err = "", 0, "", "", "", nil
}

// Absent is the value of a duration a request did not have.
const Absent time.Duration = -1

// UnknownTokens is the value of a token count the server did not report.
const UnknownTokens = -1

// OK reports whether the request succeeded.
func (m *RequestMetrics) OK() bool { return m.Class == "" }

// TokensPerSecond is OutputTokens / E2E, the per-request throughput of the LLM-Latency-Lens schema
// (0 when either is 0).
func (m *RequestMetrics) TokensPerSecond() float64 {
	if m.OutputTokens <= 0 || m.E2E <= 0 {
		return 0
	}
	return float64(m.OutputTokens) / m.E2E.Seconds()
}

// trace stamps the connection phases of one attempt. A new trace is made
// for every attempt: the transport may finish a dial in the background
// after the attempt took another, pooled connection, and that dial's
// callbacks still arrive on the attempt's trace, from another goroutine,
// possibly after Do returned. So the callbacks write under a lock, and
// freeze stops them: what the attempt reads is a snapshot taken once, and
// late callbacks land in a trace nobody reads any more.
type trace struct {
	mu     sync.Mutex
	frozen bool
	phases phases
}

// phases are the stamps of one attempt's connection.
type phases struct {
	dnsStart, dnsDone         time.Time
	connectStart, connectDone time.Time
	tlsStart, tlsDone         time.Time
	wrote, firstByte          time.Time
	gotConn                   time.Time
	reused                    bool
}

// clientTrace returns the httptrace hooks that stamp t.
func (t *trace) clientTrace() *httptrace.ClientTrace {
	stamp := func(f func(p *phases, now time.Time)) {
		now := time.Now()
		t.mu.Lock()
		if !t.frozen {
			f(&t.phases, now)
		}
		t.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { stamp(func(p *phases, n time.Time) { p.dnsStart = n }) },
		DNSDone:  func(httptrace.DNSDoneInfo) { stamp(func(p *phases, n time.Time) { p.dnsDone = n }) },
		ConnectStart: func(string, string) {
			stamp(func(p *phases, n time.Time) {
				if p.connectStart.IsZero() {
					p.connectStart = n
				}
			})
		},
		ConnectDone:       func(string, string, error) { stamp(func(p *phases, n time.Time) { p.connectDone = n }) },
		TLSHandshakeStart: func() { stamp(func(p *phases, n time.Time) { p.tlsStart = n }) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { stamp(func(p *phases, n time.Time) { p.tlsDone = n }) },
		GotConn: func(i httptrace.GotConnInfo) {
			stamp(func(p *phases, n time.Time) { p.reused, p.gotConn = i.Reused, n })
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { stamp(func(p *phases, n time.Time) { p.wrote = n }) },
		GotFirstResponseByte: func() { stamp(func(p *phases, n time.Time) { p.firstByte = n }) },
	}
}

// freeze stops t's callbacks and returns its stamps. Connection phases
// count only when they ended before the attempt got its connection: the
// attempt waited for them. Phases that end later belong to a dial the
// transport finished in the background after the attempt took another
// connection, and are dropped. (Over HTTP/2 an attempt may wait for its
// own dial and still be told its connection is reused, when another
// request took the new connection first: its phases count.)
func (t *trace) freeze() phases {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.frozen = true
	p := t.phases
	before := func(start, done *time.Time) {
		if p.gotConn.IsZero() || done.After(p.gotConn) {
			*start, *done = time.Time{}, time.Time{}
		}
	}
	before(&p.dnsStart, &p.dnsDone)
	before(&p.connectStart, &p.connectDone)
	before(&p.tlsStart, &p.tlsDone)
	return p
}

// span returns b − a, or Absent when either end is missing.
func span(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return Absent
	}
	return b.Sub(a)
}

// exchange sends one attempt of a request and decodes its response into
// m. It is the timing core: t0 is taken just before the client sends;
// every later stamp comes from the trace or from the decoder's event
// arrival times.
func (w *worker) exchange(parent context.Context, preq *providers.Request, m *RequestMetrics) {
	sc := w.sc
	// One context and one timer per attempt: the watchdog cancels the
	// context, with the reason as its cause, at the whole-request timeout
	// or at a first-token or idle timeout, whichever comes first.
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	tr := &trace{}
	req, err := w.newRequest(httptrace.WithClientTrace(ctx, tr.clientTrace()), preq)
	if err != nil {
		m.Class, m.Err = ClassRequest, err
		m.Start = time.Now()
		return
	}

	if w.conv != nil {
		w.conv.answer = w.conv.answer[:0] // this attempt's answer only
	}
	t0 := time.Now()
	m.Start = t0
	wd := startWatchdog(sc.timeout(), sc.FirstTokenTimeout, sc.IdleTimeout, t0, cancel)
	defer wd.stop()
	resp, err := w.client.Do(req)
	ph := tr.freeze()
	ph.connection(m, t0)
	if err != nil {
		m.E2E = time.Since(t0)
		m.Class, m.Err = classify(ctx, err), err
		return
	}
	defer resp.Body.Close()
	w.body = body{ReadCloser: resp.Body}
	resp.Body = &w.body
	m.StatusCode, m.Proto = resp.StatusCode, resp.Proto
	dropForeignDial(m)
	m.TTFB = span(t0, ph.firstByte)
	m.RequestID = requestID(resp.Header)
	if w.log != nil {
		w.log.LogAttrs(ctx, slog.LevelDebug, "lens: request sent", slog.Int("attempt", m.Attempts),
			slog.Int("status", m.StatusCode), slog.Duration("ttfb", m.TTFB), slog.Bool("reused_conn", m.Reused))
	}

	if err := providers.Redirected(resp); err != nil {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		m.E2E = time.Since(t0)
		m.Class, m.Err = ClassRedirect, err
		return
	}
	if err := w.dec.Reset(resp, preq); err != nil {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		m.E2E = time.Since(t0)
		m.Class, m.Err = classify(ctx, err), err
		return
	}

	var (
		d    providers.Delta
		derr error
	)
	f := fold{t0: t0, stream: preq.Stream}
	for {
		derr = w.dec.Next(&d)
		if derr != nil {
			break
		}
		if w.conv != nil {
			w.conv.answer = append(w.conv.answer, d.Text...)
		}
		if f.event(m, &d) && w.log != nil {
			w.log.LogAttrs(ctx, slog.LevelDebug, "lens: first token", slog.Duration("ttft", m.TTFT))
		}
		wd.event(d.At, m.OutputEvents > 0)
	}
	f.end(m, time.Now())
	if derr == io.EOF {
		// The API's end marker may come before the end of the HTTP body (the
		// last chunk of a chunked response): read the rest, so that the
		// connection goes back to the pool instead of being closed.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	}
	if !errors.Is(derr, io.EOF) {
		m.Class, m.Err = classify(ctx, derr), derr
		if m.Class == ClassOther && w.body.err != nil {
			// Reading the body failed in a way the transport does not
			// type (a malformed chunk size, an HTTP/2 stream reset).
			m.Class = ClassConnection
		}
	}
}

// body is a response body that remembers the first error its reads
// returned other than io.EOF: a decoder's error after one comes from the
// connection, not from what the server sent.
type body struct {
	io.ReadCloser
	err error
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// watchdog enforces the timeouts of one attempt with a single timer,
// re-armed at each event when a first-token or idle timeout is set: its
// deadline is the earliest of t0 + the request timeout, t0 + the
// first-token timeout (until output arrives) and the last event + the idle
// timeout. When it fires it cancels the attempt's context with the matching
// cause, which classify reads.
type watchdog struct {
	total, first, idle time.Duration
	t0                 time.Time
	timer              *time.Timer
	cause              atomic.Int32 // the armed deadline's reason: one of causeTotal, causeFirst, causeIdle
}

const (
	causeTotal int32 = iota
	causeFirst
	causeIdle
)

var watchdogCauses = [...]error{causeTotal: errRequestTimeout, causeFirst: errFirstTokenTimeout, causeIdle: errIdleTimeout}

func startWatchdog(total, first, idle time.Duration, t0 time.Time, cancel context.CancelCauseFunc) *watchdog {
	wd := &watchdog{total: total, first: first, idle: idle, t0: t0}
	due, cause := wd.next(t0, false)
	wd.cause.Store(cause)
	wd.timer = time.AfterFunc(time.Until(due), func() { cancel(watchdogCauses[wd.cause.Load()]) })
	return wd
}

// next returns the deadline after an event at t, and its reason.
func (wd *watchdog) next(t time.Time, gotOutput bool) (time.Time, int32) {
	due, cause := wd.t0.Add(wd.total), causeTotal
	if wd.first > 0 && !gotOutput {
		if d := wd.t0.Add(wd.first); d.Before(due) {
			due, cause = d, causeFirst
		}
	}
	if wd.idle > 0 {
		if d := t.Add(wd.idle); d.Before(due) {
			due, cause = d, causeIdle
		}
	}
	return due, cause
}

// event re-arms the timer after an event at t. Without first-token and
// idle timeouts the deadline never moves and there is nothing to do.
func (wd *watchdog) event(t time.Time, gotOutput bool) {
	if wd.first <= 0 && wd.idle <= 0 {
		return
	}
	due, cause := wd.next(t, gotOutput)
	wd.cause.Store(cause)
	wd.timer.Reset(time.Until(due))
}

func (wd *watchdog) stop() { wd.timer.Stop() }

// newRequest returns the attempt's HTTP request, carrying ctx. When every
// request of the scenario is the same, the provider builds it once per run
// and each attempt gets a clone, with a fresh body: building means
// encoding the JSON body and parsing the URL, which is most of a request's
// client-side cost against a fast server.
func (w *worker) newRequest(ctx context.Context, preq *providers.Request) (*http.Request, error) {
	if w.varies {
		return w.sc.Provider.NewRequest(ctx, preq)
	}
	w.tmplOnce.Do(func() { w.tmpl, w.tmplErr = w.sc.Provider.NewRequest(context.Background(), preq) })
	if w.tmplErr != nil {
		return nil, w.tmplErr
	}
	req := w.tmpl.Clone(ctx)
	if w.tmpl.GetBody != nil {
		body, err := w.tmpl.GetBody()
		if err != nil {
			return nil, err
		}
		req.Body = body
	}
	return req, nil
}

// requestID returns the server's request id from h. It does not allocate.
func requestID(h http.Header) string {
	for _, k := range [...]string{"X-Request-Id", "Request-Id", "Apim-Request-Id", "X-Goog-Request-Id"} {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
