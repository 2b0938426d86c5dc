package lens_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report"
)

// TestTokenAccountingAbsentIsAbsent: what a response does not show is
// absent, not zero or a mismatch. A response that is not streamed has no
// ITL and no TPOT, and its usage is not compared with its single body; a
// stream whose text came in one event has no TPOT; a stream without usage
// has unknown prompt tokens.
func TestTokenAccountingAbsentIsAbsent(t *testing.T) {
	const n, out = 12, 16
	for _, tc := range []struct {
		name        string
		noStream    bool
		noUsage     bool
		perChunk    int
		tpot, itl   bool // recorded for every request
		mismatches  int64
		inputCounts bool
	}{
		{name: "stream with usage", tpot: true, itl: true, inputCounts: true},
		{name: "not streamed", noStream: true, inputCounts: true},
		{name: "stream without usage", noUsage: true, tpot: true, itl: true},
		{name: "stream of one event", perChunk: out, mismatches: n, inputCounts: true},
		{name: "stream of 4-token events", perChunk: 4, tpot: true, itl: true, mismatches: n, inputCounts: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(2 * time.Millisecond), ITL: fake.Fixed(time.Millisecond),
				OutputTokens: out, TokensPerChunk: tc.perChunk})
			defer srv.Close()
			var mu sync.Mutex
			var reqs []lens.RequestMetrics
			res, err := lens.Run(t.Context(), lens.Scenario{
				Provider: &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "sk-test", NoStreamUsage: tc.noUsage},
				Model:    "m", Prompt: "Say hello", Requests: n, Concurrency: 2, NoStream: tc.noStream,
				OnRequest: func(m *lens.RequestMetrics) {
					mu.Lock()
					defer mu.Unlock()
					reqs = append(reqs, *m)
				},
			})
			require.NoError(t, err)
			require.EqualValues(t, n, res.Succeeded, "%v", res.ErrorSamples)
			require.Len(t, reqs, n)
			for _, m := range reqs {
				assert.Equal(t, !tc.noStream, m.Stream)
				assert.Equal(t, tc.tpot, m.TPOT != lens.Absent, "TPOT %v", m.TPOT)
				assert.Equal(t, tc.itl, len(m.ITLs) > 0, "ITLs %v", m.ITLs)
				assert.Equal(t, !tc.noUsage, m.TokensFromUsage)
				assert.Equal(t, out, m.OutputTokens)
				if tc.inputCounts {
					assert.Positive(t, m.InputTokens)
				} else {
					assert.Equal(t, lens.UnknownTokens, m.InputTokens)
				}
			}
			assert.Equal(t, tc.tpot, res.TPOT.Count() == n, "TPOT samples %d", res.TPOT.Count())
			assert.Equal(t, tc.itl, res.ITL.Count() > 0, "ITL samples %d", res.ITL.Count())
			assert.Equal(t, tc.mismatches, res.TokenMismatches)
			// The result file and the raw records say the same.
			f, err := report.FromResults([]*lens.Result{res}, report.Metadata{})
			require.NoError(t, err)
			ts := f.Scenarios[0].Results[0].Metrics.TokenStats
			raw := report.NewRawRequest(&reqs[0], "s", "p", "m", nil)
			var js bytes.Buffer
			require.NoError(t, report.WriteJSON(&js, f, false))
			if tc.inputCounts {
				assert.EqualValues(t, n, res.InputTokensCounted)
				assert.Positive(t, res.InputTokensTotal)
				require.NotNil(t, ts.TotalPromptTokens)
				assert.Equal(t, res.InputTokensTotal, *ts.TotalPromptTokens)
				require.NotNil(t, raw.Tokens.PromptTokens)
			} else {
				assert.Zero(t, res.InputTokensCounted)
				assert.Zero(t, res.InputTokensTotal)
				assert.Nil(t, ts.TotalPromptTokens)
				assert.Nil(t, ts.TotalTokens)
				assert.Nil(t, raw.Tokens.PromptTokens)
				assert.Contains(t, js.String(), `"total_prompt_tokens":null`)
			}
			assert.EqualValues(t, tc.mismatches, ts.UsageMismatches)
			if !tc.tpot {
				assert.Zero(t, f.Scenarios[0].Results[0].Metrics.Latency.TPOT.Count, "no TPOT is no sample, which every writer shows as absent")
			}
		})
	}
}
