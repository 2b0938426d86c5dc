package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/internal/atomicfile"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/history"
)

var historyCmd = &command{
	name:        "history",
	subcommands: true,
	args:        "list|trend|check|add|baseline [flags]",
	summary:     "list, trend and check the runs of a history file",
	detail: `History reads the SQLite run history that run appends to (output.database
type sqlite), or that add fills from result files. Every subcommand takes the
history file as -db PATH, or from -config FILE's sqlite connection.

  history list [filters]
	the runs, oldest first: id, time, branch, commit, source, config hash,
	labels, the verdict on each SLO gate, and results (-format json: every
	verdict in full, with its estimate, interval and requests).
  history trend -metric ttft.p95 [-html FILE] [filters]
	a table of the metric over runs, one per scenario, provider and model,
	with each run's 95% confidence interval; -html also writes a chart.
	Metrics: DIST.pN (ttft, e2e, itl, tpot, ttfb, tokens_per_second,
	output_tokens, queue_delay, ... at any percentile: ttft.p99.9), error_rate,
	goodput, and gate:NAME (gate:ttft_p95, gate:error_rate): the gate's
	verdict in each run that judged it, its estimate, interval, requests
	and outcome.
  history check [-run ID | -file RESULT] [-baseline NAME | -last N] [filters]
	the newest run (or run ID, or a result file) against a baseline: the
	runs pinned under NAME, or the newest N (default 20) runs before it on
	its branch (-branch to choose another), of the same configuration. The
	baseline's runs are merged and compared with the new one as compare
	does (each metric's change and significance); then every metric is
	tested for a slow drift over the baseline runs and the new one, with
	the Mann-Kendall trend test. Exit 1 on a regression or a drift for the
	worse beyond the threshold (-threshold 0: any significant one); exit 2
	for a run ID that is not in the history, or a -threshold, -alpha or
	-drift-alpha out of range.
  history add [-branch B] [-commit C] [-label k=v] RESULT...
	append result files (written by run -o, merge, ...) as runs.
  history baseline set NAME ID... | list | clear NAME
	pin runs under a baseline name, list the names, or remove one.

Filters: -scenario S, -branch B, -label key=value (repeatable), -since and
-until (RFC 3339 time or date), -last N (the newest N).`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		return func(args []string) error {
			if len(args) == 0 {
				return errUsage
			}
			sub, ok := historySubcommands[args[0]]
			if !ok {
				return &exitError{code: 2, msg: fmt.Sprintf("unknown history subcommand %q (want list, trend, check, add or baseline)", args[0])}
			}
			hfs := flag.NewFlagSet("lens-report history "+args[0], flag.ContinueOnError)
			hfs.SetOutput(fs.Output())
			common := historyFlags(hfs)
			run := sub(hfs, common)
			if err := hfs.Parse(args[1:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil
				}
				return &exitError{code: 2}
			}
			return run(hfs.Args())
		}
	},
}

// historyOptions are the flags every history subcommand takes.
type historyOptions struct {
	db, config, scenario, branch, since, until string
	labels                                     labelsFlag
	last                                       int
}

func historyFlags(fs *flag.FlagSet) *historyOptions {
	o := &historyOptions{labels: labelsFlag{}}
	fs.StringVar(&o.db, "db", "", "the history `file`")
	fs.StringVar(&o.config, "config", "", "take the history file from this configuration `file`'s sqlite connection")
	fs.StringVar(&o.scenario, "scenario", "", "only runs with this `scenario`")
	fs.StringVar(&o.branch, "branch", "", "only runs of this git `branch`")
	fs.Var(o.labels, "label", "only runs with this `key=value` label (repeatable)")
	fs.StringVar(&o.since, "since", "", "only runs started at or after this `time` (RFC 3339 or 2006-01-02)")
	fs.StringVar(&o.until, "until", "", "only runs started before this `time` (RFC 3339 or 2006-01-02)")
	fs.IntVar(&o.last, "last", 0, "only the newest `N` runs (check: the baseline's size, default 20)")
	return o
}

// open opens the history file the flags name, creating it when it does
// not exist.
func (o *historyOptions) open() (*history.Store, error) { return o.openHistory(false) }

