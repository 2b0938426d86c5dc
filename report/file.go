package report

import (
	"fmt"
	"slices"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/stats"
)

// Format is the value of File.Format: it marks a JSON document as a lens
// result file.
const Format = "lens-result"

// SchemaVersion is the version of the result file schema this package
// writes. A reader accepts files of this version or older and refuses newer
// ones with a *SchemaError.
//
// Version 2 encodes latency histograms with a lowest discernible value of 1
// ns (version 1: 1µs, which resolved durations below about 1 ms to 512 ns)
// and stores nearest-rank percentiles. Decode reads version 1 files and
// upgrades them.
const SchemaVersion = 2

// A File is one result file: the LLM-Latency-Lens JSON result schema (metadata,
// scenarios with their per-provider results, raw requests), plus what lens
// measures beyond it. Every distribution carries its encoded HDR histogram,
// so files can be merged and compared without loss.
//
// Durations in distributions are in milliseconds; raw request timings are in
// nanoseconds; costs are in USD.
type File struct {
	// Format is always Format ("lens-result"); SchemaVersion the schema the
	// file was written in.
	Format        string `json:"format"`
	SchemaVersion int    `json:"schema_version"`

	Metadata  Metadata   `json:"metadata"`
	Scenarios []Scenario `json:"scenarios"`

	// RawRequests holds one record per request when the run kept them and
	// the writer was asked to embed them (see EmbedRaw); usually they stay
	// in a JSON lines file of their own.
	RawRequests []RawRequest `json:"raw_requests,omitempty"`
}

// Metadata describes the run that produced a File.
type Metadata struct {
	// Version is the version of the program that wrote the file.
	Version string `json:"version"`

	// Timestamp is when the run started (the earliest start of a merged
	// file's shards); DurationSecs its wall time in seconds, start to end.
	Timestamp    time.Time `json:"timestamp"`
	DurationSecs float64   `json:"duration_secs"`

	// ConfigHash identifies the configuration the run used (empty when it
	// was not run from a configuration file). Merge refuses files whose
	// hashes differ.
	ConfigHash string `json:"config_hash"`

	// SystemInfo describes the machine that ran it (the first shard's, in
	// a merged file).
	SystemInfo SystemInfo `json:"system_info"`

	// Interrupted is true when the run was cut short (a signal, a
	// deadline): the file holds what was measured until then.
	Interrupted bool `json:"interrupted"`

	// Shards is the number of result files merged into this one (0 or 1:
	// a single run).
	Shards int `json:"shards,omitempty"`

	// ShardCount and ShardIndexes say which shards of a sharded run the
	// file holds: a shard's own file (run -shard 2/4) has ShardCount 4
	// and ShardIndexes [2]; a merged file has every index it merged, in
	// order. Both are empty for a run that was not sharded, and in files
	// written before they were recorded. Merge refuses a shard it would
	// count twice and reports the ones missing (MissingShards).
	ShardCount   int   `json:"shard_count,omitempty"`
	ShardIndexes []int `json:"shard_indexes,omitempty"`
}

// MissingShards returns the indexes of the shards of m's sharded run that
// m does not hold, in order: none when it holds them all or was not
// sharded.
func (m Metadata) MissingShards() []int {
	var missing []int
	for i := range m.ShardCount {
		if !slices.Contains(m.ShardIndexes, i) {
			missing = append(missing, i)
		}
	}
	return missing
}

// SystemInfo describes a machine.
type SystemInfo struct {
	OS        string `json:"os"`   // runtime.GOOS
	Arch      string `json:"arch"` // runtime.GOARCH
	CPUCount  int    `json:"cpu_count"`
	GoVersion string `json:"go_version"`
	Hostname  string `json:"hostname,omitempty"`
}

// Scenario is one named workload and its results, one per provider and
// model it ran against.
type Scenario struct {
	Name    string         `json:"name"`
	Config  ScenarioConfig `json:"config"`
	Results []Result       `json:"results"`
}

