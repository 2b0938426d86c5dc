package fake

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens/internal/cputime"
)

// The pacing benchmarks measure the Server's pacing error, Sent − (Start +
// Scheduled) of every content event, with many streams in flight at once,
// each read to its end by a plain net/http client in the same process over
// loopback. They report:
//
//   - pacing-p50-ns, pacing-p99-ns, pacing-max-ns: the pacing error;
//   - arrival-p50-ns, arrival-p99-ns, arrival-max-ns: what the client sees,
//     arrival − (Start + Scheduled), which adds the loopback hop and the
//     client's own scheduling;
//   - cpu-cores: the CPU time the process (server and client) used per
//     second of wall time;
//   - other-cpu-cores: the CPU time the rest of the machine used meanwhile
//     (Linux only), so that a run disturbed by other work shows it.
//
// Each iteration runs one round of streams, about 1.4 s. The client's
// connections are open before the round starts, so that it measures pacing
// rather than a burst of connection set-ups, but the requests of a round
// all arrive at once.
//
//	go test -run '^$' -bench 'Pacing' -benchtime 3x ./fake/
func BenchmarkPacing1000(b *testing.B) { benchmarkPacing(b, 1000, pacerMode{}) }

// BenchmarkPacing2000 is BenchmarkPacing1000 at 2,000 streams.
func BenchmarkPacing2000(b *testing.B) { benchmarkPacing(b, 2000, pacerMode{}) }

// BenchmarkPacing100 is BenchmarkPacing1000 at 100 streams, a load where the
// pacer mostly sleeps.
func BenchmarkPacing100(b *testing.B) { benchmarkPacing(b, 100, pacerMode{}) }

// BenchmarkPacingTimerOnly100 is BenchmarkPacingTimerOnly1000 at 100
// streams.
func BenchmarkPacingTimerOnly100(b *testing.B) {
	benchmarkPacing(b, 100, pacerMode{spin: -1, timerOnly: true})
}

// BenchmarkPacingNoSpin1000 is BenchmarkPacing1000 without the busy wait:
// the timerfd alarm alone.
func BenchmarkPacingNoSpin1000(b *testing.B) { benchmarkPacing(b, 1000, pacerMode{spin: -1}) }

// BenchmarkPacingTimerOnly1000 is BenchmarkPacing1000 with a plain Go timer
// as the alarm and no busy wait: what the pacer would be without either.
func BenchmarkPacingTimerOnly1000(b *testing.B) {
	benchmarkPacing(b, 1000, pacerMode{spin: -1, timerOnly: true})
}

// benchmarkLoad is the load of the pacing benchmarks: 64 tokens at about 50
// tokens/s (ITL 15-25 ms) after a TTFT of 50-150 ms, about 1.4 s per stream,
// so that 1,000 streams make about 45,000 content events a second.
var benchmarkLoad = Config{
	TTFT:         Uniform(50*time.Millisecond, 150*time.Millisecond),
	ITL:          Uniform(15*time.Millisecond, 25*time.Millisecond),
	OutputTokens: 64,
	Seed:         1,
	Record:       true,
}

// pacerMode sets the pacer's knobs for a benchmark.
type pacerMode struct {
	spin      time.Duration
	timerOnly bool
}

func benchmarkPacing(b *testing.B, streams int, mode pacerMode) {
	s := NewUnstartedServer(benchmarkLoad)
	s.handler().pacer.spin = mode.spin
	s.handler().pacer.timerOnly = mode.timerOnly
	s.Start()
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: streams, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var (
		mu       sync.Mutex
		arrivals = map[string][]time.Time{} // by X-Request-Id
		failures []error
	)
	read := func() error {
		body := `{"model":"m","messages":[{"role":"user","content":"Say something."}],"stream":true}`
		resp, err := client.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		at := make([]time.Time, 0, benchmarkLoad.OutputTokens)
		br := bufio.NewReaderSize(resp.Body, 4<<10)
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return fmt.Errorf("stream ended without [DONE]: %w", err)
			}
			if bytes.HasPrefix(line, []byte("data: [DONE]")) {
				break
			}
			if bytes.Contains(line, []byte(`"delta":{"content":`)) {
				at = append(at, time.Now())
			}
		}
		mu.Lock()
		arrivals[resp.Header.Get("X-Request-Id")] = at
		mu.Unlock()
		return nil
	}

	// Open the connections: one request on each of streams connections at
	// once, which then wait in the client's pool.
	var wg sync.WaitGroup
	for range streams {
		wg.Go(func() {
			resp, err := client.Get(s.URL + "/v1/models")
			if err != nil {
				b.Error(err)
				return
			}
			readAllBody(resp)
		})
	}
	wg.Wait()
	skip := len(s.Records())

	runtime.GC()
	cpu0, busy0, wall0 := cputime.Process(), machineBusy(), time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range streams {
			wg.Go(func() {
				if err := read(); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	cpu, busy, wall := cputime.Process()-cpu0, machineBusy()-busy0, time.Since(wall0)
	if len(failures) > 0 {
		b.Fatalf("%d of %d streams failed, first: %v", len(failures), streams*b.N, failures[0])
	}

	var pacing, arrival []time.Duration
	for _, r := range s.Records()[skip:] {
		at := arrivals["req_"+strings.TrimPrefix(r.ID, "chatcmpl-")]
		if len(r.Sent) != len(r.Scheduled) || len(at) != len(r.Scheduled) {
			b.Fatalf("request %d: %d scheduled, %d sent, %d received", r.Seq, len(r.Scheduled), len(r.Sent), len(at))
		}
		for j, off := range r.Scheduled {
			due := r.Start.Add(off)
			pacing = append(pacing, r.Sent[j].Sub(due))
			arrival = append(arrival, at[j].Sub(due))
		}
	}
	reportQuantiles(b, "pacing", pacing)
	reportQuantiles(b, "arrival", arrival)
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-cores")
	if busy > 0 {
		b.ReportMetric(max(busy-cpu, 0).Seconds()/wall.Seconds(), "other-cpu-cores")
	}
}

// readAllBody reads and closes the body, so its connection can be reused.
func readAllBody(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// reportQuantiles reports the p50, p99 and max of ds in ns.
func reportQuantiles(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) }
	b.ReportMetric(q(0.50), name+"-p50-ns")
	b.ReportMetric(q(0.99), name+"-p99-ns")
	b.ReportMetric(float64(ds[len(ds)-1]), name+"-max-ns")
}

// machineBusy returns the CPU time all processes have used since boot, from
// Linux's /proc/stat, or 0 where that is not available.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ticks) * time.Second / clockTicks
}
