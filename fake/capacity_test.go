package fake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateFIFOAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(1)
		waited, err := g.acquire(t.Context())
		require.NoError(t, err)
		assert.False(t, waited)

		// Three waiters line up in order; the second gives up.
		admitted := make(chan int, 3)
		errs := make([]error, 3)
		ctx1, cancel1 := context.WithCancel(t.Context())
		for i, ctx := range []context.Context{t.Context(), ctx1, t.Context()} {
			go func() {
				waited, err := g.acquire(ctx)
				assert.True(t, waited)
				errs[i] = err
				if err == nil {
					admitted <- i
				}
			}()
			synctest.Wait()
			assert.Equal(t, i+1, g.waiting())
		}
		cancel1()
		synctest.Wait()
		assert.ErrorIs(t, errs[1], context.Canceled)
		assert.Equal(t, 2, g.waiting(), "a waiter that gives up leaves the line")

		g.release()
		synctest.Wait()
		assert.Equal(t, 0, <-admitted)
		g.release()
		synctest.Wait()
		assert.Equal(t, 2, <-admitted)
		assert.Equal(t, 0, g.waiting())

		// A done context takes no place, even when one is free... and
		// the place it did not take is still there.
		g.release()
		done, cancel := context.WithCancel(t.Context())
		cancel()
		full := newGate(0)
		_, err = full.acquire(done)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 0, full.waiting())
		waited, err = g.acquire(t.Context())
		assert.NoError(t, err)
		assert.False(t, waited)
	})
}

// queueLoad is the load of the capacity tests: a service time of
// ttft + (tokens-1)×itl per response.
type queueLoad struct {
	capacity, requests, tokens int
	ttft, itl                  time.Duration
}

func (q queueLoad) service() time.Duration { return q.ttft + time.Duration(q.tokens-1)*q.itl }

func (q queueLoad) config() Config {
	return Config{TTFT: Fixed(q.ttft), ITL: Fixed(q.itl), OutputTokens: q.tokens, Capacity: q.capacity, Record: true}
}

// arrival is what a client saw of one response.
type arrival struct {
	requestID        string
	headers, content time.Time // when RoundTrip returned; when the first content event was read
	err              error
}

// contentChunk matches a Chat Completions chunk that carries text.
var contentChunk = regexp.MustCompile(`"delta":\{"content":"[^"]`)

// fetch sends a chat request and reads the response to its end, noting when
// its headers and its first content arrived. It reports failures in the
// result, so that it may run on any goroutine.
func fetch(client *http.Client, url string, stream bool) arrival {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":` + fmt.Sprint(stream) + `}`
	resp, err := client.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return arrival{err: err}
	}
	defer resp.Body.Close()
	a := arrival{requestID: resp.Header.Get("X-Request-Id"), headers: time.Now()}
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		if a.content.IsZero() && n > 0 && (!stream || contentChunk.Match(buf[:n])) {
			a.content = time.Now()
		}
		if err == io.EOF {
			return a
		}
		if err != nil {
			a.err = err
			return a
		}
	}
}

// TestCapacityQueuesFIFO checks, in virtual time, that a Responder with
// Capacity c serves requests beyond c exactly as a FIFO queue would:
// request i (in arrival order) starts ⌊i/c⌋ service times late, headers and
// all, and Record.Queued says so.
func TestCapacityQueuesFIFO(t *testing.T) {
	q := queueLoad{capacity: 8, requests: 32, tokens: 5, ttft: 100 * time.Millisecond, itl: 10 * time.Millisecond}
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream %v", stream), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := NewResponder(q.config())
				client := &http.Client{Transport: r}
				start := time.Now()
				got := make([]arrival, q.requests)
				var wg sync.WaitGroup
				for i := range q.requests {
					wg.Go(func() { got[i] = fetch(client, base, stream) })
					synctest.Wait() // request i is served or in line before i+1 arrives
				}
				wg.Wait()

				recs := r.Records()
				require.Len(t, recs, q.requests)
				for i, rec := range recs {
					require.NoError(t, got[i].err)
					queued := time.Duration(i/q.capacity) * q.service()
					assert.Equal(t, queued, rec.Queued, "request %d", i)
					assert.Equal(t, start, rec.Start)
					assert.Equal(t, got[i].requestID, rec.RequestID)
					if stream {
						assert.Equal(t, queued, got[i].headers.Sub(start), "request %d: a queued stream's headers wait too", i)
						assert.Equal(t, queued+q.ttft, rec.Scheduled[0], "request %d", i)
						assert.Equal(t, queued+q.ttft, got[i].content.Sub(start), "request %d: TTFT grows by the wait", i)
					} else {
						assert.Equal(t, []time.Duration{queued + q.service()}, rec.Scheduled, "request %d", i)
						assert.Equal(t, queued+q.service(), got[i].headers.Sub(start), "request %d", i)
					}
					assert.Equal(t, start.Add(queued+q.service()), rec.End, "request %d", i)
				}
			})
		})
	}
}

