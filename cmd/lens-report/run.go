package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/internal/atomicfile"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/verdict"
)

var runCmd = &command{
	name:    "run",
	args:    "-config FILE",
	summary: "run the benchmark a configuration file describes",
	detail: `Run loads the configuration (the YAML or JSON schema of examples/full.yaml),
runs every scenario against every provider and model it lists, one after
another, prints the console report, and writes the exports named in the
configuration's output section ({timestamp} in a path becomes the run's start
time, 20060102T150405Z). A provider of type fake is served in-process, so a
configuration against it runs offline.

With -shard i/n (or execution.shard) the run is shard i of n machines that
run the same configuration: each sends its interleaved share of every open-loop
schedule (arrivals k with k mod n = i, at the whole run's times) or of every
closed loop's workers, and its share of the requests; give every shard the same
-start-at, then join their -o files with lens-report merge. A Kubernetes
Indexed Job and a GitHub Actions matrix that do this are in examples/. A
start time more than 1s in the past, or overrun by the warmup by more than
1s, is refused (exit 2 before the run, 3 after the warmup), saying how late:
a shard that started late would send its overdue arrivals at once.

On Ctrl-C (or SIGTERM) the run stops starting requests, the requests in flight
end as canceled, and the report and exports are written with what was
measured, marked interrupted; the exit status is then 130. A second Ctrl-C
exits at once.

A scenario's gates (gates: [{metric: ttft, percentile: 95, limit_ms: 500},
{metric: error_rate, max: 0.01}]) are judged after it runs: pass or fail when
the confidence interval lies wholly on one side of the limit, inconclusive
when it straddles it. With max_requests an inconclusive gate first runs more
requests of the scenario (each look is logged on stderr) until it is
conclusive or the budget is spent; a gate still inconclusive then is decided
by its point estimate. The console, every export and the -junit file show
each gate's verdict, interval and flake risk.

With -serve ADDR (or dashboard.listen) the run is watched live on a web page
at ADDR, updated every second, and with -hold still served after the run until
Ctrl-C. While the dashboard runs (or dashboard.alerts is set), every gate of a
scenario and every threshold of dashboard.alerts is an alert judged on the
sliding window (dashboard.window_secs, default 10): it turns red on the page,
and prints a line on stderr with the time and the window's value, when it
fires and when it clears. A gate's alert warns during the run; the gate itself
is still judged at the end.

Exit status: 0 when the run completed and every gate holds; 1 when a gate is
broken; 2 for a usage or configuration error; 3 when the run itself failed
(a scenario could not run, an export could not be written); 130 when
interrupted.

The configuration's output.database, when enabled, is written after the
exports: InfluxDB (a summary point per result and error class, and with
per_request a point per request, streamed during the run), the SQLite run
history that lens-report history reads, or a Prometheus Pushgateway. A sink
that fails loses nothing (the exports are already written) and makes the exit
status 3, with a message that names it. -label key=value (repeatable) tags the
run: InfluxDB tags, history labels, Pushgateway grouping labels.`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		shared := runFlags(fs, "the run")
		raw := fs.String("raw", "", "write every request's record as JSON lines to `path` (memory stays flat)")
		progress := choiceFlag(fs, "progress", "auto", "a progress bar on stderr `when`: auto (on a terminal, unless the configuration turns it off), on or off", "auto", "on", "off")
		hold := fs.Bool("hold", false, "keep serving the dashboard after the run, until Ctrl-C")
		junitPath := fs.String("junit", "", "write the gates' verdicts as JUnit XML to `path`: one test case per gate and result")
		shard := fs.String("shard", "", "run shard `i/n` of a run shared by n machines (overrides execution.shard); merge the shards' -o files with lens-report merge")
		startAt := fs.String("start-at", "", "start the first scenario's measured phase at `time` (RFC 3339, or Unix seconds; overrides execution.start_at), the same for every shard")
		return func(args []string) error {
			o := shared()
			if o.config == "" || len(args) > 0 {
				return errUsage
			}
			o.raw, o.progress, o.hold, o.junit, o.shard, o.startAt = *raw, *progress, *hold, *junitPath, *shard, *startAt
			return runConfig(o)
		}
	},
}

