package report

import (
	"fmt"
	"io"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Label names of every series.
const (
	LabelScenario = "scenario"
	LabelProvider = "provider"
	LabelModel    = "model"
)

// summaryQuantiles are the quantiles of every latency summary, with the
// Distribution field each reads.
var summaryQuantiles = []struct {
	q float64
	v func(*Distribution) float64
}{
	{0.5, func(d *Distribution) float64 { return d.Median }},
	{0.9, func(d *Distribution) float64 { return d.P90 }},
	{0.95, func(d *Distribution) float64 { return d.P95 }},
	{0.99, func(d *Distribution) float64 { return d.P99 }},
	{0.999, func(d *Distribution) float64 { return d.P999 }},
}

var resultLabels = []string{LabelScenario, LabelProvider, LabelModel}

func promDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(append([]string{}, resultLabels...), extra...), nil)
}

// promDistribution is a distribution exported as a summary: the slot of
// Metrics it reads, and the divisor from the file's unit to the metric's
// (1000 from milliseconds to seconds; a division keeps 135.397375 ms
// 0.135397375 s, where a product with 1e-3 would not).
type promDistribution struct {
	desc *prometheus.Desc
	get  func(*Metrics) *Distribution
	div  float64
}

var (
	promRequests      = promDesc("llm_requests_total", "Measured requests, by outcome (success or failure).", "outcome")
	promErrors        = promDesc("llm_request_errors_total", "Failed requests, by error class (rate_limited, timeout, http_5xx, ...).", "error_class")
	promGood          = promDesc("llm_good_requests_total", "Requests that succeeded and met every per-request SLO limit of the scenario.")
	promGoodput       = promDesc("llm_goodput_ratio", "Share of measured requests that succeeded and met every per-request SLO limit (0 to 1).")
	promErrorRatio    = promDesc("llm_error_ratio", "Share of measured requests that failed (0 to 1).")
	promAttempts      = promDesc("llm_request_attempts_total", "Attempts over all measured requests, retries included.")
	promRetried       = promDesc("llm_retried_requests_total", "Measured requests that needed more than one attempt.")
	promRetries       = promDesc("llm_request_retries_total", "Failed attempts that were retried, by error class.", "error_class")
	promTokens        = promDesc("llm_tokens_total", "Tokens of the successful requests, by type (input or output).", "type")
	promCost          = promDesc("llm_cost_usd_total", "Cost of the successful requests in US dollars, by token type (input or output); absent when the model's price is unknown.", "type")
	promRPS           = promDesc("llm_requests_per_second", "Measured requests per second of wall time of the measured phase.")
	promSendRate      = promDesc("llm_send_rate_requests_per_second", "Rate at which the measured requests were actually sent: (requests - 1) / (last send - first send).")
	promOutputTPS     = promDesc("llm_output_tokens_per_second", "Aggregate output throughput: all output tokens over the wall time of the measured phase.")
	promDuration      = promDesc("llm_run_duration_seconds", "Wall time of the measured phase.")
	promStarted       = promDesc("llm_run_start_timestamp_seconds", "When the measured phase began, in seconds since the Unix epoch.")
	promConcurrency   = promDesc("llm_concurrency", "Workers (closed loop) or cap on requests in flight (open loop) of the scenario, per shard.")
	promTargetRate    = promDesc("llm_target_rate_requests_per_second", "Open-loop arrival rate asked for, per shard; absent in closed loop.")
	promGateHolds     = promDesc("llm_gate_holds", "1 when the SLO gate holds, 0 when it is broken; outcome says whether the evidence was conclusive (pass, fail) or not (inconclusive).", "gate", "outcome")
	promGateFlakeRisk = promDesc("llm_gate_flake_risk_ratio", "Estimated probability that a fresh run of the SLO gate decides the other way.", "gate")
	promDistributions = []promDistribution{
		{promDesc("llm_ttft_seconds", "Time to first token: send to the first event carrying output text, successful requests."), func(m *Metrics) *Distribution { return m.Latency.TTFT }, 1000},
		{promDesc("llm_inter_token_latency_seconds", "Inter-token latency: one sample per gap between consecutive text events, pooled over successful requests."), func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }, 1000},
		{promDesc("llm_tpot_seconds", "Time per output token of each request: (E2E - TTFT) / (output tokens - 1)."), func(m *Metrics) *Distribution { return m.Latency.TPOT }, 1000},
		{promDesc("llm_request_duration_seconds", "End-to-end latency (E2E): send to the end of the response, successful requests."), func(m *Metrics) *Distribution { return m.Latency.TotalDuration }, 1000},
		{promDesc("llm_ttfb_seconds", "Time to the first byte of the response headers."), func(m *Metrics) *Distribution { return m.Latency.TTFB }, 1000},
		{promDesc("llm_dns_seconds", "DNS lookup time, requests that opened a connection."), func(m *Metrics) *Distribution { return m.Latency.DNS }, 1000},
		{promDesc("llm_connect_seconds", "TCP connect time, requests that opened a connection."), func(m *Metrics) *Distribution { return m.Latency.Connect }, 1000},
		{promDesc("llm_tls_seconds", "TLS handshake time, requests that opened a connection."), func(m *Metrics) *Distribution { return m.Latency.TLS }, 1000},
		{promDesc("llm_queue_delay_seconds", "Queue delay: actual send minus intended send."), func(m *Metrics) *Distribution { return m.Latency.QueueDelay }, 1000},
		{promDesc("llm_ttft_from_intended_seconds", "TTFT measured from the intended send time (open loop only): queueing and retries included."), func(m *Metrics) *Distribution { return m.Latency.TTFTFromIntended }, 1000},
		{promDesc("llm_request_duration_from_intended_seconds", "E2E measured from the intended send time (open loop only): queueing and retries included."), func(m *Metrics) *Distribution { return m.Latency.E2EFromIntended }, 1000},
		{promDesc("llm_request_tokens_per_second", "Output tokens per second of each successful request (output tokens / E2E)."), func(m *Metrics) *Distribution { return m.Latency.Throughput }, 1},
		{promDesc("llm_request_output_tokens", "Output tokens of each successful request."), func(m *Metrics) *Distribution { return m.TokenStats.OutputTokens }, 1},
	}
)

