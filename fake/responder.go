package fake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jarcoal/httpmock"
)

// A Responder answers requests in-process, with no listener, as the Server
// would: same routes, bytes, schedules and records. It waits with the
// ordinary clock (Go timers), so inside a testing/synctest
// bubble, where time is virtual, every event arrives exactly when it is due:
// RoundTrip returns when the first event is due (at once for a stream, when
// the body is complete otherwise), and each Read of the body waits for the
// next event and returns its bytes.
//
// Use it as an http.Client's Transport, or with httpmock through Respond or
// Register. A Responder is safe for concurrent use and holds no goroutine: a
// response ends when its body is read to the end or closed, or when its
// request's context is done.
type Responder struct {
	c *core
}

// NewResponder returns a Responder that answers as a Server with cfg would.
func NewResponder(cfg Config) *Responder { return &Responder{c: newCore(cfg)} }

// Records returns the ground truth of every finished request, in Seq order,
// when Config.Record is set; nil otherwise. A request is finished when the
// last byte of its body has been read, when the body is closed, or when a
// RoundTrip or Read finds its context done.
func (r *Responder) Records() []Record { return r.c.records.all() }

// Respond answers req; its signature is that of an httpmock.Responder.
func (r *Responder) Respond(req *http.Request) (*http.Response, error) { return r.RoundTrip(req) }

// RoundTrip answers req, so that a Responder can be an http.Client's
// Transport. It returns when the response's headers are due (after any wait
// in the queue, see Config.Capacity), or with the context's error if req's
// context is done first. A response cut by FaultDisconnect returns its last
// bytes from Read, then io.ErrUnexpectedEOF.
func (r *Responder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	rep := r.c.respond(req, start)
	if req.Body != nil {
		req.Body.Close()
	}

	b := &body{c: r.c, rep: rep, ctx: req.Context(), closed: make(chan struct{})}
	if err := r.c.admit(b.ctx, rep); err != nil {
		b.end(err)
		return nil, err
	}
	if err := b.fill(); err != nil {
		return nil, err
	}
	resp := &http.Response{
		Status:        fmt.Sprintf("%d %s", rep.status, http.StatusText(rep.status)),
		StatusCode:    rep.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rep.header.Clone(),
		Body:          b,
		ContentLength: -1,
		Request:       req,
	}
	if n, err := strconv.ParseInt(rep.header.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = n
	} else {
		resp.TransferEncoding = []string{"chunked"}
	}
	return resp, nil
}

// Register registers the Responder on mt (httpmock.DefaultTransport when
// nil) for every method the fake serves and every URL under baseURL: the
// root of the fake, like Server.URL, with no /v1. Requests under a baseURL
// with a path have that path removed before routing. Responders registered
// on mt for exact URLs take precedence, as httpmock tries them first.
func (r *Responder) Register(mt *httpmock.MockTransport, baseURL string) {
	if mt == nil {
		mt = httpmock.DefaultTransport
	}
	base := strings.TrimRight(baseURL, "/")
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("fake: Register: %v", err))
	}
	prefix := u.Path
	rx := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `(?:[/?#]|$)`)
	respond := func(req *http.Request) (*http.Response, error) {
		if prefix != "" {
			req = req.Clone(req.Context())
			req.URL.Path = strings.TrimPrefix(req.URL.Path, prefix)
			req.URL.RawPath = ""
		}
		return r.RoundTrip(req)
	}
	methods := map[string]bool{}
	for _, rt := range routes {
		if !methods[rt.method] {
			methods[rt.method] = true
			mt.RegisterRegexpResponder(rt.method, rx, respond)
		}
	}
}

// body plays a reply in the clock's time: each Read waits until the next
// event is due and returns its bytes.
type body struct {
	c       *core
	rep     *reply
	ctx     context.Context
	closed  chan struct{}
	closeMu sync.Once

	next      int    // the next event to render
	pending   []byte // what is left of the current event
	cut       bool   // the current event is a Disconnect's last bytes
	buf       []byte
	delivered atomic.Bool // the last event has been read whole

	mu   sync.Mutex // guards rep.rec and done, which Close also touches
	done bool
}

// fill renders the next event, waits until it is due and makes it pending.
func (b *body) fill() error {
	ev := b.rep.render(b.buf[:0], b.next)
	b.buf = ev.data[:0]
	if d := time.Until(b.rep.rec.Start.Add(b.rep.rec.Queued + ev.at)); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-b.ctx.Done():
			t.Stop()
			b.end(b.ctx.Err())
			return b.ctx.Err()
		case <-b.closed:
			t.Stop()
			return ErrBodyClosed
		}
	} else if err := b.ctx.Err(); err != nil {
		b.end(err)
		return err
	}
	b.next++
	b.pending, b.cut = ev.data, ev.cut
	if b.cut || b.next == b.rep.events {
		// The server side has written its last event: its place is free.
		b.c.release(b.rep)
	}
	if !b.cut {
		b.mu.Lock()
		if !b.done { // Close may have recorded the response meanwhile
			b.rep.rec.Events++
			if ev.content >= 0 && b.c.cfg.Record {
				b.rep.rec.Sent = append(b.rep.rec.Sent, time.Now())
			}
		}
		b.mu.Unlock()
	}
	return nil
}

// Read returns the bytes of the current event, waiting for the next one when
// the current one is used up.
func (b *body) Read(p []byte) (int, error) {
	select {
	case <-b.closed:
		return 0, ErrBodyClosed
	default:
	}
	if len(b.pending) == 0 {
		switch {
		case b.cut:
			b.end(ErrDisconnected)
			return 0, io.ErrUnexpectedEOF
		case b.next == b.rep.events:
			b.end(nil)
			return 0, io.EOF
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	if len(b.pending) == 0 && b.cut {
		b.end(ErrDisconnected) // the connection is cut now; the next Read says so
		return n, nil
	}
	if len(b.pending) == 0 && b.next == b.rep.events {
		// The whole response has been read: it is complete, whether or not
		// the client goes on to read io.EOF.
		b.delivered.Store(true)
		b.end(nil)
	}
	return n, nil
}

// Close ends the response. Closing it after its last event was read counts
// as a complete response, whether or not Read returned io.EOF.
func (b *body) Close() error {
	b.closeMu.Do(func() { close(b.closed) })
	if b.delivered.Load() {
		b.end(nil)
	} else {
		b.end(ErrBodyClosed)
	}
	return nil
}

// end records how the response ended, once.
func (b *body) end(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	b.c.finish(b.rep, time.Now(), err)
}
