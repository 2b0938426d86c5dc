package config

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llm-latency-lens/lens"

	"go.yaml.in/yaml/v3"

	"github.com/llm-latency-lens/lens/providers"
)

// seedEnv sets the variables the LLM-Latency-Lens example configuration refers to.
func seedEnv(t *testing.T) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "sk-test-openai-0001")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test-0002")
}

// seedMatrix is the matrix of the LLM-Latency-Lens example configuration,
// scenario/provider/model, in its order: scenarios outermost, then
// providers, then models.
var seedMatrix = []string{
	"short_prompt_high_concurrency/openai/gpt-4-turbo-preview",
	"short_prompt_high_concurrency/openai/gpt-3.5-turbo",
	"short_prompt_high_concurrency/anthropic/claude-3-opus-20240229",
	"short_prompt_high_concurrency/anthropic/claude-3-sonnet-20240229",
	"long_prompt_streaming/openai/gpt-4-turbo-preview",
	"long_prompt_streaming/openai/gpt-3.5-turbo",
	"long_prompt_streaming/anthropic/claude-3-opus-20240229",
	"long_prompt_streaming/anthropic/claude-3-sonnet-20240229",
}

func mustLoad(t *testing.T, path string) *File {
	t.Helper()
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return c
}

func mustRuns(t *testing.T, c *File, build func(Provider, string) (providers.Provider, error)) []Run {
	t.Helper()
	runs, err := c.Runs(build)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return runs
}

func TestConfigSeedExample(t *testing.T) {
	seedEnv(t)
	c := mustLoad(t, "testdata/seed.yaml")

	if c.Version != "1.0" {
		t.Errorf("Version = %q", c.Version)
	}
	if got := c.Providers[1].Auth; got.Type != "api_key" || got.Header != "x-api-key" || got.Token.Value() != "sk-ant-test-0002" {
		t.Errorf("providers[1].auth = %#v (token %q)", got, got.Token.Value())
	}
	if s := c.Providers[0].Settings.(*OpenAISettings); *s != (OpenAISettings{}) {
		t.Errorf("organization_id: null is set: %+v", s)
	}
	if got := c.Output.Export; len(got) != 3 || got[0] != (Export{Format: "json", Path: "./results/benchmark_{timestamp}.json", Pretty: true}) ||
		got[2].Codec != "messagepack" {
		t.Errorf("output.export = %+v", got)
	}
	if db := c.Output.Database; db.Enabled || db.Type != "influxdb" || db.Connection.(*InfluxDBConnection).Database != "llm_benchmarks" {
		t.Errorf("output.database = %+v", db)
	}

	runs := mustRuns(t, c, nil)
	if len(runs) != 8 {
		t.Fatalf("got %d runs, want 2 scenarios × 2 providers × 2 models = 8", len(runs))
	}
	for i, want := range seedMatrix {
		r := runs[i]
		if got := r.Scenario.Name + "/" + r.Provider.Name + "/" + r.Model; got != want || r.Scenario.Model != r.Model {
			t.Errorf("run %d = %s (scenario's model %s), want %s", i, got, r.Scenario.Model, want)
		}
		if r.Scenario.Provider.Name() != r.Provider.Name {
			t.Errorf("run %d: provider name %q", i, r.Scenario.Provider.Name())
		}
	}

	for i, r := range runs {
		s := r.Scenario
		wantReq, wantConc, wantRate := 100, 20, 0.0
		wantPrompt := "What is the capital of France?"
		if i >= 4 {
			wantReq, wantConc, wantRate = 50, 5, 2.0
			wantPrompt = "You are an expert programmer. Write a Python function to calculate Fibonacci.\nProvide clean, well-commented code with examples.\n"
		}
		if s.Requests != wantReq || s.Concurrency != wantConc || s.Rate != wantRate {
			t.Errorf("run %d: requests %d concurrency %d rate %v, want %d %d %v", i, s.Requests, s.Concurrency, s.Rate, wantReq, wantConc, wantRate)
		}
		if s.Prompt != wantPrompt {
			t.Errorf("run %d: prompt %q, want %q", i, s.Prompt, wantPrompt)
		}
		if s.Warmup != 5 || s.MaxTokens != 500 || s.NoStream || s.Timeout != 30*time.Second {
			t.Errorf("run %d: warmup %d max_tokens %d nostream %v timeout %v", i, s.Warmup, s.MaxTokens, s.NoStream, s.Timeout)
		}
		if s.Temperature == nil || *s.Temperature != 0.7 || s.TopP == nil || *s.TopP != 0.9 {
			t.Errorf("run %d: temperature %v top_p %v", i, s.Temperature, s.TopP)
		}
		wantRetry := lens.Retry{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: 30 * time.Second, Multiplier: 2}
		if s.Retry != wantRetry {
			t.Errorf("run %d: retry %+v, want %+v", i, s.Retry, wantRetry)
		}
		wantHTTP := lens.HTTPOptions{PoolSize: 100, ConnectTimeout: 5 * time.Second, KeepAlive: 90 * time.Second}
		if s.HTTP != wantHTTP {
			t.Errorf("run %d: http %+v, want %+v", i, s.HTTP, wantHTTP)
		}
		if s.Gate != runs[0].Scenario.Gate || s.Gate.Cap() != 50 {
			t.Errorf("run %d: gate %p (cap %d) is not the shared gate of 50", i, s.Gate, s.Gate.Cap())
		}
		if s.Limiter != nil {
			t.Errorf("run %d: limiter %v without a rate_limit", i, s.Limiter)
		}
	}

	oa, ok := runs[0].Scenario.Provider.(*providers.OpenAI)
	if !ok || oa.BaseURL != "https://api.openai.com/v1" || oa.APIKey != "sk-test-openai-0001" || oa.Label != "openai" {
		t.Errorf("openai provider = %#v", runs[0].Scenario.Provider)
	}
	an, ok := runs[2].Scenario.Provider.(*providers.Anthropic)
	if !ok || an.BaseURL != "https://api.anthropic.com/v1" || an.APIKey != "sk-ant-test-0002" || an.Version != "2023-06-01" || an.Header != nil {
		t.Errorf("anthropic provider = %#v", runs[2].Scenario.Provider)
	}
	// One provider per provider and model, shared by the scenarios.
	if runs[0].Scenario.Provider != runs[4].Scenario.Provider {
		t.Error("the scenarios do not share the provider of openai/gpt-4-turbo-preview")
	}
	// Prices: gpt-3.5-turbo and claude-3-opus are in DefaultPricing.
	if p := runs[1].Price; p == nil || *p != lens.DefaultPricing["openai"]["gpt-3.5-turbo"] || runs[1].Scenario.Price != p {
		t.Errorf("gpt-3.5-turbo price = %v", p)
	}
}

// comparableRuns strips what differs between two loads of one
// configuration (the identity of gates and limiters, and where the values
// were in the file) after checking that they are shared alike.
func comparableRuns(t *testing.T, runs []Run) []Run {
	t.Helper()
	out := make([]Run, len(runs))
	limiters := map[string]*lens.Limiter{}
	for i, r := range runs {
		if r.Scenario.Gate != runs[0].Scenario.Gate {
			t.Errorf("run %d has a gate of its own", i)
		}
		if l, seen := limiters[r.Provider.Name]; seen && l != r.Scenario.Limiter {
			t.Errorf("run %d does not share the limiter of provider %s", i, r.Provider.Name)
		}
		limiters[r.Provider.Name] = r.Scenario.Limiter
		if (r.Scenario.Limiter != nil) != (r.Provider.RateLimit != RateLimit{}) {
			t.Errorf("run %d: limiter %v for rate_limit %+v", i, r.Scenario.Limiter, r.Provider.RateLimit)
		}
		r.Scenario.Gate, r.Scenario.Limiter = nil, nil
		out[i] = r
	}
	return out
}

