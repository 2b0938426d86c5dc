package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	"github.com/llm-latency-lens/lens/dashboard"
)

// File is a configuration file: the providers and models to measure, the
// workload, how to execute it and where to write the results. Its schema
// is the LLM-Latency-Lens configuration schema (the same keys, so that existing files load),
// with optional additions; JSON files of the same shape are read too.
//
// A File holds the values as written, with ${ENV} references expanded;
// a field left out keeps the default its doc comment gives. Runs turns it
// into one Scenario per scenario, provider and model.
type File struct {
	// File is the file the configuration was read from (for messages).
	Path string `yaml:"-"`

	// Version is the schema version, key "version" (default "1.0"; only
	// 1.x is read).
	Version string `yaml:"version"`

	// Providers are the APIs to measure, key "providers" (at least one).
	Providers []Provider `yaml:"providers"`

	// Workload is what to send, key "workload".
	Workload Workload `yaml:"workload"`

	// Execution is how to send it, key "execution".
	Execution Execution `yaml:"execution"`

	// Output is where the results go, key "output".
	Output Output `yaml:"output"`

	// Dashboard is the live dashboard and its alerts, key "dashboard"
	// (an addition to the LLM-Latency-Lens configuration schema).
	Dashboard Dashboard `yaml:"dashboard"`

	// pos maps field paths to their place in the file.
	pos map[string]position
}

// Provider is one entry of "providers": an API endpoint, its
// credentials and the models to measure there.
type Provider struct {
	// Name names the provider in results, key "name" (required, unique).
	Name string `yaml:"name"`

	// Type is the API, key "type": openai, openai_compatible, responses,
	// anthropic, gemini (alias google), vertex, azure, cohere, generic or
	// fake. When the file leaves it out it is inferred from Name: the
	// name itself, or its first word before "-", "_" or "."
	// ("openai-eu" is openai); vllm, ollama, llamacpp (llama.cpp,
	// llama_cpp) and tgi are openai_compatible. After loading, Type holds
	// the canonical type, never an alias.
	Type string `yaml:"type"`

	// Endpoint is the API's base URL with its version path, key "endpoint"
	// ("https://api.openai.com/v1"). Empty means the API's public endpoint;
	// for openai_compatible servers named vllm, ollama, llamacpp or tgi
	// it means their usual local address (http://localhost:8000/v1,
	// :11434/v1, :8080/v1, :8080/v1); azure requires it (the resource
	// URL), generic requires it (the whole request URL), and fake must
	// leave it empty (the CLI serves the fake in-process and fills it).
	// A trailing slash is removed.
	Endpoint string `yaml:"endpoint"`

	// Auth is the credential, key "auth".
	Auth Auth `yaml:"auth"`

	// Models are the models (for azure: deployments) to measure, key
	// "models" (at least one, no duplicates).
	Models []string `yaml:"models"`

	// Settings are the API's own options, key "settings": the
	// ProviderSettings of the provider's type (*OpenAISettings for openai,
	// *FakeSettings for fake, ...; nil: every option's default). Load
	// decodes the key into them once the provider's type is known;
	// NewProvider refuses the settings of another type.
	Settings ProviderSettings `yaml:"settings"`

	// Headers are extra HTTP headers sent with every request, key
	// "headers" (an addition to the LLM-Latency-Lens configuration schema). Their values are
	// treated as secrets.
	Headers map[string]Secret `yaml:"headers"`

	// RateLimit is the provider's own limit, key "rate_limit": one
	// Limiter per provider, shared by every scenario run against it.
	RateLimit RateLimit `yaml:"rate_limit"`

	// Pricing is the price of each model, key "pricing": model name to
	// {input, output} in USD per million tokens. Each model must be one
	// of Models. A model left out is priced from DefaultPricing when it
	// is known there.
	Pricing map[string]lens.Price `yaml:"pricing"`

	// index is the provider's index in File.Providers (for paths).
	index int
}

