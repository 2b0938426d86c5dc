package lens

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/llm-latency-lens/lens/providers"
)

// Scenario is one workload against one provider and model. The zero value of
// every optional field has a documented default; Run validates the rest.
type Scenario struct {
	// Name names the scenario in results and messages ("chat-short").
	Name string

	// Provider is the API codec, e.g. &providers.OpenAI{BaseURL: url}.
	Provider providers.Provider

	// Model is the model (or deployment) to ask.
	Model string

	// Prompt is the user message; System an optional system prompt.
	Prompt string
	System string

	// MaxTokens caps the output tokens of each request (0: the API default).
	MaxTokens int

	// Temperature and TopP are the sampling parameters (nil: API default).
	Temperature *float64
	TopP        *float64

	// NoStream asks for non-streaming responses. By default responses are
	// streamed; a non-streamed response has a single "event" at the end of
	// its body, so its TTFT equals its E2E and it has no ITL.
	NoStream bool

	// Requests is the number of measured requests (after Warmup). Under
	// testing.B, lenstest sets it to b.N.
	Requests int

	// MaxRequests is the most measured requests an SLO gate may spend to
	// reach a conclusive verdict (package verdict, and lenstest's Assert
	// methods): when a gate is inconclusive after the first Requests (or
	// Duration), more requests of the same scenario run, in growing
	// batches, until every gate is conclusive or MaxRequests is reached.
	// Zero means no budget: a gate decides on what the run measured. When
	// set, it must be at least Requests. Run itself ignores it.
	MaxRequests int

	// Duration, when Requests is 0, measures for this long instead: no
	// request starts after it, requests in flight finish (bounded by
	// Timeout) and are counted.
	Duration time.Duration

	// Concurrency is, in closed loop, the number of workers that each send
	// one request at a time (default 1). In open loop it caps the requests
	// in flight: an arrival that finds the cap full waits, and its wait
	// counts as queue delay (default: no cap but MaxInFlight).
	Concurrency int

	// Rate, when positive, selects the open loop: requests arrive at this
	// many per second, scheduled from absolute intended times, however slow
	// the server is. Latencies are then also reported from the intended
	// send (TTFTFromIntended, E2EFromIntended), so a slow server cannot hide
	// behind coordinated omission.
	Rate float64

	// Warmup requests are sent first, at the same concurrency, and not
	// measured. They open connections and warm caches.
	Warmup int

	// Timeout bounds each request from send to the end of its body
	// (default 60s).
	Timeout time.Duration

	// Arrivals is the open-loop arrival process (constant or Poisson).
	Arrivals Arrivals

	// RampUp is, in open loop, the time over which the rate grows
	// linearly from 0 to Rate; in closed loop, the time over which the
	// workers start, evenly spaced, so that they do not move in lockstep
	// (which, against a server of fixed latencies, would make every
	// response arrive in bursts).
	RampUp time.Duration

	// MaxInFlight caps requests in flight in open loop when Concurrency is
	// 0 (default 10,000): a safety limit, not a workload shape.
	MaxInFlight int

	// Seed seeds every random choice of the run: Poisson gaps, retry
	// jitter, prompt choice and lengths. The same seed gives the same
	// choices for the same request numbers.
	Seed uint64

	// Prompts, when set, is a prompt set: each request takes one, drawn
	// with Seed. PromptTokens, when set, makes each prompt synthetic,
	// of a length in tokens drawn from it (and then Prompt and Prompts are
	// ignored). MaxTokensDist, when set, draws each request's MaxTokens.
	Prompts       []string
	PromptTokens  Dist
	MaxTokensDist Dist

	// Retry is the retry policy (default: no retry).
	Retry Retry

	// FirstTokenTimeout fails a request with no output this long after it
	// was sent (class first_token_timeout); IdleTimeout one that receives
	// no event for this long (class idle_timeout). Zero: no such limit.
	FirstTokenTimeout time.Duration
	IdleTimeout       time.Duration

	// HTTP configures the client Run builds when Client is nil.
	HTTP HTTPOptions

	// Limiter is the provider's rate limit, shared by every scenario of
	// that provider (nil: none). Gate caps requests in flight across every
	// scenario that shares it (nil: none). Time spent waiting on either
	// counts as queue delay.
	Limiter *Limiter
	Gate    *Gate

	// Price is the model's price; nil looks the provider and model up in
	// DefaultPricing, and a model found nowhere has no cost (absent, not
	// zero).
	Price *Price

	// SLO sets per-request limits for goodput: the share of requests that
	// succeeded and met every limit that is set.
	SLO SLO

	// Logger, when set, receives each request's life (scheduled, sent,
	// first token, retried, failed, done) at debug level. Nil: no logging.
	// API keys and request bodies are never logged.
	Logger *slog.Logger

	// Client sends the requests. Nil means a client built by NewClient for
	// this scenario: pooled keep-alive connections sized to the concurrency
	// and no transparent gzip. Tests in virtual time pass a client whose
	// transport is an httpmock.MockTransport. Run uses this client's
	// transport, jar and timeout but never its redirect policy: it follows
	// no redirect (see NewClient).
	Client *http.Client

	// OnRequest, when set, is called with every finished request, warmup
	// included (RequestMetrics.Warmup says which), from the goroutine that
	// ran it: it must be safe for concurrent use and must not keep the
	// pointer (copy what it needs). Raw per-request records are written
	// through it, so memory stays flat however many requests run.
	OnRequest func(*RequestMetrics)

	// OnSend, when set, is called when a request's turn comes, before its
	// first attempt (and before any wait on Gate or Limiter), with Seq,
	// Warmup and Intended set; OnAttempt after each attempt of a request,
	// with that attempt's measurements (Attempts numbers it from 1; the
	// last attempt's call comes just before OnRequest). Both follow
	// OnRequest's rules: called from the goroutine that runs the request,
	// safe for concurrent use, and the pointer is not kept. With them a
	// live view counts requests in flight and a tracer sees every
	// attempt of a retried request.
	OnSend    func(*RequestMetrics)
	OnAttempt func(*RequestMetrics)

	// Session, when its Turns is set, makes each closed-loop worker a user
	// holding multi-turn conversations (see Session).
	Session Session

	// Trace, when set, replays a recorded trace in open loop: request k is
	// due at Trace[k].At (divided by TraceSpeed) from the start, with a
	// synthetic prompt of Trace[k].InputTokens tokens (see PromptTokens)
	// and Trace[k].OutputTokens as its output token limit (at least 1: no
	// API accepts a limit of 0). Requests, when set, replays only the
	// first Requests entries and Duration only those due before it; with
	// neither, the whole trace. Concurrency caps requests in flight as in
	// any open loop. Trace takes the place of Rate, Arrivals, RampUp,
	// Prompt, Prompts, PromptTokens, MaxTokens and MaxTokensDist: setting
	// any of them too is an error. ReadTraceFile reads a trace.
	Trace []TraceRequest

	// TraceSpeed replays Trace this many times faster than recorded: 2
	// halves every gap, 0.5 doubles them (0: as recorded).
	TraceSpeed float64

	// Shard runs one part of a run shared by several machines (see
	// Shard); the zero value runs the whole of it.
	Shard Shard

	// StartAt, when set, is the wall-clock time at which the measured
	// phase starts: Run sends the warmup, then waits until StartAt. Shards
	// given the same StartAt share the origin of their schedules. Run
	// refuses a StartAt more than StartAtTolerance in the past, whether it
	// already was when Run was called or the warmup overran it: a late
	// start would send every arrival already due at once. Within the
	// tolerance, the open-loop schedule still counts from StartAt and the
	// lateness is recorded as queue delay.
	StartAt time.Time

	// Journey, when set, is what each request of the scenario runs: the
	// caller's own code (a "user journey", one or more LLM calls made
	// through any SDK), given a client that measures every LLM API call
	// made through it as Transport does. Run schedules journeys as it
	// schedules requests (Concurrency, Rate, Warmup, Requests, Duration,
	// RampUp, MaxInFlight, Gate) and bounds each with Timeout, through the
	// journey's ctx. The Result's requests and distributions are then the
	// calls the journeys made (a warmup journey's calls are not measured),
	// and Result.Journey holds each measured journey's duration;
	// OnRequest sees each measured call.
	//
	// Provider is then optional: it sets the codec of every call, where
	// nil recognises each call's API from its request (see Transport). The
	// fields that describe a request Run would build (Prompt, System,
	// MaxTokens, Temperature, TopP, NoStream, Prompts, PromptTokens,
	// MaxTokensDist, Session, Trace), Retry, FirstTokenTimeout,
	// IdleTimeout, Limiter, Logger, OnSend and OnAttempt do not apply to
	// the caller's code, and Run refuses them with a journey.
	Journey func(ctx context.Context, c *http.Client) error
}

