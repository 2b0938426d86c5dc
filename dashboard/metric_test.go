package dashboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
)

// TestConnectionAndQueueAlerts: alerts on dns, connect, tls and queue
// judge those phases over the window; a request that reused a connection
// has no DNS, connect or TLS phase, and counts in none of them.
func TestConnectionAndQueueAlerts(t *testing.T) {
	alert := func(mt metric, limit time.Duration) Alert {
		a := Alert{Metric: string(mt), Percentile: 50, Limit: limit, MinSamples: 10}
		require.NoError(t, a.Check())
		a.withDefaults()
		return a
	}
	sc := lens.Scenario{Name: "s"}
	tr := newTrack(&sc, 10, []Alert{
		alert(MetricDNS, 5*time.Millisecond),     // fires: 8ms
		alert(MetricConnect, 5*time.Millisecond), // holds: 2ms
		alert(MetricTLS, 5*time.Millisecond),     // fires: 20ms
		alert(MetricQueue, 5*time.Millisecond),   // holds: 1ms
	})
	t0 := time.Now()
	for i := range 40 {
		r := &lens.RequestMetrics{TTFT: 30 * time.Millisecond, E2E: 50 * time.Millisecond, OutputTokens: 3,
			DNS: lens.Absent, Connect: lens.Absent, TLS: lens.Absent, TTFB: lens.Absent, TPOT: lens.Absent,
			QueueDelay: time.Millisecond, Reused: true}
		if i%4 == 0 { // a new connection: 10 of the 40
			r.DNS, r.Connect, r.TLS, r.Reused = 8*time.Millisecond, 2*time.Millisecond, 20*time.Millisecond, false
		}
		tr.mu.Lock()
		tr.inFlight++
		tr.mu.Unlock()
		tr.doneAt(r, t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	evs := tr.tick(t0.Add(time.Second))
	var fired []string
	for _, ev := range evs {
		fired = append(fired, ev.Alert)
	}
	assert.Equal(t, []string{"p50 dns >= 5ms", "p50 tls >= 5ms"}, fired)
	for i, want := range []int64{10, 10, 10, 40} {
		assert.Equal(t, want, tr.alerts[i].samples, tr.alertDefs[i].Name)
		assert.True(t, tr.alerts[i].judged, tr.alertDefs[i].Name)
	}
	assert.Equal(t, int64(10), tr.whole[MetricConnect].Count())
}