// Auth is a provider's credential (key "auth").
type Auth struct {
	// Type is the scheme, key "type": bearer ("Authorization: Bearer
	// <token>") or api_key (the token as is, in Header). Empty means the
	// API's own scheme: api_key for anthropic (x-api-key), gemini
	// (x-goog-api-key) and azure (api-key), bearer for the others; and
	// api_key when Header is set.
	Type string `yaml:"type"`

	// Header is the header that carries the token, key "header". For
	// api_key it defaults to the API's own key header; APIs that take
	// bearer tokens (openai, openai_compatible, responses, cohere,
	// vertex) require it with api_key.
	Header string `yaml:"header"`

	// Token is the credential, key "token", usually "${SOME_API_KEY}".
	// Empty means the API's usual environment variable (OPENAI_API_KEY,
	// ANTHROPIC_API_KEY, ...), read when requests are built.
	Token Secret `yaml:"token"`
}

// RateLimit is a provider's rate limit (key "rate_limit").
type RateLimit struct {
	// RequestsPerSecond, key "requests_per_second" (0: no limit).
	RequestsPerSecond float64 `yaml:"requests_per_second" check:">=0"`

	// TokensPerMinute, key "tokens_per_minute" (0: no limit). A request
	// counts its prompt (about four characters a token) plus its
	// max_tokens (256 when unset).
	TokensPerMinute int `yaml:"tokens_per_minute" check:">=0"`
}

// Workload is what to send (key "workload").
type Workload struct {
	// Scenarios are the workloads, key "scenarios" (at least one, unique
	// names). Each runs against every provider and model, in order.
	Scenarios []Scenario `yaml:"scenarios"`

	// Prompts are named prompt templates, key "prompts", referred to by
	// scenarios' prompt.template.
	Prompts []PromptTemplate `yaml:"prompts"`

	// PromptSets are named lists of prompts, key "prompt_sets", referred
	// to by scenarios' prompt.set: each request takes one, drawn with the
	// seed.
	PromptSets []PromptSet `yaml:"prompt_sets"`

	// RequestParams are the request parameters every scenario uses unless
	// it sets its own, key "request_params".
	RequestParams RequestParams `yaml:"request_params"`
}

// PromptTemplate is a named prompt (an entry of "prompts").
type PromptTemplate struct {
	// Name, key "name" (required, unique).
	Name string `yaml:"name"`

	// Template is the prompt text, key "template". Each {{name}} in it is
	// a placeholder that a scenario fills with prompt.variables.name
	// (spaces inside the braces are allowed).
	Template string `yaml:"template"`
}

// PromptSet is a named list of prompts (an entry of "prompt_sets").
type PromptSet struct {
	// Name, key "name" (required, unique).
	Name string `yaml:"name"`

	// Prompts, key "prompts" (at least one; none empty). They are sent as
	// written: placeholders are not filled.
	Prompts []string `yaml:"prompts"`
}

// RequestParams are request parameters (key "request_params").
type RequestParams struct {
	// MaxTokens caps each response's tokens, key "max_tokens": a number
	// or a distribution drawn per request. Nil leaves the API's default
	// (APIs that require a value get 1024).
	MaxTokens *Dist `yaml:"max_tokens"`

	// Temperature and TopP, keys "temperature" and "top_p" (nil: the
	// API's default).
	Temperature *float64 `yaml:"temperature"`
	TopP        *float64 `yaml:"top_p"`

	// Stream, key "stream" (default true): streamed responses. Without
	// streaming TTFT equals E2E and there is no ITL.
	Stream bool `yaml:"stream"`

	// TimeoutSecs bounds each request, key "timeout", in seconds (0: the
	// default, 60s). The same as execution.timeouts.request_secs.
	TimeoutSecs float64 `yaml:"timeout" check:"secs"`
}

