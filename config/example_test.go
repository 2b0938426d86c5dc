package config_test

import (
	"context"
	"fmt"
	"log"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
)

// Load a configuration file and run its matrix: each scenario against each
// provider and model. A Builder serves the providers of type fake
// in-process.
func ExampleLoad() {
	cfg, err := config.Load("../examples/quickstart.yaml")
	if err != nil {
		log.Fatal(err)
	}
	var fakes config.Builder
	defer fakes.Close()
	runs, err := cfg.Runs(fakes.Build)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		sc := r.Scenario
		sc.Requests, sc.Warmup = 5, 0 // a short run for the example
		res, err := lens.Run(context.Background(), sc)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s on %s/%s: %d of %d requests succeeded\n", sc.Name, r.Provider.Name, r.Model, res.Succeeded, res.Total)
	}
	// Output:
	// chat-concurrency-8 on fake/fake-model: 5 of 5 requests succeeded
	// open-loop-50rps on fake/fake-model: 5 of 5 requests succeeded
}

// An invalid file gives every problem at once, each with its line.
func ExampleParse() {
	_, err := config.Parse([]byte(`providers:
  - name: openai
    models: [gpt-4o-mini]
workload:
  scenarios:
    - name: chat
      prompt: Hello
      requests: -5
      concurency: 4
`), "bench.yaml")
	fmt.Println(err)
	// Output:
	// bench.yaml:8: workload.scenarios[0].requests: must be > 0 (or 0 with duration_secs set), got -5
	// bench.yaml:9: workload.scenarios[0].concurency: unknown field (did you mean "concurrency"?)
}
