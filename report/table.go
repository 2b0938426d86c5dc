package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"
)

// TableOptions configure WriteTable.
type TableOptions struct {
	// Color adds ANSI colours and bold. The caller decides, usually from
	// whether the output is a terminal and NO_COLOR is unset.
	Color bool
}

// WriteTable writes f as the console report: for each scenario, a block per
// provider and model with a box-drawn table of TTFT, total duration,
// tokens/sec, inter-token latency, TPOT and TTFB (min, mean, median, p95,
// p99; durations in ms), then token usage, cost, success rate and error
// breakdown; and last a comparative summary of every result. Columns are
// sized to their contents by display width, so names in any script line up.
func WriteTable(w io.Writer, f *File, opts TableOptions) error {
	bw := bufio.NewWriter(w)
	st := styler(opts.Color)
	rule := strings.Repeat("=", 37)
	fmt.Fprintln(bw, st.bold("LLM Latency Lens - Benchmark Results"))
	fmt.Fprintln(bw, rule)
	if f.Metadata.Interrupted {
		fmt.Fprintln(bw, st.yellow("Interrupted: these are the requests measured until the run was stopped."))
	}
	for i := range f.Scenarios {
		writeScenarioTable(bw, &f.Scenarios[i], st)
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, rule)
	fmt.Fprintln(bw, st.bold("Comparative Summary"))
	writeSummaryTable(bw, f, st)
	return bw.Flush()
}

