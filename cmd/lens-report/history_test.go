package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/fake"
	"github.com/llm-latency-lens/lens/internal/faketest"
	"github.com/llm-latency-lens/lens/internal/influxtest"
	"github.com/llm-latency-lens/lens/report"
	"github.com/llm-latency-lens/lens/report/history"
)

// withDatabase writes a configuration against the fake whose
// output.database is the given YAML flow mapping.
func withDatabase(t *testing.T, dir string, requests int, database string, exports ...string) string {
	t.Helper()
	path := writeConfig(t, dir, `ttft_ms: "uniform(2, 6)", output_tokens: 4, seed: 1`, requests, exports...)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "  database: %s\n", database)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

// fakeResult runs 100 requests against the in-process fake with TTFT
// uniform in [80ms, 120ms] × scale, in virtual time, and writes the result
// file to dir/name.
func fakeResult(t *testing.T, dir, name string, scale float64, seed uint64) string {
	t.Helper()
	var f *report.File
	synctest.Test(t, func(t *testing.T) {
		res := faketest.Run(t, fake.Config{
			TTFT: fake.Uniform(time.Duration(80e6*scale), time.Duration(120e6*scale)), ITL: fake.Fixed(5 * time.Millisecond),
			OutputTokens: 4, Seed: seed,
		}, lens.Scenario{Model: "fake-model", MaxTokens: 8, Requests: 100, Concurrency: 8})
		var err error
		f, err = report.FromResults([]*lens.Result{res}, report.Metadata{ConfigHash: "cfg"})
		require.NoError(t, err)
	})
	path := filepath.Join(dir, name)
	require.NoError(t, report.WriteFile(path, f))
	return path
}

// history check: 20 runs against the fake, then one with TTFT 20% slower
// exits 1; one more of the same setup exits 0. list, trend, add and
// baseline work on the same file.
func TestHistoryCheck(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	var files []string
	for i := range 20 {
		files = append(files, fakeResult(t, dir, fmt.Sprintf("run%02d.json", i), 1, uint64(i)))
	}
	code, _, errOut := cli(t, "", append([]string{"history", "add", "-db", db, "-branch", "main", "-label", "ci=yes"}, files...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "as run 20")

	slow := fakeResult(t, dir, "slow.json", 1.2, 100)
	code, out, errOut := cli(t, "", "history", "check", "-db", db, "-file", slow, "-branch", "main", "-color", "off")
	assert.Equal(t, 1, code, "TTFT 20%% slower must fail the check\n%s%s", out, errOut)
	assert.Contains(t, out, "against a baseline of 20 run(s)")
	assert.Regexp(t, `TTFT p50 .*REGRESSION`, out)
	assert.Contains(t, errOut, "regression(s)")

	same := fakeResult(t, dir, "same.json", 1, 101)
	code, _, errOut = cli(t, "", "history", "add", "-db", db, "-branch", "main", same)
	require.Equal(t, 0, code, errOut)
	code, out, errOut = cli(t, "", "history", "check", "-db", db, "-color", "off")
	assert.Equal(t, 0, code, "the same setup must pass\n%s%s", out, errOut)
	assert.Contains(t, out, "run 21 against a baseline of 20 run(s)")
	assert.Contains(t, out, "trend test (Mann-Kendall, alpha 0.01): 12 metric(s) tested")

	code, out, _ = cli(t, "", "history", "list", "-db", db, "-label", "ci=yes", "-last", "3")
	assert.Equal(t, 0, code)
	assert.Equal(t, 4, strings.Count(out, "\n"), out) // a header and 3 runs
	assert.Contains(t, out, "ci=yes")

	html := filepath.Join(dir, "trend.html")
	code, out, errOut = cli(t, "", "history", "trend", "-db", db, "-metric", "ttft.p95", "-html", html)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "chat openai/fake-model: ttft.p95")
	assert.Equal(t, 1+1+21, strings.Count(out, "\n"), out)
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Equal(t, 21, strings.Count(string(page), "<circle"), "one point per run")

	code, _, errOut = cli(t, "", "history", "baseline", "set", "-db", db, "v1", "1", "2")
	assert.Equal(t, 2, code, "flags come before the arguments: %s", errOut)
	code, _, errOut = cli(t, "", "history", "baseline", "-db", db, "set", "v1", "1", "2")
	require.Equal(t, 0, code, errOut)
	code, out, _ = cli(t, "", "history", "baseline", "-db", db, "list")
	assert.Equal(t, 0, code)
	assert.Equal(t, "v1\t2 run(s)\n", out)
	code, out, errOut = cli(t, "", "history", "check", "-db", db, "-baseline", "v1", "-file", slow, "-color", "off")
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, out, "against a baseline of 2 run(s): 1 2")
	code, _, _ = cli(t, "", "history", "baseline", "-db", db, "clear", "v1")
	assert.Equal(t, 0, code)

	for _, bad := range [][]string{
		{"history", "trend", "-db", db, "-metric", "ttft.p200"},
		{"history", "list"},
		{"history", "list", "-db", db, "-since", "yesterday"},
		{"history", "nope"},
	} {
		code, _, errOut := cli(t, "", bad...)
		assert.NotEqual(t, 0, code, "%v: %s", bad, errOut)
		assert.NotEmpty(t, errOut, bad)
	}
}