// ScenarioConfig is the workload shape of a scenario.
type ScenarioConfig struct {
	// Requests is the number of measured requests asked for (when it was
	// not known, the most any result of the scenario ran). A merged file
	// sums it over shards.
	Requests int64 `json:"requests"`

	// Concurrency is the number of workers (closed loop) or the cap on
	// requests in flight (open loop) of one shard.
	Concurrency int `json:"concurrency"`

	// RateLimit is the open-loop arrival rate of one shard in requests per
	// second; null in closed loop.
	RateLimit *float64 `json:"rate_limit"`

	// Shards is the number of runs merged into this scenario (omitted for
	// a single run). The fleet's offered load is Shards × Concurrency or
	// Shards × RateLimit.
	Shards int `json:"shards,omitempty"`
}

// Result is what one scenario measured against one provider and model.
type Result struct {
	Provider string  `json:"provider"`
	Model    string  `json:"model"`
	Metrics  Metrics `json:"metrics"`

	// Gates are the verdicts on the scenario's SLO gates (absent when it
	// has none). A merged file has none: a verdict is about one run's
	// evidence; judge the merged one again.
	Gates []Gate `json:"gates,omitempty"`

	// Sweep is the capacity search that found this result's load (absent
	// for a plain run; lens-report sweep writes it). A merged file has
	// none.
	Sweep *Sweep `json:"sweep,omitempty"`
}

// Metrics are the aggregated measurements of a Result. Latency
// distributions hold successful requests only; failures are counted by
// class in Errors.
type Metrics struct {
	// Counts of measured requests: Total = Successful + Failed.
	TotalRequests      int64 `json:"total_requests"`
	SuccessfulRequests int64 `json:"successful_requests"`
	FailedRequests     int64 `json:"failed_requests"`

	Latency    LatencyStats `json:"latency"`
	TokenStats TokenStats   `json:"token_stats"`

	// CostStats is null when the model's price is unknown: the cost is
	// absent, not zero.
	CostStats *CostStats `json:"cost_stats"`

	// Errors counts failed requests by error class (lens.ErrorClass);
	// ErrorSamples holds the first message seen for each class.
	Errors       map[string]int64  `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`

	// ExecutionDurationSecs is the wall time of the measured phase in
	// seconds; ActualRPS is TotalRequests over it.
	ExecutionDurationSecs float64 `json:"execution_duration_secs"`
	ActualRPS             float64 `json:"actual_rps"`

	// Started is when the measured phase began.
	Started time.Time `json:"started"`

	// FirstSend and LastSend are the first and last actual send times
	// (absent when nothing was sent); AchievedSendRate is (Total − 1) /
	// (LastSend − FirstSend) in requests per second: in open loop, compare
	// it with the scenario's rate_limit.
	FirstSend        *time.Time `json:"first_send,omitempty"`
	LastSend         *time.Time `json:"last_send,omitempty"`
	AchievedSendRate float64    `json:"achieved_send_rate"`

	// GoodRequests counts requests that succeeded and met every limit of
	// the scenario's SLO; Goodput is GoodRequests / TotalRequests.
	GoodRequests int64   `json:"good_requests"`
	Goodput      float64 `json:"goodput"`

	// Journeys counts the measured journeys of a scenario whose own code
	// makes the calls (lens.Scenario.Journey, lenstest.BenchFunc): each
	// one is a run of that code, which may make several requests.
	// JourneysFailed counts those whose code returned an error (their
	// requests are counted above as they ended), and JourneyError holds
	// the first such error's message. All three are absent without
	// journeys; the durations are LatencyStats.Journey.
	Journeys       int64  `json:"journeys,omitempty"`
	JourneysFailed int64  `json:"journeys_failed,omitempty"`
	JourneyError   string `json:"journey_error,omitempty"`

	// Attempts counts attempts over all measured requests;
	// RetriedRequests the requests that needed more than one; Retries the
	// failed attempts that were retried, by error class.
	Attempts        int64            `json:"attempts"`
	RetriedRequests int64            `json:"retried_requests"`
	Retries         map[string]int64 `json:"retries"`

	// Timeline counts requests by the second (lens.TimelineStep) in which
	// they ended, from Started.
	Timeline []lens.Tick `json:"timeline"`
}