func TestConfigJSONTwin(t *testing.T) {
	seedEnv(t)
	fromYAML := mustRuns(t, mustLoad(t, "testdata/seed.yaml"), nil)
	fromJSON := mustRuns(t, mustLoad(t, "testdata/seed.json"), nil)
	if a, b := comparableRuns(t, fromYAML), comparableRuns(t, fromJSON); !reflect.DeepEqual(a, b) {
		t.Errorf("seed.json gives other runs than seed.yaml:\nyaml %+v\njson %+v", a, b)
	}

	// The full example, turned into JSON by another YAML reader, and read
	// from content (no extension).
	data, err := os.ReadFile("../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cy, err := Parse(data, "full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cj, err := Parse(js, "full-config")
	if err != nil {
		t.Fatal(err)
	}
	ry := comparableRuns(t, mustRuns(t, cy, fakeBuild))
	rj := comparableRuns(t, mustRuns(t, cj, fakeBuild))
	if !reflect.DeepEqual(ry, rj) {
		t.Errorf("full.yaml as JSON gives other runs:\nyaml %+v\njson %+v", ry, rj)
	}
}

// fakeBuild builds a fake provider as the CLI does: an openai
// configuration pointed at a server.
func fakeBuild(pc Provider, model string) (providers.Provider, error) {
	if pc.Type == "fake" {
		pc.Type, pc.Endpoint, pc.Settings = "openai", "http://127.0.0.1:9/v1", nil
	}
	return NewProvider(pc, model)
}

// configErr parses src and returns its problems as Error lists them.
func configErr(t *testing.T, filename, src string) []string {
	t.Helper()
	c, err := Parse([]byte(src), filename)
	if err == nil {
		t.Fatalf("no error; config %+v", c)
	}
	if c != nil {
		t.Errorf("a config came with the error")
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not a *Error: %v", err, err)
	}
	if len(ce.Problems) == 0 {
		t.Fatalf("Error without problems")
	}
	return strings.Split(err.Error(), "\n")
}

// problemCase is a broken configuration and the problems it must give, as
// Error lists them.
type problemCase struct {
	name, src string
	want      []string
}

// checkProblems parses each case's src as filename and compares its
// problems with the case's.
func checkProblems(t *testing.T, filename string, cases []problemCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := configErr(t, filename, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	checkProblems(t, "c.yaml", []problemCase{{
		name: "missing providers",
		src: `workload:
  scenarios:
    - name: s
      prompt: hi
      requests: 10
`,
		want: []string{`c.yaml:1: providers: at least one provider is required`},
	}, {
		name: "unknown provider type",
		src: `providers:
  - name: openai
    type: opneai
    models: [gpt-4o]
workload:
  scenarios:
    - name: s
      prompt: hi
      requests: 10
`,
		want: []string{`c.yaml:3: providers[0].type: unknown type "opneai" (did you mean "openai"?); the types are openai, openai_compatible, responses, anthropic, gemini, vertex, azure, cohere, generic or fake`},
	}, {
		name: "bad URLs",
		src: `providers:
  - name: openai
    endpoint: api.openai.com/v1
    models: [gpt-4o]
  - name: vllm
    endpoint: "ftp://user:hunter2@gpu-box/v1"
    models: [llama]
  - name: ollama
    endpoint: "http://[::1/v1"
    models: [llama]
workload:
  scenarios:
    - name: s
      prompt: hi
      requests: 10
`,
		want: []string{
			`c.yaml:3: providers[0].endpoint: not a valid URL: no scheme (want http:// or https://)`,
			`c.yaml:6: providers[1].endpoint: not a valid URL: scheme "ftp" (want http or https)`,
			`c.yaml:9: providers[2].endpoint: not a valid URL`,
		},
	}, {
		name: "negative requests, concurrency 0 without rate, negative rate, arrivals without rate, requests and duration",
		src: `providers:
  - name: openai
    models: [gpt-4o]
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: -5
    - name: b
      prompt: hi
      requests: 10
      concurrency: 0
    - name: c
      prompt: hi
      requests: 10
      rate_limit: -2
    - name: d
      prompt: hi
      requests: 10
      arrivals: poisson
    - name: e
      prompt: hi
      requests: 10
      duration_secs: 5
    - name: f
      prompt: hi
`,
		want: []string{
			`c.yaml:8: workload.scenarios[0].requests: must be > 0 (or 0 with duration_secs set), got -5`,
			`c.yaml:12: workload.scenarios[1].concurrency: must be > 0 without a rate_limit (0 means no cap, only for an open loop)`,
			`c.yaml:16: workload.scenarios[2].rate_limit: must be a finite number >= 0, got -2`,
			`c.yaml:20: workload.scenarios[3].arrivals: needs a rate_limit: arrivals shape the open loop`,
			`c.yaml:24: workload.scenarios[4].duration_secs: set requests or duration_secs, not both`,
			`c.yaml:25: workload.scenarios[5].requests: must be > 0, or duration_secs set`,
		},
	}, {
		name: "unknown template, unfilled placeholder, unknown variable",
		src: `providers:
  - name: openai
    models: [gpt-4o]
workload:
  prompts:
    - name: simple_question
      template: "{{question}} Answer in {{ language }}."
  scenarios:
    - name: a
      prompt:
        template: simple_questoin
      requests: 10
    - name: b
      prompt:
        template: simple_question
        variables:
          question: Why?
          tone: terse
      requests: 10
`,
		want: []string{
			`c.yaml:11: workload.scenarios[0].prompt.template: unknown template "simple_questoin" (did you mean "simple_question"?); workload.prompts has "simple_question"`,
			`c.yaml:16: workload.scenarios[1].prompt.variables: placeholder {{language}} of template "simple_question" is not filled (set variables.language)`,
			`c.yaml:18: workload.scenarios[1].prompt.variables.tone: template "simple_question" has no placeholder {{tone}}`,
		},
	}, {
		name: "bad distributions",
		src: `providers:
  - name: openai
    models: [gpt-4o]
workload:
  request_params:
    max_tokens: uniform(64, 32)
  scenarios:
    - name: a
      prompt: hi
      requests: 10
      max_tokens: normall(5, 1)
    - name: b
      prompt:
        tokens: lognormal(0, 1)
      requests: 10
      max_tokens: "lots"
`,
		want: []string{
			`c.yaml:6: workload.request_params.max_tokens: uniform: hi must be >= lo`,
			`c.yaml:11: workload.scenarios[0].max_tokens: unknown distribution "normall" (did you mean "normal"?): must be a number or one of fixed(v), uniform(lo, hi), normal(mean, stddev), lognormal(median, sigma)`,
			`c.yaml:14: workload.scenarios[1].prompt.tokens: lognormal: median must be > 0`,
			`c.yaml:16: workload.scenarios[1].max_tokens: must be a number or one of fixed(v), uniform(lo, hi), normal(mean, stddev), lognormal(median, sigma): "lots" is not a number`,
		},
	}, {
		name: "unknown fields and wrong types",
		src: `providers:
  - name: openai
    models: [gpt-4o]
    setings: {}
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: "ten"
      concurency: 4
execution:
  http:
    http2: "yes"
    pool_size: 1.5
`,
		want: []string{
			`c.yaml:4: providers[0].setings: unknown field (did you mean "settings"?)`,
			`c.yaml:9: workload.scenarios[0].requests: must be a whole number, got a string`,
			`c.yaml:10: workload.scenarios[0].concurency: unknown field (did you mean "concurrency"?)`,
			`c.yaml:13: execution.http.http2: must be true or false, got a string`,
			`c.yaml:14: execution.http.pool_size: must be a whole number, got a fraction`,
		},
	}, {
		name: "unset environment variable, unterminated reference",
		src: `providers:
  - name: openai
    models: [gpt-4o]
    auth:
      token: ${LENS_TEST_SURELY_UNSET}
    endpoint: "${LENS_TEST_SURELY_UNSET_URL:-http://localhost:8000/v1}"
workload:
  scenarios:
    - name: a
      prompt: "${LENS_TEST_SURELY_UNSET_PROMPT"
      requests: ${LENS_TEST_SURELY_UNSET_N:-12}
`,
		want: []string{
			`c.yaml:5: providers[0].auth.token: environment variable LENS_TEST_SURELY_UNSET is not set (write ${LENS_TEST_SURELY_UNSET:-default} for a default)`,
			`c.yaml:10: workload.scenarios[0].prompt: unterminated ${ (write $${ for a literal ${)`,
		},
	}, {
		name: "duplicates, pricing for a model not listed, empty models, unknown provider in a scenario",
		src: `providers:
  - name: openai
    models: [gpt-4o, gpt-4o]
    pricing:
      gpt-4o: {input: 2.5, output: 10}
      gpt-4.1: {input: 2, output: 8}
  - name: openai
    models: []
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: 10
    - name: a
      prompt: hi
      requests: 10
      providers: [opnai]
  prompts:
    - {name: p, template: one}
    - {name: p, template: two}
  prompt_sets:
    - {name: s, prompts: [x]}
    - {name: s, prompts: [y]}
    - {name: " ", prompts: [z]}
`,
		want: []string{
			`c.yaml:3: providers[0].models[1]: duplicate model "gpt-4o"`,
			`c.yaml:6: providers[0].pricing["gpt-4.1"]: model "gpt-4.1" is not in providers[0].models (did you mean "gpt-4o"?)`,
			`c.yaml:7: providers[1].name: duplicate provider name "openai" (also providers[0])`,
			`c.yaml:8: providers[1].models: must list at least one model`,
			`c.yaml:14: workload.scenarios[1].name: duplicate scenario name "a" (also workload.scenarios[0])`,
			`c.yaml:17: workload.scenarios[1].providers[0]: no provider is named "opnai" (did you mean "openai"?)`,
			`c.yaml:20: workload.prompts[1].name: duplicate prompt name "p" (also workload.prompts[0])`,
			`c.yaml:23: workload.prompt_sets[1].name: duplicate prompt set name "s" (also workload.prompt_sets[0])`,
			`c.yaml:24: workload.prompt_sets[2].name: required`,
		},
	}, {
		name: "provider kinds",
		src: `providers:
  - name: vertex
    models: [gemini-2.5-flash]
  - name: azure
    models: [dep]
  - name: fake
    endpoint: http://localhost:1/v1
    models: [m]
  - name: openai
    auth: {type: api_key, token: x}
    models: [gpt-4o]
  - name: gemini
    models: [gemini-2.5-flash]
    settings:
      project: p
  - name: mystery
    models: [m]
  - name: openai-compat
    type: openai_compatible
    models: [m]
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: 10
`,
		want: []string{
			`c.yaml:2: providers[0].settings.project: required for vertex: the Google Cloud project`,
			`c.yaml:4: providers[1].endpoint: required for azure: the resource URL, https://{resource}.openai.azure.com`,
			`c.yaml:7: providers[2].endpoint: must be empty for fake: the CLI serves the fake in-process`,
			`c.yaml:10: providers[3].auth.header: required with type api_key: openai takes a bearer token, so name the header that carries the key`,
			`c.yaml:15: providers[4].settings.project: unknown setting for type gemini (project is a setting of openai, openai_compatible, responses or vertex)`,
			`c.yaml:16: providers[5].type: required: the type cannot be inferred from the name "mystery"; set one of openai, openai_compatible, responses, anthropic, gemini, vertex, azure, cohere, generic or fake`,
			`c.yaml:18: providers[6].endpoint: required for an OpenAI-compatible server (known by default only for vllm, ollama, llamacpp and tgi)`,
		},
	}, {
		name: "settings types and ranges",
		src: `providers:
  - name: fake
    models: [m]
    settings:
      ttft_ms: uniform(50, 10)
      itl_ms: fast
      output_tokens: -3
      ttft: 5
  - name: azure
    endpoint: https://r.openai.azure.com
    models: [d]
    settings: {v1: "maybe", api_version: [1]}
  - name: openai
    models: [gpt-4o]
    settings: {max_tokens_field: max_output_tokens}
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: 10
`,
		want: []string{
			`c.yaml:5: providers[0].settings.ttft_ms: uniform: hi must be >= lo`,
			`c.yaml:6: providers[0].settings.itl_ms: must be a number or one of fixed(v), uniform(lo, hi), normal(mean, stddev), lognormal(median, sigma): "fast" is not a number`,
			`c.yaml:7: providers[0].settings.output_tokens: must be >= 0`,
			`c.yaml:8: providers[0].settings.ttft: unknown setting for type fake (did you mean "ttft_ms"?)`,
			`c.yaml:12: providers[1].settings.v1: must be true or false, got a string`,
			`c.yaml:12: providers[1].settings.api_version: must be a string, got a list`,
			`c.yaml:15: providers[2].settings.max_tokens_field: must be max_tokens or max_completion_tokens`,
		},
	}, {
		name: "fake settings and faults",
		src: `providers:
  - name: fake
    models: [m]
    settings:
      format: antropic
      prefill_per_token_ms: -1
      faults:
        rate_limit: 2
        hiccup: 0.1
        disconnect: x
        retry_after_ms: -5
  - name: fake2
    type: fake
    models: [m]
    settings:
      faults: [1]
  - name: fake3
    type: fake
    models: [m]
    settings: {faults: {stall: 0.6, stream_error: 0.6}}
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: 10
`,
		want: []string{
			`c.yaml:5: providers[0].settings.format: unknown wire format "antropic" (did you mean "anthropic"?) (want anthropic, azure, cohere, gemini, openai or responses)`,
			`c.yaml:6: providers[0].settings.prefill_per_token_ms: must be >= 0`,
			`c.yaml:8: providers[0].settings.faults.rate_limit: 2 is not a rate in 0..1`,
			`c.yaml:9: providers[0].settings.faults.hiccup: unknown fault (want disconnect, malformed, overloaded, rate_limit, server_error, stall, stream_error, unavailable, retry_after_ms or stall_for_ms)`,
			`c.yaml:10: providers[0].settings.faults.disconnect: must be a number, got a string`,
			`c.yaml:11: providers[0].settings.faults.retry_after_ms: must be >= 0`,
			`c.yaml:16: providers[1].settings.faults: must be a mapping of fault names to rates (disconnect, malformed, overloaded, rate_limit, server_error, stall, stream_error, unavailable), retry_after_ms and stall_for_ms, got a list`,
			`c.yaml:20: providers[2].settings.faults: the rates sum to 1.2, more than 1`,
		},
	}, {
		name: "execution, output and request_params ranges",
		src: `providers:
  - name: openai
    models: [gpt-4o]
workload:
  request_params:
    top_p: 1.5
    timeout: 30
  scenarios:
    - name: a
      prompt: hi
      requests: 10
      warmup: -1
      slo: {ttft_ms: -1}
execution:
  max_concurrency: -1
  retry: {max_attempts: -1, initial_backoff_ms: 500, max_backoff_ms: 100, multiplier: 0.5, jitter: 2}
  timeouts: {request_secs: 60, connect_ms: 1e300}
output:
  console: {format: tabel}
  export:
    - {format: csv, path: out.csv, codec: bincode}
    - {path: x}
  database: {enabled: true}
`,
		want: []string{
			`c.yaml:6: workload.request_params.top_p: must be within 0..1, got 1.5`,
			`c.yaml:7: workload.request_params.timeout: conflicts with execution.timeouts.request_secs (set one)`,
			`c.yaml:12: workload.scenarios[0].warmup: must be >= 0, got -1`,
			`c.yaml:13: workload.scenarios[0].slo.ttft_ms: must be >= 0, got -1ms`,
			`c.yaml:15: execution.max_concurrency: must be >= 0 (0: no cap)`,
			`c.yaml:16: execution.retry.max_attempts: must be >= 0, got -1`,
			`c.yaml:16: execution.retry.max_backoff_ms: must be >= execution.retry.initial_backoff_ms (500ms), got 100ms`,
			`c.yaml:16: execution.retry.multiplier: must be >= 1 (0: the default, 2), got 0.5`,
			`c.yaml:16: execution.retry.jitter: must be within 0..1, got 2`,
			`c.yaml:17: execution.timeouts.connect_ms: too large`,
			`c.yaml:19: output.console.format: unknown format "tabel" (did you mean "table"?); want table, json or minimal`,
			`c.yaml:21: output.export[0].codec: only for format binary`,
			`c.yaml:22: output.export[1].format: required`,
			`c.yaml:23: output.database.type: required when the database is enabled`,
		},
	}, {
		name: "the engine's rules in the file's words: sessions, traces, shards",
		src: `providers:
  - name: openai
    models: [gpt-4o]
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: 10
      rate_limit: 5
      session: {turns: 3}
    - name: b
      prompt: {variables: {x: y}}
      rate_limit: 5
      session: {turns: -1, think_time_secs: 2}
      trace: {file: testdata/no-such-trace.csv, speed: -1}
    - name: c
      prompt: hi
      duration_secs: 5
      session: {think_time_secs: 1}
    - name: d
      requests: 500
      concurrency: 0
      trace: {file: ../examples/trace-sample.csv}
execution:
  shard: 1/4
`,
		want: []string{
			`c.yaml:10: workload.scenarios[0].session.turns: sessions run in closed loop (one conversation per worker); rate_limit must be 0`,
			`c.yaml:12: workload.scenarios[1].prompt.variables: not with trace, whose prompts are synthetic`,
			`c.yaml:13: workload.scenarios[1].rate_limit: not with trace, which sets the timing and the lengths of every request`,
			`c.yaml:14: workload.scenarios[1].session.turns: must be >= 0, got -1`,
			`c.yaml:14: workload.scenarios[1].session.think_time_secs: set without session.turns`,
			`c.yaml:15: workload.scenarios[1].trace.file: trace: open testdata/no-such-trace.csv: no such file or directory`,
			`c.yaml:15: workload.scenarios[1].trace.speed: must be a finite number >= 0, got -1`,
			`c.yaml:19: workload.scenarios[2].session.think_time_secs: set without session.turns`,
			`c.yaml:21: workload.scenarios[3].requests: replays the first requests entries of the trace, which has only 200; got 500`,
			`c.yaml:25: execution.shard: a closed loop of 1 workers cannot be split 4 ways: concurrency must be at least the shard count`,
		},
	}, {
		name: "YAML syntax error",
		src:  "providers:\n  - name: openai\n    models: [gpt-4o\nworkload: {}\n",
		want: []string{`c.yaml:3: invalid YAML: did not find expected ',' or ']'`},
	}, {
		name: "YAML bad indentation",
		src:  "version: '1.0'\nworkload:\n  scenarios: []\n prompts: []\n",
		want: []string{`c.yaml:4: invalid YAML: did not find expected key`},
	}, {
		name: "YAML tab",
		src:  "version: '1.0'\nworkload:\n\tscenarios: []\n",
		want: []string{`c.yaml:3: invalid YAML: found character that cannot start any token`},
	}, {
		name: "not a mapping",
		src:  "- a\n- b\n",
		want: []string{`c.yaml:1: a configuration must be a mapping of version, providers, workload, execution and output, got a list`},
	}, {
		name: "duplicate key",
		src:  "providers:\n  - name: openai\n    name: again\n    models: [gpt-4o]\nworkload:\n  scenarios:\n    - {name: a, prompt: hi, requests: 1}\n",
		want: []string{`c.yaml:3: providers[0].name: duplicate key`},
	}, {
		name: "two documents",
		src:  "version: '1.0'\n---\nversion: '1.0'\n",
		want: []string{`c.yaml:2: a configuration file holds one YAML document (found a second after ---)`},
	}, {
		name: "version",
		src:  "version: \"2.0\"\nproviders: [{name: openai, models: [m]}]\nworkload: {scenarios: [{name: a, prompt: hi, requests: 1}]}\n",
		want: []string{`c.yaml:1: version: unsupported version "2.0" (this reads version 1.x)`},
	}, {
		name: "alias that contains itself",
		src:  "providers: &p [*p]\n",
		want: []string{`c.yaml:1: alias refers to a value that contains it`},
	}})
}

func TestConfigErrorsJSON(t *testing.T) {
	checkProblems(t, "c.json", []problemCase{{
		name: "value error has its line",
		src: `{
  "providers": [
    {"name": "openai", "models": ["gpt-4o"]}
  ],
  "workload": {"scenarios": [{"name": "a", "prompt": "hi", "requests": -1}]}
}
`,
		want: []string{`c.json:5: workload.scenarios[0].requests: must be > 0 (or 0 with duration_secs set), got -1`},
	}, {
		name: "type error and unknown field",
		src: `{
  "providers": [{"name": "openai", "models": "gpt-4o"}],
  "workload": {"scenarios": [{"name": "a", "prompt": "hi", "requests": 3,
    "concurrrency": 2}]}
}`,
		want: []string{
			`c.json:2: providers[0].models: must be a list, got a string`,
			`c.json:4: workload.scenarios[0].concurrrency: unknown field (did you mean "concurrency"?)`,
		},
	}, {
		name: "syntax error",
		src:  "{\n  \"providers\": [\n    {\"name\": \"openai\", \"models\": [\"gpt-4o\"],}\n  ]\n}\n",
		want: []string{`c.json:3: invalid JSON: invalid character '}' looking for beginning of object key string`},
	}, {
		name: "truncated",
		src:  "{\n  \"providers\": [\n",
		want: []string{`c.json:3: invalid JSON: unexpected end of file`},
	}, {
		name: "trailing data",
		src:  "{}\n{}\n",
		want: []string{`c.json:2: invalid JSON: data after the top-level value`},
	}})
}

// TestConfigSecretsNeverShown puts a credential where it belongs and in
// places where it does not, and looks for it in every output.
func TestConfigSecretsNeverShown(t *testing.T) {
	const secret = "sk-LEAKCHECK-9f8e7d"
	t.Setenv("LENS_TEST_KEY", secret)
	src := `providers:
  - name: openai
    endpoint: "http://user:` + secret + `@[bad/v1"
    auth: {token: "${LENS_TEST_KEY}"}
    headers: {X-Key: "${LENS_TEST_KEY}"}
    models: [gpt-4o]
  - name: anthropic
    auth: {token: [` + secret + `]}
    models: [claude-3-5-haiku]
workload:
  scenarios:
    - name: a
      prompt: hi
      requests: "` + secret + `"
      stream: ` + secret + `
execution:
  http: {http2: "` + secret + `"}
  seed: "${LENS_TEST_KEY}"
`
	lines := configErr(t, "c.yaml", src)
	all := strings.Join(lines, "\n")
	want := []string{
		`c.yaml:3: providers[0].endpoint: not a valid URL`,
		`c.yaml:8: providers[1].auth.token: must be a string, got a list`,
		`c.yaml:14: workload.scenarios[0].requests: must be a whole number, got a string`,
		`c.yaml:15: workload.scenarios[0].stream: must be true or false, got a string`,
		`c.yaml:17: execution.http.http2: must be true or false, got a string`,
		`c.yaml:18: execution.seed: must be a whole number (after expanding ${...})`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", all, strings.Join(want, "\n"))
	}
	if strings.Contains(all, secret) {
		t.Errorf("credential in the problems:\n%s", all)
	}

	// A valid configuration: the token is in it, but no printing shows it.
	c, err := Parse([]byte(`providers:
  - name: openai
    auth: {token: "${LENS_TEST_KEY}"}
    headers: {X-Key: "${LENS_TEST_KEY}"}
    models: [gpt-4o]
workload: {scenarios: [{name: a, prompt: hi, requests: 1}]}
output: {database: {type: influxdb, connection: {token: "${LENS_TEST_KEY}", password: "${LENS_TEST_KEY}"}}}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	influx := c.Output.Database.Connection.(*InfluxDBConnection)
	if c.Providers[0].Auth.Token.Value() != secret || c.Providers[0].Headers["X-Key"].Value() != secret ||
		influx.Token.Value() != secret || influx.Password.Value() != secret {
		t.Fatal("the token was not read")
	}
	js, _ := json.Marshal(c)
	ym, _ := yaml.Marshal(c)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "token", c.Providers[0].Auth.Token)
	runs := mustRuns(t, c, nil)
	for _, out := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v", *c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c), fmt.Sprintf("%s", c.Providers[0].Auth.Token),
		fmt.Sprintf("%q", c.Providers[0].Auth.Token), fmt.Sprintf("%+v", runs[0].Provider),
		fmt.Sprintf("%+v", c.Output.Database.Connection), fmt.Sprintf("%#v", c.Output.Database.Connection),
		string(js), string(ym), logged.String(),
	} {
		if strings.Contains(out, secret) {
			t.Errorf("credential printed: %s", out)
		}
	}
	if !strings.Contains(string(js), "[redacted]") {
		t.Errorf("JSON does not show the redaction: %s", js)
	}
	// It does reach the provider.
	if oa := runs[0].Scenario.Provider.(*providers.OpenAI); oa.APIKey != secret || oa.Header.Get("X-Key") != secret {
		t.Errorf("provider did not get the credential")
	}
}

func TestConfigEnvExpansion(t *testing.T) {
	t.Setenv("LENS_T_HOST", "gpu-7")
	t.Setenv("LENS_T_N", "42")
	t.Setenv("LENS_T_EMPTY", "")
	t.Setenv("LENS_T_STREAM", "false")
	c, err := Parse([]byte(`providers:
  - name: vllm
    endpoint: "http://${LENS_T_HOST}:${LENS_T_PORT:-8000}/v1/"
    models: ["${LENS_T_MODEL:-llama}"]
workload:
  scenarios:
    - name: a
      prompt: "cost is $${PRICE} and ${LENS_T_EMPTY:-fallback}/${LENS_T_EMPTY}."
      requests: ${LENS_T_N}
      concurrency: "${LENS_T_CONC:-3}"
      stream: ${LENS_T_STREAM}
      rate_limit: ${LENS_T_RATE:-2.5}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pc := c.Providers[0]
	if pc.Endpoint != "http://gpu-7:8000/v1" || pc.Models[0] != "llama" || pc.Type != "openai_compatible" {
		t.Errorf("provider = %+v", pc)
	}
	s := c.Workload.Scenarios[0]
	if s.Prompt.Text != "cost is ${PRICE} and fallback/." {
		t.Errorf("prompt = %q", s.Prompt.Text)
	}
	if s.Requests != 42 || *s.Concurrency != 3 || *s.Stream || s.RateLimit != 2.5 {
		t.Errorf("scenario = %+v", s)
	}

	// Numbers from the environment are still checked.
	t.Setenv("LENS_T_MANY", "many")
	got := configErr(t, "c.yaml", "providers: [{name: openai, models: [m]}]\nworkload:\n  scenarios:\n    - {name: a, prompt: hi, requests: \"${LENS_T_MANY}\"}\n")
	want := []string{`c.yaml:4: workload.scenarios[0].requests: must be a whole number (after expanding ${...})`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	for _, tt := range []struct{ in, out, err string }{
		{"plain", "plain", ""},
		{"${LENS_T_HOST}", "gpu-7", ""},
		{"a${LENS_T_HOST}b${LENS_T_N}c", "agpu-7b42c", ""},
		{"${LENS_T_UNSET_X:-}", "", ""},
		{"${LENS_T_EMPTY}", "", ""},
		{"$${LENS_T_HOST}", "${LENS_T_HOST}", ""},
		{"$LENS_T_HOST", "$LENS_T_HOST", ""},
		{"${LENS_T_UNSET_X}", "", "environment variable LENS_T_UNSET_X is not set"},
		{"${}", "", "invalid environment variable reference"},
		{"${1A}", "", "invalid environment variable reference"},
		{"${LENS_T_HOST", "", "unterminated ${"},
	} {
		out, err := expandEnv(tt.in, os.LookupEnv)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expandEnv(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || out != tt.out {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, out, err, tt.out)
		}
	}
}

func TestConfigProviderTypes(t *testing.T) {
	tests := []struct {
		name, typ      string
		wantType       string
		wantEndpoint   string
		wantInferError bool
	}{
		{"openai", "", "openai", "", false},
		{"openai-eu", "", "openai", "", false},
		{"anthropic", "", "anthropic", "", false},
		{"google", "", "gemini", "", false},
		{"gemini_flash", "", "gemini", "", false},
		{"vllm", "", "openai_compatible", "http://localhost:8000/v1", false},
		{"vllm-a100", "", "openai_compatible", "http://localhost:8000/v1", false},
		{"ollama", "", "openai_compatible", "http://localhost:11434/v1", false},
		{"llama.cpp", "", "openai_compatible", "http://localhost:8080/v1", false},
		{"tgi", "", "openai_compatible", "http://localhost:8080/v1", false},
		{"local", "ollama", "openai_compatible", "http://localhost:11434/v1", false},
		{"ollama", "openai-compatible", "openai_compatible", "http://localhost:11434/v1", false},
		{"mine", "Google", "gemini", "", false},
		{"mine", "responses", "responses", "", false},
		{"fake", "", "fake", "", false},
		{"cohere", "", "cohere", "", false},
		{"mistral", "", "", "", true},
	}
	for _, tt := range tests {
		typ, flavor, err := resolveType(tt.typ, tt.name)
		if (err != nil) != tt.wantInferError || typ != tt.wantType || localEndpoints[flavor] != tt.wantEndpoint {
			t.Errorf("resolveType(%q, %q) = %q, %q (endpoint %q), %v; want %q, endpoint %q", tt.typ, tt.name, typ, flavor,
				localEndpoints[flavor], err, tt.wantType, tt.wantEndpoint)
		}
	}

	c, err := Parse([]byte(`providers:
  - {name: ollama, models: [llama3.2]}
  - {name: work, type: Google, models: [gemini-2.5-flash]}
  - {name: gw, type: openai_compatible, endpoint: "http://gw:9000/v1/", models: [m]}
workload: {scenarios: [{name: a, prompt: hi, requests: 1}]}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ typ, endpoint string }{
		{"openai_compatible", "http://localhost:11434/v1"},
		{"gemini", ""},
		{"openai_compatible", "http://gw:9000/v1"},
	} {
		if pc := c.Providers[i]; pc.Type != want.typ || pc.Endpoint != want.endpoint {
			t.Errorf("providers[%d]: type %q endpoint %q, want %q %q", i, pc.Type, pc.Endpoint, want.typ, want.endpoint)
		}
	}
}

func TestConfigNewProvider(t *testing.T) {
	t.Setenv("LENS_T_TOKEN", "tok-123")
	c, err := Parse([]byte(`providers:
  - name: openai
    auth: {token: "${LENS_T_TOKEN}"}
    headers: {X-Trace: "on"}
    models: [gpt-4o]
    settings: {organization_id: org-1, project: proj-1, max_tokens_field: max_tokens, stream_usage: false}
  - name: vllm
    models: [llama]
  - name: openai-proxy
    auth: {type: api_key, header: X-Key, token: "${LENS_T_TOKEN}"}
    models: [gpt-4o]
  - name: responses
    auth: {token: "${LENS_T_TOKEN}"}
    models: [gpt-4o]
    settings: {organization_id: org-2}
  - name: anthropic
    auth: {type: api_key, header: x-api-key, token: "${LENS_T_TOKEN}"}
    models: [claude]
    settings: {version: "2023-06-01"}
  - name: anthropic-gw
    auth: {type: bearer, token: "${LENS_T_TOKEN}"}
    models: [claude]
  - name: google
    auth: {token: "${LENS_T_TOKEN}"}
    models: [gemini-2.5-flash]
  - name: vertex
    auth: {token: "${LENS_T_TOKEN}"}
    models: [gemini-2.5-flash]
    settings: {project: p1, location: europe-west4}
  - name: azure
    endpoint: https://r.openai.azure.com/
    auth: {token: "${LENS_T_TOKEN}"}
    models: [dep]
    settings: {api_version: "2025-01-01", v1: true, max_tokens_field: max_tokens, stream_usage: false}
  - name: azure-entra
    endpoint: https://r.openai.azure.com
    auth: {type: bearer, token: "${LENS_T_TOKEN}"}
    models: [dep]
  - name: cohere
    auth: {token: "${LENS_T_TOKEN}"}
    models: [command-r]
  - name: ollama-native
    type: generic
    endpoint: http://localhost:11434/api/chat
    auth: {type: bearer, token: "${LENS_T_TOKEN}"}
    models: [llama3.2]
    settings:
      format: ndjson
      body:
        model: "{{model}}"
        messages: [{role: user, content: "{{prompt}}"}]
        stream: "{{ stream }}"
        options: {num_predict: "{{max_tokens}}", seed: 1}
      text_path: message.content
      output_tokens_path: eval_count
      done_path: done
      usage_increments: false
  - name: fake
    models: [m]
workload: {scenarios: [{name: a, prompt: hi, requests: 1}]}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	want := []providers.Provider{
		&providers.OpenAI{Label: "openai", APIKey: "tok-123", Organization: "org-1", Project: "proj-1", MaxTokensField: "max_tokens", NoStreamUsage: true, Header: hdr("X-Trace", "on")},
		&providers.OpenAI{Label: "vllm", BaseURL: "http://localhost:8000/v1"},
		&providers.OpenAI{Label: "openai-proxy", Header: hdr("X-Key", "tok-123")},
		&providers.OpenAIResponses{Label: "responses", APIKey: "tok-123", Organization: "org-2"},
		&providers.Anthropic{Label: "anthropic", APIKey: "tok-123", Version: "2023-06-01"},
		&providers.Anthropic{Label: "anthropic-gw", Header: hdr("Authorization", "Bearer tok-123")},
		&providers.Gemini{Label: "google", APIKey: "tok-123"},
		&providers.Gemini{Label: "vertex", AccessToken: "tok-123", Project: "p1", Location: "europe-west4"},
		&providers.Azure{Label: "azure", BaseURL: "https://r.openai.azure.com", APIKey: "tok-123", APIVersion: "2025-01-01", V1: true,
			MaxTokensField: "max_tokens", NoStreamUsage: true},
		&providers.Azure{Label: "azure-entra", BaseURL: "https://r.openai.azure.com", BearerToken: "tok-123"},
		&providers.Cohere{Label: "cohere", APIKey: "tok-123"},
		&providers.Generic{
			Label: "ollama-native", URL: "http://localhost:11434/api/chat", APIKey: "tok-123",
			Header: hdr("Authorization", "Bearer {{api_key}}"),
			Format: "ndjson", TextPath: "message.content", OutputTokensPath: "eval_count", DonePath: "done",
			Body: `{"messages":[{"content":{{prompt}},"role":"user"}],"model":{{model}},"options":{"num_predict":{{max_tokens}},"seed":1},"stream":{{stream}}}`,
		},
	}
	for i, w := range want {
		pc := c.Providers[i]
		got, err := NewProvider(pc, pc.Models[0])
		if err != nil {
			t.Errorf("%s: %v", pc.Name, err)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %#v\nwant %#v", pc.Name, got, w)
		}
	}
	fake := c.Providers[len(c.Providers)-1]
	if p, err := NewProvider(fake, "m"); err == nil || p != nil || !strings.Contains(err.Error(), "config.Builder") {
		t.Errorf("NewProvider(fake) = %v, %v; want an error pointing to Builder", p, err)
	}
	// Runs with NewProvider fails on the fake, naming it.
	if _, err := c.Runs(nil); err == nil || !strings.Contains(err.Error(), "providers[12] (fake), model m") {
		t.Errorf("Runs(nil) error = %v", err)
	}
}

func TestConfigRunsMatrix(t *testing.T) {
	c, err := Parse([]byte(`providers:
  - name: fake
    models: [m1, m2]
    rate_limit: {requests_per_second: 5, tokens_per_minute: 6000}
    pricing: {m1: {input: 1, output: 2}}
  - name: vllm
    models: [llama]
workload:
  prompt_sets:
    - {name: qs, prompts: [one, two]}
  request_params:
    max_tokens: normal(100, 10)
    stream: false
    timeout: 5
  scenarios:
    - name: open
      prompt: {set: qs}
      duration_secs: 1.5
      rate_limit: 10
      arrivals: poisson
      ramp_up_secs: 0.5
      concurrency: 0
      stream: true
      max_tokens: 7
      slo: {ttft_ms: 200, tpot_ms: 12.5, e2e_ms: 1000}
      timeouts: {request_secs: 9, first_token_ms: 300, idle_ms: 50, connect_ms: 250}
    - name: synthetic
      prompt: {tokens: "lognormal(300, 0.5)", system: be brief}
      requests: 3
      warmup: 0
      temperature: 0
      providers: [vllm]
execution:
  warmup_requests: 2
  seed: 99
  timeouts: {first_token_ms: 1000}
  retry: {jitter: 0.1, max_retry_after_ms: 1500}
  http: {disable_keep_alives: true, http2: false}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var built []string
	runs := mustRuns(t, c, func(pc Provider, model string) (providers.Provider, error) {
		built = append(built, pc.Name+"/"+model)
		return fakeBuild(pc, model)
	})
	if got := fmt.Sprint(built); got != "[fake/m1 fake/m2 vllm/llama]" {
		t.Errorf("build called for %s", got)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Scenario.Name+"/"+r.Provider.Name+"/"+r.Model)
	}
	if got := strings.Join(names, " "); got != "open/fake/m1 open/fake/m2 open/vllm/llama synthetic/vllm/llama" {
		t.Fatalf("runs = %s", got)
	}
	open, synth := runs[0].Scenario, runs[3].Scenario
	if open.Limiter == nil || open.Limiter != runs[1].Scenario.Limiter || runs[2].Scenario.Limiter != nil {
		t.Errorf("limiters: %p %p %p", open.Limiter, runs[1].Scenario.Limiter, runs[2].Scenario.Limiter)
	}
	if got := open.Limiter.String(); got != "5 requests/s, 6000 tokens/min" {
		t.Errorf("limiter = %s", got)
	}
	if open.Gate != nil {
		t.Errorf("a gate without max_concurrency")
	}
	if want := []string{"one", "two"}; !reflect.DeepEqual(open.Prompts, want) || open.Prompt != "" {
		t.Errorf("prompts = %q / %q", open.Prompts, open.Prompt)
	}
	if open.Duration != 1500*time.Millisecond || open.Requests != 0 || open.Rate != 10 || open.Arrivals != lens.ArrivalsPoisson ||
		open.RampUp != 500*time.Millisecond || open.Concurrency != 0 || open.Warmup != 2 || open.Seed != 99 {
		t.Errorf("open = %+v", open)
	}
	if open.NoStream || open.MaxTokens != 7 || open.MaxTokensDist != nil {
		t.Errorf("open: nostream %v max_tokens %d dist %v", open.NoStream, open.MaxTokens, open.MaxTokensDist)
	}
	if want := (lens.SLO{TTFT: 200 * time.Millisecond, TPOT: 12500 * time.Microsecond, E2E: time.Second}); open.SLO != want {
		t.Errorf("slo = %+v", open.SLO)
	}
	if open.Timeout != 9*time.Second || open.FirstTokenTimeout != 300*time.Millisecond || open.IdleTimeout != 50*time.Millisecond ||
		open.HTTP.ConnectTimeout != 250*time.Millisecond {
		t.Errorf("open timeouts: %v %v %v %v", open.Timeout, open.FirstTokenTimeout, open.IdleTimeout, open.HTTP.ConnectTimeout)
	}
	if want := (lens.HTTPOptions{ConnectTimeout: 250 * time.Millisecond, DisableKeepAlives: true, DisableHTTP2: true}); open.HTTP != want {
		t.Errorf("http = %+v", open.HTTP)
	}
	if want := (lens.Retry{Jitter: 0.1, MaxRetryAfter: 1500 * time.Millisecond}); open.Retry != want {
		t.Errorf("retry = %+v", open.Retry)
	}
	if p := runs[0].Price; p == nil || *p != (lens.Price{Input: 1, Output: 2}) || runs[1].Price != nil || runs[2].Price != nil {
		t.Errorf("prices: %v %v %v", runs[0].Price, runs[1].Price, runs[2].Price)
	}

	if !synth.NoStream || synth.MaxTokens != 0 || synth.MaxTokensDist == nil || synth.MaxTokensDist.String() != "normal(100, 10)" {
		t.Errorf("synthetic: nostream %v max_tokens %d dist %v", synth.NoStream, synth.MaxTokens, synth.MaxTokensDist)
	}
	if synth.PromptTokens == nil || synth.PromptTokens.String() != "lognormal(300, 0.5)" || synth.System != "be brief" {
		t.Errorf("synthetic prompt: %v %q", synth.PromptTokens, synth.System)
	}
	if synth.Warmup != 0 || synth.Requests != 3 || synth.Temperature == nil || *synth.Temperature != 0 || synth.TopP != nil {
		t.Errorf("synthetic = %+v", synth)
	}
	if synth.Timeout != 5*time.Second || synth.FirstTokenTimeout != time.Second || synth.IdleTimeout != 0 {
		t.Errorf("synthetic timeouts: %v %v %v", synth.Timeout, synth.FirstTokenTimeout, synth.IdleTimeout)
	}
	if synth.Concurrency != 0 {
		t.Errorf("synthetic concurrency = %d, want 0 (the engine's default)", synth.Concurrency)
	}
	// The build error names the provider and model.
	_, err = c.Runs(func(pc Provider, model string) (providers.Provider, error) {
		return nil, errors.New("no server")
	})
	if err == nil || err.Error() != "config: c.yaml: providers[0] (fake), model m1: no server" {
		t.Errorf("Runs error = %v", err)
	}
}

func TestConfigDistributions(t *testing.T) {
	tests := []struct {
		src  string
		want Dist
	}{
		{"7", Dist{Kind: "fixed", A: 7}},
		{"2.5", Dist{Kind: "fixed", A: 2.5}},
		{`"fixed(3)"`, Dist{Kind: "fixed", A: 3}},
		{`"uniform(10, 20)"`, Dist{Kind: "uniform", A: 10, B: 20}},
		{`"Uniform( 1,2 )"`, Dist{Kind: "uniform", A: 1, B: 2}},
		{`"normal(40, 5)"`, Dist{Kind: "normal", A: 40, B: 5}},
		{`"lognormal(30, 0.4)"`, Dist{Kind: "lognormal", A: 30, B: 0.4}},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("providers: [{name: fake, models: [m], settings: {itl_ms: "+tt.src+"}}]\n"+
			"workload: {scenarios: [{name: a, prompt: {tokens: "+tt.src+"}, requests: 1}]}\n"), "c.yaml")
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := c.Workload.Scenarios[0].Prompt.Tokens; got == nil || *got != tt.want {
			t.Errorf("%s: prompt.tokens = %v, want %v", tt.src, got, tt.want)
		}
		got := c.Providers[0].Settings.(*FakeSettings).ITLMs
		if got == nil || *got != tt.want {
			t.Errorf("%s: settings.itl_ms = %v; want %v", tt.src, got, tt.want)
			continue
		}
		if tt.want.Dist().String() != got.String() {
			t.Errorf("%s: String %q", tt.src, got.String())
		}
		if again, err := ParseDist(got.String()); err != nil || again != tt.want {
			t.Errorf("%s: String %q reads back as %v, %v", tt.src, got.String(), again, err)
		}
	}
	for _, bad := range []string{"x", "[1]", "{uniform: [1, 2]}", "", "true",
		"uniform(3, 1)", "uniform(1)", "uniform(1, 2", "normal(1, x)", "gamma(1, 2)", "fixed(-1)",
		"lognormal(0, 1)", "+Inf", "NaN", "-1"} {
		if d, err := ParseDist(bad); err == nil {
			t.Errorf("ParseDist(%v) = %v, want an error", bad, d)
		}
	}
}

func TestConfigYAMLAnchors(t *testing.T) {
	c, err := Parse([]byte(`x-common: &common
  models: [m]
  rate_limit: {requests_per_second: 3}
`), "c.yaml")
	if err == nil {
		t.Fatalf("unknown top-level key accepted: %+v", c)
	}
	c, err = Parse([]byte(`providers:
  - &base
    name: vllm-a
    endpoint: http://a:8000/v1
    models: [llama]
    rate_limit: {requests_per_second: 3}
  - <<: *base
    name: vllm-b
    endpoint: http://b:8000/v1
workload:
  scenarios:
    - &scn {name: one, prompt: hi, requests: 4}
    - {<<: *scn, name: two}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := c.Providers[1]
	if b.Name != "vllm-b" || b.Endpoint != "http://b:8000/v1" || b.Models[0] != "llama" || b.RateLimit.RequestsPerSecond != 3 {
		t.Errorf("merged provider = %+v", b)
	}
	if s := c.Workload.Scenarios[1]; s.Name != "two" || s.Requests != 4 || s.Prompt.Text != "hi" {
		t.Errorf("merged scenario = %+v", s)
	}

	// Nested aliases cannot blow up: where they are decoded (a generic
	// provider's body takes any shape), a budget stops them; elsewhere
	// (unknown fields) they are not expanded at all.
	var bomb strings.Builder
	bomb.WriteString("providers:\n  - name: g\n    type: generic\n    endpoint: http://x/api\n    models: [m]\n    settings:\n      body:\n")
	bomb.WriteString("        a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&bomb, "        a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	got := configErr(t, "c.yaml", bomb.String())
	if len(got) != 1 || !strings.Contains(got[0], "once its aliases are expanded") {
		t.Errorf("alias bomb: %q", got)
	}
	unknown := strings.ReplaceAll(strings.SplitN(bomb.String(), "body:\n", 2)[1], "        ", "")
	got = configErr(t, "c.yaml", unknown)
	if len(got) != 12 || !strings.Contains(got[0], "a0: unknown field") {
		t.Errorf("alias bomb in unknown fields: %q", got)
	}
	if d := time.Since(start); d > time.Minute { // a guard against expanding the bomb, which would take hours, not a timing target
		t.Errorf("alias bomb took %v", d)
	}
}

func TestConfigExamples(t *testing.T) {
	for _, path := range []string{"../examples/quickstart.yaml", "../examples/full.yaml"} {
		t.Run(path, func(t *testing.T) {
			c := mustLoad(t, path)
			runs := mustRuns(t, c, fakeBuild)
			if len(runs) == 0 {
				t.Fatal("no runs")
			}
			for _, r := range runs {
				if r.Provider.Type != "fake" {
					t.Errorf("%s runs against %s: examples must run offline", r.Scenario.Name, r.Provider.Type)
				}
			}
		})
	}
	// The quickstart: two scenarios, one closed loop at concurrency 8, one
	// open loop at a fixed rate, a few hundred requests that finish fast.
	c := mustLoad(t, "../examples/quickstart.yaml")
	runs := mustRuns(t, c, fakeBuild)
	if len(runs) != 2 {
		t.Fatalf("quickstart has %d runs, want 2", len(runs))
	}
	closed, open := runs[0].Scenario, runs[1].Scenario
	if closed.Concurrency != 8 || closed.Rate != 0 || open.Rate <= 0 || open.Arrivals != lens.ArrivalsConstant {
		t.Errorf("quickstart shapes: closed %d/%v, open %v %v", closed.Concurrency, closed.Rate, open.Rate, open.Arrivals)
	}
	total := closed.Requests + open.Requests
	if total < 200 || total > 600 {
		t.Errorf("quickstart sends %d requests, want a few hundred", total)
	}
	// Its expected time from the fake's mean latency: under ten seconds.
	fs := c.Providers[0].Settings.(*FakeSettings)
	ttft, itl, tokens := fs.TTFTMs, fs.ITLMs, fs.OutputTokens
	if ttft == nil || itl == nil {
		t.Fatalf("fake settings: %+v", fs)
	}
	mean := func(d *Dist) float64 {
		if d.Kind == "uniform" {
			return (d.A + d.B) / 2
		}
		return d.A
	}
	perRequest := time.Duration((mean(ttft) + float64(tokens-1)*mean(itl)) * float64(time.Millisecond))
	closedTime := perRequest * time.Duration((closed.Requests+closed.Warmup)/closed.Concurrency)
	openTime := time.Duration(float64(open.Requests)/open.Rate*float64(time.Second)) + perRequest*time.Duration(1+open.Warmup/open.Concurrency)
	if est := closedTime + openTime; est > 10*time.Second {
		t.Errorf("quickstart takes about %v", est)
	}
}

// TestConfigGenericSettings: GenericSettings has every field of
// providers.Generic, by the same name and type, but those the provider's
// name, endpoint, auth and headers set; its keys are checked as every
// other key is.
func TestConfigGenericSettings(t *testing.T) {
	gs, codec := reflect.TypeFor[GenericSettings](), reflect.TypeFor[providers.Generic]()
	elsewhere := map[string]bool{"Label": true, "URL": true, "APIKey": true, "Header": true}
	for i := range codec.NumField() {
		f := codec.Field(i)
		if elsewhere[f.Name] {
			if _, ok := gs.FieldByName(f.Name); ok {
				t.Errorf("GenericSettings.%s: set from the provider, not its settings", f.Name)
			}
			continue
		}
		s, ok := gs.FieldByName(f.Name)
		switch {
		case !ok:
			t.Errorf("providers.Generic.%s has no setting", f.Name)
		case s.Type != f.Type && f.Name != "Body":
			t.Errorf("GenericSettings.%s is %v, providers.Generic's %v", f.Name, s.Type, f.Type)
		}
	}
	got := configErr(t, "c.yaml", `providers:
  - name: g
    type: generic
    endpoint: http://x/api
    models: [m]
    settings: {text_pth: a, usage_increments: "sometimes", format: xml}
workload: {scenarios: [{name: a, prompt: hi, requests: 1}]}
`)
	want := []string{
		`c.yaml:6: providers[0].settings.text_pth: unknown setting for type generic (did you mean "text_path"?)`,
		`c.yaml:6: providers[0].settings.usage_increments: must be true or false, got a string`,
		`c.yaml:6: providers[0].settings.format: must be sse, ndjson or json`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigValidateInCode(t *testing.T) {
	c := &File{
		Providers: []Provider{{Name: "ollama", Models: []string{"llama3.2"}}},
		Workload: Workload{
			RequestParams: RequestParams{Stream: true},
			Scenarios:     []Scenario{{Name: "a", Prompt: Prompt{Text: "hi"}, Requests: 2}},
		},
		Execution: Execution{HTTP: HTTP{HTTP2: true}},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	runs := mustRuns(t, c, nil)
	if oa := runs[0].Scenario.Provider.(*providers.OpenAI); oa.BaseURL != "http://localhost:11434/v1" || oa.Label != "ollama" {
		t.Errorf("provider = %#v", oa)
	}
	c.Workload.Scenarios[0].Requests = -1
	err := c.Validate()
	var ce *Error
	if !errors.As(err, &ce) || err.Error() != "config: workload.scenarios[0].requests: must be > 0 (or 0 with duration_secs set), got -1" {
		t.Errorf("Validate = %v", err)
	}
	if _, err := c.Runs(nil); !errors.As(err, &ce) {
		t.Errorf("Runs on an invalid config = %v", err)
	}
}

// TestNewProviderRefusesWrongSettings: a Provider built in code, not
// loaded, gets no silent drop either: Settings of another type are an
// error, as is a value Load refuses.
func TestNewProviderRefusesWrongSettings(t *testing.T) {
	for _, tt := range []struct {
		p    Provider
		want string
	}{
		{Provider{Name: "openai", Settings: &AnthropicSettings{Version: "v"}},
			"settings: type openai takes *config.OpenAISettings, got *config.AnthropicSettings"},
		{Provider{Name: "gemini", Settings: &VertexSettings{Project: "p"}}, "settings: type gemini takes no settings, got *config.VertexSettings"},
		{Provider{Name: "openai", Settings: &OpenAISettings{MaxTokensField: "max_output_tokens"}},
			"settings.max_tokens_field: must be max_tokens or max_completion_tokens"},
		{Provider{Name: "vertex"}, "settings.project: required for vertex: the Google Cloud project"},
		{Provider{Name: "g", Type: "generic", Settings: &GenericSettings{Body: map[string]any{"t": math.Inf(1)}}},
			"settings.body: not a finite number"},
	} {
		if p, err := NewProvider(tt.p, "m"); err == nil || err.Error() != tt.want {
			t.Errorf("%s %T: NewProvider = %#v, %v; want %s", tt.p.Name, tt.p.Settings, p, err, tt.want)
		}
	}
	no := false
	p, err := NewProvider(Provider{Name: "openai", Settings: &OpenAISettings{StreamUsage: &no, Organization: "org"}}, "m")
	if o, ok := p.(*providers.OpenAI); err != nil || !ok || !o.NoStreamUsage || o.Organization != "org" {
		t.Errorf("NewProvider = %#v, %v", p, err)
	}
}

// TestSettingsReachTheCodec: every field of every provider type's
// Settings changes the codec NewProvider builds.
func TestSettingsReachTheCodec(t *testing.T) {
	for _, typ := range providerTypes {
		st := settingsTypes[typ]
		if typ == "fake" || st.NumField() == 0 {
			continue
		}
		base := reflect.New(st)
		if typ == "vertex" {
			base.Elem().FieldByName("Project").SetString("p")
		}
		build := func(s reflect.Value) string {
			p, err := NewProvider(Provider{Name: "x", Type: typ, Endpoint: "http://h/v1", Settings: s.Interface().(ProviderSettings)}, "m")
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			return fmt.Sprintf("%#v", p)
		}
		before := build(base)
		for i := range st.NumField() {
			f := st.Field(i)
			s := reflect.New(st)
			s.Elem().Set(base.Elem())
			x := s.Elem().Field(i)
			switch x.Kind() {
			case reflect.String:
				valid := map[string]string{"MaxTokensField": "max_tokens", "Format": "json"}
				x.SetString(cmp.Or(valid[f.Name], "v"))
			case reflect.Bool:
				x.SetBool(true)
			case reflect.Int:
				x.SetInt(7)
			case reflect.Pointer:
				x.Set(reflect.ValueOf(new(bool)))
			case reflect.Interface:
				x.Set(reflect.ValueOf(any(map[string]any{"p": "{{prompt}}"})))
			default:
				t.Fatalf("%s: no value for %s", typ, f.Name)
			}
			if build(s) == before {
				t.Errorf("%s: settings.%s changes nothing in the codec", typ, f.Tag.Get("yaml"))
			}
		}
	}
}
