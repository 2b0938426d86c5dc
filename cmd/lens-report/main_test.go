package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/config"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/providers"
	"github.com/llm-latency-lens/lens/report"
)

var update = flag.Bool("update", false, "rewrite doc.go from the commands' help")

func TestMain(m *testing.M) {
	// The interrupt test runs the command in a child process: this binary
	// with LENS_REPORT_ARGS set.
	if args := os.Getenv("LENS_REPORT_ARGS"); args != "" {
		os.Exit(lensReport(strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cli runs lens-report with args and returns its exit status and output.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = lensReport(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDoc checks that doc.go, the command's documentation, is its help:
// the top-level usage and every command's -help, word for word.
func TestDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("// Lens-report runs LLM latency benchmarks and reports on their results.\n//\n")
	b.WriteString("// It is the command line of github.com/llm-latency-lens/lens. This\n// documentation is its help, checked by a test.\n//\n")
	for _, line := range strings.Split(strings.TrimRight(usage(), "\n"), "\n") {
		writeDocLine(&b, line)
	}
	for _, c := range commands {
		code, out, _ := cli(t, "", c.name, "-help")
		require.Equal(t, 0, code, c.name)
		b.WriteString("//\n// # " + c.name + "\n//\n")
		for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			writeDocLine(&b, line)
		}
	}
	b.WriteString("package main\n")
	want := b.String()
	if *update {
		require.NoError(t, os.WriteFile("doc.go", []byte(want), 0o644))
	}
	got, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "doc.go is out of date: go test ./cmd/lens-report -run TestDoc -update")
}

func writeDocLine(b *strings.Builder, line string) {
	if line == "" {
		b.WriteString("//\n")
		return
	}
	b.WriteString("//\t" + line + "\n")
}

func TestUsageErrors(t *testing.T) {
	code, out, _ := cli(t, "")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "lens-report run")
	code, _, errOut := cli(t, "", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, errOut = cli(t, "", "run")
	assert.Equal(t, 2, code, "run needs -config")
	assert.Contains(t, errOut, "usage: lens-report run")
	code, _, errOut = cli(t, "", "compare", "one-file")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage: lens-report compare")
	code, out, _ = cli(t, "", "help", "merge")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: lens-report merge")
}

// fakeConfig writes the configuration file dir/name, and returns its path:
// the in-process fake with settings (the contents of a YAML flow mapping)
// serves a scenario "chat" saying hello, with the scenario's further lines
// and the rest of the file (the workload's other keys, then the other
// sections) as given, indented as they stand in the file.
func fakeConfig(t *testing.T, dir, name, settings, scenario, rest string) string {
	t.Helper()
	cfg := `version: "1.0"
providers:
  - name: fake
    models: [fake-model]
    settings: {` + settings + `}
workload:
  scenarios:
    - name: chat
      prompt: "Say hello"
` + scenario + rest
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
	return path
}

// writeConfig writes a configuration against the in-process fake with the
// given fake settings and exports into dir, and returns its path.
func writeConfig(t *testing.T, dir, fakeSettings string, requests int, exports ...string) string {
	t.Helper()
	var ex strings.Builder
	for _, e := range exports {
		format, path, _ := strings.Cut(e, "=")
		fmt.Fprintf(&ex, "    - format: %s\n      path: %s\n", format, filepath.Join(dir, path))
	}
	return fakeConfig(t, dir, "config.yaml", fakeSettings, fmt.Sprintf(`      requests: %d
      concurrency: 8
`, requests), `  request_params:
    max_tokens: 16
execution:
  warmup_requests: 8
output:
  console:
    format: table
  export:
`+ex.String())
}

// child starts lens-report with args in a process of its own (this test
// binary; see TestMain).
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LENS_REPORT_ARGS="+strings.Join(args, "\x1f"))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	return cmd, &errb
}

// TestRunShowAndExports: run prints the LLM-Latency-Lens console table and writes the
// exports; show prints the same table from the JSON.
func TestRunShowAndExports(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "ttft_ms: 20, itl_ms: 2, output_tokens: 16", 60,
		"json=out/{timestamp}.json", "csv=out.csv", "html=out.html", "markdown=out.md", "benchstat=out.txt", "prometheus=out.prom", "binary=out.msgpack")
	resultPath := filepath.Join(dir, "result.json")
	code, out, errOut := cli(t, "", "run", "-config", cfg, "-o", resultPath, "-raw", filepath.Join(dir, "raw.jsonl"), "-color", "off")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"LLM Latency Lens - Benchmark Results", "Scenario: chat", "Provider: fake | Model: fake-model",
		"TTFT (ms)", "Inter-token (ms)", "Success Rate: 100.0% (60/60)", "Comparative Summary"} {
		assert.Contains(t, out, want)
	}

	// show prints the same table.
	code, shown, errOut := cli(t, "", "show", "-color", "off", resultPath)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, out, shown)

	// Every export was written, and parses as what it claims to be.
	jsons, _ := filepath.Glob(filepath.Join(dir, "out", "*.json"))
	require.Len(t, jsons, 1, "{timestamp} expanded once")
	f, err := report.ReadFile(jsons[0])
	require.NoError(t, err)
	assert.EqualValues(t, 60, f.Scenarios[0].Results[0].Metrics.TotalRequests)
	bin, err := os.Open(filepath.Join(dir, "out.msgpack"))
	require.NoError(t, err)
	defer bin.Close()
	fb, err := report.ReadMsgpack(bin)
	require.NoError(t, err)
	assert.Equal(t, f.Scenarios[0].Results[0].Metrics.Latency.TTFT.P95, fb.Scenarios[0].Results[0].Metrics.Latency.TTFT.P95)
	for name, want := range map[string]string{
		"out.csv":   "scenario,",
		"out.html":  "<svg",
		"out.md":    "| ",
		"out.txt":   "Unit ttft-p95-ns better=lower",
		"out.prom":  "# TYPE ",
		"raw.jsonl": `"request_id"`,
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Contains(t, string(b), want, name)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "raw.jsonl"))
	assert.Equal(t, 60, bytes.Count(raw, []byte("\n")), "one raw record per measured request")

	// The raw requests as an HdrHistogram interval log and as CSV.
	code, hlog, errOut := cli(t, "", "show", "-format", "hlog", "-raw", filepath.Join(dir, "raw.jsonl"), "-metric", "e2e", resultPath)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, hlog, "#[Histogram log format version 1.3]")
	assert.Contains(t, hlog, `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`)
	code, rawCSV, errOut := cli(t, "", "show", "-format", "raw-csv", "-raw", filepath.Join(dir, "raw.jsonl"), resultPath)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 61, strings.Count(rawCSV, "\n"), "a header and a row per request")
	code, _, errOut = cli(t, "", "show", "-format", "hlog", resultPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no raw requests")

	// Other show formats.
	for _, format := range []string{"json", "csv", "markdown", "benchstat", "prometheus", "minimal"} {
		code, out, errOut := cli(t, "", "show", "-format", format, resultPath)
		assert.Equal(t, 0, code, "%s: %s", format, errOut)
		assert.NotEmpty(t, out, format)
	}
}

func TestRunBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("version: \"1.0\"\nproviders: []\nworkload:\n  scenarios:\n    - name: a\n      requests: -1\n"), 0o644))
	code, _, errOut := cli(t, "", "run", "-config", path)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bad.yaml:2: providers: at least one provider is required")
	assert.Contains(t, errOut, "workload.scenarios[0].requests: must be > 0")
}

// TestCompareAndMerge: compare flags a regression injected by making the
// fake slower, stays quiet on two runs of the same setup, and merge of two
// shards gives one result of both.
//
// The runs are made in virtual time against the fake's responder, so that a
// busy machine's scheduling delays (which reach +40% at p95 of a 300ms
// answer under heavy load) cannot pass for a regression: what is tested is
// how compare and merge judge files, not how the machine keeps time. The
// fake answers in one event after 200..400ms; the compare counts changes of
// 20% or more, and the slow fake's +50% is far over it.
func TestCompareAndMerge(t *testing.T) {
	dir := t.TempDir()
	run := func(name, hash string, ttft fake.Latency, seed uint64) string {
		var f *report.File
		synctest.Test(t, func(t *testing.T) {
			mt := httpmock.NewMockTransport()
			fake.NewResponder(fake.Config{TTFT: ttft, OutputTokens: 1, Seed: seed}).Register(mt, "http://fake.test")
			res, err := lens.Run(t.Context(), lens.Scenario{
				Name: "chat", Provider: &providers.OpenAI{BaseURL: "http://fake.test/v1", APIKey: "sk-fake"},
				Model: "fake-model", Prompt: "Say hello", Requests: 100, Concurrency: 8,
				Client: &http.Client{Transport: mt},
			})
			require.NoError(t, err)
			f, err = report.FromResults([]*lens.Result{res}, report.Metadata{ConfigHash: hash})
			require.NoError(t, err)
		})
		out := filepath.Join(dir, name+".json")
		require.NoError(t, report.WriteFile(out, f))
		return out
	}
	same := fake.Uniform(200*time.Millisecond, 400*time.Millisecond)
	a, b := run("a", "same", same, 1), run("b", "same", same, 2)
	slow := run("slow", "slow", fake.Uniform(300*time.Millisecond, 600*time.Millisecond), 3)

	code, out, errOut := cli(t, "", "compare", "-color", "off", "-threshold", "20", a, b)
	assert.Equal(t, 0, code, "same setup: no regression\n%s%s", out, errOut)

	code, out, errOut = cli(t, "", "compare", "-color", "off", "-threshold", "20", a, slow)
	assert.Equal(t, 1, code, "TTFT 50%% slower must be a regression\n%s", out)
	assert.Contains(t, errOut, "regression")
	assert.Regexp(t, `TTFT p50 .*REGRESSION`, out)

	code, md, _ := cli(t, "", "compare", "-format", "markdown", "-threshold", "20", a, slow)
	assert.Equal(t, 1, code)
	assert.Contains(t, md, "|")

	// Two shards of one configuration merge into one result of both.
	merged := filepath.Join(dir, "merged.json")
	code, _, errOut = cli(t, "", "merge", "-o", merged, a, b)
	require.Equal(t, 0, code, errOut)
	m, err := report.ReadFile(merged)
	require.NoError(t, err)
	assert.EqualValues(t, 200, m.Scenarios[0].Results[0].Metrics.TotalRequests)
	assert.Equal(t, 2, m.Metadata.Shards)

	// Shards of different configurations do not.
	code, _, errOut = cli(t, "", "merge", "-o", merged, a, slow)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "configuration")

	code, page, errOut := cli(t, "", "html", merged)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, page, "<svg")
}

