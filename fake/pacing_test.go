package fake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Limits of checkPacing. Real time on a shared machine is noisy: under -race
// with other test binaries running, one event can be tens of milliseconds
// late, and a process starved of CPU falls behind any schedule as a whole.
// So the checks that always apply are the ones no load can break: nothing
// early, and the catching up that an absolute schedule does and a pacer that
// sleeps between writes never does. The bounds on lateness are generous, and
// apply only when the process was not starved (see starved).
const (
	// minCatchUp is the least share of consecutive content events sent
	// less than one ITL apart. An absolute schedule gives about half (the
	// lateness of each event is noise around a mean, and a late event is
	// followed by a sooner one), and more when the process falls behind
	// and writes due events back to back. A pacer that sleeps ITL after
	// each write gives none.
	minCatchUp = 0.10
	// maxMedianLate bounds the median lateness of the server's writes.
	maxMedianLate = 50 * time.Millisecond
	// maxMedianHop bounds the median time from the server's write to the
	// client's read over loopback.
	maxMedianHop = 50 * time.Millisecond
)

// starved reports whether the process's threads waited for a CPU, in all,
// more than twice the wall time of a run: the machine was then so busy
// that no bound on lateness can hold.
func starved(waited, wall time.Duration) bool { return waited > 2*wall }

// checkPacing checks the times at which the content events of a set of
// streams were due, sent (Record.Sent) and received by the client: nothing
// sent or received before it was due, the sending anchored to the schedule
// rather than to the previous write, and, when bounded is set, generous
// bounds on the median lateness and on the loopback hop. due[i][j] is event
// j of stream i. It reports what fails to t and returns whether all held.
func checkPacing(t assert.TestingT, itl time.Duration, due, sent, received [][]time.Time, bounded bool) bool {
	ok := true
	var late, hop []time.Duration
	for i := range due {
		for j := range due[i] {
			if d := due[i][j].Sub(sent[i][j]); d > 0 {
				ok = assert.Fail(t, fmt.Sprintf("stream %d, event %d: sent %v before it was due", i, j, d))
			}
			if d := due[i][j].Sub(received[i][j]); d > 0 {
				ok = assert.Fail(t, fmt.Sprintf("stream %d, event %d: received %v before it was due", i, j, d))
			}
			late = append(late, sent[i][j].Sub(due[i][j]))
			hop = append(hop, received[i][j].Sub(sent[i][j]))
		}
	}
	if share := catchUp(sent, itl); share < minCatchUp {
		ok = assert.Fail(t, fmt.Sprintf("%.1f%% of the gaps between events are shorter than the ITL, want at least %.0f%%: the pacer does not catch up with its schedule",
			100*share, 100*minCatchUp))
	}
	if !bounded {
		return ok
	}
	if m := median(late); m > maxMedianLate {
		ok = assert.Fail(t, fmt.Sprintf("median lateness of the server's writes %v, want at most %v", m, maxMedianLate))
	}
	if m := median(hop); m > maxMedianHop {
		ok = assert.Fail(t, fmt.Sprintf("median time from the server's write to the client's read %v, want at most %v", m, maxMedianHop))
	}
	return ok
}

