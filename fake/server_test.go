package fake

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const chatStream = `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`

// readFirstEvent reads up to the end of the first SSE event.
func readFirstEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var ev strings.Builder
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		if line == "\n" {
			return ev.String()
		}
		ev.WriteString(line)
	}
}

func TestCloseCutsStreams(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name string
		body string
	}{
		{"stream waiting for its first token", chatStream},
		{"non-stream waiting for its body", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
	}
	s := NewServer(Config{TTFT: Fixed(time.Hour), Record: true})
	client := s.Client()
	type result struct {
		err   error
		first string
	}
	results := make(chan result, len(tests))
	var started sync.WaitGroup
	for _, tt := range tests {
		started.Add(1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/chat/completions", strings.NewReader(tt.body))
			resp, err := client.Do(req)
			if err != nil {
				started.Done()
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first, _ := br.ReadString('\n')
			started.Done()
			_, err = io.ReadAll(br)
			results <- result{err: err, first: first}
		}()
	}
	// Wait until the stream's role chunk is in and the non-stream request is
	// being handled.
	require.Eventually(t, func() bool { return s.handler().seq.Load() == 2 }, 10*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with responses in progress")
	}
	for range tests {
		r := <-results
		assert.Error(t, r.err, "a cut response must not look complete")
	}
	started.Wait()

	recs := s.Records()
	require.Len(t, recs, 2)
	for _, rec := range recs {
		assert.ErrorIs(t, rec.Err, ErrServerClosed)
		assert.Empty(t, rec.Sent)
		assert.False(t, rec.End.IsZero())
	}
	s.handler().pacer.mu.Lock()
	defer s.handler().pacer.mu.Unlock()
	assert.False(t, s.handler().pacer.running, "pacer still running after Close")
	assert.Empty(t, s.handler().pacer.heap)
}

func TestClientGoesAway(t *testing.T) {
	s := NewServer(Config{TTFT: Fixed(10 * time.Millisecond), ITL: Fixed(time.Hour), OutputTokens: 3, Record: true})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/chat/completions", strings.NewReader(chatStream))
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	br := bufio.NewReader(resp.Body)
	readFirstEvent(t, br) // role
	assert.Contains(t, readFirstEvent(t, br), `"delta":{"content":`)
	cancel()
	resp.Body.Close()

	var recs []Record
	require.Eventually(t, func() bool { recs = s.Records(); return len(recs) == 1 }, 10*time.Second, time.Millisecond)
	assert.ErrorIs(t, recs[0].Err, context.Canceled)
	assert.Len(t, recs[0].Sent, 1)
	assert.Len(t, recs[0].Scheduled, 3)
}

func TestRecords(t *testing.T) {
	cfg := Config{
		TTFT:           Uniform(5*time.Millisecond, 15*time.Millisecond),
		ITL:            Normal(2*time.Millisecond, time.Millisecond),
		OutputTokens:   7,
		TokensPerChunk: 3,
		Seed:           42,
		Record:         true,
	}
	s := NewServer(cfg)
	defer s.Close()
	before := time.Now()
	readAll(t, post(t, s.Client(), s.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"What is the answer?"}],"stream":true}`))
	readAll(t, post(t, s.Client(), s.URL+"/v1/responses", `{"model":"r","input":"hi","max_output_tokens":4}`))
	readAll(t, post(t, s.Client(), s.URL+"/v1/nope", `{}`))

	// A response's End is stamped after its last write, which the client
	// may read first: the bound is when Records has them all.
	recs := s.Records()
	after := time.Now()
	require.Len(t, recs, 3)
	for i, rec := range recs {
		assert.Equal(t, uint64(i), rec.Seq)
		assert.True(t, !rec.Start.Before(before) && !rec.End.After(after) && !rec.End.Before(rec.Start), "record %d times", i)
		assert.NoError(t, rec.Err)
		for j := range rec.Sent {
			assert.False(t, rec.Sent[j].Before(rec.Start.Add(rec.Scheduled[j])), "record %d event %d sent early", i, j)
		}
	}

	chat := recs[0]
	assert.Equal(t, "/v1/chat/completions", chat.Path)
	assert.Equal(t, "m", chat.Model)
	assert.True(t, chat.Stream)
	assert.Equal(t, 5, chat.PromptTokens) // 19 characters
	assert.Equal(t, 7, chat.OutputTokens)
	assert.Equal(t, "stop", chat.FinishReason)
	assert.Equal(t, strings.Join(Tokens(42, 0, 7), ""), chat.Text)
	require.Len(t, chat.Scheduled, 3) // 3+3+1 tokens
	require.Len(t, chat.Sent, 3)
	assert.True(t, chat.Scheduled[0] >= 5*time.Millisecond && chat.Scheduled[0] <= 15*time.Millisecond, "TTFT %v", chat.Scheduled[0])
	assert.True(t, slices.IsSorted(chat.Scheduled))
	assert.Equal(t, http.StatusOK, chat.Status)

	resp := recs[1]
	assert.Equal(t, "/v1/responses", resp.Path)
	assert.Equal(t, "r", resp.Model)
	assert.False(t, resp.Stream)
	assert.Equal(t, 4, resp.OutputTokens)
	assert.Equal(t, "incomplete", resp.FinishReason)
	assert.Equal(t, strings.Join(Tokens(42, 1, 4), ""), resp.Text)
	assert.Len(t, resp.Scheduled, 1)

	nf := recs[2]
	assert.Equal(t, "/v1/nope", nf.Path)
	assert.Equal(t, http.StatusNotFound, nf.Status)
	assert.Empty(t, nf.Scheduled)

	off := NewServer(Config{})
	defer off.Close()
	readAll(t, post(t, off.Client(), off.URL+"/v1/chat/completions", chatStream))
	assert.Nil(t, off.Records(), "records kept without Config.Record")
}

func TestSameSeedSameResponses(t *testing.T) {
	run := func(seed uint64) []Record {
		s := NewServer(Config{
			TTFT:   Normal(3*time.Millisecond, time.Millisecond),
			ITL:    Uniform(0, time.Millisecond),
			Seed:   seed,
			Record: true,
		})
		defer s.Close()
		for range 3 {
			readAll(t, post(t, s.Client(), s.URL+"/v1/chat/completions", chatStream))
		}
		return s.Records()
	}
	a, b, c := run(1), run(1), run(2)
	for i := range a {
		assert.Equal(t, a[i].ID, b[i].ID)
		assert.Equal(t, a[i].Text, b[i].Text)
		assert.Equal(t, a[i].Scheduled, b[i].Scheduled)
		assert.NotEqual(t, a[i].Text, c[i].Text)
		assert.NotEqual(t, a[i].Scheduled, c[i].Scheduled)
		assert.NotEqual(t, a[i].ID, c[i].ID)
	}
	assert.NotEqual(t, a[0].Text, a[1].Text, "requests of one server differ")
}

func TestHandlerInAnotherServer(t *testing.T) {
	s := NewUnstartedServer(Config{OutputTokens: 2})
	s.Config.Record = true // may change before the first Handler call
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Close()
	raw := readAll(t, post(t, ts.Client(), ts.URL+"/v1/chat/completions", chatStream))
	assert.True(t, strings.HasSuffix(raw, "data: [DONE]\n\n"))
	require.Len(t, s.Records(), 1)
	assert.Equal(t, 2, s.Records()[0].OutputTokens)
}

func TestStartTLS(t *testing.T) {
	s := NewUnstartedServer(Config{OutputTokens: 2})
	s.StartTLS()
	defer s.Close()
	assert.True(t, strings.HasPrefix(s.URL, "https://127.0.0.1:"))
	resp := post(t, s.Client(), s.URL+"/v1/chat/completions", chatStream)
	assert.NotNil(t, resp.TLS)
	assert.True(t, strings.HasSuffix(readAll(t, resp), "data: [DONE]\n\n"))
}

func TestURL(t *testing.T) {
	s := NewServer(Config{})
	defer s.Close()
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.URL)
}
