package influx

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/internal/influxtest"
	"github.com/llm-latency-lens/lens/report"
)

// runFake runs a small scenario against the in-process fake, feeding hook
// every request, and returns the result file.
func runFake(t *testing.T, requests int, hook func(*lens.Scenario) func(*lens.RequestMetrics)) *report.File {
	t.Helper()
	sc := faketest.Scenario(fake.Config{
		TTFT:         fake.Uniform(time.Millisecond, 4*time.Millisecond),
		ITL:          fake.Fixed(100 * time.Microsecond),
		OutputTokens: 6, Seed: 3,
		Faults: fake.Faults{ServerError: 0.05},
	}, lens.Scenario{MaxTokens: 16, Requests: requests, Concurrency: 4})
	if hook != nil {
		sc.OnRequest = hook(&sc)
	}
	res, err := lens.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := report.FromResults([]*lens.Result{res}, report.Metadata{ConfigHash: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A run written to a real InfluxDB reads back, through InfluxQL, the same
// p95 TTFT, request and error counts as its result file, and one point per
// request.
func TestWriteRealInfluxDB(t *testing.T) {
	srv := influxtest.Start(t)
	c, err := New(Config{URL: srv.URL, Database: "llm_benchmarks", BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := c.Requests(map[string]string{"job": "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f := runFake(t, 200, reqs.OnRequest)
	if err := reqs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile(context.Background(), f, map[string]string{"job": "ci"}); err != nil {
		t.Fatal(err)
	}
	m := f.Scenarios[0].Results[0].Metrics
	cols, rows := influxtest.Query(t, srv.URL, "llm_benchmarks", `SELECT ttft_p95_ms, requests, failed, e2e_p99_ms FROM lens_result WHERE scenario = 'chat' AND job = 'ci'`)
	if len(rows) != 1 {
		t.Fatalf("lens_result: %v %v, want one row", cols, rows)
	}
	num := func(v any) float64 {
		x, err := v.(json.Number).Float64()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if got := num(rows[0][1]); got != m.Latency.TTFT.P95 {
		t.Errorf("ttft_p95_ms = %v, result file %v", got, m.Latency.TTFT.P95)
	}
	if got := num(rows[0][2]); got != float64(m.TotalRequests) || got != 200 {
		t.Errorf("requests = %v, result file %d", got, m.TotalRequests)
	}
	if got := num(rows[0][3]); got != float64(m.FailedRequests) || got == 0 {
		t.Errorf("failed = %v, result file %d (the fake fails 5%%)", got, m.FailedRequests)
	}
	if got := num(rows[0][4]); got != m.Latency.TotalDuration.P99 {
		t.Errorf("e2e_p99_ms = %v, result file %v", got, m.Latency.TotalDuration.P99)
	}
	_, rows = influxtest.Query(t, srv.URL, "llm_benchmarks", `SELECT sum("count") FROM lens_errors WHERE scenario = 'chat'`)
	if len(rows) != 1 || num(rows[0][1]) != float64(m.FailedRequests) {
		t.Errorf("lens_errors sum(count) = %v, want %d", rows, m.FailedRequests)
	}
	_, rows = influxtest.Query(t, srv.URL, "llm_benchmarks", `SELECT count(e2e_ms) FROM lens_request WHERE scenario = 'chat'`)
	if len(rows) != 1 || num(rows[0][1]) != 200 {
		t.Errorf("lens_request count = %v, want 200", rows)
	}
	if reqs.Written() != 200 {
		t.Errorf("Written = %d", reqs.Written())
	}
}

// With the server down, a write fails after its retries with an error that
// names the sink, and request points report how many were not written.
func TestWriteServerDown(t *testing.T) {
	port := influxtest.FreePort(t) // nothing listens there
	c, err := New(Config{URL: "http://127.0.0.1:" + strconv.Itoa(port), Database: "db", Backoff: time.Millisecond, Password: "hunter2", Username: "u"})
	if err != nil {
		t.Fatal(err)
	}
	f := runFake(t, 20, nil)
	err = c.WriteFile(context.Background(), f, nil)
	if err == nil {
		t.Fatal("write to a stopped server succeeded")
	}
	for _, want := range []string{"influx: write to InfluxDB http://127.0.0.1:", "database db", "4 attempts failed", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q carries the password", err)
	}
	reqs, _ := c.Requests(nil)
	runFake(t, 20, reqs.OnRequest)
	if err := reqs.Close(); err == nil || !strings.Contains(err.Error(), "20 request points not written") {
		t.Errorf("Close = %v, want 20 points not written", err)
	}
}

// Transient failures (503, 429) are retried; a missing database is
// created; a client error is not retried and its message is kept;
// credentials go in headers.
func TestWriteRetriesAndErrors(t *testing.T) {
	var writes, creates atomic.Int32
	var lastAuth atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		lastAuth.Store(r.Header.Get("Authorization"))
		io.Copy(io.Discard, r.Body)
		n := writes.Add(1)
		switch {
		case r.URL.Query().Get("db") == "bad":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"partial write: field type conflict"}`))
		case creates.Load() == 0:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"database not found: \"db\""}`))
		case n == 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case n == 3:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			if r.URL.Query().Get("rp") != "week" || r.URL.Query().Get("precision") != "ns" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") == `CREATE DATABASE "db"` {
			creates.Add(1)
		}
		w.Write([]byte(`{"results":[{"statement_id":0}]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c, err := New(Config{URL: srv.URL, Database: "db", RetentionPolicy: "week", Token: "tok", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), []byte("m f=1i 1\n")); err != nil {
		t.Fatal(err)
	}
	if writes.Load() != 4 || creates.Load() != 1 {
		t.Errorf("%d writes and %d creates, want 4 (not found, 503, 429, ok) and 1", writes.Load(), creates.Load())
	}
	if a := lastAuth.Load(); a != "Token tok" {
		t.Errorf("Authorization %q", a)
	}

	bad, _ := New(Config{URL: srv.URL, Database: "bad", Username: "u", Password: "p", Backoff: time.Millisecond})
	before := writes.Load()
	err = bad.Write(context.Background(), []byte("m f=1i 1\n"))
	if err == nil || !strings.Contains(err.Error(), "HTTP 400: partial write: field type conflict") {
		t.Errorf("error %v, want the server's message", err)
	}
	if writes.Load() != before+1 {
		t.Errorf("a 400 was retried")
	}
	if a := lastAuth.Load(); a != "Basic dTpw" {
		t.Errorf("Authorization %q", a)
	}
}

// Batches hold at most BatchSize lines.
func TestWriteBatches(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, _ := New(Config{URL: srv.URL, Database: "db", BatchSize: 2})
	if err := c.Write(context.Background(), []byte("a f=1 1\nb f=1 1\nc f=1 1\n")); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || bodies[0] != "a f=1 1\nb f=1 1\n" || bodies[1] != "c f=1 1\n" {
		t.Errorf("bodies %q", bodies)
	}
}

// Bad settings are refused before any request.
func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{Database: "db"},
		{URL: "localhost:8086", Database: "db"},
		{URL: "http://localhost:8086"},
		{URL: "http://u:secret@localhost:8086", Database: "db"},
		{URL: "http://localhost:8086", Database: "db", Token: "t", Username: "u"},
	} {
		_, err := New(cfg)
		if err == nil {
			t.Errorf("New(%+v) accepted", cfg)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q carries the password", err)
		}
	}
	if _, err := EncodeFile(&report.File{}, map[string]string{"scenario": "x"}); err == nil {
		t.Error("a tag named scenario was accepted")
	}
}
