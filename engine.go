package lens

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// Run runs the scenario: Warmup unmeasured requests (closed loop), then the
// measured ones, in closed loop or, when Rate is set, in open loop; and
// returns what it measured.
//
// Run follows no redirect, whichever client sends the requests (see
// NewClient): a 3xx answer ends the request as ClassRedirect.
//
// Every request Run starts ends in exactly one outcome that the result
// counts. When ctx is canceled mid-run, requests in flight end as
// ClassCanceled, no new ones start, and Run returns the partial result
// together with an error wrapping ctx.Err(): what was measured is never
// thrown away. Configuration errors return a nil result.
func Run(ctx context.Context, sc Scenario) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	var client *http.Client
	if sc.Client == nil {
		client = NewClient(sc)
		defer client.CloseIdleConnections()
	} else {
		// The scenario's client, with its transport, jar and timeout, but
		// not its redirect policy: no client sends a provider's
		// credentials on to where a redirect points.
		c := *sc.Client
		c.CheckRedirect = providers.CheckRedirect
		client = &c
	}
	e := newEngine(&sc, client)
	if sc.Journey != nil {
		e.journeys = newJourneyTransport(&sc, client)
	}

	if sc.Warmup > 0 {
		e.closed(ctx, true, int64(sc.Warmup), 0)
	}
	if late := sc.startLate(time.Now()); late > 0 {
		var p problems
		p.add("StartAt", "the warmup ended %v after StartAt (%v; the tolerance is %v): the measured phase would start late; give a later StartAt or a shorter Warmup",
			late.Round(time.Millisecond), sc.StartAt.Format(time.RFC3339), StartAtTolerance)
		return nil, sc.refuse(p)
	}
	res := newResult(&sc)
	if !sc.StartAt.IsZero() {
		sleep(ctx, time.Until(sc.StartAt))
	}
	res.Started = time.Now()
	if !sc.StartAt.IsZero() && sc.open() {
		// The schedule counts from StartAt, the origin every shard shares,
		// even when the warmup overran it.
		res.Started = sc.StartAt
	}
	e.start = res.Started
	if e.journeys != nil {
		e.journeys.res.Started = res.Started
	}
	if ctx.Err() != nil {
		// Interrupted before the measured phase: nothing to run.
	} else if sc.open() {
		e.open(ctx, int64(sc.Requests), sc.Duration)
	} else {
		e.closed(ctx, false, sc.Shard.Share(int64(sc.Requests)), sc.Duration)
	}
	res.Elapsed = time.Since(res.Started)
	close(e.recs)
	for p := range e.recs {
		if err := res.merge(p); err != nil {
			return nil, err
		}
	}
	if e.journeys != nil {
		if err := e.journeys.mergeInto(res); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("lens: scenario %s interrupted after %d requests: %w", sc.Name, res.Total, err)
	}
	return res, nil
}

// NewClient returns the HTTP client Run uses when Scenario.Client is nil:
// one pooled transport with keep-alive, as many idle connections per host
// as the scenario has concurrency (or HTTP.PoolSize), HTTP/2 when the
// server offers it (unless HTTP.DisableHTTP2), and no transparent gzip, so
// that bytes are timed as they arrive.
//
// The client follows no redirect (its CheckRedirect is
// providers.CheckRedirect): a 3xx response is returned as it is, and Run
// ends the request as ClassRedirect with a *providers.RedirectError that
// names the Location. Following one would send the provider's credentials
// (X-Api-Key, X-Goog-Api-Key, Api-Key, custom headers; Go drops only
// Authorization and cookies on a cross-host redirect) to wherever the
// Location points, would turn a POST into a body-less GET on a 301, 302 or
// 303, and would time two exchanges as one. Run applies the same policy to
// a Scenario.Client of the caller's.
func NewClient(sc Scenario) *http.Client {
	o := sc.HTTP
	pool := o.PoolSize
	if pool <= 0 {
		pool = sc.concurrency() + 16
	}
	connect := o.ConnectTimeout
	if connect <= 0 {
		connect = 30 * time.Second
	}
	idle := o.KeepAlive
	if idle <= 0 {
		idle = 90 * time.Second
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   connect,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     !o.DisableHTTP2,
		MaxIdleConns:          pool,
		MaxIdleConnsPerHost:   pool,
		IdleConnTimeout:       idle,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		DisableKeepAlives:     o.DisableKeepAlives,
		TLSClientConfig:       o.TLSConfig.Clone(),
	}
	if o.DisableHTTP2 {
		var p http.Protocols
		p.SetHTTP1(true)
		tr.Protocols = &p
	}
	return &http.Client{Transport: tr, CheckRedirect: providers.CheckRedirect}
}