// Scenario is one workload (an entry of "workload.scenarios").
type Scenario struct {
	// Name, key "name" (required, unique). It names the scenario's results.
	Name string `yaml:"name"`

	// Prompt is what each request asks, key "prompt".
	Prompt Prompt `yaml:"prompt"`

	// Requests is the number of measured requests, key "requests". Either
	// it or DurationSecs must be set, not both.
	Requests int `yaml:"requests"`

	// DurationSecs, key "duration_secs": measure for this long instead.
	DurationSecs float64 `yaml:"duration_secs" check:"secs"`

	// Concurrency, key "concurrency": in closed loop the number of
	// workers, each with one request in flight (nil: 1); with a rate, the
	// cap on requests in flight (nil: no cap but 10,000). 0 is valid only
	// with a rate.
	Concurrency *int `yaml:"concurrency"`

	// RateLimit, key "rate_limit", selects the open loop: requests arrive
	// at this many per second whatever the server's latency (null or 0:
	// closed loop).
	RateLimit float64 `yaml:"rate_limit"`

	// Arrivals is the open-loop arrival process, key "arrivals":
	// constant (the default) or poisson. It needs a rate_limit.
	Arrivals string `yaml:"arrivals"`

	// RampUpSecs, key "ramp_up_secs": in open loop the rate grows from 0
	// to rate_limit over this time; in closed loop the workers start
	// spread over it (default 0).
	RampUpSecs float64 `yaml:"ramp_up_secs" check:"secs"`

	// Warmup, key "warmup": unmeasured requests sent first (nil:
	// execution.warmup_requests).
	Warmup *int `yaml:"warmup"`

	// MaxTokens, Stream, Temperature and TopP override request_params
	// (keys "max_tokens", "stream", "temperature", "top_p"; nil: inherit).
	MaxTokens   *Dist    `yaml:"max_tokens"`
	Stream      *bool    `yaml:"stream"`
	Temperature *float64 `yaml:"temperature"`
	TopP        *float64 `yaml:"top_p"`

	// SLO are per-request limits for goodput, key "slo".
	SLO SLO `yaml:"slo"`

	// Timeouts override execution.timeouts, key "timeouts" (zero fields
	// inherit).
	Timeouts Timeouts `yaml:"timeouts"`

	// Providers, key "providers", restricts the scenario to these
	// providers (by name). Empty: every provider.
	Providers []string `yaml:"providers"`

	// Gates, key "gates": the SLO gates lens-report run checks on each
	// result of the scenario (a broken one makes it exit 1).
	Gates []Gate `yaml:"gates"`

	// MaxRequests, key "max_requests": the most measured requests the
	// gates may spend to reach a conclusive verdict. An inconclusive gate
	// runs more requests of the scenario, in growing batches, up to it (0:
	// no budget; the gates decide on the first run). At least requests;
	// it needs gates.
	MaxRequests int `yaml:"max_requests"`

	// Session, key "session", makes the workers users who hold
	// multi-turn conversations (closed loop only).
	Session Session `yaml:"session"`

	// Trace, key "trace", replays a recorded trace instead of a rate.
	Trace Trace `yaml:"trace"`

	// Sweep, key "sweep", sets how lens-report sweep searches the
	// scenario's capacity: the highest load at which its gates hold. It
	// needs gates. lens-report run runs the scenario at its own load and
	// says that it leaves the sweep to lens-report sweep.
	Sweep *Sweep `yaml:"sweep"`
}

// Sweep is a scenario's capacity search (key "sweep"), run by lens-report
// sweep: loads grown by Growth while every gate holds, then bisected to
// Resolution, each load judged by the scenario's gates on its requests,
// within its max_requests. Every key is optional.
type Sweep struct {
	// Mode, key "mode": rate (the open-loop arrival rate, req/s) or
	// concurrency (the closed-loop users). Default: rate when the scenario
	// sets a rate_limit, else concurrency.
	Mode string `yaml:"mode"`

	// Start, Min and Max, keys "start", "min" and "max": the first load
	// tried and the bounds of the loads tried, in req/s or users.
	// Defaults: the scenario's rate_limit or concurrency (else 1); 1 user
	// or start/1024 req/s; 4096 users or start×1024 req/s.
	Start float64 `yaml:"start" check:">=0"`
	Min   float64 `yaml:"min" check:">=0"`
	Max   float64 `yaml:"max" check:">=0"`

	// Growth, key "growth": the factor by which the load grows while the
	// gates hold, more than 1 (default 2).
	Growth float64 `yaml:"growth"`

	// Resolution, key "resolution": the search stops when the lowest load
	// that broke a gate is at most 1+resolution times the highest that
	// held (or one user above it), 0..1 (default 0.05).
	Resolution float64 `yaml:"resolution"`

	// MinAchieved, key "min_achieved": in open loop, the share of the
	// asked rate the client must send for a load to count, 0..1 (default
	// 0.9); a load below it is the client's limit.
	MinAchieved float64 `yaml:"min_achieved"`

	// Require, key "require": the capacity the scenario must reach; less
	// makes lens-report sweep exit 1 (default 0: only that some load
	// holds).
	Require float64 `yaml:"require" check:">=0"`
}

