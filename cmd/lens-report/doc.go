// Lens-report runs LLM latency benchmarks and reports on their results.
//
// It is the command line of github.com/llm-latency-lens/lens. This
// documentation is its help, checked by a test.
//
//	lens-report runs LLM latency benchmarks and reports on their results.
//
//	Usage:
//
//		lens-report run      run the benchmark a configuration file describes
//		lens-report sweep    find the highest load at which every gate of each scenario holds
//		lens-report fake     serve the fake LLM server on an address
//		lens-report show     print a result file
//		lens-report junit    turn go test -json output into JUnit XML
//		lens-report compare  compare two result files; exit 1 on a regression
//		lens-report merge    merge result files of shards into one
//		lens-report html     write a result file as a single-file HTML report
//		lens-report history  list, trend and check the runs of a history file
//
//	Run 'lens-report <command> -help' for a command's flags.
//
//	Exit status: 0 on success; 1 when the command did its work and found a
//	broken gate or a regression, or could not read or write a file, or could
//	not merge or compare what it was given; 2 for a usage error (an unknown
//	command, flag or flag value, a missing argument or file, an invalid
//	configuration, a run or history file that does not exist); 3 when run could
//	not complete the run or write its outputs; 130 when run was interrupted.
//	Each command's help says which apply to it.
//
// # run
//
//	usage: lens-report run [flags] -config FILE
//
//	run the benchmark a configuration file describes
//
//	Run loads the configuration (the YAML or JSON schema of examples/full.yaml),
//	runs every scenario against every provider and model it lists, one after
//	another, prints the console report, and writes the exports named in the
//	configuration's output section ({timestamp} in a path becomes the run's start
//	time, 20060102T150405Z). A provider of type fake is served in-process, so a
//	configuration against it runs offline.
//
//	With -shard i/n (or execution.shard) the run is shard i of n machines that
//	run the same configuration: each sends its interleaved share of every open-loop
//	schedule (arrivals k with k mod n = i, at the whole run's times) or of every
//	closed loop's workers, and its share of the requests; give every shard the same
//	-start-at, then join their -o files with lens-report merge. A Kubernetes
//	Indexed Job and a GitHub Actions matrix that do this are in examples/. A
//	start time more than 1s in the past, or overrun by the warmup by more than
//	1s, is refused (exit 2 before the run, 3 after the warmup), saying how late:
//	a shard that started late would send its overdue arrivals at once.
//
//	On Ctrl-C (or SIGTERM) the run stops starting requests, the requests in flight
//	end as canceled, and the report and exports are written with what was
//	measured, marked interrupted; the exit status is then 130. A second Ctrl-C
//	exits at once.
//
//	A scenario's gates (gates: [{metric: ttft, percentile: 95, limit_ms: 500},
//	{metric: error_rate, max: 0.01}]) are judged after it runs: pass or fail when
//	the confidence interval lies wholly on one side of the limit, inconclusive
//	when it straddles it. With max_requests an inconclusive gate first runs more
//	requests of the scenario (each look is logged on stderr) until it is
//	conclusive or the budget is spent; a gate still inconclusive then is decided
//	by its point estimate. The console, every export and the -junit file show
//	each gate's verdict, interval and flake risk.
//
//	With -serve ADDR (or dashboard.listen) the run is watched live on a web page
//	at ADDR, updated every second, and with -hold still served after the run until
//	Ctrl-C. While the dashboard runs (or dashboard.alerts is set), every gate of a
//	scenario and every threshold of dashboard.alerts is an alert judged on the
//	sliding window (dashboard.window_secs, default 10): it turns red on the page,
//	and prints a line on stderr with the time and the window's value, when it
//	fires and when it clears. A gate's alert warns during the run; the gate itself
//	is still judged at the end.
//
//	Exit status: 0 when the run completed and every gate holds; 1 when a gate is
//	broken; 2 for a usage or configuration error; 3 when the run itself failed
//	(a scenario could not run, an export could not be written); 130 when
//	interrupted.
//
//	The configuration's output.database, when enabled, is written after the
//	exports: InfluxDB (a summary point per result and error class, and with
//	per_request a point per request, streamed during the run), the SQLite run
//	history that lens-report history reads, or a Prometheus Pushgateway. A sink
//	that fails loses nothing (the exports are already written) and makes the exit
//	status 3, with a message that names it. -label key=value (repeatable) tags the
//	run: InfluxDB tags, history labels, Pushgateway grouping labels.
//
//	Flags:
//	  -color when
//	    	colour in the console table when: auto (on a terminal, unless NO_COLOR is set), on or off (default auto)
//	  -config file
//	    	the configuration file (YAML or JSON); required
//	  -format value
//	    	console output: json, minimal or table (default: the configuration's, else table)
//	  -hold
//	    	keep serving the dashboard after the run, until Ctrl-C
//	  -junit path
//	    	write the gates' verdicts as JUnit XML to path: one test case per gate and result
//	  -label key=value
//	    	tag the run with key=value in the configured database (repeatable)
//	  -o path
//	    	also write the result file (JSON) to path
//	  -progress when
//	    	a progress bar on stderr when: auto (on a terminal, unless the configuration turns it off), on or off (default auto)
//	  -raw path
//	    	write every request's record as JSON lines to path (memory stays flat)
//	  -serve addr
//	    	serve the live dashboard on addr (127.0.0.1:8080; port 0 picks one) during the run (default: the configuration's dashboard.listen)
//	  -shard i/n
//	    	run shard i/n of a run shared by n machines (overrides execution.shard); merge the shards' -o files with lens-report merge
//	  -start-at time
//	    	start the first scenario's measured phase at time (RFC 3339, or Unix seconds; overrides execution.start_at), the same for every shard
//
// # sweep
//
//	usage: lens-report sweep [flags] -config FILE
//
//	find the highest load at which every gate of each scenario holds
//
//	Sweep loads the configuration and, for every scenario with gates, against
//	every provider and model it lists, searches the highest load at which all of the
//	scenario's gates hold: the arrival rate (req/s) when the scenario sets a
//	rate_limit, else the number of users (its concurrency). A scenario's sweep
//	section sets the search (mode, start, min, max, growth, resolution,
//	min_achieved, require; see examples/full.yaml); without one the search starts
//	at the scenario's rate_limit or concurrency. A scenario without gates has
//	nothing to search and is skipped, with a line on stderr.
//
//	The load grows (twice by default) while every gate holds, then is bisected
//	between the highest load that held and the lowest that did not, until they are
//	within the resolution (5% by default). Each load runs the scenario's requests
//	(in closed loop, at least two per user) and is judged as lens-report run judges
//	gates: a load far from the capacity is decided by its first requests, one near
//	it runs more, within max_requests (default ten times requests); a load still
//	inconclusive then is decided by its point estimate and marked so. A load at
//	which the server fails requests (an error_rate gate broken or, with none, any
//	request failed) or the client sends under min_achieved of the asked rate (90%)
//	ends at once, and the search goes no higher: the report says which.
//
//	The console shows, per result, the measurements at the capacity and the curve:
//	each load with its gates' verdicts and intervals, TTFT percentiles, the rate
//	sent, goodput (requests per second that met every per-request limit: the
//	scenario's slo, else the limits of its ttft, tpot and e2e gates), output
//	tokens/s and requests. The -o file and the exports hold the same, with the
//	curve in each result's "sweep" field; lens-report html draws it (TTFT
//	percentiles and goodput against load, the capacity marked). The dashboard,
//	tracing and output.database work as with run.
//
//	Exit status: 0 when every searched scenario found a load at which its gates
//	hold, at least its sweep.require; 1 when one did not; 2 for a usage or
//	configuration error (a sharded or scheduled run, execution.shard or
//	execution.start_at, cannot be searched); 3 when a search could not run or a
//	file could not be written; 130 when interrupted (what was searched is
//	reported and written).
//
//	Flags:
//	  -color when
//	    	colour in the console table when: auto (on a terminal, unless NO_COLOR is set), on or off (default auto)
//	  -config file
//	    	the configuration file (YAML or JSON); required
//	  -format value
//	    	console output: json, minimal or table (default: the configuration's, else table)
//	  -label key=value
//	    	tag the run with key=value in the configured database (repeatable)
//	  -o path
//	    	also write the result file (JSON) to path
//	  -serve addr
//	    	serve the live dashboard on addr (127.0.0.1:8080; port 0 picks one) during the search (default: the configuration's dashboard.listen)
//
// # fake
//
//	usage: lens-report fake [flags]
//
//	serve the fake LLM server on an address
//
//	Fake serves every wire format the fake speaks (OpenAI chat completions and
//	responses, Anthropic messages, Gemini and Vertex AI, Azure OpenAI, Cohere) on
//	one address until interrupted, with the latency profile the flags give.
//
//	A latency is a duration ("80ms"), or a distribution of durations, written
//	as in a configuration: "uniform(40ms, 120ms)", "normal(80ms, 10ms)" (mean,
//	standard deviation), "lognormal(40ms, 0.3)" (median, shape).
//
//	Flags:
//	  -addr address
//	    	listen address (default "127.0.0.1:8080")
//	  -capacity int
//	    	concurrent streams served at full speed; more queue (0: no limit)
//	  -faults rates
//	    	fault rates, e.g. "rate_limit=0.05,disconnect=0.01"; faults: disconnect, malformed, overloaded, rate_limit, server_error, stall, stream_error, unavailable; also retry_after_ms and stall_for_ms
//	  -itl latency
//	    	time between tokens: a latency (default "10ms")
//	  -model string
//	    	model named in responses when a request names none
//	  -prefill-per-token duration
//	    	extra time to first token per prompt token
//	  -seed uint
//	    	seed of every random choice (default 1)
//	  -tokens int
//	    	output tokens per response (a request's max_tokens lowers it) (default 64)
//	  -tokens-per-chunk int
//	    	tokens per content event (0: 1; Gemini's default is several)
//	  -ttft latency
//	    	time to first token: a latency (default "100ms")
//
// # show
//
//	usage: lens-report show [flags] FILE
//
//	print a result file
//
//	Show prints a result file written by run (or merge) in the format asked:
//	the console table (the same table run prints), json, csv (one row per
//	result), markdown (for pull-request comments and CI step summaries),
//	benchstat (benchfmt lines that benchstat compares), prometheus (the text
//	exposition format), minimal (one line per result), or hlog: an HdrHistogram
//	interval log of one metric (-metric) over time, which HdrHistogram's own
//	log processor and plotters read. hlog and raw-csv need the raw requests:
//	the JSON lines file run -raw wrote (-raw), or those embedded in the file.
//
//	Flags:
//	  -color when
//	    	colour in the table when: auto, on or off (default auto)
//	  -format format
//	    	output format: benchstat, csv, hlog, json, markdown, minimal, prometheus, raw-csv or table (default table)
//	  -interval duration
//	    	the interval of an hlog (default 1s)
//	  -metric string
//	    	the metric of an hlog: ttft, e2e, ttfb, tpot, itl, queue, dns, connect or tls (default "ttft")
//	  -raw string
//	    	the raw requests (JSON lines from run -raw) for hlog and raw-csv
//
// # junit
//
//	usage: lens-report junit [flags] [go-test-json-file]
//
//	turn go test -json output into JUnit XML
//
//	Junit reads the output of go test -json (from the file, or standard input)
//	and writes JUnit XML: a test suite per package, a test case per test,
//	subtest, example and benchmark. Each case carries its lens metrics (the
//	lens.* attributes lenstest records) as properties; an SLO failure is a
//	<failure> with the assertion's message; benchmarks are passes, with their
//	metrics as properties.
//
//		go test -json ./... | lens-report junit -o junit.xml
//
//	Flags:
//	  -o file
//	    	write the XML to file (default: standard output)
//	  -suite-properties
//	    	put properties on test suites (as <test>/<key>) for readers that accept them only there
//
// # compare
//
//	usage: lens-report compare [flags] OLD NEW
//
//	compare two result files; exit 1 on a regression
//
//	Compare matches the results of two files by scenario, provider and model and,
//	for each metric (TTFT, ITL, TPOT and E2E percentiles, tokens/s, error rate,
//	goodput), prints the old and new values, the change, and whether it is
//	significant, from the files' full histograms. A significant change in the
//	worse direction beyond the threshold is a regression: compare then exits
//	with status 1.
//
//	Compare also exits with status 1, saying what, when it cannot compare
//	something: a result (scenario, provider and model) found in one file only,
//	a result that measured no request, a metric with samples on one side only,
//	or two files with nothing in common. With -partial, results found in one
//	file only are warnings instead, and the rest is compared.
//
//	-threshold 0 makes any significant change for the worse a regression. A
//	-threshold below 0 or not a number, or an -alpha outside (0, 1), is a usage
//	error: exit 2, as for any other bad flag.
//
//	Flags:
//	  -alpha level
//	    	significance level of each test (default 0.05)
//	  -color when
//	    	colour when: auto, on or off (default auto)
//	  -format format
//	    	output format: table or markdown (default table)
//	  -partial
//	    	compare the results both files have: a result found in one file only is a warning, not an error
//	  -threshold percent
//	    	smallest change, in percent, that counts as a regression (0: any significant change) (default 5)
//
// # merge
//
//	usage: lens-report merge [flags] -o OUT FILE...
//
//	merge result files of shards into one
//
//	Merge combines result files of shards — the same configuration run on many
//	machines — into one, exactly as if one machine had run them all: the
//	histograms are merged without loss and every percentile recomputed from
//	them, counts and costs summed.
//
//	Shards must come from the same workload: run records a hash of what its
//	configuration sends (providers, models, workload and execution, as loaded),
//	not of its bytes, so copies that differ in comments, layout, output paths or
//	credentials merge. Shards of different workloads are refused unless -force
//	is given, which merges them with a warning.
//
//	Each shard's file records which shard it is (run -shard i/n), and a merged
//	file every shard it holds. Merge refuses, even with -force, files that would
//	count the same requests twice: a shard given twice, a merged file together
//	with a shard it already holds, or the same file twice (files of unsharded
//	runs, or written before shards were recorded, are checked only for that). It warns on stderr
//	when shards of the run are missing from the merged file (merge it again with
//	them later: the merged file is a valid input).
//
//	The shards' SLO gates are judged again on the merged histograms, as if one
//	run had measured every request (each shard's verdict was on its share
//	alone), and the merged file holds those verdicts; merge prints each on
//	stderr. Exit status: 0 when the merged file is written and every gate holds;
//	1 when a gate is broken (the file is written), or when the files cannot be
//	merged; 2 for a usage error.
//
//	Flags:
//	  -force
//	    	merge shards run from different workloads (configuration hashes) anyway, with a warning
//	  -o path
//	    	write the merged result file to path; required
//
// # html
//
//	usage: lens-report html [flags] FILE
//
//	write a result file as a single-file HTML report
//
//	Html writes one self-contained HTML page (inline CSS and SVG, no script) with
//	a summary table, TTFT and E2E distributions as CDFs, ITL histograms, a
//	per-model comparison and throughput over time.
//
//	Flags:
//	  -o file
//	    	write the page to file (default: standard output)
//	  -title string
//	    	the page's title
//
// # history
//
//	usage: lens-report history [flags] list|trend|check|add|baseline [flags]
//
//	list, trend and check the runs of a history file
//
//	History reads the SQLite run history that run appends to (output.database
//	type sqlite), or that add fills from result files. Every subcommand takes the
//	history file as -db PATH, or from -config FILE's sqlite connection.
//
//	  history list [filters]
//		the runs, oldest first: id, time, branch, commit, source, config hash,
//		labels, the verdict on each SLO gate, and results (-format json: every
//		verdict in full, with its estimate, interval and requests).
//	  history trend -metric ttft.p95 [-html FILE] [filters]
//		a table of the metric over runs, one per scenario, provider and model,
//		with each run's 95% confidence interval; -html also writes a chart.
//		Metrics: DIST.pN (ttft, e2e, itl, tpot, ttfb, tokens_per_second,
//		output_tokens, queue_delay, ... at any percentile: ttft.p99.9), error_rate,
//		goodput, and gate:NAME (gate:ttft_p95, gate:error_rate): the gate's
//		verdict in each run that judged it, its estimate, interval, requests
//		and outcome.
//	  history check [-run ID | -file RESULT] [-baseline NAME | -last N] [filters]
//		the newest run (or run ID, or a result file) against a baseline: the
//		runs pinned under NAME, or the newest N (default 20) runs before it on
//		its branch (-branch to choose another), of the same configuration. The
//		baseline's runs are merged and compared with the new one as compare
//		does (each metric's change and significance); then every metric is
//		tested for a slow drift over the baseline runs and the new one, with
//		the Mann-Kendall trend test. Exit 1 on a regression or a drift for the
//		worse beyond the threshold (-threshold 0: any significant one); exit 2
//		for a run ID that is not in the history, or a -threshold, -alpha or
//		-drift-alpha out of range.
//	  history add [-branch B] [-commit C] [-label k=v] RESULT...
//		append result files (written by run -o, merge, ...) as runs.
//	  history baseline set NAME ID... | list | clear NAME
//		pin runs under a baseline name, list the names, or remove one.
//
//	Filters: -scenario S, -branch B, -label key=value (repeatable), -since and
//	-until (RFC 3339 time or date), -last N (the newest N).
package main