// promCollector is a prometheus.Collector of a File's metrics. It reads the
// File on every Collect and keeps no state of its own.
type promCollector struct {
	f *File
}

// NewPrometheusCollector returns a prometheus.Collector that exports the
// results of f, for a registry or a push of the caller's own. f must not
// change while the collector is in use.
//
// Every series carries the labels scenario, provider and model. Counters:
// llm_requests_total by outcome (success, failure),
// llm_request_errors_total by error_class, llm_good_requests_total,
// llm_request_attempts_total, llm_retried_requests_total,
// llm_request_retries_total by error_class, llm_tokens_total by type (input,
// output) and, when the model's price is known, llm_cost_usd_total by type.
// Gauges: llm_goodput_ratio, llm_error_ratio, llm_requests_per_second,
// llm_send_rate_requests_per_second, llm_output_tokens_per_second,
// llm_run_duration_seconds, llm_run_start_timestamp_seconds,
// llm_concurrency, in open loop llm_target_rate_requests_per_second, and
// for each SLO gate llm_gate_holds (labels gate and outcome) and
// llm_gate_flake_risk_ratio (label gate).
//
// Distributions are summaries: llm_ttft_seconds,
// llm_inter_token_latency_seconds, llm_tpot_seconds,
// llm_request_duration_seconds (E2E), llm_ttfb_seconds, llm_dns_seconds,
// llm_connect_seconds, llm_tls_seconds, llm_queue_delay_seconds, in open loop
// llm_ttft_from_intended_seconds and
// llm_request_duration_from_intended_seconds, and per request
// llm_request_tokens_per_second and llm_request_output_tokens. Each quantile
// (0.5, 0.9, 0.95, 0.99, 0.999) is the HDR histogram's own percentile, the
// number the report and the SLO assertions show, to within 0.1%; _count is
// the sample count and _sum is count × mean. An empty distribution has a
// count of 0 and no quantiles.
//
// Summaries are the faithful form of a finished run. Classic histogram
// buckets would turn exact percentiles into interpolations whose error
// depends on a bucket layout that no single choice fits (inter-token gaps of
// microseconds, responses of minutes), and native histograms have no text
// form. What summaries cannot do, aggregate across machines, lens does
// losslessly before export: merge the shards' result files and export the
// merged one.
func NewPrometheusCollector(f *File) prometheus.Collector { return promCollector{f} }

// Describe sends the descriptor of every metric the collector may export.
func (c promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{promRequests, promErrors, promGood, promGoodput, promErrorRatio,
		promAttempts, promRetried, promRetries, promTokens, promCost, promRPS, promSendRate, promOutputTPS,
		promDuration, promStarted, promConcurrency, promTargetRate, promGateHolds, promGateFlakeRisk} {
		ch <- d
	}
	for _, d := range promDistributions {
		ch <- d.desc
	}
}