// TestCapacityConcurrentArrivals sends every request at the same instant:
// which ones wait is up to the scheduler, but the queue delays must be
// those of c places: c requests of each multiple of the service time.
func TestCapacityConcurrentArrivals(t *testing.T) {
	q := queueLoad{capacity: 8, requests: 32, tokens: 5, ttft: 100 * time.Millisecond, itl: 10 * time.Millisecond}
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(q.config())
		client := &http.Client{Transport: r}
		var wg sync.WaitGroup
		errs := make([]error, q.requests)
		for i := range q.requests {
			wg.Go(func() { errs[i] = fetch(client, base, true).err })
		}
		wg.Wait()
		var queued []time.Duration
		for i, rec := range r.Records() {
			require.NoError(t, errs[i])
			queued = append(queued, rec.Queued)
		}
		slices.Sort(queued)
		for i, d := range queued {
			assert.Equal(t, time.Duration(i/q.capacity)*q.service(), d, "the %d-th shortest wait", i)
		}
	})
}

// TestCapacityCancelWhileQueued checks that a request that gives up in the
// queue ends with its context's error, records its wait, and takes no
// place: the next request in line gets it.
func TestCapacityCancelWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewResponder(Config{TTFT: Fixed(time.Second), OutputTokens: 1, Capacity: 1, Record: true})
		client := &http.Client{Transport: r}
		start := time.Now()
		var wg sync.WaitGroup
		var first, third arrival
		wg.Go(func() { first = fetch(client, base, true) })
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(chatStream))
		require.NoError(t, err)
		var secondErr error
		wg.Go(func() { _, secondErr = client.Do(req) })
		synctest.Wait()
		wg.Go(func() { third = fetch(client, base, true) })
		wg.Wait()

		require.NoError(t, first.err)
		require.NoError(t, third.err)
		assert.ErrorIs(t, secondErr, context.DeadlineExceeded)
		recs := r.Records()
		require.Len(t, recs, 3)
		assert.ErrorIs(t, recs[1].Err, context.DeadlineExceeded)
		assert.Equal(t, 300*time.Millisecond, recs[1].Queued)
		assert.Empty(t, recs[1].Sent)
		assert.Equal(t, time.Second, recs[2].Queued, "the third request is next after the first")
		assert.Equal(t, 2*time.Second, third.content.Sub(start))
	})
}

