package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"
)

// CSVOptions configure WriteCSV.
type CSVOptions struct {
	// Raw writes one row per raw request (f.RawRequests, see EmbedRaw)
	// instead of one row per result.
	Raw bool
}

// csvDists are the distributions of an aggregate row, with the column
// prefix and unit suffix they get.
var csvDists = []struct {
	prefix, unit string
	dist         func(*Metrics) *Distribution
}{
	{"ttft", "ms", func(m *Metrics) *Distribution { return m.Latency.TTFT }},
	{"e2e", "ms", func(m *Metrics) *Distribution { return m.Latency.TotalDuration }},
	{"itl", "ms", func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }},
	{"tpot", "ms", func(m *Metrics) *Distribution { return m.Latency.TPOT }},
	{"ttfb", "ms", func(m *Metrics) *Distribution { return m.Latency.TTFB }},
	{"queue_delay", "ms", func(m *Metrics) *Distribution { return m.Latency.QueueDelay }},
	{"tokens_per_second", "", func(m *Metrics) *Distribution { return m.Latency.Throughput }},
}

var csvStats = []struct {
	name string
	get  func(*Distribution) float64
}{
	{"count", func(d *Distribution) float64 { return float64(d.Count) }},
	{"min", func(d *Distribution) float64 { return d.Min }},
	{"mean", func(d *Distribution) float64 { return d.Mean }},
	{"p50", func(d *Distribution) float64 { return d.Median }},
	{"p90", func(d *Distribution) float64 { return d.P90 }},
	{"p95", func(d *Distribution) float64 { return d.P95 }},
	{"p99", func(d *Distribution) float64 { return d.P99 }},
	{"p999", func(d *Distribution) float64 { return d.P999 }},
	{"max", func(d *Distribution) float64 { return d.Max }},
	{"stddev", func(d *Distribution) float64 { return d.StdDev }},
}

// WriteCSV writes f as CSV with a header row: by default one row per
// result (scenario, provider, model, counts, rates, the statistics of
// TTFT, E2E, ITL, TPOT, TTFB and queue delay in ms and of tokens/s, token
// totals and costs in USD, empty when the price is unknown); with
// opts.Raw, one row per raw request, as WriteRawCSV writes them.
func WriteCSV(w io.Writer, f *File, opts CSVOptions) error {
	if opts.Raw {
		return writeRawCSV(w, RawRequests(f.RawRequests))
	}
	cw := csv.NewWriter(w)
	header := []string{"scenario", "provider", "model", "total_requests", "successful_requests", "failed_requests",
		"error_rate", "goodput", "execution_duration_secs", "actual_rps", "achieved_send_rate"}
	for _, d := range csvDists {
		for _, s := range csvStats {
			col := d.prefix + "_" + s.name
			if d.unit != "" && s.name != "count" {
				col += "_" + d.unit
			}
			header = append(header, col)
		}
	}
	header = append(header, "prompt_tokens", "completion_tokens", "total_tokens", "output_tokens_per_second",
		"attempts", "retried_requests", "total_cost_usd", "cost_per_request_usd", "cost_per_1k_tokens_usd", "gates")
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			m := &r.Metrics
			row := []string{sc.Name, r.Provider, r.Model, itoa(m.TotalRequests), itoa(m.SuccessfulRequests), itoa(m.FailedRequests),
				ftoa(m.ErrorRate()), ftoa(m.Goodput), ftoa(m.ExecutionDurationSecs), ftoa(m.ActualRPS), ftoa(m.AchievedSendRate)}
			for _, cd := range csvDists {
				d := cd.dist(m)
				for _, s := range csvStats {
					if d == nil {
						row = append(row, "")
						continue
					}
					row = append(row, ftoa(s.get(d)))
				}
			}
			ts := &m.TokenStats
			row = append(row, optNanos(ts.TotalPromptTokens), itoa(ts.TotalCompletionTokens), optNanos(ts.TotalTokens),
				ftoa(ts.OutputTokensPerSecond), itoa(m.Attempts), itoa(m.RetriedRequests))
			if c := m.CostStats; c != nil {
				row = append(row, ftoa(c.TotalCost), ftoa(c.MeanCostPerRequest), ftoa(c.CostPer1KTokens))
			} else {
				row = append(row, "", "", "")
			}
			row = append(row, gatesCell(r.Gates))
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("report: write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

// WriteRawCSV writes the records rr reads as CSV, one row per request,
// without holding them in memory: request_id, scenario, provider, model,
// timestamp (RFC 3339, UTC), status, error_code, status_code, attempts, the
// timings in ns (empty when absent), token counts, token source
// ("usage" or "events"), cost in USD (empty when the price is unknown) and
// error message.
func WriteRawCSV(w io.Writer, rr *RawReader) error {
	if err := writeRawCSV(w, rr.All()); err != nil {
		return err
	}
	return rr.Err()
}

func writeRawCSV(w io.Writer, reqs iter.Seq[*RawRequest]) error {
	cw := csv.NewWriter(w)
	header := []string{"request_id", "scenario", "provider", "model", "timestamp", "warmup", "status", "error_code", "status_code",
		"attempts", "queue_delay_ns", "dns_ns", "connect_ns", "tls_ns", "request_send_ns", "ttfb_ns", "ttft_ns", "tpot_ns",
		"total_duration_ns", "connection_reused", "prompt_tokens", "completion_tokens", "output_events", "token_source",
		"tokens_per_second", "cost_usd", "error_message"}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	var werr error
	reqs(func(r *RawRequest) bool {
		code, msg := "", ""
		if r.Error != nil {
			code, msg = r.Error.Code, r.Error.Message
		}
		source := "events"
		if r.Tokens.FromUsage {
			source = "usage"
		}
		cost := ""
		if r.Cost != nil {
			cost = ftoa(r.Cost.TotalCost)
		}
		t := &r.Timing
		row := []string{r.RequestID, r.Scenario, r.Provider, r.Model, r.Timestamp.UTC().Format(time.RFC3339Nano),
			strconv.FormatBool(r.Warmup), r.Status, code, strconv.Itoa(r.StatusCode), strconv.Itoa(r.Attempts),
			itoa(t.QueueDelayNs), optNanos(t.DNSLookupNs), optNanos(t.TCPConnectNs), optNanos(t.TLSHandshakeNs),
			optNanos(t.RequestSendNs), optNanos(t.TTFBNs), optNanos(t.TTFTNs), optNanos(t.TPOTNs), itoa(t.TotalDurationNs),
			strconv.FormatBool(t.ConnectionReused), optInt(r.Tokens.PromptTokens), strconv.Itoa(r.Tokens.CompletionTokens),
			strconv.Itoa(r.Tokens.OutputEvents), source, ftoa(r.Tokens.TokensPerSecond), cost, msg}
		if err := cw.Write(row); err != nil {
			werr = fmt.Errorf("report: write csv: %w", err)
			return false
		}
		return true
	})
	if werr != nil {
		return werr
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// optInt is *p in decimal, or "" for nil (unknown).
func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// optNanos is *p in decimal, or "" for nil (absent).
func optNanos(p *int64) string {
	if p == nil {
		return ""
	}
	return itoa(*p)
}
