package report

import (
	"errors"
	"fmt"
	"math"
)

// Validate checks what a reader relies on, so that a damaged or
// hand-edited file is refused instead of read into wrong numbers: the
// format and schema version, names on every scenario and result, and, for
// every result,
//
//   - counts that are not negative and add up: total = successful + failed,
//     failed = the sum of errors, good requests at most the successful ones;
//   - attempts that agree with retries: attempts − total = the sum of
//     retries, at most that many retried requests and at least one when any
//     attempt was retried;
//   - distributions whose histograms decode to the count they state, with
//     finite, ordered summaries (min ≤ max, median ≤ p90 ≤ … ≤ p999), and counts that
//     agree with the requests: E2E and output tokens hold exactly the
//     successful requests, TTFT, TPOT, TTFB, the connection phases and
//     tokens/s at most those, queue delay at most all requests; a result
//     with successful requests has its E2E distribution;
//   - token counts that add up (counted from usage + from events =
//     successful) and rates, durations, goodput and costs that are finite
//     and in range (goodput = good / total, between 0 and 1).
//
// The error names the scenario, provider and model, and what is wrong.
func (f *File) Validate() error {
	if f.Format != Format {
		return fmt.Errorf("report: %w (format %q)", ErrNotResultFile, f.Format)
	}
	if f.SchemaVersion > SchemaVersion || f.SchemaVersion < 1 {
		return &SchemaError{Version: f.SchemaVersion}
	}
	if !finite(f.Metadata.DurationSecs) || f.Metadata.DurationSecs < 0 {
		return fmt.Errorf("report: invalid result file: metadata.duration_secs %v", f.Metadata.DurationSecs)
	}
	if err := f.Metadata.checkShards(); err != nil {
		return fmt.Errorf("report: invalid result file: %w", err)
	}
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		if sc.Name == "" {
			return fmt.Errorf("report: invalid result file: scenarios[%d] has no name", i)
		}
		if j := scenarioIndex(f, sc.Name); j < i {
			return fmt.Errorf("report: invalid result file: scenario %q is there twice (scenarios[%d] and [%d])", sc.Name, j, i)
		}
		for j := range sc.Results {
			r := &sc.Results[j]
			if k := resultIndex(sc, r.Provider, r.Model); k < j {
				return fmt.Errorf("report: invalid result file: scenario %q has the result of %s/%s twice (results[%d] and [%d])", sc.Name, r.Provider, r.Model, k, j)
			}
		}
		for j := range sc.Results {
			r := &sc.Results[j]
			if r.Provider == "" {
				return fmt.Errorf("report: invalid result file: scenarios[%d].results[%d] has no provider", i, j)
			}
			if err := r.Metrics.check(); err != nil {
				return fmt.Errorf("report: invalid result file: scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
			}
			for k := range r.Gates {
				if err := r.Gates[k].check(); err != nil {
					return fmt.Errorf("report: invalid result file: scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
				}
			}
			if r.Sweep != nil {
				if err := r.Sweep.check(); err != nil {
					return fmt.Errorf("report: invalid result file: scenario %q, %s/%s: %w", sc.Name, r.Provider, r.Model, err)
				}
			}
		}
	}
	return nil
}

// check checks one result's metrics (see Validate).
func (m *Metrics) check() error {
	if m.TotalRequests < 0 || m.SuccessfulRequests < 0 || m.FailedRequests < 0 ||
		m.TotalRequests != m.SuccessfulRequests+m.FailedRequests {
		return fmt.Errorf("total_requests %d != successful %d + failed %d",
			m.TotalRequests, m.SuccessfulRequests, m.FailedRequests)
	}
	failed, err := sumCounts("errors", m.Errors)
	if err != nil {
		return err
	}
	if failed != m.FailedRequests {
		return fmt.Errorf("errors add up to %d, failed_requests is %d", failed, m.FailedRequests)
	}
	if m.GoodRequests < 0 || m.GoodRequests > m.SuccessfulRequests {
		return fmt.Errorf("good_requests %d is not between 0 and successful_requests %d", m.GoodRequests, m.SuccessfulRequests)
	}
	wantGoodput := 0.0
	if m.TotalRequests > 0 {
		wantGoodput = float64(m.GoodRequests) / float64(m.TotalRequests)
	}
	if !finite(m.Goodput) || math.Abs(m.Goodput-wantGoodput) > 1e-9 {
		return fmt.Errorf("goodput %v is not good_requests / total_requests (%v)", m.Goodput, wantGoodput)
	}
	retries, err := sumCounts("retries", m.Retries)
	if err != nil {
		return err
	}
	switch {
	case m.Attempts < m.TotalRequests:
		return fmt.Errorf("attempts %d < total_requests %d: every request makes at least one", m.Attempts, m.TotalRequests)
	case m.Attempts-m.TotalRequests != retries:
		return fmt.Errorf("attempts %d − total_requests %d != %d retries", m.Attempts, m.TotalRequests, retries)
	case m.RetriedRequests < 0 || m.RetriedRequests > retries || (retries > 0 && m.RetriedRequests == 0):
		return fmt.Errorf("retried_requests %d does not fit %d retries", m.RetriedRequests, retries)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{
		{"execution_duration_secs", m.ExecutionDurationSecs}, {"actual_rps", m.ActualRPS},
		{"achieved_send_rate", m.AchievedSendRate},
		{"token_stats.mean_tokens_per_second", m.TokenStats.MeanTokensPerSecond},
		{"token_stats.output_tokens_per_second", m.TokenStats.OutputTokensPerSecond},
	} {
		if !finite(v.x) || v.x < 0 {
			return fmt.Errorf("%s %v is not a finite number ≥ 0", v.name, v.x)
		}
	}
	if c := m.CostStats; c != nil {
		for _, x := range []float64{c.TotalCost, c.MeanCostPerRequest, c.CostPer1KTokens, c.InputCost, c.OutputCost} {
			if !finite(x) || x < 0 {
				return fmt.Errorf("cost_stats holds %v: costs are finite and ≥ 0", x)
			}
		}
	}
	if err := m.TokenStats.check(m.SuccessfulRequests); err != nil {
		return err
	}
	for _, nd := range m.Distributions() {
		if err := nd.Dist.check(); err != nil {
			return fmt.Errorf("%s: %w", nd.Name, err)
		}
	}
	if m.SuccessfulRequests > 0 && m.Latency.TotalDuration == nil {
		return fmt.Errorf("%d successful requests and no latency.total_duration", m.SuccessfulRequests)
	}
	count := func(d *Distribution) int64 {
		if d == nil {
			return 0
		}
		return d.Count
	}
	switch ok := m.Journeys - m.JourneysFailed; {
	case m.Journeys < 0 || m.JourneysFailed < 0 || ok < 0:
		return fmt.Errorf("journeys %d and journeys_failed %d are not valid counts", m.Journeys, m.JourneysFailed)
	case ok > 0 && m.Latency.Journey == nil:
		return fmt.Errorf("%d journeys succeeded and there is no latency.journey", ok)
	case m.Latency.Journey != nil && count(m.Latency.Journey) != ok:
		return fmt.Errorf("journey holds %d values, for %d journeys that succeeded", count(m.Latency.Journey), ok)
	}
	ok, all := m.SuccessfulRequests, m.TotalRequests
	for _, c := range []struct {
		name     string
		d        *Distribution
		max      int64
		exact    bool
		optional bool // may be absent even when the others are there
	}{
		{"total_duration", m.Latency.TotalDuration, ok, true, false},
		{"output_tokens", m.TokenStats.OutputTokens, ok, true, true},
		{"e2e_from_intended", m.Latency.E2EFromIntended, ok, true, true},
		{"ttft", m.Latency.TTFT, ok, false, false},
		{"ttft_from_intended", m.Latency.TTFTFromIntended, ok, false, false},
		{"tpot", m.Latency.TPOT, ok, false, false},
		{"ttfb", m.Latency.TTFB, ok, false, false},
		{"dns", m.Latency.DNS, ok, false, false},
		{"connect", m.Latency.Connect, ok, false, false},
		{"tls", m.Latency.TLS, ok, false, false},
		{"throughput", m.Latency.Throughput, ok, false, false},
		// With journeys, the queue delay is each journey's.
		{"queue_delay", m.Latency.QueueDelay, max(all, m.Journeys), false, false},
	} {
		n := count(c.d)
		if c.exact && c.d != nil && n != c.max && !(c.optional && n == 0) {
			return fmt.Errorf("%s holds %d values, for %d successful requests", c.name, n, c.max)
		}
		if n > c.max {
			return fmt.Errorf("%s holds %d values, more than the %d requests it may count", c.name, n, c.max)
		}
	}
	var ticks int64
	for i, t := range m.Timeline {
		if t.Requests < 0 || t.Failed < 0 || t.Failed > t.Requests || t.OutputTokens < 0 {
			return fmt.Errorf("timeline[%d] %+v is not a valid count", i, t)
		}
		ticks += t.Requests
	}
	if ticks > m.TotalRequests {
		return fmt.Errorf("the timeline counts %d requests, total_requests is %d", ticks, m.TotalRequests)
	}
	return nil
}

// check checks the token counts of a result with ok successful requests.
func (ts *TokenStats) check(ok int64) error {
	switch {
	case ts.CountedFromUsage < 0 || ts.CountedFromEvents < 0 || ts.CountedFromUsage+ts.CountedFromEvents != ok:
		return fmt.Errorf("token_stats: counted_from_usage %d + counted_from_events %d != %d successful requests",
			ts.CountedFromUsage, ts.CountedFromEvents, ok)
	case ts.UsageMismatches < 0 || ts.UsageMismatches > ts.CountedFromUsage:
		return fmt.Errorf("token_stats: usage_mismatches %d is not between 0 and counted_from_usage %d", ts.UsageMismatches, ts.CountedFromUsage)
	case ts.PromptTokensCounted < 0 || ts.PromptTokensCounted > ok:
		return fmt.Errorf("token_stats: prompt_tokens_counted %d is not between 0 and %d successful requests", ts.PromptTokensCounted, ok)
	case ts.TotalPromptTokens == nil && ts.PromptTokensCounted > 0:
		return fmt.Errorf("token_stats: prompt tokens counted for %d requests and total_prompt_tokens null", ts.PromptTokensCounted)
	case ts.TotalCompletionTokens < 0 || (ts.TotalPromptTokens != nil && *ts.TotalPromptTokens < 0):
		return errors.New("token_stats: a negative token total")
	case ts.TotalTokens != nil && ts.TotalPromptTokens != nil && *ts.TotalTokens != *ts.TotalPromptTokens+ts.TotalCompletionTokens:
		return fmt.Errorf("token_stats: total_tokens %d != prompt %d + completion %d", *ts.TotalTokens, *ts.TotalPromptTokens, ts.TotalCompletionTokens)
	}
	return nil
}

// check decodes d's histogram and compares its count, and checks that its
// summary is finite and ordered.
func (d *Distribution) check() error {
	var n int64
	if d.IsLatency() {
		l, err := d.Latency()
		if err != nil {
			return err
		}
		n = l.Count()
	} else {
		v, err := d.Values()
		if err != nil {
			return err
		}
		n = v.Count()
	}
	if n != d.Count {
		return fmt.Errorf("histogram holds %d values, count is %d", n, d.Count)
	}
	for _, x := range []float64{d.Min, d.Max, d.Mean, d.Median, d.StdDev, d.P90, d.P95, d.P99, d.P999} {
		if !finite(x) || x < 0 {
			return fmt.Errorf("summary holds %v: values are finite and ≥ 0", x)
		}
	}
	if d.Clamped < 0 || d.Clamped > d.Count {
		return fmt.Errorf("clamped %d is not between 0 and count %d", d.Clamped, d.Count)
	}
	if d.Count > 0 && !(d.Min <= d.Max && d.Median <= d.P90 && d.P90 <= d.P95 && d.P95 <= d.P99 && d.P99 <= d.P999) {
		return fmt.Errorf("summary out of order: min %v, max %v, median %v, p90 %v, p95 %v, p99 %v, p999 %v",
			d.Min, d.Max, d.Median, d.P90, d.P95, d.P99, d.P999)
	}
	return nil
}

// sumCounts adds the counts of a by-class map, refusing negative ones.
func sumCounts(name string, m map[string]int64) (int64, error) {
	var sum int64
	for k, n := range m {
		if n < 0 {
			return 0, fmt.Errorf("%s[%q] is %d", name, k, n)
		}
		sum += n
	}
	return sum, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkShards checks ShardCount and ShardIndexes (see Metadata).
func (m Metadata) checkShards() error {
	if m.ShardCount < 0 || (m.ShardCount == 0) != (len(m.ShardIndexes) == 0) {
		return fmt.Errorf("metadata.shard_count %d with %d shard_indexes", m.ShardCount, len(m.ShardIndexes))
	}
	for k, i := range m.ShardIndexes {
		if i < 0 || i >= m.ShardCount || k > 0 && i <= m.ShardIndexes[k-1] {
			return fmt.Errorf("metadata.shard_indexes %v: want distinct indexes within 0..%d, in order", m.ShardIndexes, m.ShardCount-1)
		}
	}
	return nil
}