// Search returns the search s describes (nil: the defaults).
func (s *Sweep) Search() capacity.Search {
	if s == nil {
		return capacity.Search{}
	}
	m, _ := capacity.ParseMode(s.Mode) // checked when the file was loaded
	return capacity.Search{Mode: m, Start: s.Start, Min: s.Min, Max: s.Max, Growth: s.Growth,
		Resolution: s.Resolution, MinAchieved: s.MinAchieved}
}

// Gate is one SLO gate of a scenario (an entry of "gates"): a percentile
// of a latency metric below a limit, {metric: ttft, percentile: 95,
// limit_ms: 500}, or the error rate at most a share, {metric: error_rate,
// max: 0.01}.
type Gate struct {
	// Metric, key "metric": ttft, itl, tpot, e2e, ttfb, dns, connect, tls,
	// queue, or error_rate.
	Metric string `yaml:"metric"`

	// Percentile, key "percentile": 0..100 (exclusive), latency gates.
	Percentile float64 `yaml:"percentile"`

	// LimitMs, key "limit_ms": the percentile must be below it,
	// latency gates.
	LimitMs float64 `yaml:"limit_ms"`

	// Max, key "max": the error rate (0..1) must be at most it,
	// error_rate gates.
	Max *float64 `yaml:"max"`
}

// Session makes a scenario's workers users holding conversations (key
// "session"): each sends Turns requests, every one carrying the
// conversation so far, then starts the next conversation.
type Session struct {
	// Turns is the number of requests per conversation, key "turns"
	// (0, the default: no sessions).
	Turns int `yaml:"turns"`

	// ThinkTimeSecs is the pause between a turn's answer and the next
	// turn, in seconds, key "think_time_secs": a number or a
	// distribution (default: no pause).
	ThinkTimeSecs *Dist `yaml:"think_time_secs"`
}

// Trace replays a recorded trace (key "trace"): each request at its
// time, with its prompt and output lengths in tokens. A trace scenario
// takes its timing and lengths from the file: it sets no prompt,
// rate_limit, arrivals, ramp_up_secs or max_tokens, and neither requests
// nor duration_secs are required (set one to replay a part).
type Trace struct {
	// File is the trace, key "file": JSON Lines or CSV with a header, with
	// an arrival time (TIMESTAMP, timestamp or time), a prompt length
	// (ContextTokens, input_tokens or prompt_tokens) and an output length
	// (GeneratedTokens, output_tokens or completion_tokens) per request,
	// as in the public Azure LLM inference traces. A relative path is
	// taken from the configuration file's directory.
	File string `yaml:"file"`

	// Speed replays the trace this many times faster, key "speed" (0 or
	// 1, the default: as recorded).
	Speed float64 `yaml:"speed"`

	// requests is the file's content, read when the configuration is
	// checked.
	requests []lens.TraceRequest
}

// Prompt is a scenario's prompt (key "prompt"). Exactly one of
// Template, Text, Set and Tokens must be set. A plain string, prompt:
// "Hello", is short for prompt: {text: "Hello"}.
type Prompt struct {
	// Template names an entry of workload.prompts, key "template".
	Template string `yaml:"template"`

	// Variables fill the template's (or Text's) placeholders, key
	// "variables". Every variable must have a placeholder and every
	// placeholder a variable.
	Variables map[string]string `yaml:"variables"`

	// Text is the prompt itself, key "text" (placeholders filled from
	// Variables).
	Text string `yaml:"text"`

	// Set names an entry of workload.prompt_sets, key "set".
	Set string `yaml:"set"`

	// Tokens, key "tokens", makes each prompt synthetic: plain English
	// words, about this many tokens (a number or a distribution).
	Tokens *Dist `yaml:"tokens"`

	// System is an optional system prompt, key "system".
	System string `yaml:"system"`
}

// UnmarshalYAML reads a prompt as a configuration does: a string is
// short for {text: "..."}. (yaml.v3 checks no unknown keys inside an
// UnmarshalYAML; Load does.)
func (p *Prompt) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&p.Text)
	}
	type plain Prompt // the same fields without this method
	return n.Decode((*plain)(p))
}