// engine holds what the workers of one Run share.
type engine struct {
	sc       *Scenario
	client   *http.Client
	preq     *providers.Request
	varies   bool // the request differs per request (prompt sets, lengths)
	seq      atomic.Int64
	sessions atomic.Int64 // conversations begun (Scenario.Session)
	start    time.Time    // when the measured phase began

	// recs holds the partial results. A worker takes one to record a
	// finished request and puts it back: one channel operation per request,
	// none per event, and a few histogram sets however many requests are
	// in flight (each set is large: HDR histograms at 3 significant
	// figures over 1ns..10min, 248 KiB per latency histogram).
	recs chan *Result

	// idle holds workers between open-loop requests.
	idle chan *worker

	// journeys measures the calls of Scenario.Journey (nil without one).
	journeys *journeyClient

	// tmpl is the HTTP request every attempt clones when no request
	// differs from another (see worker.newRequest).
	tmplOnce sync.Once
	tmpl     *http.Request
	tmplErr  error
}

func newEngine(sc *Scenario, client *http.Client) *engine {
	e := &engine{
		sc:     sc,
		client: client,
		preq:   sc.request(),
		varies: len(sc.Prompts) > 0 || sc.PromptTokens != nil || sc.MaxTokensDist != nil ||
			len(sc.Trace) > 0 || sc.Session.Enabled(),
	}
	n := min(max(2, 2*runtime.GOMAXPROCS(0)), max(1, sc.concurrency(), sc.inFlightLimit()))
	e.recs = make(chan *Result, n)
	for range n {
		e.recs <- newResult(sc)
	}
	return e
}

// inFlightLimit is the open-loop cap on requests in flight.
func (sc *Scenario) inFlightLimit() int {
	if !sc.open() {
		return sc.concurrency()
	}
	if sc.Concurrency > 0 {
		return sc.Concurrency
	}
	if sc.MaxInFlight > 0 {
		return sc.MaxInFlight
	}
	return DefaultMaxInFlight
}

// worker is one goroutine's private state while it runs a request: its
// decoder, random source and metrics buffer.
type worker struct {
	*engine
	dec  providers.Decoder
	pcg  rand.PCG
	rng  *rand.Rand
	req  providers.Request
	m    RequestMetrics
	body body         // the current response's body
	log  *slog.Logger // the current request's logger; nil when not logging

	trace *TraceRequest // the trace entry of the next open-loop request, if any
	conv  *conversation // the user's conversation, with Scenario.Session
}

func (e *engine) newWorker() *worker {
	w := &worker{engine: e}
	if e.sc.Journey == nil {
		w.dec = e.sc.Provider.NewDecoder()
	}
	w.rng = rand.New(&w.pcg)
	return w
}

