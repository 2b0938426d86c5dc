package lenstest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/stats"
)

// recorder is a testing.TB that keeps what would fail the test, so that
// tests can check assertion failures and their messages.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	logs   []string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Errorf(format string, args ...any) { r.add(&r.errors, fmt.Sprintf(format, args...)) }
func (r *recorder) Error(args ...any)                 { r.add(&r.errors, fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.TB.FailNow()
}
func (r *recorder) Logf(format string, args ...any) { r.add(&r.logs, fmt.Sprintf(format, args...)) }
func (r *recorder) Log(args ...any)                 { r.add(&r.logs, fmt.Sprint(args...)) }

// add appends s to the list to (errors or logs), under the lock.
func (r *recorder) add(to *[]string, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*to = append(*to, s)
}

// mockScenario returns a scenario that talks to the fake through httpmock,
// for tests in virtual time.
func mockScenario(cfg fake.Config, requests, concurrency int) lens.Scenario {
	mt := httpmock.NewMockTransport()
	fake.NewResponder(cfg).Register(mt, "http://fake.test")
	return lens.Scenario{
		Name:        "virtual",
		Provider:    &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-test"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Requests:    requests,
		Concurrency: concurrency,
		Client:      &http.Client{Transport: mt},
	}
}

// TestBenchVirtualTimeExact runs the fake in virtual time, where the
// measured TTFT, ITL, TPOT and E2E must equal the fake's schedule exactly.
func TestBenchVirtualTimeExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			ttft   = 100 * time.Millisecond
			itl    = 10 * time.Millisecond
			tokens = 12
		)
		sc := mockScenario(fake.Config{TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens, Seed: 1}, 64, 64)
		var mu sync.Mutex
		var seen int
		sc.OnRequest = func(m *lens.RequestMetrics) {
			mu.Lock()
			defer mu.Unlock()
			seen++
			assert.Equal(t, ttft, m.TTFT, "TTFT of request %d", m.Seq)
			assert.Equal(t, ttft+(tokens-1)*itl, m.E2E, "E2E of request %d", m.Seq)
			assert.Equal(t, itl, m.TPOT, "TPOT of request %d", m.Seq)
			assert.Equal(t, tokens, m.OutputTokens)
			assert.True(t, m.TokensFromUsage)
			require.Len(t, m.ITLs, tokens-1)
			for _, d := range m.ITLs {
				assert.Equal(t, itl, d)
			}
		}
		res := lenstest.Bench(t, sc)
		assert.Equal(t, 64, seen)
		assert.EqualValues(t, 64, res.Total)
		assert.EqualValues(t, 64, res.Succeeded)
		assert.EqualValues(t, 64*(tokens-1), res.ITL.Count())

		// Every sample is the same value, so every percentile is exactly the
		// histogram's rendering of that value.
		want := func(d time.Duration) time.Duration {
			l := stats.NewLatency()
			l.Record(d)
			return l.Percentile(50)
		}
		for _, p := range []float64{50, 99} {
			assert.Equal(t, want(ttft), res.TTFT.Percentile(p), "TTFT p%v", p)
			assert.Equal(t, want(itl), res.ITL.Percentile(p), "ITL p%v", p)
			assert.Equal(t, want(itl), res.TPOT.Percentile(p), "TPOT p%v", p)
		}
		res.AssertP95TTFT(ttft + time.Millisecond)
		res.AssertP99ITL(itl + time.Millisecond) // 704 ITL samples support a p99
	})
}

