package lens

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// journeyKey keys the context of a journey's calls.
type journeyKey struct{}

// journeyInfo is what a journey's context tells the Transport.
type journeyInfo struct {
	warmup bool // the journey is a warmup: its calls are not measured
}

var (
	warmupJourney   = &journeyInfo{warmup: true}
	measuredJourney = &journeyInfo{}
)

// journeyWarmup reports whether ctx is a warmup journey's.
func journeyWarmup(ctx context.Context) bool {
	j, ok := ctx.Value(journeyKey{}).(*journeyInfo)
	return ok && j.warmup
}

// journeyClient is what the journeys of one Run share: the Transport that
// measures their calls and the client they are given.
type journeyClient struct {
	*Transport
	client *http.Client
}

// newJourneyTransport returns the measuring client of sc's journeys,
// sending through base's transport, with its jar and timeout, and
// following no redirect.
func newJourneyTransport(sc *Scenario, base *http.Client) *journeyClient {
	t := &Transport{Base: base.Transport, Provider: sc.Provider, Name: sc.Name, Model: sc.Model, Price: sc.Price,
		SLO: sc.SLO, OnRequest: sc.OnRequest}
	t.start()
	return &journeyClient{
		Transport: t,
		client:    &http.Client{Transport: t, Jar: base.Jar, Timeout: base.Timeout, CheckRedirect: providers.CheckRedirect},
	}
}

// mergeInto adds the calls the journeys made to res, which holds the
// journeys themselves, and names the APIs they called.
func (j *journeyClient) mergeInto(res *Result) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	calls := j.snapshot()
	if err := res.merge(calls); err != nil {
		return err
	}
	if res.Provider == "" {
		res.Provider = calls.Provider
	}
	return nil
}

// journey runs one journey meant to start at intended, and records its
// duration and outcome.
func (w *worker) journey(ctx context.Context, intended time.Time, warmup bool) {
	sc := w.sc
	info := measuredJourney
	if warmup {
		info = warmupJourney
	}
	ctx, cancel := context.WithTimeoutCause(context.WithValue(ctx, journeyKey{}, info), sc.timeout(), errRequestTimeout)
	defer cancel()
	var err error
	start := time.Now()
	if err = sc.Gate.Acquire(ctx); err == nil {
		start = time.Now()
		err = w.runJourney(ctx)
		sc.Gate.Release()
	}
	d := time.Since(start)
	if warmup {
		return
	}
	rec := <-w.recs
	rec.recordJourney(d, start.Sub(intended), err)
	w.recs <- rec
}

// runJourney calls the scenario's journey, turning a panic into an error:
// a journey is the caller's code, and one bad journey must not take the
// run, and the measurements so far, down with it.
func (w *worker) runJourney(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("lens: the journey panicked: %v", p)
		}
	}()
	return w.sc.Journey(ctx, w.journeys.client)
}

// recordJourney folds one measured journey into r.
func (r *Result) recordJourney(d, queue time.Duration, err error) {
	r.Journeys++
	if queue >= 0 {
		r.QueueDelay.Record(queue)
	}
	if err != nil {
		r.JourneysFailed++
		if r.JourneyError == "" {
			r.JourneyError = err.Error()
		}
		return
	}
	r.Journey.Record(d)
}

// validateJourney adds a problem for each field that does not apply to a
// scenario with a Journey.
func (sc *Scenario) validateJourney(p *problems) {
	refuse := func(field string, set bool) {
		if set {
			p.add(field, "does not apply with a Journey (the caller's code makes the calls)")
		}
	}
	refuse("Prompt", sc.Prompt != "")
	refuse("System", sc.System != "")
	refuse("MaxTokens", sc.MaxTokens != 0)
	refuse("Temperature", sc.Temperature != nil)
	refuse("TopP", sc.TopP != nil)
	refuse("NoStream", sc.NoStream)
	refuse("Prompts", len(sc.Prompts) > 0)
	refuse("PromptTokens", sc.PromptTokens != nil)
	refuse("MaxTokensDist", sc.MaxTokensDist != nil)
	refuse("Retry", sc.Retry != Retry{})
	refuse("FirstTokenTimeout", sc.FirstTokenTimeout != 0)
	refuse("IdleTimeout", sc.IdleTimeout != 0)
	refuse("Limiter", sc.Limiter != nil)
	refuse("Logger", sc.Logger != nil)
	refuse("OnSend", sc.OnSend != nil)
	refuse("OnAttempt", sc.OnAttempt != nil)
	refuse("Session", sc.Session.Enabled())
	refuse("Trace", len(sc.Trace) > 0)
}
