package fake

import (
	"container/list"
	"context"
	"sync"
)

// A gate is a counting semaphore with a FIFO queue, for Config.Capacity. A
// waiter blocks on a channel of its own, never spinning or sleeping, so
// that under testing/synctest its wait is durable and virtual time moves on
// to the release that admits it.
type gate struct {
	mu    sync.Mutex
	free  int
	queue list.List // of chan struct{}, closed when the waiter is admitted
}

func newGate(n int) *gate { return &gate{free: n} }

// acquire takes a place, waiting in line while none is free, or returns
// ctx's error, having taken none, when ctx is done first. waited reports
// whether it had to queue.
func (g *gate) acquire(ctx context.Context) (waited bool, err error) {
	g.mu.Lock()
	if g.free > 0 && g.queue.Len() == 0 {
		g.free--
		g.mu.Unlock()
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		g.mu.Unlock()
		return false, err
	}
	admitted := make(chan struct{})
	e := g.queue.PushBack(admitted)
	g.mu.Unlock()

	select {
	case <-admitted:
		return true, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	select {
	case <-admitted:
		// Admitted just as ctx was done: pass the place on.
		g.mu.Unlock()
		g.release()
	default:
		g.queue.Remove(e)
		g.mu.Unlock()
	}
	return true, ctx.Err()
}

// release gives a place back: to the first in line, if any.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e := g.queue.Front(); e != nil {
		g.queue.Remove(e)
		close(e.Value.(chan struct{}))
		return
	}
	g.free++
}

// waiting returns the number of waiters in line.
func (g *gate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queue.Len()
}
