package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var someFaults = Faults{
	RateLimit: 0.05, ServerError: 0.04, Unavailable: 0.03, Overloaded: 0.02,
	Disconnect: 0.06, Stall: 0.05, Malformed: 0.04, StreamError: 0.03,
}

func TestFaultRates(t *testing.T) {
	const n = 40000
	draw := func(seed uint64) []Fault {
		c := newCore(Config{Seed: seed, Faults: someFaults})
		out := make([]Fault, n)
		for seq := range out {
			out[seq] = c.fault(uint64(seq))
		}
		return out
	}
	a := draw(1)
	count := map[Fault]int{}
	for _, f := range a {
		count[f]++
	}
	want := map[Fault]float64{NoFault: 0.68}
	for _, r := range someFaults.rates() {
		want[r.fault] = r.p
	}
	for f, p := range want {
		sigma := math.Sqrt(n * p * (1 - p))
		assert.InDelta(t, n*p, float64(count[f]), 5*sigma, "%q: %d of %d, want about %.0f", f, count[f], n, n*p)
	}
	assert.Equal(t, a, draw(1), "the same seed fails the same requests the same way")
	assert.NotEqual(t, a, draw(2), "another seed fails others")

	// No rates, no faults, and no draw.
	c := newCore(Config{Seed: 1})
	assert.False(t, c.faulty)
	for seq := range uint64(1000) {
		require.Equal(t, NoFault, c.fault(seq))
	}
	// Every fault at rate 1.
	for _, r := range someFaults.rates() {
		var f Faults
		reflect.ValueOf(&f).Elem().FieldByName(r.field).SetFloat(1)
		c := newCore(Config{Faults: f})
		for seq := range uint64(100) {
			require.Equal(t, r.fault, c.fault(seq), r.field)
		}
	}
}

// TestFaultsServedAsDrawn checks that the faults requests get through a
// Server and a Responder are the drawn ones, request by request, and that
// only requests the fake would answer with a response draw one.
func TestFaultsServedAsDrawn(t *testing.T) {
	cfg := Config{Seed: 9, Faults: Faults{RateLimit: 0.2, Disconnect: 0.2, StreamError: 0.2}, OutputTokens: 4, Record: true}
	c := newCore(cfg)
	const n = 60
	for _, p := range players {
		t.Run(p.name, func(t *testing.T) {
			base, client, records := p.start(t, cfg)
			for range n {
				resp, err := client.Do(wireFormats[0].request(t, base, true))
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			resp, _, err := exchangeRaw(t, client, wireFormats[0].request(t, base+"/nope", true))
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			recs := records()
			require.Len(t, recs, n+1)
			seen := map[Fault]int{}
			for _, rec := range recs[:n] {
				assert.Equal(t, c.fault(rec.Seq), rec.Fault, "request %d", rec.Seq)
				seen[rec.Fault]++
			}
			assert.Len(t, seen, 4, "each fault and none: %v", seen)
			assert.Equal(t, NoFault, recs[n].Fault, "a 404 draws no fault")
		})
	}
}

func TestFaultConfigPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		msg  string
	}{
		{"negative rate", Config{Faults: Faults{Disconnect: -0.1}}, "fake: Config.Faults.Disconnect = -0.1, want a probability in [0, 1]"},
		{"rate above 1", Config{Faults: Faults{Stall: 1.5}}, "fake: Config.Faults.Stall = 1.5, want a probability in [0, 1]"},
		{"NaN", Config{Faults: Faults{RateLimit: math.NaN()}}, "fake: Config.Faults.RateLimit = NaN, want a probability in [0, 1]"},
		{"sum above 1", Config{Faults: Faults{RateLimit: 0.5, ServerError: 0.25, StreamError: 0.5}}, "fake: Config.Faults: the rates sum to 1.25, want at most 1 (each request draws at most one fault)"},
		{"negative RetryAfter", Config{Faults: Faults{RetryAfter: -time.Second}}, "fake: Config.Faults.RetryAfter = -1s, want 0 (the default) or more"},
		{"negative StallFor", Config{Faults: Faults{StallFor: -time.Second}}, "fake: Config.Faults.StallFor = -1s, want 0 (the default) or more"},
		{"negative Capacity", Config{Capacity: -1}, "fake: Config.Capacity = -1, want 0 (no limit) or more"},
		{"negative PrefillPerToken", Config{PrefillPerToken: -time.Millisecond}, "fake: Config.PrefillPerToken = -1ms, want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.msg, func() { NewServer(tt.cfg) })
			assert.PanicsWithValue(t, tt.msg, func() { NewResponder(tt.cfg) })
			s := NewUnstartedServer(Config{})
			s.Config = tt.cfg
			assert.PanicsWithValue(t, tt.msg, s.Start)
			s.Config = Config{}
			s.Close()
		})
	}
	// At the limit is fine.
	s := NewServer(Config{Faults: Faults{RateLimit: 0.7, ServerError: 0.2, StreamError: 0.1}})
	s.Close()
}

