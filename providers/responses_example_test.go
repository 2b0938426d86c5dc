package providers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/llm-latency-lens/lens/providers"
)

func ExampleOpenAIResponses() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"type":"response.created","sequence_number":0,"response":{"status":"in_progress","usage":null}}`,
			`{"type":"response.output_text.delta","sequence_number":1,"delta":"Hel"}`,
			`{"type":"response.output_text.delta","sequence_number":2,"delta":"lo"}`,
			`{"type":"response.incomplete","sequence_number":3,"response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},` +
				`"usage":{"input_tokens":9,"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0}}}}`,
		} {
			fmt.Fprintf(w, "event: x\ndata: %s\n\n", ev)
		}
	}))
	defer srv.Close()

	p := &providers.OpenAIResponses{BaseURL: srv.URL + "/v1", APIKey: "sk-example"}
	famPrintDeltas(p, &providers.Request{Model: "gpt-4o-mini", Prompt: "hi", MaxTokens: 2, Stream: true})
	// Output:
	// text="" reasoning="" output=false usage={0 0 0 0} finish=""
	// text="Hel" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="lo" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="" reasoning="" output=false usage={9 2 0 0} finish="max_output_tokens"
}