func writeScenarioTable(w io.Writer, sc *Scenario, st styler) {
	var dur float64
	var made int64
	for _, r := range sc.Results {
		dur = max(dur, r.Metrics.ExecutionDurationSecs)
		made = max(made, r.Metrics.TotalRequests)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s %s\n", st.bold("Scenario:"), sc.Name)
	// The requests made; and the number asked for when a run (interrupted,
	// or bounded by time) made another number.
	requests := thousands(made)
	if asked := sc.Config.Requests; asked > 0 && asked != made {
		requests += " of " + thousands(asked) + " asked"
	}
	line := fmt.Sprintf("Duration: %.1fs | Requests: %s", dur, requests)
	if sc.Config.RateLimit == nil || sc.Config.Concurrency > 0 {
		line += fmt.Sprintf(" | Concurrency: %d", sc.Config.Concurrency)
	}
	if sc.Config.RateLimit != nil {
		line += fmt.Sprintf(" | Rate: %s/s", trimFloat(*sc.Config.RateLimit))
	}
	if sc.Config.Shards > 1 {
		line += fmt.Sprintf(" | Shards: %d", sc.Config.Shards)
	}
	fmt.Fprintln(w, line)
	for i := range sc.Results {
		writeResultTable(w, sc, &sc.Results[i], st)
	}
}

// tableRow is one distribution row of the per-result table.
type tableRow struct {
	label string
	dist  func(*Metrics) *Distribution
}

var resultRows = []tableRow{
	{"TTFT (ms)", func(m *Metrics) *Distribution { return m.Latency.TTFT }},
	{"Total Duration (ms)", func(m *Metrics) *Distribution { return m.Latency.TotalDuration }},
	{"Tokens/sec", func(m *Metrics) *Distribution { return m.Latency.Throughput }},
	{"Inter-token (ms)", func(m *Metrics) *Distribution { return m.Latency.InterTokenLatency }},
	{"TPOT (ms)", func(m *Metrics) *Distribution { return m.Latency.TPOT }},
	{"TTFB (ms)", func(m *Metrics) *Distribution { return m.Latency.TTFB }},
}

func writeResultTable(w io.Writer, sc *Scenario, r *Result, st styler) {
	m := &r.Metrics
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s %s | %s %s\n", st.bold("Provider:"), r.Provider, st.bold("Model:"), r.Model)
	t := boxTable{
		header:   []string{"Metric", "Min", "Mean", "Median", "p95", "p99"},
		minWidth: []int{20, 8, 8, 8, 8, 8},
	}
	for _, row := range resultRows {
		d := row.dist(m)
		if d == nil || d.Count == 0 {
			t.rows = append(t.rows, []string{row.label, "-", "-", "-", "-", "-"})
			continue
		}
		t.rows = append(t.rows, []string{row.label, oneDecimal(d.Min), oneDecimal(d.Mean), oneDecimal(d.Median), oneDecimal(d.P95), oneDecimal(d.P99)})
	}
	if d := m.Latency.Journey; d != nil && d.Count > 0 {
		t.rows = append(t.rows, []string{"Journey (ms)", oneDecimal(d.Min), oneDecimal(d.Mean), oneDecimal(d.Median), oneDecimal(d.P95), oneDecimal(d.P99)})
	}
	t.write(w, st)
	if m.Journeys > 0 {
		line := fmt.Sprintf("Journeys: %s, %s failed", thousands(m.Journeys), thousands(m.JourneysFailed))
		if m.JourneyError != "" {
			line += " (first: " + m.JourneyError + ")"
		}
		fmt.Fprintln(w, line)
	}

	ts := &m.TokenStats
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.bold("Token Usage:"))
	fmt.Fprintf(w, "  Prompt: %s | Completion: %s tokens | Total: %s\n",
		knownTokens(ts.TotalPromptTokens), thousands(ts.TotalCompletionTokens), knownTokens(ts.TotalTokens))
	if ts.TotalPromptTokens != nil && ts.PromptTokensCounted < m.SuccessfulRequests {
		fmt.Fprintf(w, "  Prompt tokens reported for %s of %s requests\n", thousands(ts.PromptTokensCounted), thousands(m.SuccessfulRequests))
	}
	if ts.CountedFromEvents > 0 || ts.UsageMismatches > 0 {
		line := fmt.Sprintf("  Counted from usage: %s | from events: %s | usage ≠ events: %s",
			thousands(ts.CountedFromUsage), thousands(ts.CountedFromEvents), thousands(ts.UsageMismatches))
		fmt.Fprintln(w, line)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, st.bold("Cost Analysis:"))
	if c := m.CostStats; c != nil {
		fmt.Fprintf(w, "  Total Cost: %s | Cost/Request: %s | Cost/1K tokens: %s\n",
			usd(c.TotalCost), usd(c.MeanCostPerRequest), usd(c.CostPer1KTokens))
	} else {
		fmt.Fprintf(w, "  %s\n", st.yellow("Cost: unknown price"))
	}

	fmt.Fprintln(w)
	rate := m.SuccessRate()
	success := fmt.Sprintf("%.1f%% (%d/%d)", rate*100, m.SuccessfulRequests, m.TotalRequests)
	switch {
	case m.TotalRequests == 0:
	case rate >= 0.99:
		success = st.green(success)
	case rate >= 0.95:
		success = st.yellow(success)
	default:
		success = st.red(success)
	}
	errs := fmt.Sprintf("%d (%.1f%%)", m.FailedRequests, m.ErrorRate()*100)
	if m.FailedRequests > 0 {
		errs = st.red(errs)
	}
	fmt.Fprintf(w, "%s %s | Errors: %s\n", st.bold("Success Rate:"), success, errs)
	if m.GoodRequests != m.SuccessfulRequests {
		fmt.Fprintf(w, "Goodput: %.1f%% (%d/%d met the SLO)\n", m.Goodput*100, m.GoodRequests, m.TotalRequests)
	}
	if len(m.Errors) > 0 {
		fmt.Fprintln(w, "Error Breakdown:")
		for _, c := range sortedKeys(m.Errors) {
			fmt.Fprintf(w, "  - %s: %d\n", c, m.Errors[c])
		}
	}
	if m.RetriedRequests > 0 {
		parts := make([]string, 0, len(m.Retries))
		for _, c := range sortedKeys(m.Retries) {
			parts = append(parts, fmt.Sprintf("%s: %d", c, m.Retries[c]))
		}
		fmt.Fprintf(w, "Retries: %d requests retried, %d attempts (%s)\n", m.RetriedRequests, m.Attempts, strings.Join(parts, ", "))
	}
	if sc.Config.RateLimit != nil && m.AchievedSendRate > 0 {
		fmt.Fprintf(w, "Send rate: %.2f/s achieved of %s/s asked\n", m.AchievedSendRate, trimFloat(*sc.Config.RateLimit))
	}
	if len(r.Gates) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, st.bold("Gates:"))
		for _, g := range r.Gates {
			mark := st.green("PASS")
			switch {
			case !g.Holds:
				mark = st.red("FAIL")
			case g.Outcome == "inconclusive":
				mark = st.yellow("PASS")
			}
			fmt.Fprintf(w, "  %s %s\n", mark, g.Summary)
		}
	}
	if r.Sweep != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s the highest %s at which every gate holds (the figures above are at the capacity)\n", st.bold("Capacity search:"), loadName(r.Sweep))
		_ = WriteSweepTable(w, r.Sweep) // w's errors surface at its Flush
	}
}