func TestFaultFunc(t *testing.T) {
	r := NewResponder(Config{Faults: Faults{RateLimit: 1}, FaultFunc: func(seq uint64) Fault {
		if seq == 1 {
			return FaultServerError
		}
		return NoFault
	}, Record: true})
	client := &http.Client{Transport: r}
	for range 3 {
		readAll(t, post(t, client, base+"/v1/chat/completions", chatStream))
	}
	recs := r.Records()
	assert.Equal(t, []Fault{NoFault, FaultServerError, NoFault}, []Fault{recs[0].Fault, recs[1].Fault, recs[2].Fault}, "FaultFunc replaces the rates")
	assert.Equal(t, []int{200, 500, 200}, []int{recs[0].Status, recs[1].Status, recs[2].Status})

	bad := NewResponder(Config{FaultFunc: func(uint64) Fault { return "lag" }})
	assert.PanicsWithValue(t, `fake: Config.FaultFunc(0) returned "lag", which is not a Fault`, func() {
		bad.RoundTrip(wireFormats[0].request(t, base, true))
	})
}

// always returns a FaultFunc that gives every request f.
func always(f Fault) func(uint64) Fault { return func(uint64) Fault { return f } }

// envelope checks an error body in f's envelope for status, and returns its
// message.
func (f wireFormat) envelope(t *testing.T, body string, status int, requestID string) string {
	t.Helper()
	m := decode(t, body)
	switch {
	case f.name == "chat" || f.name == "responses":
		e := m["error"].(map[string]any)
		assert.Len(t, m, 1)
		assert.Len(t, e, 4, body)
		want := map[int]string{429: "requests", 500: "server_error", 503: "server_error"}[status]
		assert.Equal(t, want, e["type"], body)
		if status == 429 {
			assert.Equal(t, "rate_limit_exceeded", e["code"])
		} else {
			assert.Nil(t, e["code"])
		}
		return e["message"].(string)
	case f.name == "anthropic":
		want := map[int]string{429: "rate_limit_error", 500: "api_error", 503: "api_error", 529: "overloaded_error"}[status]
		e := m["error"].(map[string]any)
		assert.Equal(t, fmt.Sprintf(`{"type":"error","error":{"type":%s,"message":%s},"request_id":%s}`, quote(want), quote(e["message"].(string)), quote(requestID)), body)
		return e["message"].(string)
	case strings.HasPrefix(f.name, "gemini"), strings.HasPrefix(f.name, "vertex"):
		assert.True(t, strings.HasPrefix(body, "{\n  \"error\": {\n    \"code\": "), "Google indents its errors: %s", body)
		e := m["error"].(map[string]any)
		assert.Equal(t, float64(status), e["code"])
		want := map[int]string{429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[status]
		assert.Equal(t, want, e["status"])
		return e["message"].(string)
	case strings.HasPrefix(f.name, "azure"):
		e := m["error"].(map[string]any)
		assert.Len(t, e, 2, body)
		want := map[int]string{429: "429", 500: "InternalServerError", 503: "ServiceUnavailable"}[status]
		assert.Equal(t, want, e["code"])
		return e["message"].(string)
	}
	assert.Len(t, m, 1, body) // cohere
	return m["message"].(string)
}

func TestStatusFaults(t *testing.T) {
	tests := []struct {
		fault  Fault
		status map[string]int // by format, default under ""
	}{
		{FaultRateLimit, map[string]int{"": 429}},
		{FaultServerError, map[string]int{"": 500}},
		{FaultUnavailable, map[string]int{"": 503}},
		{FaultOverloaded, map[string]int{"": 503, "anthropic": 529}},
		{FaultStreamError, map[string]int{"": 500}}, // without a stream, the 500 of a server error
	}
	for _, p := range players {
		for _, f := range wireFormats {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s/%s/%s", p.name, f.name, tt.fault), func(t *testing.T) {
					base, client, records := p.start(t, Config{FaultFunc: always(tt.fault), Faults: Faults{RetryAfter: 2500 * time.Millisecond}, Record: true})
					stream := tt.fault != FaultStreamError
					resp, body, err := exchangeRaw(t, client, f.request(t, base, stream))
					require.NoError(t, err)
					status, ok := tt.status[f.name]
					if !ok {
						status = tt.status[""]
					}
					assert.Equal(t, status, resp.StatusCode)
					assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
					id := resp.Header.Get(f.requestID)
					msg := f.envelope(t, body, status, id)
					assert.NotEmpty(t, msg)
					if status == 500 {
						assert.Empty(t, resp.Header.Get("Retry-After"))
						assert.Empty(t, resp.Header.Get("Retry-After-Ms"))
					} else {
						assert.Equal(t, "3", resp.Header.Get("Retry-After"))
						assert.Equal(t, "2500", resp.Header.Get("Retry-After-Ms"))
					}
					if tt.fault == FaultRateLimit && strings.HasPrefix(f.name, "azure") {
						assert.Contains(t, msg, "Please retry after 3 seconds.")
					}
					if tt.fault == FaultRateLimit && strings.HasPrefix(f.name, "gemini") {
						assert.Contains(t, body, `"retryDelay": "2.500s"`)
					}
					rec := records()[0]
					assert.Equal(t, tt.fault, rec.Fault)
					assert.Equal(t, status, rec.Status)
					assert.Equal(t, id, rec.RequestID)
					assert.Empty(t, rec.ID)
					assert.Empty(t, rec.Text)
					assert.Empty(t, rec.Scheduled)
					assert.Empty(t, rec.Sent)
					assert.NoError(t, rec.Err)
				})
			}
		}
	}
}

func TestStatusFaultDefaultsAndQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{TTFT: Fixed(time.Hour), Capacity: 1, Record: true, FaultFunc: func(seq uint64) Fault {
			if seq == 0 {
				return NoFault
			}
			return FaultRateLimit
		}})
		client := &http.Client{Transport: r}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		wg.Go(func() { // holds the one place for an hour
			req := wireFormats[0].request(t, base, true).WithContext(ctx)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		synctest.Wait()
		start := time.Now()
		resp, _, err := exchangeRaw(t, client, wireFormats[0].request(t, base, true))
		require.NoError(t, err)
		assert.Equal(t, start, time.Now(), "a status fault is answered at once, queue or not")
		assert.Equal(t, 0, r.c.gate.waiting())
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"), "DefaultRetryAfter rounded up to a second")
		assert.Equal(t, "10", resp.Header.Get("Retry-After-Ms"))
		assert.Equal(t, "0", resp.Header.Get("X-Ratelimit-Remaining-Requests"))
	})
}

// jsonBounds returns where the JSON object of an event starts and ends.
func jsonBounds(ev string) (lo, hi int) {
	return strings.IndexByte(ev, '{'), strings.LastIndexByte(ev, '}') + 1
}

// faultCase runs one request of format f under cfg, with and without
// fault, on player p, and returns the reference bytes, the faulted bytes,
// the error that ended the faulted read and its record. The bytes are as
// read: compare them through untimed.
func faultCase(t *testing.T, p player, f wireFormat, cfg Config, fault Fault, stream bool) (ref, got string, err error, rec Record) {
	t.Helper()
	base, client, _ := p.start(t, cfg)
	_, ref, refErr := exchangeRaw(t, client, f.request(t, base, stream))
	require.NoError(t, refErr)
	cfg.FaultFunc, cfg.Record = always(fault), true
	base, client, records := p.start(t, cfg)
	resp, got, err := exchangeRaw(t, client, f.request(t, base, stream))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	recs := records()
	require.Len(t, recs, 1)
	return ref, got, err, recs[0]
}

// streamCfg gives 6 content events (the fault strikes at the 4th, k=3).
var streamCfg = Config{OutputTokens: 6, TokensPerChunk: 1, Seed: 21}

