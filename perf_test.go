package lens_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// BenchmarkOpenLoopRate runs the open loop against a loopback fake at 200,
// 1,000 and 5,000 requests per second for 2 seconds each and reports the
// achieved send rate against the asked one, and the queue delay. One
// iteration is one whole run: use -benchtime 1x.
//
// For comparison it runs the same arrivals paced the common way, with a
// golang.org/x/time/rate limiter of burst 1 in front of each send
// (limiter-rate), which falls behind at high rates because every Wait
// sleeps on a timer that fires late.
func BenchmarkOpenLoopRate(b *testing.B) {
	for _, r := range []float64{200, 1000, 5000} {
		b.Run(fmt.Sprintf("rate=%g", r), func(b *testing.B) {
			srv := fake.NewServer(fake.Config{OutputTokens: 1})
			defer srv.Close()
			sc := lens.Scenario{Provider: openai(srv.URL), Model: "m", Rate: r, Duration: 2 * time.Second, Concurrency: 0}
			sc.HTTP.PoolSize = 512
			sc.Client = lens.NewClient(sc)
			defer sc.Client.CloseIdleConnections()
			var achieved, q99 float64
			var failed int64
			for range b.N {
				res, err := lens.Run(context.Background(), sc)
				if err != nil {
					b.Fatal(err)
				}
				achieved += res.AchievedRate()
				q99 += float64(res.QueueDelay.Percentile(99))
				failed += res.Failed
			}
			b.ReportMetric(r, "asked-rate")
			b.ReportMetric(achieved/float64(b.N), "achieved-rate")
			b.ReportMetric(100*(achieved/float64(b.N)-r)/r, "rate-error-%")
			b.ReportMetric(q99/float64(b.N), "queue-p99-ns")
			b.ReportMetric(float64(failed), "failed")
		})
	}
	b.Run("limiter-rate=10000", func(b *testing.B) {
		// The naive pacer: wait on a burst-1 limiter, then send. No
		// server: only the pacing is measured.
		const asked = 10000
		var got float64
		for range b.N {
			lim := rate.NewLimiter(asked, 1)
			var n atomic.Int64
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			var wg sync.WaitGroup
			for lim.Wait(ctx) == nil {
				wg.Go(func() { n.Add(1) })
			}
			cancel()
			wg.Wait()
			got += float64(n.Load()) / time.Since(start).Seconds()
		}
		b.ReportMetric(asked, "asked-rate")
		b.ReportMetric(got/float64(b.N), "achieved-rate")
	})
	b.Run("schedule-rate=10000", func(b *testing.B) {
		// The engine's own pacer at the same rate, against an in-process
		// responder so that the server is not the limit.
		mt := &http.Client{Transport: fake.NewResponder(fake.Config{OutputTokens: 1})}
		var got float64
		for range b.N {
			res, err := lens.Run(context.Background(), lens.Scenario{
				Provider: openai("http://fake.test"), Model: "m", Rate: 10000, Duration: 2 * time.Second, Client: mt,
			})
			if err != nil {
				b.Fatal(err)
			}
			got += res.AchievedRate()
		}
		b.ReportMetric(10000, "asked-rate")
		b.ReportMetric(got/float64(b.N), "achieved-rate")
	})
}

// BenchmarkRunMemory runs b.N requests (streamed, 16 tokens each, 64 at a
// time) against the in-process fake and reports the heap in use after the
// run and the bytes allocated per request: with -benchtime 10000x,
// 100000x and 1000000x, flat numbers show that memory does not grow with
// the number of requests.
func BenchmarkRunMemory(b *testing.B) {
	client := &http.Client{Transport: fake.NewResponder(fake.Config{OutputTokens: 16})}
	sc := lens.Scenario{Provider: openai("http://fake.test"), Model: "m", Requests: b.N, Concurrency: 64, Client: client}
	b.ReportAllocs()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { samplePeakHeap(&peak, stop) })
	b.ResetTimer()
	res, err := lens.Run(context.Background(), sc)
	b.StopTimer()
	close(stop)
	wg.Wait()
	if err != nil || res.Failed > 0 {
		b.Fatalf("run: %v (%d failed)", err, res.Failed)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-after-MB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MB")
}

// BenchmarkConcurrentStreams1000 holds 1,000 streams open at once against
// a fake in a child process (first token after 500ms, then one every 50ms
// for 20 tokens) and reports this process's peak heap and stacks: the
// client's memory alone. One iteration is one run of 2,000 requests: use
// -benchtime 1x.
func BenchmarkConcurrentStreams1000(b *testing.B) {
	url := startFakeChild(b, "500ms", "50ms", 20)
	sc := lens.Scenario{Provider: openai(url), Model: "m", Requests: 2000, Concurrency: 1000, RampUp: time.Second}
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { samplePeakHeap(&peak, stop) })
	var failed int64
	var ttft99 time.Duration
	for range b.N {
		res, err := lens.Run(context.Background(), sc)
		if err != nil {
			b.Fatal(err)
		}
		failed += res.Failed
		ttft99 = res.TTFT.Percentile(99)
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MB")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(ttft99), "ttft-p99-ns")
}

// samplePeakHeap records the largest HeapInuse+StackInuse seen every 10ms
// until stop closes.
func samplePeakHeap(peak *atomic.Uint64, stop chan struct{}) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if v := ms.HeapInuse + ms.StackInuse; v > peak.Load() {
			peak.Store(v)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// startFakeChild runs a fake server with fixed TTFT and ITL in a child
// process (this test binary, see serveFakeChild) and returns its URL. The
// child ends when the benchmark does.
func startFakeChild(b *testing.B, ttft, itl string, tokens int) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LENS_FAKE_CHILD="+ttft+","+itl+","+strconv.Itoa(tokens))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("fake child: %v", err)
	}
	return strings.TrimSpace(line)
}

// serveFakeChild is the child's side: serve the fake described by
// LENS_FAKE_CHILD ("ttft,itl,tokens"), print its URL, and stop when stdin
// closes.
func serveFakeChild() {
	parts := strings.Split(os.Getenv("LENS_FAKE_CHILD"), ",")
	ttft, _ := time.ParseDuration(parts[0])
	itl, _ := time.ParseDuration(parts[1])
	tokens, _ := strconv.Atoi(parts[2])
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens})
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}
