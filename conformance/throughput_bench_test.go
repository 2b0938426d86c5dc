package conformance

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

// This file compares the request rate of lens.Run's closed loop with
// vegeta's attacker at the same concurrency against the same fake:
//
//	go test -run '^$' -bench Throughput -benchtime 1x -count 5
//
// the target in PERFORMANCE.md: lens at least vegeta's rate.

var throughputFor = flag.Duration("throughput", 2*time.Second, "how long each load of BenchmarkThroughput runs")

// throughputRequest returns the request lens sends to srv for a
// non-streaming completion, as a vegeta target with the same method, URL,
// headers and body.
func throughputRequest(tb testing.TB, p providers.Provider, req *providers.Request) vegeta.Target {
	r, err := p.NewRequest(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return vegeta.Target{Method: r.Method, URL: r.URL.String(), Header: r.Header, Body: body}
}

// load is what one run of a load generator achieved.
type load struct {
	rate   float64       // successful requests per second
	failed int64         // failed requests
	cpu    time.Duration // the process's CPU time per request, the fake's included
}

// runVegeta attacks target with n workers at vegeta's maximum rate (rate 0
// with MaxWorkers) for d.
func runVegeta(target vegeta.Target, n int, d time.Duration) load {
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	cpu := processCPU()
	for res := range atk.Attack(vegeta.NewStaticTargeter(target), vegeta.Rate{Freq: 0}, d, "throughput") {
		m.Add(res)
	}
	cpu = processCPU() - cpu
	m.Close()
	ok := uint64(float64(m.Requests)*m.Success + 0.5)
	return load{rate: m.Throughput, failed: int64(m.Requests - ok), cpu: cpu / time.Duration(max(m.Requests, 1))}
}

// runLens runs sc, closed loop with n workers, for d.
func runLens(tb testing.TB, sc lens.Scenario, n int, d time.Duration) load {
	sc.Concurrency, sc.Duration = n, d
	cpu := processCPU()
	res, err := lens.Run(context.Background(), sc)
	cpu = processCPU() - cpu
	if err != nil {
		tb.Fatal(err)
	}
	return load{rate: float64(res.Succeeded) / res.Elapsed.Seconds(), failed: res.Failed, cpu: cpu / time.Duration(max(res.Total, 1))}
}

// BenchmarkThroughput runs, for 16 and 64 workers, vegeta's attacker and
// lens.Run for -throughput each (in turn, alternating which goes first)
// against one fake that answers non-streaming chat completions of one
// token at once, and reports each one's rate of successful requests
// (vegeta-req/s, lens-req/s) and lens/vegeta. The process's CPU time per
// request (lens-cpu-ns/req, vegeta-cpu-ns/req, the in-process fake's share
// included) tells the cost of each apart from the load of other processes
// on the machine. One op is one run of both: use -benchtime 1x, and -count
// for more samples.
func BenchmarkThroughput(b *testing.B) {
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			srv := fake.NewServer(fake.Config{OutputTokens: 1})
			defer srv.Close()
			p := &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: testKey}
			sc := lens.Scenario{Name: "throughput", Provider: p, Model: "m", Prompt: testPrompt, NoStream: true}
			target := throughputRequest(b, p, &providers.Request{Model: sc.Model, Prompt: sc.Prompt})

			var l, v load
			add := func(sum *load, x load) {
				sum.rate += x.rate
				sum.failed += x.failed
				sum.cpu += x.cpu
			}
			for i := range b.N {
				if i%2 == 0 {
					add(&v, runVegeta(target, n, *throughputFor))
				}
				add(&l, runLens(b, sc, n, *throughputFor))
				if i%2 == 1 {
					add(&v, runVegeta(target, n, *throughputFor))
				}
			}
			if l.failed > 0 || v.failed > 0 {
				b.Errorf("failed requests: lens %d, vegeta %d", l.failed, v.failed)
			}
			runs := float64(b.N)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(l.rate/runs, "lens-req/s")
			b.ReportMetric(v.rate/runs, "vegeta-req/s")
			b.ReportMetric(l.rate/v.rate, "lens/vegeta")
			if l.cpu > 0 {
				b.ReportMetric(float64(l.cpu.Nanoseconds())/runs, "lens-cpu-ns/req")
				b.ReportMetric(float64(v.cpu.Nanoseconds())/runs, "vegeta-cpu-ns/req")
			}
		})
	}
}

// TestThroughputTarget: the vegeta target is the request lens sends, and
// the fake answers it as it answers lens.
func TestThroughputTarget(t *testing.T) {
	srv := newServer(t, fake.Config{OutputTokens: 1})
	p := &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: testKey}
	target := throughputRequest(t, p, &providers.Request{Model: "m", Prompt: testPrompt})
	req, err := target.Request()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	rec := oneRecord(t, srv)
	if rec.Stream || rec.OutputTokens != 1 || rec.Path != "/v1/chat/completions" {
		t.Errorf("record: stream %v, %d tokens, path %s; want a non-streaming completion of 1 token", rec.Stream, rec.OutputTokens, rec.Path)
	}
}
