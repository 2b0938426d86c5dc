package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/internal/atomicfile"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/junit"
)

var showCmd = &command{
	name:    "show",
	args:    "FILE",
	summary: "print a result file",
	detail: `Show prints a result file written by run (or merge) in the format asked:
the console table (the same table run prints), json, csv (one row per
result), markdown (for pull-request comments and CI step summaries),
benchstat (benchfmt lines that benchstat compares), prometheus (the text
exposition format), minimal (one line per result), or hlog: an HdrHistogram
interval log of one metric (-metric) over time, which HdrHistogram's own
log processor and plotters read. hlog and raw-csv need the raw requests:
the JSON lines file run -raw wrote (-raw), or those embedded in the file.`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		format := choiceFlag(fs, "format", "table", "output `format`: "+orList(showFormats()), showFormats()...)
		color := colorFlag(fs, "colour in the table `when`: auto, on or off")
		raw := fs.String("raw", "", "the raw requests (JSON lines from run -raw) for hlog and raw-csv")
		metric := fs.String("metric", "ttft", "the metric of an hlog: ttft, e2e, ttfb, tpot, itl, queue, dns, connect or tls")
		interval := fs.Duration("interval", time.Second, "the interval of an hlog")
		return func(args []string) error {
			f, err := readOneResult(args)
			if err != nil {
				return err
			}
			w := current.out
			switch *format {
			case "hlog", "raw-csv":
				reqs := report.RawRequests(f.RawRequests)
				if *raw != "" {
					rf, err := os.Open(*raw)
					if err != nil {
						return err
					}
					defer rf.Close()
					rr := report.NewRawReader(rf)
					if *format == "raw-csv" {
						return report.WriteRawCSV(w, rr)
					}
					if err := report.WriteHistogramLog(w, rr.All(), report.HistogramLogOptions{Metric: lens.Metric(*metric), Interval: *interval}); err != nil {
						return err
					}
					return rr.Err()
				}
				if len(f.RawRequests) == 0 {
					return fmt.Errorf("-format %s: the file has no raw requests; give the run's -raw file with -raw", *format)
				}
				if *format == "raw-csv" {
					return fmt.Errorf("-format raw-csv: give the run's -raw file with -raw")
				}
				return report.WriteHistogramLog(w, reqs, report.HistogramLogOptions{Metric: lens.Metric(*metric), Interval: *interval})
			}
			write, err := formatFor(*format, "show", func(rf resultFormat) bool { return rf.show })
			if err != nil {
				return fmt.Errorf("-format: %w", err)
			}
			return write(w, f, formatOptions{color: useColor(*color, w), pretty: true})
		}
	},
}

var junitCmd = &command{
	name:    "junit",
	args:    "[go-test-json-file]",
	summary: "turn go test -json output into JUnit XML",
	detail: `Junit reads the output of go test -json (from the file, or standard input)
and writes JUnit XML: a test suite per package, a test case per test,
subtest, example and benchmark. Each case carries its lens metrics (the
lens.* attributes lenstest records) as properties; an SLO failure is a
<failure> with the assertion's message; benchmarks are passes, with their
metrics as properties.

	go test -json ./... | lens-report junit -o junit.xml`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		out := fs.String("o", "", "write the XML to `file` (default: standard output)")
		suiteProps := fs.Bool("suite-properties", false, "put properties on test suites (as <test>/<key>) for readers that accept them only there")
		return func(args []string) error {
			if len(args) > 1 {
				return errUsage
			}
			in := current.in
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			events, err := junit.ReadTestEvents(in)
			if err != nil {
				return err
			}
			opts := junit.Options{SuiteProperties: *suiteProps}
			return output(*out, func(w io.Writer) error { return junit.WriteWith(w, opts, events...) })
		}
	},
}

