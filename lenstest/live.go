package lenstest

import (
	"os"
	"sync"
	"testing"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
)

// EnvServe names the environment variable that turns on the live
// dashboard for go test: with LENS_SERVE=127.0.0.1:8080 (port 0 picks a
// free one), the first Bench of the test process serves the dashboard at
// that address, logs its URL with tb.Logf, and every Bench of the process
// appears on it as a scenario while it runs. The page lasts as long as the
// test process: run a long test with -v to see the URL, and watch it.
const EnvServe = "LENS_SERVE"

// live is the process's dashboard, started by the first Bench that finds
// LENS_SERVE set.
var live struct {
	mu      sync.Mutex
	monitor *dashboard.Monitor
	url     string
	addr    string
}

// watchLive adds the dashboard's hooks to sc when LENS_SERVE is set, and
// returns the function to call when sc's run ended. Without LENS_SERVE it
// does nothing. A dashboard that cannot start fails tb.
func watchLive(tb testing.TB, sc *lens.Scenario) (ended func()) {
	addr := os.Getenv(EnvServe)
	if addr == "" {
		return func() {}
	}
	tb.Helper()
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.monitor == nil || live.addr != addr {
		if live.monitor != nil {
			live.monitor.Close()
		}
		m, err := dashboard.New(dashboard.Options{AlertLog: os.Stderr})
		if err != nil {
			tb.Fatalf("lenstest: %s: %v", EnvServe, err)
		}
		url, err := m.Serve(addr)
		if err != nil {
			m.Close()
			tb.Fatalf("lenstest: %s: %v", EnvServe, err)
		}
		live.monitor, live.url, live.addr = m, url, addr
	}
	tb.Logf("lenstest: live dashboard of scenario %s at %s", sc.Name, live.url)
	return live.monitor.Instrument(sc)
}

// closeLive stops the process's dashboard, if any.
func closeLive() {
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.monitor != nil {
		live.monitor.Close()
		live.monitor, live.url, live.addr = nil, "", ""
	}
}
