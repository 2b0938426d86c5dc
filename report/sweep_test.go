package report_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/verdict"
)

// sweepResult runs a capacity search in virtual time against a fake of 8
// places and 250ms of service (capacity 8 users for p95 TTFT under 300ms:
// a ninth user makes one request in eight wait 250ms).
func sweepResult(t *testing.T) *capacity.Result {
	t.Helper()
	var r *capacity.Result
	synctest.Test(t, func(t *testing.T) {
		mt := httpmock.NewMockTransport()
		fake.NewResponder(fake.Config{TTFT: fake.Fixed(100 * time.Millisecond), ITL: fake.Fixed(10 * time.Millisecond),
			OutputTokens: 16, Capacity: 8, Seed: 1}).Register(mt, "http://fake.test")
		sc := lens.Scenario{
			Name: "sweep", Provider: &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-test"}, Model: "gpt-4o-mini",
			Prompt: "Say hello", Client: &http.Client{Transport: mt},
		}
		var err error
		r, err = capacity.Find(t.Context(), sc, capacity.Search{Mode: capacity.Concurrency, Start: 2, Requests: 100},
			verdict.Gate{Metric: lens.MetricTTFT, Percentile: 95, Limit: 300 * time.Millisecond},
			verdict.Gate{Metric: verdict.ErrorRate, MaxErrorRate: 0.05})
		require.NoError(t, err)
	})
	require.Equal(t, 8.0, r.Capacity)
	return r
}

// sweepFile is the result file of sweepResult's search.
func sweepFile(t *testing.T) *report.File {
	t.Helper()
	f, err := report.FromSweep(sweepResult(t), report.Metadata{})
	require.NoError(t, err)
	return f
}

// TestSweepFile: a capacity search's result file holds the measurements at
// the capacity, their gates, and the curve; it survives a round trip and
// validation, and a plain run's file has no sweep.
func TestSweepFile(t *testing.T) {
	r := sweepResult(t)
	f, err := report.FromSweep(r, report.Metadata{})
	require.NoError(t, err)
	res := f.Scenarios[0].Results[0]
	require.NotNil(t, res.Sweep)
	assert.Equal(t, int64(r.At().Requests), res.Metrics.TotalRequests, "the file's metrics are those at the capacity")
	assert.Len(t, res.Gates, 2)
	sw := res.Sweep
	assert.Equal(t, "concurrency", sw.Mode)
	assert.Equal(t, "users", sw.Unit)
	assert.Equal(t, 8.0, sw.Capacity)
	assert.Equal(t, 9.0, sw.Ceiling)
	assert.Equal(t, "slo", sw.Limit)
	assert.True(t, sw.Resolved)
	assert.Equal(t, r.Requests, sw.Requests)
	require.Len(t, sw.Steps, len(r.Steps))
	for i, st := range sw.Steps {
		assert.Equal(t, r.Steps[i].Load, st.Load)
		assert.Len(t, st.Gates, 2)
		assert.Equal(t, st.Requests, st.TTFT.Count, "every request succeeded")
		assert.Positive(t, st.GoodputRPS)
		assert.Positive(t, st.OutputTokensPerSecond)
	}

	var buf bytes.Buffer
	require.NoError(t, report.WriteJSON(&buf, f, true))
	back, err := report.Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, sw, back.Scenarios[0].Results[0].Sweep)

	// A plain run's file is as it was: no sweep key at all.
	plain, err := report.FromResults([]*lens.Result{r.At().Result}, report.Metadata{})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, report.WriteJSON(&buf, plain, false))
	assert.NotContains(t, buf.String(), `"sweep":`)

	// A merged file keeps no sweep: its curve is one machine's.
	merged, err := report.Merge(f, plain)
	require.NoError(t, err)
	assert.Nil(t, merged.Scenarios[0].Results[0].Sweep)
}

// TestSweepFileValidates: a sweep that does not add up is refused with what
// is wrong.
func TestSweepFileValidates(t *testing.T) {
	f := sweepFile(t)
	for _, tc := range []struct {
		edit func(*report.Sweep)
		want string
	}{
		{func(s *report.Sweep) { s.Mode = "sideways" }, `mode "sideways"`},
		{func(s *report.Sweep) { s.Limit = "luck" }, `limit "luck"`},
		{func(s *report.Sweep) { s.Capacity = -1 }, "out of range"},
		{func(s *report.Sweep) { s.Steps[0].Outcome = "maybe" }, `step 0: outcome "maybe"`},
		{func(s *report.Sweep) { s.Steps[0].Holds = false }, "step 0: outcome pass but holds false"},
		{func(s *report.Sweep) { s.Steps[1].Failed = s.Steps[1].Requests + 1 }, "step 1:"},
		{func(s *report.Sweep) { s.Steps[0].TTFT.Count++ }, "step 0: histogram holds"},
	} {
		var buf bytes.Buffer
		require.NoError(t, report.WriteJSON(&buf, f, false))
		var g report.File
		require.NoError(t, json.Unmarshal(buf.Bytes(), &g))
		tc.edit(g.Scenarios[0].Results[0].Sweep)
		err := g.Validate()
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

var stepRow = regexp.MustCompile(`^\s*\d+\s+(holds|breaks)`)

// TestSweepTable: the console shows the curve from the lowest load, each
// gate's verdict and interval, and the capacity marked.
func TestSweepTable(t *testing.T) {
	f := sweepFile(t)
	var buf bytes.Buffer
	require.NoError(t, report.WriteTable(&buf, f, report.TableOptions{}))
	out := buf.String()
	t.Log(out)
	assert.Contains(t, out, "Capacity search: the highest number of users at which every gate holds")
	lines := strings.Split(out, "\n")
	var rows []string
	for _, l := range lines {
		if stepRow.MatchString(l) {
			rows = append(rows, strings.TrimSpace(l))
		}
	}
	require.Len(t, rows, len(f.Scenarios[0].Results[0].Sweep.Steps))
	assert.True(t, strings.HasPrefix(rows[0], "2 "), "from the lowest load: %q", rows[0])
	assert.Contains(t, out, "pass 100 [99.9..100]")
	assert.Contains(t, out, "fail 350 [350..350]")
	assert.Contains(t, out, "<- capacity")
	assert.Contains(t, out, "capacity 8 users; 9 users broke a gate")
}

// TestSweepHTML: the HTML report draws the search (TTFT percentiles and
// goodput against load, the capacity marked) and tabulates it.
func TestSweepHTML(t *testing.T) {
	f := sweepFile(t)
	var buf bytes.Buffer
	require.NoError(t, report.WriteHTML(&buf, f, report.HTMLOptions{}))
	page := buf.String()
	assert.Contains(t, page, `id="s1-r1-sweep"`)
	assert.Contains(t, page, `<line class="capacity"`)
	assert.Contains(t, page, ">capacity 8 users</text>")
	assert.Contains(t, page, "goodput (req/s)")
	assert.Contains(t, page, "TTFT p95")
	assert.Contains(t, page, `<tr class="capacity"><td>8 users</td>`)
	assert.Equal(t, 4, strings.Count(page, `<polygon class="mark"`), "a marker under each load that broke (9, 10, 12, 16 users)")
}
