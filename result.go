package lens

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/stats"
)

// Result is what Run measured for one scenario. Latency distributions hold
// successful requests only (a failed request has no complete timing);
// failures are counted per class in Errors. Warmup requests are in none of
// it.
type Result struct {
	Scenario string // Scenario.Name
	Provider string // Provider.Name()
	Model    string

	// Started is when the measured phase began; Elapsed its wall time.
	Started time.Time
	Elapsed time.Duration

	// Concurrency and Rate are the workload shape that was run: in closed
	// loop the number of workers (at least 1), in open loop the cap on
	// requests in flight (0: none).
	Concurrency int
	Rate        float64

	// Total counts measured requests; Total == Succeeded + Failed, and
	// Failed is the sum of Errors.
	Total, Succeeded, Failed int64

	// Errors counts failed requests by class; ErrorSamples keeps the first
	// error message seen for each class.
	Errors       map[ErrorClass]int64
	ErrorSamples map[ErrorClass]string

	// Latency distributions; see the package documentation for the exact
	// definitions. DNS, Connect and TLS count only requests that opened a
	// connection. QueueDelay is recorded in every mode (≈0 in closed loop).
	TTFT, ITL, TPOT, E2E, TTFB *stats.Latency
	DNS, Connect, TLS          *stats.Latency
	QueueDelay                 *stats.Latency

	// TokensPerSecond is the per-request OutputTokens/E2E distribution;
	// OutputTokens the per-request output token counts.
	TokensPerSecond *stats.Values
	OutputTokens    *stats.Values

	// Token totals over successful requests. InputTokensTotal sums the
	// prompt tokens of the InputTokensCounted requests whose usage
	// reported them; the others' are unknown, and counted nowhere.
	InputTokensTotal   int64
	InputTokensCounted int64
	OutputTokensTotal  int64

	// TokensFromUsage counts successful requests whose output token count
	// came from the server's usage (the rest counted text events).
	// TokenMismatches counts the streamed ones among them whose usage
	// count differs from their number of text events — expected when one
	// event carries several tokens, a sign of trouble when the API sends
	// one token per event. (A response that is not streamed is one body:
	// its events are not compared with its usage.)
	TokensFromUsage int64
	TokenMismatches int64

	// Good counts requests that succeeded and met every limit of the
	// scenario's SLO (all successful requests when it sets none).
	Good int64

	// Attempts counts attempts over all measured requests; Retried the
	// requests that needed more than one; RetriedBy the failed attempts
	// that were retried, by class.
	Attempts  int64
	Retried   int64
	RetriedBy map[ErrorClass]int64

	// TTFTFromIntended and E2EFromIntended are TTFT and E2E measured from
	// the intended send time instead of the actual one: queue delay and
	// retries included. They are recorded in open loop only, where they
	// are the latencies a user arriving on schedule would see.
	TTFTFromIntended, E2EFromIntended *stats.Latency

	// FirstSend and LastSend are the first and last actual send times of
	// the measured requests (AchievedRate).
	FirstSend, LastSend time.Time

	// Priced says whether the model's price was known (Scenario.Price, or
	// DefaultPricing); without it, costs are absent, not zero. InputCost
	// and OutputCost are in USD over successful requests; InputCost
	// covers the InputTokensCounted requests whose prompt tokens are known.
	Priced                bool
	Price                 Price
	InputCost, OutputCost float64

	// Timeline counts requests by the TimelineStep (1s) in which they
	// ended, from Started: throughput over time.
	Timeline []Tick

	// Journeys counts the measured journeys of a scenario with a
	// Scenario.Journey (0 without one), JourneysFailed those whose code
	// returned an error (or panicked, or whose Gate wait was cut short),
	// and JourneyError is the first such error's message. Journey is the
	// distribution of the successful journeys' durations, from the start
	// of the caller's code to its return: the latency a user of the
	// application sees, calls and the code between them included.
	Journeys, JourneysFailed int64
	JourneyError             string
	Journey                  *stats.Latency
}

// TimelineStep is the width of a Result's Timeline buckets.
const TimelineStep = time.Second

// Tick is one bucket of a Timeline.
type Tick struct {
	Requests     int64 `json:"requests"`      // requests that ended in the bucket
	Failed       int64 `json:"failed"`        // of which failed
	OutputTokens int64 `json:"output_tokens"` // output tokens of the successful ones
}