// runFlags defines the flags run and sweep share (-config, -o, -format,
// -color, -serve and -label); during names what the dashboard serves
// during ("the run", "the search"). The function it returns gives their
// values once the flags are parsed.
func runFlags(fs *flag.FlagSet, during string) func() runOptions {
	config := fs.String("config", "", "the configuration `file` (YAML or JSON); required")
	out := fs.String("o", "", "also write the result file (JSON) to `path`")
	consoleFormats := formatNames(func(rf resultFormat) bool { return rf.console })
	format := choiceFlag(fs, "format", "", "console output: "+orList(consoleFormats)+" (default: the configuration's, else table)", consoleFormats...)
	color := colorFlag(fs, "colour in the console table `when`: auto (on a terminal, unless NO_COLOR is set), on or off")
	serve := fs.String("serve", "", "serve the live dashboard on `addr` (127.0.0.1:8080; port 0 picks one) during "+during+" (default: the configuration's dashboard.listen)")
	labels := labelsFlag{}
	fs.Var(labels, "label", "tag the run with `key=value` in the configured database (repeatable)")
	return func() runOptions {
		return runOptions{config: *config, out: *out, format: *format, color: *color, serve: *serve, labels: labels}
	}
}

type runOptions struct {
	config, out, raw, format, progress, color, junit string
	serve                                            string
	hold                                             bool
	shard, startAt                                   string
	labels                                           map[string]string
}

