package influx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/llm-latency-lens/lens"
)

// Requests streams one lens_request point per measured request to a
// Client while a run goes on: OnRequest encodes each finished request, and
// a goroutine sends full batches, so that a request's worker never waits
// on the network unless a backlog of batches builds up. Close sends the
// rest and says whether every point was written.
//
// Two requests of one series (scenario, provider, model, status, error
// class) sent in the same nanosecond would be one point to InfluxDB; the
// later one is moved to the next free nanosecond. To know which are free,
// Requests keeps the send times of the points it wrote (about 40 bytes a
// request).
type Requests struct {
	c    *Client
	tags map[string]string

	mu      sync.Mutex
	enc     lineprotocol.Encoder
	lines   int
	used    map[string]map[int64]struct{}
	written int64
	lost    int64
	err     error
	closed  bool

	batches chan []byte
	done    chan struct{}
}

// Requests returns a Requests writing to c with the extra tags (their
// keys may not be those of lens: scenario, provider, model, status,
// error_class). Close it to flush.
func (c *Client) Requests(tags map[string]string) (*Requests, error) {
	for k := range tags {
		if k == "scenario" || k == "provider" || k == "model" || k == "error_class" || k == "status" {
			return nil, fmt.Errorf("influx: tag %q is set by lens", k)
		}
	}
	w := &Requests{
		c: c, tags: tags,
		used:    map[string]map[int64]struct{}{},
		batches: make(chan []byte, 4),
		done:    make(chan struct{}),
	}
	w.enc.SetPrecision(lineprotocol.Nanosecond)
	go w.send()
	return w, nil
}

// send writes batches until the channel closes. After a batch fails, the
// rest are counted as lost instead of sent: the server is down, and each
// would wait through the retries again.
func (w *Requests) send() {
	defer close(w.done)
	for b := range w.batches {
		n := countLines(b)
		w.mu.Lock()
		failed := w.err != nil
		w.mu.Unlock()
		if failed {
			w.addLost(n)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := w.c.Write(ctx, b)
		cancel()
		w.mu.Lock()
		if err != nil {
			w.err = err
			w.lost += n
		} else {
			w.written += n
		}
		w.mu.Unlock()
	}
}

func (w *Requests) addLost(n int64) {
	w.mu.Lock()
	w.lost += n
	w.mu.Unlock()
}

func countLines(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// OnRequest returns a function for sc.OnRequest that writes each measured
// request of sc (warmup requests are left out). It reads sc's name,
// provider and model now.
func (w *Requests) OnRequest(sc *lens.Scenario) func(*lens.RequestMetrics) {
	base := map[string]string{"scenario": sc.Name, "model": sc.Model}
	if sc.Provider != nil {
		base["provider"] = sc.Provider.Name()
	}
	for k, v := range w.tags {
		base[k] = v
	}
	return func(m *lens.RequestMetrics) {
		if m.Warmup {
			return
		}
		w.add(base, m)
	}
}

func (w *Requests) add(base map[string]string, m *lens.RequestMetrics) {
	tags := withTag(base, "status", m.Status())
	if !m.OK() {
		tags["error_class"] = string(m.Class)
	}
	var l fieldList
	for _, d := range []struct {
		k string
		v time.Duration
	}{{"ttft_ms", m.TTFT}, {"e2e_ms", m.E2E}, {"ttfb_ms", m.TTFB}, {"tpot_ms", m.TPOT}, {"queue_delay_ms", m.QueueDelay}} {
		if d.v >= 0 {
			l.float(d.k, float64(d.v)/1e6)
		}
	}
	if m.InputTokens >= 0 {
		l.int("input_tokens", int64(m.InputTokens))
	}
	l.int("output_tokens", int64(m.OutputTokens))
	l.float("tokens_per_second", m.TokensPerSecond())
	l.int("attempts", int64(m.Attempts))
	l.int("status_code", int64(m.StatusCode))
	l.int("seq", m.Seq)
	l = append(l, field{"ok", lineprotocol.BoolValue(m.OK())})
	series := fmt.Sprint(tags["scenario"], "\x00", tags["provider"], "\x00", tags["model"], "\x00", tags["status"], "\x00", tags["error_class"])

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.lost++
		return
	}
	used := w.used[series]
	if used == nil {
		used = map[int64]struct{}{}
		w.used[series] = used
	}
	t := m.Start.UnixNano()
	for {
		if _, ok := used[t]; !ok {
			break
		}
		t++
	}
	used[t] = struct{}{}
	w.enc.StartLine("lens_request")
	addTags(&w.enc, tags)
	for _, f := range l {
		w.enc.AddField(f.key, f.val)
	}
	w.enc.EndLine(time.Unix(0, t))
	if err := w.enc.Err(); err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("influx: encode request %d: %w", m.Seq, err)
		}
		w.enc.ClearErr()
		w.lost++
		return
	}
	w.lines++
	if w.lines >= w.c.cfg.BatchSize {
		w.flushLocked()
	}
}

// flushLocked hands the encoded lines to the sender.
func (w *Requests) flushLocked() {
	if w.lines == 0 {
		return
	}
	b := append([]byte(nil), w.enc.Bytes()...)
	w.enc.Reset()
	w.lines = 0
	w.batches <- b // under the lock: batches stay in order
}

// Close sends what is left and waits for every batch. Its error names the
// sink and the number of points not written; nil means every measured
// request reached the server. Close is safe to call more than once.
func (w *Requests) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.flushLocked()
		close(w.batches)
	}
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return fmt.Errorf("%w (%d request points not written, %d written)", w.err, w.lost, w.written)
	}
	if w.lost > 0 {
		return errors.New("influx: request points not written")
	}
	return nil
}

// Written returns the number of request points the server accepted so
// far.
func (w *Requests) Written() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}