// openHistory opens the history file the flags name; when mustExist, a
// file that does not exist is a usage error (a command that only reads
// leaves no empty history behind a mistyped path).
func (o *historyOptions) openHistory(mustExist bool) (*history.Store, error) {
	path := o.db
	if o.config != "" {
		if o.db != "" {
			return nil, &exitError{code: 2, msg: "give -db or -config, not both"}
		}
		cfg, err := config.Load(o.config)
		if err != nil {
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		conn, ok := cfg.Output.Database.Connection.(*config.SQLiteConnection)
		if !ok {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: output.database is not of type sqlite: no history file", o.config)}
		}
		path = conn.Path
	}
	if path == "" {
		return nil, &exitError{code: 2, msg: "no history file: give -db PATH or -config FILE"}
	}
	if _, err := os.Stat(path); mustExist && errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("no history file %s (run appends to it, history add creates it)", path)}
	}
	return history.Open(path)
}

// openFiltered is the start of the subcommands that read runs (list,
// trend, check): it refuses arguments, builds the run filter of the flags
// and opens the history file. The caller closes the Store.
func (o *historyOptions) openFiltered(sub string, args []string) (*history.Store, history.Filter, error) {
	if len(args) > 0 {
		return nil, history.Filter{}, &exitError{code: 2, msg: sub + " takes no arguments"}
	}
	f, err := o.filter()
	if err != nil {
		return nil, f, err
	}
	st, err := o.openHistory(true)
	return st, f, err
}

// filter builds the run filter of the flags.
func (o *historyOptions) filter() (history.Filter, error) {
	f := history.Filter{Scenario: o.scenario, Branch: o.branch, Labels: o.labels, Last: o.last}
	var err error
	if f.Since, err = parseTime("-since", o.since); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("-until", o.until); err != nil {
		return f, err
	}
	if o.last < 0 {
		return f, &exitError{code: 2, msg: "-last: must be >= 0"}
	}
	return f, nil
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &exitError{code: 2, msg: fmt.Sprintf("%s: %q is not an RFC 3339 time or a date (2006-01-02)", flag, s)}
}