// loadName is what a sweep varied, in words.
func loadName(s *Sweep) string {
	if s.Mode == "rate" {
		return "arrival rate"
	}
	return "number of users"
}

func writeSummaryTable(w io.Writer, f *File, st styler) {
	t := boxTable{
		header:   []string{"Provider - Model", "TTFT p50", "Throughput", "Cost/Req", "Success"},
		minWidth: []int{32, 8, 8, 8, 8},
	}
	for _, sc := range f.Scenarios {
		for _, r := range sc.Results {
			m := &r.Metrics
			name := r.Provider + " - " + r.Model
			if len(f.Scenarios) > 1 {
				name = sc.Name + ": " + name
			}
			ttft, tps, cost := "-", "-", "n/a"
			if d := m.Latency.TTFT; d != nil && d.Count > 0 {
				ttft = oneDecimal(d.Median) + "ms"
			}
			if d := m.Latency.Throughput; d != nil && d.Count > 0 {
				tps = oneDecimal(d.Median) + " t/s"
			}
			if m.CostStats != nil {
				cost = usd(m.CostStats.MeanCostPerRequest)
			}
			t.rows = append(t.rows, []string{name, ttft, tps, cost, fmt.Sprintf("%.1f%%", m.SuccessRate()*100)})
		}
	}
	t.write(w, st)
}

// boxTable is a table drawn with box-drawing characters, each column as
// wide as its widest cell (by display width) and at least minWidth.
type boxTable struct {
	header   []string
	minWidth []int
	rows     [][]string
}

func (t *boxTable) write(w io.Writer, st styler) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = runewidth.StringWidth(h)
		if i < len(t.minWidth) {
			widths[i] = max(widths[i], t.minWidth[i])
		}
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	border := func(left, mid, right string) {
		var b strings.Builder
		b.WriteString(left)
		for i, wd := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", wd+2))
		}
		b.WriteString(right)
		fmt.Fprintln(w, b.String())
	}
	line := func(cells []string, style func(string) string) {
		var b strings.Builder
		b.WriteString("│")
		for i, wd := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" ")
			b.WriteString(style(c))
			b.WriteString(strings.Repeat(" ", wd-runewidth.StringWidth(c)))
			b.WriteString(" │")
		}
		fmt.Fprintln(w, b.String())
	}
	border("┌", "┬", "┐")
	line(t.header, st.bold)
	border("├", "┼", "┤")
	for _, row := range t.rows {
		line(row, func(s string) string { return s })
	}
	border("└", "┴", "┘")
}

// styler wraps text in ANSI escapes when true.
type styler bool

func (s styler) wrap(code, text string) string {
	if !s || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s styler) bold(t string) string   { return s.wrap("1", t) }
func (s styler) red(t string) string    { return s.wrap("31", t) }
func (s styler) green(t string) string  { return s.wrap("32", t) }
func (s styler) yellow(t string) string { return s.wrap("33", t) }

// oneDecimal formats x with one decimal ("432.1"); values below 0.1 but not
// 0 get two significant figures so they do not print as 0.0.
func oneDecimal(x float64) string {
	if x != 0 && math.Abs(x) < 0.05 {
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// knownTokens formats a token count that may be unknown (nil).
func knownTokens(n *int64) string {
	if n == nil {
		return "unknown (not in the usage)"
	}
	return thousands(*n) + " tokens"
}

// thousands formats n with comma separators ("15,234").
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// usd formats a cost in dollars: two decimals from $1, three from $0.001,
// else six.
func usd(x float64) string {
	switch ax := math.Abs(x); {
	case ax == 0:
		return "$0.00"
	case ax >= 1:
		return fmt.Sprintf("$%.2f", x)
	case ax >= 0.001:
		return fmt.Sprintf("$%.3f", x)
	}
	return fmt.Sprintf("$%.6f", x)
}

// trimFloat formats x without trailing zeros ("10", "2.5").
func trimFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
