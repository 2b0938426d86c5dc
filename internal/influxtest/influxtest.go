// Package influxtest starts a real InfluxDB 1.x server for tests: Debian's
// influxdb package, with its data in a temporary directory and its HTTP API
// on a free loopback port.
package influxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Server is a running influxd.
type Server struct {
	// URL is the base URL of its HTTP API, http://127.0.0.1:PORT.
	URL string
	cmd *exec.Cmd
}

// Start starts influxd for t and stops it when t ends. It skips t, saying
// why, only when the influxd program is not installed or exits at start
// (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("influxd")
	if err != nil {
		t.Skip("influxd is not installed (Debian package influxdb; .ci/run installs it): skipping the test against a real InfluxDB")
	}
	dir := t.TempDir()
	httpPort, rpcPort := FreePort(t), FreePort(t)
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort)
	confPath := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "influxd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-config", confPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Skipf("influxd does not start: %v", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(exited); logf.Close() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logf.Name())
			t.Skipf("influxd exited at start (%v):\n%s", err, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("influxd did not answer /ping within 60s:\n%s", log)
		}
	}
}

// stop kills the server and waits for it (once).
func (s *Server) stop(exited chan error) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	err := <-exited
	exited <- err
}

// FreePort returns a loopback TCP port that nothing listened on a moment
// ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Query runs an InfluxQL query on the server at base and returns the first
// series' columns and rows (numbers as json.Number).
func Query(t testing.TB, base, db, q string) (cols []string, rows [][]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := base + "/query?" + url.Values{"db": {db}, "q": {q}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Results) == 0 {
		t.Fatalf("%s: no results", q)
	}
	if e := v.Results[0].Error; e != "" {
		t.Fatalf("%s: %s", q, e)
	}
	if len(v.Results[0].Series) == 0 {
		return nil, nil
	}
	return v.Results[0].Series[0].Columns, v.Results[0].Series[0].Values
}
