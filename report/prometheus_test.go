package report_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
)

// promFile is a file of two results: a priced streaming chat with
// rate-limited failures, and an unpriced, non-streaming open-loop batch.
func promFile(t testing.TB) *report.File {
	chat := chatSynth("gpt-4o-mini", 100, 1)
	chat.failEvery, chat.failClass, chat.failMessage = 10, lens.ClassRateLimited, "429"
	batch := synth{scenario: "batch", provider: "openai", model: "local-llama", requests: 30, noStream: true,
		ttft: 300 * time.Millisecond, ttftSpread: 200 * time.Millisecond, tokens: 64, seconds: 3, rate: 10, seed: 3}
	return synthFile(t, chat, batch)
}

func parseProm(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse the text exposition: %v", err)
	}
	return mfs
}

// series returns the metric of mf whose labels include every label of
// want, or nil.
func series(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			if have[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return m
		}
	}
	return nil
}

func labels(scenario, provider, modelName string, extra ...string) map[string]string {
	m := map[string]string{"scenario": scenario, "provider": provider, "model": modelName}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func quantile(m *dto.Metric, q float64) (float64, bool) {
	for _, x := range m.GetSummary().GetQuantile() {
		if x.GetQuantile() == q {
			return x.GetValue(), true
		}
	}
	return 0, false
}

func TestWritePrometheus(t *testing.T) {
	f := promFile(t)
	var buf bytes.Buffer
	if err := report.WritePrometheus(&buf, f); err != nil {
		t.Fatal(err)
	}
	mfs := parseProm(t, &buf)

	wantFamilies := map[string]dto.MetricType{
		"llm_requests_total": dto.MetricType_COUNTER, "llm_request_errors_total": dto.MetricType_COUNTER,
		"llm_good_requests_total": dto.MetricType_COUNTER, "llm_request_attempts_total": dto.MetricType_COUNTER,
		"llm_retried_requests_total": dto.MetricType_COUNTER, "llm_tokens_total": dto.MetricType_COUNTER,
		"llm_cost_usd_total": dto.MetricType_COUNTER,
		"llm_goodput_ratio":  dto.MetricType_GAUGE, "llm_error_ratio": dto.MetricType_GAUGE,
		"llm_requests_per_second": dto.MetricType_GAUGE, "llm_send_rate_requests_per_second": dto.MetricType_GAUGE,
		"llm_output_tokens_per_second": dto.MetricType_GAUGE, "llm_run_duration_seconds": dto.MetricType_GAUGE,
		"llm_run_start_timestamp_seconds": dto.MetricType_GAUGE, "llm_concurrency": dto.MetricType_GAUGE,
		"llm_target_rate_requests_per_second": dto.MetricType_GAUGE,
		"llm_ttft_seconds":                    dto.MetricType_SUMMARY, "llm_inter_token_latency_seconds": dto.MetricType_SUMMARY,
		"llm_tpot_seconds": dto.MetricType_SUMMARY, "llm_request_duration_seconds": dto.MetricType_SUMMARY,
		"llm_ttfb_seconds": dto.MetricType_SUMMARY, "llm_dns_seconds": dto.MetricType_SUMMARY,
		"llm_connect_seconds": dto.MetricType_SUMMARY, "llm_tls_seconds": dto.MetricType_SUMMARY,
		"llm_queue_delay_seconds": dto.MetricType_SUMMARY, "llm_ttft_from_intended_seconds": dto.MetricType_SUMMARY,
		"llm_request_duration_from_intended_seconds": dto.MetricType_SUMMARY,
		"llm_request_tokens_per_second":              dto.MetricType_SUMMARY, "llm_request_output_tokens": dto.MetricType_SUMMARY,
	}
	var got []string
	for name, mf := range mfs {
		got = append(got, name)
		if want, ok := wantFamilies[name]; !ok {
			t.Errorf("unexpected family %s", name)
		} else if mf.GetType() != want {
			t.Errorf("%s is a %v, want a %v", name, mf.GetType(), want)
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
	for name := range wantFamilies {
		if mfs[name] == nil {
			t.Errorf("family %s is missing", name)
		}
	}
	sort.Strings(got)
	t.Logf("families: %s", strings.Join(got, " "))

	chat := &f.Scenarios[0].Results[0]
	batch := &f.Scenarios[1].Results[0]
	chatL := labels("chat", "openai", "gpt-4o-mini")
	batchL := labels("batch", "openai", "local-llama")

	// Counts.
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"llm_requests_total", labels("chat", "openai", "gpt-4o-mini", "outcome", "success"), float64(chat.Metrics.SuccessfulRequests)},
		{"llm_requests_total", labels("chat", "openai", "gpt-4o-mini", "outcome", "failure"), float64(chat.Metrics.FailedRequests)},
		{"llm_request_errors_total", labels("chat", "openai", "gpt-4o-mini", "error_class", "rate_limited"), float64(chat.Metrics.Errors["rate_limited"])},
		{"llm_requests_total", labels("batch", "openai", "local-llama", "outcome", "success"), float64(batch.Metrics.SuccessfulRequests)},
		{"llm_tokens_total", labels("chat", "openai", "gpt-4o-mini", "type", "output"), float64(chat.Metrics.TokenStats.TotalCompletionTokens)},
		{"llm_tokens_total", labels("chat", "openai", "gpt-4o-mini", "type", "input"), float64(*chat.Metrics.TokenStats.TotalPromptTokens)},
		{"llm_good_requests_total", chatL, float64(chat.Metrics.GoodRequests)},
	} {
		m := series(mfs[c.family], c.labels)
		if m == nil {
			t.Errorf("%s%v is missing", c.family, c.labels)
			continue
		}
		if v := m.GetCounter().GetValue(); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, v, c.want)
		}
	}
	if chat.Metrics.FailedRequests == 0 {
		t.Fatal("the fixture has no failures")
	}

	// Gauges.
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"llm_goodput_ratio", chatL, chat.Metrics.Goodput},
		{"llm_error_ratio", chatL, chat.Metrics.ErrorRate()},
		{"llm_requests_per_second", chatL, chat.Metrics.ActualRPS},
		{"llm_output_tokens_per_second", chatL, chat.Metrics.TokenStats.OutputTokensPerSecond},
		{"llm_target_rate_requests_per_second", batchL, 10},
		{"llm_run_start_timestamp_seconds", chatL, float64(synthStart.Unix())},
	} {
		m := series(mfs[c.family], c.labels)
		if m == nil {
			t.Errorf("%s%v is missing", c.family, c.labels)
			continue
		}
		if v := m.GetGauge().GetValue(); math.Abs(v-c.want) > 1e-9*math.Abs(c.want) {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, v, c.want)
		}
	}
	if m := series(mfs["llm_target_rate_requests_per_second"], chatL); m != nil {
		t.Errorf("a closed-loop result has a target rate: %v", m)
	}

	// Costs: present when priced, absent (not zero) when not.
	if m := series(mfs["llm_cost_usd_total"], labels("chat", "openai", "gpt-4o-mini", "type", "output")); m == nil {
		t.Error("the priced result has no output cost")
	} else if v, want := m.GetCounter().GetValue(), chat.Metrics.CostStats.OutputCost; v != want || v == 0 {
		t.Errorf("output cost = %v, want %v", v, want)
	}
	if m := series(mfs["llm_cost_usd_total"], batchL); m != nil {
		t.Errorf("the unpriced result has a cost: %v", m)
	}

	// Summaries: the file's percentiles, in seconds.
	ttft := chat.Metrics.Latency.TTFT
	m := series(mfs["llm_ttft_seconds"], chatL)
	if m == nil {
		t.Fatal("llm_ttft_seconds of the chat result is missing")
	}
	for q, want := range map[float64]float64{0.5: ttft.Median, 0.9: ttft.P90, 0.95: ttft.P95, 0.99: ttft.P99, 0.999: ttft.P999} {
		got, ok := quantile(m, q)
		if !ok || got != want/1000 {
			t.Errorf("llm_ttft_seconds{quantile=%v} = %v (present %v), want %v", q, got, ok, want/1000)
		}
	}
	if got := m.GetSummary().GetSampleCount(); got != uint64(ttft.Count) || got == 0 {
		t.Errorf("llm_ttft_seconds_count = %d, want %d", got, ttft.Count)
	}
	if got, want := m.GetSummary().GetSampleSum(), ttft.Mean*float64(ttft.Count)/1000; math.Abs(got-want) > 1e-9*want {
		t.Errorf("llm_ttft_seconds_sum = %v, want %v", got, want)
	}
	tps := series(mfs["llm_request_tokens_per_second"], chatL)
	if got, ok := quantile(tps, 0.5); !ok || got != chat.Metrics.Latency.Throughput.Median {
		t.Errorf("llm_request_tokens_per_second{quantile=0.5} = %v, want %v", got, chat.Metrics.Latency.Throughput.Median)
	}

	// An empty distribution has a count of 0 and no quantiles.
	itl := series(mfs["llm_inter_token_latency_seconds"], batchL)
	if itl == nil {
		t.Fatal("llm_inter_token_latency_seconds of the batch result is missing")
	}
	if n, qs := itl.GetSummary().GetSampleCount(), itl.GetSummary().GetQuantile(); n != 0 || len(qs) != 0 {
		t.Errorf("ITL of a non-streamed result: count %d, quantiles %v; want 0 and none", n, qs)
	}
	// Open-loop distributions exist for the open-loop result only.
	if series(mfs["llm_ttft_from_intended_seconds"], batchL) == nil {
		t.Error("the open-loop result has no llm_ttft_from_intended_seconds")
	}
	if m := series(mfs["llm_ttft_from_intended_seconds"], chatL); m != nil {
		t.Errorf("the closed-loop result has llm_ttft_from_intended_seconds: %v", m)
	}
}

