package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// The p95 TTFT of an openai-go call made by application code (summarize),
// held to an SLO: the SDK takes the transport's client, the application
// runs as it always does, and the result says what its calls measured. In
// a test, lenstest.Observe(t) gives the same client and asserts with
// obs.Result().AssertP95TTFT(500 * time.Millisecond) (TestSummarizerSLO).
func Example_summarizerSLO() {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(10 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 8})
	defer srv.Close()

	tr := &lens.Transport{}
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("sk-test"), option.WithHTTPClient(tr.Client()))
	for range 20 {
		if _, err := summarize(context.Background(), client, "the quarterly report"); err != nil {
			fmt.Println(err)
			return
		}
	}
	res := tr.Result()
	fmt.Println("measured calls:", res.Succeeded, "failed:", res.Failed, "model:", res.Model)
	fmt.Println("p95 TTFT under 500ms:", res.TTFT.Percentile(95) < 500*time.Millisecond)
	// Output:
	// measured calls: 20 failed: 0 model: gpt-4o-mini
	// p95 TTFT under 500ms: true
}
