package dashboard_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/dashboard"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncWriter is a bytes.Buffer safe for concurrent use.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// steppedTTFT is a TTFT of low, except from `from` to `to` after start,
// when it is high: a server that slows down mid-run and recovers.
func steppedTTFT(start time.Time, from, to, low, high time.Duration) fake.Latency {
	return fake.LatencyFunc(func(*rand.Rand) time.Duration {
		if el := time.Since(start); el >= from && el < to {
			return high
		}
		return low
	})
}

// TestAlertFiresAndClears, in virtual time: a fake whose TTFT steps from
// 50ms up to 300ms at 5s and back at 9s crosses a p95 ≥ 200ms alert over a
// 2s window: the alert fires between 5s and 7s (when the slow responses
// fill the window), clears between 9s and 12s, and both events are lines
// on the alert log with the time and the window's value. Meanwhile the
// page shows it firing, and the counters add up.
func TestAlertFiresAndClears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rsp := fake.NewResponder(fake.Config{
			TTFT:         steppedTTFT(start, 5*time.Second, 9*time.Second, 50*time.Millisecond, 300*time.Millisecond),
			ITL:          fake.Fixed(10 * time.Millisecond),
			OutputTokens: 5,
		})
		log := &syncWriter{}
		m, err := dashboard.New(dashboard.Options{
			Window:   2 * time.Second,
			AlertLog: log,
			Alerts: []dashboard.Alert{
				{Metric: "ttft", Percentile: 95, Limit: 200 * time.Millisecond},
				{Metric: "error_rate", Max: 0.01},
			},
		})
		require.NoError(t, err)
		defer m.Close()
		sc := lens.Scenario{
			Name:     "chat",
			Provider: &providers.OpenAI{BaseURL: "http://fake/v1", APIKey: "k"},
			Model:    "m",
			Rate:     20,
			Duration: 15 * time.Second,
			Client:   &http.Client{Transport: rsp},
		}
		m.Instrument(&sc)

		// The page in the middle of the slow phase.
		var page bytes.Buffer
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(8 * time.Second)
			srv := m.Handler()
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			page.Write(rec.Body.Bytes())
		}()
		res, err := lens.Run(t.Context(), sc)
		require.NoError(t, err)
		<-done
		m.Finish()

		evs := m.Events()
		require.Len(t, evs, 2, "one firing and one clearing: %v", evs)
		fired, cleared := evs[0], evs[1]
		assert.True(t, fired.Fired)
		assert.Equal(t, "p95 ttft >= 200ms", fired.Alert)
		assert.Equal(t, "chat", fired.Scenario)
		assert.GreaterOrEqual(t, fired.Elapsed, 5*time.Second)
		assert.LessOrEqual(t, fired.Elapsed, 7*time.Second)
		assert.GreaterOrEqual(t, fired.Samples, int64(dashboard.DefaultMinSamples))
		v, err := time.ParseDuration(fired.Value)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, v, 200*time.Millisecond)
		assert.False(t, cleared.Fired)
		assert.GreaterOrEqual(t, cleared.Elapsed, 9*time.Second)
		assert.LessOrEqual(t, cleared.Elapsed, 12*time.Second)

		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		require.Len(t, lines, 2, log.String())
		assert.Equal(t, fired.String(), lines[0])
		assert.Contains(t, lines[0], "lens: ALERT fired at "+fired.Elapsed.Round(time.Second).String())
		assert.Contains(t, lines[0], "window value "+fired.Value+", threshold 200ms")
		assert.Contains(t, lines[1], "lens: alert cleared at")

		html := page.String()
		assert.Contains(t, html, `<li class="firing"`, "the alert is red on the page while it fires")
		assert.Contains(t, html, "FIRING: ")
		assert.Contains(t, html, "ALERT fired at "+fired.Elapsed.Round(time.Second).String())
		assert.Contains(t, html, "error_rate &gt; 0.01: ok: 0.0%", "the error-rate alert is judged and fine")

		st := m.State(time.Now())
		require.True(t, st.Finished)
		require.Len(t, st.Scenarios, 1)
		s := st.Scenarios[0]
		assert.Equal(t, res.Total, s.Sent)
		assert.Equal(t, res.Succeeded, s.Succeeded)
		assert.Equal(t, int64(0), s.InFlight)
		assert.InDelta(t, 20, s.RunRate, 0.5)
		assert.False(t, s.Alerts[0].Firing)
		assert.True(t, s.Alerts[1].Judged)
		assert.Equal(t, res.TTFT.Count(), int64(res.Succeeded))
	})
}

