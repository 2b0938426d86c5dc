package lens

// A BenchUnit is one number of a benchmark result line: lenstest.Bench
// reports each with b.ReportMetric under testing.B, and package report
// writes the same for a result file, so that benchstat compares the two
// alike.
type BenchUnit struct {
	// Unit is the benchmark unit: "ttft-p50-ns", "tokens/s", "errors".
	Unit string

	// Better is the direction benchstat takes as an improvement: "lower"
	// or "higher" (written as "Unit <unit> better=<Better>").
	Better string

	// Metric and Percentile name a latency percentile, reported in
	// nanoseconds. Metric is "" for tokens/s (the mean of the requests'
	// output tokens per second) and errors (the error rate, 0..1).
	Metric     Metric
	Percentile float64
}

// BenchUnits are the numbers of a benchmark result line, in order.
var BenchUnits = []BenchUnit{
	{"ttft-p50-ns", "lower", MetricTTFT, 50},
	{"ttft-p90-ns", "lower", MetricTTFT, 90},
	{"ttft-p95-ns", "lower", MetricTTFT, 95},
	{"ttft-p99-ns", "lower", MetricTTFT, 99},
	{"itl-p50-ns", "lower", MetricITL, 50},
	{"itl-p99-ns", "lower", MetricITL, 99},
	{"tpot-p50-ns", "lower", MetricTPOT, 50},
	{"tpot-p99-ns", "lower", MetricTPOT, 99},
	{"e2e-p50-ns", "lower", MetricE2E, 50},
	{"e2e-p95-ns", "lower", MetricE2E, 95},
	{"e2e-p99-ns", "lower", MetricE2E, 99},
	{"ttfb-p50-ns", "lower", MetricTTFB, 50},
	{"tokens/s", "higher", "", 0},
	{"errors", "lower", "", 0},
}

// Value returns u's number in r.
func (u BenchUnit) Value(r *Result) float64 {
	switch {
	case u.Metric != "":
		return float64(r.Latency(u.Metric).Percentile(u.Percentile).Nanoseconds())
	case u.Unit == "tokens/s":
		return r.TokensPerSecond.Mean()
	}
	return r.ErrorRate()
}
