package providers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/llm-latency-lens/lens/providers"
)

func ExampleSSEReader() {
	stream := "\xEF\xBB\xBF: keep-alive\r\n" +
		"event: greeting\r\nid: 1\r\ndata: hello\r\ndata: world\r\n\r\n" +
		"data:{\"n\":2}\r\n\r\n" +
		"data: never dispatched"
	r := providers.NewSSEReader(strings.NewReader(stream))
	for r.Scan() {
		ev := r.Event()
		fmt.Printf("type=%q id=%q data=%q\n", ev.Type, ev.ID, ev.Data)
	}
	if err := r.Err(); err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println("keep-alives:", r.Comments())
	// Output:
	// type="greeting" id="1" data="hello\nworld"
	// type="" id="1" data="{\"n\":2}"
	// keep-alives: 1
}

func ExampleOpenAI() {
	// A server that streams like vLLM, with usage in every chunk.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i, tok := range []string{"Hel", "lo"} {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":%d}}\n\n", tok, i+1)
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()

	p := &providers.OpenAI{BaseURL: srv.URL + "/v1", APIKey: "EMPTY", Label: "vllm"}
	req, err := p.NewRequest(context.Background(), &providers.Request{Model: "m", Prompt: "hi", MaxTokens: 8, Stream: true})
	if err != nil {
		panic(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	dec := p.NewDecoder()
	if err := dec.Reset(resp, &providers.Request{Stream: true}); err != nil {
		panic(err)
	}
	var d providers.Delta
	for {
		err := dec.Next(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("text=%q output=%v usage=%v finish=%q\n", d.Text, d.HasOutput(), d.Usage, d.FinishReason)
	}
	fmt.Println(p.Name())
	// Output:
	// text="Hel" output=true usage={3 1 0 0} finish=""
	// text="lo" output=true usage={3 2 0 0} finish=""
	// text="" output=false usage={0 0 0 0} finish="stop"
	// vllm
}