func newResult(sc *Scenario) *Result {
	conc := sc.Concurrency
	if !sc.open() {
		conc = sc.concurrency()
	}
	provider := ""
	if sc.Provider != nil {
		provider = sc.Provider.Name()
	}
	r := &Result{
		Scenario:        sc.Name,
		Provider:        provider,
		Model:           sc.Model,
		Concurrency:     conc,
		Rate:            sc.Rate,
		Errors:          map[ErrorClass]int64{},
		ErrorSamples:    map[ErrorClass]string{},
		RetriedBy:       map[ErrorClass]int64{},
		TTFT:            stats.NewLatency(),
		ITL:             stats.NewLatency(),
		TPOT:            stats.NewLatency(),
		E2E:             stats.NewLatency(),
		TTFB:            stats.NewLatency(),
		DNS:             stats.NewLatency(),
		Connect:         stats.NewLatency(),
		TLS:             stats.NewLatency(),
		QueueDelay:      stats.NewLatency(),
		Journey:         stats.NewLatency(),
		TokensPerSecond: stats.NewValues(),
		OutputTokens:    stats.NewValues(),
	}
	if sc.Price != nil {
		r.Priced, r.Price = true, *sc.Price
	} else if p, ok := DefaultPricing.Lookup(provider, sc.Model); ok && provider != "" {
		r.Priced, r.Price = true, p
	}
	if sc.open() {
		r.TTFTFromIntended = stats.NewLatency()
		r.E2EFromIntended = stats.NewLatency()
	}
	return r
}

// record folds one measured request into r, a partial result held by one
// goroutine at a time. start is when the measured phase began.
func (r *Result) record(m *RequestMetrics, slo *SLO, open bool, start time.Time) {
	r.Total++
	if !m.Start.IsZero() {
		i := int(m.Start.Add(max(m.E2E, 0)).Sub(start) / TimelineStep)
		if i >= 0 {
			if i >= len(r.Timeline) {
				r.Timeline = append(r.Timeline, make([]Tick, i+1-len(r.Timeline))...)
			}
			r.Timeline[i].Requests++
			if !m.OK() {
				r.Timeline[i].Failed++
			} else {
				r.Timeline[i].OutputTokens += int64(m.OutputTokens)
			}
		}
	}
	r.Attempts += int64(m.Attempts)
	if m.Attempts > 1 {
		r.Retried++
	}
	for _, c := range m.Retried {
		r.RetriedBy[c]++
	}
	if !m.Start.IsZero() {
		if r.FirstSend.IsZero() || m.Start.Before(r.FirstSend) {
			r.FirstSend = m.Start
		}
		if m.Start.After(r.LastSend) {
			r.LastSend = m.Start
		}
	}
	if m.QueueDelay >= 0 {
		r.QueueDelay.Record(m.QueueDelay)
	}
	if !m.OK() {
		r.Failed++
		r.Errors[m.Class]++
		if _, ok := r.ErrorSamples[m.Class]; !ok && m.Err != nil {
			r.ErrorSamples[m.Class] = m.Err.Error()
		}
		return
	}
	r.Succeeded++
	recordIf(r.DNS, m.DNS)
	recordIf(r.Connect, m.Connect)
	recordIf(r.TLS, m.TLS)
	recordIf(r.TTFB, m.TTFB)
	recordIf(r.TTFT, m.TTFT)
	recordIf(r.TPOT, m.TPOT)
	r.E2E.Record(m.E2E)
	if open {
		end := m.Start.Sub(m.Intended)
		if m.TTFT >= 0 {
			r.TTFTFromIntended.Record(end + m.TTFT)
		}
		r.E2EFromIntended.Record(end + m.E2E)
	}
	if slo.Met(m) {
		r.Good++
	}
	for _, d := range m.ITLs {
		r.ITL.Record(d)
	}
	if tps := m.TokensPerSecond(); tps > 0 {
		r.TokensPerSecond.Record(tps)
	}
	r.OutputTokens.Record(float64(m.OutputTokens))
	if m.InputTokens >= 0 {
		r.InputTokensTotal += int64(m.InputTokens)
		r.InputTokensCounted++
	}
	r.OutputTokensTotal += int64(m.OutputTokens)
	if r.Priced {
		r.InputCost += r.Price.Cost(int64(max(m.InputTokens, 0)), 0)
		r.OutputCost += r.Price.Cost(0, int64(m.OutputTokens))
	}
	if m.TokensFromUsage {
		r.TokensFromUsage++
		if m.Stream && m.OutputTokens != m.OutputEvents {
			r.TokenMismatches++
		}
	}
}

func recordIf(l *stats.Latency, d time.Duration) {
	if d >= 0 {
		l.Record(d)
	}
}

