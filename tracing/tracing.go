// Package tracing makes every request of a lens run an OpenTelemetry span,
// built after the request ended from the engine's own timestamps.
//
// Each request is one span of kind client, named "chat MODEL", from its
// intended send to the end of its response. Its attributes name the
// scenario, provider, model, request number, attempts, token counts, HTTP
// status and error class (the GenAI semantic conventions' gen_ai.* keys
// where they exist, lens.* otherwise); its events mark each phase of the
// request's last attempt at the instant the engine stamped it: send,
// dns.start, dns.done, connect.start, connect.done, tls.start, tls.done,
// request.written, first_byte, first_token, end. A retried request also
// has one child span per attempt, each with its own phase events. A failed
// request's span has status Error and its error class.
//
// Nothing is timed twice and nothing runs on the engine's path when
// tracing is off: Instrument adds hooks to a Scenario, and a Scenario
// without them pays nothing.
//
// Exporting is the SDK's: NewProvider builds a TracerProvider that batches
// spans to an OTLP/HTTP endpoint, configured by Options or by the standard
// OTEL_EXPORTER_OTLP_* environment variables.
package tracing

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/llm-latency-lens/lens"
)

// ScopeName is the instrumentation scope of the spans.
const ScopeName = "github.com/llm-latency-lens/lens/tracing"

// Span and event names.
const (
	SpanAttempt = "attempt" // a child span per attempt of a retried request

	EventSend           = "send"
	EventDNSStart       = "dns.start"
	EventDNSDone        = "dns.done"
	EventConnectStart   = "connect.start"
	EventConnectDone    = "connect.done"
	EventTLSStart       = "tls.start"
	EventTLSDone        = "tls.done"
	EventRequestWritten = "request.written"
	EventFirstByte      = "first_byte"
	EventFirstToken     = "first_token"
	EventEnd            = "end"
)

// Instrument adds to sc the hooks that turn each of its requests, warmup
// included, into spans of tp's tracer. Hooks already set on sc still run,
// first. The spans of a request are built when it ends, from its
// RequestMetrics; the only state kept in between is the measurements of a
// request's earlier attempts, until its last one ends.
//
// Instrument it once per Scenario value passed to lens.Run: request
// numbers start again at 0 in every run.
func Instrument(sc *lens.Scenario, tp trace.TracerProvider) {
	r := &recorder{
		tracer:   tp.Tracer(ScopeName),
		scenario: sc.Name,
		model:    sc.Model,
		attempts: map[int64][]attempt{},
	}
	if sc.Provider != nil {
		r.provider = sc.Provider.Name()
	}
	r.common = []attribute.KeyValue{
		attribute.String("lens.scenario", r.scenario),
		attribute.String("gen_ai.provider.name", r.provider),
		attribute.String("gen_ai.request.model", r.model),
		attribute.String("gen_ai.operation.name", "chat"),
	}
	r.name = "chat " + r.model
	sc.OnAttempt = lens.ChainHooks(sc.OnAttempt, r.attempt)
	sc.OnRequest = lens.ChainHooks(sc.OnRequest, r.request)
}

// recorder builds the spans of one scenario's requests.
type recorder struct {
	tracer                    trace.Tracer
	scenario, provider, model string
	name                      string
	common                    []attribute.KeyValue

	mu       sync.Mutex
	attempts map[int64][]attempt // earlier attempts of requests in flight, by Seq
}

// attempt is what a span needs of one attempt.
type attempt struct {
	n      int
	start  time.Time
	events []event
	attrs  []attribute.KeyValue
	failed bool
	status string
	end    time.Time
}

// event is one phase's instant.
type event struct {
	name string
	at   time.Time
}

// attempt keeps the measurements of an attempt that may not be the last.
// A request's last attempt is also passed to request, which builds every
// span; the first attempt of a request that succeeds at once is never
// stored.
func (r *recorder) attempt(m *lens.RequestMetrics) {
	if m.OK() && m.Attempts == 1 {
		return
	}
	a := newAttempt(m)
	r.mu.Lock()
	r.attempts[m.Seq] = append(r.attempts[m.Seq], a)
	r.mu.Unlock()
}