// Collect sends the metrics of every result of the file.
func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	if c.f == nil {
		return
	}
	for i := range c.f.Scenarios {
		sc := &c.f.Scenarios[i]
		for j := range sc.Results {
			collectResult(ch, sc, &sc.Results[j])
		}
	}
}

func collectResult(ch chan<- prometheus.Metric, sc *Scenario, r *Result) {
	m := &r.Metrics
	lv := []string{sc.Name, r.Provider, r.Model}
	send := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, extra ...string) {
		metric, err := prometheus.NewConstMetric(desc, typ, v, append(append([]string{}, lv...), extra...)...)
		if err != nil {
			metric = prometheus.NewInvalidMetric(desc, fmt.Errorf("report: scenario %q, %s: %w", sc.Name, resultName(r), err))
		}
		ch <- metric
	}
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue

	send(promRequests, counter, float64(m.SuccessfulRequests), "success")
	send(promRequests, counter, float64(m.FailedRequests), "failure")
	for _, class := range sortedKeys(m.Errors) {
		send(promErrors, counter, float64(m.Errors[class]), class)
	}
	send(promGood, counter, float64(m.GoodRequests))
	send(promGoodput, gauge, m.Goodput)
	send(promErrorRatio, gauge, m.ErrorRate())
	send(promAttempts, counter, float64(m.Attempts))
	send(promRetried, counter, float64(m.RetriedRequests))
	for _, class := range sortedKeys(m.Retries) {
		send(promRetries, counter, float64(m.Retries[class]), class)
	}
	if n := m.TokenStats.TotalPromptTokens; n != nil {
		send(promTokens, counter, float64(*n), "input")
	}
	send(promTokens, counter, float64(m.TokenStats.TotalCompletionTokens), "output")
	if cs := m.CostStats; cs != nil {
		send(promCost, counter, cs.InputCost, "input")
		send(promCost, counter, cs.OutputCost, "output")
	}
	send(promRPS, gauge, m.ActualRPS)
	send(promSendRate, gauge, m.AchievedSendRate)
	send(promOutputTPS, gauge, m.TokenStats.OutputTokensPerSecond)
	send(promDuration, gauge, m.ExecutionDurationSecs)
	if !m.Started.IsZero() {
		send(promStarted, gauge, float64(m.Started.UnixNano())/1e9)
	}
	send(promConcurrency, gauge, float64(sc.Config.Concurrency))
	if sc.Config.RateLimit != nil {
		send(promTargetRate, gauge, *sc.Config.RateLimit)
	}
	for _, g := range r.Gates {
		holds := 0.0
		if g.Holds {
			holds = 1
		}
		send(promGateHolds, gauge, holds, g.Name, g.Outcome)
		send(promGateFlakeRisk, gauge, g.FlakeRisk, g.Name)
	}

	for _, pd := range promDistributions {
		d := pd.get(m)
		if d == nil {
			continue // not measured in this mode (open-loop only, say)
		}
		var qs map[float64]float64
		if d.Count > 0 {
			qs = make(map[float64]float64, len(summaryQuantiles))
			for _, q := range summaryQuantiles {
				qs[q.q] = q.v(d) / pd.div
			}
		}
		metric, err := prometheus.NewConstSummary(pd.desc, uint64(max(d.Count, 0)), d.Mean*float64(d.Count)/pd.div, qs, lv...)
		if err != nil {
			metric = prometheus.NewInvalidMetric(pd.desc, fmt.Errorf("report: scenario %q, %s: %w", sc.Name, resultName(r), err))
		}
		ch <- metric
	}
}

// gatherPrometheus gathers f's metrics through a pedantic registry, which
// checks them for consistency (one series per label set, valid label
// values).
func gatherPrometheus(f *File) (prometheus.Gatherer, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewPrometheusCollector(f)); err != nil {
		return nil, fmt.Errorf("report: prometheus: %w", err)
	}
	return reg, nil
}

// WritePrometheus writes the results of f as Prometheus metrics in the text
// exposition format (version 0.0.4), metric families sorted by name. See
// NewPrometheusCollector for the metrics and why latencies are summaries.
//
// It is an error when two results of f share scenario, provider and model
// (their series would collide), or a name is not valid UTF-8.
func WritePrometheus(w io.Writer, f *File) error {
	g, err := gatherPrometheus(f)
	if err != nil {
		return err
	}
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("report: prometheus: %w", err)
	}
	sort.Slice(mfs, func(i, j int) bool { return mfs[i].GetName() < mfs[j].GetName() })
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("report: write prometheus: %w", err)
		}
	}
	return nil
}
