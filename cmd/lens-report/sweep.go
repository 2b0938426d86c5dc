package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/capacity"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/report"
)

var sweepCmd = &command{
	name:    "sweep",
	args:    "-config FILE",
	summary: "find the highest load at which every gate of each scenario holds",
	detail: `Sweep loads the configuration and, for every scenario with gates, against
every provider and model it lists, searches the highest load at which all of the
scenario's gates hold: the arrival rate (req/s) when the scenario sets a
rate_limit, else the number of users (its concurrency). A scenario's sweep
section sets the search (mode, start, min, max, growth, resolution,
min_achieved, require; see examples/full.yaml); without one the search starts
at the scenario's rate_limit or concurrency. A scenario without gates has
nothing to search and is skipped, with a line on stderr.

The load grows (twice by default) while every gate holds, then is bisected
between the highest load that held and the lowest that did not, until they are
within the resolution (5% by default). Each load runs the scenario's requests
(in closed loop, at least two per user) and is judged as lens-report run judges
gates: a load far from the capacity is decided by its first requests, one near
it runs more, within max_requests (default ten times requests); a load still
inconclusive then is decided by its point estimate and marked so. A load at
which the server fails requests (an error_rate gate broken or, with none, any
request failed) or the client sends under min_achieved of the asked rate (90%)
ends at once, and the search goes no higher: the report says which.

The console shows, per result, the measurements at the capacity and the curve:
each load with its gates' verdicts and intervals, TTFT percentiles, the rate
sent, goodput (requests per second that met every per-request limit: the
scenario's slo, else the limits of its ttft, tpot and e2e gates), output
tokens/s and requests. The -o file and the exports hold the same, with the
curve in each result's "sweep" field; lens-report html draws it (TTFT
percentiles and goodput against load, the capacity marked). The dashboard,
tracing and output.database work as with run.

Exit status: 0 when every searched scenario found a load at which its gates
hold, at least its sweep.require; 1 when one did not; 2 for a usage or
configuration error (a sharded or scheduled run, execution.shard or
execution.start_at, cannot be searched); 3 when a search could not run or a
file could not be written; 130 when interrupted (what was searched is
reported and written).`,
	flags: func(fs *flag.FlagSet) func([]string) error {
		shared := runFlags(fs, "the search")
		return func(args []string) error {
			o := shared()
			if o.config == "" || len(args) > 0 {
				return errUsage
			}
			return sweepConfig(o)
		}
	},
}

func sweepConfig(o runOptions) error {
	data, err := os.ReadFile(o.config)
	if err != nil {
		return err
	}
	cfg, err := config.Parse(data, o.config)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if cfg.Execution.Shard != "" || cfg.Execution.StartAt != "" {
		return &exitError{code: 2, msg: "execution.shard and execution.start_at: a sweep runs its loads one after another on one machine; remove them"}
	}
	var fakes config.Builder
	defer fakes.Close()
	runs, err := cfg.Runs(fakes.Build)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	var todo []config.Run
	skipped := map[string]bool{}
	for _, r := range runs {
		if len(r.Gates) == 0 {
			if !skipped[r.Scenario.Name] {
				fmt.Fprintf(current.err, "sweep: scenario %s has no gates: nothing to search, skipped\n", r.Scenario.Name)
				skipped[r.Scenario.Name] = true
			}
			continue
		}
		todo = append(todo, r)
	}
	if len(todo) == 0 {
		return &exitError{code: 2, msg: "no scenario has gates: a sweep searches the highest load at which a scenario's gates hold"}
	}
	db, err := openSink(cfg.Output.Database, o.labels)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	defer db.close()
	if err := checkOutputs(cfg, o); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	live, err := startLive(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer live.close()
	started := time.Now()

	var found []*capacity.Result
	var short []string
	var runErr error
	for _, r := range todo {
		sc := r.Scenario
		sc.OnRequest = lens.ChainHooks(sc.OnRequest, db.hook(&sc))
		if err := live.instrument(&sc, r.Gates); err != nil {
			runErr = err
			break
		}
		s := r.Sweep.Search()
		where := fmt.Sprintf("%s %s/%s", sc.Name, r.Provider.Name, sc.Model)
		s.Logf = func(format string, args ...any) {
			fmt.Fprintf(current.err, "%s: %s\n", where, fmt.Sprintf(format, args...))
		}
		res, err := capacity.Find(ctx, sc, s, r.Gates...)
		if res != nil {
			found = append(found, res)
		}
		if err != nil {
			runErr = err
			break
		}
		need := 0.0
		if r.Sweep != nil {
			need = r.Sweep.Require
		}
		switch {
		case res.Capacity == 0:
			short = append(short, fmt.Sprintf("%s: no load held", where))
		case res.Capacity < need:
			short = append(short, fmt.Sprintf("%s: capacity %s %s, sweep.require %s", where,
				strconv.FormatFloat(res.Capacity, 'g', 6, 64), res.Mode.Unit(), strconv.FormatFloat(need, 'g', 6, 64)))
		}
	}
	interrupted := ctx.Err() != nil

	f, err := report.FromSweeps(found, report.Metadata{ConfigHash: workloadHash(cfg), Interrupted: interrupted})
	if err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	if err := writeOutputs(f, cfg, o, started); err != nil {
		return err
	}
	live.finish()
	if err := db.write(f, o.labels); err != nil {
		return &exitError{code: 3, msg: err.Error()}
	}
	switch {
	case interrupted:
		return &exitError{code: 130, msg: "interrupted: wrote what was searched"}
	case runErr != nil:
		return &exitError{code: 3, msg: runErr.Error()}
	case len(short) > 0:
		msg := short[0]
		if len(short) > 1 {
			msg = fmt.Sprintf("%s (and %d more)", msg, len(short)-1)
		}
		return &exitError{code: 1, msg: msg}
	}
	return nil
}