var historySubcommands = map[string]func(*flag.FlagSet, *historyOptions) func([]string) error{
	"list": func(fs *flag.FlagSet, o *historyOptions) func([]string) error {
		format := choiceFlag(fs, "format", "table", "output `format`: table or json", "table", "json")
		return func(args []string) error {
			st, f, err := o.openFiltered("list", args)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.Runs(context.Background(), f)
			if err != nil {
				return err
			}
			switch *format {
			case "table":
				return history.WriteRuns(current.out, runs)
			case "json":
				enc := json.NewEncoder(current.out)
				enc.SetIndent("", "  ")
				return enc.Encode(runs)
			}
			return &exitError{code: 2, msg: fmt.Sprintf("-format: unknown format %q (want table or json)", *format)}
		}
	},
	"trend": func(fs *flag.FlagSet, o *historyOptions) func([]string) error {
		metric := fs.String("metric", "ttft.p95", "the `metric`: DIST.pN (ttft.p95, e2e.p99.9, ...), error_rate, goodput or gate:NAME (gate:ttft_p95)")
		html := fs.String("html", "", "also write the chart as a single-file HTML page to `path`")
		return func(args []string) error {
			m, err := history.ParseMetric(*metric)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			st, f, err := o.openFiltered("trend", args)
			if err != nil {
				return err
			}
			defer st.Close()
			series, err := st.Trend(context.Background(), m, f)
			if err != nil {
				return err
			}
			if len(series) == 0 {
				return fmt.Errorf("no run of the history has %s", m)
			}
			if err := history.WriteTrend(current.out, series); err != nil {
				return err
			}
			if *html != "" {
				title := "Trend of " + m.String()
				if err := atomicfile.Write(*html, func(w io.Writer) error { return history.WriteTrendHTML(w, title, series) }); err != nil {
					return err
				}
				fmt.Fprintf(current.err, "wrote %s\n", *html)
			}
			return nil
		}
	},
	"check": func(fs *flag.FlagSet, o *historyOptions) func([]string) error {
		runID := fs.Int64("run", 0, "check run `ID` (default: the newest the filters select)")
		file := fs.String("file", "", "check this result `file` instead of a run of the history")
		baseline := fs.String("baseline", "", "compare with the runs pinned under this `name`")
		threshold := fs.Float64("threshold", 100*report.DefaultThreshold, "smallest change, in `percent`, that counts as a regression or a drift (0: any significant change)")
		alpha := fs.Float64("alpha", report.DefaultAlpha, "significance `level` of each comparison")
		driftAlpha := fs.Float64("drift-alpha", history.DefaultDriftAlpha, "significance `level` of each trend test")
		format := choiceFlag(fs, "format", "table", "output `format` of the comparison: table or markdown", "table", "markdown")
		color := colorFlag(fs, "colour `when`: auto, on or off")
		return func(args []string) error {
			if *runID != 0 && *file != "" {
				return &exitError{code: 2, msg: "give -run or -file, not both"}
			}
			cmp, err := compareOptions(*threshold, *alpha)
			if err != nil {
				return err
			}
			if !(*driftAlpha > 0 && *driftAlpha < 1) {
				return &exitError{code: 2, msg: fmt.Sprintf("-drift-alpha %v: want a significance level within (0, 1)", *driftAlpha)}
			}
			st, f, err := o.openFiltered("check", args)
			if err != nil {
				return err
			}
			defer st.Close()
			f.Baseline = *baseline
			opts := history.CheckOptions{NewID: *runID, Baseline: f, Alpha: cmp.Alpha, Threshold: cmp.Threshold, NoThreshold: cmp.NoThreshold, DriftAlpha: *driftAlpha}
			if *file != "" {
				if opts.New, err = readResult(*file); err != nil {
					return err
				}
			}
			res, err := st.Check(context.Background(), opts)
			if errors.Is(err, history.ErrNoRun) {
				return &exitError{code: 2, msg: err.Error()}
			}
			if err != nil {
				return err
			}
			what := "run " + strconv.FormatInt(res.NewRun, 10)
			if res.NewRun == 0 {
				what = *file
			}
			fmt.Fprintf(current.out, "%s against a baseline of %d run(s): %s\n\n", what, len(res.Baseline), formatIDs(res.Baseline))
			if *format == "markdown" {
				err = report.WriteCompareMarkdown(current.out, res.Comparison)
			} else {
				err = report.WriteCompare(current.out, res.Comparison, report.TableOptions{Color: useColor(*color, current.out)})
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(current.out)
			if err := history.WriteDrifts(current.out, res.Drifts, *driftAlpha); err != nil {
				return err
			}
			if res.Regressed() {
				drifts := 0
				for _, d := range res.Drifts {
					if d.Worse {
						drifts++
					}
				}
				return &exitError{code: 1, msg: fmt.Sprintf("%d regression(s), %d drift(s) for the worse", len(res.Comparison.Regressions()), drifts)}
			}
			return nil
		}
	},
	"add": func(fs *flag.FlagSet, o *historyOptions) func([]string) error {
		commit := fs.String("commit", "", "the git `commit` the results are of (default: the working directory's)")
		return func(args []string) error {
			if len(args) == 0 {
				return &exitError{code: 2, msg: "add: give one or more result files"}
			}
			files := make([]*report.File, len(args))
			for i, a := range args {
				var err error
				if files[i], err = readResult(a); err != nil {
					return err
				}
			}
			st, err := o.open()
			if err != nil {
				return err
			}
			defer st.Close()
			c, b := history.DetectGit(".")
			if *commit != "" {
				c = *commit
			}
			if o.branch != "" {
				b = o.branch
			}
			for i, f := range files {
				id, err := st.Append(context.Background(), f, history.RunInfo{Source: "import", Commit: c, Branch: b, Labels: o.labels})
				if err != nil {
					return err
				}
				fmt.Fprintf(current.err, "added %s as run %d\n", args[i], id)
			}
			return nil
		}
	},
	"baseline": func(fs *flag.FlagSet, o *historyOptions) func([]string) error {
		return func(args []string) error {
			st, err := o.open()
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := context.Background()
			switch {
			case len(args) >= 3 && args[0] == "set":
				var ids []int64
				for _, a := range args[2:] {
					id, err := strconv.ParseInt(a, 10, 64)
					if err != nil {
						return &exitError{code: 2, msg: fmt.Sprintf("baseline set: %q is not a run id", a)}
					}
					ids = append(ids, id)
				}
				if err := st.Pin(ctx, args[1], ids...); err != nil {
					return err
				}
				fmt.Fprintf(current.err, "pinned %d run(s) under %q\n", len(ids), args[1])
				return nil
			case len(args) == 1 && args[0] == "list":
				names, err := st.Baselines(ctx)
				if err != nil {
					return err
				}
				for _, n := range sortedNames(names) {
					fmt.Fprintf(current.out, "%s\t%d run(s)\n", n, names[n])
				}
				return nil
			case len(args) == 2 && args[0] == "clear":
				n, err := st.Unpin(ctx, args[1])
				if err != nil {
					return err
				}
				if n == 0 {
					return fmt.Errorf("no baseline named %q", args[1])
				}
				fmt.Fprintf(current.err, "removed baseline %q (%d run(s))\n", args[1], n)
				return nil
			}
			return &exitError{code: 2, msg: "usage: history baseline set NAME ID... | list | clear NAME"}
		}
	},
}

func formatIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, " ")
}

func sortedNames(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
