package report

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
)

// journeyRun runs 6 journeys of two streamed calls each against the
// fake's responder in virtual time; the third journey's code fails after
// its calls.
func journeyRun(t *testing.T) *lens.Result {
	var res *lens.Result
	synctest.Test(t, func(t *testing.T) {
		r := fake.NewResponder(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), ITL: fake.Fixed(2 * time.Millisecond), OutputTokens: 5})
		var n atomic.Int64
		var err error
		res, err = lens.Run(t.Context(), lens.Scenario{
			Name: "rag", Model: "gpt-4o-mini", Requests: 6, Concurrency: 2,
			Client: &http.Client{Transport: r},
			Journey: func(ctx context.Context, c *http.Client) error {
				for range 2 {
					if err := faketest.StreamCall(ctx, c, "gpt-4o-mini"); err != nil {
						return err
					}
				}
				if n.Add(1) == 3 {
					return errors.New("the answer was empty")
				}
				return nil
			},
		})
		require.NoError(t, err)
	})
	return res
}

// TestJourneyInResultFile: a scenario's journeys reach the result file —
// their count, failures, first error and durations — survive a write and
// a read and a merge, and show in the table; a file without journeys
// (as every file written before they existed) has none of it.
func TestJourneyInResultFile(t *testing.T) {
	res := journeyRun(t)
	require.EqualValues(t, 6, res.Journeys)
	require.EqualValues(t, 12, res.Total)
	f, err := FromResults([]*lens.Result{res}, Metadata{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, f, false))
	assert.Contains(t, buf.String(), `"journeys":6,"journeys_failed":1,"journey_error":"the answer was empty"`)
	back, err := Decode(&buf)
	require.NoError(t, err)
	m := back.Scenarios[0].Results[0].Metrics
	assert.EqualValues(t, 6, m.Journeys)
	assert.EqualValues(t, 1, m.JourneysFailed)
	assert.Equal(t, "the answer was empty", m.JourneyError)
	require.NotNil(t, m.Latency.Journey)
	assert.EqualValues(t, 5, m.Latency.Journey.Count)
	// Each journey is two calls of 20ms + 4 × 2ms, one after the other.
	assert.InDelta(t, 56.0, m.Latency.Journey.Median, 0.1)
	assert.Contains(t, names(m.Distributions()), "journey")

	var table bytes.Buffer
	require.NoError(t, WriteTable(&table, back, TableOptions{}))
	assert.Regexp(t, `Journey \(ms\)\s+│ 56\.0 `, table.String())
	assert.Contains(t, table.String(), "Journeys: 6, 1 failed (first: the answer was empty)")

	merged, err := Merge(back, back)
	require.NoError(t, err)
	mm := merged.Scenarios[0].Results[0].Metrics
	assert.EqualValues(t, 12, mm.Journeys)
	assert.EqualValues(t, 2, mm.JourneysFailed)
	assert.EqualValues(t, 10, mm.Latency.Journey.Count)

	// Without journeys: nothing of them in the file or the table.
	plain, err := FromResults([]*lens.Result{synthResult(1, 50, 1)}, Metadata{})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, WriteJSON(&buf, plain, false))
	assert.NotContains(t, buf.String(), "journey")
	table.Reset()
	require.NoError(t, WriteTable(&table, plain, TableOptions{}))
	assert.NotContains(t, table.String(), "Journey")
}

// TestJourneyCountsChecked: a file whose journey counts do not fit its
// journey durations is refused with what is wrong.
func TestJourneyCountsChecked(t *testing.T) {
	f, err := FromResults([]*lens.Result{journeyRun(t)}, Metadata{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		edit func(m *Metrics)
		want string
	}{
		{"more failed than run", func(m *Metrics) { m.JourneysFailed = 7 }, "not valid counts"},
		{"count off", func(m *Metrics) { m.Journeys = 9 }, "journey holds 5 values, for 8 journeys"},
		{"durations missing", func(m *Metrics) { m.Latency.Journey = nil }, "no latency.journey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteJSON(&buf, f, false))
			g, err := Decode(&buf)
			require.NoError(t, err)
			tc.edit(&g.Scenarios[0].Results[0].Metrics)
			buf.Reset()
			require.NoError(t, WriteJSON(&buf, g, false))
			_, err = Decode(&buf)
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), tc.want), "%v", err)
		})
	}
}

func names(nds []NamedDistribution) []string {
	out := make([]string, len(nds))
	for i, nd := range nds {
		out[i] = nd.Name
	}
	return out
}