// closed runs n requests (or, when n is 0, requests for d) in closed loop:
// each worker sends its next request when its last one ends. A sharded
// run's shard runs its own workers of the whole run's (see Shard), and n
// is its own share of the requests.
func (e *engine) closed(ctx context.Context, warmup bool, n int64, d time.Duration) {
	conc := e.sc.concurrency()
	var own []int // the whole run's numbers of this shard's workers
	for i := range conc {
		if e.sc.Shard.owns(int64(i)) {
			own = append(own, i)
		}
	}
	if n > 0 && int64(len(own)) > n {
		own = own[:n]
	}
	var deadline time.Time
	if n == 0 {
		deadline = time.Now().Add(d)
	}
	var issued atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, i := range own {
		w := e.newWorker()
		wg.Go(func() {
			// With a ramp-up, worker i starts at i/conc of it, so that the
			// workers do not move in lockstep.
			if ramp := e.sc.RampUp; ramp > 0 && i > 0 {
				if !sleep(ctx, time.Until(start.Add(ramp*time.Duration(i)/time.Duration(conc)))) {
					return
				}
			}
			for ctx.Err() == nil {
				k := issued.Add(1)
				if n > 0 && k > n {
					return
				}
				if warmup && len(e.sc.Trace) > 0 {
					// A replay's warmups take the shapes of its first
					// entries: its prompts and output lengths, not the
					// server's longest answer.
					w.trace = &e.sc.Trace[(k-1)%int64(len(e.sc.Trace))]
				}
				if n == 0 && !time.Now().Before(deadline) {
					return
				}
				if e.sc.Session.Enabled() && !w.nextTurn(ctx, n == 0, deadline) {
					return
				}
				w.do(ctx, time.Now(), warmup)
			}
		})
	}
	wg.Wait()
}

// open runs n requests (or, when n is 0, the arrivals within d) in open
// loop: arrival k is due at start + the schedule's k-th offset, computed
// from absolute times so that a late wake-up never shifts later arrivals;
// an arrival that is already due is sent at once. In-flight requests are
// capped by Concurrency (or MaxInFlight); an arrival that finds the cap
// full waits, and the wait is its queue delay.
func (e *engine) open(ctx context.Context, n int64, d time.Duration) {
	sc := e.sc
	limit := sc.inFlightLimit()
	slots := make(chan struct{}, limit)
	e.idle = make(chan *worker, limit)
	arr := newArrivals(sc, n, d)
	var timer *time.Timer
	var wg sync.WaitGroup
	start := e.start
loop:
	for {
		off, tr, ok := arr.next()
		if !ok {
			break
		}
		intended := start.Add(off)
		if wait := time.Until(intended); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-ctx.Done():
				break loop
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		var w *worker
		select {
		case w = <-e.idle:
		default:
			w = e.newWorker()
		}
		w.trace = tr
		wg.Go(func() {
			w.do(ctx, intended, false)
			e.idle <- w
			<-slots
		})
	}
	if timer != nil {
		timer.Stop()
	}
	wg.Wait()
}

// do runs one request meant to be sent at intended, with its retries, and
// records its outcome.
func (w *worker) do(ctx context.Context, intended time.Time, warmup bool) {
	sc := w.sc
	if sc.Journey != nil {
		w.journey(ctx, intended, warmup)
		return
	}
	itls, retried := w.m.ITLs[:0], w.m.Retried[:0]
	w.m = RequestMetrics{
		Seq:      w.seq.Add(1) - 1,
		Warmup:   warmup,
		Intended: intended,
		ITLs:     itls,
		Retried:  retried,
	}
	m := &w.m
	m.Seq = sc.Shard.global(m.Seq)
	if c := w.conv; c != nil {
		m.Session, m.Turn = c.id, c.turn+1
	}
	w.pcg.Seed(sc.Seed, uint64(m.Seq))
	preq := w.prepare()
	m.Stream = preq.Stream
	log := w.logger(m)
	w.log = log
	if log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "lens: request scheduled", slog.Time("intended", intended))
	}

	if sc.OnSend != nil {
		sc.OnSend(m)
	}
	var firstStart time.Time
	for attempt := 1; ; attempt++ {
		m.resetAttempt()
		m.Attempts = attempt
		w.attempt(ctx, preq, m)
		if sc.OnAttempt != nil {
			sc.OnAttempt(m)
		}
		if firstStart.IsZero() {
			firstStart = m.Start
		}
		if m.OK() || attempt >= sc.Retry.attempts() || !retryable(m.Class, m.Err, m.OutputEvents) || ctx.Err() != nil {
			break
		}
		wait := sc.Retry.backoff(attempt, m.Err, w.rng)
		if log != nil {
			log.LogAttrs(ctx, slog.LevelDebug, "lens: request retried", slog.Int("attempt", attempt),
				slog.String("class", string(m.Class)), slog.String("error", errString(m.Err)), slog.Duration("backoff", wait))
		}
		if !sleep(ctx, wait) {
			// Interrupted before the next attempt: this one stays the
			// last, and was not retried.
			break
		}
		m.Retried = append(m.Retried, m.Class)
	}
	m.RetryWait = m.Start.Sub(firstStart)
	m.QueueDelay = firstStart.Sub(intended)
	if log != nil {
		if m.OK() {
			log.LogAttrs(ctx, slog.LevelDebug, "lens: request done", slog.Duration("ttft", m.TTFT),
				slog.Duration("e2e", m.E2E), slog.Int("output_tokens", m.OutputTokens), slog.Int("attempts", m.Attempts))
		} else {
			log.LogAttrs(ctx, slog.LevelDebug, "lens: request failed", slog.String("class", string(m.Class)),
				slog.String("error", errString(m.Err)), slog.Int("status", m.StatusCode), slog.Int("attempts", m.Attempts))
		}
	}
	if !warmup {
		rec := <-w.recs
		rec.record(m, &w.sc.SLO, w.sc.open(), w.start)
		w.recs <- rec
	}
	if w.conv != nil {
		w.conv.add(preq.Prompt, m)
	}
	if sc.OnRequest != nil {
		sc.OnRequest(m)
	}
}

