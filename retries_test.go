package lens_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
)

// TestRetriesAgreeAfterCancel: a run canceled while requests wait out a
// Retry-After counts no retry that was not made: attempts − total equals
// the retries by class, and the result file it makes is valid.
func TestRetriesAgreeAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder(http.MethodPost, "http://fake.test/v1/chat/completions", func(r *http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(http.StatusTooManyRequests, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
			resp.Header.Set("Content-Type", "application/json")
			resp.Header.Set("Retry-After", "30")
			return resp, nil
		})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(45*time.Second, cancel) // second attempts at 30s; the third ones would be at 60s
		res, err := lens.Run(ctx, lens.Scenario{
			Name: "cut", Provider: openai("http://fake.test"), Model: "m", Prompt: "hi",
			Requests: 4, Concurrency: 4, Client: &http.Client{Transport: mt},
			Retry: lens.Retry{MaxAttempts: 5},
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.EqualValues(t, 4, res.Total)
		assert.EqualValues(t, 4, res.Errors[lens.ClassRateLimited])
		assert.EqualValues(t, 8, res.Attempts, "two attempts each: the third was never made")
		assert.EqualValues(t, map[lens.ErrorClass]int64{lens.ClassRateLimited: 4}, res.RetriedBy)
		assert.EqualValues(t, 4, res.Retried)
		f, err := report.FromResults([]*lens.Result{res}, report.Metadata{Interrupted: true})
		require.NoError(t, err)
		assert.NoError(t, f.Validate())
	})
}