// TestCountersInFlightAndFailures, in virtual time: with a fake that fails
// every fourth request with a 500, the counters split by class, the error
// rate alert fires, and in flight counts requests between send and end.
func TestCountersInFlightAndFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rsp := fake.NewResponder(fake.Config{
			TTFT:         fake.Fixed(time.Second),
			OutputTokens: 3,
			FaultFunc: func(seq uint64) fake.Fault {
				if seq%4 == 3 {
					return fake.FaultServerError
				}
				return fake.NoFault
			},
		})
		log := &syncWriter{}
		m, err := dashboard.New(dashboard.Options{AlertLog: log, Alerts: []dashboard.Alert{{Metric: "error_rate", Max: 0.1, MinSamples: 10}}})
		require.NoError(t, err)
		defer m.Close()
		sc := lens.Scenario{
			Name: "faulty", Provider: &providers.OpenAI{BaseURL: "http://fake/v1", APIKey: "k"}, Model: "m",
			Concurrency: 8, Requests: 80, Warmup: 8, Client: &http.Client{Transport: rsp},
		}
		m.Instrument(&sc)
		var mid dashboard.State
		go func() {
			time.Sleep(2500 * time.Millisecond)
			mid = m.State(time.Now())
		}()
		_, err = lens.Run(t.Context(), sc)
		require.NoError(t, err)
		synctest.Wait()
		require.Len(t, mid.Scenarios, 1)
		assert.Equal(t, int64(8), mid.Scenarios[0].InFlight, "8 workers, each with a request in flight")
		st := m.State(time.Now())
		s := st.Scenarios[0]
		assert.Equal(t, int64(80), s.Sent)
		assert.Equal(t, int64(8), s.Warmup)
		assert.Equal(t, int64(0), s.InFlight)
		assert.Equal(t, s.Sent, s.Succeeded+s.Failed)
		assert.Equal(t, map[string]int64{"http_5xx": s.Failed}, s.FailedBy)
		assert.InDelta(t, 20, s.Failed, 2)
		require.NotEmpty(t, m.Events())
		assert.True(t, m.Events()[0].Fired)
		assert.Regexp(t, `lens: ALERT fired at \d+s \(00:00:\d\d UTC\) scenario faulty: error_rate > 0.1: window value [0-9.]+%, threshold 10.0%`, log.String())
	})
}

// TestAlertValidation: a bad alert is refused with what is wrong.
func TestAlertValidation(t *testing.T) {
	for _, c := range []struct {
		a    dashboard.Alert
		want string
	}{
		{dashboard.Alert{Metric: "latency", Percentile: 95, Limit: time.Second}, `metric: "latency" is not one of`},
		{dashboard.Alert{Metric: "ttft", Percentile: 120, Limit: time.Second}, "percentile: must be within (0, 100]"},
		{dashboard.Alert{Metric: "ttft", Percentile: 95}, "limit: must be > 0"},
		{dashboard.Alert{Metric: "ttft", Percentile: 95, Limit: time.Second, Max: 0.1}, "max: only for metric error_rate"},
		{dashboard.Alert{Metric: "error_rate", Max: 1.5}, "max: must be within [0, 1)"},
		{dashboard.Alert{Metric: "error_rate", Max: 0.1, Percentile: 95}, "percentile and limit: not for metric error_rate"},
	} {
		_, err := dashboard.New(dashboard.Options{Alerts: []dashboard.Alert{c.a}})
		require.Error(t, err, "%+v", c.a)
		assert.Contains(t, err.Error(), c.want)
		assert.Contains(t, err.Error(), "alerts[0]")
	}
	_, err := dashboard.New(dashboard.Options{Window: 500 * time.Millisecond})
	require.ErrorContains(t, err, "window 500ms: must be at least 1s")
}

// TestEventsStream: GET /events is a Server-Sent Events stream whose first
// update comes at once and holds the page's live part.
func TestEventsStream(t *testing.T) {
	m, err := dashboard.New(dashboard.Options{Interval: 50 * time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	defer m.Close()
	resp, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	buf := make([]byte, 4096)
	var got []byte
	for !bytes.Contains(got, []byte("\n\n")) {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.True(t, bytes.HasPrefix(got, []byte("event: update\ndata: {\"html\":")), "%q", got)
	assert.Contains(t, string(got), "Waiting for the run to start.")

	page, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	defer page.Body.Close()
	b, _ := io.ReadAll(page.Body)
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Contains(t, string(b), `<script src="live.js" defer></script>`)
	js, err := http.Get(srv.URL + "/live.js")
	require.NoError(t, err)
	defer js.Body.Close()
	jb, _ := io.ReadAll(js.Body)
	assert.Contains(t, string(jb), `new EventSource("events")`)
}