// TestBenchLoopbackTiming checks the measurement on real sockets against
// what the fake actually did: fixed TTFT 100ms and ITL 10ms at concurrency
// 64, every measured request paired with the fake's record of it through
// the x-request-id header. For every content event, the client's arrival
// stamp minus the fake's send time (the delivery error: one loopback hop
// and the client's own delay in reading and stamping); for every request,
// measured TTFT minus the fake's TTFT (the request's hop in, plus the first
// event's delivery).
//
// The workers start spread over one request's length (RampUp): in
// lockstep, 64 streams of fixed latencies would deliver every token in a
// burst of 64 at the same instant, which times the machine's burst
// capacity, not the client.
//
// The test asserts on every run. Its tolerance is stated against the
// machine's own scheduling noise, measured in the same run as the fake's
// pacing error (how late it sent each event against its schedule): at p50
// and at p99, the client's delivery error must be within 0.5ms plus 3
// times the fake's pacing error, and the TTFT error, which crosses the
// machine twice (the request in, the first event out), within 0.5ms plus
// 5 times it. The fake and the client share the process and the cores, so
// a machine that delays the client's reads delays the fake's writes as
// much; the client's own error is what is left. The nominal schedule is not
// a reference: a late fake moves every event. On a quiet machine (the
// fake's pacing p99 about 0.2ms) the bounds are about 1.1ms and 1.5ms at
// p99; the 0.5ms target of PERFORMANCE.md is measured by
// BenchmarkLoopbackTimingTruth, by hand, on a quiet machine.
func TestBenchLoopbackTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time loopback test; skipped with -short")
	}
	const target = 500 * time.Microsecond
	// 1,024 requests, so that a few scheduler stalls (a p99 of 256 is
	// their third-slowest) cannot move the p99 the test judges.
	n := measureLoopback(t, 1024)
	why := n.String()
	t.Log(why)
	if raceEnabled {
		// The race detector makes the request's way in (the client's
		// encoding and writing, the fake's parsing) several times
		// slower, and on a busy machine that time is not in the fake's
		// pacing error; a first-token stamp taken at the stream's end
		// (190ms late) still fails. The bounds below hold without -race:
		// CI runs this test again so.
		noise := n.pacing.Percentile(50)
		assert.Less(t, n.delivery.Percentile(50), target+5*noise, "delivery error p50 under -race: %s", why)
		assert.Less(t, n.ttftErr.Percentile(50), target+10*noise, "TTFT error p50 under -race: %s", why)
		return
	}
	for _, p := range []float64{50, 99} {
		noise := n.pacing.Percentile(p)
		assert.Less(t, n.delivery.Percentile(p), target+3*noise, "delivery error p%v: %s", p, why)
		assert.Less(t, n.ttftErr.Percentile(p), target+5*noise, "TTFT error p%v: %s", p, why)
	}
}

// The loopback workload: fixed TTFT and ITL, 64 workers.
const (
	loopTTFT   = 100 * time.Millisecond
	loopITL    = 10 * time.Millisecond
	loopTokens = 20
)

// loopbackNumbers is one loopback measurement set against the fake's
// ground truth.
type loopbackNumbers struct {
	res      *lenstest.Result
	pacing   *stats.Latency // fake: sent − scheduled, per content event
	delivery *stats.Latency // client stamp − fake's send, per content event
	ttftErr  *stats.Latency // measured TTFT − the fake's TTFT, per request
}

func (n loopbackNumbers) String() string {
	return fmt.Sprintf("fake pacing error p50 %v p99 %v; client delivery error p50 %v p99 %v; TTFT error p50 %v p99 %v; measured TTFT p50 %v p99 %v, ITL p50 %v p99 %v",
		n.pacing.Percentile(50), n.pacing.Percentile(99), n.delivery.Percentile(50), n.delivery.Percentile(99),
		n.ttftErr.Percentile(50), n.ttftErr.Percentile(99), n.res.TTFT.Percentile(50), n.res.TTFT.Percentile(99),
		n.res.ITL.Percentile(50), n.res.ITL.Percentile(99))
}

// measureLoopback runs the given number of requests (after 64 warmup) at concurrency 64
// against a loopback fake and pairs every measured request with the
// fake's record of it by request id.
func measureLoopback(tb testing.TB, requests int) loopbackNumbers {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(loopTTFT), ITL: fake.Fixed(loopITL), OutputTokens: loopTokens, Seed: 7, Record: true})
	defer srv.Close()
	var mu sync.Mutex
	arrivals := map[string][]time.Time{}   // request id → the client's stamp of each content event
	measured := map[string]time.Duration{} // request id → measured TTFT
	sc := lens.Scenario{
		Name:        "loopback-64",
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Requests:    requests,
		Concurrency: 64,
		Warmup:      64,
		RampUp:      loopTTFT + (loopTokens-1)*loopITL,
		OnRequest: func(m *lens.RequestMetrics) {
			if m.Warmup || !m.OK() {
				return
			}
			ts := []time.Time{m.Start.Add(m.TTFT)}
			for _, d := range m.ITLs {
				ts = append(ts, ts[len(ts)-1].Add(d))
			}
			id := strings.TrimPrefix(m.RequestID, "req_")
			mu.Lock()
			defer mu.Unlock()
			arrivals[id], measured[id] = ts, m.TTFT
		},
	}
	var res *lenstest.Result
	if b, ok := tb.(*testing.B); ok {
		// A benchmark iteration is one whole workload; Bench would make it
		// b.N requests.
		r, err := lens.Run(b.Context(), sc)
		require.NoError(tb, err)
		res = &lenstest.Result{Result: r}
	} else {
		res = lenstest.Bench(tb, sc)
	}
	require.EqualValues(tb, requests, res.Succeeded, "errors: %v", res.ErrorSamples)
	require.EqualValues(tb, requests*(loopTokens-1), res.ITL.Count())

	n := loopbackNumbers{res: res, pacing: stats.NewLatency(), delivery: stats.NewLatency(), ttftErr: stats.NewLatency()}
	paired := 0
	for _, r := range srv.Records() {
		for i, sent := range r.Sent {
			n.pacing.Record(sent.Sub(r.Start.Add(r.Scheduled[i])))
		}
		id := strings.TrimPrefix(r.ID, "chatcmpl-")
		ts, ok := arrivals[id]
		if !ok {
			continue // a warmup request
		}
		paired++
		require.Len(tb, r.Sent, len(ts), "request %s: events sent and received", id)
		for i, sent := range r.Sent {
			// Sent is stamped when the server's flush returned, which may
			// be just after the client read the bytes: a small negative
			// delivery is the server's stamping delay and counts as 0.
			n.delivery.Record(ts[i].Sub(sent))
		}
		n.ttftErr.Record(measured[id] - r.Sent[0].Sub(r.Start)) // negative (as 0) for the same reason
	}
	require.Equal(tb, requests, paired, "every measured request found in the fake's records by its request id")
	return n
}

