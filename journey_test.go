package lens_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
)

// twoCalls is a journey of two streamed OpenAI calls, each read to its
// end, with 5ms of the application's own work between them.
func twoCalls(ctx context.Context, c *http.Client) error {
	for i := range 2 {
		if err := faketest.StreamCall(ctx, c, "m"); err != nil {
			return err
		}
		if i == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// TestJourney: Run drives the caller's code as journeys: each measured
// journey's two calls are measured (the warmup's are not), and each
// journey lasts at least its calls' E2E and the work between them.
func TestJourney(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := fake.NewResponder(fake.Config{TTFT: fake.Uniform(20*time.Millisecond, 60*time.Millisecond),
			ITL: fake.Fixed(2 * time.Millisecond), OutputTokens: 5, Record: true})
		var mu sync.Mutex
		var e2eSum time.Duration
		res, err := lens.Run(t.Context(), lens.Scenario{
			Name: "journey", Requests: 10, Warmup: 2, Concurrency: 3,
			Client:  &http.Client{Transport: r},
			Journey: twoCalls,
			OnRequest: func(m *lens.RequestMetrics) {
				mu.Lock()
				e2eSum += m.E2E
				mu.Unlock()
			},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 10, res.Journeys)
		assert.Zero(t, res.JourneysFailed)
		assert.EqualValues(t, 20, res.Total, "two measured calls per journey")
		assert.EqualValues(t, 20, res.Succeeded)
		assert.Len(t, r.Records(), 24, "the warmup's calls were made, unmeasured")
		assert.Equal(t, "openai", res.Provider)
		require.EqualValues(t, 10, res.Journey.Count())
		// Every journey is at least 2 TTFTs of 20ms, 4 ITLs each and 5ms.
		assert.GreaterOrEqual(t, res.Journey.Min(), 2*(20*time.Millisecond+4*2*time.Millisecond)+5*time.Millisecond-50*time.Microsecond)
		// In virtual time nothing else takes time: the journeys' total is
		// exactly their calls' E2E and the work between them (within the
		// histogram's 0.1%).
		want := float64(e2eSum + 10*5*time.Millisecond)
		assert.InDelta(t, want, float64(res.Journey.Mean())*10, want/1000)
		assert.Equal(t, res.Journey, res.Latency(lens.MetricJourney))
	})
}

// TestJourneyErrors: a journey's error or panic fails the journey, not
// the run; fields that cannot apply to the caller's code are refused.
func TestJourneyErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		var mu sync.Mutex
		res, err := lens.Run(t.Context(), lens.Scenario{
			Requests: 4,
			Journey: func(ctx context.Context, c *http.Client) error {
				mu.Lock()
				defer mu.Unlock()
				n++
				switch n {
				case 1:
					return errors.New("summary was empty")
				case 2:
					panic("bad index")
				}
				return nil
			},
		})
		require.NoError(t, err)
		assert.EqualValues(t, 4, res.Journeys)
		assert.EqualValues(t, 2, res.JourneysFailed)
		assert.Equal(t, "summary was empty", res.JourneyError)
		assert.EqualValues(t, 0, res.Total, "no LLM calls")
	})

	_, err := lens.Run(t.Context(), lens.Scenario{Requests: 1, Prompt: "hi", NoStream: true, Retry: lens.Retry{MaxAttempts: 3},
		Journey: func(context.Context, *http.Client) error { return nil }})
	require.Error(t, err)
	for _, field := range []string{"Prompt:", "NoStream:", "Retry:"} {
		assert.Contains(t, err.Error(), field)
	}
}