// SLO are per-request limits, in milliseconds (key "slo"). Zero is
// no limit.
type SLO struct {
	TTFTMs float64 `yaml:"ttft_ms" check:"ms"` // key "ttft_ms"
	TPOTMs float64 `yaml:"tpot_ms" check:"ms"` // key "tpot_ms"
	E2EMs  float64 `yaml:"e2e_ms" check:"ms"`  // key "e2e_ms"
}

// Timeouts are request time limits (key "timeouts"). Zero is the
// default.
type Timeouts struct {
	// ConnectMs bounds opening a connection, TLS included, key
	// "connect_ms" (default 30000). The same as http.connect_timeout_ms.
	ConnectMs float64 `yaml:"connect_ms" check:"ms"`

	// RequestSecs bounds a request from send to the end of its body, key
	// "request_secs" (default 60). The same as request_params.timeout.
	RequestSecs float64 `yaml:"request_secs" check:"secs"`

	// FirstTokenMs fails a request with no output by then, key
	// "first_token_ms" (default: no limit).
	FirstTokenMs float64 `yaml:"first_token_ms" check:"ms"`

	// IdleMs fails a request that receives nothing for this long, key
	// "idle_ms" (default: no limit).
	IdleMs float64 `yaml:"idle_ms" check:"ms"`
}

// Execution is how requests are sent (key "execution").
type Execution struct {
	// MaxConcurrency caps requests in flight across every run of the
	// configuration, key "max_concurrency" (0, the default: no cap).
	MaxConcurrency int `yaml:"max_concurrency"`

	// WarmupRequests are unmeasured requests sent first by every run, key
	// "warmup_requests" (default 0).
	WarmupRequests int `yaml:"warmup_requests"`

	// Seed seeds every random choice (arrivals, prompt choice, lengths,
	// retry jitter), key "seed" (default 0). Every run gets the same seed,
	// so every provider gets the same prompts.
	Seed uint64 `yaml:"seed"`

	// Retry is the retry policy, key "retry".
	Retry Retry `yaml:"retry"`

	// HTTP configures the HTTP client, key "http".
	HTTP HTTP `yaml:"http"`

	// Timeouts are request time limits, key "timeouts".
	Timeouts Timeouts `yaml:"timeouts"`

	// Shard, key "shard", runs one part of a run that several machines
	// share: "INDEX/COUNT", such as "0/4" or "${JOB_COMPLETION_INDEX}/4".
	// Each shard sends its interleaved share of every scenario's
	// arrivals (or workers) and requests; lens-report merge adds the
	// shards' result files back together. Empty: the whole run.
	Shard string `yaml:"shard"`

	// StartAt, key "start_at", is the wall-clock time (RFC 3339) at which
	// the first scenario's measured phase starts, the same for every
	// shard, so that their schedules share an origin. Later scenarios
	// start when the one before ends. Empty: at once.
	StartAt string `yaml:"start_at"`
}

// Retry is the retry policy (key "retry"). Zero fields take their
// default.
type Retry struct {
	// MaxAttempts counts attempts in all, the first included, key
	// "max_attempts" (default 1: no retry).
	MaxAttempts int `yaml:"max_attempts"`

	// InitialBackoffMs, key "initial_backoff_ms" (default 500), is the
	// first wait; each later one is Multiplier (key "multiplier", >= 1,
	// default 2) times longer, up to MaxBackoffMs (key "max_backoff_ms",
	// default 30000). 0 means the default.
	InitialBackoffMs float64 `yaml:"initial_backoff_ms" check:"ms"`
	MaxBackoffMs     float64 `yaml:"max_backoff_ms" check:"ms"`
	Multiplier       float64 `yaml:"multiplier"`

	// Jitter shortens each wait by up to this fraction, key "jitter"
	// (0..1; 0 means the default, 0.2).
	Jitter float64 `yaml:"jitter"`

	// MaxRetryAfterMs caps a server's Retry-After, key
	// "max_retry_after_ms" (default 60000).
	MaxRetryAfterMs float64 `yaml:"max_retry_after_ms" check:"ms"`
}