// BenchmarkLoopbackTimingTruth measures how far the client's timing is from
// the fake's ground truth at concurrency 64 on loopback (the target in PERFORMANCE.md:
// target: within 0.5ms at p99). One iteration is a whole 256-request
// workload; run it with -benchtime 3x or so.
func BenchmarkLoopbackTimingTruth(b *testing.B) {
	var delivery, ttftErr, pacing *stats.Latency
	for range b.N {
		n := measureLoopback(b, 256)
		if delivery == nil {
			delivery, ttftErr, pacing = n.delivery, n.ttftErr, n.pacing
			continue
		}
		require.NoError(b, delivery.Merge(n.delivery))
		require.NoError(b, ttftErr.Merge(n.ttftErr))
		require.NoError(b, pacing.Merge(n.pacing))
	}
	b.ReportMetric(float64(delivery.Percentile(50)), "delivery-p50-ns")
	b.ReportMetric(float64(delivery.Percentile(99)), "delivery-p99-ns")
	b.ReportMetric(float64(ttftErr.Percentile(50)), "ttft-err-p50-ns")
	b.ReportMetric(float64(ttftErr.Percentile(99)), "ttft-err-p99-ns")
	b.ReportMetric(float64(pacing.Percentile(99)), "fake-pacing-p99-ns")
}

// TestAssertP95TTFT shows an SLO that must fail, with its message, and one
// that must pass.
func TestAssertP95TTFT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := mockScenario(fake.Config{
			TTFT: fake.Uniform(40*time.Millisecond, 80*time.Millisecond), ITL: fake.Fixed(5 * time.Millisecond),
			OutputTokens: 4, Seed: 3,
		}, 400, 16)
		sc.Name = "slo-check"

		rec := &recorder{TB: t}
		res := lenstest.Bench(rec, sc)
		require.Empty(t, rec.errors)
		p95 := res.TTFT.Percentile(95)
		require.Greater(t, p95, 70*time.Millisecond)

		assert.False(t, res.AssertP95TTFT(60*time.Millisecond), "p95 is about 78ms: a 60ms SLO must fail")
		require.Len(t, rec.errors, 1)
		msg := rec.errors[0]
		for _, want := range []string{
			"p95 TTFT", "limit 60ms", "over by", "n=400", "95% CI of p95", "broken with at least that confidence",
			`scenario "slo-check"`, "provider openai", "model gpt-4o-mini",
		} {
			assert.Contains(t, msg, want)
		}

		rec.errors = nil
		assert.True(t, res.AssertP95TTFT(100*time.Millisecond), "p95 is about 78ms: a 100ms SLO must pass")
		assert.True(t, res.AssertP50E2E(200*time.Millisecond))
		assert.Empty(t, rec.errors)

		// A limit at p95, inside its interval: fails on the point
		// estimate, and says the evidence was not conclusive.
		v := res.Verdict(lens.MetricTTFT, 95, p95)
		require.Equal(t, lenstest.Inconclusive, v.Outcome, "with Seed 3 the interval straddles p95: %s", v)
		require.Less(t, v.Lo, p95)
		rec.errors = nil
		assert.False(t, res.AssertP95TTFT(p95))
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "not conclusive")
		assert.Contains(t, rec.errors[0], "decided by the point estimate")
		assert.Contains(t, rec.errors[0], "requests would likely have decided it")
	})
}

