package lens_test

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want lens.Shard
		err  string
	}{
		{in: "0/4", want: lens.Shard{Index: 0, Count: 4}},
		{in: " 3/4 ", want: lens.Shard{Index: 3, Count: 4}},
		{in: "0/1", want: lens.Shard{Index: 0, Count: 1}},
		{in: "4/4", err: "index must be within 0..3, got 4"},
		{in: "-1/4", err: "index must be within 0..3, got -1"},
		{in: "0/0", err: "count must be >= 1"},
		{in: "1", err: "want INDEX/COUNT"},
		{in: "a/b", err: "whole numbers"},
	} {
		got, err := lens.ParseShard(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, "2/4", lens.Shard{Index: 2, Count: 4}.String())
	assert.Equal(t, "", lens.Shard{}.String())
}

// runShards runs sc as n shards at once in one virtual-time bubble, each
// against its own fake, with a common StartAt, and returns each shard's
// result and requests.
func runShards(t *testing.T, sc lens.Scenario, n int) ([]*lens.Result, [][]lens.RequestMetrics, time.Time) {
	results := make([]*lens.Result, n)
	reqs := make([][]lens.RequestMetrics, n)
	start := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	for i := range n {
		mt, _ := mock(fake.Config{TTFT: fake.Fixed(30 * time.Millisecond), ITL: fake.Fixed(5 * time.Millisecond), OutputTokens: 4})
		sh := sc
		sh.Shard, sh.StartAt = lens.Shard{Index: i, Count: n}, start
		sh.Client = &http.Client{Transport: mt}
		var c collect
		sh.OnRequest = c.on
		wg.Go(func() {
			res, err := lens.Run(t.Context(), sh)
			assert.NoError(t, err)
			results[i], reqs[i] = res, c.sorted()
		})
	}
	wg.Wait()
	return results, reqs, start
}

// TestShardsMakeOneSchedule: n shards of an open-loop run, started at a
// common StartAt, send exactly the arrivals one machine would, interleaved:
// the same intended times, the request count split exactly.
func TestShardsMakeOneSchedule(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   lens.Scenario
	}{
		{"poisson requests", lens.Scenario{Rate: 200, Arrivals: lens.ArrivalsPoisson, Requests: 1003, Seed: 7}},
		{"constant duration", lens.Scenario{Rate: 150, Duration: 2 * time.Second, RampUp: 500 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := tc.sc
				sc.Provider, sc.Model = openai("http://fake.test"), "m"

				// One machine.
				mt, _ := mock(fake.Config{OutputTokens: 4})
				var one collect
				whole := sc
				whole.Client, whole.OnRequest, whole.StartAt = &http.Client{Transport: mt}, one.on, time.Now()
				res, err := lens.Run(t.Context(), whole)
				require.NoError(t, err)
				var want []time.Duration
				for _, m := range one.sorted() {
					want = append(want, m.Intended.Sub(whole.StartAt))
				}

				results, reqs, start := runShards(t, sc, 4)
				var got []time.Duration
				var total int64
				seqs := map[int64]bool{}
				for i, rs := range reqs {
					assert.InDelta(t, float64(res.Total)/4, float64(results[i].Total), 1, "shard %d: an exact share", i)
					assert.Equal(t, sc.Rate, results[i].Rate, "every shard carries the whole run's rate")
					total += results[i].Total
					for j, m := range rs {
						got = append(got, m.Intended.Sub(start))
						assert.Equal(t, int64(i), m.Seq%4, "shard %d's Seq is local × 4 + %d", i, i)
						assert.False(t, seqs[m.Seq], "Seq %d twice", m.Seq)
						seqs[m.Seq] = true
						if j > 0 {
							// Each shard runs at a quarter of the rate: its
							// arrivals are every fourth of the whole run's.
							assert.True(t, m.Intended.After(rs[j-1].Intended) || m.Intended.Equal(rs[j-1].Intended))
						}
					}
				}
				assert.Equal(t, res.Total, total, "the shards' requests add up to one machine's")
				slices.Sort(got)
				assert.Equal(t, want, got, "the shards' arrivals together are one machine's schedule")
			})
		})
	}
}