// runQueueWait returns the time the process's threads have spent waiting
// for a CPU, from Linux's /proc/self/task/*/schedstat; 0 where that is not
// available.
func runQueueWait() time.Duration {
	tasks, _ := os.ReadDir("/proc/self/task")
	var total time.Duration
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/schedstat")
		if err != nil {
			continue // the thread has exited
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// catchUp returns the share of consecutive events sent less than itl apart.
func catchUp(sent [][]time.Time, itl time.Duration) float64 {
	gaps, short := 0, 0
	for _, s := range sent {
		for j := 1; j < len(s); j++ {
			gaps++
			if s[j].Sub(s[j-1]) < itl {
				short++
			}
		}
	}
	return float64(short) / float64(max(gaps, 1))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestRealTimePacing runs 16 streams at once against a real Server and
// checks both the server's Sent times and the client's arrival times against
// the schedule.
func TestRealTimePacing(t *testing.T) {
	const (
		streams = 16
		tokens  = 100
		ttft    = 50 * time.Millisecond
		itl     = 5 * time.Millisecond
	)
	s := NewServer(Config{TTFT: Fixed(ttft), ITL: Fixed(itl), OutputTokens: tokens, Record: true})
	defer s.Close()
	wait0, wall0 := runQueueWait(), time.Now()

	arrivals := make(map[string][]time.Time)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range streams {
		wg.Go(func() {
			resp := post(t, s.Client(), s.URL+"/v1/chat/completions", chatStream)
			defer resp.Body.Close()
			var at []time.Time
			for _, ev := range readEvents(t, resp.Body) {
				if strings.Contains(ev.Data, `"delta":{"content":`) {
					at = append(at, ev.At)
				}
			}
			mu.Lock()
			arrivals[resp.Header.Get("X-Request-Id")] = at
			mu.Unlock()
		})
	}
	wg.Wait()
	waited, wall := runQueueWait()-wait0, time.Since(wall0)
	t.Logf("threads waited %v for a CPU in %v", waited, wall)
	if starved(waited, wall) {
		t.Logf("the process was starved of CPU: checking only that nothing was early and that the pacer caught up")
	}

	recs := s.Records()
	require.Len(t, recs, streams)
	var due, sent, arrived [][]time.Time
	for _, r := range recs {
		require.NoError(t, r.Err)
		require.Len(t, r.Scheduled, tokens)
		require.Len(t, r.Sent, tokens)
		at := arrivals["req_"+strings.TrimPrefix(r.ID, "chatcmpl-")]
		require.Len(t, at, tokens)
		d := make([]time.Time, tokens)
		for j := range d {
			require.Equal(t, ttft+time.Duration(j)*itl, r.Scheduled[j])
			d[j] = r.Start.Add(r.Scheduled[j])
		}
		due = append(due, d)
		sent = append(sent, r.Sent)
		arrived = append(arrived, at)
	}
	checkPacing(t, itl, due, sent, arrived, !starved(waited, wall))
	t.Logf("median lateness: server %v, client %v; %.0f%% of gaps shorter than the ITL",
		median(flatLate(due, sent)), median(flatLate(due, arrived)), 100*catchUp(sent, itl))
}

// TestCheckPacingFails shows that checkPacing catches what it is for:
// events sent early, a pacer that drifts because it sleeps between writes
// (even by little), one far behind, a slow loopback; and that it accepts an
// absolute pacer with jitter, stalls, or falling behind a starved process.
func TestCheckPacingFails(t *testing.T) {
	const itl = 5 * time.Millisecond
	t0 := time.Now()
	r := rand.New(rand.NewPCG(1, 2))
	jitter := func() time.Duration { return time.Duration(r.Int64N(int64(500 * time.Microsecond))) }
	// streams builds 16 streams of 100 events; sent returns event j's send
	// time given its due time and the previous send time.
	streams := func(sent func(j int, due, prev time.Time) time.Time, hop time.Duration) (due, snt, rcv [][]time.Time) {
		for range 16 {
			var d, s, c []time.Time
			for j := range 100 {
				x := t0.Add(50*time.Millisecond + time.Duration(j)*itl)
				var prev time.Time
				if j > 0 {
					prev = s[j-1]
				}
				y := sent(j, x, prev)
				d, s, c = append(d, x), append(s, y), append(c, y.Add(hop))
			}
			due, snt, rcv = append(due, d), append(snt, s), append(rcv, c)
		}
		return due, snt, rcv
	}
	absolute := func(late func(j int) time.Duration) func(int, time.Time, time.Time) time.Time {
		return func(j int, due, prev time.Time) time.Time {
			at := due.Add(late(j))
			if at.Before(prev) { // one writer per stream: never before the previous write
				at = prev
			}
			return at
		}
	}
	tests := []struct {
		name      string
		sent      func(j int, due, prev time.Time) time.Time
		hop       time.Duration
		ok        bool // with the bounds on lateness
		okStarved bool // without them, as for a starved process
	}{
		{"absolute with jitter", absolute(func(int) time.Duration { return jitter() }), 100 * time.Microsecond, true, true},
		{"absolute with stalls", absolute(func(j int) time.Duration {
			if j%10 == 3 {
				return 30 * time.Millisecond
			}
			return jitter()
		}), 100 * time.Microsecond, true, true},
		{"absolute, starved process falling behind", func(j int, due, prev time.Time) time.Time {
			// The process runs 2 ms in every 10 and a write takes 1.2 ms of
			// it, so the stream falls further behind all the time.
			at := due
			if j > 0 && at.Before(prev.Add(1200*time.Microsecond)) {
				at = prev.Add(1200 * time.Microsecond)
			}
			if in := at.Sub(t0) % (10 * time.Millisecond); in > 2*time.Millisecond {
				at = at.Add(10*time.Millisecond - in)
			}
			return at
		}, time.Millisecond, true, true},
		{"sleeps ITL after each write, 50µs late each", func(j int, due, prev time.Time) time.Time {
			if j == 0 {
				return due.Add(jitter())
			}
			return prev.Add(itl + 50*time.Microsecond + jitter()/10)
		}, 100 * time.Microsecond, false, false},
		{"sleeps ITL after each write, on time", func(j int, due, prev time.Time) time.Time {
			if j == 0 {
				return due
			}
			return prev.Add(itl)
		}, 100 * time.Microsecond, false, false},
		{"far behind", absolute(func(int) time.Duration { return 60*time.Millisecond + jitter() }), 100 * time.Microsecond, false, true},
		{"slow loopback", absolute(func(int) time.Duration { return jitter() }), 60 * time.Millisecond, false, true},
		{"one event early", absolute(func(j int) time.Duration {
			if j == 50 {
				return -time.Microsecond
			}
			return jitter()
		}), 100 * time.Microsecond, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, sent, received := streams(tt.sent, tt.hop)
			assert.Equal(t, tt.ok, checkPacing(&collectT{}, itl, due, sent, received, true), "with bounds")
			assert.Equal(t, tt.okStarved, checkPacing(&collectT{}, itl, due, sent, received, false), "without bounds")
		})
	}
}

// flatLate returns at[i][j] − due[i][j] for all i and j.
func flatLate(due, at [][]time.Time) []time.Duration {
	var out []time.Duration
	for i := range due {
		for j := range due[i] {
			out = append(out, at[i][j].Sub(due[i][j]))
		}
	}
	return out
}

// collectT is an assert.TestingT that only counts failures.
type collectT struct{ failed int }

func (c *collectT) Errorf(string, ...any) { c.failed++ }

func TestPacerWakesInOrderAndNeverEarly(t *testing.T) {
	for _, mode := range []pacerMode{{}, {spin: -1}, {spin: -1, timerOnly: true}} {
		t.Run(fmt.Sprintf("%+v", mode), func(t *testing.T) {
			p := &pacer{spin: mode.spin, timerOnly: mode.timerOnly}
			r := rand.New(rand.NewPCG(3, 4))
			start := time.Now()
			const n = 200
			woke := make([]time.Time, n)
			due := make([]time.Time, n)
			var wg sync.WaitGroup
			for i := range n {
				due[i] = start.Add(time.Duration(r.Int64N(int64(50 * time.Millisecond))))
				wg.Go(func() {
					w := newWaiter()
					assert.NoError(t, p.wait(context.Background(), w, due[i]))
					woke[i] = time.Now()
				})
			}
			wg.Wait()
			for i := range n {
				assert.False(t, woke[i].Before(due[i]), "waiter %d woke %v early", i, due[i].Sub(woke[i]))
			}
			p.close()
			assert.False(t, p.running)
			assert.Empty(t, p.heap)
		})
	}
}

func TestPacerCancel(t *testing.T) {
	p := &pacer{}
	ctx, cancel := context.WithCancel(context.Background())
	w := newWaiter()
	done := make(chan error)
	go func() { done <- p.wait(ctx, w, time.Now().Add(time.Hour)) }()
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.heap) == 1
	}, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	p.close() // the scheduler sees the empty heap and stops
	assert.False(t, p.running)
	assert.Equal(t, -1, w.idx)

	// The waiter is reusable, and a wait that is already due returns at once.
	assert.NoError(t, p.wait(context.Background(), w, time.Now().Add(time.Millisecond)))
	assert.NoError(t, p.wait(context.Background(), w, time.Now().Add(-time.Second)))
	assert.ErrorIs(t, p.wait(ctx, w, time.Now().Add(time.Hour)), context.Canceled)
	p.close()
}

// TestPacerNewHeadWakesEarlier checks that a waiter due before the current
// head is not held up by the alarm set for the head.
func TestPacerNewHeadWakesEarlier(t *testing.T) {
	p := &pacer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.wait(ctx, newWaiter(), time.Now().Add(time.Hour))
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.heap) == 1
	}, 10*time.Second, time.Millisecond)
	start := time.Now()
	require.NoError(t, p.wait(context.Background(), newWaiter(), start.Add(20*time.Millisecond)))
	assert.Less(t, time.Since(start), 10*time.Second)
	cancel()
	p.close()
}