// request builds the spans of the request m, which has ended.
func (r *recorder) request(m *lens.RequestMetrics) {
	var earlier []attempt
	if m.Attempts > 1 || !m.OK() {
		r.mu.Lock()
		earlier = r.attempts[m.Seq]
		delete(r.attempts, m.Seq)
		r.mu.Unlock()
	}
	last := newAttempt(m)
	start := m.Intended
	if start.IsZero() || start.After(m.Start) {
		start = m.Start
	}
	if len(earlier) > 0 && earlier[0].start.Before(start) {
		start = earlier[0].start
	}
	attrs := make([]attribute.KeyValue, 0, len(r.common)+len(last.attrs)+6)
	attrs = append(attrs, r.common...)
	attrs = append(attrs,
		attribute.Int64("lens.seq", m.Seq),
		attribute.Bool("lens.warmup", m.Warmup),
		attribute.Int("lens.attempts", m.Attempts),
		attribute.Int64("lens.queue_delay_ns", int64(m.QueueDelay)),
	)
	attrs = append(attrs, last.attrs...)
	ctx, span := r.tracer.Start(context.Background(), r.name,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(start),
		trace.WithAttributes(attrs...))
	for _, ev := range last.events {
		span.AddEvent(ev.name, trace.WithTimestamp(ev.at))
	}
	if m.Attempts > 1 {
		// Every attempt, the last one included, is a child span; the
		// attempts that ended without a record (none, today) are skipped.
		for _, a := range earlier {
			if a.n < m.Attempts {
				r.child(ctx, a)
			}
		}
		r.child(ctx, last)
	}
	if last.failed {
		span.SetStatus(codes.Error, last.status)
	}
	span.End(trace.WithTimestamp(last.end))
}

// child records a as a child span of ctx's span.
func (r *recorder) child(ctx context.Context, a attempt) {
	_, span := r.tracer.Start(ctx, SpanAttempt,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(a.start),
		trace.WithAttributes(append([]attribute.KeyValue{attribute.Int("lens.attempt", a.n)}, a.attrs...)...))
	for _, ev := range a.events {
		span.AddEvent(ev.name, trace.WithTimestamp(ev.at))
	}
	if a.failed {
		span.SetStatus(codes.Error, a.status)
	}
	span.End(trace.WithTimestamp(a.end))
}

// newAttempt takes from m what the span of its attempt holds: the phase
// events at the engine's stamps (each one m has: a reused connection has
// no DNS, connect or TLS; a failed request may end before its first
// byte), the attributes of its outcome, and its end.
func newAttempt(m *lens.RequestMetrics) attempt {
	t0 := m.Start
	a := attempt{n: m.Attempts, start: t0, end: t0.Add(max(m.E2E, 0)), events: make([]event, 0, 11)}
	add := func(name string, d time.Duration) {
		if d >= 0 {
			a.events = append(a.events, event{name, t0.Add(d)})
		}
	}
	add(EventSend, 0)
	if m.DNS >= 0 && m.DNSStart >= 0 {
		add(EventDNSStart, m.DNSStart)
		add(EventDNSDone, m.DNSStart+m.DNS)
	}
	if m.Connect >= 0 && m.ConnectStart >= 0 {
		add(EventConnectStart, m.ConnectStart)
		add(EventConnectDone, m.ConnectStart+m.Connect)
	}
	if m.TLS >= 0 && m.TLSStart >= 0 {
		add(EventTLSStart, m.TLSStart)
		add(EventTLSDone, m.TLSStart+m.TLS)
	}
	add(EventRequestWritten, m.Wrote)
	add(EventFirstByte, m.TTFB)
	add(EventFirstToken, m.TTFT)
	add(EventEnd, max(m.E2E, 0))

	a.attrs = []attribute.KeyValue{
		attribute.Int("gen_ai.usage.output_tokens", m.OutputTokens),
		attribute.Int("gen_ai.usage.input_tokens", m.InputTokens),
		attribute.Int("lens.output_events", m.OutputEvents),
		attribute.Bool("lens.connection_reused", m.Reused),
	}
	if m.StatusCode != 0 {
		a.attrs = append(a.attrs, attribute.Int("http.response.status_code", m.StatusCode))
	}
	if m.Proto != "" {
		a.attrs = append(a.attrs, attribute.String("network.protocol.version", m.Proto))
	}
	if m.FinishReason != "" {
		a.attrs = append(a.attrs, attribute.StringSlice("gen_ai.response.finish_reasons", []string{m.FinishReason}))
	}
	if m.RequestID != "" {
		a.attrs = append(a.attrs, attribute.String("gen_ai.response.id", m.RequestID))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"lens.ttft_ns", m.TTFT}, {"lens.ttfb_ns", m.TTFB}, {"lens.e2e_ns", m.E2E}, {"lens.tpot_ns", m.TPOT}} {
		if d.v >= 0 {
			a.attrs = append(a.attrs, attribute.Int64(d.key, int64(d.v)))
		}
	}
	if !m.OK() {
		a.failed = true
		a.status = string(m.Class)
		if m.Err != nil {
			a.status += ": " + m.Err.Error()
		}
		a.attrs = append(a.attrs,
			attribute.String("error.type", string(m.Class)),
			attribute.String("lens.error_class", string(m.Class)))
	}
	return a
}
