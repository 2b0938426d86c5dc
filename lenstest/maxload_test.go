package lenstest_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
	"github.com/llm-latency-lens/lens/verdict"
)

// attrRecorder is a recorder that keeps attributes.
type attrRecorder struct {
	recorder
	amu   sync.Mutex
	attrs map[string]string
}

func (r *attrRecorder) Attr(key, value string) {
	r.amu.Lock()
	defer r.amu.Unlock()
	if r.attrs == nil {
		r.attrs = map[string]string{}
	}
	r.attrs[key] = value
}

// TestMaxLoad: against a fake of 8 places and a 250ms service time, where a
// ninth user makes 1 request in 8 wait a whole service time (TTFT 350ms),
// the highest number of users with p95 TTFT under 300ms is 8; MaxLoad finds
// it, logs the curve, records it, and AssertAtLeast judges it.
func TestMaxLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := mockScenario(fake.Config{TTFT: fake.Fixed(100 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond),
			OutputTokens: 16, Capacity: 8, Seed: 1}, 100, 2)
		rec := &attrRecorder{recorder: recorder{TB: t}}
		c := lenstest.MaxLoad(rec, sc, verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 300 * time.Millisecond})
		require.NotNil(t, c)
		assert.Equal(t, 8.0, c.Capacity)
		assert.Equal(t, 9.0, c.Ceiling)
		assert.Equal(t, capacity.Concurrency, c.Mode, "a scenario without a Rate searches users")
		assert.Equal(t, 2.0, c.Steps[0].Load, "the search starts at the scenario's concurrency")
		log := strings.Join(rec.logs, "\n")
		t.Log(log)
		assert.Contains(t, log, "<- capacity")
		assert.Contains(t, log, "capacity 8 users; 9 users broke a gate")
		assert.Equal(t, "8", rec.attrs["lens.capacity"])
		assert.Equal(t, "users", rec.attrs["lens.capacity_unit"])
		assert.Equal(t, "slo", rec.attrs["lens.capacity_limit"])

		assert.True(t, c.AssertAtLeast(8))
		assert.Empty(t, rec.errors)
		assert.False(t, c.AssertAtLeast(9))
		require.Len(t, rec.errors, 1)
		assert.Contains(t, rec.errors[0], "capacity 8 users, want at least 9")
	})
}