// attempt sends one attempt of a request, after the gate and the rate
// limiter let it, and fills m with its outcome.
func (w *worker) attempt(ctx context.Context, preq *providers.Request, m *RequestMetrics) {
	sc := w.sc
	if err := sc.Gate.Acquire(ctx); err != nil {
		m.Start = time.Now()
		m.Class, m.Err = ClassCanceled, err
		return
	}
	defer sc.Gate.Release()
	if err := sc.Limiter.Wait(ctx, estimateTokens(preq)); err != nil {
		m.Start = time.Now()
		m.Class, m.Err = ClassCanceled, err
		return
	}
	w.exchange(ctx, preq, m)
}

// prepare returns the request to send: the scenario's own, or one with the
// prompt and limit drawn for this request number.
func (w *worker) prepare() *providers.Request {
	if !w.varies {
		return w.preq
	}
	sc := w.sc
	w.req = *w.preq
	if tr := w.trace; tr != nil {
		w.req.Prompt = syntheticPrompt(max(tr.InputTokens, 1), w.rng)
		w.req.MaxTokens = max(tr.OutputTokens, 1)
		return &w.req
	}
	if w.conv != nil {
		w.req.History = w.conv.history
	}
	switch {
	case sc.PromptTokens != nil:
		w.req.Prompt = syntheticPrompt(sampleInt(sc.PromptTokens, w.rng, 1), w.rng)
	case len(sc.Prompts) > 0:
		w.req.Prompt = sc.Prompts[w.rng.IntN(len(sc.Prompts))]
	}
	if sc.MaxTokensDist != nil {
		w.req.MaxTokens = sampleInt(sc.MaxTokensDist, w.rng, 1)
	}
	return &w.req
}

// estimateTokens is what a request counts against a tokens-per-minute
// limit before it is sent: about one token per four prompt characters,
// plus the most it may generate (MaxTokens, or 256 when unset).
func estimateTokens(r *providers.Request) int {
	out := r.MaxTokens
	if out <= 0 {
		out = 256
	}
	return (len(r.Prompt)+len(r.System))/4 + 1 + out
}

func (w *worker) logger(m *RequestMetrics) *slog.Logger {
	l := w.sc.Logger
	if l == nil || !l.Enabled(context.Background(), slog.LevelDebug) {
		return nil
	}
	return l.With(slog.String("scenario", w.sc.Name), slog.Int64("seq", m.Seq), slog.Bool("warmup", m.Warmup))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sleep waits for d or until ctx ends, and reports whether it waited the
// whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
