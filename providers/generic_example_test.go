package providers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/llm-latency-lens/lens/providers"
)

// famPrintDeltas sends p's request for r and prints each Delta.
func famPrintDeltas(p providers.Provider, r *providers.Request) {
	req, err := p.NewRequest(context.Background(), r)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	dec := p.NewDecoder()
	if err := dec.Reset(resp, r); err != nil {
		fmt.Println(err)
		return
	}
	var d providers.Delta
	for {
		err := dec.Next(&d)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("text=%q reasoning=%q output=%v usage=%v finish=%q\n", d.Text, d.Reasoning, d.HasOutput(), d.Usage, d.FinishReason)
	}
}

// Ollama's native chat API, /api/chat, streams NDJSON: one JSON object per
// line, the last with "done":true and the token counts.
func ExampleGeneric_ollama() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s %s\n", r.Method, r.URL.Path, body)
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprintln(w, `{"model":"llama3.2","message":{"role":"assistant","content":"","thinking":"Easy."},"done":false}`)
		fmt.Fprintln(w, `{"model":"llama3.2","message":{"role":"assistant","content":"Hel"},"done":false}`)
		fmt.Fprintln(w, `{"model":"llama3.2","message":{"role":"assistant","content":"lo"},"done":false}`)
		fmt.Fprintln(w, `{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":3}`)
	}))
	defer srv.Close()

	p := &providers.Generic{
		Label: "ollama-native",
		URL:   srv.URL + "/api/chat",
		Body: `{"model":{{model}},"messages":{{messages}},"stream":{{stream}},` +
			`"options":{"num_predict":{{max_tokens}},"temperature":{{temperature}}}}`,
		Format:           "ndjson",
		TextPath:         "message.content",
		ReasoningPath:    "message.thinking",
		InputTokensPath:  "prompt_eval_count",
		OutputTokensPath: "eval_count",
		FinishPath:       "done_reason",
		DonePath:         "done",
		ErrorPath:        "error",
	}
	famPrintDeltas(p, &providers.Request{Model: "llama3.2", Prompt: "hi", MaxTokens: 8, Stream: true})
	// Output:
	// POST /api/chat {"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"options":{"num_predict":8}}
	// text="" reasoning="Easy." output=true usage={0 0 0 0} finish=""
	// text="Hel" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="lo" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="" reasoning="" output=false usage={26 3 0 0} finish="stop"
}

// Hugging Face TGI's native /generate_stream sends SSE ("data:" without
// the space, no "[DONE]"); its last event is the special end-of-text token,
// with the generated text and the details.
func ExampleGeneric_tgi() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s %s\n", r.Method, r.URL.Path, body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data:{"index":1,"token":{"id":15043,"text":"Hello","logprob":-0.5,"special":false},"generated_text":null,"details":null}`+"\n\n")
		fmt.Fprint(w, `data:{"index":2,"token":{"id":3186,"text":" world","logprob":-0.2,"special":false},"generated_text":null,"details":null}`+"\n\n")
		fmt.Fprint(w, `data:{"index":3,"token":{"id":2,"text":"</s>","logprob":-0.1,"special":true},"generated_text":"Hello world","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null}}`+"\n\n")
	}))
	defer srv.Close()

	temp := 0.5
	p := &providers.Generic{
		Label: "tgi-native",
		URL:   srv.URL + "/generate_stream",
		Body: `{"inputs":{{prompt}},"parameters":{"max_new_tokens":{{max_tokens}},` +
			`"temperature":{{temperature}},"details":true}}`,
		TextPath:         "token.text",
		SpecialPath:      "token.special",
		OutputTokensPath: "details.generated_tokens",
		FinishPath:       "details.finish_reason",
		ErrorPath:        "error",
	}
	famPrintDeltas(p, &providers.Request{Prompt: "Say hello", Temperature: &temp, Stream: true})
	// Output:
	// POST /generate_stream {"inputs":"Say hello","parameters":{"temperature":0.5,"details":true}}
	// text="Hello" reasoning="" output=true usage={0 0 0 0} finish=""
	// text=" world" reasoning="" output=true usage={0 0 0 0} finish=""
	// text="" reasoning="" output=false usage={0 3 0 0} finish="eos_token"
}
