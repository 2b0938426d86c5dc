package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes f as GitHub-flavoured Markdown, for pull-request
// comments and CI step summaries: a heading and a table per scenario, one
// row per provider and model with requests, success rate, TTFT p50/p95/p99,
// ITL p50, TPOT p50, E2E p50/p95, tokens/s p50 and cost per request
// (latencies in ms).
func WriteMarkdown(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "## LLM Latency Lens results")
	fmt.Fprintln(bw)
	if f.Metadata.Interrupted {
		fmt.Fprintln(bw, "> **Interrupted:** these are the requests measured until the run was stopped.")
		fmt.Fprintln(bw)
	}
	for _, sc := range f.Scenarios {
		shape := fmt.Sprintf("%d requests", sc.Config.Requests)
		if ran := mostRequests(sc); ran > sc.Config.Requests {
			shape += fmt.Sprintf(", up to %d with the gates' top-ups", ran)
		}
		if sc.Config.RateLimit == nil || sc.Config.Concurrency > 0 {
			shape += fmt.Sprintf(", concurrency %d", sc.Config.Concurrency)
		}
		if sc.Config.RateLimit != nil {
			shape += fmt.Sprintf(", rate %s/s", trimFloat(*sc.Config.RateLimit))
		}
		fmt.Fprintf(bw, "### Scenario `%s` (%s)\n\n", mdCode(sc.Name), shape)
		fmt.Fprintln(bw, "| Provider / Model | Requests | Success | TTFT p50 | TTFT p95 | TTFT p99 | ITL p50 | TPOT p50 | E2E p50 | E2E p95 | Tokens/s | Cost/req |")
		fmt.Fprintln(bw, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, r := range sc.Results {
			m := &r.Metrics
			cost := "n/a"
			if m.CostStats != nil {
				cost = usd(m.CostStats.MeanCostPerRequest)
			}
			fmt.Fprintf(bw, "| %s / %s | %d | %.1f%% | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				mdText(r.Provider), mdText(r.Model), m.TotalRequests, m.SuccessRate()*100,
				mdMs(m.Latency.TTFT, 50), mdMs(m.Latency.TTFT, 95), mdMs(m.Latency.TTFT, 99),
				mdMs(m.Latency.InterTokenLatency, 50), mdMs(m.Latency.TPOT, 50),
				mdMs(m.Latency.TotalDuration, 50), mdMs(m.Latency.TotalDuration, 95),
				mdNum(m.Latency.Throughput), cost)
		}
		fmt.Fprintln(bw)
		for _, r := range sc.Results {
			if len(r.Gates) == 0 {
				continue
			}
			fmt.Fprintf(bw, "Gates of %s / %s:\n\n", mdText(r.Provider), mdText(r.Model))
			fmt.Fprintln(bw, "| Gate | Verdict | Estimate | Interval | Requests | Flake risk |")
			fmt.Fprintln(bw, "|---|---|--:|---|--:|--:|")
			for _, g := range r.Gates {
				mark := "✅ pass"
				if !g.Holds {
					mark = "❌ fail"
				}
				if g.Outcome == "inconclusive" {
					mark += " (inconclusive)"
				}
				est, iv := fmt.Sprintf("%.3f ms", g.EstimateMs), fmt.Sprintf("%.3f .. ", g.LoMs)
				if g.HiMs != nil {
					iv += fmt.Sprintf("%.3f ms", *g.HiMs)
				} else {
					iv += "∞"
				}
				if g.MaxErrorRate != nil {
					est, iv = fmt.Sprintf("%.2f%%", 100*g.Rate), fmt.Sprintf("%.2f%% .. %.2f%%", 100*g.RateLo, 100*g.RateHi)
				}
				fmt.Fprintf(bw, "| %s | %s | %s | %s | %d | %.2f%% |\n", mdText(g.Description), mark, est, iv, g.Requests, 100*g.FlakeRisk)
			}
			fmt.Fprintln(bw)
		}
		for _, r := range sc.Results {
			if len(r.Metrics.Errors) == 0 {
				continue
			}
			parts := make([]string, 0, len(r.Metrics.Errors))
			for _, c := range sortedKeys(r.Metrics.Errors) {
				parts = append(parts, fmt.Sprintf("%s: %d", c, r.Metrics.Errors[c]))
			}
			fmt.Fprintf(bw, "Errors of %s / %s: %s\n\n", mdText(r.Provider), mdText(r.Model), strings.Join(parts, ", "))
		}
	}
	return bw.Flush()
}