// merge adds the partial result o (same scenario) into r, losslessly.
func (r *Result) merge(o *Result) error {
	r.Total += o.Total
	r.Succeeded += o.Succeeded
	r.Failed += o.Failed
	for k, v := range o.Errors {
		r.Errors[k] += v
	}
	for k, v := range o.ErrorSamples {
		if _, ok := r.ErrorSamples[k]; !ok {
			r.ErrorSamples[k] = v
		}
	}
	for k, v := range o.RetriedBy {
		r.RetriedBy[k] += v
	}
	r.Attempts += o.Attempts
	r.Retried += o.Retried
	r.Good += o.Good
	if !o.FirstSend.IsZero() && (r.FirstSend.IsZero() || o.FirstSend.Before(r.FirstSend)) {
		r.FirstSend = o.FirstSend
	}
	if o.LastSend.After(r.LastSend) {
		r.LastSend = o.LastSend
	}
	pairs := [...][2]*stats.Latency{
		{r.TTFT, o.TTFT}, {r.ITL, o.ITL}, {r.TPOT, o.TPOT}, {r.E2E, o.E2E}, {r.TTFB, o.TTFB},
		{r.DNS, o.DNS}, {r.Connect, o.Connect}, {r.TLS, o.TLS}, {r.QueueDelay, o.QueueDelay},
		{r.TTFTFromIntended, o.TTFTFromIntended}, {r.E2EFromIntended, o.E2EFromIntended},
		{r.Journey, o.Journey},
	}
	for _, p := range pairs {
		if p[0] == nil || p[1] == nil {
			if p[1] != nil && p[1].Count() > 0 {
				return fmt.Errorf("lens: merge results: open-loop distributions into a closed-loop result")
			}
			continue
		}
		if err := p[0].Merge(p[1]); err != nil {
			return fmt.Errorf("lens: merge results: %w", err)
		}
	}
	if err := r.TokensPerSecond.Merge(o.TokensPerSecond); err != nil {
		return fmt.Errorf("lens: merge results: %w", err)
	}
	if err := r.OutputTokens.Merge(o.OutputTokens); err != nil {
		return fmt.Errorf("lens: merge results: %w", err)
	}
	r.InputTokensTotal += o.InputTokensTotal
	r.InputTokensCounted += o.InputTokensCounted
	r.OutputTokensTotal += o.OutputTokensTotal
	r.InputCost += o.InputCost
	r.OutputCost += o.OutputCost
	if len(o.Timeline) > len(r.Timeline) {
		r.Timeline = append(r.Timeline, make([]Tick, len(o.Timeline)-len(r.Timeline))...)
	}
	for i, t := range o.Timeline {
		r.Timeline[i].Requests += t.Requests
		r.Timeline[i].Failed += t.Failed
		r.Timeline[i].OutputTokens += t.OutputTokens
	}
	r.TokensFromUsage += o.TokensFromUsage
	r.TokenMismatches += o.TokenMismatches
	r.Journeys += o.Journeys
	r.JourneysFailed += o.JourneysFailed
	if r.JourneyError == "" {
		r.JourneyError = o.JourneyError
	}
	return nil
}

// ErrorRate is Failed / Total (0 when nothing ran).
func (r *Result) ErrorRate() float64 { return ratio(r.Failed, r.Total) }

// RequestsPerSecond is the achieved request rate of the measured phase.
func (r *Result) RequestsPerSecond() float64 { return perSecond(r.Total, r.Elapsed) }

// AchievedRate is the rate at which the measured requests were actually
// sent: (Total − 1) / (LastSend − FirstSend). In open loop, compare it
// with the Rate asked for.
func (r *Result) AchievedRate() float64 {
	span := r.LastSend.Sub(r.FirstSend)
	if r.Total < 2 || span <= 0 {
		return 0
	}
	return float64(r.Total-1) / span.Seconds()
}

// TotalCost is InputCost + OutputCost, in USD (0 when not Priced).
func (r *Result) TotalCost() float64 { return r.InputCost + r.OutputCost }

// CostPerRequest is the mean cost of a measured request, in USD (the
// seed's mean_cost_per_request).
func (r *Result) CostPerRequest() float64 {
	if r.Total == 0 {
		return 0
	}
	return r.TotalCost() / float64(r.Total)
}

// CostPer1KTokens is the cost of a thousand tokens, input and output
// together, in USD.
func (r *Result) CostPer1KTokens() float64 {
	tokens := r.InputTokensTotal + r.OutputTokensTotal
	if tokens == 0 {
		return 0
	}
	return r.TotalCost() / float64(tokens) * 1000
}

// Goodput is the share of measured requests that succeeded and met every
// limit of the scenario's SLO (0 when nothing ran).
func (r *Result) Goodput() float64 { return ratio(r.Good, r.Total) }

// OutputTokensPerSecond is the aggregate output throughput of the measured
// phase: all output tokens over its wall time.
func (r *Result) OutputTokensPerSecond() float64 {
	return perSecond(r.OutputTokensTotal, r.Elapsed)
}

