package lens_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// TestFaultAccounting injects every fault the fake has and checks the
// engine's accounting against the fake's ground truth: every attempt
// reached the fake once, every measured request ended in exactly one
// outcome, the class of each failure is the one its fault calls for, and
// only failures worth retrying, before any output, were retried.
func TestFaultAccounting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		responder := fake.NewResponder(fake.Config{
			TTFT: fake.Fixed(50 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond), OutputTokens: 8, Seed: 11, Record: true,
			Faults: fake.Faults{
				RateLimit: 0.10, ServerError: 0.05, Unavailable: 0.05, Overloaded: 0.03,
				Disconnect: 0.04, Stall: 0.04, Malformed: 0.04, StreamError: 0.04,
				RetryAfter: 200 * time.Millisecond,
			},
		})
		var mu sync.Mutex
		final := map[string]*lens.RequestMetrics{} // by request id: the last attempt of each request
		res, err := lens.Run(t.Context(), lens.Scenario{
			Name: "faults", Provider: openai("http://fake.test"), Model: "m", Prompt: "hi",
			Requests: 2000, Concurrency: 16, IdleTimeout: time.Second,
			Retry:  lens.Retry{MaxAttempts: 3, InitialBackoff: 100 * time.Millisecond},
			Client: &http.Client{Transport: responder},
			OnRequest: func(m *lens.RequestMetrics) {
				mu.Lock()
				defer mu.Unlock()
				cp := *m
				cp.Retried = append([]lens.ErrorClass(nil), m.Retried...)
				final[m.RequestID] = &cp
			},
		})
		require.NoError(t, err)

		// Every request is accounted for, once.
		assert.EqualValues(t, 2000, res.Total)
		assert.Len(t, final, 2000, "every request's last attempt has its own request id")
		var failed int64
		for _, n := range res.Errors {
			failed += n
		}
		assert.Equal(t, res.Total, res.Succeeded+failed, "started = succeeded + each failure class: %v", res.Errors)

		// Every attempt reached the fake, and the fake saw nothing else.
		recs := responder.Records()
		assert.EqualValues(t, res.Attempts, len(recs))

		// Each request's outcome is what its last attempt's fault calls for.
		want := map[fake.Fault]lens.ErrorClass{
			fake.NoFault:          "",
			fake.FaultRateLimit:   lens.ClassRateLimited,
			fake.FaultServerError: lens.ClassHTTP5xx,
			fake.FaultUnavailable: lens.ClassHTTP5xx,
			fake.FaultOverloaded:  lens.ClassHTTP5xx, // 503 in the OpenAI format
			fake.FaultDisconnect:  lens.ClassConnection,
			fake.FaultStall:       lens.ClassIdleTimeout,
			fake.FaultMalformed:   lens.ClassDecode,
			fake.FaultStreamError: lens.ClassStream,
		}
		faults := map[fake.Fault]int{}
		statusFaults := 0
		for _, r := range recs {
			faults[r.Fault]++
			switch r.Fault {
			case fake.FaultRateLimit, fake.FaultServerError, fake.FaultUnavailable, fake.FaultOverloaded:
				statusFaults++
			}
			m, last := final[r.RequestID]
			if !last {
				continue // an attempt that was retried
			}
			assert.Equal(t, want[r.Fault], m.Class, "request %s, fault %q: %v", r.RequestID, r.Fault, m.Err)
		}
		for _, f := range []fake.Fault{fake.FaultRateLimit, fake.FaultServerError, fake.FaultUnavailable, fake.FaultOverloaded,
			fake.FaultDisconnect, fake.FaultStall, fake.FaultMalformed, fake.FaultStreamError} {
			assert.Greater(t, faults[f], 20, "fault %s was injected", f)
		}

		// Status faults come before any output and were retried while
		// attempts were left; faults after the first token never were.
		assert.Equal(t, statusFaults, int(res.RetriedBy[lens.ClassRateLimited]+res.RetriedBy[lens.ClassHTTP5xx]+
			res.Errors[lens.ClassRateLimited]+res.Errors[lens.ClassHTTP5xx]))
		for _, c := range []lens.ErrorClass{lens.ClassConnection, lens.ClassIdleTimeout, lens.ClassDecode, lens.ClassStream} {
			assert.Zero(t, res.RetriedBy[c], "%s after output must not be retried", c)
		}
		assert.Equal(t, faults[fake.FaultDisconnect], int(res.Errors[lens.ClassConnection]))
		assert.Equal(t, faults[fake.FaultStall], int(res.Errors[lens.ClassIdleTimeout]))
		assert.Equal(t, faults[fake.FaultMalformed], int(res.Errors[lens.ClassDecode]))
		assert.Equal(t, faults[fake.FaultStreamError], int(res.Errors[lens.ClassStream]))
		assert.Equal(t, faults[fake.NoFault], int(res.Succeeded))

		// The result says how it went: attempts, retried requests, and
		// the retried ones that then succeeded.
		var retried, retriedOK int64
		for _, m := range final {
			assert.LessOrEqual(t, m.Attempts, 3)
			if m.Attempts > 1 {
				retried++
				if m.OK() {
					retriedOK++
					assert.Equal(t, "retried", m.Status())
				}
			}
		}
		assert.Equal(t, res.Retried, retried)
		assert.Greater(t, retriedOK, int64(100))
		assert.EqualValues(t, res.Attempts-res.Total, res.RetriedBy[lens.ClassRateLimited]+res.RetriedBy[lens.ClassHTTP5xx])
	})
}

// TestCapacityQueue: a fake that serves 8 streams at once, under 32
// concurrent requests, queues the rest; the measured TTFT grows as the
// queue makes it and agrees with the fake's ground truth, request by
// request.
func TestCapacityQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttft, itl, tokens = 100 * time.Millisecond, 10 * time.Millisecond, 5
		responder := fake.NewResponder(fake.Config{
			TTFT: fake.Fixed(ttft), ITL: fake.Fixed(itl), OutputTokens: tokens, Capacity: 8, Record: true,
		})
		var mu sync.Mutex
		measured := map[string]time.Duration{}
		res, err := lens.Run(t.Context(), lens.Scenario{
			Provider: openai("http://fake.test"), Model: "m", Requests: 32, Concurrency: 32,
			Client: &http.Client{Transport: responder},
			OnRequest: func(m *lens.RequestMetrics) {
				mu.Lock()
				defer mu.Unlock()
				measured[m.RequestID] = m.TTFT
			},
		})
		require.NoError(t, err)
		require.EqualValues(t, 32, res.Succeeded)

		// One service is TTFT + 4 ITLs = 140ms: the queue holds waves of 8.
		service := ttft + (tokens-1)*itl
		waves := map[time.Duration]int{}
		for _, r := range responder.Records() {
			got, ok := measured[r.RequestID]
			require.True(t, ok, "request %s measured", r.RequestID)
			assert.Equal(t, r.Queued+ttft, got, "measured TTFT = the fake's queue wait + its TTFT")
			waves[r.Queued]++
		}
		assert.Equal(t, map[time.Duration]int{0: 8, service: 8, 2 * service: 8, 3 * service: 8}, waves)
		assert.Equal(t, ttft, res.TTFT.Min().Round(time.Millisecond))
		assert.Equal(t, ttft+3*service, res.TTFT.Max().Round(time.Millisecond))
	})
}