// run appends to the SQLite history its configuration names, tagged with
// -label, with its gates' verdicts; history reads it back from the same
// configuration, and list and trend show the verdicts.
func TestRunSQLiteHistory(t *testing.T) {
	dir := t.TempDir()
	path := withDatabase(t, dir, 20, fmt.Sprintf("{enabled: true, type: sqlite, connection: {path: %q}}", filepath.Join(dir, "h.db")))
	cfg, err := os.ReadFile(path)
	require.NoError(t, err)
	cfg = []byte(strings.Replace(string(cfg), "      concurrency: 8\n",
		"      concurrency: 8\n      gates: [{metric: ttft, percentile: 50, limit_ms: 1000}, {metric: error_rate, max: 0.5}]\n", 1))
	require.NoError(t, os.WriteFile(path, cfg, 0o644))
	for range 2 {
		code, _, errOut := cli(t, "", "run", "-config", path, "-format", "minimal", "-label", "job=nightly")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, "to the history")
	}
	code, out, errOut := cli(t, "", "history", "list", "-config", path, "-format", "json")
	require.Equal(t, 0, code, errOut)
	var runs []history.Run
	require.NoError(t, json.Unmarshal([]byte(out), &runs))
	require.Len(t, runs, 2)
	assert.Equal(t, "nightly", runs[1].Labels["job"])
	assert.Equal(t, []string{"chat fake/fake-model"}, runs[1].Results)
	assert.Equal(t, "run", runs[1].Source)
	require.Len(t, runs[1].Gates, 2)
	for i, name := range []string{"ttft_p50", "error_rate"} {
		g := runs[1].Gates[i]
		assert.Equal(t, name, g.Name)
		assert.Equal(t, "chat fake/fake-model", g.Result)
		assert.Equal(t, "pass", g.Outcome, "%+v", g)
		assert.EqualValues(t, 20, g.Requests)
	}
	assert.Greater(t, runs[1].Gates[0].EstimateMs, 0.0)

	code, out, errOut = cli(t, "", "history", "list", "-config", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "ttft_p50 pass, error_rate pass")
	code, out, errOut = cli(t, "", "history", "trend", "-config", path, "-metric", "gate:ttft_p50")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "chat fake/fake-model: gate:ttft_p50")
	assert.Contains(t, out, "VERDICT")
	assert.Equal(t, 2, strings.Count(out, " pass\n"), out)
	code, _, errOut = cli(t, "", "history", "trend", "-config", path, "-metric", "gate:ttft_p99")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no run of the history has gate:ttft_p99")
}