// TestShardsClosedLoop: a closed loop splits its workers and its requests.
func TestShardsClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := lens.Scenario{Provider: openai("http://fake.test"), Model: "m", Concurrency: 8, Requests: 50}
		results, reqs, _ := runShards(t, sc, 3)
		var total int64
		for i, res := range results {
			// Workers 0,3,6 / 1,4,7 / 2,5: 3, 3 and 2 of 8; requests
			// 0,3,...,48 / 1,...,49 / 2,...,47: 17, 17 and 16.
			assert.Equal(t, []int64{17, 17, 16}[i], res.Total, "shard %d", i)
			assert.Equal(t, 8, res.Concurrency)
			total += res.Total
			// At fixed latencies the shard's workers run in step: the
			// first []int{3, 3, 2}[i] requests start together.
			inFirst := 0
			for _, m := range reqs[i] {
				if m.Start.Equal(reqs[i][0].Start) {
					inFirst++
				}
			}
			assert.Equal(t, []int{3, 3, 2}[i], inFirst, "shard %d's workers", i)
		}
		assert.EqualValues(t, 50, total)

		sc.Concurrency = 2
		sc.Shard = lens.Shard{Index: 0, Count: 3}
		_, err := lens.Run(t.Context(), sc)
		assert.ErrorContains(t, err, "Concurrency must be at least the shard count")
	})
}

// traceLines returns a JSON Lines trace of n requests in the Azure traces'
// columns: arrivals with exponential gaps of mean gap, strictly increasing,
// and the token counts of each.
func traceLines(n int, gap time.Duration, seed uint64) (string, []lens.TraceRequest) {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	var want []lens.TraceRequest
	base := time.Date(2023, 11, 16, 18, 15, 46, 0, time.UTC)
	at := time.Duration(0)
	for i := range n {
		if i > 0 {
			at += time.Duration(r.ExpFloat64()*float64(gap)) + time.Microsecond
			at = at.Truncate(100 * time.Nanosecond) // the traces' 7 decimals
		}
		in, out := 1+r.IntN(3000), 1+r.IntN(60)
		fmt.Fprintf(&b, `{"TIMESTAMP":%q,"ContextTokens":%d,"GeneratedTokens":%d}`+"\n",
			base.Add(at).Format("2006-01-02 15:04:05.0000000"), in, out)
		want = append(want, lens.TraceRequest{At: at, InputTokens: in, OutputTokens: out})
	}
	return b.String(), want
}

// TestTraceReplay replays a 1,000-line trace against the fake in virtual
// time: every request arrives at the fake at its trace time (to the
// nanosecond: virtual time has no jitter, so this checks the schedule
// itself), with the trace's prompt and output token counts, as the fake
// counted them.
func TestTraceReplay(t *testing.T) {
	text, want := traceLines(1000, 5*time.Millisecond, 1)
	tr, err := lens.ReadTrace(strings.NewReader(text))
	require.NoError(t, err)
	require.Equal(t, want, tr)

	for _, speed := range []float64{0, 2.5} {
		t.Run(fmt.Sprintf("speed %v", speed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mt, fr := mock(fake.Config{TTFT: fake.Fixed(40 * time.Millisecond), ITL: fake.Fixed(2 * time.Millisecond), OutputTokens: 1000, Record: true})
				var c collect
				start := time.Now()
				res, err := lens.Run(t.Context(), lens.Scenario{
					Provider: openai("http://fake.test"), Model: "m", Trace: tr, TraceSpeed: speed,
					Client: &http.Client{Transport: mt}, OnRequest: c.on,
				})
				require.NoError(t, err)
				require.EqualValues(t, len(tr), res.Succeeded)

				byID := map[string]fake.Record{}
				for _, rec := range fr.Records() {
					byID[rec.RequestID] = rec
				}
				byAt := map[time.Duration]lens.TraceRequest{}
				div := max(speed, 1)
				if speed == 0 {
					div = 1
				}
				for _, e := range tr {
					byAt[time.Duration(float64(e.At)/div)] = e
				}
				for _, m := range c.sorted() {
					e, ok := byAt[m.Intended.Sub(start)]
					require.True(t, ok, "request %d due at %v, a time not in the trace", m.Seq, m.Intended.Sub(start))
					rec := byID[m.RequestID]
					assert.Equal(t, m.Intended, rec.Start, "request %d arrives at the fake at its trace time", m.Seq)
					assert.Equal(t, e.InputTokens, rec.PromptTokens, "request %d's prompt tokens", m.Seq)
					assert.Equal(t, e.OutputTokens, rec.OutputTokens, "request %d's output tokens", m.Seq)
					assert.Equal(t, e.OutputTokens, m.OutputTokens)
				}
			})
		})
	}
}