// TestAssertTooFewSamples: p99 of 20 requests cannot be supported.
func TestAssertTooFewSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{TB: t}
		res := lenstest.Bench(rec, mockScenario(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), OutputTokens: 3}, 20, 4))
		assert.False(t, res.AssertP99TTFT(time.Hour))
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "20 samples are too few")
		assert.Contains(t, rec.errors[0], "at least 299")
	})
}

// TestAssertErrorRate counts failed requests and names their class.
func TestAssertErrorRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := mockScenario(fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 3}, 100, 1)
		mt := sc.Client.Transport.(*httpmock.MockTransport)
		ok := fake.NewResponder(fake.Config{TTFT: fake.Fixed(time.Millisecond), OutputTokens: 3})
		var n int
		mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", func(r *http.Request) (*http.Response, error) {
			n++
			if n%10 == 0 {
				resp := httpmock.NewStringResponse(http.StatusInternalServerError,
					`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`)
				resp.Header.Set("Content-Type", "application/json")
				return resp, nil
			}
			return ok.Respond(r)
		})
		rec := &recorder{TB: t}
		res := lenstest.Bench(rec, sc)
		assert.EqualValues(t, 100, res.Total)
		assert.EqualValues(t, 10, res.Failed)
		assert.EqualValues(t, 10, res.Errors[lens.ClassHTTP5xx])
		assert.True(t, res.AssertErrorRate(0.10))
		assert.False(t, res.AssertErrorRate(0.05))
		require.Len(t, rec.errors, 1)
		for _, want := range []string{"error rate 10.00% (10 of 100 requests) exceeds 5.00%", "http_5xx 10", "server had an error", "CI of the rate"} {
			assert.Contains(t, rec.errors[0], want)
		}
	})
}

// BenchmarkFakeChat is the benchmark the unit-line test runs.
func BenchmarkFakeChat(b *testing.B) {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(2 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 5})
	defer srv.Close()
	lenstest.Bench(b, lens.Scenario{
		Name:        "fake-chat",
		Provider:    &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test"},
		Model:       "gpt-4o-mini",
		Prompt:      "Say hello",
		Concurrency: 4,
		Warmup:      4,
	})
}

// TestBenchmarkOutput runs BenchmarkFakeChat in a child process and checks
// that its output is what benchstat reads: Unit lines on lines of their
// own, before the benchmark line, and every metric on the benchmark line.
func TestBenchmarkOutput(t *testing.T) {
	if os.Getenv("LENSTEST_CHILD") != "" {
		t.Skip("child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkFakeChat$", "-test.benchtime=20x", "-test.count=2")
	cmd.Env = append(os.Environ(), "LENSTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	var units, benchLines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Unit "):
			require.Empty(t, benchLines, "Unit lines must come before the benchmark lines")
			units = append(units, line)
		case strings.HasPrefix(line, "BenchmarkFakeChat"):
			benchLines = append(benchLines, line)
		}
	}
	assert.Contains(t, units, "Unit ttft-p95-ns better=lower")
	assert.Contains(t, units, "Unit tokens/s better=higher")

	// benchstat's own reader sees every metric with its direction
	// (benchfmt shows -ns units in seconds: ttft-p95-sec).
	r := benchfmt.NewReader(bytes.NewReader(out), "bench.txt")
	better := map[string]string{}
	var results int
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.UnitMetadata:
			if rec.Key == "better" {
				better[rec.Unit] = rec.Value
			}
		case *benchfmt.Result:
			results++
			for _, v := range rec.Values {
				if v.Unit == "sec/op" {
					continue
				}
				// benchfmt leaves a value of 0 in its unit as written
				// (itl-p50-ns when every gap was 0), and keys its metadata
				// by the tidied unit.
				_, unit := benchunit.Tidy(1, v.Unit)
				assert.Contains(t, better, unit, "%s reported without a direction", v.Unit)
			}
		case *benchfmt.SyntaxError:
			t.Errorf("benchfmt: %v", rec)
		}
	}
	require.NoError(t, r.Err())
	assert.Equal(t, 2, results)
	assert.Equal(t, "lower", better["ttft-p95-sec"])
	assert.Equal(t, "lower", better["itl-p99-sec"])
	assert.Equal(t, "higher", better["tokens/s"])
	assert.Equal(t, "lower", better["errors"])
	require.Len(t, benchLines, 2, "%s", out)
	for _, line := range benchLines {
		fields := strings.Fields(line)
		assert.Equal(t, "20", fields[1], "b.N is the number of requests: %s", line)
		for _, unit := range []string{"ttft-p50-ns", "ttft-p95-ns", "itl-p99-ns", "tpot-p50-ns", "e2e-p95-ns", "tokens/s", "errors"} {
			assert.Contains(t, fields, unit, line)
		}
	}
}
