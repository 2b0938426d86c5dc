package lens_test

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
)

// A Transport measures the calls an application makes with its own code:
// here three streamed chat calls made with net/http. With an SDK, pass
// tr.Client() to its HTTP client option (openai-go's
// option.WithHTTPClient, anthropic-sdk-go's, genai's
// ClientConfig.HTTPClient, cohere-go's).
func ExampleTransport() {
	srv := fake.NewServer(fake.Config{TTFT: fake.Fixed(5 * time.Millisecond), ITL: fake.Fixed(time.Millisecond), OutputTokens: 8})
	defer srv.Close()

	tr := &lens.Transport{Name: "greeting", Model: "gpt-4o-mini"}
	client := tr.Client()
	for range 3 {
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
		resp, err := client.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // the application reads its answer
		resp.Body.Close()
	}

	res := tr.Result()
	fmt.Printf("%s: %d calls to %s, %d failed\n", res.Scenario, res.Total, res.Provider, res.Failed)
	fmt.Println("TTFT at least the server's 5ms:", res.TTFT.Min() >= 5*time.Millisecond-5*time.Microsecond)
	fmt.Println("output tokens:", res.OutputTokensTotal)
	// Output:
	// greeting: 3 calls to openai, 0 failed
	// TTFT at least the server's 5ms: true
	// output tokens: 24
}