// WriteCompareMarkdown writes c as Markdown: a verdict line, then a table
// per result of every compared metric with old, new, change, p-value and
// verdict.
func WriteCompareMarkdown(w io.Writer, c *Comparison) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "## LLM Latency Lens comparison")
	fmt.Fprintln(bw)
	switch n := len(c.Regressions()); {
	case n > 0:
		fmt.Fprintf(bw, "**%d regression(s)**: significant at α = %g and worse by more than %g%%.\n\n", n, c.Alpha, c.Threshold*100)
	case len(c.Incomparable) > 0:
		fmt.Fprintf(bw, "**Not comparable**: %d thing(s) could not be compared (listed below); no regression among the rest (α = %g, threshold %g%%).\n\n",
			len(c.Incomparable), c.Alpha, c.Threshold*100)
	default:
		fmt.Fprintf(bw, "No regression (α = %g, threshold %g%%).\n\n", c.Alpha, c.Threshold*100)
	}
	for _, g := range groupDeltas(c.Deltas) {
		fmt.Fprintf(bw, "### `%s` %s / %s\n\n", mdCode(g[0].Scenario), mdText(g[0].Provider), mdText(g[0].Model))
		fmt.Fprintln(bw, "| Metric | Old | New | Change | p | Verdict |")
		fmt.Fprintln(bw, "|---|--:|--:|--:|--:|---|")
		for _, d := range g {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s |\n", d.Metric, formatValue(d.Old, d.Unit), formatValue(d.New, d.Unit),
				formatChange(d.Change), formatP(d), verdict(d, true))
		}
		fmt.Fprintln(bw)
	}
	for _, s := range c.Incomparable {
		fmt.Fprintf(bw, "- not compared: %s\n", mdText(s))
	}
	return bw.Flush()
}

// WriteCompare writes c as console text: a table per result of every
// compared metric with old, new, change, p-value and verdict, then a
// verdict line.
func WriteCompare(w io.Writer, c *Comparison, opts TableOptions) error {
	bw := bufio.NewWriter(w)
	st := styler(opts.Color)
	for _, g := range groupDeltas(c.Deltas) {
		fmt.Fprintf(bw, "%s %s | %s %s | %s %s\n", st.bold("Scenario:"), g[0].Scenario, st.bold("Provider:"), g[0].Provider, st.bold("Model:"), g[0].Model)
		t := boxTable{header: []string{"Metric", "Old", "New", "Change", "p", "Verdict"}, minWidth: []int{12, 8, 8, 8, 8, 8}}
		for _, d := range g {
			t.rows = append(t.rows, []string{d.Metric, formatValue(d.Old, d.Unit), formatValue(d.New, d.Unit),
				formatChange(d.Change), formatP(d), verdict(d, false)})
		}
		t.write(bw, st)
		fmt.Fprintln(bw)
	}
	for _, s := range c.Incomparable {
		fmt.Fprintf(bw, "not compared: %s\n", s)
	}
	switch n := len(c.Regressions()); {
	case n > 0:
		fmt.Fprintln(bw, st.red(fmt.Sprintf("%d regression(s): significant at alpha %g and worse by more than %g%%", n, c.Alpha, c.Threshold*100)))
	case len(c.Incomparable) > 0:
		fmt.Fprintln(bw, st.red(fmt.Sprintf("not comparable: %d thing(s) could not be compared; no regression among the rest (alpha %g, threshold %g%%)",
			len(c.Incomparable), c.Alpha, c.Threshold*100)))
	default:
		fmt.Fprintln(bw, st.green(fmt.Sprintf("no regression (alpha %g, threshold %g%%)", c.Alpha, c.Threshold*100)))
	}
	return bw.Flush()
}

func verdict(d Delta, md bool) string {
	switch {
	case d.Regression && md:
		return "🔴 regression"
	case d.Improvement && md:
		return "🟢 improvement"
	case d.Regression:
		return "REGRESSION"
	case d.Improvement:
		return "improvement"
	case d.Significant:
		return "changed"
	}
	return ""
}

// groupDeltas splits ds into runs of the same scenario, provider and model.
func groupDeltas(ds []Delta) [][]Delta {
	var out [][]Delta
	for i, d := range ds {
		if i == 0 || d.Scenario != ds[i-1].Scenario || d.Provider != ds[i-1].Provider || d.Model != ds[i-1].Model {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], d)
	}
	return out
}

func mdMs(d *Distribution, p float64) string {
	if d == nil || d.Count == 0 {
		return "–"
	}
	var v float64
	switch p {
	case 50:
		v = d.Median
	case 95:
		v = d.P95
	case 99:
		v = d.P99
	}
	return oneDecimal(v) + " ms"
}

func mdNum(d *Distribution) string {
	if d == nil || d.Count == 0 {
		return "–"
	}
	return oneDecimal(d.Median)
}

// mdText escapes s for a Markdown table cell.
func mdText(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// mdCode makes s safe inside a one-backtick code span.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// mostRequests is the most requests any result of sc ran.
func mostRequests(sc Scenario) int64 {
	var most int64
	for _, r := range sc.Results {
		most = max(most, r.Metrics.TotalRequests)
	}
	return most
}
