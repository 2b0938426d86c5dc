package capacity

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/verdict"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The deployment of the capacity tests: a fake that serves 32 responses at
// once, each taking S = TTFT + 15 ITL = 100ms + 150ms = 250ms, and queues
// the rest in FIFO order (its TTFT then grows by the wait).
const (
	places  = 32
	ttft    = 100 * time.Millisecond
	itl     = 10 * time.Millisecond
	tokens  = 16
	service = ttft + (tokens-1)*itl // 250ms
)

func deployment() fake.Config {
	return fake.Config{TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens, Capacity: places, Seed: 1}
}

// virtualScenario is a scenario against a fake Responder in-process, for
// testing/synctest's virtual time; wrap, when set, wraps its transport.
func virtualScenario(cfg fake.Config, wrap func(http.RoundTripper) http.RoundTripper) lens.Scenario {
	mt := httpmock.NewMockTransport()
	fake.NewResponder(cfg).Register(mt, "http://fake.test")
	var rt http.RoundTripper = mt
	if wrap != nil {
		rt = wrap(mt)
	}
	return lens.Scenario{
		Name:     "capacity",
		Provider: &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-test"},
		Model:    "gpt-4o-mini",
		Prompt:   "Say hello",
		Client:   &http.Client{Transport: rt},
	}
}

var ttftGate = verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 300 * time.Millisecond}

// TestFindsClosedLoopCapacity: against a deployment whose p95-TTFT-under-
// 300ms capacity in users is known exactly, the search finds it within 10%,
// and spends fewer requests than a grid of the same resolution.
//
// The derivation. N users, each sending its next request as soon as the
// last ends, against c = 32 places of fixed service time S = 250ms, all
// starting at once: every response starts at a multiple of S. With
// c < N <= 2c, at each multiple of S the c responses end, the N−c requests
// in line take their places first, and N−c of the c returning users find
// the places full and wait exactly S. So of the c responses of each period,
// N−c waited, with TTFT = 100ms + 250ms = 350ms, and the others have TTFT =
// 100ms. The p95 is under 300ms when fewer than 5% waited: (N−c)/c < 0.05,
// N < 33.6. The capacity is 33 users (3.1% wait); at 34, 6.25% wait and the
// p95 is 350ms.
func TestFindsClosedLoopCapacity(t *testing.T) {
	const exact = 33.0
	synctest.Test(t, func(t *testing.T) {
		sc := virtualScenario(deployment(), nil)
		s := Search{Mode: Concurrency, Start: 1, Requests: 100, MaxRequests: 1000}
		if raceEnabled {
			// A smaller budget, for the race detector's slowdown: the steps
			// next to the capacity are then decided by their point
			// estimates, which in virtual time are exact.
			s.MaxRequests = 400
		}
		r, err := Find(t.Context(), sc, s, ttftGate)
		require.NoError(t, err)
		for _, st := range r.Curve() {
			t.Logf("%v", st)
		}
		t.Logf("%v", r)
		assert.InDelta(t, exact, r.Capacity, 0.1*exact, "the capacity within 10%% of the exact %v users", exact)
		assert.Equal(t, exact, r.Capacity, "in virtual time the search is exact")
		assert.Equal(t, exact+1, r.Ceiling)
		assert.Equal(t, LimitSLO, r.Limit)
		assert.True(t, r.Resolved)

		// Far from the boundary a step decides on its first requests;
		// near it, it buys more.
		at := func(load float64) Step {
			for _, st := range r.Steps {
				if st.Load == load {
					return st
				}
			}
			t.Fatalf("no step at %v", load)
			return Step{}
		}
		assert.Equal(t, int64(128), at(64).Requests, "64 users (every request waits) fails on its first look, of two requests per user")
		assert.Greater(t, at(exact+1).Requests, at(64).Requests, "the step just over the capacity needs more evidence")
		for _, st := range r.Steps {
			assert.Len(t, st.Verdicts, 1)
			assert.Positive(t, st.Goodput)
			assert.Positive(t, st.TokensPerSecond)
			if st.Holds {
				assert.Equal(t, LimitNone, st.Limit)
			} else {
				assert.Equal(t, LimitSLO, st.Limit)
				assert.Contains(t, st.Detail, "broken: p95 TTFT < 300ms")
			}
		}
		// Goodput: at 16 users every request is good, and 100 requests
		// take ⌈100/16⌉ = 7 service times of 250ms: 100/1.75s.
		assert.InDelta(t, 100/1.75, at(16).Goodput, 1e-6)
		assert.InDelta(t, 100*tokens/1.75, at(16).TokensPerSecond, 1e-6)

		if raceEnabled {
			t.Logf("requests: search %d in %d steps; the grid's 5,000 requests run without -race (.ci/run runs this test so)", r.Requests, len(r.Steps))
			return
		}
		// The grid: every load of the same resolution from Min up, judged
		// the same way, until the first that does not hold (the cheapest
		// grid there can be: it stops where the search's bracket closes).
		grid := gridCost(t, sc, r.Search, ttftGate)
		t.Logf("requests: search %d in %d steps; grid of the same resolution %d in %d steps (each at a fixed %d: %d)",
			r.Requests, len(r.Steps), grid.requests, grid.steps, r.Search.MaxRequests, grid.steps*r.Search.MaxRequests)
		assert.Less(t, r.Requests, grid.requests, "the search spends fewer requests than the grid")
		assert.Equal(t, exact, grid.capacity, "the grid finds the same capacity")
	})
}

