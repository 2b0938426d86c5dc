package fake

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// A Server is a fake LLM API listening on a system-chosen port of the
// loopback interface, for end-to-end tests, in the manner of
// httptest.Server. It serves every wire format at its usual path and writes
// each response on a schedule planned from Config when the request arrives.
//
// All responses in flight share one pacer: a single scheduler goroutine with
// one alarm over a heap of due streams, which wakes each handler when its
// next event is due. Event i of a response is due at a fixed offset from the
// handler's start, so write times never accumulate drift. The server is safe
// for concurrent use; its goroutines are those of net/http, plus the pacer's
// while a response waits.
type Server struct {
	// URL is the base URL, of the form http://127.0.0.1:port with no
	// trailing slash and no /v1. It is set by Start.
	URL string

	// Config may be changed after NewUnstartedServer and before Start,
	// StartTLS or the first call to Handler; later changes have no effect.
	Config Config

	ts        *httptest.Server
	init      sync.Once
	h         *serverHandler
	closeOnce sync.Once
}

// NewServer starts and returns a new Server. The caller should call Close
// when finished, to shut it down. It panics, naming the field, if cfg is not
// valid: a negative Capacity, PrefillPerToken, Faults.RetryAfter or
// Faults.StallFor, or fault rates outside [0, 1] or summing to more than 1.
func NewServer(cfg Config) *Server {
	cfg.check()
	s := NewUnstartedServer(cfg)
	s.Start()
	return s
}

// NewUnstartedServer returns a new Server but doesn't start it. After
// changing its Config, the caller should call Start or StartTLS, and Close
// when finished. It panics if it cannot listen on a loopback port.
func NewUnstartedServer(cfg Config) *Server {
	s := &Server{Config: cfg}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handler().ServeHTTP(w, r)
	}))
	return s
}

// Start starts a server from NewUnstartedServer. It panics if the server was
// already started, or if its Config is not valid (see NewServer).
func (s *Server) Start() {
	s.Config.check()
	s.handler()
	s.ts.Start()
	s.URL = s.ts.URL
}

// StartTLS starts TLS on a server from NewUnstartedServer; Client returns a
// client that trusts its certificate. It panics if the server was already
// started, or if its Config is not valid (see NewServer).
func (s *Server) StartTLS() {
	s.Config.check()
	s.handler()
	s.ts.StartTLS()
	s.URL = s.ts.URL
}

// Client returns an HTTP client configured for making requests to the
// server, as httptest.Server.Client does, or nil before Start. Its idle
// connections are closed by Close.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down: it cuts every response in progress or
// waiting in the queue (the client sees the connection close before the end
// of the stream, and the Record's Err is ErrServerClosed), waits for every
// handler to return and for the pacer to stop. No goroutine of the server
// is left when it returns. Close may be called more than once.
func (s *Server) Close() {
	h := s.handler()
	s.closeOnce.Do(h.cancel)
	// Cutting the connections too unblocks a handler stuck writing to a
	// client that stopped reading.
	s.ts.CloseClientConnections()
	s.ts.Close()
	h.pacer.close()
}

// Handler returns the server's handler, for use in another http.Server. It
// shares the Server's configuration, request numbering, records and pacer.
// Close cuts its responses in progress too, and every response after it.
func (s *Server) Handler() http.Handler { return s.handler() }

// Records returns the ground truth of every finished request, in Seq order,
// when Config.Record is set; nil otherwise. A request is finished when its
// response has been written whole or cut short; a client that has read a
// whole response finds its record, since Records waits for the responses
// whose last event is being written.
func (s *Server) Records() []Record { return s.handler().records.all() }

func (s *Server) handler() *serverHandler {
	s.init.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.h = &serverHandler{core: newCore(s.Config), closed: ctx, cancel: cancel}
	})
	return s.h
}

// serverHandler plays replies on a real connection, paced by one pacer.
type serverHandler struct {
	*core
	pacer  pacer
	closed context.Context // done when the Server is closed
	cancel context.CancelFunc
	bufs   sync.Pool // of *[]byte
}

func (h *serverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rep := h.respond(r, start)

	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(h.closed, cancel)
	err := h.admit(ctx, rep)
	if err == nil {
		err = h.play(ctx, w, rep)
	}
	stop()
	cancel()

	if err != nil && err != ErrDisconnected && h.closed.Err() != nil {
		err = ErrServerClosed
	}
	h.finish(rep, time.Now(), err)
	if err != nil {
		// Close the connection without ending the stream, as a server
		// that goes away does; net/http logs nothing for this panic.
		panic(http.ErrAbortHandler)
	}
}

// play writes rep's events, each with one Write and one Flush, no earlier
// than it is due, and frees rep's place in the queue after the last one. A
// cut event returns ErrDisconnected once written.
func (h *serverHandler) play(ctx context.Context, w http.ResponseWriter, rep *reply) error {
	rc := http.NewResponseController(w)
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer h.bufs.Put(bp)

	var wt *waiter
	for i := range rep.events {
		ev := rep.render((*bp)[:0], i)
		*bp = ev.data[:0]
		if at := rep.rec.Queued + ev.at; at > 0 {
			if wt == nil {
				wt = newWaiter()
			}
			if err := h.pacer.wait(ctx, wt, rep.rec.Start.Add(at)); err != nil {
				return err
			}
		}
		if i == rep.events-1 {
			h.ending(rep)
		}
		if i == 0 {
			maps.Copy(w.Header(), rep.header)
			w.WriteHeader(rep.status)
		}
		if _, err := w.Write(ev.data); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return err
		}
		if ev.cut {
			return ErrDisconnected
		}
		rep.rec.Events++
		if ev.content >= 0 && h.cfg.Record {
			rep.rec.Sent = append(rep.rec.Sent, time.Now())
		}
	}
	h.release(rep)
	return nil
}