// HTTPOptions are the settings of the client Run builds (the http section of
// the LLM-Latency-Lens configuration schema).
type HTTPOptions struct {
	// PoolSize is the number of idle connections kept per host (default:
	// the concurrency plus 16).
	PoolSize int

	// ConnectTimeout bounds opening a connection, TLS included (default
	// 30s); its expiry is class connect_timeout.
	ConnectTimeout time.Duration

	// KeepAlive is how long an idle pooled connection is kept (default
	// 90s). DisableKeepAlives opens a new connection for every request.
	KeepAlive         time.Duration
	DisableKeepAlives bool

	// DisableHTTP2 keeps the client on HTTP/1.1 even where the server
	// offers HTTP/2.
	DisableHTTP2 bool

	// TLSConfig configures TLS (nil: the system's roots), for endpoints
	// behind a private certificate authority or a self-signed certificate.
	TLSConfig *tls.Config
}

// SLO is a set of per-request limits; zero fields are not checked.
type SLO struct {
	TTFT, TPOT, E2E time.Duration
}

// Met reports whether the successful request m meets every set limit
// (strictly below each).
func (s SLO) Met(m *RequestMetrics) bool {
	if !m.OK() {
		return false
	}
	if s.TTFT > 0 && (m.TTFT < 0 || m.TTFT >= s.TTFT) {
		return false
	}
	if s.TPOT > 0 && m.TPOT >= s.TPOT {
		return false
	}
	if s.E2E > 0 && m.E2E >= s.E2E {
		return false
	}
	return true
}

// Defaults used for unset Scenario fields.
const (
	DefaultConcurrency = 1
	DefaultTimeout     = 60 * time.Second
	DefaultMaxInFlight = 10000
)

func (sc *Scenario) concurrency() int {
	if sc.Concurrency > 0 {
		return sc.Concurrency
	}
	return DefaultConcurrency
}

func (sc *Scenario) timeout() time.Duration {
	if sc.Timeout > 0 {
		return sc.Timeout
	}
	return DefaultTimeout
}

// request returns the provider-neutral request the scenario sends.
func (sc *Scenario) request() *providers.Request {
	return &providers.Request{
		Model:       sc.Model,
		Prompt:      sc.Prompt,
		System:      sc.System,
		MaxTokens:   sc.MaxTokens,
		Temperature: sc.Temperature,
		TopP:        sc.TopP,
		Stream:      !sc.NoStream,
	}
}
