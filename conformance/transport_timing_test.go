package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/stats"
)

// This file checks lens.Transport's timing on real sockets: openai-go
// streams from a fake.Server on loopback, and every call is watched from
// both sides of the transport at once, by the application's own client
// above it and by the connection's transport below it.

// callProbe is what the two probes saw of one call.
type callProbe struct {
	call  time.Time // the application's client handed the request down (above lens.Transport)
	sent  time.Time // the request reached the transport below lens.Transport
	id    string    // the response's request id
	reads []probedRead
	raw   []byte // the body, every byte in the order read
}

// probedRead is one Read of a response body, seen from both sides.
type probedRead struct {
	got time.Time // the Read below lens.Transport returned: the bytes arrived
	ret time.Time // the same Read returned to the application through lens.Transport
	n   int
}

type probeKey struct{}

// appProbe is the application's side: its http.Client's RoundTripper,
// wrapped around lens.Transport.
type appProbe struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls []*callProbe
}

func (a *appProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &callProbe{}
	req = req.WithContext(context.WithValue(req.Context(), probeKey{}, c))
	c.call = time.Now()
	resp, err := a.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.calls = append(a.calls, c)
	a.mu.Unlock()
	resp.Body = &appBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

// appBody stamps each Read when it returns to the application.
type appBody struct {
	io.ReadCloser
	c *callProbe
	i int
}

func (b *appBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	ret := time.Now()
	if b.i < len(b.c.reads) {
		b.c.reads[b.i].ret = ret
	}
	b.i++
	return n, err
}

// wireProbe is the network's side: the Base of lens.Transport.
type wireProbe struct{ next http.RoundTripper }

func (w wireProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(probeKey{}).(*callProbe)
	if c == nil {
		return w.next.RoundTrip(req)
	}
	c.sent = time.Now()
	resp, err := w.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c.id = resp.Header.Get("X-Request-Id")
	resp.Body = &wireBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

// wireBody stamps each Read when the bytes arrive, and keeps them.
type wireBody struct {
	io.ReadCloser
	c *callProbe
}

func (b *wireBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.reads = append(b.c.reads, probedRead{got: time.Now(), n: n})
	b.c.raw = append(b.c.raw, p[:n]...)
	return n, err
}

// contentEnds returns, for each content-bearing chunk of an OpenAI chat
// completions stream, the offset in body just past the blank line that
// ends its event: the byte whose arrival completes the event. It is
// written from the wire format, with encoding/json, apart from the
// codec lens.Transport uses.
func contentEnds(t *testing.T, body []byte) []int {
	var ends []int
	off := 0
	for {
		i := bytes.Index(body[off:], []byte("\n\n"))
		if i < 0 {
			require.Empty(t, bytes.TrimSpace(body[off:]), "the stream ends inside an event")
			return ends
		}
		ev := body[off : off+i]
		off += i + 2
		data, ok := bytes.CutPrefix(ev, []byte("data: "))
		require.True(t, ok, "event %q", ev)
		if string(data) == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct{ Content string }
			}
		}
		require.NoError(t, json.Unmarshal(data, &chunk), "event %q", ev)
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			ends = append(ends, off)
		}
	}
}