// TestTraceWarmupShapes: a replay's warmup requests take the shapes of the
// trace's entries, not the server's longest answer (a fake that answers
// up to 2,000 tokens would hold each warmup for seconds).
func TestTraceWarmupShapes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, fr := mock(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond), OutputTokens: 2000, Record: true})
		tr := []lens.TraceRequest{{At: 0, InputTokens: 7, OutputTokens: 5}, {At: time.Millisecond, InputTokens: 9, OutputTokens: 6}}
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Trace: tr, Warmup: 3, Concurrency: 2,
			Client: &http.Client{Transport: mt},
		})
		require.NoError(t, err)
		require.EqualValues(t, 2, res.Succeeded)
		recs := fr.Records()
		require.Len(t, recs, 5, "3 warmups and 2 measured")
		for _, rec := range recs {
			assert.LessOrEqual(t, rec.OutputTokens, 6, "request %s", rec.RequestID)
		}
	})
}

func TestTraceScenarioValidation(t *testing.T) {
	sc := lens.Scenario{Provider: openai("http://x"), Model: "m", Trace: []lens.TraceRequest{{}}, Rate: 5, Prompt: "hi", TraceSpeed: -1}
	_, err := lens.Run(t.Context(), sc)
	for _, want := range []string{"Rate: not with Trace", "Prompt: not with Trace", "TraceSpeed: must be a finite number >= 0"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = lens.Run(t.Context(), lens.Scenario{Provider: openai("http://x"), Model: "m", Requests: 50, Trace: make([]lens.TraceRequest, 2)})
	assert.ErrorContains(t, err, "Requests: replays the first Requests entries of the trace, which has only 2; got 50")
	_, err = lens.Run(t.Context(), lens.Scenario{Provider: openai("http://x"), Model: "m", Requests: 1, TraceSpeed: 2,
		Session: lens.Session{ThinkTime: lens.FixedDist(1)}})
	assert.ErrorContains(t, err, "TraceSpeed: set without Trace")
	assert.ErrorContains(t, err, "Session.ThinkTime: set without Session.Turns")
	_, err = lens.Run(t.Context(), lens.Scenario{Provider: openai("http://x"), Model: "m", Requests: 1, Rate: 1, Session: lens.Session{Turns: 2}})
	assert.ErrorContains(t, err, "sessions run in closed loop")
}

func TestReadTrace(t *testing.T) {
	csv := "\ufeffTIMESTAMP,ContextTokens,GeneratedTokens\n" +
		"2023-11-16 18:15:46.6805900,374,44\n" +
		"2023-11-16 18:15:50.9951690,396,109\n" +
		"\n" +
		"2023-11-16 18:15:51.0000000,0,0\n"
	tr, err := lens.ReadTrace(strings.NewReader(csv))
	require.NoError(t, err)
	assert.Equal(t, []lens.TraceRequest{
		{At: 0, InputTokens: 374, OutputTokens: 44},
		{At: 4314579000, InputTokens: 396, OutputTokens: 109},
		{At: 4319410000, InputTokens: 0, OutputTokens: 0},
	}, tr)

	jsonl := `{"timestamp": 100.5, "input_tokens": 10, "output_tokens": 3, "id": "x"}
  
{"Timestamp": 101.25, "prompt_tokens": 20, "completion_tokens": 4}`
	tr, err = lens.ReadTrace(strings.NewReader(jsonl))
	require.NoError(t, err)
	assert.Equal(t, []lens.TraceRequest{{At: 0, InputTokens: 10, OutputTokens: 3}, {At: 750 * time.Millisecond, InputTokens: 20, OutputTokens: 4}}, tr)

	for _, tc := range []struct{ in, err string }{
		{"", "no requests"},
		{"TIMESTAMP,ContextTokens\n1,2\n", `lacks a column generatedtokens or output_tokens or completion_tokens`},
		{"time,input_tokens,output_tokens\n1,2,3\n0.5,2,3\n", "line 3: time -500ms is before the previous request's (0s)"},
		{"time,input_tokens,output_tokens\n1,2,x\n", `line 2: output_tokens: "x" is not a whole number`},
		{"time,input_tokens,output_tokens\n1,-2,3\n", "line 2: input_tokens: -2 tokens, want 0 or more"},
		{"time,input_tokens,output_tokens\nyesterday,2,3\n", `line 2: time: "yesterday" is neither seconds nor a date`},
		{`{"time": 1, "input_tokens": 2}`, "line 1: no generatedtokens or output_tokens or completion_tokens field"},
		{"{\"time\": 1, \"input_tokens\": 2, \"output_tokens\": 3}\n{oops", "line 2: not a JSON object"},
		{`{"time": "NaN", "input_tokens": 2, "output_tokens": 3}`, `"NaN" is not a time in range`},
	} {
		_, err := lens.ReadTrace(strings.NewReader(tc.in))
		assert.ErrorContains(t, err, tc.err, "%q", tc.in)
	}
}

func FuzzReadTrace(f *testing.F) {
	f.Add("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n")
	f.Add(`{"timestamp": 1.5, "input_tokens": 10, "output_tokens": 3}` + "\n")
	f.Add("time,input_tokens,output_tokens\n1e300,1,1\n-1e300,1,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := lens.ReadTrace(strings.NewReader(in))
		if err != nil {
			require.Nil(t, tr)
			return
		}
		require.NotEmpty(t, tr)
		for i, r := range tr {
			require.GreaterOrEqual(t, r.At, time.Duration(0))
			require.GreaterOrEqual(t, r.InputTokens, 0)
			require.GreaterOrEqual(t, r.OutputTokens, 0)
			if i > 0 {
				require.GreaterOrEqual(t, r.At, tr[i-1].At)
			}
		}
	})
}

