package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/stats"
)

// HTMLOptions adjusts WriteHTML. The zero value is the default report.
type HTMLOptions struct {
	// Title is the page's title and heading; empty means "LLM latency
	// report".
	Title string
}

// DefaultHTMLTitle is the title of a report whose HTMLOptions.Title is
// empty.
const DefaultHTMLTitle = "LLM latency report"

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": num,
}).Parse(htmlSource))

// WriteHTML writes f as one self-contained HTML page: inline CSS and SVG,
// no script, nothing fetched. It holds a summary table of every result; a
// comparison of the results (p50, p95 and p99 TTFT as grouped bars, and
// tokens per second); and per scenario, the CDFs of TTFT and E2E of all its
// results, then per result its distributions, errors, an ITL histogram and
// its throughput over time (requests and output tokens per second, failures
// marked).
//
// The charts are drawn from the encoded histograms: a CDF walks the
// distribution's percentiles (one step per request up to 400 requests) and
// uses a logarithmic time axis when the values span more than 1.5 decades.
// Every string from f (names, error messages, configuration) is escaped.
//
// WriteHTML returns an error when a histogram of f does not decode, or the
// write fails. A nil file, or one without results, gives a page that says
// there are no results.
func WriteHTML(w io.Writer, f *File, opts HTMLOptions) error {
	page, err := newHTMLPage(f, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, page); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

// htmlPage is what the template draws.
type htmlPage struct {
	Title       string
	Meta        []htmlFact
	Interrupted bool
	Summary     []summaryRow
	Comparison  []svgChart
	Scenarios   []htmlScenario
}

// htmlFact is one labelled value.
type htmlFact struct {
	Label, Value string
	Warn         bool
}

type summaryRow struct {
	Anchor, Color                      string
	Scenario, Provider, Model          string
	Requests, Success                  string
	TTFT50, TTFT95, TTFT99, ITL50, E2E string
	TokensPerSec, RPS, Goodput, Cost   string
	Failing                            bool
}

type htmlScenario struct {
	ID      string
	Name    string
	Config  []htmlFact
	Charts  []svgChart
	Results []htmlResult
}

type htmlResult struct {
	ID       string
	Color    string
	Provider string
	Model    string
	Facts    []htmlFact
	Stats    []statRow
	Gates    []Gate
	Sweep    []sweepRow
	Capacity string
	Errors   []errorRow
	Retries  []errorRow
	Charts   []svgChart
}

type statRow struct {
	Name                                            string
	Count, Min, Mean, P50, P90, P95, P99, P999, Max string
	Empty                                           bool
}

type errorRow struct {
	Class, Count, Share, Sample string
}

// resultName is how a result is named in legends and labels.
func resultName(r *Result) string {
	if r.Model == "" {
		return r.Provider
	}
	return r.Provider + " / " + r.Model
}

func newHTMLPage(f *File, opts HTMLOptions) (*htmlPage, error) {
	if f == nil {
		f = &File{}
	}
	page := &htmlPage{Title: opts.Title, Interrupted: f.Metadata.Interrupted}
	if page.Title == "" {
		page.Title = DefaultHTMLTitle
	}
	page.Meta = metaFacts(&f.Metadata)

	multi := len(f.Scenarios) > 1
	var ttftGroups, tpsGroups []barGroup
	idx := 0 // result number over the file: its colour
	for i := range f.Scenarios {
		sc := &f.Scenarios[i]
		hs := htmlScenario{ID: fmt.Sprintf("s%d", i+1), Name: sc.Name, Config: configFacts(&sc.Config)}
		var ttfts, e2es []cdfSeries
		for j := range sc.Results {
			r := &sc.Results[j]
			color := seriesColor(idx)
			idx++
			where := fmt.Sprintf("report: html: scenario %q, %s", sc.Name, resultName(r))
			ttft, err := r.Metrics.Latency.TTFT.Latency()
			if err != nil {
				return nil, fmt.Errorf("%s: ttft: %w", where, err)
			}
			e2e, err := r.Metrics.Latency.TotalDuration.Latency()
			if err != nil {
				return nil, fmt.Errorf("%s: e2e: %w", where, err)
			}
			itl, err := r.Metrics.Latency.InterTokenLatency.Latency()
			if err != nil {
				return nil, fmt.Errorf("%s: itl: %w", where, err)
			}
			name := resultName(r)
			ttfts = append(ttfts, cdfSeries{Label: name, Color: color, L: ttft})
			e2es = append(e2es, cdfSeries{Label: name, Color: color, L: e2e})

			hr := htmlResult{
				ID: fmt.Sprintf("%s-r%d", hs.ID, j+1), Color: color, Provider: r.Provider, Model: r.Model,
				Facts: resultFacts(&r.Metrics), Stats: statRows(&r.Metrics), Gates: r.Gates,
				Errors: errorRows(r.Metrics.Errors, r.Metrics.ErrorSamples, r.Metrics.FailedRequests),
			}
			if len(r.Metrics.Retries) > 0 {
				var n int64
				for _, k := range r.Metrics.Retries {
					n += k
				}
				hr.Retries = errorRows(r.Metrics.Retries, nil, n)
			}
			noITL := "No ITL samples: responses arrived in one piece (not streamed) or with a single text event."
			if r.Metrics.SuccessfulRequests == 0 {
				noITL = "No successful requests: no ITL to draw."
			}
			if sw := r.Sweep; sw != nil {
				hr.Capacity = sw.Summary
				hr.Sweep = sweepRows(sw)
				hr.Charts = append(hr.Charts, sweepChart(hr.ID+"-sweep", sw))
			}
			hr.Charts = append(hr.Charts,
				histogramChart(hr.ID+"-itl", "Inter-token latency", "ITL", "gaps", itl, color, noITL),
				timelineChart(hr.ID+"-timeline", "Throughput over time", r.Metrics.Timeline),
			)
			hs.Results = append(hs.Results, hr)

			label, lines := name, []string{name}
			if multi {
				label = sc.Name + " · " + name
				lines = append(lines, sc.Name)
			}
			page.Summary = append(page.Summary, summaryOf(sc.Name, r, hr.ID, color))
			ttftGroups = append(ttftGroups, barGroup{Label: label, Lines: lines, Values: []float64{
				pctOrNaN(ttft, 50), pctOrNaN(ttft, 95), pctOrNaN(ttft, 99)}})
			tps := math.NaN()
			if d := r.Metrics.Latency.Throughput; d != nil && d.Count > 0 {
				tps = d.Median
			}
			agg := math.NaN()
			if r.Metrics.TotalRequests > 0 && r.Metrics.ExecutionDurationSecs > 0 {
				agg = r.Metrics.TokenStats.OutputTokensPerSecond
			}
			tpsGroups = append(tpsGroups, barGroup{Label: label, Lines: lines, Values: []float64{tps, agg}})
		}
		if len(sc.Results) > 0 {
			hs.Charts = []svgChart{
				cdfChart(hs.ID+"-ttft", "TTFT distribution", "TTFT", ttfts),
				cdfChart(hs.ID+"-e2e", "E2E distribution", "E2E", e2es),
			}
		}
		page.Scenarios = append(page.Scenarios, hs)
	}
	if len(ttftGroups) > 0 {
		page.Comparison = []svgChart{
			groupedBars("cmp-ttft", "TTFT percentiles by model", "TTFT",
				[]legendItem{{"p50", colorP50, "bar"}, {"p95", colorP95, "bar"}, {"p99", colorP99, "bar"}},
				ttftGroups, true, fmtMs),
			groupedBars("cmp-tps", "Output tokens per second by model", "tokens/s",
				[]legendItem{{"per request (median)", colorPerReq, "bar"}, {"aggregate", colorAggregate, "bar"}},
				tpsGroups, false, func(v float64) string { return fmtRate(v) + " tokens/s" }),
		}
	}
	return page, nil
}

// pctOrNaN returns percentile p of l in milliseconds, NaN when l is empty.
func pctOrNaN(l *stats.Latency, p float64) float64 {
	if l.Count() == 0 {
		return math.NaN()
	}
	return ms(l.Percentile(p))
}

func metaFacts(m *Metadata) []htmlFact {
	var fs []htmlFact
	add := func(label, value string) {
		if value != "" {
			fs = append(fs, htmlFact{Label: label, Value: value})
		}
	}
	if !m.Timestamp.IsZero() {
		add("Started", m.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if m.DurationSecs > 0 {
		add("Duration", fmtMs(m.DurationSecs*1000))
	}
	add("Version", m.Version)
	if m.Shards > 1 {
		add("Shards merged", strconv.Itoa(m.Shards))
	}
	si := m.SystemInfo
	if si.OS != "" || si.Arch != "" {
		add("System", strings.Trim(si.OS+"/"+si.Arch, "/"))
	}
	if si.CPUCount > 0 {
		add("CPUs", strconv.Itoa(si.CPUCount))
	}
	add("Go", si.GoVersion)
	add("Host", si.Hostname)
	add("Config hash", m.ConfigHash)
	return fs
}

func configFacts(c *ScenarioConfig) []htmlFact {
	fs := []htmlFact{{Label: "Requests", Value: thousands(c.Requests)}}
	if c.RateLimit != nil {
		fs = append(fs, htmlFact{Label: "Open loop", Value: fmtRate(*c.RateLimit) + " requests/s"})
		if c.Concurrency > 0 {
			fs = append(fs, htmlFact{Label: "In flight at most", Value: strconv.Itoa(c.Concurrency)})
		}
	} else {
		fs = append(fs, htmlFact{Label: "Concurrency", Value: strconv.Itoa(c.Concurrency)})
	}
	if c.Shards > 1 {
		fs = append(fs, htmlFact{Label: "Shards", Value: strconv.Itoa(c.Shards)})
	}
	return fs
}

func fmtPct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

func fmtUSD(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v < 0.01:
		return "$" + strconv.FormatFloat(v, 'f', 6, 64)
	case v < 100:
		return "$" + strconv.FormatFloat(v, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}

// distMs returns a distribution field in milliseconds formatted, or "–" for
// an absent or empty distribution.
func distMs(d *Distribution, v func(*Distribution) float64) string {
	if d == nil || d.Count == 0 {
		return "–"
	}
	return fmtMs(v(d))
}

func summaryOf(scenario string, r *Result, anchor, color string) summaryRow {
	m := &r.Metrics
	lat := &m.Latency
	row := summaryRow{
		Anchor: anchor, Color: color, Scenario: scenario, Provider: r.Provider, Model: r.Model,
		Requests: thousands(m.TotalRequests),
		Success:  fmtPct(m.SuccessRate()),
		TTFT50:   distMs(lat.TTFT, func(d *Distribution) float64 { return d.Median }),
		TTFT95:   distMs(lat.TTFT, func(d *Distribution) float64 { return d.P95 }),
		TTFT99:   distMs(lat.TTFT, func(d *Distribution) float64 { return d.P99 }),
		ITL50:    distMs(lat.InterTokenLatency, func(d *Distribution) float64 { return d.Median }),
		E2E:      distMs(lat.TotalDuration, func(d *Distribution) float64 { return d.P95 }),
		RPS:      fmtRate(m.ActualRPS),
		Goodput:  fmtPct(m.Goodput),
		Cost:     "–",
		Failing:  m.FailedRequests > 0,
	}
	if m.TotalRequests == 0 {
		row.Success, row.Goodput = "–", "–"
	}
	row.TokensPerSec = "–"
	if d := lat.Throughput; d != nil && d.Count > 0 {
		row.TokensPerSec = fmtRate(d.Median)
	}
	if m.CostStats != nil {
		row.Cost = fmtUSD(m.CostStats.MeanCostPerRequest)
	}
	return row
}

func resultFacts(m *Metrics) []htmlFact {
	fs := []htmlFact{
		{Label: "Requests", Value: thousands(m.TotalRequests)},
		{Label: "Succeeded", Value: thousands(m.SuccessfulRequests)},
		{Label: "Failed", Value: thousands(m.FailedRequests), Warn: m.FailedRequests > 0},
	}
	if m.TotalRequests > 0 {
		fs = append(fs,
			htmlFact{Label: "Error rate", Value: fmtPct(m.ErrorRate()), Warn: m.FailedRequests > 0},
			htmlFact{Label: "Goodput", Value: fmtPct(m.Goodput)})
	}
	fs = append(fs,
		htmlFact{Label: "Measured for", Value: fmtMs(m.ExecutionDurationSecs * 1000)},
		htmlFact{Label: "Requests/s", Value: fmtRate(m.ActualRPS)})
	if m.AchievedSendRate > 0 {
		fs = append(fs, htmlFact{Label: "Send rate", Value: fmtRate(m.AchievedSendRate) + "/s"})
	}
	ts := &m.TokenStats
	fs = append(fs,
		htmlFact{Label: "Input tokens", Value: fmtKnown(ts.TotalPromptTokens)},
		htmlFact{Label: "Output tokens", Value: thousands(ts.TotalCompletionTokens)},
		htmlFact{Label: "Output tokens/s", Value: fmtRate(ts.OutputTokensPerSecond)})
	if ts.UsageMismatches > 0 {
		fs = append(fs, htmlFact{Label: "Usage ≠ text events", Value: thousands(ts.UsageMismatches)})
	}
	if m.RetriedRequests > 0 {
		fs = append(fs, htmlFact{Label: "Retried requests", Value: thousands(m.RetriedRequests)},
			htmlFact{Label: "Attempts", Value: thousands(m.Attempts)})
	}
	if c := m.CostStats; c != nil {
		fs = append(fs,
			htmlFact{Label: "Cost", Value: fmtUSD(c.TotalCost)},
			htmlFact{Label: "Cost/request", Value: fmtUSD(c.MeanCostPerRequest)},
			htmlFact{Label: "Cost/1K tokens", Value: fmtUSD(c.CostPer1KTokens)})
	} else {
		fs = append(fs, htmlFact{Label: "Cost", Value: "price unknown"})
	}
	if !m.Started.IsZero() {
		fs = append(fs, htmlFact{Label: "Started", Value: m.Started.UTC().Format(time.RFC3339)})
	}
	return fs
}

func statRows(m *Metrics) []statRow {
	var rows []statRow
	names := map[string]string{
		"ttft": "TTFT", "e2e": "E2E", "tokens_per_second": "Tokens/s per request", "itl": "ITL",
		"tpot": "TPOT", "ttfb": "TTFB", "dns": "DNS", "connect": "Connect", "tls": "TLS",
		"queue_delay": "Queue delay", "ttft_from_intended": "TTFT from intended send",
		"e2e_from_intended": "E2E from intended send", "journey": "Journey (the caller's code)",
		"output_tokens": "Output tokens per request",
	}
	for _, nd := range m.Distributions() {
		d := nd.Dist
		name := names[nd.Name]
		if name == "" {
			name = nd.Name
		}
		row := statRow{Name: name, Count: thousands(d.Count), Empty: d.Count == 0}
		f := fmtMs
		if !d.IsLatency() {
			f = fmtRate
		}
		if d.Count == 0 {
			if nd.Name == "dns" || nd.Name == "connect" || nd.Name == "tls" {
				continue // every connection was reused: nothing to show
			}
			row.Min, row.Mean, row.P50, row.P90, row.P95, row.P99, row.P999, row.Max = "–", "–", "–", "–", "–", "–", "–", "–"
		} else {
			row.Min, row.Mean, row.P50, row.P90 = f(d.Min), f(d.Mean), f(d.Median), f(d.P90)
			row.P95, row.P99, row.P999, row.Max = f(d.P95), f(d.P99), f(d.P999), f(d.Max)
		}
		rows = append(rows, row)
	}
	return rows
}

func errorRows(counts map[string]int64, samples map[string]string, total int64) []errorRow {
	var rows []errorRow
	for _, c := range sortedKeys(counts) {
		share := "–"
		if total > 0 {
			share = fmtPct(float64(counts[c]) / float64(total))
		}
		rows = append(rows, errorRow{Class: c, Count: thousands(counts[c]), Share: share, Sample: samples[c]})
	}
	return rows
}