// ratio is n / d, 0 when d is 0.
func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// perSecond is n over the time d, 0 when d is not positive.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Metric names a latency distribution of a Result.
type Metric string

// The latency metrics.
const (
	MetricTTFT       Metric = "ttft"
	MetricITL        Metric = "itl"
	MetricTPOT       Metric = "tpot"
	MetricE2E        Metric = "e2e"
	MetricTTFB       Metric = "ttfb"
	MetricDNS        Metric = "dns"
	MetricConnect    Metric = "connect"
	MetricTLS        Metric = "tls"
	MetricQueueDelay Metric = "queue"

	// MetricJourney is the duration of a whole journey of a scenario with
	// a Scenario.Journey (Result.Journey). It is not in Metrics, which
	// lists the metrics of every request.
	MetricJourney Metric = "journey"
)

// Metrics lists every latency metric, in display order.
var Metrics = []Metric{MetricTTFT, MetricITL, MetricTPOT, MetricE2E, MetricTTFB, MetricDNS, MetricConnect, MetricTLS, MetricQueueDelay}

// String returns the metric's display name ("TTFT", "queue delay").
func (m Metric) String() string {
	switch m {
	case MetricConnect:
		return "connect"
	case MetricQueueDelay:
		return "queue delay"
	}
	return strings.ToUpper(string(m))
}

// metricFields locates each latency metric in a Result and, for those
// a request has one value of, in a RequestMetrics.
var metricFields = map[Metric]struct {
	result  func(*Result) *stats.Latency
	request func(*RequestMetrics) time.Duration // nil: not one value per request
}{
	MetricTTFT:       {func(r *Result) *stats.Latency { return r.TTFT }, func(m *RequestMetrics) time.Duration { return m.TTFT }},
	MetricITL:        {func(r *Result) *stats.Latency { return r.ITL }, nil},
	MetricTPOT:       {func(r *Result) *stats.Latency { return r.TPOT }, func(m *RequestMetrics) time.Duration { return m.TPOT }},
	MetricE2E:        {func(r *Result) *stats.Latency { return r.E2E }, func(m *RequestMetrics) time.Duration { return m.E2E }},
	MetricTTFB:       {func(r *Result) *stats.Latency { return r.TTFB }, func(m *RequestMetrics) time.Duration { return m.TTFB }},
	MetricDNS:        {func(r *Result) *stats.Latency { return r.DNS }, func(m *RequestMetrics) time.Duration { return m.DNS }},
	MetricConnect:    {func(r *Result) *stats.Latency { return r.Connect }, func(m *RequestMetrics) time.Duration { return m.Connect }},
	MetricTLS:        {func(r *Result) *stats.Latency { return r.TLS }, func(m *RequestMetrics) time.Duration { return m.TLS }},
	MetricQueueDelay: {func(r *Result) *stats.Latency { return r.QueueDelay }, func(m *RequestMetrics) time.Duration { return m.QueueDelay }},
	MetricJourney:    {func(r *Result) *stats.Latency { return r.Journey }, nil},
}

// Latency returns the distribution of metric m (nil for an unknown name).
func (r *Result) Latency(m Metric) *stats.Latency {
	if f, ok := metricFields[m]; ok {
		return f.result(r)
	}
	return nil
}

// Latency returns the value of metric m that request r has, and whether
// it has one: false for a phase it did not have (Absent), and for
// MetricITL (r.ITLs holds its many values), MetricJourney and unknown
// names.
func (r *RequestMetrics) Latency(m Metric) (time.Duration, bool) {
	f := metricFields[m]
	if f.request == nil {
		return 0, false
	}
	d := f.request(r)
	return d, d >= 0
}

// ErrorClasses returns the classes in r.Errors, most frequent first.
func (r *Result) ErrorClasses() []ErrorClass {
	cs := make([]ErrorClass, 0, len(r.Errors))
	for c := range r.Errors {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if r.Errors[cs[i]] != r.Errors[cs[j]] {
			return r.Errors[cs[i]] > r.Errors[cs[j]]
		}
		return cs[i] < cs[j]
	})
	return cs
}

// String summarizes r in one line.
func (r *Result) String() string {
	return fmt.Sprintf("%s %s/%s: %d requests (%d failed) in %v; TTFT p50 %v p95 %v; ITL p50 %v; E2E p50 %v",
		r.Scenario, r.Provider, r.Model, r.Total, r.Failed, r.Elapsed.Round(time.Millisecond),
		r.TTFT.Percentile(50), r.TTFT.Percentile(95), r.ITL.Percentile(50), r.E2E.Percentile(50))
}
