package dashboard

import "sync"

// hub hands the latest update to every viewer. Each viewer has a channel
// of one: publishing replaces an update the viewer has not taken yet, so a
// slow viewer skips updates instead of holding up the Monitor.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	last    []byte
	done    chan struct{}
	closed  bool
}

func newHub() *hub {
	return &hub{clients: map[chan []byte]struct{}{}, done: make(chan struct{})}
}

// subscribe returns a new viewer's channel, holding the latest update if
// there is one, and the function that unsubscribes it.
func (h *hub) subscribe() (<-chan []byte, func()) {
	c := make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last != nil {
		c <- h.last
	}
	h.clients[c] = struct{}{}
	return c, func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
	}
}

// viewers returns the number of viewers.
func (h *hub) viewers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// publish hands b to every viewer, replacing any update it has not taken.
func (h *hub) publish(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = b
	for c := range h.clients {
		select {
		case <-c:
		default:
		}
		c <- b // cannot block: only publish sends, under h.mu, and c was just emptied
	}
}

// close ends every viewer's stream.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// publishTo hands b to one viewer, if it has no update waiting.
func (h *hub) publishTo(c <-chan []byte, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cc := range h.clients {
		if (<-chan []byte)(cc) == c {
			select {
			case cc <- b:
			default:
			}
		}
	}
}