var compareCmd = &command{
	name:    "compare",
	args:    "OLD NEW",
	summary: "compare two result files; exit 1 on a regression",
	detail: `Compare matches the results of two files by scenario, provider and model and,
for each metric (TTFT, ITL, TPOT and E2E percentiles, tokens/s, error rate,
goodput), prints the old and new values, the change, and whether it is
significant, from the files' full histograms. A significant change in the
worse direction beyond the threshold is a regression: compare then exits
with status 1.

Compare also exits with status 1, saying what, when it cannot compare
something: a result (scenario, provider and model) found in one file only,
a result that measured no request, a metric with samples on one side only,
or two files with nothing in common. With -partial, results found in one
file only are warnings instead, and the rest is compared.

-threshold 0 makes any significant change for the worse a regression. A
-threshold below 0 or not a number, or an -alpha outside (0, 1), is a usage
error: exit 2, as for any other bad flag.`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		threshold := fs.Float64("threshold", 100*report.DefaultThreshold, "smallest change, in `percent`, that counts as a regression (0: any significant change)")
		alpha := fs.Float64("alpha", report.DefaultAlpha, "significance `level` of each test")
		format := choiceFlag(fs, "format", "table", "output `format`: table or markdown", "table", "markdown")
		color := colorFlag(fs, "colour `when`: auto, on or off")
		partial := fs.Bool("partial", false, "compare the results both files have: a result found in one file only is a warning, not an error")
		return func(args []string) error {
			if len(args) != 2 {
				return errUsage
			}
			opts, err := compareOptions(*threshold, *alpha)
			if err != nil {
				return err
			}
			opts.Partial = *partial
			old, err := readResult(args[0])
			if err != nil {
				return err
			}
			neu, err := readResult(args[1])
			if err != nil {
				return err
			}
			c := report.Compare(old, neu, opts)
			if *partial {
				for _, s := range c.OnlyOld {
					fmt.Fprintf(current.err, "lens-report compare: warning: only in %s, not compared: %s\n", args[0], s)
				}
				for _, s := range c.OnlyNew {
					fmt.Fprintf(current.err, "lens-report compare: warning: only in %s, not compared: %s\n", args[1], s)
				}
			}
			switch *format {
			case "table":
				err = report.WriteCompare(current.out, c, report.TableOptions{Color: useColor(*color, current.out)})
			default: // markdown
				err = report.WriteCompareMarkdown(current.out, c)
			}
			if err != nil {
				return err
			}
			if c.Regressed() {
				return &exitError{code: 1, msg: fmt.Sprintf("%d regression(s)", len(c.Regressions()))}
			}
			return c.Err()
		}
	},
}

var mergeCmd = &command{
	name:    "merge",
	args:    "-o OUT FILE...",
	summary: "merge result files of shards into one",
	detail: `Merge combines result files of shards — the same configuration run on many
machines — into one, exactly as if one machine had run them all: the
histograms are merged without loss and every percentile recomputed from
them, counts and costs summed.

Shards must come from the same workload: run records a hash of what its
configuration sends (providers, models, workload and execution, as loaded),
not of its bytes, so copies that differ in comments, layout, output paths or
credentials merge. Shards of different workloads are refused unless -force
is given, which merges them with a warning.

Each shard's file records which shard it is (run -shard i/n), and a merged
file every shard it holds. Merge refuses, even with -force, files that would
count the same requests twice: a shard given twice, a merged file together
with a shard it already holds, or the same file twice (files of unsharded
runs, or written before shards were recorded, are checked only for that). It warns on stderr
when shards of the run are missing from the merged file (merge it again with
them later: the merged file is a valid input).

The shards' SLO gates are judged again on the merged histograms, as if one
run had measured every request (each shard's verdict was on its share
alone), and the merged file holds those verdicts; merge prints each on
stderr. Exit status: 0 when the merged file is written and every gate holds;
1 when a gate is broken (the file is written), or when the files cannot be
merged; 2 for a usage error.`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		out := fs.String("o", "", "write the merged result file to `path`; required")
		force := fs.Bool("force", false, "merge shards run from different workloads (configuration hashes) anyway, with a warning")
		return func(args []string) error {
			if *out == "" || len(args) < 1 {
				return errUsage
			}
			var files []*report.File
			var seen []os.FileInfo
			for _, a := range args {
				if fi, err := os.Stat(a); err == nil {
					for j, o := range seen {
						if os.SameFile(fi, o) {
							return fmt.Errorf("%s is given twice (as %s too): its requests would be counted twice", a, args[j])
						}
					}
					seen = append(seen, fi)
				}
				f, err := readResult(a)
				if err != nil {
					return err
				}
				files = append(files, f)
			}
			m, err := report.MergeOptions{IgnoreConfigHash: *force}.Merge(files...)
			if err != nil {
				if !*force && errors.Is(err, report.ErrDifferentConfigs) {
					err = fmt.Errorf("%w (use -force to merge them anyway)", err)
				}
				return err
			}
			for i, f := range files[1:] {
				if a, b := files[0].Metadata.ConfigHash, f.Metadata.ConfigHash; a != b {
					fmt.Fprintf(current.err, "lens-report merge: warning: %s was run from workload %s, %s from %s: merged anyway (-force)\n",
						args[i+1], b, args[0], a)
				}
			}
			if err := report.WriteFile(*out, m); err != nil {
				return err
			}
			fmt.Fprintf(current.err, "merged %d files into %s\n", len(files), *out)
			if missing := m.Metadata.MissingShards(); len(missing) > 0 {
				fmt.Fprintf(current.err, "lens-report merge: warning: %d of %d shards missing (%s): the merged file holds part of the run\n",
					len(missing), m.Metadata.ShardCount, shardList(missing, m.Metadata.ShardCount))
			}
			for _, sc := range m.Scenarios {
				for _, r := range sc.Results {
					for _, g := range r.Gates {
						fmt.Fprintf(current.err, "%s %s/%s: %s\n", sc.Name, r.Provider, r.Model, g.Summary)
					}
				}
			}
			if _, broken := report.GatesHold(m); broken > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d gate(s) broken on the merged requests", broken)}
			}
			return nil
		}
	},
}