func TestDisconnect(t *testing.T) {
	for _, p := range players {
		for _, f := range wireFormats {
			t.Run(p.name+"/"+f.name, func(t *testing.T) {
				ref, got, err, rec := faultCase(t, p, f, streamCfg, FaultDisconnect, true)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the client sees the connection cut")
				events := f.events(ref)
				cut := events[f.first+3]
				want := strings.Join(events[:f.first+3], "") + cut[:len(cut)/2]
				assert.Equal(t, untimed(want), untimed(got))

				assert.Equal(t, FaultDisconnect, rec.Fault)
				assert.ErrorIs(t, rec.Err, ErrDisconnected)
				assert.Equal(t, 3, rec.FaultAt)
				assert.Len(t, rec.Sent, 3)
				assert.Len(t, rec.Scheduled, 3)
				assert.Equal(t, f.first+3, rec.Events)
				assert.Equal(t, strings.Join(Tokens(streamCfg.Seed, 0, 3), ""), rec.Text)
				assert.Equal(t, 3, rec.OutputTokens)
				assert.Empty(t, rec.FinishReason)
				assert.Equal(t, http.StatusOK, rec.Status)
			})
			t.Run(p.name+"/"+f.name+"/non-stream", func(t *testing.T) {
				ref, got, err, rec := faultCase(t, p, f, streamCfg, FaultDisconnect, false)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.Equal(t, untimed(ref[:len(ref)/2]), untimed(got), "half the body")
				assert.ErrorIs(t, rec.Err, ErrDisconnected)
				assert.Empty(t, rec.Sent)
				assert.Empty(t, rec.Text)
				assert.Zero(t, rec.Events)
			})
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, p := range players {
		for _, f := range wireFormats {
			t.Run(p.name+"/"+f.name, func(t *testing.T) {
				ref, got, err, rec := faultCase(t, p, f, streamCfg, FaultMalformed, true)
				require.NoError(t, err)
				want := f.events(untimed(ref))
				events := f.events(untimed(got))
				require.Len(t, events, len(want)+1)
				i := f.first + 3
				assert.Equal(t, want[:i], events[:i])
				assert.Equal(t, want[i:], events[i+1:], "the stream goes on whole")
				bad, next := events[i], want[i]
				blo, _ := jsonBounds(bad)
				nlo, nhi := jsonBounds(next)
				assert.Equal(t, next[:nlo], bad[:blo], "the same framing before the JSON")
				assert.Equal(t, next[nhi:], bad[len(bad)-len(next[nhi:]):], "the same framing after it")
				body := bad[blo : len(bad)-len(next[nhi:])]
				assert.True(t, strings.HasPrefix(next[nlo:nhi], body) && len(body) < nhi-nlo && len(body) > 10, "the JSON %q is cut short", body)
				assert.False(t, json.Valid([]byte(body)))
				for j, ev := range events {
					if j != i && f.sep != "" {
						lo, hi := jsonBounds(ev)
						assert.True(t, lo < 0 || json.Valid([]byte(ev[lo:hi])), "event %d", j)
					}
				}

				assert.Equal(t, FaultMalformed, rec.Fault)
				assert.NoError(t, rec.Err)
				assert.Equal(t, 3, rec.FaultAt)
				assert.Len(t, rec.Sent, 6, "every content event is sent")
				assert.Equal(t, len(want)+1, rec.Events)
				assert.Equal(t, strings.Join(Tokens(streamCfg.Seed, 0, 6), ""), rec.Text)
			})
			t.Run(p.name+"/"+f.name+"/non-stream", func(t *testing.T) {
				ref, got, err, rec := faultCase(t, p, f, streamCfg, FaultMalformed, false)
				require.NoError(t, err)
				ref, got = untimed(ref), untimed(got)
				assert.False(t, json.Valid([]byte(got)), got)
				assert.True(t, strings.HasPrefix(ref, got) && len(got) < len(ref))
				assert.Len(t, rec.Sent, 1)
			})
		}
	}
}

func TestStreamError(t *testing.T) {
	for _, p := range players {
		for _, f := range wireFormats {
			t.Run(p.name+"/"+f.name, func(t *testing.T) {
				ref, got, err, rec := faultCase(t, p, f, streamCfg, FaultStreamError, true)
				require.NoError(t, err, "the stream ends cleanly after its error event")
				events := f.events(untimed(ref))
				i := f.first + 3
				assert.Equal(t, strings.Join(events[:i], "")+f.errorEvent(i)+f.done, untimed(got))

				assert.Equal(t, FaultStreamError, rec.Fault)
				assert.NoError(t, rec.Err)
				assert.Equal(t, 3, rec.FaultAt)
				assert.Len(t, rec.Sent, 3)
				assert.Equal(t, strings.Join(Tokens(streamCfg.Seed, 0, 3), ""), rec.Text)
				assert.Equal(t, 3, rec.OutputTokens)
				if f.name == "cohere" {
					assert.Equal(t, "ERROR", rec.FinishReason)
				} else {
					assert.Empty(t, rec.FinishReason)
				}
			})
		}
	}
}

// TestStallVirtual checks in virtual time that a Stall delays the content
// event it strikes, and everything after it, by exactly StallFor, and
// changes no byte.
func TestStallVirtual(t *testing.T) {
	const ttft, itl, stall = 100 * time.Millisecond, 10 * time.Millisecond, 5 * time.Second
	for _, f := range wireFormats {
		if f.sep == "" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := Config{TTFT: Fixed(ttft), ITL: Fixed(itl), OutputTokens: 6, TokensPerChunk: 1, Seed: 5, Faults: Faults{StallFor: stall}}
				_, ref, err := exchangeRaw(t, &http.Client{Transport: NewResponder(cfg)}, f.request(t, base, true))
				require.NoError(t, err)

				cfg.FaultFunc, cfg.Record = always(FaultStall), true
				r := NewResponder(cfg)
				start := time.Now()
				resp, err := (&http.Client{Transport: r}).Do(f.request(t, base, true))
				require.NoError(t, err)
				var events []sseEvent
				if f.sep == "\r\n\r\n" {
					events = readEventsCRLF(t, resp.Body)
				} else {
					events = readEvents(t, resp.Body)
				}
				resp.Body.Close()
				require.Len(t, events, len(f.events(ref)))
				for i, ev := range events {
					var want time.Duration
					switch j := i - f.first; {
					case j < 0:
					case j < 3:
						want = ttft + time.Duration(j)*itl
					case j < 6:
						want = stall + ttft + time.Duration(j)*itl
					default:
						want = stall + ttft + 5*itl
					}
					assert.Equal(t, want, ev.At.Sub(start), "event %d", i)
				}
				rec := r.Records()[0]
				assert.Equal(t, FaultStall, rec.Fault)
				assert.Equal(t, 3, rec.FaultAt)
				assert.NoError(t, rec.Err)
				assert.Equal(t, []time.Duration{100 * time.Millisecond, 110 * time.Millisecond, 120 * time.Millisecond, stall + 130*time.Millisecond, stall + 140*time.Millisecond, stall + 150*time.Millisecond}, rec.Scheduled)
				assert.Equal(t, start.Add(stall+150*time.Millisecond), rec.End)
			})
		})
	}
	t.Run("non-stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := NewResponder(Config{TTFT: Fixed(ttft), ITL: Fixed(itl), OutputTokens: 6, FaultFunc: always(FaultStall), Faults: Faults{StallFor: stall}, Record: true})
			start := time.Now()
			resp, err := (&http.Client{Transport: r}).Do(wireFormats[0].request(t, base, false))
			require.NoError(t, err)
			assert.Equal(t, ttft+5*itl, time.Since(start), "the headers and the first half of the body are on time")
			length, _ := strconv.Atoi(resp.Header.Get("Content-Length"))
			buf := make([]byte, 64<<10)
			n, err := resp.Body.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, length/2, n)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, length-n, len(b))
			assert.Equal(t, stall+ttft+5*itl, time.Since(start), "the second half comes StallFor later")
			assert.True(t, json.Valid(append(buf[:n], b...)))
			resp.Body.Close()
			assert.Equal(t, []time.Duration{stall + ttft + 5*itl}, r.Records()[0].Scheduled)
			assert.Equal(t, 2, r.Records()[0].Events)
		})
	})
}