func runConfig(o runOptions) error {
	data, err := os.ReadFile(o.config)
	if err != nil {
		return &exitError{code: 2, msg: "-config: " + err.Error()}
	}
	cfg, err := config.Parse(data, o.config)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if o.shard != "" {
		cfg.Execution.Shard = o.shard
	}
	if o.startAt != "" {
		at, err := parseStartAt(o.startAt)
		if err != nil {
			return &exitError{code: 2, msg: "-start-at: " + err.Error()}
		}
		if late := time.Since(at); late > lens.StartAtTolerance {
			// A shard that starts late would send its overdue arrivals at
			// once, off the schedule the other shards keep.
			return &exitError{code: 2, msg: fmt.Sprintf("-start-at: %s is %v in the past (the tolerance is %v): give every shard the same time in the future",
				at.UTC().Format(time.RFC3339), late.Round(time.Millisecond), lens.StartAtTolerance)}
		}
		cfg.Execution.StartAt = at.Format(time.RFC3339Nano)
	}
	var fakes config.Builder
	defer fakes.Close()
	runs, err := cfg.Runs(fakes.Build)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	db, err := openSink(cfg.Output.Database, o.labels)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	defer db.close()
	for i, s := range cfg.Workload.Scenarios {
		if s.Sweep != nil {
			fmt.Fprintf(current.err, "workload.scenarios[%d].sweep: run runs scenario %s at its own load; lens-report sweep searches its capacity\n", i, s.Name)
		}
	}

	if err := checkOutputs(cfg, o); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()

	var raww *report.RawWriter
	if o.raw != "" {
		if raww, err = report.CreateRawFile(o.raw); err != nil {
			return err
		}
		defer raww.Close()
	}
	live, err := startLive(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer live.close()
	bar := newProgress(runs, o.progress, cfg.Output.Console.ShowProgress)
	started := time.Now()

	var results []*lens.Result
	var judged []judgedResult
	var runErr error
	for i := range runs {
		sc := runs[i].Scenario
		hooks := []func(*lens.RequestMetrics){sc.OnRequest}
		if raww != nil {
			hooks = append(hooks, raww.OnRequest(&sc))
		}
		if bar != nil {
			hooks = append(hooks, bar.onRequest)
		}
		hooks = append(hooks, db.hook(&sc))
		sc.OnRequest = lens.ChainHooks(hooks...)
		if err := live.instrument(&sc, runs[i].Gates); err != nil {
			runErr = err
			break
		}
		if bar != nil {
			bar.describe(fmt.Sprintf("%s %s/%s", sc.Name, runs[i].Provider.Name, sc.Model))
		}
		if len(runs[i].Gates) > 0 && sc.Client == nil {
			// One client for the run and its top-ups.
			sc.Client = lens.NewClient(sc)
		}
		res, err := lens.Run(ctx, sc)
		if res != nil {
			results = append(results, res)
		}
		if err == nil && len(runs[i].Gates) > 0 {
			var vs []verdict.Verdict
			vs, err = judge(ctx, res, sc, runs[i].Gates)
			judged = append(judged, judgedResult{res, vs})
		}
		if sc.Client != nil && runs[i].Scenario.Client == nil {
			sc.Client.CloseIdleConnections()
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if bar != nil {
		bar.finish()
	}
	interrupted := ctx.Err() != nil

	meta := report.Metadata{ConfigHash: workloadHash(cfg), Interrupted: interrupted}
	if sh, err := lens.ParseShard(cfg.Execution.Shard); err == nil && sh.Sharded() {
		// Which shard this is, so that merge counts each once.
		meta.ShardCount, meta.ShardIndexes = sh.Count, []int{sh.Index}
	}
	f, err := report.FromResults(results, meta)
	if err != nil {
		return err
	}
	// A scenario's requests are the number asked for, which an
	// interrupted run did not reach.
	for i := range f.Scenarios {
		for _, r := range runs {
			if r.Scenario.Name == f.Scenarios[i].Name && r.Scenario.Requests > 0 {
				// A shard's file counts its share, so that merged shards
				// add up to the whole run's.
				n := int64(r.Scenario.Requests)
				if len(r.Scenario.Trace) > 0 {
					n = min(n, int64(len(r.Scenario.Trace)))
				}
				f.Scenarios[i].Config.Requests = r.Scenario.Shard.Share(n)
			}
		}
	}
	attachGates(f, judged)
	if raww != nil {
		if err := raww.Flush(); err != nil {
			return &exitError{code: 3, msg: err.Error()}
		}
	}
	if err := writeOutputs(f, cfg, o, started); err != nil {
		return err
	}
	live.finish()
	if o.junit != "" {
		if err := atomicfile.Write(o.junit, func(w io.Writer) error { return writeGatesJUnit(w, judged, started) }); err != nil {
			return &exitError{code: 3, msg: err.Error()}
		}
		fmt.Fprintf(current.err, "wrote %s\n", o.junit)
	}
	if err := db.write(f, o.labels); err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	_, broken := report.GatesHold(f)
	switch {
	case interrupted:
		return &exitError{code: 130, msg: "interrupted: wrote what was measured"}
	case runErr != nil:
		return &exitError{code: 3, msg: runErr.Error()}
	case broken > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("%d gate(s) broken", broken)}
	}
	return nil
}

// judgedResult is a result with the verdicts on its gates.
type judgedResult struct {
	res      *lens.Result
	verdicts []verdict.Verdict
}

// judge checks gates on res, topping up with more requests of sc within
// sc.MaxRequests, and logs every look on stderr.
func judge(ctx context.Context, res *lens.Result, sc lens.Scenario, gates []verdict.Gate) ([]verdict.Verdict, error) {
	s := verdict.NewSession(res, verdict.Plan{MaxRequests: int64(sc.MaxRequests), MinBatch: verdict.MinBatch(sc)}, verdict.TopUp(sc))
	s.Logf = func(format string, args ...any) {
		fmt.Fprintf(current.err, "%s %s/%s: %s\n", sc.Name, res.Provider, res.Model, fmt.Sprintf(format, args...))
	}
	return s.Check(ctx, gates...)
}

// attachGates puts each judged result's verdicts on its result in f.
func attachGates(f *report.File, judged []judgedResult) {
	for _, j := range judged {
		for si := range f.Scenarios {
			sc := &f.Scenarios[si]
			if sc.Name != j.res.Scenario {
				continue
			}
			for ri := range sc.Results {
				r := &sc.Results[ri]
				if r.Provider == j.res.Provider && r.Model == j.res.Model {
					r.Gates = r.Gates[:0]
					for _, v := range j.verdicts {
						r.Gates = append(r.Gates, report.GateOf(v))
					}
				}
			}
		}
	}
}

// writeOutputs prints the console report and writes the exports and the
// -o file; a failure is exit status 3.
func writeOutputs(f *report.File, cfg *config.File, o runOptions, started time.Time) error {
	if err := console(f, cfg, o); err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	if err := exports(f, cfg, o, started); err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	return nil
}

// console prints the report to stdout in the configured format.
func console(f *report.File, cfg *config.File, o runOptions) error {
	if !cfg.Output.Console.Enabled && o.format == "" {
		return nil
	}
	format := o.format
	if format == "" {
		format = cfg.Output.Console.Format
	}
	if format == "" {
		format = "table"
	}
	write, err := formatFor(format, "console", func(rf resultFormat) bool { return rf.console })
	if err != nil {
		return fmt.Errorf("-format: %w", err)
	}
	w := current.out
	return write(w, f, formatOptions{color: useColor(o.color, w), pretty: true})
}

// exports writes every file the configuration's output section names, and
// the -o result file.
func exports(f *report.File, cfg *config.File, o runOptions, started time.Time) error {
	stamp := started.UTC().Format("20060102T150405Z")
	var errs []error
	write := func(path string, fn func(io.Writer) error) {
		path = strings.ReplaceAll(path, "{timestamp}", stamp)
		if err := atomicfile.Write(path, fn); err != nil {
			errs = append(errs, err)
			return
		}
		fmt.Fprintf(current.err, "wrote %s\n", path)
	}
	if o.out != "" {
		write(o.out, func(w io.Writer) error { return report.WriteJSON(w, f, true) })
	}
	for _, e := range cfg.Output.Export {
		to, err := formatFor(e.Format, "export", func(rf resultFormat) bool { return rf.export })
		if err != nil {
			errs = append(errs, fmt.Errorf("output.export: %w", err))
			continue
		}
		write(e.Path, func(w io.Writer) error { return to(w, f, formatOptions{pretty: e.Pretty}) })
	}
	return errors.Join(errs...)
}

// checkOutputs checks, before a run, that the -o file and every export
// can be written: they are not found unwritable after a long run.
func checkOutputs(cfg *config.File, o runOptions) error {
	if err := checkWritable("-o", o.out); err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	for i, e := range cfg.Output.Export {
		if err := checkWritable(fmt.Sprintf("output.export[%d].path", i), e.Path); err != nil {
			return &exitError{code: 3, msg: err.Error()}
		}
	}
	return nil
}

// interruptible returns a context canceled by the first Ctrl-C (or
// SIGTERM); a second signal, once the first has canceled the run, exits at
// once. stop releases the signals.
func interruptible() (ctx context.Context, stop func()) {
	ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// checkWritable checks that a file can be written at path (with
// {timestamp} standing for any time) the way the run will write it: its
// directory exists or can be made, and takes a new file. The check leaves
// nothing behind but the directories a write would have made.
func checkWritable(what, path string) error {
	if path == "" {
		return nil
	}
	path = strings.ReplaceAll(path, "{timestamp}", "20060102T150405Z")
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: %s is a directory", what, path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot write %s: %w", what, path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check*")
	if err != nil {
		return fmt.Errorf("%s: cannot write %s: %w", what, path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// workloadHash identifies what a configuration sends: its providers,
// models, workload and execution as loaded (environment variables
// expanded, defaults applied), not its comments, layout, output section or
// credentials (a Secret encodes as "[redacted]"). Shards of one workload
// have the same hash whatever their output paths, shard and start time.
func workloadHash(cfg *config.File) string {
	exec := cfg.Execution
	exec.Shard, exec.StartAt = "", "" // the shards of one run differ only there
	b, err := json.Marshal(struct {
		Version   string
		Providers []config.Provider
		Workload  config.Workload
		Execution config.Execution
	}{cfg.Version, cfg.Providers, cfg.Workload, exec})
	if err != nil {
		// Every value of a loaded configuration encodes; should one not,
		// the hash says so and merge asks for -force.
		return "unhashable: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// useColor decides from the -color flag, NO_COLOR and whether w is a
// terminal.
func useColor(flag string, w io.Writer) bool {
	switch flag {
	case "on":
		return true
	case "off":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progress is the run's progress bar on stderr.
type progress struct {
	bar  *progressbar.ProgressBar
	done atomic.Int64
}

// newProgress returns a bar over every run's requests, or nil when there is
// to be none.
func newProgress(runs []config.Run, flag string, configured bool) *progress {
	switch flag {
	case "off":
		return nil
	case "auto":
		if !configured || !isTerminal(current.err) {
			return nil
		}
	}
	total := int64(0)
	for _, r := range runs {
		if r.Scenario.Requests == 0 {
			total = -1 // a duration-bounded run: a spinner
			break
		}
		total += int64(r.Scenario.Requests)
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(current.err),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &progress{bar: bar}
}

func (p *progress) onRequest(m *lens.RequestMetrics) {
	if !m.Warmup {
		_ = p.bar.Add(1)
	}
}

func (p *progress) describe(s string) { p.bar.Describe(s) }

func (p *progress) finish() { _ = p.bar.Finish() }

// parseStartAt reads -start-at: an RFC 3339 time or Unix seconds.
func parseStartAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if sec, err := strconv.ParseFloat(s, 64); err == nil && sec > 0 && sec < 1<<33 {
		return time.Unix(0, int64(sec*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor Unix seconds", s)
}
