package fake

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// A pacer wakes goroutines at given instants with one scheduler goroutine and
// one alarm over a min-heap of due waiters, instead of a sleeping timer per
// waiter.
//
// Go's timers wake late when the process is idle: the runtime then sleeps in
// epoll with millisecond resolution, so a timer fires up to about 1 ms after
// it is due. On Linux the pacer's alarm is a timerfd, which wakes the runtime's
// poller with microsecond precision; a read deadline at the same instant
// covers the case where every processor is busy and the poller is not
// consulted. The alarm is set spin before the earliest due instant, and the
// scheduler busy-waits the rest (yielding the processor on every turn), then
// wakes each waiter the moment it is due.
//
// The scheduler goroutine and its alarm exist only while waiters are queued:
// the first one starts them, and they stop when the heap is empty, so an idle
// pacer holds no goroutine and no file descriptor. The zero value is ready to
// use.
type pacer struct {
	// spin is how long before a due instant the scheduler stops sleeping and
	// busy-waits. 0 means defaultSpin; negative means no busy wait.
	spin time.Duration
	// timerOnly makes the alarm a plain Go timer (for comparison).
	timerOnly bool

	mu      sync.Mutex
	heap    []*waiter
	running bool  // the scheduler goroutine is running
	alarm   alarm // the scheduler's alarm while it runs
	wg      sync.WaitGroup
}

// defaultSpin is the busy-wait window. It covers the usual lateness of the
// timerfd alarm (25 to 40 µs) and keeps a processor awake, where an idle
// virtual CPU can take milliseconds to wake. It is kept short because a
// goroutine that busy-waits with runtime.Gosched keeps its processor from
// polling the network, which delays every connection's reads and writes. In
// BenchmarkPacing1000 on 2 cores, 10 µs gave a pacing error of 55 µs p50 and
// 0.5-0.7 ms p99; 25 µs, 18 µs and 0.2-0.3 ms; 50 µs, 9 µs and 0.5-0.7 ms,
// with the client's reads then 0.5 ms late at the median instead of 0.14.
const defaultSpin = 25 * time.Microsecond

// An alarm wakes the scheduler goroutine.
type alarm interface {
	// set makes wait return d from now (at once when d <= 0), replacing the
	// previous setting. It may be called from any goroutine.
	set(d time.Duration)
	// wait blocks until the alarm rings. Only the scheduler calls it.
	wait()
	// close releases the alarm.
	close()
}

// A waiter is one goroutine's place in the pacer, reused for each wait.
type waiter struct {
	due   time.Time
	idx   int           // index in the heap, or -1
	ready chan struct{} // capacity 1: the scheduler sends when due
}

func newWaiter() *waiter { return &waiter{idx: -1, ready: make(chan struct{}, 1)} }

// wait blocks until due or until ctx is done, and returns ctx.Err() in the
// second case. w must not be used by two waits at once.
func (p *pacer) wait(ctx context.Context, w *waiter, due time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	if !now.Before(due) {
		return nil
	}
	w.due = due
	p.mu.Lock()
	p.push(w)
	switch {
	case !p.running:
		p.start()
	case w.idx == 0:
		p.alarm.set(due.Sub(now) - p.spinning())
	}
	p.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		if w.idx >= 0 {
			p.remove(w.idx)
			if len(p.heap) == 0 {
				p.alarm.set(0) // let the scheduler see the empty heap and stop
			}
		} else {
			// The scheduler fired w after ctx was done; take its signal so
			// the next wait starts clean.
			<-w.ready
		}
		p.mu.Unlock()
		return ctx.Err()
	}
}

// spinning returns the busy-wait window, 0 for none.
func (p *pacer) spinning() time.Duration {
	switch {
	case p.spin < 0:
		return 0
	case p.spin == 0:
		return defaultSpin
	}
	return p.spin
}

// start starts the scheduler goroutine with a new alarm. p.mu is held.
func (p *pacer) start() {
	if p.timerOnly {
		p.alarm = newTimerAlarm()
	} else {
		p.alarm = newAlarm()
	}
	p.running = true
	p.wg.Add(1)
	go p.run(p.alarm)
}

// run is the scheduler goroutine.
func (p *pacer) run(a alarm) {
	defer p.wg.Done()
	defer a.close()
	spin := p.spinning()
	for {
		p.mu.Lock()
		now := time.Now()
		for len(p.heap) > 0 && !p.heap[0].due.After(now) {
			w := p.heap[0]
			p.remove(0)
			w.ready <- struct{}{} // never blocks: one signal per queued wait
		}
		if len(p.heap) == 0 {
			p.running = false
			p.alarm = nil
			p.mu.Unlock()
			return
		}
		d := p.heap[0].due.Sub(now)
		if d <= spin {
			p.mu.Unlock()
			runtime.Gosched()
			continue
		}
		a.set(d - spin)
		p.mu.Unlock()
		a.wait()
	}
}

// close waits for the scheduler goroutine to stop. It returns at once when
// no waiter is queued; the caller must first end every wait.
func (p *pacer) close() { p.wg.Wait() }

// push adds w to the heap. p.mu is held.
func (p *pacer) push(w *waiter) {
	w.idx = len(p.heap)
	p.heap = append(p.heap, w)
	p.up(w.idx)
}

// remove takes the waiter at index i off the heap. p.mu is held.
func (p *pacer) remove(i int) {
	h := p.heap
	last := len(h) - 1
	h[i].idx = -1
	if i != last {
		h[i] = h[last]
		h[i].idx = i
	}
	h[last] = nil
	p.heap = h[:last]
	if i != last && !p.down(i) {
		p.up(i)
	}
}

func (p *pacer) up(i int) {
	h := p.heap
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].due.Before(h[parent].due) {
			break
		}
		p.swap(i, parent)
		i = parent
	}
}

// down sifts the waiter at i down and reports whether it moved.
func (p *pacer) down(i int) bool {
	h := p.heap
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		least := l
		if r := l + 1; r < len(h) && h[r].due.Before(h[l].due) {
			least = r
		}
		if !h[least].due.Before(h[i].due) {
			break
		}
		p.swap(i, least)
		i = least
	}
	return i > start
}

func (p *pacer) swap(i, j int) {
	h := p.heap
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

// timerAlarm is an alarm made of a Go timer.
type timerAlarm struct {
	t    *time.Timer
	ring chan struct{} // capacity 1
}

func newTimerAlarm() *timerAlarm {
	a := &timerAlarm{ring: make(chan struct{}, 1)}
	a.t = time.AfterFunc(time.Hour, func() {
		select {
		case a.ring <- struct{}{}:
		default:
		}
	})
	a.t.Stop()
	return a
}

func (a *timerAlarm) set(d time.Duration) { a.t.Reset(max(d, 0)) }
func (a *timerAlarm) wait()               { <-a.ring }
func (a *timerAlarm) close()              { a.t.Stop() }
