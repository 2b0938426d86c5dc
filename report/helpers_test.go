package report

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// roundTrip writes f to a file with WriteFile and returns what ReadFile
// reads back, and the file's path.
func roundTrip(t *testing.T, f *File) (*File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return g, path
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

// synthResult builds a lens.Result of n successful requests whose TTFT,
// ITL, TPOT and E2E are log-normal (median ttft, sigma 0.5), all scaled by
// scale, drawn from seed. Every field of the Result is set.
func synthResult(seed uint64, n int, scale float64) *lens.Result {
	return synthResultScaled(seed, n, scale, scale)
}

// synthResultScaled is synthResult with TTFT scaled by ttftScale and the
// other latencies by scale.
func synthResultScaled(seed uint64, n int, ttftScale, scale float64) *lens.Result {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	logn := func(median time.Duration) time.Duration {
		return time.Duration(float64(median) * math.Exp(0.5*rng.NormFloat64()) * scale)
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &lens.Result{
		Scenario: "chat", Provider: "openai", Model: "gpt-4o-mini",
		Started: start, Elapsed: 10 * time.Second, Concurrency: 4,
		Errors:       map[lens.ErrorClass]int64{},
		ErrorSamples: map[lens.ErrorClass]string{},
		RetriedBy:    map[lens.ErrorClass]int64{},
		TTFT:         stats.NewLatency(), ITL: stats.NewLatency(), TPOT: stats.NewLatency(),
		E2E: stats.NewLatency(), TTFB: stats.NewLatency(), DNS: stats.NewLatency(),
		Connect: stats.NewLatency(), TLS: stats.NewLatency(), QueueDelay: stats.NewLatency(),
		TokensPerSecond: stats.NewValues(), OutputTokens: stats.NewValues(),
		Priced: true, Price: lens.Price{Input: 0.15, Output: 0.6},
	}
	for i := range n {
		ttft := time.Duration(float64(logn(100*time.Millisecond)) * ttftScale / scale)
		tpot := logn(5 * time.Millisecond)
		out := 16
		e2e := ttft + time.Duration(out-1)*tpot
		r.TTFT.Record(ttft)
		r.TPOT.Record(tpot)
		r.E2E.Record(e2e)
		r.TTFB.Record(ttft / 2)
		r.QueueDelay.Record(0)
		for range out - 1 {
			r.ITL.Record(logn(5 * time.Millisecond))
		}
		if i < 4 {
			r.DNS.Record(200 * time.Microsecond)
			r.Connect.Record(300 * time.Microsecond)
		}
		r.TokensPerSecond.Record(float64(out) / e2e.Seconds())
		r.OutputTokens.Record(float64(out))
		r.InputTokensTotal += 10
		r.InputTokensCounted++
		r.OutputTokensTotal += int64(out)
		r.InputCost += r.Price.Cost(10, 0)
		r.OutputCost += r.Price.Cost(0, int64(out))
		r.TokensFromUsage++
		r.Good++
		r.Attempts++
		sec := int(e2e / time.Second)
		for len(r.Timeline) <= sec {
			r.Timeline = append(r.Timeline, lens.Tick{})
		}
		r.Timeline[sec].Requests++
		r.Timeline[sec].OutputTokens += int64(out)
	}
	r.Total, r.Succeeded = int64(n), int64(n)
	r.FirstSend, r.LastSend = start, start.Add(9*time.Second)
	return r
}

func synthFile(seed uint64, n int, scale float64) *File {
	f, err := FromResults([]*lens.Result{synthResult(seed, n, scale)}, Metadata{
		Version:    "v0.1.0",
		ConfigHash: "sha256:abc",
		SystemInfo: SystemInfo{OS: "linux", Arch: "amd64", CPUCount: 8, GoVersion: "go1.25.0"},
	})
	if err != nil {
		panic(err)
	}
	return f
}

// fakeConfig is a fake server whose latencies vary, so that percentiles
// differ.
func fakeConfig(seed uint64) fake.Config {
	return fake.Config{
		TTFT:         fake.Uniform(2*time.Millisecond, 12*time.Millisecond),
		ITL:          fake.Uniform(100*time.Microsecond, 900*time.Microsecond),
		OutputTokens: 8,
		Seed:         seed,
	}
}

func fakeUniformMs(lo, hi int) fake.Latency {
	return fake.Uniform(time.Duration(lo)*time.Millisecond, time.Duration(hi)*time.Millisecond)
}
