package dashboard

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

//go:embed assets/live.js
var liveJS []byte

// Handler returns the dashboard's HTTP handler:
//
//	GET /          the page, rendered with the current state (it shows the
//	               run even without JavaScript)
//	GET /events    the updates, as Server-Sent Events: one "update" event
//	               per interval, whose data is {"html": ..., "title": ...}
//	GET /live.js   the page's script: it applies each update
//	GET /state     the current state as JSON, for tools
//
// Server-Sent Events rather than WebSocket: updates flow one way, from the
// run to the page, which is what SSE is for; the browser's EventSource
// reconnects by itself, the stream is plain HTTP that any proxy passes,
// and it needs no library on either side.
func (m *Monitor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", m.servePage)
	mux.HandleFunc("GET /events", m.serveEvents)
	mux.HandleFunc("GET /live.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(liveJS)
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(m.State(time.Now()))
	})
	return mux
}

// securityHeaders are set on the page: its script and its event stream
// come from this server only, and nothing else is loaded.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
}

func (m *Monitor) servePage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := m.writePage(&buf, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (m *Monitor) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	updates, unsubscribe := m.hub.subscribe()
	defer unsubscribe()
	// A first update at once, so that a new viewer need not wait for the
	// next interval.
	if len(updates) == 0 {
		m.hub.publishTo(updates, m.render(time.Now()))
	}
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-m.hub.done:
			return
		case b := <-updates:
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.Write(b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// Serve listens on addr ("127.0.0.1:8080"; port 0 picks a free one) and
// serves Handler until Close. It returns the page's URL.
func (m *Monitor) Serve(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dashboard: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	m.mu.Lock()
	m.servers = append(m.servers, srv)
	m.mu.Unlock()
	m.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && m.opts.AlertLog != nil {
			fmt.Fprintf(m.opts.AlertLog, "lens: dashboard: %v\n", err)
		}
	})
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/", nil
}

// shutdown stops the servers Serve started.
func (m *Monitor) shutdown() {
	m.mu.Lock()
	srvs := m.servers
	m.servers = nil
	m.mu.Unlock()
	for _, s := range srvs {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
		_ = s.Close()
	}
}