type gridResult struct {
	requests int64
	steps    int
	capacity float64
}

// gridCost runs the grid of s's resolution from s.Min upward, each load
// judged as a search step, until the first load that does not hold.
func gridCost(t *testing.T, sc lens.Scenario, s Search, gates ...verdict.Gate) gridResult {
	t.Helper()
	f := &finder{sc: sc, s: s, gates: gates}
	f.sc.SLO = sloOf(gates)
	var g gridResult
	for load := s.Min; load <= s.Max; {
		st, err := f.step(t.Context(), load)
		require.NoError(t, err)
		g.requests += st.Requests
		g.steps++
		if !st.Holds {
			return g
		}
		g.capacity = load
		next := load * (1 + s.Resolution)
		if s.Mode == Concurrency {
			next = max(load+1, math.Floor(next))
		}
		load = next
	}
	return g
}

// TestFindsOpenLoopCapacity: with constant arrivals the same deployment
// takes c/S = 32/250ms = 128 req/s without any wait, and the search finds
// that rate within 10%.
//
// The derivation. Request k arrives at k/λ and, FIFO on c places of fixed
// service S, starts at s_k = max(k/λ, s_{k−c} + S). For λ <= c/S no request
// waits: the gate (p95 TTFT under 110ms, 10ms over the fake's 100ms) holds.
// For λ = (1+e)·c/S, requests jc..jc+c−1 wait j·d with d = S·e/(1+e); in a
// batch of 100, more than 5 wait 10ms or more once d >= 5ms, e >= 2.04%:
// 130.6 req/s. (Larger top-up batches see more.) So the capacity is
// between 128 and 130.6 req/s.
func TestFindsOpenLoopCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := virtualScenario(deployment(), nil)
		gate := verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 110 * time.Millisecond}
		r, err := Find(t.Context(), sc, Search{Mode: Rate, Start: 10, Requests: 100, MaxRequests: 1000}, gate)
		require.NoError(t, err)
		for _, st := range r.Curve() {
			t.Logf("%v", st)
		}
		t.Logf("%v", r)
		assert.InDelta(t, 128, r.Capacity, 12.8, "within 10%% of c/S")
		assert.GreaterOrEqual(t, r.Capacity, 128/1.05, "the resolution below 128 req/s")
		assert.LessOrEqual(t, r.Capacity, 130.6)
		assert.True(t, r.Resolved)
		assert.LessOrEqual(t, r.Ceiling, r.Capacity*1.05)
		for _, st := range r.Steps {
			assert.InDelta(t, st.Load, st.AchievedRate, st.Load*1e-6, "constant arrivals in virtual time are on time")
		}
	})
}

// failOver is a transport that answers 503 while more than limit requests
// are in flight.
type failOver struct {
	next     http.RoundTripper
	limit    int64
	inFlight atomic.Int64
}

func (f *failOver) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.inFlight.Add(1) > f.limit {
		f.inFlight.Add(-1)
		return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{"Content-Type": {"application/json"}},
			Body: http.NoBody, Request: req}, nil
	}
	resp, err := f.next.RoundTrip(req)
	if err != nil {
		f.inFlight.Add(-1)
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: func() { f.inFlight.Add(-1) }}
	return resp, nil
}

// doneBody calls done once, when the body is closed.
type doneBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *doneBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

// TestStopsOnServerErrors: a server that fails requests beyond 10 in flight
// bounds the search at the first load where it errors: that step ends on
// its first look, and the result says the server errored.
func TestStopsOnServerErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := virtualScenario(deployment(), func(rt http.RoundTripper) http.RoundTripper { return &failOver{next: rt, limit: 10} })
		r, err := Find(t.Context(), sc, Search{Mode: Concurrency, Start: 4, Requests: 100, MaxRequests: 1000}, ttftGate)
		require.NoError(t, err)
		t.Logf("%v", r)
		assert.Equal(t, 10.0, r.Capacity)
		assert.Equal(t, 11.0, r.Ceiling)
		assert.Equal(t, LimitServerErrors, r.Limit)
		assert.Contains(t, r.String(), "the server errored at 11 users")
		for _, st := range r.Steps {
			if st.Load > 10 {
				assert.Equal(t, LimitServerErrors, st.Limit)
				assert.Equal(t, int64(100), st.Requests, "%v users: an erroring step buys no more evidence", st.Load)
				assert.Contains(t, st.Detail, "http_5xx")
			}
		}

	})
}