// TestSessions runs 4 users holding 5-turn conversations with think times
// uniform on 1..3s, in virtual time. Each turn's prompt holds the whole
// conversation so far (the fake counts it: a token per 4 characters of
// every message), think times follow their distribution, and exactly one
// conversation per user is in flight.
func TestSessions(t *testing.T) {
	const users, turns, sessions = 4, 5, 24
	synctest.Test(t, func(t *testing.T) {
		mt, fr := mock(fake.Config{TTFT: fake.Fixed(200 * time.Millisecond), ITL: fake.Fixed(20 * time.Millisecond), OutputTokens: 12, Record: true})
		var c collect
		var mu sync.Mutex
		active, peak, opened := 0, 0, 0
		var atOpen []int // conversations in flight each time one opens
		sc := lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Prompt: "Tell me more about the sea.", Seed: 3,
			Concurrency: users, Requests: sessions * turns,
			Session: lens.Session{Turns: turns, ThinkTime: lens.UniformDist(1, 3)},
			Client:  &http.Client{Transport: mt},
			OnSend: func(m *lens.RequestMetrics) {
				mu.Lock()
				defer mu.Unlock()
				if m.Turn == 1 {
					active++
					opened++
					peak = max(peak, active)
					atOpen = append(atOpen, active)
				}
			},
			OnRequest: func(m *lens.RequestMetrics) {
				c.on(m)
				mu.Lock()
				defer mu.Unlock()
				if m.Turn == turns {
					active--
				}
			},
		}
		res, err := lens.Run(t.Context(), sc)
		require.NoError(t, err)
		require.EqualValues(t, sessions*turns, res.Succeeded)
		assert.Equal(t, users, peak, "never more conversations than users")
		for i, n := range atOpen[users:] {
			assert.Equal(t, users, n, "conversation %d opens as a user's last one ends: %d in flight", users+i, n)
		}

		recs := map[string]fake.Record{}
		for _, r := range fr.Records() {
			recs[r.RequestID] = r
		}
		bySession := map[int64][]lens.RequestMetrics{}
		for _, m := range c.sorted() {
			bySession[m.Session] = append(bySession[m.Session], m)
		}
		// The budget of turns is the run's, not a user's: when it runs out,
		// up to one conversation per user is cut short.
		assert.GreaterOrEqual(t, len(bySession), sessions)
		assert.Equal(t, len(bySession), opened)
		cut := 0
		var thinks []float64
		for id, ms := range bySession {
			sort.Slice(ms, func(i, j int) bool { return ms[i].Turn < ms[j].Turn })
			if len(ms) < turns {
				cut++
			}
			var history strings.Builder // every message so far, joined as the fake counts them
			prev := 0
			for i, m := range ms {
				require.Equal(t, i+1, m.Turn)
				rec := recs[m.RequestID]
				history.WriteString(sc.Prompt)
				assert.Equal(t, fake.EstimateTokens(history.String()), rec.PromptTokens, "session %d turn %d: the prompt holds the history", id, m.Turn)
				assert.Greater(t, rec.PromptTokens, prev, "prompt tokens grow turn by turn")
				prev = rec.PromptTokens
				history.WriteString(rec.Text)
				if i > 0 {
					end := ms[i-1].Start.Add(ms[i-1].E2E)
					thinks = append(thinks, m.Start.Sub(end).Seconds())
				}
			}
		}
		assert.LessOrEqual(t, cut, users)
		// Kolmogorov–Smirnov against uniform(1, 3): D below the 1% critical
		// value 1.63/√n.
		require.Len(t, thinks, sessions*turns-len(bySession))
		slices.Sort(thinks)
		d := 0.0
		for i, x := range thinks {
			cdf := (x - 1) / 2
			d = max(d, math.Abs(cdf-float64(i)/float64(len(thinks))), math.Abs(cdf-float64(i+1)/float64(len(thinks))))
		}
		assert.GreaterOrEqual(t, thinks[0], 1.0)
		assert.LessOrEqual(t, thinks[len(thinks)-1], 3.0)
		assert.Less(t, d, 1.63/math.Sqrt(float64(len(thinks))), "think times follow uniform(1s, 3s): KS D = %.3f", d)
	})
}

