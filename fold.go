package lens

import (
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// fold turns the Deltas of one response into a request's metrics: TTFT,
// ITLs, text events, usage, finish reason, and at the end E2E, token
// counts and TPOT. Run and Transport fold through it, so that a request
// measures the same whichever of them saw it.
type fold struct {
	t0     time.Time // the attempt's send
	stream bool      // the request asked for a stream: ITLs and TPOT count
	last   time.Time // the last text event's arrival
	usage  providers.Usage
	hasUse bool
}

// event folds d into m and reports whether d was the response's first
// text event.
func (f *fold) event(m *RequestMetrics, d *providers.Delta) (first bool) {
	if d.HasOutput() {
		if m.OutputEvents == 0 {
			m.TTFT = d.At.Sub(f.t0)
			first = true
		} else if f.stream {
			m.ITLs = append(m.ITLs, d.At.Sub(f.last))
		}
		f.last = d.At
		m.OutputEvents++
	}
	if d.HasUsage {
		f.usage, f.hasUse = d.Usage, true
	}
	if d.FinishReason != "" {
		m.FinishReason = d.FinishReason
	}
	return first
}

// end completes m for a response whose decoding ended at end: E2E, the
// token counts and TPOT. The caller classifies the error that ended it.
func (f *fold) end(m *RequestMetrics, end time.Time) {
	m.E2E = end.Sub(f.t0)
	if f.hasUse && f.usage.InputTokens > 0 {
		m.InputTokens = f.usage.InputTokens
	}
	if f.hasUse && f.usage.OutputTokens > 0 {
		m.OutputTokens, m.TokensFromUsage = f.usage.OutputTokens, true
	} else {
		m.OutputTokens = m.OutputEvents
	}
	if f.stream && m.OutputEvents >= 2 && m.OutputTokens >= 2 && m.TTFT >= 0 {
		m.TPOT = (m.E2E - m.TTFT) / time.Duration(m.OutputTokens-1)
	}
}

// connection fills m's connection phases and TTFB from the trace's stamps
// of an attempt sent at t0.
func (p *phases) connection(m *RequestMetrics, t0 time.Time) {
	m.DNS = span(p.dnsStart, p.dnsDone)
	m.Connect = span(p.connectStart, p.connectDone)
	m.TLS = span(p.tlsStart, p.tlsDone)
	if m.DNS >= 0 {
		m.DNSStart = span(t0, p.dnsStart)
	}
	if m.Connect >= 0 {
		m.ConnectStart = span(t0, p.connectStart)
	}
	if m.TLS >= 0 {
		m.TLSStart = span(t0, p.tlsStart)
	}
	m.Reused = p.reused
	m.Wrote = span(t0, p.wrote)
}

// dropForeignDial clears the connection phases of an HTTP/1 attempt that
// was handed a pooled connection: the transport may dial for an attempt
// and then give it a connection that freed up first (the dialed one goes
// to the pool), and the phases it saw belong to a connection it did not
// use. (Over HTTP/2 the attempt that dialed is told its connection is
// reused, so the phases stay.)
func dropForeignDial(m *RequestMetrics) {
	if m.Reused && strings.HasPrefix(m.Proto, "HTTP/1") {
		m.DNS, m.Connect, m.TLS = Absent, Absent, Absent
		m.DNSStart, m.ConnectStart, m.TLSStart = Absent, Absent, Absent
	}
}