// TestStallServer checks a Stall on a real Server: the content event it
// strikes is neither written nor read before StallFor has passed, and the
// bytes are those of the stream without it.
func TestStallServer(t *testing.T) {
	const stall = 200 * time.Millisecond
	for _, f := range []wireFormat{wireFormats[0], wireFormats[2], wireFormats[3], wireFormats[9]} {
		t.Run(f.name, func(t *testing.T) {
			cfg := Config{OutputTokens: 6, TokensPerChunk: 1, Seed: 5, Faults: Faults{StallFor: stall}}
			ref, got, err, rec := faultCase(t, players[0], f, cfg, FaultStall, true)
			require.NoError(t, err)
			assert.Equal(t, untimed(ref), untimed(got))
			require.Len(t, rec.Sent, 6)
			assert.Equal(t, []time.Duration{0, 0, 0, stall, stall, stall}, rec.Scheduled)
			for j, sent := range rec.Sent {
				assert.False(t, sent.Before(rec.Start.Add(rec.Scheduled[j])), "content event %d written before it was due", j)
			}
		})
	}
	// The client's reads see the gap too.
	s := NewServer(Config{OutputTokens: 4, TokensPerChunk: 1, FaultFunc: always(FaultStall), Faults: Faults{StallFor: stall}})
	defer s.Close()
	start := time.Now()
	resp := post(t, s.Client(), s.URL+"/v1/chat/completions", chatStream)
	var content []time.Time
	for _, ev := range readEvents(t, resp.Body) {
		if contentChunk.MatchString(ev.Data) {
			content = append(content, ev.At)
		}
	}
	resp.Body.Close()
	require.Len(t, content, 4)
	assert.GreaterOrEqual(t, content[2].Sub(start), stall, "the third chunk is read after the stall")
}
