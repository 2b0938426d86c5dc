package lens_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/llm-latency-lens/lens"
)

// TestRequestLatency: RequestMetrics.Latency reads each single-valued
// metric from its own field, says absent phases are absent, and has no
// single value for ITL, journeys or unknown names.
func TestRequestLatency(t *testing.T) {
	m := lens.RequestMetrics{
		TTFT: 1, TPOT: 2, E2E: 3, TTFB: 4, DNS: 5, Connect: 6, TLS: 7, QueueDelay: 8,
		ITLs: []time.Duration{9},
	}
	for metric, want := range map[lens.Metric]time.Duration{
		lens.MetricTTFT: 1, lens.MetricTPOT: 2, lens.MetricE2E: 3, lens.MetricTTFB: 4,
		lens.MetricDNS: 5, lens.MetricConnect: 6, lens.MetricTLS: 7, lens.MetricQueueDelay: 8,
	} {
		d, ok := m.Latency(metric)
		assert.True(t, ok, metric)
		assert.Equal(t, want, d, metric)
	}
	for _, metric := range []lens.Metric{lens.MetricITL, lens.MetricJourney, "latency"} {
		_, ok := m.Latency(metric)
		assert.False(t, ok, metric)
	}
	m.DNS, m.TTFT = lens.Absent, lens.Absent
	for _, metric := range []lens.Metric{lens.MetricDNS, lens.MetricTTFT} {
		_, ok := m.Latency(metric)
		assert.False(t, ok, "absent %s", metric)
	}
}
