package fake_test

import (
	"bufio"
	"encoding/json"
	"fmt"
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
