package fake_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/fake"
)

func ExampleNewServer() {
	s := fake.NewServer(fake.Config{
		TTFT:         fake.Fixed(20 * time.Millisecond),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 6,
	})
	defer s.Close()

	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say something."}]}`
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var completion struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&completion); err != nil {
		panic(err)
	}
	fmt.Println(completion.Choices[0].Message.Content)
	fmt.Println(completion.Choices[0].FinishReason, completion.Usage.PromptTokens, completion.Usage.CompletionTokens)
	// Output:
	// Enim felis enim irure magna enim.
	// stop 4 6
}

func ExampleServer_Records() {
	s := fake.NewServer(fake.Config{
		TTFT:         fake.Fixed(20 * time.Millisecond),
		ITL:          fake.Fixed(5 * time.Millisecond),
		OutputTokens: 3,
		Record:       true,
	})
	defer s.Close()

	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}`
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// A client would time each event here.
	}
	resp.Body.Close()

	rec := s.Records()[0]
	fmt.Println(rec.Text)
	fmt.Println(rec.Scheduled)
	for i, sent := range rec.Sent {
		fmt.Println(!sent.Before(rec.Start.Add(rec.Scheduled[i])))
	}
	// Output:
	// Enim felis enim
	// [20ms 25ms 30ms]
	// true
	// true
	// true
}

func ExampleResponder() {
	client := &http.Client{Transport: fake.NewResponder(fake.Config{OutputTokens: 2})}
	body := `{"model":"gpt-4o-mini","input":"hi","stream":true}`
	resp, err := client.Post("http://fake.test/v1/responses", "application/json", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if event, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			fmt.Println(event)
		}
	}
	// Output:
	// response.created
	// response.in_progress
	// response.output_item.added
	// response.content_part.added
	// response.output_text.delta
	// response.output_text.delta
	// response.output_text.done
	// response.content_part.done
	// response.output_item.done
	// response.completed
}

func ExampleFault() {
	r := fake.NewResponder(fake.Config{
		OutputTokens: 4,
		Record:       true,
		FaultFunc: func(seq uint64) fake.Fault {
			if seq == 1 {
				return fake.FaultDisconnect
			}
			return fake.NoFault
		},
	})
	client := &http.Client{Transport: r}
	body := `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"stream":true}`
	for range 2 {
		req, err := http.NewRequest(http.MethodPost, "http://fake.test/v1/messages", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		req.Header.Set("X-Api-Key", "sk-ant-test")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, err)
	}
	for _, rec := range r.Records() {
		fmt.Printf("%q: %d content events sent, text %q, err: %v\n", rec.Fault, len(rec.Sent), rec.Text, rec.Err)
	}
	// Output:
	// 200 <nil>
	// 200 unexpected EOF
	// "": 4 content events sent, text "Enim felis enim irure", err: <nil>
	// "disconnect": 2 content events sent, text "Luctus proident", err: fake: connection cut by a Disconnect fault
}
