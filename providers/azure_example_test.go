package providers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/llm-latency-lens/lens/providers"
)

func ExampleAzure() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.URL.Path, r.URL.RawQuery, r.Header.Get("Api-Key") != "")
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[],"id":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}`+"\n\n")
		fmt.Fprint(w, `data: {"choices":[{"content_filter_results":{},"delta":{"content":"Hi"},"index":0}],"id":"c1"}`+"\n\n")
		fmt.Fprint(w, `data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0}],"id":"c1"}`+"\n\n")
		fmt.Fprint(w, `data: {"choices":[],"id":"c1","usage":{"prompt_tokens":8,"completion_tokens":1}}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	// The Model of a Request is the deployment name.
	p := &providers.Azure{BaseURL: srv.URL, APIKey: "azure-example-key"}
	famPrintDeltas(p, &providers.Request{Model: "my-gpt-4o", Prompt: "hi", Stream: true})
	// Output:
	// /openai/deployments/my-gpt-4o/chat/completions api-version=2024-10-21 true
	// text="" reasoning="" output=false usage={0 0 0 0} finish=""
	// text="Hi" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="" reasoning="" output=false usage={0 0 0 0} finish="stop"
	// text="" reasoning="" output=false usage={8 1 0 0} finish=""
}