// LatencyStats holds the distributions of a Result. Latencies are in
// milliseconds; Throughput is per-request output tokens per second. The
// seed's four (ttft, total_duration, throughput, inter_token_latency) come
// first. DNS, Connect and TLS count only requests that opened a
// connection. TTFTFromIntended and E2EFromIntended are present in open
// loop only: TTFT and E2E measured from the intended send time, queueing
// and retries included. Journey is present only for a scenario with
// journeys (see Metrics.Journeys): the duration of each journey that
// succeeded, from the start of its code to its return.
type LatencyStats struct {
	TTFT              *Distribution `json:"ttft"`
	TotalDuration     *Distribution `json:"total_duration"`
	Throughput        *Distribution `json:"throughput"`
	InterTokenLatency *Distribution `json:"inter_token_latency"`
	TPOT              *Distribution `json:"tpot"`
	TTFB              *Distribution `json:"ttfb"`
	DNS               *Distribution `json:"dns"`
	Connect           *Distribution `json:"connect"`
	TLS               *Distribution `json:"tls"`
	QueueDelay        *Distribution `json:"queue_delay"`
	TTFTFromIntended  *Distribution `json:"ttft_from_intended,omitempty"`
	E2EFromIntended   *Distribution `json:"e2e_from_intended,omitempty"`
	Journey           *Distribution `json:"journey,omitempty"`
}

// TokenStats are the token counts of a Result's successful requests.
//
// TotalPromptTokens sums the prompt tokens of the PromptTokensCounted
// requests whose usage reported them; it is null (unknown, not zero) when
// none did. TotalTokens is TotalPromptTokens + TotalCompletionTokens, null
// with it.
type TokenStats struct {
	TotalPromptTokens     *int64 `json:"total_prompt_tokens"`
	PromptTokensCounted   int64  `json:"prompt_tokens_counted"`
	TotalCompletionTokens int64  `json:"total_completion_tokens"`
	TotalTokens           *int64 `json:"total_tokens"`

	// MeanTokensPerSecond is the mean of the per-request output tokens per
	// second; OutputTokensPerSecond the aggregate: all output tokens over
	// the execution duration.
	MeanTokensPerSecond   float64 `json:"mean_tokens_per_second"`
	OutputTokensPerSecond float64 `json:"output_tokens_per_second"`

	// OutputTokens is the distribution of per-request output token counts.
	OutputTokens *Distribution `json:"output_tokens"`

	// CountedFromUsage counts requests whose output tokens came from the
	// server's usage, CountedFromEvents those counted as text events.
	// UsageMismatches counts streamed requests whose usage differs from
	// their number of text events (a response that is not streamed is one
	// body, and is not compared).
	CountedFromUsage  int64 `json:"counted_from_usage"`
	CountedFromEvents int64 `json:"counted_from_events"`
	UsageMismatches   int64 `json:"usage_mismatches"`
}

// CostStats are the costs of a Result in USD, over successful requests.
type CostStats struct {
	TotalCost          float64 `json:"total_cost"`
	MeanCostPerRequest float64 `json:"mean_cost_per_request"`
	CostPer1KTokens    float64 `json:"cost_per_1k_tokens"`
	InputCost          float64 `json:"input_cost"`
	OutputCost         float64 `json:"output_cost"`

	// Price is the price used, in USD per million tokens.
	Price lens.Price `json:"price"`
}

