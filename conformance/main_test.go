package conformance

import (
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/llm-latency-lens/lens/fake"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// genai's dependencies start OpenCensus's view worker at init; it
		// lives as long as the process.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	)
}

// testKey is the API key every client sends; the fake does not check it.
const testKey = "sk-conformance-test-key"

// testPrompt is the user message of every request, and testPromptTokens its
// token count as the fake estimates it.
const testPrompt = "Write a short paragraph of lorem ipsum."

var testPromptTokens = fake.EstimateTokens(testPrompt)

// testRetryAfter is the wait the fake's 429, 503 and 529 answers ask for:
// long enough to be told apart from no wait, short enough for a test.
const testRetryAfter = 40 * time.Millisecond

// newServer starts a fake server for cfg, with records kept, and closes it
// when the test ends.
func newServer(t testing.TB, cfg fake.Config) *fake.Server {
	t.Helper()
	cfg.Record = true
	if cfg.Faults.RetryAfter == 0 {
		cfg.Faults.RetryAfter = testRetryAfter
	}
	srv := fake.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// oneRecord returns the only record of srv, failing the test unless there
// is exactly one. A response the client stopped reading (a malformed
// event, say) is recorded only once the fake's handler sees that, which
// may come after the client's call returned: oneRecord waits up to 10s
// for a first record.
func oneRecord(t testing.TB, srv *fake.Server) fake.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	recs := srv.Records()
	for len(recs) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		recs = srv.Records()
	}
	require.Len(t, recs, 1, "requests the fake received")
	return recs[0]
}

// checkAnswer checks what an SDK read of an answer against what the
// request asked for (the finish reason wantFinish, tokens output tokens)
// and against the fake's record of it: the same finish reason, output
// tokens and id, and the test prompt's tokens.
func checkAnswer[F ~string, N ~int32 | ~int64 | ~float64](t *testing.T, rec fake.Record, wantFinish F, tokens int,
	finish F, output, prompt N, id string) {
	t.Helper()
	assert.Equal(t, wantFinish, finish)
	assert.Equal(t, rec.FinishReason, string(finish))
	assert.EqualValues(t, tokens, output)
	assert.EqualValues(t, rec.OutputTokens, output)
	assert.EqualValues(t, testPromptTokens, prompt)
	assert.Equal(t, rec.ID, id)
}

// checkStreamed checks the output of a streamed answer: the fake's record
// of it and the text its events carried (streamed) are want, and it came
// in wantEvents events of output (events), one for each chunk the fake
// scheduled.
func checkStreamed(t *testing.T, rec fake.Record, want, streamed string, events, wantEvents int) {
	t.Helper()
	assert.Equal(t, want, rec.Text, "the fake's record")
	assert.Equal(t, want, streamed, "the streamed text")
	assert.Equal(t, wantEvents, events, "events of output")
	assert.Len(t, rec.Scheduled, events, "chunks the fake scheduled")
}

// finishOf returns the finish reason (or status) of an answer: atLimit
// when the request's limit cut it, else whole.
func finishOf[F any](cut bool, whole, atLimit F) F {
	if cut {
		return atLimit
	}
	return whole
}

// wantText is the text of the first n tokens the fake generates for request
// seq under seed: what the response must carry.
func wantText(seed, seq uint64, n int) string {
	return strings.Join(fake.Tokens(seed, seq, n), "")
}

// runFault runs check as a parallel subtest named name, against a fake
// server of its own (started as newServer starts it) that gives every
// request fault f.
func runFault(t *testing.T, name string, f fake.Fault, check func(t *testing.T, srv *fake.Server)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		check(t, newServer(t, fake.Config{FaultFunc: always(f)}))
	})
}

// streamModes yields the two ways of making a call, not streamed and
// streamed, each with its subtest name: name, then name + "/stream".
func streamModes(name string) iter.Seq2[bool, string] {
	return func(yield func(bool, string) bool) {
		_ = yield(false, name) && yield(true, name+"/stream")
	}
}

// always returns a Config.FaultFunc that gives every request fault f.
func always(f fake.Fault) func(uint64) fake.Fault {
	return func(uint64) fake.Fault { return f }
}

// firstThen returns a Config.FaultFunc that gives the first n requests
// fault f and serves the rest whole.
func firstThen(n uint64, f fake.Fault) func(uint64) fake.Fault {
	return func(seq uint64) fake.Fault {
		if seq < n {
			return f
		}
		return fake.NoFault
	}
}

// requireRetriedAfter checks that recs are len(statuses) attempts of one
// call, with those statuses, each sent no sooner than wait after the
// previous one: the client waited as the server asked.
func requireRetriedAfter(t testing.TB, recs []fake.Record, wait time.Duration, statuses ...int) {
	t.Helper()
	require.Len(t, recs, len(statuses), "attempts")
	for i, rec := range recs {
		require.Equal(t, statuses[i], rec.Status, "status of attempt %d", i+1)
		if i > 0 {
			gap := rec.Start.Sub(recs[i-1].Start)
			require.GreaterOrEqual(t, gap, wait, "wait before attempt %d", i+1)
		}
	}
}