func TestJUnit(t *testing.T) {
	events := strings.Join([]string{
		`{"Action":"start","Package":"example.com/p"}`,
		`{"Action":"run","Package":"example.com/p","Test":"TestSLO"}`,
		`{"Action":"output","Package":"example.com/p","Test":"TestSLO","Output":"=== RUN   TestSLO\n"}`,
		`{"Action":"output","Package":"example.com/p","Test":"TestSLO","Output":"=== ATTR  TestSLO lens.ttft.p95_ms 612.000\n"}`,
		`{"Action":"output","Package":"example.com/p","Test":"TestSLO","Output":"    slo_test.go:20: lenstest: SLO broken: p95 TTFT = 612ms, limit 500ms (over by 112ms, +22.4%)\n"}`,
		`{"Action":"fail","Package":"example.com/p","Test":"TestSLO","Elapsed":1.5}`,
		`{"Action":"fail","Package":"example.com/p","Elapsed":1.6}`,
	}, "\n")
	code, out, errOut := cli(t, events, "junit")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Suites, 1)
	c := doc.Suites[0].Cases[0]
	assert.Equal(t, "TestSLO", c.Name)
	require.NotNil(t, c.Failure)
	assert.Contains(t, c.Failure.Message, "p95 TTFT = 612ms")
	assert.Contains(t, fmt.Sprint(c.Props), "lens.ttft.p95_ms 612.000")

	// From a file, to a file.
	dir := t.TempDir()
	in, outPath := filepath.Join(dir, "test.json"), filepath.Join(dir, "junit.xml")
	require.NoError(t, os.WriteFile(in, []byte(events), 0o644))
	code, _, errOut = cli(t, "", "junit", "-o", outPath, in)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(outPath)
	require.NoError(t, err)
	assert.Equal(t, out, string(b))
}

// TestRunInterrupted: Ctrl-C in the middle of a run writes the report and
// the result file with what was measured, marked interrupted, and exits
// 130.
func TestRunInterrupted(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "ttft_ms: 100, itl_ms: 10, output_tokens: 10", 100000)
	result := filepath.Join(dir, "result.json")
	raw := filepath.Join(dir, "raw.jsonl")
	cmd, errb := child(t, "run", "-config", cfg, "-o", result, "-raw", raw, "-progress", "off")
	var out bytes.Buffer
	cmd.Stdout = &out
	require.NoError(t, cmd.Start())
	// Signal once requests are being measured (the raw file has records),
	// however slow the machine: a fixed sleep may end before the warmup
	// does.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(raw)
		if bytes.Count(b, []byte("\n")) >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	assert.Equal(t, 130, ee.ExitCode())
	assert.Contains(t, out.String(), "Interrupted")
	f, err := report.ReadFile(result)
	require.NoError(t, err)
	assert.True(t, f.Metadata.Interrupted)
	m := f.Scenarios[0].Results[0].Metrics
	assert.Greater(t, m.TotalRequests, int64(8), "requests measured before the signal are kept")
	assert.Less(t, m.TotalRequests, int64(100000))
	var doc map[string]any
	b, _ := os.ReadFile(result)
	require.NoError(t, json.Unmarshal(b, &doc), "the result file is whole")
}