// Units of a Distribution.
const (
	UnitMillis       = "ms"       // durations; the histogram counts nanoseconds (stats.Latency)
	UnitTokensPerSec = "tokens/s" // a stats.Values histogram
	UnitTokens       = "tokens"   // a stats.Values histogram
)

// Distribution is the LLM-Latency-Lens schema's DistributionStats (min, max, mean, median,
// std_dev, p95, p99, p999) plus the count, p90, the unit, and the
// distribution's HDR histogram in the standard V2 compressed encoding
// (base64), from which every number here is recomputed after a merge.
//
// A Distribution in UnitMillis holds a stats.Latency (histogram values in
// nanoseconds); any other unit a stats.Values.
type Distribution struct {
	Count  int64   `json:"count"`
	Unit   string  `json:"unit"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	StdDev float64 `json:"std_dev"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p999"`

	// Clamped counts values above the histogram's range, recorded at its
	// top (the encoding does not carry it).
	Clamped int64 `json:"clamped,omitempty"`

	// Histogram is the encoded HDR histogram (stats.Latency.Encode or
	// stats.Values.Encode).
	Histogram string `json:"histogram"`
}

// IsLatency reports whether d holds durations (UnitMillis).
func (d *Distribution) IsLatency() bool { return d != nil && d.Unit == UnitMillis }

// Latency decodes d's histogram as a duration distribution. A nil d gives
// an empty distribution. It is an error when d is not in UnitMillis or its
// histogram does not decode.
func (d *Distribution) Latency() (*stats.Latency, error) {
	if d == nil {
		return stats.NewLatency(), nil
	}
	if d.Unit != UnitMillis {
		return nil, fmt.Errorf("report: distribution in %q is not a latency", d.Unit)
	}
	l, err := stats.DecodeLatency([]byte(d.Histogram))
	if err != nil {
		return nil, fmt.Errorf("report: decode %s histogram: %w", d.Unit, err)
	}
	return l, nil
}

// Values decodes d's histogram as a distribution of quantities. A nil d
// gives an empty distribution. It is an error when d is a latency
// (UnitMillis) or its histogram does not decode.
func (d *Distribution) Values() (*stats.Values, error) {
	if d == nil {
		return stats.NewValues(), nil
	}
	if d.Unit == UnitMillis {
		return nil, fmt.Errorf("report: distribution in %q is a latency, not values", d.Unit)
	}
	v, err := stats.DecodeValues([]byte(d.Histogram))
	if err != nil {
		return nil, fmt.Errorf("report: decode %s histogram: %w", d.Unit, err)
	}
	return v, nil
}

// LatencyDistribution summarizes l in milliseconds and encodes its
// histogram. A nil l gives an empty distribution.
func LatencyDistribution(l *stats.Latency) (*Distribution, error) {
	enc, err := l.Encode()
	if err != nil {
		return nil, fmt.Errorf("report: encode latency histogram: %w", err)
	}
	s := l.Summary()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return &Distribution{
		Count: s.Count, Unit: UnitMillis,
		Min: ms(s.Min), Max: ms(s.Max), Mean: ms(s.Mean), Median: ms(s.Median), StdDev: ms(s.StdDev),
		P90: ms(s.P90), P95: ms(s.P95), P99: ms(s.P99), P999: ms(s.P999),
		Clamped:   l.Clamped(),
		Histogram: string(enc),
	}, nil
}

// ValuesDistribution summarizes v, a distribution in unit, and encodes its
// histogram. A nil v gives an empty distribution.
func ValuesDistribution(v *stats.Values, unit string) (*Distribution, error) {
	if unit == UnitMillis {
		return nil, fmt.Errorf("report: values distribution in %q", unit)
	}
	enc, err := v.Encode()
	if err != nil {
		return nil, fmt.Errorf("report: encode %s histogram: %w", unit, err)
	}
	s := v.Summary()
	return &Distribution{
		Count: s.Count, Unit: unit,
		Min: s.Min, Max: s.Max, Mean: s.Mean, Median: s.Median, StdDev: s.StdDev,
		P90: s.P90, P95: s.P95, P99: s.P99, P999: s.P999,
		Clamped:   v.Clamped(),
		Histogram: string(enc),
	}, nil
}