func TestPrefill(t *testing.T) {
	const ttft, prefill = 100 * time.Millisecond, 2 * time.Millisecond
	for _, chars := range []int{40, 400} {
		tokens := chars / 4
		synctest.Test(t, func(t *testing.T) {
			r := NewResponder(Config{TTFT: Fixed(ttft), ITL: Fixed(10 * time.Millisecond), PrefillPerToken: prefill, OutputTokens: 3, Record: true})
			client := &http.Client{Transport: r}
			start := time.Now()
			body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", chars) + `"}],"stream":true}`
			resp := post(t, client, base+"/v1/chat/completions", body)
			events := readEvents(t, resp.Body)
			resp.Body.Close()
			rec := r.Records()[0]
			assert.Equal(t, tokens, rec.PromptTokens)
			first := ttft + time.Duration(tokens)*prefill
			assert.Equal(t, []time.Duration{first, first + 10*time.Millisecond, first + 20*time.Millisecond}, rec.Scheduled)
			assert.Equal(t, first, events[1].At.Sub(start), "the first content chunk")
		})
	}
	// The same seed keeps its texts and schedules: prefill only adds.
	a := newPlan(&Config{TTFT: Uniform(0, time.Second), ITL: Uniform(0, time.Second), OutputTokens: 5, Seed: 3}, 7, time.Now(), "m", 50, 0)
	b := newPlan(&Config{TTFT: Uniform(0, time.Second), ITL: Uniform(0, time.Second), OutputTokens: 5, Seed: 3, PrefillPerToken: time.Millisecond}, 7, time.Now(), "m", 50, 0)
	assert.Equal(t, a.tokens, b.tokens)
	for j := range a.offsets {
		assert.Equal(t, a.offsets[j]+50*time.Millisecond, b.offsets[j])
	}
}

// TestCapacityServer runs a queue on a real Server. Always checked: no more
// than Capacity responses write at once. When the process was not starved
// and the requests arrived together, no request may also have been served
// sooner than c places allow.
func TestCapacityServer(t *testing.T) {
	q := queueLoad{capacity: 8, requests: 32, tokens: 5, ttft: 80 * time.Millisecond, itl: 5 * time.Millisecond}
	s := NewServer(q.config())
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: q.requests}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range q.requests { // open the connections first
		wg.Go(func() {
			if resp, err := client.Get(s.URL + "/v1/models"); err == nil {
				readAllBody(resp)
			}
		})
	}
	wg.Wait()
	skip := len(s.Records())

	wait0, wall0 := runQueueWait(), time.Now()
	got := make([]arrival, q.requests)
	for i := range q.requests {
		wg.Go(func() { got[i] = fetch(client, s.URL, true) })
	}
	wg.Wait()
	waited, wall := runQueueWait()-wait0, time.Since(wall0)

	recs := s.Records()[skip:]
	require.Len(t, recs, q.requests)
	byID := map[string]arrival{}
	for _, a := range got {
		require.NoError(t, a.err)
		byID[a.requestID] = a
	}
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	first, last := recs[0].Start, recs[0].Start
	var queued []time.Duration
	for _, rec := range recs {
		require.NoError(t, rec.Err)
		require.Len(t, rec.Sent, q.tokens)
		assert.Equal(t, rec.Queued+q.ttft, rec.Scheduled[0])
		for j, sent := range rec.Sent {
			assert.False(t, sent.Before(rec.Start.Add(rec.Scheduled[j])), "sent before it was due")
		}
		a := byID[rec.RequestID]
		assert.False(t, a.content.Before(rec.Start.Add(rec.Scheduled[0])), "first content read before it was due")
		edges = append(edges, edge{rec.Sent[0], +1}, edge{rec.Sent[q.tokens-1], -1})
		first = minTime(first, rec.Start)
		last = maxTime(last, rec.Sent[q.tokens-1])
		queued = append(queued, rec.Queued)
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	busy, most := 0, 0
	for _, e := range edges {
		busy += e.delta
		most = max(most, busy)
	}
	assert.LessOrEqual(t, most, q.capacity, "responses writing at once")

	slices.Sort(queued)
	t.Logf("threads waited %v for a CPU in %v; queue delays %v", waited, wall, queued)
	spread := time.Duration(0)
	for _, rec := range recs {
		spread = max(spread, rec.Start.Sub(first))
	}
	if starved(waited, wall) || spread > 10*time.Millisecond {
		t.Logf("starved, or arrivals %v apart: checking only the invariants", spread)
		return
	}
	// c places serve n requests in no less than ⌈n/c⌉ service times, and
	// the i-th shortest wait is at least ⌊i/c⌋ service times (but for the
	// arrivals' spread). How much longer is the machine's business, not the
	// fake's: the exact delays are checked in virtual time by
	// TestCapacityQueuesFIFO and TestCapacityConcurrentArrivals.
	rounds := (q.requests + q.capacity - 1) / q.capacity
	assert.GreaterOrEqual(t, last.Sub(first), time.Duration(rounds)*q.service()-spread-time.Millisecond, "c places served n requests too fast")
	for i, d := range queued {
		want := time.Duration(i/q.capacity) * q.service()
		assert.GreaterOrEqual(t, d, want-spread-time.Millisecond, "the %d-th shortest wait", i)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestCloseCutsQueuedRequests checks that Close ends the requests waiting
// in the queue, as it ends those in progress.
func TestCloseCutsQueuedRequests(t *testing.T) {
	s := NewServer(Config{TTFT: Fixed(time.Hour), Capacity: 1, Record: true})
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- fetch(s.Client(), s.URL, true).err }()
	}
	require.Eventually(t, func() bool { return s.handler().gate.waiting() == 1 }, 10*time.Second, time.Millisecond)
	s.Close()
	for range 2 {
		assert.Error(t, <-done)
	}
	recs := s.Records()
	require.Len(t, recs, 2)
	for _, rec := range recs {
		assert.ErrorIs(t, rec.Err, ErrServerClosed)
	}
	assert.True(t, recs[0].Queued > 0 || recs[1].Queued > 0, "one of them waited")
}