// TestHistoryOnTheWire: every codec sends the history as its API's
// earlier messages, then the prompt.
func TestHistoryOnTheWire(t *testing.T) {
	req := &providers.Request{Model: "m", Prompt: "and now?", System: "be brief", MaxTokens: 5, Stream: true,
		History: []providers.Message{{Role: providers.RoleUser, Content: "hi"}, {Role: providers.RoleAssistant, Content: "hello"}}}
	for _, tc := range []struct {
		p    providers.Provider
		want string
	}{
		{&providers.OpenAI{BaseURL: "http://x/v1", APIKey: "k"}, `"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"and now?"}]`},
		{&providers.Anthropic{BaseURL: "http://x/v1", APIKey: "k"}, `"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"and now?"}]`},
		{&providers.Gemini{BaseURL: "http://x", APIKey: "k"}, `"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"hello"}]},{"role":"user","parts":[{"text":"and now?"}]}]`},
		{&providers.Cohere{BaseURL: "http://x/v2", APIKey: "k"}, `"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"and now?"}]`},
		{&providers.OpenAIResponses{BaseURL: "http://x/v1", APIKey: "k"}, `"input":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"and now?"}]`},
		{&providers.Azure{BaseURL: "http://x", APIKey: "k"}, `{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"and now?"}]`},
	} {
		r, err := tc.p.NewRequest(t.Context(), req)
		require.NoError(t, err, tc.p.Name())
		body, err := r.GetBody()
		require.NoError(t, err)
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		assert.Contains(t, string(b), tc.want, tc.p.Name())
	}
}

// A StartAt already past, or overrun by the warmup, by more than
// StartAtTolerance is refused with how late it is, before anything is
// measured: a late shard would send every due arrival at once, and a start
// decades ago must not size anything by its age.
func TestStartAtLateRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt, _ := mock(fake.Config{TTFT: fake.Fixed(400 * time.Millisecond), OutputTokens: 4})
		sc := lens.Scenario{Name: "late", Provider: openai("http://fake.test"), Model: "m", Requests: 20, Rate: 10,
			Client: &http.Client{Transport: mt}}

		for _, ago := range []time.Duration{time.Hour, 30 * time.Second, 56 * 365 * 24 * time.Hour} {
			sc.StartAt = time.Now().Add(-ago)
			res, err := lens.Run(t.Context(), sc)
			assert.Nil(t, res)
			var se *lens.ScenarioError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "StartAt", se.Problems[0].Field)
			assert.Contains(t, err.Error(), ago.String()+" in the past (the tolerance is 1s)")
		}

		// Within the tolerance: run, counting the schedule from StartAt.
		sc.StartAt = time.Now().Add(-lens.StartAtTolerance / 2)
		res, err := lens.Run(t.Context(), sc)
		require.NoError(t, err)
		assert.EqualValues(t, 20, res.Total)
		assert.Equal(t, sc.StartAt, res.Started)

		// A warmup of 6 x 400ms overruns a StartAt 1s away by 1.4s.
		sc.Warmup, sc.Concurrency, sc.StartAt = 6, 1, time.Now().Add(time.Second)
		res, err = lens.Run(t.Context(), sc)
		assert.Nil(t, res)
		require.ErrorContains(t, err, "StartAt: the warmup ended 1.4s after StartAt")
	})
}