// RawRequest is one request's record (a raw_requests entry of the LLM-Latency-Lens schema), as
// RawWriter writes it, one JSON object per line.
type RawRequest struct {
	// RequestID is "<scenario>/<provider>/<model>/<seq>", unique in a run.
	RequestID string `json:"request_id"`
	Seq       int64  `json:"seq"`

	// Timestamp is when the request was sent (its last attempt); Intended
	// when the scheduler meant it to be sent.
	Timestamp time.Time `json:"timestamp"`
	Intended  time.Time `json:"intended"`

	Scenario string `json:"scenario"`
	Provider string `json:"provider"`
	Model    string `json:"model"`

	// Warmup marks a warmup request (not measured).
	Warmup bool `json:"warmup,omitempty"`

	Timing RawTiming `json:"timing"`
	Tokens RawTokens `json:"tokens"`

	// Cost is null when the model's price is unknown.
	Cost *RawCost `json:"cost"`

	// Status is lens.RequestMetrics.Status: success, retried, timeout,
	// rate_limited or failed.
	Status string `json:"status"`

	// Attempts is the number of attempts made; FinishReason the API's.
	Attempts     int    `json:"attempts"`
	FinishReason string `json:"finish_reason,omitempty"`
	StatusCode   int    `json:"status_code,omitempty"`

	// Error is present when the request failed.
	Error *RawError `json:"error,omitempty"`
}

// RawTiming are a request's timings in nanoseconds. A null field is a phase
// the request did not have (DNS, connect, TLS on a reused connection; TTFT
// without output; TPOT with fewer than two output tokens).
type RawTiming struct {
	QueueDelayNs     int64   `json:"queue_delay_ns"`
	DNSLookupNs      *int64  `json:"dns_lookup_ns"`
	TCPConnectNs     *int64  `json:"tcp_connect_ns"`
	TLSHandshakeNs   *int64  `json:"tls_handshake_ns"`
	RequestSendNs    *int64  `json:"request_send_ns"`
	TTFBNs           *int64  `json:"ttfb_ns"`
	TTFTNs           *int64  `json:"ttft_ns"`
	TPOTNs           *int64  `json:"tpot_ns"`
	TotalDurationNs  int64   `json:"total_duration_ns"`
	TokenLatenciesNs []int64 `json:"token_latencies_ns"`
	RetryWaitNs      int64   `json:"retry_wait_ns,omitempty"`
	ConnectionReused bool    `json:"connection_reused"`
}

// RawTokens are a request's token counts.
type RawTokens struct {
	PromptTokens     *int    `json:"prompt_tokens"` // null when the server did not report it
	CompletionTokens int     `json:"completion_tokens"`
	TotalTokens      *int    `json:"total_tokens"` // null with PromptTokens
	TokensPerSecond  float64 `json:"tokens_per_second"`

	// FromUsage says CompletionTokens came from the server's usage;
	// OutputEvents is the number of text-bearing events either way.
	FromUsage    bool `json:"from_usage"`
	OutputEvents int  `json:"output_events"`
}

// RawCost is a request's cost in USD.
type RawCost struct {
	PromptCost     float64 `json:"prompt_cost"`
	CompletionCost float64 `json:"completion_cost"`
	TotalCost      float64 `json:"total_cost"`
}

// RawError describes why a request failed.
type RawError struct {
	// Code is the error class (lens.ErrorClass).
	Code       string `json:"code"`
	Message    string `json:"message"`
	StatusCode int    `json:"status_code,omitempty"`

	// RetryAttempt is the attempt (from 1) that failed last.
	RetryAttempt int `json:"retry_attempt"`
}
