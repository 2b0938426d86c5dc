package lenstest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/verdict"
)

// Observer measures the LLM calls that a test's own code makes: hand
// Client to the code (to its SDK's HTTP client option), run it, and
// assert on Result. Observe makes one.
type Observer struct {
	// Transport measures the calls. Set its fields (Base, to send
	// through another transport such as a fake.Responder; Provider, to
	// name the API instead of recognising it; Model; SLO) before the
	// code's first call.
	Transport *lens.Transport

	tb testing.TB
}

// Observe returns an Observer bound to tb, whose Transport is named after
// the test and sends through http.DefaultTransport. When the test ends it
// closes the idle connections of the Transport's Base.
func Observe(tb testing.TB) *Observer {
	o := &Observer{Transport: &lens.Transport{Name: tb.Name()}, tb: tb}
	tb.Cleanup(o.Transport.CloseIdleConnections)
	return o
}

// Client returns an *http.Client that measures every LLM API call made
// through it (see lens.Transport), for the code under test.
func (o *Observer) Client() *http.Client { return o.Transport.Client() }

// Result returns what the calls so far measured, bound to the test for
// assertions, and reports it as Bench does: with b.ReportMetric under a
// benchmark, with t.Attr (and a log line) under a test. Its verdicts take
// one look (no top-ups, whatever the budget): the test's code made the
// calls, so there is no way to run more of them.
func (o *Observer) Result() *Result {
	o.tb.Helper()
	res := o.Transport.Result()
	report(o.tb, res)
	return newResult(o.tb, res, verdict.Plan{}, nil)
}

// report reports res as Bench does.
func report(tb testing.TB, res *lens.Result) {
	tb.Helper()
	if b, ok := tb.(*testing.B); ok {
		printUnits()
		reportMetrics(b, res)
		reportJourneys(b, res)
		return
	}
	recordAttrs(tb, res)
	recordJourneys(tb, res)
	tb.Logf("lenstest: %s", res)
}

// BenchFunc runs fn, one "user journey" of the caller's own code (any
// code that makes one or more LLM calls, through any SDK, with the client
// it is given), as the requests of sc: with its Concurrency, Rate, Warmup,
// Requests or Duration, RampUp, Timeout (each journey's ctx) and Gate. It
// measures every LLM call made through the client as lens.Transport does,
// and each journey's duration as the journey metric, so that a test can
// assert on both:
//
//	res := lenstest.BenchFunc(t, sc, summarize)
//	res.AssertP95TTFT(800 * time.Millisecond)                    // the model calls
//	res.AssertPercentile(lens.MetricJourney, 95, 2*time.Second) // the whole answer
//
// sc.Provider is optional (nil recognises each call's API); the fields
// that describe a request lens would build are refused (see
// lens.Scenario.Journey). A journey that returns an error counts in
// Result.JourneysFailed; the calls it made count as they ended.
//
// Verdicts top up as Bench's do: with sc.MaxRequests set, an
// inconclusive gate runs more journeys of fn and merges their calls and
// durations into the Result (the budget counts measured requests, which
// here are calls: a journey of k calls uses k of it).
//
// Under *testing.B it runs b.N journeys and reports as Bench does, plus
// journey-p50-ns, journey-p95-ns and journey-p99-ns; under *testing.T it
// records lens.journey.p50_ms, p95_ms and p99_ms with t.Attr as well.
func BenchFunc(tb testing.TB, sc lens.Scenario, fn func(ctx context.Context, c *http.Client) error) *Result {
	tb.Helper()
	if fn == nil {
		tb.Fatalf("lenstest: BenchFunc of scenario %s: fn is nil", sc.Name)
		return nil
	}
	sc.Journey = fn
	if sc.Name == "" {
		sc.Name = tb.Name()
	}
	if b, ok := tb.(*testing.B); ok {
		printJourneyUnits()
		res := Bench(tb, sc)
		reportJourneys(b, res.Result)
		return res
	}
	res := Bench(tb, sc)
	recordJourneys(tb, res.Result)
	return res
}

// journeyUnits are the benchmark units of a journey's duration.
var journeyUnits = []struct {
	unit string
	p    float64
}{{"journey-p50-ns", 50}, {"journey-p95-ns", 95}, {"journey-p99-ns", 99}}

var journeyUnitsOnce sync.Once

// printJourneyUnits writes the journey units' benchfmt lines once per
// process, as printUnits does for the others.
func printJourneyUnits() {
	journeyUnitsOnce.Do(func() {
		for _, u := range journeyUnits {
			fmt.Fprintf(os.Stdout, "Unit %s better=lower\n", u.unit)
		}
	})
}

// reportJourneys reports the journey percentiles of a result with
// journeys.
func reportJourneys(b *testing.B, r *lens.Result) {
	if r.Journeys == 0 {
		return
	}
	for _, u := range journeyUnits {
		b.ReportMetric(float64(r.Journey.Percentile(u.p).Nanoseconds()), u.unit)
	}
}

// recordJourneys records the journey numbers of a result with journeys as
// test attributes.
func recordJourneys(tb testing.TB, r *lens.Result) {
	if r.Journeys == 0 {
		return
	}
	tb.Attr("lens.journeys", strconv.FormatInt(r.Journeys, 10))
	tb.Attr("lens.journeys_failed", strconv.FormatInt(r.JourneysFailed, 10))
	if r.Journey.Count() == 0 {
		return
	}
	for _, u := range journeyUnits {
		tb.Attr(fmt.Sprintf("lens.journey.p%g_ms", u.p), strconv.FormatFloat(float64(r.Journey.Percentile(u.p))/1e6, 'f', 3, 64))
	}
}

// AssertJourneyErrorRate fails the test when more than max (0..1) of the
// journeys of a BenchFunc failed, naming the first error; it returns
// whether the assertion held.
func (r *Result) AssertJourneyErrorRate(max float64) bool {
	r.tb.Helper()
	if r.Journeys == 0 {
		r.tb.Errorf("lenstest: journey error rate: no journeys ran\n\t%s", r.where())
		return false
	}
	rate := float64(r.JourneysFailed) / float64(r.Journeys)
	if rate <= max {
		return true
	}
	r.tb.Errorf("lenstest: journey error rate %.4f (%d of %d journeys failed), limit %.4f; first error: %s\n\t%s",
		rate, r.JourneysFailed, r.Journeys, max, r.JourneyError, r.where())
	return false
}