// TestErrorRateGateAllowsSomeErrors: a server that fails 1% of requests
// stops a search with no error-rate gate at its first step, and with a gate
// of 5% the search finds the capacity as if the server were whole.
func TestErrorRateGateAllowsSomeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 8 places: 8 users hold p95 TTFT under 300ms, and at 9 one
		// request in 8 waits 250ms.
		cfg := deployment()
		cfg.Capacity = 8
		cfg.Faults.ServerError = 0.01
		sc := virtualScenario(cfg, nil)
		s := Search{Mode: Concurrency, Start: 4, Requests: 100, MaxRequests: 400}
		r, err := Find(t.Context(), sc, s, ttftGate)
		require.NoError(t, err)
		t.Logf("no error-rate gate: %v", r)
		require.NotEmpty(t, r.Steps)
		assert.Equal(t, LimitServerErrors, r.Steps[0].Limit, "the first failed request ends the step")
		assert.Contains(t, r.Steps[0].Detail, "add an error-rate gate")

		r, err = Find(t.Context(), sc, s, ttftGate, verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.05})
		require.NoError(t, err)
		t.Logf("error rate <= 5%%: %v", r)
		assert.Equal(t, 8.0, r.Capacity)
		assert.Equal(t, LimitSLO, r.Limit)
	})
}

// TestStopsWhenTheClientFallsBehind: an open loop capped at 4 requests in
// flight cannot send more than 4/S = 16 req/s, however high the asked rate,
// and its TTFT (from the actual send) stays 100ms. The search must not call
// a rate it could not send a pass: a step under 90% of its asked rate is the
// client's limit, and the result says so.
func TestStopsWhenTheClientFallsBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := virtualScenario(deployment(), nil)
		sc.Concurrency = 4
		r, err := Find(t.Context(), sc, Search{Mode: Rate, Start: 2, Requests: 60}, ttftGate)
		require.NoError(t, err)
		for _, st := range r.Curve() {
			t.Logf("%v", st)
		}
		t.Logf("%v", r)
		assert.Equal(t, LimitClientRate, r.Limit)
		assert.Contains(t, r.String(), "the client could not send")
		// Holds while 16 >= 0.9·λ: λ <= 17.8 req/s.
		assert.LessOrEqual(t, r.Capacity, 16/0.9)
		assert.GreaterOrEqual(t, r.Capacity, 16/0.9/1.05)
		for _, st := range r.Steps {
			if st.Limit == LimitClientRate {
				assert.Contains(t, st.Detail, "the client sent")
				assert.Less(t, st.AchievedRate, 0.9*st.Load)
			}
		}
	})
}

// TestSearchRefusesWhatItCannotDo: bad settings and scenarios are errors
// that say what is wrong, before any request.
func TestSearchRefusesWhatItCannotDo(t *testing.T) {
	sc := lens.Scenario{Provider: &providers.OpenAI{BaseURL: "http://127.0.0.1:1/v1"}, Model: "m", Prompt: "p"}
	for _, tc := range []struct {
		s     Search
		sc    func(*lens.Scenario)
		gates []verdict.Gate
		want  string
	}{
		{gates: nil, want: "no gates"},
		{s: Search{Growth: 1}, want: "Growth = 1, want more than 1"},
		{s: Search{Resolution: 1.5}, want: "Resolution = 1.5"},
		{s: Search{Min: 10, Max: 5}, want: "Min = 10 is above Search.Max = 5"},
		{s: Search{Start: 100, Max: 50}, want: "Start = 100 is outside"},
		{s: Search{Start: math.NaN()}, want: "Start = NaN"},
		{s: Search{MinAchieved: 2}, want: "MinAchieved = 2"},
		{s: Search{Requests: 100, MaxRequests: 50}, want: "MaxRequests = 50 is below Requests = 100"},
		{s: Search{Mode: 7}, want: "Mode = 7"},
		{sc: func(sc *lens.Scenario) { sc.Trace = []lens.TraceRequest{{}} }, want: "trace"},
		{sc: func(sc *lens.Scenario) { sc.Shard = lens.Shard{Index: 0, Count: 2} }, want: "Shard"},
		{sc: func(sc *lens.Scenario) { sc.StartAt = time.Now() }, want: "StartAt"},
		{s: Search{Mode: Rate}, sc: func(sc *lens.Scenario) { sc.Session.Turns = 3 }, want: "sessions are closed loop"},
		{gates: []verdict.Gate{{Metric: "nope", Percentile: 95, Limit: time.Second}}, want: "unknown metric"},
	} {
		c := sc
		if tc.sc != nil {
			tc.sc(&c)
		}
		gates := tc.gates
		if gates == nil && tc.want != "no gates" {
			gates = []verdict.Gate{ttftGate}
		}
		_, err := Find(context.Background(), c, tc.s, gates...)
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

// TestSearchCanceled: a canceled search returns the steps it ran with the
// context's error.
func TestSearchCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := virtualScenario(deployment(), nil)
		ctx, cancel := context.WithCancel(t.Context())
		s := Search{Mode: Concurrency, Requests: 50, Logf: func(format string, args ...any) {
			if strings.Contains(format, "capacity: %s") {
				cancel() // after the first step
			}
		}}
		r, err := Find(ctx, sc, s, ttftGate)
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
		require.NotNil(t, r)
		assert.GreaterOrEqual(t, len(r.Steps), 1)
	})
}
