package history

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteRuns writes runs as a table: id, time, branch, commit, source,
// config hash, labels, the gates' verdicts (each gate's name and outcome,
// a broken one marked BROKEN) and results.
func WriteRuns(w io.Writer, runs []Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tBRANCH\tCOMMIT\tSOURCE\tCONFIG\tLABELS\tGATES\tRESULTS")
	for _, r := range runs {
		results := strings.Join(r.Results, ", ")
		if tests := strings.Join(nonEmpty(r.Tests), ", "); tests != "" {
			results += " (" + tests + ")"
		}
		if r.Interrupted {
			results += " [interrupted]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Time.UTC().Format(time.RFC3339), dash(r.Branch),
			dash(short(r.Commit)), r.Source, dash(r.ConfigHash), dash(FormatLabels(r.Labels)), dash(formatGates(r)), results)
	}
	return tw.Flush()
}

// formatGates lists a run's verdicts: "ttft_p95 pass, error_rate fail
// BROKEN", each prefixed with its result when the run has several.
func formatGates(r Run) string {
	several := len(r.Results) > 1
	out := make([]string, len(r.Gates))
	for i, g := range r.Gates {
		out[i] = g.Name + " " + g.Outcome
		if !g.Holds {
			out[i] += " BROKEN"
		}
		if several {
			out[i] = g.Result + ": " + out[i]
		}
	}
	return strings.Join(out, ", ")
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// FormatLabels formats labels as "k1=v1,k2=v2", sorted by key.
func FormatLabels(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + l[k]
	}
	return strings.Join(keys, ",")
}

// formatMetric formats a value of m in its unit.
func formatMetric(m Metric, v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case m.Unit() == "%":
		return fmt.Sprintf("%.2f%%", 100*v)
	case m.Unit() == "ms":
		return fmt.Sprintf("%.3gms", v)
	}
	return fmt.Sprintf("%.4g", v)
}

// WriteTrend writes each series as a table: run, time, commit, the value,
// its 95% interval, the sample size and the change from the previous run.
func WriteTrend(w io.Writer, series []Series) error {
	for i, s := range series {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", s.Key(), s.Metric)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		interval, verdict := "95% CI", ""
		if s.Metric.Gate != "" {
			// A gate's interval is its verdict's, at the gate's confidence.
			interval, verdict = "CI", "\tVERDICT"
		}
		fmt.Fprintf(tw, "RUN\tTIME\tCOMMIT\tVALUE\t%s\tN\tCHANGE%s\n", interval, verdict)
		for j, p := range s.Points {
			change := ""
			if j > 0 && s.Points[j-1].Value != 0 {
				change = fmt.Sprintf("%+.1f%%", 100*(p.Value-s.Points[j-1].Value)/math.Abs(s.Points[j-1].Value))
			}
			outcome := ""
			if verdict != "" {
				outcome = "\t" + p.Outcome
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s .. %s\t%d\t%s%s\n", p.Run, p.Time.UTC().Format(time.RFC3339), dash(short(p.Commit)),
				formatMetric(s.Metric, p.Value), formatMetric(s.Metric, p.Lo), formatMetric(s.Metric, p.Hi), p.N, change, outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// WriteDrifts writes the trend tests of a check: every drift that is
// significant, and a line saying how many metrics were tested.
func WriteDrifts(w io.Writer, drifts []Drift, alpha float64) error {
	tested, shown := 0, 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, d := range drifts {
		if d.Runs >= MinDriftRuns {
			tested++
		}
		if !d.Significant {
			continue
		}
		if shown == 0 {
			fmt.Fprintln(tw, "RESULT\tMETRIC\tRUNS\tSEN SLOPE/RUN\tOVER THE WINDOW\tMANN-KENDALL\tVERDICT")
		}
		shown++
		verdict := ""
		if d.Worse {
			verdict = "DRIFT"
		}
		fmt.Fprintf(tw, "%s %s/%s\t%s\t%d\t%s\t%+.1f%%\tS=%d p=%.2g\t%s\n", d.Scenario, d.Provider, d.Model, d.Metric, d.Runs,
			formatMetric(d.Metric, d.Slope), 100*d.Change, d.S, d.P, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "trend test (Mann-Kendall, alpha %g): %d metric(s) tested, %d with a significant trend\n", alpha, tested, shown)
	return err
}
