//go:build unix

package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// Page is one page open in a headless Chromium, driven over the Chrome
// DevTools Protocol: it stays open, so that a test can look at it several
// times while its scripts update it.
type Page struct {
	t    testing.TB
	cmd  *exec.Cmd
	ws   *websocket.Conn
	next int
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://[^\s]+)`)

// Open starts headless Chromium with a window of w×h pixels on url and
// returns the page. The browser is killed when the test ends, or after
// limit, whichever comes first.
func Open(t testing.TB, url string, w, h int, limit time.Duration) *Page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, Chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--force-device-scale-factor=1", "--remote-allow-origins=*",
		"--remote-debugging-port=0", "--user-data-dir="+t.TempDir(),
		"--window-size="+strconv.Itoa(w)+","+strconv.Itoa(h), url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("chromium: %v", err)
	}
	p := &Page{t: t, cmd: cmd}
	t.Cleanup(func() {
		if p.ws != nil {
			_ = p.ws.Close()
		}
		cancel()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// The browser prints its DevTools address on stderr; read the rest
	// away so that it never blocks on a full pipe.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		if !sent {
			close(found)
		}
	}()
	var browserURL string
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatal("chromium exited without a DevTools address")
		}
		browserURL = u
	case <-ctx.Done():
		t.Fatal("chromium did not start its DevTools server in time")
	}
	// The page's own endpoint, from the browser's target list.
	host := strings.TrimPrefix(browserURL, "ws://")
	host = host[:strings.Index(host, "/")]
	var pageWS string
	for pageWS == "" {
		resp, err := http.Get("http://" + host + "/json/list")
		if err != nil {
			t.Fatalf("devtools target list: %v", err)
		}
		var targets []struct {
			Type, URL            string
			WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
		}
		err = json.NewDecoder(resp.Body).Decode(&targets)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("devtools target list: %v", err)
		}
		for _, tg := range targets {
			if tg.Type == "page" {
				pageWS = tg.WebSocketDebuggerURL
			}
		}
		if pageWS == "" {
			if ctx.Err() != nil {
				t.Fatal("chromium opened no page")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ws, err := websocket.Dial(pageWS, "", "http://localhost/")
	if err != nil {
		t.Fatalf("devtools: %v", err)
	}
	ws.MaxPayloadBytes = 64 << 20
	p.ws = ws
	return p
}

// call sends a DevTools command and returns its result.
func (p *Page) call(method string, params any, result any) {
	p.t.Helper()
	p.next++
	id := p.next
	if err := websocket.JSON.Send(p.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		p.t.Fatalf("devtools %s: %v", method, err)
	}
	_ = p.ws.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(p.ws, &msg); err != nil {
			p.t.Fatalf("devtools %s: %v", method, err)
		}
		if msg.ID != id {
			continue // an event
		}
		if msg.Error != nil {
			p.t.Fatalf("devtools %s: %s", method, msg.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(msg.Result, result); err != nil {
				p.t.Fatalf("devtools %s: %v", method, err)
			}
		}
		return
	}
}

// Eval evaluates a JavaScript expression in the page and returns its
// value as a string.
func (p *Page) Eval(expr string) string {
	p.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	return fmt.Sprint(r.Result.Value)
}

// WaitFor evaluates expr until it is true, or fails the test after limit.
func (p *Page) WaitFor(expr string, limit time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for p.Eval("!!("+expr+")") != "true" {
		if time.Now().After(deadline) {
			p.t.Fatalf("page: %s still false after %v", expr, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Screenshot takes a screenshot of the page's window, writes it to path
// as PNG, and returns it decoded.
func (p *Page) Screenshot(path string) image.Image {
	p.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	p.call("Page.captureScreenshot", map[string]any{"format": "png", "optimizeForSpeed": true}, &r)
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		p.t.Fatalf("decode the screenshot: %v", err)
	}
	return img
}

// Navigate loads url in the page, as typing it in the address bar would,
// and returns once the browser has committed to it; its scripts may still
// be loading (wait for what they show with WaitFor).
func (p *Page) Navigate(url string) {
	p.t.Helper()
	var r struct {
		ErrorText string `json:"errorText"`
	}
	p.call("Page.navigate", map[string]any{"url": url}, &r)
	if r.ErrorText != "" {
		p.t.Fatalf("navigate to %s: %s", url, r.ErrorText)
	}
}