var htmlCmd = &command{
	name:    "html",
	args:    "FILE",
	summary: "write a result file as a single-file HTML report",
	detail: `Html writes one self-contained HTML page (inline CSS and SVG, no script) with
a summary table, TTFT and E2E distributions as CDFs, ITL histograms, a
per-model comparison and throughput over time.`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		out := fs.String("o", "", "write the page to `file` (default: standard output)")
		title := fs.String("title", "", "the page's title")
		return func(args []string) error {
			f, err := readOneResult(args)
			if err != nil {
				return err
			}
			return output(*out, func(w io.Writer) error { return report.WriteHTML(w, f, report.HTMLOptions{Title: *title}) })
		}
	},
}

// compareOptions reads the -threshold (in percent, 0 for any significant
// change) and -alpha flags of compare and history check: out of range, they
// are a usage error.
func compareOptions(thresholdPct, alpha float64) (report.CompareOptions, error) {
	o := report.CompareOptions{Alpha: alpha, Threshold: thresholdPct / 100, NoThreshold: thresholdPct == 0}
	if err := o.Validate(); err != nil || alpha == 0 {
		return o, &exitError{code: 2, msg: fmt.Sprintf("-threshold %v, -alpha %v: want a percentage >= 0 and a significance level within (0, 1)", thresholdPct, alpha)}
	}
	return o, nil
}

// shardList writes shard indexes as "1/3, 2/3".
func shardList(indexes []int, count int) string {
	parts := make([]string, len(indexes))
	for i, x := range indexes {
		parts[i] = fmt.Sprintf("%d/%d", x, count)
	}
	return strings.Join(parts, ", ")
}

// readOneResult reads the result file of a command whose one argument
// names it; other arguments are a usage error.
func readOneResult(args []string) (*report.File, error) {
	if len(args) != 1 {
		return nil, errUsage
	}
	return readResult(args[0])
}

// readResult reads a result file, JSON or MessagePack.
func readResult(path string) (*report.File, error) {
	if strings.HasSuffix(path, ".msgpack") || strings.HasSuffix(path, ".bin") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return report.ReadMsgpack(f)
	}
	return report.ReadFile(path)
}

// output writes with fn to path (atomically) or, when path is empty, to
// standard output.
func output(path string, fn func(io.Writer) error) error {
	if path == "" {
		return fn(current.out)
	}
	return atomicfile.Write(path, fn)
}