// A run writes its summary and one point per request to a real InfluxDB,
// where InfluxQL reads back the result file's p95 TTFT and request count.
// With the server stopped, the run still writes its result file and exits
// 3 (the run failed) naming the sink.
func TestRunInfluxDB(t *testing.T) {
	srv := influxtest.Start(t)
	dir := t.TempDir()
	path := withDatabase(t, dir, 40, fmt.Sprintf("{enabled: true, type: influxdb, connection: {url: %q, database: lens_cli, per_request: true}}", srv.URL))
	out := filepath.Join(dir, "result.json")
	code, _, errOut := cli(t, "", "run", "-config", path, "-o", out, "-format", "minimal", "-label", "job=ci")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "wrote 40 request points to InfluxDB")
	f, err := report.ReadFile(out)
	require.NoError(t, err)
	m := f.Scenarios[0].Results[0].Metrics
	_, rows := influxtest.Query(t, srv.URL, "lens_cli", `SELECT ttft_p95_ms, requests FROM lens_result WHERE job = 'ci'`)
	require.Len(t, rows, 1)
	p95, _ := rows[0][1].(json.Number).Float64()
	n, _ := rows[0][2].(json.Number).Int64()
	assert.Equal(t, m.Latency.TTFT.P95, p95)
	assert.Equal(t, m.TotalRequests, n)
	assert.EqualValues(t, 40, n)
	_, rows = influxtest.Query(t, srv.URL, "lens_cli", `SELECT count(ttft_ms) FROM lens_request`)
	require.Len(t, rows, 1)
	assert.Equal(t, json.Number("40"), rows[0][1])

	// The server stopped: nothing listens on its port any more.
	down := fmt.Sprintf("http://127.0.0.1:%d", influxtest.FreePort(t))
	dir2 := t.TempDir()
	path = withDatabase(t, dir2, 10, fmt.Sprintf("{enabled: true, type: influxdb, connection: {url: %q, database: lens_cli}}", down), "json=out.json")
	code, _, errOut = cli(t, "", "run", "-config", path, "-format", "minimal")
	assert.Equal(t, 3, code, errOut)
	assert.Contains(t, errOut, "output.database (influxdb) failed; the result files above are written")
	assert.Contains(t, errOut, "connection refused")
	_, err = report.ReadFile(filepath.Join(dir2, "out.json"))
	assert.NoError(t, err, "the result file is written though the sink is down")
}

// A run pushes its metrics to the Pushgateway under the configured job,
// with the basic auth of the URL's user info, and says where without the
// password.
func TestRunPushgateway(t *testing.T) {
	type push struct{ method, path, user, pass, body string }
	pushes := make(chan push, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		pushes <- push{r.Method, r.URL.Path, user, pass, string(body)}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	withAuth := strings.Replace(srv.URL, "http://", "http://ci:s3cret-pw@", 1)
	path := withDatabase(t, t.TempDir(), 10, fmt.Sprintf("{enabled: true, type: prometheus, connection: {url: %q, job: nightly}}", withAuth))
	code, _, errOut := cli(t, "", "run", "-config", path, "-format", "minimal")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "pushed to http://ci:xxxxx@127.0.0.1:")
	assert.Contains(t, errOut, "(job nightly)")
	assert.NotContains(t, errOut, "s3cret-pw")
	require.Len(t, pushes, 1)
	p := <-pushes
	assert.Equal(t, http.MethodPut, p.method)
	assert.Equal(t, "/metrics/job/nightly", p.path)
	assert.Equal(t, "ci", p.user)
	assert.Equal(t, "s3cret-pw", p.pass)
	assert.NotEmpty(t, p.body)
}

// The history commands that only read refuse a history file that does not
// exist, and leave none behind.
func TestHistoryReadsNeedTheFile(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo.db")
	for _, sub := range [][]string{{"list"}, {"trend", "-metric", "ttft.p95"}, {"check"}} {
		code, _, errOut := cli(t, "", append(append([]string{"history"}, sub...), "-db", typo)...)
		assert.Equal(t, 2, code, "%v: %s", sub, errOut)
		assert.Contains(t, errOut, "no history file "+typo)
		assert.NoFileExists(t, typo)
	}
}