func TestWritePrometheusLabelValues(t *testing.T) {
	s := chatSynth(`model "quoted" \ back`+"\nslash", 10, 1)
	s.scenario = `chat{a="b"}, ümlaut`
	f := synthFile(t, s)
	var buf bytes.Buffer
	if err := report.WritePrometheus(&buf, f); err != nil {
		t.Fatal(err)
	}
	mfs := parseProm(t, &buf)
	if series(mfs["llm_ttft_seconds"], labels(s.scenario, "openai", s.model)) == nil {
		t.Errorf("label values did not survive the text format:\n%s", buf.String())
	}
}

func TestWritePrometheusErrors(t *testing.T) {
	dup := synthFile(t, chatSynth("gpt-4o-mini", 10, 1), chatSynth("gpt-4o-mini", 10, 2))
	if err := report.WritePrometheus(io.Discard, dup); err == nil {
		t.Error("two results with the same labels: no error")
	}
	bad := synthFile(t, chatSynth("gpt-4o-mini", 10, 1))
	bad.Scenarios[0].Name = "bad \xff utf-8"
	if err := report.WritePrometheus(io.Discard, bad); err == nil {
		t.Error("a scenario name that is not UTF-8: no error")
	}
	if err := report.WritePrometheus(failingWriter{errors.New("disk full")}, promFile(t)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: err = %v", err)
	}
}

func TestWritePrometheusEmpty(t *testing.T) {
	for _, f := range []*report.File{nil, {}, {Scenarios: []report.Scenario{{Name: "empty"}}}} {
		var buf bytes.Buffer
		if err := report.WritePrometheus(&buf, f); err != nil {
			t.Errorf("WritePrometheus(%v): %v", f, err)
		}
		if buf.Len() != 0 {
			t.Errorf("WritePrometheus of a file without results wrote:\n%s", buf.String())
		}
	}
}