// TestFakeFlags checks the latency syntax of the fake command.
func TestFakeFlags(t *testing.T) {
	for _, ok := range []string{"80ms", "fixed(80ms)", "uniform(40ms,120ms)", "normal(80ms, 10ms)", "lognormal(40ms, 0.3)"} {
		l, err := config.ParseLatency(ok)
		if assert.NoError(t, err, ok) && strings.Contains(ok, "(") {
			assert.Equal(t, strings.ReplaceAll(strings.ReplaceAll(ok, " ", ""), ",", ", "), fmt.Sprint(l), "a latency prints as it is written")
		}
	}
	for _, bad := range []string{"", "80", "uniform(120ms,40ms)", "uniform(1ms)", "gamma(1ms,2ms)", "normal(-1ms,1ms)", "uniform:40ms,120ms", "uniform(1ms, 2ms"} {
		_, err := config.ParseLatency(bad)
		assert.Error(t, err, bad)
	}
	assert.Regexp(t, regexp.MustCompile(`-ttft latency`), func() string { _, out, _ := cli(t, "", "fake", "-help"); return out }())
}

// TestRunWithFaults: a fake provider's faults setting injects failures,
// which the report breaks down by class.
func TestRunWithFaults(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "ttft_ms: 5, itl_ms: 1, output_tokens: 8, faults: {rate_limit: 0.2, disconnect: 0.1, retry_after_ms: 5}", 200)
	code, out, errOut := cli(t, "", "run", "-config", cfg, "-color", "off")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Error Breakdown")
	assert.Contains(t, out, "rate_limited")
	assert.Contains(t, out, "connection")

	for _, bad := range []string{"faults: {rate_limit: 2}", "faults: {hiccup: 0.1}", "faults: {rate_limit: 0.6, stall: 0.6}", "faults: [1]"} {
		code, _, errOut := cli(t, "", "run", "-config", writeConfig(t, dir, "output_tokens: 2, "+bad, 1))
		assert.NotEqual(t, 0, code, bad)
		assert.Contains(t, errOut, "settings.faults", bad)
	}
	_, err := config.ParseFaults("stream_error=0.5, malformed=0.25,stall_for_ms=100")
	assert.NoError(t, err)
}

// TestResultFormatsMatchConfig: every console and export format the
// configuration accepts has a writer here, and no writer is offered where
// the configuration refuses it.
func TestResultFormatsMatchConfig(t *testing.T) {
	for _, tt := range []struct {
		where string
		names []string
		use   func(resultFormat) bool
	}{
		{"console", config.ConsoleFormats, func(rf resultFormat) bool { return rf.console }},
		{"export", config.ExportFormats, func(rf resultFormat) bool { return rf.export }},
	} {
		var have []string
		for name, rf := range resultFormats {
			if tt.use(rf) {
				have = append(have, name)
			}
		}
		assert.ElementsMatch(t, tt.names, have, tt.where)
	}
}

// The fake command's numbers are checked as a configuration's fake
// settings are: a negative one is a usage error naming its flag, not a
// panic or a silent default.
func TestFakeFlagsChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-capacity", "-3"}, "-capacity: must be >= 0"},
		{[]string{"-tokens", "-1"}, "-tokens: must be >= 0"},
		{[]string{"-tokens-per-chunk", "-2"}, "-tokens-per-chunk: must be >= 0"},
		{[]string{"-prefill-per-token", "-1ms"}, "-prefill-per-token: must be >= 0"},
		{[]string{"-tokens", "-1", "-capacity", "-1"}, "-tokens: must be >= 0; -capacity: must be >= 0"},
		{[]string{"-faults", "bogus=1"}, "-faults: bogus: unknown fault"},
		{[]string{"-ttft", "x"}, "-ttft: "},
	} {
		code, _, errOut := cli(t, "", append([]string{"fake", "-addr", "127.0.0.1:0"}, tc.args...)...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}
