package providers

// The machinery of the integration tests of the Anthropic, Gemini (and
// Vertex AI) and Cohere codecs, which run against the real APIs only when
// their credentials are in the environment.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// liveTimeout bounds each real request.
const liveTimeout = 60 * time.Second

// liveCase is one real API to test.
type liveCase struct {
	p      Provider // configured from the environment
	bad    Provider // the same with credentials the API refuses
	model  string
	finish string // a regexp of the finish reasons a short answer may end with
}

// runLiveChecks checks, against the real API: a streamed answer (clean
// end, output, usage, finish reason, arrival times in order), a
// non-streaming answer, the model list, and the refusal of bad
// credentials, whose error must not show them.
func runLiveChecks(t *testing.T, tc liveCase) {
	t.Helper()
	finish := regexp.MustCompile(`^(` + tc.finish + `)$`)
	t.Run("stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		got := liveDecode(t, ctx, tc.p, &Request{Model: tc.model, Prompt: "Count from 1 to 20, separated by spaces.",
			MaxTokens: 200, Stream: true})
		if got.Outputs < 2 || got.Text == "" {
			t.Errorf("%d output events, text %q", got.Outputs, got.Text)
		}
		if !got.HasUsage || got.Usage.InputTokens <= 0 || got.Usage.OutputTokens <= 0 {
			t.Errorf("usage %+v (reported %v)", got.Usage, got.HasUsage)
		}
		if !finish.MatchString(got.Finish) {
			t.Errorf("finish reason %q", got.Finish)
		}
	})
	t.Run("not streaming", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		got := liveDecode(t, ctx, tc.p, &Request{Model: tc.model, Prompt: "Say hello.", MaxTokens: 100})
		if got.Deltas != 1 || got.Text == "" || !got.HasUsage || got.Usage.OutputTokens <= 0 || !finish.MatchString(got.Finish) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("models", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		names, err := ListModels(ctx, nil, tc.p)
		if err != nil || len(names) == 0 {
			t.Fatalf("models %q, %v", names, err)
		}
		t.Logf("%d models, first %q", len(names), names[0])
		if err := ValidateCredentials(ctx, nil, tc.p); err != nil {
			t.Errorf("ValidateCredentials: %v", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		err := ValidateCredentials(ctx, nil, tc.bad)
		var ae *APIError
		if !errors.As(err, &ae) || (ae.StatusCode != 401 && ae.StatusCode != 403 && ae.StatusCode != 400) {
			t.Fatalf("ValidateCredentials with a bad key: %v", err)
		}
		req, err := tc.bad.NewRequest(ctx, &Request{Model: tc.model, Prompt: "hi", MaxTokens: 5, Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		err = tc.bad.NewDecoder().Reset(resp, &Request{Stream: true})
		if !errors.As(err, &ae) || strings.Contains(err.Error(), "not-a-real") {
			t.Errorf("completion with a bad key: %v", err)
		}
		t.Logf("refused: %v", err)
	})
}

// liveDecode sends r and decodes the whole answer, checking that
// arrival times never go back and that the response ends cleanly.
func liveDecode(t *testing.T, ctx context.Context, p Provider, r *Request) decoded {
	t.Helper()
	req, err := p.NewRequest(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := p.NewDecoder()
	var out decoded
	if err := dec.Reset(resp, r); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	var d Delta
	last := start
	var ttft time.Duration
	for {
		err := dec.Next(&d)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d deltas: %v", out.Deltas, err)
		}
		if d.At.Before(last) {
			t.Errorf("delta %d arrived at %v, before the previous one", out.Deltas, d.At.Sub(start))
		}
		last = d.At
		out.Deltas++
		out.Text += string(d.Text)
		out.Reasoning += string(d.Reasoning)
		if d.HasOutput() {
			if out.Outputs == 0 {
				ttft = d.At.Sub(start)
			}
			out.Outputs++
		}
		if d.HasUsage {
			out.Usage, out.HasUsage = d.Usage, true
		}
		if d.FinishReason != "" {
			out.Finish = d.FinishReason
		}
	}
	t.Logf("%s: %d deltas, %d with output, TTFT %v, usage %+v, finish %q, text %q",
		p.Name(), out.Deltas, out.Outputs, ttft, out.Usage, out.Finish, out.Text)
	return out
}