// HTTP configures the HTTP client (key "http").
type HTTP struct {
	// PoolSize is the idle connections kept per host, key "pool_size"
	// (default: the concurrency plus 16).
	PoolSize int `yaml:"pool_size"`

	// ConnectTimeoutMs, key "connect_timeout_ms" (default 30000).
	ConnectTimeoutMs float64 `yaml:"connect_timeout_ms" check:"ms"`

	// KeepAliveSecs is how long an idle connection is kept, key
	// "keep_alive_secs" (default 90).
	KeepAliveSecs float64 `yaml:"keep_alive_secs" check:"secs"`

	// HTTP2, key "http2" (default true): use HTTP/2 where the server
	// offers it.
	HTTP2 bool `yaml:"http2"`

	// DisableKeepAlives opens a connection per request, key
	// "disable_keep_alives" (default false).
	DisableKeepAlives bool `yaml:"disable_keep_alives"`
}

// Output is where results go (key "output"). The CLI acts on it;
// the loader only checks it.
type Output struct {
	// Console is the terminal output, key "console".
	Console Console `yaml:"console"`

	// Export are result files, key "export".
	Export []Export `yaml:"export"`

	// Database is a time-series sink, key "database".
	Database Database `yaml:"database"`

	// Tracing sends an OpenTelemetry span of every request, key "tracing".
	Tracing Tracing `yaml:"tracing"`
}

// Tracing is the OpenTelemetry export of every request as a span (key
// "tracing"), over OTLP/HTTP. The standard OTEL_EXPORTER_OTLP_*
// environment variables turn it on too, and fill what is left empty here.
type Tracing struct {
	// Enabled, key "enabled" (default false).
	Enabled bool `yaml:"enabled"`

	// Endpoint is the collector's base URL, key "endpoint"
	// ("http://localhost:4318"; /v1/traces is added). Default:
	// OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318.
	Endpoint string `yaml:"endpoint"`

	// Headers are sent with every export, key "headers" (a tracing
	// vendor's API key, for one); treated as secrets.
	Headers map[string]Secret `yaml:"headers"`

	// ServiceName is the spans' service.name, key "service_name"
	// (default OTEL_SERVICE_NAME, else "lens").
	ServiceName string `yaml:"service_name"`
}

// Dashboard is the live dashboard (key "dashboard"): a web page that
// shows the run as it goes, and alert thresholds judged over a sliding
// window, each firing and clearing reported on the page and on stderr.
type Dashboard struct {
	// Listen is the address to serve the page on, key "listen"
	// ("127.0.0.1:8080"; port 0 picks one). Empty: no page, unless
	// lens-report run -serve asks for one; alerts are still judged and
	// reported on stderr.
	Listen string `yaml:"listen"`

	// Hold keeps the page served after the run, until Ctrl-C, key "hold"
	// (default false).
	Hold bool `yaml:"hold"`

	// WindowSecs is the sliding window, key "window_secs" (default 10;
	// whole seconds, at least 1).
	WindowSecs int `yaml:"window_secs"`

	// Alerts are the thresholds to watch, key "alerts".
	Alerts []Alert `yaml:"alerts"`
}

// Alert is one threshold of "dashboard.alerts": a latency percentile over
// the window at or above limit_ms, or an error rate above max.
type Alert struct {
	// Name labels the alert, key "name" (default: its condition, such
	// as "p95 ttft >= 500ms").
	Name string `yaml:"name"`

	// Metric, key "metric" (required): ttft, itl, tpot, e2e, ttfb, dns,
	// connect, tls, queue or error_rate.
	Metric string `yaml:"metric"`

	// Percentile of a latency metric, key "percentile" (0..100].
	Percentile float64 `yaml:"percentile"`

	// LimitMs is a latency alert's threshold in milliseconds, key
	// "limit_ms".
	LimitMs float64 `yaml:"limit_ms"`

	// Max is an error-rate alert's threshold, key "max" (0..1).
	Max float64 `yaml:"max"`

	// MinSamples is the fewest values in the window for a judgement, key
	// "min_samples" (default 20).
	MinSamples int `yaml:"min_samples"`
}

// DashboardAlert returns a as the dashboard package's Alert.
func (a Alert) DashboardAlert() dashboard.Alert {
	return dashboard.Alert{
		Name: a.Name, Metric: a.Metric, Percentile: a.Percentile,
		Limit: time.Duration(a.LimitMs * float64(time.Millisecond)),
		Max:   a.Max, MinSamples: int64(a.MinSamples),
	}
}

