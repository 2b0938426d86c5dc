package lenstest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/lenstest"
)

// greet is application code: one streamed chat call to an
// OpenAI-compatible API, through the client it is given. With an SDK it
// would be, for openai-go,
//
//	client := openai.NewClient(option.WithBaseURL(baseURL), option.WithHTTPClient(c))
//	stream := client.Chat.Completions.NewStreaming(ctx, params)
func greet(ctx context.Context, c *http.Client, baseURL string) error {
	body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/chat/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// A test holds the TTFT of the application's own calls to an SLO: the
// observer's client goes where the application takes its HTTP client,
// and the result asserts on what the calls measured.
func ExampleObserve() {
	testGreetingSLO := func(t *testing.T) {
		srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 8})
		defer srv.Close()

		obs := lenstest.Observe(t)
		for range 60 {
			if err := greet(t.Context(), obs.Client(), srv.URL+"/v1"); err != nil {
				t.Fatal(err)
			}
		}
		obs.Result().AssertP95TTFT(500 * time.Millisecond)
	}
	// In a _test.go file, testGreetingSLO is func TestGreetingSLO(t
	// *testing.T); conformance's TestSummarizerSLO runs the same with
	// openai-go.
	_ = testGreetingSLO
}

// A journey of the application's own code, driven at a scenario's
// concurrency: assertions hold both the model calls and the whole
// journey to their SLOs.
func ExampleBenchFunc() {
	testAnswerSLO := func(t *testing.T) {
		srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(20 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 8})
		defer srv.Close()

		res := lenstest.BenchFunc(t, lens.Scenario{Name: "answer", Requests: 100, Concurrency: 8},
			func(ctx context.Context, c *http.Client) error {
				// Two model calls: retrieve, then answer.
				if err := greet(ctx, c, srv.URL+"/v1"); err != nil {
					return err
				}
				return greet(ctx, c, srv.URL+"/v1")
			})
		res.AssertP95TTFT(500 * time.Millisecond)
		res.AssertPercentile(lens.MetricJourney, 95, time.Second)
		res.AssertJourneyErrorRate(0)
	}
	// In a _test.go file, testAnswerSLO is func TestAnswerSLO(t
	// *testing.T); TestBenchFuncTwoCalls runs such a journey.
	_ = testAnswerSLO
}