// TestTransportLoopbackTiming: openai-go streams from a real fake.Server
// on loopback through lens.Transport, 16 callers at once, 384 calls, each
// paired by request id with the fake's record of it and with what two
// probes saw of it: one is the application's http.Client transport, above
// lens.Transport, which stamps when the request is handed down and when
// each Read of the body returns to the application; the other is the
// transport under lens.Transport, which stamps when each Read returns
// there, that is when the bytes arrived, and keeps the bytes. An
// independent parser of the kept bytes (encoding/json) finds the Read
// that completed each content event.
//
// What the transport claims is that each event is stamped when the
// application's Read returns it, and t0 when the application sends. So:
//
//   - exactly, for every call: t0 lies between the application handing the
//     request down and the request reaching the network side, and every
//     content event's stamp lies within the very Read that completed it
//     (after the bytes arrived, before the Read returned to the
//     application); tokens and finish reason equal the fake's record, and
//     no event is stamped before the fake's schedule let it be sent;
//   - the TTFT error, measured TTFT − the TTFT the application saw (from
//     handing the request down to the return of the Read that delivered
//     the first content event), is under 1 ms at p99, and so is the ITL
//     error, measured ITL − the gap between the application's two Reads.
//
// The error so defined is the transport's own: its work between the
// application's call and its t0, and between the bytes' arrival and the
// Read's return (decoding included). The loopback hop and the machine's
// scheduling of the fake and of the reader move the application's view
// and the measurement alike, so the bound holds on a busy machine (p99
// 0.03–0.4 ms with the two cores at a load of 18). One thing it
// cannot escape: the operating system may take the core from the reader
// inside those windows, and the race detector makes them about ten
// times longer; under -race on a loaded machine that happened to 2–10% of
// the calls (p99 up to 50 ms), so there the bound is asserted at p50 and
// the p99 is asserted by the run without -race (CI runs this test both
// ways). The exact checks hold under -race too. The network-side TTFT error (measured TTFT − the fake's
// own, which adds the hops in and out) is logged with the fake's pacing
// error, and held under 1 ms at p99 only on runs where the fake kept its
// own schedule within 0.5 ms at p99.
func TestTransportLoopbackTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time loopback test; skipped with -short")
	}
	const callers, calls, tokens = 16, 24, 10
	const ttft, itl = 30 * time.Millisecond, 5 * time.Millisecond
	srv := newServer(t, fake.Config{TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens})
	ms := newMeasured()
	tr := &lens.Transport{Base: wireProbe{srv.Client().Transport}, OnRequest: ms.record}
	app := &appProbe{next: tr}
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey(testKey),
		option.WithHTTPClient(&http.Client{Transport: app}), option.WithMaxRetries(0))
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			// Callers start spread over one call's length, so that 16
			// streams of fixed latencies do not deliver in bursts.
			time.Sleep(time.Duration(i) * (ttft + tokens*itl) / callers)
			for range calls {
				params := chatParams("gpt-4o-mini", 0)
				params.StreamOptions.IncludeUsage = openai.Bool(true)
				s := client.Chat.Completions.NewStreaming(t.Context(), params)
				for s.Next() {
				}
				if err := errors.Join(s.Err(), s.Close()); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range callers {
		require.NoError(t, <-errs)
	}
	res := tr.Result()
	require.EqualValues(t, callers*calls, res.Succeeded, "errors: %v", res.ErrorSamples)

	recs := map[string]fake.Record{}
	for _, rec := range srv.Records() {
		recs[rec.RequestID] = rec
	}
	require.Len(t, app.calls, callers*calls)
	ttftErr, itlErr := stats.NewLatency(), stats.NewLatency()
	wireErr, pace := stats.NewLatency(), stats.NewLatency()
	for _, c := range app.calls {
		m, ok := ms.byID[c.id]
		require.True(t, ok, "no measurement of call %q", c.id)
		rec, ok := recs[c.id]
		require.True(t, ok, "the fake has no record of call %q", c.id)
		require.Equal(t, tokens, m.OutputTokens)
		require.Equal(t, rec.FinishReason, m.FinishReason)
		require.Len(t, rec.Sent, tokens)
		require.Len(t, m.ITLs, tokens-1)
		require.False(t, m.Start.Before(c.call) || c.sent.Before(m.Start),
			"call %s: t0 %v outside [handed down, reached the network] = [%v, %v]", c.id, m.Start, c.call, c.sent)

		ends := contentEnds(t, c.raw)
		require.Len(t, ends, tokens)
		through := make([]int, len(c.reads)) // the bytes read up to and including each Read
		for k, rd := range c.reads {
			through[k] = rd.n
			if k > 0 {
				through[k] += through[k-1]
			}
		}
		stamp := m.Start.Add(m.TTFT)
		var prev time.Time
		for i, end := range ends {
			if i > 0 {
				stamp = stamp.Add(m.ITLs[i-1])
			}
			k, _ := slices.BinarySearch(through, end) // the Read that completed the event
			rd := c.reads[k]
			require.False(t, stamp.Before(rd.got) || rd.ret.Before(stamp),
				"call %s event %d: stamped %v outside its Read [arrived, returned] = [%v, %v]", c.id, i, stamp, rd.got, rd.ret)
			due := rec.Start.Add(rec.Scheduled[i])
			require.False(t, stamp.Before(due), "call %s event %d stamped %v before it was due", c.id, i, due.Sub(stamp))
			if i == 0 {
				ttftErr.Record(rd.ret.Sub(c.call) - m.TTFT)
			} else {
				itlErr.Record(absDuration(rd.ret.Sub(prev) - m.ITLs[i-1]))
			}
			prev = rd.ret
			pace.Record(rec.Sent[i].Sub(due))
		}
		wireErr.Record(absDuration(m.TTFT - rec.Sent[0].Sub(rec.Start)))
	}
	p99 := func(l *stats.Latency) time.Duration { return l.Percentile(99) }
	summary := fmt.Sprintf("TTFT error p50 %v p99 %v max %v; ITL error p50 %v p99 %v max %v; against the fake: TTFT error p50 %v p99 %v, fake pacing p99 %v",
		ttftErr.Percentile(50), p99(ttftErr), ttftErr.Max(), itlErr.Percentile(50), p99(itlErr), itlErr.Max(),
		wireErr.Percentile(50), p99(wireErr), p99(pace))
	t.Log(summary)
	bound := p99
	if raceEnabled {
		bound = func(l *stats.Latency) time.Duration { return l.Percentile(50) }
	}
	assert.Less(t, bound(ttftErr), time.Millisecond, "TTFT error (p99, p50 under -race): %s", summary)
	assert.Less(t, bound(itlErr), time.Millisecond, "ITL error (p99, p50 under -race): %s", summary)
	// Against the fake's own send times the error also holds the
	// request's trip to the server and both processes' scheduling on a
	// machine of two cores shared by 16 callers (p99 0.8-1.3 ms measured
	// on an idle one): a looser bound, which still catches a stamp taken
	// at the wrong event, such as the body's end.
	if p99(pace) <= 500*time.Microsecond {
		assert.Less(t, p99(wireErr), 5*time.Millisecond, "TTFT error against the fake, p99: %s", summary)
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