// Console is the terminal output (key "console").
type Console struct {
	// Enabled, key "enabled" (default true).
	Enabled bool `yaml:"enabled"`

	// Format, key "format": table (the default), json or minimal.
	Format string `yaml:"format"`

	// ShowProgress, key "show_progress" (default true).
	ShowProgress bool `yaml:"show_progress"`
}

// Export is one result file (an entry of "export").
type Export struct {
	// Format, key "format" (required): json, csv, binary (MessagePack of
	// the JSON document), html, markdown, benchstat or prometheus (the
	// text exposition format).
	Format string `yaml:"format"`

	// Path, key "path" (required). "{timestamp}" in it is replaced by the
	// run's start time.
	Path string `yaml:"path"`

	// Pretty indents JSON, key "pretty" (default false).
	Pretty bool `yaml:"pretty"`

	// Codec is the binary encoding, key "codec": messagepack (the
	// default; bincode, a Rust-only encoding, is refused).
	// Only for format binary.
	Codec string `yaml:"codec"`
}

// Secret is a credential read from a configuration. It prints as
// "[redacted]" (with fmt, slog, JSON, YAML and text encoders) so that it
// never reaches an output by accident; Value returns it.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText encodes the secret as String does.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue logs the secret as String does.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Load reads and checks the configuration file at path (YAML, or
// JSON for a .json file or content that starts with "{"). An invalid file
// gives a *Error that lists every problem with its line.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse parses and checks a configuration. filename names it in
// messages and chooses the syntax by its extension (.yaml, .yml, .json);
// with any other name the content decides. References ${NAME} and
// ${NAME:-default} in string values are replaced from the environment
// ($${ is a literal ${). Every error is a *Error listing every
// problem found, each with its field path and line.
func Parse(data []byte, filename string) (*File, error) {
	return parse(data, filename, os.LookupEnv)
}

// parse is Parse with the environment given.
func parse(data []byte, filename string, lookup func(string) (string, bool)) (*File, error) {
	name := filename
	if name == "" {
		name = "config"
	}
	root, probs := parseDocument(data, syntaxOf(filename, data))
	if len(probs) > 0 {
		return nil, newError(name, probs)
	}
	d := &decoder{lookup: lookup, pos: map[string]position{}, open: map[*yaml.Node]bool{}}
	cfg := d.decodeFile(root)
	cfg.Path = name
	cfg.pos = d.pos
	probs = append(d.probs, shadowed(cfg.check(), d.probs)...)
	if len(probs) > 0 {
		return nil, newError(name, probs)
	}
	return cfg, nil
}

// shadowed drops the problems of values that could not be decoded: a
// field whose type was wrong has no value to check.
func shadowed(checks, decoding []Problem) []Problem {
	out := checks[:0]
	for _, p := range checks {
		hidden := false
		for _, q := range decoding {
			if q.Path == "" {
				return nil // the document itself has the wrong shape
			}
			if p.Path == q.Path || strings.HasPrefix(p.Path, q.Path+".") || strings.HasPrefix(p.Path, q.Path+"[") {
				hidden = true
				break
			}
		}
		if !hidden {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks c as Runs does: every problem at once, as a
// *Error. A File that Load returned is valid; Validate is for
// one built or changed in code. Lines refer to the file as it was read.
func (c *File) Validate() error {
	if probs := c.check(); len(probs) > 0 {
		return newError(c.fileName(), probs)
	}
	return nil
}

func (c *File) fileName() string {
	if c.Path == "" {
		return "config"
	}
	return c.Path
}

// isIdent reports whether s can stand in a path without quotes.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// pathKey appends a mapping key to a field path.
func pathKey(path, key string) string {
	if !isIdent(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinPath appends a path relative to a value (as pathKey builds it) to
// the value's path.
func joinPath(path, rel string) string {
	if rel == "" {
		return path
	}
	if path == "" || strings.HasPrefix(rel, "[") {
		return path + rel
	}
	return path + "." + rel
}

// pathIndex appends a list index to a field path.
func pathIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// parentPath returns the path of the value that holds path's value.
func parentPath(path string) string {
	i := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
	if i < 0 {
		return ""
	}
	// A quoted key may contain '.' or '['; skip back over it.
	if strings.HasSuffix(path, "\"]") {
		if j := strings.LastIndex(path, "[\""); j >= 0 {
			return path[:j]
		}
	}
	return path[:i]
}
